"""The genre, not the seed: small notices in the shapes district offices write them, each read in
both scripts and both punctuation widths, checked against what a careful reader concludes.

The notices under tests/notices/ are written in simplified characters with full-width
punctuation (the common case); `variant()` derives the traditional and the half-width copies.
Expected values are written in simplified and compared in a normal form; separate checks make
sure that what users see keeps the variant's own script and punctuation.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from putuo_xl.config import load_config
from putuo_xl.plan.parser import parse_text
from putuo_xl.plan.targets import parse_deadline
from putuo_xl.text import detect_script, halfwidth, to_simplified, to_traditional
from putuo_xl.text import narrow

NOTICES = Path(__file__).resolve().parent / "notices"
CFG = load_config()
VARIANTS = [("simplified", "full"), ("simplified", "half"), ("traditional", "full"), ("traditional", "half")]
_HALF = str.maketrans({"\uff08": "(", "\uff09": ")", "\uff1a": ":", "\uff1b": ";", "\uff0c": ","})


def variant(text: str, script: str, width: str) -> str:
    if script == "traditional":
        text = to_traditional(text)
    if width == "half":
        text = text.translate(_HALF)
    return text


def N(s):
    """Compare in one form: simplified, half-width."""
    return None if s is None else halfwidth(to_simplified(s))


def load(name, script="simplified", width="full"):
    text = variant((NOTICES / name).read_text(encoding="utf-8"), script, width)
    return parse_text(text, CFG), text


def units(task):
    return [(N(u.name), u.canonical, u.role, u.group) for u in task.units]


def check_wording_kept(plan, source, script, width):
    """Task texts and unit names are the notice's own words: in its script and punctuation."""
    flat = source.replace("\n", "")
    for t in plan.tasks():
        assert t.text.rstrip("。") in flat or t.text.rstrip("。").split("。")[0] in flat, t.text
        for u in t.units:
            assert u.name in source, u.name
    if width == "half":
        assert not any(c in t.text for t in plan.tasks() for c in "\uff08\uff09\uff1a\uff1b\uff0c")
    else:
        assert not any(c in t.text for t in plan.tasks() for c in "(),:;")
    assert plan.script == script
    words = "".join(plan.warnings)
    if len(words) > 20:
        assert detect_script(words) == script, plan.warnings


ALL = pytest.mark.parametrize("script, width", VARIANTS)


# -- (a) seed style; (i) default deadline; (j) qualifiers; (k) X等區級有關單位 -----------------

