"""The xlwings backend of `sheetlayout.SheetLayout`: a report sheet written into the OPEN
workbook as the CLI writes it into the file (values, number formats, fonts, fills, borders,
alignment, merges, column widths, row heights, conditional formats, frozen panes, charts).

Every engine xlwings drives does it the same way: desktop Excel (COM, the classic add-in's
RunPython) and the remote engine behind xlwings Server (the Office.js add-in), where each
call below becomes one action the client replays. Writes are batched: one value block per
sheet (chunked), and each style property is set on rectangles of cells sharing its value —
the most common value once on the whole sheet area, the others on as few rectangles as the
layout allows (a few dozen actions per sheet, never cell by cell).

Print settings, page breaks and the autofilter buttons: xlwings sets only the print area; on
desktop Excel they go through COM (`page_setup_com`), on the remote engine the sheet keeps
what it has — see docs/excel.md.
The 趨勢 charts are native charts; their series are rows that are not next to each other,
and a chart made through xlwings takes one rectangle of data, so each chart's rows are
copied into a block of the hidden sheet `_charts` (layout.CHARTS_SHEET) that it plots.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from putuo_xl.workbook.sheetlayout import Chart, SheetLayout, col_letter as _col
from putuo_xl.excel.book import BookIO

DEFAULT_ROW_HEIGHT = 15.0          # points: xlsxwriter's (and Excel's Calibri 11) default
CLEAR_MARGIN_ROWS = 200            # rows below what we know of that are reset too
MAX_HEIGHT_ACTIONS = 120           # more row-height changes than this: Excel fits the table rows
PROPS = ("font_name", "font_size", "bold", "font_color", "bg_color", "num_format", "align",
         "valign", "text_wrap", "border")
# what a cleared cell has (None: depends on the workbook, always set)
CLEARED = {"font_name": None, "font_size": None, "bold": False, "font_color": None,
           "bg_color": None, "num_format": "General", "align": None, "valign": None,
           "text_wrap": False, "border": None}
# visible on an empty cell: an unstyled cell must keep the cleared value
VISIBLE = ("bg_color", "border")
_SKIP = object()                   # a cell whose value of a property does not matter


def chars_to_points(width: float) -> float:
    """Excel column width in characters (what xlsxwriter and COM take) → points (what the
    remote engine takes): pixels = 7 per character + 5 padding at Calibri 11, rounded as
    xlsxwriter rounds them (a width like 10.7 gives the same column both ways)."""
    if width <= 0:
        return 0.0
    px = int(width * 12 + 0.5) if width < 1 else int(width * 7 + 0.5) + 5
    return px * 0.75


def row_points(h: float) -> float:
    """A row height as Excel keeps it: whole pixels (xlsxwriter rounds the same way)."""
    return round(h * 4 / 3) * 0.75


def _hex(c: str | None) -> str | None:
    if not c:
        return None
    c = c.lstrip("#")
    return "#" + c.upper()


def _value(props: dict, prop: str):
    v = props.get(prop)
    if prop == "bold" or prop == "text_wrap":
        return bool(v)
    if prop in ("bg_color", "font_color"):
        return _hex(v)
    if prop == "border":
        return (_hex(props.get("border_color")) or "#000000") if v else None
    if prop == "num_format":
        return v or "General"
    if prop == "valign":
        return {"vcenter": "center", "top": "top", "bottom": "bottom"}.get(v or "", "bottom")
    if prop == "align":
        return v or "general"
    return v


# -- rectangles ------------------------------------------------------------------------------
def _row_keys(lay: SheetLayout) -> list[tuple | None]:
    """Per row, the style key of every cell, merged areas taking their first cell's key."""
    rows = list(lay.styles)
    for (r0, c0, r1, c1) in lay.merges:
        key = (lay.styles[r0] or (None,) * lay.ncols)[c0]
        for r in range(r0, r1 + 1):
            keys = list(rows[r] or (None,) * lay.ncols)
            for c in range(c0, c1 + 1):
                keys[c] = key
            rows[r] = tuple(keys)
    return rows


