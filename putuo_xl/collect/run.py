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

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import python_calamine as pc

from putuo_xl import layout
from putuo_xl.collect.inputs import gather
from putuo_xl.collect.judge import (Context, IssuedForm, Judgement, PlanInfo, _norm_month, judge,
                                    received_date, size_mb)
from putuo_xl.collect.report import (ACCEPTED, DUPLICATE, ERROR, PROBLEMS, REJECTED, WARNING,
                                     CollectReport, FileResult, LedgerRow, UnitState)
from putuo_xl.config import Config, load_config
from putuo_xl.errors import InputError, PutuoError, os_reason
from putuo_xl.fileio import _give_final_mode, ensure_not_open
from putuo_xl.ledger.store import open_ledger
from putuo_xl.collect.normalize import cell_text
from putuo_xl.text import in_script

ARCHIVE_DEFAULT = "{master_stem}_回報原件"
_DEADLINE = re.compile(r'"deadline":\s*"(\d{4}-\d{2})')


def collect(master_path, paths, month: str, config: Config | str | Path | None = None,
            output: str | Path | None = None, now: datetime | None = None, *,
            write_master: bool = True, workers: int = 2, force: bool = False) -> CollectReport:
    """Collect returned forms for `month` ('2020-08') into the ledger beside `master_path`.

    `paths`: folders (searched recursively), files (.xlsx/.xlsm/.xls), saved e-mails (.eml).
    `output`: write the master with its 收件情況 sheet to this new file instead of over the
    master (the ledger and the archive stay beside the master). `write_master=False` leaves
    every workbook alone (a ribbon script then writes `report.receipts_rows()` itself).
    `workers`: files judged at once (worker processes for big batches, else threads).
    Raises PutuoError only for problems with the run as a whole (bad month, a month outside the
    plan's year unless `force`, missing master, a path that does not exist, master open in
    Excel) — before anything is read or written; a problem with one file is reported and the
    batch goes on.
    """
    return _collect(master_path, paths, month, config, output, now, write_master=write_master,
                    workers=workers, force=force).report


class Companion(Protocol):
    """Work a later stage does inside collect's run (rollup.with_collect): it reads the plan
    while the forms are judged, computes from the ledger inside collect's transaction (seeing
    this run's rows), and writes its sheets into the same new master."""
    plan: object                # the master's plan once prepare() ran; None if it cannot be read

    def prepare(self, master: Path, cfg: Config) -> None: ...

    def compute(self, ledger, month: str, today: date, before: int, kept: list) -> None: ...

    def write_into_master(self, master: Path, dest: Path, report: CollectReport) -> bool: ...

    def finish(self, report: CollectReport, target: Path, month: str, seconds_writing: float,
               seconds_total: float): ...


@dataclass
class _Run:
    report: CollectReport
    seconds: float = 0.0


