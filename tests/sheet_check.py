"""What a program can check of a sheet an official prints: every cell's text within its column
at its font, headers broken evenly, one date style, no internal codes, print titles only above
their own table, charts not cut by a page break (in LibreOffice's rendering).

Text is measured as Excel lays out SimSun/SimHei at the workbook's Calibri 11 (putuo_xl/
workbook/cells.py: a CJK character 2 units at 10.5 pt, a digit or letter 1; a column width unit
is 7 px): the same estimate the sheets are laid out with, with less room kept for the padding,
so that what the layout thinks fits is checked a little more strictly than Excel needs.
"""
from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from putuo_xl.workbook.cells import text_units

ISO_DATE = re.compile(r"(?<![\d-])\d{4}-\d{1,2}-\d{1,2}(?![\d-])")
SLASH_DATE = re.compile(r"(?<!\d)\d{4}/\d{1,2}/\d{1,2}(?!\d)")
HASH_ID = re.compile(r"\d#\d|#\s?\d")
PADDING = 0.5             # column units kept for the cell's padding (the layout keeps 1)
LINE = 1.3                # a line of text takes this many times its font size


@dataclass
class Problem:
    sheet: str
    cell: str
    what: str
    text: str

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}: {self.what}: {self.text[:60]!r}"


def _dim(ws, col: int):
    """The <col> element covering column `col` (openpyxl keys a range by its first letter)."""
    cache = ws.__dict__.setdefault("_check_dims", {})
    if not cache:
        for d in ws.column_dimensions.values():
            if d.min is not None:
                for c in range(d.min, (d.max or d.min) + 1):
                    cache[c] = d
    return cache.get(col)


def _width(ws, col: int) -> float:
    d = _dim(ws, col)
    if d is None or not d.customWidth or d.width is None:
        return 8.43
    # stored with its padding (xlsxwriter: 8 → 8.7109375, 7 px per unit + 5): the width as set
    return max(d.width - 5 / 7, 0)


def _hidden_col(ws, col: int) -> bool:
    d = _dim(ws, col)
    return bool(d is not None and d.hidden)


def _shown(cell) -> str | None:
    v = cell.value
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, str):
        return None if v.startswith("=") else v
    fmt = cell.number_format or "General"
    if isinstance(v, (datetime, date)):
        return f"{v.year}年{v.month}月{v.day}日" if "年" in fmt else v.isoformat()
    if isinstance(v, bool):
        return str(v)
    if "%" in fmt:
        return f"{v * 100:.1f}%"
    if fmt == "0.0":
        return f"{v:.1f}"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _lines(text: str, width: float, size: float) -> list[str]:
    """The lines Excel breaks `text` into in a column `width` wide (greedy, by character)."""
    cap = max(width - PADDING, 1.0)
    out = []
    for par in text.split("\n"):
        cur = ""
        for ch in par:
            if cur and text_units(cur + ch, size) > cap:
                out.append(cur)
                cur = ch
            else:
                cur += ch
        out.append(cur)
    return out


def check_sheet(ws, *, ids: bool = True) -> list[Problem]:
    """The cells of `ws` (openpyxl, not read-only): text wider than its column, a wrapped text
    taller than its row, a header with one character on a line of its own, an ISO or slashed
    date, a "#" id (unless `ids` is False)."""
    problems: list[Problem] = []
    merged = {}
    covered = set()
    for rng in ws.merged_cells.ranges:
        merged[(rng.min_row, rng.min_col)] = rng
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    covered.add((r, c))
    default_h = ws.sheet_format.defaultRowHeight or 15
    for row in ws.iter_rows():
        for cell in row:
            if not hasattr(cell, "column") or (cell.row, cell.column) in covered:
                continue
            if _hidden_col(ws, cell.column):
                continue
            rd = ws.row_dimensions.get(cell.row)
            if rd is not None and rd.hidden:
                continue
            text = _shown(cell)
            if text is None:
                continue
            where = cell.coordinate
            if ISO_DATE.search(text) or SLASH_DATE.search(text):
                if not re.search(r"「[^」]*\d{4}-\d{1,2}-\d{1,2}[^」]*」", text):
                    problems.append(Problem(ws.title, where, "date not written 2020年12月31日", text))
            if isinstance(cell.value, (datetime, date)) and "年" not in (cell.number_format or ""):
                problems.append(Problem(ws.title, where, "date format", cell.number_format))
            if ids and HASH_ID.search(text):
                problems.append(Problem(ws.title, where, "internal id", text))
            rng = merged.get((cell.row, cell.column))
            cols = range(rng.min_col, rng.max_col + 1) if rng else [cell.column]
            rows = range(rng.min_row, rng.max_row + 1) if rng else [cell.row]
            width = sum(_width(ws, c) for c in cols if not _hidden_col(ws, c))
            size = float(cell.font.sz or 11)
            height = sum((ws.row_dimensions[r].height if ws.row_dimensions.get(r) is not None
                          and ws.row_dimensions[r].height else default_h) for r in rows)
            rot = cell.alignment.textRotation if cell.alignment is not None else 0
            if rot:         # stacked (255) or turned text: along the row's height
                along = len(text) * size * 1.05 if rot == 255 else text_units(text, size) * 5.25
                if along > height + 1.5:
                    problems.append(Problem(ws.title, where, f"taller than its row ({height:g} pt)", text))
                continue
            number = not isinstance(cell.value, str)
            if number and text_units(text, size) > width - PADDING:
                # a number or a date too wide for its column shows as ####
                problems.append(Problem(ws.title, where, f"shows #### (column {width:g})", text))
            elif number:
                pass
            elif cell.alignment is not None and cell.alignment.wrap_text:
                lines = _lines(text, width, size)
                need = len(lines) * size * LINE
                if need > height + 1.5:
                    problems.append(Problem(ws.title, where, f"{len(lines)} lines in a row {height:g} pt tall",
                                            text))
                short = [x for x in lines if x]
                head = bool(cell.font is not None and cell.font.b) or _filled(cell)
                if head and len(short) > 1 and len(short[-1]) == 1 and len(text) <= 16 and "\n" not in text:
                    # a header or a legend label broken as "任務推進得/分"
                    problems.append(Problem(ws.title, where, "one character on a line of its own", text))
            elif text_units(text, size) > width - PADDING:
                # a text may run on over empty cells to its right (not in a bordered table)
                extent, c = width, cols[-1] + 1
                while extent < text_units(text, size) + PADDING and c <= ws.max_column + 1:
                    nxt = ws.cell(row=cell.row, column=c)
                    if _shown(nxt) is not None or (cell.border and cell.border.right
                                                   and cell.border.right.style):
                        break
                    extent += _width(ws, c)
                    c += 1
                if extent < text_units(text, size) + PADDING:
                    problems.append(Problem(ws.title, where, f"wider than its column ({width:g})", text))
    return problems


