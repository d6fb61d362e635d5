"""The ribbon's 通報文稿 (`bulletin_docx`): the 報告月份's 通報 as a GB/T 9704 Word document through
the library (rollup.run.write_bulletin), on the desktop route (xlwings' remote engine, the file
beside the master, an earlier file kept) and the server route (the project folder, the task
pane's signed download link); a month the ledger knows nothing of gives the library's Chinese
error. Over HTTP: tests/test_excel_server_files.py and tests/test_officejs_client.py."""
from __future__ import annotations

import io
import shutil
import zipfile

import docx
import pytest

from putuo_xl.demo import run_demo
from putuo_xl.excel import actions, exchange, projects
from putuo_xl.excel.context import PROJECT_META_KEY, SERVER_MASTER_NAME, Context, Route, UserError
from putuo_xl.excel.payload import actions as acts
from putuo_xl.rollup.run import bulletin_text

from test_excel_flow import open_master, settings_rows

MONTH = "2020-09"
NAME = "2020年9月預評估通報.docx"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("bulletin-button") / "示例")


def _copy(demo, folder, master_name="任務分解台賬.xlsx"):
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(demo.master, folder / master_name)
    shutil.copy(demo.master.with_name("任務分解台賬.ledger.sqlite"), folder / "任務分解台賬.ledger.sqlite")
    return folder / master_name


def _lines(text: str) -> list[str]:
    return [ln.strip("\u3000 ") for ln in text.splitlines() if ln.strip()]


def _press(master, route=None, month=MONTH, **kw):
    book = open_master(master, settings=settings_rows(month=month), **kw)
    try:
        actions.bulletin_docx(book, route)
        return acts(book, "alert")[-1]["args"][0]
    finally:
        book.close()


def test_desktop_writes_the_bulletin_beside_the_master(demo, tmp_path):
    master = _copy(demo, tmp_path / "桌面")
    alert = _press(master)
    out = master.parent / "通報" / NAME
    assert out.is_file() and str(out) in alert and "已寫出2020年9月預評估通報" in alert
    # the same text as the 通報 sheet and `mail bulletin`: title, month, body, 署名 and date
    paras = [p.text for p in docx.Document(str(out)).paragraphs if p.text.strip()]
    want = _lines(bulletin_text(demo.master, MONTH))
    assert paras == want
    assert "關於2020年9月法治政府建設工作推進情況的預評估通報" in paras
    assert paras[-2] == "區建設法治政府（依法行政）工作領導小組辦公室"
    # again: the earlier file (an office may have edited it) is kept
    alert = _press(master)
    [bak] = list(out.parent.glob("2020年9月預評估通報.bak-*.docx"))
    assert bak.name in alert and bak.read_bytes()[:2] == b"PK"
    # open in Word (its lock file ~$ + the name without its first two characters): refused, untouched
    before = out.read_bytes()
    (out.parent / ("~$" + out.name[2:])).write_bytes(b"lock")
    with pytest.raises(UserError, match="正在 Word 或 WPS 中打開"):
        _press(master)
    assert out.read_bytes() == before and len(list(out.parent.glob("*.bak-*.docx"))) == 1


def test_a_month_without_records_gives_the_librarys_error(demo, tmp_path):
    master = _copy(demo, tmp_path / "空月")
    with pytest.raises(UserError, match="台賬中沒有2020年11月的記錄"):
        _press(master, month="2020-11")
    assert not (master.parent / "通報").exists()


def test_server_writes_into_the_project_and_the_pane_downloads_it(demo, tmp_path):
    data = tmp_path / "數據"
    route = Route.server(data)
    key = projects.new_key("2020年普陀")
    folder = projects.create(data, key, "2020年普陀", route.identity)
    master = _copy(demo, folder, SERVER_MASTER_NAME)
    alert = _press(master, route, name="普陀台賬.xlsx", extra_meta={PROJECT_META_KEY: key})
    assert "請在操作面板中按「下載通報」" in alert and str(data) not in alert    # no server path shown
    assert (folder / "通報" / NAME).is_file()
    book = open_master(master, name="普陀台賬.xlsx", settings=settings_rows(month=MONTH),
                       extra_meta={PROJECT_META_KEY: key})
    try:
        ctx = Context.open(book, route)
        arch = exchange.bulletin_archive(ctx, MONTH)
        with pytest.raises(UserError, match="還沒有寫出2020年8月的通報"):
            exchange.bulletin_archive(ctx, "2020-08")
    finally:
        book.close()
    assert [p.name for p in arch.files] == [NAME] and arch.name == "2020年9月預評估通報.zip"
    token = exchange.download_token(data, arch, b"k")
    again = exchange.archive_from_token(data, token, b"k", kind="bulletin")
    with zipfile.ZipFile(io.BytesIO(again.zip_bytes())) as z:
        assert z.namelist() == [NAME] and z.read(NAME) == (folder / "通報" / NAME).read_bytes()
    # a forged token, or a 通報 link on the 年度報告 / forms routes, is refused
    for secret, kind in ((b"guessed", "bulletin"), (b"k", "report"), (b"k", "forms")):
        with pytest.raises(exchange.BadToken, match="下載鏈接無效"):
            exchange.archive_from_token(data, token, secret, kind=kind)
