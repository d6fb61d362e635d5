"""A year in the ledger at 60, 600 and 5,400 forms a month, for bench/bench_annual.py.

One month is made by the real stages, with bench_pipeline's machinery (bench/.data/<size>/:
the scaled config, the master, the issued forms, the returns filled by patching the sheet XML;
then `collect` stores them in a ledger). The other eleven months are that month's ledger rows
copied into a new ledger month by month, each changed as a year changes a unit's returns:

- every task × unit moves from 未啟動 through 推進中 to 已完成 over the year at its own pace (a
  hash of unit and task decides when it starts and when it is done; one in forty lags for a
  while), its progress and its 工作進展 / 存在問題 / 下步計劃 texts with it (the texts repeat
  across units, as officials' texts do);
- every target's actual drifts towards its target value, most reach it by the autumn;
- each month ~3 % of the units do not report, ~5 % report late, one unit sends a correction
  (its first form superseded) and the rejected file of the real month is there every month.

Copying 2.6 million rows takes ~1 minute at 5,400 forms, where making, filling and collecting
65,000 real forms would take ~20 (the rollup and the annual report read only the ledger; what
they read is what collect stores: the same tables, columns and kinds of value). The result is
cached in bench/.data/annual-<size>/ (not committed).
"""
from __future__ import annotations

import json
import random
import shutil
import sqlite3
import sys
import time
import zlib
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_pipeline as bp  # noqa: E402

YEAR = 2020
MONTHS = [f"{YEAR}-{k:02d}" for k in range(1, 13)]
TEMPLATE_MONTH = bp.MONTH            # the month bench_pipeline makes for real
MASTER = "任務分解台賬.xlsx"
LEDGER = "任務分解台賬.ledger.sqlite"

PROGRESS = [
    "已制定工作方案,明確責任科室和時間節點。",
    "已召開專題會議部署,相關制度正在起草。",
    "已完成前期調研,正在徵求相關單位意見。",
    "工作已全面鋪開,階段性任務已完成。",
    "已建立工作台賬,每月跟蹤督辦。",
]
DONE = ["已完成年度任務,形成總結材料。", "已按要求全部完成,相關制度已印發實施。"]
PROBLEMS = ["人員力量不足,進度偏慢。", "需要其他部門配合的事項尚未落實。", "經費尚未到位。"]
NEXT = ["下月完成制度起草並報審。", "加強與牽頭單位的溝通銜接。", "按時間節點推進,確保年底前完成。"]


def _h(unit: str, task: str) -> int:
    return zlib.crc32(f"{unit}|{task}".encode("utf-8"))


def _course(unit: str, task: str) -> tuple[int, int, bool]:
    """(start month, done month (13, 14: not within the year), lags) of a task for a unit."""
    h = _h(unit, task)
    start = 1 + h % 4
    done = start + 2 + (h >> 4) % 11
    return start, min(done, 14), (h >> 9) % 40 == 0


def status_at(unit: str, task: str, k: int) -> tuple[str, float]:
    start, done, lags = _course(unit, task)
    if k < start:
        return "未啟動", 0.0
    if k >= done:
        return "已完成", 1.0
    share = round(min(0.9, (k - start + 1) / (done - start + 1)), 1)
    if lags and k >= start + 2:
        return "滯後", round(share / 2, 1)
    return "推進中", share


def texts_at(unit: str, task: str, k: int, status: str) -> tuple[str, str | None, str | None]:
    h = _h(unit, task)
    if status == "已完成":
        return DONE[h % len(DONE)], None, None
    if status == "未啟動":
        return "尚未啟動,正在研究工作方案。", None, NEXT[(h + k) % len(NEXT)]
    text = PROGRESS[(h + k) % len(PROGRESS)]
    if status == "滯後":
        return text, PROBLEMS[(h >> 3) % len(PROBLEMS)], NEXT[(h + k) % len(NEXT)]
    return text, None, (NEXT[(h + k) % len(NEXT)] if (h + k) % 3 == 0 else None)


def actual_at(value: float, target: float | None, op: str | None, unit_name: str, ind: str, k: int) -> float:
    """The template month's value moved towards the target over the year."""
    if target is None:
        return value
    h = _h(unit_name, ind)
    late = (h % 5 == 0)                           # one in five still short at the year's end
    reach = (k / 12) * (0.93 if late else 1.04) + (0.0 if late else 0.02 * (h % 3))
    if op == "<=":
        v = target * (1.35 - 0.4 * min(reach, 1.05))
    else:
        v = target * (0.72 + 0.3 * min(reach, 1.05))
    if target <= 100 and op != "<=":
        v = min(v, 100.0)
    return round(v, 1)


