"""Put freshly generated sheets into a workbook without round-tripping it through openpyxl.

openpyxl drops what it does not understand (charts it did not make, images, shapes, form
controls, slicers, many extensions) when it loads and saves a workbook. The master workbook is
edited by officials in Excel and WPS, so the stages that refresh sheets in it (collect, rollup)
never load it with openpyxl. They write their sheets into a small *source* workbook (openpyxl or
xlsxwriter) and call `replace_sheets`, which works on the two zip packages directly:

* each named sheet of the source replaces the target's sheet of the same name in place (same
  tab position, same sheetId, same part name when possible) or is added;
* the sheet's own parts (drawings, charts, images, tables, comments, printer settings) are copied
  under fresh part names, with their relationships and content types;
* styles are merged into the target's styles.xml (fonts, fills, borders, number formats, cell
  formats, cell styles, differential formats for conditional formats and tables), deduplicated,
  and the sheet's `s=` / `dxfId=` indexes remapped; shared strings become inline strings so the
  target's sharedStrings.xml is not touched;
* the replaced sheet's old parts that nothing else refers to are deleted, so repeated refreshes
  do not grow the file;
* defined names: names scoped to a replaced sheet are replaced by the source's, local names are
  renumbered when the tab order changes, workbook names from the source are added;
* workbook.xml gets `<calcPr fullCalcOnLoad="1"/>`, a valid active tab, and calcChain.xml is
  dropped (Excel rebuilds it);
* every other part of the target is written back byte for byte (same bytes once unzipped).

The result is written atomically; a workbook open in Excel/WPS is refused before anything is read.
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Iterable, Iterator

from putuo_xl.errors import FileBusyError, InputError
from putuo_xl.fileio import AtomicPath, ensure_not_open
from putuo_xl.workbook.surgery.package import RT_WORKSHEET, _Package, _Plan, _Rel, _Sheet, _workbook
from putuo_xl.workbook.surgery.parts import _Parts
from putuo_xl.workbook.surgery.rows import RowsWriter
from putuo_xl.workbook.surgery.sheetxml import _SheetXml
from putuo_xl.workbook.surgery.workbookxml import _WorkbookXml
from putuo_xl.workbook.surgery.zipwriter import (
    PARALLEL_DEFLATE_MIN, Deflated, _part_order, _ZipWriter, deflate)

if TYPE_CHECKING:
    import xlsxwriter


class _Surgery(_Parts, _SheetXml, _WorkbookXml):
    """One replace_sheets: the steps in `run`, each a method of this class or of the
    step classes it is made of (parts.py, sheetxml.py, workbookxml.py)."""

    def __init__(self, target: _Package, source: _Package, names, hidden, position, plain=None,
                 rows=None):
        self.t, self.s = target, source
        self.names, self.hidden, self.position = names, hidden, position or {}
        self.plain: dict = dict(plain or {})        # name → worksheet XML (bytes or Deflated)
        self.rows = {n.casefold(): w for n, w in (rows or {}).items()}   # name → rows writer
        self.out: dict[str, bytes] = {}       # new or changed parts (real names)
        self.deleted: set[str] = set()        # lower-case names
        self.allocated: set[str] = set()      # lower-case names of parts we create

    # public entry
    def run(self) -> bytes:
        t, s = self.t, self.s
        if self.rows and self.plain and set(self.rows) & {n.casefold() for n in self.plain}:
            raise ValueError("rows names sheets that are not taken from the source")
        self.t_wb_part, self.t_wb, self.t_sheets = _workbook(t)
        self.s_wb_part, self.s_wb, self.s_sheets = _workbook(s)
        self._plan()
        self._remove_old_parts()
        self._styles()
        self._copy_parts()
        self._workbook_xml()
        self._app_xml()
        return self._write()

    # 1. which sheets go where
    def _plan(self):
        s_by = {x.name.casefold(): x for x in self.s_sheets}
        plain = {n.casefold(): n for n in self.plain}
        names = self.names if self.names is not None else \
            [x.name for x in self.s_sheets if x.name.casefold() not in plain]
        both = {n.casefold() for n in names} & set(plain)
        if both:
            raise ValueError(f"sheets named both in `sheets` and in `plain`: {sorted(both)}")
        names = list(names) + list(self.plain)
        if not names:
            raise InputError("來源工作簿沒有工作表。", file=str(self.s.path), code="no-sheets")
        t_by = {x.name.casefold(): x for x in self.t_sheets}
        hidden = {h.casefold(): st for h, st in self.hidden.items()}
        unknown = set(hidden) - {n.casefold() for n in names}
        if unknown:
            raise ValueError(f"hidden names sheets that are not replaced: {sorted(unknown)}")
        extra = set(self.rows) - ({n.casefold() for n in names} - set(plain))
        if extra:
            raise ValueError(f"rows names sheets that are not taken from the source: {sorted(extra)}")
        self.plans: list[_Plan] = []
        seen = set()
        for n in names:
            if n.casefold() in plain:
                src = _Sheet(n, None, _Rel("", RT_WORKSHEET, "", False, None), "visible")
            else:
                src = s_by.get(n.casefold())
            if src is None:
                raise InputError(f"來源工作簿中沒有工作表「{n}」。", file=str(self.s.path),
                                 sheet=n, code="no-sheet")
            if n.casefold() in seen:
                continue
            seen.add(n.casefold())
            state = src.state if src.state in ("hidden", "veryHidden") else "visible"
            if hidden.get(n.casefold()) == "veryHidden" or \
                    (hidden.get(n.casefold()) == "hidden" and state == "visible"):
                state = hidden[n.casefold()]
            self.plans.append(_Plan(src=src, old=t_by.get(n.casefold()), state=state,
                                    extra={"plain": self.plain[n]} if n.casefold() in plain else {}))

    # 7. the new package
    def _write(self) -> bytes:
        z = _ZipWriter()
        written = set()
        later = []          # plain sheets still being made (callables): written last
        out_lower = {k.lower(): k for k in self.out}
        stamp = (1980, 1, 1, 0, 0, 0)
        # the new parts are compressed in threads (zlib releases the GIL) while the untouched
        # ones are copied: the same bytes as compressing each here in turn
        big = [k for k, v in self.out.items()
               if isinstance(v, (bytes, bytearray)) and len(v) >= PARALLEL_DEFLATE_MIN]
        pool = None
        if len(big) > 1 or (big and len(self.t.infos) > len(self.out)):
            from concurrent.futures import ThreadPoolExecutor
            pool = ThreadPoolExecutor(max_workers=2)
        try:
            out = dict(self.out)
            if pool is not None:
                for k in sorted(big, key=lambda k: -len(out[k])):
                    out[k] = pool.submit(deflate, out[k])

            def part(key):
                data = out[key]
                return data.result() if hasattr(data, "result") and not callable(data) else data

            for info in self.t.infos:
                low = info.filename.lower()
                if low in out_lower:
                    data = part(out_lower[low])                 # bytes, Deflated or callable
                    if callable(data):
                        later.append((info.filename, info.date_time, data))
                    else:
                        z.add(info.filename, info.date_time, data)
                elif low in self.deleted:
                    continue
                else:
                    # untouched: the very same compressed bytes
                    info, data = self.t.raw_member(info.filename)
                    z.add_raw(info.filename, info.date_time, info.compress_type, info.CRC,
                              info.file_size, data)
                stamp = info.date_time
                written.add(low)
            for name in sorted(self.out, key=_part_order):
                if name.lower() not in written:
                    data = part(name)
                    if callable(data):
                        later.append((name, stamp, data))
                    else:
                        z.add(name, stamp, data)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        for name, date_time, data in later:
            z.add(name, date_time, data())
        return z.finish()


# -- public API ----------------------------------------------------------------------------
def replace_sheets(target: str | Path, source: str | Path | bytes | BinaryIO,
                   sheets: list[str] | None = None,
                   output: str | Path | None = None,
                   hidden: Iterable[str] | dict[str, str] = (),
                   position: dict[str, int | str] | None = None,
                   plain: dict[str, "bytes | Deflated"] | None = None,
                   rows: dict[str, "RowsWriter"] | None = None) -> None:
    """Put sheets of `source` into `target` (written to `output`, default: `target` itself).

    - `source`: a workbook file, or its bytes / a BytesIO (e.g. xlsxwriter with `in_memory`).
    - `sheets`: the source sheets to take, in order (default: all of them). A sheet whose name
      the target already has (compared as Excel does, ignoring case) replaces it in place: same
      tab position, same sheetId, same defined names' scope. Other sheets are added at the end.
    - `hidden`: of those, the ones to hide, as names or {name: "hidden" | "veryHidden"}. A sheet
      hidden in the source stays hidden (but note that xlsxwriter silently shows a hidden sheet
      that is the first/active one of its workbook: name it here, or use `new_sheets`).
    - `position`: {sheet name: where} for sheets that are *added*: an int is the 0-based tab
      index in the result (negative counts from the end), a str the name of the sheet to put it
      before. Replaced sheets never move.
    - `plain`: {sheet name: worksheet XML} for sheets without styles, shared strings or parts
      of their own, as `plain_sheet_xml` writes them (optionally compressed ahead with
      `deflate`). They are put in as given, never parsed — a data sheet of a million cells
      costs nothing here — and are replaced in place or added like the source's sheets
      (`hidden` and `position` apply to them too; they need not be in `source`). Such a sheet
      is not marked as the selected tab when it ends up the active one. A value may also be a
      callable returning the XML (or Deflated): it is called last, when everything else is
      written — so the sheet can still be in the making (another process) meanwhile.
    - `rows`: {source sheet name: writer} — rows added to a sheet of `source` on its way in,
      never parsed or walked: `writer(style)` returns [(row number, XML of one <row>)] in row
      order, where `style(i)` is the target's cell-format index for the source's index i; see
      `row_xml`. For a table of hundreds of thousands of cells that share a few formats, the
      source holds the styled frame (title, header, totals, one row of each cell format) and
      the caller writes the body. The rows go between the source's own rows by number (a
      number the source sheet has already is an error); the sheet's dimension is widened.

    Raises FileBusyError if the output is open in Excel/WPS (nothing is read or written then),
    InputError (file, sheet, what to do) for an unreadable target or source. On any error the
    output file is left exactly as it was.
    """
    target = Path(target)
    dest = Path(output) if output is not None else target
    states = dict(hidden) if isinstance(hidden, dict) else {h: "hidden" for h in hidden}
    if any(v not in ("hidden", "veryHidden") for v in states.values()):
        raise ValueError(f"hidden states must be 'hidden' or 'veryHidden': {states}")
    ensure_not_open(dest)
    tpkg = _Package(target, "target")
    if hasattr(source, "getvalue"):
        source = source.getvalue()
    elif hasattr(source, "read"):
        source = source.read()
    spkg = _Package(source if isinstance(source, (bytes, bytearray)) else Path(source),
                    "來源工作簿")
    try:
        data = _Surgery(tpkg, spkg, sheets, states, position, plain, rows).run()
    except (KeyError, IndexError, ValueError, TypeError, AttributeError) as e:
        if isinstance(e, ValueError) and str(e).startswith(("hidden names", "position names",
                                                             "sheets named both", "rows ")):
            raise
        raise InputError(f"無法把「{spkg.path}」的工作表寫入工作簿:{type(e).__name__}: {e}。"
                         "請用 Excel 打開兩個文件檢查,或重新生成。", file=str(target),
                         code="surgery-failed") from e
    atomic = AtomicPath(dest)
    try:
        with atomic as tmp:
            tmp.write_bytes(data)
    except PermissionError as e:
        # Windows refuses to replace a file Excel/WPS holds open, lock file or not
        raise FileBusyError("文件正在被其他程序使用,無法寫入。請先在 Excel 或 WPS 中關閉它再重試"
                            "(命令行也可用 -o 指定另一個輸出文件)。", file=str(dest), code="file-open") from e
    finally:
        if atomic.tmp is not None and atomic.tmp.exists():
            atomic.tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def new_sheets(target: str | Path, output: str | Path | None = None,
               hidden: Iterable[str] | dict[str, str] = (),
               position: dict[str, int | str] | None = None) -> Iterator["xlsxwriter.Workbook"]:
    """Write sheets with xlsxwriter, in memory, and put them into `target` on leaving the block.

        with new_sheets(master, hidden=["_status"]) as wb:
            ws = wb.add_worksheet("月度匯總")
            ...

    Nothing is written if the block raises. The lock check runs first, so a workbook open in
    Excel/WPS is refused before any work is done. Sheets hidden with `hide()`/`very_hidden()`
    end up hidden even when xlsxwriter itself would show them (the first, active sheet).
    """
    import xlsxwriter

    ensure_not_open(Path(output) if output is not None else Path(target))
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    try:
        yield wb
    except BaseException:
        try:
            wb.close()
        except Exception:
            pass
        raise
    # honour hide()/very_hidden() even where xlsxwriter drops it on close (the first sheet)
    states = dict(hidden) if isinstance(hidden, dict) else {h: "hidden" for h in hidden}
    for ws in wb.worksheets():
        if getattr(ws, "hidden", 0) and ws.name not in states:
            states[ws.name] = "veryHidden" if ws.hidden == 2 else "hidden"
    wb.close()
    replace_sheets(target, buf.getvalue(), output=output, hidden=states, position=position)
