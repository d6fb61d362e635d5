"""Cell styles for every workbook putuo-xl writes, read from a template an office can restyle.

The template `putuo_xl/data/workbook_templates/styles.xlsx` has one row per style: the style's key, what it is
used for, and a sample cell formatted with that style. Change the sample cell in Excel or WPS
(font, size, colour, fill, border, alignment, number format) and save: the next build uses it.
Styles missing from the template, or a missing template, fall back to the defaults below.

The template is looked up beside the config file first (`<config dir>/workbook_templates/`),
then in the package data (`putuo_xl/data/workbook_templates/`, in a checkout and in what
`pip install` brings; see resources.py). It is read once per process and translated into
xlsxwriter format properties (`Styles.props(key)`), so writing a workbook costs no extra I/O.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

TEMPLATE_NAME = "styles.xlsx"
TEMPLATE_SHEET = "樣式"
TEXT_FONT = "SimSun"       # 宋體
HEAD_FONT = "SimHei"       # 黑體
GB_CHARSET = 134           # font charset: GB2312, so Excel picks the East Asian font for CJK

_BORDER = {"border": 1, "border_color": "#A6A6A6"}
_TEXT = {"font_name": TEXT_FONT, "font_size": 10.5, "font_charset": GB_CHARSET}
_HEAD = {"font_name": HEAD_FONT, "font_size": 10.5, "font_charset": GB_CHARSET}
_CELL = {**_TEXT, **_BORDER, "valign": "vcenter", "text_wrap": True}
_CENTER = {**_CELL, "align": "center", "valign": "vcenter"}
_INPUT = {**_CELL, "bg_color": "#FFF9DB", "locked": False}

# key -> (what it is for, xlsxwriter format properties)
DEFAULTS: dict[str, tuple[str, dict]] = {
    "title": ("工作表大標題", {"font_name": HEAD_FONT, "font_size": 16, "font_charset": GB_CHARSET,
                           "align": "center", "valign": "vcenter"}),
    "subtitle": ("標題下的說明行(文號、單位、月份)", {**_TEXT, "font_size": 10, "font_color": "#404040",
                                            "align": "left", "valign": "vcenter"}),
    "header": ("表頭", {**_HEAD, **_BORDER, "bg_color": "#DDEBF7", "align": "center",
                      "valign": "vcenter", "text_wrap": True}),
    "header_auto": ("表頭:由月報自動匯總的列", {**_HEAD, **_BORDER, "bg_color": "#E2EFDA",
                                        "align": "center", "valign": "vcenter", "text_wrap": True}),
    "header_input": ("表頭:月報中由單位填寫的列", {**_HEAD, **_BORDER, "bg_color": "#FCE4D6",
                                         "align": "center", "valign": "vcenter", "text_wrap": True}),
    "cell": ("正文單元格(自動換行、頂端對齊)", _CELL),
    "cell_center": ("居中的正文單元格(編號、單位、狀態)", _CENTER),
    "cell_date": ("日期單元格", {**_CENTER, "num_format": 'yyyy"年"m"月"d"日"'}),
    "cell_number": ("數值單元格", {**_CENTER, "num_format": "General"}),
    "cell_auto": ("自動匯總的單元格(公式)", {**_CENTER, "bg_color": "#F5F9F2"}),
    "cell_auto_pct": ("自動匯總的百分比", {**_CENTER, "bg_color": "#F5F9F2", "num_format": "0%"}),
    "cell_auto_date": ("自動匯總的日期或月份", {**_CENTER, "bg_color": "#F5F9F2",
                                       "num_format": "yyyy-mm-dd"}),
    "locked": ("月報中不可修改的單元格", {**_CELL, "bg_color": "#F2F2F2"}),
    "locked_center": ("月報中不可修改的居中單元格", {**_CENTER, "bg_color": "#F2F2F2"}),
    "locked_sub": ("月報中同一任務的第二項及以後指標行", {**_CELL, "bg_color": "#F2F2F2",
                                           "font_color": "#7F7F7F"}),
    "input": ("月報中由單位填寫的文字單元格", _INPUT),
    "input_center": ("月報中由單位填寫的下拉單元格", {**_INPUT, "align": "center", "valign": "vcenter"}),
    "input_pct": ("月報中的完成進度(百分比)", {**_INPUT, "align": "center", "valign": "vcenter",
                                    "num_format": "0%"}),
    "input_number": ("月報中的指標實際值(數字)", {**_INPUT, "align": "center", "valign": "vcenter",
                                       "num_format": "General"}),
    "label": ("標籤(如「選擇單位」「填報單位」)", {**_HEAD, "align": "left", "valign": "vcenter"}),
    "picker": ("下拉選擇框(按單位查看的單位)", {**_HEAD, "font_size": 12, "bg_color": "#FFF9DB",
                                     "border": 2, "border_color": "#C65911", "align": "center",
                                     "valign": "vcenter", "locked": False}),
    "text": ("說明文字", {**_TEXT, "valign": "top", "text_wrap": True}),
    "note": ("小字提示", {**_TEXT, "font_size": 9, "font_color": "#7F7F7F", "valign": "top",
                      "text_wrap": True}),
    "heading": ("說明頁的小標題", {**_HEAD, "font_size": 12, "valign": "vcenter"}),
    "link": ("工作表鏈接", {**_TEXT, "font_color": "#0563C1", "underline": 1, "valign": "top"}),
    "matrix_head": ("責任矩陣的單位名(豎排)", {**_HEAD, **_BORDER, "font_size": 10, "rotation": 270,
                                      "bg_color": "#DDEBF7", "align": "center", "valign": "top"}),
    "matrix_cell": ("責任矩陣的標記 ● ○", {**_TEXT, **_BORDER, "font_size": 11, "align": "center",
                                     "valign": "vcenter"}),
    "count": ("合計行", {**_HEAD, **_BORDER, "bg_color": "#F2F2F2", "align": "center",
                      "valign": "vcenter"}),
    "good": ("綠色:已完成、按計劃推進、達標", {"bg_color": "#C6EFCE", "font_color": "#006100"}),
    "ontrack": ("淺綠:推進中(按計劃推進)", {"bg_color": "#E2F0D9", "font_color": "#375623"}),
    "risk": ("黃色:臨近時限、需關注", {"bg_color": "#FFEB9C", "font_color": "#9C5700"}),
    "bad": ("紅色:滯後、逾期、未達標", {"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
    "idle": ("灰色:未啟動、尚未填報", {"bg_color": "#EDEDED", "font_color": "#595959"}),
    "page_header": ("頁眉頁腳字體(只取字體和字號)", {"font_name": HEAD_FONT, "font_size": 9}),
}

# xlsxwriter border index <-> OOXML border style name
_BORDER_STYLES = ["none", "thin", "medium", "dashed", "dotted", "thick", "double", "hair",
                  "mediumDashed", "dashDot", "mediumDashDot", "dashDotDot", "mediumDashDotDot",
                  "slantDashDot"]

# Office 2013+ default theme colours in SpreadsheetML theme index order (lt1, dk1, lt2, dk2, …)
_THEME = ["FFFFFF", "000000", "E7E6E6", "44546A", "4472C4", "ED7D31", "A5A5A5", "FFC000",
          "5B9BD5", "70AD47", "0563C1", "954F72"]


@dataclass
class Styles:
    props_by_key: dict[str, dict] = field(default_factory=dict)
    source: str = "defaults"

    def props(self, key: str, **extra) -> dict:
        base = self.props_by_key.get(key) or DEFAULTS[key][1]
        out = dict(base)            # flat dict of scalars: a shallow copy is a full copy
        out.update(extra)
        return out

    def font(self, key: str = "page_header") -> tuple[str, float]:
        p = self.props(key)
        return p.get("font_name", HEAD_FONT), p.get("font_size", 9)


class FormatCache:
    """xlsxwriter formats for one workbook, created on first use."""

    def __init__(self, workbook, styles: Styles):
        self.wb, self.styles, self._cache = workbook, styles, {}

    def __call__(self, key: str, **extra):
        ck = (key, tuple(sorted(extra.items()))) if extra else key
        f = self._cache.get(ck)
        if f is None:
            f = self._cache[ck] = self.wb.add_format(self.styles.props(key, **extra))
        return f


# -- reading the template ------------------------------------------------------------------

def template_candidates(config=None) -> list[Path]:
    out = []
    cfg_path = getattr(config, "path", None)
    if cfg_path and not str(cfg_path).startswith("<"):
        out.append(Path(cfg_path).resolve().parent / "workbook_templates" / TEMPLATE_NAME)
    from putuo_xl.resources import resource_candidates
    for p in resource_candidates("workbook_templates", TEMPLATE_NAME):
        if all(p.resolve() != q.resolve() for q in out):
            out.append(p)
    return out


def load_styles(config=None, path: str | Path | None = None) -> Styles:
    """The styles from the first template found (or `path`), over the built-in defaults."""
    if path is not None:
        return _load_cached(str(Path(path).resolve()), _mtime(Path(path)))
    for cand in template_candidates(config):
        if cand.exists():
            return _load_cached(str(cand), _mtime(cand))
    return Styles({k: v[1] for k, v in DEFAULTS.items()}, "defaults")


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except FileNotFoundError:
        return 0.0


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> Styles:
    from openpyxl import load_workbook

    from putuo_xl.errors import InputError

    props = {k: v[1] for k, v in DEFAULTS.items()}
    try:
        wb = load_workbook(path)
    except FileNotFoundError:
        raise InputError("找不到樣式模板。", file=path) from None
    except Exception as e:  # a corrupt template: say so, do not guess
        raise InputError(f"樣式模板無法打開({type(e).__name__}),請用 Excel 另存為 .xlsx 後重試,"
                         f"或刪除它以使用默認樣式。", file=path) from None
    ws = wb[TEMPLATE_SHEET] if TEMPLATE_SHEET in wb.sheetnames else wb.worksheets[0]
    for row in ws.iter_rows(min_row=2):
        if len(row) < 3:
            continue
        key = row[0].value
        if isinstance(key, str) and key.strip() in DEFAULTS:
            props[key.strip()] = cell_to_props(row[2], DEFAULTS[key.strip()][1])
    wb.close()
    return Styles(props, path)


def _color(c) -> str | None:
    """An openpyxl Color as #RRGGBB (rgb, theme with tint, or indexed); None if unset."""
    if c is None:
        return None
    try:
        if c.type == "rgb" and isinstance(c.rgb, str):
            rgb = c.rgb[-6:]
            return None if c.rgb in ("00000000",) else "#" + rgb.upper()
        if c.type == "theme" and c.theme is not None and c.theme < len(_THEME):
            return "#" + _tint(_THEME[c.theme], c.tint or 0.0)
        if c.type == "indexed" and c.indexed is not None:
            from openpyxl.styles.colors import COLOR_INDEX
            if c.indexed < len(COLOR_INDEX) and c.indexed not in (64, 65):
                return "#" + COLOR_INDEX[c.indexed][-6:].upper()
    except (AttributeError, TypeError, ValueError):
        return None
    return None


