"""compute_rollup over a small, hand-checked ledger: three units, three tasks, two months.

The ledger rows are inserted through putuo_xl.ledger.store (the collector's tables); every figure
asserted below was worked out by hand from the scenario in `ledger` (see the comments there).
The end-to-end test (test_rollup_e2e.py) runs the real pipeline instead.
"""
from datetime import date

import pytest

from putuo_xl import layout
from putuo_xl.config import config_from_dict, load_config
from putuo_xl.ledger.store import Ledger
from putuo_xl.plan.model import Indicator, Plan, Section, Subsection, Task, UnitRef
from putuo_xl.rollup.compute import compute_rollup
from putuo_xl.rollup.rules import (LIGHTS, MET, NO_VALUE, NOT_MET, SUBMIT_LATE, SUBMIT_MISSING,
                                   SUBMIT_ON_TIME, check_month)
from putuo_xl.errors import PutuoError
from putuo_xl.text import narrow


def make_config(late_credit=0.5, **rollup):
    base = load_config()
    raw = {
        "district": "測試區", "office": "測試辦公室",
        "units": {"A局": {"kind": "部門"}, "B局": {"kind": "部門"}, "C鎮": {"kind": "鎮"}},
        "statuses": [dict(name=s.name, synonyms=s.synonyms, done=s.done, lagging=s.lagging,
                          started=s.started, color=s.color) for s in base.statuses],
        "rollup": {"overall_status": "lead", "near_deadline_days": 30, "good_rate": 0.8,
                   "lagging_rate": 0.4, "top_n": 5, **rollup},
        "scoring": {"full_marks": 100, "late_credit": late_credit,
                    "weights": {"completion": 0.5, "timeliness": 0.3, "indicators": 0.2}},
    }
    return config_from_dict(raw)


def ref(name, role):
    return UnitRef(name=name, canonical=name, role=role)


def make_plan():
    t1 = Task("1.1.1", "推進甲事項,做好乙工作。", units=[ref("A局", "lead"), ref("B局", "co")],
              indicators=[Indicator("達到90%以上", 90, "%", ">=", "甲事項辦結率", "1.1.1#1")],
              deadline="2020-12-31")
    t2 = Task("1.1.2", "完成丙工作。", units=[ref("A局", "responsible"), ref("B局", "responsible"),
                                          ref("C鎮", "responsible")], deadline="2020-09-15")
    t3 = Task("2.1.1", "壓縮丁審批時間。", units=[ref("B局", "lead"), ref("C鎮", "co")],
              indicators=[Indicator("不超過50天", 50, "天", "<=", "丁審批時間", "2.1.1#1")],
              deadline="2020-10-20")
    return Plan(title="2020年測試區法治政府建設工作要點", doc_number="測政辦〔2020〕1號",
                addressees="各單位", year=2020, script="traditional", sections=[
                    Section("1", "一", "甲", [Subsection("1.1", "(一)", "甲", [t1, t2])]),
                    Section("2", "二", "乙", [Subsection("2.1", "(一)", "乙", [t3])])])


def add_sub(c, unit, month, status="accepted", on_time=1, reports=(), actuals=(), reason=None,
            received=None):
    cur = c.execute(
        "INSERT INTO submissions(sha256, file_name, unit, month, received_at, collected_at, status,"
        " on_time, reason) VALUES (?,?,?,?,?,?,?,?,?)",
        (f"{unit}{month}{status}{len(reports)}{on_time}", f"{month}_{unit}.xlsx", unit, month,
         received or f"{month}-28T09:00:00+08:00", "2020-10-06T10:00:00+08:00", status,
         on_time if status == "accepted" else None, reason))
    sid = cur.lastrowid
    for task_id, st, prog in reports:
        c.execute("INSERT INTO reports(submission_id, unit, month, task_id, status, progress)"
                  " VALUES (?,?,?,?,?,?)", (sid, unit, month, task_id, st, prog))
    for ind_id, value in actuals:
        c.execute("INSERT INTO actuals VALUES (?,?,?,?,?,?)",
                  (sid, unit, month, ind_id.split("#")[0], ind_id, value))
    return sid


