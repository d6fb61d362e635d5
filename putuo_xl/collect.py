"""collect: take the returned monthly forms into the ledger — every file judged, nothing lost.

    report = collect("任務分解台賬.xlsx", ["收件箱/", "司法局.eml"], "2020-08")

For each file (folders are walked, saved e-mails opened): judge it (`collect_read.judge`),
archive the original as it arrived (content-addressed by sha256, never overwritten), and store
its rows in the ledger — all files of one run in ONE transaction. A newer submission from a
unit for the same month supersedes the older one (both stay). Then the 收件情況 sheet is
written into the master (atomic; never over a workbook open in Excel/WPS). A failing or killed
run leaves the previous master and ledger as they were.
"""
from __future__ import annotations

import calendar
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path

import python_calamine as pc

from . import layout
from .collect_inputs import gather
from .collect_read import (Context, IssuedForm, Judgement, PlanInfo, _norm_month, judge,
                           received_date)
from .collect_report import (ACCEPTED, DUPLICATE, ERROR, PROBLEMS, REJECTED, WARNING, CollectReport,
                             FileResult, LedgerRow, UnitState)
from .config import Config, load_config
from .errors import InputError, PutuoError
from .fileio import _give_final_mode, ensure_not_open
from .ledger import Ledger, open_ledger
from .normalize import cell_text
from .text import in_script

ARCHIVE_DEFAULT = "{master_stem}_回報原件"


def collect(master_path, paths, month: str, config: Config | str | Path | None = None,
            output: str | Path | None = None, now: datetime | None = None, *,
            write_master: bool = True, workers: int = 2) -> CollectReport:
    """Collect returned forms for `month` ('2020-08') into the ledger beside `master_path`.

    `paths`: folders (searched recursively), files (.xlsx/.xlsm/.xls), saved e-mails (.eml).
    `output`: write the master with its 收件情況 sheet to this new file instead of over the
    master (the ledger and the archive stay beside the master). `write_master=False` leaves
    every workbook alone (a ribbon script then writes `report.receipts_rows()` itself).
    Raises PutuoError only for problems with the run as a whole (bad month, missing master,
    master open in Excel); a problem with one file is reported and the batch goes on.
    """
    t0 = time.perf_counter()
    cfg = config if isinstance(config, Config) else load_config(config)
    norm = _norm_month(str(month))
    if norm is None:
        raise InputError(f"月份「{month}」格式不對,應寫成 2020-08。")
    month = norm
    master = Path(master_path)
    if not master.is_file():
        raise InputError("找不到任務分解台賬(總表)。請檢查路徑。", file=str(master))
    target = Path(output) if output else master
    if write_master:
        ensure_not_open(target)
    if isinstance(paths, (str, Path)):
        paths = [paths]
    now = (now or datetime.now()).astimezone()
    collected_at = now.isoformat(timespec="seconds")

    plan_info, run_warnings = load_plan_info(master, cfg)
    ledger = open_ledger(master, cfg)
    try:
        archive_root = archive_dir_for(master, cfg)
        issued = [IssuedForm(r["unit"], r["month"], r["plan_fingerprint"],
                             tuple(x for x in r["task_ids"].split(",") if x), r["due"])
                  for r in ledger.issued(month)]
        ctx = Context.build(month, cfg, plan_info, issued)
        ctx.accepted_shas = frozenset(r[0] for r in ledger.conn.execute(
            "SELECT sha256 FROM submissions WHERE status = 'accepted'"))
        exclude = {master, target, archive_root, ledger.path,
                   ledger.path.with_name(ledger.path.name + "-wal"),
                   ledger.path.with_name(ledger.path.name + "-shm")}
        t1 = time.perf_counter()
        items = gather(paths, exclude=exclude)
        t2 = time.perf_counter()

        def work(item):
            j = judge(item, ctx)
            if j.data is not None:
                j.archive_rel = _archive(j, archive_root, ledger.folder)
                j.data = None   # the bytes are in the archive now; keep memory flat
            return j

        if workers > 1 and len(items) > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                judgements = list(pool.map(work, items))
        else:
            judgements = [work(i) for i in items]
        t3 = time.perf_counter()

        report = CollectReport(month=month, master=str(master), ledger=str(ledger.path),
                               output=str(target) if write_master else None,
                               collected_at=collected_at, script=plan_info.script,
                               warnings=[in_script(w, plan_info.script) for w in run_warnings])
        if archive_root.exists():
            os.sync()  # the archived originals are on disk before the ledger points at them
        tmp = None
        try:
            with ledger.tx() as conn:
                _store(conn, judgements, report, ctx, cfg, collected_at)
                _month_state(conn, report, ctx, cfg, plan_info)
                t4 = time.perf_counter()
                if write_master:
                    tmp = _write_master(report, master, target)
                report.master_written = write_master
        except BaseException:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            raise
        # committed: now the new master replaces the old one
        if tmp is not None:
            _give_final_mode(tmp, target)
            os.replace(tmp, target)
        t5 = time.perf_counter()
        report.plan_loaded = plan_info.loaded and plan_info.error is None
        if plan_info.error:
            report.warnings.append(report.t("總表中的任務讀不出來,只按本月下發記錄核對:") + plan_info.error)
        report.timings = {"prepare_s": round(t1 - t0, 4), "gather_s": round(t2 - t1, 4),
                          "judge_archive_s": round(t3 - t2, 4), "ledger_s": round(t4 - t3, 4),
                          "master_s": round(t5 - t4, 4), "total_s": round(t5 - t0, 4),
                          "workers": workers}
        return report
    finally:
        ledger.close()


