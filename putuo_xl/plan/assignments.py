"""Who does what: a plan's unit references expanded through the config's groups.

`unit_assignments` is the one place that decides which tasks a unit reports on and in
which role; forms, views, the collector and the rollup all use it.
"""
from __future__ import annotations

from dataclasses import dataclass

from putuo_xl.config import Config
from putuo_xl.plan.model import Plan, Task

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
        if ref.group and not ref.canonical:
            continue        # a group the config does not define: no unit to report for it (warned)
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


# -- what a task's 牽頭單位 cell says --------------------------------------------------------
# A task without a lead (責任單位 only, e.g. 1.1.2 「區級有關單位、各鎮<街道>、管委會」) is the
# joint responsibility of its units: a printed sheet says so instead of leaving 牽頭 blank.
JOINT_MARK = "\uff08共同負責\uff09"          # （共同負責）, traditional; rendered in the script
_JOINT_RE = None


def lead_label(task: Task, script: str = "traditional", with_units: bool = True) -> str:
    """THE rule for what is shown as a task's 牽頭單位 (section sheets, the unit view, the
    indicator sheet; the rollup's 任務進展 can use it too):

    - the lead units, 「、」-separated, in the notice's script;
    - for a task without a lead, the units that share the responsibility followed by
      「（共同負責）」 (`with_units=False`: the mark alone, where the units stand beside it,
      as in a section sheet's 配合/責任單位 column);
    - "" for a task that names no unit at all.
    """
    from putuo_xl.plan.labels import UNIT_SEP, unit_label
    from putuo_xl.text import in_script

    leads = [unit_label(u, script) for u in task.units if u.role == "lead"]
    if leads:
        return UNIT_SEP.join(dict.fromkeys(leads))
    shared = [unit_label(u, script) for u in task.units if u.role == "responsible"]
    if not shared:
        return ""
    mark = in_script(JOINT_MARK, script)
    return (UNIT_SEP.join(dict.fromkeys(shared)) + mark) if with_units else mark


def is_joint(task: Task) -> bool:
    """A task whose units share the responsibility (no lead)."""
    return bool(task.units) and not any(u.role == "lead" for u in task.units)


def strip_joint_mark(text) -> str:
    """A 牽頭單位 cell without the 「（共同負責）」 mark (either script, width or bracket kind),
    so that reading the cell back gives only unit names."""
    import re
    global _JOINT_RE
    if text is None:
        return ""
    if _JOINT_RE is None:
        _JOINT_RE = re.compile("[\\(\uff08\\[\u3010]?\\s*共同[負负][責责]\\s*[\\)\uff09\\]\u3011]?")
    return _JOINT_RE.sub("", str(text)).strip()
