"""Reading notices: text encodings, the published web page, Word documents, and refusing the rest."""
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from fixture_docs import docx_from_notice, docx_with_auto_numbering, docx_with_task_table
from putuo_xl.errors import InputError
from putuo_xl.plan.notice import ACCEPTED, default_notice_path, read_notice, read_notice_bytes
from putuo_xl.plan.parser import parse_notice
from putuo_xl.text import narrow

NOTICES = Path(__file__).resolve().parent / "notices"
SEED = default_notice_path()
SEED_TEXT = SEED.read_text(encoding="utf-8")
A_TEXT = (NOTICES / "a_seed_style.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_plan():
    return parse_notice()


@pytest.fixture(scope="module")
def a_plan():
    return parse_notice(NOTICES / "a_seed_style.txt")


# -- plain text in several encodings -------------------------------------------------

@pytest.mark.parametrize("encoding, expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030"),
    ("utf-16", "utf-16"),
])
def test_simplified_text_in_any_common_encoding(tmp_path, a_plan, encoding, expected):
    path = tmp_path / "要点.txt"
    path.write_bytes(A_TEXT.encode(encoding))
    notice = read_notice(path)
    assert notice.encoding == expected
    assert notice.lines[0] == "舟山市普陀区人民政府办公室关于印发2021年舟山市普陀区法治政府建设工作要点的通知"
    assert parse_notice(path).to_dict() | {"source": None} == a_plan.to_dict() | {"source": None}


@pytest.mark.parametrize("encoding", ["gb18030", "big5", "utf-8-sig"])
def test_traditional_seed_in_gb18030_big5_and_bom(tmp_path, seed_plan, encoding):
    path = tmp_path / "notice.txt"
    # without the page's last line: its injected spam is in simplified characters Big5 lacks
    text = SEED_TEXT[:SEED_TEXT.index("Produced By")]
    path.write_bytes(text.encode(encoding, errors="strict"))
    plan = parse_notice(path)
    assert plan.fingerprint() == seed_plan.fingerprint()
    assert len(plan.tasks()) == 51 and plan.doc_number == "舟普政辦〔2020〕31號"


def test_windows_line_endings_and_fullwidth_spaces(tmp_path, a_plan):
    path = tmp_path / "crlf.txt"
    text = "\r\n".join("\u3000\u3000" + line for line in A_TEXT.splitlines())
    path.write_bytes(text.encode("gbk"))
    assert parse_notice(path).fingerprint() == a_plan.fingerprint()


# -- the published web page -----------------------------------------------------------

FURNITURE = ["當前位置", "首頁", "瀏覽次數", "字體", "關閉", "打印", "版權所有", "網站標識碼", "相關鏈接",
             "索引號", "無障礙", "搜索", "Produced", "腾博", "澳門", "百家樂", "主辦單位", "統計代碼", "信息來源"]


def test_cms_page_keeps_the_article_and_drops_the_rest(seed_plan):
    notice = read_notice(NOTICES / "cms_page_utf8.html")
    text = "\n".join(notice.lines)
    for word in FURNITURE:
        assert word not in text, word
    assert notice.lines[0].startswith("舟山市普陀區人民政府辦公室")
    assert "各鎮人民政府、街道辦事處,區屬功能區管委會,區屬各單位:" in notice.lines
    assert notice.lines[-1] == "附件:舟普政辦〔2020〕31號.pdf"
    plan = parse_notice(NOTICES / "cms_page_utf8.html")
    # the same plan as the bundled text copy of the same page
    assert plan.fingerprint() == seed_plan.fingerprint()
    assert (len(plan.sections), sum(len(s.subsections) for s in plan.sections), len(plan.tasks())) == (6, 20, 51)
    assert plan.title == "2020年舟山市普陀區法治政府建設工作要點"
    assert plan.issuer == "舟山市普陀區人民政府辦公室"
    assert plan.date == "2020-07-15"
    assert plan.doc_number == "舟普政辦〔2020〕31號"
    assert plan.default_deadline == "2020-12-31"
    assert plan.warnings == seed_plan.warnings


def test_cms_page_in_gbk_with_gb2312_meta(a_plan):
    raw = (NOTICES / "cms_page_gbk.html").read_bytes()
    assert b"charset=gb2312" in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    notice = read_notice(NOTICES / "cms_page_gbk.html")
    assert notice.encoding == "gb18030"
    text = "\n".join(notice.lines)
    for word in ["当前位置", "浏览次数", "字体", "关闭", "打印", "版权所有", "网站标识码", "腾博", "澳门", "索引号"]:
        assert word not in text, word
    plan = parse_notice(NOTICES / "cms_page_gbk.html")
    assert plan.script == "simplified"
    assert plan.fingerprint() == a_plan.fingerprint()
    assert plan.title == "2021年舟山市普陀区法治政府建设工作要点"
    assert plan.issuer == "舟山市普陀区人民政府办公室"
    assert plan.doc_number == "舟普政办〔2021〕12号"
    # the page's publication date, not the date the notice was signed
    assert plan.date == "2021-03-29"
    # full-width commas, as the page has them
    assert plan.addressees == "各镇人民政府、街道办事处\uff0c区属功能区管委会\uff0c区属各单位"


