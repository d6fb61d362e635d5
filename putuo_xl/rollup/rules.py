"""The rollup's rules and their words, shared by computing and by rendering (render.py):
status categories, traffic lights and their colours, submission states, what counts as met,
the grades of the 預評估, and the months."""
from __future__ import annotations

import calendar
from datetime import date

from putuo_xl.config import Status
from putuo_xl.errors import PutuoError


# -- vocabulary (traditional; rendered with in_script) --------------------------------------
CATEGORIES = ("done", "in_progress", "not_started", "lagging")
SEVERITY = {"done": 0, "in_progress": 1, "not_started": 2, "lagging": 3}
CAT_CODE = {"done": 0, "in_progress": 1, "not_started": 2, "lagging": 3}   # 4: no report
LIGHTS = {"green": "綠燈", "yellow": "黃燈", "red": "紅燈"}
LIGHT_MEANING = {"green": "已完成或按計劃推進", "yellow": "有風險或臨近完成時限",
                 "red": "滯後或已逾期"}
LIGHT_COLORS = {"green": "C6EFCE", "yellow": "FFEB9C", "red": "FFC7CE"}
SUBMIT_ON_TIME, SUBMIT_LATE, SUBMIT_MISSING, SUBMIT_NOT_DUE = "按時報送", "逾期報送", "未報送", "未到期"
SUBMIT_COLORS = {SUBMIT_ON_TIME: "C6EFCE", SUBMIT_LATE: "FFEB9C", SUBMIT_MISSING: "FFC7CE",
                 SUBMIT_NOT_DUE: "DDEBF7"}
RATE_BY_UNIT = "承擔任務完成率"      # 月度匯總: done ÷ tasks assigned, per unit (task × unit pairs)
RATE_BY_TASK = "任務完成率"          # 趨勢 / 通報 / CLI: tasks whose overall status is done ÷ tasks
NOT_REPORTED = "未填報"
INDENT = "\u3000\u3000"       # 段首空二字 (two ideographic spaces): the 通報's paragraphs
# the units' own reports of lagging tasks (趨勢, 通報 三、), not the tasks' overall 滯後
UNITS_LAGGING, TASKS_LAGGING = "報告滯後的單位", "報告滯後的任務"
MET, NOT_MET, NO_VALUE = "達標", "未達標", "未填報"
GRADES = {"good": "較好", "fair": "一般", "lagging": "滯後"}
OP_WORDS = {">=": "不低於", "<=": "不超過", "=": "等於"}
DEFAULT_LATE_CREDIT = 0.5


def _status_category(st: Status) -> str:
    if st.lagging:
        return "lagging"
    if st.done:
        return "done"
    if not st.started:
        return "not_started"
    return "in_progress"


DEFAULT_STATUSES = (Status("未啟動", started=False), Status("推進中"), Status("已完成", done=True),
                    Status("滯後", lagging=True))


def statuses_of(cfg) -> list[Status]:
    """config.yaml's statuses, or the four defaults."""
    return list(cfg.statuses) or list(DEFAULT_STATUSES)


def status_categories(cfg) -> dict[str, str]:
    """status name → done | in_progress | not_started | lagging."""
    return {s.name: _status_category(s) for s in statuses_of(cfg)}

# -- months --------------------------------------------------------------------------------
def _month_end(month: str) -> date:
    y, m = (int(x) for x in month.split("-"))
    return date(y, m, calendar.monthrange(y, m)[1])


def _next_month(month: str) -> str:
    y, m = (int(x) for x in month.split("-"))
    return f"{y + m // 12}-{m % 12 + 1:02d}"


def check_month(month: str) -> str:
    """'2020-08' (also '2020-8', '2020/08', '202008') → '2020-08'; anything else is refused."""
    s = str(month or "").strip().replace("/", "-").replace(".", "-")
    if len(s) == 6 and s.isdigit():
        s = f"{s[:4]}-{s[4:]}"
    parts = s.split("-")
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit() and len(parts[0]) == 4 \
            and 1 <= int(parts[1]) <= 12:
        return f"{int(parts[0]):04d}-{int(parts[1]):02d}"
    raise PutuoError(f"月份「{month}」格式不對,請寫成 2020-08 這樣的年-月。", code="bad-month")
