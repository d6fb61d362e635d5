"""The 工作報表: takes the ledger (what units reported) and the master's plan; gives the report
sheets (月度匯總, 任務進展, 考評指標, 趨勢, 預評估, 通報) and the hidden `_status`/`_actuals` in the
master. Next: `mail` sends the bulletin.

    run.py            rollup(), bulletin_text(), bulletin_docx(): read the master, compute, write;
                      write_bulletin(): the 通報 .docx from an open ledger and plan (the ribbon)
    compute.py        compute_rollup(): every month's figures from the ledger, as a Rollup
    result.py         Rollup (the figures, their sheets) and RollupResult
    rules.py          the shared words and rules: statuses, lights, colours, grades, met, months
    context.py        what the plan and config give before the ledger is read (who does what)
    reading.py        the inputs: config, the master's plan, the ledger's rows
    month_state.py    every task × unit assignment's latest status as of a month
    snapshots.py      each closed month's figures kept beside the ledger (month_texts.py: what
                      units wrote that month, for the 年度報告)
    by_unit.py        月度匯總
    by_task.py        任務進展 (overall status, traffic light)
    targets.py        考評指標 and their trend
    scores.py         預評估 (score, rank, grade)
    bulletin.py       the 通報 as blocks and as text
    bulletin_sheet.py the 通報 sheet, a GB/T 9704 page
    bulletin_docx.py  the 通報 as a GB/T 9704 Word document (putuo_xl/docx_gbt.py)
    data_sheets.py    the rows of the hidden `_status` and `_actuals` sheets
    grid.py           what a report sheet holds, and the text geometry the sheets are laid out with
    trend.py          趨勢, paginated for print (charts never across a page break)
    render.py         the sheets laid out and written into the master
    with_collect.py   collect and rollup in one run, one master write
"""
from putuo_xl import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "rollup": "run",
    "compute_rollup": "compute",
    "bulletin_text": "run",
    "bulletin_docx": "run",
    "write_bulletin": "run",
    "RollupResult": "result",
    "collect_and_rollup": "with_collect",
    "CollectRollup": "with_collect",
})
