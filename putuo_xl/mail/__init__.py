"""Mail: takes the forms written by `workbook.forms`, the ledger's state and the rollup's 通報;
sends each unit its form, reminders (催報) to units that have not reported, and the bulletin,
over SMTP, recording every message in the ledger so nothing is sent twice. Last stage.

    forms.py          send_forms(): a forms folder → each unit its own form, once
    reminders.py      send_reminders(): the ledger's missing and rejected units → a 催報 each
    bulletin.py       send_bulletin(): the master's 通報 and 工作報表 → mail.bulletin_to
    run.py            a planned MailReport → checked against the send log, written as .eml,
                      or confirmed and delivered (the steps the three commands share)
    identify.py       a file → whose form it is (`_form` metadata cross-checked with its name)
    master_sheets.py  the master → its script, its latest rollup, the 通報 text; the check
                      that the bulletin's attachment is the month's
    settings.py       config.yaml's mail section → checked MailSettings
    templates.py      templates and values → subjects and bodies in the notice's script
    mime.py           an Outgoing → the MIME bytes (Chinese names that display everywhere)
    sendlog.py        the ledger's `sends` table: which ledger, what was sent, pending, failed
    smtp.py           SmtpSettings → a connection (TLS, login); what each failure means
    delivery.py       the messages to send → SMTP transactions, retried, each one logged
    report.py         Outgoing, Problem, MailReport (the plan and who received what), MailError
"""
from putuo_xl import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "send_forms": "forms",
    "send_reminders": "reminders",
    "send_bulletin": "bulletin",
    "bulletin_for": "master_sheets",
    "check_master_rollup": "master_sheets",
    "MailReport": "report",
    "MailError": "report",
})
