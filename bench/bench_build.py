"""Measure `build` (master workbook), reading the master back, and `forms` (all units, one month)
for the bundled seed notice and for a synthetic district ten times larger (500 tasks, 60 units).

    .venv/bin/python bench/bench_build.py            # writes bench/results/build.md

Each figure is the median of a few runs in a fresh temporary folder (forms are rewritten with
force=True so every run writes every file). The machine's other load shows up in the numbers:
run it when nothing else is busy.
"""
from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import xlsxwriter  # noqa: E402

from putuo_xl.config import config_from_dict, load_config  # noqa: E402
from putuo_xl.workbook.forms import write_forms  # noqa: E402
from putuo_xl.workbook.master import build_master  # noqa: E402
from putuo_xl.plan.model import Indicator, Plan, Section, Subsection, Task, UnitRef  # noqa: E402
from putuo_xl.plan.parser import parse_notice  # noqa: E402
from putuo_xl.workbook.readback import read_master  # noqa: E402
from putuo_xl.plan.assignments import unit_assignments  # noqa: E402

RUNS = 3
CN = "一二三四五六七八九十"


def synthetic(seed_plan: Plan, base_cfg, n_tasks: int = 500, n_units: int = 60):
    """A district ten times the seed: the seed's units plus made-up ones, tasks whose texts,
    unit lists and targets are drawn (deterministically) from the seed's own shapes."""
    rnd = random.Random(2020)
    raw = dict(base_cfg.raw)
    units = dict(base_cfg.raw["units"])
    extra = n_units - len(units)
    for i in range(1, extra + 1):
        units[f"區示範單位{i:02d}"] = {"full_name": f"舟山市普陀區示範單位{i:02d}", "kind": "部門"}
    raw["units"] = units
    groups = {k: dict(v) for k, v in base_cfg.raw["groups"].items()}
    groups["區級有關單位"]["members"] = list(groups["區級有關單位"]["members"]) + \
        [f"區示範單位{i:02d}" for i in range(1, extra + 1)]
    raw["groups"] = groups
    cfg = config_from_dict(raw)
    depts = [u for u, v in cfg.units.items() if v.kind == "部門"]
    texts = [t.text for t in seed_plan.tasks()]
    inds = [i for _, i in seed_plan.indicators()]
    plan = Plan(title="2021年某區法治政府建設工作要點(合成測試)", issuer="某區人民政府辦公室",
                date="2021-03-01", doc_number="某政辦〔2021〕1號", year=2021, script="traditional",
                default_deadline="2021-12-31")
    per_section = n_tasks // 6
    k = 0
    for s in range(1, 7):
        sec = Section(id=str(s), number=CN[s - 1], title=f"合成章節{CN[s - 1]}:推進依法行政重點工作")
        n_sub = 5
        for ss_i in range(1, n_sub + 1):
            ss = Subsection(id=f"{s}.{ss_i}", number=f"({CN[ss_i - 1]})", title=f"小節{ss_i}")
            count = per_section // n_sub + (1 if ss_i <= per_section % n_sub else 0)
            if s == 6 and ss_i == n_sub:
                count += n_tasks - per_section * 6
            for t_i in range(1, count + 1):
                tid = f"{s}.{ss_i}.{t_i}"
                lead = rnd.choice(depts)
                refs = [UnitRef(lead, lead, "lead")]
                for co in rnd.sample([d for d in depts if d != lead], rnd.randint(0, 3)):
                    refs.append(UnitRef(co, co, "co"))
                r = rnd.random()
                if r < 0.35:
                    refs.append(UnitRef("區級有關單位", "區級有關單位", "co", True))
                if r < 0.15 or r > 0.9:
                    refs.append(UnitRef("各鎮(街道)", "各鎮(街道)", "co", True))
                if r > 0.95:
                    refs.append(UnitRef("管委會", "管委會", "co", True))
                task = Task(id=tid, text=texts[k % len(texts)], units=refs, deadline="2021-12-31")
                if rnd.random() < 0.2:
                    for n in range(1, rnd.randint(1, 3) + 1):
                        src = rnd.choice(inds)
                        task.indicators.append(Indicator(text=src.text, value=src.value, unit=src.unit,
                                                         op=src.op, name=src.name, id=f"{tid}#{n}"))
                ss.tasks.append(task)
                k += 1
            sec.subsections.append(ss)
        plan.sections.append(sec)
    return plan, cfg


