"""What the rollup derives from the plan and the config alone, before the ledger is read:
the settings of config.yaml's `rollup` and `scoring` sections, the statuses and their
categories, and who does what (at province scale 180,000 task × unit assignments) as arrays in
task order (`_Ctx`); `prepare_rollup` makes it ahead, e.g. while forms are collected."""
from __future__ import annotations

import gc
import math
from contextlib import contextmanager

import numpy as np

from putuo_xl.config import Config
from putuo_xl.errors import PutuoError
from putuo_xl.plan.assignments import lead_label, task_roles
from putuo_xl.plan.model import Plan, Task
from putuo_xl.rollup.rules import CATEGORIES, DEFAULT_LATE_CREDIT, status_categories, statuses_of


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
        self.statuses = statuses_of(cfg)
        self.category = status_categories(cfg)
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

