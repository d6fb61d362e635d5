"""Build the desktop add-in (.xlam) on any system, from the add-in template xlwings ships.

xlwings' `quickstart_addin_ribbon.xlam` is an add-in Excel opens; its VBA project holds no
compiled code (the _VBA_PROJECT stream says version 0xFFFF, so Excel compiles the source when
it loads it). We keep what is not ours — the workbook and sheet document modules, the
Dictionary class xlwings needs on a Mac, the references, the styles — and put in:

* our VBA: every module of macros/ (xlwings.bas with PROJECT_NAME = "putuo_xl", RibbonPutuo.bas),
  written source-only in the project's code page (putuo_xl.excel.vba);
* the VBA project name putuo_xl;
* our ribbon (macros/customUI.xml) with the relationship its namespace calls for;
* the xlwings configuration sheet, which xlwings finds by the name "<PROJECT_NAME>.conf":
  the interpreter (a per-user virtual environment; the installer writes the real path) and the
  module of the worksheet functions.

Every run with the same inputs writes the same bytes.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from putuo_xl.errors import InputError, PutuoError
from putuo_xl.fileio import AtomicPath

TEMPLATE_NAME = "quickstart_addin_ribbon.xlam"
PROJECT_NAME = "putuo_xl"
KEEP_FROM_TEMPLATE = ("ThisWorkbook", "Sheet2", "Dictionary")
CONFIG_SHEET = PROJECT_NAME + ".conf"
DEFAULT_INTERPRETER = r"%LOCALAPPDATA%\putuo-xl\venv\Scripts\pythonw.exe"
UDF_MODULES = "putuo_xl.excel.udfs"
DEFAULT_CODEPAGE = 1252
ADDIN_TITLE = "法治政府"
ADDIN_DESCRIPTION = "法治政府建設工作要點:任務台賬、月報、工作報表和預評估通報(putuo-xl)"
VBA_PART, SHEET_PART, STRINGS_PART = "xl/vbaProject.bin", "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"
WORKBOOK_PART, RELS_PART, CORE_PART = "xl/workbook.xml", "_rels/.rels", "docProps/core.xml"
RIBBON_PARTS = {  # customUI namespace -> (part, relationship type)
    "http://schemas.microsoft.com/office/2006/01/customui":
        ("customUI/customUI.xml", "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"),
    "http://schemas.microsoft.com/office/2009/07/customui":
        ("customUI/customUI14.xml", "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"),
}
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DATE = (2020, 1, 1, 0, 0, 0)
_PROJECT_CONST = re.compile(r'^Public Const PROJECT_NAME As String = "([^"]*)"', re.M)
_CLS_HEADER = re.compile(r"\AVERSION 1\.0 CLASS\r?\nBEGIN\r?\n.*?^END\r?\n", re.S | re.M)


def template_path() -> Path:
    import xlwings
    return Path(xlwings.__file__).parent / TEMPLATE_NAME


# -- the xlwings configuration sheet ---------------------------------------------------------
def default_config(interpreter: str = DEFAULT_INTERPRETER) -> dict[str, str | bool]:
    """Rows of the configuration sheet, in the order of the template's (an empty value is
    written as an empty cell: xlwings then uses its default for that key)."""
    return {"Interpreter_Win": interpreter, "Interpreter_Mac": "", "PYTHONPATH": "",
            "Conda Path": "", "Conda Env": "", "UDF Modules": UDF_MODULES,
            "Debug UDFs": False, "Use UDF Server": False, "Show Console": False}


def config_parts(config: dict[str, str | bool]) -> dict[str, bytes]:
    """sheet1.xml and sharedStrings.xml of the configuration sheet: keys in column A, values
    in column B, from row 1 without a gap (xlwings reads A1 down to the first empty cell)."""
    strings: list[str] = []

    def sst(s: str) -> int:
        if s not in strings:
            strings.append(s)
        return strings.index(s)

    rows = []
    for r, (key, value) in enumerate(config.items(), start=1):
        cells = f'<c r="A{r}" t="s"><v>{sst(key)}</v></c>'
        if isinstance(value, bool):
            cells += f'<c r="B{r}" t="b"><v>{int(value)}</v></c>'
        elif value:
            cells += f'<c r="B{r}" t="s"><v>{sst(value)}</v></c>'
        rows.append(f'<row r="{r}">{cells}</row>')
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    sheet = (f'{head}<worksheet xmlns="{_MAIN_NS}" xmlns:r="http://schemas.openxmlformats.org/'
             f'officeDocument/2006/relationships"><sheetPr codeName="Sheet2"/>'
             f'<dimension ref="A1:B{len(config)}"/><sheetViews><sheetView tabSelected="1" '
             f'workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
             f'<cols><col min="1" max="1" width="18" customWidth="1"/>'
             f'<col min="2" max="2" width="64" customWidth="1"/></cols>'
             f'<sheetData>{"".join(rows)}</sheetData>'
             f'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
             f'</worksheet>')
    sis = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings)
    sst_xml = (f'{head}<sst xmlns="{_MAIN_NS}" count="{len(strings)}" uniqueCount="{len(strings)}">'
               f'{sis}</sst>')
    return {SHEET_PART: sheet.encode("utf-8"), STRINGS_PART: sst_xml.encode("utf-8")}


def read_config(xlam: str | Path) -> dict[str, str | bool]:
    """The configuration sheet of a built add-in, as {key: value}."""
    ns = {"m": _MAIN_NS}
    with zipfile.ZipFile(xlam) as z:
        strings = ["".join(t.text or "" for t in si.iter(f"{{{_MAIN_NS}}}t"))
                   for si in ET.fromstring(z.read(STRINGS_PART)).findall("m:si", ns)]
        sheet = ET.fromstring(z.read(SHEET_PART))
    out: dict[str, str | bool] = {}
    for row in sheet.iterfind("m:sheetData/m:row", ns):
        cells = {}
        for c in row.findall("m:c", ns):
            v = c.findtext("m:v", "", ns)
            cells[re.sub(r"\d", "", c.get("r", ""))] = (strings[int(v)] if c.get("t") == "s"
                                                       else v == "1" if c.get("t") == "b" else v)
        if cells.get("A"):
            out[str(cells["A"])] = cells.get("B", "")
    return out


# -- VBA modules -------------------------------------------------------------------------------
def vba_modules(folder: str | Path):
    """Our modules: every .bas (a standard module) and .cls (a class; the header VBA's export
    writes before the attributes is not part of the module) in `folder`, sorted by name."""
    from putuo_xl.excel.vba.project import CLASS, STANDARD, Module

    mods = []
    for p in sorted(Path(folder).iterdir()):
        if p.suffix.lower() not in (".bas", ".cls"):
            continue
        text = p.read_bytes().decode("utf-8")
        if p.suffix.lower() == ".cls":
            text = _CLS_HEADER.sub("", text, count=1)
        name = re.search(r'^Attribute VB_Name = "([^"]+)"', text, re.M)
        mods.append(Module(name.group(1) if name else p.stem,
                           CLASS if p.suffix.lower() == ".cls" else STANDARD, text))
    return mods


def vba_project_bin(template_bin: bytes, modules, codepage: int = DEFAULT_CODEPAGE,
                    name: str = PROJECT_NAME) -> bytes:
    """The template's VBA project with its document modules and Dictionary class kept and
    `modules` written, as `name`, in `codepage`."""
    from putuo_xl.excel.vba.project import build_project, read_project

    project = read_project(template_bin)
    kept = [project.module(n) for n in KEEP_FROM_TEMPLATE]
    ours = {m.name.lower() for m in modules}
    if ours & {n.lower() for n in KEEP_FROM_TEMPLATE}:
        raise InputError(f"VBA 模塊名不能用 {', '.join(KEEP_FROM_TEMPLATE)}(模板中已有)。")
    project.modules = kept + list(modules)
    project.name, project.codepage = name, codepage
    return build_project(project)


# -- the package ---------------------------------------------------------------------------------
@dataclass
class BuiltAddin:
    path: Path
    modules: list[str]
    codepage: int
    config: dict[str, str | bool]


def _core_xml(title: str, description: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:title>{escape(title)}</dc:title><dc:creator>putuo-xl</dc:creator>'
            f'<dc:description>{escape(description)}</dc:description>'
            '</cp:coreProperties>').encode("utf-8")


def _ribbon_rels(rels: bytes, part: str, rel_type: str) -> bytes:
    """The package relationships with exactly one ribbon relationship: ours."""
    text = re.sub(rb'<Relationship [^>]*/ui/extensibility"[^>]*/>', b"", rels)
    new = f'<Relationship Id="rIdPutuoUI" Type="{rel_type}" Target="{part}" />'.encode()
    if b"</Relationships>" not in text:
        raise PutuoError("xlwings 模板的 _rels/.rels 不是預期的格式。")
    return text.replace(b"</Relationships>", new + b"</Relationships>")


def _workbook_xml(xml: bytes) -> bytes:
    """The template's workbook part with the configuration sheet renamed (xlwings reads the
    sheet named PROJECT_NAME.conf) and the template author's absolute path dropped."""
    text, n = re.subn(rb'name="_?[^"]*\.conf"', f'name="{CONFIG_SHEET}"'.encode(), xml, count=1)
    if n != 1:
        raise PutuoError("xlwings 模板中沒有配置工作表(*.conf),無法生成加載項。")
    return re.sub(rb"<mc:AlternateContent.*?</mc:AlternateContent>", b"", text, flags=re.S)


