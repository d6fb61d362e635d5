"""The monthly 工作報表 from the ledger: 月度匯總 (by unit), 任務進展 (by task), 考評指標完成情況,
趨勢, 預評估 (score and ranking) and the 通報 text.

Computing and writing are separate:

- `compute_rollup(ledger, plan, config, month)` reads the ledger (one query per table) and
  returns a `Rollup`: pandas frames, deterministic for the same ledger, plan and config.
- `Rollup.sheet_layouts()` gives every report sheet laid out (`sheetlayout.SheetLayout`), what
  both the xlsxwriter writer below and the ribbon's xlwings writer write;
  `Rollup.sheet_values()` the same cells as 2-D lists of values, plus the hidden `_status` /
  `_actuals` rows.
- `write_rollup(master, rollup)` renders styled sheets with xlsxwriter and puts them into the
  master with `xlsxsurgery.replace_sheets`, so an official's own sheets, charts and pictures
  survive any number of refreshes.
- `rollup(master, month)` = both; `bulletin_text(master, month)` = just the 通報.

Every month in the ledger up to the requested one is reported, latest month first, in one
table per sheet with a 月份 column (see docs/rollup.md for why). The rollup never writes to
the ledger.
"""
from __future__ import annotations

import calendar
import gc
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd

from putuo_xl import layout
from putuo_xl.config import Config, Status, load_config
from putuo_xl.errors import InputError, PutuoError
from putuo_xl.plan.model import Indicator, Plan, Task
from putuo_xl.ledger.status import (LABELS as STATE_LABELS, LATE, MISSING, NOT_DUE, ON_TIME,
                                    change_note, day_label, ledger_status, month_word,
                                    rejection_notes, used_file)
from putuo_xl.text import in_script
from putuo_xl.plan.assignments import lead_label, task_roles

# -- vocabulary (traditional; rendered with in_script) --------------------------------------
CATEGORIES = ("done", "in_progress", "not_started", "lagging")
SEVERITY = {"done": 0, "in_progress": 1, "not_started": 2, "lagging": 3}
CAT_CODE = {"done": 0, "in_progress": 1, "not_started": 2, "lagging": 3}   # 4: no report
LIGHTS = {"green": "綠燈", "yellow": "黃燈", "red": "紅燈"}
LIGHT_MEANING = {"green": "已完成或按計劃推進", "yellow": "有風險或臨近完成時限",
                 "red": "滯後或已逾期"}
LIGHT_COLORS = {"green": "C6EFCE", "yellow": "FFEB9C", "red": "FFC7CE"}
SUBMIT_ON_TIME, SUBMIT_LATE, SUBMIT_MISSING, SUBMIT_NOT_DUE = "按時報送", "逾期報送", "未報送", "未到期"
SUBMIT_COLORS = {SUBMIT_ON_TIME: "C6EFCE", SUBMIT_LATE: "FFEB9C", SUBMIT_MISSING: "FFC7CE",
                 SUBMIT_NOT_DUE: "DDEBF7"}
RATE_BY_UNIT = "承擔任務完成率"      # 月度匯總: done ÷ tasks assigned, per unit (task × unit pairs)
RATE_BY_TASK = "任務完成率"          # 趨勢 / 通報 / CLI: tasks whose overall status is done ÷ tasks
NOT_REPORTED = "未填報"
MET, NOT_MET, NO_VALUE = "達標", "未達標", "未填報"
GRADES = {"good": "較好", "fair": "一般", "lagging": "滯後"}
OP_WORDS = {">=": "不低於", "<=": "不超過", "=": "等於"}
DEFAULT_LATE_CREDIT = 0.5


def _status_category(st: Status) -> str:
    if st.lagging:
        return "lagging"
    if st.done:
        return "done"
    if not st.started:
        return "not_started"
    return "in_progress"


def _month_end(month: str) -> date:
    y, m = (int(x) for x in month.split("-"))
    return date(y, m, calendar.monthrange(y, m)[1])


def _next_month(month: str) -> str:
    y, m = (int(x) for x in month.split("-"))
    return f"{y + m // 12}-{m % 12 + 1:02d}"


def check_month(month: str) -> str:
    """'2020-08' (also '2020-8', '2020/08', '202008') → '2020-08'; anything else is refused."""
    s = str(month or "").strip().replace("/", "-").replace(".", "-")
    if len(s) == 6 and s.isdigit():
        s = f"{s[:4]}-{s[4:]}"
    parts = s.split("-")
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit() and len(parts[0]) == 4 \
            and 1 <= int(parts[1]) <= 12:
        return f"{int(parts[0]):04d}-{int(parts[1]):02d}"
    raise PutuoError(f"月份「{month}」格式不對,請寫成 2020-08 這樣的年-月。", code="bad-month")


def _frame(rows: list, columns: list[str], numeric: tuple[str, ...] = ()) -> pd.DataFrame:
    """A DataFrame from row tuples with object columns for text (no pandas string dtype: it costs
    seconds at province scale) and float columns for `numeric`."""
    cols = list(zip(*rows)) if rows else [()] * len(columns)
    data = {}
    for name, values in zip(columns, cols):
        if name in numeric:   # numpy turns None into nan for a float array
            data[name] = np.array(values, dtype=float)
        else:   # a Series of dtype object: a bare object ndarray would be inferred as str
            data[name] = pd.Series(np.array(values, dtype=object), dtype=object)
    return pd.DataFrame(data, columns=columns)


def _short(text: str, limit: int = 36) -> str:
    """The first clause of a task's text: enough to recognise it in a one-line table."""
    cut = len(text)
    for sep in ",。;:,;":
        i = text.find(sep)
        if 6 <= i < cut:
            cut = i
    s = text[:cut]
    return s if len(s) <= limit else s[:limit - 1] + "…"


