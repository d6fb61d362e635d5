"""The bundled 2020 普陀區 notice parses to exactly what the notice says."""
import json
import subprocess
import sys

import pytest

from putuo_xl.config import load_config
from putuo_xl.plan.model import Plan
from putuo_xl.plan.parser import parse_notice
from putuo_xl.plan.planfile import load_plan, plan_to_yaml, save_plan


@pytest.fixture(scope="module")
def plan():
    return parse_notice()


def test_counts(plan):
    assert len(plan.sections) == 6
    assert [s.number for s in plan.sections] == list("一二三四五六")
    assert sum(len(s.subsections) for s in plan.sections) == 20
    tasks = plan.tasks()
    assert len(tasks) == 51
    per_sub = [len(ss.tasks) for s in plan.sections for ss in s.subsections]
    assert per_sub == [2, 4, 3, 2, 4, 2, 3, 3, 3, 3, 3, 2, 1, 3, 2, 2, 2, 1, 4, 2]


def test_metadata(plan):
    assert plan.title == "2020年舟山市普陀區法治政府建設工作要點"
    assert plan.issuer == "舟山市普陀區人民政府辦公室"
    assert plan.date == "2020-07-15"
    assert plan.doc_number == "舟普政辦〔2020〕31號"
    assert plan.addressees.startswith("各鎮人民政府、街道辦事處")
    assert plan.script == "traditional"
    assert plan.year == 2020
    assert plan.default_deadline == "2020-12-31"
    assert "原則上應在2020年年底完成" in plan.default_deadline_text
    assert plan.preamble.startswith("2020年我區法治政府建設的總體要求是")


def test_units(plan):
    tasks = plan.tasks()
    with_prefix = [t for t in tasks if t.units and not any("責任單位:" in w for w in t.warnings)]
    assert len(with_prefix) == 50
    bare = plan.task_index()["1.5.1"]
    assert [u.canonical for u in bare.units] == ["區級有關單位", "各鎮(街道)"]
    assert bare.text.startswith("加快教育、醫療衛生")
    names = plan.unit_names()
    assert len(names) == 22
    cfg = load_config()
    groups = [n for n in names if cfg.is_group(n)]
    assert sorted(groups) == sorted(["區級有關單位", "各鎮(街道)", "管委會"])
    assert all(u.canonical for t in tasks for u in t.units)
    # 區市場監管分局等區級有關單位 → the unit plus the group
    t = plan.task_index()["3.3.2"]
    assert [(u.canonical, u.group) for u in t.units] == [
        ("區綜合行政執法局", False), ("區市場監管分局", False), ("區級有關單位", True)]
    # first listed leads (config switch), group members keep the text's wording
    t = plan.task_index()["1.1.1"]
    assert t.units[0].canonical == "區審招辦" and t.units[0].role == "lead"
    assert {u.role for u in t.units[1:]} == {"co"}
    assert t.units[2].name == "各鎮<街道>" and t.units[2].canonical == "各鎮(街道)"


def test_task_texts(plan):
    idx = plan.task_index()
    assert idx["1.1.1"].text.startswith("加快推進個人和企業全生命周期")
    assert idx["1.1.1"].text.endswith("推動基本公共服務標準化。")
    assert "責任單位" not in "".join(t.text for t in plan.tasks())
    assert idx["1.2.1"].text.endswith("推動許可事項“應放盡放”。")
    assert idx["6.2.3"].text.startswith("持續加大公務員初任培訓")
    assert [u.canonical for u in idx["6.2.3"].units] == ["區公務員局"]
    # parentheses that are not unit lists stay in the text
    assert "(依法行政)" in idx["2.2.2"].text
    assert "村(社區)" in idx["1.1.2"].text
    assert "各級黨委(黨組)" in idx["6.2.1"].text
    # the closing paragraph and the web page footer are not tasks
    assert "各地、各部門要高度重視" not in idx["6.3.2"].text
    assert idx["6.3.2"].text.endswith("力爭法治政府示范創建綜合項目取得突破。")


def test_indicators(plan):
    got = [(t.id.rsplit(".", 1)[0], i.value, i.unit, i.op) for t, i in plan.indicators()]
    assert got == [
        ("1.1", 41, "件", ">="),
        ("1.3", 80, "天", "<="), ("1.3", 50, "天", "<="), ("1.3", 30, "天", "<="),
        ("1.3", 20, "個工作日", "<="),
        ("1.4", 90, "%", ">="),
        ("3.3", 100, "%", ">="), ("3.3", 5, "%", ">="), ("3.3", 90, "%", ">="), ("3.3", 92, "%", ">="),
    ]
    names = [i.name for _, i in plan.indicators()]
    assert "政務服務辦件網上受理率" in names and "行政執法平均持證率" in names
    ids = [i.id for _, i in plan.indicators()]
    assert len(set(ids)) == 10


def test_deadlines_and_ids_stable(plan):
    # 除經常性工作任務外,原則上應在2020年年底完成: no task frames itself as 經常性 (常態化 in
    # 2.3.2, 4.1.2, 5.3.1 is a goal, not recurring work), so every task gets the year end
    assert not any(t.recurring for t in plan.tasks())
    assert all(t.deadline == "2020-12-31" and t.deadline_text is None for t in plan.tasks())
    idx = plan.task_index()
    assert all(not any("經常性" in w for w in idx[i].warnings) for i in ("2.3.2", "4.1.2", "5.3.1"))
    again = parse_notice()
    assert [t.id for t in again.tasks()] == [t.id for t in plan.tasks()]
    assert again.fingerprint() == plan.fingerprint()


def test_round_trip_yaml_and_json(plan, tmp_path):
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    for name in ("plan.yaml", "plan.json"):
        save_plan(plan, tmp_path / name)
        assert load_plan(tmp_path / name) == plan
    assert "區司法局" in plan_to_yaml(plan)


def test_cli_json_keeps_stdout_clean():
    out = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "parse", "--json"],
                         capture_output=True, text=True, encoding="utf-8")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for key in ("title", "issuer", "date", "doc_number", "script", "default_deadline", "warnings",
                "sections"):
        assert key in data
    task = data["sections"][0]["subsections"][0]["tasks"][0]
    assert set(task) >= {"id", "number", "text", "units", "indicators", "deadline", "deadline_text",
                         "truncated", "warnings"}
    assert set(task["units"][0]) >= {"name", "canonical", "role", "group"}

