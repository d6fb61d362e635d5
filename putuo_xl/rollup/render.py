"""Rendering a `Rollup`: each report sheet laid out once (`sheet_layout`: a
`sheetlayout.SheetLayout` with every cell's value and style, merges, widths, heights, print
settings, conditional formats, charts), then written by xlsxwriter (`write_rollup` puts the
sheets into the master through `xlsxsurgery.replace_sheets`) or, from the same layout, by the
ribbon's xlwings writer (`putuo_xl.excel.render`), so both ways produce the same sheets.

A grid (grid.py) is what the tables hold, row by row: title, notes, legend, header, data,
totals; `sheet_layout` places it on the sheet and styles it, with conditional formats for the
status colours. 趨勢 is paginated by trend.py, the 通報 laid out by bulletin_sheet.py.
"""
from __future__ import annotations

import functools
import math
import tempfile
from pathlib import Path

from putuo_xl import layout
from putuo_xl.rollup.bulletin_sheet import bulletin_grid
from putuo_xl.rollup.grid import (BODY_SIZE, DATE_FORMAT, FONT_HEAD, FONT_TEXT, GROUP_FILL,
                                  HEADER_FILL, LINE, NOTE_COLOR, TOTAL_FILL, WRAPPING, Col, Grid,
                                  _head, _month_col, _subtitle, _table, balance, fit_columns,
                                  height_for, kind_height, row_lines, units)
from putuo_xl.rollup.rules import (GRADES, LIGHT_COLORS, LIGHT_MEANING, LIGHTS, MET, NO_VALUE, NOT_MET,
                                   NOT_REPORTED, RATE_BY_TASK, RATE_BY_UNIT, SUBMIT_COLORS)
from putuo_xl.rollup.trend import trend_grid
from putuo_xl.workbook.sheetlayout import (Chart, CondRule, Formats, SheetLayout, WORKBOOK_OPTIONS,
                                           plain_values, report_page, write_xlsx)
from putuo_xl.workbook.sheetlayout import col_letter as _col
from putuo_xl.text import cjk_punct, in_script


def build_grids(r) -> dict[str, Grid]:
    """The report sheets' grids, columns fitted."""
    return {key: build_grid(r, key) for key in layout.ROLLUP_SHEETS}


_GRIDS = {"monthly": lambda r: _monthly(r), "progress": lambda r: _progress(r),
          "indicator_status": lambda r: _indicator_status(r), "trend": lambda r: trend_grid(r),
          "score": lambda r: _score(r), "bulletin": lambda r: bulletin_grid(r)}


def build_grid(r, key: str) -> Grid:
    g = _GRIDS[key](r)
    if key not in ("bulletin", "trend"):       # those two are laid out for print already
        fit_columns(g)
    return g


def _monthly(r) -> Grid:
    cols = [Col("月份", 10, "center"), Col("序號", 5, "int"), Col("單位", 16), Col("類別", 6, "center"),
            Col("承擔任務", 6, "int"), Col("牽頭/責任", 6, "int"), Col("配合", 6, "int"),
            Col("本月填報", 6, "int")]
    cols += [Col(s, 6, "int", head_fill=r.status_colors.get(s)) for s in r.status_columns]
    cols += [Col(NOT_REPORTED, 6, "int"), Col(RATE_BY_UNIT, 8, "pct"),
             Col("報送情況", 9, "center", colors=SUBMIT_COLORS), Col("報送日期", 11, "date"),
             Col("採用文件", 27, "wrap"), Col("備註", 30, "wrap", ours=True)]
    g = Grid("monthly", f"{r.plan_title}·{layout.SHEETS['monthly']}", layout.month_label(r.month), cols,
             min_lines=2)
    statuses = "、".join(r.status_columns + [NOT_REPORTED])
    _head(g, r, _subtitle(r, "按單位統計承擔任務的最新進展狀態和月報報送情況。"),
          [f"{statuses}各列是各單位報告的本單位承擔任務的進展(各單位報告,按單位承擔的任務計),"
           f"不是任務的總體狀態(以牽頭單位的進展為準,見「{layout.SHEETS['progress']}」和"
           f"「{layout.SHEETS['trend']}」表),兩者不同:一項任務的總體狀態可以是推進中,而某個配合單位報告滯後。"
           f"{RATE_BY_UNIT} = 已完成 ÷ 承擔任務;狀態為截至當月最近一次填報(當月未報的單位沿用此前填報,"
           "備註中註明);「本月填報」為當月報表中填了進展狀態的任務數;有按時收到的月報即為按時報送"
           "(其後逾期收到的更正按更正內容統計);採用文件為統計所用月報的文件名。"],
          list(SUBMIT_COLORS.items()))
    _table(g, r, _month_col(r.monthly), total_label="合計")
    # the totals row: 報送情況 (按時39、逾期3、未報2) over 報送情況, 報送日期 and 採用文件
    c0 = next(i for i, c in enumerate(cols) if c.name == "報送情況")
    for ri, kind in enumerate(g.kinds):
        if kind == "total":
            g.merges.append((ri, c0, ri, c0 + 2))
    return g


