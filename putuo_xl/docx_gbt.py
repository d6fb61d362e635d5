"""Official documents (.docx) laid out to GB/T 9704-2012 《黨政機關公文格式》, with python-docx: the
one writer of every 公文 we make (the 年度報告, report/document.py; the month's 通報,
rollup/bulletin_docx.py).

    doc = GbtDocument(script="traditional", author="區司法局")
    doc.mark("【示例數據:以下內容由示例回報生成】")      # optional: red lines outside the document
    doc.doc_number("舟普政〔2021〕1號")                 # optional 發文字號 (before the title)
    doc.title("關於2020年法治政府建設情況的報告")       # 二號小標宋, centred; a blank line after
    doc.addressee("舟山市人民政府:")                    # optional 主送機關
    doc.paragraph("2020年,……現將有關情況報告如下。")
    doc.heading(1, "一、主要舉措和成效")                 # 黑體; 2: 楷體; 3 and 4: 仿宋
    doc.paragraph(["本部分共15項任務。", Part("已制定工作方案(區司法局)。",
                                            note="來源:區司法局 2020年12月月報")])
    doc.paragraph("〔請辦公室填寫〕", placeholder=True)  # highlighted: for the office to write
    doc.attachments(["任務完成情況表", "考評指標完成情況表"])    # 附件說明 (7.3.4)
    doc.signature("舟山市普陀區人民政府", date(2021, 1, 15))    # 署名 and 成文日期 (7.3.5.2)
    doc.annex("附件1", "任務完成情況表", ["編號", "任務"], [["1.1.1", "……"]], widths=[20, 136])
    doc.save("報告.docx")                                # atomic; refused while open in Word

The page (GB/T 9704 5, 7, 8): A4; 天頭 37 mm, 訂口 28 mm, a type area of 156 × 225 mm (bottom
35, right 26 mm); 22 lines a page of 28 characters. Every element in 三號 (16 pt) 仿宋_GB2312
unless the standard names another: the title 二號 方正小標宋簡體, centred (36 pt lines), a blank
line below it; structure headings level 1 黑體, level 2 楷體_GB2312, levels 3 and 4 仿宋, indented
two characters like every paragraph; 主送機關 flush left; the 附件說明 one line below the text,
「附件:」 two characters in, the further names under the first (7.3.4); 發文機關署名 and 成文日期
of a document without seal (7.3.5.2): one line below, the 署名 two characters from the right
(more when the date is longer), the date on the next line starting two characters right of
the 署名's first character, in full Arabic numerals (7.3.5.4, 2021年1月15日: `full_date`); page numbers
「— 1 —」 in 四號 宋體 half-width digits, the 一字線 7 mm below the type area, odd pages right and
even pages left, one character in (7.5); an annex on a new page, 「附件1」 in 黑體 on its first
line and its title on the third (8). Font names are the Windows fonts' own (simplified) names,
whatever the script of the text; where one is missing (LibreOffice on Linux) the system
substitutes its own (docs/fonts-gbt9704.conf maps them to Noto CJK for the pictures). Comments,
highlights and red marks are for the office's eyes: they go before the document is issued.

Where the two writers this one replaces (the report's and the 通報's) disagreed:
- Latin letters and digits: 仿宋_GB2312 like the text (the report; the 通報 used Times New
  Roman). The standard names 仿宋 for every element, its digits are half a character wide
  (what `char_width` counts), and quotes “” and spaces keep the Chinese widths.
- 28 characters a line (5.2.3). Word's character grid (docGrid linesAndChars, charSpace −842)
  squeezes 16 pt characters to 28 in Word, but LibreOffice gives every character wider than
  the grid's pitch two cells: 14 a line (tried). Neither writer had it; without it 16 pt
  characters fill only 27. So the 三號 styles are condensed by 0.25 pt (字符間距; CHAR_PITCH
  15.75 pt): 28 a line in Word and LibreOffice alike.
- 22 lines a page: an exact 28.95 pt line pitch (225 mm ÷ 22) in every style. No line grid
  (the 通報 had docGrid type "lines"): Word ignores it under exact spacing, and LibreOffice
  snaps each 36 pt title line to two grid lines. The section keeps linePitch 579 with no grid
  type, so an office that switches Word's line grid on gets the same 22 lines.
- Widow control off (neither writer set it: Word then has it off, LibreOffice on): every page
  holds its 22 lines, as Chinese typesetting does.
- Level 3 headings: 仿宋, not bold (the report's were bold; 7.3.3 names no bold).
- The page number: footer 25 mm from the page's foot (the report 28, the 通報 23: their 一字線
  came 3 mm and 9 mm below the type area in LibreOffice's PDF; 25 mm gives 7 mm there, and in
  Word, whose footer grows up from that distance).
- Paragraph kinds are named styles in the document's script (`style_name`, e.g. 一級標題), the
  report's way, not Word's built-in Title/Heading n (the 通報's): an office restyles a kind at
  once and a reader (or test) tells them apart; heading styles keep outline levels for Word's
  navigation pane. Direct formatting only where the text decides it (the 署名 and date).
- The 署名 and date (the 通報's placement, the report had 右空二字/右空四字): the 署名
  right-aligned `signature_indents` characters from the edge; the date hangs from the 署名's
  first character (a left indent), so it starts two characters right of it whatever width the
  printing font gives its digits and however the office rewrites it. Word's extra space between
  Chinese and digits is off in both styles, so a date too long for that, set from the right
  edge, is as wide as `char_width` says (LibreOffice ignores that setting and adds it).
- No page with the 署名 alone: the text's last lines, the 附件說明, the 署名 and the date keep
  together (where the space left cannot hold them, 7.3.5.5 adjusts spacing by hand; a writer
  keeps lines together instead).

A `Part` with a `note` gets a Word comment anchored on its text (python-docx ≥ 1.2): the place to
say where a sentence came from. What an official must write is a `placeholder` paragraph (or a
Part with `highlight`): highlighted yellow and in 〔〕 so that it cannot be missed.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path
from typing import Iterable, Sequence

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import (WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX, WD_LINE_SPACING,
                            WD_TAB_ALIGNMENT)
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from putuo_xl.text import in_script

# fonts (the names Windows knows them by)
FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
SONGTI = "宋体"

# sizes (號 → pt)
ER_HAO, SAN_HAO, SI_HAO, XIAO_SI, WU_HAO = 22, 16, 14, 12, 10.5
LINE_PITCH = 28.95          # 225 mm type area ÷ 22 lines
GRID_PITCH = 579            # the same in twentieths of a point (w:docGrid)
TITLE_LINE = 36
CONDENSE = -0.25            # pt between 三號 characters: 28 of them on the 156 mm line
CHAR_PITCH = SAN_HAO + CONDENSE
PAGE_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
TYPE_WIDTH = (PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]) * 72 / 25.4    # 156 mm in pt
FOOTER_MM = 25              # page foot → footer: the 一字線 7 mm below the type area
MARK_COLOR = "C00000"

# style key → (name, East Asian font, size pt, bold, alignment)
STYLES = {
    "mark": ("文外標注", HEITI, XIAO_SI, False, "left"),
    "doc_number": ("發文字號", FANGSONG, SAN_HAO, False, "center"),
    "title": ("公文標題", XIAOBIAOSONG, ER_HAO, False, "center"),
    "addressee": ("主送機關", FANGSONG, SAN_HAO, False, "justify"),
    "body": ("公文正文", FANGSONG, SAN_HAO, False, "justify"),
    "h1": ("一級標題", HEITI, SAN_HAO, False, "justify"),
    "h2": ("二級標題", KAITI, SAN_HAO, False, "justify"),
    "h3": ("三級標題", FANGSONG, SAN_HAO, False, "justify"),
    "h4": ("四級標題", FANGSONG, SAN_HAO, False, "justify"),
    "attachment": ("附件說明", FANGSONG, SAN_HAO, False, "left"),
    "signature": ("發文機關署名", FANGSONG, SAN_HAO, False, "right"),
    "date": ("成文日期", FANGSONG, SAN_HAO, False, "right"),
    "annex_label": ("附件標識", HEITI, SAN_HAO, False, "left"),
    "annex_title": ("附件標題", XIAOBIAOSONG, ER_HAO, False, "center"),
    "table": ("表格文字", FANGSONG, WU_HAO, False, "left"),
    "table_head": ("表頭文字", HEITI, WU_HAO, False, "center"),
    "page_number": ("頁碼", SONGTI, SI_HAO, False, "right"),
}
HEADING_KEYS = {1: "h1", 2: "h2", 3: "h3", 4: "h4"}
_INDENTED = ("body", "h1", "h2", "h3", "h4")           # 首行空兩字
_ALIGN = {"center": WD_ALIGN_PARAGRAPH.CENTER, "left": WD_ALIGN_PARAGRAPH.LEFT,
          "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}


def style_name(key: str, script: str = "traditional") -> str:
    """The paragraph style's name in a document of `script`."""
    return in_script(STYLES[key][0], script)



