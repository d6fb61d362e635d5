"""The 年度報告 on a whole year of sample returns (`putuo-xl demo --months 12`): every figure of
the draft checked against the ledger (SQL on the ledger file, not the report's own code), its
headings, styles and page set-up (GB/T 9704), the comments naming the unit and return of every
quoted sentence, the annex workbook, LibreOffice converting the .docx to PDF; the CLI; the
ribbon button on the desktop and the server route, with the server's download link."""
from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from putuo_xl import layout
from putuo_xl.config import load_config
from putuo_xl.demo import SAMPLE_MARK, year_months
from putuo_xl.docx_gbt import comment_ranges, style_name
from putuo_xl.report.document import ANNEXES, PARTS
from putuo_xl.report.run import annual_report
from putuo_xl.report.texts import clean
from putuo_xl.text import narrow

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2020


@pytest.fixture(scope="module")
def made(year_demo):
    res = annual_report(year_demo.master, YEAR)
    return res, docx.Document(str(res.docx))


@pytest.fixture(scope="module")
def db(year_demo):
    con = sqlite3.connect(year_demo.master.with_name("任務分解台賬.ledger.sqlite"))
    yield con
    con.close()


@pytest.fixture(scope="module")
def plan(year_demo):
    from putuo_xl.workbook.readback import plan_from_workbook
    return plan_from_workbook(year_demo.master, load_config())


def paragraphs(d, style: str) -> list:
    return [p for p in d.paragraphs if p.style.name == style]


def body_after(d, heading: str) -> list[str]:
    """The texts of the paragraphs between the level-1 heading `heading` and the next one."""
    out, inside = [], False
    for p in d.paragraphs:
        if p.style.name == style_name("h1"):
            inside = narrow(p.text) == narrow(heading)
            continue
        if inside:
            out.append(narrow(p.text))
    return out


def pct(a: int, b: int) -> str:
    return f"{a / b * 100:.1f}%"


# -- the ledger, asked directly ------------------------------------------------------------------
IN_FORCE = "s.status = 'accepted' AND s.superseded_by IS NULL"


def reporting_from_ledger(db) -> dict[str, int]:
    """Per issued (month, unit): on time if an accepted form arrived on time, late if only late
    ones, missing if none (every due date of 2020 has passed)."""
    out = {"expected": 0, "on_time": 0, "late": 0, "missing": 0}
    for month, unit in db.execute("SELECT DISTINCT month, unit FROM issued WHERE month LIKE '2020-%'"):
        flags = [r[0] for r in db.execute(
            "SELECT on_time FROM submissions WHERE status = 'accepted' AND month = ? AND unit = ?",
            (month, unit))]
        out["expected"] += 1
        out["on_time" if any(flags) else "late" if flags else "missing"] += 1
    return out


def latest_status(db, task: str, unit: str) -> str | None:
    row = db.execute(
        f"SELECT r.status FROM reports r JOIN submissions s ON s.id = r.submission_id WHERE {IN_FORCE} "
        "AND r.task_id = ? AND r.unit = ? AND r.status IS NOT NULL ORDER BY r.month DESC, s.id DESC LIMIT 1",
        (task, unit)).fetchone()
    return row[0] if row else None


def latest_actual(db, indicator: str, unit: str):
    return db.execute(
        f"SELECT a.value, a.month FROM actuals a JOIN submissions s ON s.id = a.submission_id "
        f"WHERE {IN_FORCE} AND a.indicator_id = ? AND a.unit = ? ORDER BY a.month DESC, s.id DESC "
        "LIMIT 1", (indicator, unit)).fetchone()


def fmt(v: float) -> str:
    v = round(float(v), 2)
    return str(int(v)) if v == int(v) else f"{v:.2f}".rstrip("0").rstrip(".")


# -- the tests ---------------------------------------------------------------------------------------
def test_demo_months_option():
    assert year_months(12) == [f"2020-{m:02d}" for m in range(1, 13)]
    assert year_months(2) == ["2020-11", "2020-12"]
    with pytest.raises(Exception, match="1 到 12"):
        year_months(13)


def test_year_demo_is_a_coherent_year(year_demo, db):
    assert year_demo.months == year_months(12)
    months = [r[0] for r in db.execute("SELECT DISTINCT month FROM submissions WHERE status='accepted' ORDER BY 1")]
    assert months == year_months(12)
    # every return is marked as sample data, and the tasks move forward over the year
    names = [r[0] for r in db.execute("SELECT file_name FROM submissions")]
    assert names and all(SAMPLE_MARK in n for n in names)
    done = [db.execute(f"SELECT COUNT(*) FROM reports r JOIN submissions s ON s.id = r.submission_id "
                       f"WHERE {IN_FORCE} AND r.month = ? AND r.status = '已完成'", (m,)).fetchone()[0]
            for m in year_months(12)]
    assert done[-1] > done[5] > done[0]