# -- the master's plan ----------------------------------------------------------------
def load_plan_info(master: Path, cfg: Config) -> tuple[PlanInfo, list[str]]:
    """The master's script and build fingerprint from its hidden `_meta` sheet, and a loader
    that reads the plan as officials left it (`readback.plan_from_workbook`) when a form needs
    it: one whose fingerprint was not issued for the month, or a month with nothing issued."""
    info = PlanInfo()
    warnings: list[str] = []
    try:
        wb = pc.CalamineWorkbook.from_path(str(master))
    except Exception as e:
        raise InputError(f"總表無法打開({str(e)[:80]})。請確認它是 putuo-xl build 生成的 .xlsx。",
                         file=str(master)) from None
    try:
        if layout.META_SHEET in wb.sheet_names:
            meta = {}
            for row in wb.get_sheet_by_name(layout.META_SHEET).to_python(skip_empty_area=False):
                if len(row) >= 2 and cell_text(row[0]).strip():
                    meta.setdefault(cell_text(row[0]).strip(), cell_text(row[1]).strip())
            info.meta_fingerprint = meta.get("plan_fingerprint") or None
            if meta.get("script") in ("traditional", "simplified"):
                info.script = meta["script"]
    finally:
        wb.close()
    if info.meta_fingerprint:       # a putuo-xl master: its plan can be read back when needed
        def loader(pi: PlanInfo) -> None:
            from .readback import plan_from_workbook
            apply_plan(pi, plan_from_workbook(master, cfg), cfg)
        info.loader = loader
    else:
        warnings.append("總表中沒有任務分解信息(隱藏的 _meta 工作表),只接受本月下發記錄中的月報。")
    return info, warnings


def apply_plan(info: PlanInfo, plan, cfg: Config) -> None:
    from .units import unit_assignments
    info.fingerprints.add(plan.fingerprint())
    info.script = plan.script
    info.tasks_by_unit = {u: [a.task_id for a in items] for u, items in unit_assignments(plan, cfg).items()}
    for task in plan.tasks():
        ids = []
        for n, ind in enumerate(task.indicators, start=1):
            iid = ind.id or f"{task.id}#{n}"
            ids.append(iid)
            info.indicator_units[iid] = ind.unit
            info.indicator_targets[iid] = ind.value
        info.indicators_by_task[task.id] = ids


# -- archive --------------------------------------------------------------------------
def archive_dir_for(master: Path, cfg: Config) -> Path:
    template = cfg.section("collect").get("archive_dir") or ARCHIVE_DEFAULT
    return master.with_name(template.format(master_stem=master.stem))


def _archive_suffix(j: Judgement) -> str:
    if j.kind == "xlsx":
        return ".xlsm" if j.item.name.lower().endswith(".xlsm") else ".xlsx"
    if j.kind == "xls":
        return ".xls"
    suffix = Path(j.item.name).suffix.lower()
    return suffix if suffix and len(suffix) <= 6 and suffix.isascii() else ".bin"


def _archive(j: Judgement, root: Path, base: Path) -> str:
    """Store the original bytes at ROOT/ab/abcdef….xlsx; an existing file is never rewritten."""
    sha = j.sha256
    dest = root / sha[:2] / (sha + _archive_suffix(j))
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".tmp-{sha}-{os.getpid()}-{id(j)}")
        with open(tmp, "wb") as fh:
            fh.write(j.data)
        os.replace(tmp, dest)
    try:
        return str(dest.relative_to(base))
    except ValueError:
        return str(dest)


# -- ledger ---------------------------------------------------------------------------
def _due_date(j: Judgement, cfg: Config, month: str) -> date:
    if j.due:
        try:
            return date.fromisoformat(str(j.due)[:10])
        except ValueError:
            pass
    return due_for_month(month, cfg)


