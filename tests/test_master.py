"""The master workbook (任務分解台賬) built from the bundled notice."""
from __future__ import annotations

import shutil

import pytest
from openpyxl import load_workbook

from putuo_xl import layout
from putuo_xl.config import load_config
from putuo_xl.errors import FileBusyError, InputError
from putuo_xl.workbook.master import build_master, report_months
from putuo_xl.plan.parser import parse_notice
from putuo_xl.plan.planfile import save_plan
from putuo_xl.workbook.readback import plan_from_workbook, read_meta
from putuo_xl.plan.assignments import unit_assignments
from wb_helpers import got, simplified_plan, xlsx_check
from putuo_xl.text import narrow

SECTION_SHEETS = ["一、推進政府職能依法全面履行", "二、健全重大行政決策機制", "三、堅持嚴格規范公正文明執法",
                  "四、加強行政權力監督制約", "五、依法化解社會矛盾糾紛", "六、夯實法治政府建設保障"]
VIEW = "按單位查看"

# Expectations written by hand from the notice text (not from unit_assignments, which also
# writes _plan): a task is a unit's when the unit is named in its 責任單位 or a group it belongs
# to is (區級有關單位 for the district's departments, 各鎮<街道> for the towns).
ALL_TASKS = ("1.1.1 1.1.2 1.2.1 1.2.2 1.2.3 1.2.4 1.3.1 1.3.2 1.3.3 1.4.1 1.4.2 1.5.1 1.5.2 1.5.3 "
             "1.5.4 2.1.1 2.1.2 2.2.1 2.2.2 2.2.3 2.3.1 2.3.2 2.3.3 3.1.1 3.1.2 3.1.3 3.2.1 3.2.2 "
             "3.2.3 3.3.1 3.3.2 3.3.3 4.1.1 4.1.2 4.2.1 4.3.1 4.3.2 4.3.3 5.1.1 5.1.2 5.2.1 5.2.2 "
             "5.3.1 5.3.2 6.1.1 6.2.1 6.2.2 6.2.3 6.2.4 6.3.1 6.3.2").split()
# 區司法局 is in 區級有關單位: every task but the five whose lists name neither.
SIFA_TASKS = [t for t in ALL_TASKS if t not in {"1.3.1", "1.4.1", "1.4.2", "3.2.3", "6.2.3"}]
# 區財政局: named only in 1.5.2 (法律服務網絡); otherwise through 區級有關單位.
CAIZHENG_TASKS = [t for t in ALL_TASKS if t not in {
    "1.3.1", "1.3.2", "1.4.1", "1.4.2", "1.5.3", "2.1.1", "2.2.3", "3.2.1", "3.2.3", "5.2.1",
    "5.3.2", "6.2.2", "6.2.3"}]
# 六橫鎮: the tasks whose 責任單位 include 各鎮<街道> (19 of them).
LIUHENG_TASKS = ["1.1.1", "1.1.2", "1.2.1", "1.5.1", "2.1.1", "2.1.2", "2.2.1", "2.2.2", "2.3.3",
                 "3.1.2", "4.1.1", "4.1.2", "4.2.1", "5.1.1", "5.2.2", "6.1.1", "6.2.1", "6.3.1",
                 "6.3.2"]


@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.fixture(scope="module")
def plan(cfg):
    return parse_notice(None, cfg)


@pytest.fixture(scope="module")
def built(tmp_path_factory, cfg, plan):
    out = tmp_path_factory.mktemp("master") / "任務分解台賬.xlsx"
    return build_master(plan, out, cfg)


@pytest.fixture(scope="module")
def wb(built):
    return load_workbook(built.path)


