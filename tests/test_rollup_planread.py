"""rollup reads the plan from the master through a calamine-backed workbook (xlsxread); it must
give exactly what readback.plan_from_workbook (openpyxl) gives, edits included."""
from datetime import datetime

import openpyxl
import pytest

from putuo_xl.config import load_config
from putuo_xl.workbook.master import build_master
from putuo_xl.workbook.readback import plan_from_workbook
from putuo_xl.rollup.reading import _plan_for
from putuo_xl.errors import PutuoError


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    d = tmp_path_factory.mktemp("planread")
    return build_master(None, d / "台賬.xlsx", load_config()).path


def test_same_plan_as_openpyxl(master):
    cfg = load_config()
    assert _plan_for(master, cfg).to_dict() == plan_from_workbook(master, cfg).to_dict()


def test_same_plan_after_edits(master, tmp_path):
    cfg = load_config()
    wb = openpyxl.load_workbook(master)
    ws = next(w for w in wb.worksheets if w.title.startswith("一、"))
    hdr = next(r for r in range(1, 10) if ws.cell(r, 1).value == "任務編號")
    ws.cell(hdr + 1, 4, "區司法局")                       # another lead
    ws.cell(hdr + 2, 7, datetime(2020, 10, 31))          # an earlier deadline
    ws.cell(hdr + 3, 7, "經常性工作")
    ws.cell(hdr + 4, 6, "達到95%以上")                    # a new target
    ws.insert_rows(hdr + 5)
    for c, v in enumerate(["1.1.9", "", "新增的任務:做好示範工作。", "區財政局", "區司法局", "", "2020-11-30"], 1):
        ws.cell(hdr + 5, c, v)
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    a, b = _plan_for(edited, cfg), plan_from_workbook(edited, cfg)
    assert a.to_dict() == b.to_dict()
    t = a.task_index()
    assert t["1.1.9"].deadline == "2020-11-30" and t["1.1.1"].units[0].canonical == "區司法局"


def test_not_a_master(tmp_path):
    p = tmp_path / "x.xlsx"
    openpyxl.Workbook().save(p)
    with pytest.raises(PutuoError):
        _plan_for(p, load_config())
    q = tmp_path / "y.xlsx"
    q.write_bytes(b"not a zip")
    with pytest.raises(PutuoError):
        _plan_for(q, load_config())
