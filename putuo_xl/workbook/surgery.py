"""Put freshly generated sheets into a workbook without round-tripping it through openpyxl.

openpyxl drops what it does not understand (charts it did not make, images, shapes, form
controls, slicers, many extensions) when it loads and saves a workbook. The master workbook is
edited by officials in Excel and WPS, so the stages that refresh sheets in it (collect, rollup)
never load it with openpyxl. They write their sheets into a small *source* workbook (openpyxl or
xlsxwriter) and call `replace_sheets`, which works on the two zip packages directly:

* each named sheet of the source replaces the target's sheet of the same name in place (same
  tab position, same sheetId, same part name when possible) or is added;
* the sheet's own parts (drawings, charts, images, tables, comments, printer settings) are copied
  under fresh part names, with their relationships and content types;
* styles are merged into the target's styles.xml (fonts, fills, borders, number formats, cell
  formats, cell styles, differential formats for conditional formats and tables), deduplicated,
  and the sheet's `s=` / `dxfId=` indexes remapped; shared strings become inline strings so the
  target's sharedStrings.xml is not touched;
* the replaced sheet's old parts that nothing else refers to are deleted, so repeated refreshes
  do not grow the file;
* defined names: names scoped to a replaced sheet are replaced by the source's, local names are
  renumbered when the tab order changes, workbook names from the source are added;
* workbook.xml gets `<calcPr fullCalcOnLoad="1"/>`, a valid active tab, and calcChain.xml is
  dropped (Excel rebuilds it);
* every other part of the target is written back byte for byte (same bytes once unzipped).

The result is written atomically; a workbook open in Excel/WPS is refused before anything is read.
"""
from __future__ import annotations

import contextlib
import copy
import io
import math
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterable, Iterator
from urllib.parse import unquote

from lxml import etree

from putuo_xl.errors import FileBusyError, InputError
from putuo_xl.fileio import AtomicPath, ensure_not_open
from putuo_xl.workbook.sheetlayout import col_letter as _col_letter

if TYPE_CHECKING:
    import xlsxwriter

__all__ = ["replace_sheets", "new_sheets", "sheet_names", "plain_sheet_xml", "deflate", "Deflated",
           "row_xml", "xlsxwriter_rows"]

# -- namespaces and relationship types -----------------------------------------------------
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
EP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
RT_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


def _q(tag: str, ns: str = MAIN) -> str:
    return f"{{{ns}}}{tag}"


def _rtype(rel_type: str) -> str:
    """The last segment of a relationship type URI: 'worksheet', 'drawing', 'officeDocument'."""
    return rel_type.rstrip("/").rsplit("/", 1)[-1]


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'


def _tobytes(root) -> bytes:
    """Serialise a part the way Excel does (double-quoted declaration, UTF-8)."""
    return _DECL + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def _rels_name(part: str) -> str:
    d, b = posixpath.split(part)
    return posixpath.join(d, "_rels", b + ".rels")


def _relpath(from_part: str, to_part: str) -> str:
    base = posixpath.dirname(from_part)
    return posixpath.relpath(to_part, base) if base else to_part


@dataclass
class _Rel:
    id: str
    type: str
    target: str          # as written
    external: bool
    part: str | None     # resolved part name (None for external)


# -- the package ---------------------------------------------------------------------------
class _Package:
    """A zip package held in memory: member order, bytes, content types, relationships."""

    def __init__(self, path: Path | bytes, role: str):
        self.role = role
        if isinstance(path, (bytes, bytearray)):
            self.path = Path(f"<{role}>")
            raw = bytes(path)
        else:
            self.path = Path(path)
            raw = None
        try:
            self.raw = raw if raw is not None else self.path.read_bytes()
            self.zip = zipfile.ZipFile(io.BytesIO(self.raw))
            self.infos = [i for i in self.zip.infolist() if not i.is_dir()]
        except FileNotFoundError:
            raise InputError("文件不存在。請檢查路徑。", file=str(self.path), code="not-found")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
            raise InputError(f"不是有效的 Excel 工作簿(.xlsx/.xlsm),無法讀取({e})。"
                             "請用 Excel 打開檢查,或重新生成。", file=str(self.path),
                             code="bad-zip")
        self.info = {i.filename: i for i in self.infos}
        self.lower = {n.lower(): n for n in self.info}
        self._data: dict[str, bytes] = {}
        self._xml_cache: dict[str, etree._Element] = {}
        self._rels_cache: dict[str, list[_Rel]] = {}
        ct = self.xml("[Content_Types].xml")
        self.ct_root = ct
        self.defaults = {d.get("Extension", "").lower(): d for d in ct.findall(_q("Default", CT_NS))}
        self.overrides = {o.get("PartName", "").lstrip("/").lower(): o
                          for o in ct.findall(_q("Override", CT_NS))}

    # raw access
    def has(self, name: str) -> bool:
        return name.lower() in self.lower

    def real(self, name: str) -> str:
        return self.lower.get(name.lower(), name)

    def read(self, name: str) -> bytes:
        real = self.real(name)
        if real not in self._data:
            if real not in self.info:
                raise self.error(f"缺少部件 {name},工作簿已損壞。")
            try:
                self._data[real] = self.zip.read(real)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
                    NotImplementedError) as e:
                raise self.error(f"部件 {name} 無法解壓({e})。")
        return self._data[real]

    def head(self, name: str, marker: bytes) -> bytes:
        """The part's bytes up to and including the first `marker` (all of them if it has none),
        decompressing no further than that: a big sheet's head without inflating its rows.
        Anything unusual (a read once already, another compression, a broken stream): `read`."""
        real = self.real(name)
        if real in self._data or real not in self.info:
            return self.read(name)
        try:
            info, raw = self.raw_member(real)
            if info.compress_type == zipfile.ZIP_STORED:
                return raw[:info.file_size]
            d = zlib.decompressobj(-15)
            out = b""
            for i in range(0, len(raw), 65536):
                out += d.decompress(raw[i:i + 65536])
                if out.find(marker) >= 0:
                    return out
            out += d.flush()
            if len(out) == info.file_size and zlib.crc32(out) == info.CRC:
                return out
        except (zlib.error, InputError):
            pass
        return self.read(name)

    def raw_member(self, name: str) -> tuple[zipfile.ZipInfo, bytes]:
        """A member's compressed bytes as stored, to copy it without recompressing."""
        info = self.info[name]
        off = info.header_offset
        head = self.raw[off:off + 30]
        if len(head) < 30 or head[:4] != b"PK\x03\x04" or info.flag_bits & 1 or \
                info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.error(f"部件 {name} 無法讀取(加密或不支持的壓縮方式)。")
        n, m = struct.unpack("<HH", head[26:30])
        start = off + 30 + n + m
        data = self.raw[start:start + info.compress_size]
        if len(data) != info.compress_size:
            raise self.error(f"部件 {name} 不完整。")
        return info, data

    def error(self, msg: str) -> InputError:
        return InputError(msg + "請用 Excel 打開檢查,或重新生成。", file=str(self.path),
                          code="bad-package")

    def xml(self, name: str):
        key = name.lower()
        if key not in self._xml_cache:
            try:
                self._xml_cache[key] = etree.fromstring(self.read(name), _PARSER)
            except etree.XMLSyntaxError as e:
                raise self.error(f"部件 {name} 不是有效的 XML({e})。")
        return self._xml_cache[key]

    # content types
    def content_type(self, part: str) -> str | None:
        o = self.overrides.get(part.lower())
        if o is not None:
            return o.get("ContentType")
        ext = posixpath.splitext(part)[1].lstrip(".").lower()
        d = self.defaults.get(ext)
        return d.get("ContentType") if d is not None else None

    def content_type_is_default(self, part: str) -> bool:
        return part.lower() not in self.overrides

    # relationships
    def rels(self, part: str) -> list[_Rel]:
        """Relationships of `part` ('' for the package root)."""
        key = part.lower()
        if key in self._rels_cache:
            return self._rels_cache[key]
        name = "_rels/.rels" if part == "" else _rels_name(part)
        out: list[_Rel] = []
        if self.has(name):
            for r in self.xml(name).findall(_q("Relationship", PKG_REL)):
                external = r.get("TargetMode") == "External"
                target = r.get("Target", "")
                resolved = None if external else self._resolve(part, target)
                out.append(_Rel(r.get("Id", ""), r.get("Type", ""), target, external, resolved))
        self._rels_cache[key] = out
        return out

    def _resolve(self, part: str, target: str) -> str:
        t = target.split("#", 1)[0]
        if t.startswith("/"):
            name = t[1:]
        else:
            name = posixpath.normpath(posixpath.join(posixpath.dirname(part), t))
        if not self.has(name) and self.has(unquote(name)):
            name = unquote(name)
        return self.real(name)

    def rel_of_type(self, part: str, kind: str) -> _Rel | None:
        for r in self.rels(part):
            if _rtype(r.type) == kind and not r.external:
                return r
        return None

    def reachable(self, starts: Iterable[str], skip: set[str] = frozenset()) -> set[str]:
        seen: set[str] = set()
        todo = [s for s in starts if s.lower() not in skip]
        while todo:
            p = todo.pop()
            if p.lower() in seen:
                continue
            seen.add(p.lower())
            for r in self.rels(p):
                if r.part and r.part.lower() not in skip and r.part.lower() not in seen:
                    todo.append(r.part)
        return seen