def _pct(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


# -- the result ----------------------------------------------------------------------------
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


# -- computing -------------------------------------------------------------------------------
def _config_number(cfg: Config, section: dict, where: str, key: str, default, *,
                   whole: bool = False):
    """A number from config.yaml (`where`.`key`), `default` when absent or empty; anything
    else that is not a number is a Chinese message naming the key."""
    raw = section.get(key, default)
    if raw is None or raw == "":
        raw = default
    try:
        if isinstance(raw, bool):
            raise TypeError
        value = float(raw)
        if whole:
            if not value.is_integer():
                raise ValueError
            return int(value)
        return value
    except (TypeError, ValueError, OverflowError):
        kind = "整數" if whole else "數字"
        raise PutuoError(f"config.yaml 的 {where}.{key} 應是{kind}(如 {default}),現在是「{raw}」。",
                         file=cfg.path, code="config") from None


class _Ctx:
    """Plan- and config-derived lookups shared by the per-month computations."""

    def __init__(self, plan: Plan, cfg: Config, month: str = ""):
        self.plan, self.cfg = plan, cfg
        self.tasks: list[Task] = plan.tasks()
        self.task_index = {t.id: t for t in self.tasks}
        self.task_order = {t.id: i for i, t in enumerate(self.tasks)}
        ro = cfg.section("rollup")
        self.overall_rule = str(ro.get("overall_status") or "lead")
        if self.overall_rule not in ("lead", "worst"):
            raise PutuoError(f"config.yaml 的 rollup.overall_status 應是 lead 或 worst,現在是「{self.overall_rule}」。",
                             file=cfg.path, code="config")
        self.group_rule = str(ro.get("overall_status_group") or "share")
        if self.group_rule not in ("share", "lead"):
            raise PutuoError(f"config.yaml 的 rollup.overall_status_group 應是 share 或 lead,"
                             f"現在是「{self.group_rule}」。", file=cfg.path, code="config")
        try:
            self.group_done_share = float(ro.get("group_done_share", 1.0))
            self.group_lagging_share = float(ro.get("group_lagging_share", 0.2))
        except (TypeError, ValueError):
            self.group_done_share = self.group_lagging_share = -1.0
        if not (0 < self.group_done_share <= 1 and 0 < self.group_lagging_share <= 1):
            raise PutuoError("config.yaml 的 rollup.group_done_share 和 rollup.group_lagging_share 應是"
                             " 0 到 1 之間的比例(如 1 和 0.2)。", file=cfg.path, code="config")
        self.near_days = _config_number(cfg, ro, "rollup", "near_deadline_days", 30, whole=True)
        self.good_rate = _config_number(cfg, ro, "rollup", "good_rate", 0.8)
        self.lagging_rate = _config_number(cfg, ro, "rollup", "lagging_rate", 0.4)
        self.top_n = _config_number(cfg, ro, "rollup", "top_n", 5, whole=True)
        self.bulletin_max_units = _config_number(cfg, ro, "rollup", "bulletin_max_units", 30,
                                                 whole=True)
        if self.bulletin_max_units < 1:
            raise PutuoError(f"config.yaml 的 rollup.bulletin_max_units 應是正整數(如 30),現在是"
                             f"「{self.bulletin_max_units}」。", file=cfg.path, code="config")
        sc = cfg.section("scoring")
        self.full_marks = _config_number(cfg, sc, "scoring", "full_marks", 100) or 100.0
        w = sc.get("weights") or {}
        if not isinstance(w, dict):
            raise PutuoError("config.yaml 的 scoring.weights 應寫成 completion、timeliness、indicators"
                             " 三項權重(如 completion: 0.5)。", file=cfg.path, code="config")
        self.weights = {k: _config_number(cfg, w, "scoring.weights", k, d) for k, d in
                        (("completion", 0.5), ("timeliness", 0.3), ("indicators", 0.2))}
        if sum(self.weights.values()) <= 0:
            raise PutuoError("config.yaml 的 scoring.weights 之和應大於 0。", file=cfg.path, code="config")
        self.late_credit = _config_number(cfg, sc, "scoring", "late_credit", DEFAULT_LATE_CREDIT)
        if not 0 <= self.late_credit <= 1 or any(v < 0 for v in self.weights.values()):
            raise PutuoError("config.yaml 的 scoring.late_credit 應在 0 到 1 之間,scoring.weights 不能為負數。",
                             file=cfg.path, code="config")
        # statuses
        self.statuses = list(cfg.statuses) or [
            Status("未啟動", started=False), Status("推進中"), Status("已完成", done=True),
            Status("滯後", lagging=True)]
        self.category = {s.name: _status_category(s) for s in self.statuses}
        self.status_columns = [s.name for c in CATEGORIES for s in self.statuses
                               if self.category[s.name] == c]
        self.status_colors = {s.name: s.color for s in self.statuses if s.color}
        # who does what: units.task_roles makes the decisions unit_assignments makes, as
        # tuples (no Assignment objects for a province's 180,000 task × unit pairs)
        roles_by_task = [(t.id, task_roles(t, cfg)) for t in self.tasks]
        seen: dict[str, None] = {}
        for _tid, roles in roles_by_task:
            seen.update(dict.fromkeys(roles))              # first appearance, in plan order
        cfg_order = {name: i for i, name in enumerate(cfg.units)}
        units = sorted(seen, key=lambda u: cfg_order.get(u, len(cfg_order)))
        unit_order = {u: i for i, u in enumerate(units)}
        self.unit_order = unit_order
        self.units = units
        rank = {"lead": 0, "responsible": 1, "co": 2}
        a_u: list[str] = []
        a_t: list[str] = []
        a_r: list[str] = []
        uo: list[int] = []
        tor: list[int] = []
        for ti, (tid, roles) in enumerate(roles_by_task):
            n = len(roles)
            a_u.extend(roles)
            a_t.extend([tid] * n)
            a_r.extend([r for r, _via in roles.values()])
            uo.extend(map(unit_order.__getitem__, roles))
            tor.extend([ti] * n)
        uo_a = np.array(uo, dtype=np.int64)
        tor_a = np.array(tor, dtype=np.int64)
        rk_a = np.array([rank[r] for r in a_r], dtype=np.int64)
        # in task order, and within a task lead, responsible, co units (then directory order):
        # each task is a contiguous slice of every per-assignment list computed from these
        order = np.lexsort((uo_a, rk_a, tor_a))
        idx = order.tolist()
        self.a_units: list[str] = [a_u[i] for i in idx]
        self.a_tasks: list[str] = [a_t[i] for i in idx]
        self.a_roles: list[str] = [a_r[i] for i in idx]
        self.a_unit = uo_a[order]               # unit index (directory order) per assignment
        self.a_torder = tor_a[order]
        self.a_nonco = rk_a[order] != 2
        self.task_slice: dict[str, tuple[int, int]] = {}
        self.task_units: dict[str, list[tuple[str, str]]] = {t.id: [] for t in self.tasks}
        self.slot: dict[str, dict[str, int]] = {}          # task → unit → assignment index
        start = 0
        for tid, roles in roles_by_task:
            end = start + len(roles)
            if end > start:
                self.task_slice[tid] = (self.task_slice.get(tid, (start, start))[0], end)
                self.task_units[tid].extend(zip(self.a_units[start:end], self.a_roles[start:end]))
                self.slot.setdefault(tid, {}).update(zip(self.a_units[start:end], range(start, end)))
            start = end
        self.leads = {}
        self.lead_idx: dict[str, list[int]] = {}           # assignment indices of the leads, in order
        self.has_lead_role: dict[str, bool] = {}
        # tasks judged by the share of their units (rollup.overall_status_group: share): no unit
        # named as lead (shared responsibility), or the lead units come through a group
        self.share_task: dict[str, bool] = {}
        for tid, roles in roles_by_task:
            vals = list(roles.values())
            leads_via = [via for r, via in vals if r == "lead"]
            self.share_task[tid] = self.group_rule == "share" and bool(vals) and (
                not leads_via or any(v is not None for v in leads_via))
        self.cat_status = {c: next((s for s in self.status_columns if self.category[s] == c), c)
                           for c in CATEGORIES}
        self.lead_labels = {t.id: lead_label(t, plan.script) for t in self.tasks}
        for tid, lst in self.task_units.items():
            leads = [u for u, r in lst if r == "lead"] or [u for u, r in lst if r == "responsible"]
            self.leads[tid] = leads or [u for u, _ in lst]
            slot = self.slot.get(tid, {})
            self.lead_idx[tid] = sorted(slot[u] for u in set(self.leads[tid]) if u in slot)
            self.has_lead_role[tid] = any(r == "lead" for _, r in lst)
        self.kind = {u: (cfg.units[u].kind if u in cfg.units else "") for u in self.units}
        self._aidx: dict | None = None

    def assignment_index(self) -> dict[tuple[str, str], int]:
        """(task id, unit) → assignment index."""
        if self._aidx is None:
            self._aidx = dict(zip(zip(self.a_tasks, self.a_units), range(len(self.a_units))))
        return self._aidx

    def cat(self, status) -> str | None:
        if status is None or (isinstance(status, float) and math.isnan(status)):
            return None
        return self.category.get(status, "in_progress")


def _read_ledger(ledger, month: str, stored: "StoredRows | None" = None):
    """One query per ledger table; only what a rollup up to `month` needs (plain tuples: the
    ledger's sqlite3.Row factory costs a third of the read at province scale). Who reported
    when is read by status.ledger_status (see _compute_rollup). `stored`: the report rows this
    connection's transaction inserted (collect), taken as they are instead of read back."""
    conn = ledger.conn.cursor()
    conn.row_factory = None
    # the months with anything to report: forms issued, forms accepted, files rejected in a run
    months = {r[0] for r in conn.execute(
        "SELECT DISTINCT month FROM issued WHERE month <= ? UNION "
        "SELECT DISTINCT CASE WHEN status = 'accepted' THEN month ELSE COALESCE(collect_month, month) END "
        "FROM submissions WHERE (CASE WHEN status = 'accepted' THEN month "
        "ELSE COALESCE(collect_month, month) END) <= ?", (month, month)) if r[0]}
    # the rows of the submissions in force, read by a scan (the month index would make SQLite
    # visit the table row by row in index order: twice as slow at province scale); the day a
    # report arrived comes from its submission
    received = dict(conn.execute(
        "SELECT id, substr(received_at, 1, 10) FROM submissions "
        "WHERE status = 'accepted' AND superseded_by IS NULL"))
    query = ("SELECT r.submission_id, r.unit, r.month, r.task_id, r.status, r.progress "
             "FROM reports r NOT INDEXED WHERE r.submission_id IN (SELECT id FROM submissions "
             "WHERE status = 'accepted' AND superseded_by IS NULL) AND r.month <= ? "
             "AND (r.status IS NOT NULL OR r.progress IS NOT NULL)")
    if stored is None:
        reports = conn.execute(query, (month,)).fetchall()
    else:
        # the rows stored before this run, then this run's (inserted after them: the order of a
        # scan), filtered as the query filters them
        reports = conn.execute(query + " AND r.rowid <= ?", (month, stored.before)).fetchall()
        reports += [(r[0], r[1], r[2], r[3], r[5], r[6]) for r in stored.rows
                    if r[0] in received and r[2] <= month and (r[5] is not None or r[6] is not None)]
    reports = (reports, received)
    actuals = _frame(conn.execute(
        "SELECT a.unit, a.month, a.indicator_id, a.value FROM actuals a "
        "JOIN submissions s ON s.id = a.submission_id "
        "WHERE s.status = 'accepted' AND s.superseded_by IS NULL AND a.month <= ?", (month,)).fetchall(),
        ["unit", "month", "indicator_id", "value"], numeric=("value",))
    # when each month's 通報 first went out by mail (the send log): what arrived after it changed
    # figures an official may already have read
    sent = dict(conn.execute("SELECT month, MIN(at) FROM sends WHERE kind = 'bulletin' AND "
                             "status = 'sent' AND month <= ? GROUP BY month", (month,)))
    return months, reports, actuals, sent


def compute_rollup(ledger, plan: Plan, config: Config, month: str,
                   prepared: "PreparedRollup | None" = None, *, today: date | None = None,
                   stored: "StoredRows | None" = None) -> Rollup:
    """The 工作報表 for `month` and every earlier month in the ledger (see module doc).
    `prepared`: `prepare_rollup(plan, config)` done ahead (e.g. while forms are collected).
    `today` (default: today): due dates not yet passed make a unit 未到期, not 未報送.
    `stored`: the report rows inserted in the ledger's open transaction (see StoredRows).
    Refused (InputError) for a month with no forms issued and nothing received."""
    with _no_gc():
        return _compute_rollup(ledger, plan, config, month, prepared, today=today, stored=stored)


@dataclass
class StoredRows:
    """The rows of `reports` that collect inserted in the ledger's open transaction, as it
    inserted them — (submission_id, unit, month, task_id, role, status, progress, …) in insert
    order — and the largest rowid the table had before (0: none): the rollup takes them as
    they are instead of reading them back (the same rows, in the same order)."""
    before: int
    rows: list


class PreparedRollup:
    """What the rollup derives from the plan and the config alone (who does what: at province
    scale 180,000 task × unit assignments), made before the ledger is read."""

    def __init__(self, plan: Plan, config: Config):
        with _no_gc():
            self.plan, self.config = plan, config
            self.ctx = _Ctx(plan, config, "")
            self.ctx.assignment_index()     # (task, unit) → index: made now, not when computing


def prepare_rollup(plan: Plan, config: Config) -> PreparedRollup:
    return PreparedRollup(plan, config)


@contextmanager
def _no_gc():
    """The cyclic garbage collector off for one short computation: with a plan, pandas and
    hundreds of thousands of small tuples alive, its full passes cost more than the work."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _compute_rollup(ledger, plan: Plan, config: Config, month: str,
                    prepared: PreparedRollup | None = None, today: date | None = None,
                    stored: StoredRows | None = None) -> Rollup:
    month = check_month(month)
    cfg = config
    if prepared is not None and prepared.plan is plan and prepared.config is config:
        ctx = prepared.ctx
    else:
        ctx = _Ctx(plan, cfg, month)
    have, reports, actuals, sent = _read_ledger(ledger, month, stored)
    months = sorted(have | {month})
    warnings: list[str] = []
    # each unit's reporting, month by month: status.ledger_status, the rule collect and mail use
    statuses = ledger_status(ledger, months, cfg, today=today or date.today(),
                             fallback_units=ctx.units, order=ctx.unit_order)
    if month not in have:
        label = layout.month_label(month)
        raise InputError(
            f"台賬中沒有{label}的記錄:沒有下發過{label}的月報,也沒有收到過{label}的回報,"
            f"無從匯總。請先用 putuo-xl forms 總表 --month {month} 生成並下發月報,"
            f"收到回報後用 putuo-xl collect 收集,再匯總;或者檢查月份是否寫錯。",
            code="empty-month")
    sample_months = {m for m in months if statuses[m].sample}
    # keep only rows the current plan knows: a unit's report on a task it is not assigned
    # to (an old plan, a hand-edited form) is not counted
    reports = _Reports(ctx, reports)
    if reports.dropped:
        warnings.append(f"有 {reports.dropped} 行填報的任務不在當前台賬的該單位任務中,未計入。")
    actuals = actuals.sort_values(["month", "unit", "indicator_id"], kind="stable")

    per_month = {}
    for m in months:
        per_month[m] = _compute_month(ctx, m, months, statuses, reports, actuals, sent.get(m))

    scores = pd.concat([per_month[m]["scores"] for m in reversed(months)], ignore_index=True)
    monthly = pd.concat([per_month[m]["monthly"] for m in reversed(months)], ignore_index=True)
    progress = pd.concat([per_month[m]["progress"] for m in reversed(months)], ignore_index=True)
    indicators = pd.concat([per_month[m]["indicators"] for m in reversed(months)], ignore_index=True)
    trend = pd.DataFrame([per_month[m]["trend"] for m in months])
    ind_trend, ind_ratio = _indicator_trend(ctx, months, indicators)

    r = Rollup(month=month, months=months, plan_title=plan.title, script=plan.script,
               district=cfg.district, office=cfg.office, status_columns=ctx.status_columns,
               status_colors=ctx.status_colors, monthly=monthly, progress=progress,
               indicators=indicators, scores=scores, trend=trend, indicator_trend=ind_trend,
               indicator_ratio=ind_ratio, bulletins={}, status_rows=[], actual_rows=[],
               settings={"overall_status": ctx.overall_rule, "near_deadline_days": ctx.near_days,
                         "weights": ctx.weights, "full_marks": ctx.full_marks,
                         "late_credit": ctx.late_credit, "good_rate": ctx.good_rate,
                         "overall_status_group": ctx.group_rule,
                         "group_done_share": ctx.group_done_share,
                         "group_lagging_share": ctx.group_lagging_share,
                         "lagging_rate": ctx.lagging_rate, "top_n": ctx.top_n,
                         "bulletin_max_units": ctx.bulletin_max_units},
               warnings=warnings, sample=month in sample_months, sample_months=sample_months)
    for m in months:
        r.bulletins[m] = _bulletin(ctx, r, m, per_month[m], plan)
    # made on first use from what they need only (not the whole context: its 180,000-key
    # assignment index would stay alive with the result)
    need = _StatusInputs(ctx.tasks, ctx.near_days)
    cur = {k: per_month[month][k] for k in ("month", "task_status", "state")}
    r._defer("status_rows", lambda: _status_rows(need, cur))
    r.actual_rows = _actual_rows(ctx, months, per_month)
    return r


class _Reports:
    """The ledger's report rows as arrays over the plan's task × unit assignments: assignment
    index, month (as a rank: comparisons as between the month strings), status, progress, the
    day the report arrived."""

    def __init__(self, ctx: _Ctx, rows_and_received):
        rows, received = rows_and_received
        sids, units, months, tasks, status, prog = (list(c) for c in zip(*rows)) if rows else \
            ([], [], [], [], [], [])
        recv = list(map(received.__getitem__, sids))
        idx = np.array(list(map(ctx.assignment_index().get, zip(tasks, units), repeat(-1))),
                       dtype=np.int64)
        keep = idx >= 0
        self.dropped = int(len(idx) - keep.sum())
        self.n_assign = len(ctx.a_units)
        self.idx = idx[keep]
        names = sorted(set(months))
        self.rank = {m: i for i, m in enumerate(names)}
        self.names = names
        self.month = np.array(list(map(self.rank.__getitem__, months)), dtype=np.int64)[keep]
        self.status = np.array(status, dtype=object).reshape(-1)[keep]
        self.has_status = np.not_equal(self.status, None).astype(bool)
        self.progress = np.array(prog, dtype=float).reshape(-1)[keep]       # None → nan
        self.has_progress = ~np.isnan(self.progress)
        self.received = np.array(recv, dtype=object).reshape(-1)[keep]

    def upto(self, m: str) -> np.ndarray:
        """Rows of months ≤ m."""
        import bisect
        k = bisect.bisect_right(self.names, m)          # ranks below k are months ≤ m
        return self.month < k

    def latest(self, rows: np.ndarray) -> np.ndarray:
        """Per assignment, the row (of the boolean mask `rows`) of the latest month, -1 if none;
        among rows of the same month the one read last (as a stable sort + keep last)."""
        out = np.full(self.n_assign, -1, dtype=np.int64)
        sel = np.nonzero(rows)[0]
        if not len(sel):
            return out
        o = np.lexsort((sel, self.month[sel], self.idx[sel]))
        s = sel[o]
        ids = self.idx[s]
        last = np.ones(len(s), dtype=bool)
        last[:-1] = ids[1:] != ids[:-1]
        out[ids[last]] = s[last]
        return out


@dataclass
class _State:
    """Every task × unit assignment as of a month (lists in assignment order)."""
    unit: list
    task_id: list
    status: list          # status name, None if never reported
    cat: list             # done | in_progress | not_started | lagging, None
    progress: list        # 0..1, None
    received: list        # 'YYYY-MM-DD' the status report arrived, None
    c_code: np.ndarray    # CAT_CODE of cat, 4 for None
    uorder: np.ndarray
    torder: np.ndarray


def _latest(frame: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """Per `keys`, the row of the latest month with a non-blank `value` (frame sorted by month)."""
    f = frame[frame[value].notna()]
    return f.drop_duplicates(keys, keep="last")


def _compute_month(ctx: _Ctx, m: str, months, statuses, reports, actuals, sent_at=None) -> dict:
    as_of = _month_end(m)
    # -- state of every task × unit as of m (latest report up to m) -------------------------
    upto = reports.upto(m)
    st_row = reports.latest(upto & reports.has_status)
    pg_row = reports.latest(upto & reports.has_progress)
    n = reports.n_assign
    has = st_row >= 0
    S_a = np.full(n, None, dtype=object)
    S_a[has] = reports.status[st_row[has]]
    RC_a = np.full(n, None, dtype=object)
    RC_a[has] = reports.received[st_row[has]]
    PG_a = np.full(n, np.nan)
    hp = pg_row >= 0
    PG_a[hp] = reports.progress[pg_row[hp]]
    S = S_a.tolist()
    RC = RC_a.tolist()
    PG = [None if p != p else p for p in PG_a.tolist()]
    # a status carried from an earlier month (the unit did not report it for m): its month
    m_rank = reports.rank.get(m, -1)
    SM = np.full(n, m_rank, dtype=np.int64)
    SM[has] = reports.month[st_row[has]]
    carried_idx = np.nonzero(SM != m_rank)[0]
    CM = dict(zip(carried_idx.tolist(), (reports.names[i] for i in SM[carried_idx].tolist())))
    catmap = ctx.category
    cat_of = {x: (catmap.get(x, "in_progress") if x.__class__ is str else None) for x in set(S)}
    C = list(map(cat_of.__getitem__, S))
    now = (reports.month == reports.rank[m]) & reports.has_status if m in reports.rank else \
        np.zeros(len(reports.month), dtype=bool)
    per_unit = np.bincount(ctx.a_unit[reports.idx[now]], minlength=len(ctx.units))
    reported_now = {ctx.units[i]: int(c) for i, c in enumerate(per_unit.tolist()) if c}

    # -- who reported for m: status.ledger_status (the rule collect and mail use) -------------
    ms = statuses[m]
    scope = ms.in_scope()
    exp_units = [um.unit for um in scope]
    sub_state = {um.unit: STATE_LABELS[um.state] for um in scope}
    # units whose latest word for m was a rejected file (the 通報 says so under 晾曬)
    rej_reason = {um.unit: (um.later_rejections[-1].reason or "") for um in scope
                  if not um.reported and um.later_rejections}
    # what arrived after m's 通報 went out by mail (the send log)
    after_bulletin = set()
    if sent_at:
        for um in scope:
            if um.in_force is not None and um.in_force.collected_at > sent_at:
                after_bulletin.add(um.unit)

    # -- 月度匯總 ------------------------------------------------------------------------------
    nu = len(ctx.units)
    scol = {name: i for i, name in enumerate(ctx.status_columns)}
    ns = len(scol)
    code_of = {x: (scol.get(x, ns) if x.__class__ is str else ns) for x in cat_of}
    s_code = np.fromiter(map(code_of.__getitem__, S), dtype=np.int64, count=len(S))
    by_status = np.bincount(ctx.a_unit * (ns + 1) + s_code, minlength=nu * (ns + 1)).reshape(nu, ns + 1)
    c_code = np.fromiter(map(CAT_CODE.get, C, repeat(4)), dtype=np.int64, count=len(C))
    by_cat = np.bincount(ctx.a_unit * 5 + c_code, minlength=nu * 5).reshape(nu, 5)
    n_tasks = np.bincount(ctx.a_unit, minlength=nu)
    n_lead = np.bincount(ctx.a_unit[ctx.a_nonco], minlength=nu)
    carried_months: dict[str, set] = {}
    for k, cm in CM.items():
        carried_months.setdefault(ctx.a_units[k], set()).add(cm)

    rows = []
    for i, um in enumerate(scope, 1):
        u = um.unit
        ui = ctx.unit_order.get(u)
        if ui is None:      # reported but has no task in the current plan
            total, lead_n, counts, done = 0, 0, {s: 0 for s in ctx.status_columns}, 0
        else:
            total, lead_n = int(n_tasks[ui]), int(n_lead[ui])
            row_counts = by_status[ui]
            counts = {s: int(row_counts[j]) for s, j in scol.items()}
            done = int(by_cat[ui][0])
        note = rejection_notes(um)
        if u in carried_months:
            words = "、".join(month_word(x) for x in sorted(carried_months[u]))
            if not um.reported:
                note.append(f"本月未報,狀態沿用{words}填報")
            else:
                note.append(f"本月未填的任務狀態沿用{words}填報")
        if um.state == NOT_DUE:
            note.insert(0, f"未到報送截止日期({um.due.month}月{um.due.day}日)")
        change = change_note(um)
        if change:
            note.append(change)
        if u in after_bulletin:
            note.append(f"{month_word(m)}通報({day_label(sent_at)}發出)之後收到,{month_word(m)}數據已更新")
        rows.append({
            "月份": m, "序號": i, "單位": u, "類別": ctx.kind.get(u, ""),
            "承擔任務": total, "牽頭/責任": lead_n, "配合": total - lead_n,
            "本月填報": reported_now.get(u, 0), **counts, NOT_REPORTED: total - sum(counts.values()),
            RATE_BY_UNIT: (done / total) if total else None,
            "報送情況": sub_state[u],
            "報送日期": um.in_force.day if um.in_force is not None else "",
            "採用文件": used_file(um),
            "備註": ";".join(note)})
    monthly = pd.DataFrame(rows)
    if len(monthly):
        tot = {"月份": m, "序號": None, "單位": "合計", "類別": ""}
        for c in ["承擔任務", "牽頭/責任", "配合", "本月填報", *ctx.status_columns, NOT_REPORTED]:
            tot[c] = int(monthly[c].sum())
        done_all = int(sum(monthly[s].sum() for s in ctx.status_columns if ctx.category[s] == "done"))
        tot[RATE_BY_UNIT] = done_all / tot["承擔任務"] if tot["承擔任務"] else None
        vc = monthly["報送情況"].value_counts()
        tot["報送情況"] = "、".join(f"{k[:2]}{int(vc.get(k, 0))}" for k in
                                (SUBMIT_ON_TIME, SUBMIT_LATE, SUBMIT_MISSING)) + (
            f"、未到期{int(vc.get(SUBMIT_NOT_DUE, 0))}" if vc.get(SUBMIT_NOT_DUE, 0) else "")
        tot["報送日期"] = ""
        tot["採用文件"] = ""
        tot["備註"] = ""
        monthly = pd.concat([monthly, pd.DataFrame([tot])], ignore_index=True)

    # -- 任務進展 -------------------------------------------------------------------------------
    U = ctx.a_units
    prow = []
    task_status = {}

    def mark(k: int) -> str:
        """A unit's name, with the month its status was carried from."""
        cm = CM.get(k)
        return U[k] if cm is None else f"{U[k]}(沿用{month_word(cm)}填報)"

    for task in ctx.tasks:
        a, b = ctx.task_slice.get(task.id, (0, 0))
        n_units = b - a
        cc = c_code[a:b]
        cnt = np.bincount(cc, minlength=5).tolist()
        lead_known, lead_missing = [], []
        for k in ctx.lead_idx.get(task.id, ()):
            if C[k] is None:
                lead_missing.append(U[k])
            else:
                lead_known.append((S[k], C[k], PG[k], k))
        known = cc[cc < 4]
        if len(known):     # the worst known status: the first of the highest category
            k = a + int(np.argmax(cc == known.max()))
            worst_all = (S[k], C[k], PG[k], k)
        else:
            worst_all = None
        pv = PG_a[a:b]
        progs = pv[~np.isnan(pv)].tolist()

        def names(code):
            return [mark(k) for k in (np.nonzero(cc == code)[0] + a).tolist()]

        def worst(xs):
            return max(xs, key=lambda x: SEVERITY[x[1]]) if xs else None

        share = ctx.share_task.get(task.id, False)
        reasons = []
        days_left = (date.fromisoformat(task.deadline) - as_of).days if task.deadline else None
        if share:
            # judged by the share of its units (see docs/rollup.md): all (group_done_share) done
            # → 已完成; at least group_lagging_share lagging → 滯後; else 推進中 (未啟動 while
            # every unit that reported has not started)
            idx = ctx.lead_idx.get(task.id, ())
            n_sh = len(idx)
            cats = [C[k] for k in idx]
            n_done = cats.count("done")
            n_lag = cats.count("lagging")
            n_unk = cats.count(None)
            n_known = n_sh - n_unk
            if n_sh and n_done / n_sh >= ctx.group_done_share - 1e-9:
                ocat = "done"
            elif n_sh and n_lag / n_sh >= ctx.group_lagging_share - 1e-9:
                ocat = "lagging"
            elif n_known and cats.count("not_started") == n_known:
                ocat = "not_started"
            elif n_known:
                ocat = "in_progress"
            else:
                ocat = None
            overall = ctx.cat_status[ocat] if ocat else None
            # 完成進度: the mean over the units that reported one (已完成 counts 100%)
            vals = [1.0 if C[k] == "done" else PG[k] for k in idx
                    if C[k] == "done" or PG[k] is not None]
            progress = (sum(vals) / len(vals)) if vals else None
            share_text = f"{n_done}/{n_sh} 已完成"
            if n_lag:
                share_text += f"、{n_lag}/{n_sh} 滯後"
            if n_unk:
                share_text += f"、{n_unk}/{n_sh} 未填報"
            lead_status = overall or NOT_REPORTED
        else:
            if ctx.overall_rule == "lead" and lead_known:
                ov = worst(lead_known)
            else:
                ov = worst_all
            overall, ocat = (ov[0], ov[1]) if ov else (None, None)
            lead_progs = [x[2] for x in lead_known if x[2] is not None]
            if ctx.overall_rule == "lead" and lead_progs:
                progress = min(lead_progs)
            elif progs:
                progress = min(progs) if ctx.overall_rule == "worst" else sum(progs) / len(progs)
            else:
                progress = None
            lead_worst = worst(lead_known)
            lead_status = lead_worst[0] if lead_worst else NOT_REPORTED
            if lead_worst is not None and lead_worst[3] in CM:
                reasons.append(f"牽頭單位狀態沿用{month_word(CM[lead_worst[3]])}填報")
        if ocat == "done":
            progress = max(progress or 0.0, 1.0) if progress is not None else 1.0
        # traffic light
        if ocat == "lagging":
            light = "red"
            reasons.insert(0, "總體滯後")
        elif days_left is not None and days_left < 0 and ocat != "done":
            light = "red"
            reasons.insert(0, f"已超過完成時限{-days_left}天")
        elif ocat == "done":
            light = "green"
        else:
            light = "green"
            if days_left is not None and days_left <= ctx.near_days:
                light = "yellow"
                reasons.append(f"距完成時限{days_left}天")
            if cnt[3]:
                light = "yellow"
                reasons.append("有單位滯後")
            if share:
                if n_sh and n_unk / n_sh >= ctx.group_lagging_share - 1e-9:
                    light = "yellow"
                    reasons.append(f"{n_unk}/{n_sh}個責任單位未填報")
            elif lead_missing and n_units > 0:
                light = "yellow"
                reasons.append("牽頭單位未填報" if ctx.has_lead_role[task.id] else "責任單位未填報")
        if share:
            reasons.insert(0, f"按單位比例:{share_text}")
        detail = []
        for label, code in (("滯後", 3), ("未啟動", 2), ("未填報", 4)):
            if cnt[code]:
                detail.append(f"{label}:{'、'.join(names(code))}")
        prow.append({
            "月份": m, "任務編號": task.id, "工作任務": _short(task.text),
            "完成時限": task.deadline or ("經常性工作" if task.recurring else ""),
            "牽頭單位": ctx.lead_labels[task.id], "牽頭單位狀態": lead_status, "單位數": n_units,
            "已完成": cnt[0], "推進中": cnt[1], "未啟動": cnt[2],
            "滯後": cnt[3], NOT_REPORTED: cnt[4],
            "完成進度": progress, "總體狀態": overall or NOT_REPORTED, "預警": LIGHTS[light],
            "說明": ";".join(reasons + detail)})
        task_status[task.id] = {"status": overall, "cat": ocat, "progress": progress,
                                "light": light, "last_report": max(
                                    (x for x in RC[a:b] if x.__class__ is str), default="")}
    progress_df = pd.DataFrame(prow)

    # -- 考評指標完成情況 ----------------------------------------------------------------------------
    act = actuals[actuals["month"] <= m]
    act_latest = act.drop_duplicates(["unit", "indicator_id"], keep="last")
    act_map = {(u, i): (v, mm) for u, i, v, mm in zip(
        act_latest["unit"], act_latest["indicator_id"], act_latest["value"], act_latest["month"])}
    irow = []
    ind_values, ind_month = {}, {}
    for task, ind in ctx.plan.indicators():
        choice = None
        order = list(ctx.leads[task.id]) + [u for u, _ in ctx.task_units[task.id]
                                            if u not in ctx.leads[task.id]]
        for u in order:
            if (u, ind.id) in act_map:
                choice = (u, *act_map[(u, ind.id)])
                break
        value = float(choice[1]) if choice else None
        ok = ind.met(value)
        gap = None
        if value is not None and not ok:
            gap = round(abs(value - ind.value), 4)
        irow.append({
            "月份": m, "指標編號": ind.id, "任務編號": task.id, "指標名稱": ind.name or ind.text,
            "目標": ind.text, "方向": OP_WORDS.get(ind.op, ind.op), "目標值": ind.value,
            "計量單位": ind.unit, "實際值": value, "填報單位": choice[0] if choice else "",
            "數據月份": choice[2] if choice else "",
            "是否達標": NO_VALUE if ok is None else (MET if ok else NOT_MET), "差距": gap})
        ind_values[ind.id] = (value, ok, choice[0] if choice else "")
        this = next(((u, *act_map[(u, ind.id)]) for u in order
                     if (u, ind.id) in act_map and act_map[(u, ind.id)][1] == m), None)
        ind_month[ind.id] = ((float(this[1]), ind.met(float(this[1])), this[0]) if this
                             else (None, None, ""))
    ind_df = pd.DataFrame(irow, columns=["月份", "指標編號", "任務編號", "指標名稱", "目標", "方向",
                                         "目標值", "計量單位", "實際值", "填報單位", "數據月份",
                                         "是否達標", "差距"])

    # -- 預評估 ----------------------------------------------------------------------------------
    # task credit for 任務推進: 已完成 1, 推進中 its reported progress (0.5 when left blank),
    # anything else 0 — so that units whose tasks are all "in progress" still differ
    credit = np.where(c_code == 0, 1.0,
                      np.where(c_code == 1, np.where(np.isnan(PG_a), 0.5, np.clip(PG_a, 0.0, 1.0)), 0.0))
    credit_sum = np.bincount(ctx.a_unit, weights=credit, minlength=nu)
    score_df = _scores(ctx, m, months, by_cat, n_tasks, credit_sum, statuses, act_map,
                       exp_units, sub_state)

    # -- trend row --------------------------------------------------------------------------
    n_exp = len(exp_units)
    cats_all = [ts["cat"] for ts in task_status.values()]
    n_t = len(ctx.tasks)
    n_done = sum(c == "done" for c in cats_all)
    vals = list(ind_values.values())
    vc = pd.Series([sub_state[u] for u in exp_units], dtype=object).value_counts()
    trend = {
        "月份": m, "應報單位": n_exp, "按時報送": int(vc.get(SUBMIT_ON_TIME, 0)),
        "逾期報送": int(vc.get(SUBMIT_LATE, 0)), "未報送": int(vc.get(SUBMIT_MISSING, 0)),
        SUBMIT_NOT_DUE: int(vc.get(SUBMIT_NOT_DUE, 0)),
        # over the units whose due date has passed (or that have reported)
        "按時報送率": (int(vc.get(SUBMIT_ON_TIME, 0)) / (n_exp - int(vc.get(SUBMIT_NOT_DUE, 0))))
        if n_exp - int(vc.get(SUBMIT_NOT_DUE, 0)) else None,
        "任務總數": n_t, "已完成": n_done,
        "推進中": sum(c == "in_progress" for c in cats_all),
        "未啟動": sum(c == "not_started" for c in cats_all),
        "滯後": sum(c == "lagging" for c in cats_all),
        NOT_REPORTED: sum(c is None for c in cats_all),
        RATE_BY_TASK: n_done / n_t if n_t else None,
        "考評指標": len(vals), "已達標": sum(v[1] is True for v in vals),
        "未達標": sum(v[1] is False for v in vals), "指標未填報": sum(v[1] is None for v in vals),
        "指標達標率": (sum(v[1] is True for v in vals) / len(vals)) if vals else None,
        "平均得分": float(score_df["總分"].mean()) if len(score_df) else None,
    }
    return {"monthly": monthly, "progress": progress_df, "indicators": ind_df, "scores": score_df,
            "trend": trend, "task_status": task_status, "ind_values": ind_values,
            "state": _State(U, ctx.a_tasks, S, C, PG, RC, c_code, ctx.a_unit, ctx.a_torder),
            "ind_month": ind_month, "month": m,
            "sub_state": sub_state, "exp_units": exp_units, "rej_reason": rej_reason,
            "carried": CM, "status": ms, "sent_at": sent_at, "after_bulletin": after_bulletin}


def _scores(ctx: _Ctx, m, months, by_cat, n_tasks, credit_sum, statuses, act_map, exp_units,
            sub_state) -> pd.DataFrame:
    """預評估: completion (own tasks: 已完成 1, 推進中 its reported progress), timeliness (every month up to m the unit
    was expected: on time 1, late `late_credit`, missing 0; a month not yet due is not counted —
    status.ledger_status decides) and indicators met (targets of tasks
    the unit leads or is responsible for); weights from config, renormalised over the parts that
    apply to a unit (a unit without indicators is scored on the other two)."""
    w = ctx.weights
    # per unit, from the category counts: 0 done, 1 in progress, 2 not started, 3 lagging
    bc, cs, nt = by_cat.tolist(), credit_sum.tolist(), n_tasks.tolist()
    comp_sum = {u: bc[i][0] + bc[i][1] for u, i in ctx.unit_order.items()}
    credit = {u: float(cs[i]) for u, i in ctx.unit_order.items()}
    comp_size = {u: nt[i] for u, i in ctx.unit_order.items()}
    done = {u: bc[i][0] for u, i in ctx.unit_order.items()}
    lag = {u: bc[i][3] for u, i in ctx.unit_order.items()}
    # timeliness over months ≤ m
    past = [x for x in months if x <= m]
    slot = {ON_TIME: 0, LATE: 1, MISSING: 2}
    tl = {}
    for x in past:
        for um in statuses[x].in_scope():
            k = slot.get(um.state)
            if k is None:                     # not yet due: not counted
                continue
            tl.setdefault(um.unit, [0, 0, 0])[k] += 1   # on time, late, missing
    # indicators of tasks the unit leads / is responsible for
    own_inds: dict[str, list[Indicator]] = {}
    for task, ind in ctx.plan.indicators():
        for u, role in ctx.task_units[task.id]:
            if role != "co":
                own_inds.setdefault(u, []).append(ind)
    rows = []
    for u in exp_units:
        n = int(comp_size.get(u, 0))
        c_share = (credit.get(u, 0.0) / n) if n else None
        on, late, miss = tl.get(u, [0, 0, 0])
        n_exp = on + late + miss
        t_share = (on + ctx.late_credit * late) / n_exp if n_exp else None
        inds = own_inds.get(u, [])
        met = sum(1 for ind in inds if ind.met(act_map[(u, ind.id)][0] if (u, ind.id) in act_map else None))
        i_share = met / len(inds) if inds else None
        parts = {"completion": c_share, "timeliness": t_share, "indicators": i_share}
        wsum = sum(w[k] for k, v in parts.items() if v is not None)
        pts = {k: (ctx.full_marks * w[k] * v / wsum if (v is not None and wsum) else None)
               for k, v in parts.items()}
        # the total is the sum of the shown (rounded) parts, so the row adds up on paper
        total = _round(sum(_round(v) for v in pts.values() if v is not None)) if wsum else 0.0
        rows.append({"月份": m, "排名": None, "單位": u, "類別": ctx.kind.get(u, ""),
                     "任務推進得分": _round(pts["completion"]), "報送及時得分": _round(pts["timeliness"]),
                     "指標達標得分": _round(pts["indicators"]), "總分": total, "等次": "",
                     "承擔任務": n, "已完成": int(done.get(u, 0)),
                     "完成或推進中": int(comp_sum.get(u, 0)), "滯後": int(lag.get(u, 0)),
                     "應報次數": n_exp, "按時": on, "逾期": late, "未報": miss,
                     "涉及指標": len(inds), "達標指標": met, "本月報送": sub_state.get(u, ""),
                     "_order": ctx.unit_order.get(u, len(ctx.unit_order)),
                     "_completion": c_share})
    df = pd.DataFrame(rows)
    if not len(df):
        return df
    df["排名"] = df["總分"].rank(method="min", ascending=False).astype(int)
    fm = ctx.full_marks
    df["等次"] = np.where(df["總分"] >= ctx.good_rate * fm, GRADES["good"],
                        np.where(df["總分"] < ctx.lagging_rate * fm, GRADES["lagging"], GRADES["fair"]))
    df = df.sort_values(["排名", "_order", "單位"], kind="stable").reset_index(drop=True)
    return df


def _round(x):
    """One decimal, half up (31.25 → 31.3), as people round scores by hand."""
    if x is None:
        return None
    return _round_repr(repr(float(x)))


@lru_cache(maxsize=65536)
def _round_repr(x: str) -> float:
    return float(Decimal(x).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _indicator_trend(ctx: _Ctx, months, indicators: pd.DataFrame):
    rows, ratios = [], []
    pivot = {(a, b): v for a, b, v in zip(indicators["指標編號"], indicators["月份"], indicators["實際值"])}
    for task, ind in ctx.plan.indicators():
        base = {"指標編號": ind.id, "指標名稱": ind.name or ind.text, "目標": ind.text}
        row, ratio = dict(base), dict(base)
        for m in months:
            v = pivot.get((ind.id, m))
            v = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            row[m] = v
            ratio[m] = _achievement(ind, v)
        rows.append(row)
        ratios.append(ratio)
    cols = ["指標編號", "指標名稱", "目標", *months]
    return pd.DataFrame(rows, columns=cols), pd.DataFrame(ratios, columns=cols)


def _achievement(ind: Indicator, v: float | None) -> float | None:
    """達成度: actual / target for 'at least' targets, target / actual for 'at most' targets;
    1.0 and above means met (capped at 1.5 so one figure does not flatten the chart)."""
    if v is None:
        return None
    if ind.op == "<=":
        r = (ind.value / v) if v > 0 else 1.5
    elif ind.op == "=":
        r = 1.0 if v == ind.value else (min(v, ind.value) / max(v, ind.value) if max(v, ind.value) else 0.0)
    else:
        r = (v / ind.value) if ind.value else 1.5
    return round(min(r, 1.5), 4)


# -- hidden data sheets for the master's formulas -------------------------------------------------
def _iso_date(s) -> date | None:
    try:
        return date.fromisoformat(s) if isinstance(s, str) and s else None
    except ValueError:
        return None


def _unit_light(cat, days_left, near_days) -> str:
    if cat == "lagging" or (days_left is not None and days_left < 0 and cat != "done"):
        return "red"
    if cat == "done":
        return "green"
    if cat is None or (days_left is not None and days_left <= near_days):
        return "yellow"
    return "green"


@dataclass
class _StatusInputs:
    """What _status_rows takes from the context."""
    tasks: list
    near_days: int


def _status_rows(ctx: "_Ctx | _StatusInputs", cur: dict) -> list[list]:
    """_status: per task, then per task × unit: status name, progress 0..1, the date the latest
    report arrived (a date), light (green | yellow | red: the master's conditional formats
    compare these codes)."""
    rows = []
    as_of = _month_end(cur["month"])
    days = {t.id: ((date.fromisoformat(t.deadline) - as_of).days if t.deadline else None)
            for t in ctx.tasks}
    for task in ctx.tasks:
        ts = cur["task_status"][task.id]
        rows.append([task.id, ts["status"] or NOT_REPORTED, _num(ts["progress"]),
                     _iso_date(ts["last_report"]), ts["light"]])
    st = cur["state"]            # task order; in a task lead, responsible, co units
    dates: dict = {None: None}
    for d in set(st.received):
        if d is not None:
            dates[d] = _iso_date(d)
    near = ctx.near_days
    # the light depends only on the category and the task (its deadline)
    light_of = {t: {c: _unit_light(c, days[t], near) for c in (*CATEGORIES, None)} for t in days}
    rows.extend(map(list, zip(
        [f"{t}|{u}" for t, u in zip(st.task_id, st.unit)],
        [s if s.__class__ is str else NOT_REPORTED for s in st.status],
        st.progress,
        list(map(dates.__getitem__, st.received)),
        [light_of[t][c] for t, c in zip(st.task_id, st.cat)])))
    return rows


def _actual_rows(ctx: _Ctx, months, per_month) -> list[list]:
    """_actuals: "1.4.1#1|2020-08" → the value reported FOR that month (blank months stay
    blank, so the master's month columns show what was reported when); "1.4.1#1" → the latest
    value counted, as on 考評指標完成情況."""
    rows = []
    latest = per_month[months[-1]]["ind_values"]
    for _task, ind in ctx.plan.indicators():
        v, ok, unit = latest[ind.id]
        rows.append([ind.id, _num(v), _met_label(ok), unit])
    for m in months:
        for _task, ind in ctx.plan.indicators():
            v, ok, unit = per_month[m]["ind_month"][ind.id]
            if v is not None:
                rows.append([f"{ind.id}|{m}", _num(v), _met_label(ok), unit])
    return rows


def _met_label(ok):
    return NO_VALUE if ok is None else (MET if ok else NOT_MET)


def _num(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return float(x)


# -- 通報 ------------------------------------------------------------------------------------------
def _fmt_num(v: float) -> str:
    """A figure as people write it: 41, 90.5, 75.05 (at most two decimals)."""
    v = round(float(v), 2)
    return str(int(v)) if v == int(v) else f"{v:.2f}".rstrip("0").rstrip(".")


def _bulletin(ctx: _Ctx, r: Rollup, m: str, cur: dict, plan: Plan) -> str:
    label = layout.month_label(m)
    tr = next(x for x in [cur["trend"]])
    scores = cur["scores"]
    lines = []
    if m in r.sample_months:
        lines.append("【示例數據:以下內容由 putuo-xl demo 的示例回報生成,不是真實填報】")
    if cur["after_bulletin"]:
        late_units = [u for u in cur["exp_units"] if u in cur["after_bulletin"]]
        lines.append(f"【更新說明:本月通報已於{day_label(cur['sent_at'])}發出;此後收到"
                     f"{'、'.join(late_units)}的月報,以下內容已按台賬更新。】")
    lines.append(f"關於{label}法治政府建設工作推進情況的預評估通報")
    lines.append("")
    if plan.addressees:
        lines.append(f"{plan.addressees}:")
    doc = f"({plan.doc_number})" if plan.doc_number else ""
    lines.append(
        f"    根據《{plan.title}》{doc}關於建立工作報表制度、定期匯總考評指標完成情況的要求,"
        f"現將{label}各單位工作推進情況通報如下。")
    lines.append("一、總體情況")
    n_exp, on, late, miss = tr["應報單位"], tr["按時報送"], tr["逾期報送"], tr["未報送"]
    nd = tr[SUBMIT_NOT_DUE]
    lines.append(
        f"    本月應報送工作報表的單位{n_exp}個,按時報送{on}個,逾期報送{late}個,未報送{miss}個,"
        + (f"尚未到報送截止日期{nd}個," if nd else "") +
        f"按時報送率{_p(tr['按時報送率'])}。"
        f"全年{tr['任務總數']}項工作任務中,已完成{tr['已完成']}項,推進中{tr['推進中']}項,"
        f"未啟動{tr['未啟動']}項,滯後{tr['滯後']}項" +
        (f",尚無單位填報{tr[NOT_REPORTED]}項" if tr[NOT_REPORTED] else "") +
        f",任務完成率{_p(tr['任務完成率'])}。"
        f"{tr['考評指標']}項考評指標中,已達標{tr['已達標']}項,未達標{tr['未達標']}項"
        + (f",未填報{tr['指標未填報']}項" if tr["指標未填報"] else "") + "。"
        + (f"各單位預評估平均得分{tr['平均得分']:.1f}分(滿分{_fmt_num(ctx.full_marks)}分)。"
           if tr["平均得分"] is not None else ""))
    # units doing well
    lines.append("二、工作推進較好的單位")
    good = scores[(scores["等次"] == GRADES["good"]) & (scores["本月報送"] == SUBMIT_ON_TIME)]
    good = good.head(ctx.top_n)
    if len(good):
        names = "、".join(f"{u}({s:.1f}分)" for u, s in zip(good["單位"], good["總分"]))
        lines.append(f"    {names}等單位任務推進有力、報表報送及時,預評估得分位居前列,予以通報表揚。")
    else:
        lines.append(f"    本月暫無預評估得分達到{_fmt_num(ctx.good_rate * ctx.full_marks)}分且按時報送的單位。")
    # lagging units
    lines.append("三、工作推進滯後的單位")
    st = cur["state"]
    lag = sorted((int(st.uorder[k]), int(st.torder[k]), k) for k in np.nonzero(st.c_code == 3)[0].tolist())
    lag_by_unit: dict[str, list[str]] = {}
    carried = cur["carried"]
    for _uo, _to, k in lag:
        # a status carried from an earlier month says so (the unit did not report it this month)
        tid = st.task_id[k] if k not in carried else f"{st.task_id[k]},沿用{month_word(carried[k])}填報"
        lag_by_unit.setdefault(st.unit[k], []).append(tid)
    # a low score only because the unit did not report this month: it is named under 四 instead
    low = scores[(scores["等次"] == GRADES["lagging"])
                 & ~scores["本月報送"].isin([SUBMIT_MISSING, SUBMIT_NOT_DUE])]
    sc = dict(zip(scores["單位"], scores["總分"]))
    # the most lagging tasks first, then the lowest score, then directory order
    lagging_units = sorted(set(lag_by_unit) | set(low["單位"]),
                           key=lambda u: (-len(lag_by_unit.get(u, ())), sc.get(u, 0.0),
                                          ctx.unit_order.get(u, len(ctx.unit_order))))
    if lagging_units:
        # a province's 通報 would name hundreds: the worst bulletin_max_units, the rest by count
        named = lagging_units[:ctx.bulletin_max_units]
        head = (f"    以下{len(lagging_units)}個單位有任務報告滯後或預評估得分低於"
                f"{_fmt_num(ctx.lagging_rate * ctx.full_marks)}分")
        if len(named) < len(lagging_units):
            head += (f",列出其中滯後任務最多的{len(named)}個(全部單位見「{layout.name('monthly')}」"
                     f"和「{layout.name('score')}」表)")
        lines.append(head + ":")
        for i, u in enumerate(named, 1):
            bits = []
            if u in lag_by_unit:
                bits.append(f"滯後任務{len(lag_by_unit[u])}項({';'.join(lag_by_unit[u])})"
                            if any("沿用" in x for x in lag_by_unit[u]) else
                            f"滯後任務{len(lag_by_unit[u])}項({'、'.join(lag_by_unit[u])})")
            if u in sc:
                bits.append(f"預評估得分{sc[u]:.1f}分")
            lines.append(f"    {i}. {u}:{','.join(bits)}{'。' if i == len(named) else ';'}")
        if len(named) < len(lagging_units):
            lines.append(f"    另有{len(lagging_units) - len(named)}個單位,不再一一列出。")
        lines.append("    請上述單位認真分析原因,制定整改措施,加快推進。")
    else:
        lines.append("    本月沒有單位報告任務滯後" + ("(未報送的單位見第四部分)。" if any(
            cur["sub_state"][u] == SUBMIT_MISSING for u in cur["exp_units"]) else "。"))
    red = cur["progress"][cur["progress"]["預警"] == LIGHTS["red"]]
    if len(red):
        lines.append(f"    亮紅燈(總體滯後或已超過完成時限)的任務{len(red)}項:")
        for i, (tid, t, why) in enumerate(zip(red["任務編號"], red["工作任務"], red["說明"]), 1):
            lines.append(f"    {i}. {tid} {t}。")
    # not reported (晾曬)
    lines.append("四、報表報送情況(晾曬)")
    miss_units = [u for u in cur["exp_units"] if cur["sub_state"][u] == SUBMIT_MISSING]
    late_units = [u for u in cur["exp_units"] if cur["sub_state"][u] == SUBMIT_LATE]
    wait_units = [u for u in cur["exp_units"] if cur["sub_state"][u] == SUBMIT_NOT_DUE]
    if miss_units:
        returned = [u for u in miss_units if u in cur["rej_reason"]]
        txt = f"    未報送{label}工作報表的單位({len(miss_units)}個):{'、'.join(miss_units)}"
        if returned:
            txt += f"(其中{'、'.join(returned)}報送的報表不符合要求已退回,尚未重新報送)"
        lines.append(txt + "。")
    elif wait_units:
        lines.append(f"    截止日期已過的單位均已報送{label}工作報表。")
    else:
        lines.append(f"    各單位均已報送{label}工作報表。")
    if wait_units:
        due = cur["status"].due
        lines.append(f"    另有{len(wait_units)}個單位尚未到報送截止日期({due.month}月{due.day}日),"
                     f"暫不列入晾曬。")
    if late_units:
        lines.append(f"    逾期報送的單位({len(late_units)}個):{'、'.join(late_units)}。")
    if miss_units or late_units:
        lines.append("    請未報送和逾期報送的單位高度重視,嚴格落實工作報表制度,按時報送。")
    # indicators not met
    lines.append("五、尚未達標的考評指標")
    ind = cur["indicators"]
    pending = ind[ind["是否達標"] != MET]
    if len(pending):
        for i, row in enumerate(pending.itertuples(index=False), 1):
            if row.是否達標 == NO_VALUE:
                now = "尚未填報實際值"
            else:
                now = f"目前為{_fmt_num(row.實際值)}{row.計量單位}({row.填報單位}填報)"
            lines.append(f"    {i}. {row.指標名稱}:目標{row.目標},{now}。")
    else:
        lines.append("    各項考評指標均已達標。")
    lines.append("六、下步工作要求")
    lines.append("    各單位要對照工作要點和任務分解,逐項抓好落實;對滯後和未達標事項明確責任人和完成時限,"
                 "按月報送工作報表,確保全年任務按期完成。")
    lines.append("")
    if ctx.cfg.office:
        lines.append(f"{ctx.cfg.office}")
    lines.append(layout.month_label(_next_month(m)))
    return "\n".join(in_script(x, plan.script) for x in lines)


def _p(x) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


# -- the stage functions ----------------------------------------------------------------------------
def _load_cfg(config) -> Config:
    if isinstance(config, Config):
        return config
    return load_config(config)


def _plan_for(master_path, cfg: Config) -> Plan:
    """The plan as the master says now (officials' edits included), read with readback's
    calamine engine (milliseconds, where openpyxl takes a second at 600 units)."""
    from putuo_xl.workbook.readback import plan_from_workbook
    return plan_from_workbook(master_path, cfg, engine="calamine")


def _ledger_for(master_path, cfg: Config):
    from putuo_xl.ledger.store import Ledger, ledger_path_for
    template = cfg.section("collect").get("ledger_name") or "{master_stem}.ledger.sqlite"
    p = ledger_path_for(master_path, template)
    if not p.exists():
        raise InputError(f"找不到台賬文件「{p.name}」。請先用 putuo-xl collect 收集各單位的月報。",
                         file=str(master_path), code="no-ledger")
    return Ledger(p)


def bulletin_text(master_path, month: str, config=None, now=None) -> str:
    """The 通報 for `month`, computed from the master's ledger (text ready to paste)."""
    cfg = _load_cfg(config)
    plan = _plan_for(master_path, cfg)
    with _ledger_for(master_path, cfg) as led:
        return compute_rollup(led, plan, cfg, month, today=_today(now)).bulletin()


def _today(now) -> date | None:
    """`now` (a datetime or a date; None: today) as the day due dates are compared with."""
    if now is None:
        return None
    return now.date() if hasattr(now, "date") and callable(now.date) else now


def rollup(master_path, month: str, config=None, output=None, now=None) -> RollupResult:
    """Compute the 工作報表 for `month` from the ledger and write them into the master (or into
    `output`, a new file, when given — e.g. while the master is open in Excel). `now` (default:
    now): units whose due date has not passed by then are 未到期, not 未報送."""
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
                r = compute_rollup(led, plan, cfg, month, today=_today(now))
            t3 = time.perf_counter()
            from putuo_xl.rollup.render import write_rollup
            out = write_rollup(master, r, output=output)
            t4 = time.perf_counter()
        if held.note:
            r.warnings.insert(0, r.t(held.note))
    return RollupResult(path=out, month=month, months=r.months, rollup=r, seconds=t4 - t0,
                        timings={"config_s": round(t1 - t0, 4), "plan_s": round(t2 - t1, 4),
                                 "compute_s": round(t3 - t2, 4), "write_s": round(t4 - t3, 4)})


def write_rollup(master_path, rollup: Rollup, output=None) -> Path:   # re-export
    from putuo_xl.rollup.render import write_rollup as _w
    return _w(master_path, rollup, output=output)
