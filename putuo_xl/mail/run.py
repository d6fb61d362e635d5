"""What the three mail commands (`forms.py`, `reminders.py`, `bulletin.py`) share; the CLI and
the Excel ribbon call them. Every command works the same way:

1. plan: find what to send (forms identified by their hidden `_form` metadata, cross-checked
   with the file name; who is missing or rejected from the ledger; the bulletin text), render
   subject and body from config.yaml mail.templates, look up the addresses, and list every
   problem (a unit with no address, a bad file, two forms for one unit) before anything goes;
2. look each message up in the send log (ledger table `sends`, key kind|month|unit|hash of the
   content — for a form its `_form` metadata, for a reminder the day and the text, for the
   bulletin its text): an address that already received the same content is not sent to again;
3. `dry_run_dir`: write the messages as .eml files instead of sending;
4. otherwise ask `confirm(report)` (when given), then — holding the send log's lock, so that
   two runs at once never both send, and looking the messages up in it again — send over SMTP,
   retrying temporary failures (server down, 4xx) in rounds, and record every attempt in the
   send log (a message whose answer was lost after it went out is not retried: uncertain);
5. return a `MailReport` that says exactly who received what, and what failed and why.
"""
from __future__ import annotations

import hashlib
import re
import time
from email.headerregistry import Address
from pathlib import Path

from putuo_xl.config import Config, load_config
from putuo_xl.fileio import atomic_write_bytes
from putuo_xl.ledger.store import Ledger
from putuo_xl.mail.delivery import deliver
from putuo_xl.mail.mime import message_bytes
from putuo_xl.mail.report import KIND_LABELS, MailError, MailReport, Outgoing, Problem
from putuo_xl.mail.sendlog import check_log
from putuo_xl.mail.settings import MailSettings, parse_address
from putuo_xl.mail.smtp import smtp_password
from putuo_xl.text import in_script


def _eml_name(m: Outgoing) -> str:
    """「2020-08_月報填報表_六橫鎮.eml」, in the message's script."""
    label = in_script(KIND_LABELS[m.kind], m.script)
    if not m.unit:
        return f"{m.month}_{label}.eml"
    who = re.sub(r'[\\/:*?"<>|\s]+', "_", in_script(m.unit, m.script))
    return f"{m.month}_{label}_{who}.eml"


def run(report: MailReport, settings: MailSettings, ledger: Ledger | None, *,
        dry_run_dir, confirm, password_prompt, sleep, resend, resend_uncertain,
        stop_if_missing) -> MailReport:
    """Steps 2-5 for a planned report (see above)."""
    if settings.sender is None:
        raise MailError("config.yaml 的 mail.from 沒有填寫發件郵箱(如 \"普陀區依法治區辦 "
                        "<fzdc@example.gov.cn>\")。", file=settings.config_path)
    domain = settings.sender.domain
    for m in report.messages:
        # One Message-ID per content: a copy that arrives twice (a resend after an interrupted
        # run) is shown once by clients that deduplicate. A deliberate resend gets a new one.
        mid = hashlib.sha256(m.key.encode("utf-8")).hexdigest()[:24]
        if resend:
            mid += "." + hashlib.sha1(str(time.time_ns()).encode()).hexdigest()[:8]
        m.message_id = f"<{mid}.{m.kind}@{domain}>"
        check_log(ledger, m, resend, resend_uncertain)
    if dry_run_dir is not None:
        out = Path(dry_run_dir)
        out.mkdir(parents=True, exist_ok=True)
        report.dry_run_dir = out
        for m in report.to_send:
            m.eml = atomic_write_bytes(out / _eml_name(m), message_bytes(m, settings), check_open=False)
            m.status = "written"
        return report
    if not report.to_send:
        return report
    if stop_if_missing and any(p.blocking for p in report.problems):
        report.cancelled = True
        report.cancel_reason = in_script("有單位不能發送(見上),按要求全部不發。", report.script)
        for m in report.to_send:
            m.status = "cancelled"
        return report
    needs_password = bool(settings.smtp.user)
    if needs_password and password_prompt is None:
        smtp_password(settings, None)           # fail before asking for confirmation
    if confirm is not None and not confirm(report):
        report.cancelled = True
        for m in report.to_send:
            m.status = "cancelled"
        return report
    password = smtp_password(settings, password_prompt)
    with _send_lock(ledger):
        # another run may have sent some of them since the check above: looked up again, now
        # that no other run can send from this send log until this one ends
        for m in report.to_send:
            check_log(ledger, m, resend, resend_uncertain)
        if report.to_send:
            deliver(report, settings, ledger, password, sleep, resend_uncertain)
    return report


SEND_BUSY = "另一個 putuo-xl 發送郵件的操作正在使用這個台賬的發送記錄"


def _send_lock(ledger: Ledger | None):
    """One sending run at a time per send log (the lock file beside the ledger): two runs
    started together would both find nothing sent and both send everything."""
    import contextlib
    if ledger is None:
        return contextlib.nullcontext()
    from putuo_xl.locks import master_lock
    return master_lock(ledger.path, what=SEND_BUSY)


def as_config(config) -> Config:
    """A Config, or the path of config.yaml (None: the default one)."""
    if isinstance(config, Config):
        return config
    return load_config(config)


def unit_addresses(config: Config, unit: str, report: MailReport, file: str | None = None,
                   script: str | None = None) -> list[Address]:
    """The unit's addresses from config.yaml, named by its full name in `script` (default: the
    report's); bad or missing addresses become problems."""
    u = config.units.get(unit)
    display = in_script((u.full_name or u.name) if u else unit, script or report.script)
    good, bad = [], []
    for raw in (u.email if u else []):
        a = parse_address(raw, default_name=display)
        (good.append(a) if a else bad.append(raw))
    if bad:
        report.problems.append(Problem(
            "bad_address", in_script(f"{unit}:郵箱「{'、'.join(bad)}」格式不對,"
                                     f"{'只發給其餘地址' if good else '沒有可用地址,不發送'}。"
                                     f"請改正 config.yaml 中 {unit} 的 email。", report.script),
            unit=unit, file=file, blocking=not good))
    if not good and not bad:
        report.problems.append(Problem(
            "no_address", in_script(f"{unit}:config.yaml 中沒有填寫郵箱(units → {unit} → email),"
                                    f"不發送。", report.script), unit=unit, file=file))
    return good


def check_month(month: str, master: str | Path | None = None) -> None:
    """Refuse a month not written YYYY-MM, or outside the year of `master`'s plan."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month or ""):
        raise MailError(f"月份「{month}」應寫成 YYYY-MM,如 2020-08。")
    if master is not None and Path(master).is_file():
        from putuo_xl.plan.months import check_plan_month, master_month_range
        check_plan_month(month, master_month_range(master), can_force=False)