@ALL
def test_a_seed_style(script, width):
    plan, src = load("a_seed_style.txt", script, width)
    check_wording_kept(plan, src, script, width)
    assert N(plan.title) == "2021年舟山市普陀区法治政府建设工作要点"
    assert N(plan.issuer) == "舟山市普陀区人民政府办公室"
    assert N(plan.doc_number) == "舟普政办〔2021〕12号"
    assert plan.date == "2021-03-26" and plan.year == 2021
    assert plan.default_deadline == "2021-11-30"
    assert "原则上应在2021年11月底前完成" in N(plan.default_deadline_text)
    assert [N(s.title) for s in plan.sections] == ["深入推进政府职能转变", "健全依法决策机制", "严格规范公正文明执法"]
    assert [t.id for t in plan.tasks()] == ["1.1.1", "1.1.2", "1.2.1", "1.2.2", "2.1.1", "2.1.2",
                                             "3.1.1", "3.1.2", "3.2.1"]
    idx = plan.task_index()
    t = idx["1.1.1"]
    assert N(t.text) == "全面推行证明事项告知承诺制,实现政务服务事项“一网通办”率达到85%以上。"
    assert units(t) == [("区审招办", "區審招辦", "lead", False), ("区级有关单位", "區級有關單位", "co", True),
                        ("各镇<街道>", "各鎮(街道)", "co", True)]
    assert [(i.value, i.unit, i.op) for i in t.indicators] == [(85, "%", ">=")]
    assert t.deadline == "2021-11-30" and t.deadline_text is None
    # a group first: nobody is made lead
    t = idx["1.1.2"]
    assert "村(社区)" in N(t.text) and "镇(街道)" in N(t.text)
    assert units(t) == [("各镇<街道>", "各鎮(街道)", "responsible", True), ("管委会", "管委會", "responsible", True)]
    assert (t.deadline, N(t.deadline_text)) == ("2021-06-30", "6月底前")
    t = idx["1.2.1"]
    assert [(i.value, i.unit, i.op) for i in t.indicators] == [(40, "天", "<=")]
    # a bare unit list (no 责任单位:) is read, and flagged
    t = idx["1.2.2"]
    assert [u.canonical for u in t.units] == ["區市場監管分局", "區司法局"]
    assert any("责任单位" in N(w) for w in t.warnings)
    assert (idx["2.1.1"].deadline, N(idx["2.1.1"].deadline_text)) == ("2021-12-31", "年底前完成")
    assert [(i.value, i.unit) for i in idx["2.1.2"].indicators] == [(100, "%")]
    assert (idx["3.1.1"].deadline, N(idx["3.1.1"].deadline_text)) == ("2021-09-30", "9月30日前")
    # (k) 区市场监管分局等区级有关单位 → the unit and the group
    assert units(idx["3.1.2"]) == [("区综合行政执法局", "區綜合行政執法局", "lead", False),
                                   ("区市场监管分局", "區市場監管分局", "co", False),
                                   ("区级有关单位", "區級有關單位", "co", True)]
    # (j) 各单位按职责分工负责: the qualifier is not part of a unit name, and those units are
    # responsible for their share (not merely co-operating)
    t = idx["3.2.1"]
    assert units(t) == [("区司法局", "區司法局", "lead", False), ("各单位", "區級有關單位", "responsible", True)]
    assert "按职责" not in N(t.text) and "责任单位" not in N(t.text)
    # only the bare list is warned about; every unit resolved
    assert len(plan.warnings) == 1 and all(u.canonical for t in plan.tasks() for u in t.units)


# -- (b) 責任單位 on its own line -------------------------------------------------------------

@ALL
def test_b_unit_lines(script, width):
    plan, src = load("b_unit_lines.txt", script, width)
    check_wording_kept(plan, src, script, width)
    assert plan.default_deadline == "2022-12-31"
    tasks = plan.tasks()
    assert [t.id for t in tasks] == ["1.1.1", "1.2.1", "2.1.1", "2.2.1"]
    t = tasks[0]
    assert N(t.text) == "把习近平法治思想作为党委(党组)理论学习中心组学习的重点内容,纳入各级干部教育培训必修课。"
    assert units(t) == [("区委组织部", "區委組織部", "lead", False), ("区司法局", "區司法局", "co", False)]
    # 牵头单位 and 配合单位 on two lines: one task, both roles
    t = tasks[1]
    assert N(t.text) == "各镇(街道)、各部门主要负责人年底前完成年度述法工作。"
    assert units(t) == [("区司法局", "區司法局", "lead", False), ("区级有关单位", "區級有關單位", "co", True),
                        ("各镇(街道)", "各鎮(街道)", "co", True)]
    assert t.deadline == "2022-12-31"
    t = tasks[2]
    assert units(t) == [("区级有关单位", "區級有關單位", "responsible", True)]
    assert (t.deadline, N(t.deadline_text)) == ("2022-06-30", "上半年完成")
    # 【责任单位】 and a 完成时限 line; neither ends up in the task text
    t = tasks[3]
    assert N(t.text) == "组织行政执法人员全员培训,人均学时不少于40学时。"
    assert [u.canonical for u in t.units] == ["區司法局", "區公務員局"]
    assert (t.deadline, N(t.deadline_text)) == ("2022-09-30", "2022年9月底前")
    assert [(i.value, N(i.unit), i.op) for i in t.indicators] == [(40, "学时", ">=")]
    # the closing sentence is not part of the last task
    assert "原则上" not in N(t.text)
    assert plan.warnings == []


# -- (c) numbered tasks -------------------------------------------------------------------

