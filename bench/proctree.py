"""Memory of a command and the processes it forks: summed PSS (each shared page counted once,
split between the processes sharing it) and RSS, sampled while it runs."""
from __future__ import annotations

import os
import subprocess
import time


def tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    kids: dict[int, list[int]] = {}
    for e in os.scandir("/proc"):
        if e.name.isdigit():
            try:
                with open(f"/proc/{e.name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(e.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def memory(pids: list[int]) -> tuple[int, int]:
    """(summed PSS, summed RSS) in bytes."""
    pss = rss = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
        except OSError:
            pass
    return pss, rss


def run_sampled(cmd: list[str], every: float | None = 0.02, **popen) -> tuple[int, int, int, str, str]:
    """Run `cmd` to its end, sampling its process tree every `every` seconds (None: not at
    all: both peaks are then 0): (exit code, peak summed PSS, peak summed RSS, stdout, stderr)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)
    peak_pss = peak_rss = 0
    import threading
    out: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda k, s: out.__setitem__(k, s.read()), args=(k, s), daemon=True)
               for k, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    while every is not None and proc.poll() is None:
        pss, rss = memory(tree(proc.pid))
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(every)
    proc.wait()
    for t in readers:
        t.join()
    return (proc.returncode, peak_pss, peak_rss, out.get("out", b"").decode("utf-8", "replace"),
            out.get("err", b"").decode("utf-8", "replace"))
