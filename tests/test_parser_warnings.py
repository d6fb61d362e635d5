"""Our own warnings: IDs, file names and wording as we write them; only the notice's own
fragments keep the notice's punctuation widths; roles stated as really assigned; cut-off
closing paragraphs warned."""
import re

import pytest

from putuo_xl.config import load_config
from putuo_xl.plan.parser import parse_text
from putuo_xl.text import narrow

CFG = load_config()
# ASCII → full width for the punctuation a notice writes full width
FULL = str.maketrans({"(": "\uff08", ")": "\uff09", ":": "\uff1a", ";": "\uff1b", ",": "\uff0c"})
# IDs, numbers, file names and Latin words as we write them (our Chinese punctuation is full width)
FULLWIDTH = re.compile("[\uff0e\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]")


def full(text: str) -> str:
    """Full-width punctuation, and item numbers written 1．"""
    text = text.translate(FULL)
    return re.sub(r"(?m)^(\d+)\.", lambda m: m.group(1) + "\uff0e", text)


NUMBERED = """2021年普陀区法治政府建设工作要点
一、推进政府职能转变
1.深化“证照分离”改革。(责任单位:区市场监管分局)
2.全面推行证明事项告知承诺制。
3.开展行政执法案卷评查。(责任单位:区司法局、区信息中心)
4.组织旁听庭审活动。(责任单位:区司法局)
完成时限:根据省市部署确定,分阶段推进
"""


def outside_quotes(w: str) -> str:
    return re.sub("\u300c[^\u300c\u300d]*\u300d", "", w)


def test_warning_ids_and_file_names_as_we_write_them():
    src = full(NUMBERED)
    assert "1\uff0e深化" in src and "\uff08责任单位\uff1a" in src
    plan = parse_text(src, CFG)
    assert plan.tasks()[0].number == "1\uff0e"            # the notice's own numbering kept
    warned = plan.warnings
    assert any(narrow(w).startswith("任务 1.0.2:") for w in warned), warned
    unknown = next(w for w in warned if "区信息中心" in w)
    assert "config.yaml" in unknown
    # our wording: no full-width digit, letter or full stop outside the quoted fragments
    for w in warned + [w for t in plan.tasks() for w in t.warnings]:
        assert not FULLWIDTH.search(outside_quotes(w)), w
    # a quoted fragment of the notice keeps the notice's widths
    t4 = plan.task_index()["1.0.4"]
    assert any("\u300c根据省市部署确定\uff0c分阶段推进\u300d" in w for w in t4.warnings), t4.warnings


def test_half_width_notice_warnings_unchanged():
    plan = parse_text(NUMBERED, CFG)
    assert any(narrow(w).startswith("任务 1.0.2:") for w in plan.warnings)
    assert any("\u300c根据省市部署确定,分阶段推进\u300d" in w for w in plan.task_index()["1.0.4"].warnings)


# -- a bare unit list: the warning states the roles really assigned ----------------------------

BARE = """2021年普陀区法治政府建设工作要点
一、推进政府职能转变
(一)完善制度。出台重大行政决策程序实施办法(区司法局、区财政局、区审计局)。
(二)加强监督。开展行政执法案卷评查(区级有关单位、各镇<街道>)。
"""


def test_bare_unit_list_warning_states_lead_and_co():
    plan = parse_text(BARE, CFG)
    t = plan.task_index()["1.1.1"]
    assert [(u.canonical, u.role) for u in t.units] == [
        ("區司法局", "lead"), ("區財政局", "co"), ("區審計局", "co")]
    (w,) = [w for w in t.warnings if "责任单位:" in w]
    assert "\u300c区司法局\u300d牵头" in w and "\u300c区财政局、区审计局\u300d配合" in w, w
    assert "已按责任单位处理。" not in w
    # a list led by a group: nobody leads, all are 责任单位, and the warning says that
    t2 = plan.task_index()["1.2.1"]
    assert {u.role for u in t2.units} == {"responsible"}
    (w2,) = [w for w in t2.warnings if "责任单位:" in w]
    assert "牵头" not in w2 and "配合" not in w2 and "责任单位" in w2.split("字样")[1]


def test_bare_unit_list_without_first_listed_is_lead():
    from putuo_xl.config import config_from_dict
    raw = dict(CFG.raw)
    raw["parser"] = {**(CFG.raw.get("parser") or {}), "first_listed_is_lead": False}
    cfg = config_from_dict(raw)
    t = parse_text(BARE, cfg).task_index()["1.1.1"]
    assert {u.role for u in t.units} == {"responsible"}
    (w,) = [w for w in t.warnings if "责任单位:" in w]
    assert "牵头" not in w and "配合" not in w


# -- a notice cut off in its closing part ----------------------------------------------------------

CLOSING = """2021年普陀区法治政府建设工作要点
一、推进政府职能转变
(一)深化改革。推进“一件事”集成改革(责任单位:区审招办)。
(二)加强监督。开展行政执法案卷评查(责任单位:区司法局)。
各地各部门要高度重视,切实承担起各项工作任务,原则上应在2021年年底完成。
"""


@pytest.mark.parametrize("cut", ["各地各部门要高度重", "各地各部门要高度重视,切实承担起各项工作任务,原则上应在2021年年底"])
def test_cut_off_closing_paragraph_is_warned(cut):
    text = CLOSING.replace(CLOSING.splitlines()[-1], cut)
    plan = parse_text(text, CFG)
    assert not any(t.truncated for t in plan.tasks())
    assert any("结尾段落" in w and "截断" in w for w in plan.warnings), plan.warnings
    assert any("结尾段落" in w for w in parse_text(text.translate(FULL), CFG).warnings)


def test_cut_off_closing_section_is_warned():
    text = CLOSING.replace(CLOSING.splitlines()[-1], "二、工作要求\n(一)加强组织领导。各部门要")
    plan = parse_text(text, CFG)
    assert any("结尾段落" in w and "截断" in w for w in plan.warnings), plan.warnings


@pytest.mark.parametrize("ending", [
    "",
    "\n附件:1.任务分解表\n2.考核评分细则",
    "\n联系人:区司法局 王某,联系电话:2012345",
    "\n普陀区依法治区办\n2021年3月1日",
    "\n舟山市普陀区人民政府办公室 2021年3月1日\n(此件公开发布)\n抄送:区委办,区人大办",
])
def test_complete_closing_is_not_warned(ending):
    plan = parse_text(CLOSING + ending, CFG)
    assert not any("截断" in w for w in plan.warnings), plan.warnings


def test_short_cut_after_the_last_unit_list_is_warned():
    text = CLOSING.rsplit("\n", 2)[0] + "推进基层政务公开"
    plan = parse_text(text, CFG)
    last = plan.tasks()[-1]
    assert last.text == "推进基层政务公开" and last.truncated
    assert any(narrow(w).startswith("任务 1.2.2:") and "截断" in w for w in plan.warnings)


def test_unknown_issuer_line_before_the_signature_date_is_not_a_task():
    text = CLOSING.rsplit("\n", 2)[0] + "\n普陀区依法治区办\n2021年3月1日\n"
    plan = parse_text(text, CFG)
    assert [t.id for t in plan.tasks()] == ["1.1.1", "1.2.1"]
    assert plan.issuer == "普陀区依法治区办" and plan.date == "2021-03-01"
    assert not any("截断" in w for w in plan.warnings)
