"""Notices laid out like real ones of the genre from other districts and years (tests/notices/layouts/;
the layouts they copy are listed in SOURCES.md there; their wording, place names and numbers are our
own): what a careful reader gets from each. Like the archived pages they are modelled on, each is the
beginning of a text and ends in mid-sentence."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from putuo_xl.plan.notice import _clean_lines
from putuo_xl.plan.parser import parse_notice, parse_text

REAL = Path(__file__).resolve().parent / "notices" / "layouts"


def plan_of(name):
    return parse_notice(REAL / name)


def counts(plan):
    return (len(plan.sections), sum(len(s.subsections) for s in plan.sections), len(plan.tasks()))


def units(task):
    return [(u.name, u.canonical, u.role, u.group) for u in task.units]


def unknown_warned(plan, name):
    return any(f"「{name}」不在配置文件" in w for w in plan.warnings)


# -- 桐川縣 2020 (laid out like 西平縣 2020): (一) tasks, 責任單位 on its own line -----------------

def test_xiping_2020():
    plan = plan_of("xiping_2020.txt")
    assert (plan.title, plan.issuer, plan.date, plan.doc_number) == (
        "桐川县2020年度法治政府建设工作安排", "桐川县人民政府办公室", "2020-07-08", "桐政办〔2020〕20号")
    assert plan.addressees.startswith("各乡镇人民政府,各街道办事处")
    assert counts(plan) == (1, 2, 2)
    t1, t2 = plan.tasks()
    assert t1.id == "1.1.1" and plan.sections[0].subsections[0].title == "为优化营商环境提供法治保障"
    assert t1.text.startswith("聚焦市场主体关切") and t1.text.endswith("营造稳定公平可预期的法治环境。")
    # 按職責分工分別負責 is a qualifier, not part of a name; the first listed leads (config switch)
    assert [u.name for u in t1.units] == ["县政府办公室", "县司法局", "各有关部门", "乡镇人民政府"]
    assert t1.units[0].role == "lead" and t1.units[-1].role == "responsible" and t1.units[-1].group
    assert not t1.truncated and not t1.warnings
    # the page breaks off in the second task: no units, truncated, both said
    assert t2.units == [] and t2.truncated
    assert unknown_warned(plan, "县司法局") and unknown_warned(plan, "县政府办公室")


# -- 嵐溪縣 2016 (laid out like 中陽縣 2016): lead-in paragraph, 1. 2. items, 牽頭單位 / 配合單位 lines ---

def test_zhongyang_2016_lead_in_is_not_a_task():
    plan = plan_of("zhongyang_2016.txt")
    assert plan.title == "关于加快推进法治政府建设的实施意见"
    # the CMS byline: 岚溪县政府 www.sxlanxixian.gov.cn 2016-03-21 00:00
    assert (plan.issuer, plan.date) == ("岚溪县政府", "2016-03-21")
    # 一、指導思想和工作目標 is the preamble; 二、 holds two numbered tasks
    assert [s.title for s in plan.sections] == ["依法全面履行政府职能"]
    sec = plan.sections[0]
    assert sec.intro.startswith("全县各乡镇、各部门要坚持在党委统一领导下")
    assert [(t.id, t.number) for t in plan.tasks()] == [("2.0.1", "1."), ("2.0.2", "2.")]
    t1, t2 = plan.tasks()
    assert [(u.name, u.role, u.group) for u in t1.units] == [
        ("县政府办", "lead", False), ("县编办", "lead", False), ("县政府法制办", "lead", False),
        ("县政府各有关部门", "co", True)]
    assert t1.text.endswith("确保权力在阳光下运行。")
    assert t2.truncated and t2.units == []


def test_lead_in_paragraphs_before_numbered_items():
    src = """2021年某区法治政府建设工作要点
