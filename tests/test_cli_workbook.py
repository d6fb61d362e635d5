"""putuo-xl build / forms from the command line (click's runner, in-process)."""
from __future__ import annotations

from click.testing import CliRunner

from putuo_xl.cli.commands import main
from putuo_xl.text import narrow


def test_build_then_forms(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    r = runner.invoke(main, ["build"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "任務分解台賬.xlsx").exists()
    assert "6 個章節、51 項任務、10 個量化指標、44 個責任單位" in narrow(r.output)
    assert "任務分解台賬.xlsx\uff1a6 個章節" in r.output     # Chinese colon after the file name
    r = runner.invoke(main, ["forms", "任務分解台賬.xlsx", "--month", "2020-08"])
    assert r.exit_code == 0, r.output
    assert "寫出 44 份" in r.output and "台賬與生成時一致" in narrow(r.output)
    assert len(list((tmp_path / "2020-08_月報").glob("*.xlsx"))) == 44
    r = runner.invoke(main, ["forms", "任務分解台賬.xlsx", "--month", "2020-08", "--unit", "區司法局"])
    assert r.exit_code == 0 and "已存在未覆蓋 1 份" in r.output and "--force" in narrow(r.output)


def test_forms_bad_month_and_missing_master(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["forms", str(tmp_path / "x.xlsx"), "--month", "2020-8"])
    assert r.exit_code == 1
    assert "錯誤:月份「2020-8」格式不對,應寫成 YYYY-MM,例如 2020-08。" in narrow(r.output)
    r = runner.invoke(main, ["forms", str(tmp_path / "x.xlsx"), "--month", "2020-08"])
    assert r.exit_code == 1 and "找不到台賬文件" in narrow(r.output)


def test_build_from_plan_yaml_with_output(tmp_path):
    runner = CliRunner()
    plan = tmp_path / "plan.yaml"
    assert runner.invoke(main, ["parse", "-o", str(plan)]).exit_code == 0
    out = tmp_path / "sub" / "台賬.xlsx"
    r = runner.invoke(main, ["build", str(plan), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert out.exists()
