"""The 通報 as a Word document laid out to GB/T 9704 (docx_gbt.py), ready for the document
system: `write_bulletin_docx(rollup, path)` — `putuo-xl rollup … --bulletin 通報.docx`."""
from __future__ import annotations

from pathlib import Path

from putuo_xl.rollup.gbt_interim import GbtDocument
from putuo_xl.fileio import ensure_not_open


def bulletin_document(r, month: str | None = None) -> GbtDocument:
    """The 通報 of `month` (default: the rollup's month) as a GbtDocument."""
    m = month or r.month
    blocks = r.bulletin_blocks[m]
    title = next((t for k, t in blocks if k == "title"), "")
    above = [t for k, t in blocks[:[k for k, _ in blocks].index("title")] if k == "mark"] if title else []
    doc = GbtDocument(title, author=r.office or None, above=above)
    after_title = False
    sig = next((t for k, t in blocks if k == "signature"), "")
    day = next((t for k, t in blocks if k == "date"), "")
    for kind, text in blocks:
        if kind == "title":
            after_title = True
            continue
        if not after_title or kind in ("signature", "date"):
            continue
        if kind == "blank":
            if doc.doc.paragraphs and doc.doc.paragraphs[-1].text:   # the title's own blank line
                doc.blank()
        elif kind == "addressee":
            doc.addressee(text)
        elif kind == "h1":
            doc.heading(text, 1)
        elif kind in ("para", "item"):
            doc.paragraph(text)
        elif kind == "mark":
            doc.mark(text)
    # the blank line before the 署名 is the signature's own
    last = doc.doc.paragraphs[-1] if doc.doc.paragraphs else None
    if last is not None and not last.text:
        last._p.getparent().remove(last._p)
    doc.signature(sig, day)
    return doc


def write_bulletin_docx(r, path: str | Path, month: str | None = None) -> Path:
    """Write the 通報 of `month` (default: the rollup's) to `path` as a GB/T 9704 .docx
    (atomic; refused while the file is open in Word/WPS)."""
    ensure_not_open(path)
    return bulletin_document(r, month).save(path)
