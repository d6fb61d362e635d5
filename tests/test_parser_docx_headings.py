"""A Word notice whose structure is in its paragraph styles (Heading 1 / Heading 2, or WPS's
标题 1 / 标题 2) rather than in typed 一、 (一) numbers."""
import docx
from docx.enum.style import WD_STYLE_TYPE

from putuo_xl.plan.parser import parse_notice

BODY = [
    (0, "2021年普陀区法治政府建设工作要点"),
    (None, "2021年全区法治政府建设要坚持以习近平法治思想为指导,扎实推进依法行政。"),
    (1, "推进政府职能转变"),
    (2, "深化“放管服”改革"),
    (None, "推进“一件事”集成改革,新增联办事项20件以上(责任单位:区审招办)。"),
    (None, "深化“证照分离”改革(责任单位:区市场监管分局、区审招办)。"),
    (2, "优化法治化营商环境"),
    (None, "推进一般企业投资项目审批“最多80天”改革(责任单位:区发改局)。"),
    (1, "规范行政执法"),
    (2, "加强执法监督"),
    (None, "开展行政执法案卷评查,6月底前完成(责任单位:区司法局)。"),
    (None, "各地各部门要高度重视,原则上应在2021年年底前完成。"),
]


def heading_docx(path, style_names=None):
    document = docx.Document()
    if style_names:
        for name in style_names.values():
            document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    for level, text in BODY:
        if level is None:
            document.add_paragraph(text)
        elif level == 0:
            document.add_heading(text, level=0)
        elif style_names:
            document.add_paragraph(text, style=style_names[level])
        else:
            document.add_heading(text, level=level)
    document.save(path)
    return path


def check(plan):
    assert plan.title == "2021年普陀区法治政府建设工作要点"
    assert [s.title for s in plan.sections] == ["推进政府职能转变", "规范行政执法"]
    assert [(ss.id, ss.title) for s in plan.sections for ss in s.subsections] == [
        ("1.1", "深化“放管服”改革"), ("1.2", "优化法治化营商环境"), ("2.1", "加强执法监督")]
    assert [t.id for t in plan.tasks()] == ["1.1.1", "1.1.2", "1.2.1", "2.1.1"]
    idx = plan.task_index()
    assert [u.canonical for u in idx["1.1.2"].units] == ["區市場監管分局", "區審招辦"]
    assert idx["2.1.1"].deadline == "2021-06-30" and plan.default_deadline == "2021-12-31"
    assert plan.preamble.startswith("2021年全区法治政府建设")


def test_heading_styles_make_sections_and_subsections(tmp_path):
    check(parse_notice(heading_docx(tmp_path / "标题样式.docx")))


def test_wps_chinese_heading_style_names(tmp_path):
    path = heading_docx(tmp_path / "wps.docx", {1: "标题 1", 2: "标题 2"})
    check(parse_notice(path))


def test_typed_numbers_win_over_heading_styles(tmp_path):
    """Headings that carry their own 一、 (一) are read as written, no numbers are added."""
    document = docx.Document()
    document.add_heading("2021年普陀区法治政府建设工作要点", level=0)
    document.add_heading("一、推进政府职能转变", level=1)
    document.add_heading("（一）深化“放管服”改革", level=2)
    document.add_paragraph("推进“一件事”集成改革(责任单位:区审招办)。")
    document.add_heading("二、规范行政执法", level=1)
    document.add_paragraph("开展行政执法案卷评查(责任单位:区司法局)。")
    path = tmp_path / "typed.docx"
    document.save(path)
    plan = parse_notice(path)
    assert [s.number for s in plan.sections] == ["一", "二"]
    assert [t.id for t in plan.tasks()] == ["1.1.1", "2.0.1"]


def test_title_in_heading_1_sections_in_heading_2(tmp_path):
    """Some offices put the document title in Heading 1: the structure starts one level lower."""
    document = docx.Document()
    for level, text in BODY:
        if level is None:
            document.add_paragraph(text)
        else:
            document.add_heading(text, level=level + 1)
    document.add_heading("附件", level=2)
    document.add_paragraph("考核评分细则")
    path = tmp_path / "shifted.docx"
    document.save(path)
    check(parse_notice(path))
