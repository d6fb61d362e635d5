"""`send_forms`: each unit its own form for the month, once. Which forms may go (identified,
one per unit, the latest issued), to whom, and a unit that already has another form held back."""
from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path
from typing import Callable, Iterable

from putuo_xl import layout
from putuo_xl.config import Config
from putuo_xl.errors import InputError
from putuo_xl.ledger.store import Ledger, ledger_path_for
from putuo_xl.mail.identify import FormFile, identify_form, is_form_candidate, units_named_in
from putuo_xl.mail.report import MailError, MailReport, Outgoing, Problem
from putuo_xl.mail.run import as_config, check_month, run, unit_addresses
from putuo_xl.mail.sendlog import content_hash, ledger_for_forms, open_given_ledger
from putuo_xl.mail.settings import mail_settings
from putuo_xl.mail.templates import common_values, date_label, render, unit_values
from putuo_xl.text import TRADITIONAL, in_script


def send_forms(forms_dir: str | Path, month: str, config: Config | str | Path | None = None, *,
               ledger: Ledger | str | Path | None = None, master: str | Path | None = None,
               dry_run_dir: str | Path | None = None,
               confirm: Callable[[MailReport], bool] | None = None,
               password_prompt: Callable[[], str] | None = None,
               sleep: Callable[[float], None] = time.sleep, today: date | None = None,
               resend: bool = False, resend_uncertain: bool = False,
               stop_if_missing: bool = False, units: Iterable[str] | None = None) -> MailReport:
    """Mail each unit its own form for `month` from `forms_dir`.

    A form's unit comes from its hidden `_form` metadata, cross-checked with the file name; a
    file that cannot be identified, two forms for one unit, or a unit without an address is
    reported and not sent, the rest go. The send log is `ledger`, else the ledger of `master`,
    else the master ledger found in or above `forms_dir` (see `ledger_for_forms`).

    A form is known by its metadata (`FormFile.identity`), not by its bytes: regenerating an
    unchanged form sends nothing. A unit that already received a different form this month is
    held back with a line saying so; `resend` sends it. `units` limits the run to those units
    (names or aliases from config.yaml)."""
    cfg = as_config(config)
    settings = mail_settings(cfg)
    today = today or date.today()
    d = Path(forms_dir)
    if not d.is_dir():
        raise MailError("找不到月報文件夾。", file=str(d))
    check_month(month, master)
    only = _only_units(cfg, units)
    report = MailReport(kind="forms", month=month)
    forms: dict[str, list[FormFile]] = {}
    scripts, bad_files = [], []
    for p in sorted(x for x in d.iterdir() if is_form_candidate(x)):
        try:
            f = identify_form(p, cfg, month)
        except InputError as e:
            bad_files.append((p, e))
            continue
        if only is not None and f.unit not in only:
            continue
        forms.setdefault(f.unit, []).append(f)
        scripts.append(f.script)
    report.script = max(set(scripts), key=scripts.count) if scripts else TRADITIONAL
    present = set()          # issued files that are there but cannot go (already reported)
    for p, e in bad_files:
        unit_raw = getattr(e, "unit", None)
        present.add(p.name)
        if only is not None and not units_named_in(p.stem, cfg) & only:
            continue              # not a file of the units asked for
        if e.code == "unknown_unit":
            report.problems.append(Problem("unknown_unit", in_script(
                f"{unit_raw}:不在 config.yaml 的單位名錄中,沒有郵箱,它的月報「{p.name}」不發送。"
                f"請在 config.yaml 的 units 下添加這個單位並填寫 email(若它是已有單位的另一種寫法,"
                f"把它加到那個單位的 aliases 中,並重新生成月報),然後重新運行。", report.script),
                unit=unit_raw, file=p.name))
            continue
        other = e.code == "other_month"
        report.problems.append(Problem(e.code, in_script(f"{e}" + ("(跳過)" if other else "(不發送)"),
                                                         report.script),
                                       file=p.name, blocking=not other))

    if ledger is None and master is not None:
        ledger = ledger_path_for(master, cfg.section("collect").get("ledger_name")
                                 or "{master_stem}.ledger.sqlite")
    if ledger is not None:
        lg = open_given_ledger(ledger)
    else:
        path = ledger_for_forms(d, cfg, month)
        # a dry run leaves no trace: it reads an existing send log but creates none
        lg = Ledger(path) if (path.exists() or dry_run_dir is None) else None
    report.ledger = lg.path if lg is not None else None
    try:
        issued: dict[str, list] = {}
        for row in (lg.issued(month) if lg is not None else []):
            if only is None or row["unit"] in only:
                issued.setdefault(row["unit"], []).append(row)
        for unit, rows in sorted(issued.items(), key=lambda kv: list(cfg.units).index(kv[0])
                                 if kv[0] in cfg.units else len(cfg.units)):
            if unit not in forms and not {r["file_name"] for r in rows} & present:
                report.problems.append(Problem(
                    "missing_form", in_script(f"{unit}:台賬記錄已生成 {layout.month_label(month)} "
                                              f"的月報「{rows[-1]['file_name']}」,但文件夾中沒有找到,"
                                              f"沒有發送。", report.script), unit=unit))
        if not forms:
            if not report.problems:
                report.problems.append(Problem("missing_form", in_script(
                    f"文件夾 {d} 中沒有 {layout.month_label(month)} 的月報填報表。請先運行 "
                    f"putuo-xl forms。", report.script)))
        order = {u: i for i, u in enumerate(cfg.units)}
        for unit, files in sorted(forms.items(), key=lambda kv: order.get(kv[0], len(order))):
            if len(files) > 1:
                report.problems.append(Problem("duplicate_form", in_script(
                    f"{unit}:文件夾中有 {len(files)} 份這個月的月報("
                    f"{'、'.join(f.path.name for f in files)}),不知道該發哪一份,都不發送。"
                    f"請只保留一份。", report.script), unit=unit))
                continue
            f = files[0]
            rows = issued.get(unit, [])
            if rows and f.plan_fingerprint:
                # rows come in ledger order: on equal times (seconds) the later row is the latest
                latest = max(enumerate(rows), key=lambda ir: (ir[1]["created_at"], ir[0]))[1]
                if f.plan_fingerprint not in {r["plan_fingerprint"] for r in rows}:
                    report.problems.append(Problem("stale_form", in_script(
                        f"{unit}:「{f.path.name}」不是台賬記錄中生成的月報(任務版本不同),不發送。"
                        f"請用 putuo-xl forms 重新生成。", report.script), unit=unit, file=f.path.name))
                    continue
                if latest["plan_fingerprint"] != f.plan_fingerprint:
                    report.problems.append(Problem("stale_form", in_script(
                        f"{unit}:「{f.path.name}」是舊版本的月報,之後已按修改後的任務重新生成過,"
                        f"不發送。請用 putuo-xl forms 重新生成後再發。", report.script),
                        unit=unit, file=f.path.name))
                    continue
            to = unit_addresses(cfg, unit, report, f.path.name, f.script)
            if not to:
                continue
            data = f.path.read_bytes()
            key = f"forms|{month}|{unit}|{content_hash(f.identity())}"
            if not resend and _held_as_changed(lg, report, f, key, data):
                continue
            values = {**common_values(cfg, settings, month, today, f.script),
                      **unit_values(cfg, unit, f.script),
                      "due_label": date_label(f.due) if f.due else "", "file_name": f.path.name}
            report.messages.append(Outgoing(
                kind="forms", month=month, unit=unit, to=to,
                subject=render(settings, "forms_subject", values, f.script),
                body=render(settings, "forms_body", values, f.script),
                key=key, aliases=[_legacy_forms_key(month, unit, data)],
                attachment_name=f.path.name, attachment_path=f.path, attachment_bytes=data,
                script=f.script))
        return run(report, settings, lg, dry_run_dir=dry_run_dir, confirm=confirm,
                   password_prompt=password_prompt, sleep=sleep, resend=resend,
                   resend_uncertain=resend_uncertain, stop_if_missing=stop_if_missing)
    finally:
        if lg is not None and not isinstance(ledger, Ledger):
            lg.close()