@dataclass
class _Sheet:
    name: str
    el: etree._Element        # the <sheet> element in workbook.xml
    rel: _Rel
    state: str = "visible"


def _workbook(pkg: _Package) -> tuple[str, etree._Element, list[_Sheet]]:
    rel = pkg.rel_of_type("", "officeDocument")
    if rel is None or not pkg.has(rel.part):
        raise pkg.error("找不到工作簿主部件(xl/workbook.xml)。")
    wb = pkg.xml(rel.part)
    if wb.tag == _q("workbook", STRICT_MAIN):
        raise InputError("工作簿是「嚴格 Open XML」格式,暫不支持。請在 Excel 中另存為普通的"
                         "「Excel 工作簿(*.xlsx)」後重試。", file=str(pkg.path), code="strict-ooxml")
    if wb.tag != _q("workbook"):
        raise pkg.error(f"工作簿主部件 {rel.part} 不是 Excel 工作簿。")
    rels = {r.id: r for r in pkg.rels(rel.part)}
    sheets = []
    sheets_el = wb.find(_q("sheets"))
    for s in (sheets_el if sheets_el is not None else []):
        if s.tag != _q("sheet"):
            continue
        r = rels.get(s.get(_q("id", R_NS)))
        if r is None or r.part is None or not pkg.has(r.part):
            raise pkg.error(f"工作表「{s.get('name')}」的部件缺失。")
        sheets.append(_Sheet(s.get("name", ""), s, r, s.get("state", "visible")))
    return rel.part, wb, sheets


def sheet_names(path: str | Path) -> list[str]:
    """The sheet names of a workbook in tab order, read from workbook.xml (cheap)."""
    pkg = _Package(Path(path), "target")
    return [s.name for s in _workbook(pkg)[2]]


# -- styles --------------------------------------------------------------------------------
def _key(el) -> tuple:
    """A comparable form of an XML element: tag, attributes, children, text."""
    children = tuple(_key(c) for c in el if isinstance(c.tag, str))
    text = (el.text or "")
    if children:
        text = text.strip()
    return (el.tag, tuple(sorted(el.attrib.items())), children, text)


_STYLE_ORDER = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles",
                "dxfs", "tableStyles", "colors", "extLst"]
_WS_ORDER = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
             "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter",
             "sortState", "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr",
             "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions",
             "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
             "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
             "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
             "webPublishItems", "tableParts", "extLst"]
_WB_ORDER = ["fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews",
             "sheets", "functionGroups", "externalReferences", "definedNames", "calcPr", "oleSize",
             "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing",
             "fileRecoveryPr", "webPublishObjects", "extLst"]


def _child(parent, tag: str, order: list[str], create: bool = True):
    """parent's child <tag>, created at its schema position when missing."""
    el = parent.find(_q(tag))
    if el is not None or not create:
        return el
    el = etree.Element(_q(tag))
    later = set(order[order.index(tag) + 1:])
    for i, c in enumerate(parent):
        if isinstance(c.tag, str) and etree.QName(c).localname in later:
            parent.insert(i, el)
            break
    else:
        parent.append(el)
    return el


class _Collection:
    """One list of styles.xml (fonts, fills, ...): index → element, dedupe by content."""

    def __init__(self, root, tag: str, item: str):
        self.root, self.tag, self.item = root, tag, item
        self.el = _child(root, tag, _STYLE_ORDER, create=False)
        self.items = [] if self.el is None else [c for c in self.el if c.tag == _q(item)]
        self.index: dict[tuple, int] = {}
        for i, c in enumerate(self.items):
            self.index.setdefault(_key(c), i)
        self.changed = False

    def add(self, el) -> int:
        k = _key(el)
        if k in self.index:
            return self.index[k]
        if self.el is None:
            self.el = _child(self.root, self.tag, _STYLE_ORDER)
        self.el.append(el)
        self.items.append(el)
        self.index[k] = len(self.items) - 1
        self.el.set("count", str(len(self.items)))
        self.changed = True
        return len(self.items) - 1


class _StyleMerger:
    """Maps the source's style indexes to the target's styles.xml, appending what is missing."""

    def __init__(self, target_root, source_root, source_path: Path | None = None):
        self.t, self.s = target_root, source_root
        self.source_path = source_path
        self.tc = {tag: _Collection(target_root, tag, item) for tag, item in
                   [("fonts", "font"), ("fills", "fill"), ("borders", "border"),
                    ("cellStyleXfs", "xf"), ("cellXfs", "xf"), ("cellStyles", "cellStyle"),
                    ("dxfs", "dxf")]}
        self.sc = {tag: _Collection(source_root, tag, item) for tag, item in
                   [("fonts", "font"), ("fills", "fill"), ("borders", "border"),
                    ("cellStyleXfs", "xf"), ("cellXfs", "xf"), ("cellStyles", "cellStyle"),
                    ("dxfs", "dxf")]} if source_root is not None else None
        self.t_fmts = {}   # formatCode → id
        self.t_fmt_ids = set()
        nf = target_root.find(_q("numFmts"))
        for f in (nf if nf is not None else []):
            if f.tag == _q("numFmt"):
                self.t_fmts.setdefault(f.get("formatCode"), int(f.get("numFmtId")))
                self.t_fmt_ids.add(int(f.get("numFmtId")))
        self.s_fmts = {}
        if source_root is not None:
            nf = source_root.find(_q("numFmts"))
            for f in (nf if nf is not None else []):
                if f.tag == _q("numFmt"):
                    self.s_fmts[int(f.get("numFmtId"))] = f.get("formatCode")
        self._memo: dict[tuple[str, int], int] = {}
        self.changed = False

    def _simple(self, tag: str, i: int) -> int:
        memo = (tag, i)
        if memo not in self._memo:
            items = self.sc[tag].items
            if i >= len(items):
                self._memo[memo] = 0
            else:
                self._memo[memo] = self.tc[tag].add(copy.deepcopy(items[i]))
        return self._memo[memo]

    def numfmt(self, i: int) -> int:
        code = self.s_fmts.get(i)
        if code is None:
            return i          # built-in format
        if code in self.t_fmts:
            return self.t_fmts[code]
        new = max([163, *self.t_fmt_ids]) + 1
        nf = _child(self.t, "numFmts", _STYLE_ORDER)
        el = etree.SubElement(nf, _q("numFmt"))
        el.set("numFmtId", str(new))
        el.set("formatCode", code)
        nf.set("count", str(len(nf.findall(_q("numFmt")))))
        self.t_fmts[code] = new
        self.t_fmt_ids.add(new)
        self.changed = True
        return new

    def _xf(self, xf, style_xf: bool):
        new = copy.deepcopy(xf)
        for attr, fn in (("numFmtId", self.numfmt), ("fontId", lambda i: self._simple("fonts", i)),
                         ("fillId", lambda i: self._simple("fills", i)),
                         ("borderId", lambda i: self._simple("borders", i))):
            v = new.get(attr)
            mapped = fn(int(v) if v is not None else 0)
            if v is not None or mapped != 0:
                new.set(attr, str(mapped))
        if not style_xf:
            v = new.get("xfId")
            mapped = self.style_xf(int(v) if v is not None else 0)
            if v is not None or mapped != 0:
                new.set("xfId", str(mapped))
        return new

    def style_xf(self, j: int) -> int:
        """A source cellStyleXfs index → the target's, through the named cell style."""
        memo = ("cellStyleXfs", j)
        if memo in self._memo:
            return self._memo[memo]
        styles = [c for c in self.sc["cellStyles"].items if c.get("xfId") == str(j)]
        result = 0
        if styles:
            st = styles[0]
            for c in self.tc["cellStyles"].items:
                same_builtin = st.get("builtinId") is not None and \
                    c.get("builtinId") == st.get("builtinId") and st.get("iLevel") == c.get("iLevel")
                if same_builtin or (c.get("name") or "").casefold() == (st.get("name") or "").casefold():
                    result = int(c.get("xfId", "0"))
                    break
            else:
                items = self.sc["cellStyleXfs"].items
                if j < len(items):
                    before = len(self.tc["cellStyleXfs"].items)
                    result = self.tc["cellStyleXfs"].add(self._xf(items[j], True))
                    if result == before:   # a new style xf: name it
                        cs = copy.deepcopy(st)
                        cs.set("xfId", str(result))
                        self.tc["cellStyles"].add(cs)
        self._memo[memo] = result
        return result

    def xf(self, i: int) -> int:
        """A source cellXfs index → the target's."""
        memo = ("cellXfs", i)
        if self.sc is None:
            return 0
        if memo not in self._memo:
            items = self.sc["cellXfs"].items
            if i >= len(items):
                raise InputError(f"引用了不存在的單元格格式 {i},工作簿已損壞。請重新生成。",
                                 file=str(self.source_path) if self.source_path else None,
                                 code="bad-style")
            self._memo[memo] = self.tc["cellXfs"].add(self._xf(items[i], False))
        return self._memo[memo]

    def dxf(self, i: int) -> int:
        return 0 if self.sc is None else self._simple("dxfs", i)

    def is_changed(self) -> bool:
        return self.changed or any(c.changed for c in self.tc.values())


