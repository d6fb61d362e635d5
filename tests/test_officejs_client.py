"""The Office.js route proven with the add-in's real client code.

The JavaScript `putuo-xl serve` serves — xlwings Server's Office.js client (runPython, its own
getBookData, the action dispatch and its callbacks), our auth.js, ribbon.js, putuo-office.js
and putuo-files.js, and the worksheet functions' code — runs under Node (tests/officejs/) against
an Excel JavaScript API double that enforces the API's documented rules and fails on anything
it does not implement. Every ribbon button and every worksheet function goes through it to a
live, signed-in server on 127.0.0.1; the double's workbook is then saved as .xlsx, opened in
LibreOffice, and its 工作報表 compared with what the CLI writes for the same month and files.
"""
from __future__ import annotations

import io
import json
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from collect_kit import Form, set_mtime
from mail_helpers import cert, smtp_server, write_config  # noqa: F401
from officejs_harness import OfficeClient, alert, opened_file, save_xlsx, script_request, sheet_grid
from test_excel_server import running_server
from wb_helpers import xlsx_check

from putuo_xl import layout

MONTH = "2020-08"
MAX_ACTIONS = 50
MAX_BYTES = 1024 * 1024
# unit -> (status, when its file was saved); due day is the 5th
RETURNS = {"區司法局": ("已完成", "2020-09-03 10:00"), "區財政局": ("推進中", "2020-09-04 16:00"),
           "區教育局": ("推進中", "2020-09-02 09:00"), "區民政局": ("已完成", "2020-09-21 11:00"),
           "沈家門街道": ("推進中", "2020-09-25 15:00")}
CORRECTED = {"沈家門街道": "2020-09-04"}     # the official corrects a 收件日期 before importing


