"""The 收件情況 sheet: the collect report rendered as a printable sheet in the master.

The sheet is built on its own with xlsxwriter (every text cell written with `write_string`, so
a value starting with = + - @ stays text) and then put into the master by `put_sheet` with
`xlsxsurgery.replace_sheets` (the master is never round-tripped through openpyxl).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from putuo_xl import layout
from putuo_xl.collect.report import CollectReport
from putuo_xl.workbook.sheetlayout import Formats, PageSetup, SheetLayout, write_xlsx

if TYPE_CHECKING:
    import xlsxwriter

WIDTHS = [18, 10, 17, 10, 22, 34, 28, 7, 16, 60]
COLOURS = {"ok": "C6EFCE", "late": "FFEB9C", "bad": "FFC7CE", "old": "EDEDED"}
LEGEND = [("ok", "按時收錄"), ("late", "逾期收錄"), ("bad", "拒收或逾期未報"), ("old", "已被更正版本取代")]
HEADER_ROW = 4  # 0-based: title, summary, legend, blank, header


def sheet_name(script: str) -> str:
    return layout.name("receipts", script)


def _row_height(row: list) -> float:
    """Rows tall enough for their wrapped text (xlsxwriter does not autofit heights)."""
    lines = 1
    for value, width in zip(row, WIDTHS):
        text = str(value or "")
        if not text:
            continue
        # a CJK character (3 bytes in UTF-8) is about two width units wide at 10 pt
        units = (len(text.encode("utf-8")) + len(text)) // 2
        lines = max(lines, -(-units // max(int(width * 1.1), 1)))
    return min(13.5 * lines + 2, 200)


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
    the master and what the ribbon's 導入回報 writes into the open workbook."""
    t = report.t
    columns = [t(c) for c in report.RECEIPT_COLUMNS]
    width = len(columns)
    title = report.receipts_title()
    page = PageSetup(header="&C&\"SimHei,Bold\"" + report.receipts_header().replace("&", "&&"),
                     footer="&C" + t("第 &P 頁,共 &N 頁"))
    lay = SheetLayout(sheet_name(report.script), width, col_widths=list(WIDTHS), page=page,
                      repeat_row=HEADER_ROW, freeze=(HEADER_ROW + 1, 1))
    base = {"font_name": "SimSun", "font_size": 10, "valign": "top", "text_wrap": True, "border": 1}
    st = lay.style
    st("title", {"font_name": "SimHei", "font_size": 16, "bold": True})
    st("summary", {"font_name": "SimSun", "font_size": 10})
    st("head", {**base, "font_name": "SimHei", "bold": True, "bg_color": "#D9E1F2",
                "align": "center", "valign": "vcenter"})
    for k, c in COLOURS.items():
        st("row:" + k, {**base, "bg_color": "#" + c})
    st("row:wait", dict(base))
    for k, c in COLOURS.items():
        st("legend:" + k, {"font_name": "SimSun", "font_size": 10, "bg_color": "#" + c, "border": 1})

    def one(key: str, value) -> tuple[list, tuple]:
        return [value] + [None] * (width - 1), (key,) + (None,) * (width - 1)

    lay.add(*one("title", title))
    s = report.stats()
    summary = t(report.units_line())
    if report.expected_from == "plan":
        summary += t("(本月沒有下發記錄,按任務分解表中有任務的單位統計)")
    if report.due:
        summary += t(f"截止日期 {report.due}。")
    summary += t(f"更新於 {report.collected_at[:16].replace('T', ' ')}。")
    lay.add(*one("summary", summary))
    legend, keys = one("summary", t("圖例:"))
    keys = list(keys)
    for i, (kind, label) in enumerate(LEGEND):
        legend[1 + i] = t(label)
        keys[1 + i] = "legend:" + kind
    lay.add(legend, tuple(keys))
    lay.add([None] * width, None)
    lay.add(columns, ("head",) * width)
    row_keys = {k: ("row:" + k,) * width for k in (*COLOURS, "wait")}
    table = report.receipts_table()
    for kind, row in table:
        values = [value if isinstance(value, (int, float)) and not isinstance(value, bool)
                  else ("" if value is None else str(value)) for value in row]
        lay.add(values, row_keys[kind], _row_height(row))
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
