"""趨勢: the months side by side — one table of the overall figures, the indicators' actual
values and their achievement — and three charts, laid out for print.

Printed on landscape A4, fitted to the page width, the sheet is paginated here, not by the
spreadsheet: every row has an explicit height, so the page a row lands on is known. A chart
(legend included) never crosses a page break: it goes to the next page when it does not fit; a
table that does not fit is continued on the next page under a copy of its own header row. The
sheet has no print titles: its three tables have different headers (二 and 三 say 目標 where
一 says 單位), and a repeated title row would print 一's header above them.
"""
from __future__ import annotations

from putuo_xl import layout
from putuo_xl.rollup.grid import (Col, Grid, _clean, _head, _subtitle, _t, kind_height, lines_of,
                                  note_height, units)
from putuo_xl.rollup.rules import (NOT_REPORTED, RATE_BY_TASK, RATE_BY_UNIT, SUBMIT_NOT_DUE,
                                   TASKS_LAGGING, UNITS_LAGGING)
from putuo_xl.workbook.sheetlayout import Chart

# landscape A4 with the report sheets' margins (left/right 0.4", top 0.7", bottom 0.6")
PAGE_WIDTH_PT = (11.69 - 0.8) * 72
PAGE_HEIGHT_PT = (8.27 - 1.3) * 72
SAFETY = 0.94               # what the spreadsheet may add (rounding of heights, its own scale)
MIN_TABLE_PX = 600          # narrower tables are widened: the charts take the table's width
ROW = 14.5                  # a one-line row of the tables (10 pt text)
GROUP_ROW = ROW               # one run of equal heights with the data rows (fewer Office.js actions)
HEADER = 24.0
BLANK = 15.0
CHART_PX = 255
RATIO_CHART_PX = 380
PALETTE = ["2E75B6", "ED7D31", "A5A5A5", "FFC000", "5B9BD5", "70AD47", "264478", "9E480E",
           "636363", "997300", "255E91", "43682B"]


def col_px(width: float) -> int:
    """A column's width in pixels (Excel, the workbook's Calibri 11: 7 per unit + 5)."""
    return int(round(width * 7 + 5))


def _rule(r) -> str:
    return "牽頭單位的進展" if r.settings.get("overall_status") == "lead" else "各單位中最差的進展"


def _overall(r) -> list[tuple[str | None, list[tuple[str, str, str]]]]:
    """Table 一, in groups: (group label, [(row, unit, format)])."""
    rule = _rule(r)
    return [
        ("報表報送", [("應報單位", "個", "int"), ("按時報送", "個", "int"), ("逾期報送", "個", "int"),
                  ("未報送", "個", "int"), (SUBMIT_NOT_DUE, "個", "int"), ("按時報送率", "%", "pct")]),
        (f"任務總體狀態(按任務,以{rule}為準)",
         [("任務總數", "項", "int"), ("已完成", "項", "int"), ("推進中", "項", "int"),
          ("未啟動", "項", "int"), ("滯後", "項", "int"), (NOT_REPORTED, "項", "int"),
          (RATE_BY_TASK, "%", "pct")]),
        ("各單位報告(按單位承擔的任務計)",
         [(UNITS_LAGGING, "個", "int"), (TASKS_LAGGING, "項次", "int")]),
        ("考評指標", [("考評指標", "項", "int"), ("已達標", "項", "int"), ("未達標", "項", "int"),
                  ("指標未填報", "項", "int"), ("指標達標率", "%", "pct")]),
        ("預評估", [("平均得分", "分", "num1")]),
    ]


def _label(name: str) -> str:
    """An indicator as the 趨勢 names it: its name (the indicator ids stay internal)."""
    return name


def _legend_name(name: str, limit: int = 16) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"


