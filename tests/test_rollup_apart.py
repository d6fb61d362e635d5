"""At province scale a rollup lays out 任務進展 and 預評估, and makes 月度匯總's rows, in forked
processes (render.FORK_ROWS, surgery's FORK_ROWS): the workbook must be the very same as the one
made in one process. Both runs are fresh processes (a fork needs a process without threads), the
thresholds lowered to 1 so that the year demo forks everything it can."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

LEDGER = "任務分解台賬.ledger.sqlite"
ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
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
from putuo_xl.rollup import rollup
rollup(sys.argv[1], sys.argv[2])
print(json.dumps(started))
"""


def _rollup(year_demo, where: Path, apart: bool) -> tuple[Path, list]:
    where.mkdir()
    master = where / year_demo.master.name
    shutil.copy(year_demo.master, master)
    shutil.copy(year_demo.master.with_name(LEDGER), where / LEDGER)
    env = {k: v for k, v in os.environ.items() if k != "PUTUO_XL_NO_PROCESSES"}
    if not apart:
        env["PUTUO_XL_NO_PROCESSES"] = "1"
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(master), "2020-12"], cwd=str(ROOT),
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return master, json.loads(out.stdout.strip().splitlines()[-1])


def test_forked_layouts_and_rows_give_the_same_workbook(year_demo, tmp_path):
    here, started_here = _rollup(year_demo, tmp_path / "one", apart=False)
    apart, started_apart = _rollup(year_demo, tmp_path / "apart", apart=True)
    assert not any(forked for _fn, forked in started_here)
    forked = {fn for fn, was in started_apart if was}
    assert {"_layouts_of", "spliced_part", "_data_sheets"} <= forked, started_apart
    with zipfile.ZipFile(here) as a, zipfile.ZipFile(apart) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        differ = [n for n in a.namelist() if n != "docProps/core.xml" and a.read(n) != b.read(n)]
    assert differ == []
