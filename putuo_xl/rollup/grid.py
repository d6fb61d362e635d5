"""What a report sheet holds before it is laid out: a `Grid` of rows (title, notes, legend,
header, data, totals …) over `Col`umns, and the text geometry every sheet is laid out with.

Geometry: Excel's metrics for SimSun / SimHei (a CJK or full-width character is 1 em, a digit or
Latin letter half an em; a column width unit is 7 px at the workbook's Calibri 11), estimated
as workbook/cells.py does (`text_units`: a wide character counts 2 units at 10.5 pt). A column
is made wide enough for what it shows, a wrapping cell's row tall enough for its lines, and a
header that must wrap is broken by us into even lines (no single character on a line of its
own) — so Excel, WPS and LibreOffice, whose fonts differ a little, all show the whole text.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from putuo_xl import layout
from putuo_xl.text import cjk_punct, in_script
from putuo_xl.workbook.cells import cell_lines, text_units
from putuo_xl.workbook.sheetlayout import FONT_HEAD, FONT_TEXT, HEADER_FILL, NOTE_COLOR, TOTAL_FILL  # noqa: F401

GROUP_FILL = TOTAL_FILL
BODY_SIZE = 10
LINE = 13.5               # points a line of 10 pt text takes (SimSun/SimHei in Excel)
MAX_ROW = 409             # Excel's tallest row
DATE_FORMAT = 'yyyy"年"m"月"d"日"'     # the one date style (GB/T 9704's 成文日期): 2020年12月31日


@dataclass
class Col:
    name: str
    width: float = 8
    fmt: str = "text"          # text | wrap | int | pct | num | num1 | center | date
    colors: dict[str, str] | None = None   # value → fill (conditional formats)
    databar: bool = False
    head_fill: str | None = None           # the header cell's fill (a status column's colour)
    ours: bool = False                     # our wording (notes): Chinese punctuation
    fit: bool = True                       # widened to what the column shows (not the wrapping ones)
    max_width: float = 40


@dataclass
class Grid:
    key: str                   # layout.SHEETS key
    title: str
    month_label: str
    cols: list[Col]
    rows: list[list] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # title note legend header data total blank para heading group …
    row_fmts: list[list[str] | None] = field(default_factory=list)   # per-cell fmt override
    header_rows: list[int] = field(default_factory=list)
    repeat_row: int | None = None
    freeze: tuple[int, int] | None = None
    autofilter: tuple[int, int, int, int] | None = None
    breaks: list[int] = field(default_factory=list)
    charts: list = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)   # (label, fill)
    cond_ranges: list[tuple[int, int, int, int, dict[str, str]]] = field(default_factory=list)
    bar_ranges: list[tuple[int, int, int, int]] = field(default_factory=list)
    heights: dict[int, float] = field(default_factory=dict)       # row → points (else estimated)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    min_lines: int = 1         # data rows at least this many lines tall (an even table)
    page: dict = field(default_factory=dict)     # PageSetup fields other than the defaults
    print_area: tuple[int, int, int, int] | None = None
    group_span: int | None = None     # last column a group row spans (default: the last one)

    @property
    def width(self) -> int:
        return len(self.cols)

    def add(self, values: list, kind: str = "data", fmts: list[str] | None = None,
            height: float | None = None) -> int:
        row = list(values)
        if len(row) < self.width:
            row += [None] * (self.width - len(row))
        # titles, notes, headers and the bulletin are ours; in the tables only the note columns
        if kind in ("data", "total"):
            ours = self.__dict__.get("_ours")
            if ours is None:
                ours = self._ours = [c for c, col in enumerate(self.cols) if col.ours]
            for c in ours:
                v = row[c]
                if isinstance(v, str):
                    row[c] = cjk_punct(v)
        else:
            for c, v in enumerate(row):
                if isinstance(v, str):
                    row[c] = cjk_punct(v)
        self.rows.append(row)
        self.kinds.append(kind)
        self.row_fmts.append(fmts)
        if height is not None:
            self.heights[len(self.rows) - 1] = height
        return len(self.rows) - 1

    def values(self) -> list[list]:
        return [list(r) + [None] * (self.width - len(r)) for r in self.rows]


# -- text geometry ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=65536)     # unit names, statuses, dates: the same text again
def units(text: str, size: float = BODY_SIZE) -> float:
    """Width of one line of `text` in column-width units at `size` points."""
    return text_units(text, size)


def fits(text: str, width: float, size: float = BODY_SIZE) -> bool:
    """One line of `text` fits a column `width` wide (one unit kept for the cell's padding)."""
    return units(text, size) <= max(width - 1.0, 1.0)


@functools.lru_cache(maxsize=65536)
def lines_of(text, width: float, size: float = BODY_SIZE) -> int:
    """Lines a wrapping cell `width` wide shows `text` in (workbook/cells.py)."""
    return cell_lines(text, width, size)


def balance(text: str, width: float, size: float = BODY_SIZE) -> str:
    """A header too wide for its column, broken into even lines ("任務推進得分" → "任務推進\\n得分"
    rather than "任務推進得" and a lone "分"), never inside a run of digits or Latin letters."""
    if not text or "\n" in text or fits(text, width, size):
        return text
    tokens = _tokens(text)
    total = units(text, size)
    n = math.ceil(total / max(width - 1.0, 1.0) - 1e-9)
    while n <= len(tokens):
        target = total / n
        out, cur = [], ""
        for tok in tokens:
            if cur and len(out) < n - 1 and units(cur, size) + units(tok, size) / 2 > target \
                    and tok[0] not in "、,,。)」》:;:":
                out.append(cur)
                cur = ""
            cur += tok
        out.append(cur)
        if all(fits(x, width, size) for x in out) or n == len(tokens):
            return "\n".join(out)
        n += 1
    return text


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for ch in text:
        if out and ch.isascii() and ch.isalnum() and out[-1][-1].isascii() and out[-1][-1].isalnum():
            out[-1] += ch
        else:
            out.append(ch)
    return out


def row_lines(values, cols, fmts=None, size: float = BODY_SIZE) -> int:
    """Lines the tallest wrapping cell of a table row needs."""
    lines = 1
    for i, (v, c) in enumerate(zip(values, cols)):
        f = (fmts[i] if fmts and i < len(fmts) else None) or c.fmt
        if isinstance(v, str) and f in WRAPPING:
            lines = max(lines, lines_of(v, c.width, size))
    return lines


def height_for(lines: int, size: float = BODY_SIZE) -> float:
    return min(MAX_ROW, LINE * size / BODY_SIZE * lines + 4)


WRAPPING = ("wrap", "para", "center")


# -- row heights ---------------------------------------------------------------------------------
def note_height(text: str, total_width: float) -> float:
    lines = lines_of(text or "", total_width, 9)
    return math.ceil(LINE * 0.9 * lines) + 4


def kind_height(g: Grid, ri: int) -> float:
    """A row's height in points, as `sheet_layout` sets it (趨勢's pagination counts with it)."""
    if ri in g.heights:
        return g.heights[ri]
    values, kind, fmts = g.rows[ri], g.kinds[ri], g.row_fmts[ri]
    values = values + [None] * (g.width - len(values))
    if kind == "title":
        return 28
    if kind == "note":
        return note_height(values[0], sum(c.width for c in g.cols))
    if kind == "legend":
        return 15
    if kind == "header":
        lines = max((len(balance(v, c.width).split("\n")) for v, c in zip(values, g.cols)
                     if isinstance(v, str)), default=1)
        return max(30.0, height_for(lines))
    if kind in ("data", "total"):
        lines = max(row_lines(values, g.cols, fmts), g.min_lines if kind == "data" else 1)
        return height_for(lines)
    if kind == "group":
        return 16
    return 15


# -- values --------------------------------------------------------------------------------------
def _clean(v):
    c = v.__class__
    if c is str or c is int:        # most cells: nothing to clean
        return v
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    return v


def _clean_column(col: pd.Series) -> list:
    """A column's values as _clean gives them (NaN → None, numpy scalars → Python ones)."""
    values = col.tolist()
    kind = col.dtype.kind
    if kind in "iub":
        return values
    if kind == "f":
        return [None if v != v else v for v in values]
    return [_clean(v) for v in values]


_EPOCH = date(1899, 12, 30)


@functools.lru_cache(maxsize=4096)
def excel_date(day):
    """'2020-12-31' → Excel's serial day number (shown with DATE_FORMAT); other text as it is."""
    if isinstance(day, str) and len(day) >= 10 and day[4] == "-" and day[7] == "-":
        try:
            return (date.fromisoformat(day[:10]) - _EPOCH).days
        except ValueError:
            return day
    return day


def _t(r, s):
    return in_script(s, r.script) if isinstance(s, str) else s


def _head(g: Grid, r, subtitle: str, notes: list[str], legend: list[tuple[str, str]]):
    if r.sample:
        g.title += "(示例數據)"
    g.add([_t(r, g.title)], "title")
    g.add([_t(r, subtitle)], "note")
    for n in notes:
        g.add([_t(r, n)], "note")
    if legend:
        g.legend = [(_t(r, a), b) for a, b in legend]
        g.add([_t(r, "圖例:")] + [x[0] for x in g.legend], "legend")


def _table(g: Grid, r, frame: pd.DataFrame, month_breaks: bool = True, total_label: str | None = None):
    """Header + rows of `frame` (columns = g.cols names), a page break before each earlier month."""
    hdr = g.add([_t(r, c.name) for c in g.cols], "header")
    g.header_rows.append(hdr)
    g.repeat_row = hdr
    g.freeze = (hdr + 1, 0)
    first = hdr + 1
    prev_month = None
    names = [c.name for c in g.cols]
    data = frame.reindex(columns=names)
    simplified = r.script == "simplified"          # in_script changes nothing otherwise
    dates = [ci for ci, c in enumerate(g.cols) if c.fmt == "date"]
    # column by column as Python values (what itertuples gives, without indexing pandas'
    # string arrays cell by cell), cleaned a column at a time
    columns = [_clean_column(data.iloc[:, k]) for k in range(data.shape[1])]
    for values in zip(*columns):
        vals = list(values)
        if simplified:
            vals = [_t(r, v) for v in vals]
        for ci in dates:
            vals[ci] = excel_date(vals[ci])
        mon = vals[0]
        if month_breaks and prev_month is not None and mon != prev_month:
            g.breaks.append(len(g.rows))
        prev_month = mon
        kind = "total" if total_label and total_label in vals[:4] else "data"
        g.add(vals, kind)
    last = len(g.rows) - 1
    if last >= first:
        g.autofilter = (hdr, 0, last, g.width - 1)
        for ci, c in enumerate(g.cols):
            if c.colors:
                g.cond_ranges.append((first, ci, last, ci, {_t(r, k): v for k, v in c.colors.items()}))
            if c.databar:
                g.bar_ranges.append((first, ci, last, ci))


def _month_col(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.copy()
    labels = {m: layout.month_label(m) for m in f["月份"].unique()}     # a dozen months, many rows
    f["月份"] = f["月份"].map(labels)
    return f


def _subtitle(r, what: str) -> str:
    first, last = r.months[0], r.months[-1]
    span = layout.month_label(last) if first == last else \
        f"{layout.month_label(first)}至{layout.month_label(last)}"
    return (f"統計截至{layout.month_label(r.month)}({span},共{len(r.months)}個月,最新月份在前)。"
            f"{what}本表根據台賬自動生成,每次刷新匯總時整表重寫,請勿在本表手工修改。")


def fit_columns(g: Grid, size: float = BODY_SIZE) -> None:
    """Widen each non-wrapping column to the longest text it shows (headers: two even lines
    at most), up to its `max_width`."""
    merged = {(r0, c0) for (r0, c0, _r1, c1) in g.merges if c1 > c0}
    # each distinct value once (a province's 月度匯總 has a row per unit and month): the plain
    # rows column by column, the few others (headers, merged, own formats) cell by cell
    merged_rows = {r for r, _c in merged}
    n = len(g.cols)
    shown: list[set] = [set() for _ in g.cols]
    plain = []
    for ri, (values, kind, fmts) in enumerate(zip(g.rows, g.kinds, g.row_fmts)):
        if kind in ("data", "total") and not fmts and ri not in merged_rows:
            plain.append(values[:n] + [None] * (n - len(values)))
            continue
        if kind not in ("header", "data", "total"):
            continue
        for ci, v in enumerate(values[:n]):
            if v is None or (ri, ci) in merged:
                continue
            if kind == "header":
                if isinstance(v, str) and v:
                    shown[ci].add(("h", v))
                continue
            f = (fmts[ci] if fmts and ci < len(fmts) else None) or g.cols[ci].fmt
            shown[ci].add((f, v))
    for ci, column in enumerate(zip(*plain)):
        f = g.cols[ci].fmt
        shown[ci].update((f, v) for v in set(column) if v is not None)
    for ci, c in enumerate(g.cols):
        need = c.width
        for f, v in shown[ci]:
            if f == "h":
                need = max(need, min(header_width(v, size), c.max_width) + 1.0)
            elif c.fit and f not in ("wrap", "para"):
                need = max(need, min(units(_shown(v, f), size) + 1.2, c.max_width))
        c.width = round(need, 1)


def header_width(text: str, size: float = BODY_SIZE) -> float:
    """The width a header needs: its two most even lines, or one line when a line of the two
    would hold a single character ("推進/中")."""
    one = units(text, size)
    if "\n" in text:
        return max(units(x, size) for x in text.split("\n"))
    tokens = _tokens(text)
    if len(tokens) < 4:
        return one
    return two_lines(text, size)


def two_lines(text: str, size: float = BODY_SIZE) -> float:
    """The width of the longer line when `text` is broken into the two most even lines (one
    line when it is a single piece that cannot be broken)."""
    if "\n" in text:
        return max(units(x, size) for x in text.split("\n"))
    tokens = _tokens(text)
    best = units(text, size)
    for i in range(1, len(tokens)):
        if tokens[i][0] in "、,,。)」》:;:":
            continue
        best = min(best, max(units("".join(tokens[:i]), size), units("".join(tokens[i:]), size)))
    return best


def _shown(v, fmt: str) -> str:
    """What a cell shows, for its width: numbers as their format writes them."""
    if isinstance(v, str):
        return v
    if fmt == "pct":
        return f"{v * 100:.1f}%"
    if fmt == "num1":
        return f"{v:.1f}"
    if fmt == "date":
        return "2020年12月31日"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
