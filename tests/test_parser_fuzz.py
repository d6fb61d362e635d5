"""Whatever text comes in, parse_text returns a plan: no exception, unique well-formed IDs, the same
plan when parsed again, and a plan that survives JSON and plan.yaml."""
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from putuo_xl.config import load_config
from putuo_xl.plan.model import Plan
from putuo_xl.plan.notice import read_notice_bytes
from putuo_xl.plan.parser import parse_text
from putuo_xl.plan.planfile import plan_to_json, plan_to_yaml
from putuo_xl.plan.targets import extract_indicators, parse_deadline

CFG = load_config()
ID_RE = re.compile(r"^\d+\.\d+\.\d+$")
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FRAGMENTS = [
    # structure
    "一、", "二、", "十二、", "一.", "(一)", "（二）", "（三）", "1.", "2、", "(1)", "（2）", "①", "②", "6.6月底前",
    "\n", "\n\n", "。", "，", ",", "；", ";", "：", ":", "、", "(", ")", "（", "）", "<", ">", "【", "】",
    # units and labels
    "责任单位：", "責任單位:", "牵头单位：", "；配合单位：", "协办单位:", "【责任单位】", "责任单位/配合单位：",
    "区司法局", "區審招辦", "区级有关单位", "各镇<街道>", "各镇（街道）", "管委会", "区市场监管分局等区级有关单位",
    "区城管局", "各乡镇", "按职责分工负责", "牵头", "负责", "(牵头)", "等单位", "区司法局区财政局",
    # numbers, targets, deadlines
    "90%以上", "最多80天", "不超过30天", "41件", "20个工作日", "2.0", "10+N", "第三季度完成", "6月底前",
    "9月30日前", "年底前完成", "上半年完成", "长期坚持", "完成时限：", "2021年", "原则上应于2021年11月底前完成",
    # furniture, closing
    "附件：", "各地、各部门要高度重视", "关闭", "打印", "发布日期：2021-03-26", "舟普政办〔2021〕12号",
    "关于印发2021年法治政府建设工作要点的通知", "总体要求", "工作要求",
    # plain words
    "推进法治政府建设", "深化改革", "加强", "全面推行证明事项告知承诺制", " ", "\t", "\u3000",
]

notice_like = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=80).map("".join)


def check(plan: Plan) -> None:
    ids = [t.id for t in plan.tasks()]
    assert len(ids) == len(set(ids))
    assert all(ID_RE.match(i) for i in ids), ids
    for s in plan.sections:
        assert re.match(r"^\d+$", s.id)
        for ss in s.subsections:
            assert ss.id.startswith(s.id + ".") and re.match(r"^\d+\.\d+$", ss.id)
            for t in ss.tasks:
                assert t.id.startswith(ss.id + ".")
                assert t.deadline is None or re.match(r"^\d{4}-\d{2}-\d{2}$", t.deadline)
                for u in t.units:
                    assert u.role in ("lead", "co", "responsible") and u.name
                for ind in t.indicators:
                    assert ind.op in (">=", "<=", "=")
    assert plan.script in ("traditional", "simplified")
    assert all(isinstance(w, str) and w for w in plan.warnings)


def check_round_trips(plan: Plan) -> None:
    assert Plan.from_dict(json.loads(plan_to_json(plan))) == plan
    import yaml
    assert Plan.from_dict(yaml.safe_load(plan_to_yaml(plan))) == plan


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text_never_crashes(text):
    plan = parse_text(text, CFG)
    check(plan)
    assert parse_text(text, CFG) == plan


@FUZZ
@given(notice_like)
def test_notice_like_text_never_crashes(text):
    plan = parse_text(text, CFG)
    check(plan)
    assert parse_text(text, CFG) == plan
    check_round_trips(plan)


@FUZZ
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=60).map("".join))
def test_fragments_only(text):
    plan = parse_text(text, CFG)
    check(plan)
    assert parse_text(text, CFG) == plan


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_are_read_or_refused_cleanly(data):
    from putuo_xl.errors import InputError
    for name in ("x.txt", "x.html", "x.docx"):
        try:
            notice = read_notice_bytes(data, name)
        except InputError as e:
            assert "可以讀取的格式" in str(e)
            continue
        check(parse_text(notice, CFG))


@FUZZ
@given(st.text(max_size=120), st.one_of(st.none(), st.integers(1990, 2100)))
def test_deadlines_and_indicators_never_crash(text, year):
    got = parse_deadline(text, year)
    assert got is None or re.match(r"^\d{4}-\d{2}-\d{2}$", got[0])
    for ind in extract_indicators(text, "1.1.1"):
        assert ind.op in (">=", "<=", "=") and ind.id.startswith("1.1.1#")