def test_headings_styles_and_page(made, plan):
    res, d = made
    h1 = [narrow(p.text) for p in paragraphs(d, style_name("h1"))]
    assert h1 == [narrow(x) for x in PARTS]
    # part 一's level-2 headings are the notice's sections, in order
    h2, inside = [], False
    for p in d.paragraphs:
        if p.style.name == style_name("h1"):
            inside = p.text == PARTS[0]
        elif inside and p.style.name == style_name("h2"):
            h2.append(narrow(p.text))
    assert len(h2) == len(plan.sections)
    for s, h in zip(plan.sections, h2):
        assert h.endswith(narrow(s.title)) and h.startswith("(")
    title = paragraphs(d, style_name("title"))[0].text
    assert f"{YEAR}年法治政府建設年度報告" in title and SAMPLE_MARK in title
    # the styles: fonts (East Asian), sizes, line pitch, indents
    want = {"title": ("方正小标宋简体", 22), "h1": ("黑体", 16), "h2": ("楷体_GB2312", 16),
            "body": ("仿宋_GB2312", 16), "signature": ("仿宋_GB2312", 16)}
    for key, (font, size) in want.items():
        st = d.styles[style_name(key)]
        fonts = st.element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == font, key
        assert st.font.size == Pt(size), key
    body = d.styles[style_name("body")].paragraph_format
    assert body.line_spacing == Pt(28.95) and body.first_line_indent == Pt(32)
    assert d.styles[style_name("h2")].font.bold is not True
    # page: A4, 天頭 37 mm, 訂口 28 mm, type area 156 × 225 mm
    sec = d.sections[0]
    def mm(x):                     # Word keeps lengths in twips: compare to a tenth of a mm
        return round(x / Mm(1), 1)

    assert (mm(sec.page_width), mm(sec.page_height)) == (210, 297)
    assert (mm(sec.top_margin), mm(sec.left_margin)) == (37, 28)
    assert mm(sec.page_width - sec.left_margin - sec.right_margin) == 156
    assert mm(sec.page_height - sec.top_margin - sec.bottom_margin) == 225
    # page numbers: a PAGE field between 一字線, odd pages right, even pages left
    assert d.settings.odd_and_even_pages_header_footer
    odd, even = sec.footer.paragraphs[0], sec.even_page_footer.paragraphs[0]
    for p in (odd, even):
        assert p._p.find(qn("w:fldSimple")).get(qn("w:instr")) == "PAGE"
        assert p.text.startswith("— ") and p.text.endswith(" —")
    assert odd.alignment == 2 and even.alignment == 0     # RIGHT, LEFT
    # part 三 and the signature are placeholders for the office, highlighted
    three = [p for p in d.paragraphs if p.text.startswith("〔此部分由辦公室撰寫")]
    assert len(three) == 1
    assert all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in three[0].runs)
    assert body_after(d, PARTS[2])[0].startswith("〔此部分由辦公室撰寫")
    sig = paragraphs(d, style_name("signature"))[0]
    assert sig.text == "〔發文機關署名〕" and sig.runs[0].font.highlight_color == WD_COLOR_INDEX.YELLOW


