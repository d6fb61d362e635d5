"""The README / docs pictures of the 年度報告, from `putuo-xl demo --months 12`.

    .venv/bin/python docs/make_report_images.py

Runs the 12-month demo in a temporary folder, writes its 2020 年度報告, lets LibreOffice convert
the .docx to PDF (`soffice --headless --convert-to pdf`, the Windows fonts of a 公文 mapped to
Noto CJK by docs/fonts-gbt9704.conf) and keeps pages as PNG (pdftoppm): docs/img/report-1.png
(the first page), report-2.png (part 一 quoting the units) and report-annex.png (附件1).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from putuo_xl.demo import run_demo  # noqa: E402
from putuo_xl.report import annual_report  # noqa: E402


def to_pdf(docx: Path, out: Path) -> Path:
    env = dict(os.environ, FONTCONFIG_FILE=str(ROOT / "docs" / "fonts-gbt9704.conf"))
    profile = out / "profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(out), str(docx)],
                   check=True, capture_output=True, env=env, timeout=300)
    return out / (docx.stem + ".pdf")


def page_of(pdf: Path, words: str) -> int:
    n = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                         text=True).stdout).group(1))
    for i in range(1, n + 1):
        text = subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"],
                              capture_output=True, text=True).stdout
        if words in re.sub(r"\s+", "", text):
            return i
    raise SystemExit(f"「{words}」 is on no page of {pdf}")


def main() -> None:
    out = ROOT / "docs" / "img"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        demo = run_demo(tmp / "demo", months=12)
        res = annual_report(demo.master, 2020, output=tmp / "年度報告.docx")
        pdf = to_pdf(res.docx, tmp)
        for name, page in (("report-1", 1), ("report-2", 2), ("report-annex", page_of(pdf, "附件1"))):
            subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", "-f", str(page), "-l",
                            str(page), str(pdf), str(tmp / name)], check=True)
            shutil.copy(tmp / f"{name}.png", out / f"{name}.png")
            print(out / f"{name}.png")


if __name__ == "__main__":
    main()