def timed(fn, runs=RUNS):
    """Median wall time, median CPU time of this process, and the last result."""
    times, cpu, out = [], [], None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), statistics.median(cpu), out


def measure(label: str, plan: Plan, cfg, month: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        master = Path(tmp) / "任務分解台賬.xlsx"
        t_build, c_build, res = timed(lambda: build_master(plan, master, cfg))
        t_read, c_read, read = timed(lambda: read_master(master, cfg))
        t_forms, c_forms, fr = timed(lambda: write_forms(master, month, config=cfg, force=True))
        t_forms_plan, c_forms_plan, fr2 = timed(lambda: write_forms(None, month, Path(tmp) / "p",
                                                                    config=cfg, force=True,
                                                                    plan=read.plan))
        assign = unit_assignments(plan, cfg)
        return {
            "label": label, "tasks": len(plan.tasks()), "units": len(assign),
            "rows": sum(len(v) for v in assign.values()),
            "indicators": len(plan.indicators()),
            "build": t_build, "c_build": c_build, "master_kb": master.stat().st_size / 1024,
            "read": t_read, "c_read": c_read, "forms": t_forms, "c_forms": c_forms,
            "forms_n": len(fr.written), "forms_write_only": t_forms_plan, "c_forms_write_only": c_forms_plan,
            "per_form_ms": 1000 * t_forms_plan / max(len(fr2.written), 1),
            "c_per_form_ms": 1000 * c_forms_plan / max(len(fr2.written), 1),
            "form_kb": statistics.median(p.stat().st_size for p in fr.written) / 1024,
        }


def main() -> None:
    cfg = load_config()
    seed = parse_notice(None, cfg)
    big, big_cfg = synthetic(seed, cfg)
    rows = [measure("seed (2020 普陀區)", seed, cfg, "2020-08"),
            measure("synthetic 10× (500 tasks, 60 units)", big, big_cfg, "2021-08")]
    lines = [
        "# build / forms benchmark",
        "",
        f"`bench/bench_build.py`, median of {RUNS} runs. Machine: {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()}, xlsxwriter {xlsxwriter.__version__}; "
        f"load average when it finished: {os.getloadavg()[0]:.1f}. Times are wall clock, with the CPU "
        f"time of the process in brackets (less sensitive to other jobs on the machine).",
        "",
        "| plan | tasks | units | unit×task rows | targets | build master | master size | read master back "
        "| forms (read master + write all) | write all forms | per form | form size |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['tasks']} | {r['units']} | {r['rows']} | {r['indicators']} "
            f"| {r['build']:.2f} s ({r['c_build']:.2f}) | {r['master_kb']:.0f} KB "
            f"| {r['read']:.2f} s ({r['c_read']:.2f}) "
            f"| {r['forms']:.2f} s ({r['c_forms']:.2f}), {r['forms_n']} files "
            f"| {r['forms_write_only']:.2f} s ({r['c_forms_write_only']:.2f}) "
            f"| {r['per_form_ms']:.1f} ms ({r['c_per_form_ms']:.1f}) | {r['form_kb']:.0f} KB |")
    lines += [
        "",
        "- *build master*: parse already done; writing every sheet of the master with xlsxwriter,",
        "  atomically (temporary file, rename).",
        "- *read master back*: `read_master` (openpyxl, read-only) — what `forms` does first, so edits",
        "  officials made in the master are used.",
        "- *forms*: `write_forms(master, month, force=True)`: read the master, write one styled, validated,",
        "  protected workbook per unit, record them in the ledger. *write all forms* is the same from an",
        "  already-read plan.",
        "",
        "Target from the issue: all seed forms in under 1 s on this 2-core machine.",
    ]
    out = ROOT / "bench" / "results" / "build.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