def _progress(r) -> Grid:
    st_colors = dict(r.status_colors)
    cols = [Col("月份", 10, "center"), Col("任務編號", 7, "center"), Col("工作任務", 30, "wrap"),
            Col("完成時限", 11, "date"), Col("牽頭單位", 14, "wrap"),
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
    g = Grid("progress", f"{r.plan_title}·{layout.SHEETS['progress']}", layout.month_label(r.month), cols,
             min_lines=2)
    _head(g, r, _subtitle(r, "按任務統計各責任單位的進展。"),
          [f"總體狀態取{rule}(多個牽頭或責任單位時取其中最差的,牽頭單位未填報時取已填報單位中最差的);"
           "已完成至未填報各列是各單位報告的進展(各單位報告),總體狀態與之不同時以總體狀態為準;"
           f"預警:已完成或按計劃推進為綠燈,有單位滯後、牽頭單位未填報或距完成時限"
           f"{r.settings['near_deadline_days']}天以內為黃燈,總體滯後或已超過完成時限為紅燈。"],
          [(f"{LIGHTS[k]}:{LIGHT_MEANING[k]}", LIGHT_COLORS[k]) for k in ("green", "yellow", "red")])
    _table(g, r, _month_col(r.progress))
    return g


def _indicator_status(r) -> Grid:
    colors = {MET: "C6EFCE", NOT_MET: "FFC7CE", NO_VALUE: "FFEB9C"}
    cols = [Col("月份", 10, "center"), Col("序號", 5, "int"), Col("任務編號", 7, "center"),
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
    f["序號"] = f.groupby("月份", sort=False).cumcount() + 1      # the indicator ids stay internal
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
        f"{s['lagging_rate'] * fm:g}分以下為滯後,其餘為一般。「滯後」列為本單位報告滯後的任務數。"],
        [(k, v) for k, v in colors.items()])
    _table(g, r, _month_col(r.scores))
    return g


# -- the layout --------------------------------------------------------------------------------
def sheet_layout(g: Grid, r, sheet_name: str) -> SheetLayout:
    """Everything `g` puts on its sheet, cell by cell: the layout the xlsxwriter writer
    (`putuo-xl rollup`) and the ribbon's xlwings writer both write."""
    if g.key == "bulletin":
        from putuo_xl.rollup.bulletin_sheet import bulletin_layout
        return bulletin_layout(g, r, sheet_name)
    width = g.width
    page = report_page(cjk_punct(g.title), _t(r, "截至") + g.month_label,
                       (_t(r, "第"), _t(r, "頁,共"), _t(r, "頁")), **g.page)
    lay = SheetLayout(sheet_name, width, col_widths=[c.width for c in g.cols], page=page,
                      repeat_row=g.repeat_row, freeze=g.freeze, autofilter=g.autofilter,
                      breaks=list(g.breaks), charts=list(g.charts), merges=list(g.merges),
                      print_area=g.print_area)
    st = lay.style
    st("title", _props(font_name=FONT_HEAD, font_size=16, align="center", text_wrap=True))
    st("note", _props(font_size=9, font_color=NOTE_COLOR, text_wrap=True, align="left"))
    st("head", _props(font_name=FONT_HEAD, font_size=10, bold=True, align="center", text_wrap=True,
                      bg_color=HEADER_FILL, **BORDER))
    st("group", _props(font_name=FONT_HEAD, font_size=10, bold=True, align="left",
                       bg_color=GROUP_FILL, **BORDER))
    for kind in ("data", "total"):
        for c in g.cols:
            st(f"{kind}:{c.fmt}", _cell_props(c.fmt, kind))
    last = width - 1 if g.group_span is None else g.group_span     # the table's last column
    data_keys = tuple(f"data:{c.fmt}" if ci <= last else None for ci, c in enumerate(g.cols))
    total_keys = tuple(f"total:{c.fmt}" if ci <= last else None for ci, c in enumerate(g.cols))
    lay.body_styles = [data_keys]
    blank = (None,) * width

    def one(key: str) -> tuple:
        return (key,) + (None,) * (width - 1)

    title_keys, note_keys = one("title"), one("note")
    wrap_idx = [i for i, c in enumerate(g.cols) if c.fmt in WRAPPING]
    wrap_cols = [g.cols[i] for i in wrap_idx]
    merged_at = {(m[0], m[1]): m for m in g.merges}
    for ri, (values, kind, fmts) in enumerate(zip(g.rows, g.kinds, g.row_fmts)):
        values = values[:width] + [None] * (width - len(values))
        h = g.heights.get(ri)
        if kind == "title":
            if width > 1:
                lay.merges.append((ri, 0, ri, width - 1))
            lay.add(values, title_keys, h or 28)
        elif kind == "note":
            if width > 1:
                lay.merges.append((ri, 0, ri, width - 1))
            lay.add(values, note_keys, h or kind_height(g, ri))
        elif kind == "legend":
            lay.add(*_legend_row(g, values, st, width, ri, lay), h or 15)
        elif kind == "header":
            keys = []
            shown = list(values)
            for ci, v in enumerate(values):
                if v is None or ci > last:
                    keys.append(None)
                    continue
                shown[ci] = balance(v, g.cols[ci].width) if isinstance(v, str) else v
                fill = g.cols[ci].head_fill if ri == g.repeat_row else None
                keys.append(st(f"head:{fill}", _props(
                    font_name=FONT_HEAD, font_size=10, bold=True, align="center", text_wrap=True,
                    bg_color=fill, border=1, border_color="A6A6A6")) if fill else "head")
            lay.add(shown, tuple(keys), h or kind_height(g, ri))
        elif kind == "group":
            span = width - 1 if g.group_span is None else g.group_span
            if span > 0:
                lay.merges.append((ri, 0, ri, span))
            lay.add(values, ("group",) * (span + 1) + (None,) * (width - span - 1), h or 16)
        elif kind in ("data", "total"):
            row_merges = [m for (r0, c0), m in merged_at.items() if r0 == ri]
            if fmts or row_merges:
                keys = tuple(st(f"{kind}:{f}", _cell_props(f, kind)) if ci <= last else None
                             for ci, f in enumerate((fmts[ci] if fmts and ci < len(fmts) else None) or c.fmt
                                                    for ci, c in enumerate(g.cols)))
                if h is None:
                    h = kind_height(g, ri)
            else:   # only the wrapping columns can make a row taller
                n = row_lines([values[i] for i in wrap_idx], wrap_cols) if wrap_idx else 1
                n = max(n, g.min_lines if kind == "data" else 1)
                if h is None and n > 1:
                    h = height_for(n)
                keys = data_keys if kind == "data" else total_keys
            lay.add(values, keys, h)
        elif kind == "blank" and h:     # a spacer row: one blank cell keeps its height
            lay.add(values, (st("spacer", _props()),) + (None,) * (width - 1), h)
        else:
            lay.add(values, None if kind == "blank" else blank, h)
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


