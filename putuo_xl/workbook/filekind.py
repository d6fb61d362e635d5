"""What a file that should be an .xlsx workbook really is, for a message that says what to do."""
from __future__ import annotations

import contextlib
from pathlib import Path

_MAGIC = [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"PK\x03\x04", "zip"),
    (b"\x89PNG", "圖片(PNG)"),
    (b"\xff\xd8\xff", "圖片(JPEG)"),
    (b"GIF8", "圖片(GIF)"),
    (b"BM", "圖片(BMP)"),
    (b"%PDF", "PDF 文件"),
    (b"{\\rtf", "RTF 文檔"),
]
SAVE_AS = "請在 Excel 或 WPS 中打開它,另存為「Excel 工作簿(*.xlsx)」後重試。"


def sniff(path: str | Path) -> str:
    """ole | zip | text | empty | a Chinese description (圖片(PNG), PDF 文件 …) | unknown."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return "unknown"
    if not head:
        return "empty"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        pass
    if b"\x00" not in head:
        return "text"          # GBK text, most likely
    return "unknown"


def not_workbook_message(path: str | Path, what: str = "台賬") -> str:
    """Why `path` cannot be opened as an .xlsx workbook, and what to do (Chinese, one sentence or
    two). `what` names the workbook expected here (台賬, 月報 …)."""
    return "無法作為 Excel 工作簿打開:" + _why(Path(path), what)


def _why(p: Path, what: str) -> str:
    kind = sniff(p)
    ext = p.suffix.lower()
    if kind == "ole":
        return (f"這是舊版 Excel 文件(.xls,或 WPS 的 .et),程序只能讀取 .xlsx。{SAVE_AS}")
    if kind == "zip" and ext not in (".xlsx", ".xlsm"):
        return (f"文件內容像是 Office 文檔,但擴展名是「{ext or '(無)'}」。如果它是 Excel 工作簿,"
                f"請把擴展名改為 .xlsx;如果是 Word 文檔,這裡需要的是{what}(.xlsx)。")
    if kind == "empty":
        return f"文件是空的(0 字節),可能沒有保存完整或下載失敗。請重新保存或重新獲取{what}。"
    if kind == "text":
        return (f"這是文本文件,不是 Excel 工作簿。這裡需要的是{what}(.xlsx);"
                f"如果它是工作要點通知,請先用 putuo-xl build 通知文件 生成台賬。")
    if kind not in ("zip", "unknown"):
        return f"這是{kind},不是 Excel 工作簿。這裡需要的是{what}(.xlsx)。"
    return f"文件可能已損壞或不是 .xlsx。{SAVE_AS}"


def damaged_errors() -> tuple[type[BaseException], ...]:
    """What reading a workbook whose bytes are damaged raises (ZIP, deflate, XML, calamine)."""
    import struct
    import zipfile
    import zlib
    from xml.etree.ElementTree import ParseError

    import python_calamine as pc
    errors: list = [zipfile.BadZipFile, zlib.error, EOFError, ParseError, pc.CalamineError,
                    UnicodeDecodeError, struct.error]
    try:
        from lxml.etree import XMLSyntaxError
        errors.append(XMLSyntaxError)
    except ImportError:
        pass
    return tuple(errors)


@contextlib.contextmanager
def reading(path: str | Path, what: str = "任務分解台賬"):
    """Inside: a damaged workbook at `path` is an InputError that names it and says what to
    do, not a traceback."""
    try:
        yield
    except damaged_errors() as e:
        from putuo_xl.errors import InputError
        detail = (str(e).strip().splitlines() or [type(e).__name__])[0][:100]
        raise InputError(f"{what}已損壞或不完整,讀不出來({detail})。請從備份恢復這個文件"
                         f"(或重新生成)後再試。", file=str(path)) from None
