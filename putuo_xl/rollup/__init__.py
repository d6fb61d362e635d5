"""The 工作報表: takes the ledger (what units reported) and the master's plan; gives the report
sheets (月度匯總, 任務進展, 考評指標, 趨勢, 預評估, 通報) and the hidden `_status`/`_actuals` in the
master. Next: `mail` sends the bulletin.

    compute.py        the figures: statuses, targets, trend, scores, the 通報 text
    render.py         the sheets laid out and written into the master
    with_collect.py   collect and rollup in one run, one master write
"""
from putuo_xl import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "rollup": "compute",
    "compute_rollup": "compute",
    "bulletin_text": "compute",
    "RollupResult": "compute",
    "collect_and_rollup": "with_collect",
    "CollectRollup": "with_collect",
})
