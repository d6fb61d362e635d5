"""The JSON body the xlwings Office.js client sends to xlwings Server for a script call
(`getBookData()` in xlwings_server/static/js/custom-scripts/index.js), built from values or
from an .xlsx file. Used by the tests and benchmarks to run the ribbon actions without Excel:
`xw.Book(json=book_payload(...))` is the book a server script receives.

What the client sends, and this reproduces: per sheet the values of the rectangle from A1
to the end of the used range (empty cells as ""), date-formatted numbers as ISO strings,
visibility Visible/Hidden/VeryHidden; sheets left out by `include` get `[[]]`.
"""
from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Iterable, Mapping

import xlwings as xw

CLIENT_VERSION = xw.__version__
_VIS = {"visible": "Visible", "hidden": "Hidden", "veryHidden": "VeryHidden"}


def _col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(v, date):
        return f"{v.isoformat()}T00:00:00.000Z"
    if isinstance(v, time):
        return v.isoformat()
    if isinstance(v, (int, float, bool, str)):
        return v
    return str(v)


def sheet_payload(name: str, values: Iterable[Iterable[Any]] | None, visibility: str = "Visible",
                  excluded: bool = False) -> dict:
    rows = [list(r) for r in (values or [])]
    width = max((len(r) for r in rows), default=0)
    if not rows or width == 0:
        used, nrows, ncols, vals = None, 0, 0, [[""]]
    else:
        nrows, ncols = len(rows), width
        used = "A1" if (nrows, ncols) == (1, 1) else f"A1:{_col(ncols)}{nrows}"
        vals = [[_cell(v) for v in r] + [""] * (width - len(r)) for r in rows]
    return {
        "name": name, "visibility": visibility, "show_gridlines": True, "print_area": None,
        "notes": [], "notes_supported": True,
        "used_range_address": used, "used_range_row_count": nrows, "used_range_column_count": ncols,
        "values": [[]] if excluded else vals,
        "pictures": [], "shapes": [], "charts": [], "tables": [], "pivot_tables": [],
    }


def book_payload(sheets: Mapping[str, Any] | list[dict], name: str = "台賬.xlsx", *,
                 hidden: Iterable[str] = (), active: int | str = 0, selection: str = "A1",
                 include: Iterable[str] | None = None, args: list | None = None,
                 client: str = "Office.js") -> dict:
    """A script-call body. `sheets`: {name: 2-D values} (in order) or ready sheet dicts."""
    hidden = set(hidden)
    inc = set(include) if include is not None else None
    if isinstance(sheets, Mapping):
        sheet_list = [sheet_payload(n, v, "Hidden" if n in hidden else "Visible",
                                    excluded=inc is not None and n not in inc)
                      for n, v in sheets.items()]
    else:
        sheet_list = list(sheets)
    names = [s["name"] for s in sheet_list]
    idx = names.index(active) if isinstance(active, str) else active
    body = {
        "client": client, "version": CLIENT_VERSION,
        "book": {"name": name, "active_sheet_index": idx, "selection": selection,
                 "calculation": "Automatic"},
        "names": [], "sheets": sheet_list,
    }
    if args:
        body["args"] = args
    return body


def payload_from_xlsx(path: str | Path, name: str | None = None, *, active: int | str = 0,
                      selection: str = "A1", include: Iterable[str] | None = None,
                      exclude: Iterable[str] | None = None) -> dict:
    """The body Excel would send for the workbook file `path` opened in Excel.
    Formula cells carry their cached value (files saved by Excel/LibreOffice have one;
    files written by openpyxl do not, and are sent as "" — not yet calculated)."""
    import openpyxl

    p = Path(path)
    wb = openpyxl.load_workbook(p, data_only=True)
    inc = set(include) if include is not None else None
    exc = set(exclude or ())
    sheets = []
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
        while rows and all(v is None for v in rows[-1]):
            rows.pop()
        width = max((max((i + 1 for i, v in enumerate(r) if v is not None), default=0) for r in rows),
                    default=0)
        rows = [r[:width] for r in rows]
        sheets.append(sheet_payload(ws.title, rows, _VIS.get(ws.sheet_state, "Visible"),
                                    excluded=(inc is not None and ws.title not in inc) or ws.title in exc))
    wb.close()
    return book_payload(sheets, name or p.name, active=active, selection=selection)


def open_book(body: dict) -> xw.Book:
    """The remote-engine book a server script would receive for `body`."""
    return xw.Book(json=body)


def actions(book: xw.Book, func: str | None = None) -> list[dict]:
    """The actions the book would send back to Excel (optionally only one kind)."""
    acts = book.json()["actions"]
    return [a for a in acts if func is None or a["func"] == func]