# -- small XML helpers ---------------------------------------------------------------------
_SHEET_REF = re.compile(r"'((?:[^']|'')+)'!|([^\s'!:,()=+\-*/&^<>{}\[\]\"]+)!")


def _sheets_in_formula(text: str) -> set[str]:
    out = set()
    for m in _SHEET_REF.finditer(text or ""):
        name = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
        if name.startswith("[") or "]" in name:   # external workbook
            continue
        out.add(name.casefold())
    return out


def _vml_blocks(text: str) -> set[int]:
    out = set()
    for m in re.finditer(r'<(?:\w+:)?idmap\b[^>]*\bdata="([^"]*)"', text):
        out.update(int(x) for x in re.findall(r"\d+", m.group(1)))
    return out


# -- the surgery ---------------------------------------------------------------------------
@dataclass
class _Plan:
    src: _Sheet
    old: _Sheet | None = None
    part: str = ""                        # the new sheet's part name in the target
    state: str = "visible"
    el: etree._Element | None = None      # its <sheet> element in the target workbook.xml
    extra: dict = field(default_factory=dict)


class _Surgery:
    def __init__(self, target: _Package, source: _Package, names, hidden, position, plain=None,
                 rows=None):
        self.t, self.s = target, source
        self.names, self.hidden, self.position = names, hidden, position or {}
        self.plain: dict = dict(plain or {})        # name → worksheet XML (bytes or Deflated)
        self.rows = {n.casefold(): w for n, w in (rows or {}).items()}   # name → rows writer
        self.out: dict[str, bytes] = {}       # new or changed parts (real names)
        self.deleted: set[str] = set()        # lower-case names
        self.allocated: set[str] = set()      # lower-case names of parts we create

    # public entry
    def run(self) -> bytes:
        t, s = self.t, self.s
        if self.rows and self.plain and set(self.rows) & {n.casefold() for n in self.plain}:
            raise ValueError("rows names sheets that are not taken from the source")
        self.t_wb_part, self.t_wb, self.t_sheets = _workbook(t)
        self.s_wb_part, self.s_wb, self.s_sheets = _workbook(s)
        self._plan()
        self._remove_old_parts()
        self._styles()
        self._copy_parts()
        self._workbook_xml()
        self._app_xml()
        return self._write()

    # 1. which sheets go where
    def _plan(self):
        s_by = {x.name.casefold(): x for x in self.s_sheets}
        plain = {n.casefold(): n for n in self.plain}
        names = self.names if self.names is not None else \
            [x.name for x in self.s_sheets if x.name.casefold() not in plain]
        both = {n.casefold() for n in names} & set(plain)
        if both:
            raise ValueError(f"sheets named both in `sheets` and in `plain`: {sorted(both)}")
        names = list(names) + list(self.plain)
        if not names:
            raise InputError("來源工作簿沒有工作表。", file=str(self.s.path), code="no-sheets")
        t_by = {x.name.casefold(): x for x in self.t_sheets}
        hidden = {h.casefold(): st for h, st in self.hidden.items()}
        unknown = set(hidden) - {n.casefold() for n in names}
        if unknown:
            raise ValueError(f"hidden names sheets that are not replaced: {sorted(unknown)}")
        extra = set(self.rows) - ({n.casefold() for n in names} - set(plain))
        if extra:
            raise ValueError(f"rows names sheets that are not taken from the source: {sorted(extra)}")
        self.plans: list[_Plan] = []
        seen = set()
        for n in names:
            if n.casefold() in plain:
                src = _Sheet(n, None, _Rel("", RT_WORKSHEET, "", False, None), "visible")
            else:
                src = s_by.get(n.casefold())
            if src is None:
                raise InputError(f"來源工作簿中沒有工作表「{n}」。", file=str(self.s.path),
                                 sheet=n, code="no-sheet")
            if n.casefold() in seen:
                continue
            seen.add(n.casefold())
            state = src.state if src.state in ("hidden", "veryHidden") else "visible"
            if hidden.get(n.casefold()) == "veryHidden" or \
                    (hidden.get(n.casefold()) == "hidden" and state == "visible"):
                state = hidden[n.casefold()]
            self.plans.append(_Plan(src=src, old=t_by.get(n.casefold()), state=state,
                                    extra={"plain": self.plain[n]} if n.casefold() in plain else {}))

    # 2. delete the replaced sheets' parts that nothing else uses
    def _remove_old_parts(self):
        t = self.t
        old_parts = {p.old.rel.part.lower() for p in self.plans if p.old is not None}
        if not old_parts:
            candidates: set[str] = set()
        else:
            candidates = t.reachable([p.old.rel.part for p in self.plans if p.old is not None])
        keep = t.reachable([""], skip=old_parts)
        drop = candidates - keep
        calc = t.rel_of_type(self.t_wb_part, "calcChain")
        if calc is not None:
            drop.add(calc.part.lower())
        for name in drop:
            self._delete(name)
        self.calc_rel = calc

    def _delete(self, name_lower: str):
        real = self.t.real(name_lower)
        self.deleted.add(name_lower)
        rels = _rels_name(real).lower()
        if self.t.has(rels):
            self.deleted.add(rels)

    def _exists(self, name: str) -> bool:
        low = name.lower()
        return (self.t.has(name) and low not in self.deleted) or low in self.allocated

    def _alloc(self, like: str) -> str:
        d, b = posixpath.split(like)
        stem, ext = posixpath.splitext(b)
        prefix = stem.rstrip("0123456789") or stem
        n = 1
        while True:
            cand = posixpath.join(d, f"{prefix}{n}{ext}")
            if not self._exists(cand):
                self.allocated.add(cand.lower())
                return cand
            n += 1

    # 3. styles
    def _styles(self):
        t_rel = self.t.rel_of_type(self.t_wb_part, "styles")
        s_rel = self.s.rel_of_type(self.s_wb_part, "styles")
        if t_rel is None:
            raise self.t.error("缺少樣式部件 styles.xml。")
        self.t_styles_part = t_rel.part
        self.styles = _StyleMerger(self.t.xml(t_rel.part),
                                   self.s.xml(s_rel.part) if s_rel is not None else None,
                                   self.s.path)
        sst = self.s.rel_of_type(self.s_wb_part, "sharedStrings")
        self.sst = []
        if sst is not None and self.s.has(sst.part):
            self.sst = [si for si in self.s.xml(sst.part) if si.tag == _q("si")]
        # a string item that is just <t>text</t> becomes a new <t>; others are copied whole
        t_tag = _q("t")
        self.sst_plain = [si[0].text or "" if len(si) == 1 and si[0].tag == t_tag else None
                          for si in self.sst]

    # 4. copy each sheet with its parts
    def _copy_parts(self):
        s = self.s
        mapping: dict[str, str] = {}     # source part (lower) → target part name
        order: list[str] = []
        # the sheets themselves first, so they keep their old part names
        for p in self.plans:
            if p.old is not None and p.old.rel.part.lower() in self.deleted and \
                    _rtype(p.old.rel.type) == _rtype(p.src.rel.type):
                p.part = p.old.rel.part
                self.allocated.add(p.part.lower())
        for p in self.plans:
            src_part = p.src.rel.part
            if not p.part:
                p.part = self._alloc(src_part if _rtype(p.src.rel.type) != "worksheet"
                                     else "xl/worksheets/sheet1.xml")
            if "plain" in p.extra:        # as given: no parts of its own, nothing to remap
                self.out[p.part] = p.extra["plain"]
                self._set_content_type(p.part, CT_WORKSHEET, False)
                if self.t.has(_rels_name(p.part)):
                    self.deleted.add(_rels_name(p.part).lower())
                continue
            mapping[src_part.lower()] = p.part
            order.append(src_part)
        # then everything reachable from them
        todo = list(order)
        while todo:
            part = todo.pop(0)
            for r in s.rels(part):
                if r.external or r.part is None:
                    continue
                kind = _rtype(r.type)
                if kind in ("pivotTable", "worksheet", "chartsheet", "officeDocument"):
                    raise InputError(f"來源工作表引用了不支持的部件 {r.part}({kind})。",
                                     file=str(s.path), code="unsupported-part")
                if r.part.lower() in mapping:
                    continue
                if not s.has(r.part):
                    raise s.error(f"部件 {part} 引用的 {r.part} 不存在。")
                mapping[r.part.lower()] = self._alloc(r.part)
                order.append(r.part)
                todo.append(r.part)
        self._tables(order)
        self._vml_renumber = self._vml_plan(order)
        plan_by_part = {p.src.rel.part.lower(): p for p in self.plans if "plain" not in p.extra}
        for part in order:
            new = mapping[part.lower()]
            ct = s.content_type(part)
            if ct is None:
                raise s.error(f"部件 {part} 沒有內容類型。")
            if part.lower() in plan_by_part:
                data = self._sheet_xml(plan_by_part[part.lower()])
            elif ct == CT_TABLE:
                data = self._table_xml(part)
            elif ct == CT_VML or part.lower().endswith(".vml"):
                data = self._vml(part)
            else:
                data = s.read(part)
            self.out[new] = data
            self._set_content_type(new, ct, s.content_type_is_default(part))
            rels = s.rels(part)
            if rels:
                self.out[_rels_name(new)] = self._rels_xml(new, rels, mapping)
            elif self.t.has(_rels_name(new)):
                self.deleted.add(_rels_name(new).lower())

    def _set_content_type(self, part: str, ct: str, was_default: bool):
        t = self.t
        ext = posixpath.splitext(part)[1].lstrip(".").lower()
        d = t.defaults.get(ext)
        o = t.overrides.get(part.lower())
        if o is not None:
            if o.get("ContentType") != ct:
                o.set("ContentType", ct)
            return
        if d is not None and d.get("ContentType") == ct:
            return
        root = t.ct_root
        if d is None and was_default and ext:
            el = etree.Element(_q("Default", CT_NS), Extension=ext, ContentType=ct)
            defaults = root.findall(_q("Default", CT_NS))
            if defaults:
                defaults[-1].addnext(el)
            else:
                root.insert(0, el)
            t.defaults[ext] = el
        else:
            el = etree.SubElement(root, _q("Override", CT_NS), PartName="/" + part, ContentType=ct)
            t.overrides[part.lower()] = el

    def _rels_xml(self, new_part: str, rels: list[_Rel], mapping) -> bytes:
        root = etree.Element(_q("Relationships", PKG_REL), nsmap={None: PKG_REL})
        for r in rels:
            el = etree.SubElement(root, _q("Relationship", PKG_REL))
            el.set("Id", r.id)
            el.set("Type", r.type)
            if r.external:
                el.set("Target", r.target)
                el.set("TargetMode", "External")
            else:
                el.set("Target", _relpath(new_part, mapping[r.part.lower()]))
        return _tobytes(root)

    # tables: unique id and names across the workbook
    def _tables(self, order):
        t = self.t
        used_ids, used_names = set(), set()
        for low, real in t.lower.items():
            if low in self.deleted or t.content_type(real) != CT_TABLE:
                continue
            root = t.xml(real)
            if root.get("id", "").isdigit():
                used_ids.add(int(root.get("id")))
            used_names.update(n.casefold() for n in (root.get("name"), root.get("displayName")) if n)
        dn = self.t_wb.find(_q("definedNames"))
        for d in (dn if dn is not None else []):
            if d.get("name"):
                used_names.add(d.get("name").casefold())
        self.table_ids: dict[str, int] = {}
        self.table_renames: dict[str, str] = {}
        for part in order:
            if self.s.content_type(part) != CT_TABLE:
                continue
            root = self.s.xml(part)
            tid = int(root.get("id", "1")) if root.get("id", "").isdigit() else 1
            if tid in used_ids:
                tid = max(used_ids) + 1
            used_ids.add(tid)
            self.table_ids[part.lower()] = tid
            done = set()
            for attr in ("displayName", "name"):
                old = root.get(attr)
                if not old or old in done:
                    continue
                done.add(old)
                new, n = old, 2
                while new.casefold() in used_names:
                    new = f"{old}_{n}"
                    n += 1
                used_names.add(new.casefold())
                if new != old:
                    self.table_renames[old] = new

    def _table_xml(self, part: str) -> bytes:
        root = copy.deepcopy(self.s.xml(part))
        root.set("id", str(self.table_ids[part.lower()]))
        for attr in ("displayName", "name"):
            if root.get(attr) in self.table_renames:
                root.set(attr, self.table_renames[root.get(attr)])
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            for a, v in list(el.attrib.items()):
                if a.endswith("DxfId") and v.isdigit():
                    el.set(a, str(self.styles.dxf(int(v))))
        return _tobytes(root)

    # VML (comments): shape ids live in blocks of 1024 per <o:idmap data="n">; keep them unique
    def _vml_plan(self, order) -> dict[int, int]:
        t = self.t
        used: set[int] = set()
        for low, real in t.lower.items():
            if low.endswith(".vml") and low not in self.deleted:
                used |= _vml_blocks(t.read(real).decode("utf-8", "replace"))
        remap: dict[int, int] = {}
        for part in order:
            if not part.lower().endswith(".vml"):
                continue
            for b in sorted(_vml_blocks(self.s.read(part).decode("utf-8", "replace"))):
                if b in remap:
                    continue
                nb = b
                while nb in used:
                    nb += 1
                used.add(nb)
                remap[b] = nb
        return remap

    def _vml(self, part: str) -> bytes:
        text = self.s.read(part).decode("utf-8")
        remap = self._vml_renumber
        if not remap or all(k == v for k, v in remap.items()):
            return self.s.read(part)

        def idmap(m):
            nums = re.sub(r"\d+", lambda n: str(remap.get(int(n.group(0)), int(n.group(0)))), m.group(2))
            return m.group(1) + nums + '"'

        text = re.sub(r'(<(?:\w+:)?idmap\b[^>]*\bdata=")([^"]*)"', idmap, text)

        def shape(m):
            n = int(m.group(2))
            b, k = divmod(n, 1024)
            return f"{m.group(1)}{remap.get(b, b) * 1024 + k}"

        text = re.sub(r"(_x0000_s)(\d+)", shape, text)
        return text.encode("utf-8")

    # the sheet XML itself
    def _sheet_xml(self, p: _Plan) -> bytes:
        part = p.src.rel.part
        try:
            root = etree.fromstring(self.s.read(part), _PARSER)
        except etree.XMLSyntaxError as e:
            raise self.s.error(f"部件 {part} 不是有效的 XML({e})。")
        p.extra["root"] = root      # serialised once the active tab is known (_workbook_xml)
        writer = self.rows.get(p.src.name.casefold())
        if writer is not None:
            if root.tag != _q("worksheet") or root.prefix is not None:
                raise ValueError("rows go into worksheets written in the default namespace only")
            p.extra["rows"] = writer
        if _rtype(p.src.rel.type) != "worksheet":
            return b""
        st = self.styles
        default_s = str(st.xf(0)) if st.sc is not None and st.sc["cellXfs"].items else "0"
        smap: dict[str, str] = {}

        def xf(v: str) -> str:
            r = smap.get(v)
            if r is None:
                if not v.strip().isdigit():
                    raise self.s.error(f"工作表「{p.src.name}」的單元格格式 {v!r} 無效。")
                r = smap[v] = str(st.xf(int(v)))
            return r

        v_tag, f_tag, is_tag, t_tag = _q("v"), _q("f"), _q("is"), _q("t")
        renames = self.table_renames
        rename_re = re.compile(r"(?<![\w.])(" + "|".join(re.escape(k) for k in sorted(
            renames, key=len, reverse=True)) + r")(?![\w.])") if renames else None
        sst, n_sst = self.sst, len(self.sst)
        plain = self.sst_plain
        for row in root.iter(_q("row")):
            rs = row.get("s")
            if rs is not None:
                row.set("s", xf(rs))
        for c in root.iter(_q("c")):
            s = c.get("s")
            if s is not None:
                c.set("s", xf(s))
            elif default_s != "0":
                c.set("s", default_s)
            if c.get("t") == "s":
                v = c.find(v_tag)
                text = v.text if v is not None else None
                idx = int(text) if text and text.strip().isdigit() else -1
                if not 0 <= idx < n_sst:
                    raise self.s.error(f"工作表「{p.src.name}」單元格 {c.get('r')} 引用了不存在的共享字符串。")
                is_ = etree.Element(is_tag)
                if plain[idx] is not None:
                    t = etree.SubElement(is_, t_tag)
                    t.text = plain[idx]
                    if plain[idx] != plain[idx].strip() or "\n" in plain[idx]:
                        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                else:
                    for ch in sst[idx]:
                        is_.append(ch.__deepcopy__(None))
                v.addprevious(is_)
                c.remove(v)
                c.set("t", "inlineStr")
            elif rename_re is not None:
                f = c.find(f_tag)
                if f is not None and f.text:
                    f.text = rename_re.sub(lambda m: renames[m.group(0)], f.text)
        cols = root.find(_q("cols"))
        for col in (cols if cols is not None else []):
            if col.get("style") is not None:
                col.set("style", xf(col.get("style")))
        for cf in root.iter(_q("cfRule")):
            if cf.get("dxfId") is not None:
                cf.set("dxfId", str(st.dxf(int(cf.get("dxfId")))))
        # the VBA code name stays with the sheet; a new sheet gets none (Excel assigns one)
        pr = root.find(_q("sheetPr"))
        codename = p.old and self._old_codename(p.old)
        if pr is not None and pr.get("codeName") is not None:
            del pr.attrib["codeName"]
        if codename:
            if pr is None:
                pr = etree.Element(_q("sheetPr"))
                root.insert(0, pr)
            pr.set("codeName", codename)
        return b""

    def _old_codename(self, old: _Sheet) -> str | None:
        data = self.t.head(old.rel.part, b"sheetData")     # sheetPr comes before the rows
        end = data.find(b"sheetData")
        m = re.search(rb'<(?:\w+:)?sheetPr\b[^>]*\bcodeName="([^"]*)"', data[:end if end > 0 else None])
        return m.group(1).decode("utf-8") if m else None

    # 5. workbook.xml, its rels, defined names, views, calcPr
    def _workbook_xml(self):
        t, wb = self.t, self.t_wb
        wb_rels_name = t.real(_rels_name(self.t_wb_part))
        rels_root = t.xml(wb_rels_name)
        rel_els = {r.get("Id"): r for r in rels_root.findall(_q("Relationship", PKG_REL))}
        sheets_el = wb.find(_q("sheets"))
        old_order = [x.el for x in self.t_sheets]
        active_idx = 0
        view = None
        bv = wb.find(_q("bookViews"))
        if bv is not None:
            view = bv.find(_q("workbookView"))
        if view is not None and (view.get("activeTab") or "0").isdigit():
            active_idx = int(view.get("activeTab") or 0)
        active_el = old_order[active_idx] if active_idx < len(old_order) else None
        first_el = None
        if view is not None and (view.get("firstSheet") or "").isdigit() and \
                int(view.get("firstSheet")) < len(old_order):
            first_el = old_order[int(view.get("firstSheet"))]

        ids = [int(x.get("sheetId")) for x in old_order if (x.get("sheetId") or "").isdigit()]
        next_sheet_id = max(ids, default=0) + 1
        used_rids = set(rel_els)
        new_els = []
        for p in self.plans:
            if p.old is not None:
                el = p.old.el
                el.set("name", p.src.name)
                rel = rel_els[p.old.rel.id]
                if p.part.lower() != p.old.rel.part.lower():
                    rel.set("Target", _relpath(self.t_wb_part, p.part))
                rel.set("Type", p.src.rel.type)
            else:
                n = 1
                while f"rId{n}" in used_rids:
                    n += 1
                rid = f"rId{n}"
                used_rids.add(rid)
                rel = etree.SubElement(rels_root, _q("Relationship", PKG_REL))
                rel.set("Id", rid)
                rel.set("Type", p.src.rel.type)
                rel.set("Target", _relpath(self.t_wb_part, p.part))
                el = etree.Element(_q("sheet"))
                el.set("name", p.src.name)
                el.set("sheetId", str(next_sheet_id))
                next_sheet_id += 1
                el.set(_q("id", R_NS), rid)
                new_els.append(el)
            if p.state == "visible":
                el.attrib.pop("state", None)
            else:
                el.set("state", p.state)
            p.el = el
        # final order: existing sheets in place, new ones at the end or at their position
        order = list(old_order) + new_els
        plan_by_el = {id(p.el): p for p in self.plans}
        for name, pos in self.position.items():
            p = next((q for q in self.plans if q.src.name.casefold() == name.casefold()), None)
            if p is None:
                raise ValueError(f"position names a sheet that is not replaced: {name}")
            if p.old is not None:
                continue   # a replaced sheet stays where the officials put it
            order.remove(p.el)
            if isinstance(pos, str):
                anchor = next((e for e in order if e.get("name", "").casefold() == pos.casefold()), None)
                idx = order.index(anchor) if anchor is not None else len(order)
            else:
                idx = int(pos)
                if idx < 0:
                    idx = max(0, len(order) + 1 + idx)
                idx = min(idx, len(order))
            order.insert(idx, p.el)
        for e in list(sheets_el):
            sheets_el.remove(e)
        for e in order:
            sheets_el.append(e)
        new_index = {id(e): i for i, e in enumerate(order)}
        if not any(e.get("state", "visible") == "visible" for e in order):
            raise InputError("替換後工作簿中沒有可見的工作表。", file=str(self.t.path), code="all-hidden")

        # calcChain goes: Excel rebuilds it
        if self.calc_rel is not None:
            el = rel_els.get(self.calc_rel.id)
            if el is not None:
                rels_root.remove(el)

        self._defined_names(old_order, order, new_index)

        # active tab: the same sheet as before if it is still visible, else the first visible
        moved = False
        if active_el is None or active_el.get("state", "visible") != "visible":
            active_el = next(e for e in order if e.get("state", "visible") == "visible")
            moved = True
        if view is not None:
            idx = new_index[id(active_el)]
            if idx or view.get("activeTab") is not None:
                view.set("activeTab", str(idx))
            if view.get("firstSheet") is not None:
                if first_el is not None and first_el.get("state", "visible") == "visible":
                    view.set("firstSheet", str(min(new_index[id(first_el)], idx)))
                else:
                    view.set("firstSheet", "0")
        for p in self.plans:
            root = p.extra.get("root")
            if root is not None:
                self._select_tab(root, p.el is active_el)
                self.out[p.part] = _tobytes(root)
                if "rows" in p.extra:
                    self.out[p.part] = _splice_rows(self.out[p.part], p.extra["rows"](self.styles.xf),
                                                    p.src.name)
        if moved and id(active_el) not in plan_by_el:
            # an existing sheet becomes active (the old active one was replaced by a hidden one)
            part = next(x.rel.part for x in self.t_sheets if x.el is active_el)
            root = self.t.xml(part)
            if not self._has_selected_tab(root):
                self._select_tab(root, True)
                self.out[part] = _tobytes(root)

        calc = _child(wb, "calcPr", _WB_ORDER)
        calc.set("fullCalcOnLoad", "1")
        self.out[self.t_wb_part] = _tobytes(wb)
        self.out[wb_rels_name] = _tobytes(rels_root)
        if self.styles.is_changed():
            self.out[self.t_styles_part] = _tobytes(self.styles.t)
        for low, o in list(self.t.overrides.items()):
            if low in self.deleted and low not in self.allocated:
                o.getparent().remove(o)
                del self.t.overrides[low]
        self.out["[Content_Types].xml"] = _tobytes(self.t.ct_root)

    @staticmethod
    def _has_selected_tab(root) -> bool:
        return any(v.get("tabSelected") in ("1", "true") for v in root.iter(_q("sheetView")))

    @staticmethod
    def _select_tab(root, selected: bool):
        views = list(root.iter(_q("sheetView")))
        for i, v in enumerate(views):
            if selected and i == 0:
                v.set("tabSelected", "1")
            else:
                v.attrib.pop("tabSelected", None)
        if selected and not views:
            svs = _child(root, "sheetViews", _WS_ORDER)
            etree.SubElement(svs, _q("sheetView"), tabSelected="1", workbookViewId="0")

    def _defined_names(self, old_order, order, new_index):
        wb = self.t_wb
        dn = wb.find(_q("definedNames"))
        replaced = {id(p.old.el) for p in self.plans if p.old is not None}
        replaced_names = {p.src.name.casefold() for p in self.plans if p.old is not None}
        final_names = {e.get("name", "").casefold() for e in order}
        existing_global: dict[str, etree._Element] = {}
        if dn is not None:
            for d in list(dn):
                if d.tag != _q("definedName"):
                    continue
                lsid = d.get("localSheetId")
                if lsid is not None:
                    i = int(lsid)
                    if i >= len(old_order):
                        continue    # a dangling local name: leave it as it was
                    if id(old_order[i]) in replaced:
                        dn.remove(d)
                    else:
                        d.set("localSheetId", str(new_index[id(old_order[i])]))
                else:
                    existing_global[d.get("name", "").casefold()] = d
        s_dn = self.s_wb.find(_q("definedNames"))
        plan_by_src = {p.src.el: p for p in self.plans}
        added = []
        for d in (s_dn if s_dn is not None else []):
            if d.tag != _q("definedName"):
                continue
            refs = _sheets_in_formula(d.text or "")
            if refs - final_names:
                continue    # refers to a sheet that is not in the target
            new = copy.deepcopy(d)
            lsid = d.get("localSheetId")
            if lsid is not None:
                i = int(lsid)
                p = plan_by_src.get(self.s_sheets[i].el) if i < len(self.s_sheets) else None
                if p is None:
                    continue    # scoped to a sheet we do not copy
                new.set("localSheetId", str(new_index[id(p.el)]))
            else:
                name = d.get("name", "").casefold()
                old = existing_global.get(name)
                if old is not None:
                    old_refs = _sheets_in_formula(old.text or "")
                    if old_refs and old_refs <= (replaced_names | refs):
                        old.getparent().remove(old)     # ours, from an earlier refresh
                    else:
                        continue    # an official's own name wins
            added.append(new)
        if added:
            if dn is None:
                dn = _child(wb, "definedNames", _WB_ORDER)
            for d in added:
                dn.append(d)
        if dn is not None and len(dn) == 0:
            wb.remove(dn)

    # 6. docProps/app.xml: the list of worksheet titles
    def _app_xml(self):
        rel = self.t.rel_of_type("", "extended-properties")
        if rel is None or not self.t.has(rel.part):
            return
        root = copy.deepcopy(self.t.xml(rel.part))
        hp = root.find(_q("HeadingPairs", EP_NS))
        tp = root.find(_q("TitlesOfParts", EP_NS))
        if hp is None or tp is None:
            return
        old = [x.name for x in self.t_sheets]
        final = [e.get("name") for e in self.t_wb.find(_q("sheets"))]
        try:
            hv = hp.find(_q("vector", VT_NS))
            variants = list(hv)
            pairs = []
            for i in range(0, len(variants), 2):
                count = variants[i + 1].find(_q("i4", VT_NS))
                pairs.append((variants[i], variants[i + 1], count))
            tv = tp.find(_q("vector", VT_NS))
            titles = list(tv)
            pos = 0
            for head, cnt_variant, count in pairs:
                n = int(count.text)
                group = [x.text for x in titles[pos:pos + n]]
                if group == old and all(_rtype(x.rel.type) == "worksheet" for x in self.t_sheets) \
                        and all(_rtype(p.src.rel.type) == "worksheet" for p in self.plans):
                    for x in titles[pos:pos + n]:
                        tv.remove(x)
                    anchor = titles[pos + n] if pos + n < len(titles) else None
                    for name in final:
                        el = etree.Element(_q("lpstr", VT_NS))
                        el.text = name
                        if anchor is not None:
                            anchor.addprevious(el)
                        else:
                            tv.append(el)
                    count.text = str(len(final))
                    tv.set("size", str(len(tv)))
                    break
                pos += n
            else:
                raise ValueError("no worksheet group")
        except (ValueError, TypeError, AttributeError, IndexError):
            # not what we expect: drop both lists rather than leave them inconsistent
            root.remove(hp)
            root.remove(tp)
        self.out[rel.part] = _tobytes(root)

    # 7. the new package
    def _write(self) -> bytes:
        z = _ZipWriter()
        written = set()
        later = []          # plain sheets still being made (callables): written last
        out_lower = {k.lower(): k for k in self.out}
        stamp = (1980, 1, 1, 0, 0, 0)
        # the new parts are compressed in threads (zlib releases the GIL) while the untouched
        # ones are copied: the same bytes as compressing each here in turn
        big = [k for k, v in self.out.items()
               if isinstance(v, (bytes, bytearray)) and len(v) >= PARALLEL_DEFLATE_MIN]
        pool = None
        if len(big) > 1 or (big and len(self.t.infos) > len(self.out)):
            from concurrent.futures import ThreadPoolExecutor
            pool = ThreadPoolExecutor(max_workers=2)
        try:
            out = dict(self.out)
            if pool is not None:
                for k in sorted(big, key=lambda k: -len(out[k])):
                    out[k] = pool.submit(deflate, out[k])

            def part(key):
                data = out[key]
                return data.result() if hasattr(data, "result") and not callable(data) else data

            for info in self.t.infos:
                low = info.filename.lower()
                if low in out_lower:
                    data = part(out_lower[low])                 # bytes, Deflated or callable
                    if callable(data):
                        later.append((info.filename, info.date_time, data))
                    else:
                        z.add(info.filename, info.date_time, data)
                elif low in self.deleted:
                    continue
                else:
                    # untouched: the very same compressed bytes
                    info, data = self.t.raw_member(info.filename)
                    z.add_raw(info.filename, info.date_time, info.compress_type, info.CRC,
                              info.file_size, data)
                stamp = info.date_time
                written.add(low)
            for name in sorted(self.out, key=_part_order):
                if name.lower() not in written:
                    data = part(name)
                    if callable(data):
                        later.append((name, stamp, data))
                    else:
                        z.add(name, stamp, data)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        for name, date_time, data in later:
            z.add(name, date_time, data())
        return z.finish()