def _tint(hex6: str, tint: float) -> str:
    r, g, b = (int(hex6[i:i + 2], 16) / 255 for i in (0, 2, 4))
    h, lum, s = colorsys.rgb_to_hls(r, g, b)
    lum = lum * (1 + tint) if tint < 0 else lum * (1 - tint) + tint
    r, g, b = colorsys.hls_to_rgb(h, min(max(lum, 0), 1), s)
    return "".join(f"{round(x * 255):02X}" for x in (r, g, b))


def cell_to_props(cell, default: dict) -> dict:
    """Translate an openpyxl cell's style into xlsxwriter format properties."""
    p: dict = {}
    f = cell.font
    if f is not None:
        if f.name:
            p["font_name"] = f.name
            p["font_charset"] = GB_CHARSET
        if f.sz:
            p["font_size"] = float(f.sz)
        if f.b:
            p["bold"] = True
        if f.i:
            p["italic"] = True
        if f.u:
            p["underline"] = 1
        col = _color(f.color)
        if col and col != "#000000":
            p["font_color"] = col
    fill = cell.fill
    if fill is not None and getattr(fill, "fill_type", None) == "solid":
        col = _color(fill.fgColor)
        if col:
            p["bg_color"] = col
    b = cell.border
    if b is not None:
        for side in ("left", "right", "top", "bottom"):
            s = getattr(b, side)
            if s is not None and s.style in _BORDER_STYLES and s.style != "none":
                p[side] = _BORDER_STYLES.index(s.style)
                col = _color(s.color)
                if col:
                    p[f"{side}_color"] = col
    a = cell.alignment
    if a is not None:
        if a.horizontal and a.horizontal != "general":
            p["align"] = {"centerContinuous": "center_across"}.get(a.horizontal, a.horizontal)
        if a.vertical:
            p["valign"] = {"center": "vcenter"}.get(a.vertical, a.vertical)
        if a.wrap_text:
            p["text_wrap"] = True
        if a.textRotation:
            p["rotation"] = 270 if a.textRotation == 255 else (
                a.textRotation if a.textRotation <= 90 else 90 - a.textRotation)
    if cell.number_format and cell.number_format != "General":
        p["num_format"] = cell.number_format
    elif "num_format" in default:
        p["num_format"] = "General"
    if cell.protection is not None and cell.protection.locked is False:
        p["locked"] = False
    return p