def test_page_with_br_lines_split_containers_and_info_table():
    """An older table-layout page: the notice and its attachment in sibling divs, lines split by
    <br>, metadata only in the information table."""
    lines = A_TEXT.splitlines()
    i = lines.index("2021年舟山市普陀区法治政府建设工作要点")
    cover = "<br>".join(x for x in lines[:i] if not x.startswith("舟普政办"))
    body = "<br>\n".join(lines[i:])
    html = f"""<html><head><meta charset="utf-8"><title>关于印发2021年工作要点的通知 - 普陀区</title></head>
<body><table><tr><td><a href="/">首页</a> | <a href="/zwgk/">政务公开</a> | <a>政策解读</a></td></tr></table>
<table class="info"><tr><th>索引号</th><td>330903/2021-00012</td><th>发布机构</th><td>区政府办公室</td></tr>
<tr><th>文号</th><td>舟普政办〔2021〕12号</td><th>成文日期</th><td>2021-03-26</td></tr></table>
<table width="100%"><tr><td>当前位置:首页 &gt; 政府文件</td></tr>
<tr><td><div class="wz"><div class="tz">{cover}</div><div class="fj">{body}</div></div></td></tr>
<tr><td>【关闭窗口】【打印本页】</td></tr></table>
<div>网站标识码:3309030001 版权所有:舟山市普陀区人民政府</div></body></html>"""
    notice = read_notice_bytes(html.encode("utf-8"), "page.htm")
    from putuo_xl.plan.parser import parse_text
    plan = parse_text(notice)
    assert len(plan.tasks()) == 9
    assert plan.doc_number == "舟普政办〔2021〕12号"
    assert plan.issuer == "舟山市普陀区人民政府办公室"
    assert plan.date == "2021-03-26"
    assert plan.default_deadline == "2021-11-30"
    assert "关闭窗口" not in "\n".join(notice.lines)


# -- Word -------------------------------------------------------------------------------

def test_docx_paragraphs_parse_like_the_text(tmp_path, a_plan):
    path = docx_from_notice(tmp_path / "要点.docx", "a_seed_style.txt")
    notice = read_notice(path)
    assert notice.kind == "docx"
    plan = parse_notice(path)
    assert plan.to_dict() | {"source": None} == a_plan.to_dict() | {"source": None}


def test_docx_seed_in_traditional(tmp_path, seed_plan):
    path = docx_from_notice(tmp_path / "seed.docx", "../../putuo_xl/data/notice_2020_putuo.txt")
    plan = parse_notice(path)
    assert plan.fingerprint() == seed_plan.fingerprint()


def test_docx_task_table(tmp_path):
    plan = parse_notice(docx_with_task_table(tmp_path / "表格.docx"))
    assert plan.title == "2022年普陀区法治政府建设工作要点"
    assert plan.doc_number == "舟普政办〔2022〕9号"
    assert plan.default_deadline == "2022-11-30"
    assert [s.title for s in plan.sections] == ["推进政府职能转变", "规范行政执法"]
    tasks = plan.tasks()
    assert [t.id for t in tasks] == ["1.0.1", "1.0.2", "2.0.1", "2.0.2", "2.0.3"]
    assert [t.number for t in tasks] == ["1.", "2.", "3.", "4.", "5."]
    t1 = tasks[0]
    assert t1.text == "深化“证照分离”改革,实现涉企经营许可事项全覆盖。"
    assert [(u.name, u.canonical, u.role, u.group) for u in t1.units] == [
        ("区市场监管分局", "區市場監管分局", "lead", False), ("区审招办", "區審招辦", "co", False),
        ("区级有关单位", "區級有關單位", "co", True)]
    assert (t1.deadline, t1.deadline_text) == ("2022-06-30", "2022年6月底前")
    assert tasks[1].deadline == "2022-12-31"
    # 长期坚持: recurring work, no date
    assert tasks[2].recurring and tasks[2].deadline is None and tasks[2].deadline_text == "长期坚持"
    assert [i.value for i in tasks[2].indicators] == [95]
    # a cell of two paragraphs is one task text; 第三季度 in a deadline column = end of Q3
    assert tasks[3].text == "推进“大综合一体化”行政执法改革,完成执法事项划转。"
    assert tasks[3].deadline == "2022-09-30"
    assert [u.canonical for u in tasks[3].units] == ["區綜合行政執法局", "區委編辦", "各鎮(街道)"]
    # no deadline in the row: the notice's default
    assert tasks[4].deadline == "2022-11-30" and tasks[4].deadline_text is None
    assert [(u.name, u.role) for u in tasks[4].units] == [("区司法局", "lead")]
    # every task taken as recurring work is named for checking
    assert [narrow(w) for w in plan.warnings] == ["任务 2.0.1:按「长期坚持」推断为经常性工作,无统一完成时限,请核对。"]


