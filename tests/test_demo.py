"""`putuo-xl demo`: one command, every sheet filled, sample data marked as such."""
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from putuo_xl import layout
from putuo_xl.demo import MARKER_FILE, SAMPLE_MARK, run_demo
from putuo_xl.errors import PutuoError
from putuo_xl.text import narrow

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo") / "示例")


def test_every_report_sheet_filled_and_marked(demo):
    wb = openpyxl.load_workbook(demo.master, read_only=True)
    try:
        for key in layout.ROLLUP_SHEETS:
            ws = wb[layout.name(key)]
            rows = [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]
            assert len(rows) > 10, key
            assert SAMPLE_MARK in str(rows[0][0]) or SAMPLE_MARK in str(rows[1][0]), key
        assert wb[layout.STATUS_SHEET].max_row > 1000
        # 收件情況 is marked too (from the month's own in-force returns, as the rollup's sheets)
        first = next(wb[layout.name("receipts")].iter_rows(values_only=True))
        assert f"({SAMPLE_MARK})" in narrow(str(first[0]))
    finally:
        wb.close()
    # August: 3 missing, 4 late, 1 rejected; September: 2 missing, 3 late
    aug, sep = demo.plans
    assert (len(aug.missing), len(aug.late), len(aug.rejected)) == (3, 4, 1)
    assert (len(sep.missing), len(sep.late), len(sep.rejected)) == (2, 3, 0)
    assert demo.collect_summaries[0] and "拒收 1" in demo.collect_summaries[0]
    assert (demo.out_dir / MARKER_FILE).exists()


def test_sample_returns_are_marked(demo):
    files = sorted(demo.returns["2020-08"].glob("*.xlsx"))
    assert len(files) == 44 - 3
    assert all(f.name.startswith(SAMPLE_MARK + "_") for f in files)
    wb = openpyxl.load_workbook(files[0])
    assert SAMPLE_MARK in wb.properties.title and SAMPLE_MARK in wb.properties.description
    ws = wb[layout.FORM_SHEET]
    assert SAMPLE_MARK in ws.cell(1, 1).value
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "【" in c.value]
    assert texts and all(t.startswith(f"【{SAMPLE_MARK}】") for t in texts)


def test_deterministic(demo, tmp_path):
    again = run_demo(tmp_path / "again")
    from putuo_xl.rollup.run import bulletin_text
    assert bulletin_text(again.master, "2020-09") == bulletin_text(demo.master, "2020-09")


def test_refuses_a_folder_with_other_files(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(PutuoError):
        run_demo(tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_libreoffice_opens_demo_master_and_a_return(demo):
    tool = ROOT / "tools" / "xlsx-check"
    for f in (demo.master, sorted(demo.returns["2020-09"].glob("*.xlsx"))[0]):
        res = subprocess.run([str(tool), str(f), "--json"], capture_output=True, text=True, timeout=240)
        rep = json.loads(res.stdout)
        assert rep["ok"], (f.name, rep.get("problems"))


def test_cli(tmp_path):
    out = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "demo", "-o", str(tmp_path / "d"),
                          "--month", "2020-08"], capture_output=True, text=True, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    assert "示例已生成" in out.stderr and "2020年8月" in out.stderr
    master = tmp_path / "d" / "任務分解台賬.xlsx"
    res = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "rollup", str(master), "--month", "2020-08",
                          "--bulletin", str(tmp_path / "b.txt")], capture_output=True, text=True,
                         cwd=str(ROOT))
    assert res.returncode == 0, res.stderr
    assert "已匯總 2020年8月" in res.stdout          # what the command did: stdout
    assert (tmp_path / "b.txt").read_text(encoding="utf-8").startswith(f"【{SAMPLE_MARK}")
    bad = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "rollup", str(master), "--month", "8月"],
                         capture_output=True, text=True, cwd=str(ROOT))
    assert bad.returncode == 1 and narrow(bad.stderr).startswith("錯誤:") and len(bad.stderr.splitlines()) == 1
