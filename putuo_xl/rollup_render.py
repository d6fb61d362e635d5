"""Rendering a `Rollup`: the value grids every writer shares, and the styled xlsxwriter sheets
that `write_rollup` puts into the master through `xlsxsurgery.replace_sheets`.

A grid is exactly what lands on a sheet, cell for cell, from A1: title, notes, legend, header,
data, totals. `Rollup.sheet_values()` hands the same grids to value-only writers (the xlwings
ribbon), so both ways produce the same cells; the styling here is layered on top, with
conditional formats for the colours so a value-only refresh of a styled sheet still colours.
"""
from __future__ import annotations

import math
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from . import layout
from .errors import PutuoError
from .text import in_script

_EPOCH = date(1899, 12, 30)   # Excel's day 0 (1900 date system)
FONT_TEXT = "SimSun"
FONT_HEAD = "SimHei"
HEADER_FILL = "DDEBF7"
TOTAL_FILL = "F2F2F2"
NOTE_COLOR = "595959"


@dataclass
class Col:
    name: str
    width: float = 8
    fmt: str = "text"          # text | wrap | int | pct | num | num1 | center
    colors: dict[str, str] | None = None   # value → fill (conditional formats)
    databar: bool = False
    head_fill: str | None = None           # the header cell's fill (a status column's colour)


@dataclass
class Chart:
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


@dataclass
class Grid:
    key: str                   # layout.SHEETS key
    title: str
    month_label: str
    cols: list[Col]
    rows: list[list] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)     # title note legend header data total blank para heading
    row_fmts: list[list[str] | None] = field(default_factory=list)   # per-cell fmt override
    header_rows: list[int] = field(default_factory=list)
    repeat_row: int | None = None
    freeze: tuple[int, int] | None = None
    autofilter: tuple[int, int, int, int] | None = None
    breaks: list[int] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)   # (label, fill)
    cond_ranges: list[tuple[int, int, int, int, dict[str, str]]] = field(default_factory=list)
    bar_ranges: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def width(self) -> int:
        return len(self.cols)

    def add(self, values: list, kind: str = "data", fmts: list[str] | None = None) -> int:
        row = list(values) + [None] * (self.width - len(values))
        self.rows.append(row[: max(self.width, len(values))])
        self.kinds.append(kind)
        self.row_fmts.append(fmts)
        return len(self.rows) - 1

    def values(self) -> list[list]:
        return [list(r) + [None] * (self.width - len(r)) for r in self.rows]