@pytest.fixture()
def ledger(tmp_path):
    led = Ledger(tmp_path / "t.ledger.sqlite")
    with led.tx() as c:
        for m, due in (("2020-08", "2020-09-05"), ("2020-09", "2020-10-05")):
            for u in ("A局", "B局", "C鎮"):
                c.execute("INSERT INTO issued VALUES (?,?,?,?,?,?,?)",
                          (m, u, f"{m}_{u}.xlsx", "fp", "", due, "2020-08-01T00:00:00"))
        # August: A on time, B late, C only a rejected file
        add_sub(c, "A局", "2020-08", reports=[("1.1.1", "推進中", 0.5), ("1.1.2", "未啟動", 0.0)],
                actuals=[("1.1.1#1", 85)])
        add_sub(c, "B局", "2020-08", on_time=0, received="2020-09-08T09:00:00+08:00",
                reports=[("1.1.1", "已完成", 1.0), ("1.1.2", "推進中", 0.3), ("2.1.1", "推進中", 0.4)],
                actuals=[("2.1.1#1", 55)])
        add_sub(c, "C鎮", "2020-08", status="rejected", reason="工作表「月報」缺少任務編號列")
        # September: A sends on time, then a late correction that supersedes it; B nothing;
        # C on time
        first = add_sub(c, "A局", "2020-09", reports=[("1.1.1", "推進中", 0.8)])
        second = add_sub(c, "A局", "2020-09", on_time=0,
                         reports=[("1.1.1", "已完成", 1.0), ("1.1.2", "已完成", 1.0)],
                         actuals=[("1.1.1#1", 92)])
        c.execute("UPDATE submissions SET superseded_by=? WHERE id=?", (second, first))
        add_sub(c, "C鎮", "2020-09", reports=[("1.1.2", "滯後", 0.1), ("2.1.1", "推進中", 0.5)])
    yield led
    led.close()


def rows_by(df, key):
    return {r[key]: r for r in df.to_dict("records")}


def test_monthly_by_unit(ledger):
    r = compute_rollup(ledger, make_plan(), make_config(), "2020-09")
    assert r.months == ["2020-08", "2020-09"]
    aug = rows_by(r.monthly[r.monthly["月份"] == "2020-08"], "單位")
    a, b, c = aug["A局"], aug["B局"], aug["C鎮"]
    assert (a["承擔任務"], a["牽頭/責任"], a["配合"], a["本月填報"]) == (2, 2, 0, 2)
    assert (a["已完成"], a["推進中"], a["未啟動"], a["滯後"], a["未填報"]) == (0, 1, 1, 0, 0)
    assert a["承擔任務完成率"] == 0 and a["報送情況"] == SUBMIT_ON_TIME
    assert (b["承擔任務"], b["牽頭/責任"], b["配合"], b["已完成"], b["推進中"]) == (3, 2, 1, 1, 2)
    assert b["承擔任務完成率"] == pytest.approx(1 / 3) and b["報送情況"] == SUBMIT_LATE
    assert b["報送日期"] == "2020-09-08"
    assert (c["承擔任務"], c["本月填報"], c["未填報"], c["報送情況"]) == (2, 0, 2, SUBMIT_MISSING)
    assert "退回" in c["備註"] and "缺少任務編號列" in c["備註"]
    tot = aug["合計"]
    assert (tot["承擔任務"], tot["已完成"], tot["推進中"], tot["未啟動"], tot["未填報"]) == (7, 1, 3, 1, 2)
    assert tot["報送情況"] == "按時1、逾期1、未報1"

    sep = rows_by(r.monthly[r.monthly["月份"] == "2020-09"], "單位")
    a, b, c = sep["A局"], sep["B局"], sep["C鎮"]
    # A: on time first, a late correction later: on time, the correction's data counts
    assert (a["已完成"], a["承擔任務完成率"], a["報送情況"]) == (2, 1.0, SUBMIT_ON_TIME)
    # B: nothing this month, statuses carried from August and said so
    assert (b["本月填報"], b["已完成"], b["推進中"], b["報送情況"]) == (0, 1, 2, SUBMIT_MISSING)
    assert "沿用" in b["備註"]
    assert (c["滯後"], c["推進中"], c["報送情況"], c["備註"]) == (1, 1, SUBMIT_ON_TIME, "")
    # latest month first
    assert list(r.monthly["月份"])[0] == "2020-09"


