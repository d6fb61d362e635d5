"""Monthly report forms (月報填報表) written from the master workbook."""
from __future__ import annotations

import os

import pytest
from openpyxl import load_workbook

from putuo_xl import layout
from putuo_xl.config import config_from_dict, load_config
from putuo_xl.errors import InputError
from putuo_xl.workbook.forms import check_month, due_date, read_form_meta, write_forms
from putuo_xl.ledger.store import open_ledger
from putuo_xl.workbook.master import build_master
from putuo_xl.plan.parser import parse_notice
from putuo_xl.plan.assignments import unit_assignments
from wb_helpers import simplified_plan, xlsx_check

MONTH = "2020-08"


@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.fixture(scope="module")
def plan(cfg):
    return parse_notice(None, cfg)


@pytest.fixture(scope="module")
def master(tmp_path_factory, cfg, plan):
    out = tmp_path_factory.mktemp("forms") / "任務分解台賬.xlsx"
    build_master(plan, out, cfg)
    return out


@pytest.fixture(scope="module")
def issued(master, cfg):
    return write_forms(master, MONTH, config=cfg)


def form_path(issued, unit):
    return issued.units[unit]


def test_one_form_per_unit_named_and_placed(issued, master, cfg, plan):
    assign = unit_assignments(plan, cfg)
    assert len(issued.written) == len(assign) == 44
    assert issued.out_dir == master.parent / "2020-08_月報"
    assert form_path(issued, "區司法局").name == "2020-08_區司法局_法治政府建設月報.xlsx"
    assert issued.due == "2020-09-05" and issued.skipped == []
    # the directory's party, 人大, 政協 and judicial organs have no task in the 2020 notice
    assert issued.no_tasks == ["區委辦", "區委宣傳部", "區委政法委", "區紀委監委", "區人大辦", "區政協辦",
                               "區法院", "區檢察院"]
    assert issued.plan_fingerprint == plan.fingerprint()


def test_form_holds_only_the_units_tasks_and_metadata(issued, cfg, plan):
    unit = "區財政局"
    expected = [a.task_id for a in unit_assignments(plan, cfg)[unit]]
    wb = load_workbook(form_path(issued, unit))
    assert wb.sheetnames == ["月報", "填報說明", "_lists", "_form"]
    assert wb["_form"].sheet_state == "veryHidden" and wb["_lists"].sheet_state == "hidden"
    meta = {r[0].value: r[1].value for r in wb["_form"].iter_rows()}
    assert list(meta) == layout.FORM_META_KEYS
    assert meta["kind"] == layout.FORM_KIND and meta["unit"] == unit and meta["month"] == MONTH
    assert meta["due"] == "2020-09-05" and meta["plan_fingerprint"] == plan.fingerprint()
    assert meta["form_version"] == layout.FORM_VERSION
    assert meta["task_ids"].split(",") == expected
    index = plan.task_index()
    assert meta["indicator_ids"].split(",") == [i.id for t in expected for i in index[t].indicators]
    ws = wb["月報"]
    header = [c.value for c in ws[5]]
    assert header == [h for _, h in layout.FORM_COLUMNS]
    key = len(layout.FORM_COLUMNS)                     # the hidden key column, last
    keys = [ws.cell(row=r, column=key).value for r in range(6, ws.max_row + 1)]
    assert [i for i in keys if "#" not in i] == expected
    assert [i for i in keys if "#" in i] == ["3.3.1#2", "3.3.1#3"]     # further targets: own rows
    # 任務編號 shows the task on a further target's row too: no internal id on the sheet
    shown = [ws.cell(row=r, column=1).value for r in range(6, ws.max_row + 1)]
    assert shown == [i.partition("#")[0] for i in keys]
    r2 = 6 + keys.index("3.3.1#2")
    assert ws.cell(row=r2, column=2).value == "（任務 3.3.1 的第 2 項指標，只需填寫指標實際值）"
    assert "區財政局" in ws["A2"].value and "2020年9月5日" in ws["A2"].value
    assert "區財政局" in ws.oddHeader.left.text and "2020年9月5日" in ws.oddHeader.right.text
    assert wb["填報說明"]["A1"].value == "填報說明"


