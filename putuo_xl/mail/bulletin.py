"""`send_bulletin`: the month's 通報 (text in the body, the master attached) to mail.bulletin_to,
once per address, and only when the master's rollup is that month's and up to date."""
from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path
from typing import Callable

from putuo_xl.config import Config
from putuo_xl.fileio import lock_files
from putuo_xl.ledger.store import Ledger, ledger_path_for, open_ledger
from putuo_xl.mail.master_sheets import bulletin_for, check_master_rollup, master_script, month_of
from putuo_xl.mail.report import MailError, MailReport, Outgoing, Problem
from putuo_xl.mail.run import as_config, check_month, run
from putuo_xl.mail.sendlog import content_hash, open_given_ledger
from putuo_xl.mail.settings import MailSettings, mail_settings
from putuo_xl.mail.templates import common_values, render
from putuo_xl.text import in_script


def send_bulletin(master: str | Path, month: str, config: Config | str | Path | None = None, *,
                  ledger: Ledger | str | Path | None = None, dry_run_dir: str | Path | None = None,
                  confirm: Callable[[MailReport], bool] | None = None,
                  password_prompt: Callable[[], str] | None = None,
                  sleep: Callable[[float], None] = time.sleep, today: date | None = None,
                  resend: bool = False, resend_uncertain: bool = False,
                  stop_if_missing: bool = False) -> MailReport:
    """The 通報 of `month` (text in the body, the master's 工作報表 attached) to mail.bulletin_to.
    The send log key is the bulletin text: the same bulletin goes to each address once.

    Refused (MailError, nothing sent or written) unless the master's latest rollup is `month`'s
    and says what the ledger says now (`check_master_rollup`)."""
    cfg = as_config(config)
    settings = mail_settings(cfg)
    today = today or date.today()
    check_month(month, master)
    m_path = Path(master)
    if not m_path.exists():
        raise MailError("找不到主表文件。", file=str(m_path))
    script = master_script(m_path)
    check_master_rollup(m_path, month, script=script)      # before the text: says what to run
    text = bulletin_for(m_path, month, cfg)
    check_master_rollup(m_path, month, text, script)
    if ledger is not None:
        lg = open_given_ledger(ledger)
    else:
        path = ledger_path_for(m_path, cfg.section("collect").get("ledger_name")
                               or "{master_stem}.ledger.sqlite")
        # a dry run leaves no trace: it reads an existing send log but creates none
        lg = open_ledger(m_path, cfg) if (path.exists() or dry_run_dir is None) else None
    report = MailReport(kind="bulletin", month=month, ledger=lg.path if lg else None, script=script)
    try:
        if settings.bad_bulletin_to:
            report.problems.append(Problem("bad_address", in_script(
                f"mail.bulletin_to 中的「{'、'.join(settings.bad_bulletin_to)}」不是有效的郵箱地址,"
                f"{'只發給其餘地址' if settings.bulletin_to else '不發送'}。請在 config.yaml 中改正。",
                script), blocking=not settings.bulletin_to))
        elif not settings.bulletin_to:
            report.problems.append(Problem("no_address", in_script(
                "config.yaml 的 mail.bulletin_to 沒有填寫收件人,通報不發送。", script)))
        if lock_files(m_path):
            report.problems.append(Problem("file_open", in_script(
                f"主表「{m_path.name}」正在 Excel/WPS 中打開:附件是它最後一次保存的內容。"
                f"如有未保存的修改,請先保存。", script), file=m_path.name, blocking=False))
        if settings.bulletin_to:
            data = m_path.read_bytes()
            values = {**common_values(cfg, settings, month, today, script),
                      "bulletin": _unsigned_if_signed(text, settings, in_script(cfg.office, script)),
                      "file_name": m_path.name}
            report.messages.append(Outgoing(
                kind="bulletin", month=month, unit=None, to=list(settings.bulletin_to),
                subject=render(settings, "bulletin_subject", values, script),
                body=render(settings, "bulletin_body", values, script),
                key=f"bulletin|{month}||{content_hash(text)}", attachment_name=m_path.name,
                attachment_path=m_path, attachment_bytes=data, script=script))
        return run(report, settings, lg, dry_run_dir=dry_run_dir, confirm=confirm,
                   password_prompt=password_prompt, sleep=sleep, resend=resend,
                   resend_uncertain=resend_uncertain, stop_if_missing=stop_if_missing)
    finally:
        if lg is not None and not isinstance(ledger, Ledger):
            lg.close()


def _unsigned_if_signed(text: str, settings: MailSettings, office: str) -> str:
    """The bulletin text for the body. The rollup's 通報 ends with its signature (the office, the
    date); a bulletin_body template that signs the e-mail itself after {bulletin} (as config.yaml
    files copied from earlier versions do) gets the text without it: the e-mail is signed once."""
    template = settings.templates.get("bulletin_body", "")
    after = template.split("{bulletin}", 1)[1] if "{bulletin}" in template else ""
    if "{office}" not in after:
        return text
    lines = text.rstrip().split("\n")
    dated = month_of(lines[-1].strip()) or re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", lines[-1].strip())
    if len(lines) >= 2 and office and lines[-2].strip() == office and dated:
        return "\n".join(lines[:-2]).rstrip()
    return text