def test_progress_by_task(ledger):
    r = compute_rollup(ledger, make_plan(), make_config(), "2020-09")
    aug = rows_by(r.progress[r.progress["月份"] == "2020-08"], "任務編號")
    assert aug["1.1.1"]["總體狀態"] == "推進中" and aug["1.1.1"]["預警"] == LIGHTS["green"]
    assert aug["1.1.1"]["完成進度"] == 0.5
    # all units responsible (no lead): judged by the share of its units (rollup.
    # overall_status_group: share) — A 未啟動, B 推進中, C not reported: none done, none lagging,
    # someone has started → 推進中; 1 of 3 not reported (≥ 20%) and 15 days to the deadline → yellow
    t = aug["1.1.2"]
    assert (t["總體狀態"], t["預警"], t["未填報"]) == ("推進中", LIGHTS["yellow"], 1)
    assert "距完成時限15天" in t["說明"] and "未填報:C鎮" in t["說明"]
    assert t["說明"].startswith("按單位比例:0/3 已完成、1/3 未填報")
    assert t["完成進度"] == pytest.approx(0.15)           # mean of A 0% and B 30%
    assert t["牽頭單位"] == "A局、B局、C鎮\uff08共同負責\uff09"      # units.lead_label
    assert aug["2.1.1"]["預警"] == LIGHTS["green"]       # 50 days left
    sep = rows_by(r.progress[r.progress["月份"] == "2020-09"], "任務編號")
    assert (sep["1.1.1"]["總體狀態"], sep["1.1.1"]["預警"], sep["1.1.1"]["完成進度"]) == \
        ("已完成", LIGHTS["green"], 1.0)
    t = sep["1.1.2"]
    assert (t["總體狀態"], t["預警"], t["已完成"], t["推進中"], t["滯後"]) == \
        ("滯後", LIGHTS["red"], 1, 1, 1)
    t = sep["2.1.1"]
    assert (t["總體狀態"], t["牽頭單位狀態"], t["預警"]) == ("推進中", "推進中", LIGHTS["yellow"])
    assert "距完成時限20天" in t["說明"]


def test_overall_rule_worst(ledger):
    r = compute_rollup(ledger, make_plan(), make_config(overall_status="worst"), "2020-08")
    aug = rows_by(r.progress, "任務編號")
    # lead A 推進中, co B 已完成: the worst is 推進中; 2.1.1: lead B 推進中, C unreported
    assert aug["1.1.1"]["總體狀態"] == "推進中"
    with pytest.raises(PutuoError):
        compute_rollup(ledger, make_plan(), make_config(overall_status="best"), "2020-08")


@pytest.mark.parametrize("key,value,says", [
    ("good_rate", "較好", "rollup.good_rate 應是數字"),
    ("top_n", 2.5, "rollup.top_n 應是整數"),
    ("near_deadline_days", [30], "rollup.near_deadline_days 應是整數"),
    ("bulletin_max_units", 0, "rollup.bulletin_max_units 應是正整數"),
])
def test_a_config_number_that_is_not_one_is_named(ledger, key, value, says):
    with pytest.raises(PutuoError) as e:
        compute_rollup(ledger, make_plan(), make_config(**{key: value}), "2020-08")
    assert says in narrow(str(e.value)), str(e.value)


def test_indicators_direction_aware(ledger):
    r = compute_rollup(ledger, make_plan(), make_config(), "2020-09")
    aug = rows_by(r.indicators[r.indicators["月份"] == "2020-08"], "指標編號")
    assert (aug["1.1.1#1"]["實際值"], aug["1.1.1#1"]["是否達標"], aug["1.1.1#1"]["差距"]) == (85, NOT_MET, 5)
    assert (aug["2.1.1#1"]["實際值"], aug["2.1.1#1"]["是否達標"], aug["2.1.1#1"]["方向"]) == \
        (55, NOT_MET, "不超過")
    sep = rows_by(r.indicators[r.indicators["月份"] == "2020-09"], "指標編號")
    assert (sep["1.1.1#1"]["實際值"], sep["1.1.1#1"]["是否達標"], sep["1.1.1#1"]["填報單位"]) == \
        (92, MET, "A局")
    # B did not report in September: the August figure still counts, and says so
    assert (sep["2.1.1#1"]["實際值"], sep["2.1.1#1"]["數據月份"]) == (55, "2020-08")


