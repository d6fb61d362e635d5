"""Official documents (.docx) laid out to GB/T 9704-2012 《黨政機關公文格式》, with python-docx.

    doc = GbtDocument(script="traditional")
    doc.title("關於2020年法治政府建設情況的報告")
    doc.doc_number("舟普政〔2021〕1號")                 # optional 發文字號
    doc.addressee("舟山市人民政府:")                    # optional 主送機關
    doc.paragraph("2020年,……現將有關情況報告如下。")
    doc.heading(1, "一、主要舉措和成效")                 # 黑體
    doc.heading(2, "(一)推進政府職能依法全面履行")        # 楷體
    doc.paragraph(["本部分共15項任務。", Part("已制定工作方案(區司法局)。",
                                            note="來源:區司法局 2020年12月月報")])
    doc.paragraph("【請辦公室填寫】", placeholder=True)  # highlighted: for the office to write
    doc.signature("舟山市普陀區人民政府", "2021年1月15日")
    doc.annex("附件1", "任務完成情況表", ["編號", "任務"], [["1.1.1", "……"]], widths=[20, 136])
    doc.save("報告.docx")                                 # atomic; never over a file open in Word

The page: A4, top margin (天頭) 37 mm, left (訂口) 28 mm, type area 156 × 225 mm (right 26 mm,
bottom 35 mm); body 仿宋_GB2312 三號 (16 pt) at a fixed 28.95 pt line pitch (22 lines a page,
28 characters a line), first lines indented two characters. Title 方正小標宋簡體 二號, centred;
level-1 headings 黑體 三號, level-2 楷體_GB2312 三號, level-3 仿宋 三號 bold; page numbers
「— 1 —」 in 宋體 四號 half-width digits below the type area, odd pages right and even pages
left, one character in (odd and even footers). Font names are the Windows fonts' own names
(simplified), whatever the script of the text; where they are missing (LibreOffice on Linux)
the system substitutes a CJK font.

Each kind of paragraph has a named paragraph style (STYLE_NAMES, in the document's script), so
a reader (or a test) can tell the parts apart and an office can restyle them in Word. A `Part`
with a `note` gets a Word comment anchored on its text (python-docx ≥ 1.2): the place to say
where a sentence came from. Everything else an official needs to write is a `placeholder`
paragraph: highlighted yellow and in 〔〕 so that it cannot be missed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

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
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
FOOTER_MM = 28              # page number ~7 mm below the type area

# style key → (name, font, size pt, bold, alignment)
STYLES = {
    "title": ("公文標題", XIAOBIAOSONG, ER_HAO, False, "center"),
    "doc_number": ("發文字號", FANGSONG, SAN_HAO, False, "center"),
    "addressee": ("主送機關", FANGSONG, SAN_HAO, False, "left"),
    "body": ("公文正文", FANGSONG, SAN_HAO, False, "justify"),
    "h1": ("一級標題", HEITI, SAN_HAO, False, "justify"),
    "h2": ("二級標題", KAITI, SAN_HAO, False, "justify"),
    "h3": ("三級標題", FANGSONG, SAN_HAO, True, "justify"),
    "signature": ("發文機關署名", FANGSONG, SAN_HAO, False, "right"),
    "date": ("成文日期", FANGSONG, SAN_HAO, False, "right"),
    "annex_label": ("附件標識", HEITI, SAN_HAO, False, "left"),
    "annex_title": ("附件標題", XIAOBIAOSONG, ER_HAO, False, "center"),
    "table": ("表格文字", FANGSONG, WU_HAO, False, "left"),
    "table_head": ("表頭文字", HEITI, WU_HAO, False, "center"),
    "page_number": ("頁碼", SONGTI, SI_HAO, False, "right"),
}
HEADING_KEYS = {1: "h1", 2: "h2", 3: "h3"}
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


def set_font(run_or_style, name: str, size: float | None = None, bold: bool | None = None) -> None:
    """The font for Latin and East Asian text alike (python-docx sets only the Latin one)."""
    font = run_or_style.font
    font.name = name
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold


class GbtDocument:
    """A new document laid out to GB/T 9704 (see the module doc)."""

    def __init__(self, script: str = "traditional", *, author: str = "putuo-xl",
                 comment_author: str = "putuo-xl", comment_initials: str = "PX"):
        self.script = script
        self._ids: dict[str, str] = {}
        self.doc = Document()
        self.comment_author, self.comment_initials = comment_author, comment_initials
        self.doc.core_properties.author = author
        self._styles()
        self._page()
        body = self.doc.paragraphs
        if body and not body[0].text:          # the template's empty first paragraph
            body[0]._element.getparent().remove(body[0]._element)

    def t(self, text: str) -> str:
        return in_script(text, self.script)

    # -- set-up ------------------------------------------------------------------------------
    def _styles(self) -> None:
        from docx.enum.style import WD_STYLE_TYPE
        styles = self.doc.styles
        normal = styles["Normal"]
        set_font(normal, FANGSONG, SAN_HAO)
        for key, (name, font, size, bold, align) in STYLES.items():
            st = styles.add_style(style_name(key, self.script), WD_STYLE_TYPE.PARAGRAPH)
            st.base_style = normal
            set_font(st, font, size, bold)
            pf = st.paragraph_format
            pf.alignment = _ALIGN[align]
            pf.space_before = Pt(0)
            pf.space_after = Pt(0)
            if key in ("table", "table_head"):
                pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
                pf.space_before = pf.space_after = Pt(2)
            elif key in ("title", "annex_title"):
                pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
                pf.line_spacing = Pt(36)
            else:
                pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
                pf.line_spacing = Pt(LINE_PITCH)
            if key in ("body", "h1", "h2", "h3"):
                pf.first_line_indent = Pt(2 * SAN_HAO)      # 空兩字
            if key in ("h1", "h2", "h3"):
                pf.keep_with_next = True
            if key == "date":
                pf.right_indent = Pt(4 * SAN_HAO)           # 成文日期右空四字
            if key == "signature":
                pf.right_indent = Pt(2 * SAN_HAO)

    def _page(self) -> None:
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        sec.top_margin, sec.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
        sec.left_margin, sec.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
        sec.header_distance, sec.footer_distance = Mm(15), Mm(FOOTER_MM)
        self.doc.settings.odd_and_even_pages_header_footer = True
        self._page_number(sec.footer, odd=True)
        self._page_number(sec.even_page_footer, odd=False)

    def _page_number(self, footer, odd: bool) -> None:
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
        self._styled(p, "page_number")
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
        pf = p.paragraph_format
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
        if odd:
            pf.right_indent = Pt(SI_HAO)        # 單頁碼居右空一字
        else:
            pf.left_indent = Pt(SI_HAO)         # 雙頁碼居左空一字
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

    def _para(self, key: str, parts: str | Part | Iterable[Part | str] = ()) -> "object":
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

    def title(self, text: str):
        """The title (標題), centred, 二號小標宋; one blank line below it."""
        p = self._para("title", text)
        self.blank()
        return p

    def doc_number(self, text: str):
        """發文字號 (e.g. 舟普政〔2021〕1號), centred above the title's blank line."""
        return self._para("doc_number", text)

    def addressee(self, text: str):
        """主送機關, flush left, ending with a full-width colon."""
        return self._para("addressee", text)

    def heading(self, level: int, text: str):
        """一、 (黑體), (一) (楷體), 1. (仿宋 bold)."""
        return self._para(HEADING_KEYS[level], text)

    def paragraph(self, parts: str | Part | Sequence[Part | str], *, placeholder: bool = False):
        """A body paragraph; `placeholder`: text for the office to replace, highlighted."""
        if placeholder:
            if isinstance(parts, str):
                parts = [Part(parts, highlight=True)]
            else:
                parts = [Part(p, highlight=True) if isinstance(p, str) else
                         Part(p.text, p.note, p.bold, True) for p in
                         ([parts] if isinstance(parts, Part) else parts)]
        return self._para("body", parts)

    def blank(self):
        return self._para("body")

    def signature(self, issuer: str | Part, date: str | Part):
        """發文機關署名 and 成文日期 (右空四字), after two blank lines."""
        self.blank()
        self.blank()
        self._para("signature", issuer)
        return self._para("date", date)

    def page_break(self) -> None:
        p = self._styled(self.doc.add_paragraph(), "body")
        p.add_run().add_break(WD_BREAK.PAGE)

    def annex(self, label: str, title: str, header: Sequence[str], rows: Sequence[Sequence],
              widths: Sequence[float] | None = None, *, new_page: bool = True,
              landscape: bool = False, notes: Sequence[str] = ()):
        """An annex (附件) on a new page: 「附件1」 in 黑體 top left, its title centred, a table
        (header repeated on every page) and notes below it. `widths` in mm (sum ≤ the type
        area: 156 mm, 225 mm landscape)."""
        if new_page and landscape:
            self._new_section(landscape=True)
        elif new_page:
            self.page_break()
        self._para("annex_label", label)
        self._para("annex_title", title)
        self.blank()
        table = self.table(header, rows, widths)
        for n in notes:
            self._para("table", n)
        return table

    def _new_section(self, landscape: bool) -> None:
        from docx.enum.section import WD_ORIENT
        sec = self.doc.add_section(WD_SECTION.NEW_PAGE)
        if landscape:
            sec.orientation = WD_ORIENT.LANDSCAPE
            sec.page_width, sec.page_height = Mm(297), Mm(210)
            sec.top_margin, sec.bottom_margin = Mm(28), Mm(26)
            sec.left_margin, sec.right_margin = Mm(37), Mm(35)

    def table(self, header: Sequence[str], rows: Sequence[Sequence], widths: Sequence[float] | None = None):
        """A bordered table: the header row in 黑體 repeated on every page, cells in 仿宋 五號."""
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        hdr = table.rows[0]
        trpr = hdr._tr.get_or_add_trPr()
        rep = OxmlElement("w:tblHeader")
        rep.set(qn("w:val"), "true")
        trpr.append(rep)
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

    def save(self, path: str | Path) -> Path:
        """Atomic: a temporary file renamed over `path`; refused while `path` is open in Word."""
        from putuo_xl.fileio import AtomicPath
        with AtomicPath(path) as tmp:
            self.doc.save(str(tmp))
        return Path(path)


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
