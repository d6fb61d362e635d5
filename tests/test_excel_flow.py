"""The ribbon actions end to end on xlwings' remote engine, with real files: the seed master
is built, opened as the JSON body Excel sends, and every button is pressed in turn — on the
desktop route (the master is the open file, ledger and forms beside it; entry via
set_mock_caller + desktop.run) and on the server route (everything in the data folder)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import xlwings as xw

from putuo_xl import layout
from putuo_xl.config import load_config
from putuo_xl.excel import actions, desktop
from putuo_xl.excel.context import PROJECT_META_KEY, SERVER_MASTER_NAME, Route, UserError
from putuo_xl.excel.payload import actions as acts, open_book, payload_from_xlsx, sheet_payload
from putuo_xl.workbook.master import build_master
from putuo_xl.workbook.readback import plan_from_values, plan_from_workbook

from collect_kit import Form, set_mtime
from putuo_xl.text import narrow

MONTH = "2020-08"


def settings_rows(month=MONTH, **more):
    labels = {"notice": "通知文件", "forms_dir": "月報文件夾", "returns_dir": "回報文件夾",
              "config": "配置文件", "dry_run": "郵件只預覽"}
    rows = [["項目", "值", "說明"], ["報告月份", month, ""]]
    rows += [[labels[k], v, ""] for k, v in more.items()]
    rows += [[None], ["上次操作", None], ["操作結果", None]]
    return rows


def open_master(path: Path, name: str | None = None, settings=None, selection=("A1", 0),
                extra_meta: dict | None = None) -> xw.Book:
    body = payload_from_xlsx(path, name=name or str(path))
    if extra_meta:
        meta = next(s for s in body["sheets"] if s["name"] == layout.META_SHEET)
        rows = [r for r in meta["values"]] + [[k, v] for k, v in extra_meta.items()]
        body["sheets"][body["sheets"].index(meta)] = sheet_payload(layout.META_SHEET, rows, "Hidden")
    if settings is not None:
        body["sheets"].append(sheet_payload("設置", settings))
    body["book"]["selection"], body["book"]["active_sheet_index"] = selection
    return open_book(body)


def sheet_values(book, name):
    pos = [s.name for s in book.sheets].index(name)
    writes = [a for a in acts(book) if a["func"] in ("setValues", "setFormula") and a["sheet_position"] == pos]
    return writes[-1]["values"] if writes else None


def macro_transfer(book):
    """The runMacro action that hands sheets to the add-in: (spec, .xlsx as BytesIO)."""
    import base64
    import io
    import json
    [a] = [a for a in acts(book, "runMacro") if a["args"][0] == "putuoPutSheets"]
    return json.loads(a["args"][1]), io.BytesIO(base64.b64decode(a["args"][2]))


def alert(book):
    a = acts(book, "alert")
    return a[-1]["args"][0] if a else ""


def fill_returns(forms_dir: Path, returns: Path, units: dict[str, str]) -> list[str]:
    """Officials fill some forms (status per unit) and return them; one junk file too."""
    returns.mkdir(parents=True, exist_ok=True)
    names = []
    for unit, status in units.items():
        src = next(forms_dir.glob(f"*_{unit}_*.xlsx"))
        f = Form(src)
        f.fill_all(status=status, progress=1.0 if status == "已完成" else 0.5, actual=95)
        out = f.save(returns / src.name)
        set_mtime(out, "2020-09-03 10:00")
        names.append(out.name)
    (returns / "說明.xlsx").write_bytes(b"this is not a workbook")
    set_mtime(returns / "說明.xlsx", "2020-09-03 10:00")
    return names


@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.fixture(scope="module")
def desk(tmp_path_factory, cfg):
    folder = tmp_path_factory.mktemp("桌面 台賬")
    master = build_master(None, output=folder / "任務分解台賬.xlsx", config=cfg).path
    return folder, master


def test_plan_from_open_book_equals_plan_from_file(desk, cfg):
    _folder, master = desk
    book = open_master(master)
    try:
        from putuo_xl.excel.book import BookIO
        vals = BookIO(book).all_values()
        plan = plan_from_values(vals, cfg, name=book.name)
        assert plan.fingerprint() == plan_from_workbook(master, cfg).fingerprint()
    finally:
        book.close()


def test_desktop_route_every_button(desk, cfg):
    folder, master = desk
    # 生成月報 (via the desktop entry point, as the VBA RunTagged calls it)
    book = open_master(master, settings=settings_rows())
    book.set_mock_caller()
    try:
        assert desktop.run("make_forms") is True
        forms_dir = folder / "2020-08_月報"
        written = sorted(forms_dir.glob("*.xlsx"))
        assert len(written) >= 30
        msg = alert(book)
        assert f"2020年8月 月報:生成 {len(written)} 份" in narrow(msg)
        log = sheet_values(book, "操作記錄")
        assert log[0] == ["時間", "操作", "類別", "內容"] and log[1][1:3] == ["生成月報", "完成"]
        assert sum(1 for r in log if r[2] == "文件") == len(written)
        status = [a for a in acts(book, "setValues") if a["sheet_position"] == [s.name for s in book.sheets].index("設置")]
        assert status[-1]["values"][1][0].startswith("完成:")
    finally:
        del xw.Book._mock_caller
        book.close()

    # 導入回報: three units returned, one junk file
    returns = folder / "回報" / MONTH
    fill_returns(forms_dir, returns, {"區司法局": "已完成", "區財政局": "推進中", "區教育局": "滯後"})
    book = open_master(master, settings=settings_rows())
    try:
        actions.collect_returns(book)
        assert ["save"] == [a["func"] for a in acts(book) if a["func"] == "save"]   # saved first
        receipts = sheet_values(book, "收件情況")
        units = {r[0]: r[1] for r in receipts[2:]}
        assert units["區司法局"] == "已收" and units["區教育局"] == "已收"
        assert any(r[1] == "拒收" for r in receipts[2:])
        msg = alert(book)
        assert "拒收 1 份" in msg and "說明.xlsx" in msg
        assert (folder / "任務分解台賬.ledger.sqlite").is_file()
    finally:
        book.close()

    # 刷新匯總: the report sheets and the hidden data sheets, values only, one block each
    book = open_master(master, settings=settings_rows())
    try:
        actions.refresh_rollup(book)
        names = [s.name for s in book.sheets]
        monthly = sheet_values(book, "月度匯總")
        assert any("區司法局" in [str(c) for c in r] for r in monthly)
        status = sheet_values(book, layout.STATUS_SHEET)
        assert status[0] == layout.STATUS_COLUMNS and len(status) > 50
        hidden = [a for a in acts(book, "setSheetVisibility") if a["args"] == ["Hidden"]]
        assert {names[a["sheet_position"]] for a in hidden} >= {layout.STATUS_SHEET, layout.ACTUALS_SHEET}
        per_sheet = {}
        for a in acts(book, "setValues"):
            per_sheet[names[a["sheet_position"]]] = per_sheet.get(names[a["sheet_position"]], 0) + 1
        assert per_sheet["月度匯總"] == 1 and per_sheet[layout.STATUS_SHEET] == 1
        msg = alert(book)
        assert "已匯總 2020年8月" in msg and "任務完成率" in msg
    finally:
        book.close()

    # 單位視圖: the official selects a unit name in 責任矩陣 and presses the button
    matrix = payload_from_xlsx(master)
    msheet = next(s for s in matrix["sheets"] if s["name"] == "責任矩陣")
    r, c = next((i, j) for i, row in enumerate(msheet["values"]) for j, v in enumerate(row) if v == "區財政局")
    cell = f"{chr(65 + c)}{r + 1}"
    book = open_master(master, settings=settings_rows(),
                       selection=(cell, [s["name"] for s in matrix["sheets"]].index("責任矩陣")))
    try:
        actions.unit_view(book)
        names = [s.name for s in book.sheets]
        w = [a for a in acts(book, "setValues") if a["sheet_position"] == names.index("按單位查看")]
        assert w[0]["values"] == [["區財政局"]] and (w[0]["start_row"], w[0]["start_column"]) == (1, 1)
        assert acts(book, "activateSheet")
        assert "已切換到 區財政局" in alert(book)
    finally:
        book.close()


def test_desktop_errors_are_chinese_and_shown_in_excel(desk, tmp_path):
    folder, master = desk
    book = open_master(master, settings=settings_rows(month="2020-13"))
    try:
        with pytest.raises(UserError, match=r"報告月份「2020-13」不是有效的月份[(\uff08]設置!B2[)\uff09]"):
            actions.make_forms(book)
    finally:
        book.close()
    book = open_master(master, settings=settings_rows(returns_dir=str(tmp_path / "沒有這個文件夾")))
    book.set_mock_caller()
    try:
        assert desktop.run("collect_returns") is False
        msg = alert(book)
        assert "回報文件夾" in msg and "沒有這個文件夾" in msg and "不存在" in msg
        assert acts(book, "alert")[-1]["args"][1] == "導入回報 失敗"
        assert sheet_values(book, "操作記錄")[1][2] == "失敗"
    finally:
        del xw.Book._mock_caller
        book.close()
    # an unsaved book: the master's folder is unknown
    body = payload_from_xlsx(master, name="任務分解台賬.xlsx")
    book = open_book(body)
    try:
        with pytest.raises(UserError, match="請先保存台賬"):
            actions.refresh_rollup(book)
    finally:
        book.close()


def test_server_route_every_button(tmp_path, cfg, monkeypatch):
    data = tmp_path / "數據"
    route = Route.server(data)
    # 生成台賬 in a blank workbook: the master is built in the data folder and put into the book
    blank = open_book({"client": "Office.js", "version": xw.__version__,
                       "book": {"name": "活頁簿1", "active_sheet_index": 0, "selection": "A1",
                                "calculation": "Automatic"}, "names": [],
                       "sheets": [sheet_payload("工作表1", [])]})
    try:
        actions.build_master(blank, route)
        # the master travels whole, as one .xlsx (the add-in's putuoPutSheets callback)
        spec, xlsx = macro_transfer(blank)
        assert {"說明", "按單位查看", "責任矩陣", "考評指標", layout.META_SHEET, layout.PLAN_SHEET} <= set(spec["insert"])
        assert {layout.META_SHEET, layout.PLAN_SHEET} <= set(spec["hidden"])
        assert [n for n, _f in spec["names"]] == ["putuo_units"] and spec["removeIfEmpty"] == ["工作表1"]
        assert not acts(blank, "setFormula") and not acts(blank, "addSheet")[1:]
        from openpyxl import load_workbook
        wb = load_workbook(xlsx)
        meta_rows = list(wb[layout.META_SHEET].iter_rows(values_only=True))
        key = dict((r[0], r[1]) for r in meta_rows if r and r[0])[PROJECT_META_KEY]
        assert (data / key / SERVER_MASTER_NAME).is_file()
        assert "已在本工作簿中生成台賬" in alert(blank)
    finally:
        blank.close()

    server_master = data / key / SERVER_MASTER_NAME
    name = "普陀 2020 台賬.xlsx"      # what the official saved the book as

    def book(**kw):
        return open_master(server_master, name=name, settings=settings_rows(**kw),
                           extra_meta={PROJECT_META_KEY: key})

    b = book()
    try:
        actions.make_forms(b, route)
        forms_dir = data / key / "2020-08_月報"
        assert len(list(forms_dir.glob("*.xlsx"))) >= 30
    finally:
        b.close()
    fill_returns(forms_dir, data / key / "回報" / MONTH, {"區司法局": "已完成", "區民政局": "推進中"})
    b = book()
    try:
        actions.collect_returns(b, route)
        assert not acts(b, "save")                     # the server never saves the official's book
        assert "拒收 1 份" in alert(b)
    finally:
        b.close()
    b = book()
    try:
        actions.refresh_rollup(b, route)
        spec, _xlsx = macro_transfer(b)
        assert spec["insert"][0] == "月度匯總" and ["~putuo_status", "_status"] in spec["copies"]
    finally:
        b.close()
    # pressing 生成台賬 again in the master would overwrite the official's edits: refused
    b = book()
    try:
        with pytest.raises(UserError, match="已經是台賬"):
            actions.build_master(b, route)
    finally:
        b.close()
    # a path outside the data folder is refused on the server
    b = book(returns_dir="/etc")
    try:
        with pytest.raises(UserError, match="不在本台賬的服務器文件夾內"):
            actions.collect_returns(b, route)
    finally:
        b.close()

    # the worksheet functions read the same project: the add-in sends the workbook's key
    from xlwings.server import caller_from_address

    from putuo_xl.excel import projects, udfs
    monkeypatch.setenv("PUTUO_XL_DATA_DIR", str(data))
    caller = caller_from_address(f"[{name}]Sheet1!A1")
    with pytest.raises(xw.XlwingsError, match="不是服務器上的台賬"):
        udfs.unit_rate("區司法局", "2020-08", None, caller)      # no key: never by name
    token = projects.current_project_header.set(_project_key_of(data))
    table = udfs.unit_tasks("區司法局", None, caller)
    assert table[0][0] == "任務編號" and len(table) > 5
    rate = udfs.unit_rate("區司法局", "2020-08", None, caller)
    assert rate == 1.0
    assert udfs.unit_rate("區民政局", "2020-08", None, caller) == 0.0
    tid = table[1][0]
    assert udfs.task_status(tid, "2020-08", "區司法局", None, caller) == "已完成"
    with pytest.raises(xw.XlwingsError, match="不是台賬中有任務的單位"):
        udfs.unit_rate("不存在局", "2020-08", None, caller)
    with pytest.raises(xw.XlwingsError, match="不是月份"):
        udfs.unit_rate("區司法局", "八月", None, caller)
    projects.current_project_header.reset(token)


def _project_key_of(data):
    """The one project the server built in `data` (the key 生成台賬 wrote into _meta)."""
    keys = [p.name for p in data.iterdir() if (p / "project.json").is_file()]
    assert len(keys) == 1, keys
    return keys[0]
