"""The SMTP side made real: STARTTLS, implicit TLS, AUTH, a server that is down, one that
greylists (451 then accepts), one that rejects one recipient (550)."""
from __future__ import annotations

import sqlite3

import pytest

from mail_helpers import (MONTH, PASSWORD, USER, Greylist, RejectSome, cert,  # noqa: F401
                          copy_form, free_port, load, seed_forms_session, smtp_server, write_config)
from putuo_xl.mail.forms import send_forms
from putuo_xl.mail.report import MailError

UNITS = ["區司法局", "區教育局", "沈家門街道"]
ENV = "PUTUO_XL_TEST_SMTP_PASSWORD"


@pytest.fixture
def forms_dir(tmp_path, seed_forms_session):
    """Three units' real forms in a folder of their own (no master ledger beside it)."""
    d = tmp_path / "forms"
    for u in UNITS:
        copy_form(seed_forms_session, u, d)
    return d


def sends(report):
    return sqlite3.connect(report.ledger).execute(
        "SELECT unit, status, recipients, detail, attempts FROM sends ORDER BY id").fetchall()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # implicit TLS
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_and_auth(tmp_path, forms_dir, smtp_server, cert, monkeypatch, security):
    server = smtp_server(security=security, auth=True)
    cfg = load(write_config(tmp_path / "c.yaml", server.port, security=security, user=USER,
                            ca_file=str(cert[0])))
    monkeypatch.setenv(ENV, PASSWORD)
    report = send_forms(forms_dir, MONTH, cfg)
    assert server.auth.logins == [USER]           # one login, one connection for all units
    assert len(server.received) == 3
    assert {m.status for m in report.messages} == {"sent"}
    assert PASSWORD not in "\n".join(report.summary_lines())


def test_password_from_prompt_when_no_env(tmp_path, forms_dir, smtp_server, cert, monkeypatch):
    server = smtp_server(security="starttls", auth=True)
    cfg = load(write_config(tmp_path / "c.yaml", server.port, security="starttls", user=USER,
                            ca_file=str(cert[0])))
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(MailError, match=ENV):
        send_forms(forms_dir, MONTH, cfg)
    assert server.received == []
    asked = []
    report = send_forms(forms_dir, MONTH, cfg, password_prompt=lambda: asked.append(1) or PASSWORD)
    assert asked == [1] and len(server.received) == 3 and report.ok


def test_wrong_password_fails_every_unit_and_never_logs_it(tmp_path, forms_dir, smtp_server, cert,
                                                          monkeypatch):
    server = smtp_server(security="starttls", auth=True)
    cfg = load(write_config(tmp_path / "c.yaml", server.port, security="starttls", user=USER,
                            ca_file=str(cert[0])))
    monkeypatch.setenv(ENV, "wrong-password-xyz")
    waits = []
    report = send_forms(forms_dir, MONTH, cfg, sleep=waits.append)
    assert server.received == []
    assert waits == [], "a refused login is not retried"
    assert {m.status for m in report.messages} == {"failed"}
    text = "\n".join(report.summary_lines())
    assert "拒絕登錄" in text and "wrong-password-xyz" not in text
    log = sends(report)
    assert {r[1] for r in log} == {"failed"} and len(log) == 3
    assert not any("wrong-password-xyz" in (r[3] or "") for r in log)
    raw = report.ledger.read_bytes()
    assert b"wrong-password-xyz" not in raw


def test_untrusted_certificate_is_refused(tmp_path, forms_dir, smtp_server, cert):
    server = smtp_server(security="starttls")
    cfg = load(write_config(tmp_path / "c.yaml", server.port, security="starttls"))  # no ca_file
    report = send_forms(forms_dir, MONTH, cfg, sleep=lambda s: None)
    assert server.received == []
    assert {m.status for m in report.messages} == {"failed"}
    assert "ca_file" in report.messages[0].detail


def test_server_down_then_up(tmp_path, forms_dir, smtp_server):
    port = free_port()                              # connection refused
    cfg_path = write_config(tmp_path / "c.yaml", port)
    waits = []
    report = send_forms(forms_dir, MONTH, load(cfg_path), sleep=waits.append)
    assert waits == [7, 7], "retries=2 rounds, retry_wait_seconds=7, injected sleep"
    assert {m.status for m in report.messages} == {"failed"}
    text = "\n".join(report.summary_lines())
    assert "連接被拒絕" in text and "發送失敗 3 封" in text
    assert [r[1] for r in sends(report)] == ["failed"] * 3

    # the server comes up on that port: the same command now sends all three, once
    server = smtp_server()
    cfg_path = write_config(tmp_path / "c.yaml", server.port)
    report = send_forms(forms_dir, MONTH, load(cfg_path), sleep=waits.append)
    assert len(server.received) == 3 and report.ok
    report = send_forms(forms_dir, MONTH, load(cfg_path), sleep=waits.append)
    assert len(server.received) == 3


