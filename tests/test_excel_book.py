"""Writing into the open workbook (BookIO) on the remote engine: text is never turned into a
formula. Excel (Office.js `values`, COM `Range.Value`) makes a formula of a string that starts
with "=" (and with + - @ as typed), so plain-value writes carry such strings with Excel's text
prefix, the apostrophe, which Excel keeps out of the cell's value and does not display."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

from putuo_xl.excel import actions
from putuo_xl.excel.book import BookIO, as_text
from putuo_xl.excel.payload import actions as acts, book_payload, open_book
from putuo_xl.workbook.master import build_master

from test_excel_flow import MONTH, open_master, settings_rows, sheet_values

RISKY = ["=1+2", "+86 580 1234", "-5 天", "@SUM(A1)", "'引號", "=HYPERLINK(\"http://x\",\"點我\")"]


def test_plain_writes_keep_text_as_text():
    book = open_book(book_payload({"Sheet1": [["x"]]}))
    try:
        io = BookIO(book)
        io.write("Sheet1", [RISKY, ["正常", 1.5, None, 3, "a=b", "—"]])
        io.write_at("Sheet1", "A5", [["=A1"]])
        vals = [a["values"] for a in acts(book, "setValues")]
        assert vals[0][0] == ["'" + s for s in RISKY]
        assert vals[0][1] == ["正常", 1.5, "", 3, "a=b", "—"]   # the remote engine sends None as ""
        assert vals[1] == [["'=A1"]]
    finally:
        book.close()


def test_formula_writes_are_formulas_and_text_in_them_is_protected():
    book = open_book(book_payload({"Sheet1": [["x"]]}))
    try:
        # formulas=True: "=…" strings are formulas (mirror_workbook marks its text cells itself)
        BookIO(book).write("Sheet1", [["=SUM(1,2)", as_text("=不是公式"), "文字"]], formulas=True)
        f = acts(book, "setFormula")[0]["values"]
        assert f == [["=SUM(1,2)", "'=不是公式", "文字"]]
    finally:
        book.close()


def test_as_text():
    assert [as_text(s) for s in RISKY] == ["'" + s for s in RISKY]
    assert as_text("正常") == "正常" and as_text(5) == 5 and as_text(None) is None and as_text("") == ""


def test_receipts_sources_and_file_names_are_not_formulas(tmp_path):
    """收件情況 carries e-mail From headers and attachment/file names as they came."""
    master = build_master(None, output=tmp_path / "任務分解台賬.xlsx").path
    returns = tmp_path / "回報" / MONTH
    returns.mkdir(parents=True)
    (returns / "=1+2.xlsx").write_bytes(b"not a workbook")
    (returns / "-區司法局.xlsx").write_bytes(b"not a workbook either")
    msg = EmailMessage()
    msg["From"] = '"=2+5" <evil@example.cn>'
    msg["Date"] = format_datetime(datetime(2020, 9, 3, 9, 0, tzinfo=timezone(timedelta(hours=8))))
    msg["Subject"] = "月報"
    msg.set_content("見附件")
    msg.add_attachment(b"junk", maintype="application", subtype="octet-stream", filename="@SUM(1).xlsx")
    # the From header as some mail clients write it: the display name unquoted
    (returns / "來信.eml").write_bytes(bytes(msg).replace(b'"=2+5"', b"=2+5"))
    book = open_master(master, settings=settings_rows())
    try:
        actions.run_action("collect_returns", book)
        rows = sheet_values(book, "收件情況")
    finally:
        book.close()
    cells = [v for r in rows for v in r if isinstance(v, str)]
    assert not [v for v in cells if v and v[0] in "=+-@"], cells
    assert "'=1+2.xlsx" in cells and "'-區司法局.xlsx" in cells and "'@SUM(1).xlsx" in cells
    assert any(v.startswith("'=2+5") for v in cells), cells
