"""Read a notice file (.txt in UTF-8/GB18030/Big5, .html, .docx, .xlsx) into clean text lines.

Task tables (Word, web page, spreadsheet, or flattened into text) are read in tables.py, the
cleaning of the lines (web and PDF copies) is cleaning.py; `_clean_lines` is re-exported here.

In a .docx, Word's list numbering is rendered as the reader sees it, task tables become
numbered items, and Heading 1/2 paragraphs become 一、/（一） when the text has no such numbers.

Everything that is not a notice (PDF, image, spreadsheet, binary, empty) is refused
with a Chinese message that says what is accepted.
"""
from __future__ import annotations

import importlib.resources
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from putuo_xl.errors import InputError
from putuo_xl.plan.cleaning import _COMMON, _SPAM, _clean_lines
from putuo_xl.plan.tables import (_cn_numeral, _find_header, _html_grid, _rows_lines,
                                  _table_lines, xlsx_task_lines)
from putuo_xl.text import narrow, squeeze_cjk_spaces

ACCEPTED = ("可以讀取的格式:純文本 .txt(UTF-8 或 GBK/GB18030 編碼)、網頁 .html/.htm/.mht、Word 文檔 .docx、"
            "Excel 任務分解表 .xlsx")
DEFAULT_NOTICE = "notice_2020_putuo.txt"


@dataclass
class NoticeText:
    lines: list[str]
    source: str
    kind: str                     # txt | html | docx | xlsx
    encoding: str | None = None
    hints: dict = field(default_factory=dict)   # title/date found in page markup


def default_notice_path() -> Path:
    return Path(str(importlib.resources.files("putuo_xl").joinpath("data").joinpath(DEFAULT_NOTICE)))


# -- sniffing -----------------------------------------------------------------

_MAGIC = [
    (b"%PDF", "PDF 文件暫不支持,請另存為 Word(.docx)或複製正文為 .txt 後再試"),
    (b"\x89PNG", "這是一張圖片(PNG),不是通知文本"),
    (b"\xff\xd8\xff", "這是一張圖片(JPEG),不是通知文本"),
    (b"GIF8", "這是一張圖片(GIF),不是通知文本"),
    (b"BM", None),  # checked below with more care
    (b"II*\x00", "這是一張圖片(TIFF),不是通知文本"),
    (b"MM\x00*", "這是一張圖片(TIFF),不是通知文本"),
    (b"{\\rtf", "RTF 文件暫不支持,請在 Word 中另存為 .docx"),
    (b"\xd0\xcf\x11\xe0", "這是舊版 Office 文件(.doc/.xls),請在 Word 中另存為 .docx"),
    (b"Rar!", "這是壓縮包(RAR),請解壓後選擇其中的通知文件"),
    (b"7z\xbc\xaf", "這是壓縮包(7z),請解壓後選擇其中的通知文件"),
    (b"\x1f\x8b", "這是壓縮包(gzip),請解壓後選擇其中的通知文件"),
]


def read_notice(path: str | Path | None = None) -> NoticeText:
    """Read a notice file; None reads the bundled 2020 普陀區 notice."""
    p = Path(path) if path is not None else default_notice_path()
    name = p.name
    if not p.exists():
        raise InputError(f"找不到文件。{ACCEPTED}。", file=str(p))
    if p.is_dir():
        raise InputError(f"這是一個文件夾,請選擇通知文件。{ACCEPTED}。", file=str(p))
    data = p.read_bytes()
    return read_notice_bytes(data, name)


def read_notice_bytes(data: bytes, name: str = "通知") -> NoticeText:
    if not data.strip():
        raise InputError(f"文件是空的。{ACCEPTED}。", file=name)
    for magic, message in _MAGIC:
        if data.startswith(magic) and message:
            raise InputError(f"{message}。{ACCEPTED}。", file=name)
    if data.startswith(b"BM") and len(data) > 14 and b"\x00" in data[:64]:
        raise InputError(f"這是一張圖片(BMP),不是通知文本。{ACCEPTED}。", file=name)
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _read_zip(data, name)
    if _is_mhtml(data):
        return _read_mhtml(data, name)
    text, encoding = _decode(data, name)
    suffix = Path(name).suffix.lower()
    head = text[:2000].lower()
    if suffix in (".html", ".htm", ".shtml", ".xhtml") or re.search(r"<(!doctype html|html|body)\b", head):
        return _read_html(text, name, encoding)
    notes: list[tuple[str, str, str]] = []
    lines = _clean_lines(text.splitlines(), notes)
    if not any(lines):
        raise InputError(f"文件中沒有可讀的文字。{ACCEPTED}。", file=name)
    return NoticeText(lines=lines, source=name, kind="txt", encoding=encoding, hints={"notes": notes})


