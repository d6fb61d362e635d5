"""The desktop add-in (.xlam): check that the ribbon, the VBA and the Python actions agree,
build the add-in from them (putuo_xl.excel.xlam, on any system), or put the ribbon XML into an
add-in assembled elsewhere.

An .xlam is a zip. The ribbon is the part customUI/customUI.xml, reached from _rels/.rels by
an "ui/extensibility" relationship; the VBA is xl/vbaProject.bin (read here with oletools when
an add-in made elsewhere is checked; written by putuo_xl.excel.vba when we build one). Patching
replaces the customUI part and copies every other part byte for byte.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from putuo_xl.errors import InputError
from putuo_xl.excel.ribbonxml import (CALLBACK_ATTRS, CUSTOMUI_NS, Control,  # noqa: F401
                                      default_macros_dir, parse_ribbon)
from putuo_xl.fileio import AtomicPath

CUSTOMUI_PART = "customUI/customUI.xml"
RELS_PART = "_rels/.rels"
REL_TYPE_2006 = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
REL_TYPE_2007 = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
PKG_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
GENERIC_CALLBACK = "RunTagged"
_SUB_RE = re.compile(r"^\s*(?:(Public|Private|Friend)\s+)?(?:Static\s+)?Sub\s+(\w+)\s*\(([^)]*)\)",
                     re.I | re.M)
_VB_NAME_RE = re.compile(r'^Attribute\s+VB_Name\s*=\s*"([^"]+)"', re.I | re.M)
_XLWINGS_VERSION_RE = re.compile(r"^'Version:\s*(\S+)", re.M)


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


@dataclass
class Check:
    """The outcome of a consistency check: problems (fail) and notes (fine, for the record)."""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# -- ribbon XML ---------------------------------------------------------------------------
def ribbon_xml(actions=None, groups=None) -> str:
    """The 法治政府 tab for the registered actions: one button per action, all bound to the
    one generic VBA callback, the action named by the button's tag."""
    from xml.sax.saxutils import quoteattr

    from putuo_xl.excel.actions import ACTIONS, GROUPS

    actions = actions or ACTIONS
    groups = groups or GROUPS
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
           '<!-- putuo-xl desktop ribbon. Every button calls RibbonPutuo.RunTagged, which runs the',
           '     Python action named by the button\'s tag (putuo_xl.excel.actions). A new button',
           '     needs only a line here; `putuo-xl addin` checks tags and callbacks. -->',
           '<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">',
           '  <ribbon>', '    <tabs>',
           '      <tab id="putuoTab" label="法治政府">']
    for gkey, glabel in groups.items():
        members = [a for a in actions.values() if a.group == gkey]
        if not members:
            continue
        out.append(f'        <group id="putuoGroup{gkey.capitalize()}" label={quoteattr(glabel)}>')
        for a in members:
            out.append(f'          <button id="{a.control_id}" label={quoteattr(a.label)} tag="{a.tag}" '
                       f'size="large" imageMso="{a.image_mso}"')
            out.append(f'                  screentip={quoteattr(a.label)} supertip={quoteattr(a.tooltip)} '
                       f'onAction="RibbonPutuo.{GENERIC_CALLBACK}"/>')
        out.append('        </group>')
    out += ['      </tab>', '    </tabs>', '  </ribbon>', '</customUI>', '']
    return "\n".join(out)


# -- VBA ----------------------------------------------------------------------------------
@dataclass
class VbaModule:
    name: str
    code: str

    def subs(self) -> dict[str, tuple[str, str]]:
        """Sub name -> (visibility, parameter list)."""
        return {m.group(2): ((m.group(1) or "Public").capitalize(), m.group(3).strip())
                for m in _SUB_RE.finditer(self.code)}


def vba_from_bas(folder: str | Path) -> list[VbaModule]:
    """The modules of the VBA sources (.bas/.cls, UTF-8) in `folder`."""
    mods = []
    for p in sorted(Path(folder).glob("*")):
        if p.suffix.lower() not in (".bas", ".cls"):
            continue
        try:
            code = p.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("VBA 源文件不是 UTF-8 編碼;請另存為 UTF-8(中文在生成加載項時按工程的代碼頁寫入)。",
                             file=str(p)) from None
        m = _VB_NAME_RE.search(code)
        mods.append(VbaModule(m.group(1) if m else p.stem, code))
    return mods


def vba_from_xlam(path: str | Path) -> list[VbaModule]:
    """The VBA modules inside an .xlam/.xlsm (decoded by oletools, the `addin` extra)."""
    try:
        from oletools.olevba import VBA_Parser
    except ImportError:
        raise InputError("檢查加載項中的 VBA 需要 oletools 程序包,目前沒有安裝。請運行 "
                         "pip install \"putuo-xl[addin]\"(或 pip install oletools)後重試;"
                         "不給 --xlam 時只檢查 macros 中的 .bas 源文件,不需要它。",
                         file=str(path), code="missing-oletools") from None

    parser = VBA_Parser(str(path))
    try:
        if not parser.detect_vba_macros():
            return []
        mods = []
        for _f, _stream, vba_filename, code in parser.extract_macros():
            name = Path(vba_filename).stem
            text = code if isinstance(code, str) else code.decode("latin-1")
            mods.append(VbaModule(name, text))
        return mods
    finally:
        parser.close()