def test_sheets_in_order_with_hidden_data(built, wb):
    assert wb.sheetnames == ["說明", *SECTION_SHEETS, "按單位查看", "責任矩陣", "考評指標",
                             "_meta", "_plan", "_tasks", "_units", "_status", "_actuals"]
    for name in ("_meta", "_plan", "_tasks", "_units", "_status", "_actuals"):
        assert wb[name].sheet_state == "hidden"
    assert [c.value for c in wb["_status"][1]] == layout.STATUS_COLUMNS
    assert [c.value for c in wb["_actuals"][1]] == layout.ACTUALS_COLUMNS
    assert [c.value for c in wb["_plan"][1]] == layout.PLAN_COLUMNS
    assert [c.value for c in wb["_tasks"][1]] == layout.TASKS_COLUMNS
    # the seed marks no task 經常性: every task has the 2020 year-end deadline
    assert built.counts == {"sections": 6, "subsections": 20, "tasks": 51, "recurring": 0,
                            "indicators": 10, "units": 44, "lead_units": 11}


def test_meta(built, cfg, plan):
    meta = read_meta(built.path)
    assert meta["kind"] == layout.MASTER_KIND
    assert meta["plan_fingerprint"] == plan.fingerprint()
    assert meta["config_fingerprint"] == cfg.fingerprint()
    assert meta["generator"].startswith("putuo-xl ")
    assert meta["workbook_version"] == layout.WORKBOOK_VERSION
    assert meta["script"] == "traditional" and meta["year"] == "2020"
    assert meta["title"] == plan.title


def test_section_sheet_is_a_printable_table(wb, plan):
    ws = wb[SECTION_SHEETS[0]]
    (table,) = ws.tables.values()
    assert table.ref == "A3:J18"                   # header row 3, 15 tasks
    assert table.autoFilter is not None
    headers = [c.value for c in ws[3]]
    # some tasks of the seed have no lead: the 配合單位 column holds their responsible units too
    assert headers == [h if h != "配合單位" else "配合/責任單位" for h in layout.SECTION_COLUMNS]
    assert ws.freeze_panes == "B4"
    assert ws["A4"].value == "1.1.1" and ws["A18"].value == "1.5.4"
    assert ws["D4"].value == "區審招辦"
    assert narrow(ws["E4"].value) == "區級有關單位、各鎮(街道)、管委會"
    # 1.1.2 has no lead: the printed page says so instead of leaving 牽頭單位 blank
    assert ws["D5"].value == "\uff08共同負責\uff09" and narrow(ws["E5"].value) == "區級有關單位、各鎮(街道)、管委會"
    assert "共同負責" in ws["A2"].value                  # explained under the title
    assert [narrow(ws.cell(row=2, column=c).value) for c in (7, 8, 9, 10)] == [
        "綠:完成、按計劃", "黃:需關注", "紅:滯後逾期", "灰:未填報"]   # the colours of 最新狀態
    assert ws["G2"].fill.fgColor.rgb.endswith("C6EFCE") and ws["I2"].fill.fgColor.rgb.endswith("FFC7CE")
    assert ws["F4"].value == "“一件事”網上、掌上聯辦:實現41件"
    assert ws["G4"].value.strftime("%Y-%m-%d") == "2020-12-31"
    # calculated columns: a row inserted in Excel gets the progress formulas too
    assert ws["H4"].value == ('=IFERROR(INDEX(_status!$B:$B,MATCH(Section1[[#This Row],[任務編號]],'
                              '_status!$A:$A,0))&"","")')
    assert table.tableColumns[7].calculatedColumnFormula.attr_text == ws["H4"].value[1:]
    assert ws["C4"].font.name == "SimSun" and ws["A1"].font.name == "SimHei"
    assert ws["C4"].alignment.wrap_text
    assert ws.row_dimensions[4].height > 40       # long tasks get tall rows
    # print setup: A4 landscape, fit to one page wide, header row repeated, title in the header
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$3:$3"
    assert plan.title in ws.oddHeader.left.text
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text


def test_sheet_names_within_excel_limits(built):
    for name in built.sheets:
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\")