def test_overview_figures_against_the_ledger(made, db, plan):
    res, d = made
    text = body_after(d, PARTS[0])[0]
    m = re.fullmatch(
        r"全年工作要點共(\d+)項工作任務,截至2020年12月底,已完成(\d+)項,推進中(\d+)項,未啟動(\d+)項,"
        r"滯後(\d+)項,任務完成率([\d.]+%)。(\d+)項考評指標中,已達標(\d+)項,未達標(\d+)項。"
        r"全年12個月共下發月報(\d+)份,各單位應報送(\d+)份次,按時報送(\d+)份次,逾期報送(\d+)份次,"
        r"未報送(\d+)份次,按時報送率([\d.]+%)。", text)
    assert m, text
    n, done, doing, idle, lag, rate, k, met, short, issued, exp, on, late, miss, on_rate = m.groups()
    tasks = plan.tasks()
    assert int(n) == len(tasks)
    assert int(done) + int(doing) + int(idle) + int(lag) == len(tasks)
    assert rate == pct(int(done), len(tasks))
    # the annex's year-end statuses say the same
    annex = d.tables[0]
    statuses = [narrow(r.cells[4].text) for r in annex.rows[1:]]
    assert [r.cells[0].text for r in annex.rows[1:]] == [t.id for t in tasks]
    assert statuses.count("已完成") == int(done) and statuses.count("推進中") == int(doing)
    # a task with one lead unit of its own: its year-end status is that unit's latest in the ledger
    checked = 0
    for t, row in zip(tasks, annex.rows[1:]):
        leads = [u for u in t.units if u.role == "lead" and not u.group]
        if len(leads) == 1 and len(t.units) > 0:
            assert narrow(row.cells[4].text) == latest_status(db, t.id, leads[0].canonical or leads[0].name), t.id
            checked += 1
    assert checked >= 10
    # targets
    inds = [i for _t, i in plan.indicators()]
    assert int(k) == len(inds) and int(met) + int(short) == len(inds)
    # reporting, counted from the ledger's tables
    rep = reporting_from_ledger(db)
    assert int(issued) == db.execute(
        "SELECT COUNT(*) FROM (SELECT DISTINCT month, unit FROM issued WHERE month LIKE '2020-%')").fetchone()[0]
    assert (int(exp), int(on), int(late), int(miss)) == (rep["expected"], rep["on_time"], rep["late"], rep["missing"])
    assert on_rate == pct(rep["on_time"], rep["expected"])
    assert int(miss) > 0 and int(late) > 0          # the demo has both


def test_targets_against_the_ledger(made, db, plan):
    res, d = made
    table = d.tables[1]
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    inds = {i.id: (t, i) for t, i in plan.indicators()}
    assert [r[0] for r in rows] == list(inds)
    met_n = 0
    for ind_id, name, target, actual, reporter, month, met in rows:
        task, ind = inds[ind_id]
        leads = [u.canonical or u.name for u in task.units if u.role in ("lead", "responsible")]
        assert reporter in leads, (ind_id, reporter)
        value, vmonth = latest_actual(db, ind_id, reporter)
        assert actual == f"{fmt(value)}{ind.unit}", ind_id
        assert month == layout.month_label(vmonth)
        assert met == ("達標" if ind.met(value) else "未達標")
        met_n += met == "達標"
        # the value quoted in the body is the same, with the unit that reported it
        body = "".join(p.text for p in d.paragraphs)
        if met == "達標":
            assert f"{ind.name or ind.text}{fmt(value)}{ind.unit}(目標:{ind.text},{reporter}填報)" in narrow(body)
    overview = body_after(d, PARTS[0])[0]
    assert f"已達標{met_n}項" in overview


def test_section_figures_match_the_annex(made, plan):
    res, d = made
    status = {r.cells[0].text: narrow(r.cells[4].text) for r in d.tables[0].rows[1:]}
    texts = [t for t in body_after(d, PARTS[0]) if t.startswith("本部分")]
    assert len(texts) == len(plan.sections)
    for s, text in zip(plan.sections, texts):
        ids = [t.id for ss in s.subsections for t in ss.tasks]
        done = sum(status[i] == "已完成" for i in ids)
        assert text.startswith(f"本部分{len(ids)}項任務,已完成{done}項"), text
        assert f"完成率{pct(done, len(ids))}。" in text
        doing = sum(status[i] == "推進中" for i in ids)
        assert (f",推進中{doing}項" in text) == bool(doing)
    # part 二 lists every unfinished task, part 四 carries them over
    two = "".join(body_after(d, PARTS[1]))
    four = "".join(body_after(d, PARTS[3]))
    for tid, st in status.items():
        if st != "已完成":
            assert f"{tid} " in two and tid in four, tid


