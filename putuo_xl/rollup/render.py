"""Rendering a `Rollup`: each report sheet laid out once (`sheet_layout`: a
`sheetlayout.SheetLayout` with every cell's value and style, merges, widths, heights, print
settings, conditional formats, charts), then written by xlsxwriter (`write_rollup` puts the
sheets into the master through `xlsxsurgery.replace_sheets`) or, from the same layout, by the
ribbon's xlwings writer (`putuo_xl.excel.render`), so both ways produce the same sheets.

A grid (`Grid`) is what the tables hold, row by row: title, notes, legend, header, data,
totals; `sheet_layout` places it on the sheet and styles it, with conditional formats for the
status colours.
"""
from __future__ import annotations

import functools
import math
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from putuo_xl import layout
from putuo_xl.rollup.rules import (GRADES, LIGHT_COLORS, LIGHT_MEANING, LIGHTS, MET, NO_VALUE, NOT_MET,
                                   NOT_REPORTED, RATE_BY_TASK, RATE_BY_UNIT, SUBMIT_COLORS)
from putuo_xl.workbook.sheetlayout import (Chart, CondRule, Formats, PageSetup, SheetLayout,
                                           WORKBOOK_OPTIONS, plain_values, write_xlsx)
from putuo_xl.workbook.sheetlayout import col_letter as _col
from putuo_xl.text import cjk_punct, in_script

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
    ours: bool = False                     # our wording (notes): Chinese punctuation


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
        return len(self.rows) - 1

    def values(self) -> list[list]:
        return [list(r) + [None] * (self.width - len(r)) for r in self.rows]


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
    # column by column as Python values (what itertuples gives, without indexing pandas'
    # string arrays cell by cell), cleaned a column at a time
    columns = [_clean_column(data.iloc[:, k]) for k in range(data.shape[1])]
    for values in zip(*columns):
        vals = list(values)
        if simplified:
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
    labels = {m: layout.month_label(m) for m in f["月份"].unique()}     # a dozen months, many rows
    f["月份"] = f["月份"].map(labels)
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
    cols = [Col("月份", 10, "center"), Col("序號", 5, "int"), Col("單位", 16), Col("類別", 6, "center"),
            Col("承擔任務", 6, "int"), Col("牽頭/責任", 6, "int"), Col("配合", 6, "int"),
            Col("本月填報", 6, "int")]
    cols += [Col(s, 6, "int", head_fill=r.status_colors.get(s)) for s in r.status_columns]
    cols += [Col(NOT_REPORTED, 6, "int"), Col(RATE_BY_UNIT, 8, "pct"),
             Col("報送情況", 9, "center", colors=SUBMIT_COLORS), Col("報送日期", 11, "center"),
             Col("採用文件", 27, "wrap"), Col("備註", 30, "wrap", ours=True)]
    g = Grid("monthly", f"{r.plan_title}·{layout.SHEETS['monthly']}", layout.month_label(r.month), cols)
    _head(g, r, _subtitle(r, "按單位統計承擔任務的最新進展狀態和月報報送情況。"),
          [f"{RATE_BY_UNIT} = 已完成 ÷ 承擔任務(按單位承擔的任務計;通報和趨勢表中的{RATE_BY_TASK}"
           f"按任務的總體狀態計,兩者不同);狀態為截至當月最近一次填報(當月未報的單位沿用此前填報,備註中註明);"
           "「本月填報」為當月報表中填了進展狀態的任務數;有按時收到的月報即為按時報送(其後逾期收到的更正"
           "按更正內容統計);採用文件為統計所用的月報(台賬編號和文件名)。"],
          list(SUBMIT_COLORS.items()))
    _table(g, r, _month_col(r.monthly), total_label="合計")
    return g


