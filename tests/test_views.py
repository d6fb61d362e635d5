"""refresh_views: the master's unit view, matrix and indicator sheet follow the officials' edits
of the section sheets (written with xlsxsurgery; section sheets, rollup data and the official's
own sheets stay byte for byte)."""
from __future__ import annotations

import posixpath
import shutil
import zipfile

import pytest
from lxml import etree
from openpyxl import load_workbook

from putuo_xl.config import load_config
from putuo_xl.workbook.forms import write_forms
from putuo_xl.workbook.master import build_master
from putuo_xl.workbook.readback import plan_from_workbook, read_meta
from putuo_xl.workbook.views import refresh_views
from test_cli_errors import cli
from test_master import CAIZHENG_TASKS, SIFA_TASKS
from wb_helpers import got, xlsx_check
from putuo_xl.text import narrow

S1 = "一、推進政府職能依法全面履行"
VIEW = "按單位查看"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "p": "http://schemas.openxmlformats.org/package/2006/relationships"}


@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, cfg):
    return build_master(None, tmp_path_factory.mktemp("views") / "任務分解台賬.xlsx", cfg).path


def sheet_parts(path) -> dict[str, bytes]:
    """sheet name -> the bytes of its worksheet part."""
    with zipfile.ZipFile(path) as z:
        wb = etree.fromstring(z.read("xl/workbook.xml"))
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = {r.get("Id"): r.get("Target") for r in rels.findall("p:Relationship", NS)}
        out = {}
        for s in wb.find("m:sheets", NS):
            t = target[s.get(f"{{{NS['r']}}}id")]
            part = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join("xl", t))
            out[s.get("name")] = z.read(part)
        return out


def edit(master, pick="區財政局"):
    """What an official does: picks a unit in the view, deletes 1.2.2, adds 1.5.5, keeps a
    sheet of notes; the rollup has filled a _status row."""
    wb = load_workbook(master)
    wb[VIEW]["B2"] = pick
    ws = wb[S1]
    rows = {ws.cell(row=r, column=1).value: r for r in range(4, ws.max_row + 1)}
    new = ws.max_row + 1
    for col, v in enumerate(["1.5.5", None, "推進法律援助經費保障。", "區財政局", "區司法局", None,
                             "2020年10月底前"], 1):
        ws.cell(row=new, column=col).value = v
    ws.delete_rows(rows["1.2.2"])
    notes = wb.create_sheet("我的備註")
    notes["A1"] = "8月督查要點"
    wb["_status"].append(["1.1.1", "推進中", 0.4, "2020-08", "green"])
    wb.save(master)


def expected_caizheng():
    ids = [t for t in CAIZHENG_TASKS if t != "1.2.2"]
    return ids[:ids.index("1.5.4") + 1] + ["1.5.5"] + ids[ids.index("1.5.4") + 1:]


