"""Taking in the returned forms. Takes folders, files and saved e-mails; judges each file (is it our
form, whose, which month, what did the unit type), archives the original, stores it in the ledger,
and writes the 收件情況 sheet. Next: `rollup` counts what is in the ledger.

    run.py        collect(): gather → judge (worker processes) → store → 收件情況, one transaction
    inputs.py     which files a folder, a list or an .eml holds
    judge.py      reading and judging one returned form
    sniff.py      what a file is, by its bytes (xlsx, xls, encrypted, something else)
    zipcheck.py   an .xlsx's parts checked before reading: zip bombs, XML entity declarations
    normalize.py  what people type (statuses, percentages, numbers) made comparable
    report.py     the typed verdicts, rendered as a table, JSON, or the sheet
    receipts.py   the 收件情況 sheet in the master
    xls_helper.py old .xls files read in a helper process
"""
from putuo_xl import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "collect": "run",
    "CollectReport": "report",
})
