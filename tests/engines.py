"""Four spreadsheet engines read the same workbooks; `disagreements` lists where they differ.

Used by tests/test_portability.py (its docstring says what is compared and what is normalised).

    LibreOffice  tools/lo-dump: one headless LibreOffice for all the files; every formula
                 recalculated (calculateAll); values as Calc holds them.
    Gnumeric     `ssconvert --recalc FILE OUT.xlsx`, once per file: Gnumeric loads the file,
                 recalculates, and writes what it holds to an xlsx, read back with openpyxl
                 (values with their types; CSV would lose them). Its stderr is kept.
    SheetJS      tools/sheetjs/dump.js (npm xlsx, pinned): one Node process for all the files.
    openpyxl     twice per file: the cached values (data_only) and the formulas.

SheetJS and openpyxl compute nothing: for a formula cell they give the value cached in the file,
if any, and the formula text.
"""
from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LO_DUMP = ROOT / "tools" / "lo-dump"
SHEETJS_DIR = ROOT / "tools" / "sheetjs"
SHEETJS_DUMP = SHEETJS_DIR / "dump.js"
UNO_PYTHON = "/usr/bin/python3"        # Debian's, with python3-uno
ENGINES = ("LibreOffice", "Gnumeric", "SheetJS", "openpyxl")
REL_TOL = 1e-9                         # numbers: the same double, or computed a hair apart


@dataclass
class Reading:
    """One engine's reading of one workbook. Values are normalised (`norm`)."""
    engine: str
    sheets: list[str] = field(default_factory=list)
    visible: dict[str, bool] = field(default_factory=dict)     # engines that tell
    values: dict[str, dict[str, tuple]] = field(default_factory=dict)   # sheet → A1 → value
    formulas: dict[str, dict[str, str]] = field(default_factory=dict)   # sheet → A1 → text
    # formula cells: the result cached in the file, an empty text kept as ("s", "") (a cached
    # empty result, shown as it is by LibreOffice) apart from none at all (computed on load)
    cached: dict[str, dict[str, tuple]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)   # load failures, criticals, warnings


# -- normalising ------------------------------------------------------------------------------
_EPOCH = datetime(1899, 12, 30)