一、依法全面履行政府职能
各部门要依法全面履行政府职能,推进机构、职能、权限法定化。
1.深化放管服改革。(责任单位:区政府办)
2.推进权责清单。(责任单位:区司法局)
二、完善制度
(一)加强规范性文件管理。各部门要加强规范性文件管理,严格审核。
1.严格合法性审核。(责任单位:区司法局)
2.开展清理。(责任单位:区司法局)
(二)推进公开
要全面推进政务公开。
1.推进公开。(责任单位:区政府办)
(三)加强监督
加强行政执法监督(责任单位:区司法局)。
1.开展案卷评查。(责任单位:区司法局)
"""
    plan = parse_text(src)
    idx = plan.task_index()
    assert list(idx) == ["1.0.1", "1.0.2", "2.1.1", "2.1.2", "2.2.1", "2.3.1", "2.3.2"]
    assert plan.sections[0].intro == "各部门要依法全面履行政府职能,推进机构、职能、权限法定化。"
    subs = plan.sections[1].subsections
    assert subs[0].intro == "各部门要加强规范性文件管理,严格审核。"
    assert subs[1].intro == "要全面推进政务公开。"
    # a first paragraph with its own units is a task, not a lead-in
    assert subs[2].intro is None and idx["2.3.1"].text.startswith("加强行政执法监督")
    assert all(t.units for t in plan.tasks())


# -- 沙原縣 2023 (laid out like 海原縣 2023): a CMS information table flattened to text ------------

def test_haiyuan_2023():
    plan = plan_of("haiyuan_2023.txt")
    assert (plan.title, plan.issuer, plan.date, plan.doc_number) == (
        "沙原县法治政府建设2023年工作要点", "沙原县人民政府办公室", "2023-03-09", "沙政办发〔2023〕8号")
    assert counts(plan) == (1, 1, 1)
    assert plan.preamble and "总体要求" in plan.preamble
    (t,) = plan.tasks()
    assert t.id == "2.1.1" and plan.sections[0].subsections[0].title == "持续深化简政放权"
    assert t.text.startswith("全面推广行政审批服务“一窗受理")
    assert t.truncated and not t.units


# -- 恩溪區 2015 (laid out like 恩陽區 2015): 依法治區工作要點 with a covering notice and 附件 -----

def test_enyang_2015():
    plan = plan_of("enyang_2015.txt")
    assert plan.title == "巴川市恩溪区依法治区2015年工作要点"
    assert plan.issuer == "巴川市恩溪区依法治区领导小组"
    assert plan.date == "2015-05-07"
    assert counts(plan) == (1, 1, 1)
    assert plan.sections[0].title == "全面加强党对依法治区的领导"
    assert plan.tasks()[0].text.startswith("加强基层党组织建设")
    assert plan.tasks()[0].truncated


# -- XX縣 2022: laid out like a text copied out of a PDF -------------------------------------------

def test_pdf_copied_plan():
    plan = plan_of("xx_county_2022_plan.txt")
    # the page number is not part of the title; spaces between Chinese and digits are gone
    assert plan.title == "XX 县2022年法治政府建设工作计划"
    # 一、… 1.… on one line and 〕 二、… on one line are separate paragraphs
    assert [s.title for s in plan.sections] == ["深入学习贯彻习近平法治思想", "严格落实法治政府建设第一责任人职责"]
    assert [(t.id, t.number) for t in plan.tasks()] == [("1.0.1", "1."), ("2.0.1", "2."), ("2.0.2", "3.")]
    t1, t2, t3 = plan.tasks()
    # 〔牽頭單位:…;責任單位:…〕 is the unit list
    assert [(u.name, u.role) for u in t1.units] == [
        ("县政府办公室", "lead"), ("县司法局", "lead"), ("县教育体育局", "lead"),
        ("县政府各部门", "responsible"), ("各镇人民政府(街道办事处)", "responsible")]
    assert t1.units[-1].canonical == "各鎮(街道)" and t1.units[-1].group
    assert "〔" not in t1.text and "牵头单位" not in t1.text
    assert t1.text.endswith("开展形式多样的主题普法活动。")
    assert [(i.text, i.value, i.unit, i.op) for i in t2.indicators] == [("不少于1次", 1, "次", ">=")]
    # the sentence broken by the page break is one sentence, without the page number
    assert "专题研究法治政府建设重点任务" in t3.text and "- 2 -" not in t3.text
    assert [(i.text, i.value, i.op) for i in t3.indicators] == [("2次以上", 2, ">="), ("至少组织1次", 1, ">=")]
    # the last unit bracket is cut off: truncated, the cut name left out and not warned as unknown
    assert t3.truncated and [u.name for u in t3.units] == ["县政府办公室", "县司法局"]
    assert not unknown_warned(plan, "县政府各部")
    assert unknown_warned(plan, "县教育体育局")


def test_pdf_page_numbers_and_run_on_lines():
    lines = _clean_lines([
        "- 1 - 某县2023年法治政府建设工作要点",
        "一、加强制度建设 1.完善规范性文件审核机制。〔牵头单位:县司法局〕 2.开展清理。",
        "〔责任单位:县司法局〕 二、严格执法",
        "(一)推进综合执法 1.组织培训不少于 3 次,覆盖各",
        "",
        "— 2 —",
        "",
        "乡镇。(责任单位:县综合执法局)",
        "第 3 页 共 5 页",
        "(二)加强监督。",
    ])
    assert lines == [
        "某县2023年法治政府建设工作要点",
        "一、加强制度建设", "1.完善规范性文件审核机制。〔牵头单位:县司法局〕", "2.开展清理。",
        "〔责任单位:县司法局〕", "二、严格执法",
        "(一)推进综合执法", "1.组织培训不少于3次,覆盖各乡镇。(责任单位:县综合执法局)",
        "(二)加强监督。",
    ]
    # numbers inside sentences are not split off
    assert _clean_lines(["按照 2.0 版标准,推进“10+N”建设 3 项。"]) == ["按照2.0版标准,推进“10+N”建设3项。"]


# -- information tables of government sites, flattened to text ------------------------------------

def test_nansha_2020_page_header():
    plan = plan_of("nansha_2020.txt")
    # 名稱: is a label of the information table, not part of the title or the issuer
    assert plan.issuer == "岭州市南汀区人民政府办公室"
    assert plan.notice_title == "岭州市南汀区人民政府办公室关于印发南汀区2020年依法行政工作要点的通知"
    assert (plan.title, plan.date, plan.doc_number) == (
        "岭州市南汀区2020年依法行政工作要点", "2020-05-26", "岭汀府办函〔2020〕4号")
    assert plan.addressees == "各镇(街),区政府各部门、各直属机构,市属驻区各单位"
    # the stored page ends before the first heading: nothing to split, and it says so
    assert plan.tasks() == [] and any("无法分解任务" in w for w in plan.warnings)


def test_jinchang_2025_information_table():
    plan = plan_of("jinchang_2025.txt")
    assert (plan.title, plan.issuer, plan.date, plan.doc_number) == (
        "金禾市创建全国法治政府建设示范市实施方案", "金禾市人民政府", "2025-06-30", "金政发〔2025〕33号")
    assert plan.notice_title == "金禾市人民政府关于印发《金禾市创建全国法治政府建设示范市实施方案》的通知"
    # a salutation that does not begin with 各
    assert plan.addressees == "银岭县、金河区人民政府,市政府各部门、单位,中央、省属在金有关单位"
    assert [s.title for s in plan.sections] == ["主要创建任务"]
    (t,) = plan.tasks()
    # 10項一級指標 / 34項二級指標 count the criteria; they are not targets
    assert t.indicators == [] and t.truncated


def test_ezhou_2016_plan_steps_are_not_tasks():
    plan = plan_of("ezhou_2016_plan.txt")
    assert plan.title == "鄂川市法治政府建设规划(2016—2020年)"
    # 一、總體要求 and 二、實施步驟 (phases with their years) are the preamble, not tasks
    assert [s.title for s in plan.sections] == ["主要任务和具体措施"]
    assert "全面推进阶段(2016-2018年)" in plan.preamble
    (t,) = plan.tasks()
    assert (t.id, t.number) == ("3.1.1", "1.") and t.text.startswith("进一步厘清各部门的职责边界")
    assert plan.sections[0].subsections[0].title == "依法全面履行政府职能"


# -- every notice of a real layout: parses with exit 0, unknown units warned, JSON on stdout -------

@pytest.mark.parametrize("name", sorted(p.name for p in REAL.glob("*.txt")))
def test_cli_parses_real_notices(name):
    out = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "parse", str(REAL / name), "--json"],
                         capture_output=True, text=True, encoding="utf-8")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["script"] in ("simplified", "traditional") and data["title"]
    tasks = [t for s in data["sections"] for ss in s["subsections"] for t in ss["tasks"]]
    assert not tasks or tasks[-1]["truncated"]
    named = [u for t in tasks for u in t["units"]]
    for u in named:
        if u["canonical"] is None:
            assert any(f"「{u['name']}」不在配置文件" in w for w in data["warnings"]), u


# -- deadline phrases of the genre that the seed does not use -----------------------------------

DEADLINES = """2022年某县法治政府建设工作要点
一、完善制度
1.开展规范性文件清理。(牵头单位:县司法局;完成时限:下半年)
2.开展执法案卷评查。(牵头单位:县司法局;完成时限:10月份)
3.组织执法人员培训。(牵头单位:县司法局;完成时限:一季度内)
4.开展专项整治行动,4月至6月集中开展。(牵头单位:县市场监管局)
5.推进政务公开标准化。(牵头单位:县政府办;完成时限:持续推进)
6.完善行政复议制度,10月份完成。(牵头单位:县司法局)
7.下半年开展法治督察。(牵头单位:县委依法治县办)
"""


def test_deadline_phrases():
    plan = parse_text(DEADLINES)
    got = {t.id: (t.deadline, t.deadline_text, t.recurring) for t in plan.tasks()}
    assert got["1.0.1"] == ("2022-12-31", "下半年", False)
    assert got["1.0.2"] == ("2022-10-31", "10月份", False)
    assert got["1.0.3"] == ("2022-03-31", "一季度内", False)
    assert got["1.0.4"] == ("2022-06-30", "4月至6月", False)
    assert got["1.0.5"] == (None, "持续推进", True)
    assert got["1.0.6"] == ("2022-10-31", "10月份完成", False)
    # a bare 下半年 in the text is when the work happens, not a deadline of its own
    assert got["1.0.7"] == (None, None, False)


# -- task tables flattened to text or left in a web page -------------------------------------------
# Published pages keep their 任務分解表 as HTML tables (merged heading rows, a 牽頭單位 cell spanning
# rows); copied to text they become `cell | cell |` rows (as the archive stored the information
# tables above) or tab-separated rows (a spreadsheet pasted into a .txt).

TABLE_ROWS = [
    ["序号", "工作任务", "牵头单位", "配合单位", "完成时限"],
    ["一、加强党对法治政府建设的领导"],
    ["1", "深入学习贯彻习近平法治思想,将其纳入区政府常务会议学法内容。", "区司法局", "区级各部门", "持续推进"],
    ["2", "落实第一责任人职责,年内组织述法不少于2次。", "区委依法治区办", "各街道办事处", "2022年12月底前"],
    ["二、健全依法行政制度体系"],
    ["3", "开展规范性文件清理,合法性审核率达到100%。", "区司法局", "区级有关单位", "6月底前"],
    ["4", "推行行政执法公示制度(含“双随机、一公开”)。", "区市场监管局", "区综合执法局、区生态环境分局", "三季度"],
]
TABLE_HEAD = """某区人民政府办公室关于印发2022年某区法治政府建设工作要点的通知
各街道办事处,区政府各部门:
现将《2022年某区法治政府建设工作要点》印发给你们,请认真贯彻落实。
某区人民政府办公室
2022年3月1日
2022年某区法治政府建设工作任务分解表
"""


def check_table_plan(plan):
    assert [s.title for s in plan.sections] == ["加强党对法治政府建设的领导", "健全依法行政制度体系"]
    got = [(t.id, t.number, [(u.name, u.role) for u in t.units], t.deadline, t.recurring) for t in plan.tasks()]
    assert got == [
        ("1.0.1", "1.", [("区司法局", "lead"), ("区级各部门", "co")], None, True),
        ("1.0.2", "2.", [("区委依法治区办", "lead"), ("各街道办事处", "co")], "2022-12-31", False),
        ("2.0.1", "3.", [("区司法局", "lead"), ("区级有关单位", "co")], "2022-06-30", False),
        ("2.0.2", "4.", [("区市场监管局", "lead"), ("区综合执法局", "co"), ("区生态环境分局", "co")],
         "2022-09-30", False),
    ]
    idx = plan.task_index()
    assert idx["2.0.2"].text == "推行行政执法公示制度(含“双随机、一公开”)。"
    assert [(i.value, i.op) for i in idx["2.0.1"].indicators] == [(100, ">=")]
    assert [(i.value, i.unit) for i in idx["1.0.2"].indicators] == [(2, "次")]


@pytest.mark.parametrize("sep", [" | ", "\t"])
def test_task_table_as_text_rows(sep):
    rows = "\n".join(sep.join(r) + (" |" if sep == " | " else "") for r in TABLE_ROWS)
    plan = parse_text(TABLE_HEAD + rows + "\n")
    check_table_plan(plan)
    # the attachment's 任務分解表 belongs to what the notice issues: the plan is the 工作要點
    assert plan.title == "2022年某区法治政府建设工作要点"


def test_task_table_in_a_web_page():
    plan = parse_notice(REAL.parent / "n_task_table_page.html")
    assert plan.title == "2022年某区法治政府建设工作要点" and plan.issuer == "某区人民政府办公室"
    got = [(t.id, t.text, [(u.name, u.role) for u in t.units], t.deadline, t.recurring) for t in plan.tasks()]
    assert got == [
        # a cell of two paragraphs is one task; 區司法局 spans two rows (rowspan)
        ("1.0.1", "深入学习贯彻习近平法治思想,将其纳入区政府常务会议学法内容。",
         [("区司法局", "lead"), ("区级各部门", "co")], None, True),
        ("1.0.2", "开展法治政府建设督察,年内组织述法不少于2次。",
         [("区司法局", "lead"), ("各街道办事处", "co")], "2022-12-31", False),
        ("2.0.1", "开展规范性文件清理,合法性审核率达到100%。",
         [("区司法局", "lead"), ("区级有关单位", "co")], "2022-06-30", False),
    ]


def test_information_tables_are_not_task_tables():
    # 索引號 | … | 文號 | … rows stay lines (the metadata reads them)
    lines = _clean_lines(["索引号 | 640599001/2023-00173 | 文号 | 沙政办发〔2023〕8号 |", "正文"])
    assert lines == ["索引号 | 640599001/2023-00173 | 文号 | 沙政办发〔2023〕8号 |", "正文"]


# -- county notices: leaders, 責任主體, role verbs and single offices of another district -------------

COUNTY = """2022年某县法治政府建设工作要点
一、依法全面履行政府职能
(一)深化“放管服”改革。推进市场监管、生态环境等领域综合执法。
牵头领导:县委常委、常务副县长 张三
牵头单位:县发改局
责任单位:县直各部门
(二)完善权责清单制度。建立乡镇(街道)权责清单(含村、社区)动态调整机制(2022—2025年)。
责任主体:县委编办、县司法局
完成时限:2022年6月
(三)推行“两法衔接”机制,落实行政执法“三项制度”(试行)。(县司法局牵头,县公安局、县检察院配合)
(四)加强法治乡村建设。培育“法律明白人”每村不少于3名。
责任领导:副县长 李四
主责单位:县司法局
配合单位:各乡镇人民政府
(五)推进“府院联动”。建立行政争议实质性化解机制(县法院)。
(六)加强行政复议。(牵头领导:副县长 王五;牵头单位:县司法局;配合单位:县直各部门)
"""


def test_county_layouts():
    plan = parse_text(COUNTY)
    idx = plan.task_index()
    assert list(idx) == ["1.1.1", "1.2.1", "1.3.1", "1.4.1", "1.5.1", "1.6.1"]
    t = idx["1.1.1"]
    # the leader line is neither a unit nor part of the text
    assert t.text == "推进市场监管、生态环境等领域综合执法。"
    assert t.leader == "县委常委、常务副县长张三"
    assert [(u.name, u.role) for u in t.units] == [("县发改局", "lead"), ("县直各部门", "responsible")]
    # 責任主體: is a unit label; (含村、社區) and (2022—2025年) stay in the text
    t = idx["1.2.1"]
    assert [u.name for u in t.units] == ["县委编办", "县司法局"] and t.deadline == "2022-06-30"
    assert "(含村、社区)" in t.text and "(2022—2025年)" in t.text
    # role verbs name the roles, though the directory knows none of these offices; (試行) stays
    t = idx["1.3.1"]
    assert [(u.name, u.role) for u in t.units] == [("县司法局", "lead"), ("县公安局", "co"), ("县检察院", "co")]
    assert t.text.endswith("“三项制度”(试行)。")
    t = idx["1.4.1"]
    assert t.leader == "副县长李四" and "李四" not in t.text
    assert [(u.name, u.role) for u in t.units] == [("县司法局", "lead"), ("各乡镇人民政府", "co")]
    # one office alone in a parenthesis at the end of a task is its unit (flagged: no label)
    t = idx["1.5.1"]
    assert [u.name for u in t.units] == ["县法院"] and t.warnings and "县法院" not in t.text
    # a leader inside the unit parenthesis
    t = idx["1.6.1"]
    assert t.leader == "副县长王五"
    assert [(u.name, u.role) for u in t.units] == [("县司法局", "lead"), ("县直各部门", "co")]
    assert not any("张三" in w or "王五" in w for w in plan.warnings)


def test_parentheses_that_are_not_units_stay():
    src = """2022年某县法治政府建设工作要点