def _clean(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    return v


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
    for values in data.itertuples(index=False, name=None):
        vals = [_clean(v) for v in values]
        vals = [_t(r, v) for v in vals]
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
    f["月份"] = f["月份"].map(layout.month_label)
    return f


def _subtitle(r, what: str) -> str:
    first, last = r.months[0], r.months[-1]
    span = layout.month_label(last) if first == last else \
        f"{layout.month_label(first)}至{layout.month_label(last)}"
    return (f"統計截至{layout.month_label(r.month)}({span},共{len(r.months)}個月,最新月份在前)。"
            f"{what}本表由 putuo-xl 根據台賬自動生成,每次刷新匯總時整表重寫,請勿在本表手工修改。")


def build_grids(r) -> dict[str, Grid]:
    return {"monthly": _monthly(r), "progress": _progress(r),
            "indicator_status": _indicator_status(r), "trend": _trend(r), "score": _score(r),
            "bulletin": _bulletin(r)}


def _cat_labels(r) -> dict[str, str]:
    return {"done": "已完成", "in_progress": "推進中", "not_started": "未啟動", "lagging": "滯後"}



def _monthly(r) -> Grid:
    from .rollup import NOT_REPORTED, SUBMIT_COLORS, SUBMIT_LATE, SUBMIT_MISSING, SUBMIT_ON_TIME
    cols = [Col("月份", 10, "center"), Col("序號", 5, "int"), Col("單位", 16), Col("類別", 6, "center"),
            Col("承擔任務", 6, "int"), Col("牽頭/責任", 6, "int"), Col("配合", 6, "int"),
            Col("本月填報", 6, "int")]
    cols += [Col(s, 6, "int", head_fill=r.status_colors.get(s)) for s in r.status_columns]
    cols += [Col(NOT_REPORTED, 6, "int"), Col("完成率", 8, "pct"),
             Col("報送情況", 9, "center", colors=SUBMIT_COLORS), Col("報送日期", 11, "center"),
             Col("備註", 30, "wrap")]
    g = Grid("monthly", f"{r.plan_title}·{layout.SHEETS['monthly']}", layout.month_label(r.month), cols)
    _head(g, r, _subtitle(r, "按單位統計承擔任務的最新進展狀態和月報報送情況。"),
          ["完成率 = 已完成 ÷ 承擔任務;狀態為截至當月最近一次填報(當月未報的單位沿用此前填報);"
           "「本月填報」為當月報表中填了進展狀態的任務數。"],
          [(SUBMIT_ON_TIME, SUBMIT_COLORS[SUBMIT_ON_TIME]), (SUBMIT_LATE, SUBMIT_COLORS[SUBMIT_LATE]),
           (SUBMIT_MISSING, SUBMIT_COLORS[SUBMIT_MISSING])])
    _table(g, r, _month_col(r.monthly), total_label="合計")
    return g


def _progress(r) -> Grid:
    from .rollup import LIGHT_COLORS, LIGHT_MEANING, LIGHTS, NOT_REPORTED
    st_colors = dict(r.status_colors)
    cols = [Col("月份", 10, "center"), Col("任務編號", 7, "center"), Col("工作任務", 28, "wrap"),
            Col("完成時限", 11, "center"), Col("牽頭單位", 14, "wrap"),
            Col("牽頭單位狀態", 9, "center", colors=st_colors), Col("單位數", 5, "int"),
            *[Col(lab, 5, "int", head_fill=r.status_colors.get(lab)) for lab in
              ("已完成", "推進中", "未啟動", "滯後")], Col(NOT_REPORTED, 5, "int"), Col("完成進度", 7, "pct"),
            Col("總體狀態", 8, "center", colors=st_colors),
            Col("預警", 6, "center", colors={LIGHTS[k]: LIGHT_COLORS[k] for k in LIGHTS}),
            Col("說明", 44, "wrap")]
    rule = "牽頭單位的狀態" if r.settings["overall_status"] == "lead" else "各單位中最差的狀態"
    g = Grid("progress", f"{r.plan_title}·{layout.SHEETS['progress']}", layout.month_label(r.month), cols)
    _head(g, r, _subtitle(r, "按任務統計各責任單位的進展。"),
          [f"總體狀態取{rule}(多個牽頭或責任單位時取其中最差的,牽頭單位未填報時取已填報單位中最差的);"
           f"預警:已完成或按計劃推進為綠燈,有單位滯後、牽頭單位未填報或距完成時限"
           f"{r.settings['near_deadline_days']}天以內為黃燈,總體滯後或已超過完成時限為紅燈。"],
          [(f"{LIGHTS[k]}:{LIGHT_MEANING[k]}", LIGHT_COLORS[k]) for k in ("green", "yellow", "red")])
    _table(g, r, _month_col(r.progress))
    return g


def _indicator_status(r) -> Grid:
    from .rollup import MET, NO_VALUE, NOT_MET
    colors = {MET: "C6EFCE", NOT_MET: "FFC7CE", NO_VALUE: "FFEB9C"}
    cols = [Col("月份", 10, "center"), Col("指標編號", 9, "center"), Col("任務編號", 7, "center"),
            Col("指標名稱", 26, "wrap"), Col("目標", 14, "wrap"), Col("方向", 7, "center"),
            Col("目標值", 8, "num"), Col("計量單位", 8, "center"), Col("實際值", 9, "num"),
            Col("填報單位", 14), Col("數據月份", 9, "center"), Col("是否達標", 8, "center", colors=colors),
            Col("差距", 8, "num")]
    g = Grid("indicator_status", f"{r.plan_title}·{layout.SHEETS['indicator_status']}",
             layout.month_label(r.month), cols)
    _head(g, r, _subtitle(r, "逐項列出考評指標的目標和截至當月的最新實際值。"),
          ["實際值取牽頭(責任)單位截至當月最近一次填報的數值,牽頭單位未填時取其他責任單位的;"
           "「不低於」的指標實際值 ≥ 目標值為達標,「不超過」的指標實際值 ≤ 目標值為達標;差距為離目標還差多少。"],
          [(MET, colors[MET]), (NOT_MET, colors[NOT_MET]), (NO_VALUE, colors[NO_VALUE])])
    f = _month_col(r.indicators)
    f["數據月份"] = f["數據月份"].map(lambda x: layout.month_label(x) if isinstance(x, str) and x else "")
    _table(g, r, f)
    return g


def _score(r) -> Grid:
    from .rollup import GRADES, SUBMIT_COLORS
    s = r.settings
    w = s["weights"]
    colors = {GRADES["good"]: "C6EFCE", GRADES["fair"]: "FFEB9C", GRADES["lagging"]: "FFC7CE"}
    cols = [Col("月份", 10, "center"), Col("排名", 5, "int"), Col("單位", 16), Col("類別", 6, "center"),
            Col("任務推進得分", 8, "num1"), Col("報送及時得分", 8, "num1"), Col("指標達標得分", 8, "num1"),
            Col("總分", 8, "num1", databar=True), Col("等次", 6, "center", colors=colors),
            Col("承擔任務", 6, "int"), Col("已完成", 6, "int"), Col("完成或推進中", 7, "int"),
            Col("滯後", 5, "int"), Col("應報次數", 6, "int"), Col("按時", 5, "int"), Col("逾期", 5, "int"),
            Col("未報", 5, "int"), Col("涉及指標", 6, "int"), Col("達標指標", 6, "int"),
            Col("本月報送", 9, "center", colors=SUBMIT_COLORS)]
    fm = s["full_marks"]

    def pct(x):
        return f"{x * 100:g}%"

    g = Grid("score", f"{r.plan_title}·{layout.SHEETS['score']}", layout.month_label(r.month), cols)
    _head(g, r, _subtitle(r, "按預評估總分排名。"), [
        f"總分(滿分{fm:g}分)= 任務推進 {pct(w['completion'])}(承擔任務中已完成或推進中的比例)"
        f" + 報送及時 {pct(w['timeliness'])}(截至當月各月按時報送計 1、逾期計 {s['late_credit']:g}、未報計 0)"
        f" + 指標達標 {pct(w['indicators'])}(牽頭或責任的考評指標中已達標的比例);"
        f"不涉及考評指標的單位按前兩項折算。等次:{s['good_rate'] * fm:g}分及以上為較好,"
        f"{s['lagging_rate'] * fm:g}分以下為滯後,其餘為一般。"],
        [(k, v) for k, v in colors.items()])
    _table(g, r, _month_col(r.scores))
    return g


def _trend(r) -> Grid:
    months = r.months
    n = len(months)
    mw = min(16.0, max(10.0, round((110 - 30) / n, 1)))
    cols = [Col("項目", 24), Col("單位", 6, "center")] + [Col(layout.month_label(m), mw, "num")
                                                         for m in months]
    g = Grid("trend", f"{r.plan_title}·{layout.SHEETS['trend']}", layout.month_label(r.month), cols)
    _head(g, r, _subtitle(r, "逐月列出報送、任務和考評指標的總體情況。").replace("最新月份在前", "按月份先後"),
          ["任務完成率按任務的總體狀態計算(已完成任務 ÷ 全部任務);指標達成度 = 實際值 ÷ 目標值"
           "(「不超過」的指標為目標值 ÷ 實際值),100% 及以上為達標。"], [])
    hdr = g.add([_t(r, "一、月度總體情況"), _t(r, "單位")] + [layout.month_label(m) for m in months],
                "header")
    g.header_rows.append(hdr)
    g.repeat_row = hdr
    g.freeze = (hdr + 1, 2)
    tr = r.trend.set_index("月份")
    spec = [("應報單位", "個", "int"), ("按時報送", "個", "int"), ("逾期報送", "個", "int"),
            ("未報送", "個", "int"), ("按時報送率", "%", "pct"), ("任務總數", "項", "int"),
            ("已完成", "項", "int"), ("推進中", "項", "int"), ("未啟動", "項", "int"), ("滯後", "項", "int"),
            ("未填報", "項", "int"), ("任務完成率", "%", "pct"), ("考評指標", "項", "int"),
            ("已達標", "項", "int"), ("未達標", "項", "int"), ("指標未填報", "項", "int"),
            ("指標達標率", "%", "pct"), ("平均得分", "分", "num1")]
    row_of = {}
    for name, unit, fmt in spec:
        vals = [_clean(tr.loc[m, name]) for m in months]
        row_of[name] = g.add([_t(r, name), _t(r, unit)] + vals, "data",
                             fmts=["text", "center"] + [fmt] * n)
    g.add([], "blank")
    # charts sit below the first table, side by side
    chart_row = len(g.rows)
    for _ in range(17):
        g.add([], "blank")
    last_col = 1 + n
    g.charts.append(Chart("line", _t(r, "完成率和報送率"), [
        (_t(r, "任務完成率"), row_of["任務完成率"], "2E75B6"),
        (_t(r, "按時報送率"), row_of["按時報送率"], "70AD47"),
        (_t(r, "指標達標率"), row_of["指標達標率"], "ED7D31")], hdr, 2, last_col,
        (chart_row, 0), pct=True))
    g.charts.append(Chart("column_stacked", _t(r, "任務狀態(按任務)"), [
        (_t(r, "已完成"), row_of["已完成"], "63BE7B"), (_t(r, "推進中"), row_of["推進中"], "FFD966"),
        (_t(r, "未啟動"), row_of["未啟動"], "BFBFBF"), (_t(r, "滯後"), row_of["滯後"], "F8696B"),
        (_t(r, "未填報"), row_of["未填報"], "DDEBF7")], hdr, 2, last_col, (chart_row, 0),
        y_title=_t(r, "項"), x_offset=540))
    # indicators: actual values and achievement by month
    h2 = g.add([_t(r, "二、考評指標實際值"), _t(r, "目標")] + [layout.month_label(m) for m in months],
               "header")
    g.header_rows.append(h2)
    for row in r.indicator_trend.itertuples(index=False, name=None):
        ind_id, name, target, *vals = row
        g.add([_t(r, f"{ind_id} {name}"), _t(r, target)] + [_clean(v) for v in vals], "data",
              fmts=["wrap", "center"] + ["num"] * n)
    g.add([], "blank")
    h3 = g.add([_t(r, "三、考評指標達成度"), _t(r, "目標")] + [layout.month_label(m) for m in months],
               "header")
    g.header_rows.append(h3)
    ratio_rows = []
    for row in r.indicator_ratio.itertuples(index=False, name=None):
        ind_id, name, target, *vals = row
        ratio_rows.append((ind_id, g.add([_t(r, f"{ind_id} {name}"), _t(r, target)]
                                         + [_clean(v) for v in vals], "data",
                                         fmts=["wrap", "center"] + ["pct"] * n)))
    if ratio_rows:
        g.add([], "blank")
        chart2 = len(g.rows)
        for _ in range(19):
            g.add([], "blank")
        palette = ["2E75B6", "ED7D31", "A5A5A5", "FFC000", "5B9BD5", "70AD47", "264478", "9E480E",
                   "636363", "997300", "255E91", "43682B"]
        g.charts.append(Chart("line", _t(r, "考評指標達成度(≥100% 為達標)"), [
            (ind_id, ri, palette[i % len(palette)]) for i, (ind_id, ri) in enumerate(ratio_rows)],
            hdr, 2, last_col, (chart2, 0), pct=True, size=(860, 340)))
    # the third-table cells get a red/green conditional colour on achievement
    if ratio_rows:
        g.cond_ranges.append((ratio_rows[0][1], 2, ratio_rows[-1][1], last_col, {"__ratio__": ""}))
    return g


def _bulletin(r) -> Grid:
    cols = [Col("", 100, "para")]
    g = Grid("bulletin", f"{r.plan_title}·{layout.SHEETS['bulletin']}", layout.month_label(r.month), cols)
    g.add([_t(r, f"預評估通報(統計截至{layout.month_label(r.month)};可直接複製到文件中,"
              f"最新月份在前,每月一頁)")], "note")
    first = True
    for m in reversed(r.months):
        if not first:
            g.add([], "blank")
            g.breaks.append(len(g.rows))
        first = False
        lines = r.bulletins[m].split("\n")
        for i, line in enumerate(lines):
            if line.startswith(("【示例", "【示例")):
                g.add([line], "heading")
            elif "預評估通報" in line or "预评估通报" in line:
                g.add([line], "doc_title")
            elif re.match(r"^[一二三四五六七八九十]+、", line):
                g.add([line], "heading")
            else:
                g.add([line], "para")
    return g


# -- xlsxwriter rendering ------------------------------------------------------------------------------
def _text_width(s: str) -> float:
    """Display width in Excel column units: CJK and full-width characters count double."""
    w = 0.0
    for ch in s:
        w += 2.0 if ord(ch) > 0x2E80 else 1.1
    return w


def _row_height(values, cols, fmts=None, base=15.0) -> float | None:
    lines = 1
    for i, (v, c) in enumerate(zip(values, cols)):
        f = (fmts[i] if fmts and i < len(fmts) else None) or c.fmt
        if isinstance(v, str) and f in ("wrap", "para"):
            usable = max(c.width - 1, 2)
            n = sum(max(1, math.ceil(_text_width(part) / usable)) for part in v.split("\n"))
            lines = max(lines, n)
    return None if lines == 1 else base * lines + 2


class _Styles:
    def __init__(self, wb):
        self.wb = wb
        self.cache = {}

    def get(self, **props):
        key = tuple(sorted(props.items()))
        f = self.cache.get(key)
        if f is None:
            base = {"font_name": FONT_TEXT, "font_size": 10, "valign": "vcenter"}
            base.update(props)
            f = self.cache[key] = self.wb.add_format(base)
        return f

    def cell(self, fmt: str, kind: str):
        p = {"border": 1, "border_color": "A6A6A6"}
        if kind == "total":
            p.update(bold=True, bg_color=TOTAL_FILL, font_name=FONT_HEAD)
        if fmt == "int":
            p.update(num_format="0", align="center")
        elif fmt == "pct":
            p.update(num_format="0.0%", align="center")
        elif fmt == "num1":
            p.update(num_format="0.0", align="center")
        elif fmt == "num":
            p.update(num_format="General", align="center")
        elif fmt == "center":
            p.update(align="center", text_wrap=True)
        elif fmt in ("wrap", "para"):
            p.update(text_wrap=True)
        return self.get(**p)


def render_xlsx(r, path: str | Path, grids: dict[str, Grid] | None = None) -> list[str]:
    """Write the rollup sheets (styled) and the hidden `_status` / `_actuals` sheets to a new
    workbook at `path`; returns the sheet names in order. The hidden sheets are written as
    empty placeholders here and filled by `_fill_data_sheets` (fast raw XML)."""
    import xlsxwriter

    grids = grids or build_grids(r)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False, "nan_inf_to_errors": True})
    wb.set_properties({"title": r.plan_title, "subject": in_script("工作報表", r.script),
                       "author": "putuo-xl", "comments": f"rollup {r.month}"})
    st = _Styles(wb)
    names = []
    for key in layout.ROLLUP_SHEETS:
        g = grids[key]
        name = layout.name(key, r.script)
        names.append(name)
        ws = wb.add_worksheet(name)
        _render_grid(wb, ws, st, g, r, name)
    for hidden in (layout.STATUS_SHEET, layout.ACTUALS_SHEET):
        ws = wb.add_worksheet(hidden)
        ws.hide()
        names.append(hidden)
    wb.close()
    return names


