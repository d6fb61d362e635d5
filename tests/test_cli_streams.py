"""What a command did goes to standard output (a batch script captures it); notes and errors
go to standard error. `rollup` used to print its summary on stderr."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from putuo_xl.config import load_config

from collect_kit import Form, make_master_and_forms, set_mtime
from test_collect_safety import ROOT

MONTH = "2020-08"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("streams")
    master, forms = make_master_and_forms(root, MONTH, load_config())
    inbox = root / "收件箱"
    inbox.mkdir()
    f = Form(forms / f"{MONTH}_區司法局_法治政府建設月報.xlsx")
    f.fill_all(status="推進中", progress=0.5, actual=90)
    set_mtime(f.save(inbox / f"{MONTH}_區司法局_法治政府建設月報.xlsx"), "2020-09-02 10:00")
    return master, inbox


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "putuo_xl", *map(str, args)], capture_output=True,
                          text=True, cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_rollup_and_collect_rollup_print_their_summary_on_stdout(world, tmp_path):
    master, inbox = world
    m = tmp_path / master.name
    shutil.copy2(master, m)
    shutil.copy2(master.with_name(master.stem + ".ledger.sqlite"), tmp_path)
    out = _cli("collect", m, inbox, "--month", MONTH, "--rollup")
    assert out.returncode == 0, out.stderr
    assert "已匯總 2020年8月" in out.stdout and "已匯總" not in out.stderr
    assert "收錄 1" in out.stdout
    out = _cli("rollup", m, "--month", MONTH)
    assert out.returncode == 0, out.stderr
    assert "已匯總 2020年8月" in out.stdout and "已匯總" not in out.stderr
