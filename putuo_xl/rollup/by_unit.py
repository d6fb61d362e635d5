"""月度匯總: for each unit expected to report in a month, its tasks by status, what it reported and
when, the file used and the notes; then a 合計 row."""
from __future__ import annotations

import numpy as np
import pandas as pd

from putuo_xl.ledger.status import (NOT_DUE, change_note, day_label, month_word, rejection_notes,
                                    used_file)
from putuo_xl.rollup.context import _Ctx
from putuo_xl.rollup.month_state import _MonthState
from putuo_xl.rollup.rules import (NOT_REPORTED, RATE_BY_UNIT, SUBMIT_LATE, SUBMIT_MISSING,
                                   SUBMIT_NOT_DUE, SUBMIT_ON_TIME)


def _by_unit(ctx: _Ctx, m: str, mst: _MonthState, scope, sub_state, after_bulletin,
             sent_at) -> pd.DataFrame:
    """The 月度匯總 rows of month m: a row per unit in `scope` (status.ledger_status), then 合計."""
    S, CM, cat_of, reported_now = mst.state.status, mst.carried, mst.cat_of, mst.reported_now
    by_cat, n_tasks = mst.by_cat, mst.n_tasks
    nu = len(ctx.units)
    scol = {name: i for i, name in enumerate(ctx.status_columns)}
    ns = len(scol)
    code_of = {x: (scol.get(x, ns) if x.__class__ is str else ns) for x in cat_of}
    s_code = np.fromiter(map(code_of.__getitem__, S), dtype=np.int64, count=len(S))
    by_status = np.bincount(ctx.a_unit * (ns + 1) + s_code, minlength=nu * (ns + 1)).reshape(nu, ns + 1)
    n_lead = np.bincount(ctx.a_unit[ctx.a_nonco], minlength=nu)
    carried_months: dict[str, set] = {}
    for k, cm in CM.items():
        carried_months.setdefault(ctx.a_units[k], set()).add(cm)

    rows = []
    for i, um in enumerate(scope, 1):
        u = um.unit
        ui = ctx.unit_order.get(u)
        if ui is None:      # reported but has no task in the current plan
            total, lead_n, counts, done = 0, 0, {s: 0 for s in ctx.status_columns}, 0
        else:
            total, lead_n = int(n_tasks[ui]), int(n_lead[ui])
            row_counts = by_status[ui]
            counts = {s: int(row_counts[j]) for s, j in scol.items()}
            done = int(by_cat[ui][0])
        note = rejection_notes(um)
        if u in carried_months:
            words = "、".join(month_word(x) for x in sorted(carried_months[u]))
            if not um.reported:
                note.append(f"本月未報,狀態沿用{words}填報")
            else:
                note.append(f"本月未填的任務狀態沿用{words}填報")
        if um.state == NOT_DUE:
            note.insert(0, f"未到報送截止日期({um.due.month}月{um.due.day}日)")
        change = change_note(um)
        if change:
            note.append(change)
        if u in after_bulletin:
            note.append(f"{month_word(m)}通報({day_label(sent_at)}發出)之後收到,{month_word(m)}數據已更新")
        rows.append({
            "月份": m, "序號": i, "單位": u, "類別": ctx.kind.get(u, ""),
            "承擔任務": total, "牽頭/責任": lead_n, "配合": total - lead_n,
            "本月填報": reported_now.get(u, 0), **counts, NOT_REPORTED: total - sum(counts.values()),
            RATE_BY_UNIT: (done / total) if total else None,
            "報送情況": sub_state[u],
            "報送日期": um.in_force.day if um.in_force is not None else "",
            "採用文件": used_file(um),
            "備註": ";".join(note)})
    monthly = pd.DataFrame(rows)
    if len(monthly):
        tot = {"月份": m, "序號": None, "單位": "合計", "類別": ""}
        for c in ["承擔任務", "牽頭/責任", "配合", "本月填報", *ctx.status_columns, NOT_REPORTED]:
            tot[c] = int(monthly[c].sum())
        done_all = int(sum(monthly[s].sum() for s in ctx.status_columns if ctx.category[s] == "done"))
        tot[RATE_BY_UNIT] = done_all / tot["承擔任務"] if tot["承擔任務"] else None
        vc = monthly["報送情況"].value_counts()
        tot["報送情況"] = "、".join(f"{k[:2]}{int(vc.get(k, 0))}" for k in
                                (SUBMIT_ON_TIME, SUBMIT_LATE, SUBMIT_MISSING)) + (
            f"、未到期{int(vc.get(SUBMIT_NOT_DUE, 0))}" if vc.get(SUBMIT_NOT_DUE, 0) else "")
        tot["報送日期"] = ""
        tot["採用文件"] = ""
        tot["備註"] = ""
        monthly = pd.concat([monthly, pd.DataFrame([tot])], ignore_index=True)
    return monthly