一、完善制度
(一)开展试点。开展综合执法试点(试点单位)。(责任单位:县司法局)
(二)建立机制。建立联席会议制度(含县直各部门)。(责任单位:县司法局)
(三)推进治理。推进基层治理(街道)。(责任单位:县民政局)
"""
    plan = parse_text(src)
    assert [t.text for t in plan.tasks()] == ["开展综合执法试点(试点单位)。", "建立联席会议制度(含县直各部门)。",
                                              "推进基层治理(街道)。"]
    assert [[u.name for u in t.units] for t in plan.tasks()] == [["县司法局"], ["县司法局"], ["县民政局"]]


def test_pinyin_notes_goal_paragraph_and_a_cut_parenthesis():
    plan = plan_of("guangdong_plan_pinyin.txt")
    assert plan.script == "traditional"
    sec = plan.sections[0]
    # 執(zhí)法: the pinyin a converting site added is not text, and not a parenthesis to judge
    assert sec.title == "完善行政執法體制機制"
    assert not any("(zh" in t.text or "(ch" in t.text for t in plan.tasks())
    assert "縣(市、區)政府" in plan.tasks()[0].text
    # 目標:… / 措施: introduce the numbered measures; they are not a task
    assert sec.intro.startswith("目標:行政執法體制更加順暢") and sec.intro.endswith("措施:")
    assert [(t.id, t.number) for t in plan.tasks()] == [("5.0.1", "22."), ("5.0.2", "23.")]
    # the page ends inside 23.規( : truncated
    assert plan.tasks()[1].truncated and not plan.tasks()[0].truncated


def test_unit_phrases_of_another_district():
    src = """2022年某县法治政府建设工作要点