def rectangles(lay: SheetLayout, prop: str, rows: list[tuple | None] | None = None):
    """[(r0, c0, r1, c1, value)] covering every cell whose `prop` matters, equal values in
    rectangles: runs along each row, stacked while the next row has the same run."""
    rows = rows if rows is not None else _row_keys(lay)
    visible = prop in VISIBLE
    cleared = CLEARED[prop]
    cache: dict[int, list] = {}
    done: list = []
    open_: dict[tuple, int] = {}          # (c0, c1, value) -> first row
    w = lay.ncols
    for ri in range(len(rows) + 1):
        keys = rows[ri] if ri < len(rows) else None
        if ri == len(rows):
            runs = []
        else:
            runs = cache.get(id(keys)) if keys is not None else None
            if runs is None:
                vals = []
                for ci in range(w):
                    k = keys[ci] if keys is not None and ci < len(keys) else None
                    if k is None:
                        vals.append(cleared if visible else _SKIP)
                    else:
                        vals.append(_value(lay.formats[k], prop))
                runs = []
                c = 0
                while c < w:
                    v = vals[c]
                    e = c
                    while e + 1 < w and vals[e + 1] == v and (vals[e + 1] is not _SKIP):
                        e += 1
                    if v is not _SKIP:
                        runs.append((c, e, v))
                    c = e + 1
                if keys is not None:
                    cache[id(keys)] = runs
        now = set(runs)
        for run in list(open_):
            if run not in now:
                done.append((open_.pop(run), run[0], ri - 1, run[1], run[2]))
        for run in runs:
            open_.setdefault(run, ri)
    return done


def plan_property(lay: SheetLayout, prop: str, rows=None) -> list[tuple[int, int, int, int, Any]]:
    """The writes for `prop` after the sheet was cleared: [(r0, c0, r1, c1, value)], fewest
    of (a) every rectangle whose value differs from a cleared cell's, (b) the most common
    value over the whole area, then every rectangle with another value."""
    rects = rectangles(lay, prop, rows)
    if not rects:
        return []
    cleared = CLEARED[prop]
    area = Counter()
    for r0, c0, r1, c1, v in rects:
        area[v] += (r1 - r0 + 1) * (c1 - c0 + 1)
    base = area.most_common(1)[0][0]
    a = [x for x in rects if x[4] != cleared] if cleared is not None or prop in VISIBLE else None
    whole = (0, 0, len(lay.values) - 1, lay.ncols - 1, base)
    b = [whole] + [x for x in rects if x[4] != base]
    if prop in VISIBLE and base != cleared:
        b = None    # a fill or border on the whole area would show on cells left empty
    if a is None or (b is not None and len(b) < len(a)):
        return b
    return a


# -- writing ---------------------------------------------------------------------------------
def _rng(sheet, r0, c0, r1, c1):
    return sheet.range((r0 + 1, c0 + 1), (r1 + 1, c1 + 1))


def _apply(rng, prop: str, value) -> None:
    if prop == "font_name":
        rng.font.name = value
    elif prop == "font_size":
        rng.font.size = value
    elif prop == "bold":
        rng.font.bold = value
    elif prop == "font_color":
        rng.font.color = value or "#000000"
    elif prop == "bg_color":
        rng.color = value
    elif prop == "num_format":
        rng.number_format = value
    elif prop == "align":
        rng.horizontal_alignment = value
    elif prop == "valign":
        rng.vertical_alignment = value
    elif prop == "text_wrap":
        rng.wrap_text = value
    elif prop == "border":
        if value:
            rng.borders.set("all", line_style="continuous", color=value)
        else:
            rng.borders.clear()


def _runs(values: list) -> Iterable[tuple[int, int, Any]]:
    """(first, last, value) of runs of equal values."""
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        yield i, j, values[i]
        i = j + 1


def _extent(io: BookIO, sheet) -> tuple[int, int]:
    """(rows, columns) the sheet used before, as far as the engine tells (0 when unknown:
    the server does not send the used range of a sheet the script excludes)."""
    try:
        if io.remote:
            api = sheet.api
            return int(api.get("used_range_row_count") or 0), int(api.get("used_range_column_count") or 0)
        last = sheet.used_range.last_cell
        return last.row, last.column
    except Exception:  # noqa: BLE001 - only a hint for how much to reset
        return 0, 0


