"""Reminders through the real pipeline: the seed notice → build_master → write_forms → two units
fill their forms in openpyxl (one well, one with a value the collector rejects) → collect →
send_reminders against a real SMTP server (aiosmtpd on 127.0.0.1)."""
from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone

from collect_kit import Form, set_mtime
from mail_helpers import (ADDRESSES, MONTH, body_text, cert, decoded_attachments,  # noqa: F401
                          display_names, load, smtp_server, write_config)
from putuo_xl.collect.run import collect
from putuo_xl.workbook.forms import write_forms
from putuo_xl.mail.reminders import send_reminders
from putuo_xl.workbook.master import build_master
from putuo_xl.text import narrow

CST = timezone(timedelta(hours=8))


def test_reminders_after_a_real_collect(tmp_path, smtp_server):
    server = smtp_server()
    cfg = load(write_config(tmp_path / "config.yaml", server.port))
    master = build_master(None, tmp_path / "普陀" / "任務分解台賬.xlsx", cfg).path
    forms = write_forms(master, MONTH, None, cfg)
    assert forms.out_dir.parent == master.parent and len(forms.written) == 44
    blank = {u: p.read_bytes() for u, p in forms.units.items()}

    # 區司法局 fills its form properly; 區教育局 types a status that is not in the list
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    good = Form(forms.units["區司法局"])
    good.fill_all(status="推進中", progress=0.5, actual=95)
    bad = Form(forms.units["區教育局"])
    bad.fill_all(status="推進中", progress=0.5, actual=95)
    first = bad.task_ids()[0]
    bad.set(first, status="差不多")
    for f in (good, bad):
        set_mtime(f.save(inbox / f.path.name), "2020-09-03 10:00")
    got = collect(master, inbox, MONTH, cfg, now=datetime(2020, 9, 4, 9, 0, tzinfo=CST))
    assert [r.unit for r in got.accepted] == ["區司法局"]
    assert [r.unit for r in got.rejected] == ["區教育局"]
    ledger = master.with_name("任務分解台賬.ledger.sqlite")
    (reason,) = sqlite3.connect(ledger).execute(
        "SELECT reason FROM submissions WHERE unit='區教育局' AND status='rejected'").fetchone()
    assert "差不多" in reason

    plan = {}
    report = send_reminders(master, MONTH, cfg, today=date(2020, 9, 6),
                            confirm=lambda r: plan.setdefault("lines", r.plan_lines()) and True)
    got_by = {tuple(sorted(r.rcpt_tos)): r.msg for r in server.received}
    assert set(got_by) == {tuple(sorted(ADDRESSES["區教育局"])), tuple(ADDRESSES["沈家門街道"])}
    assert not any("sfj@putuo.example.cn" in r.rcpt_tos for r in server.received), \
        "the unit whose form was accepted is not reminded"

    # the rejected unit: the collector's reason, word for word, and no attachment
    edu = got_by[tuple(sorted(ADDRESSES["區教育局"]))]
    assert narrow(edu["subject"]) == "【催報】2020年8月法治政府建設月報(區教育局)"
    body = body_text(edu)
    assert "2020年9月3日報送的2020年8月月報" in body
    assert f"文件「{forms.units['區教育局'].name}」" in body
    assert narrow(reason.rstrip("。")) in body
    assert decoded_attachments(edu) == []

    # a unit that did not report: its blank form again, the very file that was issued
    sjm = got_by[tuple(ADDRESSES["沈家門街道"])]
    assert "尚未收到貴單位2020年8月法治政府建設工作月報" in body_text(sjm)
    name = forms.units["沈家門街道"].name
    assert decoded_attachments(sjm) == [(name, blank["沈家門街道"])]
    assert display_names(sjm, "to") == ["舟山市普陀區沈家門街道辦事處"]

    assert {(m.unit, m.situation, m.status) for m in report.messages} == {
        ("區教育局", "rejected", "sent"), ("沈家門街道", "missing", "sent")}
    # the other 41 missing units have no address: listed before anything was sent
    assert any("41 個單位在 config.yaml 中沒有填寫郵箱" in line and "區財政局" in line
               for line in plan["lines"])
    assert not any("區司法局" in line for line in plan["lines"])

    # the same day again: nothing goes twice
    again = send_reminders(master, MONTH, cfg, today=date(2020, 9, 6))
    assert len(server.received) == 2
    assert {m.status for m in again.messages} == {"already_sent"}
