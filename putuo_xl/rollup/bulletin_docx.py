"""The 通報 as a Word document laid out to GB/T 9704 (putuo_xl/docx_gbt.py), ready for the
document system: `write_bulletin_docx(rollup, path)` — `putuo-xl rollup … --bulletin 通報.docx`."""
from __future__ import annotations

from pathlib import Path

from putuo_xl.docx_gbt import GbtDocument


def bulletin_document(r, month: str | None = None) -> GbtDocument:
    """The 通報 of `month` (default: the rollup's month) as a GbtDocument: its blocks in order
    (rollup/bulletin.py); the writer places the blank lines the standard asks for (below the
    title, above the 署名), so the blocks' own are left out."""
    blocks = r.bulletin_blocks[month or r.month]
    doc = GbtDocument(r.script, author=r.office)
    sig = next((t for k, t in blocks if k == "signature"), "")
    day = next((t for k, t in blocks if k == "date"), "")
    write = {"mark": doc.mark, "title": doc.title, "addressee": doc.addressee,
             "h1": lambda text: doc.heading(1, text), "para": doc.paragraph, "item": doc.paragraph}
    for kind, text in blocks:
        if kind in write:
            write[kind](text)
    doc.signature(sig, day)
    return doc


def write_bulletin_docx(r, path: str | Path, month: str | None = None) -> Path:
    """Write the 通報 of `month` (default: the rollup's) to `path` as a GB/T 9704 .docx
    (atomic; refused while the file is open in Word/WPS)."""
    return bulletin_document(r, month).save(path)
