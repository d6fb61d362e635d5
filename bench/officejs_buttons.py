"""What each ribbon button costs on the Office.js route, measured with the add-in's real client
code (tests/officejs, under Node) against the Excel double and a live `putuo-xl serve`:
actions in the response, response and request bytes, time from the response to the end of the
dispatch (the double applies each action as Excel would, without Excel's own cost), and the
whole press. For 60, 600 and 5,400 forms (bench/bench_pipeline.py's data: the seed plan for one
county, or 90 counties × 60 units).

    .venv/bin/python bench/officejs_buttons.py                  # 60, 600, 5400
    .venv/bin/python bench/officejs_buttons.py --sizes 60 --api 1.12

`--api 1.12` runs an Excel without Workbook.insertWorksheetsFromBase64 (the report sheets then
go cell by cell, as every press did before). Writes bench/results/officejs_buttons.md (or
..._api1.12.md).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

from bench_pipeline import MONTH, prepare  # noqa: E402
from officejs_harness import OfficeClient, script_request  # noqa: E402
from test_excel_server import running_server  # noqa: E402

BUTTONS = [("build-master", "生成台賬"), ("make-forms", "生成月報"), ("collect-returns", "導入回報"),
           ("refresh-rollup", "刷新匯總"), ("diagnose", "診斷")]


def measure(size: int, api: str) -> list[dict]:
    d = prepare(size)
    rows = []
    with tempfile.TemporaryDirectory(prefix="putuo-bench-officejs-") as tmp:
        tmp = Path(tmp)
        data = tmp / "data"
        data.mkdir()
        shutil.copy(d / "plan.json", data / "plan.json")
        env = {"PUTUO_XL_CONFIG": str(d / "config.yaml")}
        with running_server(data, env=env, auth=False, extra_args=("--max-request-mb", "256")) as server:
            settings = [["項目", "值"], ["報告月份", MONTH], ["通知文件", "plan.json"]]
            book = {"name": "活頁簿1.xlsx", "sheets": [{"name": "工作表1"}, {"name": "設置", "rows": settings}]}
            c = OfficeClient(str(server.base_url), api=api, tmp=tmp, workbook=book)
            try:
                for button, label in BUTTONS:
                    if button == "make-forms" and api < "1.13":
                        # an older Excel got the master as a new workbook: the official works there
                        from officejs_harness import opened_file
                        from putuo_xl.excel.context import SERVER_MASTER_NAME
                        c.close()
                        key = next(p.name for p in data.iterdir() if (p / "project.json").is_file())
                        opened = opened_file(data / key / SERVER_MASTER_NAME, "任務分解台賬.xlsx")
                        opened["sheets"] = [{"name": "設置", "rows": settings[:2]}]
                        c = OfficeClient(str(server.base_url), api=api, tmp=tmp, workbook=opened)
                    if button == "collect-returns":
                        key = next(p.name for p in data.iterdir() if (p / "project.json").is_file())
                        inbox = data / key / "回報" / MONTH
                        shutil.copytree(d / "returns", inbox)
                    t0 = time.perf_counter()
                    r = c.press(button)
                    wall = time.perf_counter() - t0
                    req = script_request(r)
                    assert req["status"] == 200 and not r["consoleErrors"], (button, r["consoleErrors"], req)
                    rows.append({"size": size, "button": label, "actions": req["actions"],
                                 "funcs": req["funcs"], "response": req["responseBytes"],
                                 "request": req["requestBytes"], "dispatch_ms": req["dispatchMs"],
                                 "wall_s": wall})
                    print(f"  [{size}] {label}: {req['actions']} actions, {req['responseBytes']:,} B back, "
                          f"{req['requestBytes']:,} B sent, dispatch {req['dispatchMs']} ms, {wall:.1f} s",
                          flush=True)
            finally:
                c.close()
    return rows


def write(rows: list[dict], api: str) -> Path:
    suffix = "" if api == "1.17" else f"_api{api}"
    out = ROOT / "bench" / "results" / f"officejs_buttons{suffix}.md"
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    lines = [f"# Ribbon buttons on the Office.js route (ExcelApi {api})", "",
             f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}, Node {node}, with "
             "bench/officejs_buttons.py: the add-in's real client code under Node against the "
             "Excel double (tests/officejs) and a live `putuo-xl serve` on 127.0.0.1. "
             "*dispatch* is from the response's arrival to the end of the press (the double's "
             "work, not Excel's); *press* is the whole click, server included.", "",
             "| forms | button | actions | response bytes | request bytes | dispatch ms | press s | actions by kind |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted((r["funcs"] or {}).items(), key=lambda kv: -kv[1]))
        lines.append(f"| {r['size']:,} | {r['button']} | {r['actions']} | {r['response']:,} | "
                     f"{r['request']:,} | {r['dispatch_ms']} | {r['wall_s']:.1f} | {kinds} |")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="60,600,5400")
    ap.add_argument("--api", default="1.17")
    args = ap.parse_args(argv)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows += measure(size, args.api)
    print(write(rows, args.api))


if __name__ == "__main__":
    main()
