"""Commands that refuse the wrong month and the wrong folder, help in Chinese, no lock files
left beside a master — through the real command (a subprocess), on the real demo."""
from __future__ import annotations

import multiprocessing
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "putuo_xl.cli", *map(str, args)], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo") / "demo"
    p = cli("demo", "-o", d)
    assert p.returncode == 0, p.stderr
    return d


def _issued_months(master: Path) -> set[str]:
    c = sqlite3.connect(master.with_name(master.stem + ".ledger.sqlite"))
    try:
        return {r[0] for r in c.execute("SELECT DISTINCT month FROM issued")}
    finally:
        c.close()


def _average(master: Path, month_label: str) -> float:
    from openpyxl import load_workbook
    ws = load_workbook(master, read_only=True)["趨勢"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    head = next(r for r in rows if r and month_label in r)
    col = head.index(month_label)
    row = next(r for r in rows if r and isinstance(r[0], str) and r[0].strip() == "平均得分")
    return row[col]


def test_a_month_outside_the_plan_is_refused_and_nothing_recorded(demo, tmp_path):
    master = demo / "任務分解台賬.xlsx"
    before = master.read_bytes()
    months = _issued_months(master)
    p = cli("forms", master, "--month", "2019-08", cwd=demo)
    assert p.returncode == 1, p.stderr
    assert "2019年8月不在" in p.stderr and "2020年1月至2020年12月" in p.stderr, p.stderr
    assert "--force" in p.stderr and "Traceback" not in p.stderr
    assert not list(demo.glob("2019-08*")) and _issued_months(master) == months
    assert master.read_bytes() == before
    for args in (["rollup", master], ["collect", master, demo / "2020-09_回收(示例數據)"],
                 ["mail", "remind", master, "--dry-run", tmp_path / "eml"]):
        p = cli(*args, "--month", "2019-08", cwd=demo)
        assert p.returncode == 1 and "2020年1月至2020年12月" in p.stderr, (args, p.stderr)
    assert master.read_bytes() == before and _issued_months(master) == months
    assert not (tmp_path / "eml").exists()


def test_a_forced_stray_month_does_not_change_the_other_months(demo, tmp_path):
    """The issue's case: forms for 2019-08 issued by mistake (here with --force) made every later
    rollup count that month as missed (September's 平均得分 fell from 74.3 to 63.3)."""
    work = tmp_path / "w"
    import shutil
    shutil.copytree(demo, work)
    master = work / "任務分解台賬.xlsx"
    assert cli("rollup", master, "--month", "2020-09", cwd=work).returncode == 0
    good = _average(master, "2020年9月")
    p = cli("forms", master, "--month", "2019-08", "--force", cwd=work)
    assert p.returncode == 0 and "提示" in p.stderr and "--force" in p.stderr, p.stderr
    assert "2019-08" in _issued_months(master)
    p = cli("rollup", master, "--month", "2020-09", cwd=work)
    assert p.returncode == 0, p.stderr
    assert "2019年8月" in p.stderr and "沒有計入" in p.stderr
    assert _average(master, "2020年9月") == good
    p = cli("rollup", master, "--month", "2019-08", "--force", cwd=work)
    assert p.returncode == 0 and "提示" in p.stderr, p.stderr


def test_collect_on_a_mistyped_folder_fails_before_anything_is_touched(demo, tmp_path):
    master = demo / "任務分解台賬.xlsx"
    ledger = master.with_name(master.stem + ".ledger.sqlite")
    before, led_before = master.read_bytes(), ledger.read_bytes()
    p = cli("collect", master, demo / "2020-09_回收(示例數據)", demo / "收件相", "--month", "2020-09",
            cwd=demo)
    assert p.returncode == 1 and "找不到「" in p.stderr and "收件相" in p.stderr, p.stderr
    assert len([ln for ln in p.stderr.splitlines() if ln.strip()]) == 1
    assert master.read_bytes() == before and ledger.read_bytes() == led_before
    assert not list(demo.glob(".*.lock"))


COMMANDS = [[], ["parse"], ["build"], ["forms"], ["collect"], ["rollup"], ["demo"], ["log"],
            ["addin"], ["serve"], ["serve", "user"], ["serve", "user", "add"], ["mail"],
            ["mail", "forms"], ["mail", "remind"], ["mail", "bulletin"], ["report"], ["config"],
            ["config", "draft"]]


def test_help_is_chinese_and_examples_stand_on_their_own_lines(tmp_path):
    from putuo_xl.cli.commands import main
    from putuo_xl.cli.helptext import ChineseContext
    for args in COMMANDS:
        cmd, ctx = main, ChineseContext(main, info_name="putuo-xl")
        for a in args:
            cmd = cmd.get_command(ctx, a)
            ctx = ChineseContext(cmd, info_name=a, parent=ctx)
        text = cmd.get_help(ctx)
        for english in ("Usage", "Options", "Commands", "Show this", "[required]", "default:",
                        "TEXT", "FILE", "DIRECTORY", "[OPTIONS]"):
            assert english not in text, (args, english, text)
        assert text.startswith("用法：putuo-xl")
        # an example line holds only the command: nothing runs into the next sentence
        for line in text.splitlines():
            if line.strip().startswith("putuo-xl ") and "  " not in line.strip():
                assert not re.search(r"[\u4e00-\u9fff]{4,}。", line), (args, line)
        prose = [ln for ln in text.splitlines() if re.search(r"[\u4e00-\u9fff]", ln)
                 and not ln.strip().startswith(("putuo-xl", "-", "用法"))]
        for ln in prose:        # our punctuation is full width next to Chinese
            assert not re.search(r"[\u4e00-\u9fff][:;(,]|[,;(][\u4e00-\u9fff]", ln), (args, ln)
    p = cli("rollup", "-h")
    assert p.returncode == 0 and "例：\n    putuo-xl rollup 任務分解台賬.xlsx --month 2020-08\n" in p.stdout


def test_help_follows_the_script_of_the_config_or_the_chinese_locale(tmp_path):
    from putuo_xl.cli.helptext import choose_script
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    # a simplified locale: help and usage errors in simplified characters
    p = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "rollup", "-h"], capture_output=True, text=True,
                       env=dict(env, LANG="zh_CN.UTF-8", PYTHONPATH=str(ROOT)), timeout=120)
    assert p.returncode == 0 and "任务分解台账.xlsx" in p.stdout and "用法：" in p.stdout, p.stdout
    assert "臺賬" not in p.stdout and "台賬" not in p.stdout
    p = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "rollup", "--bogus"], capture_output=True,
                       text=True, env=dict(env, LANG="zh_CN.UTF-8", PYTHONPATH=str(ROOT)), timeout=120)
    assert p.returncode == 2 and "没有选项 --bogus" in p.stderr, p.stderr
    # Hong Kong / Taiwan: traditional, as without a Chinese locale
    p = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "rollup", "-h"], capture_output=True, text=True,
                       env=dict(env, LANG="zh_TW.UTF-8", PYTHONPATH=str(ROOT)), timeout=120)
    assert "任務分解台賬.xlsx" in p.stdout
    # a --config for a simplified district wins over the locale
    cfg = tmp_path / "西平县.yaml"
    cfg.write_text("version: 1\ndistrict: 驻马店市西平县\noffice: 县委全面依法治县委员会办公室\n"
                   "units:\n  县司法局: {}\n  县财政局: {}\n", encoding="utf-8")
    assert choose_script(["build", "--config", str(cfg), "-h"]) == "simplified"
    assert choose_script([f"--config={cfg}"]) == "simplified"
    bundled = ROOT / "putuo_xl" / "data" / "config.yaml"
    assert choose_script(["build", "--config", str(bundled)]) == "traditional"
    assert choose_script(["build", "--config", str(tmp_path / "missing.yaml")]) in ("traditional", "simplified")


def test_no_lock_file_stays_beside_the_master(demo):
    assert not [p.name for p in demo.iterdir() if p.name.endswith(".putuo-xl.lock")]


def _hold(master: str, log: str, n: int) -> None:
    from putuo_xl.locks import master_lock
    for _ in range(n):
        with master_lock(master, timeout=60):
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"in {os.getpid()}\n")
                f.flush()
                time.sleep(0.002)
                f.write(f"out {os.getpid()}\n")


def test_the_lock_is_exclusive_while_its_file_comes_and_goes(tmp_path):
    """Four processes take the lock 25 times each; the file is removed at every release (a
    waiter that locked the removed file starts again): never two inside at once."""
    master, log = tmp_path / "m.xlsx", tmp_path / "log.txt"
    master.write_bytes(b"")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hold, args=(str(master), str(log), 25)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 200
    for a, b in zip(lines[::2], lines[1::2]):
        assert a.startswith("in ") and b == "out " + a[3:], (a, b)
    assert not (tmp_path / ".m.xlsx.putuo-xl.lock").exists()
