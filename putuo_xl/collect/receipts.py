"""The 收件情況 sheet: the collect report rendered as a printable sheet in the master.

The sheet is built on its own with xlsxwriter (every text cell written with `write_string`, so
a value starting with = + - @ stays text) and then put into the master by `put_sheet` with
`xlsxsurgery.replace_sheets` (the master is never round-tripped through openpyxl).
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from putuo_xl import layout
from putuo_xl.collect.report import CollectReport
from putuo_xl.workbook.cells import cell_lines, text_units
from putuo_xl.workbook.sheetlayout import (BORDER_COLOR, FONT_HEAD, FONT_TEXT, HEADER_FILL, NOTE_COLOR,
                                           Formats, SheetLayout, report_page, write_xlsx)

if TYPE_CHECKING:
    import xlsxwriter

WIDTHS = [20.5, 6, 19.5, 10, 11, 32, 26, 6, 12, 46]
WRAP = {4, 5, 6, 8, 9}        # 填報人, 文件, 來源, 結果, 原因或說明
COLOURS = {"ok": "C6EFCE", "late": "FFEB9C", "bad": "FFC7CE", "old": "EDEDED"}
LEGEND = [("ok", "按時收錄"), ("late", "逾期收錄"), ("bad", "拒收或逾期未報"), ("old", "已被更正版本取代")]
HEADER_ROW = 4  # 0-based: title, summary, legend, blank, header
_ISO_TIME = re.compile(r"(?<![\d-])\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2})?(?![\d-])")
_QUOTED = re.compile(r"「[^「」]*」")
_NUMBER_REF = re.compile(r"#\s?(\d+)")


def sheet_name(script: str) -> str:
    return layout.name("receipts", script)


def _row_height(row: list) -> float:
    """Rows tall enough for their wrapped text (xlsxwriter does not autofit heights)."""
    lines = 1
    for ci, (value, width) in enumerate(zip(row, WIDTHS)):
        text = str(value or "")
        if text and ci in WRAP:
            lines = max(lines, cell_lines(text, width, 10))
    return min(13.5 * lines + 4, 300)


def official_text(text: str, dates: bool = True) -> str:
    """What a cell of 收件情況 says, in the words of the other report sheets: dates as
    2020年10月4日 (one style everywhere), the ledger's numbers as 編號 12 (the 編號 column),
    nothing changed inside 「」 (a file name stays as it was sent)."""
    out, last = [], 0
    for m in _QUOTED.finditer(text):
        out.append(_plain(text[last:m.start()], dates))
        out.append(m.group(0))
        last = m.end()
    out.append(_plain(text[last:], dates))
    return "".join(out)


def _plain(text: str, dates: bool) -> str:
    if dates:
        text = _ISO_TIME.sub(lambda m: layout.date_label(m.group(0)), text)
    return _NUMBER_REF.sub(lambda m: f"編號{m.group(1)}", text)


def build_sheet_workbook(report: CollectReport, path: str | Path) -> Path:
    """A workbook holding only the 收件情況 sheet."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    add_receipts_sheet(wb, report)
    wb.close()
    return Path(path)


