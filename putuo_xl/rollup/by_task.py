"""任務進展: each task's overall status as of a month (by its lead units, or by the share of its
units: config.yaml's rollup.overall_status and overall_status_group), its progress, its
traffic light and why, and which units lag or have not reported."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from putuo_xl.ledger.status import month_word
from putuo_xl.rollup.context import _Ctx
from putuo_xl.rollup.month_state import _MonthState
from putuo_xl.rollup.rules import LIGHTS, NOT_REPORTED, SEVERITY, _month_end


def _short(text: str, limit: int = 36) -> str:
    """The first clause of a task's text: enough to recognise it in a one-line table."""
    cut = len(text)
    for sep in ",。;:,;":
        i = text.find(sep)
        if 6 <= i < cut:
            cut = i
    s = text[:cut]
    return s if len(s) <= limit else s[:limit - 1] + "…"


def _by_task(ctx: _Ctx, m: str, mst: _MonthState) -> tuple[pd.DataFrame, dict]:
    """The 任務進展 rows of month m, and per task its status, category, progress, light and the
    day of its latest report."""
    as_of = _month_end(m)
    st = mst.state
    U, S, C, PG, RC, c_code = st.unit, st.status, st.cat, st.progress, st.received, st.c_code
    PG_a, CM = mst.progress, mst.carried
    prow = []
    task_status = {}

    def mark(k: int) -> str:
        """A unit's name, with the month its status was carried from."""
        cm = CM.get(k)
        return U[k] if cm is None else f"{U[k]}(沿用{month_word(cm)}填報)"

    for task in ctx.tasks:
        a, b = ctx.task_slice.get(task.id, (0, 0))
        n_units = b - a
        cc = c_code[a:b]
        cnt = np.bincount(cc, minlength=5).tolist()
        lead_known, lead_missing = [], []
        for k in ctx.lead_idx.get(task.id, ()):
            if C[k] is None:
                lead_missing.append(U[k])
            else:
                lead_known.append((S[k], C[k], PG[k], k))
        known = cc[cc < 4]
        if len(known):     # the worst known status: the first of the highest category
            k = a + int(np.argmax(cc == known.max()))
            worst_all = (S[k], C[k], PG[k], k)
        else:
            worst_all = None
        pv = PG_a[a:b]
        progs = pv[~np.isnan(pv)].tolist()

        def names(code):
            # a province's task has thousands of units: the first bulletin_max_units, then
            # how many (the 月度匯總 names each unit's own)
            at = (np.nonzero(cc == code)[0] + a).tolist()
            shown = [mark(k) for k in at[:ctx.bulletin_max_units]]
            if len(at) > len(shown):
                shown[-1] += f"等{len(at)}個單位"
            return shown

        def worst(xs):
            return max(xs, key=lambda x: SEVERITY[x[1]]) if xs else None

        share = ctx.share_task.get(task.id, False)
        reasons = []
        days_left = (date.fromisoformat(task.deadline) - as_of).days if task.deadline else None
        if share:
            # judged by the share of its units (see docs/rollup.md): all (group_done_share) done
            # → 已完成; at least group_lagging_share lagging → 滯後; else 推進中 (未啟動 while
            # every unit that reported has not started)
            idx = ctx.lead_idx.get(task.id, ())
            n_sh = len(idx)
            cats = [C[k] for k in idx]
            n_done = cats.count("done")
            n_lag = cats.count("lagging")
            n_unk = cats.count(None)
            n_known = n_sh - n_unk
            if n_sh and n_done / n_sh >= ctx.group_done_share - 1e-9:
                ocat = "done"
            elif n_sh and n_lag / n_sh >= ctx.group_lagging_share - 1e-9:
                ocat = "lagging"
            elif n_known and cats.count("not_started") == n_known:
                ocat = "not_started"
            elif n_known:
                ocat = "in_progress"
            else:
                ocat = None
            overall = ctx.cat_status[ocat] if ocat else None
            # 完成進度: the mean over the units that reported one (已完成 counts 100%)
            vals = [1.0 if C[k] == "done" else PG[k] for k in idx
                    if C[k] == "done" or PG[k] is not None]
            progress = (sum(vals) / len(vals)) if vals else None
            share_text = f"{n_done}/{n_sh} 已完成"
            if n_lag:
                share_text += f"、{n_lag}/{n_sh} 滯後"
            if n_unk:
                share_text += f"、{n_unk}/{n_sh} 未填報"
            lead_status = overall or NOT_REPORTED
        else:
            if ctx.overall_rule == "lead" and lead_known:
                ov = worst(lead_known)
            else:
                ov = worst_all
            overall, ocat = (ov[0], ov[1]) if ov else (None, None)
            lead_progs = [x[2] for x in lead_known if x[2] is not None]
            if ctx.overall_rule == "lead" and lead_progs:
                progress = min(lead_progs)
            elif progs:
                progress = min(progs) if ctx.overall_rule == "worst" else sum(progs) / len(progs)
            else:
                progress = None
            lead_worst = worst(lead_known)
            lead_status = lead_worst[0] if lead_worst else NOT_REPORTED
            if lead_worst is not None and lead_worst[3] in CM:
                reasons.append(f"牽頭單位狀態沿用{month_word(CM[lead_worst[3]])}填報")
        if ocat == "done":
            progress = max(progress or 0.0, 1.0) if progress is not None else 1.0
        # traffic light
        if ocat == "lagging":
            light = "red"
            reasons.insert(0, "總體滯後")
        elif days_left is not None and days_left < 0 and ocat != "done":
            light = "red"
            reasons.insert(0, f"已超過完成時限{-days_left}天")
        elif ocat == "done":
            light = "green"
        else:
            light = "green"
            if days_left is not None and days_left <= ctx.near_days:
                light = "yellow"
                reasons.append(f"距完成時限{days_left}天")
            if cnt[3]:
                light = "yellow"
                reasons.append("有單位滯後")
            if share:
                if n_sh and n_unk / n_sh >= ctx.group_lagging_share - 1e-9:
                    light = "yellow"
                    reasons.append(f"{n_unk}/{n_sh}個責任單位未填報")
            elif lead_missing and n_units > 0:
                light = "yellow"
                reasons.append("牽頭單位未填報" if ctx.has_lead_role[task.id] else "責任單位未填報")
        if share:
            reasons.insert(0, f"按單位比例:{share_text}")
        detail = []
        for label, code in (("滯後", 3), ("未啟動", 2), ("未填報", 4)):
            if cnt[code]:
                detail.append(f"{label}:{'、'.join(names(code))}")
        prow.append({
            "月份": m, "任務編號": task.id, "工作任務": _short(task.text),
            "完成時限": task.deadline or ("經常性工作" if task.recurring else ""),
            "牽頭單位": ctx.lead_labels[task.id], "牽頭單位狀態": lead_status, "單位數": n_units,
            "已完成": cnt[0], "推進中": cnt[1], "未啟動": cnt[2],
            "滯後": cnt[3], NOT_REPORTED: cnt[4],
            "完成進度": progress, "總體狀態": overall or NOT_REPORTED, "預警": LIGHTS[light],
            "說明": ";".join(reasons + detail)})
        task_status[task.id] = {"status": overall, "cat": ocat, "progress": progress,
                                "light": light, "last_report": max(
                                    (x for x in RC[a:b] if x.__class__ is str), default="")}
    progress_df = pd.DataFrame(prow)
    return progress_df, task_status
