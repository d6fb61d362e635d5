"""The zip writer of the new package: parts compressed ahead of time (`deflate`, in a thread) or
here, the target's untouched members stored as the very same compressed bytes. What goes in, in
what order: `_Surgery._write` (replace.py).
"""
from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from putuo_xl.errors import InputError


PARALLEL_DEFLATE_MIN = 256 * 1024     # parts this big are compressed in a thread (_write)


@dataclass(frozen=True)
class Deflated:
    """A part's bytes compressed ahead of time (raw deflate, as a zip member stores them), so
    the compression can run in a thread while other work goes on: see `deflate`."""
    crc: int
    size: int
    data: bytes


def deflate(data) -> Deflated:
    """Compress a part for `replace_sheets(plain=...)`: its bytes, or its pieces in order (an
    iterable of bytes: never joined, so a big sheet is not held twice). zlib releases the GIL:
    run it in a thread (concurrent.futures) while the styled sheets are rendered."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return Deflated(zlib.crc32(data), len(data), c.compress(data) + c.flush())
    crc = size = 0
    out = []
    for piece in data:
        crc = zlib.crc32(piece, crc)
        size += len(piece)
        out.append(c.compress(piece))
    out.append(c.flush())
    return Deflated(crc, size, b"".join(out))


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


# new parts after the target's own, in a stable order
def _part_order(name: str):
    return (name.count("/"), posixpath.dirname(name), name.endswith(".rels"),
            [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", name)])