def test_matrix_and_indicator_sheets(wb, cfg, plan):
    m = wb["責任矩陣"]
    units = [c.value for c in m[3][2:]]
    assert units == list(unit_assignments(plan, cfg))
    # 1.1.1: 區審招辦 leads, 區司法局 co-operates (through 區級有關單位)
    row = next(r for r in m.iter_rows(min_row=4) if r[0].value == "1.1.1")
    by_unit = {u: row[2 + i].value for i, u in enumerate(units)}
    assert by_unit["區審招辦"] == "●" and by_unit["區司法局"] == "○" and by_unit["六橫鎮"] == "○"
    ind = wb["考評指標"]
    assert [ind.cell(row=r, column=1).value for r in range(4, 14)] == list(range(1, 11))
    key = ind.max_column                 # the ids: a hidden column after the table
    assert ind.column_dimensions[ind.cell(row=3, column=key).column_letter].hidden
    ids = [ind.cell(row=r, column=key).value for r in range(4, 14)]
    assert ids == [i.id for _, i in plan.indicators()]
    months = [c.value for c in ind[3][9:15]]
    assert months == ["7月", "8月", "9月", "10月", "11月", "12月"]
    assert report_months(plan)[0] == "2020-07"


def test_reads_back_to_the_same_plan(built, cfg, plan):
    back = plan_from_workbook(built.path, cfg)
    assert back.to_dict() == plan.to_dict()
    assert back.fingerprint() == plan.fingerprint()


def _view_ids(report, rng):
    return [r[1] for r in got(report, rng) if r[1] not in ("", None)]


def test_passes_xlsx_check_and_view_lists_default_unit(built, cfg, plan):
    rng = f"'{VIEW}'!A5:J60"
    report = xlsx_check(built.path, "--get", rng, "--get", f"'{VIEW}'!B2:D2")
    assert report["ok"], report.get("problems")
    assert report["error_count"] == 0
    assert got(report, f"'{VIEW}'!B2:D2")[0][0] == "區司法局"   # leads most tasks
    expected = [a.task_id for a in unit_assignments(plan, cfg)["區司法局"]]
    assert expected == SIFA_TASKS and len(SIFA_TASKS) == 46
    assert _view_ids(report, rng) == SIFA_TASKS
    rows = got(report, rng)
    first = rows[0]
    assert first[0] == 1 and first[3] == "配合" and first[4] == "區審招辦"
    assert rows[len(expected)][1] in ("", None)                  # nothing after the last task


def test_view_and_progress_follow_the_rollup_sheets(built, tmp_path, cfg, plan):
    """Write _status/_actuals rows as the rollup would (openpyxl), pick another unit, recalc."""
    p = tmp_path / "m.xlsx"
    shutil.copy(built.path, p)
    wb = load_workbook(p)
    st = wb["_status"]
    st.append(["1.1.1", "推進中", 0.4, "2020-08", "green"])
    st.append(["1.2.3|區財政局", "已完成", 1, "2020-08", "green"])
    st.append(["1.2.3", "滯後", 0.2, "2020-08", "red"])
    act = wb["_actuals"]
    act.append(["1.4.1#1|2020-08", 91.5, 1, "區審招辦"])
    act.append(["1.4.1#1|2020-09", 88, 0, "區審招辦"])
    wb.save(p)
    view, sec, ind = f"'{VIEW}'!A5:J60", f"'{SECTION_SHEETS[0]}'!H4:J9", "'考評指標'!A9:R9"
    report = xlsx_check(p, "--set", f"'{VIEW}'!B2=區財政局", "--get", view, "--get", sec,
                        "--get", ind, "--get", f"'{VIEW}'!D2")
    assert report["ok"], report.get("problems")
    assert report["set"][0]["valid"] is True
    assert _view_ids(report, view) == CAIZHENG_TASKS and len(CAIZHENG_TASKS) == 38
    row = next(r for r in got(report, view) if r[1] == "1.2.3")
    assert row[7:10] == ["已完成", 1, "2020-08"]
    assert "共 38 項" in got(report, f"'{VIEW}'!D2")[0][0]
    s = got(report, sec)
    assert s[0] == ["推進中", 0.4, "2020-08"]          # 1.1.1
    assert s[1] == ["", "", ""]                         # 1.1.2: nothing reported yet
    assert s[4][:2] == ["滯後", 0.2]                   # 1.2.3
    row = got(report, ind)[0]
    assert row[0] == 6 and row[17] == "1.4.1#1"
    assert row[10:12] == [91.5, 88] and row[15:17] == [88, "未達標"]