def _progress(r) -> Grid:
    st_colors = dict(r.status_colors)
    cols = [Col("月份", 10, "center"), Col("任務編號", 7, "center"), Col("工作任務", 28, "wrap"),
            Col("完成時限", 11, "center"), Col("牽頭單位", 14, "wrap"),
            Col("牽頭單位狀態", 9, "center", colors=st_colors), Col("單位數", 5, "int"),
            *[Col(lab, 5, "int", head_fill=r.status_colors.get(lab)) for lab in
              ("已完成", "推進中", "未啟動", "滯後")], Col(NOT_REPORTED, 5, "int"), Col("完成進度", 7, "pct"),
            Col("總體狀態", 8, "center", colors=st_colors),
            Col("預警", 6, "center", colors={LIGHTS[k]: LIGHT_COLORS[k] for k in LIGHTS}),
            Col("說明", 44, "wrap", ours=True)]
    rule = "牽頭單位的狀態" if r.settings["overall_status"] == "lead" else "各單位中最差的狀態"
    if r.settings.get("overall_status_group") == "share":
        rule += (f"(沒有牽頭單位或牽頭單位來自單位組的任務按單位比例:全部完成為已完成,"
                 f"{r.settings['group_lagging_share'] * 100:g}%及以上單位滯後為滯後,其餘為推進中,"
                 f"完成進度取各單位進度的平均值)")
    g = Grid("progress", f"{r.plan_title}·{layout.SHEETS['progress']}", layout.month_label(r.month), cols)
    _head(g, r, _subtitle(r, "按任務統計各責任單位的進展。"),
          [f"總體狀態取{rule}(多個牽頭或責任單位時取其中最差的,牽頭單位未填報時取已填報單位中最差的);"
           f"預警:已完成或按計劃推進為綠燈,有單位滯後、牽頭單位未填報或距完成時限"
           f"{r.settings['near_deadline_days']}天以內為黃燈,總體滯後或已超過完成時限為紅燈。"],
          [(f"{LIGHTS[k]}:{LIGHT_MEANING[k]}", LIGHT_COLORS[k]) for k in ("green", "yellow", "red")])
    _table(g, r, _month_col(r.progress))
    return g


def _indicator_status(r) -> Grid:
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
        f"總分(滿分{fm:g}分)= 任務推進 {pct(w['completion'])}(承擔任務的平均完成度:已完成計 1,"
        f"推進中按填報的完成進度計,未填進度的計 0.5,其餘計 0)"
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
          ["任務完成率按任務的總體狀態計算(已完成任務 ÷ 全部任務,即通報中的任務完成率;月度匯總中的"
           "承擔任務完成率按單位承擔的任務計);未到期為尚未到報送截止日期、也尚未報送的單位,按時報送率不計這些單位;"
           "指標達成度 = 實際值 ÷ 目標值"
           "(「不超過」的指標為目標值 ÷ 實際值),100% 及以上為達標。"], [])
    hdr = g.add([_t(r, "一、月度總體情況"), _t(r, "單位")] + [layout.month_label(m) for m in months],
                "header")
    g.header_rows.append(hdr)
    g.repeat_row = hdr
    g.freeze = (hdr + 1, 2)
    tr = r.trend.set_index("月份")
    spec = [("應報單位", "個", "int"), ("按時報送", "個", "int"), ("逾期報送", "個", "int"),
            ("未報送", "個", "int"), ("未到期", "個", "int"), ("按時報送率", "%", "pct"), ("任務總數", "項", "int"),
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
    g = Grid("bulletin", f"{r.plan_title}·{layout.SHEETS['bulletin']}" + ("(示例數據)" if r.sample else ""),
             layout.month_label(r.month), cols)
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
@functools.lru_cache(maxsize=65536)      # unit names, statuses, notes: the same text again
def _text_width(s: str) -> float:
    """Display width in Excel column units (as LibreOffice/Excel lay out SimSun 10 pt: a CJK or
    full-width character takes about 1.7 units, a digit or letter about 1)."""
    if len(s) > 64:     # the same sum, in the same order (accumulate adds one by one)
        import numpy as np
        cp = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32)
        return float(np.add.accumulate(np.where(cp > 0x2E80, 1.7, 1.0))[-1])
    w = 0.0
    for ch in s:
        w += 1.7 if ord(ch) > 0x2E80 else 1.0
    return w


