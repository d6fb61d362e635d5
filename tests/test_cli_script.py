"""A simplified notice gets simplified wording everywhere the CLI speaks (build, forms, a broken
edit), through a real subprocess."""
from __future__ import annotations

from openpyxl import load_workbook

from putuo_xl.text import to_simplified
from test_cli_errors import ROOT, cli
from putuo_xl.text import narrow


def simplified_only(text: str) -> bool:
    return to_simplified(text) == text


def test_simplified_notice_end_to_end(tmp_path):
    seed = (ROOT / "putuo_xl" / "data" / "notice_2020_putuo.txt").read_text(encoding="utf-8")
    (tmp_path / "n.txt").write_text(to_simplified(seed), encoding="utf-8")
    p = cli("build", "n.txt", "-o", "m.xlsx", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "已写出 m.xlsx:6 个章节、51 项任务" in narrow(p.stderr) and "提示:" in narrow(p.stderr)
    assert simplified_only(p.stderr), p.stderr
    p = cli("build", "n.txt", "-o", "m.xlsx", cwd=tmp_path)        # refused: simplified too
    assert p.returncode == 1 and narrow(p.stderr).startswith("错误:文件「m.xlsx」:台账文件已经存在")
    assert simplified_only(p.stderr), p.stderr

    p = cli("forms", "m.xlsx", "--month", "2020-08", "--unit", "区司法局", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "台账与生成时一致" in p.stderr and "2020-08 月报:写出 1 份" in narrow(p.stderr)
    assert "目录:" in narrow(p.stderr) and simplified_only(p.stderr), p.stderr

    # a broken edit: an unknown unit and a task without an id
    wb = load_workbook(tmp_path / "m.xlsx")
    ws = wb["一、推进政府职能依法全面履行"]
    ws["D4"] = "区司法厅"
    ws["C30"] = "新增的任务"
    wb.save(tmp_path / "m.xlsx")
    p = cli("forms", "m.xlsx", "--month", "2020-09", cwd=tmp_path)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    first = narrow(p.stderr.splitlines()[0])
    assert first.startswith("错误:台账中有 2 处需要修改"), p.stderr
    assert "不认识的单位「区司法厅」。是不是「区司法局」?" in narrow(p.stderr)
    assert "工作表「一、推进政府职能依法全面履行」 单元格 D4" in p.stderr
    assert "没有任务编号" in p.stderr
    assert simplified_only(p.stderr), p.stderr
