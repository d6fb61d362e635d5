"""units.lead_label: the one rule for what a task's 牽頭單位 shows; read back without the mark."""
from __future__ import annotations

import pytest

from putuo_xl.config import load_config
from putuo_xl.plan.parser import parse_notice
from putuo_xl.plan.assignments import JOINT_MARK, is_joint, lead_label, strip_joint_mark
from putuo_xl.text import narrow

# the seed tasks whose 責任單位 name no lead (read from the notice text)
JOINT_TASKS = ["1.1.2", "1.5.1", "1.5.4", "4.1.1", "4.1.2", "5.1.1"]


@pytest.fixture(scope="module")
def plan():
    return parse_notice(None, load_config())


def test_lead_label_rule(plan):
    idx = plan.task_index()
    assert [t.id for t in plan.tasks() if is_joint(t)] == JOINT_TASKS
    assert lead_label(idx["1.1.1"]) == "區審招辦"
    assert narrow(lead_label(idx["1.1.2"])) == narrow("區級有關單位、各鎮(街道)、管委會（共同負責）")
    assert lead_label(idx["1.1.2"], with_units=False) == "（共同負責）" == JOINT_MARK
    assert narrow(lead_label(idx["1.1.2"], "simplified")) == narrow("区级有关单位、各镇(街道)、管委会（共同负责）")
    assert lead_label(idx["3.2.3"]) == "區應急管理局"


@pytest.mark.parametrize("cell,names", [
    ("（共同負責）", ""), ("(共同负责)", ""), ("區司法局", "區司法局"),
    ("區級有關單位、各鎮(街道)（共同負責）", "區級有關單位、各鎮(街道)"), (None, "")])
def test_strip_joint_mark(cell, names):
    assert strip_joint_mark(cell) == names
