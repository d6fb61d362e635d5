"""`send_reminders`: a 催報 to every unit that has not reported the month, whose form was
rejected, or whose form was filled in on a form issued before the latest one and lacks tasks
of it; at most one per unit, day and situation; the (latest) blank form attached when found."""
from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Callable

from putuo_xl import layout
from putuo_xl.config import Config
from putuo_xl.errors import InputError
from putuo_xl.ledger.store import Ledger
from putuo_xl.mail.identify import identify_form
from putuo_xl.mail.master_sheets import master_script
from putuo_xl.mail.report import MailError, MailReport, Outgoing, Problem
from putuo_xl.mail.run import as_config, check_month, run, unit_addresses
from putuo_xl.mail.sendlog import content_hash, ledger_of_master
from putuo_xl.mail.settings import mail_settings
from putuo_xl.mail.templates import common_values, date_label, render, unit_values
from putuo_xl.text import TRADITIONAL, in_script


def send_reminders(master: str | Path, month: str, config: Config | str | Path | None = None, *,
                   ledger: Ledger | str | Path | None = None, dry_run_dir: str | Path | None = None,
                   confirm: Callable[[MailReport], bool] | None = None,
                   password_prompt: Callable[[], str] | None = None,
                   sleep: Callable[[float], None] = time.sleep, today: date | None = None,
                   resend: bool = False, resend_uncertain: bool = False,
                   stop_if_missing: bool = False, forms_dir: str | Path | None = None
                   ) -> MailReport:
    """A 催報 to every unit whose `month` form is missing (issued, no accepted submission in
    force) or was rejected (with the collector's reason). At most one reminder per unit, day and
    situation: re-running the same day sends nothing twice.

    A unit that has not reported gets its blank form again, attached, when it is found in
    `forms_dir` (default: the forms folder beside the master) and its `_form` metadata confirms
    the unit and the month."""
    cfg = as_config(config)
    settings = mail_settings(cfg)
    today = today or date.today()
    check_month(month, master)
    lg = ledger_of_master(master, cfg, ledger)
    script = master_script(master) if Path(master).exists() else TRADITIONAL
    report = MailReport(kind="remind", month=month, ledger=lg.path, script=script)
    try:
        issued: dict[str, object] = {}
        for row in lg.issued(month):
            cur = issued.get(row["unit"])
            if cur is None or row["created_at"] >= cur["created_at"]:
                issued[row["unit"]] = row
        # who has reported, whose files were rejected: status.month_status, the rule collect's
        # 收件情況 and the rollup use (rejections of the month's collect runs, by arrival)
        from putuo_xl.ledger.status import month_status
        ms = month_status(lg, month, cfg, today=today)
        accepted = {u for u, um in ms.units.items() if um.reported and not um.lacking}
        rejected: dict[str, object] = {}
        for u, um in ms.units.items():
            if um.rejections:
                rejected[u] = _row_by_id(lg, um.latest_rejection.id)
        unknown = [_row_by_id(lg, f.id) for f in ms.unassigned]
        if not issued and not rejected:
            raise MailError(f"台賬中沒有 {layout.month_label(month)} 的月報發放記錄。請先用 "
                            f"putuo-xl forms --month {month} 生成月報。", file=str(lg.path))
        if unknown:
            report.problems.append(Problem("info", in_script(
                f"另有 {len(unknown)} 份退回的文件認不出是哪個單位的("
                f"{'、'.join(r['file_name'] for r in unknown[:5])}{'…' if len(unknown) > 5 else ''}),"
                f"無法催報,請查看「收件情況」。", script), blocking=False))
        order = {u: i for i, u in enumerate(cfg.units)}
        units = sorted(set(issued) | set(rejected), key=lambda u: (order.get(u, len(order)), u))
        for unit in units:
            if unit in accepted:
                continue
            if unit not in cfg.units:
                report.problems.append(Problem("unknown_unit", in_script(
                    f"{unit}:不在 config.yaml 的單位名錄中,沒有郵箱,無法催報。", script), unit=unit))
                continue
            row = issued.get(unit)
            due = row["due"] if row is not None else ""
            if not due:
                due = ms.units[unit].due.isoformat() if unit in ms.units else _default_due(month, cfg)
            values = {**common_values(cfg, settings, month, today, script),
                      **unit_values(cfg, unit, script), "due_label": date_label(due)}
            rej = rejected.get(unit)
            um = ms.units.get(unit)
            if um is not None and um.reported:       # on an older form: the new tasks are missing
                got = um.in_force
                situation = render(settings, "remind_outdated", {
                    **values, "file_name": got.file_name, "tasks": "、".join(um.lacking),
                    "received_label": date_label(got.day) if got.day else ""}, script)
                kind_of = "outdated"
            elif rej is not None:
                reason = (rej["reason"] or rej["reason_code"] or "").strip()
                if reason and reason[-1] not in "。.!!??":
                    reason += "。"
                when = (rej["received_at"] or rej["collected_at"] or "")[:10]
                situation = render(settings, "remind_rejected", {
                    **values, "file_name": rej["file_name"], "reason": reason,
                    "received_label": date_label(when) if when else ""}, script)
                kind_of = "rejected"
            else:
                situation = render(settings, "remind_missing", values, script)
                kind_of = "missing"
            values["situation"] = situation
            body = render(settings, "remind_body", values, script)
            to = unit_addresses(cfg, unit, report)
            if not to:
                continue
            form = _reminder_form(master, month, cfg, unit, row, forms_dir, script) \
                if kind_of in ("missing", "outdated") else None
            report.messages.append(Outgoing(
                kind="remind", month=month, unit=unit, to=to,
                subject=render(settings, "remind_subject", values, script), body=body,
                key=f"remind|{month}|{unit}|{content_hash(today.isoformat() + '|' + body)}",
                situation=kind_of, attachment_name=form.name if form else None,
                attachment_path=form, attachment_bytes=form.read_bytes() if form else None,
                script=script))
        return run(report, settings, lg, dry_run_dir=dry_run_dir, confirm=confirm,
                   password_prompt=password_prompt, sleep=sleep, resend=resend,
                   resend_uncertain=resend_uncertain, stop_if_missing=stop_if_missing)
    finally:
        if not isinstance(ledger, Ledger):
            lg.close()


def _reminder_form(master, month: str, cfg: Config, unit: str, issued_row, forms_dir,
                   script: str) -> Path | None:
    """The unit's form for `month` to attach to a reminder: the file the ledger says was issued,
    in `forms_dir` or the forms folder beside the master, if its metadata confirms the unit and
    the month. None when there is no such file (the reminder then goes without it)."""
    if issued_row is None:
        return None
    from putuo_xl.workbook.forms import default_forms_dir

    folder = Path(forms_dir) if forms_dir else default_forms_dir(master, month, script)
    path = folder / issued_row["file_name"]
    if not path.is_file():
        return None
    try:
        f = identify_form(path, cfg, month)
    except InputError:
        return None
    ok = f.unit == unit and f.plan_fingerprint == issued_row["plan_fingerprint"]
    return path if ok else None


def _row_by_id(lg: Ledger, sid: int):
    return lg.conn.execute("SELECT * FROM submissions WHERE id = ?", (sid,)).fetchone()


def _default_due(month: str, config: Config) -> str:
    y, m = (int(x) for x in month.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    day = int(config.section("forms").get("due_day") or 5)
    return date(y, m, min(day, 28)).isoformat()
