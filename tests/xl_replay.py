"""What Excel would show after replaying the actions an xlwings script sends back — a model of
the cells (values, number formats, fills, fonts, alignment, merges, conditional formats,
charts, column widths, row heights) kept per sheet, that the tests build from a workbook file
(what a CLI run wrote, read by openpyxl) or from a payload, then change action by action as the
Office.js client does, and compare with what the CLI wrote.

Only what the comparisons need is modelled. `sheetClear` clears values and formats (Office.js
Range.clear("All")); merges and conditional formats are taken away only by the actions that
take them away (rangeUnmerge, clearConditionalFormats), so a script has to send those."""
from __future__ import annotations

import datetime

from dataclasses import dataclass, field
from typing import Any

FORMAT_KEYS = ("num_format", "fill", "font_name", "font_size", "bold", "font_color", "align",
               "valign", "wrap")


@dataclass
class SheetState:
    name: str
    visible: bool = True
    values: dict = field(default_factory=dict)        # (r, c) 0-based -> value
    fmt: dict = field(default_factory=dict)           # (r, c) -> {key: value}
    merges: set = field(default_factory=set)          # (r0, c0, r1, c1)
    cond: list = field(default_factory=list)          # (r0, c0, r1, c1, kind, formulas, colour)
    charts: list = field(default_factory=list)        # dicts
    widths: dict = field(default_factory=dict)        # c -> points
    heights: dict = field(default_factory=dict)       # r -> points
    borders: dict = field(default_factory=dict)       # (r, c) -> colour (all sides alike)
    freeze: str | None = None
    gridlines: bool = True

    def matrix(self) -> list[list]:
        if not self.values:
            return []
        nr = max(r for r, _ in self.values) + 1
        nc = max(c for _, c in self.values) + 1
        out = [[None] * nc for _ in range(nr)]
        for (r, c), v in self.values.items():
            out[r][c] = v
        return out


