"""A sheet laid out once, written by two backends.

`SheetLayout` says everything that lands on one report sheet, independent of the writer:
cell values, a style key per cell (the style's properties in `formats`), merged ranges,
column widths, row heights, print settings, frozen panes, the autofilter, page breaks,
conditional formats and charts. The report sheets (rollup_render.sheet_layout,
receipts.receipts_layout) are laid out here and then written

- by `write_xlsx` into an xlsxwriter worksheet (the CLI: `putuo-xl rollup`/`collect`), and
- by `putuo_xl.excel.render.write_layout` into an open workbook through xlwings (the ribbon),

so the two cannot drift apart. Style properties use xlsxwriter's vocabulary (font_name,
font_size, bold, font_color, bg_color, align, valign, text_wrap, border, border_color,
num_format); the xlwings backend translates them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable


# The house style of the report sheets (the rollup's and 收件情況): fonts, fills, the printed
# page (landscape A4, fitted to the width, the sheet's title on top and the page number below).
FONT_TEXT, FONT_HEAD = "SimSun", "SimHei"
HEADER_FILL, TOTAL_FILL, NOTE_COLOR, BORDER_COLOR = "DDEBF7", "F2F2F2", "595959", "A6A6A6"


def report_page(title: str, right: str = "", page_words: tuple[str, str, str] = ("第", "頁,共", "頁"),
                **options) -> "PageSetup":
    """The print settings of a report sheet: `title` centred in the page header, `right` (截至…)
    on its right, 「第 n 頁,共 m 頁」 in the footer (`page_words` in the notice's script)."""
    title = title.replace("&", "&&")
    head = f'&C&11&"{FONT_HEAD},Regular"{title}'
    if right:
        head += f'&R&9&"{FONT_TEXT},Regular"{right.replace("&", "&&")}'
    a, b, c = page_words
    # font size before font name: a size code directly followed by digits ("&112020年") breaks
    page = PageSetup(header=head, header_options={"margin": 0.3},
                     footer=f'&C&9&"{FONT_TEXT},Regular"{a} &P {b} &N {c}',
                     footer_options={"margin": 0.3}, hide_gridlines=1)
    for k, v in options.items():
        setattr(page, k, v)
    return page


def col_letter(ci: int) -> str:
    """0-based column index → letters (0 → A, 26 → AA)."""
    s = ""
    ci += 1
    while ci:
        ci, rem = divmod(ci - 1, 26)
        s = chr(65 + rem) + s
    return s


@dataclass
class Chart:
    """A chart over rows of the sheet: each series is one row, `first_col`..`last_col`;
    the categories are `cat_row` over the same columns."""
    kind: str                  # line | column_stacked
    title: str
    series: list[tuple[str, int, str]]   # (name, grid row index, colour)
    cat_row: int               # grid row with the month labels
    first_col: int
    last_col: int
    anchor: tuple[int, int]    # (row, col) where the chart goes
    y_title: str = ""
    pct: bool = False
    size: tuple[int, int] = (520, 300)
    x_offset: int = 4
    legend: str = "bottom"     # bottom | right


@dataclass
class CondRule:
    """A conditional format on rows r0..r1, columns c0..c1 (0-based, inclusive).
    kind "equal": the cell equals the text `value`; "ge": ≥ `value`; "between":
    `minimum`..`maximum`; "databar": a solid bar of `fill` from `minimum` to `maximum`."""
    r0: int
    c0: int
    r1: int
    c1: int
    kind: str
    fill: str
    value: Any = None
    minimum: Any = None
    maximum: Any = None


@dataclass
class PageSetup:
    landscape: bool = True
    paper: int = 9                                   # A4
    margins: tuple[float, float, float, float] = (0.4, 0.4, 0.7, 0.6)   # left right top bottom
    fit: tuple[int, int] = (1, 0)                    # pages wide, tall (0: as many as needed)
    header: str = ""
    header_options: dict | None = None
    footer: str = ""
    footer_options: dict | None = None
    hide_gridlines: int | None = None                # xlsxwriter's option (1: screen only)


@dataclass
class SheetLayout:
    name: str
    ncols: int
    values: list[list] = field(default_factory=list)
    # per row: a tuple of style keys, one per column (None: the cell is not written), or None
    # (nothing written in the row). Rows of a table share one tuple object.
    styles: list[tuple | None] = field(default_factory=list)
    heights: list[float | None] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    formats: dict[str, dict] = field(default_factory=dict)     # style key -> properties
    col_widths: list[float] = field(default_factory=list)       # Excel character units
    page: PageSetup = field(default_factory=PageSetup)
    repeat_row: int | None = None
    freeze: tuple[int, int] | None = None
    autofilter: tuple[int, int, int, int] | None = None
    breaks: list[int] = field(default_factory=list)
    cond: list[CondRule] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    # style tuples whose rows may go to the surgery as XML once xlsxwriter has written one
    body_styles: list[tuple] = field(default_factory=list)
    # (first row, first col, last row, last col) printed, when the cells alone would not say it
    # (charts beside or below the table)
    print_area: tuple[int, int, int, int] | None = None

    def add(self, values: list, styles: tuple | None, height: float | None = None) -> int:
        self.values.append(values)
        self.styles.append(styles)
        self.heights.append(height)
        return len(self.values) - 1

    def style(self, key: str, props: dict) -> str:
        """Register a style (first registration wins) and return its key."""
        if key not in self.formats:
            self.formats[key] = props
        return key

    def grid(self) -> list[list]:
        """Every row padded to `ncols` (the values an xlwings block write puts from A1)."""
        w = self.ncols
        return [(list(r) + [None] * (w - len(r)))[:max(w, len(r))] for r in self.values]


def plain_values(values) -> bool:
    """Values xlsxsurgery.row_xml writes as xlsxwriter would: no NaN or infinity (xlsxwriter
    turns those into error formulas), no text near Excel's length limit."""
    for v in values:
        if v is None:
            continue
        if v.__class__ is str:
            if len(v) > 16383:
                return False
        elif not math.isfinite(v):
            return False
    return True


class Formats:
    """xlsxwriter Format objects by their properties (one object per distinct set)."""

    def __init__(self, wb):
        self.wb = wb
        self.cache: dict = {}

    def get(self, props: dict):
        key = tuple(sorted(props.items()))
        f = self.cache.get(key)
        if f is None:
            f = self.cache[key] = self.wb.add_format(dict(props))
        return f


# xlsxwriter options of a workbook of styled report sheets that the surgery puts into a master:
# rows stream to disk (inline strings, copied as they are); nothing typed is turned into a
# number, formula or link
WORKBOOK_OPTIONS = {"constant_memory": True, "strings_to_numbers": False,
                    "strings_to_formulas": False, "strings_to_urls": False,
                    "nan_inf_to_errors": True}


def write_xlsx(ws, lay: SheetLayout, fmt: Callable[[dict], Any], body: list | None = None,
               chart: Callable | None = None) -> None:
    """Write `lay` on the xlsxwriter worksheet `ws`; `fmt(props)` gives the Format for a
    style's properties. With `body` (a list), rows whose style tuple is in `lay.body_styles`
    and has been written once already are appended to it as (row, values, formats, height)
    instead (xlsxsurgery.xlsxwriter_rows writes them as XML). `chart(ws, chart)` inserts a
    chart."""
    p = lay.page
    if p.landscape:
        ws.set_landscape()
    ws.set_paper(p.paper)
    left, right, top, bottom = p.margins
    ws.set_margins(left=left, right=right, top=top, bottom=bottom)
    ws.fit_to_pages(*p.fit)
    if p.hide_gridlines is not None:
        ws.hide_gridlines(p.hide_gridlines)
    if p.header:
        ws.set_header(p.header, p.header_options) if p.header_options else ws.set_header(p.header)
    if p.footer:
        ws.set_footer(p.footer, p.footer_options) if p.footer_options else ws.set_footer(p.footer)
    for ci, w in enumerate(lay.col_widths):
        ws.set_column(ci, ci, w)
    if lay.repeat_row is not None:
        ws.repeat_rows(lay.repeat_row)
    if lay.print_area is not None:
        ws.print_area(*lay.print_area)
    if lay.freeze:
        ws.freeze_panes(*lay.freeze)
    objs = {k: fmt(v) for k, v in lay.formats.items()}
    by_tuple: dict[int, list] = {}
    merges: dict[int, list] = {}
    for m in lay.merges:
        merges.setdefault(m[0], []).append(m)
    body_ids = {id(t) for t in lay.body_styles} if body is not None else set()
    written: set[int] = set()
    write_blank, write_string, write_number = ws.write_blank, ws.write_string, ws.write_number
    for ri, (values, keys, h) in enumerate(zip(lay.values, lay.styles, lay.heights)):
        if keys is None:
            if h:
                ws.set_row(ri, h)
            continue
        tid = id(keys)
        cf = by_tuple.get(tid)
        if cf is None:
            cf = by_tuple[tid] = [objs[k] if k is not None else None for k in keys]
        if tid in written and tid in body_ids and plain_values(values):
            body.append((ri, values, cf, h or None))
            continue
        skip: set[int] = set()
        for (r0, c0, r1, c1) in merges.get(ri, ()):
            ws.merge_range(r0, c0, r1, c1, values[c0], cf[c0])
            skip.update(range(c0, c1 + 1))
        if h:
            ws.set_row(ri, h)
        for ci, f in enumerate(cf):
            if f is None or ci in skip:
                continue
            v = values[ci] if ci < len(values) else None
            if v is None:
                write_blank(ri, ci, None, f)
            elif v.__class__ is str:
                write_string(ri, ci, v, f)
            else:
                write_number(ri, ci, v, f)
        written.add(tid)
    if lay.autofilter:
        ws.autofilter(*lay.autofilter)
    if lay.breaks:
        ws.set_h_pagebreaks(sorted(set(lay.breaks)))
    cond_fmts: dict[str, Any] = {}
    for c in lay.cond:
        if c.kind == "databar":
            ws.conditional_format(c.r0, c.c0, c.r1, c.c1, {
                "type": "data_bar", "bar_color": c.fill, "bar_solid": True, "min_type": "num",
                "min_value": c.minimum, "max_type": "num", "max_value": c.maximum})
            continue
        f = cond_fmts.get(c.fill)
        if f is None:
            f = cond_fmts[c.fill] = fmt({"bg_color": c.fill})
        if c.kind == "ge":
            rule = {"type": "cell", "criteria": ">=", "value": c.value, "format": f}
        elif c.kind == "between":
            rule = {"type": "cell", "criteria": "between", "minimum": c.minimum,
                    "maximum": c.maximum, "format": f}
        else:
            rule = {"type": "cell", "criteria": "==", "value": text_literal(c.value), "format": f}
        ws.conditional_format(c.r0, c.c0, c.r1, c.c1, rule)
    if chart is not None:
        for ch in lay.charts:
            chart(ws, ch)


def text_literal(s: str) -> str:
    """A text constant as a formula operand: "…" with quotes doubled."""
    return '"' + s.replace('"', '""') + '"'
