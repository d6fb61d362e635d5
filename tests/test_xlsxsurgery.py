"""xlsxsurgery: our sheets go into an official's workbook; everything of theirs survives.

The master is made the way officials get it (xlsxwriter), then "edited by an official": a sheet
of their own with a chart, an image, a comment, a data validation, a conditional format, a table,
defined names and formulas that read our sheets. Our report sheets are generated twice (two
months) and put in twice. LibreOffice (tools/xlsx-check) opens every representative result;
openpyxl, python-calamine and pandas read them back.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
import tempfile
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from lxml import etree
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from python_calamine import CalamineWorkbook

from putuo_xl.errors import FileBusyError, InputError
from putuo_xl.workbook.surgery import replace_sheets, sheet_names

ROOT = Path(__file__).resolve().parents[1]
XLSX_CHECK = ROOT / "tools" / "xlsx-check"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
EP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"

OFFICIAL = "官員分析"
MONTHLY = "月度匯總"
INDICATORS = "考評指標完成情況"
RECEIPTS = "收件情況"


# -- making the workbooks --------------------------------------------------------------------
def png(w=6, h=4, rgb=(200, 30, 30)) -> bytes:
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


IMAGE = png()


def make_master(path: Path, vba: bytes | None = None) -> Path:
    """The master as `build` leaves it, plus an official's own sheet and names."""
    wb = xlsxwriter.Workbook(str(path))
    if vba is not None:
        vba_path = path.with_name("vbaProject.bin")
        vba_path.write_bytes(vba)
        wb.add_vba_project(str(vba_path))
    head = wb.add_format({"bold": True, "font_name": "SimHei"})
    readme = wb.add_worksheet("說明")
    readme.write("A1", "任務分解台賬(2020)", head)
    m = wb.add_worksheet(MONTHLY)            # build writes the header only; rollup fills it
    m.write_row("A1", ["月度匯總(待匯總)"], head)
    # the same picture as on the official's sheet: xlsxwriter stores it once for both drawings,
    # so removing this sheet's drawing must keep the image
    m.insert_image("D5", "logo.png", {"image_data": io.BytesIO(IMAGE)})
    o = wb.add_worksheet(OFFICIAL)
    o.write_row("A1", ["單位", "數量", "已核"], head)
    for i in range(5):
        o.write_row(i + 1, 0, [f"單位{i}", i * 3])
    o.write("E1", "本月已報合計")
    o.write_formula("E2", f"=SUM('{MONTHLY}'!B3:B8)")
    o.write("E3", "1.1.1 狀態")
    o.write_formula("E4", '=INDEX(_status!B:B,MATCH("1.1.1",_status!A:A,0))')
    o.write_formula("E5", "=SUM(Tbl月度[數])")          # the official's own table, below
    o.write_comment("A1", "官員的批註:請核對。")
    o.insert_image("H18", "logo.png", {"image_data": io.BytesIO(IMAGE)})
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "數量", "categories": f"='{OFFICIAL}'!$A$2:$A$6",
                      "values": f"='{OFFICIAL}'!$B$2:$B$6"})
    o.insert_chart("H2", chart)
    o.data_validation("C2:C6", {"validate": "list", "source": ["是", "否"]})
    o.conditional_format("B2:B6", {"type": "cell", "criteria": ">", "value": 5,
                                   "format": wb.add_format({"bg_color": "#FFC7CE"})})
    # a table whose name our report also uses: ours must be renamed, not theirs
    o.add_table("A10:B12", {"name": "Tbl月度", "columns": [{"header": "項"}, {"header": "數"}],
                            "data": [["甲", 1], ["乙", 2]]})
    o.print_area("A1:E12")
    o.activate()
    st = wb.add_worksheet("_status")
    st.hide()
    st.write_row("A1", ["key", "status", "progress", "last_report", "light"])
    wb.define_name("官員範圍", f"='{OFFICIAL}'!$A$1:$B$6")
    wb.define_name(f"'{OFFICIAL}'!本表備註", f"='{OFFICIAL}'!$E$1")
    wb.set_custom_property("編制單位", "區司法局")
    wb.close()
    return path


