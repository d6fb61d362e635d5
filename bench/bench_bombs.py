"""Memory of a province-scale collect with zip bombs in the batch. Writes bench/results/bombs.md.

    .venv/bin/python bench/bench_bombs.py                    # 5,400 forms, with and without bombs
    .venv/bin/python bench/bench_bombs.py --code /path/to/an/older/checkout --label before

The batch is bench_pipeline's province (90 counties × 60 units: 5,220 returned forms, made once
in bench/.data/5400/) plus a handful of hostile files made from a real returned form:

- sheet:   its sheet XML grown by 200 MB of small rows (about 200 KB on disk — the issue's
           "266 KB form whose sheet XML expands to ~200 MB");
- strings: its shared strings grown by 200 MB;
- parts:   30 extra XML parts of 9 MB each (none too large alone, 270 MB together; nothing
           reads them, but no real form has them);
- ratio:   a 2 MB part packed 1000:1 (small, but no real form packs like that);
- lying:   the sheet bomb with a central directory that understates every size (python-calamine
           stops at the declared size).

What is measured is the command an official runs, `putuo-xl collect MASTER RETURNS --month …
--config …` (and with `--rollup`), as a fresh process on a fresh copy of the master and its ledger: its wall
time and CPU time (the command and its workers), and its memory — the peak of the summed proportional set size (PSS: shared pages counted
once) and of the summed RSS of the command and its worker processes, sampled every 20 ms from
/proc, and the largest single process's peak RSS (getrusage). Linux only.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

import bench_pipeline as bp  # noqa: E402
import proctree  # noqa: E402
from collect_kit import rezip_bytes  # noqa: E402

MB = 1024 * 1024
RESULTS = ROOT / "bench" / "results" / "bombs.md"


# -- the hostile files ----------------------------------------------------------------------
def _rezip(src: bytes, change=None, add=None) -> bytes:
    return rezip_bytes(src, change, add, level=9)


def _understated(data: bytes) -> bytes:
    """The ZIP with every part's unpacked size written as its packed size (local headers and
    the central directory alike)."""
    b = bytearray(data)
    for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
        struct.pack_into("<I", b, info.header_offset + 22, info.compress_size)
    end = b.rfind(b"PK\x05\x06")
    size, offset = struct.unpack_from("<II", b, end + 12)
    p = offset
    while p < offset + size:
        struct.pack_into("<I", b, p + 24, struct.unpack_from("<I", b, p + 20)[0])
        n, m, k = struct.unpack_from("<HHH", b, p + 28)
        p += 46 + n + m + k
    return bytes(b)


def bombs(form: bytes) -> dict[str, bytes]:
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    rows = row * (200 * MB // len(row))
    sheet = _rezip(form, change={"xl/worksheets/sheet1.xml":
                                 lambda d: d.replace(b"</sheetData>", rows + b"</sheetData>")})
    strings = _rezip(form, change={"xl/sharedStrings.xml": lambda d: d.replace(
        b"</sst>", b"<si><t>x</t></si>" * (200 * MB // 17) + b"</sst>")})
    parts = _rezip(form, add={f"xl/extra/part{i}.xml": b"<x>" + b"<y/>" * (9 * MB // 4) + b"</x>"
                              for i in range(30)})
    ratio = _rezip(form, add={"docProps/custom.xml": b"<x>" + b"a" * (2 * MB) + b"</x>"})
    return {"sheet": sheet, "strings": strings, "parts": parts, "ratio": ratio,
            "lying": _understated(sheet)}


def batch(d: Path, with_bombs: bool) -> tuple[Path, dict[str, str]]:
    """bench/.data/5400/returns-bombs (hard links to the returns, plus the bombs) or the plain
    returns; and {bomb file name: kind}."""
    if not with_bombs:
        return d / "returns", {}
    out = d / "returns-bombs"
    src = sorted((d / "returns").glob("*.xlsx"))
    # named after the unit whose form they are made from, so that a collector that does not
    # check the ZIP gets as far as reading the sheet (a name naming another unit is refused
    # before that)
    unit = src[0].name.split("_")[1]
    names = {f"{bp.MONTH}_{unit}_法治政府建設月報(補充{kind}).xlsx": kind for kind in KINDS}
    if not (out / "ready").exists():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        for p in src:
            os.link(p, out / p.name)
        # made in a process of their own: this one stays small (a process it starts begins as
        # a copy of it, and the command's peak RSS would count that)
        subprocess.run([sys.executable, __file__, "--make", str(src[0]), str(out), *names],
                       check=True)
        (out / "ready").write_text("")
    return out, names


KINDS = ("sheet", "strings", "parts", "ratio", "lying")


def _make(form: str, out: str, *names: str) -> None:
    made = bombs(Path(form).read_bytes())
    for name, kind in zip(names, KINDS):
        (Path(out) / name).write_bytes(made[kind])


# -- measuring -----------------------------------------------------------------------------
_tree, _memory = proctree.tree, proctree.memory


def run(d: Path, returns: Path, code: Path, rollup: bool, config: Path | None = None) -> dict:
    work = d / "run-bombs"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(d / "seed", work)
    master = work / "任務分解台賬.xlsx"
    cmd = [sys.executable, "-m", "putuo_xl", "collect", str(master), str(returns), "--month", bp.MONTH,
           "--config", str(config or d / "config.yaml")] + (["--rollup"] if rollup else [])
    env = {**os.environ, "PYTHONPATH": str(code)}
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=str(code), env=env)
    peak_pss = peak_rss = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        pss, rss = _memory(_tree(proc.pid))
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(0.02)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode("utf-8", "replace")
    if proc.returncode:
        raise SystemExit(err)
    biggest = usage.ru_maxrss * 1024        # the command or a worker it waited for
    conn = sqlite3.connect(work / "任務分解台賬.ledger.sqlite")
    verdicts = dict(conn.execute("SELECT file_name, COALESCE(reason_code, status) FROM submissions"))
    counts = dict(conn.execute("SELECT status, COUNT(*) FROM submissions GROUP BY status"))
    conn.close()
    shutil.rmtree(work)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "pss": peak_pss, "rss": peak_rss,
            "biggest": biggest,
            "verdicts": verdicts, "counts": counts}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--code", default=str(ROOT), help="the putuo_xl checkout to run (PYTHONPATH)")
    ap.add_argument("--label", default="this branch")
    ap.add_argument("--out", default=str(RESULTS), help="the results file")
    ap.add_argument("--config", default=None,
                    help="config.yaml for the command (default: the province's; an older checkout "
                         "that does not know the collect limits needs one without them)")
    ap.add_argument("--modes", default="plain,bombs")
    ap.add_argument("--commands", default="collect,collect --rollup")
    args = ap.parse_args(argv)
    d = bp.prepare(5400)
    code = Path(args.code)
    rows = []
    for command in args.commands.split(","):
        for mode in args.modes.split(","):
            returns, names = batch(d, mode == "bombs")
            for k in range(args.runs):
                r = run(d, returns, code, "--rollup" in command, Path(args.config) if args.config else None)
                r["command"], r["mode"] = command, mode
                r["bombs"] = {kind: r["verdicts"].get(n, "—") for n, kind in names.items()}
                r["load"] = os.getloadavg()[0]
                rows.append(r)
                print(f"{command} {mode} run {k + 1}: {r['wall']:.1f} s ({r['cpu']:.1f} s CPU), peak PSS {r['pss'] / MB:.0f} MB, RSS "
                      f"{r['rss'] / MB:.0f} MB, largest process {r['biggest'] / MB:.0f} MB, "
                      f"{r['counts']}, bombs {r['bombs']}", flush=True)
    write(rows, args.label, Path(args.out))


def write(rows: list[dict], label: str, path: Path = RESULTS) -> None:
    lines = ["# Zip bombs in a province-scale collect: memory", "",
             f"Measured {datetime.now():%Y-%m-%d %H:%M} on {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, by `bench/bench_bombs.py` ({label}). The machine is "
             f"shared: the 1-minute load when each run ended is given.", "",
             "The command `putuo-xl collect MASTER RETURNS --month 2020-08` (and with `--rollup`) on a fresh copy "
             "of the province master (90 counties × 60 units, 5,400 forms issued, 5,220 returned), "
             "with and without five hostile files in the batch (see the script's docstring). Memory "
             "is the peak over the run of the command and its worker processes together, sampled "
             "every 20 ms: PSS counts pages the forked workers share with the command once, RSS "
             "counts them in every process; *largest process* is the peak RSS of the biggest one.", "",
             "| command | batch | wall | CPU | peak PSS (all processes) | peak RSS (all processes) | largest process | "
             "accepted / rejected | the bombs' verdicts | load |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        b = ", ".join(f"{k}: {v}" for k, v in r["bombs"].items()) or "—"
        lines.append(f"| `{r['command']}` | {r['mode']} | {r['wall']:.1f} s | {r['cpu']:.1f} s | {r['pss'] / MB:.0f} MB | {r['rss'] / MB:.0f} MB | "
                     f"{r['biggest'] / MB:.0f} MB | {r['counts'].get('accepted', 0)} / "
                     f"{r['counts'].get('rejected', 0)} | {b} | {r['load']:.1f} |")
    lines += ["", NOTES]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path}")


NOTES = """\
The limits (config.yaml `collect`): `max_unpacked_mb: 40`, `max_xml_mb: 10`,
`max_zip_ratio: 100`. The largest form generated at province scale unpacks to 77 KB (its sheet
XML 33 KB), is 20 KB on disk, and packs no part more than 7.4:1. Every bomb is refused from the
ZIP's central directory, before python-calamine reads anything (`zip-bomb`; the one whose
directory understates the sizes is stopped by python-calamine at the declared size and refused as
corrupt), so the batch with bombs costs what the batch without them costs.
"""


if __name__ == "__main__":
    if sys.argv[1:2] == ["--make"]:
        _make(*sys.argv[2:])
    else:
        main()
