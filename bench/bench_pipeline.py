"""Collect + rollup for 60 forms (a district), 600 and 5,400 (a province: 90 counties × 60
units), against a naive baseline (pandas.read_excel with openpyxl per file, concat, groupby,
to_excel) run in this process. Writes bench/results/pipeline.md.

    .venv/bin/python bench/bench_pipeline.py                 # 60, 600, 5400
    .venv/bin/python bench/bench_pipeline.py --sizes 60,600 --baseline-runs 0

The data (config, master, issued forms, filled returns) is made once per size with the real
stages (build_master, write_forms) and cached in bench/.data/<size>/ (not committed; 5,400 forms
take a few minutes to make). Returns are filled by patching the form's sheet XML (the forms are
the real ones; filling 5,400 of them with openpyxl would take longer than the benchmark).

Ours is timed as a fresh command: a new Python process on a fresh copy of the master and its
ledger runs either `collect_and_rollup` (mode "combined": what `putuo-xl collect … --rollup`
does, the master rewritten once) or `collect` then `rollup` (mode "separate": rewritten twice).
The wall time of that process is the figure (interpreter start and imports included); the
in-process phases are reported too. Each size and mode runs --runs times (default 2): the best
run and the spread are reported. The previous run's copy (with its archive of thousands of
originals) is set aside and deleted after the benchmark, not just before the next run: see
`_set_aside`.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from putuo_xl.config import config_from_dict, load_config  # noqa: E402
from putuo_xl.plan.parser import parse_notice  # noqa: E402
from putuo_xl.plan.planfile import save_plan  # noqa: E402

MONTH = "2020-08"
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "results" / "pipeline.md"
EXTRA = [f"區專項辦{i:02d}" for i in range(1, 17)]     # 44 units in the seed config + 16 = 60


def make_config(counties: int) -> dict:
    """The seed config scaled to `counties` × 60 units. With one county the names stay as they
    are; with more, every unit is '縣NN' + name, and each unit name of the seed becomes a group
    of its county copies (a province-level plan names 區司法局 and means every county's)."""
    base = load_config()
    raw = json.loads(json.dumps(base.raw, ensure_ascii=False, default=str))
    units = {n: {"full_name": u.full_name, "kind": u.kind} for n, u in base.units.items()}
    for e in EXTRA:
        units[e] = {"kind": "部門"}
    groups = {g: {"description": grp.description, "members": list(grp.members)}
              for g, grp in base.groups.items()}
    groups["區級有關單位"]["members"] += EXTRA
    if counties == 1:
        raw["units"], raw["groups"] = units, groups
        for g, grp in base.groups.items():
            raw["groups"][g]["aliases"] = grp.aliases
        return raw
    names = [f"縣{c:02d}" for c in range(1, counties + 1)]
    raw["units"] = {f"{c}{n}": {"kind": spec["kind"]} for c in names for n, spec in units.items()}
    new_groups = {}
    for g, spec in groups.items():
        new_groups[g] = {"description": spec["description"],
                         "members": [f"{c}{m}" for c in names for m in spec["members"]],
                         "aliases": base.groups[g].aliases}
    for n in units:
        new_groups[n] = {"members": [f"{c}{n}" for c in names]}
    raw["groups"] = new_groups
    return raw


def write_yaml(raw: dict, path: Path) -> None:
    import yaml
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")


def fill_fast(src: Path, dst: Path, rng: random.Random, statuses: list[str], received: datetime,
              targets: dict) -> None:
    """Fill a generated form by patching its sheet XML: status, progress and a sentence for each
    task, a figure for each target of a task the unit leads."""
    from putuo_xl.demo import read_form
    info = read_form(src)
    col = {k: chr(64 + v) for k, v in info.columns.items()}
    roles = {r.task_id: r.role for r in info.rows if "#" not in r.task_id}
    cells = {}
    for r in info.rows:
        base = r.task_id.split("#")[0]
        if "#" not in r.task_id:
            st = rng.choices(statuses, [2, 6, 2, 0.5])[0]
            prog = {statuses[0]: 0, statuses[1]: 0.5, statuses[2]: 1, statuses[3]: 0.2}[st]
            cells[f"{col['status']}{r.row}"] = st
            cells[f"{col['progress']}{r.row}"] = prog
            cells[f"{col['progress_text']}{r.row}"] = "已制定工作方案,按計劃推進。"
        ind = r.task_id if "#" in r.task_id else (r.task_id + "#1" if r.indicator else None)
        if ind in targets and roles.get(base) != "配合":
            cells[f"{col['actual']}{r.row}"] = round(targets[ind].value * rng.uniform(0.9, 1.1), 1)

    def repl(m):
        ref, style = m.group(1), m.group(2)
        v = cells.get(ref)
        if v is None:
            return m.group(0)
        if isinstance(v, str):
            return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
        return f'<c r="{ref}" s="{style}"><v>{v}</v></c>'

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(r'<c r="([A-Z]+\d+)" s="(\d+)"/>', repl, data.decode("utf-8")).encode("utf-8")
            zout.writestr(item, data)
    ts = received.timestamp()
    os.utime(dst, (ts, ts))


def prepare(size: int) -> Path:
    """bench/.data/<size>/: config.yaml, plan.json, seed/ (master + ledger with issued forms),
    returns/ (filled forms: a few missing, some late, one rejected)."""
    d = DATA / str(size)
    if (d / "ready").exists():
        return d
    from putuo_xl.workbook.forms import write_forms
    from putuo_xl.workbook.master import build_master
    shutil.rmtree(d, ignore_errors=True)
    (d / "seed").mkdir(parents=True)
    counties = size // 60
    raw = make_config(counties)
    write_yaml(raw, d / "config.yaml")
    cfg = config_from_dict(raw, str(d / "config.yaml"))
    plan = parse_notice(None, load_config())
    if counties > 1:
        for t in plan.tasks():
            for u in t.units:
                if (u.canonical or u.name) in cfg.groups:
                    u.group = True
    save_plan(plan, d / "plan.json")
    t0 = time.perf_counter()
    master = build_master(d / "plan.json", d / "seed" / "任務分解台賬.xlsx", cfg).path
    t1 = time.perf_counter()
    fr = write_forms(master, MONTH, d / "forms", cfg)
    t2 = time.perf_counter()
    print(f"  [{size}] master {t1 - t0:.1f} s, {len(fr.written)} forms {t2 - t1:.1f} s", flush=True)
    rng = random.Random(size)
    statuses = ["未啟動", "推進中", "已完成", "滯後"]
    targets = {i.id: i for _t, i in plan.indicators()}
    due = datetime.fromisoformat(fr.due).replace(hour=12)
    units = list(fr.units)
    missing = set(rng.sample(units, max(1, len(units) // 30)))
    late = set(rng.sample([u for u in units if u not in missing], max(1, len(units) // 20)))
    rejected = next(u for u in units if u not in missing and u not in late)
    (d / "returns").mkdir()
    for i, (unit, path) in enumerate(fr.units.items()):
        if unit in missing:
            continue
        when = due + timedelta(days=2) if unit in late else due - timedelta(days=1 + i % 3)
        fill_fast(path, d / "returns" / path.name, rng,
                  ["差不多", *statuses[1:]] if unit == rejected else statuses, when.astimezone(),
                  targets)
    print(f"  [{size}] returns filled {time.perf_counter() - t2:.1f} s", flush=True)
    (d / "ready").write_text(json.dumps({"forms": len(fr.written), "returns": len(units) - len(missing),
                                          "missing": len(missing), "late": len(late)}))
    return d


RUN = r"""
import sys, time, json
t0 = time.perf_counter()
master, returns, config, mode, month = sys.argv[1:6]
if mode == "combined":
    from putuo_xl.rollup import collect_and_rollup
else:
    from putuo_xl.collect import collect
    from putuo_xl.rollup import rollup
t1 = time.perf_counter()
if mode == "combined":
    run = collect_and_rollup(master, [returns], month, config)
    assert run.ok, run.rollup_error
    rep, rt = run.report, {}
    t2 = t3 = time.perf_counter()
else:
    rep = collect(master, [returns], month, config)
    t2 = time.perf_counter()
    rt = rollup(master, month, config).timings
    t3 = time.perf_counter()
s = rep.stats()
import resource
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"imports": t1 - t0, "collect": t2 - t1, "rollup": t3 - t2, "rollup_timings": rt,
                  "accepted": s["accepted"], "rejected": s["rejected"],
                  "cpu_main": me.ru_utime + me.ru_stime, "cpu_workers": kids.ru_utime + kids.ru_stime,
                  "collect_timings": rep.timings}))
from putuo_xl.cli import quick_exit      # the end the putuo-xl command has
quick_exit(0)
"""

MODES = {"cli": "the command itself, `putuo-xl collect MASTER RETURNS --month … --config … "
                "--rollup`, its table of files needing attention printed (to a pipe): one "
                "master rewrite",
         "combined": "`collect_and_rollup`, what that command calls, in `python -c`, ended as "
                     "the command ends (`cli.quick_exit`): one master rewrite",
         "separate": "`collect` then `rollup` in the same `python -c`: two master rewrites"}


def compile_package() -> None:
    """putuo_xl's bytecode, compiled as an installed package has it (pip compiles what it
    installs; an editable install writes __pycache__ at the first run). Without it every run
    compiles ~20,000 lines of source, ~0.1 s: this machine sets PYTHONDONTWRITEBYTECODE."""
    import compileall
    compileall.compile_dir(str(ROOT / "putuo_xl"), quiet=1)


def _set_aside(run: Path) -> None:
    """Move the previous run's copy out of the way, to be deleted after the benchmark
    (`_delete_set_aside`). Deleting it here would make the run measured next slower for a reason
    of the benchmark's own: on this machine's ext4 (no journal), a new file made within seconds
    after thousands were deleted costs the kernel a scan of the recently deleted inodes
    (`recently_deleted()`): at 5,400 forms ~1.3 s more system CPU for the 5,220 archived
    originals. An official's archive only grows."""
    if run.exists():
        aside = run.parent / "set-aside"
        aside.mkdir(exist_ok=True)
        run.rename(aside / f"run-{time.time_ns()}")


def _delete_set_aside() -> None:
    for aside in DATA.glob("*/set-aside"):
        shutil.rmtree(aside, ignore_errors=True)


def run_ours(d: Path, mode: str) -> dict:
    run = d / "run"
    _set_aside(run)           # a fresh copy of master and ledger, no archive (as before)
    shutil.copytree(d / "seed", run)
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    master, returns, config = str(run / "任務分解台賬.xlsx"), str(d / "returns"), str(d / "config.yaml")
    if mode == "cli":
        cmd = [sys.executable, "-m", "putuo_xl", "collect", master, returns, "--month", MONTH,
               "--config", config, "--rollup"]
    else:
        cmd = [sys.executable, "-c", RUN, master, returns, config, mode, MONTH]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT))
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode:
        raise SystemExit(out.stderr)
    if mode == "cli":
        res = {"imports": None, "collect": None, "rollup": None}
    else:
        res = json.loads(out.stdout.strip().splitlines()[-1])
    res["wall"] = wall
    res["cpu"] = cpu
    res["load"] = os.getloadavg()[0]
    res["master_mb"] = (run / "任務分解台賬.xlsx").stat().st_size / 1e6
    return res


def run_baseline(d: Path) -> tuple[float, float]:
    """What one would write by hand: read every form with pandas+openpyxl, concat, count, save.
    Returns (wall, CPU) seconds."""
    import pandas as pd
    t = time.perf_counter()
    c = time.process_time()
    frames = []
    for f in sorted((d / "returns").glob("*.xlsx")):
        df = pd.read_excel(f, sheet_name="月報", header=4, engine="openpyxl")
        df["單位"] = f.name.split("_")[1]
        frames.append(df)
    allrows = pd.concat(frames, ignore_index=True)
    allrows = allrows[allrows["任務編號"].notna()]
    by_unit = allrows.groupby(["單位", "進展狀態"]).size().unstack(fill_value=0)
    by_task = allrows.groupby(["任務編號", "進展狀態"]).size().unstack(fill_value=0)
    with pd.ExcelWriter(d / "baseline.xlsx", engine="openpyxl") as xw:
        by_unit.to_excel(xw, sheet_name="月度匯總")
        by_task.to_excel(xw, sheet_name="任務進展")
    return time.perf_counter() - t, time.process_time() - c


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="60,600,5400")
    ap.add_argument("--runs", type=int, default=2, help="runs of ours per size and mode (best is reported)")
    ap.add_argument("--baseline-runs", default="2,2,1",
                    help="baseline runs per size, in --sizes order (0: skip)")
    ap.add_argument("--modes", default="cli,combined,separate")
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    bruns = [int(x) for x in args.baseline_runs.split(",")]
    bruns += [bruns[-1]] * (len(sizes) - len(bruns))
    modes = args.modes.split(",")
    compile_package()
    rows = []
    for n, nb in zip(sizes, bruns):
        print(f"size {n}: preparing", flush=True)
        d = prepare(n)
        info = json.loads((d / "ready").read_text())
        ours = {m: [] for m in modes}
        for k in range(args.runs):
            for m in modes:
                r = run_ours(d, m)
                ours[m].append(r)
                print(f"  [{n}] {m} run {k + 1}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU "
                      + (f"(imports {r['imports']:.2f}, collect {r['collect']:.2f}, "
                         f"rollup {r['rollup']:.2f}, " if r["imports"] is not None else "(")
                      + f"load {r['load']:.1f})", flush=True)
        base = []
        for k in range(nb):
            b = run_baseline(d)
            base.append(b)
            print(f"  [{n}] baseline run {k + 1}: {b[0]:.2f} s wall, {b[1]:.2f} s CPU, "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
        rows.append((n, info, ours, base))
    write_results(rows, modes)
    _delete_set_aside()


NOTES = """\
## Where the targets stand

The table above is one sitting (11:13, 2-vCPU machine, nothing else running: the load figures
are mostly this benchmark's own processes). The same command varies with the load; the
baseline alone has taken 59–71 s at 5,400 forms over the day. Compare CPU times as well as
wall times.

- **60 forms within 1 s: met** (0.61 s for the command, 0.53 s for the library call). Most of
  it is fixed cost: interpreter start and imports (pandas and numpy ~0.2 s), config, reading
  the master's plan, one surgery of the master. The naive baseline is about as fast at this
  size: it validates nothing, keeps no ledger and writes no master.
- **5,400 forms within 15 s: met** (6.0 s for the command, 5.7 s for the library call; 16.9 s
  before the first speed work).
- **10x the baseline at 5,400: met, by a small margin** — 10.6x for the command (6.01 s
  against 63.67 s), 11.2x for the library call; by CPU 6.2x. It holds while the two cores are
  ours: with other work on the machine the same command has taken up to 9.8 s.
- **10x the baseline at 600: not met** — 6.6x for the command (1.04 s against 6.88 s), 7.3x
  for the library call (0.95 s). 10x needs ~0.69 s. The command uses ~1.5 s of CPU: two worker
  processes ~0.9 s judging and archiving 580 forms (python-calamine ~0.5 ms a form, our checks
  ~0.45 ms, hashing and archiving 0.15–0.3 ms), the main process ~0.6 s (imports incl. pandas
  ~0.3 s, config and plan, storing, computing the reports 0.06 s, rendering and the surgery of
  the master ~0.16 s). Two cores give at most 1.38 s of CPU in 0.69 s, and the start (~0.12 s
  before the workers are forked) and the end (~0.25 s: the month's state, the reports, the
  master written) run on one core. Traced: the workers start at 0.12 s and finish at
  0.62–0.68 s, the master is written by ~0.9 s; the command's table of files needing attention
  adds ~0.1 s (rich).

A later sitting (11:55, after the archive and CLI-table changes, the same load) gave for
command / library call: 60 forms 0.60 / 0.54 s; 600 forms 1.06 / 1.02 s against a 7.08 s
baseline (6.7x / 7.0x); 5,400 forms 6.08 / 6.00 s against 64.60 s (10.6x / 10.8x). The
sittings differ by up to ~7 % in CPU time for the same code, more than those changes.

This round (see docs/performance.md): `putuo-xl` ends with `os._exit` once its output is
flushed and the atexit handlers have run (the interpreter's teardown — a garbage collection,
unloading pandas — was ~0.13 s of every command); an xlsx is recognised from the ZIP's central
directory without listing it (~0.1 ms a form); xlsxwriter, lxml and the surgery are imported
while the forms are judged, not after. And one correction of the benchmark: this machine sets
PYTHONDONTWRITEBYTECODE, so every earlier run compiled putuo_xl's ~20,000 lines from source
(~0.1 s); an installed package has its bytecode, and the benchmark now compiles it first. The
previous sitting (10:35) gave 0.69 s, 1.15 s and 6.19 s for the library call with both costs in.

What was done before (see docs/performance.md): forms judged by two forked worker processes
(threads or serial where a process cannot be started safely, or for small batches), each file
stored in the ledger as its judgement comes back; the rollup's plan read, imports and task ×
unit table made while the forms are judged; `collect … --rollup` computes the rollup inside
collect's transaction and rewrites the master once, handing the rollup the report rows it has
just inserted instead of reading them back; `_status` rows made only in the forked process that
writes them; `os.sync` in a thread while the reports are computed; the rollup computed over
integer-coded numpy arrays; the big tables' bodies (月度匯總, 預評估, 收件情況) written as row XML
the surgery neither parses nor walks; `_status`/`_actuals` as plain sheets compressed in a forked
process; new parts compressed in threads while the rest of the master is copied; opencc's t2s by
`str.translate` for text without its phrases; config.yaml parsed by libyaml; folders walked with
scandir; no notice parser, forms writer or xml.sax import on the way.
"""


def write_results(rows, modes):
    def sec(x):
        return f"{x:.2f} s" if x is not None else "—"

    lines = [
        "# Pipeline benchmark: collect + rollup", "",
        f"Measured {datetime.now():%Y-%m-%d %H:%M} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, by `bench/bench_pipeline.py`. "
        "The machine is shared with other jobs: the 1-minute load average when each run ended "
        "is given (2 cores: above ~1 the runs had less than the whole machine).", "",
        "*Ours* is one fresh process — interpreter start, imports, config, every master "
        "rewrite, the process's exit included — in one of three modes:", ""]
    for m in modes:
        lines.append(f"- **{m}**: {MODES[m]}.")
    lines += ["",
              "All judge every returned form (python-calamine, worker processes when the batch "
              "is big enough), archive it, store its rows in the SQLite ledger, write 收件情況, "
              "compute every report from the ledger and put the six 工作報表 sheets and "
              "`_status`/`_actuals` into the master. *Baseline* is `pandas.read_excel(engine="
              "'openpyxl')` per file, `concat`, two `groupby` counts and `to_excel`, run in the "
              "benchmark's own process (no validation, no ledger, no master).", "",
              "Each run starts from a fresh copy of the master and its ledger, with no archive; "
              "the previous run's copy is set aside and deleted after the benchmark (deleting "
              "its 5,220 archived originals just before the next run made that run pay ~1.3 s of "
              "system CPU at 5,400 forms: this machine's ext4 scans recently deleted inodes when "
              "it makes a file).", "",
              "Each cell: the best run, and in brackets the spread (slowest − fastest) over the "
              "runs. Ratio = baseline's best ÷ ours' best.", "",
              "| forms | returns | mode | runs | ours: wall | ours: CPU | imports | collect | rollup | load | baseline: wall (runs) | ratio (wall) | ratio (CPU) |",
              "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for n, info, ours, base in rows:
        bw = min((b[0] for b in base), default=None)
        bc = min((b[1] for b in base), default=None)
        bs = (max(b[0] for b in base) - bw) if base else None
        for m in modes:
            rs = ours[m]
            best = min(rs, key=lambda r: r["wall"])
            spread = max(r["wall"] for r in rs) - best["wall"]
            cpu = min(r["cpu"] for r in rs)
            rw = f"{bw / best['wall']:.1f}×" if bw else "—"
            rc = f"{bc / cpu:.1f}×" if bc else "—"
            btxt = f"{sec(bw)} (+{bs:.2f}, {len(base)})" if bw else "—"
            loads = "/".join(f"{r['load']:.1f}" for r in rs)
            lines.append(
                f"| {n:,} | {info['returns']:,} | {m} | {len(rs)} | **{sec(best['wall'])}** (+{spread:.2f}) | "
                f"{sec(cpu)} | {sec(best['imports'])} | {sec(best['collect'])} | {sec(best['rollup'])} | "
                f"{loads} | {btxt} | {rw} | {rc} |")
    lines += ["", "Targets (issue 5): 60 forms within 1 s; 5,400 within 15 s; at least 10× faster "
              "than the baseline at 600 and 5,400.", "",
              "Phases inside the process, best run (wall seconds):", ""]
    for n, info, ours, base in rows:
        for m in modes:
            if m == "cli":
                continue
            o = min(ours[m], key=lambda r: r["wall"])
            rt = o.get("rollup_timings") or {}
            ct = o.get("collect_timings") or {}
            lines.append(f"- {n:,} forms, {m} — collect: " + ", ".join(
                f"{k} {v:.2f}" for k, v in ct.items() if isinstance(v, (int, float)) and k != "workers")
                + f" (pool: {ct.get('pool')})"
                + ("; rollup: " + ", ".join(f"{k} {v:.2f}" for k, v in rt.items()) if rt else ""))
    lines += ["", NOTES]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