一、加强组织领导
(一)压实责任。开展工作一。(责任单位:县司法局等县直有关部门)
(二)加强督察。开展工作二。(责任单位:各乡镇人民政府、街道办事处)
(三)加强培训。开展工作三。(县委政法委牵头,县法院、县检察院、县公安局参与)
(四)加强宣传。开展工作四。(责任单位:县委依法治县办,县直各单位按职责分工负责)
"""
    plan = parse_text(src)
    got = [[(u.name, u.role, u.group) for u in t.units] for t in plan.tasks()]
    assert got == [
        # X等<group>: the office and the group, as 區市場監管分局等區級有關單位 in the seed
        [("县司法局", "lead", False), ("县直有关部门", "co", True)],
        # two groups (the towns, the streets), as tests/notices/k_county_unit_lines.txt has them
        [("各乡镇人民政府", "responsible", True), ("街道办事处", "responsible", True)],
        [("县委政法委", "lead", False), ("县法院", "co", False), ("县检察院", "co", False), ("县公安局", "co", False)],
        [("县委依法治县办", "lead", False), ("县直各单位", "responsible", True)],
    ]
    assert all(u.canonical is None for t in plan.tasks() for u in t.units)


def test_targets_counted_after_what_is_built():
    from putuo_xl.plan.targets import extract_indicators
    got = lambda s: [(i.text, i.value, i.unit, i.op) for i in extract_indicators(s)]  # noqa: E731
    assert got("新增公共法律服务站点20个。") == [("20个", 20, "个", ">=")]
    assert got("建成村级法律服务室120个,覆盖率100%。") == [("120个", 120, "个", ">="), ("100%", 100, "%", ">=")]
    assert got("每个村(社区)配备1名法律顾问。") == [("配备1名", 1, "名", ">=")]
    assert got("群众满意度达到90分以上。") == [("90分以上", 90, "分", ">=")]
    # not targets: a version number, a share word
    assert got("新增执法人员2.0版平台。") == [] and got("部分以上事项。") == []


FOUR_LEVELS = """2022年某县法治政府建设工作要点
一、完善依法行政制度体系
(一)加强规范性文件管理
1.严格合法性审核
(1)落实审核机制,审核率达到100%。(责任单位:县司法局)
(2)开展规范性文件清理。(责任单位:县司法局、县直各部门)
2.推进备案审查
(1)做到有件必备、有备必审、有错必纠。(责任单位:县司法局)
(二)推进科学民主决策
(1)完善重大行政决策程序。(责任单位:县政府办)
二、严格执法
1.开展执法案卷评查。(责任单位:县司法局)
"""


def test_four_levels_under_a_subsection():
    # 一、 → (一) → 1.標題 → (1)任務: the (1) items are the tasks, each under its 1. title
    plan = parse_text(FOUR_LEVELS)
    got = [(t.id, t.number, t.text, [u.name for u in t.units]) for t in plan.tasks()]
    assert got == [
        ("1.1.1", "1.(1)", "严格合法性审核:落实审核机制,审核率达到100%。", ["县司法局"]),
        ("1.1.2", "1.(2)", "严格合法性审核:开展规范性文件清理。", ["县司法局", "县直各部门"]),
        ("1.1.3", "2.(1)", "推进备案审查:做到有件必备、有备必审、有错必纠。", ["县司法局"]),
        ("1.2.1", "(1)", "完善重大行政决策程序。", ["县政府办"]),
        ("2.0.1", "1.", "开展执法案卷评查。", ["县司法局"]),
    ]
    assert [(i.value, i.name) for i in plan.task_index()["1.1.1"].indicators] == [(100, "审核率")]


def test_names_run_together_in_another_district():
    # a web page lost the spaces between the names; the directory knows none of them
    src = """2022年某县法治政府建设工作要点