def _only_units(cfg: Config, units: Iterable[str] | None) -> set[str] | None:
    """`units` as config names (aliases and either script accepted); None: every unit."""
    if units is None:
        return None
    out = set()
    for name in units:
        canonical = cfg.resolve(str(name))
        if canonical in cfg.groups:
            out.update(cfg.expand(canonical))
        elif canonical in cfg.units:
            out.add(canonical)
        else:
            raise MailError(f"不認識的單位「{name}」。請寫 config.yaml 中的單位名稱(或它的別名)。")
    return out


def _arg(path: Path) -> str:
    """A path as one command-line argument."""
    text = str(path)
    return f'"{text}"' if re.search(r"\s", text) else text


def _legacy_forms_key(month: str, unit: str, data: bytes) -> str:
    """The key the send log used before forms were known by their metadata (the file's bytes):
    a form sent then and unchanged since counts as sent."""
    return f"forms|{month}|{unit}|{content_hash(data)}"


def _held_as_changed(lg: Ledger | None, report: MailReport, f: FormFile, key: str,
                     data: bytes) -> bool:
    """A unit that already received a different form for the month: not sent again on its own
    (the unit may be filling in the first one); one line says so and how to send it. True when
    held back."""
    if lg is None:
        return False
    last = lg.conn.execute(
        "SELECT key, attachment, at FROM sends WHERE kind='forms' AND month=? AND unit=? "
        "AND status='sent' ORDER BY id DESC LIMIT 1", (f.month, f.unit)).fetchone()
    if last is None or last["key"] in (key, _legacy_forms_key(f.month, f.unit, data)):
        return False
    when = last["at"][:16].replace("T", " ")
    report.problems.append(Problem("changed_form", in_script(
        f"{f.unit}:{when} 已經收到過本月的另一份月報(「{last['attachment']}」),文件夾中的"
        f"「{f.path.name}」與它不同(任務、指標、截止日期或版本有變化),沒有發送,以免該單位"
        f"填錯版本。確認要讓它改填新的這份,請重新發送給它:putuo-xl mail forms ", report.script)
        + _arg(f.path.parent) + f" --month {f.month} --resend --unit "
        + in_script(f.unit, report.script), unit=f.unit, file=f.path.name))
    return True