def _row_height(values, cols, fmts=None, base=13.5) -> float | None:
    lines = 1
    for i, (v, c) in enumerate(zip(values, cols)):
        f = (fmts[i] if fmts and i < len(fmts) else None) or c.fmt
        if isinstance(v, str) and f in ("wrap", "para"):
            usable = max(c.width - 1, 2)
            if len(v) * 1.7 <= usable and "\n" not in v:     # one line whatever its characters
                continue
            n = sum(max(1, math.ceil(_text_width(part) / usable)) for part in v.split("\n"))
            lines = max(lines, n)
    return None if lines == 1 else base * lines + 4


BASE = {"font_name": FONT_TEXT, "font_size": 10, "valign": "vcenter"}
BORDER = {"border": 1, "border_color": "A6A6A6"}


def _props(**p) -> dict:
    """A style's full properties: SimSun 10, vertically centred, then `p`."""
    out = dict(BASE)
    out.update(p)
    return out


def _cell_props(fmt: str, kind: str) -> dict:
    """A table cell's style: `fmt` of its column (or the row's override), `kind` data | total."""
    p = dict(BORDER)
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
    return _props(**p)


def render_xlsx(r, path: str | Path, grids: dict[str, Grid] | None = None, *,
                data_names: dict[str, str] | None = None, charts: bool = True) -> list[str]:
    """Write the rollup sheets (styled) and the hidden `_status` / `_actuals` sheets to a new
    workbook at `path`; returns the sheet names in order. The hidden sheets hold only their
    header here (their rows go in as plain sheets: see write_into_master). `data_names`: other
    names for the hidden sheets; `charts=False`: 趨勢 without its charts."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    wb.set_properties({"title": r.plan_title, "subject": in_script("工作報表", r.script),
                       "author": "putuo-xl", "comments": f"rollup {r.month}"})
    names = add_rollup_sheets(wb, r, grids, charts=charts)
    for hidden, cols in ((layout.STATUS_SHEET, layout.STATUS_COLUMNS),
                         (layout.ACTUALS_SHEET, layout.ACTUALS_COLUMNS)):
        hidden = (data_names or {}).get(hidden, hidden)
        ws = wb.add_worksheet(hidden)
        ws.write_row(0, 0, cols)
        ws.hide()
        names.append(hidden)
    wb.close()
    return names


def sheet_layout(g: Grid, r, sheet_name: str) -> SheetLayout:
    """Everything `g` puts on its sheet, cell by cell: the layout the xlsxwriter writer
    (`putuo-xl rollup`) and the ribbon's xlwings writer both write."""
    width = g.width
    title = cjk_punct(g.title).replace("&", "&&")
    # font size before font name: a size code directly followed by digits ("&112020年") breaks
    page = PageSetup(
        header=f'&C&11&"{FONT_HEAD},Regular"{title}&R&9&"{FONT_TEXT},Regular"'
               f'{_t(r, "截至")}{g.month_label}', header_options={"margin": 0.3},
        footer=f'&C&9&"{FONT_TEXT},Regular"{_t(r, "第")} &P {_t(r, "頁,共")} &N {_t(r, "頁")}',
        footer_options={"margin": 0.3},
        hide_gridlines=1 if g.key != "bulletin" else 2)   # 1: on screen only, never printed
    lay = SheetLayout(sheet_name, width, col_widths=[c.width for c in g.cols], page=page,
                      repeat_row=g.repeat_row, freeze=g.freeze, autofilter=g.autofilter,
                      breaks=list(g.breaks), charts=list(g.charts))
    st = lay.style
    st("title", _props(font_name=FONT_HEAD, font_size=16, align="center", text_wrap=True))
    st("note", _props(font_size=9, font_color=NOTE_COLOR, text_wrap=True, align="left"))
    st("head", _props(font_name=FONT_HEAD, font_size=10, bold=True, align="center", text_wrap=True,
                      bg_color=HEADER_FILL, **BORDER))
    st("doc_title", _props(font_name=FONT_HEAD, font_size=16, align="center", text_wrap=True))
    st("heading", _props(font_name=FONT_HEAD, font_size=12, text_wrap=True))
    st("para", _props(font_size=11, text_wrap=True))
    for kind in ("data", "total"):
        for c in g.cols:
            st(f"{kind}:{c.fmt}", _cell_props(c.fmt, kind))
    data_keys = tuple(f"data:{c.fmt}" for c in g.cols)
    total_keys = tuple(f"total:{c.fmt}" for c in g.cols)
    lay.body_styles = [data_keys]
    blank = (None,) * width

    def one(key: str) -> tuple:
        return (key,) + (None,) * (width - 1)

    title_keys, note_keys = one("title"), one("note")
    wrap_idx = [i for i, c in enumerate(g.cols) if c.fmt in ("wrap", "para")]
    wrap_cols_list = [g.cols[i] for i in wrap_idx]
    total_w = sum(c.width for c in g.cols)
    for ri, (values, kind, fmts) in enumerate(zip(g.rows, g.kinds, g.row_fmts)):
        values = values[:width] + [None] * (width - len(values))
        if kind == "title":
            if width > 1:
                lay.merges.append((ri, 0, ri, width - 1))
            lay.add(values, title_keys, 28)
        elif kind == "note":
            if width > 1:
                lay.merges.append((ri, 0, ri, width - 1))
            lines = max(1, math.ceil(_text_width(values[0] or "") / max(total_w - 2, 10)))
            lay.add(values, note_keys, 13 * lines + 3)
        elif kind == "legend":
            row = [values[0]] + [None] * (width - 1)
            keys = [st("legend_label", _props(font_size=9, align="right"))] + [None] * (width - 1)
            c0 = 1
            for label, fill in g.legend:   # each label spans as many columns as it needs
                key = st(f"legend:{fill}", _props(font_size=9, align="center", bg_color=fill,
                                                   border=1, border_color="A6A6A6"))
                c1, w = c0, g.cols[c0].width if c0 < width else 10
                while w < _text_width(label) + 1 and c1 + 1 < width:
                    c1 += 1
                    w += g.cols[c1].width
                if c1 > c0:
                    lay.merges.append((ri, c0, ri, c1))
                row[c0] = label
                keys[c0] = key
                c0 = c1 + 1
                if c0 >= width:
                    break
            lay.add(row, tuple(keys))
        elif kind == "header":
            keys = []
            for ci, v in enumerate(values):
                if v is None:
                    keys.append(None)
                    continue
                fill = g.cols[ci].head_fill if ri == g.repeat_row else None
                keys.append(st(f"head:{fill}", _props(
                    font_name=FONT_HEAD, font_size=10, bold=True, align="center", text_wrap=True,
                    bg_color=fill, border=1, border_color="A6A6A6")) if fill else "head")
            lay.add(values, tuple(keys), 30)
        elif kind in ("data", "total"):
            if fmts:
                h = _row_height(values, g.cols, fmts)
                keys = tuple(st(f"{kind}:{f}", _cell_props(f, kind)) for f in (
                    (fmts[ci] if ci < len(fmts) else None) or c.fmt for ci, c in enumerate(g.cols)))
            else:   # only the wrapping columns can make a row taller
                h = _row_height([values[i] for i in wrap_idx], wrap_cols_list) if wrap_idx else None
                keys = data_keys if kind == "data" else total_keys
            lay.add(values, keys, h)
        elif kind == "doc_title":
            lay.add(values, one("doc_title"), 30)
        elif kind == "heading":
            lay.add(values, one("heading"), 20)
        elif kind == "para" and values[0]:
            lines = sum(max(1, math.ceil(_text_width(p) / (g.cols[0].width - 2)))
                        for p in values[0].split("\n"))
            lay.add(values, one("para"), min(409, 16 * lines + 4))
        else:
            lay.add(values, None if kind in ("blank", "para") else blank)
    for (r0, c0, r1, c1, colors) in g.cond_ranges:
        if "__ratio__" in colors:
            lay.cond.append(CondRule(r0, c0, r1, c1, "ge", "C6EFCE", value=1))
            lay.cond.append(CondRule(r0, c0, r1, c1, "between", "FFC7CE", minimum=0, maximum=0.99999))
            continue
        for value, fill in colors.items():
            if fill:
                lay.cond.append(CondRule(r0, c0, r1, c1, "equal", fill, value=value))
    for (r0, c0, r1, c1) in g.bar_ranges:
        lay.cond.append(CondRule(r0, c0, r1, c1, "databar", "9BC2E6", minimum=0,
                                 maximum=r.settings["full_marks"]))
    return lay