def test_scores_and_ranking(ledger):
    r = compute_rollup(ledger, make_plan(), make_config(), "2020-09")
    aug = rows_by(r.scores[r.scores["月份"] == "2020-08"], "單位")
    # A: tasks 推進中 at 50% and 未啟動 → completion 0.25 of 50; on time 30; target missed 0
    assert (aug["A局"]["任務推進得分"], aug["A局"]["報送及時得分"], aug["A局"]["指標達標得分"],
            aug["A局"]["總分"]) == (12.5, 30.0, 0.0, 42.5)
    # B: 已完成 + 推進中 30% + 推進中 40% = 1.7 of 3 → 28.3; late 15; its target missed 0
    assert (aug["B局"]["任務推進得分"], aug["B局"]["報送及時得分"], aug["B局"]["總分"]) == (28.3, 15.0, 43.3)
    assert aug["C鎮"]["總分"] == 0.0
    assert pd_isna(aug["C鎮"]["指標達標得分"])             # C has no targets of its own
    assert [aug[u]["排名"] for u in ("B局", "A局", "C鎮")] == [1, 2, 3]
    assert [aug[u]["等次"] for u in ("B局", "A局", "C鎮")] == ["一般", "一般", "滯後"]
    sep = r.scores[r.scores["月份"] == "2020-09"]
    assert list(sep["單位"]) == ["A局", "B局", "C鎮"]      # ranked
    s = rows_by(sep, "單位")
    assert s["A局"]["總分"] == 100.0 and s["A局"]["等次"] == "較好"
    # B: August's statuses carried; on time never: late 0.5 + missing 0 over two months
    assert (s["B局"]["任務推進得分"], s["B局"]["報送及時得分"], s["B局"]["總分"], s["B局"]["等次"]) == \
        (28.3, 7.5, 35.8, "滯後")
    # C: 滯後 0 + 推進中 50% → 0.25; no targets: weights renormalised over 0.8; half up
    # (15.625 → 15.6, 18.75 → 18.8); the total is the sum of the shown parts
    assert (s["C鎮"]["任務推進得分"], s["C鎮"]["報送及時得分"], s["C鎮"]["總分"]) == (15.6, 18.8, 34.4)
    assert (s["C鎮"]["應報次數"], s["C鎮"]["按時"], s["C鎮"]["未報"]) == (2, 1, 1)


def pd_isna(x):
    return x is None or x != x


def test_trend_and_hidden_sheets(ledger):
    r = compute_rollup(ledger, make_plan(), make_config(), "2020-09")
    tr = rows_by(r.trend, "月份")
    a, s = tr["2020-08"], tr["2020-09"]
    assert (a["應報單位"], a["按時報送"], a["逾期報送"], a["未報送"]) == (3, 1, 1, 1)
    # 1.1.2 is 推進中 by the share rule (A 未啟動, B 推進中): see test_progress_by_task
    assert (a["已完成"], a["推進中"], a["未啟動"], a["滯後"], a["已達標"]) == (0, 3, 0, 0, 0)
    assert (s["按時報送"], s["未報送"], s["已完成"], s["滯後"], s["已達標"]) == (2, 1, 1, 1, 1)
    assert s["任務完成率"] == pytest.approx(1 / 3)
    status = {row[0]: row for row in r.status_rows}
    # the master's formulas read these: status name, progress, date of the latest report,
    # light code (its conditional formats compare green/yellow/red)
    # 1.1.2 (shared by A, B, C): 1 of 3 lagging → 滯後; progress the mean of 100%, 30%, 10%
    assert status["1.1.2"][1:] == ["滯後", pytest.approx(1.4 / 3), date(2020, 9, 28), "red"]
    assert status["2.1.1"][4] == "yellow"
    assert status["2.1.1|B局"][1:] == ["推進中", 0.4, date(2020, 9, 8), "yellow"]   # 20 days left
    assert status["1.1.1|A局"][1:] == ["已完成", 1.0, date(2020, 9, 28), "green"]
    assert status["1.1.2|C鎮"][4] == "red"
    actual = {row[0]: row for row in r.actual_rows}
    assert actual["1.1.1#1|2020-08"][1:] == [85, NOT_MET, "A局"]
    assert actual["1.1.1#1|2020-09"][1:] == [92, MET, "A局"]
    assert actual["1.1.1#1"][1:] == [92, MET, "A局"]
    # a month column shows what was reported for that month: B sent nothing in September
    assert actual["2.1.1#1|2020-08"][1:] == [55, NOT_MET, "B局"]
    assert "2.1.1#1|2020-09" not in actual
    assert actual["2.1.1#1"][1:] == [55, NOT_MET, "B局"]
    sv = r.sheet_values()
    assert sv[layout.STATUS_SHEET][0] == layout.STATUS_COLUMNS
    assert sv[layout.ACTUALS_SHEET][0] == layout.ACTUALS_COLUMNS
    assert set(sv) >= {layout.name(k) for k in layout.ROLLUP_SHEETS}