一、加强组织领导
(一)压实责任。开展工作一。
责任单位:县司法局 县财政局 县审计局
(二)加强宣传。开展工作二。(责任单位:县委组织部县委宣传部)
(三)加强监管。开展工作三。(责任单位:县市场监管局)
"""
    plan = parse_text(src)
    assert [[u.name for u in t.units] for t in plan.tasks()] == [
        ["县司法局", "县财政局", "县审计局"], ["县委组织部", "县委宣传部"], ["县市场监管局"]]


@pytest.mark.parametrize("name", sorted(p.name for p in REAL.glob("*.txt")))
def test_real_plans_load_back(name, tmp_path):
    from putuo_xl.plan.planfile import load_plan, save_plan
    plan = plan_of(name)
    for suffix in (".yaml", ".json"):
        out = tmp_path / f"plan{suffix}"
        save_plan(plan, out)
        assert load_plan(out) == plan


def test_leaders_and_intros_load_back(tmp_path):
    from putuo_xl.plan.planfile import load_plan, save_plan
    plan = parse_text(COUNTY + "二、完善制度\n(一)加强管理\n要加强规范性文件管理。\n1.严格审核。(责任单位:县司法局)\n")
    assert plan.task_index()["1.1.1"].leader and plan.sections[1].subsections[0].intro
    save_plan(plan, tmp_path / "plan.yaml")
    assert load_plan(tmp_path / "plan.yaml") == plan


def test_a_report_picked_by_mistake_is_said_to_be_one():
    plan = plan_of("jinghai_2020_report.txt")
    # the page's category label (工作報告) is not the title; the date after 文章來源 is kept
    assert plan.title == "2020年静川区法治政府建设情况报告"
    assert plan.date == "2021-03-29"
    assert [(t.id, t.number) for t in plan.tasks()] == [("1.1.1", "1."), ("1.1.2", "2."), ("1.2.1", "3.")]
    assert any("看来是工作报告或总结" in w for w in plan.warnings)


def test_no_units_anywhere_is_said_once():
    src = """2022年某县法治政府建设工作要点
