"""Which file is whose: a form is known by its hidden `_form` metadata (kind, unit, month),
cross-checked with its file name, before it is mailed to anyone."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from putuo_xl import layout
from putuo_xl.config import Config
from putuo_xl.errors import InputError
from putuo_xl.text import SIMPLIFIED, TRADITIONAL, detect_script, norm_name


DEFAULT_FILE_NAME = "{month}_{unit}_法治政府建設月報.xlsx"
# The `_form` metadata a sent form is known by (see FormFile.identity).
FORM_IDENTITY_KEYS = ("kind", "unit", "month", "due", "plan_fingerprint", "form_version",
                      "task_ids", "indicator_ids")


@dataclass
class FormFile:
    path: Path
    unit: str
    month: str
    due: str
    plan_fingerprint: str
    script: str
    meta: dict

    def identity(self) -> str:
        """What makes two forms the same form for the unit: its `_form` metadata without the
        moment and the program that wrote it (`created`, `generator`), so that a form
        regenerated from an unchanged plan (`forms --force`) is the form already sent."""
        return "\n".join(f"{k}={self.unit if k == 'unit' else self.meta.get(k, '')}"
                         for k in FORM_IDENTITY_KEYS)


def cell_str(v) -> str:
    """A cell as calamine reads it → its text (dates as ISO, 3.0 as 3)."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_form_meta(path: str | Path) -> tuple[dict[str, str], dict[str, int], list[str]]:
    """The `_form` sheet (key | value, hidden or veryHidden) → (meta, key → row, sheet names)."""
    import python_calamine

    p = Path(path)
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(p))
    except Exception as e:  # noqa: BLE001 - calamine raises several types for bad files
        raise InputError(f"不是能打開的 Excel 文件({type(e).__name__})。請確認它是 .xlsx 格式。",
                         file=p.name, code="bad_file") from None
    names = list(wb.sheet_names)
    if layout.FORM_META_SHEET not in names:
        raise InputError(f"沒有月報的隱藏工作表「{layout.FORM_META_SHEET}」,不是 putuo-xl 生成的"
                         f"月報填報表。請用 putuo-xl forms 重新生成。", file=p.name,
                         sheet=layout.FORM_META_SHEET, code="bad_file")
    meta, rows = {}, {}
    for i, row in enumerate(wb.get_sheet_by_name(layout.FORM_META_SHEET).to_python(), start=1):
        if not row or not cell_str(row[0]):
            continue
        key = cell_str(row[0])
        meta[key] = cell_str(row[1]) if len(row) > 1 else ""
        rows[key] = i
    return meta, rows, names


def _file_name_regex(template: str, month: str) -> re.Pattern | None:
    parts = re.split(r"(\{[a-z_]+\})", norm_name(template))
    if "{unit}" not in parts:
        return None
    rx = ""
    for part in parts:
        if part == "{unit}":
            rx += r"(?P<unit>.+?)"
        elif part == "{month}":
            rx += re.escape(norm_name(month))
        elif part.startswith("{"):
            rx += ".*?"
        else:
            rx += re.escape(part)
    return re.compile(rx + "$", re.IGNORECASE)


def units_named_in(text: str, config: Config) -> set[str]:
    """The units of config.yaml whose name or alias `text` contains."""
    n = norm_name(text)
    found = set()
    for alias, canonical in config.known_names().items():
        if canonical in config.units and len(alias) >= 2 and alias in n:
            found.add(canonical)
    return found


def identify_form(path: str | Path, config: Config, month: str | None = None) -> FormFile:
    """Whose form is this? From its `_form` metadata (kind, unit, month), cross-checked with the
    file name; raises InputError naming the file, sheet and cell when they disagree."""
    p = Path(path)
    meta, rows, names = read_form_meta(p)
    sheet = layout.FORM_META_SHEET

    def bad(msg, key=None):
        return InputError(msg, file=p.name, sheet=sheet,
                          cell=f"B{rows[key]}" if key in rows else None, code="bad_file")

    if meta.get("kind") != layout.FORM_KIND:
        raise bad(f"元數據 kind 是「{meta.get('kind', '')}」,不是月報填報表({layout.FORM_KIND})。",
                  "kind")
    unit_raw = meta.get("unit", "")
    unit = config.resolve(unit_raw) if unit_raw else None
    if not unit_raw:
        raise bad("元數據中沒有單位(unit)。請用 putuo-xl forms 重新生成這份表。", "unit")
    if unit is None or unit not in config.units:
        err = bad(f"元數據中的單位「{unit_raw}」不在 config.yaml 的單位名錄中。"
                  f"請在 units 下添加它(或它的別名),或重新生成這份表。", "unit")
        err.code, err.unit = "unknown_unit", unit_raw
        raise err
    form_month = meta.get("month", "")
    if not re.fullmatch(r"\d{4}-\d{2}", form_month):
        raise bad(f"元數據中的月份「{form_month}」不是 YYYY-MM 格式。", "month")
    if month and form_month != month:
        raise InputError(f"這是 {layout.month_label(form_month)} 的月報,不是 "
                         f"{layout.month_label(month)} 的。", file=p.name, sheet=sheet,
                         cell=f"B{rows['month']}" if "month" in rows else None, code="other_month")

    # Cross-check with the file name: it must name this unit (and no other) and this month.
    template = config.section("forms").get("file_name") or DEFAULT_FILE_NAME
    rx = _file_name_regex(template, form_month)
    name_n = norm_name(p.name)
    named: set[str] = set()
    m = rx.match(name_n) if rx else None
    if m:
        u = config.resolve(m.group("unit"))
        named = {u} if u else units_named_in(m.group("unit"), config)
    else:
        named = units_named_in(p.stem, config)
        other_months = set(re.findall(r"(?<!\d)(\d{4})[-年.](\d{1,2})(?!\d)", p.stem))
        if any(f"{y}-{int(mo):02d}" != form_month for y, mo in other_months):
            raise bad(f"文件名中的月份與表內元數據的月份({form_month})不一致。"
                      f"請改回 putuo-xl forms 生成時的文件名。", "month")
    expected = template.format(month=form_month, unit=unit)
    if unit not in named:
        if named:
            raise bad(f"文件名寫的是「{'、'.join(sorted(named))}」,表內元數據卻是「{unit}」。"
                      f"為避免發錯單位,這份表不發送;請用 putuo-xl forms 重新生成。", "unit")
        raise bad(f"文件名中沒有單位名稱,無法與表內的「{unit}」核對。"
                  f"請把文件名改回「{expected}」。", "unit")
    if len(named) > 1:
        raise bad(f"文件名中出現了多個單位({'、'.join(sorted(named))})。"
                  f"請把文件名改回「{expected}」。", "unit")

    # the notice's script: forms name their sheets in it (月報 / 月报); else a short sample
    if layout.header(layout.FORM_SHEET, SIMPLIFIED) in names:
        script = SIMPLIFIED
    elif layout.header(layout.FORM_SHEET, TRADITIONAL) in names:
        script = TRADITIONAL
    else:
        script = detect_script((p.stem + "".join(n for n in names))[:200])
    return FormFile(path=p, unit=unit, month=form_month, due=meta.get("due", ""),
                    plan_fingerprint=meta.get("plan_fingerprint", ""), script=script, meta=meta)


def is_form_candidate(p: Path) -> bool:
    """A workbook in a folder that may be a form (not a lock or temporary file)."""
    n = p.name
    return (p.is_file() and p.suffix.lower() in (".xlsx", ".xlsm")
            and not n.startswith(("~$", ".~", ".tmp-", "._")))
