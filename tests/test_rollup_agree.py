"""Figures an official sees must agree: 收件情況 (collect), 月度匯總 / 預評估 / 通報 (rollup), the
CLI summaries and the reminders (mail) all take each unit's reporting state from ONE rule,
status.month_status. The real pipeline: the seed notice → master → forms for August and
September → forms filled in openpyxl the way units do (an on-time form and a late correction, a
refused file arriving after an accepted one, an unreadable file, last month's form sent again,
a unit that stops reporting with a lagging task) → collect → rollup, read back from the master.
"""
from __future__ import annotations

import shutil
import sqlite3
from datetime import date, datetime, timedelta, timezone

import openpyxl
import pytest
from click.testing import CliRunner

from mail_helpers import load, write_config
from test_rollup_e2e import sheet_rows
from putuo_xl import layout
from putuo_xl.cli.commands import main
from putuo_xl.collect.run import collect
from putuo_xl.demo import fill_form, read_form
from putuo_xl.errors import InputError
from putuo_xl.workbook.forms import write_forms
from putuo_xl.mail.reminders import send_reminders
from putuo_xl.workbook.master import build_master
from putuo_xl.workbook.readback import plan_from_workbook
from putuo_xl.rollup.run import bulletin_text, rollup
from putuo_xl.plan.assignments import lead_label
from putuo_xl.text import narrow

CST = timezone(timedelta(hours=8))
AUG, SEP = "2020-08", "2020-09"
LAGGING_112 = "區統計局"            # the one unit of 44 lagging on 1.1.2 (not among the first 11)


def at(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=CST)