# Characters that make up a large share of any Chinese government text, in both scripts: a
# decoding that yields few of them is the wrong one (Big5 read as GBK) or not text at all.
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.I)
_ENCODING_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "x-gbk": "gb18030",
                     "big5": "big5", "big5-hkscs": "big5hkscs", "utf-8": "utf-8", "utf8": "utf-8"}


def _common_share(text: str) -> float:
    cjk = [c for c in text[:20000] if "\u3400" <= c <= "\u9fff"]
    if len(cjk) < 20:
        return 1.0
    return sum(1 for c in cjk if c in _COMMON) / len(cjk)


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    if b"\x00" in data[:4096]:
        raise InputError(f"這是二進制文件,不是通知文本。{ACCEPTED}。", file=name)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e:
        # a download cut off in the middle of a character: keep what is complete
        if e.start >= len(data) - 3 and e.reason in ("unexpected end of data", "invalid continuation byte"):
            try:
                return data[:e.start].decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                pass
    declared = _DECLARED.search(data[:4096])
    order = ["gb18030", "big5"]
    if declared:
        enc = _ENCODING_ALIASES.get(declared.group(1).decode("ascii", "ignore").lower())
        if enc and enc != "utf-8":
            order = [enc] + [e for e in order if e != enc]
    candidates = []
    for enc in order:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as e:
            if e.start < len(data) - 3:
                continue
            try:
                text = data[:e.start].decode(enc)     # cut off in the middle of a character
            except UnicodeDecodeError:
                continue
        except LookupError:
            continue
        if _looks_like_text(text):
            candidates.append((_common_share(text), -len(candidates), text, enc))
    if candidates:
        share, _, text, enc = max(candidates)
        if share >= 0.12:
            return text, enc
    raise InputError(f"無法識別文件的文字編碼(不是 UTF-8、GBK/GB18030 或 Big5),或者它不是文本文件。{ACCEPTED}。",
                     file=name)


def _looks_like_text(text: str) -> bool:
    if not text:
        return False
    controls = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\r\n\t\f\v")
    return controls <= len(text[:8192]) * 0.01


def _read_zip(data: bytes, name: str) -> NoticeText:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
    except zipfile.BadZipFile:
        raise InputError(f"文件已損壞(zip 結構不完整),請重新下載或另存。{ACCEPTED}。", file=name) from None
    if "word/document.xml" in names:
        return _read_docx(data, name)
    if any(n.startswith("xl/") for n in names):
        return _read_xlsx(zf, data, name)
    raise InputError(f"這是壓縮包,不是通知。{ACCEPTED}。", file=name)


def is_master_workbook(path: str | Path) -> bool:
    """Whether an .xlsx is a master workbook (任務分解台賬, with its hidden _meta sheet) rather
    than a 任務分解表 to be read like a notice."""
    try:
        with zipfile.ZipFile(path) as zf:
            return _has_meta_sheet(zf)
    except (OSError, zipfile.BadZipFile):
        return False


def _has_meta_sheet(zf: zipfile.ZipFile) -> bool:
    from putuo_xl.layout import META_SHEET

    try:
        book = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    except KeyError:
        return False
    return bool(re.search(rf'name="{re.escape(META_SHEET)}"', book))