@ALL
def test_c_numbered_items(script, width):
    plan, src = load("c_numbered.txt", script, width)
    check_wording_kept(plan, src, script, width)
    tasks = plan.tasks()
    assert [(t.id, to_simplified(t.number).translate(_HALF)) for t in tasks] == [
        ("1.1.1", "1."), ("1.1.2", "2."), ("1.1.3", "3."), ("1.2.1", "1、"), ("1.2.2", "2、"),
        ("2.1.1", "(1)"), ("2.1.2", "(2)"), ("2.2.1", "①"), ("2.2.2", "②")]
    idx = plan.task_index()
    assert N(idx["1.1.1"].text) == "推进“一件事”集成改革,新增“一件事”联办事项20件以上。"
    assert [(i.value, i.unit, i.op) for i in idx["1.1.1"].indicators] == [(20, "件", ">=")]
    # "2.0" inside the text is not a new item
    assert "2.0" in idx["1.1.2"].text and [i.value for i in idx["1.1.2"].indicators] == [80]
    assert (idx["1.2.1"].deadline, N(idx["1.2.1"].deadline_text)) == ("2021-09-30", "第三季度完成")
    assert (idx["2.1.2"].deadline, N(idx["2.1.2"].deadline_text)) == ("2021-06-30", "上半年完成")
    assert N(idx["2.2.1"].text) == "深化基层政务公开标准化规范化建设。"
    assert [u.canonical for u in idx["2.2.2"].units] == ["區政府辦", "區級有關單位"]
    # 区工商联 is not in the 普陀 directory: kept as written, unresolved, warned
    assert units(idx["1.2.2"]) == [("区司法局", "區司法局", "lead", False), ("区工商联", None, "co", False)]
    assert any("区工商联" in N(w) for w in plan.warnings)
    # no default deadline in this notice: said so, and tasks without their own have none
    assert plan.default_deadline is None and idx["1.1.1"].deadline is None
    assert any("总体完成时限" in N(w) for w in plan.warnings)


def test_c_nested_numbering_stays_in_the_item():
    text = """2021年工作要点
一、完善制度
(一)加强规范性文件管理
1.严格落实合法性审核机制:
(1)审核率达到100%;
(2)备案率达到100%。(责任单位:区司法局)
2.开展规范性文件清理。(责任单位:区司法局、区级有关单位)
"""
    plan = parse_text(text, CFG)
    tasks = plan.tasks()
    assert [t.number for t in tasks] == ["1.", "2."]
    assert tasks[0].text == "严格落实合法性审核机制:(1)审核率达到100%;(2)备案率达到100%。"
    assert [i.value for i in tasks[0].indicators] == [100, 100]


# -- (d) roles -------------------------------------------------------------------------------

@ALL
def test_d_roles(script, width):
    plan, src = load("d_roles.txt", script, width)
    check_wording_kept(plan, src, script, width)
    idx = plan.task_index()
    assert units(idx["1.1.1"]) == [("区司法局", "區司法局", "lead", False),
                                   ("区级有关单位", "區級有關單位", "co", True),
                                   ("各镇<街道>", "各鎮(街道)", "co", True)]
    # 牵头单位 + 责任单位: the rest are responsible, not merely co-operating
    assert units(idx["1.1.2"]) == [("区司法局", "區司法局", "lead", False),
                                   ("区级有关单位", "區級有關單位", "responsible", True),
                                   ("各镇<街道>", "各鎮(街道)", "responsible", True)]
    # 责任单位/配合单位: the first is responsible (and leads, by the config switch), the rest co-operate
    assert units(idx["1.1.3"]) == [("区信访局", "區信訪局", "lead", False), ("区司法局", "區司法局", "co", False)]
    # (区司法局牵头,区级有关单位按职责分工负责)
    assert units(idx["1.1.4"]) == [("区司法局", "區司法局", "lead", False),
                                   ("区级有关单位", "區級有關單位", "responsible", True)]
    assert N(idx["1.1.4"].text) == "支持法院依法受理行政案件。"
    # 协办单位 co-operate; two 牵头单位 both lead
    assert units(idx["1.2.1"]) == [("区审计局", "區審計局", "lead", False), ("区财政局", "區財政局", "co", False)]
    assert units(idx["1.2.2"]) == [("区审计局", "區審計局", "lead", False), ("区财政局", "區財政局", "lead", False),
                                   ("区级有关单位", "區級有關單位", "co", True)]
    assert idx["1.1.1"].indicators == []        # 保持在合理区间 is not a number