def make_report(path: Path, version: int) -> Path:
    """What rollup writes: report sheets with a chart, a table, merged title, print titles."""
    wb = xlsxwriter.Workbook(str(path))
    title = wb.add_format({"bold": True, "font_name": "SimHei", "font_size": 16, "align": "center"})
    head = wb.add_format({"bold": True, "font_name": "SimHei", "bg_color": "#DDEBF7", "border": 1})
    text = wb.add_format({"font_name": "SimSun", "border": 1})
    pct = wb.add_format({"font_name": "SimSun", "num_format": "0.0%", "border": 1})
    date = wb.add_format({"font_name": "SimSun", "num_format": "yyyy年m月d日", "border": 1})
    late = wb.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})
    done = wb.add_format({"font_color": "#006100", "bg_color": "#C6EFCE"})

    m = wb.add_worksheet(MONTHLY)
    m.set_landscape()
    m.set_paper(9)
    m.set_header(f"&C月度匯總(2020年{version + 7}月)")
    m.set_footer("&C第 &P 頁,共 &N 頁")
    m.merge_range("A1:D1", f"月度匯總 2020年{version + 7}月", title)
    m.write_row("A2", ["單位", "已報", "完成率", "最近填報"], head)
    units = ["區司法局", "區財政局", "沈家門街道", "朱家尖街道", "六橫鎮", "桃花鎮"]
    for i, u in enumerate(units):
        m.write(i + 2, 0, u, text)
        m.write(i + 2, 1, i + version, text)
        m.write(i + 2, 2, (i + version) / 10, pct)
        m.write_datetime(i + 2, 3, __import__("datetime").datetime(2020, 7 + version, i + 1), date)
    m.conditional_format("C3:C8", {"type": "cell", "criteria": "<", "value": 0.3, "format": late})
    m.conditional_format("C3:C8", {"type": "cell", "criteria": ">=", "value": 0.6, "format": done})
    m.repeat_rows(1)
    m.add_table("F2:G5", {"name": "Tbl月度", "columns": [{"header": "項"}, {"header": "數"}],
                          "data": [["甲", version], ["乙", 10 * version], ["丙", 100]]})
    m.write_rich_string("A10", "普通", wb.add_format({"bold": True, "font_color": "red"}), "重點",
                        "說明")
    m.write_url("A11", "https://www.putuo.gov.cn/", string="普陀區政府網")
    m.write_url("A12", f"internal:'{OFFICIAL}'!A1", string="去官員分析")
    m.write("F7", "表內合計")
    m.write_formula("G7", "=SUM(Tbl月度[數])")
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"name": "已報", "categories": f"='{MONTHLY}'!$A$3:$A$8",
                      "values": f"='{MONTHLY}'!$B$3:$B$8"})
    m.insert_chart("I2", chart)
    m.activate()

    k = wb.add_worksheet(INDICATORS)
    k.write_row("A1", ["指標", "目標", "實際"], head)
    k.write_row("A2", ["行政複議糾錯率", 0.9, 0.8 + version / 100], text)
    k.write_row("A3", ["政府信息公開", 1, version * 100], text)
    k.autofilter("A1:C3")
    bar = wb.add_chart({"type": "bar"})
    bar.add_series({"categories": f"='{INDICATORS}'!$A$2:$A$3",
                    "values": f"='{INDICATORS}'!$C$2:$C$3"})
    k.insert_chart("E2", bar)

    st = wb.add_worksheet("_status")
    st.hide()
    st.write_row("A1", ["key", "status", "progress", "last_report", "light"])
    st.write_row("A2", ["1.1.1", f"v{version} 進行中", version * 10, "2020-08", "yellow"])
    wb.define_name("本月", f"='{MONTHLY}'!$A$1")
    wb.close()
    return path


def make_receipts(path: Path, n: int = 1) -> Path:
    """What collect writes, with openpyxl: a 收件情況 sheet with a comment and a chart."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = RECEIPTS
    ws.append(["單位", "狀態", "收件次數"])
    ws["A1"].font = Font(name="SimHei", bold=True)
    ws["A1"].fill = PatternFill("solid", fgColor="FFC6EFCE")
    for i in range(3):
        ws.append([f"單位{i}", "已收" if i < n else "未收", i])
    ws["B2"].comment = Comment("第二次提交覆蓋第一次", "putuo-xl")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=3, min_row=1, max_row=4), titles_from_data=True)
    ws.add_chart(chart, "E2")
    wb.save(path)
    return path


# -- reading packages ---------------------------------------------------------------------
def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    import posixpath
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def rels(p: dict[str, bytes], part: str) -> dict[str, tuple[str, str]]:
    import posixpath
    d, b = posixpath.split(part)
    name = posixpath.join(d, "_rels", b + ".rels")
    if name not in p:
        return {}
    out = {}
    for r in etree.fromstring(p[name]):
        if r.get("TargetMode") == "External":
            continue
        out[r.get("Id")] = (r.get("Type").rsplit("/", 1)[-1], _resolve(part, r.get("Target")))
    return out


def sheet_parts(p: dict[str, bytes]) -> dict[str, str]:
    wb = etree.fromstring(p["xl/workbook.xml"])
    r = rels(p, "xl/workbook.xml")
    return {s.get("name"): r[s.get(R_ID)][1] for s in wb.iter(f"{{{MAIN}}}sheet")}


def subtree(p: dict[str, bytes], part: str) -> dict[str, bytes]:
    """A part and everything it reaches through relationships: name → bytes."""
    out, todo = {}, [part]
    while todo:
        x = todo.pop()
        if x in out:
            continue
        out[x] = p[x]
        todo.extend(t for _, t in rels(p, x).values())
    return out


def subtree_bytes(p, part) -> list[tuple[str, bytes]]:
    """The subtree's contents keyed by relationship path, not part name (names may change)."""
    out = []

    def walk(x, path):
        out.append((path, p[x]))
        for rid, (kind, t) in sorted(rels(p, x).items()):
            walk(t, f"{path}/{rid}:{kind}")
    walk(part, "")
    return out


def xlsx_check(path: Path, *args: str) -> dict:
    res = subprocess.run([str(XLSX_CHECK), str(path), "--json", *args], capture_output=True,
                         text=True, timeout=180)
    assert res.stdout, res.stderr
    return json.loads(res.stdout)


def by_sheet(report: dict) -> dict[str, dict]:
    return {s["name"]: s for s in report["sheets"]}


def tab_selected(p: dict[str, bytes]) -> list[str]:
    out = []
    for name, part in sheet_parts(p).items():
        root = etree.fromstring(p[part])
        if any(v.get("tabSelected") in ("1", "true") for v in root.iter(f"{{{MAIN}}}sheetView")):
            out.append(name)
    return out


