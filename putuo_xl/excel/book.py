"""Read-once, write-few access to an open workbook (`xw.Book`), the same on every engine:
desktop Excel (COM/AppleScript, `xw.Book.caller()`), xlwings Server (remote engine, the
workbook arrives as a JSON snapshot and writes go back as actions) and tests.

Rules the remote engine imposes and everything here keeps:
- reads come from the snapshot taken when the button was pressed: read first, then write
  (a read after a write still returns the old value);
- a write is one action per block, never cell by cell; large blocks are chunked;
- `book.fullname` is only the name on the server: paths never come from it there.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Iterable

import xlwings as xw

# Rows per setValues action: keeps one action under the Office.js request limits
# (a few MB) for the widest sheets we write (~15 columns of short text).
CHUNK_ROWS = 2000

Matrix = list[list[Any]]


def rectangular(values: Iterable[Iterable[Any]]) -> Matrix:
    """A list of rows padded with None to the widest row (Excel writes rectangles)."""
    rows = [list(r) for r in values]
    width = max((len(r) for r in rows), default=0)
    return [r + [None] * (width - len(r)) for r in rows]


def trim(values: Matrix) -> Matrix:
    """Drop trailing empty rows and columns (what a used range often carries)."""
    def empty(v):
        return v is None or (isinstance(v, str) and not v.strip())

    rows = [list(r) for r in values]
    while rows and all(empty(v) for v in rows[-1]):
        rows.pop()
    width = 0
    for r in rows:
        for i in range(len(r) - 1, -1, -1):
            if not empty(r[i]):
                width = max(width, i + 1)
                break
    return [r[:width] + [None] * (width - len(r[:width])) for r in rows]


_CLIENT_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")


def _from_client(v: Any) -> Any:
    """A cell value as the Office.js/VBA client sends it: "" is empty, a date-formatted cell
    is an ISO string ending in Z (naive local time); everything else as is."""
    if v == "":
        return None
    if isinstance(v, str) and _CLIENT_DATE.match(v):
        try:
            return datetime.fromisoformat(v[:19])
        except ValueError:
            return v
    return v


# What Excel reads as the start of a formula when a string is written as a value (Office.js
# `values`, COM `Range.Value`) — and the apostrophe, which Excel takes as the text prefix.
FORMULA_STARTS = ("=", "+", "-", "@", "'")


# What Excel (a Chinese-locale one in particular) types as a number, date, time, percentage
# or truth value when a string is written as a value: "1", "2020-08", "2020-12-31",
# "2020年8月", "8月31日", "10:30", "1/2", "50%", "TRUE".
_LOOKS_TYPED = re.compile(r"^\s*[+-]?\s*\d[\d\s.,:/\-年月日時时分秒%eE]*\s*$|^\s*(TRUE|FALSE)\s*$", re.I)


def as_text(v: Any) -> Any:
    """`v` written so that Excel keeps it as the text it is: a string starting with = + - @ (or
    an apostrophe), or one Excel would type as a number or date, gets Excel's text prefix, an
    apostrophe that is not part of the cell's value and not displayed. Everything else
    unchanged."""
    if isinstance(v, str) and (v.startswith(FORMULA_STARTS) or _LOOKS_TYPED.match(v)):
        return "'" + v
    return v


def cell_text(v: Any) -> str:
    """A cell value as the text an official sees (numbers without a trailing .0)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d") if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat(" ")
    if isinstance(v, date):
        return v.isoformat()
    return str(v).strip()


DATE_FORMAT = "yyyy-mm-dd"


def _date_runs(block: Matrix) -> list[tuple[int, int, int]]:
    """(column, first row, last row) of each run of date cells in a column (empty cells in a
    run do not break it)."""
    runs = []
    width = max((len(r) for r in block), default=0)
    for c in range(width):
        first = last = None
        for r, row in enumerate(block):
            v = row[c] if c < len(row) else None
            if isinstance(v, (date, datetime)):
                first = r if first is None else first
                last = r
            elif v is not None and first is not None:
                runs.append((c, first, last))
                first = last = None
        if first is not None:
            runs.append((c, first, last))
    return runs