def test_docx_word_list_numbering(tmp_path):
    notice = read_notice(docx_with_auto_numbering(tmp_path / "编号.docx"))
    assert notice.lines[1:4] == ["一、健全依法决策机制",
                                 "(一)严格落实重大行政决策程序。制定年度重大行政决策事项目录(责任单位:区政府办、区司法局)。",
                                 "(二)加强合法性审查。合法性审核率达到100%(责任单位:区司法局)。"]
    assert notice.lines[4:6] == ["二、严格规范公正文明执法",
                                 "(一)深化综合行政执法改革。9月30日前完成执法事项划转(责任单位:区综合行政执法局、区委编办)。"]
    plan = parse_notice(tmp_path / "编号.docx")
    assert [t.id for t in plan.tasks()] == ["1.1.1", "1.2.1", "2.1.1"]
    assert plan.task_index()["2.1.1"].deadline == "2021-09-30"


# -- what is refused -------------------------------------------------------------------

def _png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def _xlsx() -> bytes:
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active["A1"] = "工作任務"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("通知.txt", "一、測試")
    return buf.getvalue()


BAD_FILES = {
    "空文件.txt": (b"", "空"),
    "只有空白.txt": (b"  \r\n\t\n \xe3\x80\x80\n", "沒有可讀的文字"),
    "通知.pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
    "掃描件.png": (_png(), "圖片"),
    "照片.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00" + bytes(64), "圖片"),
    "random.bin": (bytes((i * 7919 + 13) % 256 for i in range(4096)), "二進制"),
    "high-bytes.dat": (bytes(0x80 | ((i * 104729) % 128) for i in range(6000)), "編碼"),
    "台賬.xlsx": (_xlsx(), "Excel"),
    "舊版.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), ".docx"),
    "壓縮包.zip": (_zip(), "壓縮包"),
    "壞的.docx": (b"PK\x03\x04" + os.urandom(200), "損壞"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_refused_with_a_chinese_message(tmp_path, name):
    data, words = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        read_notice(path)
    message = narrow(str(err.value))
    assert narrow(words) in message
    assert name in message                   # names the file
    assert narrow(ACCEPTED) in message       # says what is accepted
    assert ".txt" in message and ".docx" in message and ".html" in message


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="找不到文件"):
        read_notice(tmp_path / "沒有這個文件.txt")
    with pytest.raises(InputError, match="文件夾"):
        read_notice(tmp_path)


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "putuo_xl.cli", *map(str, args)], capture_output=True,
                          text=True, encoding="utf-8", cwd=cwd)


@pytest.mark.parametrize("name", ["空文件.txt", "通知.pdf", "掃描件.png", "random.bin", "台賬.xlsx"])
def test_cli_refuses_with_exit_1_and_no_traceback(tmp_path, name):
    data, words = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(data)
    for extra in ([], ["--json"]):
        out = _cli("parse", path, *extra)
        assert out.returncode == 1
        assert out.stdout == ""
        assert "Traceback" not in out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and narrow(lines[0]).startswith("錯誤:")
        assert words in lines[0] and name in lines[0] and "可以讀取的格式" in lines[0]


def test_cli_missing_notice_is_exit_1(tmp_path):
    out = _cli("parse", tmp_path / "nope.html")
    assert out.returncode == 1 and "Traceback" not in out.stderr and "找不到文件" in out.stderr


def test_cli_reads_html_and_docx(tmp_path):
    out = _cli("parse", NOTICES / "cms_page_gbk.html", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["script"] == "simplified" and data["doc_number"] == "舟普政办〔2021〕12号"
    path = docx_with_task_table(tmp_path / "表格.docx")
    out = _cli("parse", path, "--json")
    assert out.returncode == 0, out.stderr
    assert len([t for s in json.loads(out.stdout)["sections"] for ss in s["subsections"] for t in ss["tasks"]]) == 5


# -- a page saved as one .mht file; files cut off in the middle of a character ------------------

def test_mht_saved_page(tmp_path, a_plan):
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText
    html = (NOTICES / "cms_page_gbk.html").read_bytes().decode("gb18030")
    message = MIMEMultipart("related")
    message["Subject"] = "saved page"
    part = MIMEText(html, "html", "gbk")
    part.set_param("charset", "gb2312")              # as saved pages declare it, though the bytes are GBK
    message.attach(part)
    path = tmp_path / "通知.mht"
    path.write_bytes(message.as_bytes())
    plan = parse_notice(path)
    assert plan.fingerprint() == a_plan.fingerprint()
    assert plan.doc_number == "舟普政办〔2021〕12号"


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_file_cut_in_the_middle_of_a_character(tmp_path, encoding):
    data = A_TEXT.encode(encoding)
    cut = data.index("持证率".encode(encoding)) + 1       # one byte into a character
    path = tmp_path / "cut.txt"
    path.write_bytes(data[:cut])
    plan = parse_notice(path)
    last = plan.tasks()[-1]
    assert last.truncated and last.text.endswith("行政执法人员")
    assert any("截断" in w for w in last.warnings)