def trend_grid(r) -> Grid:
    months = r.months
    n = len(months)
    heads = [layout.month_label(m) for m in months]
    groups = _overall(r)
    ind_rows = [(_label(name), target, vals) for _iid, name, target, *vals in
                r.indicator_trend.itertuples(index=False, name=None)]
    ratio_rows = [(_label(name), target, vals) for _iid, name, target, *vals in
                  r.indicator_ratio.itertuples(index=False, name=None)]

    # -- the columns: wide enough for what they show; a blank column after the table fills the
    # page's width (the charts sit on it, inside what is printed)
    label_w = max([units(_t(r, x), 10) for _g, rows in groups for x, _u, _f in rows]
                  + [units(_t(r, x), 10) for x, _t2, _v in ind_rows] + [units("一、月度總體情況", 10)])
    label_w = min(max(label_w + 1.5, 20), 34)
    unit_w = max([units(_t(r, t or ""), 10) for _x, t, _v in ind_rows] + [units("項次", 10), units("目標", 10)])
    unit_w = max(unit_w + 1.5, 6)
    month_w = max(9.0, units(heads[-1], 10) + 1.5)
    while col_px(label_w) + col_px(unit_w) + n * col_px(month_w) < MIN_TABLE_PX:
        month_w += 0.5
    cols = [Col("項目", round(label_w, 1), "wrap", fit=False), Col("單位", round(unit_w, 1), "center", fit=False)]
    cols += [Col(h, round(month_w, 1), "num", fit=False) for h in heads]
    table_px = sum(col_px(c.width) for c in cols)
    page_px = int(PAGE_WIDTH_PT / 0.75)
    spare_px = page_px - table_px - 4
    if spare_px > 40:
        cols.append(Col("", round((spare_px - 5) / 7, 1), "text", fit=False))
    sheet_px = sum(col_px(c.width) for c in cols)
    scale = min(1.0, PAGE_WIDTH_PT / (sheet_px * 0.75))
    capacity = PAGE_HEIGHT_PT * SAFETY / scale
    last_table_col = 1 + n

    g = Grid("trend", f"{r.plan_title}·{layout.SHEETS['trend']}", layout.month_label(r.month), cols)
    g.group_span = last_table_col
    pager = _Pager(g, capacity)
    _head(g, r, _subtitle(r, "逐月列出報送、任務和考評指標的總體情況。").replace("最新月份在前", "按月份先後"),
          [], [])
    for ri in range(len(g.rows)):
        g.heights[ri] = kind_height(g, ri)
        pager.used += g.heights[ri]
    pager.blank(6)

    # -- 一、月度總體情況, its two charts beside it (or below it when there is no room) -------
    tr = r.trend.set_index("月份")
    hdr = [_t(r, "一、月度總體情況"), _t(r, "單位")] + heads
    body = []
    for label, rows in groups:
        body.append(("group", [_t(r, label)], None, f"group:{label}"))
        for name, unit, fmt in rows:
            vals = [_clean(tr.loc[m, name]) if name in tr.columns else None for m in months]
            body.append(("data", [_t(r, name), _t(r, unit)] + vals, ["wrap", "center"] + [fmt] * n, name))
    line = Chart("line", _t(r, "完成率和報送率"), [], 0, 2, last_table_col, (0, 0), pct=True)
    stack = Chart("column_stacked", _t(r, "任務總體狀態(按任務)"), [], 0, 2, last_table_col, (0, 0),
                  y_title=_t(r, "項"))
    beside_w = spare_px - 16
    table_h = HEADER + sum(_row_height(v, k, f, [c.width for c in cols]) for k, v, f, _x in body)
    charts_h = 2 * (CHART_PX * 0.75 + 8)
    beside = beside_w >= 400 and max(table_h, charts_h) <= capacity
    if beside:
        pager.need(max(table_h, charts_h))
    placed = pager.table(hdr, body)
    cat_row = pager.first_header
    for ch in (line, stack):
        ch.cat_row = cat_row
    line.series = [(_t(r, RATE_BY_TASK), placed[RATE_BY_TASK], "2E75B6"),
                   (_t(r, "按時報送率"), placed["按時報送率"], "70AD47"),
                   (_t(r, "指標達標率"), placed["指標達標率"], "ED7D31")]
    stack.series = [(_t(r, "已完成"), placed["已完成"], "63BE7B"), (_t(r, "推進中"), placed["推進中"], "FFD966"),
                    (_t(r, "未啟動"), placed["未啟動"], "BFBFBF"), (_t(r, "滯後"), placed["滯後"], "F8696B"),
                    (_t(r, NOT_REPORTED), placed[NOT_REPORTED], "DDEBF7")]
    if beside:
        line.size = stack.size = (beside_w, CHART_PX)
        line.anchor = (cat_row, last_table_col + 1)
        line.x_offset = stack.x_offset = 12
        # the second chart starts on the row where the first one ends
        top, ri = 0.0, cat_row
        while ri < len(g.rows) - 1 and top < CHART_PX * 0.75 + 8:
            top += g.heights[ri]
            ri += 1
        while top < CHART_PX * 0.75 + 8:       # the table is shorter than the first chart
            pager.add([], "blank", height=15.0)
            top += 15.0
            ri = len(g.rows)
        stack.anchor = (ri, last_table_col + 1)
        bottom = sum(g.heights[x] for x in range(cat_row, len(g.rows)))
        while bottom < charts_h:
            pager.add([], "blank", height=15.0)
            bottom += 15.0
        g.charts += [line, stack]
    else:
        w = (max(table_px, sheet_px) - 12) // 2
        line.size, stack.size = (w, CHART_PX), (w, CHART_PX)
        stack.x_offset = 4 + w + 8
        pager.charts([line, stack], CHART_PX)

    # what the table's words mean, below it
    pager.blank(6)
    pager.note([_t(r, f"說明:任務總體狀態按任務計,以{_rule(r)}為準({RATE_BY_TASK} = 總體已完成的任務 ÷ "
                            f"全部任務,即通報中的任務完成率);各單位報告按單位承擔的任務計,一項任務的總體狀態"
                            f"可以是推進中,而某個配合單位報告滯後(見通報第三部分;月度匯總中的{RATE_BY_UNIT}"
                            "也按單位計)。未到期為尚未到報送截止日期、也尚未報送的單位,按時報送率不計這些單位;"
                            "指標達成度 = 實際值 ÷ 目標值(「不超過」的指標為目標值 ÷ 實際值),100% 及以上為達標。")])
    # -- 二、考評指標實際值 / 三、考評指標達成度 and its chart ------------------------------------
    if ind_rows:
        pager.blank(8)
        body = [("data", [_t(r, name), _t(r, target)] + [_clean(v) for v in vals],
                 ["wrap", "center"] + ["num"] * n, None) for name, target, vals in ind_rows]
        pager.table([_t(r, "二、考評指標實際值"), _t(r, "目標")] + heads, body)
        pager.blank(8)
        body = [("data", [_t(r, name), _t(r, target)] + [_clean(v) for v in vals],
                 ["wrap", "center"] + ["pct"] * n, i) for i, (name, target, vals) in enumerate(ratio_rows)]
        placed = pager.table([_t(r, "三、考評指標達成度"), _t(r, "目標")] + heads, body)
        series = [(_legend_name(_t(r, name)), placed[i], PALETTE[i % len(PALETTE)])
                  for i, (name, _t2, _v) in enumerate(ratio_rows)]
        rows = sorted(placed[i] for i in range(len(ratio_rows)))
        start = rows[0] if rows else None
        for a, b in zip(rows, rows[1:] + [None]):     # red/green on achievement, per run of rows
            if b != a + 1:
                g.cond_ranges.append((start, 2, a, last_table_col, {"__ratio__": ""}))
                start = b
        ratio = Chart("line", _t(r, "考評指標達成度(≥100% 為達標)"), series, cat_row, 2, last_table_col,
                      (0, 0), pct=True, size=(sheet_px - 8, RATIO_CHART_PX))
        pager.blank(6)
        pager.charts([ratio], RATIO_CHART_PX)
    g.freeze = (cat_row + 1, 2)
    return g


