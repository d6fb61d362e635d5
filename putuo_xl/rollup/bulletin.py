"""The 通報: a month's figures as the office's bulletin (總體情況, units doing well, lagging
units, 晾曬 of the reports, targets not met, next steps), as blocks — (kind, text): mark, title,
blank, addressee, para, h1, item, signature, date — that the 通報 sheet and the GB/T 9704 .docx
lay out, and as plain text (`blocks_text`), what mail sends and compares.

Two counts of lagging are told apart in words: a task's 總體狀態 (its lead unit's report, or
the rule config.yaml sets) gives 一、's 「總體滯後」; each unit's own report on the tasks it
shares gives 三、's list (各單位報告). A task can be 推進中 overall while a co-operating unit
reports it 滯後: the 通報 says both, and says which is which.

The 成文日期 is the day the month's figures were complete — the later of the due date and the
day the last report in force arrived (never after today) — so the same ledger gives the same
text on any later day (mail compares it with the master's 通報 sheet)."""
from __future__ import annotations

from datetime import date

import numpy as np

from putuo_xl import layout
from putuo_xl.ledger.status import day_label, month_word
from putuo_xl.plan.model import Plan
from putuo_xl.rollup.context import _Ctx
from putuo_xl.rollup.rules import (GRADES, INDENT, LIGHTS, MET, NO_VALUE, NOT_REPORTED, SUBMIT_LATE,
                                   SUBMIT_MISSING, SUBMIT_NOT_DUE, SUBMIT_ON_TIME)
from putuo_xl.text import in_script


def _fmt_num(v: float) -> str:
    """A figure as people write it: 41, 90.5, 75.05 (at most two decimals)."""
    v = round(float(v), 2)
    return str(int(v)) if v == int(v) else f"{v:.2f}".rstrip("0").rstrip(".")


