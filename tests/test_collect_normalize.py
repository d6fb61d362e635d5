"""What officials type, made comparable (putuo_xl.collect.normalize) and what a file is (sniff)."""
import io
import zipfile

import pytest

from putuo_xl.collect.judge import clean_task_id, month_in_name, sniff, split_ids
from putuo_xl.config import load_config
from putuo_xl.collect.normalize import (StatusTable, ValueProblem, clean_number, clean_percent,
                                        clean_text)


@pytest.fixture(scope="module")
def statuses():
    return StatusTable(load_config())


@pytest.mark.parametrize("typed,expected", [
    ("推進中", "推進中"), ("推进中", "推進中"), ("進行中", "推進中"), ("正在推進", "推進中"),
    ("  正在推进 ", "推進中"), ("完成", "已完成"), ("已完成。", "已完成"), ("全部完成", "已完成"),
    ("未开始", "未啟動"), ("滞后", "滯後"), ("逾期", "滯後"), ("已完成\n", "已完成"),
])
def test_status_synonyms_in_either_script(statuses, typed, expected):
    assert statuses.clean(typed).value == expected


def test_status_blank_and_unknown(statuses):
    assert statuses.clean("").value is None
    assert statuses.clean("  ").value is None
    assert statuses.clean("無").value is None
    with pytest.raises(ValueProblem) as e:
        statuses.clean("差不多了")
    assert e.value.code == "bad-status"
    assert "推進中" in e.value.params["allowed"]


@pytest.mark.parametrize("typed,expected", [
    (80, 0.8), (0.8, 0.8), ("80", 0.8), ("0.8", 0.8), ("80%", 0.8), ("８０％", 0.8),
    (" 80 % ", 0.8), (1, 1.0), (100, 1.0), ("100%", 1.0), (0, 0.0), ("0%", 0.0), (12.5, 0.125),
    ("12.5%", 0.125),
])
def test_percent_five_ways(typed, expected):
    assert clean_percent(typed).value == pytest.approx(expected)


@pytest.mark.parametrize("typed,code", [
    ("八成", "bad-percent"), ("80%以上", "bad-percent"), (150, "out-of-range"), ("120%", "out-of-range"),
    (-5, "out-of-range"), ("-10%", "out-of-range"), (True, "bad-percent"),
])
def test_percent_rejects(typed, code):
    with pytest.raises(ValueProblem) as e:
        clean_percent(typed)
    assert e.value.code == code


@pytest.mark.parametrize("typed,unit,expected", [
    (95, "%", 95), (0.95, "%", 95), ("95%", "%", 95), ("９５％", "%", 95), ("0.95", "%", 95),
    ("１２", "件", 12), ("12件", "件", 12), ("1,234", "件", 1234), ("１，２３４", "件", 1234),
    (45, "天", 45), ("45 天", "天", 45), (" 7 ", "", 7), ("95%", "", 95),
])
def test_numbers_with_fullwidth_digits_and_units(typed, unit, expected):
    assert clean_number(typed, unit).value == pytest.approx(expected)


@pytest.mark.parametrize("typed,unit,code", [
    ("很多", "件", "bad-number"), ("12個", "件", "bad-number"), ("1,23", "件", "bad-number"),
    (-3, "件", "out-of-range"), ("130%", "%", "out-of-range"), (130, "%", "out-of-range"),
])
def test_numbers_rejects(typed, unit, code):
    with pytest.raises(ValueProblem) as e:
        clean_number(typed, unit)
    assert e.value.code == code


def test_text_is_trimmed_and_formula_text_stays_text():
    assert clean_text("  開展培訓 3 次\u3000").value == "開展培訓 3 次"
    assert clean_text("=HYPERLINK(\"x\")").value == "=HYPERLINK(\"x\")"
    assert clean_text("").value is None
    assert clean_text(3.0).value == "3"


