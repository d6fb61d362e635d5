"""One writer of a master at a time.

collect, rollup and build --refresh read the master, compute, and rename a new master over
it. Two of them at once (two officials, or a rollup started while a collect runs) would each
build on the master as it was when they started, and the later rename would drop the other's
sheets. The ledger's own transactions do not prevent that: its write lock ends at the commit,
before the rename. So each holds an OS lock on a small file beside the master
(`.NAME.xlsx.putuo-xl.lock`, hidden: a dot name on Linux and macOS, the hidden attribute on
Windows; skipped by collect) from the first read to the rename; another waits for it, and after
`timeout` seconds is told to try again. Re-entrant within a thread; threads of one process (the
xlwings server) wait for each other.

The lock file is removed when the lock is released, so no trace stays beside the master:
- POSIX (flock): the holder unlinks the file while it still holds the lock. A process that
  opened the file before and waits on it then gets the lock on a file no longer at that path;
  so every process, once it has the lock, checks that the path still names the file it locked
  (same device and inode) and otherwise starts again with a new file.
- Windows (msvcrt.locking): a file cannot be removed while anyone has it open, so the holder
  unlocks and closes it and then tries to remove it; while another process has it open (it
  waits for the lock, or holds it already) the removal fails and that process removes it later.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

from putuo_xl.errors import PutuoError

WAIT_SECONDS = 300.0
_held = threading.local()


def lock_path(master: str | Path) -> Path:
    m = Path(master)
    return m.with_name(f".{m.name}.putuo-xl.lock")


def _key(master: str | Path) -> str:
    return os.path.normcase(os.path.abspath(str(master)))


def _hide(path: Path) -> None:
    """Windows: the lock file hidden in Explorer, as it is on Linux and macOS (a dot name)."""
    try:
        import ctypes
        ctypes.windll.kernel32.SetFileAttributesW(str(path), 0x2)   # FILE_ATTRIBUTE_HIDDEN
    except Exception:      # cosmetic only
        pass


def _try_lock(fd: int) -> bool:
    if os.name == "nt":
        import msvcrt
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _unlock(fd: int) -> None:
    if os.name == "nt":
        import msvcrt
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def master_lock(master: str | Path, timeout: float | None = None):
    """Hold the master's writer lock inside the `with` (see the module's docstring). A folder
    where no lock file can be made (read-only) is not locked: what follows reports that."""
    key = _key(master)
    held = getattr(_held, "keys", None)
    if held is None:
        held = _held.keys = {}
    if key in held:                       # this thread holds it already
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    path = lock_path(master)
    wait = WAIT_SECONDS if timeout is None else timeout
    deadline = time.monotonic() + wait
    fd = _acquire(path, master, wait, deadline)
    if fd is None:              # no lock file can be made here (a read-only folder)
        yield
        return
    held[key] = 1
    try:
        yield
    finally:
        del held[key]
        _release(fd, path)


def _acquire(path: Path, master, wait: float, deadline: float) -> int | None:
    """An open, locked descriptor of the lock file at `path` (None: it cannot be created)."""
    pause = 0.02
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            return None
        if os.name == "nt":
            _hide(path)
        try:
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise PutuoError(f"另一個 putuo-xl 操作(收集、匯總或刷新)正在寫這個台賬,等了 {wait:.0f} 秒"
                                     f"仍未結束。請等它完成後再試。", file=str(master), code="busy")
                time.sleep(pause)
                pause = min(pause * 2, 0.5)
        except BaseException:
            os.close(fd)
            raise
        if _still_there(fd, path):
            return fd
        # the previous holder removed the file we waited on: lock the one at the path now
        _unlock(fd)
        os.close(fd)


def _still_there(fd: int, path: Path) -> bool:
    """The path still names the file `fd` has open (POSIX; on Windows an open file cannot be
    removed, so it always does)."""
    if os.name == "nt":
        return True
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _release(fd: int, path: Path) -> None:
    """Unlock and remove the lock file (see the module's docstring for why this is safe)."""
    if os.name == "nt":
        try:
            _unlock(fd)
        finally:
            os.close(fd)
        try:
            os.remove(path)
        except OSError:         # another process has it open: it removes it when done
            pass
        return
    try:
        try:
            os.unlink(path)     # while locked: whoever locks the old file sees it is gone
        except OSError:
            pass
        _unlock(fd)
    finally:
        os.close(fd)
