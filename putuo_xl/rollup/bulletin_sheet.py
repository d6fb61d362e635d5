"""The 通報 sheet: the month's 通報 laid out as a page of a document, following 《黨政機關公文格式》
(GB/T 9704-2012) as far as a sheet can — portrait A4 with the standard's margins (top 37 mm,
left 28 mm: a type area of 156 × 225 mm), 三號 (16 pt) 仿宋 body text, about 28 characters a
line, 黑體 first-level headings, the title in 二號 (22 pt) centred, each paragraph indented by
two characters, 發文機關署名 and 成文日期 (the full date) right-aligned as the standard places
them for a document without seal (署名 two characters from the right, the date starting two
characters right of the 署名's first character), page numbers 「— 1 —」 below the text.

Latest month first, each month on its own page; the line above the first (what the sheet holds)
is shown on screen but not printed (the print area starts below it). The same blocks make the
.docx (bulletin_docx.py) that goes into the document system.
"""
from __future__ import annotations

import math

from putuo_xl import layout
from putuo_xl.docx_gbt import signature_indents
from putuo_xl.rollup.grid import Col, Grid, _t, lines_of
from putuo_xl.rollup.rules import INDENT
from putuo_xl.workbook.sheetlayout import PageSetup, SheetLayout

MM = 1 / 25.4                        # inches
MARGINS = (28 * MM, 26 * MM, 37 * MM, 35 * MM)     # left right top bottom: GB/T 9704 5.2.1
TYPE_WIDTH = 83.5                    # 156 mm in column units (589.6 px = 7 × 83.5 + 5)
FONT_BODY = "FangSong"               # 仿宋 (Windows); 仿宋_GB2312 where installed is the same design
FONT_H1 = "SimHei"                   # 黑體
FONT_TITLE = "SimHei"                # 小標宋 is not on every PC: 黑體 instead on the sheet
BODY_PT, TITLE_PT, MARK_PT = 16, 22, 12
BODY_LINE, TITLE_LINE = 22.0, 30.0   # points a line takes in a cell
WIDE_SPACE = "\u3000"


def bulletin_grid(r) -> Grid:
    g = Grid("bulletin", f"{r.plan_title}·{layout.SHEETS['bulletin']}" + ("(示例數據)" if r.sample else ""),
             layout.month_label(r.month), [Col("", TYPE_WIDTH, "para")])
    g.add([_t(r, f"預評估通報(統計截至{layout.month_label(r.month)};最新月份在前,每月一頁;"
                 f"本行不打印)")], "note")
    first = True
    for m in reversed(r.months):
        if not first:
            g.breaks.append(len(g.rows))
        first = False
        blocks = r.bulletin_blocks.get(m) or [("para", x) for x in r.bulletins[m].split("\n")]
        sig = next((t for k, t in blocks if k == "signature"), "")
        day = next((t for k, t in blocks if k == "date"), "")
        spaces = dict(zip(("signature", "date"), signature_indents(sig, day)))
        for kind, text in blocks:
            if kind in ("para", "item", "h1"):
                text = INDENT + text
            elif kind in spaces:        # whole characters: a half goes to the right
                text = text + WIDE_SPACE * int(spaces[kind])
            g.add([text], "b:" + kind)
    g.print_area = (1, 0, len(g.rows) - 1, 0)
    return g


def bulletin_layout(g: Grid, r, sheet_name: str) -> SheetLayout:
    """The 通報 sheet cell by cell (see sheetlayout)."""
    page = PageSetup(landscape=False, margins=MARGINS, fit=(1, 0),
                     footer=f'&C&14&"SimSun,Regular"— &P —', footer_options={"margin": 0.9},
                     hide_gridlines=2)
    lay = SheetLayout(sheet_name, 1, col_widths=[TYPE_WIDTH], page=page, breaks=list(g.breaks),
                      print_area=g.print_area)
    st = lay.style
    base = {"valign": "top", "text_wrap": True}
    st("note", {**base, "font_name": "SimSun", "font_size": 9, "font_color": "595959"})
    st("b:mark", {**base, "font_name": FONT_H1, "font_size": MARK_PT, "font_color": "C00000"})
    st("b:title", {**base, "font_name": FONT_TITLE, "font_size": TITLE_PT, "align": "center",
                   "valign": "vcenter"})
    st("b:h1", {**base, "font_name": FONT_H1, "font_size": BODY_PT})
    for k in ("b:para", "b:item", "b:addressee", "b:blank"):
        st(k, {**base, "font_name": FONT_BODY, "font_size": BODY_PT})
    for k in ("b:signature", "b:date"):
        st(k, {**base, "font_name": FONT_BODY, "font_size": BODY_PT, "align": "right"})
    for values, kind in zip(g.rows, g.kinds):
        text = values[0] if values else None
        if kind == "note":
            lay.add([text], ("note",), 14)
            continue
        size, line = (TITLE_PT, TITLE_LINE) if kind == "b:title" else (BODY_PT, BODY_LINE)
        if kind == "b:mark":
            size, line = MARK_PT, 17.0
        n = lines_of(text or "", TYPE_WIDTH, size) if text else 1
        h = min(409.0, math.ceil(n * line) + (12 if kind == "b:title" else 4))
        lay.add([text], (kind if kind in lay.formats else "b:para",), h)
    return lay