def test_task_ids():
    assert clean_task_id("１.２.３ ") == "1.2.3"
    assert clean_task_id("1.3.1＃2") == "1.3.1#2"
    assert split_ids("1.1.1,1.1.2, 1.3.1#2") == ["1.1.1", "1.1.2", "1.3.1#2"]


@pytest.mark.parametrize("name,month", [
    ("2020-08_區司法局_法治政府建設月報.xlsx", "2020-08"), ("司法局2020年8月月報.xlsx", "2020-08"),
    ("202008司法局.xlsx", "2020-08"), ("司法局月報(修改).xlsx", None), ("20200905報送.xlsx", None),
])
def test_month_in_file_name(name, month):
    assert month_in_name(name) == month


def _zip(names):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in names:
            z.writestr(n, "x")
    return buf.getvalue()


def test_sniff():
    assert sniff(b"")[0] == "empty"
    assert sniff(b"hello world")[0] == "not-excel"
    assert sniff(b"%PDF-1.4 ...")[1].startswith("PDF")
    assert "網頁" in sniff(b"<html><table></table></html>")[1]
    assert sniff(_zip(["[Content_Types].xml", "xl/workbook.xml"]))[0] == "xlsx"
    assert "Word" in sniff(_zip(["word/document.xml"]))[1]
    data = _zip(["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"])
    assert sniff(data[: len(data) // 2])[0] == "corrupt"


def test_sniff_quick_path_agrees_with_listing_the_zip():
    from putuo_xl.collect.judge import _names_workbook
    book = _zip(["[Content_Types].xml", "xl/workbook.xml"])
    assert _names_workbook(book)
    # a workbook name only inside a member's content, not in the directory: not a workbook
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("word/document.xml", "see xl/workbook.xml")
    doc = buf.getvalue()
    assert not _names_workbook(doc) and "Word" in sniff(doc)[1]
    assert not _names_workbook(book[:-10]) and sniff(book[:-10])[0] == "corrupt"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:        # a ZIP comment after the end record
        z.writestr("xl/workbook.xml", "x")
        z.comment = b"saved by a mail gateway"
    assert _names_workbook(buf.getvalue()) and sniff(buf.getvalue())[0] == "xlsx"


def test_sniff_calls_any_broken_zip_corrupt():
    # a damaged central directory can make zipfile raise NotImplementedError (found by the
    # damaged-bytes test): still a verdict, not an exception
    data = bytearray(_zip(["word/document.xml"]))
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 6] = 234                       # "needs ZIP version 23.4 to extract"
    kind, detail = sniff(bytes(data))
    assert kind == "corrupt" and "23.4" in detail


def test_small_percent_targets_take_numbers_as_written():
    # 差錯率 ≤ 0.5%: a 0.3 typed is 0.3%, not 30%
    assert clean_number(0.3, "%", target=0.5).value == pytest.approx(0.3)
    assert clean_number("0.3", "%", target=0.5).value == pytest.approx(0.3)
    # a rate target of 90%: 0.93 is what Excel stores for "93%"
    assert clean_number(0.93, "%", target=90).value == pytest.approx(93)
    assert clean_number(1, "%", target=100).value == pytest.approx(100)
    assert clean_number("1", "%", target=100).value == pytest.approx(1)


# -- nothing a cell can hold breaks the reader -------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

cells = st.one_of(st.text(max_size=30), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                  st.booleans(), st.dates(), st.datetimes())


@settings(max_examples=300, deadline=None)
@given(cells)
def test_normalisers_never_fail_unexpectedly(raw):
    table = StatusTable(load_config())
    for fn in (clean_percent, lambda v: clean_number(v, "%", 90), lambda v: clean_number(v, "件"),
               table.clean, clean_text):
        try:
            out = fn(raw).value
        except ValueProblem as e:
            assert e.code in {"bad-percent", "bad-number", "out-of-range", "bad-status"}
            continue
        if fn is clean_percent and out is not None:
            assert 0.0 <= out <= 1.0
    assert isinstance(clean_task_id(raw), str)