def _read_xlsx(zf: zipfile.ZipFile, data: bytes, name: str) -> NoticeText:
    """A 任務分解表 kept as a spreadsheet: its task tables (header found by meaning) as lines.
    A master workbook (台賬) is not a notice: it is read back by build/forms."""
    if _has_meta_sheet(zf):
        raise InputError("這是任務分解台賬(已生成的 Excel 工作簿),不是通知。要按台賬中的修改更新,請用 "
                         "putuo-xl build --refresh 台賬文件;要生成月報,請用 putuo-xl forms。", file=name)
    try:
        lines = xlsx_task_lines(data)
    except ValueError as e:
        raise InputError(f"Excel 工作簿無法打開({e}),文件可能已損壞。{ACCEPTED}。", file=name) from None
    if not lines:
        raise InputError("這個 Excel 工作簿中沒有找到任務表:任務表的表頭(前十行之一)應有工作任務(或目標任務、"
                         "工作內容、具體措施)列和牽頭單位(或責任單位、配合單位)列。請檢查表頭,或另存為 .docx/.txt "
                         f"後再試。{ACCEPTED}。", file=name)
    lines = _clean_lines(lines)
    return NoticeText(lines=lines, source=name, kind="xlsx")


# -- .mht (a web page saved by Internet Explorer / Edge / Word as a single file) ---------------

def _is_mhtml(data: bytes) -> bool:
    head = data[:4096].lower()
    return b"mime-version:" in head and b"multipart/related" in head


def _read_mhtml(data: bytes, name: str) -> NoticeText:
    import email
    from email import policy

    message = email.message_from_bytes(data, policy=policy.compat32)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset()
            text = None
            if charset:
                try:
                    text = payload.decode(_ENCODING_ALIASES.get(charset.lower(), charset))
                except (LookupError, UnicodeDecodeError):
                    text = None
            if text is None:
                text, charset = _decode(payload, name)
            return _read_html(text, name, charset)
    raise InputError(f"這個 .mht 文件中沒有網頁正文。{ACCEPTED}。", file=name)


# -- .docx ----------------------------------------------------------------------