PARALLEL_DEFLATE_MIN = 256 * 1024     # parts this big are compressed in a thread (_write)


@dataclass(frozen=True)
class Deflated:
    """A part's bytes compressed ahead of time (raw deflate, as a zip member stores them), so
    the compression can run in a thread while other work goes on: see `deflate`."""
    crc: int
    size: int
    data: bytes


def deflate(data: bytes) -> Deflated:
    """Compress a part for `replace_sheets(plain=...)`. zlib releases the GIL: run it in a
    thread (concurrent.futures) while the styled sheets are rendered."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Deflated(zlib.crc32(data), len(data), c.compress(data) + c.flush())


class _ZipWriter:
    """A minimal zip writer that can also store already-compressed members as they are."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.central: list[bytes] = []

    def add(self, name: str, date_time, data: "bytes | Deflated") -> None:
        if isinstance(data, Deflated):
            self.add_raw(name, date_time, zipfile.ZIP_DEFLATED, data.crc, data.size, data.data)
            return
        d = deflate(data)
        self.add_raw(name, date_time, zipfile.ZIP_DEFLATED, d.crc, d.size, d.data)

    def add_raw(self, name: str, date_time, method: int, crc: int, size: int, comp: bytes) -> None:
        raw_name = name.encode("utf-8")
        flags = 0 if name.isascii() else 0x800
        y, mo, d, h, mi, sec = date_time
        dos_time = (h << 11) | (mi << 5) | (sec // 2)
        dos_date = (max(y, 1980) - 1980) << 9 | (mo << 5) | d
        offset = self.buf.tell()
        if offset + len(comp) > 0xFFFFFFFF - 1024 or size > 0xFFFFFFFF:
            raise InputError("工作簿太大(超過 4 GB),無法處理。", code="too-large")
        self.buf.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, method, dos_time,
                                   dos_date, crc, len(comp), size, len(raw_name), 0))
        self.buf.write(raw_name)
        self.buf.write(comp)
        self.central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags,
                                        method, dos_time, dos_date, crc, len(comp), size,
                                        len(raw_name), 0, 0, 0, 0, 0, offset) + raw_name)

    def finish(self) -> bytes:
        start = self.buf.tell()
        for entry in self.central:
            self.buf.write(entry)
        size = self.buf.tell() - start
        n = len(self.central)
        self.buf.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, size, start, 0))
        return self.buf.getvalue()


