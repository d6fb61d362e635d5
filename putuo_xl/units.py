"""Who does what: a plan's unit references expanded through the config's groups.

`unit_assignments` is the one place that decides which tasks a unit reports on and in
which role; forms, views, the collector and the rollup all use it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import Config
from .model import Plan, Task

ROLE_RANK = {"lead": 0, "responsible": 1, "co": 2}


@dataclass(frozen=True)
class Assignment:
    unit: str          # canonical unit name (or the name as written when the config lacks it)
    task_id: str
    role: str          # lead | co | responsible
    via: str | None    # the group it came through, None when the unit is named itself


def task_units(task: Task, cfg: Config) -> list[Assignment]:
    """The units that report on `task`, groups expanded; a unit named itself keeps its own role,
    otherwise the strongest role it gets through any group (lead > responsible > co)."""
    return [Assignment(u, task.id, role, via) for u, (role, via) in task_roles(task, cfg).items()]


def task_roles(task: Task, cfg: Config) -> dict[str, tuple[str, str | None]]:
    """What `task_units` decides, as unit → (role, via) in the same order: plain tuples, for
    callers that handle a province's groups of thousands of units (the rollup)."""
    best: dict[str, tuple[str, str | None]] = {}
    rank = ROLE_RANK
    for ref in task.units:
        if ref.group and ref.canonical:
            cand = (ref.role, ref.canonical)
            members = cfg.expand(ref.canonical)
            if not best:               # the first reference: every member takes it
                best = dict.fromkeys(members, cand)
                continue
            r = rank[ref.role]
            for m in members:
                cur = best.get(m)
                if cur is None or (cur[1] is not None and r < rank[cur[0]]):
                    best[m] = cand
        else:
            key = ref.canonical or ref.name
            cur = best.get(key)
            if cur is None or cur[1] is not None or rank[ref.role] < rank[cur[0]]:
                best[key] = (ref.role, None)
    return best


def unit_assignments(plan: Plan, cfg: Config) -> dict[str, list[Assignment]]:
    """unit → its assignments in plan order. Units are ordered as in config.yaml, then any
    unit the config does not know, in the order the plan names them."""
    by_unit: dict[str, list[Assignment]] = {}
    for task in plan.tasks():
        for a in task_units(task, cfg):
            by_unit.setdefault(a.unit, []).append(a)
    order = {name: i for i, name in enumerate(cfg.units)}
    return dict(sorted(by_unit.items(), key=lambda kv: (order.get(kv[0], len(order)),)))


def units_without_tasks(plan: Plan, cfg: Config) -> list[str]:
    assigned = unit_assignments(plan, cfg)
    return [u for u in cfg.units if u not in assigned]