def due_for_month(month: str, cfg: Config) -> date:
    """Day forms.due_day of the month after `month`."""
    day = int(cfg.section("forms").get("due_day") or 5)
    y, m = (int(x) for x in month.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return date(y, m, min(day, calendar.monthrange(y, m)[1]))


def _store(conn, judgements: list[Judgement], report: CollectReport, ctx: Context, cfg: Config,
           collected_at: str) -> None:
    script = report.script
    batch_sha: dict[str, FileResult] = {}
    touched: set[tuple[str, str]] = set()
    for j in judgements:
        for p in j.problems:
            p.finish(script)
        item = j.item
        f = FileResult(name=item.name, source=item.source, sha256=j.sha256, size=j.size,
                       sender=item.sender, received_at=item.received_at.isoformat(timespec="seconds"),
                       unit=j.unit, month=j.month, plan_fingerprint=j.plan_fingerprint,
                       form_version=j.form_version, sheet=j.sheet, problems=j.problems,
                       unit_hint=j.unit_hint, contact=j.contact,
                       archive_path=j.archive_rel)
        report.files.append(f)
        f.outcome = ACCEPTED if j.ok else REJECTED
        if j.sha256 is None:
            continue                      # nothing arrived to store (missing path, unreadable)
        earlier = batch_sha.get(j.sha256)
        if earlier is not None:
            f.outcome, f.duplicate_of, f.previous_outcome = DUPLICATE, earlier.submission_id, earlier.outcome
            f.submission_id = earlier.submission_id
            continue
        prior = conn.execute("SELECT id, status, reason_code, unit, month FROM submissions WHERE sha256 = ? "
                             "ORDER BY (status = 'accepted') DESC, id DESC", (j.sha256,)).fetchall()
        if prior and (prior[0]["status"] == ACCEPTED
                      or (not j.ok and any(r["reason_code"] == f.reason_code for r in prior))):
            hit = prior[0] if prior[0]["status"] == ACCEPTED else next(
                r for r in prior if r["reason_code"] == f.reason_code)
            f.outcome, f.duplicate_of, f.previous_outcome = DUPLICATE, hit["id"], hit["status"]
            f.submission_id = hit["id"]
            f.unit, f.month = f.unit or hit["unit"], f.month or hit["month"]
            batch_sha[j.sha256] = f
            continue
        if f.outcome == ACCEPTED:
            due = _due_date(j, cfg, ctx.month)
            f.due = due.isoformat()
            got = received_date(item.received_at)
            f.on_time = got <= due
            f.days_late = 0 if f.on_time else (got - due).days
            f.rows = len(j.reports)
            f.actuals = len(j.actuals)
        cur = conn.execute(
            "INSERT INTO submissions (sha256, file_name, source, archive_path, unit, month, received_at,"
            " collected_at, status, reason_code, reason, on_time, plan_fingerprint, form_version,"
            " row_count, sender, collect_month, contact) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (j.sha256, item.name, item.source, f.archive_path, j.unit, j.month, f.received_at,
             collected_at, f.outcome, f.reason_code, f.reason(20) or None,
             None if f.on_time is None else int(f.on_time), j.plan_fingerprint, j.form_version,
             f.rows, item.sender, ctx.month, j.contact))
        sid = cur.lastrowid
        f.submission_id = sid
        batch_sha[j.sha256] = f
        if j.problems:
            conn.executemany("INSERT INTO notes (submission_id, code, message, sheet, cell) VALUES (?,?,?,?,?)",
                             [(sid, p.code, p.short, p.sheet, p.cell or (f"第{p.row}行" if p.row else None))
                              for p in j.problems])
        if f.outcome == ACCEPTED:
            conn.executemany(
                "INSERT INTO reports (submission_id, unit, month, task_id, role, status, progress,"
                " progress_text, problems, next_steps) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(sid, j.unit, j.month, r.task_id, r.role, r.status, r.progress, r.progress_text,
                  r.problems, r.next_steps) for r in j.reports])
            conn.executemany(
                "INSERT INTO actuals (submission_id, unit, month, task_id, indicator_id, value)"
                " VALUES (?,?,?,?,?,?)", [(sid, j.unit, j.month, t, i, v) for t, i, v in j.actuals])
            touched.add((j.unit, j.month))
    _supersede(conn, touched, report)


def _parse_iso(s: str) -> datetime:
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        return datetime.min.replace(tzinfo=datetime.now().astimezone().tzinfo)
    return d if d.tzinfo else d.astimezone()


