"""send_forms against a real SMTP server: each unit its own form, exactly once."""
from __future__ import annotations

import email
import email.header
import email.policy
import re
import sqlite3

import pytest

from mail_helpers import (ADDRESSES, MONTH, body_text, cert, decoded_attachments,  # noqa: F401
                          display_names, free_port, load, seed_forms, seed_forms_session,
                          smtp_server, write_config)
from putuo_xl.mail.forms import send_forms
from putuo_xl.mail.mime import build_message
from putuo_xl.mail.settings import parse_address
from putuo_xl.text import narrow

UNITS = ["區司法局", "區教育局", "沈家門街道", "區財政局"]
SENT = ["區司法局", "區教育局", "沈家門街道"]      # the units the test config gives addresses


@pytest.fixture
def forms_dir(seed_forms):
    """The real forms of the seed plan for 2020-08 (putuo_xl.workbook.forms.write_forms), 44 units."""
    return seed_forms[1]


def no_sleep(waits):
    return waits.append


def by_rcpt(server):
    out = {}
    for r in server.received:
        for rc in r.rcpt_tos:
            out.setdefault(rc, []).append(r)
    return out


def test_forms_each_unit_gets_its_own_form(tmp_path, seed_forms, forms_dir, smtp_server):
    server = smtp_server()
    cfg = load(write_config(tmp_path / "config.yaml", server.port))
    seen = {}

    def confirm(report):
        # the unit without an address is reported before anything is sent
        seen["received_before"] = len(server.received)
        seen["plan"] = report.plan_lines()
        seen["problems"] = [(p.code, p.unit) for p in report.problems]
        return True

    report = send_forms(forms_dir, MONTH, cfg, confirm=confirm, sleep=no_sleep([]))
    assert seen["received_before"] == 0
    assert ("no_address", "區財政局") in seen["problems"]
    no_address = {u for c, u in seen["problems"] if c == "no_address"}
    assert no_address == set(seed_forms[2].units) - set(SENT)      # the other 41 units
    assert len(seen["problems"]) == 41
    assert any("區財政局" in line and "沒有填寫郵箱" in line for line in seen["plan"])

    assert len(server.received) == 3
    got = by_rcpt(server)
    for unit in ("區司法局", "區教育局", "沈家門街道"):
        path = forms_dir / f"{MONTH}_{unit}_法治政府建設月報.xlsx"
        msgs = [got[a][0] for a in ADDRESSES[unit]]
        assert all(m is msgs[0] for m in msgs), "one message per unit, to all its addresses"
        rec = msgs[0]
        assert sorted(rec.rcpt_tos) == sorted(ADDRESSES[unit])
        assert rec.mail_from == "fzdc@example.gov.cn"
        msg = rec.msg
        assert narrow(msg["subject"]) == f"【舟山市普陀區法治政府建設月報】2020年8月填報表({unit})"
        assert decoded_attachments(msg) == [(path.name, path.read_bytes())]
        body = body_text(msg)
        full = cfg.units[unit].full_name
        assert narrow(body).startswith(f"{full}:")
        assert "2020年9月5日前" in body and "區司法局法治督察科" in body
        assert f"文件「{path.name}」" in body
        assert display_names(msg, "from") == ["普陀區依法治區辦"]
        assert set(display_names(msg, "to")) == {full}
        assert {a.addr_spec for a in msg["to"].addresses} == set(ADDRESSES[unit])
    # nobody got somebody else's form
    from putuo_xl.mail.identify import read_form_meta
    for rec in server.received:
        (name, data), = decoded_attachments(rec.msg)
        unit = read_form_meta(forms_dir / name)[0]["unit"]
        assert set(rec.rcpt_tos) == set(ADDRESSES[unit]) and unit in name

    assert report.ok is False            # 區財政局 was not sent
    assert [m.unit for m in report.by_status("sent")] == ["區司法局", "區教育局", "沈家門街道"]
    text = "\n".join(report.summary_lines())
    assert "jyj@putuo.example.cn、jyj-office@putuo.example.cn" in text
    assert "區財政局" in text and "未發送 41 項" in text
    # the send log is the master's ledger, beside the forms folder
    assert report.ledger == seed_forms[0].with_name("任務分解台賬.ledger.sqlite")
    rows = sqlite3.connect(report.ledger).execute(
        "SELECT kind, month, unit, status, recipients FROM sends ORDER BY id").fetchall()
    assert sorted(r[2] for r in rows) == ["區司法局", "區教育局", "沈家門街道"]
    assert {r[3] for r in rows} == {"sent"}