def test_plan_yaml_source_and_busy_output(tmp_path, cfg, plan):
    src = tmp_path / "plan.yaml"
    save_plan(plan, src)
    out = tmp_path / "台賬.xlsx"
    result = build_master(src, out, cfg)
    assert result.plan.fingerprint() == plan.fingerprint()
    (tmp_path / "~$台賬.xlsx").write_text("lock")
    before = out.read_bytes()
    with pytest.raises(FileBusyError):
        build_master(src, out, cfg)
    assert out.read_bytes() == before
    with pytest.raises(InputError, match="xlsx"):
        build_master(src, tmp_path / "x.xls", cfg)


def test_default_output_in_current_dir(tmp_path, monkeypatch, cfg, plan):
    monkeypatch.chdir(tmp_path)
    result = build_master(plan, None, cfg)
    assert result.path == tmp_path / "任務分解台賬.xlsx" and result.path.exists()


def test_simplified_plan_gives_simplified_workbook(tmp_path, cfg):
    splan = simplified_plan(cfg)
    assert splan.script == "simplified"
    result = build_master(splan, tmp_path / "m.xlsx", cfg)
    assert result.path.name == "m.xlsx"
    names = result.sheets
    assert names[0] == "说明" and names[1] == "一、推进政府职能依法全面履行"
    assert {"按单位查看", "责任矩阵", "考评指标"} <= set(names)
    wb = load_workbook(result.path)
    assert [c.value for c in wb[names[1]][3]][:5] == ["任务编号", "小节", "工作任务", "牵头单位", "配合/责任单位"]
    assert wb[names[1]]["D4"].value == "区审招办"
    assert wb[names[1]]["D5"].value == "\uff08共同负责\uff09"
    back = plan_from_workbook(result.path, cfg)
    assert back.fingerprint() == splan.fingerprint()
    wb["_status"].append(["1.1.1|六橫鎮", "推进中", 0.5, None, "green"])   # rollup keys: config names
    wb.save(result.path)
    rng = "'按单位查看'!A5:H60"
    report = xlsx_check(result.path, "--set", "'按单位查看'!B2=六横镇", "--get", rng)
    assert report["ok"], report.get("problems")
    assert report["set"][0]["valid"] is True
    ids = [r[1] for r in got(report, rng) if r[1]]
    assert ids == LIUHENG_TASKS
    assert {r[3] for r in got(report, rng) if r[1]} <= {"配合", "责任"}
    assert got(report, rng)[0][1] == "1.1.1" and got(report, rng)[0][7] == "推进中"


def test_view_rows_fit_every_units_tasks_and_label_prints(wb, cfg, plan):
    """Picking a unit never resizes rows: each row must be tall enough for the task any unit has
    at that position (estimated as the section sheets estimate), and 選擇單位 must fit column A."""
    from putuo_xl.workbook.master import VIEW_WIDTHS
    from putuo_xl.plan.labels import indicators_text
    from putuo_xl.workbook.cells import row_height, text_units
    from putuo_xl.plan.assignments import lead_label
    ws = wb[VIEW]
    assert ws["A2"].value == "選擇單位"
    assert ws.column_dimensions["A"].width >= text_units("選擇單位") + 1
    idx = plan.task_index()
    for unit in ("區司法局", "區財政局", "六橫鎮", "區發改局", "區公務員局"):
        for i, a in enumerate(unit_assignments(plan, cfg)[unit]):
            t = idx[a.task_id]
            need = row_height([(t.text, VIEW_WIDTHS[2]), (lead_label(t) or "—", VIEW_WIDTHS[4]),
                               (indicators_text(t), VIEW_WIDTHS[6])])
            assert ws.row_dimensions[5 + i].height >= need - 0.75, (unit, a.task_id)  # whole pixels