def _read_docx(data: bytes, name: str) -> NoticeText:
    import docx  # python-docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises several kinds on a broken package
        raise InputError(f"Word 文檔無法打開({type(e).__name__}),文件可能已損壞。{ACCEPTED}。",
                         file=name) from None
    lines: list[str] = []
    levels: dict[int, int] = {}          # index in `lines` → heading level of that paragraph
    numbering = _WordNumbering(document)
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, document)
            level = _heading_level(para)
            if level:
                levels[len(lines)] = level
            lines.append(numbering.label(para) + para.text)
        elif tag == "tbl":
            lines.extend(_table_lines(Table(child, document)))
    lines = _number_headings(lines, levels)
    lines = _clean_lines(lines)
    if not any(lines):
        raise InputError(f"Word 文檔中沒有文字。{ACCEPTED}。", file=name)
    return NoticeText(lines=lines, source=name, kind="docx")


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Heading 1 / heading 1 / 標題 1 / 标题 1 (Word writes the English name whatever the UI language;
# WPS and localised templates may write the Chinese one).
_HEADING_STYLE = re.compile(r"^\s*(?:heading|標題|标题)\s*([1-9])\s*$", re.I)
_TITLE_LIKE = re.compile(r"(通知|通報|通报|工作要點|工作要点|工作計劃|工作计划|實施方案|实施方案|工作安排|"
                         r"任務清單|任务清单|印[發发])")
_TYPED_SECTION = re.compile(r"^\s*[一二三四五六七八九十]{1,3}\s*[、.．]\s*\S")
_TYPED_SUBSECTION = re.compile(r"^\s*[(（]\s*[一二三四五六七八九十]{1,3}\s*[)）]\s*\S")
_TYPED_NUMBER = re.compile(r"^\s*([一二三四五六七八九十]{1,3}\s*[、.．]|[(（]\s*[一二三四五六七八九十\d]{1,3}\s*[)）]|"
                           r"\d{1,3}\s*[.．、)）]|[①-⑳])")


def _heading_level(para) -> int | None:
    """1 for a Heading 1 paragraph (by its style, a style it is based on, or an outline level),
    2 for Heading 2 …; None for body text and for the Title style."""
    try:
        style = para.style
    except (KeyError, ValueError, AttributeError):
        style = None
    seen = 0
    while style is not None and seen < 10:
        m = _HEADING_STYLE.match(style.name or "")
        if m:
            return int(m.group(1))
        seen += 1
        style = style.base_style
    # a custom style (or direct formatting) with an outline level works as a heading in Word
    for ppr in [para._p.pPr] + ([para.style.element.pPr] if para.style is not None else []):
        if ppr is None:
            continue
        lvl = ppr.find(f"{_W}outlineLvl")
        if lvl is not None:
            try:
                value = int(lvl.get(f"{_W}val"))
            except (TypeError, ValueError):
                continue
            if 0 <= value <= 8:
                return value + 1
    return None


def _number_headings(lines: list[str], levels: dict[int, int]) -> list[str]:
    """A document whose sections are Heading 1 paragraphs (and subsections Heading 2) without
    typed 一、 / (一): give the headings the numbers a reader sees in the structure, so that the
    parser finds the sections and subsections. Only where the text has none of its own: a
    document with typed (or Word-numbered) 一、 keeps them, and the same for (一)."""
    heads = {i: lv for i, lv in levels.items()
             if lines[i].strip() and not _TITLE_LIKE.search(narrow(lines[i]).strip())
             and not narrow(lines[i]).strip().startswith("附件")
             and not _TYPED_NUMBER.match(narrow(lines[i]))}
    if not heads:
        return lines
    used = sorted(set(heads.values()))[:2]
    has_sections = any(_TYPED_SECTION.match(narrow(x)) for x in lines)
    has_subsections = any(_TYPED_SUBSECTION.match(narrow(x)) for x in lines)
    top = used[0]
    second = used[1] if len(used) > 1 else None
    out = list(lines)
    n_sec = n_sub = 0
    for i in sorted(heads):
        lv = heads[i]
        if lv == top and not has_sections:
            n_sec += 1
            n_sub = 0
            out[i] = f"{_cn_numeral(n_sec)}、{lines[i].strip()}"
        elif lv == top:
            n_sub = 0
        elif lv == second and not has_subsections:
            n_sub += 1
            out[i] = f"\uff08{_cn_numeral(n_sub)}\uff09{lines[i].strip()}"
    return out
_CN_DIGITS = "零一二三四五六七八九"


class _WordNumbering:
    """Word's automatic list numbering (一、 (一) 1. set as a list format, not typed) is not part
    of a paragraph's text; this renders the label the reader sees, so the parser finds the
    sections and items."""

    def __init__(self, document):
        self.levels: dict[tuple[str, int], tuple[str, str, int]] = {}   # (numId, ilvl) → fmt, text, start
        self.counters: dict[str, dict[int, int]] = {}
        self.styles = document.styles
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {}
        for an in root.findall(f"{_W}abstractNum"):
            lv = {}
            for lvl in an.findall(f"{_W}lvl"):
                ilvl = int(lvl.get(f"{_W}ilvl", "0"))
                fmt = lvl.find(f"{_W}numFmt")
                text = lvl.find(f"{_W}lvlText")
                start = lvl.find(f"{_W}start")
                lv[ilvl] = (fmt.get(f"{_W}val") if fmt is not None else "decimal",
                            text.get(f"{_W}val") if text is not None else "",
                            int(start.get(f"{_W}val")) if start is not None else 1)
            abstract[an.get(f"{_W}abstractNumId")] = lv
        for num in root.findall(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is None:
                continue
            for ilvl, spec in abstract.get(ref.get(f"{_W}val"), {}).items():
                self.levels[(num.get(f"{_W}numId"), ilvl)] = spec

    def _num_pr(self, para):
        ppr = para._p.pPr
        if ppr is not None and ppr.numPr is not None:
            return ppr.numPr
        style = para.style
        while style is not None:
            sppr = style.element.pPr
            if sppr is not None and sppr.numPr is not None:
                return sppr.numPr
            style = style.base_style
        return None

    def label(self, para) -> str:
        if not self.levels or not para.text.strip():
            return ""
        try:
            npr = self._num_pr(para)
        except (AttributeError, KeyError, ValueError):
            return ""
        if npr is None or npr.numId is None:
            return ""
        num_id = str(npr.numId.val)
        ilvl = int(npr.ilvl.val) if npr.ilvl is not None else 0
        if (num_id, ilvl) not in self.levels or num_id == "0":
            return ""
        counters = self.counters.setdefault(num_id, {})
        fmt, text, start = self.levels[(num_id, ilvl)]
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if fmt in ("bullet", "none"):
            return ""

        def render(m):
            level = int(m.group(1)) - 1
            f = self.levels.get((num_id, level), (fmt,))[0]
            return _format_number(counters.get(level, 1), f)
        return re.sub(r"%([1-9])", render, text)


def _format_number(n: int, fmt: str) -> str:
    if fmt.startswith("chinese") or fmt in ("ideographDigital", "japaneseCounting", "taiwaneseCounting",
                                            "taiwaneseCountingThousand"):
        if n < 10:
            return _CN_DIGITS[n]
        if n < 20:
            return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if fmt.startswith("decimalEnclosedCircle") and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if fmt == "decimalFullWidth":
        return "".join(chr(ord(c) + 0xFEE0) for c in str(n))
    if fmt in ("lowerLetter", "upperLetter"):
        c = chr(ord("a") + (n - 1) % 26)
        return c.upper() if fmt == "upperLetter" else c
    return str(n)


# -- .html ----------------------------------------------------------------------

_DROP_TAGS = ("script", "style", "noscript", "iframe", "nav", "header", "footer", "form",
              "select", "button", "input", "textarea", "svg", "head")
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
               "section", "article", "blockquote", "pre", "dd", "dt", "ul", "ol", "center"}
_CJK = re.compile(r"[\u3400-\u9fff]")


_META_LABELS = {
    "doc_number": r"發文字號|发文字号|文號|文号|文件編號|文件编号",
    "issuer": r"發布機構|发布机构|發文機關|发文机关|發文機構|发文机构|制發機構|制发机构|發文單位|发文单位",
    "date": r"發布日期|发布日期|發布時間|发布时间|公開日期|公开日期",
    "written": r"成文日期|生成日期|發文日期|发文日期",
    "index_number": r"索引號|索引号",
}


def _page_meta(soup) -> dict:
    """The information table many government sites put above an article
    (索引號 | 發布機構 | 文號 | 成文日期 …): label cells followed by value cells, or `label:value`."""
    found: dict[str, str] = {}
    for el in soup.find_all(["td", "th", "span", "li", "div", "p", "dt", "dd", "strong", "b", "label", "em"]):
        text = el.get_text(" ", strip=True)
        if not text or len(text) > 80:
            continue
        for key, labels in _META_LABELS.items():
            if key in found:
                continue
            m = re.match(rf"^\s*(?:{labels})\s*[:|]?\s*(.*)$", narrow(text))
            if not m:
                continue
            value = text[m.start(1):].strip()
            if not value:
                sib = el.find_next_sibling()
                value = sib.get_text(" ", strip=True) if sib is not None else ""
            # a cell may run on into the next label: 文號:X 生成日期:Y
            cut = re.search(r"\s+(?=[\u4e00-\u9fff]{2,6}\s*:)", narrow(value))
            value = (value[:cut.start()] if cut else value).strip()
            if value and len(value) <= 60:
                found[key] = value
    return found


def _read_html(text: str, name: str, encoding: str | None) -> NoticeText:
    import warnings
    from bs4 import BeautifulSoup, Comment, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():   # XHTML pages open with <?xml ...>: read them as HTML
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(text, "lxml")
    hints = {}
    for meta_name, key in (("ArticleTitle", "title"), ("PubDate", "date"), ("ContentSource", "source"),
                           ("firstpublishedtime", "date"), ("publishdate", "date")):
        tag = soup.find("meta", attrs={"name": re.compile(rf"^{meta_name}$", re.I)})
        if tag and tag.get("content") and key not in hints:
            hints[key] = tag["content"].strip()
    if "title" not in hints:
        h1 = soup.find("h1")
        if h1 and h1.get_text(strip=True):
            hints["title"] = h1.get_text(" ", strip=True)
        elif soup.title and soup.title.string:
            hints["title"] = re.split(r"\s*(?:_|\||-{1,2}|——)\s*", soup.title.string.strip())[0].strip()
    if hints.get("title") and _SPAM.search(hints["title"]):
        del hints["title"]          # a hijacked page's title names the casino, not the issuer
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    for t in soup.find_all(_DROP_TAGS):
        t.decompose()
    for t in soup.find_all(style=re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)):
        t.decompose()
    for t in soup.find_all(attrs={"hidden": True}):
        t.decompose()
    meta = _page_meta(soup)
    if meta.get("doc_number"):
        hints["doc_number"] = meta["doc_number"]
    if meta.get("issuer"):
        hints["issuer"] = meta["issuer"]
    if meta.get("date") and "date" not in hints:
        hints["date"] = meta["date"]
    if meta.get("written"):
        hints["written"] = meta["written"]

    # task tables first: their rows become paragraphs, which the article is then chosen by
    _html_task_tables(soup, soup)
    article = _main_block(soup)
    notes: list[tuple[str, str, str]] = []
    lines = _clean_lines(_block_text(article).splitlines(), notes)
    hints["notes"] = notes
    title = hints.get("title")
    if title and not any(_norm_title(title) == _norm_title(x) for x in lines[:5]):
        lines.insert(0, squeeze_cjk_spaces(title))
    if not any(lines):
        raise InputError(f"網頁中沒有找到正文。{ACCEPTED}。", file=name)
    return NoticeText(lines=lines, source=name, kind="html", encoding=encoding, hints=hints)