def test_roles_all_responsible_when_the_switch_is_off(tmp_path):
    from putuo_xl.config import config_from_dict
    raw = dict(CFG.raw)
    raw["parser"] = {**CFG.raw["parser"], "first_listed_is_lead": False}
    cfg = config_from_dict(raw)
    plan = parse_text((NOTICES / "a_seed_style.txt").read_text(encoding="utf-8"), cfg)
    assert {u.role for u in plan.task_index()["1.1.1"].units} == {"responsible"}
    # explicit labels do not depend on the switch
    plan = parse_text((NOTICES / "d_roles.txt").read_text(encoding="utf-8"), cfg)
    assert [u.role for u in plan.task_index()["1.1.1"].units] == ["lead", "co", "co"]


# -- (e) a subsection without units; (f) a section without subsections ----------------------

@ALL
def test_ef_structure(script, width):
    plan, src = load("ef_structure.txt", script, width)
    check_wording_kept(plan, src, script, width)
    # 一、总体要求 is the preamble, 四、工作要求 the closing part: neither holds tasks
    assert [s.number for s in plan.sections] == ["二", "三"]
    assert [s.id for s in plan.sections] == ["2", "3"]        # IDs follow the notice's numbers
    assert "坚持以习近平法治思想为指导" in N(plan.preamble)
    assert plan.default_deadline == "2021-12-31"               # found in 四、工作要求
    assert any("工作要求" in N(w) for w in plan.warnings)
    # (f) 二、 has numbered items and no (一): one unnumbered subsection
    sec = plan.sections[0]
    assert [(ss.id, ss.number, ss.title) for ss in sec.subsections] == [("2.0", None, None)]
    assert [t.id for t in sec.subsections[0].tasks] == ["2.0.1", "2.0.2"]
    assert [u.canonical for u in sec.subsections[0].tasks[1].units] == ["區司法局", "區級有關單位"]
    # the paragraph before (一) is the section's introduction, not a task
    sec = plan.sections[1]
    assert N(sec.intro) == "法治宣传教育是全面依法治区的基础性工作。"
    # (e) (一) has two paragraphs and no units: one task, flagged
    t = plan.task_index()["3.1.1"]
    assert N(t.text) == "深入落实“谁执法谁普法”普法责任制,推动普法责任清单制度化。健全普法责任制考评机制,定期通报履职情况。"
    assert t.units == [] and any("未标明责任单位" in N(w) for w in t.warnings)
    assert any(N(w).startswith("任务 3.1.1") for w in plan.warnings)
    assert [t.id for t in plan.tasks()] == ["2.0.1", "2.0.2", "3.1.1", "3.2.1"]


def test_notice_without_section_headings():
    text = """2021年普陀区依法行政重点任务
(一)推进法律顾问全覆盖(责任单位:区司法局)。
(二)规范行政执法行为,案卷合格率达到95%以上(责任单位:区司法局、区级有关单位)。
"""
    plan = parse_text(text, CFG)
    assert len(plan.sections) == 1 and plan.sections[0].number == ""
    assert [t.id for t in plan.tasks()] == ["1.1.1", "1.2.1"]
    assert [i.value for i in plan.task_index()["1.2.1"].indicators] == [95]


def test_no_structure_at_all_is_a_warning_not_an_error():
    plan = parse_text("这是一段普通的文字,没有任何章节。", CFG)
    assert plan.sections == [] and plan.tasks() == []
    assert any("一、" in w for w in plan.warnings)


# -- (g) another district --------------------------------------------------------------------