def _supersede(conn, touched: set[tuple[str, str]], report: CollectReport) -> None:
    """Per unit and month, the accepted submission received last is in force; each older one
    points at the one that replaced it (a chain: v1 → v2 → v3)."""
    by_id = {f.submission_id: f for f in report.files if f.outcome == ACCEPTED}
    for unit, month in touched:
        rows = conn.execute("SELECT id, received_at, superseded_by FROM submissions WHERE unit = ? "
                            "AND month = ? AND status = 'accepted'", (unit, month)).fetchall()
        rows.sort(key=lambda r: (_parse_iso(r["received_at"]), r["id"]))
        for older, newer in zip(rows, rows[1:] + [None]):
            want = newer["id"] if newer is not None else None
            if older["superseded_by"] != want:
                conn.execute("UPDATE submissions SET superseded_by = ? WHERE id = ?", (want, older["id"]))
            if older["id"] in by_id:
                by_id[older["id"]].superseded_by = want
                by_id[older["id"]].in_force = want is None
            if want is not None and want in by_id:
                by_id[want].supersedes.append(older["id"])


def _month_state(conn, report: CollectReport, ctx: Context, cfg: Config, plan: PlanInfo) -> None:
    month = report.month
    issued_units = list(dict.fromkeys(f.unit for forms in ctx.issued.values() for f in forms))
    if issued_units:
        expected, source = issued_units, "issued"
    elif plan.ensure():
        expected, source = list(plan.tasks_by_unit), "plan"
    else:
        expected, source = [], "none"
        report.warnings.append(report.t("本月沒有下發記錄,總表中也讀不出任務分工,無法列出缺報單位。"))
    report.expected_units, report.expected_from = expected, source
    # what the 收件情況 sheet shows beside a submission: why it was rejected, or the warnings
    notes: dict[int, list[str]] = {}
    for r in conn.execute(
            "SELECT n.submission_id, n.code, n.message, s.status FROM notes n "
            "JOIN submissions s ON s.id = n.submission_id WHERE s.month = ? OR s.collect_month = ? "
            "ORDER BY n.rowid", (month, month)):
        ptype = PROBLEMS.get(r["code"])
        wanted = ERROR if r["status"] == REJECTED else WARNING
        if ptype is not None and ptype.severity == wanted:
            notes.setdefault(r["submission_id"], []).append(r["message"])
    # the month's submissions, and every file rejected in a run for this month (a corrupt file has
    # no month; last month's form sent again has another one)
    rows = conn.execute("SELECT * FROM submissions WHERE (month = ? AND status = 'accepted') "
                        "OR (status = 'rejected' AND (collect_month = ? OR (collect_month IS NULL "
                        "AND month = ?))) ORDER BY id", (month, month, month)).fetchall()
    report.month_rows = [
        LedgerRow(id=r["id"], unit=r["unit"], file_name=r["file_name"], source=r["source"],
                  sender=r["sender"], received_at=r["received_at"], collected_at=r["collected_at"],
                  status=r["status"], reason_code=r["reason_code"], reason=r["reason"],
                  on_time=None if r["on_time"] is None else bool(r["on_time"]),
                  superseded_by=r["superseded_by"], row_count=r["row_count"] or 0,
                  archive_path=r["archive_path"], notes=notes.get(r["id"], []), contact=r["contact"],
                  unit_hint=None if r["unit"] else ctx.guess_unit(r["file_name"], r["sender"]))
        for r in rows]
    dues = {f.unit: f.due for forms in ctx.issued.values() for f in forms}
    default_due = due_for_month(month, cfg)
    report.due = max(dues.values()) if dues else default_due.isoformat()
    for r in report.month_rows:
        if r.status == ACCEPTED and r.on_time is False:
            try:
                due = date.fromisoformat(str(dues.get(r.unit) or default_due)[:10])
                r.days_late = (received_date(_parse_iso(r.received_at)) - due).days
            except ValueError:
                pass
    order = list(cfg.units)
    units = list(dict.fromkeys([*expected, *(r.unit for r in report.month_rows
                                             if r.unit and r.status == ACCEPTED)]))
    rank = {u: i for i, u in enumerate(order)}
    units.sort(key=lambda u: (rank.get(u, len(rank)), u))
    states = []
    for u in units:
        mine = [r for r in report.month_rows if (r.unit or r.unit_hint) == u]
        accepted = [r for r in mine if r.status == ACCEPTED]
        current = next((r for r in accepted if r.superseded_by is None), None)
        states.append(UnitState(unit=u, expected=u in expected,
                                submission_id=current.id if current else None,
                                received_at=current.received_at if current else None,
                                on_time=current.on_time if current else None,
                                file_name=current.file_name if current else None,
                                submissions=len(accepted), rejected=len(mine) - len(accepted),
                                rejected_reason=next((r.notes[0] if r.notes else r.reason for r in reversed(mine)
                                                      if r.status == REJECTED), None)))
    report.units = states


def _write_master(report: CollectReport, master: Path, target: Path) -> Path:
    """master + 收件情況 → a temporary file beside `target` (renamed by the caller after commit)."""
    from .receipts import write_into_master
    import tempfile
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=target.suffix, dir=str(target.parent))
    os.close(fd)
    try:
        write_into_master(report, master, tmp)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)
