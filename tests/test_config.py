"""config.yaml is checked on load; every mistake names the file and the line."""
import subprocess
import sys

import pytest

from putuo_xl.config import default_config_path, load_config
from putuo_xl.errors import ConfigError
from putuo_xl.plan.parser import parse_notice
from putuo_xl.text import to_simplified, to_traditional
from putuo_xl.text import narrow

DEFAULT = default_config_path().read_text(encoding="utf-8")


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth occurrence of `needle`."""
    pos = -1
    for _ in range(nth):
        pos = text.index(needle, pos + 1)
    return text.count("\n", 0, pos) + 1


def write(tmp_path, text, name="config.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def fails(path) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)          # names the file
    return err.value


# -- the default directory ---------------------------------------------------------------

def test_default_config_resolves_every_name_in_both_scripts():
    cfg = load_config()
    assert cfg.district == "舟山市普陀區"
    for unit in cfg.units.values():
        for name in [unit.name, unit.full_name, *unit.aliases]:
            for form in (name, to_simplified(name), to_traditional(to_simplified(name))):
                assert cfg.resolve(form) == unit.name, form
    for group in cfg.groups.values():
        for name in [group.name, *group.aliases]:
            assert cfg.resolve(to_simplified(name)) == group.name
    # full- and half-width parentheses, <> for nested ones, spaces: one name
    for form in ("各鎮(街道)", "各镇（街道）", "各鎮<街道>", "各 镇 (街道)"):
        assert cfg.resolve(form) == "各鎮(街道)"
    assert cfg.resolve("区市场监管分局") == cfg.resolve("舟山市市場監督管理局普陀分局") == "區市場監管分局"
    assert cfg.resolve("区级各部门") == "區級有關單位"
    # 區城管局 is what notices still call the 綜合行政執法局 (see the comment in config.yaml)
    assert cfg.resolve("區城管局") == cfg.resolve("区城管执法局") == "區綜合行政執法局"
    assert cfg.resolve("區工商聯") is None


def test_every_seed_unit_is_in_the_directory():
    plan = parse_notice()
    cfg = load_config()
    for task in plan.tasks():
        for u in task.units:
            assert u.canonical in cfg.units or u.canonical in cfg.groups
    # and each group expands to known units
    for g in cfg.groups:
        assert cfg.expand(g) and all(m in cfg.units for m in cfg.expand(g))


# -- mistakes, each with its line ------------------------------------------------------------

def test_unknown_top_level_key(tmp_path):
    text = DEFAULT.replace("district: 舟山市普陀區", "district: 舟山市普陀區\ndistrcit: 拼錯了")
    err = fails(write(tmp_path, text))
    assert err.line == line_of(text, "distrcit:")
    assert "distrcit" in err.message and "district" in err.message     # says what is allowed


def test_unknown_key_in_a_section_and_in_a_unit(tmp_path):
    text = DEFAULT.replace("  first_listed_is_lead: true", "  first_listed_is_lead: true\n  first_is_lead: true")
    err = fails(write(tmp_path, text))
    assert err.line == line_of(text, "first_is_lead:") and "first_is_lead" in err.message
    text = DEFAULT.replace("    full_name: 舟山市普陀區司法局", "    full_name: 舟山市普陀區司法局\n    e-mail: sfj@example.org")
    err = fails(write(tmp_path, text))
    assert err.line == line_of(text, "e-mail:")
    assert "區司法局" in err.message and "email" in err.message


def test_group_member_not_defined(tmp_path):
    text = DEFAULT.replace("普陀山鎮]", "普陀山鎮,\n              登步鄉]")
    err = fails(write(tmp_path, text))
    assert err.line == line_of(text, "登步鄉")
    assert "各鎮(街道)" in err.message and "登步鄉" in err.message and "units" in err.message


def test_group_member_written_as_an_alias(tmp_path):
    text = DEFAULT.replace("members: [普陀經濟開發區管委會]", "members: [經濟開發區管委會]")
    err = fails(write(tmp_path, text))
    assert err.line == line_of(text, "members: [經濟開發區管委會]")
    assert "請寫「普陀經濟開發區管委會」" in err.message


def test_duplicate_alias_under_two_units(tmp_path):
    # an alias that is another unit's own name (the unit comes later in the file)
    text = DEFAULT.replace("    aliases: [区教育局]", "    aliases: [区教育局, 區財政局]")
    err = fails(write(tmp_path, text))
    assert err.line == line_of(text, "[区教育局, 區財政局]")
    assert "區財政局" in err.message and "區教育局" in err.message
    # the same alias given to two units
    text = DEFAULT.replace("    aliases: [区教育局]", "    aliases: [区教育局, 區教體局]")
    text = text.replace("    aliases: [區科學技術局, 区科技局]", "    aliases: [區科學技術局, 区科技局, 區教體局]")
    err = fails(write(tmp_path, text))
    assert err.line == line_of(text, "[區科學技術局, 区科技局, 區教體局]")
    assert f"第 {line_of(text, '[区教育局, 區教體局]')} 行" in err.message
    assert "區教育局" in err.message and "區科技局" in err.message


def test_duplicate_alias_across_scripts(tmp_path):
    # 区司法局 (simplified) already belongs to 區司法局; giving 區司法局 to 區民政局 is the same name
    text = DEFAULT.replace("    aliases: [区民政局]", "    aliases: [区民政局,\n              區司法局]")
    err = fails(write(tmp_path, text))
    assert err.line == line_of(text, "              區司法局]")
    assert "區司法局" in err.message and "區民政局" in err.message
    # and the simplified spelling under another unit than the traditional one
    text = DEFAULT.replace("    aliases: [区民政局]", "    aliases: [区民政局, 区司法局]")
    text = text.replace("    aliases: [普陀區司法局, 区司法局]", "    aliases: [普陀區司法局]")
    err = fails(write(tmp_path, text))
    assert err.line == line_of(text, "[区民政局, 区司法局]")
    assert "簡繁體" in err.message


def test_unit_defined_twice(tmp_path):
    text = DEFAULT.replace("  區信訪局:", "  區審計局:\n    full_name: 重複\n  區信訪局:")
    err = fails(write(tmp_path, text))
    assert err.line == line_of(text, "  區審計局:", 2)
    assert f"第 {line_of(text, '  區審計局:')} 行" in err.message


@pytest.mark.parametrize("bad, needle", [
    ("units:\n  區司法局:\n    aliases: [區司法局, 区司法局\n  區財政局: {}\n", "  區財政局"),
    ("units:\n  區司法局:\n   full_name: x\n  aliases: [a]\n bad: 1\n", " bad: 1"),
    ("units:\n\t區司法局: {}\n", "\t區司法局"),
    ("district: \"unclosed\nunits: {}\n", "units"),
])
def test_bad_yaml(tmp_path, bad, needle):
    err = fails(write(tmp_path, bad))
    assert "YAML" in err.message
    assert err.line is not None and abs(err.line - line_of(bad, needle)) <= 1


def test_wrong_types(tmp_path):
    text = DEFAULT.replace("first_listed_is_lead: true", "first_listed_is_lead: 是")
    err = fails(write(tmp_path, text))
    assert err.line == line_of(text, "first_listed_is_lead:") and "true 或 false" in err.message
    text = DEFAULT.replace("    aliases: [区审计局]", "    aliases: {區審計: 局}")
    err = fails(write(tmp_path, text))
    assert err.line == line_of(text, "    aliases: {區審計: 局}") and "區審計局" in err.message


def test_groups_that_contain_each_other(tmp_path):
    text = DEFAULT.replace("members: [普陀經濟開發區管委會]", "members: [普陀經濟開發區管委會, 區級有關單位]")
    text = text.replace("區信訪局]\n", "區信訪局, 管委會]\n")
    err = fails(write(tmp_path, text))
    assert "互相包含" in err.message and err.line is not None


def test_file_problems(tmp_path):
    assert "找不到" in fails(tmp_path / "nope.yaml").message
    assert "文件夾" in fails(tmp_path).message
    path = tmp_path / "gbk.yaml"
    path.write_bytes(DEFAULT.encode("gb18030"))
    assert "UTF-8" in fails(path).message
    assert load_config(write(tmp_path, "\ufeff" + DEFAULT, "bom.yaml")).units   # a BOM is fine


def test_cli_reports_a_bad_config_in_one_line(tmp_path):
    text = DEFAULT.replace("    aliases: [区民政局]", "    aliases: [区民政局, 區司法局]")
    path = write(tmp_path, text, "我的配置.yaml")
    out = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "parse", "--config", str(path)],
                         capture_output=True, text=True, encoding="utf-8")
    assert out.returncode == 1 and out.stdout == ""
    assert "Traceback" not in out.stderr
    assert narrow(out.stderr).strip().startswith("錯誤:")
    assert "我的配置.yaml" in out.stderr and f"第 {line_of(text, '[区民政局, 區司法局]')} 行" in out.stderr


def test_a_district_config_of_its_own(tmp_path):
    """Another district edits the directory: its notice's units resolve, the others are warned."""
    text = """version: 1
district: 舟山市定海區
parser:
  first_listed_is_lead: true
units:
  區司法局:
    aliases: [定海區司法局]
  區城管局:
    full_name: 舟山市定海區綜合行政執法局
    aliases: [區綜合行政執法局, 区行政执法局]
  區市監局:
    aliases: [區市場監管局]
  區公安分局: {}
  區法院: {}
  區檢察院: {}
  區委依法治區辦: {}
  區農業農村局: {}
groups:
  各鄉鎮(街道):
    aliases: [各乡镇<街道>]
    members: [區司法局]
"""
    cfg = load_config(write(tmp_path, text))
    from pathlib import Path
    plan = parse_notice(Path(__file__).parent / "notices" / "g_other_district.txt", cfg)
    assert all(u.canonical for t in plan.tasks() for u in t.units)
    assert not any("不在配置文件" in w for w in plan.warnings)
    assert plan.task_index()["2.2.1"].units[0].canonical == "區城管局"