def active_tab(p: dict[str, bytes]) -> str:
    wb = etree.fromstring(p["xl/workbook.xml"])
    view = wb.find(f"{{{MAIN}}}bookViews/{{{MAIN}}}workbookView")
    idx = int(view.get("activeTab", "0")) if view is not None else 0
    return [s.get("name") for s in wb.iter(f"{{{MAIN}}}sheet")][idx]


# -- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("surgery")
    master = make_master(d / "master.xlsx")
    v1 = make_report(d / "report-v1.xlsx", 1)
    v2 = make_report(d / "report-v2.xlsx", 2)
    rec = make_receipts(d / "receipts.xlsx")
    # the refresh sequence: rollup v1, collect, rollup v2, rollup v2 again, rollup v1, rollup v2
    steps = {}
    work = d / "任務分解台賬.xlsx"
    shutil.copy(master, work)
    replace_sheets(work, v1, hidden=["_status"])
    steps["v1"] = work.read_bytes()
    replace_sheets(work, rec, position={RECEIPTS: 0})
    steps["receipts"] = work.read_bytes()
    replace_sheets(work, v2)
    steps["v2"] = work.read_bytes()
    replace_sheets(work, v2)
    steps["v2again"] = work.read_bytes()
    replace_sheets(work, v1)
    replace_sheets(work, v2)
    steps["v2third"] = work.read_bytes()
    return {"dir": d, "master": master, "v1": v1, "v2": v2, "receipts": rec, "work": work,
            "steps": steps}


def snapshot(built, step) -> Path:
    out = built["dir"] / f"step-{step}.xlsx"
    out.write_bytes(built["steps"][step])
    return out


# -- the official's things survive -----------------------------------------------------------
def test_officials_sheet_and_its_parts_are_unchanged(built):
    before = parts(built["master"])
    after = parts(snapshot(built, "v2third"))
    b_part, a_part = sheet_parts(before)[OFFICIAL], sheet_parts(after)[OFFICIAL]
    assert b_part == a_part
    # sheet XML, rels, drawing, chart, image, comments, VML, table: same bytes
    assert subtree_bytes(before, b_part) == subtree_bytes(after, a_part)
    kinds = {k for k, _ in rels(after, a_part).values()}
    assert {"drawing", "comments", "vmlDrawing", "table"} <= kinds
    sub = subtree(after, a_part)
    assert any(n.endswith(".png") and v == IMAGE for n, v in sub.items())
    assert any("/charts/" in n for n in sub)
    # the other untouched parts too
    for name in ("xl/theme/theme1.xml", "xl/sharedStrings.xml", "docProps/core.xml",
                 "docProps/custom.xml", sheet_parts(before)["說明"]):
        assert before[name] == after[name], name


def stored(path: Path) -> dict[str, bytes]:
    """Each member's compressed bytes as stored in the zip."""
    raw = path.read_bytes()
    out = {}
    with zipfile.ZipFile(path) as z:
        for i in z.infolist():
            n, m = struct.unpack("<HH", raw[i.header_offset + 26:i.header_offset + 30])
            start = i.header_offset + 30 + n + m
            out[i.filename] = raw[start:start + i.compress_size]
    return out


def test_untouched_parts_are_copied_as_stored(built):
    before, after = stored(built["master"]), stored(snapshot(built, "v2third"))
    p = parts(built["master"])
    official = set(subtree(p, sheet_parts(p)[OFFICIAL]))
    for name in official | {"xl/theme/theme1.xml", "xl/sharedStrings.xml", "docProps/custom.xml"}:
        assert after[name] == before[name], name


