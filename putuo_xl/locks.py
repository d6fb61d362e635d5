"""One writer of a master at a time.

collect, rollup and build --refresh read the master, compute, and rename a new master over
it. Two of them at once (two officials, or a rollup started while a collect runs) would each
build on the master as it was when they started, and the later rename would drop the other's
sheets. The ledger's own transactions do not prevent that: its write lock ends at the commit,
before the rename. So each holds an OS lock on a small file beside the master
(`.NAME.xlsx.putuo-xl.lock`, hidden on Linux and macOS, skipped by collect) from the first
read to the rename; another waits for it, and after `timeout` seconds is told to try again.
Re-entrant within a thread; threads of one process (the xlwings server) wait for each other.
The mail commands hold the same kind of lock on their send log (the ledger) while they check
what was sent and send the rest.

A lock must end with its holder. The OS releases it when the last descriptor of the lock
file's open file closes — and a process forked while the lock is held (a worker judging
forms) shares that open file. So a forked child closes its copies at once (`os.register_at_fork`),
and the holder writes its process id and start time into the file: a waiter that finds the
lock held although that process is gone (something else kept the file open: a child of an
older version, a descriptor passed on) takes it over — a new lock file replaces the stale
one — and says so (`Held.note`).

The lock file is removed at release, so no trace stays beside the master:
- POSIX (flock): the holder unlinks the file, under the folder's guard, while it still holds
  the lock. A process that opened the file before and waits on it then locks a file no longer
  at that path; every process, once it has the lock, checks that the path still names the file
  it locked (device and inode) and otherwise starts again with the new file.
- Windows (msvcrt.locking): an open file cannot be removed, so the holder unlocks and closes it
  and then tries; while another process has it open the removal fails and that one removes it.
"""
from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from putuo_xl.errors import PutuoError

WAIT_SECONDS = 300.0
_held = threading.local()
_open_fds: set[int] = set()          # lock descriptors open in this process (not for children)

BUSY = "另一個 putuo-xl 操作(收集、匯總或刷新)正在寫這個台賬"


@dataclass
class Held:
    """What `master_lock` yields: `note` (Chinese) when a stale lock had to be taken over."""
    note: str | None = None


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


def _open(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    _open_fds.add(fd)
    return fd


def _close(fd: int) -> None:
    _open_fds.discard(fd)
    os.close(fd)


def _forked_child() -> None:
    """In a forked child: close the parent's lock descriptors (never unlock them: the lock is
    the parent's), so that the lock ends when the parent does, whatever the child does."""
    for fd in list(_open_fds):
        try:
            os.close(fd)
        except OSError:
            pass
    _open_fds.clear()
    _held.keys = {}


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked_child)


# -- who holds it -------------------------------------------------------------------------
def _start_time(pid: int) -> str | None:
    """The process's start time (Linux: clock ticks since boot), to tell it from a later
    process that got the same id; None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def _me() -> str:
    pid = os.getpid()
    return f"{pid} {_start_time(pid) or '-'} {socket.gethostname()} {time.strftime('%Y-%m-%d %H:%M:%S')}\n"


def _write_holder(fd: int) -> None:
    if os.name == "nt":        # others cannot read a locked range there: nothing to take over
        return
    try:
        data = _me().encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    except OSError:            # only what a waiter uses to spot a stale lock
        pass


def _clear_holder(fd: int) -> None:
    if os.name != "nt":
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass


def _holder_gone(fd: int) -> tuple[int, str] | None:
    """(pid, since) when the lock file names a holder on this machine that has ended; None
    when it is alive, elsewhere, or not named (an older version wrote nothing)."""
    if os.name == "nt":
        return None
    try:
        pid_s, start, host, day, clock = os.pread(fd, 200, 0).decode().split()[:5]
        pid = int(pid_s)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if host != socket.gethostname() or pid == os.getpid() or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return pid, f"{day} {clock}"
    except PermissionError:
        pass                     # alive, another user's
    now = _start_time(pid)
    if start != "-" and now is not None and now != start:
        return pid, f"{day} {clock}"       # the id went to a new process
    try:                        # a zombie nobody reaps has ended too
        with open(f"/proc/{pid}/stat", "rb") as f:
            if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                return pid, f"{day} {clock}"
    except (OSError, IndexError):
        pass
    return None


def _same_file(fd: int, path: Path) -> bool:
    """The descriptor's file is still the one at `path` (a takeover may have replaced it)."""
    if os.name == "nt":
        return True
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev)


