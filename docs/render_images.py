"""Render the pictures in docs/img/ from a freshly built master and one form.

    .venv/bin/python docs/render_images.py

Builds the master from the bundled notice and the 2020-08 form of 區發改局 in a temporary
folder, renders their print pages with tools/xlsx-check (headless LibreOffice → PDF → PNG), and
keeps the first page of each sheet worth showing. LibreOffice substitutes Noto CJK for SimSun /
SimHei, and its fonts are narrower than Excel's, so rows look a little taller than in Excel.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from putuo_xl.workbook.forms import write_forms  # noqa: E402
from putuo_xl.workbook.master import build_master  # noqa: E402

OUT = ROOT / "docs" / "img"
DPI = "80"
# picture name -> text in the page header that identifies the sheet
MASTER_PAGES = {"master-cover": "說明", "master-section": "一、推進政府職能依法全面履行",
                "master-by-unit": "按單位查看", "master-matrix": "責任矩陣",
                "master-indicators": "考評指標"}
FORM_PAGES = {"form": "法治政府建設工作進展月報", "form-help": "填報說明"}


def header_of(pdf: Path, page: int) -> str:
    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[0] if out.strip() else ""


def render(xlsx: Path, wanted: dict[str, str]) -> None:
    work = xlsx.parent / (xlsx.stem + "_png")
    work.mkdir()
    pdf = xlsx.with_suffix(".pdf")
    subprocess.run([sys.executable, str(ROOT / "tools" / "xlsx-check"), str(xlsx), "--pdf", str(pdf),
                    "--png", str(work), "--dpi", DPI], check=True, capture_output=True)
    pages = sorted(work.glob("*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    for name, marker in wanted.items():
        for i, png in enumerate(pages, 1):
            if marker in header_of(pdf, i):
                shutil.copy(png, OUT / f"{name}.png")
                print(f"docs/img/{name}.png  (page {i})")
                break
        else:
            raise SystemExit(f"no page with {marker!r} in {xlsx.name}")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        master = Path(tmp) / "master.xlsx"
        build_master(None, master)
        form = write_forms(master, "2020-08", units=["區發改局"]).written[0]
        shutil.copy(form, Path(tmp) / "form.xlsx")
        render(master, MASTER_PAGES)
        render(Path(tmp) / "form.xlsx", FORM_PAGES)


if __name__ == "__main__":
    main()
