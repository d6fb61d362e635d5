"""How a plan is shown in cells, and read back: one place for both directions, so the master
workbook written by `master.build_master` and read by `readback.plan_from_workbook` agree."""
from __future__ import annotations

import re
from datetime import date, datetime

from .model import Indicator, Plan, Section, Subsection, Task, UnitRef
from .text import in_script

UNIT_SEP = "、"
SPLIT_UNITS_RE = re.compile(r"[、,,;;\n\r\t/]+|\s{2,}")
INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\:]")
OP_LABELS = {">=": "不低於", "<=": "不超過", "=": "等於"}
RECURRING_LABEL = "經常性工作"
MAX_SHEET = 31


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


def sheet_name_for(sec: Section, used: set[str]) -> str:
    """A section's sheet name: 「一、推進政府職能依法全面履行」 within Excel's limits
    (31 characters, none of []:*?/\\, unique ignoring case)."""
    base = INVALID_SHEET_CHARS.sub("", section_label(sec)).strip("' ") or f"第{sec.id}章"
    name = base[:MAX_SHEET]
    n = 2
    while name.lower() in {u.lower() for u in used}:
        suffix = f"({n})"
        name = base[:MAX_SHEET - len(suffix)] + suffix
        n += 1
    used.add(name)
    return name


def section_sheet_names(plan: Plan, reserved: set[str] | None = None) -> dict[str, str]:
    used = set(reserved or ())
    return {s.id: sheet_name_for(s, used) for s in plan.sections}


def truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def to_iso(value) -> str | None:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return None


# -- row heights -----------------------------------------------------------------------------
# Neither Excel nor LibreOffice reliably grows a wrapped row when it opens a generated file, so
# rows get an explicit height estimated from the text: a CJK character is two column-width units
# at 10.5 pt, an ASCII character one.

_WIDE_RE = re.compile(r"[\u2e80-\uff60\uffe0-\uffe6“”‘’—…·]")


def text_units(text: str, size: float = 10.5) -> float:
    """Width of `text` in column-width units: wide (CJK, full-width) characters count 2."""
    return (len(text) + len(_WIDE_RE.findall(text))) * size / 10.5


def cell_lines(text, width: float, size: float = 10.5) -> int:
    if text is None or text == "":
        return 1
    cap = max(width - 1.0, 1.0)
    total = 0
    for par in str(text).split("\n"):
        u = text_units(par, size)
        total += max(1, -(-int(u * 100) // int(cap * 100)))
    return total


def row_height(cells, size: float = 10.5, minimum: float = 18.0) -> float:
    """Height in points for a row whose cells are (text, column width[, font size])."""
    lines = 1
    for c in cells:
        text, width = c[0], c[1]
        lines = max(lines, cell_lines(text, width, c[2] if len(c) > 2 else size))
    return max(minimum, round(lines * size * 1.42 + 5, 1))
