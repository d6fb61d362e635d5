"""Whole sheets into the open workbook as one .xlsx file, on the server route.

Writing a formatted report sheet cell by cell through Office.js took hundreds of actions (556–
643 for 刷新匯總 in a 44-unit district), each applied in turn with a round trip in Excel on the
web, and lost what actions cannot carry. Where the calling Excel supports it (ExcelApi 1.13,
which every host of the add-in has: SharedRuntime 1.1 means Microsoft 365 or Excel 2021+), the
server sends the sheets as the CLI writes them, in one .xlsx, and one `runMacro` action hands it
to the add-in's callback `putuoPutSheets` (server/static/js/putuo-office.js), which:

1. deletes the sheets being replaced and inserts the new ones in their place
   (`Workbook.insertWorksheetsFromBase64`), or before the first `before` sheet that exists;
2. copies the values of each temporary data sheet into the existing sheet of that name
   (`_status`, `_actuals`: section sheets have formulas over them, which deleting the sheet
   would break) and deletes the temporary;
3. (re)defines the workbook names the sheets need (inserted sheets do not bring them);
4. adds the charts itself where the host cannot insert a sheet with charts (Excel on the web);
5. hides, removes empty starter sheets, activates.

The callback works by sheet names only: the action comes after every action that addresses
sheets by position (the 操作記錄 and 設置 writes), and before the alert.
"""
from __future__ import annotations

import base64
import json
import re
import zipfile
from dataclasses import dataclass, field
from io import BytesIO

from putuo_xl.excel.context import Context

TRANSFER_API = "1.13"          # Workbook.insertWorksheetsFromBase64
CREATE_API = "1.8"             # Excel.createWorkbook(base64)
CALLBACK = "putuoPutSheets"
CREATE_CALLBACK = "putuoOpenWorkbook"
WEB = "OfficeOnline"


@dataclass
class SheetTransfer:
    data: bytes                                   # the .xlsx holding the sheets
    insert: list[str]                             # its sheets to insert, in order
    replace: list[str] = field(default_factory=list)    # sheets they replace (their place is kept)
    before: list[str] = field(default_factory=list)     # else: before the first of these present
    copies: list[tuple[str, str]] = field(default_factory=list)   # (temporary, existing sheet)
    hidden: list[str] = field(default_factory=list)
    names: list[tuple[str, str]] = field(default_factory=list)    # workbook names (name, formula)
    charts: list[dict] = field(default_factory=list)    # added by the add-in (Excel on the web)
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (sheet, cell, text), ditto
    remove_if_empty: list[str] = field(default_factory=list)
    activate: str | None = None

    def spec(self) -> dict:
        return {"insert": self.insert, "replace": self.replace, "before": self.before,
                "copies": [list(c) for c in self.copies], "hidden": self.hidden,
                "names": [list(n) for n in self.names], "charts": self.charts,
                "notes": [list(n) for n in self.notes],
                "removeIfEmpty": self.remove_if_empty, "activate": self.activate}


def _version(v: str) -> tuple[int, int]:
    try:
        a, b = v.split(".")
        return int(a), int(b)
    except (AttributeError, ValueError):
        return (0, 0)


def client() -> dict:
    from putuo_xl.excel.projects import current_client
    return current_client.get()


def supports(version: str) -> bool:
    """The calling Excel (server route) supports ExcelApi `version`."""
    api = client().get("excel_api")
    return bool(api) and _version(api) >= _version(version)


def on_web() -> bool:
    return client().get("platform") == WEB


def can_transfer(ctx: Context) -> bool:
    """Server route and an Excel with ExcelApi 1.13 — or one that did not say (the add-in's
    client always says; a caller that does not is taken to be current)."""
    return ctx.on_server and ("excel_api" not in client() or supports(TRANSFER_API))


def send(ctx: Context, transfer: SheetTransfer) -> None:
    """Queue the transfer: it runs after the 操作記錄/設置 writes and before the alert."""
    spec = json.dumps(transfer.spec(), ensure_ascii=False)
    data = base64.b64encode(transfer.data).decode("ascii")
    ctx.finish.append(lambda: ctx.io.book.app.macro(CALLBACK)(spec, data))


def open_as_new_workbook(ctx: Context, data: bytes) -> None:
    """Excel.createWorkbook(base64): the file opens as a new workbook (ExcelApi 1.8)."""
    payload = base64.b64encode(data).decode("ascii")
    ctx.finish.append(lambda: ctx.io.book.app.macro(CREATE_CALLBACK)(payload))


def defined_names(xlsx: bytes) -> list[tuple[str, str]]:
    """The workbook-scoped defined names of an .xlsx: (name, "=formula")."""
    with zipfile.ZipFile(BytesIO(xlsx)) as z:
        xml = z.read("xl/workbook.xml").decode("utf-8")
    out = []
    for attrs, body in re.findall(r"<definedName\b([^>]*)>([^<]*)</definedName>", xml):
        if "localSheetId" in attrs or 'hidden="1"' in attrs:
            continue
        name = re.search(r'\bname="([^"]+)"', attrs)
        if name and not name.group(1).startswith("_xlnm."):
            out.append((_unescape(name.group(1)), "=" + _unescape(body)))
    return out