一、完善制度
1.开展规范性文件清理。
2.开展执法案卷评查。
3.推进综合执法改革。
"""
    plan = parse_text(src)
    assert sum("全文没有找到任何责任单位" in w for w in plan.warnings) == 1
    assert not any("全文没有找到任何责任单位" in w for w in plan_of("xiping_2020.txt").warnings)


def test_a_unit_with_its_other_name_in_brackets():
    src = """2022年普陀区法治政府建设工作要点
一、加强组织领导
(一)加强宣传。开展工作一。(责任单位:区委宣传部(区文明办)、区司法局)
(二)加强统筹。开展工作二。(责任单位:区司法局(区委依法治区办)、各镇(街道))
"""
    plan = parse_text(src)
    got = [[(u.name, u.canonical) for u in t.units] for t in plan.tasks()]
    assert got == [[("区委宣传部(区文明办)", "區委宣傳部"), ("区司法局", "區司法局")],
                   [("区司法局(区委依法治区办)", "區司法局"), ("各镇(街道)", "各鎮(街道)")]]
    assert not any("不在配置文件" in w for w in plan.warnings)


# -- the same notices with full-width punctuation and in traditional characters ----------------
# (the archived pages they are modelled on had narrowed punctuation; published pages use full-width 、,:;())

FULL = str.maketrans({"(": "\uff08", ")": "\uff09", ":": "\uff1a", ";": "\uff1b", ",": "\uff0c"})


def shape(plan):
    return [(t.id, t.number, len(t.units), [u.role for u in t.units], t.deadline, t.truncated,
             [(i.value, i.op) for i in t.indicators]) for t in plan.tasks()]


@pytest.mark.parametrize("name", sorted(p.name for p in REAL.glob("*.txt")))
@pytest.mark.parametrize("how", ["full", "traditional", "simplified"])
def test_real_notices_in_both_widths_and_scripts(name, how):
    from putuo_xl.text import to_simplified, to_traditional
    src = (REAL / name).read_text(encoding="utf-8")
    base = parse_text(src)
    other = {"full": src.translate(FULL), "traditional": to_traditional(src), "simplified": to_simplified(src)}[how]
    plan = parse_text(other)
    assert shape(plan) == shape(base)
    assert [s.title for s in plan.sections] == [
        {"full": s.title.translate(FULL), "traditional": to_traditional(s.title),
         "simplified": to_simplified(s.title)}[how] for s in base.sections]


def test_hard_wrapped_pdf_lines():
    # every line of a PDF copy ends where the page's line ended, also inside a unit bracket
    src = """XX县2022年法治政府建设工作计划