def test_every_quoted_sentence_names_its_unit_and_return(made, db):
    res, d = made
    ranges = comment_ranges(d)
    quoted = [(st, text, note) for st, text, note in ranges if note.startswith("任務")]
    assert len(quoted) >= 60
    for _style, text, note in quoted:
        m = re.match(r"任務 ([\d.、]+) 來源:(.*)$", narrow(note))
        assert m, note
        tasks = m.group(1).split("、")
        sources = [re.fullmatch(r"(\S+) (\d{4})年(\d+)月月報\(台賬 #(\d+)\)", x)
                   for x in m.group(2).split(";") if not x.startswith("另有")]
        assert sources and all(sources), note
        sources = [x.groups() for x in sources]
        # the sentence: the unit's text as written, then (the units)
        said = re.match(r"^(.*)\((.+?)\)。$", narrow(text))
        assert said, text
        quote, named = said.groups()
        named_units = re.sub(r"等\d+個單位$", "", named).split("、")
        assert named_units == [u for u, *_ in sources][:len(named_units)]
        for unit, y, mo, sid in sources:
            month = f"{y}-{int(mo):02d}"
            row = db.execute("SELECT unit, month, status, superseded_by FROM submissions WHERE id = ?",
                             (int(sid),)).fetchone()
            assert row == (unit, month, "accepted", None), (note, row)
            said_texts = {clean(x).rstrip("。.;;,,、 ") for r in db.execute(
                "SELECT progress_text, problems, next_steps FROM reports WHERE submission_id = ? "
                f"AND task_id IN ({','.join('?' * len(tasks))})", (int(sid), *tasks)) for x in r if x}
            assert narrow(quote) in {narrow(x) for x in said_texts}, (quote, unit, sid)
    # no unit's text appears in the body outside a commented sentence
    everything = {clean(x) for r in db.execute("SELECT progress_text, problems, next_steps FROM reports")
                  for x in r if x}
    everything = {narrow(x.rstrip("。")) for x in everything if len(x) >= 8}
    anchored = "".join(narrow(t) for _s, t, _n in ranges)
    for p in paragraphs(d, style_name("body")):
        rest = narrow(p.text)
        for _s, t, _n in ranges:
            rest = rest.replace(narrow(t), "")
        for x in everything:
            assert x not in rest, (x, p.text[:80])
    assert anchored


def test_annex_workbook(made, year_demo):
    res, d = made
    wb = openpyxl.load_workbook(res.xlsx)
    assert wb.sheetnames == ["任務完成情況", "考評指標完成情況", "分部分統計", "月度報送情況"]
    ws = wb["任務完成情況"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    hdr = next(i for i, r in enumerate(rows) if r[0] == "編號")
    ids = [r[0] for r in rows[hdr + 1:] if r[0]]
    assert ids == [r.cells[0].text for r in d.tables[0].rows[1:]]
    statuses = [r[5] for r in rows[hdr + 1:] if r[0]]
    assert statuses == [r.cells[4].text for r in d.tables[0].rows[1:]]
    assert SAMPLE_MARK in str(rows[0][0])
    ws = wb["月度報送情況"]
    rows = [r for r in ws.iter_rows(values_only=True) if r[0]]
    total = rows[-1]
    assert total[0] == "合計" and len(rows) >= 12
    tool = ROOT / "tools" / "xlsx-check"
    out = subprocess.run([str(tool), str(res.xlsx), "--json"], capture_output=True, text=True, timeout=240)
    assert json.loads(out.stdout)["ok"], out.stdout[-2000:]


def test_libreoffice_converts_the_report_to_pdf(made, tmp_path):
    res, d = made
    profile = tmp_path / "profile"
    out = subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                          "--convert-to", "pdf", "--outdir", str(tmp_path), str(res.docx)],
                         capture_output=True, text=True, timeout=240)
    pdf = tmp_path / (res.docx.stem + ".pdf")
    assert pdf.is_file(), out.stdout + out.stderr
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 10
    def page(n):                   # the page's text, without the spaces pdftotext puts in
        text = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
                              capture_output=True, text=True).stdout
        return re.sub(r"\s+", "", text)

    assert "2020年法治政府建設年度報告" in page(1) and page(1).endswith("—1—")
    assert ANNEXES[1] in page(pages) and page(pages).endswith(f"—{pages}—")


def test_again_keeps_the_earlier_draft(made, year_demo, tmp_path):
    res, _d = made
    out = tmp_path / "報告.docx"
    first = annual_report(year_demo.master, YEAR, output=out, xlsx=False)
    assert first.xlsx is None and not first.backups
    second = annual_report(year_demo.master, YEAR, output=out, xlsx=False)
    assert len(second.backups) == 1 and second.backups[0].name.startswith("報告.bak-")
    assert second.backups[0].read_bytes()[:2] == b"PK"


