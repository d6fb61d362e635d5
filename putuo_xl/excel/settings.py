"""The 設置 sheet: what the ribbon actions need from the official (the month, the folders,
the notice), read once per action as a key | value table.

    項目        值        說明
    報告月份    2020-08   生成月報、導入回報…所針對的月份
    通知文件              …

Labels are matched in either script and width; a missing sheet is created with defaults
(the current month) the first time an action needs it. On the server, paths are relative to
the workbook's project folder inside the server's data folder and may not leave it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from putuo_xl.text import halfwidth, in_script, norm_name
from putuo_xl.excel.book import Matrix, cell_text

SETTINGS_SHEET = "設置"
LOG_SHEET = "操作記錄"

# key, label (traditional; shown in the notice's script), help text
FIELDS: list[tuple[str, str, str]] = [
    ("month", "報告月份",
     "生成月報、導入回報、刷新匯總、催報和發送通報所針對的月份,格式如 2020-08。"),
    ("notice", "通知文件",
     "生成台賬所用的工作要點通知(.txt/.html/.docx)、任務分解表(.xlsx)或 plan.yaml。留空 = 內置的 2020 年普陀區工作要點。"),
    ("forms_dir", "月報文件夾",
     "生成的月報寫到這裏。留空 = 台賬旁的「月報」文件夾(按月份分子文件夾)。"),
    ("returns_dir", "回報文件夾",
     "各單位交回的月報所在的文件夾(可含子文件夾)。留空 = 台賬旁的「回報/月份」文件夾。"),
    ("config", "配置文件",
     "config.yaml(單位名錄、郵箱、評分辦法)。留空 = 內置的普陀區配置。"),
    ("dry_run", "郵件只預覽",
     "填「是」時發送月報、催報、通報只列出將發送的郵件,不真正發出。"),
]
STATUS_FIELDS: list[tuple[str, str]] = [
    ("last_action", "上次操作"),
    ("last_result", "操作結果"),
]
HEADER = ["項目", "值", "說明"]
_LABELS = {norm_name(label): key for key, label, _ in FIELDS}
_LABELS.update({norm_name(label): key for key, label in STATUS_FIELDS})
_YES = {"是", "y", "yes", "true", "1", "對", "对", "√", "✓"}


def settings_sheet_name(script: str = "traditional") -> str:
    return in_script(SETTINGS_SHEET, script)


def log_sheet_name(script: str = "traditional") -> str:
    return in_script(LOG_SHEET, script)


@dataclass
class Settings:
    values: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)   # key -> "B3" (where the value sits)
    sheet: str | None = None                               # None = the book has no 設置 sheet

    def text(self, key: str) -> str:
        return cell_text(self.values.get(key))

    def flag(self, key: str) -> bool:
        return self.text(key).lower() in _YES

    def where(self, key: str) -> str:
        sheet = self.sheet or SETTINGS_SHEET
        return f"{sheet}!{self.cells.get(key, 'B?')}"


def read_settings(values: Matrix, sheet: str | None) -> Settings:
    """Settings from the 設置 sheet's values (label in column A, value in column B)."""
    s = Settings(sheet=sheet)
    for r, row in enumerate(values, start=1):
        if not row:
            continue
        label = norm_name(cell_text(row[0])).rstrip(":")
        key = _LABELS.get(label)
        if key and key not in s.values:
            s.values[key] = row[1] if len(row) > 1 else None
            s.cells[key] = f"B{r}"
    return s


def default_settings_values(script: str = "traditional", month: str | None = None) -> Matrix:
    """The block a new 設置 sheet starts with."""
    month = month or current_month()
    rows: Matrix = [[in_script(h, script) for h in HEADER]]
    for key, label, help_text in FIELDS:
        rows.append([in_script(label, script), month if key == "month" else None,
                     in_script(help_text, script)])
    rows.append([None, None, None])
    for key, label in STATUS_FIELDS:
        rows.append([in_script(label, script), None, None])
    return rows


def status_cells(values: Matrix) -> dict[str, int]:
    """Row numbers (1-based) of the 上次操作 / 操作結果 rows, when the sheet has them."""
    out = {}
    for r, row in enumerate(values, start=1):
        if row:
            key = _LABELS.get(norm_name(cell_text(row[0])))
            if key in ("last_action", "last_result"):
                out[key] = r
    return out


# -- months ------------------------------------------------------------------------
_MONTH_RES = [
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:月份?)?(?:[-/.]\s*\d{1,2}\s*日?)?(?:\s.*)?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
]
EXCEL_EPOCH = datetime(1899, 12, 30)


def current_month(today: date | None = None) -> str:
    d = today or date.today()
    return f"{d.year:04d}-{d.month:02d}"


def parse_month(value: Any) -> str | None:
    """'YYYY-MM' from what an official types or Excel turns it into: 2020-08, 2020/8,
    2020年8月, 202008, a date (Excel converts 2020-08 into 2020-08-01) or a date serial.
    None when it is not a month."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 <= value <= 80000:   # an Excel date serial (1954…2119)
            d = EXCEL_EPOCH + timedelta(days=float(value))
            return f"{d.year:04d}-{d.month:02d}"
        if 190001 <= value <= 299912 and float(value).is_integer():
            value = str(int(value))
        else:
            return None
    text = halfwidth(str(value)).strip()
    for rx in _MONTH_RES:
        m = rx.match(text)
        if m:
            y, mo = int(m.group(1)), int(m.group(2))
            if 1900 <= y <= 2999 and 1 <= mo <= 12:
                return f"{y:04d}-{mo:02d}"
    return None