def test_bulletin(ledger):
    r = compute_rollup(ledger, make_plan(), make_config(), "2020-09")
    text = narrow(r.bulletin())
    assert text.startswith("關於2020年9月法治政府建設工作推進情況的預評估通報")
    assert "本月應報送工作報表的單位3個,按時報送2個,逾期報送0個,未報送1個" in text
    assert "未報送2020年9月工作報表的單位(1個):B局。" in text
    assert "A局(100.0分)" in text
    assert "1. C鎮:報告滯後任務1項(1.1.2)" in text
    assert "1. 丁審批時間:目標不超過50天,目前為55天(B局填報)。" in text
    assert "1.1.2 完成丙工作" in text                      # red task named
    aug = narrow(r.bulletin("2020-08"))
    assert "(其中C鎮報送的報表不符合要求已退回,尚未重新報送)" in aug
    assert "逾期報送的單位(1個):B局。" in aug


def test_bulletin_names_at_most_bulletin_max_units_lagging_units(ledger):
    """A province has hundreds of lagging units: the 通報 names the most lagging ones and
    counts the rest, which the sheets list in full."""
    with ledger.tx() as c:
        add_sub(c, "B局", "2020-09", reports=[("1.1.2", "滯後", 0.1), ("2.1.1", "滯後", 0.2)])
    full = narrow(compute_rollup(ledger, make_plan(), make_config(), "2020-09").bulletin())
    part = full.split("三、")[1].split("四、")[0]
    assert "以下2個單位報告本單位承擔的任務有滯後(任務的總體狀態見第一部分),或預評估得分低於40分:" in part
    assert "1. B局:報告滯後任務2項(1.1.2、2.1.1)" in part and "2. C鎮:報告滯後任務1項(1.1.2)" in part
    assert "另有" not in part
    capped = narrow(compute_rollup(ledger, make_plan(), make_config(bulletin_max_units=1),
                                   "2020-09").bulletin())
    part = capped.split("三、")[1].split("四、")[0]
    assert ("以下2個單位報告本單位承擔的任務有滯後(任務的總體狀態見第一部分),或預評估得分低於40分,"
            "列出其中報告滯後任務最多的1個(全部單位見「月度匯總」和「預評估」表):") in part
    assert "1. B局:報告滯後任務2項(1.1.2、2.1.1),預評估得分" in part and "C鎮" not in part
    assert "另有1個單位,不再一一列出。" in part
    # only that list is shortened: the rest of the 通報 is the same
    assert capped.split("三、")[0] == full.split("三、")[0]
    assert capped.split("四、")[1] == full.split("四、")[1]


def test_deterministic_and_read_only(ledger):
    before = ledger.conn.total_changes
    r1 = compute_rollup(ledger, make_plan(), make_config(), "2020-09")
    r2 = compute_rollup(ledger, make_plan(), make_config(), "2020-09")
    assert r1.sheet_values() == r2.sheet_values()
    assert ledger.conn.total_changes == before


def test_earlier_month_only_sees_its_past(ledger):
    r = compute_rollup(ledger, make_plan(), make_config(), "2020-08")
    assert r.months == ["2020-08"]
    assert set(r.monthly["月份"]) == {"2020-08"}


