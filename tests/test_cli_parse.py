"""`putuo-xl parse`: the summary, --json, -o plan.yaml/json, and hand-edited plans loading back."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from putuo_xl.errors import InputError
from putuo_xl.plan.parser import parse_notice
from putuo_xl.plan.planfile import load_plan, plan_summary, save_plan
from putuo_xl.text import narrow

NOTICES = Path(__file__).resolve().parent / "notices"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "putuo_xl.cli", *map(str, args)], capture_output=True,
                          text=True, encoding="utf-8")


def test_summary_of_the_seed_in_traditional():
    out = cli("parse")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "2020年舟山市普陀區法治政府建設工作要點" in text and "舟普政辦〔2020〕31號" in text
    for word in ("章節", "任務", "合計", "責任單位", "牽頭", "配合", "推進政府職能依法全面履行", "區審招辦", "單位組"):
        assert word in text, word
    # totals row: 20 subsections, 51 tasks, 10 targets, 22 units and groups
    total = next(line for line in text.splitlines() if "合計" in line)
    assert [x for x in total.replace("│", " ").split() if x.isdigit()] == ["20", "51", "10", "22"]
    assert "提示 1 條" in text and "1.5.1" in text


def test_summary_of_a_simplified_notice_is_simplified():
    out = cli("parse", NOTICES / "ef_structure.txt")
    assert out.returncode == 0, out.stderr
    for word in ("章节", "任务", "合计", "责任单位", "单位组", "提示 2 条", "未标明责任单位"):
        assert word in out.stdout, word
    for word in ("章節", "任務", "合計", "責任單位"):
        assert word not in out.stdout, word


def test_output_yaml_loads_back_to_the_same_plan(tmp_path):
    path = tmp_path / "输出" / "plan.yaml"
    out = cli("parse", NOTICES / "a_seed_style.txt", "-o", path)
    assert out.returncode == 0, out.stderr
    assert "已写出" in out.stderr
    assert load_plan(path) == parse_notice(NOTICES / "a_seed_style.txt")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ")                       # a header that explains the fields
    assert "区审招办" in text and "\\u" not in text     # readable Chinese, not escapes


def test_output_json_with_json_flag(tmp_path):
    path = tmp_path / "plan.json"
    out = cli("parse", NOTICES / "d_roles.txt", "--json", "-o", path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == json.loads(path.read_text(encoding="utf-8"))
    assert load_plan(path) == parse_notice(NOTICES / "d_roles.txt")


@pytest.mark.parametrize("name, words", [("plan.xlsx", ".yaml"), ("", "文件夾")])
def test_bad_output_path(tmp_path, name, words):
    out = cli("parse", NOTICES / "d_roles.txt", "-o", tmp_path / name if name else tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert narrow(out.stderr).startswith("錯誤:") and narrow(words) in narrow(out.stderr)


def test_directory_as_notice():
    out = cli("parse", NOTICES)
    assert out.returncode == 1 and "文件夾" in out.stderr and "Traceback" not in out.stderr


def test_hand_edited_plan(tmp_path):
    plan = parse_notice(NOTICES / "d_roles.txt")
    path = save_plan(plan, tmp_path / "plan.yaml")
    text = path.read_text(encoding="utf-8")
    # an official types the role in Chinese and a target direction as ≥
    edited = text.replace("  role: co", "  role: 配合", 1).replace("op: '>='", "op: ≥", 1)
    assert edited.count("配合") > text.count("配合") and "≥" in edited
    path.write_text(edited, encoding="utf-8")
    again = load_plan(path)
    assert again == plan
    # a duplicated task id is refused with its line
    lines = text.splitlines()
    n = next(i for i, line in enumerate(lines) if line.strip() == "- id: 1.1.2")
    lines[n] = lines[n].replace("1.1.2", "1.1.1")
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_plan(path)
    assert err.value.line == n + 1 and "1.1.1" in err.value.message
    # a role nobody knows
    path.write_text(text.replace("  role: lead", "  role: 主管", 1), encoding="utf-8")
    with pytest.raises(InputError, match="lead"):
        load_plan(path)


def test_plan_summary_counts():
    s = plan_summary(parse_notice(NOTICES / "g_other_district.txt"))
    # 区城管局 and 区行政执法局 are one unit of the 普陀 directory (区综合行政执法局)
    assert s["totals"] == {"sections": 2, "subsections": 4, "tasks": 4, "indicators": 1, "units": 9,
                           "without_units": 0}
    unresolved = sorted(u["name"] for u in s["units"] if not u["resolved"])
    assert unresolved == sorted(["区委依法治区办", "各乡镇<街道>", "区市监局"])