def receipts_layout(report: CollectReport) -> SheetLayout:
    """The 收件情況 sheet cell by cell (see sheetlayout): what `putuo-xl collect` writes into
    the master and what the ribbon's 導入回報 writes into the open workbook. It looks like the
    rollup's report sheets: the same fonts, header, borders, legend and printed page."""
    t = report.t
    columns = [t(c) for c in report.RECEIPT_COLUMNS]
    width = len(columns)
    title = report.receipts_title()
    page = report_page(report.receipts_header(), page_words=(t("第"), t("頁,共"), t("頁")))
    lay = SheetLayout(sheet_name(report.script), width, col_widths=list(WIDTHS), page=page,
                      repeat_row=HEADER_ROW, freeze=(HEADER_ROW + 1, 1))
    border = {"border": 1, "border_color": BORDER_COLOR}
    base = {"font_name": FONT_TEXT, "font_size": 10, "valign": "vcenter", "text_wrap": True, **border}
    st = lay.style
    st("title", {"font_name": FONT_HEAD, "font_size": 16, "align": "center", "valign": "vcenter"})
    st("summary", {"font_name": FONT_TEXT, "font_size": 9, "font_color": NOTE_COLOR, "text_wrap": True,
                   "valign": "vcenter"})
    st("legend_label", {"font_name": FONT_TEXT, "font_size": 9, "align": "right", "valign": "vcenter"})
    st("head", {**base, "font_name": FONT_HEAD, "bold": True, "bg_color": HEADER_FILL,
                "align": "center"})
    for k, c in COLOURS.items():
        st("row:" + k, {**base, "bg_color": "#" + c})
        st("legend:" + k, {"font_name": FONT_TEXT, "font_size": 9, "bg_color": "#" + c,
                           "align": "center", "valign": "vcenter", **border})
    st("row:wait", dict(base))

    def one(key: str, value) -> tuple[list, tuple]:
        return [value] + [None] * (width - 1), (key,) + (None,) * (width - 1)

    lay.add(*one("title", title), 28)
    lay.merges.append((0, 0, 0, width - 1))
    summary = t(report.units_line())
    if report.expected_from == "plan":
        summary += t("(本月沒有下發記錄,按任務分解表中有任務的單位統計)")
    if report.due:
        summary += t(f"截止日期{layout.date_label(report.due)}。")
    summary += t(f"更新於{layout.date_label(report.collected_at[:16].replace('T', ' '))}。")
    lay.add(*one("summary", summary), 15)
    lay.merges.append((1, 0, 1, width - 1))
    legend, keys = one("legend_label", t("圖例:"))
    keys = list(keys)
    c0 = 1
    for kind, label in LEGEND:          # each label over as many columns as it needs
        c1, w = c0, WIDTHS[c0]
        while w < text_units(t(label), 9) + 1.5 and c1 + 1 < width:
            c1 += 1
            w += WIDTHS[c1]
        if c1 > c0:
            lay.merges.append((2, c0, 2, c1))
        legend[c0] = t(label)
        keys[c0] = "legend:" + kind
        c0 = c1 + 1
    lay.add(legend, tuple(keys), 15)
    lay.add([None] * width, None)
    lay.add(columns, ("head",) * width, 30)
    number = columns.index(t("編號"))     # the ledger's number: centred like the other sheets' numbers
    for k, c in (*COLOURS.items(), ("wait", None)):
        st("num:" + k, {**base, "align": "center", **({"bg_color": "#" + c} if c else {})})
    row_keys = {k: tuple("num:" + k if ci == number else "row:" + k for ci in range(width))
                for k in (*COLOURS, "wait")}
    table = report.receipts_table()
    for kind, row in table:
        values = [value if isinstance(value, (int, float)) and not isinstance(value, bool)
                  else ("" if value is None else str(value)) for value in row]
        values[2] = layout.date_label(values[2])
        for ci in (8, 9):
            values[ci] = official_text(values[ci])
        lay.add(values, row_keys[kind], _row_height(values))
    lay.body_styles = list(row_keys.values())
    lay.autofilter = (HEADER_ROW, 0, HEADER_ROW + max(len(table), 1), width - 1)
    return lay


def add_receipts_sheet(wb: "xlsxwriter.Workbook", report: CollectReport, body: list | None = None) -> str:
    """Add the 收件情況 sheet to an xlsxwriter workbook (rows are written top to bottom, so a
    constant_memory workbook will do); returns its name. With `body` (a list), the rows after
    the first of each colour are appended to it as (row, values, formats, height) instead of
    being written (see rollup_render.write_into_master)."""
    lay = receipts_layout(report)
    ws = wb.add_worksheet(lay.name)
    write_xlsx(ws, lay, Formats(wb).get, body)
    return lay.name


def put_sheet(master: str | Path, source: str | Path, name: str, dest: str | Path,
              rows=None) -> None:
    """Write `master` with the sheet `name` taken from `source` to `dest` (master is not touched).
    The master is never loaded and saved by openpyxl: what officials added survives. `rows`:
    the sheet's body rows, written after the source (see xlsxsurgery.replace_sheets)."""
    from putuo_xl.workbook.surgery import replace_sheets, sheet_names
    position = receipts_position(sheet_names(master), name)
    replace_sheets(str(master), str(source), sheets=[name], output=str(dest), position=position,
                   rows={name: rows} if rows is not None else None)


def receipts_position(existing: list[str], name: str) -> dict[str, str] | None:
    """Where a new 收件情況 goes: before the rollup's sheets when the master has them, else at
    the end (None: the master has it already, or nothing to say)."""
    have = {n.lower(): n for n in existing}
    if name.lower() in have:
        return None
    for key in layout.ROLLUP_SHEETS:
        for script in ("traditional", "simplified"):
            other = have.get(layout.name(key, script).lower())
            if other:
                return {name: other}
    return None


BODY_MIN_ROWS = 200     # from this many files on, the rows go in as XML (xlsxsurgery rows=)


def write_into_master(report: CollectReport, master: str | Path, dest: str | Path) -> None:
    """Build the sheet and write master + sheet to `dest` (a temporary file the caller renames).
    A long table's rows are not written by xlsxwriter nor parsed by the surgery: see
    xlsxsurgery.xlsxwriter_rows."""
    name = sheet_name(report.script)
    fd, src = tempfile.mkstemp(prefix=".tmp-receipts-", suffix=".xlsx", dir=str(Path(dest).parent))
    os.close(fd)
    try:
        if len(report.month_rows) + len(report.units) < BODY_MIN_ROWS:
            build_sheet_workbook(report, src)
            put_sheet(master, src, name, dest)
            return
        import xlsxwriter

        from putuo_xl.workbook.sheetlayout import WORKBOOK_OPTIONS
        from putuo_xl.workbook.surgery import xlsxwriter_rows
        body: list = []
        wb = xlsxwriter.Workbook(src, WORKBOOK_OPTIONS)
        add_receipts_sheet(wb, report, body)
        wb.close()
        put_sheet(master, src, name, dest, rows=xlsxwriter_rows(body) if body else None)
    finally:
        Path(src).unlink(missing_ok=True)