def test_rerun_sends_nothing_twice_and_new_content_goes(tmp_path, forms_dir, smtp_server):
    server = smtp_server()
    cfg_path = write_config(tmp_path / "config.yaml", server.port)
    send_forms(forms_dir, MONTH, load(cfg_path))
    assert len(server.received) == 3

    again = send_forms(forms_dir, MONTH, load(cfg_path))
    assert len(server.received) == 3, "re-running sent again"
    assert {m.status for m in again.messages} == {"already_sent"}
    assert "此前已發送、本次未重發 3 封" in "\n".join(again.summary_lines())

    # an address added for 區司法局: only the new address gets it
    addrs = dict(ADDRESSES, 區司法局=["sfj@putuo.example.cn", "sfj2@putuo.example.cn"])
    cfg_path = write_config(tmp_path / "config.yaml", server.port, addresses=addrs)
    third = send_forms(forms_dir, MONTH, load(cfg_path))
    assert len(server.received) == 4
    assert server.received[-1].rcpt_tos == ["sfj2@putuo.example.cn"]
    assert [(m.unit, m.status) for m in third.by_status("sent")] == [("區司法局", "sent")]

    # the form saved again (other bytes, the same `_form` metadata): the form already sent
    import openpyxl
    path = forms_dir / f"{MONTH}_沈家門街道_法治政府建設月報.xlsx"
    wb = openpyxl.load_workbook(path)
    wb.worksheets[0]["A2"] = "2020年8月法治政府建設工作進展月報(更正)"
    wb.save(path)
    fourth = send_forms(forms_dir, MONTH, load(cfg_path))
    assert len(server.received) == 4
    assert {m.status for m in fourth.messages} == {"already_sent"}
    # sending it anyway is what --resend is for
    fifth = send_forms(forms_dir, MONTH, load(cfg_path), resend=True, units=["沈家門街道"])
    assert len(server.received) == 5 and server.received[-1].rcpt_tos == ["sjm@putuo.example.cn"]
    assert [m.unit for m in fifth.by_status("sent")] == ["沈家門街道"]


def test_regenerated_forms_go_once_and_a_changed_form_needs_resend(tmp_path, seed_forms,
                                                                   smtp_server):
    """`forms --force` with an unchanged plan rewrites every file (a new `created` time, other
    bytes) but not the form: nothing is sent again. After an edit to the plan each unit's form
    is a different one; a unit that already received this month's form gets it only with
    --resend, and is told so, one line per unit."""
    import time

    import openpyxl

    from putuo_xl.workbook.forms import write_forms

    server = smtp_server()
    cfg = load(write_config(tmp_path / "config.yaml", server.port))
    master, forms_dir, _ = seed_forms
    send_forms(forms_dir, MONTH, cfg)
    assert len(server.received) == 3
    before = {p.name: p.read_bytes() for p in forms_dir.glob("*.xlsx")}
    time.sleep(1.1)                        # `created` has seconds: make sure it changes
    regenerated = write_forms(master, MONTH, None, cfg, force=True)
    assert len(regenerated.written) == 44
    assert all(p.read_bytes() != before[p.name] for p in regenerated.written)
    again = send_forms(forms_dir, MONTH, cfg)
    assert len(server.received) == 3, "regenerated identical forms were mailed again"
    assert {m.status for m in again.messages} == {"already_sent"}
    assert not [p for p in again.problems if p.code == "changed_form"]

    # the official rewords a task in the master: the next forms are another version
    wb = openpyxl.load_workbook(master)
    ws = wb["一、推進政府職能依法全面履行"]
    row = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value == "1.5.2")
    ws.cell(row, 3).value = "部署開展公共法律服務專項行動。"
    wb.save(master)
    write_forms(master, MONTH, None, cfg, force=True)
    # both generations within one second, as on a fast machine: the ledger's order decides
    from putuo_xl.ledger.store import open_ledger
    with open_ledger(master, cfg) as lg, lg.tx() as conn:
        conn.execute("UPDATE issued SET created_at = (SELECT MIN(created_at) FROM issued)")
    changed = send_forms(forms_dir, MONTH, cfg)
    assert len(server.received) == 3
    held = [p for p in changed.problems if p.code == "changed_form"]
    assert sorted(p.unit for p in held) == sorted(SENT)
    assert all(p.blocking for p in held) and not changed.messages
    lines = changed.plan_lines()
    for unit in SENT:
        (line,) = [x for x in lines if narrow(x).startswith(f"  - {unit}:")]
        assert "已經收到過本月的另一份月報" in line and "--resend" in line
        assert f"--unit {unit}" in line
    # --resend for one unit: that unit only
    one = send_forms(forms_dir, MONTH, cfg, resend=True, units=["区司法局"])
    assert [m.unit for m in one.by_status("sent")] == ["區司法局"] and len(server.received) == 4
    assert server.received[-1].rcpt_tos == ADDRESSES["區司法局"]
    # afterwards 區司法局 has the new form: nothing more for it; the other two still wait
    rest = send_forms(forms_dir, MONTH, cfg)
    assert [(m.unit, m.status) for m in rest.messages] == [("區司法局", "already_sent")]
    assert sorted(p.unit for p in rest.problems if p.code == "changed_form") == \
        ["區教育局", "沈家門街道"]
    assert len(server.received) == 4