def test_comment_shapes_of_different_sheets_do_not_collide(built):
    p = parts(snapshot(built, "v2third"))
    blocks = {}
    for name, part in sheet_parts(p).items():
        for kind, target in rels(p, part).values():
            if kind == "vmlDrawing":
                blocks[name] = re.findall(rb'idmap[^>]*data="(\d+)"', p[target])
                ids = {int(x) // 1024 for x in re.findall(rb"_x0000_s(\d+)", p[target])}
                assert ids == {int(b) for b in blocks[name]}, name
    assert set(blocks) == {OFFICIAL, RECEIPTS}
    assert blocks[OFFICIAL] == [b"1"] and blocks[RECEIPTS] == [b"2"]   # theirs kept, ours moved


def test_styles_only_grow_at_the_end(built):
    before = etree.fromstring(parts(built["master"])["xl/styles.xml"])
    after = etree.fromstring(parts(snapshot(built, "v2third"))["xl/styles.xml"])
    for tag in ("fonts", "fills", "borders", "cellXfs", "cellStyleXfs", "dxfs", "numFmts"):
        b, a = before.find(f"{{{MAIN}}}{tag}"), after.find(f"{{{MAIN}}}{tag}")
        b_items = [etree.tostring(x) for x in (b if b is not None else [])]
        a_items = [etree.tostring(x) for x in (a if a is not None else [])]
        assert a_items[:len(b_items)] == b_items, tag       # existing indexes keep their meaning
        assert len(set(a_items)) == len(a_items), tag       # no duplicates appended
        if a is not None and a.get("count") is not None:
            assert int(a.get("count")) == len(a_items), tag


def test_names_order_ids_and_tabs(built):
    p = parts(snapshot(built, "v2third"))
    master = parts(built["master"])
    wb = etree.fromstring(p["xl/workbook.xml"])
    sheets = [(s.get("name"), s.get("sheetId"), s.get("state", "visible"))
              for s in wb.iter(f"{{{MAIN}}}sheet")]
    old_ids = {s.get("name"): s.get("sheetId")
               for s in etree.fromstring(master["xl/workbook.xml"]).iter(f"{{{MAIN}}}sheet")}
    assert [s[0] for s in sheets] == [RECEIPTS, "說明", MONTHLY, OFFICIAL, "_status", INDICATORS]
    ids = {n: i for n, i, _ in sheets}
    for n in ("說明", MONTHLY, OFFICIAL, "_status"):
        assert ids[n] == old_ids[n]                       # replaced sheets keep their sheetId
    assert len(set(ids.values())) == len(ids)
    assert dict((n, s) for n, _, s in sheets)["_status"] == "hidden"
    # the official's sheet stays the active tab, and only it is selected
    assert active_tab(p) == OFFICIAL
    assert tab_selected(p) == [OFFICIAL]
    # defined names: local ids follow the sheets after 收件情況 was put in front
    names = {(d.get("name"), d.get("localSheetId")): d.text.replace("'", "")
             for d in wb.iter(f"{{{MAIN}}}definedName")}
    order = [s[0] for s in sheets]
    assert names[("_xlnm.Print_Titles", str(order.index(MONTHLY)))] == f"{MONTHLY}!$2:$2"
    assert names[("_xlnm.Print_Area", str(order.index(OFFICIAL)))] == f"{OFFICIAL}!$A$1:$E$12"
    assert names[("本表備註", str(order.index(OFFICIAL)))] == f"{OFFICIAL}!$E$1"
    assert names[("官員範圍", None)] == f"{OFFICIAL}!$A$1:$B$6"
    assert names[("本月", None)] == f"{MONTHLY}!$A$1"
    assert ("_xlnm._FilterDatabase", str(order.index(INDICATORS))) in names
    assert len(names) == len(list(wb.iter(f"{{{MAIN}}}definedName")))   # no duplicates
    calc = wb.find(f"{{{MAIN}}}calcPr")
    assert calc.get("fullCalcOnLoad") == "1"
    # app.xml lists the sheets as they are now
    app = etree.fromstring(p["docProps/app.xml"])
    vt = "{http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes}"
    heading = [x.text for x in app.find(f"{{{EP}}}HeadingPairs").iter(f"{vt}lpstr", f"{vt}i4")]
    assert heading[:2] == ["Worksheets", str(len(order))]
    titles = [x.text for x in app.find(f"{{{EP}}}TitlesOfParts").iter(f"{vt}lpstr")]
    assert titles[:len(order)] == order
    assert sheet_names(snapshot(built, "v2third")) == order


def test_repeated_refresh_does_not_grow_the_file(built):
    s = built["steps"]
    assert len(s["v2"]) == len(s["v2again"]) == len(s["v2third"])
    assert parts_equal(s["v2again"], s["v2third"])
    # no part is orphaned: every part but the package's own is reached from the root
    p = parts(snapshot(built, "v2third"))
    reached = set(subtree(p, "xl/workbook.xml")) | {"docProps/app.xml", "docProps/core.xml",
                                                   "docProps/custom.xml"}
    orphans = {n for n in p if not n.endswith(".rels") and n != "[Content_Types].xml"} - reached
    assert not orphans
    for step in built["steps"].values():
        assert_consistent(parts_of(step))
    assert len([n for n in p if "/tables/" in n]) == 2      # the official's and ours
    assert len([n for n in p if "/charts/" in n and not n.endswith(".rels")]) == 4


def assert_consistent(p: dict[str, bytes]) -> None:
    """Every relationship target exists, every part has exactly one content type."""
    ct = etree.fromstring(p["[Content_Types].xml"])
    defaults = {d.get("Extension").lower() for d in ct if d.get("Extension")}
    overrides = [o.get("PartName").lstrip("/") for o in ct if o.get("PartName")]
    assert len(overrides) == len(set(overrides))
    assert set(overrides) <= set(p), set(overrides) - set(p)
    for n in p:
        if n != "[Content_Types].xml":
            assert n in overrides or n.rsplit(".", 1)[-1].lower() in defaults, n
        if not n.endswith(".rels"):
            for kind, target in rels(p, n).values():
                assert target in p, (n, kind, target)
    for kind, target in rels(p, "").values():
        assert target in p


def parts_equal(a: bytes, b: bytes) -> bool:
    return parts_of(a) == parts_of(b)


def parts_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_new_sheets_values_and_styles_read_back_with_openpyxl(built):
    wb = openpyxl.load_workbook(snapshot(built, "v2third"))
    m = wb[MONTHLY]
    assert m["A1"].value == "月度匯總 2020年9月"
    assert m["A1"].font.name == "SimHei" and m["A1"].font.bold and m["A1"].font.sz == 16
    assert "A1:D1" in {str(r) for r in m.merged_cells.ranges}
    assert m["A2"].fill.fgColor.rgb == "FFDDEBF7"
    assert m["A2"].border.left.style == "thin"
    assert m["A3"].value == "區司法局" and m["A3"].font.name == "SimSun"
    assert m["B4"].value == 3
    assert m["C4"].number_format == "0.0%" and abs(m["C4"].value - 0.3) < 1e-9
    assert m["D3"].number_format == "yyyy年m月d日" and m["D3"].value.month == 9
    assert m.print_title_rows == "$2:$2"
    assert m.page_setup.orientation == "landscape"
    assert "月度匯總(2020年9月)" in m.oddHeader.center.text
    rules = [r for cf in m.conditional_formatting for r in cf.rules]
    assert len(rules) == 2
    fills = sorted(r.dxf.fill.bgColor.rgb for r in rules)
    assert fills == ["FFC6EFCE", "FFFFC7CE"]
    assert m["A10"].value == "普通重點說明"
    assert m["A11"].hyperlink.target == "https://www.putuo.gov.cn/" and m["A11"].value == "普陀區政府網"
    assert m["A12"].hyperlink.location == f"'{OFFICIAL}'!A1"
    assert m.tables["Tbl月度_2"].ref == "F2:G5"           # renamed: the official has Tbl月度
    assert m["G7"].value == "=SUM(Tbl月度_2[數])"
    assert wb["_status"].sheet_state == "hidden"
    assert wb["_status"]["B2"].value == "v2 進行中"
    assert wb[INDICATORS]["C3"].value == 200
    r = wb[RECEIPTS]
    assert r["A1"].font.name == "SimHei" and r["A1"].fill.fgColor.rgb == "FFC6EFCE"
    assert r["B2"].comment.text.startswith("第二次提交")
    # the official's sheet, as openpyxl sees it
    o = wb[OFFICIAL]
    assert o["A1"].comment.text == "官員的批註:請核對。"
    assert o.data_validations.dataValidation[0].formula1 == '"是,否"'
    assert len(list(o.conditional_formatting)) == 1
    assert o.tables["Tbl月度"].ref == "A10:B12"
    assert wb.custom_doc_props["編制單位"].value == "區司法局"


def test_libreoffice_opens_it_and_formulas_see_the_new_values(built):
    path = snapshot(built, "v2third")
    rep = xlsx_check(path, "--get", f"{OFFICIAL}!E2:E5", "--get", f"{MONTHLY}!G7")
    assert rep["ok"], rep["problems"]
    assert rep["load"]["repair_needed"] is False
    s = by_sheet(rep)
    assert s[MONTHLY]["charts"] == 1 and s[INDICATORS]["charts"] == 1
    assert s[RECEIPTS]["charts"] == 1
    assert s[OFFICIAL]["charts"] == 1 and s[OFFICIAL]["drawing_objects"] >= 2   # chart + image
    assert s[OFFICIAL]["data_validations_in_file"] == 1
    assert s[OFFICIAL]["conditional_format_rules"] == 1
    assert s[MONTHLY]["conditional_format_rules"] == 2
    assert s["_status"]["visible"] is False
    # version 2: 已報 = i + 2 for six units → 2+3+4+5+6+7 = 27
    e = rep["get"][f"{OFFICIAL}!E2:E5"]
    assert e[0] == [27] and e[2] == ["v2 進行中"] and e[3] == [3]
    assert rep["get"][f"{MONTHLY}!G7"] == [[122]]


def test_other_readers_accept_it(built):
    path = snapshot(built, "v2third")
    cw = CalamineWorkbook.from_path(str(path))
    assert cw.sheet_names == [RECEIPTS, "說明", MONTHLY, OFFICIAL, "_status", INDICATORS]
    rows = cw.get_sheet_by_name(MONTHLY).to_python()
    assert rows[0][0] == "月度匯總 2020年9月" and rows[3][:2] == ["區財政局", 3.0]
    assert cw.get_sheet_by_name("_status").to_python()[1][1] == "v2 進行中"
    frames = pd.read_excel(path, sheet_name=None, engine="calamine")
    assert frames[INDICATORS]["實際"].tolist() == pytest.approx([0.82, 200])
    df = pd.read_excel(path, sheet_name=MONTHLY, header=1, engine="openpyxl")
    assert df["單位"].tolist()[:2] == ["區司法局", "區財政局"] and df["已報"].sum() == 27


# -- other kinds of target -------------------------------------------------------------------
XLWINGS_XLSM = Path(__import__("xlwings").__file__).parent / "quickstart.xlsm"


def test_xlsm_keeps_its_vba_project(tmp_path):
    """An Excel-saved .xlsm (xlwings' quickstart): VBA project byte-identical, code names kept."""
    target = tmp_path / "帶宏台賬.xlsm"
    shutil.copy(XLWINGS_XLSM, target)
    before = parts(target)
    # Sheet1 has VBA code name "Sheet1": replace it with ours, it must keep the code name
    src = tmp_path / "src.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("Sheet1")
    ws.write("A1", "替換後")
    wb.close()
    replace_sheets(target, src)
    replace_sheets(target, make_report(tmp_path / "r.xlsx", 1))
    replace_sheets(target, make_receipts(tmp_path / "rec.xlsx"))
    after = parts(target)
    assert_consistent(after)
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    ct = after["[Content_Types].xml"].decode()
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in ct
    assert 'Extension="bin" ContentType="application/vnd.ms-office.vbaProject"' in ct
    sp = sheet_parts(after)
    assert b'codeName="Sheet1"' in after[sp["Sheet1"]] and "替換後".encode() in after[sp["Sheet1"]]
    assert after[sp["_xlwings.conf"]] == before[sheet_parts(before)["_xlwings.conf"]]
    assert len(tab_selected(after)) == 1
    rep = xlsx_check(target)
    assert rep["ok"], rep["problems"]
    assert rep["package"]["vba"] is True
    assert by_sheet(rep)[MONTHLY]["charts"] == 1


def lo_resave(src: Path, outdir: Path) -> Path:
    """The master saved by another application (LibreOffice), as an official's WPS/LO would."""
    profile = tempfile.mkdtemp(prefix="lo-profile-")
    try:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", "xlsx", "--outdir", str(outdir), str(src)],
                       check=True, capture_output=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return outdir / src.name


def test_target_saved_by_libreoffice(tmp_path):
    master = make_master(tmp_path / "master.xlsx")
    out = tmp_path / "lo"
    out.mkdir()
    target = lo_resave(master, out)
    before = parts(target)
    replace_sheets(target, make_report(tmp_path / "r1.xlsx", 1))
    replace_sheets(target, make_receipts(tmp_path / "rec.xlsx"))
    replace_sheets(target, make_report(tmp_path / "r2.xlsx", 2))
    size = target.stat().st_size
    replace_sheets(target, make_report(tmp_path / "r2.xlsx", 2))
    assert target.stat().st_size == size
    after = parts(target)
    assert_consistent(after)
    b_part, a_part = sheet_parts(before)[OFFICIAL], sheet_parts(after)[OFFICIAL]
    assert subtree_bytes(before, b_part) == subtree_bytes(after, a_part)
    # comment shapes (VML) of different sheets do not share id blocks
    blocks = []
    for n, data in after.items():
        if n.endswith(".vml"):
            blocks += re.findall(rb'idmap[^>]*data="(\d+)"', data)
    assert len(blocks) == len(set(blocks))
    rep = xlsx_check(target, "--get", f"{OFFICIAL}!E2")
    assert rep["ok"], rep["problems"]
    assert rep["get"][f"{OFFICIAL}!E2"] == [[27]]
    s = by_sheet(rep)
    assert s[OFFICIAL]["charts"] == 1 and s[MONTHLY]["charts"] == 1 and s[RECEIPTS]["charts"] == 1


def test_openpyxl_master(tmp_path):
    """A master made by openpyxl (absolute relationship targets, its own VML) takes our sheets."""
    target = tmp_path / "op.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = OFFICIAL
    ws.append(["a", 1])
    ws["A1"].comment = Comment("官員", "x")
    ch = BarChart()
    ch.add_data(Reference(ws, min_col=2, min_row=1, max_row=1))
    ws.add_chart(ch, "D2")
    ws["C1"] = f"='{RECEIPTS}'!C4*2"
    wb.create_sheet(RECEIPTS).append(["old"])
    wb.save(target)
    before = parts(target)
    replace_sheets(target, make_receipts(tmp_path / "rec.xlsx"))
    replace_sheets(target, make_receipts(tmp_path / "rec2.xlsx", 2))
    after = parts(target)
    assert_consistent(after)
    assert subtree_bytes(before, sheet_parts(before)[OFFICIAL]) == \
        subtree_bytes(after, sheet_parts(after)[OFFICIAL])
    wb2 = openpyxl.load_workbook(target)
    assert wb2[RECEIPTS]["B3"].value == "已收" and wb2[OFFICIAL]["A1"].comment.text == "官員"
    rep = xlsx_check(target, "--get", f"{OFFICIAL}!C1")
    assert rep["ok"], rep["problems"]
    assert rep["get"][f"{OFFICIAL}!C1"] == [[4]]


# -- sheet state and tabs --------------------------------------------------------------------
def test_hiding_the_active_sheet_moves_the_active_tab(tmp_path):
    target = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(str(target))
    wb.add_worksheet("甲")
    b = wb.add_worksheet("乙")
    b.activate()
    wb.add_worksheet("丙")
    wb.close()
    src = tmp_path / "s.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    wb.add_worksheet("乙").write("A1", 1)
    wb.add_worksheet("丁").write("A1", 2)
    vh = wb.add_worksheet("_meta")
    vh.very_hidden()
    wb.close()
    replace_sheets(target, src, hidden=["乙"], position={"丁": "甲"})
    p = parts(target)
    wb = etree.fromstring(p["xl/workbook.xml"])
    states = {s.get("name"): s.get("state", "visible") for s in wb.iter(f"{{{MAIN}}}sheet")}
    assert list(states) == ["丁", "甲", "乙", "丙", "_meta"]
    assert states == {"丁": "visible", "甲": "visible", "乙": "hidden", "丙": "visible",
                      "_meta": "veryHidden"}
    assert active_tab(p) == "丁" and tab_selected(p) == ["丁"]


def test_everything_hidden_is_refused(tmp_path):
    target = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(str(target))
    wb.add_worksheet("甲")
    wb.close()
    src = tmp_path / "s.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    wb.add_worksheet("甲")
    wb.close()
    before = target.read_bytes()
    with pytest.raises(InputError, match="沒有可見的工作表"):
        replace_sheets(target, src, hidden=["甲"])
    assert target.read_bytes() == before


# -- safety --------------------------------------------------------------------------------
def _dir_state(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}


def test_open_in_excel_is_refused_and_nothing_changes(tmp_path):
    target = make_master(tmp_path / "master.xlsx")
    src = make_report(tmp_path / "r.xlsx", 1)
    lock = tmp_path / "~$master.xlsx"
    lock.write_bytes(b"\x00" * 165)
    before = _dir_state(tmp_path)
    mtime = target.stat().st_mtime_ns
    with pytest.raises(FileBusyError) as e:
        replace_sheets(target, src)
    assert "鎖文件" in str(e.value) and e.value.file == str(target)
    assert _dir_state(tmp_path) == before and target.stat().st_mtime_ns == mtime
    lock.unlink()
    replace_sheets(target, src)          # once closed, it works
    assert MONTHLY in sheet_names(target)


@pytest.mark.parametrize("damage", ["truncated", "bad-sheet-xml", "missing-sheet-part",
                                    "not-a-zip", "bad-style-index"])
def test_a_broken_source_leaves_the_target_untouched(tmp_path, damage):
    target = make_master(tmp_path / "master.xlsx")
    good = make_report(tmp_path / "good.xlsx", 1)
    bad = tmp_path / "bad.xlsx"
    data = good.read_bytes()
    if damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "not-a-zip":
        bad.write_text("這不是工作簿", encoding="utf-8")
    else:
        src = parts(good)
        sp = sheet_parts(src)[INDICATORS]
        if damage == "bad-sheet-xml":
            src[sp] = src[sp][:-40]
        elif damage == "missing-sheet-part":
            del src[sp]
        else:
            src[sp] = re.sub(rb' s="\d+"', b' s="99"', src[sp], count=1)
            assert b' s="99"' in src[sp]
        with zipfile.ZipFile(bad, "w") as z:
            for n, v in src.items():
                z.writestr(n, v)
    before = _dir_state(tmp_path)
    with pytest.raises(InputError) as e:
        replace_sheets(target, bad)
    assert e.value.file in (str(bad), str(target))
    assert _dir_state(tmp_path) == before         # target identical, no temporary file left


def test_unknown_sheet_and_output_elsewhere(tmp_path):
    target = make_master(tmp_path / "master.xlsx")
    src = make_report(tmp_path / "r.xlsx", 1)
    with pytest.raises(InputError) as e:
        replace_sheets(target, src, sheets=["趨勢"])
    assert e.value.sheet == "趨勢" and "沒有工作表" in str(e.value)
    before = target.read_bytes()
    out = tmp_path / "輸出" / "新台賬.xlsx"
    replace_sheets(target, src, sheets=[INDICATORS], output=out)
    assert target.read_bytes() == before
    assert sheet_names(out) == ["說明", MONTHLY, OFFICIAL, "_status", INDICATORS]
    # only the named sheet came over: 月度匯總 is still the master's placeholder
    assert openpyxl.load_workbook(out)[MONTHLY]["A1"].value == "月度匯總(待匯總)"


def test_corrupt_target_is_a_clear_error(tmp_path):
    target = tmp_path / "壞.xlsx"
    target.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(InputError) as e:
        replace_sheets(target, make_report(tmp_path / "r.xlsx", 1))
    assert e.value.file == str(target) and "不是有效的 Excel 工作簿" in str(e.value)
    assert target.read_bytes() == b"PK\x03\x04 broken"


def test_calc_chain_is_dropped(tmp_path):
    """Excel's calcChain.xml lists formula cells by sheet; stale entries make Excel repair."""
    target = make_master(tmp_path / "master.xlsx")
    p = parts(target)
    p["xl/calcChain.xml"] = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                             b'<calcChain xmlns="%s"><c r="E2" i="3"/><c r="E4"/></calcChain>'
                             % MAIN.encode())
    p["[Content_Types].xml"] = p["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.'
                     b'openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>')
    p["xl/_rels/workbook.xml.rels"] = p["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                             b'officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/>'
                             b"</Relationships>")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for n, v in p.items():
            z.writestr(n, v)
    assert_consistent(parts(target))
    replace_sheets(target, make_report(tmp_path / "r.xlsx", 1))
    after = parts(target)
    assert "xl/calcChain.xml" not in after
    assert b"calcChain" not in after["[Content_Types].xml"]
    assert b"calcChain" not in after["xl/_rels/workbook.xml.rels"]
    assert_consistent(after)


