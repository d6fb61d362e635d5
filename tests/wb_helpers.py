"""Helpers for the workbook tests: run tools/xlsx-check, make small plans."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
XLSX_CHECK = ROOT / "tools" / "xlsx-check"


def xlsx_check(path, *args: str, timeout: int = 120) -> dict:
    """Run xlsx-check --json on `path`; returns the JSON report (ok, sheets, get, set, …)."""
    proc = subprocess.run([sys.executable, str(XLSX_CHECK), str(path), "--json", *args],
                          capture_output=True, text=True, timeout=timeout)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"xlsx-check gave no JSON (rc={proc.returncode}): {proc.stderr[-2000:]}")
    report["_rc"] = proc.returncode
    return report


def got(report: dict, rng: str) -> list[list]:
    return report["get"][rng]


def simplified_plan(cfg):
    """The seed notice converted to simplified characters, parsed: a simplified-script plan."""
    from putuo_xl.plan.notice import read_notice
    from putuo_xl.plan.parser import parse_text
    from putuo_xl.text import to_simplified
    return parse_text(to_simplified("\n".join(read_notice(None).lines)), cfg)