def _bulletin(ctx: _Ctx, sample: bool, m: str, cur: dict, plan: Plan) -> list[tuple[str, str]]:
    """The 通報 of month `m` as blocks (see the module doc), in the notice's script."""
    label = layout.month_label(m)
    tr = next(x for x in [cur["trend"]])
    scores = cur["scores"]
    out: list[tuple[str, str]] = []

    def add(kind: str, text: str = "") -> None:
        out.append((kind, text))

    if sample:
        add("mark", "【示例數據:以下內容由示例回報生成,不是真實填報】")
    if cur["after_bulletin"]:
        late_units = [u for u in cur["exp_units"] if u in cur["after_bulletin"]]
        add("mark", f"【更新說明:本月通報已於{day_label(cur['sent_at'])}發出;此後收到"
                    f"{'、'.join(late_units)}的月報,以下內容已按台賬更新。】")
    add("title", f"關於{label}法治政府建設工作推進情況的預評估通報")
    add("blank")
    if plan.addressees:
        add("addressee", f"{plan.addressees}:")
    doc = f"({plan.doc_number})" if plan.doc_number else ""
    add("para", f"根據《{plan.title}》{doc}關於建立工作報表制度、定期匯總考評指標完成情況的要求,"
                f"現將{label}各單位工作推進情況通報如下。")
    # the units' own reports of lagging tasks (三、), counted here for 一、 too
    st = cur["state"]
    lag = sorted((int(st.uorder[k]), int(st.torder[k]), k) for k in np.nonzero(st.c_code == 3)[0].tolist())
    lag_by_unit: dict[str, list[str]] = {}
    carried = cur["carried"]
    for _uo, _to, k in lag:
        # a status carried from an earlier month says so (the unit did not report it this month)
        tid = st.task_id[k] if k not in carried else f"{st.task_id[k]},沿用{month_word(carried[k])}填報"
        lag_by_unit.setdefault(st.unit[k], []).append(tid)
    rule = "牽頭單位報告的進展" if ctx.overall_rule == "lead" else "各責任單位中最差的進展"
    add("h1", "一、總體情況")
    n_exp, on, late, miss = tr["應報單位"], tr["按時報送"], tr["逾期報送"], tr["未報送"]
    nd = tr[SUBMIT_NOT_DUE]
    add("para",
        f"本月應報送工作報表的單位{n_exp}個,按時報送{on}個,逾期報送{late}個,未報送{miss}個,"
        + (f"尚未到報送截止日期{nd}個," if nd else "") +
        f"按時報送率{_p(tr['按時報送率'])}。"
        f"按任務總體狀態(以{rule}為準)統計,全年{tr['任務總數']}項工作任務中,"
        f"已完成{tr['已完成']}項,推進中{tr['推進中']}項,未啟動{tr['未啟動']}項,"
        f"總體滯後{tr['滯後']}項" +
        (f",尚無單位填報{tr[NOT_REPORTED]}項" if tr[NOT_REPORTED] else "") +
        f",任務完成率{_p(tr['任務完成率'])}。"
        + (f"從各單位報告看,有{len(lag_by_unit)}個單位報告本單位承擔的任務滯後,"
           f"共{len(lag)}項次(見第三部分)。" if lag else "各單位報告中沒有滯後的任務。")
        + f"{tr['考評指標']}項考評指標中,已達標{tr['已達標']}項,未達標{tr['未達標']}項"
        + (f",未填報{tr['指標未填報']}項" if tr["指標未填報"] else "") + "。"
        + (f"各單位預評估平均得分{tr['平均得分']:.1f}分(滿分{_fmt_num(ctx.full_marks)}分)。"
           if tr["平均得分"] is not None else ""))
    # units doing well
    add("h1", "二、工作推進較好的單位")
    good = scores[(scores["等次"] == GRADES["good"]) & (scores["本月報送"] == SUBMIT_ON_TIME)]
    good = good.head(ctx.top_n)
    if len(good):
        names = "、".join(f"{u}({s:.1f}分)" for u, s in zip(good["單位"], good["總分"]))
        add("para", f"{names}等單位任務推進有力、報表報送及時,預評估得分位居前列,予以通報表揚。")
    else:
        add("para", f"本月暫無預評估得分達到{_fmt_num(ctx.good_rate * ctx.full_marks)}分且按時報送的單位。")
    # lagging units
    add("h1", "三、工作推進滯後的單位")
    # a low score only because the unit did not report this month: it is named under 四 instead
    low = scores[(scores["等次"] == GRADES["lagging"])
                 & ~scores["本月報送"].isin([SUBMIT_MISSING, SUBMIT_NOT_DUE])]
    sc = dict(zip(scores["單位"], scores["總分"]))
    # the most lagging tasks first, then the lowest score, then directory order
    lagging_units = sorted(set(lag_by_unit) | set(low["單位"]),
                           key=lambda u: (-len(lag_by_unit.get(u, ())), sc.get(u, 0.0),
                                          ctx.unit_order.get(u, len(ctx.unit_order))))
    if lagging_units:
        # a province's 通報 would name hundreds: the worst bulletin_max_units, the rest by count
        named = lagging_units[:ctx.bulletin_max_units]
        low_mark = f"{_fmt_num(ctx.lagging_rate * ctx.full_marks)}分"
        head = (f"各單位報告中,以下{len(lagging_units)}個單位報告本單位承擔的任務有滯後"
                f"(任務的總體狀態見第一部分),或預評估得分低於{low_mark}")
        if not lag:
            head = f"以下{len(lagging_units)}個單位預評估得分低於{low_mark}"
        if len(named) < len(lagging_units):
            head += (f",列出其中報告滯後任務最多的{len(named)}個(全部單位見「{layout.name('monthly')}」"
                     f"和「{layout.name('score')}」表)")
        add("para", head + ":")
        for i, u in enumerate(named, 1):
            bits = []
            if u in lag_by_unit:
                bits.append(f"報告滯後任務{len(lag_by_unit[u])}項({';'.join(lag_by_unit[u])})"
                            if any("沿用" in x for x in lag_by_unit[u]) else
                            f"報告滯後任務{len(lag_by_unit[u])}項({'、'.join(lag_by_unit[u])})")
            if u in sc:
                bits.append(f"預評估得分{sc[u]:.1f}分")
            add("item", f"{i}. {u}:{','.join(bits)}{'。' if i == len(named) else ';'}")
        if len(named) < len(lagging_units):
            add("para", f"另有{len(lagging_units) - len(named)}個單位,不再一一列出。")
        add("para", "請上述單位認真分析原因,制定整改措施,加快推進。")
    else:
        add("para", "本月沒有單位報告任務滯後" + ("(未報送的單位見第四部分)。" if any(
            cur["sub_state"][u] == SUBMIT_MISSING for u in cur["exp_units"]) else "。"))
    red = cur["progress"][cur["progress"]["預警"] == LIGHTS["red"]]
    if len(red):
        add("para", f"亮紅燈(總體滯後或已超過完成時限)的任務{len(red)}項:")
        for i, (tid, t, why) in enumerate(zip(red["任務編號"], red["工作任務"], red["說明"]), 1):
            add("item", f"{i}. {tid} {t}。")
    # not reported (晾曬)
    add("h1", "四、報表報送情況(晾曬)")
    miss_units = [u for u in cur["exp_units"] if cur["sub_state"][u] == SUBMIT_MISSING]
    late_units = [u for u in cur["exp_units"] if cur["sub_state"][u] == SUBMIT_LATE]
    wait_units = [u for u in cur["exp_units"] if cur["sub_state"][u] == SUBMIT_NOT_DUE]
    if miss_units:
        returned = [u for u in miss_units if u in cur["rej_reason"]]
        txt = f"未報送{label}工作報表的單位({len(miss_units)}個):{'、'.join(miss_units)}"
        if returned:
            txt += f"(其中{'、'.join(returned)}報送的報表不符合要求已退回,尚未重新報送)"
        add("para", txt + "。")
    elif wait_units:
        add("para", f"截止日期已過的單位均已報送{label}工作報表。")
    else:
        add("para", f"各單位均已報送{label}工作報表。")
    if wait_units:
        due = cur["status"].due
        add("para", f"另有{len(wait_units)}個單位尚未到報送截止日期({due.month}月{due.day}日),"
                    f"暫不列入晾曬。")
    if late_units:
        add("para", f"逾期報送的單位({len(late_units)}個):{'、'.join(late_units)}。")
    if miss_units or late_units:
        add("para", "請未報送和逾期報送的單位高度重視,嚴格落實工作報表制度,按時報送。")
    # indicators not met
    add("h1", "五、尚未達標的考評指標")
    ind = cur["indicators"]
    pending = ind[ind["是否達標"] != MET]
    if len(pending):
        for i, row in enumerate(pending.itertuples(index=False), 1):
            if row.是否達標 == NO_VALUE:
                now = "尚未填報實際值"
            else:
                now = f"目前為{_fmt_num(row.實際值)}{row.計量單位}({row.填報單位}填報)"
            add("item", f"{i}. {row.指標名稱}:目標{row.目標},{now}。")
    else:
        add("para", "各項考評指標均已達標。")
    add("h1", "六、下步工作要求")
    add("para", "各單位要對照工作要點和任務分解,逐項抓好落實;對滯後和未達標事項明確責任人和完成時限,"
                "按月報送工作報表,確保全年任務按期完成。")
    add("blank")
    if ctx.cfg.office:
        add("signature", f"{ctx.cfg.office}")
    add("date", layout.date_label(_dated(cur).isoformat()))
    return [(k, in_script(x, plan.script)) for k, x in out]


def blocks_text(blocks: list[tuple[str, str]]) -> str:
    """The 通報 as plain text, one line a block: body paragraphs and list items indented by two
    ideographic spaces (what mail sends and what the 通報 sheet's lines are compared with)."""
    return "\n".join(INDENT + t if k in ("para", "item") else t for k, t in blocks)


def _dated(cur: dict):
    """The 成文日期 (see the module doc)."""
    ms = cur["status"]
    days = [um.in_force.day for um in ms.in_scope() if um.in_force is not None and um.in_force.day]
    day = max([ms.due.isoformat(), *days])
    return min(date.fromisoformat(day[:10]), ms.today)


def _p(x) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"
