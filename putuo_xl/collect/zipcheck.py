"""What a returned .xlsx holds inside, checked before anything reads it.

An .xlsx is a ZIP of XML parts. A file crafted to expand enormously (a "zip bomb": 266 KB
whose sheet XML unpacks to 200 MB) costs python-calamine gigabytes of memory and half a minute;
the ZIP's central directory says how big every part is before anything is unpacked, so a file
over the limits of config.yaml collect (`max_unpacked_mb`, `max_xml_mb`, `max_zip_ratio`) is
refused unread. (A directory that understates a part is no way around it: python-calamine
stops at the declared size, "File is larger than its declared uncompressed size".)

An XML part with a document type declaration (`<!DOCTYPE`, `<!ENTITY`: the XXE and "billion
laughs" attacks) is something Excel and WPS never write; python-calamine refuses the entities
(never expands them), and `xml_declarations` says what the file was, for the message.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

MB = 1024 * 1024
# sized from the largest form generated at province scale (90 counties × 60 units): 77 KB
# unpacked in all (its sheet XML 33 KB), 20 KB on disk, no part compressed more than 7.4:1
DEFAULT_MAX_UNPACKED_MB = 40
DEFAULT_MAX_XML_MB = 10
DEFAULT_MAX_RATIO = 100
RATIO_FROM_BYTES = MB          # the ratio of a part is checked from this size up
MEDIA_PREFIXES = ("xl/media/", "xl/embeddings/")     # pictures and objects: not read as XML


@dataclass(frozen=True)
class Limits:
    unpacked: int = DEFAULT_MAX_UNPACKED_MB * MB      # every part together, unpacked
    xml: int = DEFAULT_MAX_XML_MB * MB                # the parts read as XML, together
    ratio: float = DEFAULT_MAX_RATIO                  # one part's unpacked : packed size

    @classmethod
    def from_config(cls, section: dict, path: str | None = None) -> "Limits":
        """config.yaml collect's limits; a value that is not a positive number names its line."""
        def num(key, default):
            raw = section.get(key)
            if raw is None or raw == "":
                return float(default)
            try:
                if isinstance(raw, bool):
                    raise TypeError
                v = float(raw)
                if v > 0:
                    return v
            except (TypeError, ValueError, OverflowError):
                pass
            from putuo_xl.errors import ConfigError
            raise ConfigError(f"collect.{key} 應是大於 0 的數(如 {default}),現在是「{raw}」。",
                              file=path, line=getattr(section, "lines", {}).get(key))
        return cls(int(num("max_unpacked_mb", DEFAULT_MAX_UNPACKED_MB) * MB),
                   int(num("max_xml_mb", DEFAULT_MAX_XML_MB) * MB),
                   num("max_zip_ratio", DEFAULT_MAX_RATIO))


_CD = struct.Struct("<IIHHH")          # packed size, unpacked size, name, extra, comment lengths


def entries(data: bytes) -> list[tuple[str, int, int]] | None:
    """(name, packed size, unpacked size) of every part, from the central directory (found
    through the end record; ~10 µs for a form). None when the directory cannot be walked this
    way (ZIP64, a comment that hides the record, offsets out of range): then zipfile lists it."""
    raw = _entries(data)
    return None if raw is None else [(n.decode("utf-8", "replace"), p, u) for n, p, u in raw]


def _entries(data: bytes) -> list[tuple[bytes, int, int]] | None:
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) < end + 22:
        return None
    count, cd_size, cd_offset = struct.unpack_from("<HII", data, end + 10)
    if cd_offset + cd_size != end or count == 0xFFFF or cd_offset == 0xFFFFFFFF:
        return None
    out = []
    p = cd_offset
    unpack = _CD.unpack_from
    for _ in range(count):
        if data[p:p + 4] != b"PK\x01\x02":
            return None
        packed, unpacked, n, m, k = unpack(data, p + 20)
        if packed == 0xFFFFFFFF or unpacked == 0xFFFFFFFF:
            return None                   # ZIP64 sizes in the extra field
        out.append((data[p + 46:p + 46 + n], packed, unpacked))
        p += 46 + n + m + k
    return out


def _listed(data: bytes) -> list[tuple[str, int, int]] | None:
    try:
        return [(i.filename, i.compress_size, i.file_size)
                for i in zipfile.ZipFile(io.BytesIO(data)).infolist()]
    except Exception:     # BadZipFile, NotImplementedError, struct.error …: judged as corrupt
        return None


def over_limits(data: bytes, limits: Limits) -> tuple[str, str] | None:
    """(what, config key) when the ZIP unpacks beyond `limits`, else None."""
    raw = _entries(data)
    if raw is not None:
        if sum(u for _n, _p, u in raw) <= min(limits.xml, limits.unpacked) \
                and all(u < RATIO_FROM_BYTES for _n, _p, u in raw):
            return None                   # every real form: nothing more to look at
        parts = [(n.decode("utf-8", "replace"), p, u) for n, p, u in raw]
    else:
        parts = _listed(data)
        if parts is None:
            return None
    total = xml = 0
    worst = None
    for name, packed, unpacked in parts:
        total += unpacked
        if not name.startswith(MEDIA_PREFIXES):
            xml += unpacked
        if unpacked >= RATIO_FROM_BYTES and unpacked > limits.ratio * max(packed, 1):
            ratio = unpacked / max(packed, 1)
            if worst is None or ratio > worst[1]:
                worst = (name, ratio, unpacked)
    if total > limits.unpacked:
        big = max(parts, key=lambda p: p[2])
        return (f"解壓後共 {total / MB:.1f} MB(其中「{big[0]}」{big[2] / MB:.1f} MB),"
                f"超過上限 {limits.unpacked / MB:g} MB", "max_unpacked_mb")
    if xml > limits.xml:
        big = max((p for p in parts if not p[0].startswith(MEDIA_PREFIXES)), key=lambda p: p[2])
        return (f"其中的表格數據(XML)解壓後共 {xml / MB:.1f} MB(「{big[0]}」{big[2] / MB:.1f} MB),"
                f"超過上限 {limits.xml / MB:g} MB", "max_xml_mb")
    if worst is not None:
        return (f"「{worst[0]}」壓縮了 {worst[1]:.0f} 倍(解壓後 {worst[2] / MB:.1f} MB),"
                f"超過上限 {limits.ratio:g} 倍", "max_zip_ratio")
    return None


def xml_declarations(data: bytes, head: int = 4096) -> str | None:
    """The name of the first XML part whose beginning declares a document type or entities
    (<!DOCTYPE, <!ENTITY), else None. Reads the first `head` bytes of each part only."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except Exception:
        return None
    for info in infos:
        if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
            continue
        try:
            with zf.open(info) as fh:
                start = fh.read(head)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError, EOFError, RuntimeError):
            continue
        low = start.lower()
        if b"<!doctype" in low or b"<!entity" in low:
            return info.filename
    return None
