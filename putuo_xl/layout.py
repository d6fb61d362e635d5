"""The contract between the stages: sheet names, hidden data sheets and their columns,
the form layout and its metadata. Builders write these; readers rely on them.

Names shown to officials are written here in traditional characters and rendered in the
notice's script with `name(key, script)`. Hidden sheets have ASCII names.
"""
from __future__ import annotations

import re

from putuo_xl.text import in_script

FORM_VERSION = "1"
WORKBOOK_VERSION = "1"

# -- master workbook (任務分解台賬) ------------------------------------------------
SHEETS = {
    "readme": "說明",
    "by_unit": "按單位查看",
    "matrix": "責任矩陣",
    "indicators": "考評指標",
    "receipts": "收件情況",          # written by collect
    "monthly": "月度匯總",           # rollup: by unit
    "progress": "任務進展",          # rollup: by task
    "indicator_status": "考評指標完成情況",  # rollup
    "trend": "趨勢",                 # rollup: months, charts
    "score": "預評估",               # rollup: scores and ranking
    "bulletin": "通報",              # rollup: bulletin text
}
# Sheets the rollup owns and replaces as a whole on every refresh.
ROLLUP_SHEETS = ("monthly", "progress", "indicator_status", "trend", "score", "bulletin")

# Hidden sheets (ASCII names, sheet state "hidden").
META_SHEET = "_meta"        # key | value: kind, plan_fingerprint, config_fingerprint, generator…
PLAN_SHEET = "_plan"        # the plan in long form, one row per task × unit (view formulas use it)
STATUS_SHEET = "_status"    # written by rollup; build writes the header only
ACTUALS_SHEET = "_actuals"  # written by rollup; build writes the header only
CHARTS_SHEET = "_charts"    # written by the ribbon's 刷新匯總: the 趨勢 charts' data, one block per chart

# _status: one row per task ("1.2.3") and per task × unit ("1.2.3|區司法局").
STATUS_COLUMNS = ["key", "status", "progress", "last_report", "light"]
# status: a config status name; progress: 0..1; last_report: text "YYYY-MM" (or a date);
# light: "green" | "yellow" | "red" (or empty): the master colours 最新狀態 by it.
# _actuals: one row per indicator × month ("1.4.1#1|2020-08"), the value the rollup counts.
ACTUALS_COLUMNS = ["key", "actual", "met", "unit"]
# actual is in the indicator's own unit (92 means 92% for a "%" target, 45 means 45 天).

# _plan: one row per unit × task (groups expanded through config), rows grouped by unit in
# config order, tasks in plan order; key = "unit|n" with n = 1, 2, … per unit (the unit view
# looks rows up by it). role is lead | co | responsible; via is the group it came through.
PLAN_COLUMNS = ["key", "unit", "seq", "task_id", "role", "role_label", "via"]
# _tasks: one row per task in plan order, as the section sheets show it at build time.
TASKS_SHEET = "_tasks"
TASKS_COLUMNS = ["task_id", "section_id", "section", "subsection", "task", "lead", "co",
                 "indicator", "deadline", "indicator_ids"]
# _units: the units that report (have tasks), in config order: the view's dropdown source.
UNITS_SHEET = "_units"
# unit is shown in the notice's script; canonical is the config's name (the rollup's key).
UNITS_COLUMNS = ["unit", "full_name", "kind", "lead", "co", "responsible", "tasks", "canonical"]

# Columns of a section sheet, in order; the last three are filled from _status by formulas.
SECTION_COLUMNS = ["任務編號", "小節", "工作任務", "牽頭單位", "配合單位", "量化指標", "完成時限",
                   "最新狀態", "完成進度", "最近填報"]
SECTION_RESPONSIBLE_HEADER = "責任單位"   # replaces 配合單位 when the plan has no lead/co roles

# -- monthly report form (月報填報表) ------------------------------------------------
FORM_SHEET = "月報"                 # the sheet units fill in
FORM_HELP_SHEET = "填報說明"
FORM_META_SHEET = "_form"           # hidden (veryHidden) metadata: key | value
FORM_LISTS_SHEET = "_lists"         # hidden dropdown source lists
# Metadata keys in _form (column A) with the value in column B:
FORM_META_KEYS = ["kind", "unit", "month", "due", "plan_fingerprint", "form_version",
                  "task_ids", "indicator_ids", "generator", "created"]
FORM_KIND = "putuo-xl-monthly-form"
MASTER_KIND = "putuo-xl-master"

# Form columns: key → header. The collector finds columns by header text (either script,
# either width) in the header row, never by position. The last, FORM_KEY, is hidden, locked and
# outside the print area: each row's key, the task id ("1.3.1") or, on the row of a task's
# further target, the indicator id ("1.3.1#2"); 任務編號 shows the task id on both rows.
FORM_COLUMNS = [
    ("task_id", "任務編號"),
    ("task", "工作任務"),
    ("role", "角色"),
    ("deadline", "完成時限"),
    ("indicator", "量化指標"),
    ("target", "目標值"),
    ("status", "進展狀態"),
    ("progress", "完成進度"),
    ("actual", "指標實際值"),
    ("progress_text", "工作進展"),
    ("problems", "存在問題"),
    ("next_steps", "下步計劃"),
    ("row_key", "行標識"),
]
FORM_KEY = "row_key"
FORM_INPUT_KEYS = ("status", "progress", "actual", "progress_text", "problems", "next_steps")
# A task with several targets gets one extra row per further target, only 指標實際值 open for
# input on it. Forms issued before the key column had the indicator id ("1.3.1#2") in 任務編號.


def name(key: str, script: str = "traditional") -> str:
    """A sheet name from SHEETS in the notice's script."""
    return in_script(SHEETS[key], script)


def header(text: str, script: str = "traditional") -> str:
    return in_script(text, script)


def month_label(month: str) -> str:
    """'2020-08' → '2020年8月'."""
    y, m = month.split("-")
    return f"{int(y)}年{int(m)}月"


_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def date_label(day: str) -> str:
    """'2020-12-31' (a time after it is kept: '2020-10-04 17:00') → '2020年12月31日', the one
    date style of every sheet and text officials read (as GB/T 9704 writes 成文日期); anything
    else is returned as it is."""
    s = str(day or "")
    m = _ISO_DAY.match(s)
    if not m:
        return s
    rest = s[m.end():].replace("T", " ", 1)
    return f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日" + rest


# The folder `putuo-xl forms` writes a month's forms to, beside the master (forms.py; collect
# never judges what is in it). Here so that collect need not import the forms writer.
FORMS_FOLDER = "{month}_月報"


def default_forms_dir(master_path, month: str, script: str):
    """The month's forms folder beside the master, named in `script`."""
    from pathlib import Path
    return Path(master_path).resolve().parent / in_script(FORMS_FOLDER, script).format(month=month)