def _due(month: str) -> date:
    from putuo_xl.ledger.status import due_for_month
    return due_for_month(month)


def prepare_year(size: int) -> Path:
    """bench/.data/annual-<size>/: config.yaml, seed/ (master + a ledger with 12 months),
    seed-01/ (the same master and the ledger as it was after January)."""
    d = bp.DATA / f"annual-{size}"
    if (d / "ready").exists():
        return d
    src = bp.prepare(size)
    shutil.rmtree(d, ignore_errors=True)
    (d / "seed").mkdir(parents=True)
    shutil.copy(src / "config.yaml", d / "config.yaml")
    t0 = time.perf_counter()
    # the real month: collect the filled returns into a copy of the seed
    tmpl = d / "template"
    shutil.copytree(src / "seed", tmpl)
    from putuo_xl.collect.run import collect
    from putuo_xl.config import load_config
    cfg = load_config(d / "config.yaml")
    rep = collect(tmpl / MASTER, [src / "returns"], TEMPLATE_MONTH, cfg, write_master=False)
    t1 = time.perf_counter()
    print(f"  [{size}] real month collected: {rep.stats()['accepted']} accepted, "
          f"{rep.stats()['rejected']} rejected, {t1 - t0:.1f} s", flush=True)
    shutil.copy(src / "seed" / MASTER, d / "seed" / MASTER)
    _copy_year(tmpl / LEDGER, d / "seed" / LEDGER, size, cfg, MONTHS)
    # the same ledger as it was in January (the first month's rollup runs on it)
    (d / "seed-01").mkdir()
    shutil.copy(src / "seed" / MASTER, d / "seed-01" / MASTER)
    _copy_year(tmpl / LEDGER, d / "seed-01" / LEDGER, size, cfg, MONTHS[:1])
    shutil.rmtree(tmpl)
    t2 = time.perf_counter()
    con = sqlite3.connect(d / "seed" / LEDGER)
    counts = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
              for t in ("issued", "submissions", "reports", "actuals")}
    con.close()
    counts["seconds"] = round(t2 - t0, 1)
    print(f"  [{size}] year copied: {counts}", flush=True)
    (d / "ready").write_text(json.dumps(counts))
    return d


def _targets(cfg) -> dict:
    from putuo_xl.plan.parser import parse_notice
    from putuo_xl.config import load_config
    plan = parse_notice(None, load_config())
    return {i.id: (i.value, i.op) for _t, i in plan.indicators()}


