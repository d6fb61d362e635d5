"""Our own Chinese wording uses Chinese (full-width) punctuation; formulas, codes, numbers,
paths, file names and what is quoted in 「」 keep theirs."""
import re

import pytest

from putuo_xl.errors import InputError
from putuo_xl.text import cjk_punct, in_script

W = {",": "\uff0c", ";": "\uff1b", ":": "\uff1a", "(": "\uff08", ")": "\uff09", "?": "\uff1f"}


def wide(s: str) -> str:
    return s.translate(str.maketrans(W))


@pytest.mark.parametrize("text, expected", [
    ("應報 44 個單位,按時 39、逾期 3", wide("應報 44 個單位,按時 39、逾期 3")),
    ("東港街道(87.8分)、區民政局", wide("東港街道(87.8分)、區民政局")),
    ("按時報送率88.6%,全年51項", wide("按時報送率88.6%,全年51項")),
    ("任務 1.5.1:單位列表", wide("任務 1.5.1:單位列表")),
    ("確認發送這 3 封郵件?", wide("確認發送這 3 封郵件?")),
])
def test_chinese_text_gets_chinese_punctuation(text, expected):
    assert cjk_punct(text) == expected
    assert in_script(text, "traditional") == expected
    assert in_script(text, "simplified") == cjk_punct(in_script(text, "simplified"))


@pytest.mark.parametrize("text", [
    '=IF(A1="","請選擇(下拉)",1)',                 # a formula
    '&C&"SimHei,Bold"',                            # a header code
    "共1,000項",                                   # a number
    "時間 10:30 開始",                             # a time
    "range A1:B2",                                 # Latin text
    "",
])
def test_formulas_numbers_codes_untouched(text):
    assert cjk_punct(text) == text


def test_paths_file_names_and_quotes_kept():
    assert cjk_punct("已寫入 月報(8月).xlsx,請查看") == "已寫入 月報(8月).xlsx" + W[","] + "請查看"
    assert cjk_punct("回報在 /tmp/回收(示例)/ 中") == "回報在 /tmp/回收(示例)/ 中"
    assert cjk_punct("文件「a(1).xlsx」:不是") == "文件「a(1).xlsx」" + W[":"] + "不是"
    assert cjk_punct("D:\\月報(8月)\\x 裡") == "D:\\月報(8月)\\x 裡"
    # a parenthesis pair is widened together or not at all
    s = cjk_punct("格式:純文本 .txt(UTF-8 或 GBK 編碼)、網頁")
    assert s.count("(") == s.count(")") and s.count(W["("]) == s.count(W[")"])


def test_error_messages_are_chinese_punctuated():
    msg = str(InputError("這是圖片(PNG),不是工作簿。", file="x(1).png", sheet="月報", cell="B2"))
    assert msg == "文件「x(1).png」 工作表「月報」 單元格 B2" + W[":"] + wide("這是圖片(PNG),不是工作簿。")


def test_no_ascii_punctuation_after_chinese_in_a_built_master(tmp_path):
    from python_calamine import CalamineWorkbook

    from putuo_xl.workbook.master import build_master
    out = tmp_path / "台賬.xlsx"
    build_master(output=out)
    wb = CalamineWorkbook.from_path(str(out))
    rows = wb.get_sheet_by_name("說明").to_python()
    ours = [v for row in rows for v in row if isinstance(v, str) and "台賬" in v and len(v) > 20]
    assert ours and any(W[","] in v for v in ours)
    bad = re.compile(r"[\u4e00-\u9fff][,;:?]")
    assert not [v for v in ours if bad.search(re.sub("「[^」]*」", "", v))]
