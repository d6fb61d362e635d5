"""A small writer of compound files ([MS-CFB] version 3, 512-byte sectors): the container of
an Office VBA project (xl/vbaProject.bin). Reading is left to olefile.

Layout: the header, then the FAT sectors, the directory, the mini FAT, the mini stream (every
stream under 4,096 bytes, in 64-byte mini sectors) and the larger streams, each contiguous.
The children of each storage form a red-black tree ordered as the specification says (shorter
names first, then by upper-cased UTF-16 code unit), built balanced and coloured so that every
path has the same number of black nodes. Times and CLSIDs are zero, so the same streams always
give the same bytes.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREESECT, ENDOFCHAIN, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_STORAGE, _STREAM, _ROOT = 1, 2, 5
_RED, _BLACK = 0, 1
_BAD_NAME_CHARS = set("/\\:!")


@dataclass
class _Node:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, "_Node"] = field(default_factory=dict)
    sid: int = NOSTREAM
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = _BLACK
    start: int = ENDOFCHAIN


def _upper(name: str) -> str:
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in name)


def sort_key(name: str) -> tuple[int, list[int]]:
    """[MS-CFB] 2.6.4: by length in UTF-16 code units, then by upper-cased code unit."""
    units = _upper(name).encode("utf-16-le")
    return len(units) // 2, [int.from_bytes(units[i:i + 2], "little") for i in range(0, len(units), 2)]


def _tree(nodes: list[_Node], depth: int = 0, out: list | None = None) -> tuple[_Node | None, list]:
    """A balanced binary search tree over `nodes` (sorted); returns its root and (node, depth)."""
    out = [] if out is None else out
    if not nodes:
        return None, out
    mid = len(nodes) // 2
    root = nodes[mid]
    out.append((root, depth))
    left, _ = _tree(nodes[:mid], depth + 1, out)
    right, _ = _tree(nodes[mid + 1:], depth + 1, out)
    root.left = left.sid if left else NOSTREAM
    root.right = right.sid if right else NOSTREAM
    return root, out


def _link(storage: _Node) -> None:
    kids = sorted(storage.children.values(), key=lambda n: sort_key(n.name))
    root, placed = _tree(kids)
    if root is None:
        return
    storage.child = root.sid
    deepest = max(d for _n, d in placed)
    # a middle-split tree has every empty link at the deepest level or the one above: nodes of
    # the deepest level red, all others black gives every path the same black count
    for node, depth in placed:
        node.color = _RED if depth == deepest and depth > 0 else _BLACK
    for kid in kids:
        _link(kid)


def _chain(fat: list[int], start: int, count: int) -> None:
    for i in range(count):
        fat[start + i] = start + i + 1 if i + 1 < count else ENDOFCHAIN


def write_cfb(streams: dict[str, bytes]) -> bytes:
    """A compound file holding `streams`, named by path ("VBA/dir"); storages are implied."""
    root = _Node("Root Entry", _ROOT)
    for path, data in streams.items():
        parts = path.split("/")
        node = root
        for i, part in enumerate(parts):
            if not part or len(part) > 31 or _BAD_NAME_CHARS & set(part):
                raise ValueError(f"bad compound file name {part!r} in {path!r}")
            last = i == len(parts) - 1
            kid = node.children.get(part)
            if kid is None:
                kid = node.children[part] = _Node(part, _STREAM if last else _STORAGE,
                                                  bytes(data) if last else b"")
            elif last or kid.kind != _STORAGE:
                raise ValueError(f"{path!r} clashes with another entry")
            node = kid

    order: list[_Node] = []

    def number(node: _Node) -> None:
        node.sid = len(order)
        order.append(node)
        for kid in sorted(node.children.values(), key=lambda n: sort_key(n.name)):
            number(kid)
    number(root)
    _link(root)

    small = [n for n in order if n.kind == _STREAM and 0 < len(n.data) < MINI_CUTOFF]
    large = [n for n in order if n.kind == _STREAM and len(n.data) >= MINI_CUTOFF]
    mini_fat: list[int] = []
    mini_stream = bytearray()
    for n in small:
        count = -(-len(n.data) // MINI_SECTOR)
        n.start = len(mini_fat)
        mini_fat += [0] * count
        _chain(mini_fat, n.start, count)
        mini_stream += n.data.ljust(count * MINI_SECTOR, b"\0")

    dir_sectors = -(-len(order) * 128 // SECTOR)
    minifat_sectors = -(-len(mini_fat) * 4 // SECTOR)
    ministream_sectors = -(-len(mini_stream) // SECTOR)
    large_sectors = [-(-len(n.data) // SECTOR) for n in large]
    others = dir_sectors + minifat_sectors + ministream_sectors + sum(large_sectors)
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < others + fat_sectors:
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("compound file too large for a header-only DIFAT (about 6.8 MB)")

    fat = [FREESECT] * (fat_sectors * SECTOR // 4)
    for i in range(fat_sectors):
        fat[i] = FATSECT
    pos = fat_sectors
    dir_start = pos
    _chain(fat, pos, dir_sectors)
    pos += dir_sectors
    minifat_start = pos if minifat_sectors else ENDOFCHAIN
    _chain(fat, pos, minifat_sectors)
    pos += minifat_sectors
    root.start = pos if ministream_sectors else ENDOFCHAIN
    root.data = bytes(mini_stream)
    _chain(fat, pos, ministream_sectors)
    pos += ministream_sectors
    for n, count in zip(large, large_sectors):
        n.start = pos
        _chain(fat, pos, count)
        pos += count

    header = bytearray(_SIGNATURE + bytes(16))
    header += struct.pack("<HHHHH6sIIIIIIIII", 0x003E, 0x0003, 0xFFFE, 9, 6, bytes(6), 0,
                          fat_sectors, dir_start, 0, MINI_CUTOFF, minifat_start, minifat_sectors,
                          ENDOFCHAIN, 0)
    difat = list(range(fat_sectors)) + [FREESECT] * (109 - fat_sectors)
    header += struct.pack("<109I", *difat)
    assert len(header) == SECTOR

    directory = bytearray()
    for n in order:
        name = n.name.encode("utf-16-le") + b"\0\0"
        size = len(root.data) if n is root else len(n.data) if n.kind == _STREAM else 0
        start = n.start if n.kind != _STORAGE else 0
        if n.kind == _STREAM and size == 0:
            start = ENDOFCHAIN
        directory += struct.pack("<64sHBBIII16sIQQIQ", name, len(name), n.kind, n.color, n.left,
                                 n.right, n.child, bytes(16), 0, 0, 0, start, size)
    while len(directory) % SECTOR:
        directory += struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, _RED, NOSTREAM, NOSTREAM,
                                 NOSTREAM, bytes(16), 0, 0, 0, 0, 0)

    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    mini_fat_bytes += struct.pack("<I", FREESECT) * ((minifat_sectors * SECTOR - len(mini_fat_bytes)) // 4)
    body = bytearray(struct.pack(f"<{len(fat)}I", *fat))
    body += directory + mini_fat_bytes + bytes(mini_stream).ljust(ministream_sectors * SECTOR, b"\0")
    for n, count in zip(large, large_sectors):
        body += n.data.ljust(count * SECTOR, b"\0")
    assert len(body) == pos * SECTOR
    return bytes(header + body)