def _copy_year(template: Path, out: Path, size: int, cfg, months: list[str]) -> None:
    from putuo_xl.ledger.store import Ledger
    Ledger(out).close()                          # the schema
    con = sqlite3.connect(out, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("ATTACH DATABASE ? AS t", (str(template),))
    targets = _targets(cfg)
    k_of = {m: i + 1 for i, m in enumerate(MONTHS)}

    def st(unit, task, month):
        return status_at(unit, task, k_of[month])[0]

    def pg(unit, task, month):
        return status_at(unit, task, k_of[month])[1]

    def tx(unit, task, month, which):
        s = status_at(unit, task, k_of[month])[0]
        return texts_at(unit, task, k_of[month], s)[which]

    def act(value, unit, ind, month):
        tv, op = targets.get(ind, (None, None))
        return actual_at(value, tv, op, unit, ind, k_of[month])

    con.create_function("y_status", 3, st, deterministic=True)
    con.create_function("y_progress", 3, pg, deterministic=True)
    con.create_function("y_text", 4, tx, deterministic=True)
    con.create_function("y_actual", 4, act, deterministic=True)
    subs = con.execute("SELECT * FROM t.submissions ORDER BY id").fetchall()
    cols = [c[1] for c in con.execute("PRAGMA t.table_info(submissions)")]
    ci = {c: i for i, c in enumerate(cols)}
    units = sorted({r[ci["unit"]] for r in subs if r[ci["unit"]]})
    con.execute("BEGIN")
    for k, m in enumerate(months, 1):
        rng = random.Random(size * 100 + k)
        due = _due(m)
        missing = set(rng.sample(units, max(1, len(units) * 3 // 100)))
        late = set(rng.sample([u for u in units if u not in missing], max(1, len(units) // 20)))
        corrected = rng.choice([u for u in units if u not in missing and u not in late])
        con.execute("INSERT INTO issued SELECT ?, unit, replace(file_name, ?, ?), plan_fingerprint, "
                    "task_ids, ?, created_at FROM t.issued", (m, TEMPLATE_MONTH, m, due.isoformat()))
        mapping = []
        rows = []
        for i, r in enumerate(subs):
            r = list(r)
            unit = r[ci["unit"]]
            accepted = r[ci["status"]] == "accepted"
            if accepted and unit in missing:
                continue
            old = r[ci["id"]]
            new = k * 1_000_000 + old
            if accepted and unit in late:
                when = datetime.combine(due, datetime.min.time()) + timedelta(days=2, hours=10)
            else:
                when = datetime.combine(due, datetime.min.time()) - timedelta(days=1 + i % 4, hours=-9)
            when = when.astimezone()
            r[ci["id"]] = new
            r[ci["month"]] = m if r[ci["month"]] else None
            r[ci["collect_month"]] = m
            r[ci["received_at"]] = when.isoformat(timespec="seconds")
            r[ci["collected_at"]] = (when + timedelta(days=1)).isoformat(timespec="seconds")
            r[ci["file_name"]] = (r[ci["file_name"]] or "").replace(TEMPLATE_MONTH, m)
            r[ci["sha256"]] = f"{r[ci['sha256']]}-{m}"
            if accepted:
                r[ci["on_time"]] = 0 if unit in late else 1
            if accepted and unit == corrected:      # a correction: the first form superseded
                fix = k * 1_000_000 + 900_000 + old
                r[ci["superseded_by"]] = fix
                c = list(r)
                c[ci["id"]] = fix
                c[ci["superseded_by"]] = None
                c[ci["received_at"]] = (when + timedelta(days=3)).isoformat(timespec="seconds")
                c[ci["collected_at"]] = (when + timedelta(days=4)).isoformat(timespec="seconds")
                c[ci["file_name"]] = c[ci["file_name"]].replace(".xlsx", "(更正).xlsx")
                c[ci["sha256"]] += "-fix"
                rows.append(c)
                mapping.append((old, fix))
            rows.append(r)
            if accepted:
                mapping.append((old, new))
        # the correction first in id order is fine: ids only need to be unique
        con.executemany(f"INSERT INTO submissions({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        sorted(rows, key=lambda x: x[ci["id"]]))
        con.execute("DROP TABLE IF EXISTS temp.map")
        con.execute("CREATE TEMP TABLE map(old INTEGER PRIMARY KEY, new INTEGER)")
        # a unit's correction and its first form share the old id: the first form keeps its rows
        first = {}
        for o, n in mapping:
            first.setdefault(o, []).append(n)
        con.executemany("INSERT INTO temp.map VALUES (?, ?)", [(o, ns[-1]) for o, ns in first.items()])
        extra = [(o, ns[0]) for o, ns in first.items() if len(ns) > 1]
        for table_map in ("temp.map", None):
            if table_map is None:
                if not extra:
                    break
                con.execute("DELETE FROM temp.map")
                con.executemany("INSERT INTO temp.map VALUES (?, ?)", extra)
            con.execute(
                "INSERT INTO reports SELECT mp.new, r.unit, ?, r.task_id, r.role, "
                "y_status(r.unit, r.task_id, ?), y_progress(r.unit, r.task_id, ?), "
                "y_text(r.unit, r.task_id, ?, 0), y_text(r.unit, r.task_id, ?, 1), "
                "y_text(r.unit, r.task_id, ?, 2) "
                "FROM t.reports r JOIN temp.map mp ON mp.old = r.submission_id "
                "WHERE r.status IS NOT NULL OR r.progress IS NOT NULL", (m, m, m, m, m, m))
            con.execute(
                "INSERT INTO actuals SELECT mp.new, a.unit, ?, a.task_id, a.indicator_id, "
                "y_actual(a.value, a.unit, a.indicator_id, ?) "
                "FROM t.actuals a JOIN temp.map mp ON mp.old = a.submission_id", (m, m))
        print(f"    {m}: {len(rows)} submissions", flush=True)
    con.execute("COMMIT")
    con.execute("DETACH DATABASE t")
    con.execute("ANALYZE")
    con.close()


if __name__ == "__main__":
    for s in (int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "60,600,5400").split(",")):
        prepare_year(s)
