"""How long replace_sheets takes on a master of realistic size (writes bench/results/xlsxsurgery.md).

Master: 12 task sheets (300 rows × 10 columns of Chinese text and numbers, styled), an official's
sheet with a chart and an image, hidden data sheets. Source: 8 report sheets (200 rows × 8 columns,
3 number formats, conditional formats), 4 of them with a chart, one with a table.
Also the two writers of sheet bodies that bypass xlsxwriter: `plain_sheet_xml` on a data sheet of
province size (100,000 rows × 9 values: text, numbers, dates, blanks) and `row_xml` on 50,000 rows
× 12 styled cells (what the rollup writes into 月度匯總 / 預評估 / _status), best CPU time of 5.
Run: .venv/bin/python bench/xlsxsurgery_bench.py
"""
from __future__ import annotations

import io
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from putuo_xl.workbook.surgery import plain_sheet_xml, replace_sheets, row_xml  # noqa: E402
from test_xlsxsurgery import IMAGE  # noqa: E402

REPORTS = ["月度匯總", "任務進展", "考評指標完成情況", "趨勢", "預評估", "通報", "_status", "_actuals"]


def master(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "font_name": "SimHei", "bg_color": "#DDEBF7", "border": 1})
    body = wb.add_format({"font_name": "SimSun", "border": 1, "text_wrap": True})
    for s in range(12):
        ws = wb.add_worksheet(f"第{s + 1}部分")
        ws.write_row(0, 0, [f"列{c}" for c in range(10)], head)
        for r in range(1, 301):
            ws.write_row(r, 0, [f"{s}.{r}", f"推進依法行政第{r}項工作,落實責任單位和完成時限", r * 1.5,
                                "區司法局", "沈家門街道", "90%以上", "2020年底", "進行中", r % 100, "2020-08"], body)
    o = wb.add_worksheet("官員分析")
    o.write_column("A1", list(range(20)))
    ch = wb.add_chart({"type": "column"})
    ch.add_series({"values": "='官員分析'!$A$1:$A$20"})
    o.insert_chart("C2", ch)
    o.insert_image("C20", "logo.png", {"image_data": io.BytesIO(IMAGE)})
    o.write_comment("A1", "批註")
    for name in REPORTS:
        ws = wb.add_worksheet(name)
        ws.write("A1", name)
        if name.startswith("_"):
            ws.hide()
    wb.close()


def report(path: Path, version: int) -> None:
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "font_name": "SimHei", "bg_color": "#DDEBF7", "border": 1})
    fmts = [wb.add_format({"font_name": "SimSun", "border": 1}),
            wb.add_format({"font_name": "SimSun", "border": 1, "num_format": "0.0%"}),
            wb.add_format({"font_name": "SimSun", "border": 1, "num_format": "yyyy-mm-dd"})]
    red = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    for i, name in enumerate(REPORTS):
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, [f"欄{c}" for c in range(8)], head)
        for r in range(1, 201):
            for c in range(8):
                v = f"單位{r}" if c == 0 else (r * c + version) / 1000
                ws.write(r, c, v, fmts[c % 3])
        ws.conditional_format("B2:B201", {"type": "cell", "criteria": "<", "value": 0.1, "format": red})
        ws.repeat_rows(0)
        if i < 4:
            ch = wb.add_chart({"type": "line"})
            ch.add_series({"values": f"='{name}'!$B$2:$B$201"})
            ws.insert_chart("K2", ch)
        if i == 1:
            ws.add_table("K20:L25", {"columns": [{"header": "甲"}, {"header": "乙"}]})
        if name.startswith("_"):
            ws.hide()
    wb.close()


def writers() -> tuple[float, float, int, int]:
    """Best CPU seconds of plain_sheet_xml and of row_xml over 5 runs, and their output sizes."""
    from datetime import date
    units = [f"區專項辦{i:02d}" for i in range(60)]
    data = [[f"{r % 300}.{r % 7}", units[r % 60], "推進中" if r % 3 else "已完成", (r % 101) / 100,
             r % 13, date(2020, 1 + r % 12, 1 + r % 28), None, f"第{r}項工作進展順利" if r % 5 else "",
             r * 0.25] for r in range(100_000)]
    body = [[(units[r % 60], 3), ("推進中" if r % 3 else "已完成", 4), ((r % 101) / 100, 5),
             (r % 13, 6), (None, 7), (f"說明{r % 50}", 3), (r * 0.5, 5), (r % 2 == 0, 6),
             ("", 3), (r, 6), (f"{r % 300}.{r % 7}", 4), (1.5, 5)] for r in range(50_000)]
    best_plain = best_rows = float("inf")
    for _ in range(5):
        c = time.process_time()
        xml = plain_sheet_xml(data)
        best_plain = min(best_plain, time.process_time() - c)
        c = time.process_time()
        rows = [row_xml(i + 1, cells) for i, cells in enumerate(body)]
        best_rows = min(best_rows, time.process_time() - c)
    return best_plain, best_rows, len(xml), sum(map(len, rows))


def main() -> None:
    plain_s, rows_s, plain_len, rows_len = writers()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        m, r1, r2 = d / "master.xlsx", d / "r1.xlsx", d / "r2.xlsx"
        master(m)
        report(r1, 1)
        report(r2, 2)
        work = d / "work.xlsx"
        shutil.copy(m, work)
        replace_sheets(work, r1)               # first refresh: styles appended
        times, cpu = [], []
        for i in range(7):
            t, c = time.perf_counter(), time.process_time()
            replace_sheets(work, r2 if i % 2 == 0 else r1)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        sizes = (m.stat().st_size, r1.stat().st_size, work.stat().st_size)
    med, best = statistics.median(times) * 1000, min(times) * 1000
    lines = [
        "# xlsxsurgery.replace_sheets",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, 2 cores shared "
        f"(load average {os.getloadavg()[0]:.1f} when measured).",
        "",
        "| what | value |",
        "| --- | --- |",
        f"| master (12 task sheets × 300 rows, chart, image, comment) | {sizes[0] / 1024:.0f} KiB |",
        f"| source (8 report sheets × 200 rows × 8 columns, 4 charts, 1 table) | {sizes[1] / 1024:.0f} KiB |",
        f"| result | {sizes[2] / 1024:.0f} KiB |",
        f"| replace all 8 sheets, median of 7 refreshes | {med:.0f} ms |",
        f"| fastest | {best:.0f} ms |",
        f"| CPU time of this process, median (less disturbed by other work on the machine) | "
        f"{statistics.median(cpu) * 1000:.0f} ms |",
        f"| plain_sheet_xml: 100,000 rows × 9 values ({plain_len / 2**20:.1f} MiB of XML), best CPU of 5 | "
        f"{plain_s * 1000:.0f} ms |",
        f"| row_xml: 50,000 rows × 12 styled cells ({rows_len / 2**20:.1f} MiB of XML), best CPU of 5 | "
        f"{rows_s * 1000:.0f} ms |",
        "",
    ]
    out = ROOT / "bench" / "results" / "xlsxsurgery.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