def _legend_row(g: Grid, values, st, width: int, ri: int, lay: SheetLayout):
    """The legend: 「圖例:」, then each label over as many columns as it needs."""
    row = [values[0]] + [None] * (width - 1)
    keys = [st("legend_label", _props(font_size=9, align="right"))] + [None] * (width - 1)
    c0 = 1
    for label, fill in g.legend:
        key = st(f"legend:{fill}", _props(font_size=9, align="center", bg_color=fill,
                                           border=1, border_color="A6A6A6"))
        c1, w = c0, g.cols[c0].width if c0 < width else 10
        while w < units(label, 9) + 1 and c1 + 1 < width:
            c1 += 1
            w += g.cols[c1].width
        if c1 > c0:
            lay.merges.append((ri, c0, ri, c1))
        row[c0] = label
        keys[c0] = key
        c0 = c1 + 1
        if c0 >= width:
            break
    return row, tuple(keys)


def _t(r, s):
    return in_script(s, r.script) if isinstance(s, str) else s


BASE = {"font_name": FONT_TEXT, "font_size": BODY_SIZE, "valign": "vcenter"}
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
    elif fmt == "date":
        p.update(num_format=DATE_FORMAT, align="center")
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
    chart.set_legend({"position": ch.legend, "font": font})
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
    from putuo_xl.workbook.surgery import deflate
    from putuo_xl.workbook.surgery.plain import plain_sheet_chunks
    return {k: deflate(plain_sheet_chunks(v)) for k, v in _data_rows(rollup).items()}


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

    # a province's big table laid out in a forked process while this one lays out the others
    # (a year of 5,400 units is 65,000 rows: ~1 s of Python)
    apart = {}
    if grids is None and bodies is not None and len(r.scores) >= FORK_ROWS:
        from putuo_xl.parallel import Result
        pending = Result(_layouts_of, (r, APART))
        if pending.forked:
            apart = {key: pending for key in APART}
    fmts = Formats(wb)
    names = []
    for key in layout.ROLLUP_SHEETS:
        name = layout.name(key, r.script)
        names.append(name)
        body = [] if bodies is not None and key in BODY_SHEETS else None
        ws = wb.add_worksheet(name)
        if key in apart:
            lay = apart[key].result()[key]
        else:
            lay = sheet_layout(grids[key] if grids else build_grid(r, key), r, name)
        write_xlsx(ws, lay, fmts.get, body,
                   chart=(lambda ws_, ch: _chart(wb, ws_, name, ch)) if charts else (lambda ws_, ch: None))
        if body:
            bodies[name] = xlsxwriter_rows(body)
    return names


FORK_ROWS = 20000      # rows of 預評估 from which laying it out in a second process pays
APART = ("progress", "score")     # laid out there: about half the work at province scale


def _layouts_of(arg) -> dict[str, SheetLayout]:
    r, keys = arg
    return {key: sheet_layout(build_grid(r, key), r, layout.name(key, r.script)) for key in keys}


_plain_values = plain_values     # the old name