def xlwings_vba_version(mods: list[VbaModule]) -> str | None:
    for m in mods:
        if m.name.lower() == "xlwings":
            v = _XLWINGS_VERSION_RE.search(m.code)
            if v:
                return v.group(1)
    return None


# -- checks --------------------------------------------------------------------------------
def check_ribbon(controls: list[Control], mods: list[VbaModule], actions=None) -> Check:
    """Every callback exists as a public Sub of the VBA; every RunTagged button carries the
    tag of a Python action; ids are unique; every action has a button."""
    from putuo_xl.excel.actions import ACTIONS

    actions = ACTIONS if actions is None else actions
    chk = Check()
    subs: dict[str, dict[str, tuple[str, str]]] = {m.name: m.subs() for m in mods}
    all_subs = {s: (m, v) for m, d in subs.items() for s, v in d.items()}
    seen_ids: set[str] = set()
    tags: set[str] = set()
    for c in controls:
        if c.id:
            if c.id in seen_ids:
                chk.problems.append(f"功能區控件 id「{c.id}」重複。")
            seen_ids.add(c.id)
        for attr, cb in c.callbacks.items():
            mod, _, sub = cb.rpartition(".")
            if mod:
                found = subs.get(mod, {}).get(sub)
            else:
                found = all_subs.get(sub, (None, None))[1]
            if found is None:
                chk.problems.append(f"按鈕「{c.label or c.id}」的 {attr}=\"{cb}\" 在 VBA 中找不到"
                                    f"(模塊 {mod or '任意'} 中沒有 Sub {sub})。")
            elif found[0] == "Private":
                chk.problems.append(f"按鈕「{c.label or c.id}」的回調 {cb} 是 Private Sub,功能區調用不到。")
            elif attr == "onAction" and "IRibbonControl" not in found[1]:
                chk.problems.append(f"回調 {cb} 的參數應為 (control As IRibbonControl),現在是 ({found[1]})。")
            if attr == "onAction" and sub == GENERIC_CALLBACK:
                if not c.tag:
                    chk.problems.append(f"按鈕「{c.label or c.id}」調用 {cb},但沒有 tag。")
                elif c.tag not in actions:
                    chk.problems.append(f"按鈕「{c.label or c.id}」的 tag「{c.tag}」沒有對應的 Python 操作"
                                        f"(可用:{', '.join(actions)})。")
                else:
                    tags.add(c.tag)
    for tag, act in actions.items():
        if tag not in tags:
            chk.problems.append(f"操作「{act.label}」({tag})在功能區沒有按鈕。")
    chk.notes.append(f"功能區控件 {len(controls)} 個,VBA 模塊 {len(mods)} 個,按鈕對應操作 {len(tags)} 個。")
    return chk


def check_xlwings_version(mods: list[VbaModule]) -> Check:
    import xlwings

    chk = Check()
    v = xlwings_vba_version(mods)
    if v is None:
        chk.problems.append("VBA 中沒有 xlwings 模塊(macros/xlwings.bas),RunPython 無法運行。")
    elif v != xlwings.__version__:
        chk.problems.append(f"加載項中的 xlwings VBA 是 {v} 版,而 Python 中的 xlwings 是 {xlwings.__version__} 版。"
                            f"兩者必須一致:請用 macros/xlwings.bas 重新導入 VBA,或安裝 xlwings=={v}。")
    else:
        chk.notes.append(f"xlwings VBA 與 Python 版本一致({v})。")
    return chk


# -- the .xlam -------------------------------------------------------------------------------
def read_xlam_ribbon(path: str | Path) -> bytes | None:
    with zipfile.ZipFile(path) as z:
        target = _ribbon_target(z)
        return z.read(target) if target else None


def _ribbon_target(z: zipfile.ZipFile) -> str | None:
    try:
        rels = ET.fromstring(z.read(RELS_PART))
    except KeyError:
        return None
    for rel in rels:
        if rel.get("Type") in (REL_TYPE_2006, REL_TYPE_2007):
            return rel.get("Target", "").lstrip("/")
    return None


def patch_xlam(xlam: str | Path, ribbon: bytes | str, output: str | Path) -> Path:
    """Write `output`: `xlam` with its ribbon replaced by `ribbon` (added, with its
    relationship, when the add-in has none). Every other part is copied unchanged."""
    src = Path(xlam)
    data = ribbon.encode("utf-8") if isinstance(ribbon, str) else ribbon
    parse_ribbon(data)
    try:
        zin = zipfile.ZipFile(src)
    except (FileNotFoundError, zipfile.BadZipFile) as e:
        raise InputError(f"打不開加載項:{e}。", file=str(src)) from None
    with zin:
        if "xl/vbaProject.bin" not in zin.namelist():
            raise InputError("這個文件裏沒有 VBA 工程(xl/vbaProject.bin),不是 .xlam 加載項。",
                             file=str(src))
        target = _ribbon_target(zin) or CUSTOMUI_PART
        rels = zin.read(RELS_PART)
        if not _ribbon_target(zin):
            rels = _add_ribbon_rel(rels)
        with AtomicPath(output) as tmp:
            with zipfile.ZipFile(tmp, "w") as zout:
                for info in zin.infolist():
                    if info.filename == target:
                        continue
                    if info.filename == RELS_PART:
                        body = rels
                    elif info.filename == "[Content_Types].xml":
                        body = _ensure_xml_default(zin.read(info.filename))
                    else:
                        body = zin.read(info.filename)
                    zout.writestr(info, body)
                zi = zipfile.ZipInfo(target, date_time=(2020, 1, 1, 0, 0, 0))
                zi.compress_type = zipfile.ZIP_DEFLATED
                zout.writestr(zi, data)
    return Path(output)