def _render_grid(wb, ws, st: _Styles, g: Grid, r, sheet_name: str):
    width = g.width
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(1 if g.key != "bulletin" else 2)   # 1: on screen only, never printed
    title = g.title.replace("&", "&&")
    # font size before font name: a size code directly followed by digits ("&112020年") breaks
    ws.set_header(f'&C&11&"{FONT_HEAD},Regular"{title}&R&9&"{FONT_TEXT},Regular"'
                  f'{_t(r, "截至")}{g.month_label}', {"margin": 0.3})
    ws.set_footer(f'&C&9&"{FONT_TEXT},Regular"{_t(r, "第")} &P {_t(r, "頁,共")} &N {_t(r, "頁")}',
                  {"margin": 0.3})
    for ci, c in enumerate(g.cols):
        ws.set_column(ci, ci, c.width)
    if g.repeat_row is not None:
        ws.repeat_rows(g.repeat_row)
    if g.freeze:
        ws.freeze_panes(*g.freeze)
    title_fmt = st.get(font_name=FONT_HEAD, font_size=16, align="center", text_wrap=True)
    note_fmt = st.get(font_size=9, font_color=NOTE_COLOR, text_wrap=True, align="left")
    head_fmt = st.get(font_name=FONT_HEAD, font_size=10, bold=True, align="center", text_wrap=True,
                      bg_color=HEADER_FILL, border=1, border_color="A6A6A6")
    doc_title_fmt = st.get(font_name=FONT_HEAD, font_size=16, align="center", text_wrap=True)
    heading_fmt = st.get(font_name=FONT_HEAD, font_size=12, text_wrap=True)
    para_fmt = st.get(font_size=11, text_wrap=True)
    legend_fmts = {}
    for ri, (values, kind, fmts) in enumerate(zip(g.rows, g.kinds, g.row_fmts)):
        if kind == "title":
            ws.merge_range(ri, 0, ri, width - 1, values[0], title_fmt) if width > 1 else \
                ws.write(ri, 0, values[0], title_fmt)
            ws.set_row(ri, 28)
        elif kind == "note":
            if width > 1:
                ws.merge_range(ri, 0, ri, width - 1, values[0], note_fmt)
            else:
                ws.write(ri, 0, values[0], note_fmt)
            total_w = sum(c.width for c in g.cols)
            lines = max(1, math.ceil(_text_width(values[0] or "") / max(total_w - 2, 10)))
            ws.set_row(ri, 13 * lines + 3)
        elif kind == "legend":
            ws.write(ri, 0, values[0], st.get(font_size=9, align="right"))
            c0 = 1
            for label, fill in g.legend:   # each label spans as many columns as it needs
                f = st.get(font_size=9, align="center", bg_color=fill, border=1, border_color="A6A6A6")
                c1, w = c0, g.cols[c0].width if c0 < width else 10
                while w < _text_width(label) + 1 and c1 + 1 < width:
                    c1 += 1
                    w += g.cols[c1].width
                if c1 > c0:
                    ws.merge_range(ri, c0, ri, c1, label, f)
                else:
                    ws.write(ri, c0, label, f)
                c0 = c1 + 1
                if c0 >= width:
                    break
        elif kind == "header":
            for ci, v in enumerate(values[:width]):
                if v is not None:
                    fill = g.cols[ci].head_fill if ri == g.repeat_row else None
                    ws.write(ri, ci, v, st.get(font_name=FONT_HEAD, font_size=10, bold=True,
                                               align="center", text_wrap=True, bg_color=fill,
                                               border=1, border_color="A6A6A6") if fill else head_fmt)
            ws.set_row(ri, 30)
        elif kind in ("data", "total"):
            for ci, v in enumerate(values[:width]):
                f = (fmts[ci] if fmts and ci < len(fmts) else None) or g.cols[ci].fmt
                fmt = st.cell(f, kind)
                if v is None:
                    ws.write_blank(ri, ci, None, fmt)
                elif isinstance(v, str):
                    ws.write_string(ri, ci, v, fmt)
                else:
                    ws.write_number(ri, ci, v, fmt)
            h = _row_height(values, g.cols, fmts)
            if h:
                ws.set_row(ri, h)
        elif kind == "doc_title":
            ws.write(ri, 0, values[0], doc_title_fmt)
            ws.set_row(ri, 30)
        elif kind == "heading":
            ws.write(ri, 0, values[0], heading_fmt)
            ws.set_row(ri, 20)
        elif kind == "para":
            if values[0]:
                ws.write(ri, 0, values[0], para_fmt)
                lines = sum(max(1, math.ceil(_text_width(p) / (g.cols[0].width - 2)))
                            for p in values[0].split("\n"))
                ws.set_row(ri, min(409, 16 * lines + 4))
    if g.autofilter:
        ws.autofilter(*g.autofilter)
    if g.breaks:
        ws.set_h_pagebreaks(sorted(set(g.breaks)))
    for (r0, c0, r1, c1, colors) in g.cond_ranges:
        if "__ratio__" in colors:
            ws.conditional_format(r0, c0, r1, c1, {"type": "cell", "criteria": ">=", "value": 1,
                                                   "format": _cond_fmt(st, "C6EFCE")})
            ws.conditional_format(r0, c0, r1, c1, {"type": "cell", "criteria": "between",
                                                   "minimum": 0, "maximum": 0.99999,
                                                   "format": _cond_fmt(st, "FFC7CE")})
            continue
        for value, fill in colors.items():
            if not fill:
                continue
            ws.conditional_format(r0, c0, r1, c1, {
                "type": "cell", "criteria": "==", "value": '"' + value.replace('"', '""') + '"',
                "format": _cond_fmt(st, fill)})
    for (r0, c0, r1, c1) in g.bar_ranges:
        ws.conditional_format(r0, c0, r1, c1, {"type": "data_bar", "bar_color": "9BC2E6",
                                               "bar_solid": True, "min_type": "num", "min_value": 0,
                                               "max_type": "num", "max_value": r.settings["full_marks"]})
    for ch in g.charts:
        _chart(wb, ws, sheet_name, ch)


