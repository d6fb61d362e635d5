"""Cell geometry of the workbooks we write: sheet names within Excel's limits, and row heights
estimated from the text (Excel and LibreOffice do not grow wrapped rows of a generated file)."""
from __future__ import annotations

import math
import re

from putuo_xl.plan.labels import section_label
from putuo_xl.plan.model import Plan, Section

INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\:]")
MAX_SHEET = 31


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


# -- row heights -----------------------------------------------------------------------------
# Neither Excel nor LibreOffice reliably grows a wrapped row when it opens a generated file, so
# rows get an explicit height estimated from the text: a CJK character is two column-width units
# at 10.5 pt, an ASCII character one.

_WIDE_RE = re.compile(r"[\u2e80-\uff60\uffe0-\uffe6“”‘’—…·]")


def text_units(text: str, size: float = 10.5) -> float:
    """Width of `text` in column-width units: wide (CJK, full-width) characters count 2."""
    return (len(text) + len(_WIDE_RE.findall(text))) * size / 10.5


_RUNS_RE = re.compile(r"([\u2e80-\uff60\uffe0-\uffe6“”‘’—…·]+)|[^\u2e80-\uff60\uffe0-\uffe6“”‘’—…·]+")


def wrap_lines(text: str, cap: float, size: float = 10.5) -> int:
    """Lines a paragraph takes in `cap` column units when broken as Excel breaks Chinese text:
    after as many whole characters as fit (a character never straddles two lines). Counted a
    run of equally wide characters at a time (a long text has few runs)."""
    total = text_units(text, size)
    if total <= cap:
        return 1
    scale = size / 10.5
    # every line but the last is fuller than cap - (widest character): when that and
    # total / cap leave one count, it is the count (most long texts; no walk)
    widest = (2.0 if total > len(text) * scale + 1e-9 else 1.0) * scale
    if cap > 2 * widest:
        low = math.ceil(total / cap - 1e-9)
        high = math.ceil(total / (cap - widest) + 1e-9)
        if low == high:
            return low
    lines, used = 1, 0.0
    for m in _RUNS_RE.finditer(text):
        w = (2.0 if m.group(1) else 1.0) * scale
        k = m.end() - m.start()
        if used:
            fit = int((cap - used) / w + 1e-9)      # characters this line still takes
            if k <= fit:
                used += k * w
                continue
            k -= max(fit, 0)
            lines += 1
            used = 0.0
        per_line = max(1, int(cap / w + 1e-9))      # an empty line takes one character whatever its width
        full, rest = divmod(k, per_line)
        if rest:
            lines += full
            used = rest * w
        else:
            lines += full - 1
            used = per_line * w
    return lines


def cell_lines(text, width: float, size: float = 10.5) -> int:
    if text is None or text == "":
        return 1
    cap = max(width - 1.0, 1.0)
    return sum(wrap_lines(par, cap, size) for par in str(text).split("\n"))


def row_height(cells, size: float = 10.5, minimum: float = 18.0) -> float:
    """Height in points for a row whose cells are (text, column width[, font size])."""
    lines = 1
    for c in cells:
        text, width = c[0], c[1]
        lines = max(lines, cell_lines(text, width, c[2] if len(c) > 2 else size))
    return max(minimum, round(lines * size * 1.42 + 5, 1))
