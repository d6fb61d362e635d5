"""collect never loses what is stored: a failing or killed run leaves the previous master and
ledger as they were; a master open in Excel/WPS is not overwritten; the CLI tells the user."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import python_calamine as pc
from click.testing import CliRunner

from putuo_xl import layout
from putuo_xl.cli.commands import main
from putuo_xl.collect.run import collect
from putuo_xl.config import load_config
from putuo_xl.errors import FileBusyError, PutuoError

from collect_kit import Form, make_master_and_forms, set_mtime

MONTH = "2020-08"
ROOT = Path(__file__).resolve().parents[1]
TABLES = ("submissions", "reports", "actuals", "notes")


def form_name(unit):
    return f"{MONTH}_{unit}_法治政府建設月報.xlsx"


@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.fixture(scope="module")
def made(tmp_path_factory, cfg):
    root = tmp_path_factory.mktemp("safety-src")
    master, forms = make_master_and_forms(root, MONTH, cfg)
    filled = root / "filled"
    filled.mkdir()
    for unit in ("區司法局", "區財政局", "區教育局"):
        f = Form(forms / form_name(unit))
        f.fill_all(status="推進中", progress="50%", actual=90)
        p = f.save(filled / form_name(unit))
        set_mtime(p, "2020-09-02 10:00")
    return root, master, filled


@pytest.fixture
def world(tmp_path, made):
    """A fresh copy: master + its ledger (with the issued forms) + three filled forms."""
    root, master, filled = made
    import shutil
    for p in root.iterdir():
        if p.is_file():
            shutil.copy2(p, tmp_path / p.name)
    inbox = tmp_path / "收件箱"
    shutil.copytree(filled, inbox)
    return tmp_path / master.name, inbox


def snapshot(master: Path):
    ledger = master.with_name(master.stem + ".ledger.sqlite")
    if not ledger.exists():
        return None
    conn = sqlite3.connect(ledger)
    snap = {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}
    conn.close()
    return snap


def test_failure_mid_run_leaves_master_and_ledger(world, monkeypatch):
    master, inbox = world
    first = inbox / form_name("區司法局")
    collect(master, [first], MONTH)
    master_bytes, ledger_before = master.read_bytes(), snapshot(master)
    assert len(ledger_before["submissions"]) == 1

    import putuo_xl.collect.receipts as receipts

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(receipts, "put_sheet", broken)
    with pytest.raises(OSError):
        collect(master, [inbox], MONTH)
    assert master.read_bytes() == master_bytes
    assert snapshot(master) == ledger_before
    assert not [p for p in master.parent.iterdir() if p.name.startswith(".tmp-")]

    monkeypatch.undo()
    report = collect(master, [inbox], MONTH)         # the next run takes the files in
    assert [f.outcome for f in report.files].count("accepted") == 2
    assert len(snapshot(master)["submissions"]) == 3


def test_disk_full_when_writing_the_master_is_one_chinese_line(world, monkeypatch):
    master, inbox = world
    master_bytes = master.read_bytes()
    import putuo_xl.collect.receipts as receipts

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device", str(master.parent / ".tmp-x.xlsx"))
    monkeypatch.setattr(receipts, "put_sheet", broken)
    r = CliRunner().invoke(main, ["collect", str(master), str(inbox), "--month", MONTH])
    assert r.exit_code == 1, r.output
    last = r.output.strip().splitlines()[-1]
    assert last.startswith("錯誤") and "磁盤空間不足" in last and "Traceback" not in r.output
    assert master.read_bytes() == master_bytes


@pytest.mark.parametrize("processes", [False, True])
def test_an_archive_that_cannot_be_written_stops_the_run_with_nothing_stored(
        world, monkeypatch, processes):
    """The archive folder's place is taken by a file (or the disk is full): no form can be
    kept as received, so none is collected — one Chinese message, ledger and master as before."""
    import putuo_xl.collect.run as collect_mod
    master, inbox = world
    if processes:        # the same through forked worker processes (a big batch's way)
        monkeypatch.setitem(collect_mod.PROCESS_MIN_FILES, "fork", 2)
    blocker = master.with_name(master.stem + "_回報原件")
    blocker.write_text("not a folder")
    master_bytes, before = master.read_bytes(), snapshot(master)
    with pytest.raises(PutuoError) as e:
        collect(master, [inbox], MONTH)
    assert e.value.code == "archive" or "歸檔文件夾" in str(e.value)
    assert "同名的文件" in str(e.value) and blocker.name in str(e.value)
    assert master.read_bytes() == master_bytes and snapshot(master) == before
    blocker.unlink()
    report = collect(master, [inbox], MONTH)
    assert [f.outcome for f in report.files].count("accepted") == 3
    from putuo_xl import parallel
    if processes and parallel.can_fork():
        assert report.timings["pool"] == "process"


HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from putuo_xl.locks import master_lock
    with master_lock({master!r}):
        Path({marker!r}).write_text("held")
        time.sleep({seconds})
""")