def _fill(forms: Path, out: Path) -> list[dict]:
    """Units fill their forms; the files keep the time they were saved (their 收件日期)."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for unit, (status, when) in RETURNS.items():
        src = next(forms.glob(f"*_{unit}_*.xlsx"))
        f = Form(src)
        f.fill_all(status=status, progress=1.0 if status == "已完成" else 0.5, actual=95)
        path = f.save(out / src.name)
        set_mtime(path, when)
        files.append({"path": str(path), "name": path.name, "unit": unit,
                      "lastModified": int(path.stat().st_mtime * 1000)})
    junk = out / "說明.xlsx"
    junk.write_bytes(b"this is not a workbook")
    set_mtime(junk, "2020-09-03 10:00")
    files.append({"path": str(junk), "name": junk.name, "unit": None,
                  "lastModified": int(junk.stat().st_mtime * 1000)})
    return files


def _small(result: dict, what: str) -> dict:
    req = script_request(result)
    assert req["status"] == 200, (what, req)
    assert req["actions"] <= MAX_ACTIONS, (what, req["actions"], req["funcs"])
    assert req["responseBytes"] <= MAX_BYTES, (what, req["responseBytes"])
    assert not result["consoleErrors"] and not result.get("thrown"), (what, result)
    return req


def _cli_month(config: Path, files: list[dict], tmp: Path, corrected: bool = True) -> Path:
    """The same month from the command line: master, forms, the same returns (same bytes, the
    same times — the corrected one as corrected), collect, rollup."""
    from putuo_xl.collect.run import collect
    from putuo_xl.config import load_config
    from putuo_xl.rollup.run import rollup
    from putuo_xl.workbook.forms import write_forms
    from putuo_xl.workbook.master import build_master

    cfg = load_config(config)
    master = build_master(None, output=tmp / "cli" / "任務分解台賬.xlsx", config=cfg, overwrite=True).path
    write_forms(master, MONTH, config=cfg)
    inbox = tmp / "cli" / "收件箱"
    inbox.mkdir(exist_ok=True)
    for f in files:
        dest = inbox / f["name"]
        shutil.copy2(f["path"], dest)
        if corrected and f["unit"] in CORRECTED:
            set_mtime(dest, CORRECTED[f["unit"]] + " 12:00")
    collect(master, [inbox], MONTH, cfg)
    rollup(master, MONTH, cfg)
    return master


def _norm(v):
    if v == "" or v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        return round(v, 9) if not v.is_integer() else int(v)
    if isinstance(v, datetime):
        return v
    return v


def _grid_of(ws) -> list[list]:
    rows = [[_norm(c) for c in r] for r in ws.iter_rows(values_only=True)]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


def _same_grid(a: list[list], b: list[list], where: str) -> None:
    a = [[_norm(v) for v in row] for row in a]
    width = max([len(r) for r in a + b] or [0])
    pad = lambda rows: [list(r) + [None] * (width - len(r)) for r in rows]  # noqa: E731
    a, b = pad(a), pad(b)
    while a and all(v is None for v in a[-1]):
        a.pop()
    assert len(a) == len(b), (where, len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b)):
        for j, (u, v) in enumerate(zip(x, y)):
            if isinstance(v, datetime) and isinstance(u, (int, float)):
                continue            # a date cell: the double holds the serial
            assert u == v, f"{where}!{layout_cell(i, j)}: Excel {u!r} ≠ CLI {v!r}"


def layout_cell(r: int, c: int) -> str:
    from putuo_xl.workbook.sheetlayout import col_letter
    return f"{col_letter(c)}{r + 1}"


@pytest.fixture(scope="module")
def month_run(tmp_path_factory):
    """A newcomer's full month in Excel through the server: sign in, 生成台賬 in an empty book,
    生成月報 (asked for the month), upload the returns with their times (one corrected),
    導入回報, 刷新匯總, 單位視圖, the worksheet functions, 發送月報 / 催報 / 發送通報."""
    from aiosmtpd.controller import Controller

    from mail_helpers import Recorder, free_port

    tmp = tmp_path_factory.mktemp("officejs-month")
    handler = Recorder()
    port = free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=port)
    smtp.start()
    data = tmp / "data"
    data.mkdir()
    config = write_config(data / "config.yaml", port)
    out = {"tmp": tmp, "config": config, "smtp": handler}
    try:
        with running_server(data) as server, \
                OfficeClient(str(server.base_url), code=server.code, tmp=tmp) as c:
            out["signin"] = c.step(signIn=server.code)
            out["diagnose"] = c.press("diagnose")
            out["build"] = c.press("build-master")
            key = next(p.name for p in data.iterdir() if (p / "project.json").is_file())
            out["key"] = key
            out["ask"] = c.press("make-forms")
            out["forms_before"] = list((data / key).glob(f"{MONTH}_月報/*.xlsx"))
            out["month"] = c.step(month=MONTH)
            out["forms"] = c.press("make-forms")
            files = _fill(data / key / f"{MONTH}_月報", tmp / "returns")
            out["files"] = files
            out["upload"] = c.step(upload=files, received={
                next(f["name"] for f in files if f["unit"] == u): d for u, d in CORRECTED.items()})
            out["collect"] = c.press("collect-returns")
            out["refresh"] = c.press("refresh-rollup")
            out["bulletin_docx"] = c.press("bulletin-docx")
            out["bulletin_download"] = c.step(download="bulletin")
            out["bulletin_zip"] = httpx.get(out["bulletin_download"]["dialogs"][0]["browser"], timeout=60)
            out["bulletin_file"] = data / key / "通報" / f"{layout.month_label(MONTH)}預評估通報.docx"
            out["book"] = c.export()
            matrix = layout.name("matrix")
            grid = sheet_grid(out["book"], matrix)
            r, col = next((i, j) for i, row in enumerate(grid) for j, v in enumerate(row)
                          if v == "區財政局")
            out["select"] = c.step(select=f"{matrix}!{layout_cell(r, col)}")
            out["unit_view"] = c.press("unit-view")
            rate_cell = "Sheet1!C3"
            out["functions"] = {
                "UNIT_RATE": c.step(call="UNIT_RATE", args=[[["區司法局"]], [[MONTH]], [[None]]], address=rate_cell),
                "UNIT_TASKS": c.step(call="UNIT_TASKS", args=[[["區財政局"]], [[None]]], address=rate_cell),
                "TASK_STATUS": c.step(call="TASK_STATUS", args=[[["1.1.1"]], [[MONTH]], [["區司法局"]], [[None]]], address=rate_cell),
                "INDICATOR_ACTUAL": c.step(call="INDICATOR_ACTUAL", args=[[["1.4.1#1"]], [[MONTH]], [[None]]], address=rate_cell),
                "INDICATOR_MET": c.step(call="INDICATOR_MET", args=[[["1.4.1#1"]], [[MONTH]], [[None]]], address=rate_cell),
            }
            out["send_forms"] = c.press("send-forms")
            out["remind"] = c.press("send-reminders")
            out["bulletin"] = c.press("send-bulletin")
            out["final"] = c.export()
        out["cli_master"] = _cli_month(config, out["files"], tmp)
        yield out
    finally:
        smtp.stop()


def test_sign_in_and_diagnose(month_run):
    assert "已登錄" in month_run["signin"]["status"]
    assert script_request(month_run["diagnose"])["status"] == 200
    assert "沒有發現問題" in alert(month_run["diagnose"])


def test_build_gives_the_real_master_in_a_few_actions(month_run):
    r = month_run["build"]
    req = _small(r, "生成台賬")
    assert alert(r).startswith("已在本工作簿中生成台賬:51 項任務")
    assert req["funcs"].get("runMacro") == 1 and "setFormula" not in req["funcs"]
    book = month_run["book"]
    names = [s["name"] for s in book["sheets"]]
    assert names[0] == "說明" and "工作表1" not in names          # the starter sheet went
    tables = [t["name"] for s in book["sheets"] for t in s["tables"]]
    assert tables == [f"Section{i}" for i in range(1, 7)]
    assert {n["name"] for n in book["names"]} == {"putuo_units"}
    hidden = {s["name"] for s in book["sheets"] if s["visibility"] != "Visible"}
    assert {layout.META_SHEET, layout.STATUS_SHEET, layout.PLAN_SHEET} <= hidden
    meta = dict((row[0], row[1]) for row in sheet_grid(book, layout.META_SHEET) if row and row[0])
    assert meta["server_project"] == month_run["key"]


def test_the_month_is_asked_for_never_guessed(month_run):
    r = month_run["ask"]
    assert "請先確認報告月份(建議 2020-12)" in alert(r)
    assert r["taskpaneShown"] == 1 and month_run["forms_before"] == []
    m = month_run["month"]
    assert m["suggested"] == "2020-12" and "已寫入" in m["status"]
    assert not m["conversions"]                # written as text: Excel keeps "2020-08"
    assert "月報:生成 " in alert(month_run["forms"]).replace("：", ":")


def test_uploads_carry_their_dates(month_run):
    u = month_run["upload"]
    files = {f["name"]: f for f in month_run["files"]}
    for name, shown in u["listed"].items():
        assert shown == datetime.fromtimestamp(files[name]["lastModified"] / 1000).strftime("%Y-%m-%d")
    assert "已保存 6 份" in u["status"] and "收件日期 2020-09-02 至 2020-09-21" in u["status"]


def test_import_and_refresh_in_few_actions_and_on_time_as_the_cli(month_run):
    for key, what in (("collect", "導入回報"), ("refresh", "刷新匯總")):
        _small(month_run[key], what)
    text = alert(month_run["collect"])
    assert "收錄 5" in text and "拒收 1" in text
    # 沈家門街道 saved on 09-25 (late) but corrected to 09-04: on time; 區民政局 late
    assert "按時 4、逾期 1" in alert(month_run["refresh"]), alert(month_run["refresh"])
    # nothing Excel would have turned into a date or a number
    for key in ("build", "collect", "refresh"):
        assert month_run[key]["conversions"] == [], (key, month_run[key]["conversions"][:5])


def test_report_sheets_equal_the_cli(month_run):
    wb = load_workbook(month_run["cli_master"])
    book = month_run["book"]
    for key in layout.ROLLUP_SHEETS:
        name = layout.name(key)
        _same_grid(sheet_grid(book, name), _grid_of(wb[name]), name)
    for name in (layout.STATUS_SHEET, layout.ACTUALS_SHEET):
        _same_grid(sheet_grid(book, name), _grid_of(wb[name]), name)
    wb.close()


def test_the_book_opens_in_libreoffice_without_formula_errors(month_run):
    path = save_xlsx(month_run["final"], month_run["tmp"] / "excel-double.xlsx")
    report = xlsx_check(path)
    assert report["ok"], json.dumps(report, ensure_ascii=False)[:3000]
    assert month_run["final"]["sheets"] and not [b for b in month_run.get("brokenRefs", [])]


def test_unit_view_and_worksheet_functions(month_run):
    r = month_run["unit_view"]
    _small(r, "單位視圖")
    assert "已切換到" in alert(r)
    f = month_run["functions"]
    for name, res in f.items():
        assert res.get("error") is None and not res.get("thrown"), (name, res)
    monthly = sheet_grid(month_run["book"], layout.name("monthly"))
    head = next(i for i, row in enumerate(monthly) if row and "單位" in row)
    col = [str(h).replace("\n", "") for h in monthly[head]].index("承擔任務完成率")   # 承擔任務\n完成率
    row = next(row for row in monthly[head + 1:] if row and "區司法局" in row)
    assert f["UNIT_RATE"]["result"] == [[row[col]]]
    assert f["UNIT_TASKS"]["result"][0][0] == "任務編號"
    assert f["TASK_STATUS"]["result"] == [["已完成"]]
    assert f["INDICATOR_MET"]["result"][0][0] in ("達標", "未達標", "未填報")


def test_bulletin_docx_button_and_its_download(month_run):
    _small(month_run["bulletin_docx"], "通報文稿")
    assert "請在操作面板中按「下載通報」" in alert(month_run["bulletin_docx"])
    d = month_run["bulletin_download"]
    assert not d.get("thrown") and "打包為 2020年8月預評估通報.zip" in d["status"], d
    z = month_run["bulletin_zip"]
    assert z.status_code == 200
    path = month_run["bulletin_file"]
    with zipfile.ZipFile(io.BytesIO(z.content)) as zf:
        assert zf.namelist() == [path.name] and zf.read(path.name) == path.read_bytes()


def test_mail_buttons(month_run):
    for key in ("send_forms", "remind", "bulletin"):
        req = _small(month_run[key], key)
        assert req["status"] == 200
    assert "已發送" in alert(month_run["send_forms"])
    assert month_run["smtp"].received


@pytest.fixture(scope="module")
def other_hosts(tmp_path_factory):
    """Excel without ExcelApi 1.13 (1.12: 生成台賬 opens the master as a new workbook, the
    report sheets come cell by cell) and Excel on the web (1.17: a sheet with charts cannot be
    inserted, the add-in adds 趨勢's charts itself); and a second book of the same name."""
    from putuo_xl.excel.context import SERVER_MASTER_NAME

    tmp = tmp_path_factory.mktemp("officejs-hosts")
    data = tmp / "data"
    data.mkdir()
    config = write_config(data / "config.yaml", 2525)
    out = {"tmp": tmp, "config": config}
    with running_server(data) as server:
        url, code = str(server.base_url), server.code
        with OfficeClient(url, code=code, api="1.12", tmp=tmp) as old:
            out["build_old"] = old.press("build-master")
            out["created"] = old.step(export=True)["createdWorkbooks"]
        key = next(p.name for p in data.iterdir() if (p / "project.json").is_file())
        master = data / key / SERVER_MASTER_NAME
        name = "任務分解台賬.xlsx"
        with OfficeClient(url, code=code, api="1.12", tmp=tmp, workbook=opened_file(master, name)) as c:
            out["ask"] = c.press("make-forms")
            c.step(month=MONTH)
            out["forms"] = c.press("make-forms")
            files = _fill(data / key / f"{MONTH}_月報", tmp / "returns")
            out["files"] = files
            c.step(upload=files)
            out["collect_old"] = c.press("collect-returns")
            out["refresh_old"] = c.press("refresh-rollup")
            out["book_old"] = c.export()
            out["rate_own"] = c.step(call="UNIT_RATE", args=[[["區司法局"]], [[MONTH]], [[None]]], address="Sheet1!C3")
        with OfficeClient(url, code=code, api="1.17", platform="OfficeOnline", tmp=tmp,
                          workbook=opened_file(master, name)) as web:
            web.step(month=MONTH)
            out["refresh_web"] = web.press("refresh-rollup")
            out["book_web"] = web.export()
        # another official's book of the same name, for another project
        with OfficeClient(url, code=code, tmp=tmp, workbook={"name": name, "sheets": [{"name": "工作表1"}]}) as other:
            out["build_other"] = other.press("build-master")
            out["rate_other"] = other.step(call="UNIT_RATE", args=[[["區司法局"]], [[MONTH]], [[None]]],
                                           address="Sheet1!C3")
    out["cli_master"] = _cli_month(config, out["files"], tmp, corrected=False)
    return out


def test_older_excel_gets_the_master_as_a_new_workbook(other_hosts):
    r = other_hosts["build_old"]
    req = _small(r, "生成台賬 (ExcelApi 1.12)")
    assert req["funcs"].get("runMacro") == 1 and "在新打開的工作簿中" in alert(r)
    assert len(other_hosts["created"]) == 1 and other_hosts["created"][0] > 10000


def test_older_excel_gets_the_report_sheets_cell_by_cell(other_hosts):
    for key in ("collect_old", "refresh_old"):
        req = script_request(other_hosts[key])
        assert req["status"] == 200 and not other_hosts[key]["consoleErrors"], other_hosts[key]
        assert "runMacro" not in (req["funcs"] or {})
        assert other_hosts[key]["conversions"] == []
    wb = load_workbook(other_hosts["cli_master"])
    for key in ("monthly", "progress", "score", "bulletin"):
        name = layout.name(key)
        _same_grid(sheet_grid(other_hosts["book_old"], name), _grid_of(wb[name]), name)
    wb.close()


def test_excel_on_the_web_gets_the_charts_from_the_add_in(other_hosts):
    r = other_hosts["refresh_web"]
    req = _small(r, "刷新匯總 (Excel on the web)")
    assert req["funcs"]["runMacro"] == 1
    wb = load_workbook(other_hosts["cli_master"])
    trend = layout.name("trend")
    want = wb[trend]._charts
    sheets = {s["name"]: s for s in other_hosts["book_web"]["sheets"]}
    assert trend in sheets, (list(sheets), r["dialogs"])
    got = sheets[trend]["charts"]
    assert len(got) == len(want) >= 2
    for g, w in zip(got, want):
        assert g["series"] == len(w.series) and g["title"]
    wb.close()


def test_functions_find_their_project_by_its_key_not_the_book_name(other_hosts):
    own, other = other_hosts["rate_own"], other_hosts["rate_other"]
    assert own.get("error") is None and own["result"] == [[1.0]], own
    # the same book name, another project (no returns there): never the first project's figure
    assert other.get("result") != own["result"], other
    texts = json.dumps(other, ensure_ascii=False)
    assert "沒有2020年8月的記錄" in texts or "還沒有台賬數據庫" in texts, texts[:2000]


def test_excel_on_the_web_builds_the_master_with_its_notes(tmp_path):
    """The master's notes (tasks the parser was unsure of) would make Excel on the web refuse
    the sheets: they travel apart and the add-in adds them back."""
    data = tmp_path / "data"
    data.mkdir()
    with running_server(data) as server, \
            OfficeClient(str(server.base_url), code=server.code, api="1.18", platform="OfficeOnline",
                         tmp=tmp_path) as web:
        r = web.press("build-master")
        _small(r, "生成台賬 (Excel on the web)")
        book = web.export()
    notes = [(s["name"], n) for s in book["sheets"] for n in s["notes"]]
    assert notes, "the seed notice has a task the parser notes"
    assert any("責任單位" in text for _sheet, (_cell, text) in notes)