def test_451_then_accepted(tmp_path, forms_dir, smtp_server):
    server = smtp_server(Greylist(n=1))
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    waits = []
    report = send_forms(forms_dir, MONTH, cfg, sleep=waits.append)
    assert waits == [7]
    assert len(server.received) == 3
    assert {m.status for m in report.messages} == {"sent"}
    first = report.messages[0]
    assert first.attempts == 2 and [m.attempts for m in report.messages[1:]] == [1, 1]
    log = sends(report)
    assert log[0][1] == "failed" and "451" in log[0][3]
    assert [r[1] for r in log[1:]] == ["sent"] * 3


def test_451_forever_is_reported_and_the_rest_go(tmp_path, forms_dir, smtp_server):
    # 區教育局: first try and both retries greylisted
    server = smtp_server(Greylist(n=3, only={"jyj@putuo.example.cn"}))
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    waits = []
    report = send_forms(forms_dir, MONTH, cfg, sleep=waits.append)
    assert waits == [7, 7]
    statuses = {m.unit: m.status for m in report.messages}
    assert statuses == {"區司法局": "sent", "區教育局": "failed", "沈家門街道": "sent"}
    failed = report.by_status("failed")[0]
    assert failed.attempts == 3 and "451" in failed.detail
    assert len(server.received) == 2
    assert "區教育局" in "\n".join(report.summary_lines()).split("發送失敗")[1]


def test_550_for_one_recipient(tmp_path, forms_dir, smtp_server):
    server = smtp_server(RejectSome({"jyj-office@putuo.example.cn"}))
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    waits = []
    report = send_forms(forms_dir, MONTH, cfg, sleep=waits.append)
    assert waits == [], "a permanent 550 is not retried"
    assert len(server.received) == 3
    edu = next(m for m in report.messages if m.unit == "區教育局")
    assert edu.status == "partial"
    assert edu.delivered == ["jyj@putuo.example.cn"]
    assert "550" in edu.refused["jyj-office@putuo.example.cn"]
    rec = next(r for r in server.received if "jyj@putuo.example.cn" in r.rcpt_tos)
    assert rec.rcpt_tos == ["jyj@putuo.example.cn"]
    text = "\n".join(report.summary_lines())
    assert "jyj-office@putuo.example.cn 沒有收到" in text
    assert "區教育局 收到" in text and "jyj@putuo.example.cn" in text

    # re-run: nobody who received it gets it again; the refused address is tried once more
    server.handler.rcpt_calls.clear()
    report = send_forms(forms_dir, MONTH, cfg, sleep=waits.append)
    assert len(server.received) == 3
    assert server.handler.rcpt_calls == ["jyj-office@putuo.example.cn"]
    edu = next(m for m in report.messages if m.unit == "區教育局")
    assert edu.status == "failed" and edu.earlier


def test_every_recipient_of_a_unit_rejected(tmp_path, forms_dir, smtp_server):
    server = smtp_server(RejectSome({"sfj@putuo.example.cn"}))
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    report = send_forms(forms_dir, MONTH, cfg, sleep=lambda s: None)
    st = {m.unit: m.status for m in report.messages}
    assert st == {"區司法局": "failed", "區教育局": "sent", "沈家門街道": "sent"}
    assert len(server.received) == 2


def test_interrupted_send_is_not_repeated_blindly(tmp_path, forms_dir, smtp_server):
    """A run that died between handing a message to the server and logging the answer leaves a
    'pending' row: the next run does not resend it unless told to."""
    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    dry = send_forms(forms_dir, MONTH, cfg, dry_run_dir=tmp_path / "eml")
    m = next(x for x in dry.messages if x.unit == "區司法局")
    from putuo_xl.ledger.store import Ledger
    with Ledger(forms_dir / "寄送記錄.ledger.sqlite") as lg:
        lg.conn.execute("INSERT INTO sends(key, kind, month, unit, recipients, subject, status, at)"
                        " VALUES (?, 'forms', ?, '區司法局', 'sfj@putuo.example.cn', 's', 'pending',"
                        " '2020-08-28T10:00:00+08:00')", (m.key, MONTH))
    report = send_forms(forms_dir, MONTH, cfg)
    st = {x.unit: x.status for x in report.messages}
    assert st["區司法局"] == "uncertain" and len(server.received) == 2
    assert "--resend-uncertain" in "\n".join(report.plan_lines())
    report = send_forms(forms_dir, MONTH, cfg, resend_uncertain=True)
    assert {x.unit: x.status for x in report.messages}["區司法局"] == "sent"
    assert len(server.received) == 3
    # the same Message-ID as the interrupted copy: a client that got both shows one
    assert server.received[-1].msg["message-id"] == m.message_id