def _ensure_xml_default(ct: bytes) -> bytes:
    """[Content_Types].xml must give .xml parts a type (Excel-saved files always do)."""
    if re.search(rb'<Default\s+Extension="xml"', ct, re.I):
        return ct
    return re.sub(rb"(<Types[^>]*>)", rb'\1<Default Extension="xml" ContentType="application/xml"/>', ct, count=1)


def _add_ribbon_rel(rels: bytes) -> bytes:
    ET.register_namespace("", PKG_RELS_NS)
    root = ET.fromstring(rels)
    ids = {r.get("Id") for r in root}
    n = 1
    while f"rIdPutuoUI{n}" in ids:
        n += 1
    ET.SubElement(root, f"{{{PKG_RELS_NS}}}Relationship",
                  {"Id": f"rIdPutuoUI{n}", "Type": REL_TYPE_2006, "Target": CUSTOMUI_PART})
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' + ET.tostring(root)


@dataclass
class AddinResult:
    check: Check
    written: Path | None = None
    source: str = ""


def addin(xlam: str | Path | None = None, output: str | Path | None = None,
          ribbon: str | Path | None = None, vba_dir: str | Path | None = None,
          codepage: int | None = None, script: str = "traditional") -> AddinResult:
    """`putuo-xl addin`: check ribbon ↔ VBA ↔ Python actions; with `output`, write the add-in.

    Without `xlam` the VBA sources in macros/ are checked, and `output` is built from them and
    xlwings' add-in template (putuo_xl.excel.xlam), then read back and checked again. With
    `xlam` (an add-in assembled elsewhere) its VBA project is checked and `output` is that
    add-in with the ribbon replaced."""
    macros = Path(vba_dir) if vba_dir else default_macros_dir()
    ribbon_path = Path(ribbon) if ribbon else macros / "customUI.xml"
    try:
        xml = ribbon_path.read_bytes()
    except FileNotFoundError:
        raise InputError("找不到功能區 XML。請用 --ribbon 指定 customUI.xml。", file=str(ribbon_path)) from None
    _root, controls = parse_ribbon(xml)
    if xlam:
        if not Path(xlam).is_file():
            raise InputError("找不到加載項文件。", file=str(xlam))
        mods = vba_from_xlam(xlam)
        source = f"{xlam} 中的 VBA 工程"
    else:
        if not macros.is_dir():
            raise InputError("找不到 VBA 源文件夾。請用 --vba-dir 指定 macros 文件夾。", file=str(macros))
        mods = vba_from_bas(macros)
        source = f"{macros} 中的 .bas 源文件"
    chk = check_ribbon(controls, mods)
    ver = check_xlwings_version(mods)
    chk.problems += ver.problems
    chk.notes += ver.notes
    result = AddinResult(chk, source=source)
    if not output or not chk.ok:
        return result
    if xlam:
        result.written = patch_xlam(xlam, xml, output)
        return result
    from putuo_xl.excel.xlam import DEFAULT_CODEPAGE, build_addin
    built = build_addin(output, macros, xml, codepage or DEFAULT_CODEPAGE, script=script)
    again = check_built(built.path, mods)
    chk.problems += again.problems
    chk.notes += again.notes
    result.written = built.path
    return result


def check_built(path: str | Path, expected: list[VbaModule]) -> Check:
    """Read a built add-in back (its VBA project with our own reader): every module of
    `expected` is in it with the same text, and its ribbon's callbacks exist there."""
    from putuo_xl.excel.vba.project import read_project

    chk = Check()
    with zipfile.ZipFile(path) as z:
        project = read_project(z.read("xl/vbaProject.bin"))
        ribbon = z.read(_ribbon_target(z) or CUSTOMUI_PART)
    got = {m.name: m.source for m in project.modules}
    for m in expected:
        if got.get(m.name) != m.code:
            chk.problems.append(f"寫出的加載項中模塊 {m.name} 與源文件不一致。")
    _root, controls = parse_ribbon(ribbon)
    inside = check_ribbon(controls, [VbaModule(n, c) for n, c in got.items()])
    chk.problems += inside.problems
    chk.notes.append(f"已讀回寫出的加載項:VBA 工程 {project.name},代碼頁 {project.codepage},"
                     f"模塊 {', '.join(got)}。")
    return chk