def test_dry_run_writes_eml_and_sends_nothing(tmp_path, forms_dir):
    port = free_port()                           # nothing listens there
    cfg = load(write_config(tmp_path / "config.yaml", port))
    out = tmp_path / "預覽"
    report = send_forms(forms_dir, MONTH, cfg, dry_run_dir=out)
    emls = sorted(out.glob("*.eml"))
    assert [p.name for p in emls] == sorted(
        f"{MONTH}_月報填報表_{u}.eml" for u in ("區司法局", "區教育局", "沈家門街道"))
    msg = email.message_from_bytes((out / f"{MONTH}_月報填報表_區教育局.eml").read_bytes(),
                                   policy=email.policy.default)
    path = forms_dir / f"{MONTH}_區教育局_法治政府建設月報.xlsx"
    assert decoded_attachments(msg) == [(path.name, path.read_bytes())]
    assert {a.addr_spec for a in msg["to"].addresses} == set(ADDRESSES["區教育局"])
    assert {m.status for m in report.messages} == {"written"}
    ledger = forms_dir.parent / "任務分解台賬.ledger.sqlite"
    assert sqlite3.connect(ledger).execute("SELECT count(*) FROM sends").fetchone() == (0,), \
        "a dry run logs no send"
    assert "預覽:寫出 3 封郵件" in narrow("\n".join(report.summary_lines()))


def test_mime_headers_display_in_common_clients():
    """RFC 2047 subject/display names, RFC 2231 filename* plus encoded name=/filename=, UTF-8
    base64 body; every line ASCII and short."""
    name = "2020-08_區綜合行政執法局_法治政府建設月報(補充材料第二版).xlsx"
    data = bytes(range(256)) * 40
    msg = build_message(parse_address("區建設法治政府(依法行政)工作領導小組辦公室 <office@example.gov.cn>"),
                        [parse_address("舟山市普陀區綜合行政執法局 <zf@example.cn>")],
                        "【普陀區法治政府建設月報】2020年8月填報表(區綜合行政執法局)", "各單位:\n附件請查收。",
                        attachment=(name, data))
    raw = msg.as_bytes()
    raw.decode("ascii")                                  # 7-bit clean
    long = [line for line in raw.split(b"\r\n") if len(line) > 78]
    # folded to 78 columns; only the (unbreakable) xlsx MIME type is longer, well within 998
    assert long == [b"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;"]
    assert b"\n" not in raw.replace(b"\r\n", b"")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["subject"] == "【普陀區法治政府建設月報】2020年8月填報表(區綜合行政執法局)"
    legacy = email.message_from_bytes(raw)
    assert str(email.header.make_header(email.header.decode_header(legacy["from"]))) == \
        "區建設法治政府(依法行政)工作領導小組辦公室 <office@example.gov.cn>"
    assert display_names(parsed, "to") == ["舟山市普陀區綜合行政執法局"]
    (att,) = list(parsed.iter_attachments())
    assert att.get_filename() == name and att.get_content() == data
    assert att.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    # the RFC 2231 continuation, decoded by hand
    head = raw.decode("ascii")
    unfolded = re.sub(r"\r\n[ \t]", " ", head)
    cd = next(line for line in unfolded.split("\r\n") if line.startswith("Content-Disposition"))
    pieces = dict(re.findall(r"filename\*(\d+)\*=(?:utf-8'')?([^;\s]+)", cd))
    import urllib.parse
    assert urllib.parse.unquote("".join(pieces[str(i)] for i in range(len(pieces)))) == name
    # what Outlook/Foxmail read: name= in Content-Type and filename= as RFC 2047 words
    ct = next(line for line in unfolded.split("\r\n") if line.startswith("Content-Type: application"))
    for header in (ct, cd):
        quoted = re.search(r'(?:^|; )(?:file)?name="([^"]+)"', header).group(1)
        words = email.header.decode_header(quoted)
        assert b"".join(w for w, _ in words).decode("utf-8") == name
        assert all(len(w) <= 75 for w in quoted.split())
    body = parsed.get_body().get_content()
    assert body.replace("\r\n", "\n") == "各單位:\n附件請查收。\n"
    assert parsed.get_body()["content-transfer-encoding"] == "base64"
