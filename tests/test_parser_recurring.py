"""Recurring work (經常性工作) only where the task says so, and always with a warning."""
import pytest

from putuo_xl.config import config_from_dict, load_config
from putuo_xl.plan.parser import parse_notice, parse_text
from putuo_xl.text import detect_script, halfwidth, to_simplified, to_traditional

CFG = load_config()

NOTICE = """2021年普陀区法治政府建设工作要点
一、重点工作任务
(一)完善制度
1.做好行政复议日常受理和审理工作,长期坚持。(责任单位:区司法局)
2.常态化开展行政执法案卷评查。(责任单位:区司法局)
3.定期开展法治督察,此项为经常性工作。(责任单位:区司法局)
4.推动行政机关负责人出庭应诉常态化。(责任单位:区司法局)
5.建立经常性监督检查机制。(责任单位:区司法局)
6.健全规范性文件常态化“立改废释”工作机制。(责任单位:区司法局)
7.组织法治培训。(责任单位:区司法局)
完成时限:长期坚持
8.年底前常态化开展执法检查。(责任单位:区司法局)
以上任务,除经常性工作外,原则上应于2021年11月底前完成。
"""


def N(s):
    return None if s is None else halfwidth(to_simplified(s))


@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_recurring_only_where_the_task_says_so(script):
    text = to_traditional(NOTICE) if script == "traditional" else NOTICE
    plan = parse_text(text, CFG)
    got = [(t.number, t.recurring, t.deadline) for t in plan.tasks()]
    assert got == [
        ("1.", True, None),                 # …,长期坚持。 the task's own framing
        ("2.", True, None),                 # 常态化开展…: the task's own framing
        ("3.", True, None),                 # 此项为经常性工作: says the work is 经常性
        ("4.", False, "2021-11-30"),        # making something 常态化 is a goal, not recurring work
        ("5.", False, "2021-11-30"),        # a 经常性 mechanism is built once
        ("6.", False, "2021-11-30"),
        ("7.", True, None),                 # 完成时限:长期坚持
        ("8.", False, "2021-12-31"),        # its own deadline wins
    ]
    phrases = {"1.": "长期坚持", "2.": "常态化开展", "3.": "经常性", "7.": "长期坚持"}
    for t in plan.tasks():
        said = [w for w in t.warnings if "经常性工作" in N(w)]
        if t.recurring:
            assert len(said) == 1, t.warnings
            assert N(said[0]) == f"按「{phrases[t.number]}」推断为经常性工作,无统一完成时限,请核对。"
            assert N(said[0]) in [N(w).split(":", 1)[1] for w in plan.warnings if w.startswith(("任务", "任務"))]
        else:
            assert not said
    # in the notice's script
    assert detect_script("".join(w for t in plan.tasks() for w in t.warnings)) == script


def test_office_can_widen_the_markers():
    raw = dict(CFG.raw)
    raw["parser"] = {**(CFG.raw.get("parser") or {}), "recurring_markers": ["经常性", "常态化"]}
    plan = parse_text(NOTICE, config_from_dict(raw))
    t4 = plan.tasks()[3]
    assert t4.recurring and t4.deadline is None
    assert any(N(w) == "按「常态化」推断为经常性工作,无统一完成时限,请核对。" for w in t4.warnings)


def test_seed_has_no_guessed_recurring_work():
    """2.3.2 (常态化“立改废释”机制), 4.1.2 (出庭应诉常态化) and 5.3.1 (普法方式常态化) name
    常态化 as a goal; the notice marks no task as 经常性, so every task gets the closing
    paragraph's 原则上应在2020年年底完成."""
    plan = parse_notice()
    assert not any(t.recurring for t in plan.tasks())
    assert all(t.deadline == "2020-12-31" for t in plan.tasks()) and len(plan.tasks()) == 51
    assert not any("经常性" in N(w) for w in plan.warnings)