def test_new_sheets_in_memory(tmp_path):
    from putuo_xl.workbook.surgery import new_sheets
    target = make_master(tmp_path / "master.xlsx")
    with new_sheets(target, hidden=["_actuals"], position={"趨勢": MONTHLY}) as wb:
        ws = wb.add_worksheet("趨勢")
        ws.write_column("A1", [1, 2, 3])
        chart = wb.add_chart({"type": "line"})
        chart.add_series({"values": "='趨勢'!$A$1:$A$3"})
        ws.insert_chart("C2", chart)
        wb.add_worksheet("_actuals").write("A1", "key")
    assert sheet_names(target) == ["說明", "趨勢", MONTHLY, OFFICIAL, "_status", "_actuals"]
    wb2 = openpyxl.load_workbook(target)
    assert wb2["_actuals"].sheet_state == "hidden" and wb2["趨勢"]["A3"].value == 3
    before = target.read_bytes()
    with pytest.raises(RuntimeError):
        with new_sheets(target) as wb:
            wb.add_worksheet("趨勢").write("A1", "半成品")
            raise RuntimeError("rollup failed half-way")
    assert target.read_bytes() == before
    # bytes and BytesIO sources work as well as files
    replace_sheets(target, make_receipts(tmp_path / "rec.xlsx").read_bytes())
    replace_sheets(target, io.BytesIO((tmp_path / "rec.xlsx").read_bytes()))
    assert sheet_names(target)[-1] == RECEIPTS
    with pytest.raises(InputError) as e:
        replace_sheets(target, b"not a workbook")
    assert "來源工作簿" in str(e.value)