# -- writing the template ------------------------------------------------------------------

def _props_to_openpyxl(props: dict):
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

    def col(c):
        return ("FF" + c.lstrip("#").upper()) if c else None

    font = Font(name=props.get("font_name"), sz=props.get("font_size"), b=props.get("bold"),
                i=props.get("italic"), u="single" if props.get("underline") else None,
                color=col(props.get("font_color")), charset=props.get("font_charset"))
    fill = (PatternFill("solid", fgColor=col(props["bg_color"])) if props.get("bg_color")
            else PatternFill())
    sides = {}
    for side in ("left", "right", "top", "bottom"):
        idx = props.get(side, props.get("border", 0))
        c = props.get(f"{side}_color", props.get("border_color"))
        sides[side] = Side(style=_BORDER_STYLES[idx], color=col(c)) if idx else Side()
    rot = props.get("rotation", 0)
    rot = 255 if rot == 270 else rot
    align = Alignment(horizontal={"center_across": "centerContinuous"}.get(props.get("align"), props.get("align")),
                      vertical={"vcenter": "center"}.get(props.get("valign"), props.get("valign")),
                      wrap_text=props.get("text_wrap") or None,
                      textRotation=rot if rot >= 0 or rot == 255 else 90 - rot)
    prot = Protection(locked=props.get("locked", True))
    return font, fill, Border(**sides), align, prot, props.get("num_format", "General")


def write_template(path: str | Path) -> Path:
    """Write the default styles as an editable template (how workbook_templates/styles.xlsx is made)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = TEMPLATE_SHEET
    ws.append(["樣式鍵(勿改)", "用途", "樣例:修改這一格的字體、顏色、邊框、對齊和數字格式即可改變所有生成表格的樣式"])
    for c in ws[1]:
        c.font = Font(name=HEAD_FONT, sz=11, b=True)
    for key, (use, props) in DEFAULTS.items():
        ws.append([key, use, "樣例 Sample 2020年12月31日" if "num_format" not in props else 0.85])
        cell = ws.cell(row=ws.max_row, column=3)
        cell.font, cell.fill, cell.border, cell.alignment, cell.protection, cell.number_format = \
            _props_to_openpyxl(props)
        if props.get("rotation") == 270:
            ws.row_dimensions[ws.max_row].height = 90
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["C"].width = 44
    ws.freeze_panes = "A2"
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


if __name__ == "__main__":  # python -m putuo_xl.workbook.styles [PATH]: (re)write the default template
    import sys
    print(write_template(sys.argv[1] if len(sys.argv) > 1 else
                         Path(__file__).resolve().parent / "data" / "workbook_templates" / TEMPLATE_NAME))