@contextlib.contextmanager
def _guard(path: Path):
    """A short lock on the folder (the lock file may be replaced, the folder is not), around
    becoming the lock's holder and replacing a stale lock file: a waiter never takes a lock
    over from a holder that got it a moment ago. Yields False where there is none to be had."""
    if os.name == "nt":
        yield True
        return
    import fcntl
    try:
        g = os.open(path.parent, os.O_RDONLY)
    except OSError:
        yield False
        return
    _open_fds.add(g)
    try:
        try:
            fcntl.flock(g, fcntl.LOCK_EX)
            got = True
        except OSError:
            got = False
        yield got
    finally:
        _close(g)                # closing releases it


def _take_over(fd: int, path: Path) -> tuple[int, str] | None:
    """Replace the stale lock file that `fd` has open by a new one when its holder is gone
    (checked again under the guard). Returns (pid, since) of that holder, or None."""
    try:
        with _guard(path) as guarded:
            if not guarded:
                return None
            gone = _holder_gone(fd)
            if gone is not None and _same_file(fd, path):
                os.unlink(path)
            return gone
    except OSError:
        return None


def _busy(master, wait: float, what: str) -> PutuoError:
    return PutuoError(f"{what},等了 {wait:.0f} 秒仍未結束。請等它完成後再試。", file=str(master),
                      code="busy")


@contextlib.contextmanager
def master_lock(master: str | Path, timeout: float | None = None, what: str = BUSY):
    """Hold the master's writer lock inside the `with` (see the module's docstring); yields a
    `Held`. A folder where no lock file can be made (read-only) is not locked: what follows
    reports that. `what`: how the message for a lock that stays busy names the other holder."""
    key = _key(master)
    held = getattr(_held, "keys", None)
    if held is None:
        held = _held.keys = {}
    if key in held:                       # this thread holds it already
        held[key] += 1
        try:
            yield Held()
        finally:
            held[key] -= 1
        return
    path = lock_path(master)
    try:
        fd = _open(path)
    except OSError:
        yield Held()
        return
    if os.name == "nt":
        _hide(path)
    info = Held()
    try:
        wait = WAIT_SECONDS if timeout is None else timeout
        deadline = time.monotonic() + wait
        pause = 0.02
        while True:
            if _try_lock(fd):
                with _guard(path):
                    mine = _same_file(fd, path)
                    if mine:
                        _write_holder(fd)
                if mine:
                    break
                _close(fd)               # a stale file replaced meanwhile: lock the new one
                fd = -1
                fd = _open(path)
                continue
            gone = _holder_gone(fd) and _take_over(fd, path)
            if gone:
                info.note = (f"上次寫這個台賬的 putuo-xl 操作(進程 {gone[0]},{gone[1]} 開始)已經異常結束"
                             f"(例如被強行終止),但它的鎖沒有釋放;這次已接管。那次操作沒有完成的部分"
                             f"沒有寫入台賬和總表。")
                _close(fd)
                fd = -1
                fd = _open(path)
                continue
            if time.monotonic() >= deadline:
                raise _busy(master, wait, what)
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
        held[key] = 1
        try:
            yield info
        finally:
            del held[key]
            _release(fd, path)
            fd = -1
    finally:
        if fd >= 0:
            _close(fd)


def _release(fd: int, path: Path) -> None:
    """Unlock, close and remove the lock file (see the module's docstring for why it is safe)."""
    if os.name == "nt":
        try:
            _unlock(fd)
        finally:
            _close(fd)
        with contextlib.suppress(OSError):   # another process has it open: it removes it
            os.remove(path)
        return
    try:
        with _guard(path):
            if _same_file(fd, path):
                with contextlib.suppress(OSError):
                    os.unlink(path)      # while locked: whoever locks the old file sees it is gone
            else:
                _clear_holder(fd)
        _unlock(fd)
    finally:
        _close(fd)