def test_chartsheets_in_source_and_target(tmp_path):
    target = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(str(target))
    wb.add_worksheet("數據").write_column("A1", [1, 2, 3])
    pie = wb.add_chart({"type": "pie"})
    pie.add_series({"values": "='數據'!$A$1:$A$3"})
    wb.add_chartsheet("官員圖").set_chart(pie)
    wb.close()
    src = tmp_path / "s.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    wb.add_worksheet(MONTHLY).write_column("A1", [4, 5, 6])
    line = wb.add_chart({"type": "line"})
    line.add_series({"values": f"='{MONTHLY}'!$A$1:$A$3"})
    cs = wb.add_chartsheet("趨勢圖")
    cs.set_chart(line)
    cs.activate()                         # selected in the source: must not be in the target
    wb.close()
    before = parts(target)
    replace_sheets(target, src)
    size = target.stat().st_size
    replace_sheets(target, src)
    assert target.stat().st_size == size
    after = parts(target)
    assert_consistent(after)
    assert subtree_bytes(before, sheet_parts(before)["官員圖"]) == \
        subtree_bytes(after, sheet_parts(after)["官員圖"])
    assert sheet_parts(after)["趨勢圖"].startswith("xl/chartsheets/")
    assert active_tab(after) == "數據" and tab_selected(after) == ["數據"]
    rep = xlsx_check(target)
    assert rep["ok"], rep["problems"]
    assert by_sheet(rep)["趨勢圖"]["charts"] == 1 and by_sheet(rep)["官員圖"]["charts"] == 1


