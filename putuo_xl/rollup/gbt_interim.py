"""Word documents laid out to 《黨政機關公文格式》 (GB/T 9704-2012), ready for a document system:
the 通報 of a month (rollup/bulletin_docx.py), and any other report built the same way.

    doc = GbtDocument("關於2020年9月法治政府建設工作推進情況的預評估通報",
                      doc_number="普法辦〔2020〕12號",           # optional
                      above=["【示例數據】"])                   # optional: red lines before all
    doc.addressee("各鎮人民政府、街道辦事處:")
    doc.paragraph("根據……現將有關情況通報如下。")
    doc.heading("一、總體情況")                               # level 1: 黑體
    doc.heading("(一)任務完成情況", level=2)                  # level 2: 楷體
    doc.paragraph("……")
    doc.table([["單位", "得分"], ["區司法局", "85.1"]])         # first row: the header
    doc.signature("區建設法治政府(依法行政)工作領導小組辦公室", date(2020, 10, 5))
    doc.save("通報.docx")

What GB/T 9704 asks and this does: A4; 天頭 37 mm, 訂口 28 mm (a 156 × 225 mm type area:
bottom 35 mm, right 26 mm); body text 三號 (16 pt) 仿宋_GB2312, 22 lines a page of 28
characters (exact line pitch 28.95 pt, 16 pt characters justified over the 156 mm); the title 二號 (22 pt)
方正小標宋簡體, centred; first-level headings 黑體, second-level 楷體_GB2312, third and fourth
仿宋; every paragraph indented two characters; the 主送機關 flush left; 發文機關署名 and
成文日期 for a document without seal (7.3.5.2): the 署名 two characters from the right edge
(more when the date is longer), the date one line below starting two characters right of the
署名's first, written in full in Arabic numerals (2020年10月5日); page numbers 4號 宋體
「— 1 —」 7 mm below the type area, odd pages right and even pages left, one character in.
Latin letters and digits are in Times New Roman. Font names are the Windows ones (a PC without
a font substitutes its own, as Word does).
"""
from __future__ import annotations

import io
import re
from datetime import date as Date
from pathlib import Path

PAGE_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
FOOTER_MM = 23                 # page bottom → footer: its top 7 mm below the type area
BODY_PT, TITLE_PT, PAGE_NO_PT = 16, 22, 14
LINE_PT = 28.95                # 225 mm / 22 lines
LINE_PITCH = 579               # the same in twentieths of a point (w:docGrid)
FONT_BODY = "仿宋_GB2312"
FONT_H1 = "黑体"
FONT_H2 = "楷体_GB2312"
FONT_TITLE = "方正小标宋简体"
FONT_LATIN = "Times New Roman"
FONT_PAGE_NO = "宋体"


def full_date(d: Date | str) -> str:
    """成文日期 as GB/T 9704 writes it: Arabic numerals, year, month and day in full, no
    leading zeros (2020年10月5日)."""
    if isinstance(d, str):
        d = Date.fromisoformat(d[:10])
    return f"{d.year}年{d.month}月{d.day}日"