class BookIO:
    """The open workbook: sheet values read once, blocks written back in few actions."""

    def __init__(self, book: xw.Book):
        self.book = book
        self._cache: dict[str, Matrix] = {}
        self._names = [s.name for s in book.sheets]
        self._added: list[str] = []

    # -- reading ---------------------------------------------------------------
    @property
    def remote(self) -> bool:
        """The book is a JSON snapshot (xlwings Server / tests), not a live Excel."""
        try:
            return self.book.app.engine.name == "remote"
        except Exception:  # noqa: BLE001
            return False

    @property
    def name(self) -> str:
        return self.book.name

    def sheet_names(self) -> list[str]:
        return list(self._names)

    def find(self, *candidates: str) -> str | None:
        """The first sheet that exists among `candidates` (e.g. both scripts of a name)."""
        for c in candidates:
            if c in self._names:
                return c
        return None

    def values(self, name: str) -> Matrix:
        """The sheet's values from A1 to the end of its used range, trailing blanks dropped;
        [] for an empty or missing sheet. Read once per sheet and cached."""
        if name in self._cache:
            return self._cache[name]
        if name not in self._names or name in self._added:
            return []
        sheet = self.book.sheets[name]
        if self.remote:
            # the snapshot as the client sent it, converted here: xlwings' own conversion
            # raises on text that looks like a timestamp with an offset (e.g. a _meta
            # "created" value "2020-08-31T10:00:00+08:00")
            raw = sheet.api.get("values") or []
            vals = [[_from_client(v) for v in row] for row in raw]
        else:
            last = sheet.used_range.last_cell
            if last.row == 1 and last.column == 1:
                v = sheet["A1"].value
                vals = [[v]] if v is not None else []
            else:
                vals = sheet.range((1, 1), (last.row, last.column)).options(ndim=2).value or []
        vals = trim(vals)
        self._cache[name] = vals
        return vals

    def all_values(self, names: Iterable[str] | None = None) -> dict[str, Matrix]:
        return {n: self.values(n) for n in (self._names if names is None else names)
                if n in self._names}

    def selection(self) -> tuple[str | None, Any]:
        """(sheet name, value of the first selected cell) — (None, None) when unknown."""
        try:
            sel = self.book.selection
        except Exception:  # noqa: BLE001 - engines differ; no selection is not an error
            return None, None
        if sel is None:
            return None, None
        try:
            first = sel[0, 0] if sel.shape != (1, 1) else sel
            return sel.sheet.name, first.value
        except Exception:  # noqa: BLE001
            return None, None

    # -- writing ---------------------------------------------------------------
    def sheet(self, name: str, *, after: str | None = None, before: str | None = None) -> xw.Sheet:
        """The sheet `name`, added when it is missing: before `before` (when that sheet
        exists), else after `after`, else at the end."""
        if name in self._names:
            return self.book.sheets[name]
        if before in self._names and self._names.index(before) > 0:
            # xlwings' remote engine puts a sheet added "before" one place too early
            after = self._names[self._names.index(before) - 1]
            before = None
        if before in self._names:
            sheet = self.book.sheets.add(name, before=self.book.sheets[before])
            self._names.insert(0, name)
            self._added.append(name)
            return sheet
        anchor = after if after in self._names else self._names[-1] if self._names else None
        sheet = (self.book.sheets.add(name, after=self.book.sheets[anchor]) if anchor
                 else self.book.sheets.add(name))
        pos = self._names.index(anchor) + 1 if anchor else len(self._names)
        self._names.insert(pos, name)
        self._added.append(name)
        return sheet

    def write(self, name: str, values: Matrix, *, start: str = "A1", clear: bool = True,
              visible: bool | None = None, after: str | None = None,
              formulas: bool = False) -> xw.Sheet:
        """Replace the sheet's contents (formats stay) with `values` in one block write.
        Strings are written as text (see `as_text`); `formulas=True` writes through
        Range.formula so "=…" strings become formulas (mark text there with `as_text`)."""
        sheet = self.sheet(name, after=after)
        if clear and name not in self._added:
            sheet.clear_contents()
        block = rectangular(values)
        if block and block[0]:
            self._write_block(sheet, start, block, formulas)
        if visible is not None:
            sheet.visible = visible
        self._cache.pop(name, None)
        return sheet

    def write_at(self, name: str, start: str, values: Matrix) -> None:
        """Write one block into an existing (or new) sheet without clearing it."""
        block = rectangular(values)
        if block and block[0]:
            self._write_block(self.sheet(name), start, block, False)
        self._cache.pop(name, None)

    @staticmethod
    def _write_block(sheet, start: str, block: Matrix, formulas: bool) -> None:
        top = sheet[start]
        # dates on purpose: their cells get a date format before the values (Excel on the web
        # and a Chinese-locale Excel would otherwise read the ISO text as they see fit)
        for c0, r0, r1 in _date_runs(block):
            top.offset(r0, c0).resize(r1 - r0 + 1, 1).number_format = DATE_FORMAT
        for i in range(0, len(block), CHUNK_ROWS):
            part = block[i:i + CHUNK_ROWS]
            rng = top.offset(i, 0).resize(len(part), len(part[0]))
            if formulas:
                rng.formula = part
            else:
                # plain values: text is never turned into a formula (e-mail From headers,
                # file names and officials' own words end up in these cells)
                rng.value = [[as_text(v) for v in row] for row in part]

    def alert(self, message: str, title: str = "法治政府") -> None:
        self.book.app.alert(message, title=title)

    def status(self, message: str) -> None:
        """Progress for the user: the status bar on the desktop; nothing on the server,
        which answers once per request (the summary then goes into the alert and log)."""
        try:
            self.book.app.status_bar = message
        except Exception:  # noqa: BLE001 - not supported by the remote engine
            pass

    def clear_status(self) -> None:
        try:
            self.book.app.status_bar = False
        except Exception:  # noqa: BLE001
            pass
