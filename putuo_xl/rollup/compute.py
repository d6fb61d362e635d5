"""The monthly 工作報表 from the ledger: 月度匯總 (by unit), 任務進展 (by task), 考評指標完成情況,
趨勢, 預評估 (score and ranking) and the 通報 text.

`compute_rollup(ledger, plan, config, month)` reads the ledger (one query per table, the
report rows one month at a time) and returns a `Rollup` (result.py): pandas frames,
deterministic for the same ledger, plan and config. It never writes, neither to the ledger nor
to the master: `rollup` (run.py) writes the sheets through render.py. The only files it writes
are the snapshots of closed months beside the ledger (snapshots.py), which it reads instead of
computing those months again.

Every month in the ledger up to the requested one is reported, latest month first, in one
table per sheet with a 月份 column (see docs/rollup.md for why). Each month is counted from
every assignment's state as of that month (month_state.py: the month's rows over what the month
before carried) by the sheet's module: by_unit.py, by_task.py, targets.py, scores.py,
bulletin.py, data_sheets.py.
"""
from __future__ import annotations

import pickle
from datetime import date

import numpy as np
import pandas as pd

from putuo_xl import layout
from putuo_xl.config import Config
from putuo_xl.errors import InputError
from putuo_xl.ledger.status import (LABELS as STATE_LABELS, LATE, MISSING, NOT_DUE, ON_TIME,
                                    ledger_status)
from putuo_xl.plan.model import Plan
from putuo_xl.plan.months import check_plan_month, plan_month_range
from putuo_xl.rollup.bulletin import _bulletin, blocks_text
from putuo_xl.rollup.by_task import _by_task
from putuo_xl.rollup.by_unit import _by_unit
from putuo_xl.rollup.context import PreparedRollup, _Ctx, _no_gc
from putuo_xl.rollup.data_sheets import _actual_rows, _status_rows, _StatusInputs
from putuo_xl.rollup.month_state import _month_state, _Reports
from putuo_xl.rollup.month_texts import month_texts
from putuo_xl.rollup.reading import StoredRows, _ledger_inputs, _month_rows, _state_rows
from putuo_xl.rollup.result import Rollup
from putuo_xl.rollup.rules import (NOT_REPORTED, RATE_BY_TASK, SUBMIT_LATE, SUBMIT_MISSING,
                                   SUBMIT_NOT_DUE, SUBMIT_ON_TIME, TASKS_LAGGING, UNITS_LAGGING,
                                   check_month)
from putuo_xl.rollup.scores import _scores, timeliness
from putuo_xl.rollup.snapshots import MonthCache
from putuo_xl.rollup.targets import _indicator_trend, _targets


def compute_rollup(ledger, plan: Plan, config: Config, month: str,
                   prepared: "PreparedRollup | None" = None, *, today: date | None = None,
                   stored: "StoredRows | None" = None, history: bool = True,
                   texts: bool = False, force: bool = False) -> Rollup:
    """The 工作報表 for `month` and every earlier month in the ledger (see module doc).
    `prepared`: `prepare_rollup(plan, config)` done ahead (e.g. while forms are collected).
    `today` (default: today): due dates not yet passed make a unit 未到期, not 未報送.
    `stored`: the report rows inserted in the ledger's open transaction (see StoredRows).
    `history=False`: the figures of `month` only; earlier months get only their reporting
    counts in `trend` and `unit_states` (what the 年度報告 needs; not for the sheets).
    `texts`: also what units wrote, month by month (`Rollup.texts`: month_texts.MonthTexts).
    Refused (InputError) for a month with no forms issued and nothing received, and for a
    month outside the plan's year unless `force`; months of the ledger outside the plan's year
    (forms issued for a mistyped month) are left out of the other months' figures."""
    with _no_gc():
        return _compute_rollup(ledger, plan, config, month, prepared, today=today, stored=stored,
                               history=history, texts=texts, force=force)


