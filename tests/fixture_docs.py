"""Word documents for the reader tests, made with python-docx the way offices make them."""
from __future__ import annotations

from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

NOTICES = Path(__file__).resolve().parent / "notices"


def _font(run, name="仿宋_GB2312", size=16):
    run.font.name = name
    run.font.size = Pt(size)
    run._element.rPr.rFonts.set(qn("w:eastAsia"), name)


def docx_from_lines(path: Path, lines: list[str]) -> Path:
    """One paragraph per line: titles centred in 方正小標宋, headings in 黑體, text in 仿宋."""
    document = docx.Document()
    for line in lines:
        line = line.strip()
        para = document.add_paragraph()
        if not line:
            continue
        run = para.add_run(line)
        if line.endswith(("通知", "工作要点", "工作要點")) and len(line) < 60:
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(run, "方正小标宋简体", 22)
        elif line[:1] in "一二三四五六七八九" and line[1:2] == "、":
            _font(run, "黑体")
        else:
            para.paragraph_format.first_line_indent = Pt(32)
            _font(run)
    document.save(path)
    return path


def docx_from_notice(path: Path, notice_name: str) -> Path:
    lines = (NOTICES / notice_name).read_text(encoding="utf-8").splitlines()
    return docx_from_lines(path, lines)


TABLE_ROWS = [
    ("一、推进政府职能转变", None, None, None, None),
    ("1", "深化“证照分离”改革,实现涉企经营许可事项全覆盖。", "区市场监管分局", "区审招办、区级有关单位", "2022年6月底前"),
    ("2", "全面推行证明事项告知承诺制,编制告知承诺事项清单。", "区司法局", "区级有关单位", "2022年12月底前"),
    ("二、规范行政执法", None, None, None, None),
    ("3", "开展行政执法案卷评查,案卷合格率达到95%以上。", "区司法局", "区综合行政执法局", "长期坚持"),
    ("4", "推进“大综合一体化”行政执法改革,\n完成执法事项划转。", "区综合行政执法局", "区委编办、各镇(街道)", "第三季度"),
    ("5", "建立行政执法协调监督工作体系。", "区司法局", "", ""),
]


def docx_with_task_table(path: Path) -> Path:
    """A notice whose tasks sit in a table: 序号 | 工作任务 | 牵头单位 | 配合单位 | 完成时限, with
    section rows merged across the table, as many district offices publish them."""
    document = docx.Document()
    for text in ["舟山市普陀区人民政府办公室关于印发2022年普陀区法治政府建设工作要点的通知",
                 "舟普政办〔2022〕9号",
                 "各镇人民政府、街道办事处,区属功能区管委会,区属各单位:",
                 "《2022年普陀区法治政府建设工作要点》已经区政府同意,现印发给你们,请认真贯彻执行。",
                 "舟山市普陀区人民政府办公室",
                 "2022年3月10日",
                 "2022年普陀区法治政府建设工作要点",
                 "2022年是党的二十大召开之年,全区法治政府建设要坚持以习近平法治思想为指导。"]:
        _font(document.add_paragraph().add_run(text))
    table = document.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, head in zip(table.rows[0].cells, ["序号", "工作任务", "牵头单位", "配合单位", "完成时限"]):
        cell.text = head
    for row in TABLE_ROWS:
        cells = table.add_row().cells
        if row[1] is None:
            merged = cells[0].merge(cells[4])
            merged.text = row[0]
            continue
        for cell, value in zip(cells, row):
            cell.text = value
    _font(document.add_paragraph().add_run("各单位要明确专人负责,未明确完成时限的任务原则上应于2022年11月30日前完成。"))
    document.save(path)
    return path


def _numbering_definitions(document) -> tuple[str, str]:
    """Add a two-level Chinese outline list (一、 / (一)) to the document; returns the numIds."""
    numbering = document.part.numbering_part.element
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), "90")
    for ilvl, (fmt, text) in enumerate([("chineseCounting", "%1、"), ("chineseCounting", "(%2)")]):
        lvl = OxmlElement("w:lvl")
        lvl.set(qn("w:ilvl"), str(ilvl))
        for tag, val in (("w:start", "1"), ("w:numFmt", fmt), ("w:lvlText", text)):
            el = OxmlElement(tag)
            el.set(qn("w:val"), val)
            lvl.append(el)
        abstract.append(lvl)
    numbering.insert(0, abstract)
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), "90")
    ref = OxmlElement("w:abstractNumId")
    ref.set(qn("w:val"), "90")
    num.append(ref)
    numbering.append(num)
    return "90", "90"


def _set_num(para, num_id: str, ilvl: int) -> None:
    ppr = para._p.get_or_add_pPr()
    num_pr = OxmlElement("w:numPr")
    lvl = OxmlElement("w:ilvl")
    lvl.set(qn("w:val"), str(ilvl))
    nid = OxmlElement("w:numId")
    nid.set(qn("w:val"), num_id)
    num_pr.append(lvl)
    num_pr.append(nid)
    ppr.append(num_pr)


def docx_with_auto_numbering(path: Path) -> Path:
    """Headings numbered by Word's list format (the 一、 and (一) are not typed in the text)."""
    document = docx.Document()
    num_id, _ = _numbering_definitions(document)
    document.add_paragraph("2021年普陀区法治政府建设工作要点")
    for ilvl, text in [
        (0, "健全依法决策机制"),
        (1, "严格落实重大行政决策程序。制定年度重大行政决策事项目录(责任单位:区政府办、区司法局)。"),
        (1, "加强合法性审查。合法性审核率达到100%(责任单位:区司法局)。"),
        (0, "严格规范公正文明执法"),
        (1, "深化综合行政执法改革。9月30日前完成执法事项划转(责任单位:区综合行政执法局、区委编办)。"),
    ]:
        _set_num(document.add_paragraph(text), num_id, ilvl)
    document.save(path)
    return path