def write_layout(io: BookIO, lay: SheetLayout, *, before: str | None = None,
                 chart_sheet: str | None = None) -> Any:
    """Write `lay` as its sheet of the open book: the sheet is added when missing (before the
    sheet `before` when that exists), otherwise cleared first — values, formats, merges,
    conditional formats, row heights and charts of the last run go — and written anew."""
    new = lay.name not in io.sheet_names()
    sheet = io.sheet(lay.name, before=before)
    nrows, ncols = len(lay.values), lay.ncols
    old_rows, old_cols = (0, 0) if new else _extent(io, sheet)
    if not new:
        for ch in reversed(list(sheet.charts)):
            ch.delete()
        sheet.clear()
        span_r = max(nrows, old_rows) + CLEAR_MARGIN_ROWS
        span_c = max(ncols, old_cols, 1)
        whole = _rng(sheet, 0, 0, span_r - 1, span_c - 1)
        whole.unmerge()
        whole.conditional_formats.clear()
        whole.row_height = DEFAULT_ROW_HEIGHT
    # values: one block from A1 (chunked)
    io.write(lay.name, lay.grid(), clear=False)
    # columns and rows
    pts = io.remote
    for c0, c1, w in _runs(list(lay.col_widths)):
        _rng(sheet, 0, c0, 0, c1).column_width = chars_to_points(w) if pts else w
    heights = [row_points(h) if h else DEFAULT_ROW_HEIGHT for h in lay.heights]
    runs = [(r0, r1, h) for r0, r1, h in _runs(heights) if h != DEFAULT_ROW_HEIGHT]
    if len(runs) > MAX_HEIGHT_ACTIONS:
        # a long table whose rows differ in height (wrapped text): Excel fits the table's rows
        # itself in one action; only the other rows (title, notes, headers) get the layout's
        body = {id(t) for t in lay.body_styles}
        rows_in = [i for i, k in enumerate(lay.styles) if id(k) in body]
        if rows_in:
            _rng(sheet, rows_in[0], 0, rows_in[-1], ncols - 1).rows.autofit()
            keep = set(rows_in)
            runs = [(r0, r1, h) for r0, r1, h in runs if not any(r in keep for r in range(r0, r1 + 1))]
    for r0, r1, h in runs:               # the others are new or were reset above
        _rng(sheet, r0, 0, r1, 0).row_height = h
    # formats, property by property
    rows = _row_keys(lay)
    for prop in PROPS:
        for r0, c0, r1, c1, v in plan_property(lay, prop, rows):
            _apply(_rng(sheet, r0, c0, r1, c1), prop, v)
    for (r0, c0, r1, c1) in lay.merges:
        _rng(sheet, r0, c0, r1, c1).merge()
    for c in lay.cond:
        cf = _rng(sheet, c.r0, c.c0, c.r1, c.c1).conditional_formats
        fill = _hex(c.fill)
        if c.kind == "databar":
            cf.add_data_bar(fill, minimum=c.minimum, maximum=c.maximum, gradient=False)
        elif c.kind == "ge":
            cf.add_cell_value("greater_than_or_equal", c.value, fill_color=fill)
        elif c.kind == "between":
            cf.add_cell_value("between", c.minimum, c.maximum, fill_color=fill)
        else:
            from putuo_xl.workbook.sheetlayout import text_literal
            cf.add_cell_value("equal_to", text_literal(c.value), fill_color=fill)
    if lay.freeze:
        r, c = lay.freeze       # xlsxwriter's: rows above r and columns left of c stay
        frozen = f"1:{r}" if not c else (f"A:{_col(c - 1)}" if not r else f"A1:{_col(c - 1)}{r}")
        sheet.freeze_panes.freeze_at(frozen)
    if not io.remote and _is_desktop_excel(io):
        page_setup_com(sheet, lay)
    if lay.page.hide_gridlines == 2:       # xlsxwriter's 2: no gridlines on screen either
        sheet.show_gridlines = False
    if lay.charts and chart_sheet:
        write_charts(io, lay, sheet, chart_sheet)
    return sheet


# -- print settings: desktop Excel only ----------------------------------------------------------
def _is_desktop_excel(io: BookIO) -> bool:
    try:
        return io.book.app.engine.name == "excel"
    except Exception:  # noqa: BLE001
        return False


def header_sections(code: str) -> dict[str, str]:
    """An xlsxwriter header/footer string ("&C…&R…") split into Excel's Left/Center/Right
    sections (a doubled && is a literal ampersand, not a section code)."""
    out = {"L": "", "C": "", "R": ""}
    cur = "C"
    i = 0
    buf = []
    while i < len(code):
        if code[i] == "&" and i + 1 < len(code):
            nxt = code[i + 1]
            if nxt in "LCR":
                out[cur] += "".join(buf)
                buf, cur = [], nxt
                i += 2
                continue
            buf.append(code[i:i + 2])
            i += 2
            continue
        buf.append(code[i])
        i += 1
    out[cur] += "".join(buf)
    return out


