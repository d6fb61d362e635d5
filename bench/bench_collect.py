"""Benchmark `collect` for a district (60 forms), 600 forms, and a province (5,400 forms:
90 counties × 60 units), with real masters and forms made by build_master/write_forms.

    .venv/bin/python bench/bench_collect.py [--sizes 60,600,5400] [--keep DIR]

Forms are filled quickly by patching the form sheet's XML (statuses in both scripts and
synonyms, percentages written five ways, full-width digits, texts of realistic length), so the
collector reads what Excel would have saved. Each size is collected into a fresh ledger twice
per mode — one at a time (serial), two threads, two worker processes — (the second run: every
file a duplicate). Results: bench/results/collect.md.
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import zipfile
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import python_calamine as pc  # noqa: E402

from putuo_xl import layout  # noqa: E402
from putuo_xl.collect.run import collect  # noqa: E402
from putuo_xl.config import config_from_dict, load_config  # noqa: E402
from putuo_xl.workbook.forms import write_forms  # noqa: E402
from putuo_xl.workbook.master import build_master  # noqa: E402

MONTH = "2020-08"
GROUP = "區級有關單位"
COLS = {key: i for i, (key, _) in enumerate(layout.FORM_COLUMNS)}
STATUSES = ["推進中", "推进中", "進行中", "正在推進", "已完成", "完成", "未啟動", "滯後", "按計劃推進"]
TEXTS = ["已召開專題會議研究部署,制定實施方案並分解任務到科室,按月跟蹤落實情況。",
         "完成年度培訓計劃的百分之六十,組織執法人員參加法律知識考試,合格率100%。",
         "正在起草配套制度,已徵求相關部門意見,預計下月提交局務會審議。",
         "  已按要求完成信息公開事項的梳理和發布工作。  "]


def config_for(n_forms: int):
    """The 普陀區 config with enough extra units in 區級有關單位 to make `n_forms` forms."""
    base = load_config()
    raw = dict(base.raw)
    units = dict(raw["units"])
    groups = {k: dict(v) for k, v in raw["groups"].items()}
    have = 44  # units with tasks in the bundled notice
    extra = max(0, n_forms - have)
    names = []
    for i in range(extra):
        county, unit = divmod(i, 60)
        name = f"測試{county + 1:02d}縣第{unit + 1:02d}單位"
        units[name] = {"full_name": name, "kind": "部門"}
        names.append(name)
    groups[GROUP]["members"] = list(groups[GROUP]["members"]) + names
    raw["units"], raw["groups"] = units, groups
    return config_from_dict(raw)


def fill_bytes(data: bytes, rnd: random.Random) -> bytes:
    """A form as an official would have saved it: the input cells of 月報 filled in."""
    wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    rows = wb.get_sheet_by_name(layout.FORM_SHEET).to_python(skip_empty_area=False)
    wb.close()
    header = next(r for r, row in enumerate(rows) if "任務編號" in row)
    values: dict[str, tuple[str, object]] = {}   # "G6" → (kind, value)

    def ref(r, key):
        return f"{chr(65 + COLS[key])}{r + 1}"

    for r in range(header + 1, len(rows)):
        row = rows[r]
        tid = str(row[COLS[layout.FORM_KEY]])        # the row's key: "3.3.1#2" on a further target
        target = str(row[COLS["target"]])
        if target:
            pct = "%" in target
            v = rnd.choice([rnd.randint(85, 100), f"{rnd.randint(85, 100)}%", rnd.randint(85, 100) / 100,
                            f"{rnd.randint(85, 100)}%".translate(str.maketrans("0123456789%", "０１２３４５６７８９％"))]) \
                if pct else rnd.choice([rnd.randint(0, 40), str(rnd.randint(0, 40)), f"{rnd.randint(0, 40)}"])
            values[ref(r, "actual")] = ("s" if isinstance(v, str) else "n", v)
        if "#" in tid:
            continue
        status = rnd.choice(STATUSES)
        values[ref(r, "status")] = ("s", status)
        # mostly consistent with the status, as officials fill it (a few are not: those get notes)
        p = (100 if "完成" in status else 0 if "未" in status else rnd.randint(10, 95))
        if rnd.random() < 0.03:
            p = rnd.randint(0, 100)
        values[ref(r, "progress")] = rnd.choice([("n", p / 100), ("s", f"{p}%"), ("n", p), ("s", f"{p}％")])
        values[ref(r, "progress_text")] = ("s", rnd.choice(TEXTS))
        if rnd.random() < 0.3:
            values[ref(r, "problems")] = ("s", "人員力量不足,部分工作推進較慢。")
        values[ref(r, "next_steps")] = ("s", "繼續按計劃推進,下月完成制度起草。")

    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = body.decode("utf-8")
                for cref, (kind, v) in values.items():
                    empty = f'<c r="{cref}" s="'
                    i = text.find(empty)
                    if i < 0:
                        continue
                    j = text.find("/>", i)
                    style = text[i + len(empty):text.find('"', i + len(empty))]
                    if kind == "s":
                        cell = f'<c r="{cref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{escape(v)}</t></is></c>'
                    else:
                        cell = f'<c r="{cref}" s="{style}"><v>{v}</v></c>'
                    text = text[:i] + cell + text[j + 2:]
                body = text.encode("utf-8")
            zout.writestr(info, body)
    return out.getvalue()


def prepare(n: int, work: Path) -> tuple[Path, Path, dict]:
    cfg = config_for(n)
    t0 = time.perf_counter()
    master = work / "任務分解台賬.xlsx"
    build_master(None, master, cfg)
    t1 = time.perf_counter()
    res = write_forms(master, MONTH, out_dir=work / "forms", config=cfg)
    t2 = time.perf_counter()
    inbox = work / "收件箱"
    inbox.mkdir()
    rnd = random.Random(n)
    ts = datetime(2020, 9, 3, 10, 0).astimezone().timestamp()
    for i, path in enumerate(res.written):
        filled = inbox / path.name
        filled.write_bytes(fill_bytes(path.read_bytes(), rnd))
        os.utime(filled, (ts + i, ts + i))
    t3 = time.perf_counter()
    return master, inbox, {"config": cfg, "forms": len(res.written), "build_s": t1 - t0,
                           "forms_s": t2 - t1, "fill_s": t3 - t2}


def fresh_copy(master: Path, dest: Path) -> Path:
    dest.mkdir()
    shutil.copy2(master, dest / master.name)
    ledger = master.with_name(master.stem + ".ledger.sqlite")
    shutil.copy2(ledger, dest / ledger.name)   # holds the `issued` rows written by write_forms
    return dest / master.name


def cached(n: int, work: Path):
    """Inputs a previous run kept (--keep): master, ledger with the issued rows, filled forms."""
    master, inbox = work / "任務分解台賬.xlsx", work / "收件箱"
    done = work / "prepared.json"
    if not (master.exists() and inbox.is_dir() and done.exists()):
        return None
    import json
    prep = json.loads(done.read_text())
    prep["config"] = config_for(n)
    return master, inbox, prep


def run(sizes: list[int], keep: Path | None) -> list[dict]:
    import json
    results = []
    base = Path(tempfile.mkdtemp(prefix="bench-collect-")) if keep is None else keep
    try:
        for n in sizes:
            work = base / f"n{n}"
            hit = cached(n, work) if keep is not None else None
            if hit is not None:
                master, inbox, prep = hit
            else:
                if work.exists():
                    shutil.rmtree(work)
                work.mkdir(parents=True)
                master, inbox, prep = prepare(n, work)
                (work / "prepared.json").write_text(json.dumps(
                    {k: v for k, v in prep.items() if k != "config"}))
            size_mb = sum(p.stat().st_size for p in inbox.iterdir()) / 1048576
            print(f"[{n}] {prep['forms']} forms ({size_mb:.1f} MB): build {prep['build_s']:.1f}s, "
                  f"forms {prep['forms_s']:.1f}s, fill {prep['fill_s']:.1f}s", flush=True)
            for mode, workers, no_processes in MODES:
                if (work / f"run-{mode}").exists():
                    shutil.rmtree(work / f"run-{mode}")
                m = fresh_copy(master, work / f"run-{mode}")
                if no_processes:
                    os.environ["PUTUO_XL_NO_PROCESSES"] = "1"
                try:
                    c0 = cpu()
                    t = time.perf_counter()
                    first = collect(m, [inbox], MONTH, config=prep["config"], workers=workers)
                    first_s = time.perf_counter() - t
                    first_cpu = cpu() - c0
                    t = time.perf_counter()
                    again = collect(m, [inbox], MONTH, config=prep["config"], workers=workers)
                    again_s = time.perf_counter() - t
                finally:
                    os.environ.pop("PUTUO_XL_NO_PROCESSES", None)
                s = first.stats()
                assert s["accepted"] == prep["forms"], (s, [f.reason(2) for f in first.rejected][:3])
                assert again.stats()["duplicates"] == prep["forms"]
                rows = sum(f.rows for f in first.files)
                row = {"n": prep["forms"], "mode": mode, "pool": first.timings.get("pool"),
                       "cpu_s": first_cpu, "first_s": first_s, "again_s": again_s,
                       "rows": rows, "mb": size_mb, **{k: v for k, v in first.timings.items() if k.endswith("_s")},
                       "per_form_ms": first.timings["judge_archive_s"] / prep["forms"] * 1000,
                       "build_s": prep["build_s"], "forms_s": prep["forms_s"]}
                row["load"] = os.getloadavg()[0]
                results.append(row)
                print(f"    {mode} ({row['pool']}): collect {first_s:.2f}s, CPU {first_cpu:.2f}s "
                      f"({row['per_form_ms']:.2f} ms/form judged+archived,"
                      f" ledger {row['ledger_s']:.2f}s, master {row['master_s']:.2f}s), re-collect {again_s:.2f}s",
                      flush=True)
                shutil.rmtree(m.parent)
            results[-1]["judge_only"] = judge_only(master, inbox, prep["config"])
            if keep is None:
                shutil.rmtree(work)
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return results


MODES = [("serial", 1, False), ("threads", 2, True), ("processes", 2, False)]


def cpu() -> float:
    """CPU seconds of this process and of its finished children (the worker processes)."""
    import resource
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def judge_only(master: Path, inbox: Path, cfg, limit: int = 600) -> dict:
    """Reading and checking alone (no archive, ledger, master), 1 vs 2 threads, best of 3."""
    from concurrent.futures import ThreadPoolExecutor

    from putuo_xl.collect.run import load_plan_info
    from putuo_xl.collect.inputs import gather
    from putuo_xl.collect.judge import Context, IssuedForm, judge
    from putuo_xl.ledger.store import open_ledger

    info, _ = load_plan_info(master, cfg)
    led = open_ledger(master, cfg)
    issued = [IssuedForm(r["unit"], r["month"], r["plan_fingerprint"], tuple(r["task_ids"].split(",")),
                         r["due"]) for r in led.issued(MONTH)]
    led.close()
    ctx = Context.build(MONTH, cfg, info, issued)
    items = gather([inbox])[:limit]
    for it in items:
        it.data = Path(it.path).read_bytes()      # from memory: the disk is not measured
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    global _ITEMS
    _ITEMS = (items, ctx)
    out = {}
    for mode in ("serial", "threads", "processes"):
        best = None
        for _ in range(3):
            t = time.perf_counter()
            if mode == "serial":
                for it in items:
                    judge(it, ctx)
            elif mode == "threads":
                with ThreadPoolExecutor(2) as pool:
                    list(pool.map(lambda it: judge(it, ctx), items))
            else:   # forked workers have the items; the pool's start is included
                with ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
                    list(pool.map(_judge_index, range(len(items)), chunksize=32))
            dt = (time.perf_counter() - t) / len(items) * 1000
            best = dt if best is None else min(best, dt)
        out[mode] = best
    return out


_ITEMS = None


def _judge_index(i: int):
    from putuo_xl.collect.judge import judge
    items, ctx = _ITEMS
    j = judge(items[i], ctx)
    return j.ok


def write_results(results: list[dict], path: Path) -> None:
    lines = [
        "# collect: benchmark",
        "",
        f"Measured {datetime.now().astimezone():%Y-%m-%d %H:%M} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, python-calamine {_version('python-calamine')}."
        " Real masters and forms (build_master / write_forms) for the bundled notice, with extra units in "
        "區級有關單位 to reach the size; forms filled with statuses in both scripts and synonyms, "
        "percentages five ways, full-width digits. Each run starts from a fresh ledger (issued rows only).",
        "",
        "`bench/bench_collect.py` — times are wall-clock seconds for one `collect()` call: gather (walk the "
        "folder), judge + archive (read every file with python-calamine, validate, normalise, store the "
        "original by sha256), ledger (one transaction), master (收件情況 sheet put into the master with "
        "xlsxsurgery). Re-collect: the same folder again, every file a duplicate.",
        "",
        "The machine is shared with other jobs: the 1-minute load average when each run ended is in the last "
        "column (2 cores: above ~1 the run had less than the whole machine). Modes: *serial* (workers=1), "
        "*threads* (workers=2, PUTUO_XL_NO_PROCESSES=1: two threads), *processes* (workers=2, the default: "
        "two forked worker processes when there are 120 files or more, else threads; the pool that was "
        "used is in brackets). CPU = this process and its worker processes. With processes the ledger "
        "rows are stored while the remaining files are still being judged, so judge+archive includes "
        "most of the storing and ledger is what is left after the last file.",
        "",
        "| forms | task rows | MB | mode | collect s | CPU s | per form ms (judge+archive) | gather s | ledger s | master s | re-collect s | load |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(f"| {r['n']:,} | {r['rows']:,} | {r['mb']:.1f} | {r['mode']} ({r['pool']}) | {r['first_s']:.2f} | "
                     f"{r['cpu_s']:.2f} | {r['per_form_ms']:.2f} | {r['gather_s']:.2f} | {r['ledger_s']:.2f} | "
                     f"{r['master_s']:.2f} | {r['again_s']:.2f} | {r.get('load', 0):.1f} |")
    lines += ["", "Reading and checking alone (python-calamine + validation, files already in memory, "
              "no archive/ledger/master; best of 3 over up to 600 forms; the process pool's start "
              "included), ms of wall time per form:", ""]
    for r in results:
        if r.get("judge_only"):
            j = r["judge_only"]
            lines.append(f"- {r['n']:,} forms: serial {j['serial']:.2f} ms, 2 threads {j['threads']:.2f} ms, "
                         f"2 processes {j['processes']:.2f} ms")
    lines += ["", "Preparing the inputs (not part of collect): "]
    seen = set()
    for r in results:
        if r["n"] in seen:
            continue
        seen.add(r["n"])
        lines.append(f"- {r['n']:,} forms: build_master {r['build_s']:.1f} s, write_forms {r['forms_s']:.1f} s")
    lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="60,600,5400")
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated files in this folder")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "collect.md")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x]
    results = run(sizes, args.keep)
    write_results(results, args.out)
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
