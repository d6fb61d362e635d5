"""What a returned file is, by its bytes, not its name: an .xlsx, an old .xls, an encrypted
workbook, or something else (a Word document, a PDF, a web page saved as .xls, a picture, an
archive) — said in Chinese for the message. Nothing here unpacks or parses the workbook."""
from __future__ import annotations

import io
import struct
import zipfile

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


def _names_workbook(data: bytes) -> bool:
    """True when the ZIP's central directory (found through the end record) names
    xl/workbook.xml or .bin. Only a quick yes: anything unusual (ZIP64, a comment that hides
    the record, an offset out of range) answers False and the ZIP is listed properly."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 1024))
    if end < 0 or len(data) < end + 22:
        return False
    cd_size, cd_offset = struct.unpack_from("<II", data, end + 12)
    if cd_offset + cd_size != end:
        return False
    return data.find(b"xl/workbook.", cd_offset, end) >= 0


def sniff(data: bytes, name: str = "") -> tuple[str, str]:
    """(kind, detail): kind is xlsx | xls | encrypted | not-excel | corrupt | empty."""
    if not data:
        return "empty", ""
    head = data[:8]
    if head.startswith(ZIP_MAGIC) or head.startswith(b"PK\x05\x06") or head.startswith(b"PK\x07\x08"):
        # the common case without listing the ZIP (~0.1 ms a form): a workbook part named in
        # the central directory, which ends the file; calamine reads the rest and says if broken
        if _names_workbook(data):
            return "xlsx", ""
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            names = set(zf.namelist())
        except Exception as e:     # BadZipFile, but also NotImplementedError, struct.error…
            return "corrupt", f"ZIP: {e}"
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            return "xlsx", ""
        if "word/document.xml" in names:
            return "not-excel", "Word 文檔"
        if "ppt/presentation.xml" in names:
            return "not-excel", "PowerPoint 演示文稿"
        if "content.xml" in names and "mimetype" in names:
            return "not-excel", "OpenDocument 文檔(.ods/.odt),請另存為 .xlsx"
        if any(n.lower().endswith((".xlsx", ".xlsm", ".xls")) for n in names):
            return "not-excel", "壓縮包(.zip),請解壓後收集裡面的 Excel 文件"
        return "not-excel", "壓縮包或其他 ZIP 文件"
    if head == OLE_MAGIC:
        # Directory entry names are UTF-16LE inside the compound file.
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            return "encrypted", ""
        if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
            return "xls", ""
        if "WordDocument".encode("utf-16-le") in data:
            return "not-excel", "舊版 Word 文檔(.doc)"
        return "not-excel", "Office 舊格式文件(不是工作簿)"
    lower = data[:2048].lstrip().lower()
    if data.startswith(b"%PDF"):
        return "not-excel", "PDF 文件"
    if lower.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml")) or b"<html" in lower[:512]:
        return "not-excel", "網頁(HTML)或 XML 文件,雖然擴展名像 Excel;請在 Excel 中另存為 .xlsx"
    if head[:3] == b"\xff\xd8\xff" or head.startswith(b"\x89PNG") or head[:4] in (b"GIF8", b"RIFF"):
        return "not-excel", "圖片"
    if head.startswith(b"Rar!") or head.startswith(b"7z\xbc\xaf"):
        return "not-excel", "壓縮包(.rar/.7z),請解壓後收集裡面的 Excel 文件"
    if b"\x00" not in data[:4096]:
        return "not-excel", "文本文件"
    return "not-excel", "未知格式"