def _cond_fmt(st: _Styles, fill):
    f = st.cache.get(("cond", fill))
    if f is None:
        f = st.cache[("cond", fill)] = st.wb.add_format({"bg_color": fill})
    return f


def _chart(wb, ws, sheet_name: str, ch: Chart):
    if ch.kind == "column_stacked":
        chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    else:
        chart = wb.add_chart({"type": "line"})
    q = "'" + sheet_name.replace("'", "''") + "'"
    for name, row, colour in ch.series:
        s = {"name": name,
             "categories": f"={q}!${_col(ch.first_col)}${ch.cat_row + 1}:${_col(ch.last_col)}${ch.cat_row + 1}",
             "values": f"={q}!${_col(ch.first_col)}${row + 1}:${_col(ch.last_col)}${row + 1}"}
        if ch.kind == "line":
            s.update(line={"color": "#" + colour, "width": 2.0},
                     marker={"type": "circle", "size": 6, "fill": {"color": "#" + colour},
                             "border": {"color": "#" + colour}})
        else:
            s.update(fill={"color": "#" + colour}, border={"color": "#FFFFFF"}, gap=80)
        chart.add_series(s)
    font = {"name": FONT_TEXT, "size": 9}
    chart.set_title({"name": ch.title, "name_font": {"name": FONT_HEAD, "size": 11, "bold": False}})
    chart.set_legend({"position": "bottom", "font": font})
    chart.set_x_axis({"num_font": font})
    y = {"num_font": font, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}
    if ch.pct:
        y.update(num_format="0%", min=0)
    if ch.y_title:
        y["name"] = ch.y_title
        y["name_font"] = font
    chart.set_y_axis(y)
    chart.set_size({"width": ch.size[0], "height": ch.size[1]})
    ws.insert_chart(ch.anchor[0], ch.anchor[1], chart, {"x_offset": ch.x_offset, "y_offset": 4,
                                                         "object_position": 1})


