"""`putuo-xl addin -o 法治政府.xlam` builds the desktop add-in here, without Excel: checked with
oletools (every module is the macros/ source; every ribbon callback is a Sub of it), with our own
reader, and opened in LibreOffice, whose own VBA import reads the same modules."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import olefile
import pytest
from oletools.olevba import VBA_Parser

from putuo_xl.excel import addin as A
from putuo_xl.excel import xlam as X
from putuo_xl.excel.vba import ovba
from putuo_xl.excel.vba.project import parse_records, read_project

ROOT = Path(__file__).resolve().parents[1]
MACROS = ROOT / "putuo_xl" / "data" / "macros"
PROBE = Path(__file__).with_name("lo_addin_probe.py")
SUB_RE = re.compile(r"^\s*(?:Public\s+)?Sub\s+(\w+)\s*\(([^)]*)\)", re.I | re.M)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("addin") / "法治政府.xlam"
    r = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "addin", "-o", str(out)],
                       capture_output=True, text=True, encoding="utf-8")
    assert r.returncode == 0, r.stderr
    assert "已讀回寫出的加載項" in r.stderr and "已寫出" in r.stderr
    return out


@pytest.fixture(scope="module")
def olevba_modules(built) -> dict[str, str]:
    parser = VBA_Parser(str(built))
    try:
        assert parser.detect_vba_macros()
        return {Path(f).stem: code for _f, _s, f, code in parser.extract_macros()}
    finally:
        parser.close()


def test_every_module_decodes_to_the_macros_source(olevba_modules):
    ours = {p.stem: p.read_bytes().decode("utf-8") for p in MACROS.glob("*.bas")}
    assert set(olevba_modules) == set(ours) | {"ThisWorkbook", "Sheet2", "Dictionary"}
    for name, text in ours.items():
        assert olevba_modules[name] == text, name
    assert 'Public Const PROJECT_NAME As String = "putuo_xl"' in olevba_modules["xlwings"]


def test_every_on_action_is_a_sub_taking_the_ribbon_control(built, olevba_modules):
    with zipfile.ZipFile(built) as z:
        rels = z.read("_rels/.rels").decode()
        ribbon = z.read("customUI/customUI.xml")
    # the 2006 customUI namespace goes with the 2006 relationship type (MS-OI29500 3.4.1.3)
    assert 'Type="http://schemas.microsoft.com/office/2006/relationships/ui/extensibility" Target="customUI/customUI.xml"' in rels
    assert rels.count("ui/extensibility") == 1
    assert ribbon == (MACROS / "customUI.xml").read_bytes()
    subs = {(m, s.group(1)): s.group(2) for m, code in olevba_modules.items() for s in SUB_RE.finditer(code)}
    actions = re.findall(rb'onAction="([^"]+)"', ribbon)
    assert len(actions) == 11
    for action in {a.decode() for a in actions}:
        module, _, sub = action.rpartition(".")
        assert re.fullmatch(r"\w+\s+As\s+IRibbonControl", subs[(module, sub)], re.I), action


def test_project_name_stream_names_and_dir_agree(built):
    with zipfile.ZipFile(built) as z:
        data = z.read("xl/vbaProject.bin")
    ole = olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)
    records = parse_records(ovba.decompress(ole.openstream("VBA/dir").read()))
    ids = [r for r, _ in records]
    assert dict(records)[0x0004] == b"putuo_xl" and int.from_bytes(dict(records)[0x0003], "little") == 1252
    names = [d.decode() for r, d in records if r == 0x0019]
    streams = [d.decode() for r, d in records if r == 0x001A]
    assert names == streams == ["ThisWorkbook", "Sheet2", "Dictionary", "RibbonPutuo", "xlwings"]
    assert int.from_bytes(records[ids.index(0x000F)][1], "little") == 5
    assert ole.openstream("VBA/_VBA_PROJECT").read() == b"\xcc\x61\xff\xff\x00\x01\x00"   # no compiled code
    text = ole.openstream("PROJECT").read().decode("cp1252")
    assert re.findall(r"^(Document|Class|Module)=(\w+)", text, re.M) == [
        ("Document", "ThisWorkbook"), ("Document", "Sheet2"), ("Class", "Dictionary"),
        ("Module", "RibbonPutuo"), ("Module", "xlwings")]
    assert "Document=ThisWorkbook/&H00000000\r\n" in text and 'Name="putuo_xl"\r\n' in text
    wm = ole.openstream("PROJECTwm").read()
    assert wm == b"".join(n.encode() + b"\0" + n.encode("utf-16-le") + b"\0\0" for n in names) + b"\0\0"
    # our modules are source only, at offset 0; the workbook's document modules keep the template's
    offsets = [int.from_bytes(d, "little") for r, d in records if r == 0x0031]
    assert offsets[3:] == [0, 0]
    project = read_project(data)
    assert project.module("RibbonPutuo").source == (MACROS / "RibbonPutuo.bas").read_bytes().decode("utf-8")


def test_config_sheet_names_our_udf_module_and_the_interpreter(built, tmp_path):
    cfg = X.read_config(built)
    assert cfg["UDF Modules"] == "putuo_xl.excel.udfs"
    assert cfg["Interpreter_Win"] == r"%LOCALAPPDATA%\putuo-xl\venv\Scripts\pythonw.exe"
    assert list(cfg)[0] == "Interpreter_Win" and cfg["Show Console"] is False
    with zipfile.ZipFile(built) as z:
        assert '<sheet name="putuo_xl.conf"' in z.read("xl/workbook.xml").decode()
        assert b"felix" not in z.read("xl/workbook.xml").lower()
        assert "<dc:title>法治政府</dc:title>" in z.read("docProps/core.xml").decode()
    # the installer writes the real path (Chinese user name, & in it) into a copy
    path = "C:\\Users\\張三 & 李四\\AppData\\Local\\putuo-xl\\venv\\Scripts\\pythonw.exe"
    out = X.configure_addin(built, path, tmp_path / "configured.xlam")
    cfg2 = X.read_config(out)
    assert cfg2["Interpreter_Win"] == path and cfg2["UDF Modules"] == "putuo_xl.excel.udfs"
    with zipfile.ZipFile(built) as a, zipfile.ZipFile(out) as b:
        for name in a.namelist():
            if name not in (X.SHEET_PART, X.STRINGS_PART):
                assert a.read(name) == b.read(name), name


def test_libreoffice_opens_the_addin_and_reads_its_vba(built):
    r = subprocess.run(["/usr/bin/python3", str(PROBE), str(built)], capture_output=True, text=True,
                       encoding="utf-8", timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["loaded"] and not any("Broken" in q["request"] for q in got["requests"])
    assert got["sheets"]["putuo_xl.conf"][5] == ["UDF Modules", "putuo_xl.excel.udfs"]
    assert got["sheets"]["putuo_xl.conf"][0][1].endswith(r"\venv\Scripts\pythonw.exe")
    lib = got["libraries"]["putuo_xl"]          # LibreOffice names the library after the VBA project
    assert set(lib) == {"ThisWorkbook", "Sheet2", "Dictionary", "RibbonPutuo", "xlwings"}
    assert lib["Dictionary"].startswith("Rem Attribute VBA_ModuleType=VBAClassModule")
    assert lib["ThisWorkbook"].startswith("Rem Attribute VBA_ModuleType=VBADocumentModule")
    for name in ("RibbonPutuo", "xlwings"):
        assert lib[name].startswith("Rem Attribute VBA_ModuleType=VBAModule\nOption VBASupport 1\n")
        body = lib[name].split("\n", 2)[2].rstrip("\n")
        source = (MACROS / f"{name}.bas").read_text("utf-8").splitlines()
        assert body == "\n".join(line for line in source if not line.startswith("Attribute VB_")).rstrip("\n")


def test_the_same_sources_give_the_same_bytes(built, tmp_path):
    again = X.build_addin(tmp_path / "again.xlam").path
    assert again.read_bytes() == built.read_bytes()
    assert zipfile.ZipFile(again).namelist()[0] == "[Content_Types].xml"


def test_simplified_offices_get_a_simplified_ribbon(tmp_path):
    out = X.build_addin(tmp_path / "s.xlam", script="simplified").path
    with zipfile.ZipFile(out) as z:
        ribbon = z.read("customUI/customUI.xml").decode()
        core = z.read("docProps/core.xml").decode()
    assert 'label="生成台账"' in ribbon and 'label="导入回报"' in ribbon and "台賬" not in ribbon
    assert 'onAction="RibbonPutuo.RunTagged"' in ribbon and "加载项" not in core


def test_a_broken_source_is_reported_not_built(tmp_path):
    bad = tmp_path / "macros"
    bad.mkdir()
    for p in MACROS.iterdir():
        (bad / p.name).write_bytes(p.read_bytes())
    (bad / "RibbonPutuo.bas").write_text((MACROS / "RibbonPutuo.bas").read_text("utf-8") + "' 中文說明\r\n", "utf-8")
    with pytest.raises(Exception, match="代碼頁 1252"):
        A.addin(output=tmp_path / "o.xlam", vba_dir=bad)
    assert not (tmp_path / "o.xlam").exists()
    # in code page 936 it is written, and reads back
    res = A.addin(output=tmp_path / "o.xlam", vba_dir=bad, codepage=936)
    assert res.check.ok, res.check.problems
    assert "代碼頁 936" in " ".join(res.check.notes)
    text = (bad / "xlwings.bas").read_text("utf-8").replace('PROJECT_NAME As String = "putuo_xl"',
                                                            'PROJECT_NAME As String = "myaddin"')
    (bad / "xlwings.bas").write_text(text, "utf-8")
    with pytest.raises(Exception, match="PROJECT_NAME"):
        X.build_addin(tmp_path / "p.xlam", macros_dir=bad)
