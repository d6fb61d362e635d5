"""MS-OVBA compression ([MS-OVBA] 2.4.1): how a VBA project stores module source and its dir
stream. A container is the byte 0x01 followed by chunks, each holding up to 4,096 bytes of the
input: a two-byte header (size - 3 in 12 bits, signature 0b011, a flag: 1 compressed, 0 raw)
and then either token sequences (a flag byte, then eight literal bytes or two-byte copy tokens
that point back into the same chunk) or the 4,096 bytes as they are.

`compress` follows the specification's algorithm (2.4.1.3.6 ff.): at each position the longest
earlier match in the chunk, if at least three bytes long, else a literal. Among matches of equal
length it takes the earliest; the specification's pseudocode and its own worked example differ
on this point (any choice decompresses the same), and the earliest is what reproduces, byte for
byte, the module and dir streams of the add-in template xlwings ships. Matches are found through
an index of three-byte prefixes instead of a scan of every earlier byte. `decompress` is
2.4.1.3.1 ff.
"""
from __future__ import annotations

CHUNK = 4096
_SIGNATURE = 0x01
_MAX_STEP = 64


def _bit_count(pos: int) -> int:
    """Bits of a copy token's offset at `pos` bytes into the chunk (2.4.1.3.19.1)."""
    return max((pos - 1).bit_length(), 4)


def _common_length(data: bytes, a: int, b: int, limit: int) -> int:
    """How many bytes from a and from b are equal (at most `limit`; the ranges may overlap)."""
    n = 0
    while n < limit:
        step = min(_MAX_STEP, limit - n)
        if data[a + n:a + n + step] == data[b + n:b + n + step]:
            n += step
            continue
        while data[a + n] == data[b + n]:
            n += 1
        return n
    return n


def _compress_chunk(chunk: bytes) -> bytes:
    n = len(chunk)
    body = bytearray()
    index: dict[bytes, list[int]] = {}     # three-byte prefix -> its positions so far

    def remember(start: int, stop: int) -> None:
        for p in range(start, min(stop, n - 2)):
            index.setdefault(chunk[p:p + 3], []).append(p)

    pos = 0
    while pos < n:
        flag_at = len(body)
        body.append(0)
        flags = 0
        for bit in range(8):
            if pos >= n:
                break
            best_len, best_pos = 0, -1
            if pos + 3 <= n:
                limit = n - pos
                for cand in index.get(chunk[pos:pos + 3], ()):
                    length = _common_length(chunk, cand, pos, limit)
                    if length > best_len:
                        best_len, best_pos = length, cand
                        if length == limit:
                            break
            if best_len >= 3:
                bits = _bit_count(pos)
                length = min(best_len, (0xFFFF >> bits) + 3)
                token = ((pos - best_pos - 1) << (16 - bits)) | (length - 3)
                body += token.to_bytes(2, "little")
                flags |= 1 << bit
                remember(pos, pos + length)
                pos += length
            else:
                body.append(chunk[pos])
                remember(pos, pos + 1)
                pos += 1
        body[flag_at] = flags
        if len(body) > CHUNK:
            break
    if len(body) <= CHUNK:
        header = (len(body) + 2 - 3) | (0b011 << 12) | (1 << 15)
        return header.to_bytes(2, "little") + bytes(body)
    if n < CHUNK:
        # a raw chunk always holds 4,096 bytes: a shorter one would decompress with padding
        raise ValueError(f"the last {n} bytes do not compress and cannot be stored raw (MS-OVBA 2.4.1.3.10)")
    return (0x0FFF | (0b011 << 12)).to_bytes(2, "little") + chunk


def compress(data: bytes) -> bytes:
    """The MS-OVBA CompressedContainer of `data`."""
    out = bytearray([_SIGNATURE])
    for start in range(0, len(data), CHUNK):
        out += _compress_chunk(bytes(data[start:start + CHUNK]))
    return bytes(out)


def decompress(container: bytes) -> bytes:
    """`data` from its CompressedContainer (ValueError when it is not one)."""
    if not container or container[0] != _SIGNATURE:
        raise ValueError("not an MS-OVBA compressed container (no signature byte 0x01)")
    out = bytearray()
    pos = 1
    while pos < len(container):
        if pos + 2 > len(container):
            raise ValueError(f"truncated chunk header at byte {pos}")
        header = int.from_bytes(container[pos:pos + 2], "little")
        if (header >> 12) & 0b111 != 0b011:
            raise ValueError(f"bad chunk signature at byte {pos}")
        end = min(pos + (header & 0x0FFF) + 3, len(container))
        pos += 2
        if not header >> 15:
            out += container[pos:pos + CHUNK]
            pos += CHUNK
            continue
        chunk_start = len(out)
        while pos < end:
            flags = container[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(container[pos])
                    pos += 1
                    continue
                token = int.from_bytes(container[pos:pos + 2], "little")
                pos += 2
                bits = _bit_count(len(out) - chunk_start)
                offset = (token >> (16 - bits)) + 1
                length = (token & (0xFFFF >> bits)) + 3
                src = len(out) - offset
                if src < chunk_start:
                    raise ValueError(f"copy token points before its chunk at byte {pos - 2}")
                for i in range(length):          # may overlap what it writes
                    out.append(out[src + i])
    return bytes(out)