def page_setup_com(sheet, lay: SheetLayout) -> None:
    """The CLI's print settings through Excel's own object model (COM: the desktop route; the
    remote engine has no way to them). A printer Excel cannot reach must not stop the refresh:
    failures are left to the sheet's existing settings."""
    p = lay.page
    try:
        app = sheet.book.app.api
        ws = sheet.api
        ps = ws.PageSetup
        try:
            app.PrintCommunication = False
        except Exception:  # noqa: BLE001 - older Excel
            pass
        inch = app.InchesToPoints
        ps.Orientation = 2 if p.landscape else 1          # xlLandscape / xlPortrait
        ps.PaperSize = p.paper                             # 9: xlPaperA4, as in xlsxwriter
        left, right, top, bottom = p.margins
        ps.LeftMargin, ps.RightMargin = inch(left), inch(right)
        ps.TopMargin, ps.BottomMargin = inch(top), inch(bottom)
        ps.HeaderMargin = inch((p.header_options or {}).get("margin", 0.3))
        ps.FooterMargin = inch((p.footer_options or {}).get("margin", 0.3))
        ps.Zoom = False
        ps.FitToPagesWide = p.fit[0] or False
        ps.FitToPagesTall = p.fit[1] or False
        h, f = header_sections(p.header), header_sections(p.footer)
        ps.LeftHeader, ps.CenterHeader, ps.RightHeader = h["L"], h["C"], h["R"]
        ps.LeftFooter, ps.CenterFooter, ps.RightFooter = f["L"], f["C"], f["R"]
        ps.PrintTitleRows = f"${lay.repeat_row + 1}:${lay.repeat_row + 1}" if lay.repeat_row is not None else ""
        if lay.print_area is not None:
            r0, c0, r1, c1 = lay.print_area
            ps.PrintArea = f"${_col(c0)}${r0 + 1}:${_col(c1)}${r1 + 1}"
        ws.ResetAllPageBreaks()
        for b in sorted(set(lay.breaks)):
            ws.HPageBreaks.Add(ws.Rows(b + 1))
        if lay.autofilter and not ws.AutoFilterMode:
            r0, c0, r1, c1 = lay.autofilter
            _rng(sheet, r0, c0, r1, c1).api.AutoFilter()
    except Exception:  # noqa: BLE001 - print settings are a convenience, see docstring
        pass
    finally:
        try:
            sheet.book.app.api.PrintCommunication = True
        except Exception:  # noqa: BLE001
            pass


# -- charts ----------------------------------------------------------------------------------
CHART_TYPES = {"line": "line_markers", "column_stacked": "column_stacked"}


def chart_blocks(lay: SheetLayout) -> tuple[list[list], list[tuple[int, int]]]:
    """The hidden chart-data sheet's rows — per chart, a header row (the categories) and one
    row per series (its name, then its values), a blank row between charts — and each block's
    (first row, last row), 0-based."""
    rows: list[list] = []
    spans = []
    for ch in lay.charts:
        top = len(rows)
        cats = lay.values[ch.cat_row][ch.first_col:ch.last_col + 1]
        rows.append([lay.name + "·" + ch.title] + list(cats))
        for name, ri, _colour in ch.series:
            rows.append([name] + list(lay.values[ri][ch.first_col:ch.last_col + 1]))
        spans.append((top, len(rows) - 1))
        rows.append([])
    return rows, spans


def _position(lay: SheetLayout, ch: Chart, pts_per_char) -> tuple[float, float]:
    """(left, top) in points of a chart anchored like xlsxwriter's insert_chart."""
    r, c = ch.anchor
    top = sum(row_points(h) if h else DEFAULT_ROW_HEIGHT for h in lay.heights[:r]) + 4 * 0.75
    left = sum(pts_per_char(w) for w in lay.col_widths[:c]) + ch.x_offset * 0.75
    return left, top


def write_charts(io: BookIO, lay: SheetLayout, sheet, chart_sheet: str) -> list:
    rows, spans = chart_blocks(lay)
    io.write(chart_sheet, rows, visible=False)
    data = io.book.sheets[chart_sheet]
    out = []
    width = max(len(r) for r in rows)
    for ch, (top, bottom) in zip(lay.charts, spans):
        left, ctop = _position(lay, ch, chars_to_points)
        chart = sheet.charts.add(left=left, top=ctop, width=ch.size[0] * 0.75,
                                 height=ch.size[1] * 0.75, chart_type=CHART_TYPES[ch.kind])
        last = 1 + (ch.last_col - ch.first_col)
        chart.set_source_data(_rng(data, top, 0, bottom, min(last, width - 1)), plot_by="rows")
        chart.title = ch.title
        chart.legend.position = ch.legend
        axis = {}
        if ch.pct:
            axis.update(number_format="0%", minimum_scale=0)
        if ch.y_title:
            axis["title"] = ch.y_title
        if axis:
            chart.value_axis.set(**axis)
        for i, (_name, _ri, colour) in enumerate(ch.series, start=1):
            s = _series(io, chart, i, len(ch.series))
            c = _hex(colour)
            if ch.kind == "line":
                s.set(line_color=c, marker_style="circle", marker_size=6,
                      marker_foreground_color=c, marker_background_color=c)
            else:
                s.set(fill_color=c)
        out.append(chart)
    return out


def _series(io: BookIO, chart, i: int, n: int):
    """Series `i` (1-based) of a chart just made with `n` series: the remote engine cannot
    count them without asking Excel, but we know how many the source has."""
    if io.remote:
        import xlwings as xw
        from xlwings.pro import _xlremote
        return xw.main.ChartSeries(impl=_xlremote.ChartSeries(chart.impl, i))
    return chart.series(i)