_EPOCH = date(1899, 12, 30)   # Excel's day 0 (1900 date system)


def xml_escape(data: str) -> str:
    """& < > as XML entities (what xml.sax.saxutils.escape does; importing that module pulls in
    urllib.request, http and ssl: ~10 ms of every command's start)."""
    return data.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def _plain_cell(v) -> str:
    """One <c> element without its reference (cells follow each other in a row; an empty one
    is <c/>)."""
    if v is None:
        return "<c/>"
    if isinstance(v, str):
        if not v:
            return "<c/>"
        if "&" in v or "<" in v or ">" in v:
            v = xml_escape(v)
        if v != v.strip() or "\n" in v:
            return f'<c t="inlineStr"><is><t xml:space="preserve">{v}</t></is></c>'
        return f'<c t="inlineStr"><is><t>{v}</t></is></c>'
    if isinstance(v, bool):
        return f'<c t="b"><v>{int(v)}</v></c>'
    if isinstance(v, datetime):
        v = v.date() if not (v.hour or v.minute or v.second or v.microsecond) else v
        if isinstance(v, datetime):
            days = (v - datetime(1899, 12, 30)).total_seconds() / 86400
            return f"<c><v>{days!r}</v></c>"
    if isinstance(v, date):
        return f"<c><v>{(v - _EPOCH).days}</v></c>"
    fv = float(v)
    if not math.isfinite(fv):
        return "<c/>"
    return f"<c><v>{int(fv) if fv.is_integer() else repr(fv)}</v></c>"