class _Pager:
    """Rows and charts into `g`, a page break wherever the next piece would not fit."""

    def __init__(self, g: Grid, capacity: float):
        self.g, self.capacity, self.used = g, capacity, 0.0
        self.first_header: int = -1

    def _break(self) -> None:
        self.g.breaks.append(len(self.g.rows))
        self.used = 0.0

    def need(self, h: float) -> None:
        if self.used > 0 and self.used + h > self.capacity:
            self._break()

    def add(self, values, kind, fmts=None, height: float | None = None) -> int:
        ri = self.g.add(values, kind, fmts)
        h = height if height is not None else kind_height(self.g, ri)
        self.g.heights[ri] = h
        self.used += h
        return ri

    def note(self, values: list) -> None:
        h = note_height(values[0], sum(c.width for c in self.g.cols))
        self.need(h)
        self.add(values, "note", height=h)

    def blank(self, h: float) -> None:
        if self.used > 0 and self.used + h <= self.capacity:
            self.add([], "blank", height=h)

    def table(self, header: list, body: list) -> dict:
        """Header and rows; a group row stays with the row after it; a table continued on the
        next page gets its header again. Returns {row key: grid row}."""
        g = self.g
        widths = [c.width for c in g.cols]
        heights = [_row_height(values, kind, fmts, widths) for kind, values, fmts, _k in body]
        hdr_h = HEADER
        first = sum(heights[:3])
        self.need(hdr_h + first)
        hr = self.add(header, "header", height=hdr_h)
        g.header_rows.append(hr)
        if self.first_header < 0:
            self.first_header = hr
        placed = {}
        for i, (kind, values, fmts, key) in enumerate(body):
            h = heights[i]
            keep = h + (heights[i + 1] if kind == "group" and i + 1 < len(body) else 0)
            if self.used + keep > self.capacity:
                self._break()
                g.header_rows.append(self.add(header, "header", height=hdr_h))
            ri = self.add(values, kind, fmts, height=h)
            if key is not None:
                placed[key] = ri
        return placed

    def charts(self, charts: list[Chart], px: int, keep_next: int = 0) -> None:
        """Blank rows the charts sit on, side by side, as tall as the tallest (and a gap)."""
        need = px * 0.75 + 10
        rows = int(need // 15) + 1
        self.need(rows * 15.0 + (keep_next * 0.75 + 10 if keep_next else 0))
        if self.used > 0 and self.used + rows * 15.0 > self.capacity:
            self._break()
        anchor = len(self.g.rows)
        for _ in range(rows):
            self.add([], "blank", height=15.0)
        for ch in charts:
            ch.anchor = (anchor, 0)
            self.g.charts.append(ch)


def _row_height(values, kind, fmts, widths) -> float:
    if kind == "group":
        return GROUP_ROW
    lines = 1
    for i, v in enumerate(values):
        f = fmts[i] if fmts and i < len(fmts) else None
        if isinstance(v, str) and f in ("wrap", "center") and i < len(widths):
            lines = max(lines, lines_of(v, widths[i]))
    return ROW if lines == 1 else 13.5 * lines + 4

