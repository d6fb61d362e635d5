"""Plain sheets for `replace_sheets(plain=...)`: values only, written as worksheet XML directly,
put into the target as given (never parsed).
"""
from __future__ import annotations

import math
from datetime import date, datetime

from putuo_xl.workbook.sheetlayout import col_letter as _col_letter


_EPOCH = date(1899, 12, 30)   # Excel's day 0 (1900 date system)


def xml_escape(data: str) -> str:
    """& < > as XML entities (what xml.sax.saxutils.escape does; importing that module pulls in
    urllib.request, http and ssl: ~10 ms of every command's start)."""
    return data.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def _plain_cell(v) -> str:
    """One <c> element without its reference (cells follow each other in a row; an empty one
    is <c/>)."""
    if v is None:
        return "<c/>"
    if isinstance(v, str):
        if not v:
            return "<c/>"
        if "&" in v or "<" in v or ">" in v:
            v = xml_escape(v)
        if v != v.strip() or "\n" in v:
            return f'<c t="inlineStr"><is><t xml:space="preserve">{v}</t></is></c>'
        return f'<c t="inlineStr"><is><t>{v}</t></is></c>'
    if isinstance(v, bool):
        return f'<c t="b"><v>{int(v)}</v></c>'
    if isinstance(v, datetime):
        v = v.date() if not (v.hour or v.minute or v.second or v.microsecond) else v
        if isinstance(v, datetime):
            days = (v - datetime(1899, 12, 30)).total_seconds() / 86400
            return f"<c><v>{days!r}</v></c>"
    if isinstance(v, date):
        return f"<c><v>{(v - _EPOCH).days}</v></c>"
    fv = float(v)
    if not math.isfinite(fv):
        return "<c/>"
    return f"<c><v>{int(fv) if fv.is_integer() else repr(fv)}</v></c>"


def plain_sheet_xml(rows: list[list]) -> bytes:
    """Worksheet XML for `replace_sheets(plain=...)`: values only — text (inline strings; a
    text starting with = stays text), numbers, booleans, dates as serial numbers — no styles,
    no column widths. Cells carry no references (they follow each other; an empty one is
    <c/>), and the values after the first column are rendered once each: ~10x faster than
    xlsxwriter for a data sheet of a million cells."""
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">']
    ncols = max((len(r) for r in rows), default=1)
    last = f"{_col_letter(max(ncols - 1, 0))}{max(len(rows), 1)}"
    out.append(f'<dimension ref="A1:{last}"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
               '<sheetFormatPr defaultRowHeight="15"/><sheetData>')
    cache: dict = {}
    ap = out.append
    cell = _plain_cell
    for i, row in enumerate(rows, 1):
        parts = []
        for ci, v in enumerate(row):
            if ci == 0:
                parts.append(cell(v))
                continue
            try:
                t = cache[(v.__class__, v)]
            except KeyError:
                t = cache[(v.__class__, v)] = cell(v)
            except TypeError:
                t = cell(v)
            parts.append(t)
        while parts and parts[-1] == "<c/>":
            parts.pop()
        ap(f'<row r="{i}">{"".join(parts)}</row>')
    ap('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
       'footer="0.3"/></worksheet>')
    return "".join(out).encode("utf-8")
