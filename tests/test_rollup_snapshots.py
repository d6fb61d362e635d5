"""The rollup's month snapshots (rollup/snapshots.py) on a year of sample returns: with them the
sheets are the same, cell for cell, as without; only the months whose returns changed are read
again (a correction for March: March to December); an earlier day, another config or a damaged
snapshot fall back to computing from the ledger."""
from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from putuo_xl.config import config_from_dict, load_config
from putuo_xl.ledger.store import Ledger
from putuo_xl.rollup import compute
from putuo_xl.workbook.readback import plan_from_workbook

LEDGER = "任務分解台賬.ledger.sqlite"


@pytest.fixture()
def year(year_demo, tmp_path):
    """A copy of the year's master and ledger, without snapshots."""
    shutil.copy(year_demo.master, tmp_path / year_demo.master.name)
    shutil.copy(year_demo.master.with_name(LEDGER), tmp_path / LEDGER)
    return tmp_path / year_demo.master.name


@pytest.fixture()
def reads(monkeypatch):
    """The months whose report rows a rollup read."""
    seen: list[str] = []
    real = compute._month_rows

    def spy(ledger, m, *a, **k):
        seen.append(m)
        return real(ledger, m, *a, **k)
    monkeypatch.setattr(compute, "_month_rows", spy)
    return seen


def figures(master: Path, month: str, cfg=None, today=None):
    cfg = cfg or load_config()
    plan = plan_from_workbook(master, cfg)
    with Ledger(master.with_name(LEDGER)) as led:
        r = compute.compute_rollup(led, plan, cfg, month, today=today)
        return r.sheet_values(), dict(r.bulletins), r.status_rows, r.warnings


def without_cache(monkeypatch, *args, **kw):
    monkeypatch.setenv("PUTUO_XL_ROLLUP_CACHE", "off")
    try:
        return figures(*args, **kw)
    finally:
        monkeypatch.delenv("PUTUO_XL_ROLLUP_CACHE")


def test_same_sheets_with_snapshots(year, reads, monkeypatch):
    plain = without_cache(monkeypatch, year, "2020-12")
    reads.clear()
    cold = figures(year, "2020-12")
    assert reads == [f"2020-{m:02d}" for m in range(1, 13)]
    cache = year.with_name("任務分解台賬.rollup-cache")
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        f"2020-{m:02d}.{part}" for m in range(1, 13)
        for part in ("summary.json", "figures.json", "carry.json", "texts.npz"))
    reads.clear()
    warm = figures(year, "2020-12")
    assert reads == ["2020-12"]                 # January to November from the snapshots
    assert cold == plain and warm == plain
    # an earlier month's rollup reads its own snapshots only
    reads.clear()
    assert figures(year, "2020-06") == without_cache(monkeypatch, year, "2020-06")
    assert reads[:1] == ["2020-06"]


def test_a_correction_for_march_is_counted(year, reads, monkeypatch, year_demo):
    from putuo_xl.collect.run import collect
    from putuo_xl.demo import fill_form, read_form

    figures(year, "2020-12")                    # every month kept
    before = without_cache(monkeypatch, year, "2020-12")
    # in December a unit sends a corrected March form: every task 滯後
    form = sorted((year_demo.out_dir / "2020-03_月報").glob("*.xlsx"))[0]
    info = read_form(form)
    values = {r.task_id: {"status": "滯後", "progress": 0.1, "progress_text": "更正:三月實際滯後。"}
              for r in info.rows if "#" not in r.task_id}
    inbox = year.parent / "更正"
    fill_form(form, inbox / form.name.replace(".xlsx", "(更正).xlsx"), values,
              received=datetime(2020, 12, 20, 10).astimezone(), info=info)
    rep = collect(year, [inbox], "2020-03", load_config(), write_master=False)
    assert rep.stats()["accepted"] == 1
    reads.clear()
    after = figures(year, "2020-12")
    assert reads == [f"2020-{m:02d}" for m in range(3, 13)]     # January and February kept
    assert after == without_cache(monkeypatch, year, "2020-12")
    assert after[0] != before[0]
    monthly = after[0]["月度匯總"]
    march = [r for r in monthly if r and r[0] == "2020年3月" and r[2] == info.unit]
    assert march and "更正" in str(march[0][-1])           # 備註: the correction is noted


def test_falls_back_to_the_ledger(year, reads, monkeypatch):
    figures(year, "2020-12")
    cache = year.with_name("任務分解台賬.rollup-cache")
    # a damaged snapshot: May and the months after it are computed again
    (cache / "2020-05.figures.json").write_text("{not json", "utf-8")
    reads.clear()
    assert figures(year, "2020-12") == without_cache(monkeypatch, year, "2020-12")
    assert reads[0] == "2020-05"
    (cache / "2020-05.summary.json").write_text('{"key": "another"}', "utf-8")
    reads.clear()
    assert figures(year, "2020-12") == without_cache(monkeypatch, year, "2020-12")
    assert reads[0] == "2020-05"
    # another config (a grade threshold): nothing kept fits, everything is computed
    raw = load_config().raw
    raw["rollup"] = {**(raw.get("rollup") or {}), "good_rate": 0.9}
    other = config_from_dict(raw, "other.yaml")
    reads.clear()
    assert figures(year, "2020-12", cfg=other) == without_cache(monkeypatch, year, "2020-12", cfg=other)
    assert reads[0] == "2020-01"
    # a day before some due date (as rollup(now=…) in October): not from snapshots made later
    day = date(2020, 10, 3)
    reads.clear()
    assert figures(year, "2020-09", today=day) == without_cache(monkeypatch, year, "2020-09", today=day)
    assert reads[0] == "2020-01"
    assert not [p for p in cache.iterdir() if p.name.startswith(".tmp-")]
    # kept only while every due date up to the month has passed: October's day kept nothing new
    assert (cache / "2020-09.summary.json").is_file()


def test_unwritable_cache_still_computes(year, monkeypatch):
    cache = year.with_name("任務分解台賬.rollup-cache")
    cache.write_text("a file where the folder would be", "utf-8")
    assert figures(year, "2020-04") == without_cache(monkeypatch, year, "2020-04")
    assert cache.is_file()
