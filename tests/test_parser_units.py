"""Unit lists: group phrases written with 、 inside them (各鎮、街道), and the names of the
普陀 directory that notices of this genre use."""
import pytest

from putuo_xl.config import load_config
from putuo_xl.plan.parser import parse_text
from putuo_xl.text import halfwidth, to_simplified, to_traditional

CFG = load_config()
FULL = str.maketrans({"(": "\uff08", ")": "\uff09", ":": "\uff1a", ";": "\uff1b", ",": "\uff0c"})
VARIANTS = [("traditional", "half"), ("traditional", "full"), ("simplified", "half"), ("simplified", "full")]


def variant(text, script, width):
    text = to_traditional(text) if script == "traditional" else to_simplified(text)
    return text.translate(FULL) if width == "full" else text


def N(s):
    return None if s is None else halfwidth(to_simplified(s))


GROUP_PHRASES = """2021年普陀區法治政府建設工作要點
一、推進政府職能轉變
(一)加強督察。開展法治政府建設督察(區委組織部、區司法局,各鎮、街道)。
(二)加強指導。指導基層依法行政(責任單位:區司法局、鎮、街道)。
(三)加強培訓。組織基層執法人員培訓(區司法局牽頭,各鎮、街道按職責分工負責)。
(四)推進公開。推進基層政務公開(責任單位:區政府辦、各鎮(街道)人民政府(辦事處))。
(五)加強調解。健全人民調解組織網絡(責任單位:區司法局、各鄉鎮、街道)。
"""


@pytest.mark.parametrize("script, width", VARIANTS)
def test_group_phrase_with_a_comma_inside_a_unit_list(script, width):
    src = variant(GROUP_PHRASES, script, width)
    plan = parse_text(src, CFG)
    idx = plan.task_index()
    t = idx["1.1.1"]
    # the bracket is a unit list: its units are the task's, and it leaves the text
    assert [(N(u.name), u.canonical, u.group) for u in t.units] == [
        ("区委组织部", "區委組織部", False), ("区司法局", "區司法局", False), ("各镇、街道", "各鎮(街道)", True)]
    assert N(t.text) == "开展法治政府建设督察。"
    assert [u.canonical for u in idx["1.2.1"].units] == ["區司法局", "各鎮(街道)"]
    assert [(u.canonical, u.role) for u in idx["1.3.1"].units] == [("區司法局", "lead"), ("各鎮(街道)", "responsible")]
    assert [u.canonical for u in idx["1.4.1"].units] == ["區政府辦", "各鎮(街道)"]
    # a county's 各鄉鎮、街道 is one group too (unknown to the 普陀 directory, so warned)
    t5 = idx["1.5.1"]
    assert [(N(u.name), u.canonical, u.group) for u in t5.units] == [
        ("区司法局", "區司法局", False), ("各乡镇、街道", None, True)]
    assert not any(N(u.name) in ("街道", "各镇", "镇") for t in plan.tasks() for u in t.units)
    # the names as written keep the notice's script and widths
    assert all(u.name in src for t in plan.tasks() for u in t.units)


# -- names notices of this genre use: groups and district organs ---------------------------------

NAMES = """2022年普陀区法治政府建设工作要点
一、加强党对法治政府建设的领导
(一)落实第一责任人职责。推动党政主要负责人履行推进法治建设第一责任人职责(责任单位:区委办、区政府办、区级有关部门)。
(二)加强法治宣传。深化“八五”普法(责任单位:区委宣传部、区司法局、区直有关单位、各街镇)。
(三)推进平安法治建设。健全矛盾纠纷多元化解机制(责任单位:区委政法委、区各有关部门、各功能区管委会)。
(四)支持司法监督。支持法院依法受理和审理行政案件(责任单位:区法院、区人民检察院、区司法局)。
(五)规范执法。推进综合行政执法改革(责任单位:区城管局、各镇(街道)人民政府(办事处))。
(六)强化监督。自觉接受人大监督、政协民主监督和监察监督(责任单位:区人大办、区政协办、区纪委监委、区政府办)。
"""

GROUPS = {"區級有關單位", "各鎮(街道)", "管委會"}
ORGANS = ["區委辦", "區委宣傳部", "區委政法委", "區法院", "區檢察院", "區人大辦", "區政協辦", "區紀委監委"]


@pytest.mark.parametrize("script, width", VARIANTS)
def test_genre_names_resolve(script, width):
    plan = parse_text(variant(NAMES, script, width), CFG)
    got = {u.canonical for t in plan.tasks() for u in t.units}
    assert None not in got, [u.name for t in plan.tasks() for u in t.units if not u.canonical]
    assert not any("不在配置文件" in w or "不在配置檔案" in w for w in plan.warnings)
    assert got >= GROUPS | set(ORGANS) | {"區綜合行政執法局"}
    for t in plan.tasks():
        for u in t.units:
            assert u.group == (u.canonical in GROUPS), u


def test_directory_entries_for_the_new_names():
    for name in ORGANS:
        unit = CFG.units[name]
        assert unit.full_name.startswith(("中共舟山市普陀區", "舟山市普陀區", "中國人民政治協商會議舟山市普陀區"))
        assert unit.kind and unit.email == []          # addresses are the office's to fill in
        # not government departments: not in 區級有關單位
        assert name not in CFG.groups["區級有關單位"].members
        assert name not in CFG.expand("區級有關單位")
    assert CFG.resolve("區城管局") == "區綜合行政執法局" and "區綜合行政執法局" in CFG.expand("區級有關單位")
    for alias in ("區級有關部門", "區直有關單位", "區各有關部門"):
        assert CFG.resolve(alias) == "區級有關單位"
    for alias in ("各街鎮", "各鎮(街道)人民政府(辦事處)", "各鎮（街道）人民政府（辦事處）", "各镇、街道"):
        assert CFG.resolve(alias) == "各鎮(街道)"
    assert CFG.resolve("各功能區管委會") == "管委會"