@ALL
def test_g_other_district(script, width):
    plan, src = load("g_other_district.txt", script, width)
    check_wording_kept(plan, src, script, width)
    assert N(plan.title) == "2021年定海区法治政府建设工作要点"
    assert N(plan.doc_number) == "定政办发〔2021〕18号"
    assert N(plan.issuer) == "舟山市定海区人民政府办公室"
    assert len(plan.tasks()) == 4
    idx = plan.task_index()
    # short names every district uses resolve in the 普陀 directory too (区城管局 is its 综合行政执法局)
    assert units(idx["2.1.1"]) == [("区城管局", "區綜合行政執法局", "lead", False),
                                   ("区公安分局", "區公安分局", "co", False),
                                   ("区法院", "區法院", "co", False), ("区检察院", "區檢察院", "co", False)]
    # a group this config does not know is still a group
    assert units(idx["1.2.1"])[2] == ("各乡镇<街道>", None, "co", True)
    warned = {N(w) for w in plan.warnings}
    # unknown units are named, with the closest known ones where there are any
    assert "单位「区市监局」不在配置文件的单位目录中,最接近的是:区市场监管分局。请在 config.yaml 中添加它或它的别名。" in warned
    assert any(w.startswith("单位「各乡镇<街道>」") and "各镇(街道)" in w for w in warned)
    assert any(w.startswith("单位「区委依法治区办」") and "没有相近的名称" in w for w in warned)
    # 区行政执法局 is a known alias of 区综合行政执法局
    assert idx["2.2.1"].units[0].canonical == "區綜合行政執法局"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "putuo_xl.cli", *map(str, args)], capture_output=True,
                          text=True, encoding="utf-8")


