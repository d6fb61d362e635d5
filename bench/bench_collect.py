"""Benchmark `collect` for a district (60 forms), 600 forms, and a province (5,400 forms:
90 counties × 60 units), with real masters and forms made by build_master/write_forms.

    .venv/bin/python bench/bench_collect.py [--sizes 60,600,5400] [--keep DIR]

Forms are filled quickly by patching the form sheet's XML (statuses in both scripts and
synonyms, percentages written five ways, full-width digits, texts of realistic length), so the
collector reads what Excel would have saved. Each size is collected into a fresh ledger twice
per thread count (the second run: every file a duplicate). Results: bench/results/collect.md.
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
from putuo_xl.collect import collect  # noqa: E402
from putuo_xl.config import config_from_dict, load_config  # noqa: E402
from putuo_xl.forms import write_forms  # noqa: E402
from putuo_xl.master import build_master  # noqa: E402

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
        tid = str(row[COLS["task_id"]])
        target = str(row[COLS["target"]])
        if target:
            pct = "%" in target
            v = rnd.choice([rnd.randint(85, 100), f"{rnd.randint(85, 100)}%", rnd.randint(85, 100) / 100,
                            f"{rnd.randint(85, 100)}%".translate(str.maketrans("0123456789%", "０１２３４５６７８９％"))]) \
                if pct else rnd.choice([rnd.randint(0, 40), str(rnd.randint(0, 40)), f"{rnd.randint(0, 40)}"])
            values[ref(r, "actual")] = ("s" if isinstance(v, str) else "n", v)
        if "#" in tid:
            continue
        values[ref(r, "status")] = ("s", rnd.choice(STATUSES))
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
                           "forms_s": t2 - t1, "fill_s": t3 - t2,
                           "rows": sum(1 for _ in [])}


def fresh_copy(master: Path, dest: Path) -> Path:
    dest.mkdir()
    shutil.copy2(master, dest / master.name)
    ledger = master.with_name(master.stem + ".ledger.sqlite")
    shutil.copy2(ledger, dest / ledger.name)   # holds the `issued` rows written by write_forms
    return dest / master.name


def run(sizes: list[int], keep: Path | None) -> list[dict]:
    results = []
    base = Path(tempfile.mkdtemp(prefix="bench-collect-")) if keep is None else keep
    try:
        for n in sizes:
            work = base / f"n{n}"
            if work.exists():
                shutil.rmtree(work)
            work.mkdir(parents=True)
            master, inbox, prep = prepare(n, work)
            size_mb = sum(p.stat().st_size for p in inbox.iterdir()) / 1048576
            print(f"[{n}] {prep['forms']} forms ({size_mb:.1f} MB): build {prep['build_s']:.1f}s, "
                  f"forms {prep['forms_s']:.1f}s, fill {prep['fill_s']:.1f}s", flush=True)
            for workers in (1, 2):
                m = fresh_copy(master, work / f"run-w{workers}")
                t = time.perf_counter()
                first = collect(m, [inbox], MONTH, config=prep["config"], workers=workers)
                first_s = time.perf_counter() - t
                t = time.perf_counter()
                again = collect(m, [inbox], MONTH, config=prep["config"], workers=workers)
                again_s = time.perf_counter() - t
                s = first.stats()
                assert s["accepted"] == prep["forms"], (s, [f.reason(2) for f in first.rejected][:3])
                assert again.stats()["duplicates"] == prep["forms"]
                rows = sum(f.rows for f in first.files)
                row = {"n": prep["forms"], "workers": workers, "first_s": first_s, "again_s": again_s,
                       "rows": rows, "mb": size_mb, **{k: v for k, v in first.timings.items() if k.endswith("_s")},
                       "per_form_ms": first.timings["judge_archive_s"] / prep["forms"] * 1000,
                       "build_s": prep["build_s"], "forms_s": prep["forms_s"]}
                results.append(row)
                print(f"    workers={workers}: collect {first_s:.2f}s ({row['per_form_ms']:.2f} ms/form judged+archived,"
                      f" ledger {row['ledger_s']:.2f}s, master {row['master_s']:.2f}s), re-collect {again_s:.2f}s",
                      flush=True)
                shutil.rmtree(m.parent)
            if keep is None:
                shutil.rmtree(work)
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return results


def write_results(results: list[dict], path: Path) -> None:
    lines = [
        "# collect: benchmark",
        "",
        f"Measured {datetime.now().astimezone():%Y-%m-%d %H:%M} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, python-calamine {pc.__version__ if hasattr(pc, '__version__') else ''}."
        " Real masters and forms (build_master / write_forms) for the bundled notice, with extra units in "
        "區級有關單位 to reach the size; forms filled with statuses in both scripts and synonyms, "
        "percentages five ways, full-width digits. Each run starts from a fresh ledger (issued rows only).",
        "",
        "`bench/bench_collect.py` — times are wall-clock seconds for one `collect()` call: gather (walk the "
        "folder), judge + archive (read every file with python-calamine, validate, normalise, store the "
        "original by sha256), ledger (one transaction), master (收件情況 sheet put into the master with "
        "xlsxsurgery). Re-collect: the same folder again, every file a duplicate.",
        "",
        "| forms | task rows | MB | threads | collect s | per form ms (judge+archive) | gather s | ledger s | master s | re-collect s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(f"| {r['n']:,} | {r['rows']:,} | {r['mb']:.1f} | {r['workers']} | {r['first_s']:.2f} | "
                     f"{r['per_form_ms']:.2f} | {r['gather_s']:.2f} | {r['ledger_s']:.2f} | {r['master_s']:.2f} | "
                     f"{r['again_s']:.2f} |")
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
