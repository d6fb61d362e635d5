"""Officials edit the master; plan_from_workbook reads it back and the next forms follow."""
from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook

from putuo_xl.config import load_config
from putuo_xl.errors import InputError
from putuo_xl.workbook.forms import read_form_meta, write_forms
from putuo_xl.workbook.master import build_master
from putuo_xl.plan.parser import parse_notice
from putuo_xl.workbook.readback import PlanEditError, plan_from_workbook, read_master
from putuo_xl.text import narrow

S1 = "一、推進政府職能依法全面履行"


@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.fixture(scope="module")
def plan(cfg):
    return parse_notice(None, cfg)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, cfg, plan):
    out = tmp_path_factory.mktemp("rb") / "任務分解台賬.xlsx"
    build_master(plan, out, cfg)
    return out


@pytest.fixture
def master(tmp_path, pristine):
    p = tmp_path / "任務分解台賬.xlsx"
    shutil.copy(pristine, p)
    return p


def rows_by_id(ws):
    return {ws.cell(row=r, column=1).value: r for r in range(4, ws.max_row + 1)
            if ws.cell(row=r, column=1).value}


def form_rows(path):
    ws = load_workbook(path)["月報"]
    return {ws.cell(row=r, column=1).value: ws.cell(row=r, column=3).value
            for r in range(6, ws.max_row + 1)}


def test_official_edits_flow_into_the_next_forms(master, cfg, plan):
    wb = load_workbook(master)
    ws = wb[S1]
    rows = rows_by_id(ws)
    ws.cell(row=rows["1.5.3"], column=4).value = "區財政局"               # change the lead unit
    ws.cell(row=rows["1.5.2"], column=3).value = "部署開展公共法律服務專項行動。"   # reword
    new = ws.max_row + 1                                                   # add a task below
    ws.cell(row=new, column=1).value = "1.5.5"
    ws.cell(row=new, column=3).value = "推進養老服務機構規范化建設。"
    ws.cell(row=new, column=4).value = "區民政局"
    ws.cell(row=new, column=5).value = "區司法局、区财政局"                 # simplified alias
    ws.cell(row=new, column=6).value = "養老機構規范化率:達到80%以上"
    ws.cell(row=new, column=7).value = "2020年10月底前"
    ws.delete_rows(rows["1.5.4"])                                          # delete a task
    wb.save(master)

    read = read_master(master, cfg)
    changes = {(c.kind, c.task_id): c.what for c in read.changes}
    assert changes == {("changed", "1.5.2"): "工作任務", ("changed", "1.5.3"): "責任單位",
                       ("added", "1.5.5"): "", ("deleted", "1.5.4"): ""}
    new_plan = read.plan
    t = new_plan.task_index()["1.5.5"]
    assert [(u.canonical, u.role) for u in t.units] == [("區民政局", "lead"), ("區司法局", "co"),
                                                        ("區財政局", "co")]
    assert t.deadline == "2020-10-31"
    assert [(i.id, i.name, i.value, i.unit, i.op) for i in t.indicators] == \
        [("1.5.5#1", "養老機構規范化率", 80.0, "%", ">=")]
    assert new_plan.subsection_of()["1.5.5"].id == "1.5"
    assert new_plan.fingerprint() != plan.fingerprint()

    result = write_forms(master, "2020-08", config=cfg)
    assert "新增 1 項任務,刪除 1 項,修改 2 項" in narrow(result.master_changes)
    justice = form_rows(result.units["區司法局"])
    assert "1.5.3" not in justice and justice["1.5.5"] == "配合" and "1.5.4" not in justice
    assert form_rows(result.units["區財政局"])["1.5.3"] == "牽頭"
    civil = form_rows(result.units["區民政局"])
    assert civil["1.5.5"] == "牽頭"
    assert all("1.5.4" not in form_rows(p) for p in result.written[:5])
    assert read_form_meta(result.units["區民政局"])["plan_fingerprint"] == new_plan.fingerprint()
    assert "1.5.5#1" in read_form_meta(result.units["區民政局"])["indicator_ids"].split(",")

    rebuilt = build_master(master, master.with_name("新台賬.xlsx"), cfg)   # rebuild from the edit
    assert rebuilt.plan.fingerprint() == new_plan.fingerprint()
    assert plan_from_workbook(rebuilt.path, cfg).fingerprint() == new_plan.fingerprint()


def test_edited_deadline_and_targets(master, cfg):
    wb = load_workbook(master)
    ws = wb["三、堅持嚴格規范公正文明執法"]
    rows = rows_by_id(ws)
    r = rows["3.3.1"]
    lines = ws.cell(row=r, column=6).value.split("\n")
    ws.cell(row=r, column=6).value = "\n".join([lines[0], lines[2], "新指標:不少於3件"])
    ws.cell(row=r, column=7).value = datetime(2020, 11, 30)
    ws.cell(row=rows["3.3.3"], column=7).value = "經常性工作"
    wb.save(master)
    p = plan_from_workbook(master, cfg)
    t = p.task_index()["3.3.1"]
    assert [i.id for i in t.indicators] == ["3.3.1#1", "3.3.1#3", "3.3.1#4"]   # ids kept
    assert t.indicators[2].name == "新指標" and t.indicators[2].value == 3
    assert t.deadline == "2020-11-30"
    assert p.task_index()["3.3.3"].recurring and p.task_index()["3.3.3"].deadline is None