def plain_sheet_xml(rows: list[list]) -> bytes:
    """Worksheet XML for `replace_sheets(plain=...)`: values only — text (inline strings; a
    text starting with = stays text), numbers, booleans, dates as serial numbers — no styles,
    no column widths. Cells carry no references (they follow each other; an empty one is
    <c/>), and the values after the first column are rendered once each: ~10x faster than
    xlsxwriter for a data sheet of a million cells."""
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">']
    ncols = max((len(r) for r in rows), default=1)
    last = f"{_col_letter(max(ncols - 1, 0))}{max(len(rows), 1)}"
    out.append(f'<dimension ref="A1:{last}"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
               '<sheetFormatPr defaultRowHeight="15"/><sheetData>')
    cache: dict = {}
    ap = out.append
    cell = _plain_cell
    for i, row in enumerate(rows, 1):
        parts = []
        for ci, v in enumerate(row):
            if ci == 0:
                parts.append(cell(v))
                continue
            try:
                t = cache[(v.__class__, v)]
            except KeyError:
                t = cache[(v.__class__, v)] = cell(v)
            except TypeError:
                t = cell(v)
            parts.append(t)
        while parts and parts[-1] == "<c/>":
            parts.pop()
        ap(f'<row r="{i}">{"".join(parts)}</row>')
    ap('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
       'footer="0.3"/></worksheet>')
    return "".join(out).encode("utf-8")


