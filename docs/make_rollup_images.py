"""The README / docs pictures of the 工作報表 and the 通報, from `putuo-xl demo`.

    .venv/bin/python docs/make_rollup_images.py

Runs the demo in a temporary folder, renders the rollup sheets on their own (the same sheets
the demo wrote into its master) and lets LibreOffice draw them (tools/xlsx-check --png); the
first page of each sheet is kept as docs/img/rollup-<sheet>.png.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from putuo_xl import layout  # noqa: E402
from putuo_xl.config import load_config  # noqa: E402
from putuo_xl.demo import run_demo  # noqa: E402
from putuo_xl.rollup.compute import compute_rollup  # noqa: E402
from putuo_xl.rollup.reading import _ledger_for, _plan_for  # noqa: E402
from putuo_xl.rollup.render import render_standalone  # noqa: E402

NAMES = {"monthly": "monthly", "progress": "progress", "indicator_status": "indicators",
         "trend": "trend", "score": "score", "bulletin": "bulletin"}


def main() -> None:
    out = ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        demo = run_demo(tmp / "demo")
        cfg = load_config()
        with _ledger_for(demo.master, cfg) as led:
            r = compute_rollup(led, _plan_for(demo.master, cfg), cfg, demo.months[-1])
        for key, name in NAMES.items():
            # one sheet per workbook, so that page 1 of the render is that sheet's first page
            book = tmp / f"rollup-{name}.xlsx"
            render_standalone(r, book)
            keep_only(book, layout.name(key, r.script))
            subprocess.run([str(ROOT / "tools" / "xlsx-check"), str(book), "--png", str(tmp / "png"),
                            "--dpi", "70"], check=True, capture_output=True)
            shutil.copy(tmp / "png" / f"rollup-{name}-1.png", out / f"rollup-{name}.png")
            print(out / f"rollup-{name}.png")
        # 收件情況 of the last month, as collect wrote it into the demo's master
        book = tmp / "collect-receipts.xlsx"
        shutil.copy(demo.master, book)
        keep_only(book, layout.name("receipts", r.script))
        subprocess.run([str(ROOT / "tools" / "xlsx-check"), str(book), "--png", str(tmp / "png"),
                        "--dpi", "70"], check=True, capture_output=True)
        shutil.copy(tmp / "png" / "collect-receipts-1.png", out / "collect-receipts.png")
        print(out / "collect-receipts.png")


def keep_only(book: Path, sheet: str) -> None:
    """Hide every sheet but `sheet` (hidden sheets are not printed)."""
    import re
    import zipfile
    data = {}
    with zipfile.ZipFile(book) as z:
        for i in z.infolist():
            data[i.filename] = z.read(i)
    wb = data["xl/workbook.xml"].decode("utf-8")

    def fix(m):
        tag = m.group(0)
        if f'name="{sheet}"' in tag:
            return tag
        return tag if 'state="hidden"' in tag else tag.replace("<sheet ", '<sheet state="hidden" ', 1)
    wb = re.sub(r"<sheet [^>]*/>", fix, wb)
    idx = [m.group(0) for m in re.finditer(r"<sheet [^>]*/>", wb)].index(
        next(m.group(0) for m in re.finditer(r"<sheet [^>]*/>", wb) if f'name="{sheet}"' in m.group(0)))
    wb = re.sub(r'activeTab="\d+"', f'activeTab="{idx}"', wb)
    if "activeTab" not in wb:
        wb = wb.replace("<workbookView ", f'<workbookView activeTab="{idx}" ', 1)
    # a print area of another (now hidden) sheet would still be printed by LibreOffice
    wb = re.sub(r'<definedName name="_xlnm\.Print_Area" localSheetId="(\d+)"[^>]*>[^<]*</definedName>',
                lambda m: m.group(0) if int(m.group(1)) == idx else "", wb)
    data["xl/workbook.xml"] = wb.encode("utf-8")
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, b in data.items():
            z.writestr(name, b)


if __name__ == "__main__":
    main()