def char_width(text: str) -> float:
    """Width of `text` in characters of the body font: a digit or Latin letter is half."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


def signature_indents(signature: str, date: str) -> tuple[float, float]:
    """Characters left blank to the right of the 署名 and of the 成文日期 (7.3.5.2): the 署名
    two; the date starts two characters right of the 署名's first; a date that would then come
    closer than two characters to the edge keeps two, and the 署名 moves left by as much.
    Halves happen (digits are half a character wide)."""
    if not signature:
        return 0.0, 4.0
    date_right = char_width(signature) - char_width(date)
    if date_right >= 2:
        return 2.0, date_right
    return 4 - date_right, 2.0


class GbtDocument:
    """A document laid out to GB/T 9704 (see the module doc). Blocks are added in order."""

    def __init__(self, title: str, *, doc_number: str | None = None, author: str | None = None,
                 above: list[str] | tuple = ()):
        """`above`: lines before everything, in red, that are not part of the document (a
        sample-data mark, an update note)."""
        from docx import Document
        from docx.shared import Mm

        self.doc = Document()
        self.title = title
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        sec.top_margin, sec.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
        sec.left_margin, sec.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
        sec.header_distance, sec.footer_distance = Mm(15), Mm(FOOTER_MM)
        self._grid(sec)
        self._styles()
        self._page_numbers(sec)
        props = self.doc.core_properties
        props.title = title
        if author:
            props.author = author
        for line in above:
            self.mark(line)
        if doc_number:
            self._para(doc_number, FONT_BODY, BODY_PT, indent=False, align="center")
            self.blank()
        self._title(title)

    # -- blocks ----------------------------------------------------------------------------
    def blank(self) -> None:
        """An empty line (GB/T: 標題下空一行, 正文下空一行 before the 署名 …)."""
        self._para("", FONT_BODY, BODY_PT, indent=False)

    def mark(self, text: str) -> None:
        """A note above the title that is not part of the document (e.g. sample data), in red."""
        self._para(text, FONT_H1, 12, indent=False, color="C00000")

    def addressee(self, text: str) -> None:
        """主送機關: flush left, ending with a full-width colon."""
        self._para(text, FONT_BODY, BODY_PT, indent=False)

    def heading(self, text: str, level: int = 1) -> None:
        """Structure headings: level 1 (一、) 黑體, level 2 ((一)) 楷體, 3 and 4 (1. / (1)) 仿宋;
        indented two characters like the text."""
        font = {1: FONT_H1, 2: FONT_H2}.get(level, FONT_BODY)
        p = self._para(text, font, BODY_PT)
        p.style = self.doc.styles[f"Heading {min(max(level, 1), 4)}"]
        self._font(p.runs[0], font, BODY_PT)

    def paragraph(self, text: str, indent: bool = True) -> None:
        """Body text: 仿宋 三號, the first line indented two characters."""
        self._para(text, FONT_BODY, BODY_PT, indent=indent)

    def table(self, rows: list[list], header: bool = True, widths_mm: list[float] | None = None,
              size: float = 12) -> None:
        """A table with borders over the type area's width; the first row is the header (黑體)
        when `header`. Cells are text (numbers are written as they are given)."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.shared import Mm

        if not rows:
            return
        ncols = max(len(r) for r in rows)
        t = self.doc.add_table(rows=len(rows), cols=ncols)
        t.style = self.doc.styles["Table Grid"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        widths = widths_mm or [156 / ncols] * ncols
        for ri, row in enumerate(rows):
            for ci in range(ncols):
                cell = t.cell(ri, ci)
                cell.width = Mm(widths[ci])
                value = row[ci] if ci < len(row) else ""
                p = cell.paragraphs[0]
                p.paragraph_format.first_line_indent = None
                self._line(p, exact=False)
                run = p.add_run("" if value is None else str(value))
                self._font(run, FONT_H1 if header and ri == 0 else FONT_BODY, size)
        self.blank()

    def signature(self, issuer: str, date: Date | str) -> None:
        """發文機關署名 and 成文日期 after an empty line (7.3.5.2, without seal)."""
        day = full_date(date) if not isinstance(date, str) or re.match(r"\d{4}-\d{2}-\d{2}", date) \
            else date
        sig_right, date_right = signature_indents(issuer, day)
        self.blank()
        if issuer:
            self._para(issuer, FONT_BODY, BODY_PT, indent=False, align="right", right_chars=sig_right)
        self._para(day, FONT_BODY, BODY_PT, indent=False, align="right", right_chars=date_right)

    def page_break(self) -> None:
        from docx.enum.text import WD_BREAK
        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()

    def save(self, path: str | Path) -> Path:
        """Write the document (atomic: a temporary file renamed at the end)."""
        from putuo_xl.fileio import atomic_write_bytes
        return atomic_write_bytes(path, self.to_bytes())

    # -- formatting ------------------------------------------------------------------------
    def _title(self, title: str) -> None:
        p = self._para(title, FONT_TITLE, TITLE_PT, indent=False, align="center")
        p.style = self.doc.styles["Title"]
        self._font(p.runs[0], FONT_TITLE, TITLE_PT)
        self._line(p, exact=True, pt=36)
        self.blank()

    def _para(self, text: str, font: str, size: float, *, indent: bool = True, align: str = "left",
              right_chars: float | None = None, color: str | None = None):
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml.ns import qn
        from docx.shared import RGBColor

        p = self.doc.add_paragraph()
        p.alignment = {"left": WD_ALIGN_PARAGRAPH.JUSTIFY, "center": WD_ALIGN_PARAGRAPH.CENTER,
                       "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
        self._line(p, exact=True)
        ind = p._p.get_or_add_pPr().get_or_add_ind()
        if indent:                      # 首行縮進 2 字 (in characters: follows the grid)
            ind.set(qn("w:firstLineChars"), "200")
            ind.set(qn("w:firstLine"), str(int(size * 2 * 20)))
        if right_chars:
            ind.set(qn("w:rightChars"), str(int(round(right_chars * 100))))
            ind.set(qn("w:right"), str(int(size * right_chars * 20)))
        if text:
            run = p.add_run(text)
            self._font(run, font, size)
            if color:
                run.font.color.rgb = RGBColor.from_string(color)
        return p

    @staticmethod
    def _line(p, exact: bool = True, pt: float = LINE_PT) -> None:
        from docx.enum.text import WD_LINE_SPACING
        from docx.shared import Pt

        pf = p.paragraph_format
        pf.space_before = pf.space_after = Pt(0)
        if exact:
            pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            pf.line_spacing = Pt(pt)
        else:
            pf.line_spacing_rule = WD_LINE_SPACING.SINGLE

    @staticmethod
    def _font(run, east_asian: str, size: float, latin: str = FONT_LATIN) -> None:
        from docx.oxml.ns import qn
        from docx.shared import Pt

        run.font.size = Pt(size)
        run.font.name = latin
        rpr = run._r.get_or_add_rPr()
        fonts = rpr.get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), east_asian)
        fonts.set(qn("w:ascii"), latin)
        fonts.set(qn("w:hAnsi"), latin)
        run.font.bold = False

    def _styles(self) -> None:
        """Normal text and the heading styles: the GB/T fonts, black, no spacing (Word's
        defaults would make headings blue and larger)."""
        from docx.oxml.ns import qn
        from docx.shared import Pt, RGBColor

        for name, font, size in (("Normal", FONT_BODY, BODY_PT), ("Title", FONT_TITLE, TITLE_PT),
                                 ("Heading 1", FONT_H1, BODY_PT), ("Heading 2", FONT_H2, BODY_PT),
                                 ("Heading 3", FONT_BODY, BODY_PT), ("Heading 4", FONT_BODY, BODY_PT)):
            st = self.doc.styles[name]
            st.font.size = Pt(size)
            st.font.name = FONT_LATIN
            st.font.bold = False
            st.font.italic = False
            st.font.color.rgb = RGBColor(0, 0, 0)
            rpr = st.element.get_or_add_rPr()
            fonts = rpr.get_or_add_rFonts()
            for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts.attrib.pop(qn(attr), None)
            fonts.set(qn("w:eastAsia"), font)
            pf = st.paragraph_format
            pf.space_before = pf.space_after = Pt(0)
            if name != "Normal":
                # a title or heading border/underline some templates draw: none
                ppr = st.element.get_or_add_pPr()
                for child in list(ppr):
                    if child.tag == qn("w:pBdr"):
                        ppr.remove(child)

    def _grid(self, sec) -> None:
        """22 lines a page: the document's line grid (Word's 文檔網格). No character grid: Word
        and LibreOffice read its pitch differently; 16 pt characters justified over 156 mm
        give the standard's 28 a line within a fraction of a character."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        sect = sec._sectPr
        for old in sect.findall(qn("w:docGrid")):
            sect.remove(old)
        grid = OxmlElement("w:docGrid")
        grid.set(qn("w:type"), "lines")
        grid.set(qn("w:linePitch"), str(LINE_PITCH))
        sect.append(grid)

    def _page_numbers(self, sec) -> None:
        """「— 1 —」: odd pages right, even pages left, one character in (GB/T 9704 7.5)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        self.doc.settings.odd_and_even_pages_header_footer = True
        for footer, align, side in ((sec.footer, WD_ALIGN_PARAGRAPH.RIGHT, "w:rightChars"),
                                    (sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "w:leftChars")):
            footer.is_linked_to_previous = False
            p = footer.paragraphs[0]
            p.alignment = align
            ind = p._p.get_or_add_pPr().get_or_add_ind()
            ind.set(qn(side), "100")
            ind.set(qn(side.replace("Chars", "")), str(PAGE_NO_PT * 20))
            self._font(p.add_run("— "), FONT_PAGE_NO, PAGE_NO_PT, latin=FONT_PAGE_NO)
            for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"),
                               ("end", None)):
                run = p.add_run()           # the PAGE field, one part a run
                self._font(run, FONT_PAGE_NO, PAGE_NO_PT, latin=FONT_PAGE_NO)
                if kind:
                    el = OxmlElement("w:fldChar")
                    el.set(qn("w:fldCharType"), kind)
                elif text == "1":
                    el = OxmlElement("w:t")
                    el.text = "1"
                else:
                    el = OxmlElement("w:instrText")
                    el.set(qn("xml:space"), "preserve")
                    el.text = text
                run._r.append(el)
            self._font(p.add_run(" —"), FONT_PAGE_NO, PAGE_NO_PT, latin=FONT_PAGE_NO)
