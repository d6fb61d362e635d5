"""A killed run never locks the office out: `kill -9` of a collect while its worker processes
judge forms leaves no worker behind and no lock held; a lock left by a holder that is gone is
taken over with a note (real subprocesses, real signals)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from putuo_xl.collect.run import collect
from putuo_xl.errors import PutuoError
from putuo_xl.locks import lock_path, master_lock

from test_collect_safety import MONTH, ROOT, cfg, made, snapshot, world  # noqa: F401

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork, /proc, kill -9")


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_for(cond, seconds: float, what: str, proc=None) -> None:
    deadline = time.time() + seconds
    while not cond():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the run ended early: {proc.stderr.read().decode()[-2000:]}")
        assert time.time() < deadline, what
        time.sleep(0.05)


KILLED_RUN = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    import putuo_xl.collect.run as run
    run.PROCESS_MIN_FILES["fork"] = 2          # worker processes even for this small batch
    real = run.judge
    def slow(item, ctx):                       # a worker judging: note who, then take long
        Path({marks!r}, str(os.getpid())).write_text("judging")
        time.sleep(120)
        return real(item, ctx)
    run.judge = slow
    from putuo_xl.rollup.with_collect import collect_and_rollup
    collect_and_rollup({master!r}, [{inbox!r}], "2020-08")
""")


def test_kill_9_while_workers_judge_leaves_no_worker_and_no_lock(world, tmp_path, monkeypatch):
    import putuo_xl.locks as locks
    master, inbox = world
    marks = tmp_path / "marks"
    marks.mkdir()
    before = master.read_bytes(), snapshot(master)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN.format(marks=str(marks), master=str(master), inbox=str(inbox))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        _wait_for(lambda: len(list(marks.iterdir())) >= 2, 90, "two workers judging", proc)
        workers = [int(p.name) for p in marks.iterdir()]
        assert proc.pid not in workers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # the workers die with their parent, instead of sleeping forever with its lock
        _wait_for(lambda: not any(_alive(w) for w in workers), 10, "workers ended with the parent")
    finally:
        for w in [int(p.name) for p in marks.iterdir()]:
            if _alive(w):
                os.kill(w, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
    assert (master.read_bytes(), snapshot(master)) == before
    # the next collect gets the lock at once (it used to wait 300 s and give up)
    monkeypatch.setattr(locks, "WAIT_SECONDS", 5)
    t = time.perf_counter()
    report = collect(master, [inbox], MONTH)
    assert time.perf_counter() - t < 30
    assert [f.outcome for f in report.files].count("accepted") == 3
    assert not any("接管" in w for w in report.warnings)


LEFT_BEHIND = textwrap.dedent("""
    import os, subprocess, sys
    from pathlib import Path
    from putuo_xl.locks import lock_path, master_lock
    with master_lock({master!r}):
        # what a worker forked by an older putuo-xl did: keep the lock's open file after its
        # parent is gone (here a process started with the descriptor passed on)
        want = os.stat(lock_path({master!r})).st_ino
        fd = next(int(n) for n in os.listdir("/proc/self/fd")
                  if os.path.exists(f"/proc/self/fd/{{n}}")
                  and os.stat(f"/proc/self/fd/{{n}}").st_ino == want)
        child = subprocess.Popen(["sleep", "120"], pass_fds=[fd], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        Path({marker!r}).write_text(str(child.pid))
        os._exit(0)                            # the holder ends without releasing anything
""")


def test_a_lock_whose_holder_is_gone_is_taken_over_with_a_note(world, tmp_path, monkeypatch):
    import putuo_xl.locks as locks
    master, inbox = world
    marker = tmp_path / "left"
    out = subprocess.run([sys.executable, "-c", LEFT_BEHIND.format(master=str(master), marker=str(marker))],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    left = int(marker.read_text())
    try:
        assert _alive(left)
        monkeypatch.setattr(locks, "WAIT_SECONDS", 20)
        t = time.perf_counter()
        report = collect(master, [inbox], MONTH)
        assert time.perf_counter() - t < 15
        assert [f.outcome for f in report.files].count("accepted") == 3
        note = next(w for w in report.warnings if "接管" in w)
        assert "異常結束" in note
        # taken over for good: one writer at a time still holds
        with master_lock(master):
            probe = subprocess.run(
                [sys.executable, "-c", "import sys; from putuo_xl.locks import master_lock\n"
                 f"with master_lock({str(master)!r}, timeout=0.5): pass"],
                capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            assert probe.returncode != 0 and "另一個 putuo-xl 操作" in probe.stderr
        with master_lock(master) as held:        # a lock released normally: no note
            assert held.note is None
    finally:
        os.kill(left, signal.SIGKILL)


def test_a_live_holder_is_waited_for_not_taken_over(world, tmp_path, monkeypatch):
    """The holder's process is alive (another official's collect): wait, never take over."""
    import putuo_xl.locks as locks
    from test_collect_safety import _hold_master_lock
    master, inbox = world
    monkeypatch.setattr(locks, "WAIT_SECONDS", 0.5)
    proc = _hold_master_lock(master, tmp_path, 30)
    try:
        with pytest.raises(PutuoError) as e:
            collect(master, [inbox], MONTH)
        assert "另一個 putuo-xl 操作" in str(e.value)
    finally:
        proc.kill()
        proc.wait()
    assert lock_path(master).exists()
