"""Read a VBA project (vbaProject.bin) and write a new one from it ([MS-OVBA] 2.2–2.3).

A project is a compound file: PROJECT (text: the project's ID, one line per module, its name,
its protection fields, the editor's window list), PROJECTwm (module names in the code page and
in UTF-16), VBA/_VBA_PROJECT (seven bytes; version 0xFFFF tells Office that no compiled code is
in the file, so it compiles from source), VBA/dir (compressed records: project information,
references, one record group per module naming its stream and where its source starts) and one
stream per module (an optional compiled cache, then the compressed source).

`build_project` keeps what a template's project has that is not code — its ID and protection
fields (which are encrypted with a key taken from the ID, so they stay together), its
references, the host extender line — and writes the modules it is given: a module kept from
the template keeps its stream as it was; every other module is written source-only (text offset
0), as the specification says a writer does.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from putuo_xl.excel.vba import ovba
from putuo_xl.excel.vba.cfb import write_cfb

STANDARD, CLASS, DOCUMENT, DESIGNER = "standard", "class", "document", "designer"
_PROJECT_NAME, _CODEPAGE, _MODULES, _COOKIE, _DIR_END = 0x0004, 0x0003, 0x000F, 0x0013, 0x0010
_MODULE_NAME, _MODULE_END, _PROJECT_VERSION = 0x0019, 0x002B, 0x0009
_TYPE_PROCEDURAL, _TYPE_OTHER = 0x0021, 0x0022
_MODULE_LINE = re.compile(r"^(Document|Module|Class|BaseClass|Package)=", re.I)
_KIND_LINE = {DOCUMENT: "Document={}/&H00000000", STANDARD: "Module={}", CLASS: "Class={}"}


class VbaProjectError(ValueError):
    """The template is not a VBA project this module can rewrite."""


@dataclass
class Module:
    name: str
    kind: str                       # STANDARD, CLASS or DOCUMENT (DESIGNER: read, not written)
    source: str                     # the module's text as VBA keeps it (CRLF, Attribute lines)
    stream: bytes | None = None     # kept from a template: the stream exactly as it was
    records: list | None = None     # kept from a template: its dir records
    workspace: str | None = None    # kept from a template: its [Workspace] line


@dataclass
class Project:
    name: str
    codepage: int
    modules: list[Module]
    info: list[tuple[int, bytes]] = field(default_factory=list)     # dir records before the modules
    cookie: bytes = b"\xff\xff"
    text: str = ""                  # the PROJECT stream
    vba_project: bytes = b"\xcc\x61\xff\xff\x00\x01\x00"

    def module(self, name: str) -> Module:
        return next(m for m in self.modules if m.name.lower() == name.lower())


def codec(codepage: int) -> str:
    return f"cp{codepage}"


# -- dir records -----------------------------------------------------------------------------
def parse_records(data: bytes) -> list[tuple[int, bytes]]:
    """The dir stream's records as (id, data). Every record is id, size, data, except
    PROJECTVERSION (id, a reserved 4, then 6 bytes); a 'Reserved' id inside a record (the
    Unicode halves, REFERENCECONTROL's extension) reads as a record of its own."""
    out, pos = [], 0
    while pos + 6 <= len(data):
        rid = int.from_bytes(data[pos:pos + 2], "little")
        size = 6 if rid == _PROJECT_VERSION else int.from_bytes(data[pos + 2:pos + 6], "little")
        out.append((rid, bytes(data[pos + 6:pos + 6 + size])))
        pos += 6 + size
    if pos != len(data):
        raise VbaProjectError(f"dir stream: {len(data) - pos} bytes left after the last record")
    return out


def write_records(records: list[tuple[int, bytes]]) -> bytes:
    out = bytearray()
    for rid, data in records:
        size = 4 if rid == _PROJECT_VERSION else len(data)
        out += rid.to_bytes(2, "little") + size.to_bytes(4, "little") + data
    return bytes(out)


def _module_records(m: Module, cp: str) -> list[tuple[int, bytes]]:
    name, uname = m.name.encode(cp), m.name.encode("utf-16-le")
    return [(0x0019, name), (0x0047, uname), (0x001A, name), (0x0032, uname),
            (0x001C, b""), (0x0048, b""), (0x0031, (0).to_bytes(4, "little")),
            (0x001E, (0).to_bytes(4, "little")), (0x002C, b"\xff\xff"),
            (_TYPE_PROCEDURAL if m.kind == STANDARD else _TYPE_OTHER, b""), (_MODULE_END, b"")]


def _record(records, rid: int) -> bytes | None:
    return next((d for r, d in records if r == rid), None)


# -- the PROJECT stream's protection fields ([MS-OVBA] 2.4.3) ---------------------------------
def protection_key_matches(text: str) -> bool:
    """CMG, DPB and GC are encrypted with a key that is the sum of the ID's bytes: True when
    each of them was made for this text's ID."""
    pid = re.search(r'^ID="([^"]*)"', text, re.M)
    key = sum(pid.group(1).encode("latin-1")) & 0xFF if pid else None
    for name in ("CMG", "DPB", "GC"):
        m = re.search(rf'^{name}="([0-9A-Fa-f]+)"', text, re.M)
        if m:
            data = bytes.fromhex(m.group(1))
            if len(data) < 3 or data[0] ^ data[1] != 2 or data[0] ^ data[2] != key:
                return False
    return True


# -- reading ---------------------------------------------------------------------------------
def read_project(data: bytes) -> Project:
    """The project in vbaProject.bin bytes (olefile reads the compound file)."""
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except OSError as e:
        raise VbaProjectError(f"not a compound file: {e}") from None
    with ole:
        def stream(path: str) -> bytes:
            if not ole.exists(path):
                raise VbaProjectError(f"no stream {path}")
            return ole.openstream(path).read()

        records = parse_records(ovba.decompress(stream("VBA/dir")))
        ids = [r for r, _d in records]
        if _MODULES not in ids or ids[-1] != _DIR_END:
            raise VbaProjectError("dir stream without PROJECTMODULES or its terminator")
        split = ids.index(_MODULES)
        info = records[:split]
        codepage = int.from_bytes(_record(info, _CODEPAGE) or b"\xe4\x04", "little")
        cp = codec(codepage)
        text = stream("PROJECT").decode(cp)
        kinds = {}
        for line in text.split("\r\n"):
            k, _, v = line.partition("=")
            if k in ("Document", "Class", "Module", "BaseClass"):
                kinds[v.split("/")[0].lower()] = {"Document": DOCUMENT, "Module": STANDARD,
                                                  "BaseClass": DESIGNER}.get(k, CLASS)
        workspace = {}
        if "[Workspace]" in text:
            for line in text.split("[Workspace]", 1)[1].split("\r\n"):
                if "=" in line:
                    workspace[line.partition("=")[0].lower()] = line
        modules, group = [], []
        for rid, d in records[split + 2:-1]:
            group.append((rid, d))
            if rid != _MODULE_END:
                continue
            name = (_record(group, _MODULE_NAME) or b"").decode(cp)
            stream_name = (_record(group, 0x001A) or b"").decode(cp)
            offset = int.from_bytes(_record(group, 0x0031) or bytes(4), "little")
            raw = stream("VBA/" + stream_name)
            kind = STANDARD if _record(group, _TYPE_PROCEDURAL) is not None else kinds.get(name.lower(), CLASS)
            modules.append(Module(name, kind, ovba.decompress(raw[offset:]).decode(cp), raw, group,
                                  workspace.get(name.lower())))
            group = []
        name = (_record(info, _PROJECT_NAME) or b"").decode(cp)
        if records[split + 1][0] != _COOKIE:
            raise VbaProjectError("dir stream: PROJECTMODULES without PROJECTCOOKIE")
        return Project(name, codepage, modules, info, records[split + 1][1], text,
                       stream("VBA/_VBA_PROJECT")[:7])


# -- writing ---------------------------------------------------------------------------------
def _project_text(p: Project) -> str:
    """The template's PROJECT text with our module lines, name and window list."""
    lines = p.text.split("\r\n")
    out, in_workspace = [], False
    for line in lines:
        if in_workspace:
            if line.strip():
                continue                        # rewritten below
            in_workspace = False
        if _MODULE_LINE.match(line):
            continue
        if line.startswith("Name="):
            line = f'Name="{p.name}"'
        out.append(line)
        if line.startswith("ID="):
            out += [_KIND_LINE[m.kind].format(m.name) for m in p.modules]
        if line == "[Workspace]":
            in_workspace = True
            out += [m.workspace or f"{m.name}=0, 0, 0, 0, C" for m in p.modules]
    if not any(line.startswith("ID=") for line in out):
        raise VbaProjectError("PROJECT stream without an ID line")
    return "\r\n".join(out)


def build_project(p: Project) -> bytes:
    """vbaProject.bin for `p`: its modules, name and code page over the template's info."""
    cp = codec(p.codepage)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,127}", p.name):
        raise VbaProjectError(f"VBA project name {p.name!r}: a letter, then letters, digits, _")
    if not protection_key_matches(p.text):
        raise VbaProjectError("the template's CMG/DPB/GC do not belong to its ID")
    seen = set()
    for m in p.modules:
        if m.kind not in _KIND_LINE:
            raise VbaProjectError(f"module {m.name}: a {m.kind} module (a form) cannot be written")
        if m.name.lower() in seen or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,30}", m.name):
            raise VbaProjectError(f"module name {m.name!r} is repeated or not a VBA identifier")
        seen.add(m.name.lower())
    info = []
    for rid, d in p.info:
        if rid == _PROJECT_NAME:
            d = p.name.encode(cp)
        elif rid == _CODEPAGE:
            d = p.codepage.to_bytes(2, "little")
        info.append((rid, d))
    records = info + [(_MODULES, len(p.modules).to_bytes(2, "little")), (_COOKIE, p.cookie)]
    streams = {}
    wm = bytearray()
    for m in p.modules:
        encoded = m.source.encode(cp)           # UnicodeEncodeError: not in the code page
        kept = m.stream is not None and m.records is not None
        if kept:
            was = int.from_bytes(_record(m.records, 0x0031) or bytes(4), "little")
            kept = ovba.decompress(m.stream[was:]) == encoded
        if kept:
            records += m.records
            streams["VBA/" + _record(m.records, 0x001A).decode(cp)] = m.stream
        else:
            records += _module_records(m, cp)
            streams["VBA/" + m.name] = ovba.compress(encoded)
        wm += m.name.encode(cp) + b"\0" + m.name.encode("utf-16-le") + b"\0\0"
    records.append((_DIR_END, b""))
    streams["VBA/dir"] = ovba.compress(write_records(records))
    streams["VBA/_VBA_PROJECT"] = p.vba_project
    streams["PROJECT"] = _project_text(p).encode(cp)
    streams["PROJECTwm"] = bytes(wm) + b"\0\0"
    return write_cfb(streams)