def _render_grid(wb, ws, fmts: Formats, g: Grid, r, sheet_name: str, body: list | None = None,
                 charts: bool = True):
    """Render `g` on `ws` (see sheetlayout.write_xlsx for `body`)."""
    lay = sheet_layout(g, r, sheet_name)
    write_xlsx(ws, lay, fmts.get, body,
               chart=(lambda ws_, ch: _chart(wb, ws_, sheet_name, ch)) if charts else (lambda ws_, ch: None))


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


# -- the hidden data sheets: plain worksheet XML ----------------------------------------------------
# xlsxwriter costs ~4 s per 900k cells at province scale; xlsxsurgery.plain_sheet_xml ~0.5 s, and
# the surgery puts such a sheet in without parsing it.
def _data_rows(r) -> dict[str, list[list]]:
    return {layout.STATUS_SHEET: [list(layout.STATUS_COLUMNS), *r.status_rows],
            layout.ACTUALS_SHEET: [list(layout.ACTUALS_COLUMNS), *r.actual_rows]}


def render_bytes(r, grids: dict[str, Grid] | None = None, data_sheets: bool = True, *,
                 data_names: dict[str, str] | None = None, charts: bool = True) -> bytes:
    """The rollup sheets in a new workbook, as bytes; with `data_sheets`, `_status`/`_actuals`
    hold their rows, else only their header (see write_rollup). `data_names`: other names for
    those two; `charts=False`: 趨勢 without its charts."""
    names = data_names or {}
    with tempfile.TemporaryDirectory(prefix="putuo-xl-rollup-") as tmp:
        path = Path(tmp) / "rollup.xlsx"
        render_xlsx(r, path, grids, data_names=names, charts=charts)
        if data_sheets:
            from putuo_xl.workbook.surgery import plain_sheet_xml, replace_sheets
            full = Path(tmp) / "full.xlsx"
            plain = {names.get(k, k): plain_sheet_xml(v) for k, v in _data_rows(r).items()}
            replace_sheets(path, path, sheets=[], output=full, hidden=list(plain), plain=plain)
            path = full
        return path.read_bytes()


