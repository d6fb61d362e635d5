"""The pieces of the add-in's VBA project, each against an independent reader: MS-OVBA
compression (oletools' decompressor), the compound file writer (olefile, strict) and the VBA
project writer (the xlwings template rewritten from its own parts gives every stream back)."""
from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import olefile
import pytest
import xlwings
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from putuo_xl.excel.vba import ovba
from putuo_xl.excel.vba.cfb import sort_key, write_cfb
from putuo_xl.excel.vba.project import (CLASS, STANDARD, Module, VbaProjectError, build_project,
                                        parse_records, protection_key_matches, read_project)

ROOT = Path(__file__).resolve().parents[1]
MACROS = ROOT / "putuo_xl" / "data" / "macros"
TEMPLATE = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"


def oletools_round_trip(data: bytes) -> bytes:
    packed = ovba.compress(data)
    assert ovba.decompress(packed) == data
    return decompress_stream(bytearray(packed))


@pytest.fixture(scope="module")
def template_bin() -> bytes:
    with zipfile.ZipFile(TEMPLATE) as z:
        return z.read("xl/vbaProject.bin")


# -- compression ---------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [
    b"", b"a", b"abc", bytes(range(256)) * 16,                     # 4,096 bytes, nothing repeats closely
    b"Sub X()\r\n" * 455 + b"E",                                   # exactly 4,096 bytes of text
    b" " * 100_000,                                                # a long run (copy tokens of 4,098)
    b"ab" * 5000 + b"abc" * 3000,
], ids=["empty", "one-byte", "three", "4096-distinct", "4096-text", "run", "periods"])
def test_round_trips_through_oletools(data):
    assert oletools_round_trip(data) == data


def test_chunks_that_do_not_compress_are_stored_raw():
    rnd = random.Random(19)
    for n in (4096, 8192, 3 * 4096):
        data = bytes(rnd.randrange(256) for _ in range(n))
        packed = ovba.compress(data)
        assert len(packed) == 1 + (n // 4096) * 4098          # raw chunks: header + 4,096 bytes
        assert all(packed[1 + i * 4098:3 + i * 4098] == b"\xff\x3f" for i in range(n // 4096))
        assert decompress_stream(bytearray(packed)) == data
    # a short last chunk that does not compress still fits a compressed chunk
    data = bytes(rnd.randrange(256) for _ in range(3000))
    assert oletools_round_trip(data) == data
    # one that cannot (raw chunks are always 4,096 bytes long) is refused, not padded
    with pytest.raises(ValueError, match="do not compress"):
        ovba.compress(bytes(rnd.randrange(256) for _ in range(4000)))


def test_every_module_of_macros_round_trips():
    mods = sorted(MACROS.glob("*.bas"))
    assert {p.stem for p in mods} == {"RibbonPutuo", "xlwings"}
    for p in mods:
        data = p.read_bytes()
        packed = ovba.compress(data)
        assert oletools_round_trip(data) == data
        assert len(packed) < len(data) * 0.7, p.name


def test_reproduces_the_streams_xlwings_ships(template_bin):
    """The template's dir stream and xlwings module were compressed by another implementation:
    decompressing and compressing again gives the same bytes (Excel's own streams in the same
    file are compressed differently but decompress the same)."""
    ole = olefile.OleFileIO(io.BytesIO(template_bin))
    for stream in ("VBA/dir", "VBA/xlwings"):
        raw = ole.openstream(stream).read()
        assert ovba.compress(ovba.decompress(raw)) == raw
        assert ovba.decompress(raw) == decompress_stream(bytearray(raw))


def test_the_specifications_example_decompresses():
    """[MS-OVBA] 3.2.1: the example's compressed bytes decompress to its input, and ours of
    the input decompress to it too."""
    plain = b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
    packed = bytes.fromhex("012FB000236161616263646582660070616768696A013808616B6C00306D6E6F"
                           "700671027004107273747576107778797A003C")
    assert ovba.decompress(packed) == plain == decompress_stream(bytearray(packed))
    assert oletools_round_trip(plain) == plain


def test_decompress_refuses_what_is_not_a_container():
    for bad in (b"", b"\x02abc", b"\x01\x00\x00", b"\x01\x05\xb0\x01\x61\x05"):
        with pytest.raises(ValueError):
            ovba.decompress(bad)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=9000))
def test_random_text_round_trips(text):
    data = text.encode("utf-8")
    assert oletools_round_trip(data) == data


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["Sub ", "End Sub\r\n", "    ", "Dim x As Long\r\n", "'注釋\r\n", "a", "\t"]),
                max_size=2500))
def test_random_vba_like_text_round_trips(parts):
    data = "".join(parts).encode("gbk")
    assert oletools_round_trip(data) == data


# -- the compound file -------------------------------------------------------------------------
def _check_red_black(ole: olefile.OleFileIO) -> None:
    """Every storage's children: a binary search tree in [MS-CFB] order, black root, no red
    node with a red child, the same number of black nodes on every path."""
    entries = ole.direntries

    def black_height(sid, lo, hi) -> int:
        if sid == olefile.NOSTREAM:
            return 1
        e = entries[sid]
        key = sort_key(e.name)
        assert (lo is None or lo < key) and (hi is None or key < hi), e.name
        if e.color == 0:
            for kid in (e.sid_left, e.sid_right):
                assert kid == olefile.NOSTREAM or entries[kid].color == 1, "red node with a red child"
        left = black_height(e.sid_left, lo, key)
        assert left == black_height(e.sid_right, key, hi)
        return left + e.color

    for e in entries:
        if e is not None and e.entry_type in (olefile.STGTY_ROOT, olefile.STGTY_STORAGE) \
                and e.sid_child != olefile.NOSTREAM:
            assert entries[e.sid_child].color == 1, "the tree's root is black"
            black_height(e.sid_child, None, None)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 31, 64])
