"""What a rollup gives: `Rollup`, the figures of the 工作報表 as pandas frames plus the 通報
texts and the hidden `_status` / `_actuals` rows, and `RollupResult`, a rollup written into a
master.

- `Rollup.sheet_layouts()` gives every report sheet laid out (`sheetlayout.SheetLayout`), what
  both the xlsxwriter writer (render.py) and the ribbon's xlwings writer write;
  `Rollup.sheet_values()` the same cells as 2-D lists of values, plus the hidden `_status` /
  `_actuals` rows. Both lay the sheets out through render.py, imported when called: render
  imports the rules, never this module nor the computing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from putuo_xl import layout
from putuo_xl.rollup.rules import RATE_BY_TASK, SUBMIT_NOT_DUE
from putuo_xl.text import in_script


@dataclass
class Rollup:
    """Everything the 工作報表 sheets show, for `month` and every earlier month in the ledger."""
    month: str
    months: list[str]                 # ascending, ends with `month`
    plan_title: str
    script: str
    district: str
    office: str
    status_columns: list[str]         # config status names, in column order
    status_colors: dict[str, str]
    monthly: pd.DataFrame             # by month × unit (+ 合計 rows)
    progress: pd.DataFrame            # by month × task
    indicators: pd.DataFrame          # by month × indicator
    scores: pd.DataFrame              # by month × unit, ranked
    trend: pd.DataFrame               # by month
    indicator_trend: pd.DataFrame     # by indicator, one column per month (actual values)
    indicator_ratio: pd.DataFrame     # by indicator, one column per month (達成度)
    bulletins: dict[str, str]         # month → 通報 text
    status_rows: list[list]           # _status rows (without header)
    actual_rows: list[list]           # _actuals rows (without header)
    settings: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    sample: bool = False              # this month's data in force is putuo-xl demo's sample returns
    sample_months: set = field(default_factory=set)   # months whose data in force is sample data
    # month → the 通報 as blocks (kind, text): what the 通報 sheet and the .docx lay out
    bulletin_blocks: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    unit_states: dict = field(default_factory=dict)   # month → unit → 按時報送 / 逾期報送 / …
    history: bool = True              # False: only `month`'s figures (compute_rollup(history=False))
    texts: dict = field(default_factory=dict)         # month → MonthTexts (compute_rollup(texts=True))

    def bulletin(self, month: str | None = None) -> str:
        return self.bulletins[month or self.month]

    # A field may be made on first use: `status_rows` is a row per task × unit (180,000 in a
    # province), which `collect --rollup` writes to the master from a forked process and never
    # needs in this one — making and freeing them here cost ~0.2 s at that scale.
    def _defer(self, name: str, make) -> None:
        self.__dict__.pop(name, None)
        self.__dict__.setdefault("_lazy", {})[name] = make

    def __getattr__(self, name: str):
        lazy = self.__dict__.get("_lazy")
        if lazy and name in lazy:
            value = lazy[name]()
            self.__dict__[name] = value
            lazy.pop(name, None)
            return value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getstate__(self):        # pickled (a spawned process): every field made
        for name in list(self.__dict__.get("_lazy") or ()):
            getattr(self, name)
        state = dict(self.__dict__)
        state.pop("_lazy", None)
        return state

    def t(self, s):
        return in_script(s, self.script) if isinstance(s, str) else s

    def sheet_values(self) -> dict[str, list[list]]:
        """{sheet name: 2-D list of values}: the cells `write_rollup` writes (title rows, legend,
        header, data, each at its place), and the hidden `_status` / `_actuals` tables with
        their headers."""
        out = {name: lay.grid() for name, lay in self.sheet_layouts().items()}
        out[layout.STATUS_SHEET] = [list(layout.STATUS_COLUMNS)] + [list(r) for r in self.status_rows]
        out[layout.ACTUALS_SHEET] = [list(layout.ACTUALS_COLUMNS)] + [list(r) for r in self.actual_rows]
        return out

    def grids(self) -> dict[str, "Grid"]:
        from putuo_xl.rollup.render import build_grids
        return build_grids(self)

    def sheet_layouts(self) -> dict[str, "SheetLayout"]:
        """{sheet name: SheetLayout} of the six report sheets, in order (see sheetlayout)."""
        from putuo_xl.rollup.render import sheet_layout
        out = {}
        for key, grid in self.grids().items():
            name = layout.name(key, self.script)
            out[name] = sheet_layout(grid, self, name)
        return out


@dataclass
class RollupResult:
    path: Path
    month: str
    months: list[str]
    rollup: Rollup
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)    # seconds: config_s, plan_s, compute_s, write_s

    def summary(self) -> str:
        r = self.rollup
        cur = r.trend[r.trend["月份"] == r.month].iloc[0]
        not_due = int(cur.get(SUBMIT_NOT_DUE, 0) or 0)
        return r.t(
            f"已匯總 {layout.month_label(r.month)}(共 {len(r.months)} 個月):應報 {int(cur['應報單位'])} 個單位,"
            f"按時 {int(cur['按時報送'])}、逾期 {int(cur['逾期報送'])}、未報 {int(cur['未報送'])}"
            + (f"、未到期 {not_due}" if not_due else "") + ";"
            f"{RATE_BY_TASK}(按任務) {cur[RATE_BY_TASK]:.1%},指標達標 {int(cur['已達標'])}/{int(cur['考評指標'])}。"
            f"已寫入 {self.path}")