class BookState:
    def __init__(self, sheets: list[SheetState]):
        self.sheets = sheets

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sheets]

    def __getitem__(self, name: str) -> SheetState:
        return self.sheets[self.names.index(name)]

    # -- building --------------------------------------------------------------------------
    @classmethod
    def from_xlsx(cls, path) -> "BookState":
        import openpyxl
        from openpyxl.utils import range_boundaries

        wb = openpyxl.load_workbook(path, data_only=True)
        sheets = []
        for ws in wb.worksheets:
            s = SheetState(ws.title, ws.sheet_state == "visible")
            for row in ws.iter_rows():
                for c in row:
                    if c.__class__.__name__ == "MergedCell":
                        continue
                    key = (c.row - 1, c.column - 1)
                    if c.value is not None:
                        s.values[key] = c.value
                    f = {}
                    if c.number_format and c.number_format != "General":
                        f["num_format"] = c.number_format
                    if c.fill is not None and c.fill.fill_type == "solid":
                        f["fill"] = "#" + str(c.fill.fgColor.rgb)[-6:].upper()
                    if c.has_style:
                        f["font_name"] = c.font.name
                        f["font_size"] = float(c.font.sz) if c.font.sz else None
                        f["bold"] = bool(c.font.b)
                        if c.alignment.horizontal:
                            f["align"] = c.alignment.horizontal
                        f["wrap"] = bool(c.alignment.wrap_text)
                    if f:
                        s.fmt[key] = f
            s.gridlines = ws.sheet_view.showGridLines is not False
            for m in ws.merged_cells.ranges:
                c0, r0, c1, r1 = m.bounds
                s.merges.add((r0 - 1, c0 - 1, r1 - 1, c1 - 1))
                top = s.fmt.get((r0 - 1, c0 - 1))   # a merged area looks like its first cell
                for r in range(r0 - 1, r1):
                    for c in range(c0 - 1, c1):
                        if top and (r, c) != (r0 - 1, c0 - 1):
                            s.fmt[(r, c)] = dict(top)
            for cf in ws.conditional_formatting:
                for rng in str(cf.sqref).split():
                    c0, r0, c1, r1 = range_boundaries(rng)
                    for rule in cf.rules:
                        s.cond.append(_openpyxl_rule(r0 - 1, c0 - 1, r1 - 1, c1 - 1, rule))
            for ch in ws._charts:
                s.charts.append({"name": "chart", "series": len(ch.series)})
            for letter, dim in ws.column_dimensions.items():
                if dim.width:
                    px = round(dim.width * 7)
                    for ci in range(dim.min, dim.max + 1):
                        s.widths[ci - 1] = px * 0.75
            for r, dim in ws.row_dimensions.items():
                if dim.height:
                    s.heights[r - 1] = float(dim.height)
            sheets.append(s)
        wb.close()
        return cls(sheets)

    @classmethod
    def from_payload(cls, body: dict) -> "BookState":
        sheets = []
        for sp in body["sheets"]:
            s = SheetState(sp["name"], sp["visibility"] == "Visible")
            for r, row in enumerate(sp["values"]):
                for c, v in enumerate(row):
                    if v not in ("", None):
                        s.values[(r, c)] = v
            s.charts = [dict(c) for c in sp.get("charts", [])]
            sheets.append(s)
        return cls(sheets)

    def payload(self, name: str, exclude=(), selection=("A1", 0)) -> dict:
        """The body the Office.js client would send for this state."""
        from putuo_xl.excel.payload import book_payload, sheet_payload
        sheets = []
        for s in self.sheets:
            sp = sheet_payload(s.name, s.matrix(), "Visible" if s.visible else "Hidden",
                               excluded=s.name in exclude)
            if s.name not in exclude:
                sp["charts"] = [{"name": c.get("name", "chart"), "chart_type": "Line", "left": 0,
                                 "top": 0, "width": 300, "height": 200} for c in s.charts]
            sheets.append(sp)
        body = book_payload(sheets, name)
        body["book"]["selection"], body["book"]["active_sheet_index"] = selection
        return body

    # -- replaying -------------------------------------------------------------------------
    def put_sheets(self, spec: dict, xlsx: bytes) -> None:
        """What the add-in's putuoPutSheets callback does (server/static/js/putuo-office.js):
        the file's sheets replace the book's (in place) or go before the first `before` sheet;
        temporary data sheets give their values to the sheets of that name."""
        import io
        new = BookState.from_xlsx(io.BytesIO(xlsx))
        names = [n.lower() for n in self.names]
        at = None
        replaced = [i for i, n in enumerate(names) if n in {x.lower() for x in spec["replace"]}]
        if replaced:
            at = replaced[0]
            self.sheets = [s for i, s in enumerate(self.sheets) if i not in replaced]
        else:
            for b in spec["before"]:
                if b.lower() in names:
                    at = names.index(b.lower())
                    break
        inserted = [new[n] for n in spec["insert"]]
        at = len(self.sheets) if at is None else at
        self.sheets[at:at] = inserted
        for temp, target in spec["copies"]:
            src = self[temp]
            if target in self.names:
                self[target].values = dict(src.values)
                self.sheets.remove(src)
            else:
                src.name = target
        for n in spec["hidden"]:
            if n in self.names:
                self[n].visible = False
        for c in spec["charts"]:
            self[c["sheet"]].charts.append({"name": "chart", "series": len(c["series"]), "title": c["title"]})

    def replay(self, actions: list[dict]) -> "BookState":
        for a in actions:
            f = a["func"]
            if f == "runMacro" and a["args"][0] == "putuoPutSheets":
                import base64
                import json
                self.put_sheets(json.loads(a["args"][1]), base64.b64decode(a["args"][2]))
                continue
            if f == "addSheet":
                ix, name = a["args"]
                self.sheets.insert(ix, SheetState(name))
                continue
            pos = a.get("sheet_position")
            if pos is None:
                continue
            s = self.sheets[pos]
            r0, c0 = a.get("start_row"), a.get("start_column")
            nr, nc = a.get("row_count"), a.get("column_count")
            cells = ([(r, c) for r in range(r0, r0 + nr) for c in range(c0, c0 + nc)]
                     if r0 is not None and nr is not None else [])
            args = a.get("args") or []
            if f == "sheetClear":
                s.values.clear(); s.fmt.clear(); s.borders.clear()
            elif f == "sheetClearContents":
                s.values.clear()
            elif f == "setValues":
                for i, row in enumerate(a["values"]):
                    for j, v in enumerate(row):
                        key = (r0 + i, c0 + j)
                        if v in ("", None):
                            s.values.pop(key, None)
                        else:
                            s.values[key] = v
            elif f == "setSheetVisibility":
                s.visible = args[0] == "Visible"
            elif f == "setNumberFormat":
                self._set(s, cells, "num_format", None if args[0] == "General" else args[0])
            elif f == "setRangeColor":
                self._set(s, cells, "fill", args[0].upper() if args[0] else None)
            elif f == "setFontProperty":
                prop, value = args
                key = {"name": "font_name", "size": "font_size", "bold": "bold",
                       "color": "font_color"}[prop]
                self._set(s, cells, key, float(value) if key == "font_size" else value)
            elif f == "setHorizontalAlignment":
                v = args[0].lower()
                self._set(s, cells, "align", None if v == "general" else v)
            elif f == "setVerticalAlignment":
                self._set(s, cells, "valign", args[0].lower())
            elif f == "setWrapText":
                self._set(s, cells, "wrap", bool(args[0]))
            elif f == "setBorderProperty":
                side, attr, value = args
                if attr == "color":
                    for k in cells:
                        s.borders[k] = value
                elif attr == "line_style" and value is None:
                    for k in cells:
                        s.borders.pop(k, None)
            elif f == "rangeMerge":
                s.merges.add((r0, c0, r0 + nr - 1, c0 + nc - 1))
            elif f == "rangeUnmerge":
                s.merges = {m for m in s.merges if not _overlap(m, (r0, c0, r0 + nr - 1, c0 + nc - 1))}
            elif f == "clearConditionalFormats":
                box = (r0, c0, r0 + nr - 1, c0 + nc - 1)
                s.cond = [x for x in s.cond if not _overlap(x[:4], box)]
            elif f == "addConditionalFormat":
                s.cond.append(_entry_rule(r0, c0, r0 + nr - 1, c0 + nc - 1, args[0]))
            elif f == "setColumnWidth":
                for c in range(c0, c0 + nc):
                    s.widths[c] = float(args[0])
            elif f == "setRowHeight":
                for r in range(r0, r0 + nr):
                    s.heights[r] = float(args[0])
            elif f == "deleteChart":
                del s.charts[args[0]]
            elif f == "addChart":
                s.charts.append({"name": args[0], "type": args[1], "source_sheet": args[2],
                                 "source": args[3], "left": args[4], "top": args[5],
                                 "width": args[6], "height": args[7], "plot_by": args[8]})
            elif f == "setChartSeries":
                s.charts[args[0]].setdefault("series_fmt", {})[args[1]] = args[2]
            elif f == "setChartTitle":
                s.charts[args[0]]["title"] = args[1]
            elif f == "setShowGridlines":
                s.gridlines = bool(args[0])
            elif f == "freezePaneAtRange":
                s.freeze = args[0]
        return self

    @staticmethod
    def _set(s: SheetState, cells, key, value):
        for k in cells:
            f = s.fmt.setdefault(k, {})
            if value is None:
                f.pop(key, None)
            else:
                f[key] = value