def test_g_cli_exit_0_with_warnings(tmp_path):
    out = _cli("parse", NOTICES / "g_other_district.txt", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert any("区市监局" in w for w in data["warnings"])
    assert "提示:" in narrow(out.stderr) and "区委依法治区办" in out.stderr
    out = _cli("parse", NOTICES / "g_other_district.txt")
    assert out.returncode == 0 and "区市监局" in out.stdout


# -- (h) truncated -----------------------------------------------------------------------------

@ALL
def test_h_truncated_mid_sentence(script, width):
    plan, src = load("h_truncated_sentence.txt", script, width)
    last = plan.tasks()[-1]
    assert last.truncated and N(last.text) == "推进基层政务公开标准化规范化建设,提升政务公开"
    assert any("截断" in N(w) for w in last.warnings)
    assert not plan.tasks()[0].truncated


@ALL
def test_h_truncated_mid_parenthesis(script, width):
    plan, src = load("h_truncated_paren.txt", script, width)
    last = plan.tasks()[-1]
    assert last.truncated
    assert N(last.text) == "推进基层政务公开标准化规范化建设。"
    # the complete names before the cut are kept, the cut-off one is left out and named
    assert [u.canonical for u in last.units] == ["區政府辦", "區司法局"]
    assert any("各镇<街" in N(w) and "截断" in N(w) for w in last.warnings)
    assert not any("不在配置文件" in w for w in plan.warnings)


def test_h_truncated_closing_paragraph():
    text = (NOTICES / "a_seed_style.txt").read_text(encoding="utf-8")
    cut = text[:text.index("原则上")]
    plan = parse_text(cut, CFG)
    assert not any(t.truncated for t in plan.tasks())
    assert any("结尾段落" in w and "截断" in w for w in plan.warnings)


def test_complete_notice_is_not_truncated():
    for name in ("a_seed_style.txt", "b_unit_lines.txt", "c_numbered.txt", "d_roles.txt", "i_deadlines.txt"):
        plan, _ = load(name)
        assert not any(t.truncated for t in plan.tasks()), name
        assert not any("截断" in w for w in plan.warnings), name


# -- (i) deadlines ---------------------------------------------------------------------------------

@ALL
def test_i_deadlines(script, width):
    plan, src = load("i_deadlines.txt", script, width)
    check_wording_kept(plan, src, script, width)
    assert plan.default_deadline == "2021-11-30"
    got = [(t.number, t.deadline, N(t.deadline_text), t.recurring) for t in plan.tasks()]
    assert got == [
        ("1.", "2021-06-30", "6月底前", False),
        ("2.", "2021-12-31", "年底前完成", False),
        ("3.", "2021-09-30", "9月30日前", False),
        ("4.", "2021-09-30", "第三季度完成", False),
        ("5.", "2021-06-30", "上半年完成", False),
        # a milestone and a deadline: the task is due at the later one
        ("6.", "2021-12-31", "年底前", False),
        # recurring work has no deadline
        ("7.", None, None, True),
        # nothing of its own: the notice's default
        ("8.", "2021-11-30", None, False),
    ]
    # "6.6月底前…": item 6, not the number 6.6
    assert N(plan.tasks()[5].text).startswith("6月底前出台实施方案")


@pytest.mark.parametrize("phrase, year, expected", [
    ("6月底前完成", 2021, "2021-06-30"),
    ("年底前完成", 2021, "2021-12-31"),
    ("9月30日前报送", 2021, "2021-09-30"),
    ("第三季度完成", 2021, "2021-09-30"),
    ("三季度末前", 2021, "2021-09-30"),
    ("上半年完成", 2021, "2021-06-30"),
    ("十一月底前", 2021, "2021-11-30"),
    ("2022年2月底前", 2021, "2022-02-28"),
    ("原则上应在2020年年底完成", None, "2020-12-31"),
    ("原則上應於2021年11月底前完成", None, "2021-11-30"),
    ("2月30日前", 2021, None),
    ("3月15日前后开展宣传", 2021, None),
    ("三年内完成", 2021, None),
    ("年底前完成", None, None),
])
def test_parse_deadline(phrase, year, expected):
    got = parse_deadline(phrase, year)
    assert (got[0] if got else None) == expected


def test_deadline_of_another_year_is_an_aim_not_this_years_deadline():
    assert parse_deadline("到2025年底前基本建成法治政府", 2021, own_only=True) is None
    assert parse_deadline("到2025年底前基本建成法治政府", 2021)[0] == "2025-12-31"
    assert parse_deadline("到年底实现全覆盖", 2021, own_only=True)[0] == "2021-12-31"
    assert parse_deadline("年底", 2021, own_only=True) is None


# -- (j) parentheses that are not unit lists ----------------------------------------------------

@ALL
def test_j_parentheses_and_qualifiers(script, width):
    plan, src = load("j_qualifiers.txt", script, width)
    check_wording_kept(plan, src, script, width)
    idx = plan.task_index()
    t = idx["1.1.1"]
    assert "(2020-2025年)" in N(t.text) and "(以下简称“规划”)" in N(t.text)
    assert units(t) == [("区司法局", "區司法局", "lead", False),
                        ("区级有关单位", "區級有關單位", "responsible", True)]
    t = idx["1.1.2"]
    assert "村(社区)" in N(t.text) and "镇(街道)" in N(t.text) and "(2020-2022年)" in N(t.text)
    assert [u.canonical for u in t.units] == ["區司法局", "各鎮(街道)"]
    assert "(依法行政)" in N(idx["1.1.3"].text)
    assert units(idx["1.1.3"]) == [("区司法局", "區司法局", "lead", False), ("区级有关单位", "區級有關單位", "co", True)]
    # 等单位 is a qualifier; (每年12月) stays in the text and is not a deadline
    t = idx["1.1.4"]
    assert [N(u.name) for u in t.units] == ["区委宣传部", "区司法局"]
    assert "(每年12月)" in N(t.text)
    for t in plan.tasks():
        assert not any(w in N(u.name) for u in t.units for w in ("按职责", "负责", "等单位", "简称"))


# -- more shapes of the genre -----------------------------------------------------------------

def test_unit_line_after_a_list_applies_to_each_item_and_is_flagged():
    text = """2021年工作要点
一、加强普法
(一)深化法治宣传
1.开展宪法宣传周活动。
2.推进法治文化阵地建设。
责任单位:区司法局、区委宣传部
"""
    plan = parse_text(text, CFG)
    t1, t2 = plan.tasks()
    assert [N(u.name) for u in t1.units] == [N(u.name) for u in t2.units] == ["区司法局", "区委宣传部"]
    assert any("沿用" in w for w in t1.warnings) and not any("沿用" in w for w in t2.warnings)


def test_inline_role_annotations_lost_separators_and_unit_line_with_deadline():
    text = """2021年工作要点
一、完善依法决策
(一)健全决策机制
1.制定重大行政决策目录。(责任单位:区政府办(牵头)、区司法局)
2.开展决策后评估。(区司法局负责)
3.清理规范性文件。
责任单位:区司法局 区财政局 完成时限:6月底前
4.加强合同管理。责任单位:区司法局、区级有关单位。
"""
    plan = parse_text(text, CFG)
    t1, t2, t3, t4 = plan.tasks()
    assert [(u.name, u.role) for u in t1.units] == [("区政府办", "lead"), ("区司法局", "co")]
    assert [(u.canonical, u.role) for u in t2.units] == [("區司法局", "lead")]
    assert t2.text == "开展决策后评估。"
    # "区司法局 区财政局" loses its space when the page is cleaned; still two units
    assert [u.canonical for u in t3.units] == ["區司法局", "區財政局"]
    assert (t3.deadline, t3.deadline_text) == ("2021-06-30", "6月底前") or t3.deadline_text == "6月底前"
    assert t4.text == "加强合同管理。" and [u.canonical for u in t4.units] == ["區司法局", "區級有關單位"]
    assert not any("沿用" in w for t in plan.tasks() for w in t.warnings)


def test_units_on_the_subsection_heading_apply_to_its_items():
    text = """2021年工作要点
一、规范执法
(一)深化综合执法改革(牵头单位:区综合行政执法局;配合单位:区委编办)
1.完成执法事项划转。
2.健全执法协调机制。
"""
    plan = parse_text(text, CFG)
    sub = plan.sections[0].subsections[0]
    assert sub.title == "深化综合执法改革"
    assert [[(u.canonical, u.role) for u in t.units] for t in sub.tasks] == [
        [("區綜合行政執法局", "lead"), ("區委編辦", "co")]] * 2
    assert all(not t.warnings for t in sub.tasks)


def test_cited_document_number_is_not_the_notices():
    text = """2021年普陀区法治政府建设工作要点
为贯彻《法治政府建设实施纲要(2021-2025年)》(中发〔2021〕14号),制定本要点。
一、加强组织领导
(一)落实第一责任人职责(责任单位:区司法局)。
"""
    plan = parse_text(text, CFG)
    assert plan.doc_number is None


def test_plan_ids_unique_and_stable_for_every_notice():
    for path in sorted(NOTICES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        a, b = parse_text(text, CFG), parse_text(text, CFG)
        ids = [t.id for t in a.tasks()]
        assert len(ids) == len(set(ids)), path.name
        assert a == b


# -- a county notice: issuer on its own line, unit lines with a qualifier clause ----------------

@ALL
def test_k_county_notice(script, width):
    plan, src = load("k_county_unit_lines.txt", script, width)
    check_wording_kept(plan, src, script, width)
    assert N(plan.title) == "桐川县2020年度法治政府建设工作安排"
    assert N(plan.issuer) == "桐川县人民政府办公室"
    assert N(plan.doc_number) == "桐政办〔2020〕20号" and plan.date == "2020-07-08"
    assert N(plan.notice_title) == "关于印发桐川县2020年度法治政府建设工作安排的通知"
    t = plan.task_index()["1.1.1"]
    # 乡镇人民政府按职责分工分别负责: a group of units, the qualifier dropped
    assert units(t) == [("县政府办公室", None, "lead", False), ("县司法局", None, "co", False),
                        ("各有关部门", "區級有關單位", "co", True), ("乡镇人民政府", None, "responsible", True)]
    assert units(plan.task_index()["2.1.1"])[1:] == [("各乡镇人民政府", None, "co", True),
                                                     ("街道办事处", None, "co", True)]
    warned = [N(w) for w in plan.warnings]
    assert any(w.startswith("单位「县司法局」") and "区司法局" in w for w in warned)
    # a kind of unit is only compared with groups
    assert any(w.startswith("单位「乡镇人民政府」") and "各镇(街道)" in w for w in warned)
    assert not any(w.startswith("单位「县政府办公室」") and "六横镇" in w for w in warned)


# -- 一、 / 1.title / (1) task ------------------------------------------------------------------

@ALL
def test_l_three_levels(script, width):
    plan, src = load("l_three_levels.txt", script, width)
    check_wording_kept(plan, src, script, width)
    sec1, sec2 = plan.sections
    # 1. and 2. are titles here: subsections, and (1) (2) are the tasks
    assert [(ss.id, N(ss.number), N(ss.title)) for ss in sec1.subsections] == [
        ("1.1", "1.", "加强规范性文件管理"), ("1.2", "2.", "推进政务公开")]
    assert [(t.id, N(t.number)) for t in sec1.subsections[0].tasks] == [("1.1.1", "(1)"), ("1.1.2", "(2)")]
    assert plan.task_index()["1.1.2"].deadline == "2021-06-30"
    # in 二、 the 1. 2. lines carry units: they are tasks
    assert [(t.id, N(t.number)) for t in plan.tasks() if t.id.startswith("2.")] == [("2.0.1", "1."), ("2.0.2", "2.")]


# -- the seed itself in every script and width ------------------------------------------------

_FULL = str.maketrans({"(": "\uff08", ")": "\uff09", ":": "\uff1a", ";": "\uff1b", ",": "\uff0c"})


@pytest.mark.parametrize("script, width", VARIANTS)
def test_seed_in_every_script_and_width(script, width):
    from putuo_xl.plan.notice import default_notice_path
    text = default_notice_path().read_text(encoding="utf-8")      # traditional, half-width
    if script == "simplified":
        text = to_simplified(text)
    if width == "full":
        text = text.translate(_FULL)
    plan = parse_text(text, CFG)
    assert plan.script == script
    assert [len(ss.tasks) for s in plan.sections for ss in s.subsections] == \
        [2, 4, 3, 2, 4, 2, 3, 3, 3, 3, 3, 2, 1, 3, 2, 2, 2, 1, 4, 2]
    assert len(plan.unit_names()) == 22 and all(u.canonical for t in plan.tasks() for u in t.units)
    assert [(i.value, N(i.unit), i.op) for _, i in plan.indicators()] == [
        (41, "件", ">="), (80, "天", "<="), (50, "天", "<="), (30, "天", "<="), (20, "个工作日", "<="),
        (90, "%", ">="), (100, "%", ">="), (5, "%", ">="), (90, "%", ">="), (92, "%", ">=")]
    assert plan.default_deadline == "2020-12-31" and N(plan.doc_number) == "舟普政办〔2020〕31号"
    assert len(plan.warnings) == 1 and "1.5.1" in plan.warnings[0]
    t = plan.task_index()["1.1.1"]
    assert N(t.units[2].name) == "各镇<街道>" and t.units[2].canonical == "各鎮(街道)"
    if width == "full":
        assert "\uff08依法行政\uff09" in plan.task_index()["2.2.2"].text


# -- a covering notice with its own 一、二、 and the tasks in the attachment -----------------------

@ALL
def test_m_covering_notice_and_attachment(script, width):
    plan, src = load("m_covering_and_attachment.txt", script, width)
    check_wording_kept(plan, src, script, width)
    assert N(plan.title) == "2022年普陀区法治政府建设工作要点"
    assert N(plan.issuer) == "舟山市普陀区人民政府办公室" and N(plan.doc_number) == "舟普政办〔2022〕5号"
    # the covering notice's 一、二、 are requirements, not task sections
    assert [N(s.title) for s in plan.sections] == ["推进政府职能转变", "规范行政执法"]
    assert [t.id for t in plan.tasks()] == ["1.1.1", "2.1.1"]
    # its deadline sentence is the default
    assert plan.default_deadline == "2022-11-30"
    assert all(t.deadline == "2022-11-30" for t in plan.tasks())
    assert not any("未标明" in N(w) for w in plan.warnings)


def test_m_without_the_attachment_line_the_plan_title_is_the_boundary():
    text = (NOTICES / "m_covering_and_attachment.txt").read_text(encoding="utf-8").replace("\n附件\n", "\n")
    plan = parse_text(text, CFG)
    assert [t.id for t in plan.tasks()] == ["1.1.1", "2.1.1"]
    assert plan.title == "2022年普陀区法治政府建设工作要点"


def test_fullwidth_digits_and_percent():
    text = (NOTICES / "i_deadlines.txt").read_text(encoding="utf-8")
    full = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() or c in "%." else c for c in text)
    plan = parse_text(full, CFG)
    assert [t.deadline for t in plan.tasks()] == [t.deadline for t in parse_text(text, CFG).tasks()]
    assert plan.tasks()[0].number == "１．" and "６月底前" in plan.tasks()[0].text
    assert plan.title == "２０２１年普陀区法治政府建设工作要点" and plan.year == 2021
    plan = parse_text(full.replace("组织旁听庭审活动。", "旁听率达到９０％以上。"), CFG)
    ind = plan.tasks()[-1].indicators[0]
    assert (ind.value, ind.unit, ind.op, ind.text) == (90, "%", ">=", "达到９０％以上")