# -- forms and mail settings that would fail later, checked on load -----------------------

@pytest.mark.parametrize("value,needle", [
    ('"{month}_{unt}_法治政府建設月報.xlsx"', "{unt}"),
    ('"{month}_{unit_法治政府建設月報.xlsx"', "花括號不成對"),
    ('"{month}_法治政府建設月報.xlsx"', "需要包含 {unit}"),
])
def test_form_file_name_placeholders(tmp_path, value, needle):
    text = DEFAULT.replace('file_name: "{month}_{unit}_法治政府建設月報.xlsx"', f"file_name: {value}")
    assert text != DEFAULT
    err = fails(write(tmp_path, text))
    assert needle in err.message and "{unit}" in err.message
    assert err.line == line_of(text, "file_name: ")


@pytest.mark.parametrize("value", ["abc", "0", "32", "5.5", "true", "[5]"])
def test_due_day_must_be_a_day(tmp_path, value):
    text = DEFAULT.replace("  due_day: 5", f"  due_day: {value}")
    assert text != DEFAULT
    err = fails(write(tmp_path, text))
    assert "forms.due_day" in err.message and "1 到 31" in err.message
    assert err.line == line_of(text, "due_day:")


def test_due_day_and_file_name_still_work(tmp_path):
    from putuo_xl.workbook.forms import due_date, form_file_name
    text = DEFAULT.replace("  due_day: 5", "  due_day: 31").replace(
        'file_name: "{month}_{unit}_法治政府建設月報.xlsx"', 'file_name: "{unit}-{month}"')
    cfg = load_config(write(tmp_path, text))
    assert due_date("2020-08", cfg) == "2020-09-30"           # clamped to the month's length
    assert form_file_name("2020-08", "區司法局", cfg, "traditional") == "區司法局-2020-08.xlsx"


def test_smtp_password_in_the_config_points_to_the_environment(tmp_path):
    text = DEFAULT.replace("    password_env: PUTUO_XL_SMTP_PASSWORD",
                           "    password_env: PUTUO_XL_SMTP_PASSWORD\n    password: secret123")
    assert text != DEFAULT
    err = fails(write(tmp_path, text))
    assert "PUTUO_XL_SMTP_PASSWORD" in err.message and "環境變量" in err.message
    assert "未知的配置項" not in err.message and "secret123" not in str(err)
    assert err.line == line_of(text, "password: secret123")
    own = text.replace("password_env: PUTUO_XL_SMTP_PASSWORD", "password_env: MY_SMTP_PW")
    assert "MY_SMTP_PW" in fails(write(tmp_path, own, "c2.yaml")).message
