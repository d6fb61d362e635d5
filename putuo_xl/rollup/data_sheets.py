"""The rows of the master's hidden `_status` and `_actuals` sheets, which its formulas (and
the ribbon's functions) read: per task and per task × unit the status, progress, date of the
latest report and light; per target the value counted and the value reported each month."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from putuo_xl.rollup.context import _Ctx
from putuo_xl.rollup.rules import CATEGORIES, MET, NO_VALUE, NOT_MET, NOT_REPORTED, _month_end


def _iso_date(s) -> date | None:
    try:
        return date.fromisoformat(s) if isinstance(s, str) and s else None
    except ValueError:
        return None


def _unit_light(cat, days_left, near_days) -> str:
    if cat == "lagging" or (days_left is not None and days_left < 0 and cat != "done"):
        return "red"
    if cat == "done":
        return "green"
    if cat is None or (days_left is not None and days_left <= near_days):
        return "yellow"
    return "green"


@dataclass
class _StatusInputs:
    """What _status_rows takes from the context."""
    tasks: list
    near_days: int


def _status_rows(ctx: "_Ctx | _StatusInputs", cur: dict) -> list[list]:
    """_status: per task, then per task × unit: status name, progress 0..1, the date the latest
    report arrived (a date), light (green | yellow | red: the master's conditional formats
    compare these codes)."""
    rows = []
    as_of = _month_end(cur["month"])
    days = {t.id: ((date.fromisoformat(t.deadline) - as_of).days if t.deadline else None)
            for t in ctx.tasks}
    for task in ctx.tasks:
        ts = cur["task_status"][task.id]
        rows.append([task.id, ts["status"] or NOT_REPORTED, _num(ts["progress"]),
                     _iso_date(ts["last_report"]), ts["light"]])
    st = cur["state"]            # task order; in a task lead, responsible, co units
    dates: dict = {None: None}
    for d in set(st.received):
        if d is not None:
            dates[d] = _iso_date(d)
    near = ctx.near_days
    # the light depends only on the category and the task (its deadline)
    light_of = {t: {c: _unit_light(c, days[t], near) for c in (*CATEGORIES, None)} for t in days}
    rows.extend(map(list, zip(
        [f"{t}|{u}" for t, u in zip(st.task_id, st.unit)],
        [s if s.__class__ is str else NOT_REPORTED for s in st.status],
        st.progress,
        list(map(dates.__getitem__, st.received)),
        [light_of[t][c] for t, c in zip(st.task_id, st.cat)])))
    return rows


def _actual_rows(ctx: _Ctx, months, per_month) -> list[list]:
    """_actuals: "1.4.1#1|2020-08" → the value reported FOR that month (blank months stay
    blank, so the master's month columns show what was reported when); "1.4.1#1" → the latest
    value counted, as on 考評指標完成情況."""
    rows = []
    latest = per_month[months[-1]]["ind_values"]
    for _task, ind in ctx.plan.indicators():
        v, ok, unit = latest[ind.id]
        rows.append([ind.id, _num(v), _met_label(ok), unit])
    for m in months:
        for _task, ind in ctx.plan.indicators():
            v, ok, unit = per_month[m]["ind_month"][ind.id]
            if v is not None:
                rows.append([f"{ind.id}|{m}", _num(v), _met_label(ok), unit])
    return rows


def _met_label(ok):
    return NO_VALUE if ok is None else (MET if ok else NOT_MET)


def _num(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return float(x)
