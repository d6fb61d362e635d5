"""Driving the add-in's real client code (tests/officejs/client.mjs, under Node) from pytest,
and turning the Excel double's workbook into an .xlsx that LibreOffice opens."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OFFICEJS = ROOT / "tests" / "officejs"


def require_node() -> str:
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "Node.js is missing: `make test` installs Debian's nodejs and npm"
    assert (OFFICEJS / "node_modules" / "xlsx").is_dir(), \
        "tests/officejs/node_modules is missing: `make test` runs npm ci there"
    return node


class OfficeClient:
    """One Excel with the add-in loaded (one Node process): steps go in, results come out."""

    def __init__(self, server_url: str, *, code: str | None = None, api: str = "1.17",
                 platform: str = "PC", workbook: dict | None = None, tmp: Path):
        spec = {"server": server_url.rstrip("/"), "code": code, "apiVersion": api,
                "platform": platform,
                "workbook": workbook or {"name": "活頁簿1.xlsx", "sheets": [{"name": "工作表1"}]}}
        self.spec_path = tmp / f"client-{id(self)}.json"
        self.spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        self.proc = subprocess.Popen([require_node(), str(OFFICEJS / "client.mjs"), str(self.spec_path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8",
                                     cwd=str(OFFICEJS))
        first = self.proc.stdout.readline()
        if not first:
            raise RuntimeError("the client did not start: " + self.proc.stderr.read()[-3000:])
        assert json.loads(first) == {"ready": True}, first

    def step(self, **step) -> dict:
        self.proc.stdin.write(json.dumps(step, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the client ended: " + self.proc.stderr.read()[-3000:])
        return json.loads(line)

    def press(self, button: str) -> dict:
        return self.step(press=button)

    def export(self) -> dict:
        return self.step(export=True)["workbook"]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"quit": True}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def opened_file(path: Path, name: str | None = None) -> dict:
    """The `workbook` of a client that starts with an .xlsx open (its sheets and names)."""
    import base64

    from putuo_xl.excel.transfer import defined_names
    data = Path(path).read_bytes()
    return {"name": name or Path(path).name, "sheets": [{"name": "工作表1"}],
            "base64": base64.b64encode(data).decode("ascii"), "names": defined_names(data)}


def alert(result: dict) -> str:
    """The last alert the step showed (an error alert too), punctuation narrowed."""
    from putuo_xl.text import narrow
    return narrow(result["dialogs"][-1]["prompt"]) if result["dialogs"] else ""


def script_request(result: dict) -> dict:
    """The step's request to a ribbon script (custom-scripts-call)."""
    calls = [r for r in result["requests"] if "/custom-scripts-call/" in r["url"]]
    assert len(calls) == 1, result["requests"]
    return calls[0]


def sheet_grid(workbook: dict, name: str) -> list[list]:
    """A sheet of the double's workbook as rows of values (formula cells: their cached value)."""
    sheet = next(s for s in workbook["sheets"] if s["name"] == name)
    if not sheet["cells"]:
        return []
    rows = max(c[0] for c in sheet["cells"]) + 1
    cols = max(c[1] for c in sheet["cells"]) + 1
    grid = [[None] * cols for _ in range(rows)]
    for r, c, value, _formula, _fmt in sheet["cells"]:
        grid[r][c] = None if value == "" else value
    return grid


def save_xlsx(workbook: dict, path: Path) -> Path:
    """The double's workbook as an .xlsx: values, formulas, number formats, visibility, tables
    and workbook names — what LibreOffice needs to recalculate it."""
    from openpyxl import Workbook
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.table import Table

    wb = Workbook()
    wb.remove(wb.active)
    for s in workbook["sheets"]:
        ws = wb.create_sheet(s["name"])
        for r, c, value, formula, fmt in s["cells"]:
            cell = ws.cell(r + 1, c + 1, formula if formula else value)
            if fmt and fmt != "General":
                cell.number_format = fmt
        if s["visibility"] != "Visible":
            ws.sheet_state = "hidden" if s["visibility"] == "Hidden" else "veryHidden"
        for t in s["tables"]:
            table = Table(displayName=t["name"], ref=t["ref"])
            table._initialise_columns()
            for col, name in zip(table.tableColumns, t["columns"]):
                col.name = name
            ws.add_table(table)
    for n in workbook["names"]:
        wb.defined_names[n["name"]] = DefinedName(n["name"], attr_text=n["formula"].lstrip("="))
    wb.save(path)
    return path