def _overlap(a, b) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def _openpyxl_rule(r0, c0, r1, c1, rule):
    if rule.type == "dataBar":
        db = rule.dataBar
        colour = "#" + str(db.color.rgb)[-6:].upper()
        return (r0, c0, r1, c1, "databar", tuple(_num(v.val) for v in db.cfvo), colour)
    if rule.dxf is None or rule.dxf.fill is None:
        return (r0, c0, r1, c1, rule.type, tuple(str(f) for f in rule.formula), None)
    fill = rule.dxf.fill
    colour = "#" + str((fill.bgColor.rgb if fill.bgColor is not None and fill.bgColor.rgb != "00000000"
                        else fill.fgColor.rgb))[-6:].upper()
    formulas = tuple(f if str(f).startswith('"') else _num(f) for f in rule.formula)
    return (r0, c0, r1, c1, rule.operator, formulas, colour)


_OPS = {"EqualTo": "equal", "GreaterThanOrEqual": "greaterThanOrEqual", "Between": "between"}


def _num(x) -> str:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    return str(int(f)) if f.is_integer() else repr(f)


def _entry_rule(r0, c0, r1, c1, entry: dict):
    if entry["type"] == "DataBar":
        return (r0, c0, r1, c1, "databar", tuple(_num(t) for t in entry["thresholds"]),
                entry["bar_color"].upper())
    formulas = [entry["formula1"]] + ([entry["formula2"]] if entry.get("formula2") is not None else [])
    formulas = [f if f.startswith('"') else _num(f) for f in formulas]
    return (r0, c0, r1, c1, _OPS[entry["operator"]], tuple(formulas), entry["fill_color"].upper())


def as_excel_keeps(values):
    """Values written by a setValues action as Excel holds them: a leading apostrophe is Excel's
    text prefix (keep the rest as text), not part of the value."""
    return [[v[1:] if isinstance(v, str) and v.startswith("'") else v for v in row] for row in values]


def norm_value(v: Any) -> Any:
    """A cell value as both writers leave it: text prefixes gone, whole floats as ints."""
    if isinstance(v, str):
        if v.startswith("'"):
            v = v[1:]
        return v if v.strip() else None
    if isinstance(v, bool):
        return v
    if isinstance(v, datetime.datetime):     # a date-formatted number, as openpyxl reads it
        d = v - datetime.datetime(1899, 12, 30)
        v = d.days + d.seconds / 86400
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v
