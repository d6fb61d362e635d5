"""At province scale a rollup lays out 任務進展 and 預評估, and makes 月度匯總's rows, in forked
processes (render.FORK_ROWS, surgery's FORK_ROWS), and the 年度報告 from a bare ledger reads the
later months in one (compute.months_apart): what they write must be the very same as what one
process writes. Every run is a fresh process (a fork needs a process without threads), the
thresholds lowered to 1 so that the year demo forks everything it can."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

LEDGER = "任務分解台賬.ledger.sqlite"
ROOT = Path(__file__).resolve().parent.parent

SPY = r"""
import json, sys
import putuo_xl.parallel as parallel
import putuo_xl.rollup.render as render
import putuo_xl.workbook.surgery.workbookxml as workbookxml
render.FORK_ROWS = 1
workbookxml.FORK_ROWS = 1
started = []
real = parallel.Result.__init__
def init(self, fn, arg):
    real(self, fn, arg)
    started.append([fn.__name__, self.forked])
parallel.Result.__init__ = init
"""
ROLLUP = SPY + """
from putuo_xl.rollup import rollup
rollup(sys.argv[1], "2020-12")
print(json.dumps(started))
"""
REPORT = SPY + """
from putuo_xl.report import annual_report
annual_report(sys.argv[1], 2020, output=sys.argv[2])
print(json.dumps(started))
"""


def _run(year_demo, where: Path, apart: bool, script: str, *args: str) -> tuple[Path, list]:
    """`script` in a fresh process on a bare copy of the year's master and ledger (no
    snapshots), with processes (`apart`) or without; gives the master and what was started."""
    where.mkdir()
    master = where / year_demo.master.name
    shutil.copy(year_demo.master, master)
    shutil.copy(year_demo.master.with_name(LEDGER), where / LEDGER)
    env = {k: v for k, v in os.environ.items() if k != "PUTUO_XL_NO_PROCESSES"}
    if not apart:
        env["PUTUO_XL_NO_PROCESSES"] = "1"
    out = subprocess.run([sys.executable, "-c", script, str(master), *args], cwd=str(ROOT),
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return master, json.loads(out.stdout.strip().splitlines()[-1])


def test_forked_layouts_and_rows_give_the_same_workbook(year_demo, tmp_path):
    here, started_here = _run(year_demo, tmp_path / "one", False, ROLLUP)
    apart, started_apart = _run(year_demo, tmp_path / "apart", True, ROLLUP)
    assert not any(forked for _fn, forked in started_here)
    forked = {fn for fn, was in started_apart if was}
    assert {"_layouts_of", "spliced_part", "_data_sheets"} <= forked, started_apart
    with zipfile.ZipFile(here) as a, zipfile.ZipFile(apart) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        differ = [n for n in a.namelist() if n != "docProps/core.xml" and a.read(n) != b.read(n)]
    assert differ == []


def test_months_read_apart_give_the_same_report(year_demo, tmp_path):
    one, started_here = _run(year_demo, tmp_path / "one", False, REPORT, str(tmp_path / "one" / "報告.docx"))
    two, started_apart = _run(year_demo, tmp_path / "apart", True, REPORT, str(tmp_path / "apart" / "報告.docx"))
    assert not any(forked for _fn, forked in started_here)
    assert ["months_apart", True] in started_apart, started_apart
    for name in ("報告.docx", "報告_附表.xlsx"):
        with zipfile.ZipFile(one.with_name(name)) as a, zipfile.ZipFile(two.with_name(name)) as b:
            assert sorted(a.namelist()) == sorted(b.namelist())
            differ = [n for n in a.namelist()
                      if not n.startswith("docProps/") and _undated(a.read(n)) != _undated(b.read(n))]
        assert differ == [], name


def _undated(xml: bytes) -> bytes:
    """Without the comments' time stamps (w:date: when the document was written)."""
    return re.sub(rb' w:date="[^"]*"', b"", xml)
