"""Every sheet of the demo an official reads, checked as it prints: the master (說明, section
sheets, 按單位查看, 責任矩陣, 考評指標), 收件情況, the six 工作報表 sheets and a unit's form —
cells, print settings, and LibreOffice's rendering of the whole workbook; the 通報 as a GB/T
9704 Word document."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from putuo_xl import layout
from putuo_xl.demo import run_demo
from sheet_check import (check_sheet, chart_texts, pdf_pages, print_title_problems, squash)

ROOT = Path(__file__).resolve().parents[1]
XLSX_CHECK = ROOT / "tools" / "xlsx-check"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("official") / "demo")


@pytest.fixture(scope="module")
def book(demo):
    return load_workbook(demo.master)


@pytest.fixture(scope="module")
def pages(demo, tmp_path_factory):
    """The master as LibreOffice prints it: (sheet of each page, text of each page)."""
    font = subprocess.run(["fc-match", "-f", "%{family}", "Calibri"], capture_output=True, text=True)
    assert "Carlito" in font.stdout, ("LibreOffice needs Calibri's metrics to lay out columns as "
                                      "Excel does: apt-get install fonts-crosextra-carlito (make test)")
    pdf = tmp_path_factory.mktemp("pdf") / "master.pdf"
    p = subprocess.run([sys.executable, str(XLSX_CHECK), str(demo.master), "--pdf", str(pdf)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return pdf_pages(pdf)


def official_sheets(wb):
    return [ws for ws in wb.worksheets if ws.sheet_state == "visible"]


def test_every_cell_fits_no_codes_one_date_style(book):
    names = [ws.title for ws in official_sheets(book)]
    for key in ("readme", "by_unit", "matrix", "indicators", "receipts", *layout.ROLLUP_SHEETS):
        assert layout.name(key) in names, key
    problems = [p for ws in official_sheets(book) for p in check_sheet(ws)]
    assert not problems, "\n".join(map(str, problems[:30]))


def test_a_units_form_fits_has_one_date_style_and_no_codes(demo):
    """月報 and 填報說明 as a unit prints them: no "#" id in any cell (the collector's row keys
    are in a hidden column, outside the print area); 區財政局's form has a task's further targets
    on rows of their own (3.3.1's second and third)."""
    forms = sorted(demo.forms[demo.months[-1]].glob("*.xlsx"))
    picked = [forms[0]] + [p for p in forms if "區財政局" in p.name]
    assert len(picked) == 2
    for form in picked:
        wb = load_workbook(form)
        names = [ws.title for ws in official_sheets(wb)]
        assert names == [layout.FORM_SHEET, layout.FORM_HELP_SHEET], names
        problems = [p for ws in official_sheets(wb) for p in check_sheet(ws)]
        assert not problems, form.name + "\n" + "\n".join(map(str, problems[:30]))
    ws = load_workbook(picked[1])[layout.FORM_SHEET]
    keys = [c.value for c in ws[get_column_letter(len(layout.FORM_COLUMNS))]]
    assert "3.3.1#2" in keys and "3.3.1#3" in keys           # what the collector reads: hidden


def test_print_titles_only_above_their_own_table(book):
    assert not print_title_problems(book)
    trend = book[layout.name("trend")]
    assert not trend.print_title_rows            # three tables with different headers


def test_charts_are_never_cut_by_a_page_break(demo, pages):
    """Each 趨勢 chart — its title and every legend entry — on one printed page, and the tables'
    own headers above them (never 一's above 二 or 三)."""
    trend = layout.name("trend")
    mine = [t for t in pages if f"·{trend}" in t.split("\n", 3)[0] + t.split("\n", 3)[1]]
    assert mine
    charts = chart_texts(demo.master, trend)
    assert len(charts) == 3
    for title, series in charts:
        where = [i for i, t in enumerate(mine) if squash(title) in squash(t)]
        assert len(where) == 1, title
        page = squash(mine[where[0]])
        for name in series:
            assert squash(name) in page, (title, name)
        assert not any(re.search(r"\d{1,2}\.\d\.\d#\d", s) for s in series)   # names, not ids
    for t in mine:
        if "二、考評指標實際值" in t or "三、考評指標達成度" in t:
            assert "一、月度總體情況" not in t


def test_printed_pages_say_dates_one_way(pages):
    for i, text in enumerate(pages, 1):
        assert not re.search(r"(?<![\d-])\d{4}-\d{1,2}-\d{1,2}(?![\d-])", text), (i, text[:400])
        assert not re.search(r"#\s?\d", text), (i, text[:400])


def test_bulletin_page_and_signature(demo, pages):
    bulletin = layout.name("bulletin")
    mine = [t for t in pages if re.search(r"— \d+ —", t)]       # the 通報's own page numbers
    assert mine and "預評估通報" in mine[0]
    text = "\n".join(mine)
    # 總體狀態 and the units' own reports told apart (the 通報 no longer reads as a contradiction)
    assert "總體滯後" in text and "各單位報告中" in text and "報告滯後任務" in text
    office = "區建設法治政府（依法行政）工作領導小組辦公室"
    sig = next(ln for ln in text.split("\n") if squash(ln) == office)
    after = next(ln for ln in text.split(sig, 1)[1].split("\n") if ln.strip())
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", after.strip()), "the 成文日期, in full, below"
    # right-aligned (not at the left margin), the date starting right of the 署名's start
    assert len(sig) - len(sig.lstrip()) >= 3 and len(after) - len(after.lstrip()) > len(sig) - len(sig.lstrip())
    wb = load_workbook(demo.master)
    ws = wb[bulletin]
    assert ws.page_setup.orientation == "portrait"
    assert round(ws.page_margins.top * 25.4) == 37 and round(ws.page_margins.left * 25.4) == 28


def styled(p, get, run=None):
    """A property as printed: `get` of `run` (its font) or of paragraph `p` (its format), or else
    of `p`'s style or a style that style is based on."""
    value = get(run.font if run is not None else p.paragraph_format)
    style = p.style
    while value is None and style is not None:
        value = get(style.font if run is not None else style.paragraph_format)
        style = style.base_style
    return value


def east_asian_font(p):
    """The East Asian font of `p`'s first run: the run's own, or its paragraph style's."""
    from docx.oxml.ns import qn

    def font(f):
        fonts = f.element.rPr.rFonts if f.element.rPr is not None else None
        return fonts.get(qn("w:eastAsia")) if fonts is not None else None
    return styled(p, font, run=p.runs[0])


def pdf_words(pdf: Path, page: int) -> list[tuple[float, float, float, str]]:
    """(left, top, right, text) of every word on `page` of `pdf`, in points."""
    xml = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [(float(a), float(b), float(c), t) for a, b, c, t in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', xml)]


def test_bulletin_docx_follows_gbt_9704(demo, tmp_path):
    from docx import Document

    from putuo_xl.rollup.run import bulletin_docx
    out = bulletin_docx(demo.master, demo.months[-1], tmp_path / "通報.docx")
    doc = Document(out)
    sec = doc.sections[0]
    assert (round(sec.top_margin.mm), round(sec.left_margin.mm), round(sec.bottom_margin.mm),
            round(sec.right_margin.mm)) == (37, 28, 35, 26)
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    paras = [p for p in doc.paragraphs if p.text.strip()]
    body = next(p for p in paras if p.text.startswith("根據"))
    assert styled(body, lambda f: f.size, run=body.runs[0]).pt == 16
    assert east_asian_font(body) == "仿宋_GB2312"
    h1 = next(p for p in paras if p.text.startswith("一、"))
    assert east_asian_font(h1) == "黑体"
    assert styled(body, lambda f: f.line_spacing).pt == pytest.approx(28.95)
    date_p = paras[-1]
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", date_p.text)
    assert styled(paras[-2], lambda f: f.alignment) == 2          # the 署名: right
    footer = sec.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "—" in footer and doc.settings.odd_and_even_pages_header_footer
    # LibreOffice opens it: the text, the page numbers
    if shutil.which("soffice"):
        prof = tmp_path / "lo"
        subprocess.run(["soffice", f"-env:UserInstallation=file://{prof}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
                       capture_output=True, timeout=180)
        pdf = tmp_path / "通報.pdf"
        assert pdf.exists()
        texts = pdf_pages(pdf)
        assert "—1—" in squash(texts[0]) and "預評估通報" in squash(texts[0])
        # as printed (7.3.5.2): the 署名 two characters from the type area's right edge, the
        # date on the next line starting two characters right of the 署名's first character
        char, right_edge = 16 - 0.25, (210 - 26) * 72 / 25.4          # pt
        words = pdf_words(pdf, len(texts))
        sig = next(w for w in words if squash(w[3]) == squash(paras[-2].text))
        date_line = [w for w in words if 10 < w[1] - sig[1] < 40]
        assert (right_edge - sig[2]) / char == pytest.approx(2, abs=0.25)
        assert (min(w[0] for w in date_line) - sig[0]) / char == pytest.approx(2, abs=0.25)
        # 28 characters a line (5.2.3): the first page's full lines of Chinese text
        full = [w for w in pdf_words(pdf, 1) if re.fullmatch(r"[\u3000-\u9fff\uff00-\uffef]+", w[3])
                and w[0] < 28 * 72 / 25.4 + 2 and w[2] > right_edge - 4]
        assert full and all(len(w[3]) == 28 for w in full), full
