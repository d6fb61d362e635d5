"""The zip packages the surgery works on: a workbook read into memory (members, content types,
relationships, its sheets), the names of OOXML, and small XML helpers the other modules share.
"""
from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote

from lxml import etree

from putuo_xl.errors import InputError


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


# a sheet on its way into the target
@dataclass
class _Plan:
    src: _Sheet
    old: _Sheet | None = None
    part: str = ""                        # the new sheet's part name in the target
    state: str = "visible"
    el: etree._Element | None = None      # its <sheet> element in the target workbook.xml
    extra: dict = field(default_factory=dict)