def sheet_states(xlsx: bytes) -> list[tuple[str, str]]:
    """(sheet name, state) in the file's order; state is visible, hidden or veryHidden."""
    with zipfile.ZipFile(BytesIO(xlsx)) as z:
        xml = z.read("xl/workbook.xml").decode("utf-8")
    out = []
    for attrs in re.findall(r"<sheet\b([^>]*)/?>", xml):
        name = re.search(r'\bname="([^"]+)"', attrs)
        state = re.search(r'\bstate="([^"]+)"', attrs)
        if name:
            out.append((_unescape(name.group(1)), state.group(1) if state else "visible"))
    return out


def without_notes(xlsx: bytes) -> tuple[bytes, list[tuple[str, str, str]]]:
    """The file without its cell notes (Excel on the web cannot insert a sheet that has
    comments), and the notes as (sheet, cell, text) for the add-in to add back."""
    src = zipfile.ZipFile(BytesIO(xlsx))
    names = dict((path, name) for name, path in _sheet_paths(src).items())
    drop, notes = set(), []
    rels_edit: dict[str, str] = {}
    for path, sheet in names.items():
        rels_path = path.rsplit("/", 1)[0] + "/_rels/" + path.rsplit("/", 1)[1] + ".rels"
        if rels_path not in src.namelist():
            continue
        rels = src.read(rels_path).decode("utf-8")
        kept = rels
        for rel in re.findall(r"<Relationship\b[^>]*/>", rels):
            kind = re.search(r'Type="[^"]*/(comments|vmlDrawing)"', rel)
            if not kind:
                continue
            target = re.search(r'Target="([^"]+)"', rel).group(1)
            part = _resolve(path, target)
            drop.add(part)
            kept = kept.replace(rel, "")
            if kind.group(1) == "comments":
                xml = src.read(part).decode("utf-8")
                for ref, body in re.findall(r'<comment\b[^>]*\bref="([^"]+)"[^>]*>(.*?)</comment>', xml, re.S):
                    text = "".join(_unescape(t) for t in re.findall(r"<t[^>]*>([^<]*)</t>", body))
                    notes.append((sheet, ref, text))
        if kept != rels:
            rels_edit[rels_path] = kept
    if not drop:
        return xlsx, []
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            data = src.read(info.filename)
            if info.filename in rels_edit:
                data = rels_edit[info.filename].encode("utf-8")
            elif info.filename in names:
                data = re.sub(rb"<legacyDrawing\b[^>]*/>", b"", data)
            elif info.filename == "[Content_Types].xml":
                text = data.decode("utf-8")
                for part in drop:
                    text = re.sub(r'<Override\b[^>]*PartName="/' + re.escape(part) + r'"[^>]*/>', "", text)
                data = text.encode("utf-8")
            dst.writestr(info, data)
    return out.getvalue(), notes


def _sheet_paths(z: zipfile.ZipFile) -> dict[str, str]:
    wb = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    target = {m.group(1): m.group(2) for m in re.finditer(
        r'<Relationship\b[^>]*\bId="([^"]+)"[^>]*\bTarget="([^"]+)"', rels)}
    target.update({m.group(2): m.group(1) for m in re.finditer(
        r'<Relationship\b[^>]*\bTarget="([^"]+)"[^>]*\bId="([^"]+)"', rels)})
    out = {}
    for m in re.finditer(r'<sheet\b[^>]*?\bname="([^"]+)"[^>]*?\br:id="([^"]+)"', wb):
        out[_unescape(m.group(1))] = _resolve("xl/workbook.xml", target[m.group(2)])
    return out


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    parts = base.split("/")[:-1]
    for seg in target.split("/"):
        if seg == "..":
            parts.pop()
        elif seg != ".":
            parts.append(seg)
    return "/".join(parts)


def _unescape(s: str) -> str:
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def chart_specs(lay) -> list[dict]:
    """The charts of a sheet layout as the add-in's callback adds them with Office.js (one
    series per row, categories and values as A1 ranges of the sheet itself)."""
    from putuo_xl.workbook.sheetlayout import col_letter

    q = "'" + lay.name.replace("'", "''") + "'"
    out = []
    for ch in lay.charts:
        first, last = col_letter(ch.first_col), col_letter(ch.last_col)
        out.append({
            "sheet": lay.name, "title": ch.title,
            "type": "ColumnStacked" if ch.kind == "column_stacked" else "LineMarkers",
            "categories": f"{q}!${first}${ch.cat_row + 1}:${last}${ch.cat_row + 1}",
            "series": [{"name": name, "values": f"{q}!${first}${row + 1}:${last}${row + 1}",
                        "color": "#" + colour} for name, row, colour in ch.series],
            "anchor": f"{col_letter(ch.anchor[1])}{ch.anchor[0] + 1}",
            "width": ch.size[0] * 0.75, "height": ch.size[1] * 0.75,
            "percent": bool(ch.pct), "yTitle": ch.y_title or None,
        })
    return out
