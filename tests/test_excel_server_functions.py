"""The five worksheet functions over HTTP against a real xlwings Server, compared cell by cell
with what 刷新匯總 writes into the workbook (月度匯總, 任務進展, 考評指標完成情況, _status) and
with the master's own task lists (_plan, _tasks): a function never disagrees with the sheets.

The ledger holds two months in which the lead unit of indicator 1.4.1#1 (區審招辦) reports
93.8 in August and leaves it blank in September, while the co-operating unit
(區大數據發展管理局) reports 95 in September: the sheet shows the lead's 93.8, and so must
INDICATOR_ACTUAL / INDICATOR_MET."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from putuo_xl import layout
from putuo_xl.config import load_config
from putuo_xl.plan.parser import parse_notice
from putuo_xl.plan.labels import deadline_label, indicators_text
from putuo_xl.plan.assignments import lead_label
from putuo_xl.text import norm_name

from collect_kit import Form, set_mtime
from test_excel_server import ServerMaster, running_server, written_sheets

AUG, SEP = "2020-08", "2020-09"
LEAD, CO = "區審招辦", "區大數據發展管理局"


def _return(world: ServerMaster, month: str, unit: str, status: str, **actuals) -> Path:
    """`unit` fills its form for `month` (every row `status`, targets as given: task id → value,
    None = left blank) and it arrives on the 3rd of the next month."""
    forms = world.folder / f"{month}_月報"
    src = next(forms.glob(f"*_{unit}_*.xlsx"))
    f = Form(src)
    f.fill_all(status=status, progress=1.0 if status == "已完成" else 0.5, actual=90, count=12)
    for tid, v in actuals.items():
        f.set(tid.replace("_", "."), actual=v)
    out = world.folder / "回報" / month / src.name
    out.parent.mkdir(parents=True, exist_ok=True)
    f.save(out)
    y, m = (int(x) for x in month.split("-"))
    set_mtime(out, f"{y + m // 12}-{m % 12 + 1:02d}-03 10:00")
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("fn-data")) as client:
        w = ServerMaster(client)
        for month in (AUG, SEP):
            w.run("make_forms", month)
        _return(w, AUG, LEAD, "推進中", **{"1_4_1": 93.8})
        _return(w, AUG, CO, "推進中", **{"1_4_1": 88})
        _return(w, AUG, "區司法局", "已完成")
        _return(w, SEP, LEAD, "推進中", **{"1_4_1": None})
        _return(w, SEP, CO, "已完成", **{"1_4_1": 95})
        _return(w, SEP, "區發改局", "滯後")
        for month in (AUG, SEP):
            w.run("collect_returns", month)
        res = w.run("refresh_rollup", SEP)
        w.sheets = written_sheets(res["body"], res["actions"])
        yield w


def _table(values: list[list], first_col: str) -> list[dict]:
    """The data rows of a report sheet as dicts (the header row starts with `first_col`)."""
    h = next(i for i, r in enumerate(values) if r and r[0] == first_col)
    head = [x.replace("\n", "") if isinstance(x, str) else x for x in values[h]]   # 承擔任務\n完成率
    return [dict(zip(head, r)) for r in values[h + 1:] if r and r[0] not in (None, "")]


def _num(v):
    return None if v in (None, "") else float(v)


def test_indicator_functions_equal_the_indicator_sheet(world):
    rows = _table(world.sheets[layout.name("indicator_status")], "月份")
    assert {r["月份"] for r in rows} == {layout.month_label(AUG), layout.month_label(SEP)}
    # the sheet numbers the indicators (序號, the plan's order); the functions take the id, the
    # name or the task's number
    ids = [i.id for _t, i in parse_notice(None, load_config()).indicators()]
    key = {(r["月份"], ids[int(r["序號"]) - 1]): r for r in rows}
    # the case of the audit: the lead's August value, not the co unit's September one
    sep = key[(layout.month_label(SEP), "1.4.1#1")]
    assert world.function("indicator_actual", "政務服務辦件網上受理率", SEP, None) == (200, [[93.8]])
    assert world.function("indicator_actual", "1.4.1", SEP, None) == (200, [[93.8]])
    assert (sep["實際值"], sep["填報單位"], sep["數據月份"], sep["是否達標"]) == (93.8, LEAD, layout.month_label(AUG), "達標")
    assert world.function("indicator_actual", "1.4.1#1", SEP, None) == (200, [[93.8]])
    assert world.function("indicator_met", "1.4.1#1", SEP, None) == (200, [["達標"]])
    # month left out = the latest month in the ledger
    assert world.function("indicator_actual", "1.4.1#1", None, None) == (200, [[93.8]])
    for (month_label, iid), r in key.items():
        month = AUG if month_label == layout.month_label(AUG) else SEP
        st, got = world.function("indicator_actual", iid, month, None)
        assert st == 200 and _num(got[0][0]) == _num(r["實際值"]), (iid, month, got, r)
        st, got = world.function("indicator_met", iid, month, None)
        assert st == 200 and got[0][0] == r["是否達標"], (iid, month, got, r)


def test_unit_rate_equals_monthly_sheet(world):
    rows = [r for r in _table(world.sheets[layout.name("monthly")], "月份") if r["單位"] != "合計"]
    assert len(rows) > 40
    for r in rows:
        month = AUG if r["月份"] == layout.month_label(AUG) else SEP
        st, got = world.function("unit_rate", r["單位"], month, None)
        assert st == 200, got
        assert _num(got[0][0]) == pytest.approx(_num(r["承擔任務完成率"])), (r["單位"], month)
    done = {r["單位"]: r["承擔任務完成率"] for r in rows if r["月份"] == layout.month_label(SEP)}
    assert done["區司法局"] == 1.0 and done[CO] == 1.0


def test_task_status_equals_progress_sheet_and_status_rows(world):
    rows = _table(world.sheets[layout.name("progress")], "月份")
    seen = set()
    for r in rows:
        month = AUG if r["月份"] == layout.month_label(AUG) else SEP
        st, got = world.function("task_status", r["任務編號"], month, None, None)
        assert st == 200 and got == [[r["總體狀態"]]], (r["任務編號"], month, got, r["總體狀態"])
        seen.add(got[0][0])
    assert {"已完成", "滯後", "未填報"} <= seen
    # per unit: the hidden _status sheet of the same refresh (September)
    status = {row[0]: row[1] for row in world.sheets[layout.STATUS_SHEET][1:] if row and row[0]}
    for unit in (LEAD, CO, "區發改局", "區司法局"):
        keys = [k for k in status if k.endswith("|" + unit)][:6]
        assert keys
        for k in keys:
            tid = k.split("|")[0]
            assert world.function("task_status", tid, SEP, unit, None) == (200, [[status[k]]]), k


def test_unit_tasks_equals_master_task_lists(world):
    wb = openpyxl.load_workbook(world.master, read_only=True)
    try:
        plan_rows = list(wb[layout.PLAN_SHEET].iter_rows(values_only=True))
        task_rows = list(wb[layout.TASKS_SHEET].iter_rows(values_only=True))
    finally:
        wb.close()
    pcol = {c: i for i, c in enumerate(plan_rows[0])}
    tcol = {c: i for i, c in enumerate(task_rows[0])}
    tasks = {r[tcol["task_id"]]: r for r in task_rows[1:]}
    from putuo_xl.config import load_config
    from putuo_xl.workbook.readback import plan_from_workbook
    plan = plan_from_workbook(world.master, load_config())
    index = plan.task_index()
    for unit in (LEAD, CO, "區司法局", "沈家門街道"):
        mine = [r for r in plan_rows[1:] if norm_name(r[pcol["unit"]]) == norm_name(unit)]
        st, got = world.function("unit_tasks", unit, None)
        assert st == 200, got
        assert got[0] == ["任務編號", "工作任務", "角色", "牽頭單位", "完成時限", "量化指標"]
        assert [g[0] for g in got[1:]] == [r[pcol["task_id"]] for r in mine]
        for g, r in zip(got[1:], mine):
            t = tasks[r[pcol["task_id"]]]
            assert g[1] == t[tcol["task"]]
            assert g[2] == r[pcol["role_label"]]
            assert g[3] == (t[tcol["lead"]] or "")
            assert g[3] == lead_label(index[g[0]], "traditional")
            assert g[4] == deadline_label(index[g[0]], "traditional")
            assert g[5] == (t[tcol["indicator"]] or "") == indicators_text(index[g[0]])