def norm(v) -> tuple | None:
    """A value as ("n", float) / ("s", text) / ("b", bool), or None for an empty cell.

    Only what must be: all numbers are floats (1 and 1.0 are one number; how each engine prints
    a float does not matter), a date or time that openpyxl gives as datetime becomes the serial
    number the file holds (Excel's 1900 system), and an empty text is an empty cell (a formula
    giving "" shows nothing in every engine, and some keep no cell for it). Formula errors are
    their text (#N/A ...) in every engine. Text is compared exactly."""
    if v is None:
        return None
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, (int, float)):
        return ("n", float(v))
    if isinstance(v, datetime):
        return ("n", (v - _EPOCH).total_seconds() / 86400)
    if isinstance(v, date):
        return ("n", float((v - _EPOCH.date()).days))
    if isinstance(v, time):
        return ("n", (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400)
    if isinstance(v, str):
        return ("s", v) if v != "" else None
    raise TypeError(f"unexpected value {v!r}")


def same(a: tuple | None, b: tuple | None) -> bool:
    if a is None or b is None:
        return a is b
    if a[0] != b[0]:
        return False
    if a[0] == "n":
        return math.isclose(a[1], b[1], rel_tol=REL_TOL, abs_tol=1e-12)
    return a[1] == b[1]


def shown(v: tuple | None) -> str:
    if v is None:
        return "(empty)"
    kind, x = v
    if v == ("s", ""):
        return "'' (an empty text)"
    if kind == "n":
        return repr(int(x)) if x.is_integer() else repr(x)
    if kind == "b":
        return "TRUE" if x else "FALSE"
    return repr(x if len(x) <= 40 else x[:40] + "…")


# -- the engines -------------------------------------------------------------------------------
def read_libreoffice(paths: list[Path], timeout: int = 600) -> dict[Path, Reading]:
    proc = subprocess.run([UNO_PYTHON, str(LO_DUMP), *map(str, paths)], capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"lo-dump failed (rc={proc.returncode}): {proc.stderr[-2000:]}")
    data = json.loads(proc.stdout)
    log = [ln for ln in data.get("log", "").splitlines() if ln.strip()]
    out = {}
    for p, f in zip(paths, data["files"]):
        r = Reading("LibreOffice")
        if f["load"]["status"] != "ok":
            r.problems.append(f"LibreOffice could not load it: {f['load']['message']}")
        for q in f["load"]["requests"]:
            r.problems.append(f"LibreOffice asked while loading: {q['request']} {q['message']}".strip())
        r.problems += [f"LibreOffice printed: {ln}" for ln in log]
        for s in f["sheets"]:
            r.sheets.append(s["name"])
            r.visible[s["name"]] = s["visible"]
            r.values[s["name"]] = {a: v for a, v in ((a, norm(x)) for a, x in s["cells"].items())
                                   if v is not None}
        out[p] = r
    return out


# Gnumeric 1.12's messages about what it cannot represent, each with why it is not about a
# fault in our file. Anything else it prints fails the test.
GNUMERIC_LIMITS = [
    (re.compile(r"^Unhandled object of type Note$"),
     "Gnumeric skips the VML shape of a cell note (the master's notes on tasks the parser was "
     "unsure of); the note's text is not a cell value"),
    (re.compile(r"^Unexpected element 'tableParts' in state : \tworksheet$"),
     "no tables in Gnumeric (the sheet's cells are read all the same)"),
    (re.compile(r"^.+ : At [A-Z]+\d+: '.*\[\[#This Row\],.*' Improperly formatted error token$"),
     "no structured references to tables in Gnumeric (Excel's own form for a table's "
     "calculated column)"),
    (re.compile(r"^At A1: '([^']+|'[^!]+')!\$[A-Z]+:\$[A-Z]+,\1!\$\d+:\$\d+' Multiple expressions "
                r"are not supported in this context$"),
     "print titles of both columns and rows (_xlnm.Print_Titles as Excel writes it) are one "
     "union Gnumeric cannot hold"),
    (re.compile(r"^.+ : Ignoring unhandled conditional format of type 'dataBar'$"),
     "no data bars in Gnumeric"),
    (re.compile(r"^Unexpected element '(cfvo|color|extLst)' in state : \tworksheet -> "
                r"conditionalFormatting -> cfRule -> dataBar$"),
     "no data bars in Gnumeric"),
    (re.compile(r"^Unexpected element 'extLst' in state : \tworksheet -> conditionalFormatting -> "
                r"cfRule$"),
     "no data bars in Gnumeric (this is the Excel 2010 part of a data bar rule)"),
    (re.compile(r"^Unexpected element '(evenHeader|evenFooter|firstHeader|firstFooter)' in state : "
                r"\tworksheet -> headerFooter$"),
     "Gnumeric reads only the odd-page header and footer (openpyxl, filling the sample return as "
     "a unit would, writes the others empty)"),
]


def gnumeric_messages(stderr: str) -> list[str]:
    """ssconvert's stderr as messages: a line starting with a tab continues the one before;
    the time stamps and process ids of GLib's messages are dropped."""
    msgs: list[str] = []
    for ln in stderr.splitlines():
        if ln.startswith("\t") and msgs:
            msgs[-1] += " " + ln
        elif ln.strip():
            msgs.append(re.sub(r"\(ssconvert:\d+\): (\w+) \*\*: [\d:.]+: ", r"\1: ", ln.strip()))
    return msgs


def read_gnumeric(path: Path, work: Path, timeout: int = 300) -> Reading:
    import openpyxl
    out = work / (path.stem + ".gnumeric.xlsx")
    proc = subprocess.run(["ssconvert", "--recalc", "--export-type=Gnumeric_Excel:xlsx2",
                           str(path), str(out)], capture_output=True, text=True, timeout=timeout)
    r = Reading("Gnumeric")
    for msg in gnumeric_messages(proc.stderr):
        if not any(rx.match(msg) for rx, _ in GNUMERIC_LIMITS):
            r.problems.append(f"Gnumeric printed: {msg}")
    if proc.returncode != 0 or not out.exists():
        r.problems.append(f"ssconvert failed (rc={proc.returncode})")
        return r
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(out, data_only=True)
    try:
        for ws in wb.worksheets:
            # Gnumeric reads hidden sheets as hidden, but its xlsx writer drops the state
            r.sheets.append(ws.title)
            r.values[ws.title] = {c.coordinate: v for row in ws.iter_rows() for c in row
                                  if (v := norm(c.value)) is not None}
    finally:
        wb.close()
    return r


def read_sheetjs(paths: list[Path], timeout: int = 300) -> dict[Path, Reading]:
    proc = subprocess.run(["node", str(SHEETJS_DUMP), *map(str, paths)], capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"SheetJS dump failed (rc={proc.returncode}): {proc.stderr[-2000:]}")
    data = json.loads(proc.stdout)
    out = {}
    for p, f in zip(paths, data["files"]):
        r = Reading("SheetJS")
        if f.get("error"):
            r.problems.append(f"SheetJS could not read it: {f['error']}")
        for s in f.get("sheets", []):
            r.sheets.append(s["name"])
            r.visible[s["name"]] = s["state"] == "visible"
            vals, fs, cached = {}, {}, {}
            for a, (t, v, fx) in s["cells"].items():
                if fx is not None:
                    fs[a] = fx
                    if v is not None:
                        cached[a] = norm(bool(v) if t == "b" else v) or ("s", "")
                if v is not None:
                    nv = norm(bool(v) if t == "b" else v)
                    if nv is not None:
                        vals[a] = nv
            r.values[s["name"]], r.formulas[s["name"]], r.cached[s["name"]] = vals, fs, cached
        out[p] = r
    return out


def read_openpyxl(path: Path) -> Reading:
    import openpyxl
    r = Reading("openpyxl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # "extension is not supported": data bars etc.
        wb_values = openpyxl.load_workbook(path, data_only=True)
        wb_formulas = openpyxl.load_workbook(path, data_only=False)
    try:
        for ws, wf in zip(wb_values.worksheets, wb_formulas.worksheets):
            r.sheets.append(ws.title)
            r.visible[ws.title] = ws.sheet_state == "visible"
            r.values[ws.title] = {c.coordinate: v for row in ws.iter_rows() for c in row
                                  if (v := norm(c.value)) is not None}
            fs, cached = {}, {}
            for row in wf.iter_rows():
                for c in row:
                    if c.data_type == "f":
                        text = c.value.text if hasattr(c.value, "text") else c.value
                        fs[c.coordinate] = (text or "").removeprefix("=")
                        v = ws[c.coordinate].value
                        if v is not None:
                            cached[c.coordinate] = norm(v) or ("s", "")
            r.formulas[ws.title], r.cached[ws.title] = fs, cached
    finally:
        wb_values.close()
        wb_formulas.close()
    return r


def read_all(paths: list[Path], work: Path) -> dict[Path, dict[str, Reading]]:
    """Every engine's reading of every file: LibreOffice and SheetJS once for all the files,
    Gnumeric and openpyxl once per file."""
    lo = read_libreoffice(paths)
    sj = read_sheetjs(paths)
    return {p: {"LibreOffice": lo[p], "Gnumeric": read_gnumeric(p, work), "SheetJS": sj[p],
                "openpyxl": read_openpyxl(p)} for p in paths}


def engines_missing() -> list[str]:
    missing = []
    if not Path(UNO_PYTHON).exists() or shutil.which("soffice") is None:
        missing.append("LibreOffice (soffice, python3-uno)")
    if shutil.which("ssconvert") is None:
        missing.append("Gnumeric (ssconvert)")
    if shutil.which("node") is None or not (SHEETJS_DIR / "node_modules" / "xlsx").is_dir():
        missing.append("SheetJS (node, npm install in tools/sheetjs)")
    return missing


# -- comparing -------------------------------------------------------------------------------
STRUCTURED_REF = re.compile(r"\[\[?#This Row\]|\[@")


def disagreements(label: str, reads: dict[str, Reading]) -> list[str]:
    """Every difference between the engines' readings of one workbook, each naming the
    workbook, the engine(s), the sheet and the cell.

    - each engine's load problems;
    - the sheets and their order; whether each is visible (LibreOffice, SheetJS, openpyxl);
    - a cell without a formula: the same value in all four;
    - a formula cell (as openpyxl and SheetJS read the file, which must agree on its text):
      LibreOffice's and Gnumeric's computed values agree (Gnumeric is left out for a formula
      with a structured reference: it has no tables); the value cached in the file, which
      SheetJS and openpyxl read alike, is absent or is the computed one."""
    out = [f"{label}: {p}" for r in reads.values() for p in r.problems]
    lo, gn, sj, op = (reads[e] for e in ENGINES)
    order = {e: r.sheets for e, r in reads.items()}
    for e, names in order.items():
        if names != op.sheets:
            out.append(f"{label}: {e} has the sheets {names}, openpyxl {op.sheets}")
    for e in ("LibreOffice", "SheetJS"):
        for s in op.sheets:
            if s in reads[e].visible and reads[e].visible[s] != op.visible[s]:
                out.append(f"{label}: {e}: sheet {s!r} is {'visible' if reads[e].visible[s] else 'hidden'}, "
                           f"openpyxl: {'visible' if op.visible[s] else 'hidden'}")
    for s in op.sheets:
        fop, fsj = op.formulas.get(s, {}), sj.formulas.get(s, {})
        cells = set()
        for r in reads.values():
            cells |= set(r.values.get(s, {}))
        cells |= set(fop) | set(fsj)
        for a in sorted(cells, key=_cell_order):
            where = f"{label}: {s}!{a}"
            v = {e: reads[e].values.get(s, {}).get(a) for e in ENGINES}
            if a not in fop and a not in fsj:
                if not all(same(v[e], v["openpyxl"]) for e in ENGINES):
                    out.append(f"{where}: " + _differ(v))
                continue
            if fop.get(a) != fsj.get(a):
                out.append(f"{where}: formula: openpyxl {fop.get(a)!r}, SheetJS {fsj.get(a)!r}")
            computed = {"LibreOffice": v["LibreOffice"]}
            if not STRUCTURED_REF.search(fop.get(a) or fsj.get(a) or ""):
                computed["Gnumeric"] = v["Gnumeric"]
            if not all(same(x, v["LibreOffice"]) for x in computed.values()):
                out.append(f"{where}: computed: " + _differ(computed))
            c_sj, c_op = sj.cached.get(s, {}).get(a), op.cached.get(s, {}).get(a)
            if not same(c_sj, c_op):
                out.append(f"{where}: cached: SheetJS {shown(c_sj)}, openpyxl {shown(c_op)}")
            elif c_op is not None and not same(norm(c_op[1]) if c_op == ("s", "") else c_op,
                                               v["LibreOffice"]):
                out.append(f"{where}: the cached result {shown(c_op)} (SheetJS, openpyxl) is not "
                           f"the computed one {shown(v['LibreOffice'])} (LibreOffice"
                           f"{', Gnumeric' if 'Gnumeric' in computed else ''})")
    return out


def summary(found: list[str], limit: int = 60) -> str:
    """The disagreements for a failure message: a message repeated is shown once, with its count."""
    counts: dict[str, int] = {}
    for m in found:
        counts[m] = counts.get(m, 0) + 1
    lines = [m if n == 1 else f"{m}   (×{n})" for m, n in counts.items()]
    more = f"\n… and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{len(found)} disagreements:\n" + "\n".join(lines[:limit]) + more


def _differ(v: dict[str, tuple | None]) -> str:
    """Which engines differ from the most common reading, and what each read."""
    groups: list[tuple[tuple | None, list[str]]] = []
    for e, x in v.items():
        for g in groups:
            if same(g[0], x):
                g[1].append(e)
                break
        else:
            groups.append((x, [e]))
    groups.sort(key=lambda g: -len(g[1]))
    return "; ".join(f"{'/'.join(es)} {shown(x)}" for x, es in groups)


def _cell_order(a: str):
    m = re.match(r"([A-Z]+)(\d+)", a)
    return (int(m.group(2)), len(m.group(1)), m.group(1))