RowsWriter = Callable[[Callable[[int], int]], "list[tuple[int, bytes]]"]
_ESCAPED = re.compile(r"_x[0-9a-fA-F]{4}_")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile(r"[&<>]|_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\ufffe\uffff]")
DEFAULT_ROW_PIXELS = 20      # a row's height in pixels when none is set (Excel's 15 points)


def _excel_text(s: str) -> str:
    """Text for <t>: control characters as Excel writes them (_x0007_), a literal _x0007_
    escaped as _x005F_x0007_, and & < > as XML entities."""
    if _ESCAPED.search(s):
        s = _ESCAPED.sub(lambda m: "_x005F" + m.group(0), s)
    if _CONTROL.search(s):
        s = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def row_xml(row: int, cells: "Iterable[tuple[object, int]]", height: float | None = None) -> bytes:
    """One <row> element for `replace_sheets(rows=...)`, cells from column A on (they carry no
    references: each follows the one before).

    `row`: 1-based. `cells`: (value, target cell-format index) — None is a blank cell that
    keeps its format, a str an inline string (longer than Excel's 32,767 characters: cut
    there), a number (int, float, bool) a number. `height` in points, rounded to whole pixels
    as Excel stores it (none: the default height)."""
    memo = _ROW_CELLS
    parts = []
    for key in cells:
        try:
            c = memo[key]
        except KeyError:
            c = _row_cell(*key)
            if len(memo) < 200000:
                memo[key] = c
        except TypeError:
            c = _row_cell(*key)
        parts.append(c)
    head = f'<row r="{row}"'
    if height is not None:
        pixels = int(height * 4.0 / 3.0 + 0.5)
        if pixels != DEFAULT_ROW_PIXELS:
            head += f' ht="{pixels * 0.75:.16g}" customHeight="1"'
    return (head + ">" + "".join(parts) + "</row>").encode("utf-8")


def xlsxwriter_rows(body: list) -> RowsWriter:
    """A writer for `replace_sheets(rows=...)` from rows an xlsxwriter caller kept back:
    (row, values, formats, height) with `row` 0-based, `formats` the xlsxwriter Format of each
    cell — each one used for at least one cell xlsxwriter wrote, so that xlsxwriter gave it its
    index in the source's styles — and `height` in points or None. Values as for `row_xml`."""
    def write(style):
        memo: dict[int, int] = {}

        def target(f):
            t = memo.get(id(f))
            if t is None:
                t = memo[id(f)] = style(f.xf_index)
            return t

        # rows of one style share their list of formats: map each list once
        mapped: dict[int, tuple] = {}
        out = []
        for ri, values, fmts, h in body:
            m = mapped.get(id(fmts))
            if m is None:
                m = mapped[id(fmts)] = (fmts, [target(f) for f in fmts])   # fmts kept alive
            out.append((ri + 1, row_xml(ri + 1, zip(values, m[1]), h)))
        return out
    return write


_ROW_CELLS: dict = {}      # (value, style) → <c>: the same value in the same format, again