一、深入学习贯彻习近平法治思想
1.把学习贯彻习近平法治思想作为重要政治任务。将其列入县政府常务会议会前学法和各镇
(街道)、各部门党委(党组)理论学习中心组年度学习计划,作为领导干部和执法人员培训
必修课程。〔牵头单位:县政府办公室、县司法局;责任单位:县政府各部门,各镇人民政府
(街道办事处)〕
2.把法治政府建设纳入全县经济社会发展总体布局,一起谋划、一起落实。县政府主要负责同志每年主持专题会议不少于
1次。(责任单位:县司法局、
县直各部门)
3.推进法治督察。(责任单位:县司法局、县
"""
    plan = parse_text(src)
    t1, t2, t3 = plan.tasks()
    assert t1.text.endswith("作为领导干部和执法人员培训必修课程。") and "各镇(街道)、各部门" in t1.text
    assert [u.name for u in t1.units] == ["县政府办公室", "县司法局", "县政府各部门", "各镇人民政府(街道办事处)"]
    assert [u.name for u in t2.units] == ["县司法局", "县直各部门"]
    assert [(i.value, i.unit) for i in t2.indicators] == [(1, "次")]
    # the last bracket never closes: the text was cut, the cut name left out
    assert t3.truncated and [u.name for u in t3.units] == ["县司法局"]


def test_workbook_of_a_pdf_copied_notice(tmp_path):
    """`putuo-xl build` on the PDF-copied county plan: LibreOffice opens it without formula errors,
    and its section sheets hold the tasks with their lead and co-operating units."""
    import openpyxl

    from wb_helpers import xlsx_check
    out = tmp_path / "台账.xlsx"
    notice = str(REAL / "xx_county_2022_plan.txt")
    # the bundled config is 普陀區's: build says so, and the county's own config is drafted first
    run = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "build", notice, "-o", str(out)],
                         capture_output=True, text=True, encoding="utf-8")
    assert run.returncode == 1 and "config draft" in run.stderr and not out.exists()
    own = tmp_path / "县.yaml"
    run = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "config", "draft", notice, "-o", str(own)],
                         capture_output=True, text=True, encoding="utf-8")
    assert run.returncode == 0, run.stderr
    run = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "build", notice, "-o", str(out), "--config", str(own)],
                         capture_output=True, text=True, encoding="utf-8")
    assert run.returncode == 0, run.stderr
    report = xlsx_check(out)
    assert report["ok"], report.get("problems")
    wb = openpyxl.load_workbook(out)
    rows = [r for name in wb.sheetnames if name.startswith(("一、", "二、"))
            for r in wb[name].iter_rows(values_only=True) if r and r[0] in ("1.0.1", "2.0.1", "2.0.2")]
    assert [(r[0], r[3]) for r in rows] == [("1.0.1", "县政府办公室、县司法局、县教育体育局"),
                                            ("2.0.1", "县政府办公室、县司法局"), ("2.0.2", "县政府办公室、县司法局")]
    from putuo_xl.text import narrow
    # the county's groups, as its notice names them, in whatever widths the sheet writes
    assert "县政府各部门" in narrow(rows[0][4]) and "各镇人民政府(街道办事处)" in narrow(rows[0][4])