def _hold_master_lock(master: Path, tmp_path: Path, seconds: float) -> subprocess.Popen:
    """Another process (another official's collect, say) holding the master's writer lock."""
    marker = tmp_path / f"held-{time.time_ns()}"
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK.format(
        root=str(Path(__file__).resolve().parents[1]), master=str(master), marker=str(marker),
        seconds=seconds)])
    deadline = time.time() + 60
    while not marker.exists():
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.02)
    return proc


def test_a_second_writer_waits_for_the_first(world, tmp_path):
    """collect and rollup hold one writer lock per master, from reading it to the rename: a
    run that starts while another writes waits for it, then builds on its master."""
    from putuo_xl.rollup.run import rollup
    master, inbox = world
    proc = _hold_master_lock(master, tmp_path, 1.0)
    t = time.perf_counter()
    report = collect(master, [inbox], MONTH)
    waited = time.perf_counter() - t
    proc.wait(timeout=60)
    assert waited > 0.5 and [f.outcome for f in report.files].count("accepted") == 3
    proc = _hold_master_lock(master, tmp_path, 1.0)
    t = time.perf_counter()
    rollup(master, MONTH)
    assert time.perf_counter() - t > 0.5
    proc.wait(timeout=60)
    names = pc.CalamineWorkbook.from_path(str(master)).sheet_names
    assert layout.SHEETS["receipts"] in names and layout.SHEETS["monthly"] in names
    lock = master.with_name(f".{master.name}.putuo-xl.lock")
    assert not lock.exists()            # removed when the last writer was done
    # a lock file (another writer's, on a share) is never taken for a returned form when the
    # master's folder is collected
    lock.touch()
    again = collect(master, [master.parent], MONTH)
    assert lock.name not in {f.name for f in again.files}


def test_a_writer_that_never_finishes_is_reported_not_waited_for_forever(world, tmp_path,
                                                                         monkeypatch):
    import putuo_xl.locks as masterlock
    master, inbox = world
    monkeypatch.setattr(masterlock, "WAIT_SECONDS", 0.5)
    before = master.read_bytes(), snapshot(master)
    proc = _hold_master_lock(master, tmp_path, 30)
    try:
        with pytest.raises(PutuoError) as e:
            collect(master, [inbox], MONTH)
        assert "另一個 putuo-xl 操作" in str(e.value) and master.name in str(e.value)
        assert (master.read_bytes(), snapshot(master)) == before
    finally:
        proc.kill()
        proc.wait()


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    import putuo_xl.collect.receipts as receipts
    from putuo_xl.collect.run import collect

    real = receipts.put_sheet
    def slow(master, source, name, dest):
        real(master, source, name, dest)          # the new master is half-way to its place
        Path({marker!r}).write_text("ready")
        time.sleep(60)
    receipts.put_sheet = slow
    collect({master!r}, [{inbox!r}], "2020-08")
