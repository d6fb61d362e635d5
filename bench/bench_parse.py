"""How long `parse` takes: the seed as text, web page and Word document, a large notice, and the
config load. Writes bench/results/parse.md. Run: python bench/bench_parse.py"""
from __future__ import annotations

import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fixture_docs import docx_from_lines, docx_with_task_table  # noqa: E402
from putuo_xl.config import load_config  # noqa: E402
from putuo_xl.plan.notice import default_notice_path  # noqa: E402
from putuo_xl.plan.parser import parse_notice, parse_text  # noqa: E402


def timed(fn, repeat=7):
    fn()
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs) * 1000


def main() -> None:
    cfg = load_config()
    seed = default_notice_path()
    text = seed.read_text(encoding="utf-8")
    lines = text.splitlines()
    body_start = next(i for i, x in enumerate(lines) if x.startswith("一、"))
    body_end = next(i for i, x in enumerate(lines) if x.startswith("各地、各部門要"))
    big_body = []
    numerals = "一二三四五六七八九十"
    for k in range(10):          # ten copies of the six sections: 60 sections, 510 tasks
        for line in lines[body_start:body_end]:
            if line[:1] in "一二三四五六" and line[1:2] == "、":
                n = k * 6 + "一二三四五六".index(line[0]) + 1
                cn = (numerals[n // 10 - 1] if n >= 20 else "") + ("十" if n >= 10 else "") + \
                    (numerals[n % 10 - 1] if n % 10 else "")
                line = cn + line[1:]
            big_body.append(line)
    big = "\n".join(lines[:body_start] + big_body + lines[body_end:])
    tmp = Path(tempfile.mkdtemp())
    docx_seed = docx_from_lines(tmp / "seed.docx", lines)
    docx_table = docx_with_task_table(tmp / "table.docx")
    html = ROOT / "tests" / "notices" / "cms_page_utf8.html"
    big_tasks = len(parse_text(big, cfg).tasks())

    rows = [
        ("load config.yaml (普陀區, 44 units)", timed(lambda: load_config())),
        ("seed notice .txt (51 tasks)", timed(lambda: parse_notice(seed, cfg))),
        ("seed notice as CMS page .html", timed(lambda: parse_notice(html, cfg))),
        ("seed notice as .docx", timed(lambda: parse_notice(docx_seed, cfg))),
        (".docx with a task table (5 tasks)", timed(lambda: parse_notice(docx_table, cfg))),
        (f"large notice, 60 sections ({big_tasks} tasks)", timed(lambda: parse_text(big, cfg), repeat=3)),
    ]
    out = ["# parse benchmark", "",
           f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}; "
           f"median of several runs, warm.", "",
           "| what | ms |", "| --- | ---: |"]
    out += [f"| {name} | {ms:.1f} |" for name, ms in rows]
    result = ROOT / "bench" / "results" / "parse.md"
    result.write_text("\n".join(out) + "\n", encoding="utf-8")
    print("\n".join(out))


if __name__ == "__main__":
    main()
