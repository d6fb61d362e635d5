"""Notices as web and sharing sites give them: what the copy adds goes, the notice stays. Each
case is a shape found in the corpus of real notices (tests/notices/corpus/) or named in issue 15,
written small here so that a failure points at one thing."""
from putuo_xl.plan.cleaning import _clean_lines, _repair_gbk_shift
from putuo_xl.plan.notice import read_notice_bytes
from putuo_xl.plan.parser import parse_text


def lines(text):
    return _clean_lines(text.splitlines())


def test_gbk_read_one_byte_out_of_step_is_repaired():
    # the lost first byte of a full-width indent shows as ?, the rest is shifted by one byte
    assert _repair_gbk_shift(" ?。ㄒ唬┩七M行政審批") == " \u3000（一）推進行政審批"
    # a copy that made the shifted full-width comma half-width
    assert _repair_gbk_shift("之一?,F結合我區實際") == "之一。現結合我區實際"
    # a question mark in text stays
    assert _repair_gbk_shift("是否?那么 OK?A") == "是否?那么 OK?A"


def test_line_leading_question_marks_and_ideographic_spaces_go():
    assert lines("??一、總體要求\n\u3000\u3000（一）指導思想。") == ["一、總體要求", "（一）指導思想。"]


def test_leftover_markup_in_a_text_copy():
    text = "<p>一、依法履職</p><p>（一）加強領導。健全機制。（責任單位：縣司法局）</p><br/>&nbsp;"
    assert [x for x in lines(text) if x] == ["一、依法履職", "（一）加強領導。健全機制。（責任單位：縣司法局）"]


def test_site_furniture_lines_go():
    text = ("首頁 > 政務公開 > 政策文件\n政務微信 / 政務微博 / ×\n• 设为首页\n  • 加入收藏\n"
            "閱讀次數：12\n字體大小：【大 中 小】\n分享:\n一、依法履職")
    assert lines(text) == ["一、依法履職"]


def test_document_sharing_site_furniture_goes():
    text = ("工作方案.docx\n上传人:b****5 文档编号:11623267 上传时间:2023-03-29 格式:DOCX 页数:8\n"
            "下载 相关 举报\n工作方案.docx_第1页\n第1页 / 共8页\n点击查看更多>>\n下载资源\n资源描述\n"
            "《工作方案.docx》由会员分享,可在线阅读,更多相关《工作方案.docx(8页珍藏版)》请在冰豆网上搜索。\n"
            "导语:本文来源于网友上传,不代表本站观点,欢迎参考。\n(上接第一版)\n【法宝引证码】CLI.1.304262\n"
            "一、总体要求")
    assert lines(text) == ["一、总体要求"]


def test_a_title_repeated_and_a_pasted_page_header():
    text = ("关于印发工作要点的通知\n关于印发工作要点的通知\n"
            "对有明确时间节点的重许昌市人民政府文件许政〔2020〕21号大工作实行专项督查。")
    assert lines(text) == ["关于印发工作要点的通知", "对有明确时间节点的重大工作实行专项督查。"]


def test_casino_spam_in_place_of_the_issuer():
    page = ("<html><head><title>bet 365亚洲版官网办公室关于印发2017年定陶区政务公开工作要点的通知</title></head>"
            "<body><div><p>bet 365亚洲版官网办公室</p><p>关于印发2017年定陶区政务公开工作要点的通知</p>"
            "<p>菏泽市定陶区人民政府办公室</p><p>2017年8月28日</p><p>一、围绕稳增长推进政务公开</p>"
            "<p>（一）加强预期引导。解读经济政策。（责任单位：区发改局）</p></div></body></html>")
    notice = read_notice_bytes(page.encode("utf-8"), "定陶.html")
    assert not any("365" in x for x in notice.lines) and "title" not in notice.hints


def test_pinyin_glosses_go_also_inside_unit_names():
    plan = parse_text("一、推進公開\n(一)推進清單公開。公開權力清單。(國務院審改辦、人(rén)力資源社會保障部)")
    assert [u.name for u in plan.tasks()[0].units] == ["國務院審改辦", "人力資源社會保障部"]


def test_years_masked_by_a_content_farm_are_said():
    plan = parse_text("制定*年度工作方案如下:\n一、治理污染\n(一)加快基地建设。(责任单位:县农业局)")
    assert any("星號" in w or "星号" in w for w in plan.warnings)


def test_a_document_run_into_one_paragraph():
    text = ("按照部署,制定本方案(202*-2023年)。一、指导思想围绕总要求,提高服务水平,助推乡村振兴,"
            "以优质高效的法律服务为基层治理提供支撑,让群众感受到法治的温度。二、发展目标发挥职能作用,"
            "使基层干部法治观念进一步增强。三、主要任务(一)提升乡镇综合执法能力。编制乡镇权责清单;"
            "每年开展至少一次执法能力法治培训。(责任单位:区司法局)")
    plan = parse_text(text)
    task = plan.tasks()[0]
    assert plan.sections[-1].title == "主要任务" and task.text.startswith("编制乡镇权责清单")
    assert [(i.value, i.unit) for i in task.indicators] == [(1.0, "次")]


def test_a_page_that_begins_inside_the_body():
    plan = parse_text("(上接第一版)\n(三)强化宪法学习宣传教育\n4. 开展宪法宣传。\n5. 加强青少年教育。\n"
                      "三、完善法规体系\n(一)完善立法格局\n1. 加强立法领导。")
    assert [t.number for t in plan.tasks()] == ["4.", "5.", "1."]