def check_paths(paths) -> list:
    """`paths` as a list; a path that does not exist (a mistyped folder) is refused before
    anything is read or written."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = list(paths)
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise InputError("找不到" + "、".join(f"「{m}」" for m in missing)
                         + ",沒有收集任何文件,台賬和總表都沒有改動。請檢查路徑是否寫錯。",
                         code="no-such-path")
    return paths


def _collect(master_path, paths, month: str, config, output, now, *, write_master: bool,
             workers: int, companion: Companion | None = None, force: bool = False):
    paths = check_paths(paths)
    # the cyclic garbage collector off for the run: with hundreds of thousands of rows alive
    # its full passes cost ~0.5 s at province scale, and a run makes no cycles worth collecting
    import gc
    was = gc.isenabled()
    gc.disable()
    try:
        if write_master and Path(master_path).is_file():
            # one writer of the master at a time, from reading it to the rename
            from putuo_xl.locks import master_lock
            with master_lock(master_path) as held:
                run = _collect_run(master_path, paths, month, config, output, now,
                                   write_master=write_master, workers=workers, companion=companion,
                                   force=force)
            if held.note:
                run.report.warnings.insert(0, in_script(held.note, run.report.script))
            return run
        return _collect_run(master_path, paths, month, config, output, now,
                            write_master=write_master, workers=workers, companion=companion,
                            force=force)
    finally:
        if was:
            gc.enable()


def _collect_run(master_path, paths, month: str, config, output, now, *, write_master: bool,
                 workers: int, companion: Companion | None = None, force: bool = False):
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

    plan_info, run_warnings = load_plan_info(master, cfg, month=month, force=force)
    prepared = False

    def prepare() -> None:          # once: the companion reads the plan; collect's checks share it
        nonlocal prepared
        prepared = True
        companion.prepare(master, cfg)
        if companion.plan is not None and plan_info.loader is not None and not plan_info.loaded:
            plan_info.loader = MasterPlanLoader(master, cfg, companion.plan)
        # imported now, while the forms are judged, not after (what writing the master needs)
        import putuo_xl.collect.receipts  # noqa: F401
        import putuo_xl.workbook.surgery  # noqa: F401

    ledger = open_ledger(master, cfg)
    try:
        archive_root = archive_dir_for(master, cfg)
        issued = [IssuedForm(r["unit"], r["month"], r["plan_fingerprint"],
                             tuple(x for x in r["task_ids"].split(",") if x), r["due"],
                             r["created_at"] or "", r["locked"])
                  for r in ledger.issued_with_cells(month)]
        if companion is not None and not issued:
            prepare()               # every form's check needs the plan: before judging
        ctx = Context.build(month, cfg, plan_info, issued)
        ctx.accepted_shas = {r[0]: (r[1], r[2]) for r in ledger.conn.execute(
            "SELECT sha256, unit, month FROM submissions WHERE status = 'accepted' ORDER BY id")}
        # never judged when a folder around them is collected: the master and what belongs to
        # it, and the blank forms `putuo-xl forms` wrote beside it (named on purpose, they are)
        exclude = {master, target, archive_root, ledger.path,
                   layout.default_forms_dir(master, month, "traditional"),
                   layout.default_forms_dir(master, month, "simplified"),
                   ledger.path.with_name(ledger.path.name + "-wal"),
                   ledger.path.with_name(ledger.path.name + "-shm")}
        t1 = time.perf_counter()
        items = gather(paths, exclude=exclude)
        t2 = time.perf_counter()

        tmp = None
        t_rollup = 0.0
        with Judging(items, ctx, archive_root, ledger.folder, workers) as judging:
            if companion is not None and not prepared:
                prepare()           # while the forms are being judged
            report = CollectReport(month=month, master=str(master), ledger=str(ledger.path),
                                   output=str(target) if write_master else None,
                                   collected_at=collected_at, script=plan_info.script,
                                   warnings=[in_script(w, plan_info.script) for w in run_warnings])
            try:
                with ledger.tx() as conn:
                    # each file is stored as its judgement comes back; nothing is visible to
                    # anyone before the commit at the end
                    kept = [] if companion is not None else None
                    before = _store(conn, judging, report, ctx, cfg, collected_at, kept)
                    judging.close()
                    t3 = judging.finished_at
                    # the archived originals are on disk before the ledger points at them:
                    # synced in a thread while the month's state and the 工作報表 are computed
                    syncing = _sync_started() if archive_root.exists() else None
                    try:
                        _month_state(conn, report, ctx, cfg, plan_info, now.date())
                        t4 = time.perf_counter()
                        if companion is not None:   # this connection sees the rows stored now
                            companion.compute(ledger, month, now.date(), before, kept)
                        t_rollup = time.perf_counter() - t4
                    finally:
                        if syncing is not None:    # before the commit, and before any fork
                            syncing.join()
                    if write_master:
                        tmp = _write_master(report, master, target, companion)
                        ensure_not_open(target)   # opened in Excel meanwhile: store nothing, say so
                    report.master_written = write_master
            except BaseException:
                if tmp is not None:
                    tmp.unlink(missing_ok=True)
                raise
        pool_kind = judging.kind
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
                          "master_s": round(t5 - t4 - t_rollup, 4), "total_s": round(t5 - t0, 4),
                          "workers": workers, "pool": pool_kind}
        if companion is not None:     # computing the 工作報表 (their writing is in master_s)
            report.timings["rollup_compute_s"] = round(t_rollup, 4)
            return companion.finish(report, target, month, t5 - t4, t5 - t0)
        return _Run(report, seconds=t5 - t0)
    finally:
        ledger.close()


def _sync_started():
    """os.sync() running in a thread (it waits on the disk, not on Python): join() it."""
    import threading
    sync = os.sync
    t = threading.Thread(target=sync, name="putuo-xl-sync", daemon=True)
    try:
        t.start()
    except RuntimeError:        # no thread to be had: sync here
        sync()
        return None
    return t


# -- judging in parallel ------------------------------------------------------------------
# Reading a form is ~0.5 ms in python-calamine and ~0.3 ms of Python checks that hold the GIL,
# so threads barely help; worker processes do (measured in bench/results/collect.md). A pool
# costs something to start — little with fork (Linux, macOS when safe), the import of the
# package with spawn (Windows) — so it is used only for batches big enough to pay for it, and
# never where a process cannot be started safely (threads or serial then).
PROCESS_MIN_FILES = {"fork": 120, "spawn": 1500}
_WORKER: tuple | None = None        # (ctx, archive root, ledger folder) inside a worker process


def _judge_one(item, ctx, archive_root: Path, base: Path) -> Judgement:
    j = judge(item, ctx)
    if j.data is not None or j.stream_path is not None:
        try:
            if j.data is not None:
                j.archive_rel = _archive(j, archive_root, base)
            else:
                j.archive_rel = _archive_stream(j, archive_root, base)
        except OSError as e:     # the disk, not the file: the whole run stops, nothing stored
            reason = os_reason(e)
            raise PutuoError(in_script(
                f"回報原件無法存入歸檔文件夾({reason})。請檢查磁盤空間、寫入權限和 config.yaml 的 "
                f"collect.archive_dir 後重新收集;這次沒有收錄任何文件,台賬和總表都沒有改動。",
                getattr(ctx.plan, "script", None) or "traditional"),
                file=str(archive_root), code="archive") from None
        j.data = None   # the bytes are in the archive now; keep memory flat
    return j


_FORKED: tuple | None = None        # (items, ctx, archive root, ledger folder) for fork


def _worker_init(state, parent_pid: int) -> None:
    global _WORKER
    from putuo_xl.parallel import die_with_parent
    die_with_parent(parent_pid)      # never an orphan (nor one holding its parent's files)
    _WORKER = state if state is not None else _FORKED


def _worker_judge(item) -> Judgement:
    items, ctx, archive_root, base = _WORKER
    if item.__class__ is int:      # forked: the items are this process's copy already
        item = items[item]
    j = _judge_one(item, ctx, archive_root, base)
    item.data = None                              # this process's copy: not sent back
    j.reports = [tuple(r) for r in j.reports]     # plain tuples unpickle fastest
    j.plan_read = ctx.plan.loaded                 # this worker had to read the master's plan
    return j


def _process_method(n_items: int, workers: int) -> str | None:
    """'fork' or 'spawn' when a process pool is worth starting for `n_items` files, else None.
    fork only from a single-threaded process (forking a threaded one can deadlock); spawn only
    when this interpreter is a python executable (inside Excel's embedded interpreter
    sys.executable is not one, and starting it would start Excel)."""
    import multiprocessing as mp
    import sys

    from putuo_xl import parallel

    if workers < 2 or parallel.disabled():
        return None
    methods = mp.get_all_start_methods()
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if parallel.can_fork():
        method = "fork"
    elif "spawn" in methods and parallel.python_executable() \
            and (main_file is None or str(main_file).lower().endswith(".py")):
        method = "spawn"
    else:
        return None
    return method if n_items >= PROCESS_MIN_FILES[method] else None


class Judging:
    """Every item judged and archived, handed out in order as an iterator while the rest are
    still being judged — by worker processes (big batches, see _process_method), threads, or
    here one by one — so the caller can store each file as it comes back. `kind` says which
    (process | thread | serial); `finished_at` is when the last judgement arrived. A pool that
    cannot start, or breaks on the way, leaves the remaining items to be judged here."""

    def __init__(self, items: list, ctx: Context, archive_root: Path, base: Path, workers: int = 2):
        self.items, self.ctx, self.root, self.base = items, ctx, archive_root, base
        self.finished_at: float | None = None
        self._pool = None
        self._results = None
        self.kind = "serial"
        method = _process_method(len(items), workers)
        if method is not None:
            from concurrent.futures import ProcessPoolExecutor
            import multiprocessing as mp

            if not ctx.issued or any(f.locked is None for forms in ctx.issued.values() for f in forms):
                # every form needs the plan (nothing issued, or forms issued before the ledger
                # kept their locked cells: the roles come from the plan): read once, not in each
                ctx.plan.ensure()
            # chunks small enough that the workers finish within a few forms of each other
            chunk = max(1, min(32, len(items) // (workers * 16)))
            global _FORKED
            try:
                if method == "fork":   # the workers inherit items and context: send indices
                    _FORKED = (items, ctx, archive_root, base)
                    state, work = None, range(len(items))
                else:
                    state, work = (None, ctx, archive_root, base), items
                self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(method),
                                                 initializer=_worker_init,
                                                 initargs=(state, os.getpid()))
                self._results = self._pool.map(_worker_judge, work, chunksize=chunk)
                self.kind = "process"
            except (OSError, ImportError, RuntimeError):      # no processes here: go on without
                self.close()
            finally:
                _FORKED = None         # the children have their copy (forked at map())
        if self._pool is None and workers > 1 and len(items) > 1:
            self._pool = ThreadPoolExecutor(max_workers=workers)
            self._results = self._pool.map(lambda i: _judge_one(i, ctx, archive_root, base), items)
            self.kind = "thread"

    def __iter__(self):
        from concurrent.futures.process import BrokenProcessPool

        done = 0
        plan_read = False
        try:
            if self._results is None:
                for item in self.items:
                    yield _judge_one(item, self.ctx, self.root, self.base)
                    done += 1
            else:
                try:
                    for j in self._results:
                        plan_read = plan_read or getattr(j, "plan_read", False)
                        yield j
                        done += 1
                except BrokenProcessPool:     # a worker died (memory?): the rest are judged here
                    self.close()
                    self.kind = "serial"
                    for item in self.items[done:]:
                        yield _judge_one(item, self.ctx, self.root, self.base)
                        done += 1
        finally:
            self.finished_at = time.perf_counter()
        if plan_read:
            # a worker read the master's plan for a form: read it here too, so what the report
            # says about the plan is what judging everything here would have said
            self.ctx.plan.ensure()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        from putuo_xl.collect.xls_helper import close as close_xls_helper
        close_xls_helper()          # if this process read .xls files, their helper ends here

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def judge_all(items: list, ctx: Context, archive_root: Path, base: Path,
              workers: int = 2) -> tuple[list[Judgement], str]:
    """Judge and archive every item, in order; (judgements, how: process | thread | serial)."""
    with Judging(items, ctx, archive_root, base, workers) as j:
        return list(j), j.kind


# -- the master's plan ----------------------------------------------------------------
def load_plan_info(master: Path, cfg: Config, month: str | None = None,
                   force: bool = False) -> tuple[PlanInfo, list[str]]:
    """The master's script and build fingerprint from its hidden `_meta` sheet, and a loader
    that reads the plan as officials left it (`readback.plan_from_workbook`) when a form needs
    it: one whose fingerprint was not issued for the month, or a month with nothing issued.
    `month` outside the plan's year (its `_meta` year and task deadlines) is refused, or with
    `force` gives a warning (plan/months.py)."""
    info = PlanInfo()
    warnings: list[str] = []
    meta: dict[str, str] = {}
    deadlines: list[str] = []
    try:
        wb = pc.CalamineWorkbook.from_path(str(master))
    except Exception as e:
        raise InputError(f"總表無法打開({str(e)[:80]})。請確認它是 putuo-xl build 生成的 .xlsx。",
                         file=str(master)) from None
    try:
        if layout.META_SHEET in wb.sheet_names:
            for row in wb.get_sheet_by_name(layout.META_SHEET).to_python(skip_empty_area=False):
                if len(row) >= 2 and cell_text(row[0]).strip():
                    key = cell_text(row[0]).strip()
                    if month is not None and key.startswith("task:"):
                        deadlines.extend(_DEADLINE.findall(cell_text(row[1])))
                    meta.setdefault(key, cell_text(row[1]).strip())
            info.meta_fingerprint = meta.get("plan_fingerprint") or None
            if meta.get("script") in ("traditional", "simplified"):
                info.script = meta["script"]
            info.title = meta.get("title") or ""
    finally:
        wb.close()
    if month is not None:
        from putuo_xl.plan.months import check_plan_month, month_range
        outside = check_plan_month(month, month_range(meta.get("year"), deadlines), force=force,
                                   script=info.script, title=info.title)
        if outside:
            warnings.append(outside)
    if info.meta_fingerprint:       # a putuo-xl master: its plan can be read back when needed
        info.loader = MasterPlanLoader(master, cfg)
    else:
        warnings.append("總表中沒有任務分解信息(隱藏的 _meta 工作表),只接受本月下發記錄中的月報。")
    return info, warnings


class MasterPlanLoader:
    """PlanInfo's loader: the plan as the master says now (a class, not a closure, so a worker
    process started with spawn can be sent one). `plan` when the caller has read it already."""

    def __init__(self, master: Path, cfg: Config, plan=None):
        self.master, self.cfg, self.plan = master, cfg, plan

    def __call__(self, pi: PlanInfo) -> None:
        plan = self.plan
        if plan is None:
            from putuo_xl.workbook.readback import plan_from_workbook
            plan = plan_from_workbook(self.master, self.cfg, engine="calamine")
        apply_plan(pi, plan, self.cfg)


def apply_plan(info: PlanInfo, plan, cfg: Config) -> None:
    from putuo_xl.plan.assignments import unit_assignments
    info.fingerprints.add(plan.fingerprint())
    info.script = plan.script
    info.title = info.title or plan.title
    assignments = unit_assignments(plan, cfg)
    info.tasks_by_unit = {u: [a.task_id for a in items] for u, items in assignments.items()}
    info.roles = {(u, a.task_id): a.role for u, items in assignments.items() for a in items}
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
    """Store the original bytes at ROOT/ab/abcdef….xlsx; an existing file is never rewritten.
    Written to a temporary name and renamed, so a stored original is always whole. (Plain os
    calls: half the cost of pathlib and open() here, ~0.1 ms a form.)"""
    sha = j.sha256
    folder = os.path.join(root, sha[:2])
    dest = os.path.join(folder, sha + _archive_suffix(j))
    if not os.path.exists(dest):
        tmp = os.path.join(folder, f".tmp-{sha}-{os.getpid()}-{id(j)}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(tmp, flags, 0o644)
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
            fd = os.open(tmp, flags, 0o644)
        try:
            view = memoryview(j.data)
            while view:
                view = view[os.write(fd, view):]
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.close(fd)
        os.replace(tmp, dest)
    prefix = os.path.join(str(base), "")
    return dest[len(prefix):] if dest.startswith(prefix) else dest


STREAM_CHUNK = 1 << 20


def _archive_stream(j: Judgement, root: Path, base: Path) -> str | None:
    """A file too large to read into memory, archived all the same: copied in chunks, hashed on
    the way (sets j.sha256 and the real j.size). None when the file itself cannot be read (it
    is then refused as unreadable); an OSError of the archive stops the run (see _judge_one)."""
    import hashlib
    try:
        src = open(j.stream_path, "rb")
    except OSError as e:
        j.add("unreadable", detail=e.strerror or type(e).__name__)
        return None
    with src:
        os.makedirs(root, exist_ok=True)
        tmp = os.path.join(root, f".tmp-stream-{os.getpid()}-{id(j)}")
        h, size = hashlib.sha256(), 0
        try:
            with open(tmp, "wb") as dst:
                while True:
                    try:
                        chunk = src.read(STREAM_CHUNK)
                    except OSError as e:         # the file, not the archive
                        j.add("unreadable", detail=e.strerror or type(e).__name__)
                        raise _Unreadable from None
                    if not chunk:
                        break
                    h.update(chunk)
                    dst.write(chunk)
                    size += len(chunk)
        except _Unreadable:
            os.unlink(tmp)
            return None
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    sha = h.hexdigest()
    folder = os.path.join(root, sha[:2])
    os.makedirs(folder, exist_ok=True)
    dest = os.path.join(folder, sha + _archive_suffix(j))
    if os.path.exists(dest):
        os.unlink(tmp)
    else:
        os.replace(tmp, dest)
    j.sha256, j.size = sha, size
    for p in j.problems:           # the size as read, to the byte
        if p.code == "too-large":
            p.params["size_mb"] = size_mb(size, int(float(p.params["limit_mb"]) * 1048576))
    prefix = os.path.join(str(base), "")
    return dest[len(prefix):] if dest.startswith(prefix) else dest


class _Unreadable(Exception):
    pass


# -- ledger ---------------------------------------------------------------------------
def _due_date(j: Judgement, cfg: Config, month: str) -> date:
    if j.due:
        try:
            return date.fromisoformat(str(j.due)[:10])
        except ValueError:
            pass
    return due_for_month(month, cfg)


def due_for_month(month: str, cfg: Config) -> date:
    """Day forms.due_day of the month after `month` (status.due_for_month)."""
    from putuo_xl.ledger.status import due_for_month as _due
    return _due(month, cfg)


def _store(conn, judgements: list[Judgement], report: CollectReport, ctx: Context, cfg: Config,
           collected_at: str, kept: list | None = None) -> int:
    """Store every judged file (in order) in the open transaction. `kept`: a list that gets
    every report row inserted, as inserted. Returns the largest rowid `reports` had before."""
    script = report.script
    batch_sha: dict[str, FileResult] = {}
    touched: set[tuple[str, str]] = set()
    notes: list[tuple] = []
    reports: list[tuple] = []
    actuals: list[tuple] = []
    # the originals the ledger holds already (this transaction holds the write lock): only a
    # file among them needs its earlier submissions looked up (one query here, not one a file)
    cur = conn.cursor()
    cur.row_factory = None
    stored = {r[0] for r in cur.execute("SELECT DISTINCT sha256 FROM submissions")}
    before = cur.execute("SELECT MAX(rowid) FROM reports").fetchone()[0] or 0
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
        prior = conn.execute("SELECT id, status, reason_code, unit, month, collect_month FROM submissions "
                             "WHERE sha256 = ? ORDER BY (status = 'accepted') DESC, id DESC",
                             (j.sha256,)).fetchall() if j.sha256 in stored else ()
        # the same bytes accepted before, judged fine again (or not read again: see
        # collect_read._same_place), or refused before for the same reason in a run for this
        # month: a duplicate. The same bytes that are wrong for THIS run (another month's form,
        # another unit's name) are stored with their own reason, never hidden as a duplicate.
        hit = None
        if prior and prior[0]["status"] == ACCEPTED and j.ok:
            hit = prior[0]
        elif prior and not j.ok:
            hit = next((r for r in prior if r["status"] != ACCEPTED and r["reason_code"] == f.reason_code
                        and (r["collect_month"] or r["month"]) in (ctx.month, None)), None)
        if hit is not None:
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
            " row_count, sender, collect_month, contact, unit_from)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (j.sha256, item.name, item.source, f.archive_path, j.unit or j.unit_hint, j.month, f.received_at,
             collected_at, f.outcome, f.reason_code, f.reason(20) or None,
             None if f.on_time is None else int(f.on_time), j.plan_fingerprint, j.form_version,
             f.rows, item.sender, ctx.month, j.contact,
             "form" if j.unit else ("name" if j.unit_hint else None)))
        sid = cur.lastrowid
        f.submission_id = sid
        batch_sha[j.sha256] = f
        notes.extend((sid, p.code, p.short, p.sheet, p.cell or (f"第{p.row}行" if p.row else None))
                     for p in j.problems)
        if f.outcome == ACCEPTED:
            # (task_id, role, status, progress, progress_text, problems, next_steps): a RowReport
            # or, from a worker process, the same as a plain tuple
            unit, month = j.unit, j.month
            rows = [(sid, unit, month, *r) for r in j.reports]
            reports.extend(rows)
            if kept is not None:
                kept.extend(rows)
            actuals.extend((sid, j.unit, j.month, t, i, v) for t, i, v in j.actuals)
            touched.add((j.unit, j.month))
        if len(reports) >= STORE_BATCH_ROWS:   # while the next files are still being judged
            _insert_rows(conn, notes, reports, actuals)
    _insert_rows(conn, notes, reports, actuals)
    _supersede(conn, touched, report)
    return before


STORE_BATCH_ROWS = 5000


def _insert_rows(conn, notes: list, reports: list, actuals: list) -> None:
    """Insert and empty the collected rows (each table in the order the files came)."""
    conn.executemany("INSERT INTO notes (submission_id, code, message, sheet, cell) VALUES (?,?,?,?,?)", notes)
    conn.executemany("INSERT INTO reports (submission_id, unit, month, task_id, role, status, progress,"
                     " progress_text, problems, next_steps) VALUES (?,?,?,?,?,?,?,?,?,?)", reports)
    conn.executemany("INSERT INTO actuals (submission_id, unit, month, task_id, indicator_id, value)"
                     " VALUES (?,?,?,?,?,?)", actuals)
    notes.clear()
    reports.clear()
    actuals.clear()


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
    by_pair: dict[tuple[str, str], list] = {pair: [] for pair in touched}
    for month in sorted({m for _u, m in touched}):     # one query per month, not per unit
        for r in conn.execute("SELECT id, unit, received_at, superseded_by FROM submissions "
                              "WHERE month = ? AND status = 'accepted'", (month,)):
            rows = by_pair.get((r["unit"], month))
            if rows is not None:
                rows.append(r)
    for (unit, month), rows in by_pair.items():
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


def _month_state(conn, report: CollectReport, ctx: Context, cfg: Config, plan: PlanInfo,
                 today: date | None = None) -> None:
    """The month as the ledger holds it after this run (all runs): the submissions for the
    收件情況 rows, and each unit's standing from status.month_status (THE rule, shared with the
    rollup and the reminders)."""
    from putuo_xl.ledger.status import LATE, ON_TIME, is_sample_name, month_status

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
    ms = month_status(conn, month, cfg, today=today or date.today(),
                      fallback_units=expected if source == "plan" else ())
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
    # no month; last month's form sent again has another one) — the rows status.month_status reads
    rows = conn.execute("SELECT * FROM submissions WHERE (month = ? AND status = 'accepted') "
                        "OR (status = 'rejected' AND (collect_month = ? OR (collect_month IS NULL "
                        "AND month = ?))) ORDER BY id", (month, month, month)).fetchall()
    def guessed(r) -> bool:
        return r["unit_from"] == "name"

    report.month_rows = [
        LedgerRow(id=r["id"], unit=None if guessed(r) else r["unit"], file_name=r["file_name"],
                  source=r["source"],
                  sender=r["sender"], received_at=r["received_at"], collected_at=r["collected_at"],
                  status=r["status"], reason_code=r["reason_code"], reason=r["reason"],
                  on_time=None if r["on_time"] is None else bool(r["on_time"]),
                  superseded_by=r["superseded_by"], row_count=r["row_count"] or 0,
                  archive_path=r["archive_path"], notes=notes.get(r["id"], []), contact=r["contact"],
                  unit_hint=r["unit"] if guessed(r) else (
                      None if r["unit"] else ctx.guess_unit(r["file_name"], r["sender"])))
        for r in rows]
    report.due = ms.due.isoformat()
    for r in report.month_rows:
        if r.status == ACCEPTED and r.on_time is False:
            um = ms.units.get(r.unit)
            due = um.due if um is not None else ms.default_due
            r.days_late = (received_date(_parse_iso(r.received_at)) - due).days
    by_id = {r.id: r for r in report.month_rows}
    hinted: dict[str, list[LedgerRow]] = {}       # rejected files of no unit, named by file name
    filed = {f.id for um in ms.units.values() for f in um.rejections}
    for r in report.month_rows:
        if r.status == REJECTED and r.unit is None and r.unit_hint and r.id not in filed:
            hinted.setdefault(r.unit_hint, []).append(r)
    states = []
    for um in ms.in_scope():
        cur = um.in_force
        rejected = [by_id[f.id] for f in um.rejections if f.id in by_id] + hinted.get(um.unit, [])
        last = rejected[-1] if rejected else None
        by = next((a.id for a in um.accepted if a.on_time), None) if um.state == ON_TIME else None
        states.append(UnitState(unit=um.unit, expected=um.expected,
                                submission_id=cur.id if cur else None,
                                received_at=cur.received_at if cur else None,
                                on_time=True if um.state == ON_TIME else (False if um.state == LATE else None),
                                file_name=cur.file_name if cur else None,
                                submissions=len(um.accepted), rejected=len(rejected),
                                rejected_reason=(last.notes[0] if last.notes else last.reason) if last else None,
                                state=um.state, due=um.due.isoformat(), on_time_by=by,
                                lacking=list(um.lacking)))
    report.units = states
    report.sample = ms.sample
    report.plan_title = plan.title or ""


def _write_master(report: CollectReport, master: Path, target: Path,
                  companion: Companion | None = None) -> Path:
    """master + 收件情況 (+ the companion's sheets) → a temporary file beside `target` (renamed
    by the caller after commit)."""
    import tempfile
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=target.suffix, dir=str(target.parent))
    os.close(fd)
    try:
        if companion is None or not companion.write_into_master(master, Path(tmp), report):
            from putuo_xl.collect.receipts import write_into_master
            write_into_master(report, master, tmp)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)
