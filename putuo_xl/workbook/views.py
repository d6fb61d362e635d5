"""Bring the master's derived sheets up to date with what officials edited in the section sheets.

按單位查看, 責任矩陣 and 考評指標 are formulas over the hidden `_plan`, `_tasks` and `_units`
sheets, which `build` writes once. When an official deletes task 1.2.2 and adds 1.5.5 in a
section sheet, forms follow the edit (they read the sheets back), but those sheets would still
show the plan as built. `refresh_views` re-reads the plan from the sheets and, when it differs
from the `_meta` fingerprint, writes the derived sheets again into the master with
`xlsxsurgery.replace_sheets` (the master is never round-tripped through openpyxl): section sheets,
the rollup's sheets, `_status`/`_actuals` and any sheet of the official's own stay as they are.
The write is atomic and refused while the master is open in Excel/WPS.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path

from putuo_xl import layout
from putuo_xl.config import Config, load_config
from putuo_xl.text import in_script

# The sheets refresh_views rewrites (display names in the notice's script are added per plan).
HIDDEN_DERIVED = (layout.META_SHEET, layout.PLAN_SHEET, layout.TASKS_SHEET, layout.UNITS_SHEET)
VISIBLE_DERIVED = ("by_unit", "matrix", "indicators")


@dataclass
class RefreshResult:
    path: Path
    refreshed: bool
    script: str = "traditional"
    sheets: list[str] = field(default_factory=list)       # the sheets rewritten
    changes: str = ""                                      # what the edit changed (readback)
    added: list[str] = field(default_factory=list)         # task ids new since the last refresh
    deleted: list[str] = field(default_factory=list)
    unit: str | None = None                                # the unit the view shows
    seconds: float = 0.0

    def summary(self) -> str:
        T = lambda s: in_script(s, self.script)  # noqa: E731
        if not self.refreshed:
            return T("台賬的按單位查看、責任矩陣和考評指標已與章節表一致,不需要更新。")
        parts = [T("已按章節表中的修改更新台賬的") + "、".join(
            s for s in self.sheets if not s.startswith("_")) + T("(及隱藏的數據表)")]
        if self.added:
            parts.append(T("新增任務 ") + "、".join(self.added))
        if self.deleted:
            parts.append(T("刪除任務 ") + "、".join(self.deleted))
        if self.unit:
            parts.append(T("按單位查看仍顯示「") + self.unit + T("」"))
        return ";".join(parts) + T(f"({self.seconds:.1f} 秒)。")


def refresh_views(master_path: str | Path, config: Config | None = None, read=None,
                  force: bool = False) -> RefreshResult:
    """Rewrite `_plan`/`_tasks`/`_units`, 按單位查看 (keeping the selected unit), 責任矩陣,
    考評指標 and the `_meta` fingerprint of the master at `master_path` from its section sheets,
    if they changed since the last build/refresh (or `force`).

    `read` is a `readback.MasterRead` of the same file when the caller has one already.
    Raises FileBusyError when the master is open in Excel/WPS (nothing is written then), and
    readback's PlanEditError when the edit cannot be read.
    """
    from putuo_xl.locks import master_lock
    if not Path(master_path).is_file():
        return _refresh_views(master_path, config, read, force)
    with master_lock(master_path):       # one writer of the master at a time (masterlock.py)
        return _refresh_views(master_path, config, read, force)


def _refresh_views(master_path, config, read, force) -> RefreshResult:
    from putuo_xl.fileio import ensure_not_open
    from putuo_xl.workbook.master import _MasterWriter
    from putuo_xl.workbook.readback import read_master
    from putuo_xl.workbook.styles import load_styles
    from putuo_xl.workbook.surgery import replace_sheets

    t0 = time.perf_counter()
    path = Path(master_path)
    cfg = config or load_config()
    if read is None:
        read = read_master(path, cfg)
    plan = read.plan
    result = RefreshResult(path=path, refreshed=False, script=plan.script)
    same = (read.meta.get("plan_fingerprint") == plan.fingerprint()
            and read.meta.get("config_fingerprint", cfg.fingerprint()) == cfg.fingerprint())
    if same and not force:
        result.seconds = time.perf_counter() - t0
        return result
    ensure_not_open(path)                    # before any work: nothing to do if it is open
    selected = _selected_unit(path, plan.script, cfg)
    buf = io.BytesIO()
    writer = _MasterWriter(plan, cfg, load_styles(cfg), buf, selected_unit=selected)
    writer.write()
    visible = [layout.name(k, plan.script) for k in VISIBLE_DERIVED]
    sheets = visible + list(HIDDEN_DERIVED)
    replace_sheets(path, buf.getvalue(), sheets=sheets,
                   hidden={name: "hidden" for name in HIDDEN_DERIVED})
    base = _base_ids(read)
    now = [t.id for t in plan.tasks()]
    result.refreshed = True
    result.sheets = sheets
    result.changes = read.summary()
    result.added = [t for t in now if t not in base]
    result.deleted = [t for t in base if t not in set(now)]
    default = writer._default_unit()
    result.unit = in_script(default, plan.script) if default else None
    result.seconds = time.perf_counter() - t0
    return result


def _base_ids(read) -> list[str]:
    """The task ids the master's `_meta` lists (as of the last build/refresh), in order."""
    return [k[5:] for k in read.meta if k.startswith("task:")]


def _selected_unit(path: Path, script: str, cfg: Config) -> str | None:
    """The unit picked in 按單位查看 (B2), as the config names it; None if none or unknown."""
    from openpyxl import load_workbook

    from putuo_xl.workbook.master import VIEW_UNIT_CELL

    name = layout.name("by_unit", script)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:       # readback opened it a moment ago; a failure here only loses the pick
        return None
    try:
        if name not in wb.sheetnames:
            return None
        ws = wb[name]
        col = ord(VIEW_UNIT_CELL[0]) - 64
        row = int(VIEW_UNIT_CELL[1:])
        for r in ws.iter_rows(min_row=row, max_row=row, min_col=col, max_col=col, values_only=True):
            value = r[0] if r else None
            if value is None or str(value).strip() == "":
                return None
            return cfg.resolve(str(value).strip()) or str(value).strip()
        return None
    finally:
        wb.close()
