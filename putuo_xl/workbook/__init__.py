"""The workbooks: takes a Plan (from `plan`); gives the master workbook (任務分解台賬) and each unit's
monthly form, and reads an edited master back into a Plan. Next: `collect` takes the returned forms.

    master.py       the master: section sheets, unit view, matrix, targets, hidden data sheets
    forms.py        one 月報 workbook per unit and month (records the issue in the ledger)
    views.py        the derived sheets brought up to date after officials edit the master
    readback.py     an edited master → Plan
    styles.py       the styles template an office can restyle
    cells.py        sheet names and row heights
    sheetlayout.py  a report sheet laid out once, written by xlsxwriter or xlwings
    surgery/        sheets put into a workbook without losing anything else in it
    xlsxread.py     fast read-only workbooks (python-calamine)
    filekind.py     what a file that should be a workbook really is
"""
from putuo_xl import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "build_master": "master",
    "write_forms": "forms",
    "refresh_views": "views",
    "plan_from_workbook": "readback",
    "read_master": "readback",
    "replace_sheets": "surgery",
})