def _html_task_tables(soup, article) -> None:
    """A task table in a web page (序號 | 工作任務 | 牽頭單位 | 配合單位 | 完成時限) is replaced by the
    lines the parser reads (numbered items with unit parentheses); other tables stay."""
    for table in article.find_all("table"):
        if table.find("table"):
            continue            # a layout table around the article
        grid = _html_grid(table)
        if _find_header([r for r in grid if any(r)]) is None:
            continue
        # the rows become paragraphs in the table's place, beside the text around it (the
        # article is the element with the most paragraph text, the table's rows included)
        for line in _rows_lines(grid):
            para = soup.new_tag("p")
            para.string = line
            table.insert_before(para)
        table.decompose()


def _norm_title(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _main_block(soup):
    """The element holding the article: the one whose paragraphs carry the most Chinese text
    outside links (a readability-style score: parent gets a paragraph's length, grandparent half).
    When the notice and its attachment sit in sibling containers, both are kept."""
    from bs4 import Tag

    scores: dict[int, float] = {}
    nodes = {}
    for p in soup.find_all(["p", "div", "td", "span", "font", "section", "article"]):
        own = "".join(s for s in p.find_all(string=True, recursive=False))
        n = len(_CJK.findall(own))
        if n < 10:
            continue
        link_text = sum(len(_CJK.findall(a.get_text())) for a in p.find_all("a", recursive=False))
        n -= link_text
        for depth, anc in enumerate([p.parent, p.parent.parent if p.parent else None]):
            if anc is None or anc.name in (None, "[document]"):
                continue
            nodes[id(anc)] = anc
            scores[id(anc)] = scores.get(id(anc), 0) + n / (1 + depth)
    if not scores:
        return soup.body or soup
    best = nodes[max(scores, key=scores.get)]
    parent = best.parent
    if parent is not None and parent.name not in (None, "[document]", "body", "html"):
        strong = [c for c in parent.children if isinstance(c, Tag)
                  and (c is best or scores.get(id(c), 0) >= 0.25 * scores[id(best)])]
        if len(strong) > 1:
            wrapper = soup.new_tag("div")
            for c in strong:
                wrapper.append(c.extract() if c is not best else best.extract())
            return wrapper
    return best


def _block_text(node) -> str:
    from bs4 import NavigableString, Tag

    parts: list[str] = []

    def walk(n):
        for child in n.children:
            if isinstance(child, NavigableString):
                parts.append(str(child).replace("\n", " ").replace("\r", " "))
            elif isinstance(child, Tag):
                block = child.name in _BLOCK_TAGS
                if block:
                    parts.append("\n")
                if child.name == "td":
                    parts.append(" ")
                walk(child)
                if block:
                    parts.append("\n")
    walk(node)
    return "".join(parts)
