"""A config for another district, drafted from its notice; build refuses another district's notice
with this district's config before it writes anything; the master shows the parser's warnings on
the cells to correct."""
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml

from putuo_xl.config import load_config
from putuo_xl.errors import InputError
from putuo_xl.plan.configdraft import config_mismatch, district_of, write_draft
from putuo_xl.plan.parser import parse_notice, parse_text
from putuo_xl.workbook.master import build_master

CORPUS = Path(__file__).resolve().parent / "notices" / "corpus"
XIPING = CORPUS / "xiping_2020_fazhi.html"


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "putuo_xl.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, encoding="utf-8")


def test_district_of_a_notice():
    assert district_of(parse_notice(XIPING)) == "西平县"
    assert district_of(parse_notice(CORPUS / "lishan_2023_fengong.html")) == "立山区"
    assert district_of(parse_notice(None)) in ("舟山市普陀區", "普陀區")
    assert district_of(parse_notice(CORPUS / "guoban_2016_zwgk.txt")) is None


def test_draft_names_every_unit_and_group_and_marks_its_guesses(tmp_path):
    out, summary = write_draft(XIPING, tmp_path / "西平县.yaml")
    text = out.read_text(encoding="utf-8")
    cfg = load_config(out)                               # a valid config, line numbers and all
    assert cfg.district == "西平县" and cfg.office == "西平县人民政府办公室"
    assert set(cfg.units) == {"县政府办公室", "县司法局"}
    # the full name the notice gives (its issuer), and a guessed one marked for checking
    assert cfg.units["县政府办公室"].full_name == "西平县人民政府办公室"
    assert cfg.units["县司法局"].full_name == "西平县司法局"
    assert "full_name: 西平县司法局    # 请核对" in text
    assert set(cfg.groups) == {"各有关部门", "乡镇人民政府"}
    assert cfg.groups["各有关部门"].members == ["县政府办公室", "县司法局"]
    assert cfg.groups["乡镇人民政府"].members == []
    assert all(not u.email for u in cfg.units.values())
    assert cfg.section("mail").get("from") == "" and cfg.section("mail").get("contact") == ""
    assert "西平县" in summary and "请核对" in summary
    # the notice parsed with its own config: every unit known, the groups groups
    plan = parse_notice(XIPING, cfg)
    t1 = plan.tasks()[0]
    assert all(u.canonical for u in t1.units) and [u.group for u in t1.units] == [False, False, True, True]
    with pytest.raises(InputError, match="已經存在|已经存在"):
        write_draft(XIPING, out)


def test_build_refuses_another_districts_notice_before_writing(tmp_path):
    out = tmp_path / "台账.xlsx"
    with pytest.raises(InputError) as e:
        build_master(XIPING, out, load_config())
    msg = str(e.value)
    assert "西平县" in msg and "舟山市普陀区" in msg and "config draft" in msg and "没有写出任何文件" in msg
    assert not out.exists()
    # the seed, simplified or not, is 普陀區's: no complaint
    seed = parse_notice(None)
    assert config_mismatch(seed, load_config()) is None
    # a notice without a place whose units are mostly unknown is said too
    plan = parse_text("一、加强监管\n1.开展检查。(责任单位:县市场监管局、县公安局、县农业局)")
    assert "不在配置文件" in config_mismatch(plan, load_config())


def test_cli_drafts_then_builds_with_the_draft(tmp_path):
    p = cli("build", XIPING, "-o", "台账.xlsx", cwd=tmp_path)
    assert p.returncode == 1 and "config draft" in p.stderr and not (tmp_path / "台账.xlsx").exists()
    assert "Traceback" not in p.stderr
    p = cli("config", "draft", XIPING, "-o", "西平县.yaml", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    p = cli("build", XIPING, "-o", "台账.xlsx", "--config", "西平县.yaml", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    # no form for a group, and no 普陀 unit listed as without tasks
    assert "没有任务的单位" not in p.stderr and "乡镇人民政府」没有成员" in p.stderr
    wb = openpyxl.load_workbook(tmp_path / "台账.xlsx")
    assert "六横镇" not in "".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                                  if c.value)
    p = cli("build", XIPING, "-o", "x.xlsx", "--other-district", cwd=tmp_path)
    assert p.returncode == 0, p.stderr


def test_master_shows_warnings_on_the_cells_to_correct(tmp_path):
    cfg = load_config()
    out = tmp_path / "m.xlsx"
    plan = parse_notice(CORPUS / "fujian_canzhuo_gwyoo.html", cfg)
    build_master(plan, out, cfg)
    wb = openpyxl.load_workbook(out)
    sheet = wb[wb.sheetnames[1]]
    noted = {c.coordinate: c.comment.text for row in sheet.iter_rows() for c in row if c.comment}
    task = next(t for t in plan.tasks() if t.warnings)
    assert any("省卫生厅" in text for text in noted.values()), noted
    # the 说明 sheet links each task's warning to its row
    links = [c.hyperlink.location for row in wb[wb.sheetnames[0]].iter_rows() for c in row if c.hyperlink
             and c.value and task.id in str(c.value)]
    assert links and all("!" in x for x in links)