def test_locked_and_input_cells_and_protection(issued):
    wb = load_workbook(form_path(issued, "區發改局"))
    ws = wb["月報"]
    assert ws.protection.sheet and not ws.protection.password     # protected, no password
    col = {k: i + 1 for i, (k, _) in enumerate(layout.FORM_COLUMNS)}
    rows = {ws.cell(row=r, column=col["row_key"]).value: r for r in range(6, ws.max_row + 1)}
    assert {"1.3.1", "1.3.1#2", "1.3.1#3", "1.3.1#4"} <= set(rows)
    r = rows["1.3.1"]
    for k in ("task_id", "task", "role", "deadline", "indicator", "target", "row_key"):
        assert ws.cell(row=r, column=col[k]).protection.locked, k
    # the key column: hidden, locked, not printed
    from openpyxl.utils import get_column_letter
    letter = get_column_letter(col["row_key"])
    assert ws.column_dimensions[letter].hidden
    assert ws.print_area == f"'月報'!$A$1:${get_column_letter(col['row_key'] - 1)}${ws.max_row}"
    for k in layout.FORM_INPUT_KEYS:
        assert not ws.cell(row=r, column=col[k]).protection.locked, k
    assert ws.cell(row=r, column=col["indicator"]).value == "一般企業投資項目審批"
    assert ws.cell(row=r, column=col["target"]).value == "最多80天"
    # a further target of the same task: only 指標實際值 is open
    r2 = rows["1.3.1#2"]
    open_cols = [k for k, _ in layout.FORM_COLUMNS if not ws.cell(row=r2, column=col[k]).protection.locked]
    assert open_cols == ["actual"]
    assert ws.cell(row=r2, column=col["target"]).value == "不超過50天"
    # a task without a target: 指標實際值 stays locked
    r3 = rows["1.3.2"]
    assert ws.cell(row=r3, column=col["actual"]).protection.locked
    # contact cells above the table are open
    assert not ws["B3"].protection.locked


def _validation_for(ws, cell):
    return [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]


def test_validations(issued, cfg):
    wb = load_workbook(form_path(issued, "區審招辦"))
    ws = wb["月報"]
    col = {k: i for i, (k, _) in enumerate(layout.FORM_COLUMNS)}
    letter = {k: "ABCDEFGHIJKLM"[i] for k, i in col.items()}
    rows = {ws.cell(row=r, column=col["row_key"] + 1).value: r for r in range(6, ws.max_row + 1)}
    r = rows["1.4.1"]                                         # 受理率 90%: a % target
    (status,) = _validation_for(ws, f"{letter['status']}{r}")
    assert status.type == "list" and status.formula1 == "_lists!$A$2:$A$5"
    assert [c.value for c in wb["_lists"]["A"]][1:] == cfg.status_names()
    (prog,) = _validation_for(ws, f"{letter['progress']}{r}")
    assert prog.type == "decimal" and (prog.formula1, prog.formula2) == ("0", "1")
    assert ws[f"{letter['progress']}{r}"].number_format == "0%"
    (act,) = _validation_for(ws, f"{letter['actual']}{r}")
    assert act.type == "decimal" and (act.formula1, act.formula2) == ("0", "100")
    r_days = rows["1.3.1"]                                    # 審批時間 最多80天: a days target
    (d,) = _validation_for(ws, f"{letter['actual']}{r_days}")
    assert d.operator == "greaterThanOrEqual" and d.formula1 == "0"
    assert _validation_for(ws, f"{letter['actual']}{rows['1.4.2']}") == []   # no target there
    (txt,) = _validation_for(ws, f"{letter['problems']}{r}")
    assert txt.type == "textLength"


def test_no_overwrite_without_force_and_ledger(master, issued, cfg):
    target = form_path(issued, "區司法局")
    os.utime(target, (1_000_000_000, 1_000_000_000))
    again = write_forms(master, MONTH, config=cfg)
    assert again.written == [] and len(again.skipped) == 44 and again.stale == []
    assert target.stat().st_mtime == 1_000_000_000
    forced = write_forms(master, MONTH, config=cfg, force=True, units=["區司法局"])
    assert forced.written == [target] and target.stat().st_mtime > 1_000_000_000
    with open_ledger(master, cfg) as ledger:
        rows = ledger.issued(MONTH)
    assert len(rows) == 44
    row = next(r for r in rows if r["unit"] == "區司法局")
    assert row["file_name"] == target.name and row["due"] == "2020-09-05"
    assert row["task_ids"] == read_form_meta(target)["task_ids"]


def test_a_form_open_in_excel_is_left_alone(tmp_path, master, cfg):
    out = tmp_path / "busy"
    first = write_forms(master, MONTH, out, config=cfg, units=["區司法局", "區財政局"])
    locked = first.units["區司法局"]
    (out / ("~$" + locked.name)).write_text("lock")
    before = locked.read_bytes()
    again = write_forms(master, MONTH, out, config=cfg, force=True, units=["區司法局", "區財政局"])
    assert again.busy == [locked] and again.written == [first.units["區財政局"]]
    assert locked.read_bytes() == before
    assert "正在 Excel 或 WPS 中打開" in again.summary()


def test_units_without_tasks_are_listed(tmp_path, master, cfg):
    raw = dict(cfg.raw)
    raw["units"] = {**cfg.raw["units"], "區檔案館": {"full_name": "舟山市普陀區檔案館", "kind": "部門"}}
    cfg2 = config_from_dict(raw)
    result = write_forms(master, MONTH, tmp_path / "out", config=cfg2)
    assert result.no_tasks[-1] == "區檔案館" and "區檔案館" not in write_forms(
        master, MONTH, tmp_path / "out2", config=cfg).no_tasks
    assert len(result.written) == 44
    assert "區檔案館" in result.summary()
    assert not any("區檔案館" in p.name for p in result.written)