def test_month_format():
    assert check_month("2020-8") == "2020-08"
    assert check_month("202009") == "2020-09"
    with pytest.raises(PutuoError):
        check_month("2020-13")


def test_simplified_plan_renders_simplified(ledger):
    plan = make_plan()
    plan.script = "simplified"
    r = compute_rollup(ledger, plan, make_config(), "2020-09")
    text = r.bulletin()
    assert "关于2020年9月法治政府建设工作推进情况的预评估通报" in text
    sv = r.sheet_values()
    assert "月度汇总" in sv and "预评估" in sv
    assert sv["月度汇总"][0][0].endswith("月度汇总")


def test_late_credit_from_config(ledger):
    r = compute_rollup(ledger, make_plan(), make_config(late_credit=0), "2020-08")
    b = rows_by(r.scores, "單位")["B局"]
    assert (b["報送及時得分"], b["總分"]) == (0.0, 28.3)     # late counts nothing now
    with pytest.raises(PutuoError):
        compute_rollup(ledger, make_plan(), make_config(late_credit=2), "2020-08")


def test_group_rule_configurable(ledger):
    # the old rule for shared tasks: the worst of those who reported
    r = compute_rollup(ledger, make_plan(), make_config(overall_status_group="lead"), "2020-08")
    t = rows_by(r.progress, "任務編號")["1.1.2"]
    assert t["總體狀態"] == "未啟動" and not t["說明"].startswith("按單位比例")
    # a higher threshold: 1 of 3 lagging is no longer 滯後 for the task (red all the same: its
    # deadline, 15 Sep, has passed and it is not done)
    r = compute_rollup(ledger, make_plan(), make_config(group_lagging_share=0.5), "2020-09")
    t = rows_by(r.progress[r.progress["月份"] == "2020-09"], "任務編號")["1.1.2"]
    assert (t["總體狀態"], t["預警"]) == ("推進中", LIGHTS["red"])
    assert t["說明"].startswith("按單位比例:1/3 已完成、1/3 滯後;已超過完成時限15天")
    # 1.1.1 has a lead of its own: the lead rule, whatever the group setting
    assert rows_by(r.progress, "任務編號")["1.1.1"]["牽頭單位"] == "A局"
    for bad in ({"overall_status_group": "most"}, {"group_lagging_share": 0},
                {"group_done_share": 2}, {"group_done_share": "all"}):
        with pytest.raises(PutuoError) as e:
            compute_rollup(ledger, make_plan(), make_config(**bad), "2020-08")
        assert "config.yaml" in str(e.value)


def test_not_due_before_the_due_date(ledger):
    # September's due date is 5 Oct: on 3 Oct B (nothing sent) still has time
    r = compute_rollup(ledger, make_plan(), make_config(), "2020-09", today=date(2020, 10, 3))
    sep = rows_by(r.monthly[r.monthly["月份"] == "2020-09"], "單位")
    assert sep["B局"]["報送情況"] == "未到期" and "未到報送截止日期(10月5日)" in sep["B局"]["備註"]
    assert sep["合計"]["報送情況"] == "按時2、逾期0、未報0、未到期1"
    s = rows_by(r.scores[r.scores["月份"] == "2020-09"], "單位")
    assert (s["B局"]["應報次數"], s["B局"]["逾期"], s["B局"]["未報"]) == (1, 1, 0)   # August only
    tr = rows_by(r.trend, "月份")["2020-09"]
    assert (tr["未報送"], tr["未到期"], tr["按時報送率"]) == (0, 1, 1.0)
    assert "B局" not in r.bulletin().split("四、")[1].split("五、")[0] and "另有1個單位尚未到報送截止日期" in r.bulletin()
    # the day after the due date it is missing
    r = compute_rollup(ledger, make_plan(), make_config(), "2020-09", today=date(2020, 10, 6))
    assert rows_by(r.monthly[r.monthly["月份"] == "2020-09"], "單位")["B局"]["報送情況"] == "未報送"


def test_empty_month_refused(ledger):
    with pytest.raises(PutuoError) as e:
        compute_rollup(ledger, make_plan(), make_config(), "2020-12")
    assert "2020年12月" in str(e.value) and "putuo-xl forms" in str(e.value)