def _compute_rollup(ledger, plan: Plan, config: Config, month: str,
                    prepared: PreparedRollup | None = None, today: date | None = None,
                    stored: StoredRows | None = None, history: bool = True,
                    texts: bool = False, force: bool = False) -> Rollup:
    month = check_month(month)
    span = plan_month_range(plan)
    outside = check_plan_month(month, span, force=force, script=plan.script, title=plan.title)
    cfg = config
    today = today or date.today()
    if prepared is not None and prepared.plan is plan and prepared.config is config:
        ctx = prepared.ctx
    else:
        ctx = _Ctx(plan, cfg, month)
    have, received, actuals, sent = _ledger_inputs(ledger, month, stored)
    warnings: list[str] = [outside] if outside else []
    stray = sorted(m for m in have if m != month and span and not span[0] <= m <= span[1])
    if stray:          # forms issued for a mistyped month: not counted (their rows are never read)
        have = have - set(stray)
        actuals = actuals[~actuals["month"].isin(set(stray))]
        warnings.append(f"台賬中有{'、'.join(layout.month_label(m) for m in stray)}的記錄,不在《{plan.title}》"
                        f"的年度範圍內(多半是月份寫錯了),沒有計入匯總。")
    if month not in have:
        label = layout.month_label(month)
        raise InputError(
            f"台賬中沒有{label}的記錄:沒有下發過{label}的月報,也沒有收到過{label}的回報,"
            f"無從匯總。請先用 putuo-xl forms 總表 --month {month} 生成並下發月報,"
            f"收到回報後用 putuo-xl collect 收集,再匯總;或者檢查月份是否寫錯。",
            code="empty-month")
    months = sorted(have)
    actuals = actuals.sort_values(["month", "unit", "indicator_id"], kind="stable")

    # the months before `month` whose figures are kept (snapshots.py): a prefix of the months
    cache = MonthCache.for_ledger(ledger, plan, cfg)
    keys = cache.keys(ledger.conn, months, sent) if cache else {}
    kept: dict[str, dict] = {}
    for m in months[:-1]:
        snap = cache.load(m, keys[m], today, frames=history) if cache else None
        if snap is None:
            break
        kept[m] = snap
    carry, tl = None, {}
    if kept:
        last = months[len(kept) - 1]
        carry = cache.load_carry(last, keys[last], len(ctx.a_units))
        if carry is None:           # figures without their carry: compute those months again
            kept = {}
        else:
            tl = kept[last]["timeliness"]
    todo = months[len(kept):]
    # the 年度報告 from a ledger without snapshots: the later months' rows read, their texts
    # deduplicated and their reports arrayed in a second process while this one does the
    # earlier months (the statuses are carried month to month here)
    apart, later, got = None, set(), None
    if texts and not history and stored is None and len(todo) >= MONTHS_APART:
        from putuo_xl.parallel import Result
        # this process first reads every unit's reporting: it takes a month fewer than half
        later_months = todo[max(len(todo) // 2 - 1, 1):]
        apart = Result(months_apart, (str(ledger.path), ctx, later_months, received))
        if apart.forked:
            later = set(later_months)
        else:
            apart = None
    # each unit's reporting, month by month: status.ledger_status, the rule collect and mail use
    statuses = ledger_status(ledger, todo, cfg, today=today, fallback_units=ctx.units,
                             order=ctx.unit_order)
    per_month = dict(kept)
    # what units wrote, month by month (the 年度報告's texts; kept with the snapshots)
    month_text: dict = {}
    if texts:
        for m in kept:
            month_text[m] = cache.load_texts(m, keys[m]) or month_texts(
                m, _month_rows(ledger, m, received, stored))
    dropped = sum(snap["dropped"] for snap in kept.values())
    max_due = kept[months[len(kept) - 1]]["max_due"] if kept else ""
    saving = cache is not None
    for m in todo:
        ms = statuses[m]
        max_due = max(max_due, max((um.due for um in ms.units.values()), default=ms.default_due).isoformat())
        # keep only rows the current plan knows: a unit's report on a task it is not assigned
        # to (an old plan, a hand-edited form) is not counted
        if m in later:
            if got is None:
                got = apart.result()
            month_text[m], reports = pickle.loads(got.pop(m))
        else:
            rows = _month_rows(ledger, m, received, stored)
            reports = _Reports(ctx, _state_rows(rows, received))
            if texts or saving:
                month_text[m] = month_texts(m, rows)
            del rows
        mst, carry = _month_state(ctx, m, reports, carry)
        tl = timeliness(tl, ms)
        dropped += reports.dropped
        if not (history or m == month):     # the 年度報告: only the last month's figures
            per_month[m] = {"trend": _reporting_row(m, ms), "sample": ms.sample,
                            "unit_states": _unit_states(ms)}
            saving = False
            continue
        pm = _compute_month(ctx, m, mst, ms, tl, actuals, sent.get(m))
        pm.update(sample=ms.sample, unit_states=_unit_states(ms), timeliness=tl,
                  dropped=reports.dropped)
        pm["bulletin"] = _bulletin(ctx, ms.sample, m, pm, plan)      # blocks (kind, text)
        pm["max_due"] = max_due
        per_month[m] = pm
        # a month is kept once every due date up to it has passed (未到期 depends on the day)
        saving = saving and today.isoformat() > max_due
        if saving:
            cache.save(m, keys[m], {k: pm[k] for k in SNAPSHOT_KEYS}, carry, month_text[m])
        if m != month:      # an earlier month: only what the sheets show (its state is carried)
            per_month[m] = {k: pm[k] for k in SNAPSHOT_KEYS}
        if not texts:
            month_text.pop(m, None)
        del mst, reports, pm

    if dropped:
        warnings.append(f"有 {dropped} 行填報的任務不在當前台賬的該單位任務中,未計入。")
    shown = months if history else [month]
    sample_months = {m for m in months if per_month[m]["sample"]}
    scores = pd.concat([per_month[m]["scores"] for m in reversed(shown)], ignore_index=True)
    monthly = pd.concat([per_month[m]["monthly"] for m in reversed(shown)], ignore_index=True)
    progress = pd.concat([per_month[m]["progress"] for m in reversed(shown)], ignore_index=True)
    indicators = pd.concat([per_month[m]["indicators"] for m in reversed(shown)], ignore_index=True)
    trend = pd.DataFrame([per_month[m]["trend"] for m in months])
    ind_trend, ind_ratio = _indicator_trend(ctx, shown, indicators)

    r = Rollup(month=month, months=months, plan_title=plan.title, script=plan.script,
               district=cfg.district, office=cfg.office, status_columns=ctx.status_columns,
               status_colors=ctx.status_colors, monthly=monthly, progress=progress,
               indicators=indicators, scores=scores, trend=trend, indicator_trend=ind_trend,
               indicator_ratio=ind_ratio, bulletins={}, status_rows=[], actual_rows=[],
               settings={"overall_status": ctx.overall_rule, "near_deadline_days": ctx.near_days,
                         "weights": ctx.weights, "full_marks": ctx.full_marks,
                         "late_credit": ctx.late_credit, "good_rate": ctx.good_rate,
                         "overall_status_group": ctx.group_rule,
                         "group_done_share": ctx.group_done_share,
                         "group_lagging_share": ctx.group_lagging_share,
                         "lagging_rate": ctx.lagging_rate, "top_n": ctx.top_n,
                         "bulletin_max_units": ctx.bulletin_max_units},
               warnings=warnings, sample=month in sample_months, sample_months=sample_months,
               unit_states={m: per_month[m]["unit_states"] for m in months}, history=history,
               texts={m: t for m, t in month_text.items() if t is not None} if texts else {})
    for m in shown:
        r.bulletin_blocks[m] = [tuple(b) for b in per_month[m]["bulletin"]]   # JSON keeps lists
        r.bulletins[m] = blocks_text(r.bulletin_blocks[m])
    # made on first use from what they need only (not the whole context: its 180,000-key
    # assignment index would stay alive with the result)
    need = _StatusInputs(ctx.tasks, ctx.near_days)
    cur = {k: per_month[month][k] for k in ("month", "task_status", "state")}
    r._defer("status_rows", lambda: _status_rows(need, cur))
    r.actual_rows = _actual_rows(ctx, shown, per_month)
    return r


MONTHS_APART = 2     # months to read from which the later ones are read in a second process


def months_apart(arg) -> dict:
    """(ledger path, context, months, received) → {month: (its MonthTexts, its _Reports)
    pickled}, read through a read-only connection of its own: what a second process makes of the
    later months while the rollup does the earlier ones (each month kept as bytes once made, and
    unpickled when its turn comes: neither process holds every month's objects at once)."""
    import sqlite3
    from pathlib import Path

    from putuo_xl.rollup.reading import MONTH_ROWS

    path, ctx, months, received = arg
    conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        out = {}
        for m in months:
            rows = conn.execute(MONTH_ROWS + " ORDER BY r.rowid", (m, m)).fetchall()
            out[m] = pickle.dumps((month_texts(m, rows), _Reports(ctx, _state_rows(rows, received))),
                                  protocol=pickle.HIGHEST_PROTOCOL)
        return out
    finally:
        conn.close()


# what a month's snapshot keeps (snapshots.py): its sheets' rows and what later months need
SNAPSHOT_KEYS = ("monthly", "progress", "indicators", "scores", "trend", "ind_values", "ind_month",
                 "bulletin", "sample", "unit_states", "timeliness", "dropped", "max_due")


def _unit_states(ms) -> dict[str, str]:
    return {um.unit: STATE_LABELS[um.state] for um in ms.in_scope()}


def _compute_month(ctx: _Ctx, m: str, mst, ms, tl: dict, actuals, sent_at=None) -> dict:
    """The figures of month m: `mst` its state (_month_state), `ms` its MonthStatus, `tl` each
    unit's reporting up to it (scores.timeliness)."""
    # -- who reported for m: status.ledger_status (the rule collect and mail use) -------------
    scope = ms.in_scope()
    exp_units = [um.unit for um in scope]
    sub_state = {um.unit: STATE_LABELS[um.state] for um in scope}
    # units whose latest word for m was a rejected file (the 通報 says so under 晾曬)
    rej_reason = {um.unit: (um.later_rejections[-1].reason or "") for um in scope
                  if not um.reported and um.later_rejections}
    # what arrived after m's 通報 went out by mail (the send log)
    after_bulletin = set()
    if sent_at:
        for um in scope:
            if um.in_force is not None and um.in_force.collected_at > sent_at:
                after_bulletin.add(um.unit)

    monthly = _by_unit(ctx, m, mst, scope, sub_state, after_bulletin, sent_at)
    progress_df, task_status = _by_task(ctx, m, mst)
    ind_df, ind_values, ind_month, act_map = _targets(ctx, m, actuals)
    score_df = _scores(ctx, m, mst, tl, act_map, exp_units, sub_state)

    # -- trend row --------------------------------------------------------------------------
    n_exp = len(exp_units)
    cats_all = [ts["cat"] for ts in task_status.values()]
    n_t = len(ctx.tasks)
    n_done = sum(c == "done" for c in cats_all)
    vals = list(ind_values.values())
    vc = pd.Series([sub_state[u] for u in exp_units], dtype=object).value_counts()
    trend = {
        "月份": m, "應報單位": n_exp, "按時報送": int(vc.get(SUBMIT_ON_TIME, 0)),
        "逾期報送": int(vc.get(SUBMIT_LATE, 0)), "未報送": int(vc.get(SUBMIT_MISSING, 0)),
        SUBMIT_NOT_DUE: int(vc.get(SUBMIT_NOT_DUE, 0)),
        # over the units whose due date has passed (or that have reported)
        "按時報送率": (int(vc.get(SUBMIT_ON_TIME, 0)) / (n_exp - int(vc.get(SUBMIT_NOT_DUE, 0))))
        if n_exp - int(vc.get(SUBMIT_NOT_DUE, 0)) else None,
        "任務總數": n_t, "已完成": n_done,
        "推進中": sum(c == "in_progress" for c in cats_all),
        "未啟動": sum(c == "not_started" for c in cats_all),
        "滯後": sum(c == "lagging" for c in cats_all),
        NOT_REPORTED: sum(c is None for c in cats_all),
        RATE_BY_TASK: n_done / n_t if n_t else None,
        "考評指標": len(vals), "已達標": sum(v[1] is True for v in vals),
        "未達標": sum(v[1] is False for v in vals), "指標未填報": sum(v[1] is None for v in vals),
        "指標達標率": (sum(v[1] is True for v in vals) / len(vals)) if vals else None,
        "平均得分": float(score_df["總分"].mean()) if len(score_df) else None,
    }
    # what the units themselves report (a task × unit is 滯後 in its unit's latest report): the
    # 通報's 三、, told apart from the tasks' overall 滯後 above
    lagging = np.nonzero(mst.state.c_code == 3)[0].tolist()
    trend[UNITS_LAGGING] = len({mst.state.unit[k] for k in lagging})
    trend[TASKS_LAGGING] = len(lagging)
    return {"monthly": monthly, "progress": progress_df, "indicators": ind_df, "scores": score_df,
            "trend": trend, "task_status": task_status, "ind_values": ind_values,
            "state": mst.state, "ind_month": ind_month, "month": m,
            "sub_state": sub_state, "exp_units": exp_units, "rej_reason": rej_reason,
            "carried": mst.carried, "status": ms, "sent_at": sent_at, "after_bulletin": after_bulletin}


def _reporting_row(m: str, ms) -> dict:
    """A 趨勢 row with the reporting counts only (compute_rollup with history=False)."""
    c = ms.counts()
    due = c["expected"] - c[NOT_DUE]
    return {"月份": m, "應報單位": c["expected"], "按時報送": c[ON_TIME], "逾期報送": c[LATE],
            "未報送": c[MISSING], SUBMIT_NOT_DUE: c[NOT_DUE],
            "按時報送率": c[ON_TIME] / due if due else None}
