"""The months a plan can be reported for: its year (January to December), or up to the latest
task deadline when a task runs into the next year. A month outside is refused before anything
is written or recorded (forms, collect, rollup, mail), so a mistyped year (2019-08 for 2020-08)
cannot leave a month of 44 missing reports in the ledger."""
from __future__ import annotations

import re

from putuo_xl import layout
from putuo_xl.errors import InputError
from putuo_xl.text import in_script

_MONTH = re.compile(r"^(\d{4})-(\d{2})")


def month_range(year: int | str | None, deadlines=()) -> tuple[str, str] | None:
    """(first, last) month 'YYYY-MM' for a plan of `year` whose tasks end by `deadlines`
    ('YYYY-MM-DD' or 'YYYY-MM'); None when the year is unknown (nothing is checked)."""
    try:
        y = int(str(year).strip())
    except (TypeError, ValueError):
        return None
    if not 1900 < y < 3000:
        return None
    last = f"{y}-12"
    for d in deadlines:
        m = _MONTH.match(str(d or ""))
        if m and int(m.group(1)) >= y and f"{m.group(1)}-{m.group(2)}" > last:
            last = f"{m.group(1)}-{m.group(2)}"
    return f"{y}-01", last


def plan_month_range(plan) -> tuple[str, str] | None:
    """`month_range` of a `Plan` (its year, else the year of its default deadline or date)."""
    year = plan.year
    if not year:
        for d in (plan.default_deadline, plan.date):
            if d and _MONTH.match(d):
                year = int(d[:4])
                break
    return month_range(year, [t.deadline for t in plan.tasks()])


def _label(month: str) -> str:
    return f"{int(month[:4])}年{int(month[5:7])}月"


def check_plan_month(month: str, span: tuple[str, str] | None, *, force: bool = False,
                     script: str | None = None, title: str = "", can_force: bool = True) -> str | None:
    """Refuse (InputError, code "month-outside-plan") a `month` outside `span`, the plan's
    range; with `force`, return a warning to show instead. None when the month is in range
    (or the range is unknown). `can_force`: the message says --force goes ahead."""
    if span is None or span[0] <= month <= span[1]:
        return None
    what = f"《{title}》" if title else "任務台賬"
    rng = f"{_label(span[0])}至{_label(span[1])}"
    if force:
        return in_script(f"{_label(month)}不在{what}的年度範圍({rng})內;因為加了 --force,仍按"
                         f"{_label(month)}處理。", script or "traditional")
    raise InputError(in_script(
        f"{_label(month)}不在{what}的年度範圍({rng})內,沒有生成、收集或記錄任何內容。"
        f"請檢查月份是否寫錯(例如 {span[0][:4]}-{month[5:7]})"
        + (";確實要用這個月份時加 --force。" if can_force else "。"),
        script or "traditional"), code="month-outside-plan", script=script)


def master_month_range(master) -> tuple[str, str] | None:
    """`month_range` of a master workbook from its hidden `_meta` sheet (year, task deadlines),
    read with calamine; None when it is not a putuo-xl master or cannot be read."""
    import python_calamine

    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(master))
    except Exception:  # noqa: BLE001 - the caller reports an unreadable master itself
        return None
    try:
        if layout.META_SHEET not in wb.sheet_names:
            return None
        year, deadlines = None, []
        for row in wb.get_sheet_by_name(layout.META_SHEET).to_python():
            if len(row) < 2:
                continue
            key = str(row[0] or "")
            if key == "year":
                year = row[1]
            elif key.startswith("task:"):
                deadlines.extend(re.findall(r'"deadline":\s*"(\d{4}-\d{2})', str(row[1] or "")))
        return month_range(year if not isinstance(year, float) else int(year), deadlines)
    finally:
        wb.close()