def test_cli(year_demo, tmp_path):
    out = tmp_path / "年報.docx"
    r = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "report", str(year_demo.master),
                        "--year", "2020", "-o", str(out)], capture_output=True, text=True, cwd=str(ROOT))
    assert r.returncode == 0, r.stderr
    assert out.is_file() and (tmp_path / "年報_附表.xlsx").is_file()
    assert "已生成 2020 年法治政府建設年度報告草稿" in r.stderr
    for year, words in (("2019", "台賬中沒有2019年的記錄"), ("二〇二〇", "年份「二〇二〇」不對")):
        bad = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "report", str(year_demo.master),
                              "--year", year, "-o", str(tmp_path / "x.docx")], capture_output=True,
                             text=True, cwd=str(ROOT))
        assert bad.returncode == 1 and words in bad.stderr and len(bad.stderr.splitlines()) == 1
    both = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "demo", "--months", "12", "--month",
                           "2020-08", "-o", str(tmp_path / "d")], capture_output=True, text=True, cwd=str(ROOT))
    assert both.returncode == 2 and "--months" in both.stderr


def test_ribbon_button_desktop(year_demo):
    from putuo_xl.excel import actions
    from putuo_xl.excel.payload import actions as acts
    from test_excel_flow import open_master, settings_rows

    book = open_master(year_demo.master, settings=settings_rows(month="2020-12"))
    try:
        actions.annual_report(book)
        alert = acts(book, "alert")[-1]["args"][0]
    finally:
        book.close()
    folder = year_demo.master.parent / "年度報告"
    assert (folder / "2020年法治政府建設年度報告（草稿）.docx").is_file()
    assert (folder / "2020年法治政府建設年度報告附表.xlsx").is_file()
    assert "已起草 2020 年法治政府建設年度報告" in alert and str(folder) in alert


def test_ribbon_button_server_and_download(year_demo, tmp_path):
    import shutil

    from putuo_xl.excel import actions, exchange, projects
    from putuo_xl.excel.context import PROJECT_META_KEY, SERVER_MASTER_NAME, Context, Route
    from putuo_xl.excel.payload import actions as acts
    from test_excel_flow import open_master, settings_rows

    data = tmp_path / "數據"
    route = Route.server(data)
    key = projects.new_key("2020年普陀")
    folder = projects.create(data, key, "2020年普陀", route.identity)
    shutil.copy(year_demo.master, folder / SERVER_MASTER_NAME)
    shutil.copy(year_demo.master.with_name("任務分解台賬.ledger.sqlite"), folder / "任務分解台賬.ledger.sqlite")

    def book():
        return open_master(folder / SERVER_MASTER_NAME, name="普陀 2020 台賬.xlsx",
                           settings=settings_rows(month="2020-12"), extra_meta={PROJECT_META_KEY: key})

    b = book()
    try:
        actions.annual_report(b, route)
        alert = acts(b, "alert")[-1]["args"][0]
        assert "下載年度報告" in alert and str(data) not in alert     # no server path shown
        ctx = Context.open(b, route)
        arch = exchange.report_archive(ctx, 2020)
    finally:
        b.close()
    assert sorted(p.name for p in arch.files) == sorted(["2020年法治政府建設年度報告（草稿）.docx",
                                                         "2020年法治政府建設年度報告附表.xlsx"])
    token = exchange.download_token(data, arch, b"k")
    again = exchange.archive_from_token(data, token, b"k", kind="report")
    assert again.files == arch.files and again.name == "2020年法治政府建設年度報告.zip"
    with pytest.raises(exchange.BadToken):          # a report link does not open the forms route
        exchange.archive_from_token(data, token, b"k")
    import io
    import zipfile
    with zipfile.ZipFile(io.BytesIO(again.zip_bytes())) as z:
        assert sorted(z.namelist()) == sorted(p.name for p in arch.files)
    # the task pane offers it
    page = (ROOT / "putuo_xl" / "data" / "server" / "templates" / "taskpane.html").read_text("utf-8")
    js = (ROOT / "putuo_xl" / "data" / "server" / "static" / "js" / "putuo-files.js").read_text("utf-8")
    assert 'id="putuo-download-report"' in page and '"/putuo/report/link"' in js


def test_same_report_without_the_rollups_snapshots(made, year_demo, tmp_path, monkeypatch):
    """The texts and figures come from the months' snapshots (the demo's rollup kept them); read
    from the ledger instead, the report says the same, word for word and comment for comment."""
    res, d = made
    assert any(year_demo.master.with_name("任務分解台賬.rollup-cache").glob("*.texts.npz"))
    monkeypatch.setenv("PUTUO_XL_ROLLUP_CACHE", "off")
    plain = annual_report(year_demo.master, YEAR, output=tmp_path / "plain.docx", xlsx=False)
    p = docx.Document(str(plain.docx))
    assert [x.text for x in p.paragraphs] == [x.text for x in d.paragraphs]
    assert comment_ranges(p) == comment_ranges(d)
