"""Every kind of workbook we make reads the same in four spreadsheet engines: LibreOffice,
Gnumeric, SheetJS and openpyxl (docs/portability.md). Offices open our files in many versions of
Excel and in WPS, which do not run here: independent engines agreeing is the best proxy.

The workbooks, made as a user would: the fresh master (`putuo-xl build`), a form (`putuo-xl
forms`), a filled return and the master after two months of rollup (`putuo-xl demo`), and forms
out of the bundle the server hands out (`FormsArchive.zip_bytes`: every form in it is the very
file written, and three of them — the smallest, the largest, one between — are read).

Each engine reads every sheet, visible and hidden (tests/engines.py: LibreOffice and SheetJS
once for all the files, Gnumeric and openpyxl once per file), and the test fails on any
disagreement, naming the workbook, the engine, the sheet and the cell:

- a cell without a formula has the same value in all four;
- a formula cell: LibreOffice and Gnumeric recalculate, and their results agree (Gnumeric has
  no tables, so a formula with a structured reference — a table's calculated column — is
  compared in LibreOffice only); SheetJS and openpyxl compute nothing: they must read the same
  formula text and the same cached result, and a cached result must be the computed one (a
  stale cache is what LibreOffice, which keeps cached results, shows until the user
  recalculates). A formula may have no cached result: then every engine that computes does so
  on load;
- the sheets, their order, and which are hidden (LibreOffice, SheetJS, openpyxl: Gnumeric's
  xlsx writer, through which its values are read, drops the state);
- whatever LibreOffice asks or prints while loading, and whatever Gnumeric prints, fails the
  test — except Gnumeric's notes on what it cannot represent (tables, data bars, a print-title
  union, even/first-page headers: `engines.GNUMERIC_LIMITS`, each with its reason).

Normalised, and nothing else: numbers are compared as floats (1 and 1.0 are one number; how an
engine prints a float does not matter; results within a relative 1e-9), dates and times are
serial numbers (openpyxl gives them as datetime), booleans are booleans in every engine, errors
are their text (#N/A), and an empty text is an empty cell (a formula giving "" shows nothing,
and some engines keep no cell for it) — except a cached result, where an empty text is kept
apart from no result at all.
"""
from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

import engines
from putuo_xl.excel.exchange import FormsArchive, _form_files

MONTH = "2020-08"


def _cli(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "putuo_xl.cli", *args], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"putuo-xl {' '.join(args)}: {proc.stdout[-1500:]}{proc.stderr[-1500:]}"


