"""How a plan is written as text in cells (units, targets, deadlines, headings), and read
back: one place for both directions, so the master written by `workbook.master` and read by
`workbook.readback` agree."""
from __future__ import annotations

import re
from datetime import date, datetime

from putuo_xl.plan.model import Indicator, Section, Subsection, Task, UnitRef
from putuo_xl.text import in_script

UNIT_SEP = "、"
SPLIT_UNITS_RE = re.compile(r"[、,,;;\n\r\t/]+|\s{2,}")
OP_LABELS = {">=": "不低於", "<=": "不超過", "=": "等於"}
RECURRING_LABEL = "經常性工作"


def unit_label(ref: UnitRef, script: str) -> str:
    return in_script(ref.canonical, script) if ref.canonical else ref.name


def co_text(task: Task, script: str) -> str:
    """配合單位 column: the co-operating units; for a task without a lead, the units that share
    the responsibility (role `responsible`)."""
    return UNIT_SEP.join(unit_label(u, script) for u in task.units if u.role != "lead")


def split_units(text) -> list[str]:
    if text is None:
        return []
    return [p.strip() for p in SPLIT_UNITS_RE.split(str(text)) if p and p.strip()]


def indicator_line(ind: Indicator) -> str:
    return f"{ind.name}:{ind.text}" if ind.name else ind.text


def indicators_text(task: Task) -> str:
    return "\n".join(indicator_line(i) for i in task.indicators)


def subsection_label(ss: Subsection) -> str:
    return f"{ss.number or ''}{ss.title or ''}".strip()


def section_label(sec: Section) -> str:
    return f"{sec.number}、{sec.title}"


def deadline_value(task: Task, script: str):
    """The 完成時限 cell: a date, 經常性工作, or empty."""
    if task.recurring:
        return in_script(RECURRING_LABEL, script)
    if task.deadline:
        try:
            return datetime.strptime(task.deadline, "%Y-%m-%d")
        except ValueError:
            return task.deadline
    return ""


def deadline_label(task: Task, script: str) -> str:
    v = deadline_value(task, script)
    if isinstance(v, datetime):
        return f"{v.year}年{v.month}月{v.day}日"
    return v


def truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def to_iso(value) -> str | None:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return None
