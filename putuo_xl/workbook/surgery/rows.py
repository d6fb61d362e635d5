"""Rows for `replace_sheets(rows=...)`: a styled sheet's body written by the caller as <row> XML
with the target's style indexes, and spliced into the sheet's serialised XML by row number.
"""
from __future__ import annotations

import math
import re
from typing import Callable, Iterable

from putuo_xl.workbook.surgery.plain import col_letters


RowsWriter = Callable[[Callable[[int], int]], "list[tuple[int, bytes]]"]
_ESCAPED = re.compile(r"_x[0-9a-fA-F]{4}_")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile(r"[&<>]|_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\ufffe\uffff]")
DEFAULT_ROW_PIXELS = 20      # a row's height in pixels when none is set (Excel's 15 points)


def _excel_text(s: str) -> str:
    """Text for <t>: control characters as Excel writes them (_x0007_), a literal _x0007_
    escaped as _x005F_x0007_, and & < > as XML entities."""
    if _ESCAPED.search(s):
        s = _ESCAPED.sub(lambda m: "_x005F" + m.group(0), s)
    if _CONTROL.search(s):
        s = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def row_xml(row: int, cells: "Iterable[tuple[object, int]]", height: float | None = None) -> bytes:
    """One <row> element for `replace_sheets(rows=...)`, cells from column A on, each with its
    reference (r="B5"), as Excel writes them (some readers drop cells without one).

    `row`: 1-based. `cells`: (value, target cell-format index) — None is a blank cell that
    keeps its format, a str an inline string (longer than Excel's 32,767 characters: cut
    there), a number (int, float, bool) a number. `height` in points, rounded to whole pixels
    as Excel stores it (none: the default height)."""
    memo = _ROW_CELLS
    rs = str(row)
    head = f'<row r="{rs}"'
    if height is not None:
        pixels = int(height * 4.0 / 3.0 + 0.5)
        if pixels != DEFAULT_ROW_PIXELS:
            head += f' ht="{pixels * 0.75:.16g}" customHeight="1"'
    parts = [head + ">"]
    add = parts.extend
    heads = _HEADS
    for ci, key in enumerate(cells):
        try:
            c = memo[key]
        except KeyError:
            c = _row_cell(*key)
            if len(memo) < 200000:
                memo[key] = c
        except TypeError:
            c = _row_cell(*key)
        if ci >= len(heads):
            heads.extend('<c r="' + x for x in col_letters(ci + 1)[len(heads):])
        add((heads[ci], rs, c))
    parts.append("</row>")
    return "".join(parts).encode("utf-8")


def xlsxwriter_rows(body: list) -> RowsWriter:
    """A writer for `replace_sheets(rows=...)` from rows an xlsxwriter caller kept back:
    (row, values, formats, height) with `row` 0-based, `formats` the xlsxwriter Format of each
    cell — each one used for at least one cell xlsxwriter wrote, so that xlsxwriter gave it its
    index in the source's styles — and `height` in points or None. Values as for `row_xml`.

    `writer.prepare(style)`: the styles mapped now, in the same order as `writer(style)` maps
    them; `body_rows` of what it gives makes the rows (anywhere: see `spliced_part`)."""
    def prepare(style) -> tuple:
        memo: dict[int, int] = {}

        def target(f):
            t = memo.get(id(f))
            if t is None:
                t = memo[id(f)] = style(f.xf_index)
            return t

        # rows of one style share their list of formats: map each list once
        mapped: dict[int, list] = {}
        styles = []
        for _ri, _values, fmts, _h in body:
            m = mapped.get(id(fmts))
            if m is None:
                m = mapped[id(fmts)] = [target(f) for f in fmts]
            styles.append(m)
        return body, styles

    def write(style):
        return body_rows(prepare(style))
    write.prepare = prepare
    return write


