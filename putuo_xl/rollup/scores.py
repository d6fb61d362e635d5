"""預評估: each unit's score of the month (task progress, timely reports, targets met, weighted
as config.yaml's scoring section says), its rank and its grade."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import numpy as np
import pandas as pd

from putuo_xl.ledger.status import LATE, MISSING, ON_TIME
from putuo_xl.plan.model import Indicator
from putuo_xl.rollup.context import _Ctx
from putuo_xl.rollup.month_state import _MonthState
from putuo_xl.rollup.rules import GRADES


def timeliness(before: dict[str, list[int]], ms) -> dict[str, list[int]]:
    """Each unit's [on time, late, missing] months up to a month: `before` (the months before)
    and the month's MonthStatus `ms`; a month not yet due is not counted."""
    slot = {ON_TIME: 0, LATE: 1, MISSING: 2}
    tl = {u: list(v) for u, v in before.items()}
    for um in ms.in_scope():
        k = slot.get(um.state)
        if k is None:                     # not yet due: not counted
            continue
        tl.setdefault(um.unit, [0, 0, 0])[k] += 1   # on time, late, missing
    return tl


def _scores(ctx: _Ctx, m, mst: _MonthState, tl: dict[str, list[int]], act_map, exp_units,
            sub_state) -> pd.DataFrame:
    """預評估: completion (own tasks: 已完成 1, 推進中 its reported progress), timeliness (every month up to m the unit
    was expected: on time 1, late `late_credit`, missing 0; a month not yet due is not counted —
    status.ledger_status decides) and indicators met (targets of tasks
    the unit leads or is responsible for); weights from config, renormalised over the parts that
    apply to a unit (a unit without indicators is scored on the other two)."""
    # task credit for 任務推進: 已完成 1, 推進中 its reported progress (0.5 when left blank),
    # anything else 0 — so that units whose tasks are all "in progress" still differ
    c_code, PG_a = mst.state.c_code, mst.progress
    task_credit = np.where(c_code == 0, 1.0,
                           np.where(c_code == 1, np.where(np.isnan(PG_a), 0.5, np.clip(PG_a, 0.0, 1.0)), 0.0))
    credit_sum = np.bincount(ctx.a_unit, weights=task_credit, minlength=len(ctx.units))
    by_cat, n_tasks = mst.by_cat, mst.n_tasks
    w = ctx.weights
    # per unit, from the category counts: 0 done, 1 in progress, 2 not started, 3 lagging
    bc, cs, nt = by_cat.tolist(), credit_sum.tolist(), n_tasks.tolist()
    comp_sum = {u: bc[i][0] + bc[i][1] for u, i in ctx.unit_order.items()}
    credit = {u: float(cs[i]) for u, i in ctx.unit_order.items()}
    comp_size = {u: nt[i] for u, i in ctx.unit_order.items()}
    done = {u: bc[i][0] for u, i in ctx.unit_order.items()}
    lag = {u: bc[i][3] for u, i in ctx.unit_order.items()}
    # timeliness over months ≤ m
    # (`tl`: timeliness() of the months up to m)
    # indicators of tasks the unit leads / is responsible for
    own_inds: dict[str, list[Indicator]] = {}
    for task, ind in ctx.plan.indicators():
        for u, role in ctx.task_units[task.id]:
            if role != "co":
                own_inds.setdefault(u, []).append(ind)
    rows = []
    for u in exp_units:
        n = int(comp_size.get(u, 0))
        c_share = (credit.get(u, 0.0) / n) if n else None
        on, late, miss = tl.get(u, [0, 0, 0])
        n_exp = on + late + miss
        t_share = (on + ctx.late_credit * late) / n_exp if n_exp else None
        inds = own_inds.get(u, [])
        met = sum(1 for ind in inds if ind.met(act_map[(u, ind.id)][0] if (u, ind.id) in act_map else None))
        i_share = met / len(inds) if inds else None
        parts = {"completion": c_share, "timeliness": t_share, "indicators": i_share}
        wsum = sum(w[k] for k, v in parts.items() if v is not None)
        pts = {k: (ctx.full_marks * w[k] * v / wsum if (v is not None and wsum) else None)
               for k, v in parts.items()}
        # the total is the sum of the shown (rounded) parts, so the row adds up on paper
        total = _round(sum(_round(v) for v in pts.values() if v is not None)) if wsum else 0.0
        rows.append({"月份": m, "排名": None, "單位": u, "類別": ctx.kind.get(u, ""),
                     "任務推進得分": _round(pts["completion"]), "報送及時得分": _round(pts["timeliness"]),
                     "指標達標得分": _round(pts["indicators"]), "總分": total, "等次": "",
                     "承擔任務": n, "已完成": int(done.get(u, 0)),
                     "完成或推進中": int(comp_sum.get(u, 0)), "滯後": int(lag.get(u, 0)),
                     "應報次數": n_exp, "按時": on, "逾期": late, "未報": miss,
                     "涉及指標": len(inds), "達標指標": met, "本月報送": sub_state.get(u, ""),
                     "_order": ctx.unit_order.get(u, len(ctx.unit_order)),
                     "_completion": c_share})
    df = pd.DataFrame(rows)
    if not len(df):
        return df
    df["排名"] = df["總分"].rank(method="min", ascending=False).astype(int)
    fm = ctx.full_marks
    df["等次"] = np.where(df["總分"] >= ctx.good_rate * fm, GRADES["good"],
                        np.where(df["總分"] < ctx.lagging_rate * fm, GRADES["lagging"], GRADES["fair"]))
    df = df.sort_values(["排名", "_order", "單位"], kind="stable").reset_index(drop=True)
    return df


def _round(x):
    """One decimal, half up (31.25 → 31.3), as people round scores by hand."""
    if x is None:
        return None
    return _round_repr(repr(float(x)))


@lru_cache(maxsize=65536)
def _round_repr(x: str) -> float:
    return float(Decimal(x).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))

