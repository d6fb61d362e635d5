"""The year-end 法治政府建設年度報告: takes the ledger (a year of returns) and the rollup's figures
(every task's status and every target's actual as of the year's last month); gives a draft
report as .docx, laid out to GB/T 9704 (docx_gbt.py), and its annex tables as .xlsx for 公開.
Every sentence quoted from a unit's return carries a comment naming the unit and the return.

    run.py       annual_report(master, year): read the master and its ledger, write both files
    figures.py   year_figures(): the year's figures (tasks, targets, sections, reporting)
    texts.py     year_texts(): what units wrote (工作進展, 存在問題, 下步計劃), deduplicated
    document.py  the report's text and its .docx (一 … 四 and the annexes)
    annex.py     the .xlsx annex (xlsxwriter, styled like the report sheets)
"""
from putuo_xl import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "annual_report": "run",
    "write_annual_report": "run",
    "AnnualReport": "run",
    "year_figures": "figures",
    "YearFigures": "figures",
})
