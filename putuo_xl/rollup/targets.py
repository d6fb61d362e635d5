"""考評指標: each target of the plan against the value reported for it (the latest up to a month,
from the lead units first), and its 趨勢 month by month (actual values and 達成度)."""
from __future__ import annotations

import math

import pandas as pd

from putuo_xl.plan.model import Indicator
from putuo_xl.rollup.context import _Ctx
from putuo_xl.rollup.rules import MET, NO_VALUE, NOT_MET, OP_WORDS


def _targets(ctx: _Ctx, m: str, actuals: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict, dict]:
    """The 考評指標完成情況 rows of month m; per indicator (value, met, unit) as counted and as
    reported for m itself; and (unit, indicator) → (latest value, its month)."""
    act = actuals[actuals["month"] <= m]
    act_latest = act.drop_duplicates(["unit", "indicator_id"], keep="last")
    act_map = {(u, i): (v, mm) for u, i, v, mm in zip(
        act_latest["unit"], act_latest["indicator_id"], act_latest["value"], act_latest["month"])}
    irow = []
    ind_values, ind_month = {}, {}
    for task, ind in ctx.plan.indicators():
        choice = None
        order = list(ctx.leads[task.id]) + [u for u, _ in ctx.task_units[task.id]
                                            if u not in ctx.leads[task.id]]
        for u in order:
            if (u, ind.id) in act_map:
                choice = (u, *act_map[(u, ind.id)])
                break
        value = float(choice[1]) if choice else None
        ok = ind.met(value)
        gap = None
        if value is not None and not ok:
            gap = round(abs(value - ind.value), 4)
        irow.append({
            "月份": m, "指標編號": ind.id, "任務編號": task.id, "指標名稱": ind.name or ind.text,
            "目標": ind.text, "方向": OP_WORDS.get(ind.op, ind.op), "目標值": ind.value,
            "計量單位": ind.unit, "實際值": value, "填報單位": choice[0] if choice else "",
            "數據月份": choice[2] if choice else "",
            "是否達標": NO_VALUE if ok is None else (MET if ok else NOT_MET), "差距": gap})
        ind_values[ind.id] = (value, ok, choice[0] if choice else "")
        this = next(((u, *act_map[(u, ind.id)]) for u in order
                     if (u, ind.id) in act_map and act_map[(u, ind.id)][1] == m), None)
        ind_month[ind.id] = ((float(this[1]), ind.met(float(this[1])), this[0]) if this
                             else (None, None, ""))
    ind_df = pd.DataFrame(irow, columns=["月份", "指標編號", "任務編號", "指標名稱", "目標", "方向",
                                         "目標值", "計量單位", "實際值", "填報單位", "數據月份",
                                         "是否達標", "差距"])
    return ind_df, ind_values, ind_month, act_map


def _indicator_trend(ctx: _Ctx, months, indicators: pd.DataFrame):
    rows, ratios = [], []
    pivot = {(a, b): v for a, b, v in zip(indicators["指標編號"], indicators["月份"], indicators["實際值"])}
    for task, ind in ctx.plan.indicators():
        base = {"指標編號": ind.id, "指標名稱": ind.name or ind.text, "目標": ind.text}
        row, ratio = dict(base), dict(base)
        for m in months:
            v = pivot.get((ind.id, m))
            v = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            row[m] = v
            ratio[m] = _achievement(ind, v)
        rows.append(row)
        ratios.append(ratio)
    cols = ["指標編號", "指標名稱", "目標", *months]
    return pd.DataFrame(rows, columns=cols), pd.DataFrame(ratios, columns=cols)


def _achievement(ind: Indicator, v: float | None) -> float | None:
    """達成度: actual / target for 'at least' targets, target / actual for 'at most' targets;
    1.0 and above means met (capped at 1.5 so one figure does not flatten the chart)."""
    if v is None:
        return None
    if ind.op == "<=":
        r = (ind.value / v) if v > 0 else 1.5
    elif ind.op == "=":
        r = 1.0 if v == ind.value else (min(v, ind.value) / max(v, ind.value) if max(v, ind.value) else 0.0)
    else:
        r = (v / ind.value) if ind.value else 1.5
    return round(min(r, 1.5), 4)