def _row_cell(v, s: int) -> str:
    if v is None:
        return f'<c s="{s}"/>'
    if v.__class__ is str:
        if len(v) > 16383 and len(v.encode("utf-16-le")) > 65534:
            v = v.encode("utf-16-le")[:65534].decode("utf-16-le", "ignore")
        if _NEEDS_ESCAPE.search(v):
            v = _excel_text(v)
        space = ' xml:space="preserve"' if v[:1].isspace() or v[-1:].isspace() else ""
        return f'<c s="{s}" t="inlineStr"><is><t{space}>{v}</t></is></c>'
    if not math.isfinite(v):
        raise ValueError(f"row_xml: {v!r} is not a number Excel can store")
    if v.__class__ is bool:
        v = int(v)
    return f'<c s="{s}"><v>{v:.16G}</v></c>'


_ROW_START = re.compile(rb'<row\b[^>]*?\sr="(\d+)"')


def _splice_rows(data: bytes, rows, sheet: str) -> bytes:
    """The serialised worksheet `data` with the (row number, <row> XML) pairs put into its
    sheetData where their numbers say."""
    rows = list(rows)
    if not rows:
        return data
    nums = [r for r, _ in rows]
    if any(b <= a for a, b in zip(nums, nums[1:])):
        raise ValueError(f"rows for sheet {sheet!r} are not in row order")
    m = re.search(rb"<sheetData\s*/>", data)
    if m is not None:
        body = b"<sheetData>" + b"".join(x for _, x in rows) + b"</sheetData>"
        out = data[:m.start()] + body + data[m.end():]
    else:
        start = data.index(b"<sheetData")
        start = data.index(b">", start) + 1
        end = data.index(b"</sheetData>", start)
        have = [(int(x.group(1)), x.start()) for x in _ROW_START.finditer(data, start, end)]
        taken = {n for n, _ in have}
        clash = [n for n in nums if n in taken]
        if clash:
            raise ValueError(f"rows for sheet {sheet!r} repeat rows the source has: {clash[:5]}")
        pieces, pos, k = [], start, 0
        for n, at in have + [(None, end)]:
            block = []
            while k < len(rows) and (n is None or rows[k][0] < n):
                block.append(rows[k][1])
                k += 1
            if block:
                pieces.append(data[pos:at])
                pieces.append(b"".join(block))
                pos = at
        pieces.append(data[pos:])
        out = data[:start] + b"".join(pieces)
    dim = re.search(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', out)
    last = nums[-1]
    if dim is not None and int(dim.group(4) or dim.group(2)) < last:
        c1, r1, c2 = dim.group(1), dim.group(2), dim.group(3) or dim.group(1)
        out = out[:dim.start()] + b'<dimension ref="' + c1 + r1 + b":" + c2 + str(last).encode() \
            + b'"' + out[dim.end():]
    return out


def _part_order(name: str):
    return (name.count("/"), posixpath.dirname(name), name.endswith(".rels"),
            [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", name)])


# -- public API ----------------------------------------------------------------------------
def replace_sheets(target: str | Path, source: str | Path | bytes | BinaryIO,
                   sheets: list[str] | None = None,
                   output: str | Path | None = None,
                   hidden: Iterable[str] | dict[str, str] = (),
                   position: dict[str, int | str] | None = None,
                   plain: dict[str, "bytes | Deflated"] | None = None,
                   rows: dict[str, "RowsWriter"] | None = None) -> None:
    """Put sheets of `source` into `target` (written to `output`, default: `target` itself).

    - `source`: a workbook file, or its bytes / a BytesIO (e.g. xlsxwriter with `in_memory`).
    - `sheets`: the source sheets to take, in order (default: all of them). A sheet whose name
      the target already has (compared as Excel does, ignoring case) replaces it in place: same
      tab position, same sheetId, same defined names' scope. Other sheets are added at the end.
    - `hidden`: of those, the ones to hide, as names or {name: "hidden" | "veryHidden"}. A sheet
      hidden in the source stays hidden (but note that xlsxwriter silently shows a hidden sheet
      that is the first/active one of its workbook: name it here, or use `new_sheets`).
    - `position`: {sheet name: where} for sheets that are *added*: an int is the 0-based tab
      index in the result (negative counts from the end), a str the name of the sheet to put it
      before. Replaced sheets never move.
    - `plain`: {sheet name: worksheet XML} for sheets without styles, shared strings or parts
      of their own, as `plain_sheet_xml` writes them (optionally compressed ahead with
      `deflate`). They are put in as given, never parsed — a data sheet of a million cells
      costs nothing here — and are replaced in place or added like the source's sheets
      (`hidden` and `position` apply to them too; they need not be in `source`). Such a sheet
      is not marked as the selected tab when it ends up the active one. A value may also be a
      callable returning the XML (or Deflated): it is called last, when everything else is
      written — so the sheet can still be in the making (another process) meanwhile.
    - `rows`: {source sheet name: writer} — rows added to a sheet of `source` on its way in,
      never parsed or walked: `writer(style)` returns [(row number, XML of one <row>)] in row
      order, where `style(i)` is the target's cell-format index for the source's index i; see
      `row_xml`. For a table of hundreds of thousands of cells that share a few formats, the
      source holds the styled frame (title, header, totals, one row of each cell format) and
      the caller writes the body. The rows go between the source's own rows by number (a
      number the source sheet has already is an error); the sheet's dimension is widened.

    Raises FileBusyError if the output is open in Excel/WPS (nothing is read or written then),
    InputError (file, sheet, what to do) for an unreadable target or source. On any error the
    output file is left exactly as it was.
    """
    target = Path(target)
    dest = Path(output) if output is not None else target
    states = dict(hidden) if isinstance(hidden, dict) else {h: "hidden" for h in hidden}
    if any(v not in ("hidden", "veryHidden") for v in states.values()):
        raise ValueError(f"hidden states must be 'hidden' or 'veryHidden': {states}")
    ensure_not_open(dest)
    tpkg = _Package(target, "target")
    if hasattr(source, "getvalue"):
        source = source.getvalue()
    elif hasattr(source, "read"):
        source = source.read()
    spkg = _Package(source if isinstance(source, (bytes, bytearray)) else Path(source),
                    "來源工作簿")
    try:
        data = _Surgery(tpkg, spkg, sheets, states, position, plain, rows).run()
    except (KeyError, IndexError, ValueError, TypeError, AttributeError) as e:
        if isinstance(e, ValueError) and str(e).startswith(("hidden names", "position names",
                                                             "sheets named both", "rows ")):
            raise
        raise InputError(f"無法把「{spkg.path}」的工作表寫入工作簿:{type(e).__name__}: {e}。"
                         "請用 Excel 打開兩個文件檢查,或重新生成。", file=str(target),
                         code="surgery-failed") from e
    atomic = AtomicPath(dest)
    try:
        with atomic as tmp:
            tmp.write_bytes(data)
    except PermissionError as e:
        # Windows refuses to replace a file Excel/WPS holds open, lock file or not
        raise FileBusyError("文件正在被其他程序使用,無法寫入。請先在 Excel 或 WPS 中關閉它再重試,"
                            "或用 -o 指定另一個輸出文件。", file=str(dest), code="file-open") from e
    finally:
        if atomic.tmp is not None and atomic.tmp.exists():
            atomic.tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def new_sheets(target: str | Path, output: str | Path | None = None,
               hidden: Iterable[str] | dict[str, str] = (),
               position: dict[str, int | str] | None = None) -> Iterator["xlsxwriter.Workbook"]:
    """Write sheets with xlsxwriter, in memory, and put them into `target` on leaving the block.

        with new_sheets(master, hidden=["_status"]) as wb:
            ws = wb.add_worksheet("月度匯總")
            ...

    Nothing is written if the block raises. The lock check runs first, so a workbook open in
    Excel/WPS is refused before any work is done. Sheets hidden with `hide()`/`very_hidden()`
    end up hidden even when xlsxwriter itself would show them (the first, active sheet).
    """
    import xlsxwriter

    ensure_not_open(Path(output) if output is not None else Path(target))
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    try:
        yield wb
    except BaseException:
        try:
            wb.close()
        except Exception:
            pass
        raise
    # honour hide()/very_hidden() even where xlsxwriter drops it on close (the first sheet)
    states = dict(hidden) if isinstance(hidden, dict) else {h: "hidden" for h in hidden}
    for ws in wb.worksheets():
        if getattr(ws, "hidden", 0) and ws.name not in states:
            states[ws.name] = "veryHidden" if ws.hidden == 2 else "hidden"
    wb.close()
    replace_sheets(target, buf.getvalue(), output=output, hidden=states, position=position)