def test_group_and_unknown_units_option(tmp_path, master, cfg):
    r = write_forms(master, MONTH, tmp_path / "g", config=cfg, units=["各镇(街道)"])
    assert len(r.written) == 9 and all("鎮" in p.name or "街道" in p.name for p in r.written)
    with pytest.raises(InputError, match="不認識的單位"):
        write_forms(master, MONTH, tmp_path / "x", config=cfg, units=["區不存在局"])


def test_month_and_due_rules(cfg):
    assert check_month(" 2020-08 ") == "2020-08"
    for bad in ("2020-8", "202008", "2020-13", "八月", ""):
        with pytest.raises(InputError, match="YYYY-MM"):
            check_month(bad)
    assert due_date("2020-12", cfg) == "2021-01-05"
    raw = dict(cfg.raw)
    raw["forms"] = {**cfg.raw["forms"], "due_day": 31}
    assert due_date("2021-01", config_from_dict(raw)) == "2021-02-28"


def test_password_from_config(tmp_path, master, cfg):
    raw = dict(cfg.raw)
    raw["forms"] = {**cfg.raw["forms"], "password": "secret"}
    r = write_forms(master, MONTH, tmp_path / "p", config=config_from_dict(raw), units=["區司法局"])
    ws = load_workbook(r.written[0])["月報"]
    assert ws.protection.sheet and ws.protection.password


def test_form_passes_xlsx_check(issued, tmp_path):
    """LibreOffice opens the form cleanly, reads the hidden keys, and prints neither them nor any
    other "#" id: 1.3.1's further targets print as 「1.3.1」."""
    import re

    from sheet_check import pdf_pages
    pdf = tmp_path / "form.pdf"
    report = xlsx_check(form_path(issued, "區發改局"), "--pdf", str(pdf), "--get", "月報!A6:M60")
    assert report["ok"], report.get("problems")
    sheets = {s["name"]: s for s in report["sheets"]}
    assert sheets["月報"]["data_validations"] >= 4 and sheets["_form"]["visible"] is False
    rows = [r for r in report["get"]["月報!A6:M60"] if r[0]]
    assert [(r[0], r[12]) for r in rows if str(r[0]) == "1.3.1"] == [
        ("1.3.1", "1.3.1"), ("1.3.1", "1.3.1#2"), ("1.3.1", "1.3.1#3"), ("1.3.1", "1.3.1#4")]
    pages = pdf_pages(pdf)
    assert len([t for t in pages if "1.3.1" in t]) >= 1
    for i, text in enumerate(pages, 1):
        assert not re.search(r"#\s?\d|行標識", text), (i, text[:400])


def test_simplified_forms(tmp_path, cfg):
    splan = simplified_plan(cfg)
    r = write_forms(None, MONTH, tmp_path, config=cfg, plan=splan, units=["區司法局"])
    (path,) = r.written
    assert path.name == "2020-08_区司法局_法治政府建设月报.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames[:2] == ["月报", "填报说明"]
    assert [c.value for c in wb["月报"][5]][:3] == ["任务编号", "工作任务", "角色"]
    # 3.3.1's further targets: 任务编号 as on its own row, the key hidden; no "#" where it shows
    ws = wb["月报"]
    key = len(layout.FORM_COLUMNS)
    rows = [r for r in range(6, ws.max_row + 1) if "#" in str(ws.cell(r, key).value)]
    assert [ws.cell(r, 1).value for r in rows] == ["3.3.1", "3.3.1"]
    assert ws.cell(rows[0], 2).value == "（任务 3.3.1 的第 2 项指标，只需填写指标实际值）"
    for sheet in ("月报", "填报说明"):
        shown = [str(c.value) for row in wb[sheet].iter_rows(max_col=key - 1) for c in row if c.value]
        assert not [t for t in shown if "#" in t], sheet
    help_text = "".join(str(c.value) for row in wb["填报说明"].iter_rows() for c in row if c.value)
    assert "第二个起各占一行（任务编号相同，「工作任务」栏注明是第几项指标）" in help_text
    meta = {row[0].value: row[1].value for row in wb["_form"].iter_rows()}
    assert meta["unit"] == "區司法局"                  # canonical name for the collector


def test_help_names_the_contact_fields_as_the_form_does(issued):
    wb = load_workbook(form_path(issued, "區司法局"))
    labels = [c.value for c in wb["月報"][3] if c.value]
    assert labels == ["填報人", "聯繫電話", "審核人"]
    help_text = "\n".join(str(c.value) for row in wb["填報說明"].iter_rows() for c in row if c.value)
    item = next(t for t in help_text.split("\n") if "表頭上方" in t)
    assert all(label in item for label in labels), item
