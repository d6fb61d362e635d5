"""Units as real notices name them: before the work (由A負責,B配合,… / A承辦,B協辦), after each
sentence ((區衛生健康委負責)), several groups in one item, abbreviations that lean on the name
before them, a convention stated with the list, a name with brackets, qualifiers on a unit line,
and the deeper hierarchies the units sit in."""
from putuo_xl.plan.parser import parse_text


def units(task):
    return [(u.name, u.role) for u in task.units]


def test_units_named_before_the_work():
    plan = parse_text("一、治理污染\n(一)由省經貿委負責,省農業廳、衛生廳、環保局配合,加快無公害基地建設。\n"
                      "(二)省公安廳承辦,省工商局協辦。嚴厲打擊違法行為。")
    t1, t2 = plan.tasks()
    assert t1.text == "加快無公害基地建設"
    # 衛生廳 and 環保局 lean on 省農業廳: the province's offices, and the parser says so
    assert units(t1) == [("省經貿委", "lead"), ("省農業廳", "co"), ("省衛生廳", "co"), ("省環保局", "co")]
    assert any("「衛生廳」按前面的名稱讀作「省衛生廳」" in w for w in t1.warnings)
    assert units(t2) == [("省公安廳", "lead"), ("省工商局", "co")]


def test_units_on_their_own_line_before_the_work_apply_to_the_part():
    plan = parse_text("一、治理畜牧业产品污染\n由乡三农服务中心承办,乡畜牧站、卫生院配合。\n治理工作目标:\n"
                      "全乡生猪定点屠宰率达100%。")
    (t,) = plan.tasks()
    assert units(t) == [("乡三农服务中心", "lead"), ("乡畜牧站", "co"), ("卫生院", "co")]
    assert [i.value for i in t.indicators] == [100.0]


def test_several_unit_groups_in_one_numbered_item():
    plan = parse_text("一、加強監管\n1.由市場監管局負責,區農業局配合,開展抽檢;區衛健局負責,區教育局配合,"
                      "加強學校食堂監管。")
    (t,) = plan.tasks()
    assert units(t) == [("市場監管局", "lead"), ("區農業局", "co"), ("區衛健局", "lead"), ("區教育局", "co")]


def test_a_unit_parenthesis_after_each_sentence():
    plan = parse_text("一、強化執法\n1.規範執法行為。開展執法檢查。(區衛生健康委負責)加強案卷評查。(區市場監管局負責)")
    t1, t2 = plan.tasks()
    assert (t1.text, units(t1)) == ("規範執法行為。開展執法檢查。", [("區衛生健康委", "lead")])
    assert (t2.text, units(t2)) == ("加強案卷評查。", [("區市場監管局", "lead")])


def test_a_convention_stated_with_the_list_holds_for_the_lists_after_it():
    plan = parse_text("一、明確責任\n(一)增強糧食安全意識。納入年度計劃。(市發改委、市農委、各縣市區人民政府。"
                      "排名第一的為牽頭單位,下同)\n(二)明確政府責任。加強能力建設。(市糧食局、市財政局)")
    t1, t2 = plan.tasks()
    assert units(t1) == [("市發改委", "lead"), ("市農委", "co"), ("各縣市區人民政府", "co")]
    assert units(t2) == [("市糧食局", "lead"), ("市財政局", "co")]
    assert not any("單位列表前沒有" in w for w in t2.warnings)


def test_remarks_and_a_deadline_inside_the_bracket():
    plan = parse_text("2020年工作要點\n一、深化改革\n(一)加強市場體系建設。推進統一大市場。〔責任單位:省發展改革委、省市場監管局、商務廳"
                      "按職責分工負責。具體任務均涉及相關市(州)人民政府,不再做分工,下同。〕\n"
                      "(二)加大簡政放權力度。承接下放事項。(牽頭單位:州行政審批服務局;責任單位:州司法局、"
                      "州委編辦及州直相關單位,6月底完成)")
    t1, t2 = plan.tasks()
    assert [u.name for u in t1.units] == ["省發展改革委", "省市場監管局", "省商務廳"]
    assert units(t2) == [("州行政審批服務局", "lead"), ("州司法局", "responsible"), ("州委編辦", "responsible"),
                         ("州直相關單位", "responsible")]
    assert t2.deadline_text == "6月底完成" and t2.deadline == "2020-06-30"


def test_names_with_brackets_and_names_joined_by_words():
    plan = parse_text("一、完善制度\n(一)加強領導。健全機制。(牽頭單位:縣委組織部[縣委編辦]、縣司法局)\n"
                      "(二)強化管理。落實審查制度。(市政府辦公室、市政府法制辦及相關部門和縣(區)政府)\n"
                      "(三)加強培訓。組織專題培訓。(牽頭責任單位:市人社局;協同責任單位:市財政局、各縣、市、區政府)")
    t1, t2, t3 = plan.tasks()
    assert units(t1) == [("縣委組織部[縣委編辦]", "lead"), ("縣司法局", "lead")]
    assert [u.name for u in t2.units] == ["市政府辦公室", "市政府法制辦", "相關部門", "縣(區)政府"]
    assert units(t3) == [("市人社局", "lead"), ("市財政局", "co"), ("各縣、市、區政府", "co")]


def test_a_unit_line_with_qualifiers_after_the_task():
    plan = parse_text("一、依法履職\n(一)為經濟發展提供法治保障。加強備案審查。\n"
                      "責任單位:縣政府辦公室、縣司法局、各有關部門,鄉鎮人民政府按職責分工分別負責。")
    (t,) = plan.tasks()
    assert [u.name for u in t.units] == ["縣政府辦公室", "縣司法局", "各有關部門", "鄉鎮人民政府"]
    assert t.units[-1].role == "responsible" and t.units[-1].group


def test_deeper_hierarchies():
    plan = parse_text(
        "一、強化執法\n(一)深化綜合執法改革。目標:提高執法效能。具體措施:\n"
        "1.整合執法隊伍。(1)整合職能;(2)推行清單管理;(3)開展業務培訓。(責任單位:區司法局)\n"
        "2.推行執法公示。(責任單位:區司法局、區級有關單位)\n"
        "(二)健全應急體系\n1.完善應急預案體系\n(1)加強預案管理。\n(2)推進預案演練。\n"
        "(責任單位:市直各有關單位、各縣(市、區)人民政府)")
    sub1, sub2 = plan.sections[0].subsections
    # the subsection's intro ends in 具體措施: and is not a task; (1)(2)(3) run on inside item 1
    assert sub1.intro and sub1.intro.endswith("具體措施:") and [t.number for t in sub1.tasks] == ["1.", "2."]
    assert "(2)推行清單管理" in sub1.tasks[0].text
    # 一、 > (一) > 1.標題 > (1)(2) with one unit line for the whole of item 1
    assert all([u.name for u in t.units] == ["市直各有關單位", "各縣(市、區)人民政府"] for t in sub2.tasks)
