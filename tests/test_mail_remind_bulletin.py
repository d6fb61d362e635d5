"""send_reminders (催報 from the ledger the collector writes) and send_bulletin (通報)."""
from __future__ import annotations

import re
from datetime import date

import pytest

from mail_helpers import (ADDRESSES, DUE, MONTH, body_text, cert, decoded_attachments,  # noqa: F401
                          display_names, load, make_master, seed_forms, seed_forms_session,
                          smtp_server, with_bulletin, write_config)
from putuo_xl.ledger.store import Ledger, now_iso, open_ledger
from putuo_xl.mail.bulletin import send_bulletin
from putuo_xl.mail.master_sheets import bulletin_from_sheet
from putuo_xl.mail.reminders import send_reminders
from putuo_xl.mail.report import MailError
from putuo_xl.text import narrow

REASON = ("文件「2020-08_區教育局_法治政府建設月報.xlsx」工作表「月報」單元格 G5:進展狀態「差不多」"
          "不是可選的狀態,請從下拉列表中選擇")


def issue(lg: Ledger, unit: str, month: str = MONTH, fp: str = "fp-1", created: str | None = None):
    lg.conn.execute("INSERT INTO issued VALUES (?,?,?,?,?,?,?)",
                    (month, unit, f"{month}_{unit}_法治政府建設月報.xlsx", fp, "1.1.1", DUE,
                     created or now_iso()))


def submit(lg: Ledger, unit: str | None, status: str, reason: str | None = None,
           month: str | None = MONTH, received: str = "2020-09-03T10:00:00+08:00",
           run_month: str = MONTH) -> int:
    """A row as the collector writes it; `run_month` goes to collect_month when the ledger has
    that column (the collector's schema adds it)."""
    cols = {r[1] for r in lg.conn.execute("PRAGMA table_info(submissions)")}
    extra = ["collect_month"] if "collect_month" in cols else []
    names = ["sha256", "file_name", "unit", "month", "received_at", "collected_at", "status",
             "reason_code", "reason"] + extra
    values = [f"sha-{unit}-{status}-{received}", f"{month}_{unit}_法治政府建設月報.xlsx", unit, month,
              received, now_iso(), status, "bad_status" if reason else None, reason]
    values += [run_month] * len(extra)
    cur = lg.conn.execute(f"INSERT INTO submissions({', '.join(names)}) "
                          f"VALUES ({', '.join('?' * len(names))})", values)
    return cur.lastrowid


@pytest.fixture
def master(tmp_path):
    """A master and its ledger: 區司法局 accepted; 區教育局 rejected; 沈家門街道 nothing;
    區財政局 (no address) nothing; 區民政局 rejected then accepted (no reminder)."""
    m = make_master(tmp_path / "台賬.xlsx")
    with open_ledger(m) as lg:
        for u in ("區司法局", "區教育局", "沈家門街道", "區財政局", "區民政局"):
            issue(lg, u)
        submit(lg, "區司法局", "accepted")
        submit(lg, "區教育局", "rejected", REASON)
        first = submit(lg, "區民政局", "rejected", "缺少「月報」工作表。")
        submit(lg, "區民政局", "accepted", received="2020-09-04T09:00:00+08:00")
        assert first
        submit(lg, None, "rejected", "無法識別單位。", month=None)
        # other month: ignored
        issue(lg, "區司法局", month="2020-07")
    return m


def test_reminders_to_missing_and_rejected(tmp_path, master, smtp_server):
    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    plan = {}
    report = send_reminders(master, MONTH, cfg, today=date(2020, 9, 6),
                            confirm=lambda r: plan.setdefault("lines", r.plan_lines()) and True)
    assert any("區財政局" in line for line in plan["lines"])          # no address, before sending
    assert any("認不出是哪個單位" in line for line in plan["lines"])
    got = {tuple(r.rcpt_tos): r.msg for r in server.received}
    assert set(got) == {tuple(ADDRESSES["區教育局"]), tuple(ADDRESSES["沈家門街道"])}

    edu = got[tuple(ADDRESSES["區教育局"])]
    assert narrow(edu["subject"]) == "【催報】2020年8月法治政府建設月報(區教育局)"
    body = body_text(edu)
    assert "2020年9月3日報送的2020年8月月報" in body
    assert narrow(REASON) + "。" in narrow(body) and "2020年9月5日" in body
    assert decoded_attachments(edu) == []

    sjm = body_text(got[tuple(ADDRESSES["沈家門街道"])])
    assert "截至2020年9月6日,尚未收到貴單位2020年8月法治政府建設工作月報" in narrow(sjm)
    assert "報送截止日期:2020年9月5日" in sjm
    assert set(display_names(got[tuple(ADDRESSES["沈家門街道"])], "to")) == {"舟山市普陀區沈家門街道辦事處"}

    assert {(m.unit, m.situation, m.status) for m in report.messages} == {
        ("區教育局", "rejected", "sent"), ("沈家門街道", "missing", "sent")}

    # same day again: nothing twice
    again = send_reminders(master, MONTH, cfg, today=date(2020, 9, 6))
    assert len(server.received) == 2
    assert {m.status for m in again.messages} == {"already_sent"}
    # a later day is a new reminder
    later = send_reminders(master, MONTH, cfg, today=date(2020, 9, 8))
    assert len(server.received) == 4 and len(later.by_status("sent")) == 2

    # 沈家門街道's form arrives and is accepted: no more reminders for it
    with open_ledger(master) as lg:
        submit(lg, "沈家門街道", "accepted", received="2020-09-08T15:00:00+08:00")
    last = send_reminders(master, MONTH, cfg, today=date(2020, 9, 9))
    assert [m.unit for m in last.messages] == ["區教育局"]