def test_forms_refresh_the_views_after_an_edit(tmp_path, pristine, cfg):
    master = tmp_path / "任務分解台賬.xlsx"
    shutil.copy(pristine, master)
    edit(master)
    before = sheet_parts(master)
    old_fp = read_meta(master)["plan_fingerprint"]

    result = write_forms(master, "2020-08", config=cfg)
    assert "新增 1 項任務,刪除 1 項" in narrow(result.master_changes)
    assert result.views and "已按章節表中的修改更新" in result.views
    assert "新增任務 1.5.5" in result.views and "刪除任務 1.2.2" in result.views
    assert "按單位查看仍顯示「區財政局」" in result.views

    after = sheet_parts(master)
    assert list(after) == list(before)                       # same sheets, same tab order
    for name in [S1, "二、健全重大行政決策機制", "說明", "我的備註", "_status", "_actuals"]:
        assert after[name] == before[name], name             # untouched, byte for byte
    for name in [VIEW, "責任矩陣", "考評指標", "_plan", "_tasks", "_units", "_meta"]:
        assert after[name] != before[name], name
    plan = plan_from_workbook(master, cfg)
    meta = read_meta(master)
    assert meta["plan_fingerprint"] == plan.fingerprint() != old_fp
    assert result.plan_fingerprint == plan.fingerprint()

    wb = load_workbook(master)
    assert [wb[n].sheet_state for n in ("_meta", "_plan", "_tasks", "_units")] == ["hidden"] * 4
    matrix_ids = [r[0].value for r in wb["責任矩陣"].iter_rows(min_row=4) if r[0].value]
    assert "1.5.5" in matrix_ids and "1.2.2" not in matrix_ids
    assert wb["_status"]["A2"].value == "1.1.1" and wb["我的備註"]["A1"].value == "8月督查要點"

    # what LibreOffice computes: the official's pick kept, the edit shown; then another unit
    rng = f"'{VIEW}'!A5:J60"
    report = xlsx_check(master, "--get", rng, "--get", f"'{VIEW}'!B2")
    assert report["ok"], report.get("problems")
    assert got(report, f"'{VIEW}'!B2")[0][0] == "區財政局"
    ids = [r[1] for r in got(report, rng) if r[1]]
    assert ids == expected_caizheng()
    row = next(r for r in got(report, rng) if r[1] == "1.5.5")
    assert row[3] == "牽頭" and row[2] == "推進法律援助經費保障。"
    report = xlsx_check(master, "--set", f"'{VIEW}'!B2=區司法局", "--get", rng)
    assert report["set"][0]["valid"] is True
    ids = [r[1] for r in got(report, rng) if r[1]]
    sifa = [t for t in SIFA_TASKS if t != "1.2.2"]
    assert ids == sifa[:sifa.index("1.5.4") + 1] + ["1.5.5"] + sifa[sifa.index("1.5.4") + 1:]
    assert next(r for r in got(report, rng) if r[1] == "1.5.5")[3] == "配合"

    # nothing changed since: the next forms leave the master alone
    again = write_forms(master, "2020-09", config=cfg)
    assert again.views is None and sheet_parts(master) == after


def test_open_master_keeps_its_views_and_forms_still_go_out(tmp_path, pristine, cfg):
    master = tmp_path / "任務分解台賬.xlsx"
    shutil.copy(pristine, master)
    edit(master)
    before = master.read_bytes()
    (tmp_path / "~$任務分解台賬.xlsx").write_text("lock")
    result = write_forms(master, "2020-08", config=cfg, units=["區財政局"])
    assert len(result.written) == 1
    assert "正在 Excel 或 WPS 中打開" in result.views and "build --refresh" in result.views
    assert master.read_bytes() == before


def test_cli_build_refresh(tmp_path, pristine):
    master = tmp_path / "任務分解台賬.xlsx"
    shutil.copy(pristine, master)
    p = cli("build", "--refresh", master.name, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "不需要更新" in p.stderr
    edit(master, pick="六橫鎮")
    p = cli("build", "--refresh", master.name, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "已按章節表中的修改更新台賬的按單位查看、責任矩陣、考評指標" in p.stderr
    assert "按單位查看仍顯示「六橫鎮」" in p.stderr
    p = cli("build", "--refresh", master.name, "-o", "x.xlsx", cwd=tmp_path)
    assert p.returncode == 2 and "--refresh" in p.stderr


def test_refresh_keeps_a_broken_edit_out(tmp_path, pristine, cfg):
    master = tmp_path / "任務分解台賬.xlsx"
    shutil.copy(pristine, master)
    wb = load_workbook(master)
    wb[S1]["D4"] = "區司法廳"
    wb.save(master)
    before = master.read_bytes()
    from putuo_xl.workbook.readback import PlanEditError
    with pytest.raises(PlanEditError, match="區司法廳"):
        refresh_views(master, cfg)
    assert master.read_bytes() == before