def body_rows(job: tuple) -> list:
    """The (row number, <row> XML) pairs of a `writer.prepare(style)` job."""
    body, styles = job
    return [(ri + 1, row_xml(ri + 1, zip(values, s), h))
            for (ri, values, _fmts, h), s in zip(body, styles)]


def spliced_part(arg):
    """(worksheet XML, job, sheet name) → that worksheet with the job's rows, compressed: what
    a second process makes of a big sheet while the surgery goes on."""
    from putuo_xl.workbook.surgery.zipwriter import deflate
    data, job, sheet = arg
    return deflate(_splice_pieces(data, body_rows(job), sheet))


FORK_ROWS = 20000      # rows of a body from which making its part in a second process pays


_ROW_CELLS: dict = {}      # (value, style) → <c> after its reference: the same again
_HEADS: list[str] = ['<c r="' + x for x in col_letters(64)]   # '<c r="B' by column


def _row_cell(v, s: int) -> str:
    """One <c> element after its reference: what follows `<c r="B5"`."""
    if v is None:
        return f'" s="{s}"/>'
    if v.__class__ is str:
        if len(v) > 16383 and len(v.encode("utf-16-le")) > 65534:
            v = v.encode("utf-16-le")[:65534].decode("utf-16-le", "ignore")
        if _NEEDS_ESCAPE.search(v):
            v = _excel_text(v)
        space = ' xml:space="preserve"' if v[:1].isspace() or v[-1:].isspace() else ""
        return f'" s="{s}" t="inlineStr"><is><t{space}>{v}</t></is></c>'
    if not math.isfinite(v):
        raise ValueError(f"row_xml: {v!r} is not a number Excel can store")
    if v.__class__ is bool:
        v = int(v)
    return f'" s="{s}"><v>{v:.16G}</v></c>'


_ROW_START = re.compile(rb'<row\b[^>]*?\sr="(\d+)"')


def _splice_rows(data: bytes, rows, sheet: str) -> bytes:
    """The serialised worksheet `data` with the (row number, <row> XML) pairs put into its
    sheetData where their numbers say."""
    return b"".join(_splice_pieces(data, rows, sheet))


def _splice_pieces(data: bytes, rows, sheet: str) -> list[bytes]:
    """`_splice_rows` as the pieces that joined make it (for `deflate` to take in turn)."""
    rows = list(rows)
    if not rows:
        return [data]
    nums = [r for r, _ in rows]
    if any(b <= a for a, b in zip(nums, nums[1:])):
        raise ValueError(f"rows for sheet {sheet!r} are not in row order")
    # the <dimension> (before sheetData) grows to the last row
    dim = re.search(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', data)
    last = nums[-1]
    if dim is not None and int(dim.group(4) or dim.group(2)) < last:
        c1, r1, c2 = dim.group(1), dim.group(2), dim.group(3) or dim.group(1)
        data = data[:dim.start()] + b'<dimension ref="' + c1 + r1 + b":" + c2 + str(last).encode() \
            + b'"' + data[dim.end():]
    m = re.search(rb"<sheetData\s*/>", data)
    if m is not None:
        return [data[:m.start()], b"<sheetData>", *(x for _, x in rows), b"</sheetData>", data[m.end():]]
    start = data.index(b"<sheetData")
    start = data.index(b">", start) + 1
    end = data.index(b"</sheetData>", start)
    have = [(int(x.group(1)), x.start()) for x in _ROW_START.finditer(data, start, end)]
    taken = {n for n, _ in have}
    clash = [n for n in nums if n in taken]
    if clash:
        raise ValueError(f"rows for sheet {sheet!r} repeat rows the source has: {clash[:5]}")
    pieces, pos, k = [data[:start]], start, 0
    for n, at in have + [(None, end)]:
        first = k
        while k < len(rows) and (n is None or rows[k][0] < n):
            k += 1
        if k > first:
            pieces.append(data[pos:at])
            pieces.extend(x for _, x in rows[first:k])
            pos = at
    pieces.append(data[pos:])
    return pieces