def test_reminders_follow_the_collectors_run_month(tmp_path, smtp_server):
    """The collector records the month of its run (collect_month): 區教育局 sent July's form in
    the August run; it was rejected and counts for August."""
    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    m = make_master(tmp_path / "台賬.xlsx")
    with open_ledger(m) as lg:
        if "collect_month" not in {r[1] for r in lg.conn.execute("PRAGMA table_info(submissions)")}:
            lg.conn.execute("ALTER TABLE submissions ADD COLUMN collect_month TEXT")
        issue(lg, "區教育局")
        submit(lg, "區教育局", "rejected", "這是2020年7月的月報,不是2020年8月的。", month="2020-07")
    report = send_reminders(m, MONTH, cfg, today=date(2020, 9, 6))
    (msg,) = report.messages
    assert msg.situation == "rejected" and "這是2020年7月的月報" in msg.body
    assert len(server.received) == 1


def test_reminders_need_a_ledger(tmp_path):
    cfg = load(write_config(tmp_path / "c.yaml", 25))
    m = make_master(tmp_path / "無台賬.xlsx")
    with pytest.raises(MailError, match="找不到台賬"):
        send_reminders(m, MONTH, cfg)
    assert not (tmp_path / "無台賬.ledger.sqlite").exists()
    with open_ledger(m):
        pass
    with pytest.raises(MailError, match="沒有 2020年8月 的月報發放記錄"):
        send_reminders(m, MONTH, cfg)


BULLETIN = ["普陀區2020年8月法治政府建設工作預評估通報",
            "一、總體情況:8月共45個單位應報,已報43個,按時率95.6%。",
            "",
            "",
            "二、進展滯後的單位:區教育局、沈家門街道。"]


def test_bulletin_sheet_reader(tmp_path):
    """The fallback when the rollup does not give the text: the master's 通報 sheet."""
    master = make_master(tmp_path / "普陀區台賬.xlsx", BULLETIN)
    text = bulletin_from_sheet(master, MONTH)
    assert text == "\n".join(BULLETIN[:3] + BULLETIN[4:])       # blank rows: one paragraph break
    old = make_master(tmp_path / "舊.xlsx", ["普陀區2020年7月法治政府建設工作預評估通報"])
    with pytest.raises(MailError, match="沒有提到2020年8月"):
        bulletin_from_sheet(old, MONTH)
    none = make_master(tmp_path / "無通報.xlsx")
    with pytest.raises(MailError, match="rollup"):
        bulletin_from_sheet(none, MONTH)


def test_bulletin(tmp_path, smtp_server, seed_forms):
    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    master = seed_forms[0]
    text = with_bulletin(master, cfg)
    report = send_bulletin(master, MONTH, cfg, today=date(2020, 9, 10))
    assert len(server.received) == 1
    rec = server.received[0]
    assert rec.rcpt_tos == ["quzhang@putuo.example.cn", "fzb@putuo.example.cn"]
    msg = rec.msg
    assert msg["subject"] == "【舟山市普陀區】2020年8月法治政府建設工作預評估通報"
    body = body_text(msg)
    assert text and narrow(text) in body and "2020年8月" in text
    assert f"工作報表見附件「{master.name}」" in body
    assert decoded_attachments(msg) == [(master.name, master.read_bytes())]
    assert display_names(msg, "to") == ["區長", ""]
    assert report.ok and report.messages[0].status == "sent"

    again = send_bulletin(master, MONTH, cfg, today=date(2020, 9, 11))
    assert len(server.received) == 1 and again.messages[0].status == "already_sent"


def test_bulletin_without_recipients(tmp_path, smtp_server, seed_forms):
    server = smtp_server()
    nobody = load(write_config(tmp_path / "c2.yaml", server.port, bulletin_to=[]))
    master = seed_forms[0]
    with_bulletin(master, nobody)
    report = send_bulletin(master, MONTH, nobody)
    assert report.messages == [] and not report.ok
    assert "bulletin_to 沒有填寫收件人" in "\n".join(report.summary_lines())
    assert server.received == []


def test_bulletin_dry_run(tmp_path, seed_forms):
    cfg = load(write_config(tmp_path / "c.yaml", 25))
    master = seed_forms[0]
    with_bulletin(master, cfg)
    report = send_bulletin(master, MONTH, cfg, dry_run_dir=tmp_path / "預覽")
    (eml,) = (tmp_path / "預覽").glob("*.eml")
    assert eml.name == "2020-08_通報.eml"
    assert report.messages[0].status == "written"
    ledger = master.with_name("任務分解台賬.ledger.sqlite")
    import sqlite3
    assert sqlite3.connect(ledger).execute("SELECT count(*) FROM sends").fetchone() == (0,)