@dataclass
class Part:
    """A piece of a paragraph; `note` (a comment) says where it came from; `highlight` marks
    text the office must write or check."""
    text: str
    note: str | None = None
    bold: bool = False
    highlight: bool = False


def full_date(d: Date | str) -> str:
    """成文日期 as GB/T 9704 writes it: Arabic numerals, year, month and day in full, no
    leading zeros (2020年10月5日). An ISO date string is read; other text is returned as is."""
    if isinstance(d, str):
        if not re.match(r"\d{4}-\d{2}-\d{2}", d):
            return d
        d = Date.fromisoformat(d[:10])
    return f"{d.year}年{d.month}月{d.day}日"


def char_width(text: str) -> float:
    """Width of `text` in characters of the body font: a digit or Latin letter is half."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


def signature_indents(signature: str, date: str) -> tuple[float, float]:
    """Characters left blank to the right of the 署名 and of the 成文日期 (7.3.5.2): the 署名
    two; the date starts two characters right of the 署名's first; a date that would then come
    closer than two characters to the edge keeps two, and the 署名 moves left by as much.
    Halves happen (digits are half a character wide). No 署名: the date four from the right."""
    if not signature:
        return 0.0, 4.0
    date_right = char_width(signature) - char_width(date)
    if date_right >= 2:
        return 2.0, date_right
    return 4 - date_right, 2.0


def set_font(run_or_style, name: str, size: float | None = None, bold: bool | None = None) -> None:
    """The font for Latin and East Asian text alike (python-docx sets only the Latin one)."""
    run_or_style.font.name = name
    _fonts(run_or_style.element.get_or_add_rPr(), name)
    if size is not None:
        run_or_style.font.size = Pt(size)
    if bold is not None:
        run_or_style.font.bold = bold


def _fonts(rpr, name: str) -> None:
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)         # a theme font would win over ours
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


# the order of the children of w:rPr and w:pPr where we add one python-docx has no property for
_RPR_AFTER_SPACING = ("w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u",
                      "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs",
                      "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath")
_PPR_AFTER_AUTOSPACE = ("w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
                        "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                        "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl",
                        "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def _child(parent, tag: str, value: str, successors: Sequence[str]) -> None:
    """Set `parent`'s child `tag` (w:val = value), in its place in the schema's order."""
    el = parent.find(qn(tag))
    if el is None:
        el = OxmlElement(tag)
        parent.insert_element_before(el, *successors)
    el.set(qn("w:val"), value)


def _condense(style, points: float) -> None:
    """Character spacing (字符間距) of `style`, in points (negative: condensed)."""
    _child(style.element.get_or_add_rPr(), "w:spacing", str(round(points * 20)), _RPR_AFTER_SPACING)


def _no_autospace(style) -> None:
    """No extra space between Chinese and Latin text or digits (Word's and LibreOffice's
    default adds about a fifth of a character at each change): a date is then as wide as
    `char_width` says."""
    ppr = style.element.get_or_add_pPr()
    _child(ppr, "w:autoSpaceDE", "0", ("w:autoSpaceDN",) + _PPR_AFTER_AUTOSPACE)
    _child(ppr, "w:autoSpaceDN", "0", _PPR_AFTER_AUTOSPACE)


class GbtDocument:
    """A new document laid out to GB/T 9704 (see the module doc). Blocks are added in order."""

    def __init__(self, script: str = "traditional", *, author: str | None = None,
                 comment_author: str = "putuo-xl", comment_initials: str = "PX"):
        self.script = script
        self._ids: dict[str, str] = {}
        self.doc = Document()
        self.comment_author, self.comment_initials = comment_author, comment_initials
        self.doc.core_properties.author = author or "putuo-xl"
        self._styles()
        self._page()
        body = self.doc.paragraphs
        if body and not body[0].text:          # a template's empty first paragraph
            body[0]._element.getparent().remove(body[0]._element)

    def t(self, text: str) -> str:
        return in_script(text, self.script)

    # -- set-up ------------------------------------------------------------------------------
    def _styles(self) -> None:
        styles = self.doc.styles
        defaults = styles.element.find(qn("w:docDefaults") + "/" + qn("w:rPrDefault") + "/" + qn("w:rPr"))
        if defaults is not None:
            _fonts(defaults, FANGSONG)
        normal = styles["Normal"]
        set_font(normal, FANGSONG, SAN_HAO)
        normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
        normal.paragraph_format.widow_control = False   # full pages (LibreOffice's default is on)
        for key, (_name, font, size, bold, align) in STYLES.items():
            st = styles.add_style(style_name(key, self.script), WD_STYLE_TYPE.PARAGRAPH)
            st.base_style = normal
            set_font(st, font, size, bold)
            if size == SAN_HAO:
                _condense(st, CONDENSE)
            pf = st.paragraph_format
            pf.alignment = _ALIGN[align]
            pf.space_before = pf.space_after = Pt(0)
            if key in ("table", "table_head", "page_number"):
                pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
                if key != "page_number":
                    pf.space_before = pf.space_after = Pt(2)
            else:
                pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
                pf.line_spacing = Pt(TITLE_LINE if size == ER_HAO else LINE_PITCH)
            if key in _INDENTED:
                pf.first_line_indent = Pt(2 * SAN_HAO)      # 空兩字
            if key in HEADING_KEYS.values() or key in ("attachment", "signature"):
                pf.keep_with_next = True
            if key in HEADING_KEYS.values():                 # Word's navigation pane
                st.element.get_or_add_pPr().get_or_add_outlineLvl().val = int(key[1]) - 1
            if key == "mark":
                st.font.color.rgb = RGBColor.from_string(MARK_COLOR)
            if key in ("signature", "date"):                 # set per paragraph (signature())
                pf.right_indent = Pt(CHAR_PITCH * (2 if key == "signature" else 4))
                _no_autospace(st)

    def _page(self) -> None:
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        sec.top_margin, sec.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
        sec.left_margin, sec.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
        sec.header_distance, sec.footer_distance = Mm(15), Mm(FOOTER_MM)
        sect = sec._sectPr
        for old in sect.findall(qn("w:docGrid")):
            sect.remove(old)
        grid = OxmlElement("w:docGrid")                   # no grid (see the module doc)
        grid.set(qn("w:linePitch"), str(GRID_PITCH))
        sect.append(grid)
        self.doc.settings.odd_and_even_pages_header_footer = True
        self._page_number(sec.footer, odd=True)
        self._page_number(sec.even_page_footer, odd=False)

    def _page_number(self, footer, odd: bool) -> None:
        """「— 1 —」: odd pages right, even pages left, one character in (7.5)."""
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
        self._styled(p, "page_number")
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
        if odd:
            p.paragraph_format.right_indent = Pt(SI_HAO)
        else:
            p.paragraph_format.left_indent = Pt(SI_HAO)
        p.add_run("— ")
        fld = OxmlElement("w:fldSimple")
        fld.set(qn("w:instr"), "PAGE")
        r = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.text = "1"
        r.append(t)
        fld.append(r)
        p._p.append(fld)
        p.add_run(" —")

    # -- content -----------------------------------------------------------------------------
    def _style_id(self, key: str) -> str:
        """The style's id (setting a paragraph's style by object makes python-docx search every
        style of the document: ~2 ms a paragraph)."""
        sid = self._ids.get(key)
        if sid is None:
            sid = self._ids[key] = self.doc.styles[style_name(key, self.script)].style_id
        return sid

    def _styled(self, paragraph, key: str):
        paragraph._p.style = self._style_id(key)
        return paragraph

    def _para(self, key: str, parts: str | Part | Iterable[Part | str] = ()):
        p = self._styled(self.doc.add_paragraph(), key)
        if isinstance(parts, (str, Part)):
            parts = [parts]
        for part in parts:
            self.add(p, part)
        return p

    def add(self, paragraph, part: Part | str):
        """Add `part` to `paragraph` as a run (with its comment); returns the run."""
        if isinstance(part, str):
            part = Part(part)
        run = paragraph.add_run(part.text)
        if part.bold:
            run.font.bold = True
        if part.highlight:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        if part.note:
            self.doc.add_comment(run, text=part.note, author=self.comment_author,
                                 initials=self.comment_initials)
        return run

    def mark(self, text: str):
        """A line that is not part of the document (sample data, an update note), in red."""
        return self._para("mark", text)

    def doc_number(self, text: str):
        """發文字號 (e.g. 舟普政〔2021〕1號), centred, a blank line below; before the title."""
        p = self._para("doc_number", text)
        self.blank()
        return p

    def title(self, text: str):
        """The title (標題), centred, 二號小標宋; one blank line below it. Also the file's title."""
        p = self._para("title", text)
        if not self.doc.core_properties.title:
            self.doc.core_properties.title = text
        self.blank()
        return p

    def addressee(self, parts: str | Part | Sequence[Part | str]):
        """主送機關, flush left, ending with a full-width colon."""
        return self._para("addressee", parts)

    def heading(self, level: int, text: str | Part):
        """一、 (黑體), (一) (楷體), 1. and (1) (仿宋); indented two characters."""
        return self._para(HEADING_KEYS[level], text)

    def paragraph(self, parts: str | Part | Sequence[Part | str], *, placeholder: bool = False):
        """A body paragraph; `placeholder`: text for the office to replace, highlighted."""
        if isinstance(parts, (str, Part)):
            parts = [parts]
        if placeholder:
            parts = [Part(p, highlight=True) if isinstance(p, str) else
                     Part(p.text, p.note, p.bold, True) for p in parts]
        return self._para("body", parts)

    def blank(self):
        return self._para("body")

    def _keep_last(self) -> None:
        """The last paragraph on the page of what follows: never a page of 附件說明 or 署名
        alone (the text's last lines come along)."""
        body = self.doc.element.body.findall(qn("w:p"))
        if body:
            body[-1].get_or_add_pPr().keepNext_val = True

    def _ends_blank(self) -> bool:
        body = self.doc.element.body.findall(qn("w:p"))
        return bool(body) and not "".join(t.text or "" for t in body[-1].iter(qn("w:t")))

    def attachments(self, names: Sequence[str | Part]):
        """附件說明 (7.3.4): a blank line, then 「附件:1.名稱」 two characters in; the further
        names, and a name's second line, under the first name."""
        if not names:
            return
        self._keep_last()
        self.blank().paragraph_format.keep_with_next = True
        label = self.t("附件:")
        numbered = len(names) > 1               # 「1.」 and a tab to where the names start
        num = Pt(1.5 * SAN_HAO) if numbered else Pt(0)
        lead, hang = Pt(2 * SAN_HAO), Pt(char_width(label) * SAN_HAO) + num
        for i, name in enumerate(names, 1):
            p = self._styled(self.doc.add_paragraph(), "attachment")
            pf = p.paragraph_format
            pf.left_indent = lead + hang
            pf.first_line_indent = -(hang if i == 1 else num)
            if numbered:
                pf.tab_stops.add_tab_stop(lead + hang, WD_TAB_ALIGNMENT.LEFT)
            self.add(p, (label if i == 1 else "") + (f"{i}.\t" if numbered else ""))
            self.add(p, name)

    def signature(self, issuer: str | Part, date: Date | str | Part):
        """發文機關署名 and 成文日期 (7.3.5.2, a document without seal) one blank line below the
        text (or the 附件說明): see `signature_indents`. A date is written in full. The date
        hangs from the 署名's first character (a left indent), so it starts two characters
        right of it whatever its digits' width in the printing font, and after the office
        rewrites it; a date longer than that allows is set two characters from the edge."""
        if not isinstance(date, Part):
            date = Part(full_date(date))
        issuer = issuer if isinstance(issuer, Part) else Part(issuer)
        sig_right, date_right = signature_indents(issuer.text, date.text)
        self._keep_last()
        if not self._ends_blank():
            self.blank().paragraph_format.keep_with_next = True
        if issuer.text:
            p = self._para("signature", issuer)
            p.paragraph_format.right_indent = Pt(sig_right * CHAR_PITCH)
        p = self._para("date", date)
        if issuer.text and sig_right == 2:
            start = TYPE_WIDTH - (sig_right + char_width(issuer.text) - 2) * CHAR_PITCH
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT
            p.paragraph_format.left_indent = Pt(start)
            p.paragraph_format.right_indent = Pt(0)
        else:
            p.paragraph_format.right_indent = Pt(date_right * CHAR_PITCH)
        return p

    def page_break(self) -> None:
        p = self._styled(self.doc.add_paragraph(), "body")
        p.add_run().add_break(WD_BREAK.PAGE)

    def annex(self, label: str, title: str, header: Sequence[str], rows: Sequence[Sequence],
              widths: Sequence[float] | None = None, *, new_page: bool = True,
              landscape: bool = False, notes: Sequence[str] = ()):
        """An annex (附件) on a new page: 「附件1」 in 黑體 on the first line, its title centred on
        the third, a table (header repeated on every page) and notes below it. `widths` in mm
        (sum ≤ the type area: 156 mm, 225 mm landscape)."""
        if new_page and landscape:
            self._new_section(landscape=True)
        elif new_page:
            self.page_break()
        self._para("annex_label", label)
        self.blank()
        self._para("annex_title", title)
        self.blank()
        table = self.table(header, rows, widths)
        for n in notes:
            self._para("table", n)
        return table

    def _new_section(self, landscape: bool) -> None:
        sec = self.doc.add_section(WD_SECTION.NEW_PAGE)
        if landscape:
            sec.orientation = WD_ORIENT.LANDSCAPE
            sec.page_width, sec.page_height = Mm(PAGE_MM[1]), Mm(PAGE_MM[0])
            sec.top_margin, sec.bottom_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
            sec.left_margin, sec.right_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])

    def table(self, header: Sequence[str], rows: Sequence[Sequence], widths: Sequence[float] | None = None):
        """A bordered table: the header row in 黑體 repeated on every page, cells in 仿宋 五號
        (a cell may be a Part, with its comment)."""
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        hdr = table.rows[0]
        rep = OxmlElement("w:tblHeader")
        rep.set(qn("w:val"), "true")
        hdr._tr.get_or_add_trPr().append(rep)
        for cell, text in zip(hdr.cells, header):
            self._styled(cell.paragraphs[0], "table_head").add_run(str(text))
        for values in rows:
            cells = table.add_row().cells
            for cell, v in zip(cells, values):
                p = self._styled(cell.paragraphs[0], "table")
                if isinstance(v, Part):
                    self.add(p, v)
                elif v is not None:
                    p.add_run(str(v))
        if widths:
            table.autofit = False
            for col, w in zip(table.columns, widths):
                col.width = Mm(w)               # the grid LibreOffice lays out by
            for row in table.rows:
                for cell, w in zip(row.cells, widths):
                    cell.width = Mm(w)          # what Word reads
        return table

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()

    def save(self, path: str | Path) -> Path:
        """Atomic: a temporary file renamed over `path`; refused while `path` is open in Word."""
        from putuo_xl.fileio import atomic_write_bytes
        return atomic_write_bytes(path, self.to_bytes())


def comment_ranges(document) -> list[tuple[str, str, str]]:
    """(paragraph style name, the text a comment is anchored on, the comment's text) for every
    comment of a python-docx Document, in document order: what a reader checks sources with."""
    texts = {c.comment_id: "\n".join(p.text for p in c.paragraphs) for c in document.comments}
    out = []
    body = document.element.body
    for p in body.iter(qn("w:p")):
        open_ids: dict[str, list[str]] = {}
        style = p.find(qn("w:pPr") + "/" + qn("w:pStyle"))
        sid = style.get(qn("w:val")) if style is not None else ""
        name = document.styles.element.get_by_id(sid)
        name = name.name_val if name is not None else sid
        for el in p.iter():
            if el.tag == qn("w:commentRangeStart"):
                open_ids[el.get(qn("w:id"))] = []
            elif el.tag == qn("w:commentRangeEnd"):
                cid = el.get(qn("w:id"))
                if cid in open_ids:
                    out.append((name, "".join(open_ids.pop(cid)), texts.get(int(cid), "")))
            elif el.tag == qn("w:t"):
                for buf in open_ids.values():
                    buf.append(el.text or "")
    return out
