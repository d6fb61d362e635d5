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


_COLS: list[str] = []        # column letters by 0-based index, made once


def col_letters(n: int) -> list[str]:
    """The letters of the first `n` columns (A, B, ... AA ...), computed once and shared."""
    while len(_COLS) < n:
        _COLS.append(_col_letter(len(_COLS)))
    return _COLS


def _plain_cell(v) -> str | None:
    """One <c> element after its reference: what follows `<c r="B5"` (None: no cell)."""
    if v is None:
        return None
    if isinstance(v, str):
        if not v:
            return None
        if "&" in v or "<" in v or ">" in v:
            v = xml_escape(v)
        if v != v.strip() or "\n" in v:
            return f'" t="inlineStr"><is><t xml:space="preserve">{v}</t></is></c>'
        return f'" t="inlineStr"><is><t>{v}</t></is></c>'
    if isinstance(v, bool):
        return f'" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, datetime):
        v = v.date() if not (v.hour or v.minute or v.second or v.microsecond) else v
        if isinstance(v, datetime):
            days = (v - datetime(1899, 12, 30)).total_seconds() / 86400
            return f'"><v>{days!r}</v></c>'
    if isinstance(v, date):
        return f'"><v>{(v - _EPOCH).days}</v></c>'
    fv = float(v)
    if not math.isfinite(fv):
        return None
    return f'"><v>{int(fv) if fv.is_integer() else repr(fv)}</v></c>'


def plain_sheet_xml(rows: list[list]) -> bytes:
    """`plain_sheet_chunks` joined."""
    return b"".join(plain_sheet_chunks(rows))


def plain_sheet_chunks(rows: list[list], per_chunk: int = 2000):
    """Worksheet XML for `replace_sheets(plain=...)`: values only — text (inline strings; a
    text starting with = stays text), numbers, booleans, dates as serial numbers — no styles,
    no column widths. Every cell and row carries its reference (r="B5"), as Excel writes them:
    some readers (Gnumeric) drop cells without one; an empty value writes no cell. Each value
    after the first column is rendered once (the same value again reuses its XML): ~10x faster
    than xlsxwriter for a data sheet of a million cells."""
    ncols = max((len(r) for r in rows), default=1)
    last = f"{_col_letter(max(ncols - 1, 0))}{max(len(rows), 1)}"
    yield ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
           f'<dimension ref="A1:{last}"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
           '<sheetFormatPr defaultRowHeight="15"/><sheetData>').encode("utf-8")
    out: list[str] = []
    heads = ['<c r="' + c for c in col_letters(ncols)[:ncols]]
    cache: dict = {}
    ap = out.append
    cell = _plain_cell
    for i, row in enumerate(rows, 1):
        rs = str(i)
        parts = [f'<row r="{rs}">']
        add = parts.extend
        if row:     # the first column: keys, each its own (not worth caching)
            t = cell(row[0])
            if t is not None:
                add((heads[0], rs, t))
        for ci, v in enumerate(row[1:], 1):
            try:
                t = cache[(v.__class__, v)]
            except KeyError:
                t = cache[(v.__class__, v)] = cell(v)
            except TypeError:
                t = cell(v)
            if t is not None:
                add((heads[ci], rs, t))
        parts.append("</row>")
        ap("".join(parts))
        if len(out) >= per_chunk:       # a chunk of rows at a time: the sheet is never whole
            yield "".join(out).encode("utf-8")
            out.clear()
    out.append('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
               'footer="0.3"/></worksheet>')
    yield "".join(out).encode("utf-8")