def test_compound_file_reads_back_strictly(n):
    rnd = random.Random(n)
    streams = {f"S{i}_{'x' * (i % 7)}": bytes(rnd.randrange(256) for _ in range(rnd.choice([0, 1, 63, 64, 65, 4095, 4096, 9000])))
               for i in range(n)}
    streams.update({f"VBA/m{i}": bytes([i]) * (i * 700) for i in range(n % 5)})
    data = write_cfb(streams)
    assert len(data) % 512 == 0
    ole = olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)
    assert {"/".join(p) for p in ole.listdir()} == set(streams)
    for name, body in streams.items():
        assert ole.openstream(name).read() == body
    _check_red_black(ole)
    assert write_cfb(streams) == data                       # the same streams, the same bytes


def test_compound_file_order_and_names():
    assert sorted(["dir", "PROJECT", "_VBA_PROJECT", "xlwings", "VBA", "Ab"], key=sort_key) == \
        ["Ab", "dir", "VBA", "PROJECT", "xlwings", "_VBA_PROJECT"]
    assert sort_key("abc") == sort_key("ABC")
    for bad in ({"a/": b""}, {"x" * 32: b""}, {"a:b": b""}, {"A": b"1", "A/B": b"2"}):
        with pytest.raises(ValueError):
            write_cfb(bad)


# -- the VBA project -------------------------------------------------------------------------------
def test_template_rewritten_from_its_parts_gives_every_stream_back(template_bin):
    project = read_project(template_bin)
    assert project.name == "MyAddin" and project.codepage == 1252
    assert [(m.name, m.kind) for m in project.modules] == [
        ("ThisWorkbook", "document"), ("Dictionary", "class"), ("RibbonMyAddin", "standard"),
        ("Sheet2", "document"), ("xlwings", "standard")]
    out = olefile.OleFileIO(io.BytesIO(build_project(project)), raise_defects=olefile.DEFECT_INCORRECT)
    src = olefile.OleFileIO(io.BytesIO(template_bin))
    names = sorted("/".join(p) for p in src.listdir())
    assert sorted("/".join(p) for p in out.listdir()) == names
    for name in names:
        assert out.openstream(name).read() == src.openstream(name).read(), name


def _project_with(template_bin: bytes, modules: list[Module], codepage: int) -> bytes:
    project = read_project(template_bin)
    project.modules = [project.module("ThisWorkbook"), project.module("Sheet2")] + modules
    project.name, project.codepage = "putuo_xl", codepage
    return build_project(project)


def _olevba_modules(vba_bin: bytes, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "vbaProject.bin"
    path.write_bytes(vba_bin)
    parser = VBA_Parser(str(path))
    try:
        return {Path(f).stem: code for _f, _s, f, code in parser.extract_macros()}
    finally:
        parser.close()


def test_chinese_vba_is_written_in_code_page_936(template_bin, tmp_path):
    text = ('Attribute VB_Name = "Zhongwen"\r\n' "' 法治政府建設:生成台賬\r\n"
            'Public Sub Hello()\r\n    MsgBox "已寫出任務分解台賬", vbInformation, "普陀區"\r\nEnd Sub\r\n')
    cls = ('Attribute VB_Name = "Cls"\r\nAttribute VB_GlobalNameSpace = False\r\nAttribute VB_Creatable = False\r\n'
           'Attribute VB_PredeclaredId = False\r\nAttribute VB_Exposed = False\r\nPublic Note As String\r\n')
    data = _project_with(template_bin, [Module("Zhongwen", STANDARD, text), Module("Cls", CLASS, cls)], 936)
    ole = olefile.OleFileIO(io.BytesIO(data))
    # the code page is declared in the dir stream, and the module bytes are GBK
    records = dict(parse_records(ovba.decompress(ole.openstream("VBA/dir").read())))
    assert int.from_bytes(records[0x0003], "little") == 936
    assert ovba.decompress(ole.openstream("VBA/Zhongwen").read()) == text.encode("gbk")
    project_text = ole.openstream("PROJECT").read().decode("cp936")
    assert "Module=Zhongwen\r\n" in project_text and "Class=Cls\r\n" in project_text
    assert 'Name="putuo_xl"' in project_text
    # oletools decodes them with the declared code page: the Chinese comes back
    mods = _olevba_modules(data, tmp_path)
    assert mods["Zhongwen"] == text and mods["Cls"] == cls
    # and our own reader
    again = read_project(data)
    assert again.codepage == 936 and again.module("Zhongwen").source == text


def test_chinese_vba_in_code_page_1252_is_refused(template_bin):
    with pytest.raises(UnicodeEncodeError):
        _project_with(template_bin, [Module("Zhongwen", STANDARD, 'Attribute VB_Name = "Zhongwen"\r\n\' 中文\r\n')], 1252)


def test_project_checks(template_bin):
    project = read_project(template_bin)
    assert protection_key_matches(project.text)
    assert not protection_key_matches(project.text.replace('ID="{318B', 'ID="{418B'))
    project.text = project.text.replace('ID="{318B', 'ID="{418B')
    with pytest.raises(VbaProjectError, match="CMG/DPB/GC"):
        build_project(project)
    project = read_project(template_bin)
    project.modules.append(Module("xlwings", STANDARD, ""))
    with pytest.raises(VbaProjectError, match="repeated"):
        build_project(project)
    project = read_project(template_bin)
    project.name = "法治"
    with pytest.raises(VbaProjectError, match="project name"):
        build_project(project)
    with pytest.raises(VbaProjectError):
        read_project(b"not a compound file at all" * 40)