def _col(ci: int) -> str:
    s = ""
    ci += 1
    while ci:
        ci, rem = divmod(ci - 1, 26)
        s = chr(65 + rem) + s
    return s


# -- the hidden data sheets: raw XML (xlsxwriter costs ~4 s per 900k cells at province scale) ------
def _sheet_xml(rows: list[list]) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">']
    ncols = max((len(r) for r in rows), default=1)
    last = f"{_col(max(ncols - 1, 0))}{max(len(rows), 1)}"
    out.append(f'<dimension ref="A1:{last}"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
               '<sheetFormatPr defaultRowHeight="15"/><sheetData>')
    letters = [_col(i) for i in range(ncols)]
    ap = out.append
    for i, row in enumerate(rows, 1):
        cells = []
        for c, v in zip(letters, row):
            if v is None:
                continue
            if isinstance(v, str):
                if v:
                    cells.append(f'<c r="{c}{i}" t="inlineStr"><is><t>{escape(v)}</t></is></c>')
            elif isinstance(v, bool):
                cells.append(f'<c r="{c}{i}" t="b"><v>{int(v)}</v></c>')
            elif isinstance(v, date):
                cells.append(f'<c r="{c}{i}"><v>{(v - _EPOCH).days}</v></c>')
            else:
                fv = float(v)
                if math.isfinite(fv):
                    cells.append(f'<c r="{c}{i}"><v>{repr(fv) if fv != int(fv) else int(fv)}</v></c>')
        ap(f'<row r="{i}">{"".join(cells)}</row>')
    ap('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
       'footer="0.3"/></worksheet>')
    return "".join(out).encode("utf-8")


