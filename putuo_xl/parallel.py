"""Running a piece of work in a second process, where that is safe and pays.

The machine has few cores and the big steps are Python (the GIL): a thread does not help, a
forked process does. Fork is cheap on Linux, but only safe from a single-threaded process
(forking a threaded one can deadlock in the child) and not used on macOS (system libraries
break after fork); elsewhere (Windows, Excel's embedded interpreter, a server with threads)
the work simply runs here. PUTUO_XL_NO_PROCESSES=1 turns all of it off.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Any, Callable


def disabled() -> bool:
    return bool(os.environ.get("PUTUO_XL_NO_PROCESSES"))


def python_executable() -> bool:
    """sys.executable is a Python interpreter, so a Python child process can be started from it
    (inside a program that embeds Python it is that program, and starting it starts that)."""
    from pathlib import Path
    return Path(sys.executable or "").name.lower().startswith("python")


def can_fork() -> bool:
    """True when this process may fork a child that runs Python."""
    if disabled() or sys.platform in ("darwin", "win32") or not hasattr(os, "fork"):
        return False
    import multiprocessing as mp
    return "fork" in mp.get_all_start_methods() and threading.active_count() == 1


class Result:
    """`fn(arg)`, started at once in a forked child when possible, else computed by
    `result()` here. `result()` gives the value (pickled back through a pipe) or raises what
    `fn` raised, as often as asked; a child that dies (killed, out of memory) is replaced by
    computing here."""

    def __init__(self, fn: Callable[[Any], Any], arg: Any):
        self.fn, self.arg = fn, arg
        self._proc = self._conn = None
        self._done = None             # (ok, value) once known
        if can_fork():
            import multiprocessing as mp
            try:
                ctx = mp.get_context("fork")
                self._conn, child_end = ctx.Pipe(duplex=False)
                self._proc = ctx.Process(target=_child, args=(child_end, fn, arg, os.getpid()),
                                         daemon=True)
                self._proc.start()
                child_end.close()
            except OSError:
                self._proc = self._conn = None

    @property
    def forked(self) -> bool:
        return self._proc is not None

    def cancel(self) -> None:
        """Not wanted after all (an error on the way): stop the child."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.join()
            self._conn.close()
            self._proc = None

    def result(self):
        if self._done is not None:
            ok, value = self._done
        elif self._proc is None:
            ok, value = True, self.fn(self.arg)
        else:
            try:
                ok, value = self._conn.recv()
            except (EOFError, OSError):
                ok, value = True, self.fn(self.arg)
            finally:
                self._conn.close()
                self._proc.join()
                self._proc = None
        self._done = (ok, value)
        if not ok:
            raise value
        return value


def die_with_parent(parent_pid: int) -> None:
    """In a worker process: end at once when the process that started it ends (killed too),
    instead of living on as an orphan that waits for work forever. Linux: the kernel sends
    SIGKILL (prctl PR_SET_PDEATHSIG); elsewhere a thread waits on multiprocessing's parent
    sentinel."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:     # PR_SET_PDEATHSIG
                if os.getppid() != parent_pid:                   # gone before the call
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    import multiprocessing as mp
    parent = mp.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        from multiprocessing.connection import wait
        wait([parent.sentinel])
        os._exit(1)
    threading.Thread(target=watch, name="putuo-xl-parent-watch", daemon=True).start()


def _child(conn, fn, arg, parent_pid: int) -> None:
    die_with_parent(parent_pid)
    # the parent's objects are never collected here: a collection would touch every one of them
    # and so copy the parent's whole heap into this process (copy-on-write)
    import gc
    gc.freeze()
    try:
        try:
            out = (True, fn(arg))
        except BaseException as e:          # noqa: BLE001 - handed to the parent as it is
            out = (False, e)
        conn.send(out)
    finally:
        conn.close()
