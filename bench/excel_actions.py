"""How long each ribbon action takes on the remote engine (what xlwings Server runs per click)
and how big the request and the response are (Office.js has request size limits).

    XLWINGS_ON_SERVER=true XLWINGS_LICENSE_KEY=noncommercial python bench/excel_actions.py

Writes bench/results/excel_actions.md. The seed master (2020 普陀區), August forms,
returns from 10 units filled like officials do.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("XLWINGS_ON_SERVER", "true")
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from putuo_xl.config import load_config  # noqa: E402
from putuo_xl.excel import actions  # noqa: E402
from putuo_xl.excel.payload import open_book, payload_from_xlsx, sheet_payload  # noqa: E402
from putuo_xl.workbook.master import build_master  # noqa: E402

from test_excel_flow import fill_returns, settings_rows  # noqa: E402

UNITS = ["區司法局", "區財政局", "區教育局", "區民政局", "區政府辦", "區發改局", "區經信局",
         "區科技局", "區公安分局", "沈家門街道"]


def main() -> None:
    cfg = load_config()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "台賬"
        t0 = time.perf_counter()
        master = build_master(None, output=folder / "任務分解台賬.xlsx", config=cfg).path
        build_s = time.perf_counter() - t0
        full = len(json.dumps(payload_from_xlsx(master, name=str(master)), ensure_ascii=False).encode("utf-8"))

        def body(tag):
            act = actions.ACTIONS[tag]     # the sheets the client sends for this script
            b = payload_from_xlsx(master, name=str(master), include=act.include, exclude=act.exclude)
            b["sheets"].append(sheet_payload("設置", settings_rows()))
            return b

        for tag in ("diagnose", "make_forms", "collect_returns", "refresh_rollup", "unit_view"):
            if tag == "collect_returns":
                fill_returns(folder / "2020-08_月報", folder / "回報" / "2020-08",
                             {u: "推進中" for u in UNITS})
            req = body(tag)
            req_bytes = len(json.dumps(req, ensure_ascii=False).encode("utf-8"))
            book = open_book(req)
            t0 = time.perf_counter()
            try:
                if tag == "unit_view":
                    book.sheets["責任矩陣"]  # selection stays A1 of the first sheet: an error path
                    try:
                        actions.run_action(tag, book)
                    except Exception:  # noqa: BLE001 - measured either way
                        pass
                else:
                    actions.run_action(tag, book)
                secs = time.perf_counter() - t0
                resp = book.json()
            finally:
                book.close()
            resp_bytes = len(json.dumps(resp, ensure_ascii=False).encode("utf-8"))
            rows.append((tag, secs, req_bytes, resp_bytes, len(resp["actions"])))
    out = ROOT / "bench" / "results" / "excel_actions.md"
    lines = ["# Ribbon actions on the remote engine (one click each)", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
             f"Seed master built in {build_s:.2f} s. Returns: {len(UNITS)} units + 1 junk file.", "",
             "| action | seconds | request (KB) | response (KB) | actions |", "| --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {t} | {s:.2f} | {q / 1024:.0f} | {r / 1024:.0f} | {n} |" for t, s, q, r, n in rows]
    lines += ["", "Request = the JSON body the Office.js client sends: only the sheets the script's "
              "include/exclude asks for (all sheets: %d KB); response = the actions sent back to Excel. "
              "unit_view runs with A1 selected, i.e. its error path." % (full / 1024)]
    out.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