def test_broken_edits_are_all_reported_with_cells(master, cfg):
    wb = load_workbook(master)
    ws = wb[S1]
    rows = rows_by_id(ws)
    ws.cell(row=rows["1.1.2"], column=1).value = "1.1.1"          # duplicate id
    ws.cell(row=rows["1.2.1"], column=4).value = "區司法"          # unknown unit (typo)
    ws.cell(row=rows["1.2.2"], column=3).value = None              # empty task
    ws.cell(row=rows["1.2.3"], column=7).value = "盡快"            # unreadable deadline
    ws.cell(row=rows["1.4.1"], column=6).value = "很多"            # unreadable target
    extra = ws.max_row + 1
    ws.cell(row=extra, column=3).value = "新任務沒有編號"           # missing id
    ws.cell(row=extra + 1, column=1).value = "2.1.9"               # id of another section
    ws.cell(row=extra + 1, column=3).value = "放錯章節的任務"
    wb.save(master)
    with pytest.raises(PlanEditError) as info:
        plan_from_workbook(master, cfg)
    err = info.value
    assert len(err.problems) == 7
    msgs = {p.cell: p.message for p in err.problems}
    assert all(p.sheet == S1 and p.file == str(master) for p in err.problems)
    assert "重複" in msgs[f"A{rows['1.1.2']}"] and f"A{rows['1.1.1']}" in msgs[f"A{rows['1.1.2']}"]
    assert "不認識的單位「區司法」" in msgs[f"D{rows['1.2.1']}"] and "區司法局" in msgs[f"D{rows['1.2.1']}"]
    assert "工作任務」是空的" in msgs[f"C{rows['1.2.2']}"]
    assert "無法識別完成時限「盡快」" in msgs[f"G{rows['1.2.3']}"]
    assert "無法識別量化指標「很多」" in msgs[f"F{rows['1.4.1']}"]
    assert "沒有任務編號" in msgs[f"A{extra}"] and "1.5.5" in msgs[f"A{extra}"]
    assert "不屬於本章" in msgs[f"A{extra + 1}"]
    text = str(err)
    assert text.startswith("台賬中有 7 處需要修改") and f"單元格 D{rows['1.2.1']}" in text
    with pytest.raises(PlanEditError):                     # forms refuse to go out from it
        write_forms(master, "2020-08", config=cfg)


def test_sorting_the_table_changes_nothing(master, cfg, plan):
    wb = load_workbook(master)
    ws = wb["三、堅持嚴格規范公正文明執法"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=4, max_row=12)]
    rows.sort(key=lambda r: (r[3] or "", r[0]), reverse=True)       # sorted by 牽頭單位 in Excel
    for i, values in enumerate(rows, 4):
        for j, v in enumerate(values[:7], 1):
            ws.cell(row=i, column=j).value = v
    wb.save(master)
    assert [c.value for c in load_workbook(master)["三、堅持嚴格規范公正文明執法"]["A"]][3] != "3.1.1"
    assert plan_from_workbook(master, cfg).fingerprint() == plan.fingerprint()


def test_a_new_section_sheet(master, cfg):
    wb = load_workbook(master)
    ws = wb.copy_worksheet(wb["六、夯實法治政府建設保障"])       # copy the last section, as in Excel
    ws.title = "七、加強數字法治建設"
    ws.delete_rows(5, ws.max_row)
    for c, v in enumerate(["7.1.1", "(一)推進數字法治", "建設行政執法監督數字化平臺。", "區司法局",
                           "區大數據局"], 1):
        ws.cell(row=4, column=c).value = v
    wb.save(master)
    p = plan_from_workbook(master, cfg)
    sec = p.sections[-1]
    assert (sec.id, sec.number, sec.title) == ("7", "七", "加強數字法治建設")
    (ss,) = sec.subsections
    assert (ss.id, ss.number, ss.title) == ("7.1", "(一)", "推進數字法治")
    t = ss.tasks[0]
    assert [(u.canonical, u.role) for u in t.units] == [("區司法局", "lead"), ("區大數據發展管理局", "co")]
    rebuilt = build_master(master, master.with_name("新.xlsx"), cfg)
    assert rebuilt.section_sheets["7"] == "七、加強數字法治建設"


def test_renamed_section_sheet_and_not_a_master(master, tmp_path, cfg, plan):
    wb = load_workbook(master)
    wb[S1].title = "一、職能履行"
    wb.save(master)
    assert plan_from_workbook(master, cfg).fingerprint() == plan.fingerprint()
    other = tmp_path / "其他.xlsx"
    Workbook().save(other)
    with pytest.raises(InputError, match="不是 putuo-xl 生成的任務分解台賬"):
        plan_from_workbook(other, cfg)
    bad = tmp_path / "壞.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="無法作為 Excel 工作簿打開"):
        plan_from_workbook(bad, cfg)


def _damage_member(path, member_suffix):
    """Invert 16 bytes in the middle of one member's deflated data (the ZIP itself still opens)."""
    import zipfile
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = next(i for i in z.infolist() if i.filename.endswith(member_suffix))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    mid = start + info.compress_size // 2
    for k in range(mid, mid + 16):
        data[k] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("engine", ["openpyxl", "calamine"])
def test_a_damaged_master_is_a_message_not_a_traceback(master, tmp_path, cfg, engine):
    """Bytes damaged inside a sheet (a bad copy, a truncated mail): every reader of the master
    says which file and what to do."""
    import zipfile
    with zipfile.ZipFile(master) as z:
        sheets = [i.filename for i in z.infolist()
                  if i.filename.startswith("xl/worksheets/sheet") and i.compress_size > 2000]
    for name in sheets:
        _damage_member(master, name)
    with pytest.raises(InputError) as e:
        read_master(master, cfg, engine=engine)
    assert "任務分解台賬.xlsx" in str(e.value) and ("讀不出來" in str(e.value) or "無法" in str(e.value))
    with pytest.raises(InputError):
        write_forms(master, "2020-08", tmp_path / "forms", cfg)
