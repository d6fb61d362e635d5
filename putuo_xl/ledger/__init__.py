"""The ledger: one SQLite file beside each master. Takes what the other stages record (forms issued
by `workbook.forms`, submissions stored by `collect`, messages sent by `mail`); gives each unit's
reporting state for a month (`status`), which collect, rollup and mail all ask. Next: `workbook`.

    store.py   the SQLite schema, transactions and queries
    status.py  THE rule of a unit's state for a month (expected, in force, late, missing)
"""
from putuo_xl import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Ledger": "store",
    "open_ledger": "store",
    "ledger_path_for": "store",
    "month_status": "status",
})