def test_bulletin_needs_the_months_rollup_in_the_master(tmp_path, smtp_server, seed_forms):
    """The attachment is the master's 工作報表: it must be rolled up, to this very month, after
    the ledger last changed; otherwise nothing goes and the official is told what to run."""
    from putuo_xl.rollup.run import rollup

    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    master = seed_forms[0]
    # never rolled up: no 工作報表 in the master, nothing to attach
    for dry in (None, tmp_path / "預覽"):
        with pytest.raises(MailError) as e:
            send_bulletin(master, MONTH, cfg, dry_run_dir=dry)
        assert "還沒有刷新匯總" in str(e.value)
        assert "putuo-xl rollup --month 2020-08" in str(e.value) and "刷新匯總" in str(e.value)
    assert not (tmp_path / "預覽").exists() or not list((tmp_path / "預覽").iterdir())

    # rolled up to September: the August bulletin would carry September's 工作報表 (September's
    # forms issued: a month with nothing issued and nothing received is not rolled up at all)
    from putuo_xl.workbook.forms import write_forms
    write_forms(master, "2020-09", None, cfg)
    rollup(master, "2020-09", cfg)
    with pytest.raises(MailError) as e:
        send_bulletin(master, MONTH, cfg)
    msg = str(e.value)
    assert "2020年9月" in msg and "putuo-xl rollup --month 2020-08" in msg
    assert "--month 2020-09" in msg
    assert e.value.file == master.name
    assert server.received == []

    # rolled up to August: it goes, and the attachment says August
    rollup(master, MONTH, cfg)
    report = send_bulletin(master, MONTH, cfg, today=date(2020, 9, 10))
    assert report.ok and len(server.received) == 1


def test_bulletin_refuses_a_rollup_older_than_the_ledger(tmp_path, smtp_server, seed_forms):
    """A form collected after the rollup: the attached 工作報表 no longer says what the ledger
    says (the body would name a unit as not reported while the ledger has its report, or the
    other way round). Refused until the rollup is refreshed."""
    from collect_kit import Form, set_mtime
    from putuo_xl.collect.run import collect
    from putuo_xl.rollup.run import rollup

    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    master, forms_dir, result = seed_forms
    rollup(master, MONTH, cfg)
    inbox = tmp_path / "收件"
    inbox.mkdir()
    f = Form(forms_dir / result.units["區司法局"].name)
    f.fill_all(status="推進中", progress=0.5, actual=95)
    set_mtime(f.save(inbox / result.units["區司法局"].name), "2020-09-03 10:00")
    got = collect(master, inbox, MONTH, cfg)
    assert [r.unit for r in got.accepted] == ["區司法局"]
    with pytest.raises(MailError) as e:
        send_bulletin(master, MONTH, cfg)
    assert "刷新匯總" in str(e.value) and "putuo-xl rollup --month 2020-08" in str(e.value)
    assert server.received == []
    rollup(master, MONTH, cfg)
    report = send_bulletin(master, MONTH, cfg, today=date(2020, 9, 10))
    assert report.ok and len(server.received) == 1
    assert "未報送2020年8月工作報表的單位(43個)" in narrow(body_text(server.received[0].msg))


def test_bulletin_is_signed_once(tmp_path, smtp_server, seed_forms):
    """The rollup's 通報 ends with the office and the month; the e-mail does not sign again —
    also with a bulletin_body template (from an older config.yaml) that signs after {bulletin}."""
    import yaml

    server = smtp_server()
    cfg_path = write_config(tmp_path / "c.yaml", server.port)
    cfg = load(cfg_path)
    master = seed_forms[0]
    text = with_bulletin(master, cfg)
    office = cfg.office
    sig, day = narrow(text).rstrip().split("\n")[-2:]
    assert sig == narrow(office) and re.fullmatch(r"2020年9月\d{1,2}日", day)    # the 通報's own signature
    send_bulletin(master, MONTH, cfg, today=date(2020, 9, 10))
    body = body_text(server.received[-1].msg)
    assert narrow(body).count(narrow(office)) == 1, body[-200:]
    assert narrow(body).rstrip().endswith(f"{narrow(office)}\n{day}")
    assert "2020年9月10日" not in body

    raw = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    raw["mail"]["templates"]["bulletin_body"] = (
        "各位領導:\n\n{month_label}通報如下,工作報表見附件「{file_name}」。\n\n{bulletin}\n\n"
        "{office}\n{today_label}\n")
    cfg_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    send_bulletin(master, MONTH, load(cfg_path), today=date(2020, 9, 10), resend=True)
    body = body_text(server.received[-1].msg)
    assert narrow(body).count(narrow(office)) == 1, body[-200:]
    assert body.rstrip().endswith(f"{office}\n2020年9月10日")
    assert "六、下步工作要求" in body
