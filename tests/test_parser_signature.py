"""Issuer and date from the signature at the end of a notice (no date in its head)."""
import pytest

from putuo_xl.config import load_config
from putuo_xl.plan.parser import parse_text
from putuo_xl.text import halfwidth, to_simplified, to_traditional

CFG = load_config()
FULL = str.maketrans({"(": "\uff08", ")": "\uff09", ":": "\uff1a", ";": "\uff1b", ",": "\uff0c"})

SIGNED = """关于印发普陀区法治政府建设工作要点的通知
各镇人民政府、街道办事处,区政府各部门:
现将《普陀区法治政府建设工作要点》印发给你们,请认真贯彻执行。
普陀区法治政府建设工作要点
一、推进政府职能转变
(一)深化改革。推进“一件事”集成改革,6月底前完成(责任单位:区审招办)。
二、规范行政执法
(一)加强监督。开展行政执法案卷评查(责任单位:区司法局)。
各地各部门要高度重视,原则上应在年底前完成。
普陀区人民政府办公室
2023年3月1日
"""


@pytest.mark.parametrize("script", ["simplified", "traditional"])
@pytest.mark.parametrize("width", ["half", "full"])
def test_issuer_and_date_from_the_trailing_signature(script, width):
    text = to_traditional(SIGNED) if script == "traditional" else SIGNED
    if width == "full":
        text = text.translate(FULL)
    plan = parse_text(text, CFG)
    assert halfwidth(to_simplified(plan.issuer)) == "普陀区人民政府办公室"
    assert plan.date == "2023-03-01" and plan.year == 2023
    # the year the signature gives dates the tasks
    idx = plan.task_index()
    assert idx["1.1.1"].deadline == "2023-06-30"
    assert plan.default_deadline == "2023-12-31" and idx["2.1.1"].deadline == "2023-12-31"
    # the signature is not a task, not a closing paragraph, not a warning
    assert len(plan.tasks()) == 2
    assert not any("截断" in w or "截斷" in w for w in plan.warnings)


def test_signature_date_on_the_issuer_line_and_cc_lines_after_it():
    text = SIGNED.replace("普陀区人民政府办公室\n2023年3月1日\n",
                          "普陀区人民政府办公室 2023年3月1日\n(此件公开发布)\n抄送:区委办,区人大办。\n")
    plan = parse_text(text, CFG)
    assert plan.issuer == "普陀区人民政府办公室" and plan.date == "2023-03-01"


def test_head_date_wins_over_the_signature():
    text = SIGNED.replace("各镇人民政府", "2023年2月8日\n各镇人民政府")
    plan = parse_text(text, CFG)
    assert plan.date == "2023-02-08"


def test_no_signature_no_guess():
    text = SIGNED.replace("普陀区人民政府办公室\n2023年3月1日\n", "")
    plan = parse_text(text, CFG)
    assert plan.issuer is None and plan.date is None and plan.year is None
