"""Reading old .xls (BIFF) workbooks in a helper process.

python-calamine reads a damaged .xls with Rust code that can panic or, for a size field
that went wrong, ask for hundreds of GB and abort the whole process (measured: ~6 in 1,500
randomly damaged copies of a form, none of them caught by olefile's checks). One such
attachment would end a collection of hundreds of good files. So .xls files are read by a
small helper process (python-calamine only, started at the first .xls and kept for the
rest); if it dies or hangs on a file, that file is refused as unreadable and the next .xls
gets a new helper. Where no helper can be started (an interpreter embedded in another
program), the file is read here as before.
"""
from __future__ import annotations

import io
import os
import pickle
import struct
import subprocess
import sys
import threading

import python_calamine as pc

from putuo_xl.parallel import python_executable

TIMEOUT_SECONDS = 60

_HELPER = r"""
import io, pickle, struct, sys
import python_calamine as pc
inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = inp.read(8)
    if len(head) < 8:
        break
    data = inp.read(struct.unpack("<Q", head)[0])
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for m in wb.sheets_metadata:
            kind = str(m.typ).rsplit(".", 1)[-1]
            rows = None
            if kind == "WorkSheet":
                try:
                    rows = wb.get_sheet_by_name(m.name).to_python(skip_empty_area=False)
                except BaseException as e:
                    rows = ("error", type(e).__name__, str(e)[:300])
            sheets.append((m.name, kind, rows))
        res = ("ok", sheets)
    except pc.PasswordError:
        res = ("password", "")
    except BaseException as e:
        res = ("error", type(e).__name__ + ": " + str(e)[:300])
    blob = pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(struct.pack("<Q", len(blob)) + blob)
    out.flush()
"""


class HelperDied(Exception):
    """The helper process ended (crashed) or hung while reading a file."""


class SheetReadError(Exception):
    pass


class _Meta:
    __slots__ = ("name", "typ")

    def __init__(self, name: str, kind: str):
        self.name = name
        self.typ = getattr(pc.SheetTypeEnum, kind, pc.SheetTypeEnum.WorkSheet)


class _Sheet:
    def __init__(self, rows):
        self._rows = rows

    def to_python(self, skip_empty_area: bool = False):
        if isinstance(self._rows, tuple):       # this sheet failed to read in the helper
            _tag, kind, message = self._rows
            raise SheetReadError(f"{kind}: {message}")
        return self._rows


class HelperBook:
    """What collect_read uses of a CalamineWorkbook, over the sheets the helper read."""

    def __init__(self, sheets: list):
        self.sheets_metadata = [_Meta(name, kind) for name, kind, _rows in sheets]
        self.sheet_names = [name for name, _kind, _rows in sheets]
        self._rows = {name: rows for name, _kind, rows in sheets}

    def get_sheet_by_name(self, name: str) -> _Sheet:
        if name not in self._rows:
            raise pc.WorksheetNotFound(name)
        return _Sheet(self._rows[name])

    def close(self) -> None:
        pass


class _Helper:
    def __init__(self):
        self.owner = os.getpid()
        self.proc = subprocess.Popen([sys.executable, "-c", _HELPER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def read(self, data: bytes, timeout: float):
        timer = threading.Timer(timeout, self.proc.kill)
        timer.daemon = True
        timer.start()
        try:
            self.proc.stdin.write(struct.pack("<Q", len(data)) + data)
            self.proc.stdin.flush()
            head = self.proc.stdout.read(8)
            if len(head) < 8:
                raise HelperDied
            (n,) = struct.unpack("<Q", head)
            blob = self.proc.stdout.read(n)
            if len(blob) < n:
                raise HelperDied
        except (OSError, ValueError):
            raise HelperDied from None
        finally:
            timer.cancel()
            timer.join()
        return pickle.loads(blob)

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


_helper: _Helper | None = None
_lock = threading.Lock()


def open_xls(data: bytes, timeout: float | None = None):
    """The workbook in `data` (.xls bytes), read by the helper process: a HelperBook. Raises
    pc.PasswordError for an encrypted file, HelperDied when reading it crashed or hung the
    helper, another exception (with calamine's message) when calamine refused the file. Without
    a helper, a CalamineWorkbook read here."""
    global _helper
    if not python_executable():
        return pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    with _lock:
        if _helper is not None and _helper.owner != os.getpid():
            _helper = None      # a forked child's copy of its parent's helper: not ours to use
        if _helper is None:
            try:
                _helper = _Helper()
            except OSError:
                return pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            res = _helper.read(data, timeout or TIMEOUT_SECONDS)
        except HelperDied:
            _stop_helper()
            raise HelperDied("讀取時出錯,文件可能已損壞") from None
    if res[0] == "ok":
        return HelperBook(res[1])
    if res[0] == "password":
        raise pc.PasswordError("encrypted")
    raise pc.CalamineError(res[1])


def _stop_helper() -> None:
    global _helper
    if _helper is not None:
        h, _helper = _helper, None
        try:
            h.proc.kill()
        except OSError:
            pass
        h.close()


def close() -> None:
    """End the helper (when a batch is done); the next .xls starts a new one."""
    global _helper
    with _lock:
        if _helper is not None and _helper.owner != os.getpid():
            _helper = None
        _stop_helper()