""")


def test_killed_run_leaves_master_and_ledger(world, tmp_path):
    master, inbox = world
    collect(master, [inbox / form_name("區司法局")], MONTH)
    master_bytes, ledger_before = master.read_bytes(), snapshot(master)
    marker = tmp_path / "marker"
    script = KILL_SCRIPT.format(root=str(ROOT), marker=str(marker), master=str(master), inbox=str(inbox))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline, "the collect run never reached the master write"
        time.sleep(0.05)
    # the ledger rows of this run are written, in an open transaction: kill -9 now
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert master.read_bytes() == master_bytes
    assert snapshot(master) == ledger_before
    report = collect(master, [inbox], MONTH)
    assert [f.outcome for f in report.files].count("accepted") == 2


@pytest.mark.parametrize("lock", ["~$", ".~"])
def test_master_open_in_excel_or_wps_is_not_touched(world, lock):
    master, inbox = world
    (master.parent / (lock + master.name)).write_bytes(b"\x00" * 165)
    before = master.read_bytes()
    with pytest.raises(FileBusyError) as e:
        collect(master, [inbox], MONTH)
    assert "關閉" in str(e.value) and "-o" in str(e.value)
    assert master.read_bytes() == before
    snap = snapshot(master)
    assert snap is None or not snap["submissions"]
    # the result can go to a new file instead; the master stays as it was
    out = master.with_name("任務分解台賬(已收件).xlsx")
    report = collect(master, [inbox], MONTH, output=out)
    assert master.read_bytes() == before
    assert len(report.accepted) == 3 and report.output == str(out)
    wb = pc.CalamineWorkbook.from_path(str(out))
    assert layout.name("receipts") in wb.sheet_names


def test_cli(world):
    master, inbox = world
    runner = CliRunner()
    res = runner.invoke(main, ["collect", str(master), str(inbox), "--month", MONTH])
    assert res.exit_code == 0, res.output
    assert "收錄 3" in res.output and "缺報單位" in res.output
    res = runner.invoke(main, ["collect", str(master), str(inbox), "--month", MONTH, "--json"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["stats"]["duplicates"] == 3 and data["stats"]["accepted"] == 0
    (master.parent / ("~$" + master.name)).write_bytes(b"x")
    res = runner.invoke(main, ["collect", str(master), str(inbox), "--month", MONTH])
    assert res.exit_code == 1 and "請先關閉" in res.output
    res = runner.invoke(main, ["collect", str(master), str(inbox), "--month", "八月"])
    assert res.exit_code == 1 and "2020-08" in res.output


def test_master_keeps_its_permissions(world):
    master, inbox = world
    os.chmod(master, 0o664)
    collect(master, [inbox], MONTH)
    assert master.stat().st_mode & 0o777 == 0o664


def test_receipts_sheet_goes_before_the_rollup_sheets_and_keeps_its_place(world):
    """An official's own sheet and the rollup's sheets stay where they are; 收件情況 is added
    before the rollup's first sheet and replaced in place on the next run."""
    import openpyxl
    master, inbox = world
    wb = openpyxl.load_workbook(master)
    wb.create_sheet(layout.name("monthly"))
    wb.create_sheet("辦公室備註")["A1"] = "不要刪除"
    wb.save(master)
    collect(master, [inbox / form_name("區司法局")], MONTH)
    names = pc.CalamineWorkbook.from_path(str(master)).sheet_names
    receipts = layout.name("receipts")
    assert names.index(receipts) == names.index(layout.name("monthly")) - 1
    collect(master, [inbox], MONTH)
    again = pc.CalamineWorkbook.from_path(str(master))
    assert again.sheet_names == names
    assert again.get_sheet_by_name("辦公室備註").to_python()[0][0] == "不要刪除"


def test_an_older_ledger_gets_the_new_columns(tmp_path):
    """A ledger made before collect's columns existed is extended in place, its rows kept."""
    from putuo_xl.ledger.store import SCHEMA, Ledger
    old = SCHEMA
    for col in ("sender", "collect_month", "contact", "unit_from"):
        old = "\n".join(line for line in old.splitlines() if not line.strip().startswith(col + " "))
    old = old.replace("row_count        INTEGER DEFAULT 0,", "row_count        INTEGER DEFAULT 0")
    path = tmp_path / "old.ledger.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(old)
    conn.execute("INSERT INTO submissions (sha256, file_name, received_at, collected_at, status) "
                 "VALUES ('ab', 'x.xlsx', '2020-09-01', '2020-09-02', 'accepted')")
    conn.commit()
    assert not {"sender", "collect_month", "contact", "unit_from"} & {r[1] for r in conn.execute("PRAGMA table_info(submissions)")}
    conn.close()
    led = Ledger(path)
    cols = {r[1] for r in led.conn.execute("PRAGMA table_info(submissions)")}
    assert {"sender", "collect_month", "contact", "unit_from"} <= cols
    assert led.conn.execute("SELECT file_name FROM submissions").fetchone()[0] == "x.xlsx"
    led.close()
