"""Task tables as offices keep them: 任務分解表 and 進展情況表 in .xlsx, .docx, web pages and text,
the header row found by what its cells say (not where it is), the same plan whatever the form."""
import subprocess
import sys

import docx
import pytest
from openpyxl import Workbook

from putuo_xl.errors import InputError
from putuo_xl.plan.notice import read_notice
from putuo_xl.plan.parser import parse_notice, parse_text

HEAD = ["序号", "目标与任务", "牵头责任 单位", "配合单位", "完成时限", "完成情况"]
ROWS = [
    ["一、推进依法行政"] * 6,
    ["1", "开展规范性文件清理,合法性审核率达到100%。", "区司法局", "区级有关单位", "6月底前", "已完成"],
    ["2", "推进行政执法“三项制度”,年内组织案卷评查不少于2次。", "区司法局", "区市场监管局 区综合行政执法局",
     "2023年12月底前", "推进中"],
    ["二、强化权力监督"] * 6,
    ["3", "落实行政机关负责人出庭应诉制度。", "区政府办", "", "长期坚持", ""],
]


def progress_xlsx(path, head=HEAD, rows=ROWS, title=True):
    wb = Workbook()
    ws = wb.active
    ws.title = "进展情况表"
    if title:
        ws.append(["2023年法治政府建设任务进展情况表"])
        ws.merge_cells("A1:F1")
        ws.append(["填报单位:区司法局", "", "", "", "填报时间:2023年7月"])
    ws.append(head)
    for r in rows:
        ws.append(r)
        if len(set(r)) == 1:                         # a heading row merged across the table
            n = ws.max_row
            for c in range(2, len(head) + 1):
                ws.cell(n, c).value = None
            ws.merge_cells(start_row=n, start_column=1, end_row=n, end_column=len(head))
    wb.save(path)
    return path


def summary(plan):
    return [(t.number, t.text[:8], [(u.name, u.role) for u in t.units], t.deadline) for t in plan.tasks()]


def test_progress_table_xlsx_header_below_a_title_with_stray_spaces(tmp_path):
    plan = parse_notice(progress_xlsx(tmp_path / "进展情况表.xlsx"))
    assert [s.title for s in plan.sections] == ["推进依法行政", "强化权力监督"]
    assert summary(plan) == [
        ("1.", "开展规范性文件清", [("区司法局", "lead"), ("区级有关单位", "co")], "2023-06-30"),
        # names a cell separates by spaces are two units; 完成情况 is not the task's text
        ("2.", "推进行政执法“三", [("区司法局", "lead"), ("区市场监管局", "co"), ("区综合行政执法局", "co")],
         "2023-12-31"),
        ("3.", "落实行政机关负责", [("区政府办", "lead")], None),
    ]
    t1, t2, t3 = plan.tasks()
    assert "已完成" not in t1.text and [(i.value, i.unit) for i in t2.indicators] == [(2.0, "次")]
    assert t3.recurring


def test_the_same_table_as_word_and_as_text_gives_the_same_plan(tmp_path):
    xlsx = parse_notice(progress_xlsx(tmp_path / "表.xlsx", title=False))
    d = docx.Document()
    table = d.add_table(rows=1, cols=len(HEAD))
    for c, h in enumerate(HEAD):
        table.cell(0, c).text = h
    for r in ROWS:
        cells = table.add_row().cells
        if len(set(r)) == 1:
            cells[0].merge(cells[-1]).text = r[0]
        else:
            for c, v in enumerate(r):
                cells[c].text = v
    d.save(tmp_path / "表.docx")
    text = "\n".join(" | ".join(r if len(set(r)) > 1 else r[:1]) for r in [HEAD] + ROWS)
    for plan in (parse_notice(tmp_path / "表.docx"), parse_text(text)):
        assert summary(plan) == summary(xlsx)


def test_a_header_in_two_rows(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "工作任务", "责任分工", "", "完成时限"])
    ws.append(["", "", "牵头单位", "配合单位", ""])
    ws.merge_cells("C1:D1")
    for col in "ABE":
        ws.merge_cells(f"{col}1:{col}2")
    ws.append([1, "健全重大行政决策程序。", "区司法局", "区发改局", "9月底前"])
    wb.save(tmp_path / "t.xlsx")
    (t,) = parse_notice(tmp_path / "t.xlsx").tasks()
    assert [(u.name, u.role) for u in t.units] == [("区司法局", "lead"), ("区发改局", "co")]


def test_a_table_copied_one_cell_a_line_with_a_number_column():
    text = "\n".join(["序号", "工作任务", "牵头单位", "责任单位", "1", "健全依法决策机制。", "区司法局",
                      "区直各部门", "2", "深化政务公开。", "区政府办", "各镇(街道)", "3"])
    plan = parse_text(text)
    assert summary(plan) == [("1.", "健全依法决策机制", [("区司法局", "lead"), ("区直各部门", "responsible")], None),
                             ("2.", "深化政务公开。", [("区政府办", "lead"), ("各镇(街道)", "responsible")], None)]


def test_a_master_workbook_is_not_a_notice_and_a_workbook_without_a_task_table_is_said(tmp_path):
    wb = Workbook()
    wb.active.append(["姓名", "电话"])
    wb.create_sheet("_meta")
    wb.save(tmp_path / "台账.xlsx")
    with pytest.raises(InputError, match="任務分解台賬"):
        read_notice(tmp_path / "台账.xlsx")
    del wb["_meta"]
    wb.save(tmp_path / "通讯录.xlsx")
    with pytest.raises(InputError, match="沒有找到任務表") as e:
        read_notice(tmp_path / "通讯录.xlsx")
    assert "通讯录.xlsx" in str(e.value)


def test_cli_parse_and_build_accept_a_task_table_xlsx(tmp_path):
    path = progress_xlsx(tmp_path / "任务分解表.xlsx")
    out = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "parse", str(path), "--json"],
                         capture_output=True, text=True, encoding="utf-8")
    assert out.returncode == 0 and '"number": "3."' in out.stdout, out.stderr
    out = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "build", str(path), "-o", str(tmp_path / "台账.xlsx")],
                         capture_output=True, text=True, encoding="utf-8", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "台账.xlsx").exists() and "Traceback" not in out.stderr