def _fill_data_sheets(path: Path, sheets: dict[str, list[list]]) -> None:
    """Replace the placeholder worksheets named in `sheets` inside the xlsx at `path`."""
    import xml.etree.ElementTree as ET
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    with zipfile.ZipFile(path) as z:
        wbx = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = {rel.get("Id"): rel.get("Target") for rel in rels}
        part_of = {}
        for sh in wbx.find("m:sheets", ns):
            rid = sh.get(f"{{{ns['r']}}}id")
            t = target[rid]
            part_of[sh.get("name")] = "xl/" + t.lstrip("/").removeprefix("xl/")
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    replace = {part_of[name]: _sheet_xml(rows) for name, rows in sheets.items()}
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=str(path.parent))
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            for info, data in members:
                z.writestr(info.filename, replace.get(info.filename, data),
                           compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_standalone(r, path: str | Path) -> Path:
    """The rollup sheets alone in a new workbook (also the source handed to the surgery)."""
    path = Path(path)
    grids = build_grids(r)
    render_xlsx(r, path, grids)
    _fill_data_sheets(path, {
        layout.STATUS_SHEET: [list(layout.STATUS_COLUMNS)] + [list(x) for x in r.status_rows],
        layout.ACTUALS_SHEET: [list(layout.ACTUALS_COLUMNS)] + [list(x) for x in r.actual_rows]})
    return path


def write_rollup(master_path, rollup, output=None) -> Path:
    """Render the rollup and put its sheets into the master (or into `output`, a copy of the
    master with the new sheets). Atomic; refuses a target open in Excel/WPS."""
    from .fileio import ensure_not_open
    from .xlsxsurgery import replace_sheets, sheet_names

    master = Path(master_path)
    out = Path(output) if output else master
    ensure_not_open(out)
    fd, tmp = tempfile.mkstemp(prefix=".rollup-", suffix=".xlsx", dir=str(out.parent))
    os.close(fd)
    tmp = Path(tmp)
    try:
        render_standalone(rollup, tmp)
        names = [layout.name(k, rollup.script) for k in layout.ROLLUP_SHEETS]
        # new report sheets go before the hidden data sheets (after 考評指標 / 收件情況);
        # sheets the master already has stay where the official put them
        existing = set(sheet_names(master))
        anchor = layout.META_SHEET if layout.META_SHEET in existing else None
        position = {n: anchor for n in names if anchor and n not in existing}
        replace_sheets(master, tmp, sheets=names + [layout.STATUS_SHEET, layout.ACTUALS_SHEET],
                       output=out if output else None,
                       hidden=[layout.STATUS_SHEET, layout.ACTUALS_SHEET], position=position or None)
    except PutuoError:
        raise
    finally:
        tmp.unlink(missing_ok=True)
    return out
