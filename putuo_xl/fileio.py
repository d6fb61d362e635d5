"""Safe file writes: temporary file then rename; never over a file open in Excel/WPS."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from putuo_xl.errors import FileBusyError


def lock_files(path: str | Path) -> list[Path]:
    """Excel's `~$NAME.xlsx` and WPS/LibreOffice's `.~lock.NAME#` / `.~NAME.xlsx` beside `path`."""
    p = Path(path)
    candidates = [p.with_name("~$" + p.name), p.with_name(".~" + p.name),
                  p.with_name(f".~lock.{p.name}#")]
    # Excel shortens long names: ~$ replaces the first two characters
    if len(p.name) > 2:
        candidates.append(p.with_name("~$" + p.name[2:]))
    return [c for c in candidates if c.exists()]


def _opened_in(path) -> str:
    """The programs a file of this kind is open in: Word for documents, Excel for workbooks."""
    return "Word 或 WPS" if Path(path).suffix.lower() in (".docx", ".doc") else "Excel 或 WPS"


def ensure_not_open(path: str | Path) -> None:
    locks = lock_files(path)
    if locks:
        raise FileBusyError(f"文件正在 {_opened_in(path)} 中打開(發現鎖文件 {locks[0].name})。"
                            f"請先關閉它再重試(命令行也可用 -o 指定另一個輸出文件)。", file=str(path),
                            code="file-open")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _give_final_mode(tmp: str | Path, target: Path) -> None:
    """mkstemp makes 0600 files; give the result the target's mode, or the usual 0666 & ~umask."""
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    os.chmod(tmp, mode)


def atomic_write_bytes(path: str | Path, data: bytes, check_open: bool = True) -> Path:
    p = Path(path)
    if check_open:
        ensure_not_open(p)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=p.suffix, dir=str(p.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _give_final_mode(tmp, p)
        try:
            os.replace(tmp, p)
        except PermissionError:
            raise _busy(p) from None
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return p


def atomic_write_text(path: str | Path, text: str, check_open: bool = True) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), check_open=check_open)


class AtomicPath:
    """`with AtomicPath(out) as tmp: writer.save(tmp)` — renamed over `out` only on success."""

    def __init__(self, path: str | Path, check_open: bool = True):
        self.path = Path(path)
        self.check_open = check_open
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        if self.check_open:
            ensure_not_open(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=self.path.suffix, dir=str(self.path.parent))
        os.close(fd)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        assert self.tmp is not None
        if exc_type is None:
            try:
                _give_final_mode(self.tmp, self.path)
                os.replace(self.tmp, self.path)
            except PermissionError:
                self.tmp.unlink(missing_ok=True)
                raise _busy(self.path) from None
            except BaseException:
                self.tmp.unlink(missing_ok=True)
                raise
        else:
            self.tmp.unlink(missing_ok=True)
        return False


def _busy(path: Path) -> FileBusyError:
    return FileBusyError(f"文件無法替換(可能正在 {_opened_in(path)} 中打開,或沒有寫入權限)。"
                         "請先關閉它再重試(命令行也可用 -o 指定另一個輸出文件)。", file=str(path),
                         code="file-open")


_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_name(text: str, fallback: str = "台賬") -> str:
    """A file/folder name from free text: no path separators or characters Windows refuses."""
    s = _UNSAFE_NAME.sub("_", text or "").strip(" ._")
    return s[:80] or fallback