def _known_bad(path: Path) -> None:
    """A workbook with the faults this test is for: cells without references (as the sheet
    surgery wrote them before), a cached result that is not the computed one."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("數據")
    ws.write_row(0, 0, ["單位", "完成"])
    ws.write_row(1, 0, ["區司法局", 3])
    ws.write_row(2, 0, ["區民政局", 4])
    ws.write_formula(3, 1, "=SUM(B2:B3)", None, 0)          # xlsxwriter's default cache: 0
    wb.add_worksheet("_data").hide()
    wb.close()
    zin = zipfile.ZipFile(path)
    parts = {i.filename: zin.read(i.filename) for i in zin.infolist()}
    zin.close()
    sheet = parts["xl/worksheets/sheet2.xml"].decode()
    rows = '<row r="1"><c t="inlineStr"><is><t>k</t></is></c><c><v>1</v></c></row>' \
           '<row r="2"><c t="inlineStr"><is><t>j</t></is></c><c><v>2</v></c></row>'
    parts["xl/worksheets/sheet2.xml"] = re.sub(r"<sheetData\s*/>", f"<sheetData>{rows}</sheetData>",
                                               sheet).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """{kind: workbook path} of every kind, and every engine's reading of each."""
    missing = engines.engines_missing()
    if missing:
        pytest.fail("engines missing (make test-deps installs them): " + ", ".join(missing))
    d = tmp_path_factory.mktemp("portability")
    master = d / "fresh" / "任務分解台賬.xlsx"
    _cli("build", "-o", str(master))
    _cli("forms", str(master), "--month", MONTH, "-o", str(d / "forms"))
    _cli("demo", "-o", str(d / "demo"))
    forms = _form_files(d / "forms")
    archive = FormsArchive(MONTH, d / "forms", forms, f"{MONTH}_月報.zip")
    bundle = d / "bundle"
    bundle.mkdir()
    with zipfile.ZipFile(io.BytesIO(archive.zip_bytes())) as z:
        assert sorted(z.namelist()) == sorted(p.name for p in forms)
        for p in forms:
            data = z.read(p.name)
            assert data == p.read_bytes(), f"the bundle's {p.name} is not the form written"
            (bundle / p.name).write_bytes(data)
    by_size = sorted(bundle.iterdir(), key=lambda p: (p.stat().st_size, p.name))
    picked = [by_size[0], by_size[len(by_size) // 2], by_size[-1]]
    returns = sorted((d / "demo").glob(f"{MONTH}_*/*.xlsx"))
    assert returns, "the demo wrote no returns"
    kinds = {"fresh master": master, "form": forms[0], "filled return": returns[0],
             "master after two months": d / "demo" / "任務分解台賬.xlsx"}
    kinds.update({f"bundle form {p.name}": p for p in picked})
    kinds["known bad"] = d / "known_bad.xlsx"
    _known_bad(kinds["known bad"])
    work = d / "engines"
    work.mkdir()
    reads = engines.read_all(list(kinds.values()), work)
    return {k: (p, reads[p]) for k, p in kinds.items()}


KINDS = ["fresh master", "form", "filled return", "master after two months", "bundle forms"]


@pytest.mark.parametrize("kind", KINDS)
def test_engines_agree(books, kind):
    found = []
    for k, (path, reads) in books.items():
        if k == kind or (kind == "bundle forms" and k.startswith("bundle form ")):
            assert all(reads[e].sheets for e in engines.ENGINES), f"{k}: an engine read no sheets"
            found += engines.disagreements(k, reads)
    assert not found, engines.summary(found)


def test_the_comparison_sees_the_faults(books):
    """Not vacuous: a sheet without cell references and a stale cached result are caught, by
    engine, sheet and cell."""
    found = engines.disagreements("known bad", books["known bad"][1])
    assert any("known bad: _data!B2: " in m and "Gnumeric (empty)" in m for m in found), found
    assert any(m.startswith("known bad: Gnumeric printed: ") and "Invalid cell" in m for m in found), found
    assert any("known bad: 數據!B4: the cached result 0 " in m and "computed one 7" in m for m in found), found


def test_every_cell_and_row_has_its_reference_and_every_format_its_style(books):
    """What the engines were spared: each <row> and <c> of every sheet carries its r, and
    every conditional format (and table style part) points at a differential format
    (dxf) that styles.xml has."""
    for kind, (path, _) in books.items():
        if kind == "known bad":
            continue
        with zipfile.ZipFile(path) as z:
            styles = z.read("xl/styles.xml").decode()
            m = re.search(r"<dxfs\b[^>]*?(?:/>|>(.*?)</dxfs>)", styles, re.S)
            n_dxf = len(re.findall(r"<dxf\b", m.group(1) or "")) if m else 0
            for name in z.namelist():
                if not name.endswith(".xml"):
                    continue
                xml = z.read(name).decode()
                if name.startswith("xl/worksheets/"):
                    assert not re.search(r"<c(?=[\s/>])(?![^>]*\sr=)", xml), f"{kind}: {name}: <c> without r"
                    assert not re.search(r"<row(?=[\s/>])(?![^>]*\sr=)", xml), f"{kind}: {name}: <row> without r"
                    for rule in re.findall(r"<cfRule\b[^>]*>", xml):
                        kind_ = re.search(r'type="(\w+)"', rule).group(1)
                        dxf = re.search(r'dxfId="(\d+)"', rule)
                        if kind_ not in ("dataBar", "colorScale", "iconSet"):
                            assert dxf, f"{kind}: {name}: {rule} has no dxfId"
                        if dxf:
                            assert int(dxf.group(1)) < n_dxf, f"{kind}: {name}: {rule}: {n_dxf} dxfs"
                if name.startswith("xl/tables/"):
                    for i in re.findall(r'\w*DxfId="(\d+)"', xml):
                        assert int(i) < n_dxf, f"{kind}: {name}: dxf {i} of {n_dxf}"