def render_standalone(r, path: str | Path) -> Path:
    """The rollup sheets alone in a new workbook (the same sheets write_rollup puts into the master)."""
    from putuo_xl.fileio import atomic_write_bytes
    return atomic_write_bytes(path, render_bytes(r))


def write_rollup(master_path, rollup, output=None, receipts=None) -> Path:
    """Render the rollup and put its sheets into the master (or into `output`, a copy of the
    master with the new sheets). Atomic: one rename at the end, a killed or failing run leaves
    the previous file as it was; refuses a target open in Excel/WPS.

    `receipts`: a CollectReport whose 收件情況 sheet goes into the master in the same pass (see
    `write_into_master`)."""
    from putuo_xl.fileio import AtomicPath, ensure_not_open

    master = Path(master_path)
    out = Path(output) if output else master
    ensure_not_open(out)
    with AtomicPath(out) as final:
        write_into_master(master, final, rollup, receipts)
    return out


def write_into_master(master: Path, dest: Path, rollup=None, receipts=None) -> None:
    """`master` with the rollup's sheets and/or the 收件情況 sheet of `receipts` (a
    CollectReport) → `dest`, in ONE `xlsxsurgery.replace_sheets` pass: the styled sheets are
    rendered into one xlsxwriter workbook; `_status`/`_actuals` go in as plain sheets
    (xlsxsurgery's fast path), compressed in a thread while the styled sheets are rendered.
    Sheets the master already has stay where the official put them; new report sheets go
    before the hidden data sheets, a new 收件情況 before the rollup's sheets (or at the end) —
    the same places two separate runs of collect and rollup give them."""
    from putuo_xl.parallel import Result
    from putuo_xl.workbook.surgery import replace_sheets, sheet_names

    existing = sheet_names(master)
    have = {n.casefold() for n in existing}
    names: list[str] = []
    position: dict[str, str | None] = {}
    if receipts is not None:
        from putuo_xl.collect.receipts import receipts_position, sheet_name
        rname = sheet_name(receipts.script)
        names.append(rname)
        position.update(receipts_position(existing, rname) or {})
    bodies: dict = {}
    data = None
    try:
        if rollup is not None:
            # _status/_actuals (a million cells in a province) are written and compressed in a
            # forked process while this one renders the styled sheets (here, where it cannot)
            data = Result(_data_sheets, rollup)
            rnames = [layout.name(k, rollup.script) for k in layout.ROLLUP_SHEETS]
            names += rnames
            anchor = layout.META_SHEET if layout.META_SHEET.casefold() in have else None
            if anchor:
                position.update({n: anchor for n in rnames if n.casefold() not in have})
        with tempfile.TemporaryDirectory(prefix="putuo-xl-sheets-", dir=str(Path(dest).parent)) as tmp:
            source = Path(tmp) / "sheets.xlsx"
            _render_source(source, rollup, receipts, bodies)
            plain = {}
            if data is not None:     # taken when the surgery writes them, after everything else
                plain = {k: functools.partial(_pick, data, k)
                         for k in (layout.STATUS_SHEET, layout.ACTUALS_SHEET)}
            replace_sheets(master, source, sheets=names, output=dest,
                           hidden=list(plain), position=position or None,
                           plain=plain or None, rows=bodies or None)
            data = None
    finally:
        if data is not None:
            data.cancel()


