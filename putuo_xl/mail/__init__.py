"""Mail: takes the forms written by `workbook.forms`, the ledger's state and the rollup's 通報;
sends each unit its form, reminders (催報) to units that have not reported, and the bulletin,
over SMTP, recording every message in the ledger so nothing is sent twice. Last stage.
"""
from putuo_xl import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "send_forms": "send",
    "send_reminders": "send",
    "send_bulletin": "send",
})