def _filled(cell) -> bool:
    f = cell.fill
    return bool(f is not None and f.fill_type == "solid" and f.fgColor is not None
                and f.fgColor.rgb not in (None, "00000000", "FFFFFFFF"))


def print_title_problems(wb) -> list[Problem]:
    """A sheet whose print titles (a repeated header row) would print above another table: a
    row styled like the header row (bold on the header's fill) with other headings."""
    problems = []
    for ws in wb.worksheets:
        if ws.sheet_state != "visible" or not ws.print_title_rows:
            continue
        m = re.match(r"\$?(\d+):\$?(\d+)", ws.print_title_rows)
        if not m:
            continue
        hr = int(m.group(1))
        head = [c.value for c in ws[hr]]
        fill = ws.cell(row=hr, column=1).fill.fgColor.rgb
        for r in range(hr + 1, ws.max_row + 1):
            a = ws.cell(row=r, column=1)
            if a.font is not None and a.font.b and a.fill is not None and a.fill.fgColor.rgb == fill \
                    and [c.value for c in ws[r]] != head and any(isinstance(c.value, str) for c in ws[r][1:]):
                problems.append(Problem(ws.title, a.coordinate,
                                        "another table's header under the print titles", str(a.value)))
    return problems


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page (pdftotext -layout)."""
    n = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                          text=True, check=True).stdout).group(1))
    return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), "-layout", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout for i in range(1, n + 1)]


def chart_texts(xlsx: Path, sheet: str) -> list[tuple[str, list[str]]]:
    """(title, series names) of each chart on `sheet`, from the workbook's drawing parts."""
    import zipfile
    import xml.etree.ElementTree as ET

    ns = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
          "a": "http://schemas.openxmlformats.org/drawingml/2006/main"}
    with zipfile.ZipFile(xlsx) as z:
        wbx = z.read("xl/workbook.xml").decode("utf-8")
        rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', wbx).group(1)
        target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels) or \
            re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
        sheet_part = "xl/" + target.group(1).lstrip("/").removeprefix("xl/")
        srels = z.read(sheet_part.replace("worksheets/", "worksheets/_rels/") + ".rels").decode("utf-8")
        drawing = re.search(r'Target="\.\./drawings/([^"]+)"', srels)
        if not drawing:
            return []
        drels = z.read(f"xl/drawings/_rels/{drawing.group(1)}.rels").decode("utf-8")
        out = []
        for name in re.findall(r'Target="\.\./charts/([^"]+)"', drels):
            root = ET.fromstring(z.read(f"xl/charts/{name}"))
            title = "".join(t.text or "" for t in root.findall("./c:chart/c:title//a:t", ns))
            series = ["".join(v.text or "" for v in s.findall("./c:tx//c:v", ns))
                      for s in root.findall(".//c:ser", ns)]
            out.append((title, series))
        return out


def squash(text: str) -> str:
    """Page text without spaces (LibreOffice spaces out CJK in charts: 2020 年 8 月)."""
    return re.sub(r"\s+", "", text)


def lines_needed(text: str, width: float, size: float) -> int:
    return max(1, math.ceil(text_units(text, size) / max(width - PADDING, 1)))