def test_rename_refused_like_windows_with_excel_open(tmp_path, monkeypatch):
    """Windows will not replace a file Excel holds open; the error says so, nothing is left."""
    import putuo_xl.fileio as fileio
    target = make_master(tmp_path / "master.xlsx")
    src = make_report(tmp_path / "r.xlsx", 1)
    before = _dir_state(tmp_path)

    def refuse(a, b):
        raise PermissionError(13, "The process cannot access the file", str(b))
    monkeypatch.setattr(fileio.os, "replace", refuse)
    with pytest.raises(FileBusyError) as e:
        replace_sheets(target, src)
    assert "關閉" in str(e.value)
    assert _dir_state(tmp_path) == before


def test_the_real_master_from_build(tmp_path):
    """build's master reads _status/_actuals by formulas; putting rollup's data sheets in makes
    the section sheets and the indicator sheet show the new values, and nothing else changes."""
    from putuo_xl import layout
    from putuo_xl.workbook.master import build_master
    from putuo_xl.workbook.surgery import new_sheets

    master = build_master(output=tmp_path / "任務分解台賬.xlsx").path
    before = parts(master)
    section = next(n for n in sheet_names(master) if n.startswith("一、"))
    indicators = layout.name("indicators")
    with new_sheets(master) as wb:
        st = wb.add_worksheet(layout.STATUS_SHEET)
        st.hide()
        st.write_row(0, 0, layout.STATUS_COLUMNS)
        st.write_row(1, 0, ["1.1.1", "進行中", 0.5, "2020-08", "yellow"])
        ac = wb.add_worksheet(layout.ACTUALS_SHEET)
        ac.hide()
        ac.write_row(0, 0, layout.ACTUALS_COLUMNS)
        ac.write_row(1, 0, ["1.1.1#1|2020-08", 38, 0, "區審招辦"])
        rep = wb.add_worksheet(layout.name("monthly"))
        rep.write("A1", "月度匯總 2020年8月")
    after = parts(master)
    assert_consistent(after)
    b_sheets, a_sheets = sheet_parts(before), sheet_parts(after)
    assert list(a_sheets) == list(b_sheets) + [layout.name("monthly")]
    for name, part in b_sheets.items():
        if name not in (layout.STATUS_SHEET, layout.ACTUALS_SHEET):
            assert subtree_bytes(before, part) == subtree_bytes(after, a_sheets[name]), name
    rep = xlsx_check(master, "--get", f"'{section}'!H4:J4", "--get", f"{indicators}!K4",
                     "--get", f"{indicators}!P4:Q4")
    assert rep["ok"], rep["problems"]
    assert rep["get"][f"'{section}'!H4:J4"] == [["進行中", 0.5, "2020-08"]]
    assert rep["get"][f"{indicators}!K4"] == [[38]]
    assert rep["get"][f"{indicators}!P4:Q4"] == [[38, "未達標"]]
    wb2 = openpyxl.load_workbook(master)
    assert wb2[layout.STATUS_SHEET].sheet_state == "hidden"


def test_hide_on_the_first_xlsxwriter_sheet_is_honoured(tmp_path):
    """xlsxwriter shows its first sheet even after hide(); new_sheets and `hidden` fix that."""
    from putuo_xl.workbook.surgery import new_sheets
    target = make_master(tmp_path / "master.xlsx")
    with new_sheets(target) as wb:
        wb.add_worksheet("_form").very_hidden()
        wb.add_worksheet("_lists").hide()
    src = tmp_path / "s.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    wb.add_worksheet("_first").hide()
    wb.add_worksheet("可見")
    wb.close()
    replace_sheets(target, src, hidden={"_first": "veryHidden"})
    states = {s.get("name"): s.get("state", "visible")
              for s in etree.fromstring(parts(target)["xl/workbook.xml"]).iter(f"{{{MAIN}}}sheet")}
    assert states["_form"] == "veryHidden" and states["_lists"] == "hidden"
    assert states["_first"] == "veryHidden" and states["可見"] == "visible"
    assert tab_selected(parts(target)) == [OFFICIAL]
