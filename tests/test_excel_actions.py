"""The ribbon actions on xlwings' remote engine: the workbook arrives as the JSON body the
Office.js client sends, the action runs, and the returned actions are what Excel would do."""
from __future__ import annotations

import pytest
import xlwings as xw

from putuo_xl.excel import actions, desktop
from putuo_xl.excel.context import Route, UserError
from putuo_xl.excel.payload import actions as acts, book_payload, open_book
from putuo_xl.text import narrow


def _sheet_writes(book, name):
    """(sheet position → name) and all setValues actions on `name`, values as Excel keeps them."""
    from xl_replay import as_excel_keeps
    pos = [s.name for s in book.sheets].index(name)
    return [{**a, "values": as_excel_keeps(a["values"])} for a in acts(book, "setValues")
            if a["sheet_position"] == pos]


def test_diagnose_desktop_unsaved_book_reports_problem():
    book = open_book(book_payload({"Sheet1": [["x"]]}, name="Book1"))
    try:
        ctx = actions.diagnose(book)
        names = [a["args"][1] for a in acts(book, "addSheet")]
        assert names == ["診斷", "操作記錄"]
        diag = _sheet_writes(book, "診斷")[0]["values"]
        as_dict = {r[0]: r[1] for r in diag}
        assert as_dict["xlwings 版本"] == xw.__version__
        assert as_dict["運行方式"] == "桌面 (RunPython)"
        assert narrow(as_dict["台賬文件"]) == "(未保存)"
        assert "請先保存台賬" in " ".join(ctx.lines)
        alert = acts(book, "alert")[0]
        assert alert["args"][1] == "診斷 完成"
        assert "發現 1 個問題" in alert["args"][0]
    finally:
        book.close()


def test_diagnose_server_route(tmp_path):
    book = open_book(book_payload({"Sheet1": [["x"]]}, name="普陀 台賬.xlsx"))
    try:
        actions.diagnose(book, Route.server(tmp_path))
        diag = {r[0]: r[1] for r in _sheet_writes(book, "診斷")[0]["values"]}
        assert diag["運行方式"] == "服務器 (xlwings Server)"
        assert diag["登錄用戶"] == "本機用戶"
        assert not any(str(tmp_path) in str(v) for v in diag.values())   # no server path shown
        assert diag["發現的問題"] == 0
    finally:
        book.close()


def test_unknown_tag_is_a_user_error():
    book = open_book(book_payload({"Sheet1": [["x"]]}))
    try:
        with pytest.raises(UserError, match="沒有名為「nope」的操作"):
            actions.run_action("nope", book)
    finally:
        book.close()


def test_a_disk_error_in_an_action_is_a_user_error(monkeypatch):
    """An OSError under an action (disk full, no permission) reaches the official as one
    Chinese sentence, like the library's own errors."""
    def full(ctx):
        raise OSError(28, "No space left on device", "任務分解台賬.xlsx")
    monkeypatch.setitem(actions.ACTIONS, "full_disk", actions.Action(
        "full_disk", "測試", "", "Help", full, "data", None, None))
    book = open_book(book_payload({"Sheet1": [["x"]]}))
    try:
        with pytest.raises(UserError) as e:
            actions.run_action("full_disk", book)
        assert "磁盤空間不足" in narrow(str(e.value)) and "任務分解台賬.xlsx" in str(e.value)
    finally:
        book.close()


def test_desktop_run_with_mock_caller():
    book = open_book(book_payload({"Sheet1": [["x"]]}, name="Book1"))
    book.set_mock_caller()
    try:
        assert desktop.run("diagnose") is True
        assert [a["args"][1] for a in acts(book, "addSheet")] == ["診斷", "操作記錄"]
        # an unknown tag does not raise on the desktop: it is shown in Excel
        book2 = open_book(book_payload({"Sheet1": [["x"]]}, name="Book2"))
        book2.set_mock_caller()
        assert desktop.run("nope") is False
        alert = acts(book2, "alert")[0]
        assert "沒有名為「nope」的操作" in alert["args"][0] and alert["args"][1].endswith("失敗")
        book2.close()
    finally:
        del xw.Book._mock_caller
        book.close()


@pytest.mark.parametrize("value,month", [
    ("2020-08", "2020-08"), ("2020-8", "2020-08"), ("2020/08", "2020-08"), ("2020年8月", "2020-08"),
    ("２０２０年８月份", "2020-08"), ("202008", "2020-08"), (202008.0, "2020-08"),
    (__import__("datetime").datetime(2020, 8, 1), "2020-08"), (44044.0, "2020-08"),
    ("2020-13", None), ("八月", None), ("", None), (None, None), (3.5, None)])
def test_month_as_officials_type_it(value, month):
    from putuo_xl.excel.settings import parse_month
    assert parse_month(value) == month


def test_server_env_data_dir_priority(tmp_path, monkeypatch):
    from putuo_xl.errors import PutuoError
    from putuo_xl.excel.serve import server_env
    project = tmp_path.parent / "x"
    root = __import__("pathlib").Path(__file__).resolve().parents[1] / "putuo_xl" / "data" / "server"
    env = server_env(data_dir=tmp_path / "a", project_dir=root, base={"PUTUO_XL_DATA_DIR": str(tmp_path / "b")})
    assert env["PUTUO_XL_DATA_DIR"] == str((tmp_path / "a").resolve())
    assert env["XLWINGS_LICENSE_KEY"] == "noncommercial" and env["XLWINGS_ON_SERVER"] == "true"
    env = server_env(project_dir=root, base={"PUTUO_XL_DATA_DIR": str(tmp_path / "b")})
    assert env["PUTUO_XL_DATA_DIR"] == str((tmp_path / "b").resolve())
    with pytest.raises(PutuoError, match="找不到 xlwings Server 工程"):
        server_env(project_dir=project, base={})


def test_settings_sheet_is_added_when_missing_and_read_in_either_script():
    from putuo_xl.excel.context import Context, Route
    book = open_book(book_payload({"Sheet1": [["x"]], "设置": [["项目", "值"], ["报告月份", "2020年9月"],
                                                             ["回报文件夹", "收件箱"]]}))
    try:
        ctx = Context.open(book, Route())
        assert ctx.month() == "2020-09" and ctx.settings.text("returns_dir") == "收件箱"
        assert ctx.settings.where("month") == "设置!B2"
    finally:
        book.close()
    # no 設置: the sheet is added with an empty 報告月份 and the official is asked — the month
    # is never guessed
    from putuo_xl.excel.context import AskMonth
    book = open_book(book_payload({"Sheet1": [["x"]]}))
    try:
        ctx = Context.open(book, Route())
        with pytest.raises(AskMonth):
            ctx.month()
        assert [a["args"][1] for a in acts(book, "addSheet")] == ["設置"]
        written = acts(book, "setValues")[0]["values"]
        assert written[1][0] == "報告月份" and written[1][1] in (None, "")
        assert "請先確認報告月份" in ctx.lines[-1]
    finally:
        book.close()