def _pick(pending, name: str):
    return pending.result()[name]


def _data_sheets(rollup) -> dict:
    """{sheet name: compressed plain worksheet XML} for `_status` and `_actuals`."""
    from putuo_xl.workbook.surgery import deflate, plain_sheet_xml
    return {k: deflate(plain_sheet_xml(v)) for k, v in _data_rows(rollup).items()}


def _render_source(path: Path, rollup=None, receipts=None, bodies: dict | None = None) -> None:
    """The styled sheets in a new workbook at `path`; the big tables' rows go to `bodies`
    (see add_rollup_sheets) — written after `wb.close()`, when every format has its index."""
    import xlsxwriter

    # constant_memory: rows stream to disk with inline strings, which the surgery copies as they
    # are (shared strings it has to turn into inline strings cell by cell)
    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    from putuo_xl.workbook.surgery import xlsxwriter_rows

    if receipts is not None:
        from putuo_xl.collect.receipts import add_receipts_sheet
        body = [] if bodies is not None else None
        name = add_receipts_sheet(wb, receipts, body)
        if body:
            bodies[name] = xlsxwriter_rows(body)
    if rollup is not None:
        add_rollup_sheets(wb, rollup, bodies=bodies)
    wb.close()


BODY_SHEETS = ("monthly", "score")     # one row per unit: thousands of rows in a province


def add_rollup_sheets(wb, r, grids: dict[str, Grid] | None = None,
                      bodies: dict | None = None, charts: bool = True) -> list[str]:
    """Add the styled rollup sheets to an xlsxwriter workbook (made with WORKBOOK_OPTIONS);
    returns their names in order. With `bodies` (a dict), the big tables' data rows are left
    to `xlsxsurgery.replace_sheets(rows=bodies)`: bodies[sheet name] is set to their writer."""
    from putuo_xl.workbook.surgery import xlsxwriter_rows

    grids = grids or build_grids(r)
    fmts = Formats(wb)
    names = []
    for key in layout.ROLLUP_SHEETS:
        name = layout.name(key, r.script)
        names.append(name)
        body = [] if bodies is not None and key in BODY_SHEETS else None
        _render_grid(wb, wb.add_worksheet(name), fmts, grids[key], r, name, body, charts)
        if body:
            bodies[name] = xlsxwriter_rows(body)
    return names


_plain_values = plain_values     # the old name