def values(info, month: str, unit: str, units: list[str], **over) -> dict:
    """A unit's form: every task 推進中 50%; 1.1.2 已完成 for the first 11 units, 滯後 for one;
    `over` = {task id: (status, progress)}."""
    out = {}
    for r in info.rows:
        if "#" in r.task_id:
            continue
        st, pg = "推進中", 0.5
        if r.task_id == "1.1.2":
            i = units.index(unit)
            st, pg = ("已完成", 1.0) if i < 11 else (("滯後", 0.2) if unit == LAGGING_112 else ("推進中", 0.5))
        st, pg = over.get(r.task_id, (st, pg))
        out[r.task_id] = {"status": st, "progress": pg, "progress_text": f"{month} {unit} 按計劃推進"}
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("agree")
    cfg = load(write_config(root / "config.yaml", 1))          # addresses: reminders can be planned
    master = build_master(None, root / "任務分解台賬.xlsx", cfg).path
    forms = {m: write_forms(master, m, None, cfg) for m in (AUG, SEP)}
    units = list(forms[AUG].units)
    infos = {m: {u: read_form(p) for u, p in forms[m].units.items()} for m in (AUG, SEP)}
    ledger = master.with_name(master.stem + ".ledger.sqlite")
    ids: dict = {}

    def put(month, unit, folder, when, name=None, **over):
        src = forms[month].units[unit]
        return fill_form(src, folder / (name or src.name), values(infos[month][unit], month, unit, units, **over),
                         received=at(when), sample=False)

    # -- August, first run (6 Sep): almost everyone on time -------------------------------------
    a1 = root / "8月-1"
    skip = {"區信訪局", "區科技局", "區審計局"}     # missing; late (second run); sample file (below)
    for i, u in enumerate(units):
        if u in skip:
            continue
        over = {}
        if u == "區委編辦":
            over["3.3.2"] = ("滯後", 0.1)                # it will not report in September
        put(AUG, u, a1, f"2020-09-0{1 + i % 4} 10:00", **over)
    # 區教育局 and 區民政局: an accepted form, THEN a refused file (a status nobody can read; cut short)
    bad = values(infos[AUG]["區教育局"], AUG, "區教育局", units)
    bad[next(iter(bad))]["status"] = "差不多"
    fill_form(forms[AUG].units["區教育局"], a1 / "補充" / forms[AUG].units["區教育局"].name, bad,
              received=at("2020-09-04 15:00"), sample=False)
    cut = put(AUG, "區民政局", root / "tmp", "2020-09-03 11:00").read_bytes()
    p = a1 / "補充" / "2020-08_區民政局_法治政府建設月報(補充).xlsx"
    p.write_bytes(cut[: len(cut) // 2])
    import os
    os.utime(p, (at("2020-09-04 16:00").timestamp(),) * 2)
    # 區財政局: a file nobody can read, named after it, after its accepted form
    p = a1 / "2020-08_區財政局_說明.xlsx"
    p.write_bytes(b"not a workbook at all")
    os.utime(p, (at("2020-09-05 09:00").timestamp(),) * 2)
    # a sample file that was later replaced by the real form (the demo's marker must not stick)
    put(AUG, "區審計局", a1, "2020-09-01 08:00", name="示例數據_" + forms[AUG].units["區審計局"].name,
        **{"1.1.1": ("推進中", 0.3)})
    rep1 = collect(master, [a1], AUG, cfg, now=at("2020-09-06 09:00"))
    # the 通報 of August went out by mail on 8 Sep (as mail.send_bulletin logs it)
    with sqlite3.connect(ledger) as c:
        c.execute("INSERT INTO sends(key, kind, month, unit, recipients, subject, status, at) "
                  "VALUES ('bulletin|2020-08||x', 'bulletin', ?, NULL, 'a@b.cn', 's', 'sent', ?)",
                  (AUG, "2020-09-08T10:00:00+08:00"))

    # -- August, second run (11 Sep): a late correction, a late form ---------------------------
    a2 = root / "8月-2"
    put(AUG, "區衛健局", a2, "2020-09-10 09:30", name="區衛健局8月月報(更正).xlsx",
        **{"1.1.2": ("已完成", 1.0)})
    put(AUG, "區科技局", a2, "2020-09-08 10:00")
    put(AUG, "區審計局", a2, "2020-09-02 08:00", **{"1.1.1": ("推進中", 0.4)})   # real, in force
    rep2 = collect(master, [a2], AUG, cfg, now=at("2020-09-11 09:00"))

    # -- September (due 5 Oct), collected on 3 Oct: before the due date ------------------------
    s1 = root / "9月"
    quiet = {"區委編辦", "區信訪局"} | set(units[30:])      # not (yet) reported
    for i, u in enumerate(units):
        if u not in quiet:
            put(SEP, u, s1, f"2020-10-0{1 + i % 2} 10:00")
    # 區發改局 sends its August form again (re-saved) after its September form
    put(AUG, "區發改局", s1 / "又發", "2020-10-02 18:00")
    # 區司法局 forwards its accepted August file again, byte for byte
    shutil.copy2(a1 / forms[AUG].units["區司法局"].name, s1 / "轉發-區司法局.xlsx")
    os.utime(s1 / "轉發-區司法局.xlsx", (at("2020-10-02 19:00").timestamp(),) * 2)
    rep3 = collect(master, [s1], SEP, cfg, now=at("2020-10-03 09:00"))
    ids = {r.unit: r.id for r in rep2.month_rows if r.status == "accepted"}
    return {"root": root, "cfg": cfg, "master": master, "ledger": ledger, "units": units,
            "forms": forms, "reports": {"aug1": rep1, "aug2": rep2, "sep": rep3}, "ids": ids}


@pytest.fixture(scope="module")
def rolled(world, tmp_path_factory):
    """September rolled up on 3 Oct (before the due date) and on 9 Oct (after it)."""
    out = {}
    for key, now in (("before", at("2020-10-03 09:00")), ("after", at("2020-10-09 09:00"))):
        dest = tmp_path_factory.mktemp(key) / "台賬.xlsx"
        res = rollup(world["master"], SEP, world["cfg"], output=dest, now=now)
        out[key] = {"result": res, "path": dest, "sheets": {
            k: sheet_rows(dest, layout.name(k)) for k in ("monthly", "progress", "score")}}
    return out



def month_rows(rolled, key, sheet, month):
    return {r.get("單位") or r.get("任務編號"): r for r in rolled[key]["sheets"][sheet]
            if r["月份"] == layout.month_label(month)}


# -- 1. one rule for on time / late / missing -------------------------------------------------------
def test_receipts_and_rollup_agree_on_every_unit(world, rolled):
    rep = world["reports"]["aug2"]
    # what 收件情況 says of each unit (its per-unit standing: the summary counts these)
    receipts = {u.unit: ("未報送" if u.submission_id is None else
                         ("按時報送" if u.on_time else "逾期報送")) for u in rep.units}
    monthly = month_rows(rolled, "after", "monthly", AUG)
    assert {u: r["報送情況"] for u, r in monthly.items() if u != "合計"} == receipts
    # 區衛健局 sent on time, then a correction after the due date: it reported on time
    assert receipts["區衛健局"] == "按時報送" and receipts["區科技局"] == "逾期報送"
    # the counts: 收件情況's summary, 月度匯總's 合計, the CLI summaries
    s = rep.stats()
    assert (s["late"], s["missing"]) == (1, 1)
    assert "逾期 1。" in rep.summary_line() and "缺報 1," in narrow(rep.summary_line())
    assert monthly["合計"]["報送情況"] == f"按時{s['reported'] - 1}、逾期1、未報1"
    res = rollup(world["master"], AUG, world["cfg"], output=world["root"] / "aug.xlsx",
                 now=at("2020-10-09 09:00"))
    assert f"按時 {s['reported'] - 1}、逾期 1、未報 1;" in narrow(res.summary())
    # 預評估 counts August the same way (on time 1, late 0.5, missing 0)
    score = month_rows(rolled, "after", "score", AUG)
    assert (score["區衛健局"]["按時"], score["區科技局"]["逾期"], score["區信訪局"]["未報"]) == (1, 1, 1)
    # the 收件情況 row of the late correction says why the unit counts as on time
    note = next(r[9] for r in rep.receipts_rows() if r[0] == "區衛健局" and r[8] == "採用")
    assert "更正版" in note and "按時報送計" in note


def test_reminders_follow_the_same_rule(world, tmp_path):
    cfg, master = world["cfg"], world["master"]
    rep = send_reminders(master, SEP, cfg, today=date(2020, 10, 3), dry_run_dir=tmp_path / "out")
    reminded = {m.unit for m in rep.messages} | {p.unit for p in rep.problems
                                                 if p.code in ("no_address", "bad_address")}
    sep = world["reports"]["sep"]
    assert reminded == set(sep.not_received)
    # 區發改局 reported; its refused August copy is no reason to remind it
    assert "區發改局" not in reminded


# -- 2. rejections: from the ledger's order, in the month of the run that refused them -----------------
def test_rejection_notes(world, rolled):
    aug = month_rows(rolled, "after", "monthly", AUG)
    sep = month_rows(rolled, "after", "monthly", SEP)
    # August's form sent again in September's run: September's business, not August's
    assert "退回" not in aug["區發改局"]["備註"]
    assert "被退回" in sep["區發改局"]["備註"] and "為準" in sep["區發改局"]["備註"]
    assert "#" not in sep["區發改局"]["備註"]          # no ledger numbers on the reports
    assert "月份不符" in sep["區發改局"]["備註"] or "不是 2020年9月" in sep["區發改局"]["備註"]
    # refused AFTER the accepted form: no 「已重報」, the accepted one stands
    for u in ("區教育局", "區民政局"):
        assert "已重報" not in aug[u]["備註"], u
        assert "被退回" in aug[u]["備註"] and "收到的月報為準" in aug[u]["備註"], u
    assert "9月4日收到" in aug["區教育局"]["備註"]
    # an unreadable file filed under 區財政局 (no month): noted as 收件情況 lists it
    assert "2020-08_區財政局_說明.xlsx" in aug["區財政局"]["備註"]
    receipts = world["reports"]["aug2"].receipts_rows()
    assert any(r[5] == "2020-08_區財政局_說明.xlsx" and r[1] == "拒收" for r in receipts)


def test_identical_file_of_another_month_is_not_a_duplicate(world):
    sep = world["reports"]["sep"]
    f = next(f for f in sep.files if f.name == "轉發-區司法局.xlsx")
    assert f.outcome == "rejected" and f.reason_code == "wrong-month" and f.duplicate_of is None
    assert sep._outcome_label(f) == "拒收" and "不是 2020年9月" in f.reason()


# -- 3. empty months, due dates ------------------------------------------------------------------------
def test_empty_month_is_refused(world):
    with pytest.raises(InputError) as e:
        rollup(world["master"], "2020-12", world["cfg"], output=world["root"] / "x.xlsx")
    assert "2020年12月" in str(e.value) and "putuo-xl forms" in str(e.value)
    res = CliRunner().invoke(main, ["rollup", str(world["master"]), "--month", "2020-12",
                                    "-o", str(world["root"] / "x.xlsx")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert not (world["root"] / "x.xlsx").exists()


def test_units_not_yet_due(world, rolled):
    before = month_rows(rolled, "before", "monthly", SEP)
    after = month_rows(rolled, "after", "monthly", SEP)
    waiting = [u for u, r in before.items() if r["報送情況"] == "未到期"]
    assert "區委編辦" in waiting and len(waiting) >= 10
    assert all(after[u]["報送情況"] == "未報送" for u in waiting)
    assert "未到報送截止日期" in before["區委編辦"]["備註"]
    text_before = rolled["before"]["result"].rollup.bulletin(SEP)
    text_after = rolled["after"]["result"].rollup.bulletin(SEP)
    assert "區委編辦" not in text_before.split("四、")[1].split("五、")[0]
    assert f"另有{len(waiting)}個單位尚未到報送截止日期(10月5日)" in narrow(text_before)
    assert "區委編辦" in text_after.split("四、")[1].split("五、")[0]
    # not penalised: before the due date September does not count in 報送及時
    score_b = month_rows(rolled, "before", "score", SEP)
    score_a = month_rows(rolled, "after", "score", SEP)
    assert (score_b["區委編辦"]["應報次數"], score_b["區委編辦"]["未報"]) == (1, 0)
    assert (score_a["區委編辦"]["應報次數"], score_a["區委編辦"]["未報"]) == (2, 1)
    assert "未到期" in rolled["before"]["result"].summary()


# -- 4. which submission the rollup used --------------------------------------------------------------
def test_used_file_and_date(world, rolled):
    aug = month_rows(rolled, "after", "monthly", AUG)
    r = aug["區衛健局"]
    cid = world["ids"]["區衛健局"]
    assert cid and r["採用文件"].startswith("區衛健局8月月報(更正).xlsx(更正版,取代") \
        and r["採用文件"].endswith("收到的月報)")
    assert r["報送日期"] == datetime(2020, 9, 10)           # a date, shown as 2020年9月10日
    assert aug["區司法局"]["採用文件"].endswith(".xlsx") and "更正版" not in aug["區司法局"]["採用文件"]
    assert aug["區信訪局"]["採用文件"] in (None, "")


# -- 5, 6. 牽頭單位, tasks shared by a group ----------------------------------------------------------------
def test_lead_label_and_share_rule(world, rolled):
    plan = plan_from_workbook(world["master"], world["cfg"])
    prog = month_rows(rolled, "after", "progress", AUG)
    for t in plan.tasks():
        assert prog[t.id]["牽頭單位"] == lead_label(t, plan.script), t.id
    t = prog["1.1.2"]
    # the first 11 units done, and 區衛健局 by its correction; one lagging; 區信訪局 did not
    # report; the rest in progress: 12 of 44 done is not 滯後 (the old rule said 滯後, 紅燈)
    units = world["units"]
    done = 11 + (units.index("區衛健局") >= 11)
    assert (t["總體狀態"], t["預警"]) == ("推進中", "黃燈")
    assert narrow(t["說明"]).startswith(f"按單位比例:{done}/44 已完成、1/44 滯後、1/44 未填報")
    assert t["完成進度"] == pytest.approx((done * 1.0 + 0.2 + (43 - done - 1) * 0.5) / 43)
    assert "有單位滯後" in t["說明"]


# -- 7. carried statuses say so ---------------------------------------------------------------------------
def test_carried_status_marked(rolled):
    text = rolled["after"]["result"].rollup.bulletin(SEP)
    part = text.split("三、")[1].split("四、")[0]
    assert "區委編辦:報告滯後任務1項(3.3.2,沿用8月填報)" in narrow(part)
    prog = month_rows(rolled, "after", "progress", SEP)
    assert "區委編辦(沿用8月填報)" in narrow(prog["3.3.2"]["說明"])
    sep = month_rows(rolled, "after", "monthly", SEP)
    assert "本月未報,狀態沿用8月填報" in narrow(sep["區委編辦"]["備註"])


# -- 8. late changes to an earlier month are stated ------------------------------------------------------
def test_late_change_stated(rolled):
    aug = month_rows(rolled, "after", "monthly", AUG)
    assert "9月10日收到更正,8月數據已更新" in narrow(aug["區衛健局"]["備註"])
    assert "8月通報(9月8日發出)之後收到" in narrow(aug["區衛健局"]["備註"])
    assert "8月通報" in aug["區科技局"]["備註"]           # its late form came after the 通報 too
    assert "8月通報" not in aug["區司法局"]["備註"]
    text = narrow(rolled["after"]["result"].rollup.bulletin(AUG))
    assert text.startswith("【更新說明:本月通報已於9月8日發出;此後收到")
    assert "區衛健局" in text.split("\n")[0] and "區科技局" in text.split("\n")[0]


# -- 9. two completion rates, each labelled, the 通報's findable --------------------------------------------
def test_completion_rates_labelled(rolled):
    path = rolled["after"]["path"]
    monthly = month_rows(rolled, "after", "monthly", SEP)
    assert "承擔任務完成率" in monthly["合計"] and "完成率" not in monthly["合計"]
    r = rolled["after"]["result"].rollup
    rate = r.trend[r.trend["月份"] == SEP].iloc[0]["任務完成率"]
    assert f"任務完成率{rate * 100:.1f}%" in r.bulletin(SEP)
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = [list(x) for x in wb[layout.name("trend")].iter_rows(values_only=True)]
    wb.close()
    row = next(x for x in rows if x[0] == "任務完成率")
    assert rate in row
    assert f"任務完成率(按任務) {rate:.1%}" in narrow(rolled["after"]["result"].summary())


# -- 10. small things ---------------------------------------------------------------------------------------
def test_sample_mark_from_the_month_in_force(world, rolled):
    r = rolled["after"]["result"].rollup
    assert not r.sample and not r.sample_months
    assert "示例數據" not in r.bulletin(AUG)
    assert not world["reports"]["aug2"].sample
    # while the sample file was the one in force (first run), 收件情況 said so
    assert world["reports"]["aug1"].sample
    assert "(示例數據)" in narrow(world["reports"]["aug1"].receipts_title())


def test_receipts_header_has_the_plan_title(world):
    import zipfile
    plan = plan_from_workbook(world["master"], world["cfg"])
    rep = world["reports"]["sep"]
    assert rep.receipts_header().startswith(plan.title)
    with zipfile.ZipFile(world["master"]) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist()
                      if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    assert f"{plan.title}·2020年9月 月報收件情況" in xml


def test_no_op_normalisation_not_listed(tmp_path):
    from collect_kit import Form, make_master_and_forms, set_mtime
    from putuo_xl.config import load_config
    cfg = load_config()
    master, forms = make_master_and_forms(tmp_path, AUG, cfg)
    f = Form(forms / f"{AUG}_區司法局_法治政府建設月報.xlsx")
    f.fill_all(status="推進中", progress="80%")
    f.set(f.task_ids()[0], status="進行中", progress="８０％")
    (tmp_path / "in").mkdir()
    p = f.save(tmp_path / "in" / "a.xlsx")
    set_mtime(p, "2020-09-01 10:00")
    rep = collect(master, [p], AUG, cfg, now=at("2020-09-06 09:00"))
    note = next(x.short for x in rep.files[0].infos if x.code == "normalised")
    assert "「80%」→「80%」" not in note
    assert "「進行中」→「推進中」" in note and "「８０％」→「80%」" in note


# -- 11. a damaged ledger ------------------------------------------------------------------------------------
def test_damaged_ledger_is_a_message(world, tmp_path):
    master = tmp_path / "台賬.xlsx"
    shutil.copy(world["master"], master)
    led = tmp_path / "台賬.ledger.sqlite"
    led.write_bytes(b"this is not a database, it is a Word file someone saved here" * 20)
    cfg = world["cfg"]
    (tmp_path / "nothing").mkdir()
    for call in (lambda: collect(master, [tmp_path / "nothing"], SEP, cfg),
                 lambda: rollup(master, SEP, cfg),
                 lambda: bulletin_text(master, SEP, cfg),
                 lambda: send_reminders(master, SEP, cfg, dry_run_dir=tmp_path / "o")):
        with pytest.raises(InputError) as e:
            call()
        msg = str(e.value)
        assert "台賬.ledger.sqlite" in msg and "移到別處" in msg and "台賬_回報原件" in msg
    for args in (["rollup", str(master), "--month", SEP],
                 ["collect", str(master), str(tmp_path), "--month", SEP]):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 1 and "Traceback" not in res.output and "已損壞" in res.output
    assert led.read_bytes().startswith(b"this is not a database")      # left as it was
