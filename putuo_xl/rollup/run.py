"""The stage functions on a master: `rollup(master, month)` reads the master's plan and its
ledger, computes the 工作報表 (compute.py) and writes them into the master (render.py);
`bulletin_text(master, month)` computes just the 通報, `bulletin_docx(master, month, path)`
writes it as a GB/T 9704 Word document (`write_bulletin(ledger, plan, …)`: the same from what a
caller has open — the ribbon's 通報文稿)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from putuo_xl import layout
from putuo_xl.errors import InputError
from putuo_xl.rollup.compute import compute_rollup
from putuo_xl.rollup.context import _no_gc
from putuo_xl.rollup.reading import _ledger_for, _load_cfg, _plan_for
from putuo_xl.rollup.result import Rollup, RollupResult
from putuo_xl.rollup.rules import check_month
from putuo_xl.text import in_script


def bulletin_text(master_path, month: str, config=None, now=None) -> str:
    """The 通報 for `month`, computed from the master's ledger (text ready to paste)."""
    cfg = _load_cfg(config)
    plan = _plan_for(master_path, cfg)
    with _ledger_for(master_path, cfg) as led:
        return compute_rollup(led, plan, cfg, month, today=_today(now)).bulletin()


BULLETIN_DOCX_NAME = "{label}預評估通報.docx"


def bulletin_docx_name(month: str, script: str = "traditional") -> str:
    """The 通報's file name for `month`: 2020年8月預評估通報.docx (in the notice's script)."""
    return in_script(BULLETIN_DOCX_NAME, script).format(label=layout.month_label(check_month(month)))


@dataclass
class BulletinDocx:
    path: Path
    rollup: Rollup
    backups: list[Path] = field(default_factory=list)   # an earlier file kept (name.bak-….docx)


def write_bulletin(ledger, plan, config, month: str, path, *, today: date | None = None,
                   keep: bool = False) -> BulletinDocx:
    """The 通報 for `month` computed from `ledger` with `plan` (what a caller has open: the
    ribbon's book), written to `path` as a GB/T 9704 .docx (atomic; refused while open in
    Word/WPS). `keep`: an earlier file at `path` is kept as a .bak- copy first."""
    from putuo_xl.rollup.bulletin_docx import write_bulletin_docx
    from putuo_xl.workbook.master import keep_earlier
    r = compute_rollup(ledger, plan, config, month, today=today)
    kept = keep_earlier(path) if keep else None
    return BulletinDocx(write_bulletin_docx(r, path), r, [kept] if kept else [])


def bulletin_docx(master_path, month: str, path, config=None, now=None) -> Path:
    """The 通報 for `month`, computed from the master's ledger, as a Word document laid out to
    GB/T 9704 (docx_gbt.py) at `path`, for the document system."""
    cfg = _load_cfg(config)
    plan = _plan_for(master_path, cfg)
    with _ledger_for(master_path, cfg) as led:
        return write_bulletin(led, plan, cfg, month, path, today=_today(now)).path


def _today(now) -> date | None:
    """`now` (a datetime or a date; None: today) as the day due dates are compared with."""
    if now is None:
        return None
    return now.date() if hasattr(now, "date") and callable(now.date) else now


def rollup(master_path, month: str, config=None, output=None, now=None, *,
           force: bool = False) -> RollupResult:
    """Compute the 工作報表 for `month` from the ledger and write them into the master (or into
    `output`, a new file, when given — e.g. while the master is open in Excel). `now` (default:
    now): units whose due date has not passed by then are 未到期, not 未報送. A month outside
    the plan's year is refused unless `force` (see compute_rollup)."""
    import time
    t0 = time.perf_counter()
    month = check_month(month)
    with _no_gc():      # full collections over the plan and the report rows: ~0.2 s a province
        cfg = _load_cfg(config)
        master = Path(master_path)
        if not master.exists():
            raise InputError("找不到任務台賬文件,請檢查路徑。", file=str(master), code="no-master")
        t1 = time.perf_counter()
        from putuo_xl.locks import master_lock
        with master_lock(master) as held:     # one writer of the master at a time (locks.py)
            plan = _plan_for(master, cfg)
            t2 = time.perf_counter()
            with _ledger_for(master, cfg) as led:
                r = compute_rollup(led, plan, cfg, month, today=_today(now), force=force)
            t3 = time.perf_counter()
            from putuo_xl.rollup.render import write_rollup
            out = write_rollup(master, r, output=output)
            t4 = time.perf_counter()
        if held.note:
            r.warnings.insert(0, r.t(held.note))
    return RollupResult(path=out, month=month, months=r.months, rollup=r, seconds=t4 - t0,
                        timings={"config_s": round(t1 - t0, 4), "plan_s": round(t2 - t1, 4),
                                 "compute_s": round(t3 - t2, 4), "write_s": round(t4 - t3, 4)})