def write_package(output: str | Path, parts: dict[str, bytes]) -> Path:
    """A zip package: [Content_Types].xml first, then the rest in order, fixed dates."""
    names = ["[Content_Types].xml"] + [n for n in parts if n != "[Content_Types].xml"]
    with AtomicPath(output) as tmp:
        with zipfile.ZipFile(tmp, "w") as z:
            for n in names:
                info = zipfile.ZipInfo(n, date_time=_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, parts[n])
    return Path(output)


def read_package(path: str | Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as z:
            return {i.filename: z.read(i.filename) for i in z.infolist()}
    except (OSError, zipfile.BadZipFile) as e:
        raise InputError(f"打不開加載項:{e}。", file=str(path)) from None


def build_addin(output: str | Path, macros_dir: str | Path | None = None,
                ribbon: bytes | None = None, codepage: int = DEFAULT_CODEPAGE,
                interpreter: str = DEFAULT_INTERPRETER, script: str = "traditional",
                template: str | Path | None = None) -> BuiltAddin:
    """Write the add-in to `output` (see the module docstring)."""
    from putuo_xl.excel.ribbonxml import default_macros_dir, parse_ribbon
    from putuo_xl.excel.vba.project import VbaProjectError
    from putuo_xl.text import SIMPLIFIED, in_script, to_simplified

    macros = Path(macros_dir) if macros_dir else default_macros_dir()
    src = Path(template) if template else template_path()
    if not src.is_file():
        raise InputError("找不到 xlwings 自帶的加載項模板;請確認安裝了 xlwings。", file=str(src))
    parts = read_package(src)
    ribbon = ribbon if ribbon is not None else (macros / "customUI.xml").read_bytes()
    if script == SIMPLIFIED:
        ribbon = to_simplified(ribbon.decode("utf-8")).encode("utf-8")
    root, _controls = parse_ribbon(ribbon)
    ribbon_part, rel_type = RIBBON_PARTS[root.tag[1:].split("}")[0]]

    modules = vba_modules(macros)
    consts = {c for m in modules for c in _PROJECT_CONST.findall(m.source)}
    if consts != {PROJECT_NAME}:
        raise InputError(f"macros/xlwings.bas 的 PROJECT_NAME 應為 \"{PROJECT_NAME}\"(現在是 "
                         f"{', '.join(sorted(consts)) or '沒有'}):xlwings 按它找配置工作表 {CONFIG_SHEET}。",
                         file=str(macros))
    try:
        vba = vba_project_bin(parts[VBA_PART], modules, codepage)
    except UnicodeEncodeError as e:
        raise InputError(f"VBA 中有代碼頁 {codepage} 不能表示的字符「{e.object[e.start:e.end]}」:"
                         f"中文請用代碼頁 936(--codepage 936),或放到功能區 XML 和 Python 中。",
                         file=str(macros)) from None
    except (VbaProjectError, KeyError, StopIteration) as e:
        raise PutuoError(f"xlwings 加載項模板中的 VBA 工程不是預期的結構:{e}。") from None
    except ImportError:
        raise PutuoError("生成加載項需要 olefile 程序包:請運行 pip install \"putuo-xl[addin]\"(或 make addin)。",
                         code="missing-olefile") from None

    for old in [n for n in parts if n.startswith("customUI/")]:
        del parts[old]
    config = default_config(interpreter)
    parts.update(config_parts(config))
    parts[VBA_PART] = vba
    parts[RELS_PART] = _ribbon_rels(parts[RELS_PART], ribbon_part, rel_type)
    parts[WORKBOOK_PART] = _workbook_xml(parts[WORKBOOK_PART])
    parts[CORE_PART] = _core_xml(in_script(ADDIN_TITLE, script), in_script(ADDIN_DESCRIPTION, script))
    parts[ribbon_part] = ribbon
    path = write_package(output, parts)
    return BuiltAddin(path, [m.name for m in modules], codepage, config)


def configure_addin(xlam: str | Path, interpreter: str, output: str | Path | None = None) -> Path:
    """Write `interpreter` (the pythonw.exe of the installed environment) into the add-in's
    configuration sheet; the installer runs this on each PC."""
    parts = read_package(xlam)
    if SHEET_PART not in parts or STRINGS_PART not in parts:
        raise InputError("這個加載項沒有 xlwings 配置工作表,不是 putuo-xl addin 生成的。", file=str(xlam))
    config = read_config(xlam)
    if "Interpreter_Win" not in config:
        raise InputError("加載項的配置工作表中沒有 Interpreter_Win 一行。", file=str(xlam))
    config["Interpreter_Win"] = interpreter
    parts.update(config_parts(config))
    return write_package(output or xlam, parts)
