"""Which form is whose: from the `_form` metadata, cross-checked with the file name; problems
are reported before sending and the rest still go. Settings and templates are checked."""
from __future__ import annotations

import email
import email.policy
from pathlib import Path

import openpyxl
import pytest
import yaml

from mail_helpers import (ADDRESSES, MONTH, body_text, cert, copy_form, display_names,  # noqa: F401
                          load, make_form, seed_forms_session, simplified_forms_session,
                          smtp_server, write_config)
from putuo_xl.config import load_config
from putuo_xl.errors import ConfigError, InputError
from putuo_xl.ledger.store import Ledger
from putuo_xl.mail.forms import send_forms
from putuo_xl.mail.identify import identify_form
from putuo_xl.text import narrow


def problems(report):
    return {(p.code, p.unit, p.file, p.blocking) for p in report.problems}


def test_metadata_decides_and_the_name_must_agree(tmp_path, smtp_server, seed_forms_session):
    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    d = tmp_path / "forms"
    copy_form(seed_forms_session, "區司法局", d)
    # 區教育局's form saved under 沈家門街道's name: never sent to either
    copy_form(seed_forms_session, "區教育局", d, f"{MONTH}_沈家門街道_法治政府建設月報.xlsx")
    # renamed without a unit in the name
    copy_form(seed_forms_session, "區教育局", d, "月報(最終版).xlsx")
    # metadata written with a simplified alias: still 區財政局... which has no address
    make_form(d, "区财政局", file_name=f"{MONTH}_區財政局_法治政府建設月報.xlsx")
    # last month's form: skipped, not an error
    make_form(d, "區司法局", month="2020-07")
    # a workbook that is not a form, and Excel's lock file
    wb = openpyxl.Workbook()
    wb.save(d / "台賬.xlsx")
    (d / f"~${MONTH}_區司法局_法治政府建設月報.xlsx").write_bytes(b"lock")

    report = send_forms(d, MONTH, cfg)
    got = problems(report)
    assert ("bad_file", None, f"{MONTH}_沈家門街道_法治政府建設月報.xlsx", True) in got
    assert ("bad_file", None, "月報(最終版).xlsx", True) in got
    assert ("no_address", "區財政局", f"{MONTH}_區財政局_法治政府建設月報.xlsx", True) in got
    assert ("other_month", None, "2020-07_區司法局_法治政府建設月報.xlsx", False) in got
    assert ("bad_file", None, "台賬.xlsx", True) in got
    assert len(got) == 5
    text = "\n".join(report.plan_lines())
    assert "文件名寫的是「沈家門街道」,表內元數據卻是「區教育局」" in narrow(text)
    assert "工作表「_form」 單元格 B2" in text
    assert [r.rcpt_tos for r in server.received] == [ADDRESSES["區司法局"]]


def test_identify_form_names_file_sheet_and_cell(tmp_path, seed_forms_session):
    cfg = load_config()
    p = copy_form(seed_forms_session, "區教育局", tmp_path, f"{MONTH}_區司法局_法治政府建設月報.xlsx")
    with pytest.raises(InputError) as e:
        identify_form(p, cfg, MONTH)
    assert (e.value.file, e.value.sheet, e.value.cell) == (p.name, "_form", "B2")
    ok = copy_form(seed_forms_session, "區教育局", tmp_path / "ok")
    f = identify_form(ok, cfg, MONTH)
    assert (f.unit, f.month, f.due, f.script) == ("區教育局", MONTH, "2020-09-05", "traditional")
    assert f.plan_fingerprint == seed_forms_session[2].plan_fingerprint
    unknown = make_form(tmp_path, "區不存在局")
    with pytest.raises(InputError, match="不在 config.yaml 的單位名錄中"):
        identify_form(unknown, cfg, MONTH)


def test_two_forms_for_one_unit_send_neither(tmp_path, smtp_server):
    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    d = tmp_path / "forms"
    make_form(d, "區司法局")
    make_form(d, "區司法局", file_name=f"{MONTH}_區司法局_法治政府建設月報(1).xlsx")
    make_form(d, "沈家門街道")
    report = send_forms(d, MONTH, cfg)
    assert ("duplicate_form", "區司法局", None, True) in problems(report)
    assert [r.rcpt_tos for r in server.received] == [ADDRESSES["沈家門街道"]]


def test_simplified_notice_gets_simplified_mail(tmp_path, smtp_server, simplified_forms_session):
    import shutil

    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    d = Path(shutil.copytree(simplified_forms_session[1], tmp_path / "forms"))
    (p,) = d.glob("*.xlsx")
    assert p.name == f"{MONTH}_区司法局_法治政府建设月报.xlsx"
    report = send_forms(d, MONTH, cfg)
    (rec,) = server.received
    assert narrow(rec.msg["subject"]) == "【舟山市普陀区法治政府建设月报】2020年8月填报表(区司法局)"
    body = body_text(rec.msg)
    assert narrow(body).startswith("舟山市普陀区司法局:") and "请在「月报」工作表中" in body
    assert "如有疑问,请联系区司法局法治督察科。" in narrow(body)            # {contact} too
    assert rec.msg.get_payload()[1].get_filename() == p.name
    # the names in the headers as well: the To name from config.yaml, the From name
    assert display_names(rec.msg, "to") == ["舟山市普陀区司法局"]
    assert display_names(rec.msg, "from") == ["普陀区依法治区办"]
    assert report.rows()[1][0] == "区司法局"
    eml = send_forms(d, MONTH, cfg, dry_run_dir=tmp_path / "预览", resend=True)
    assert [m.eml.name for m in eml.messages] == ["2020-08_月报填报表_区司法局.eml"]


def test_simplified_notice_reminders_and_bulletin(tmp_path, smtp_server, simplified_forms_session):
    """Reminders and the bulletin of a simplified notice: subject, body, names in the headers,
    the .eml file names — everything in simplified characters."""
    import shutil

    from putuo_xl.mail.bulletin import send_bulletin
    from putuo_xl.mail.reminders import send_reminders
    from putuo_xl.rollup.run import rollup

    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    src_master, _ = simplified_forms_session
    folder = Path(shutil.copytree(src_master.parent, tmp_path / "台账"))
    master = folder / src_master.name
    out = tmp_path / "预览"
    report = send_reminders(master, MONTH, cfg, dry_run_dir=out)
    (m,) = report.messages
    assert m.eml.name == "2020-08_催报_区司法局.eml"
    msg = email.message_from_bytes(m.eml.read_bytes(), policy=email.policy.default)
    assert display_names(msg, "to") == ["舟山市普陀区司法局"]
    assert display_names(msg, "from") == ["普陀区依法治区办"]
    assert "请联系区司法局法治督察科" in body_text(msg) and "區" not in body_text(msg)

    rollup(master, MONTH, cfg)
    report = send_bulletin(master, MONTH, cfg, dry_run_dir=out)
    (m,) = report.messages
    assert m.eml.name == "2020-08_通报.eml"
    msg = email.message_from_bytes(m.eml.read_bytes(), policy=email.policy.default)
    assert display_names(msg, "to") == ["区长", ""]
    assert msg["subject"] == "【舟山市普陀区】2020年8月法治政府建设工作预评估通报"
    assert "區" not in body_text(msg)
    assert server.received == []


def test_ledger_cross_check_stale_and_missing_forms(tmp_path, smtp_server):
    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    d = tmp_path / "forms"
    make_form(d, "區司法局", fingerprint="fp-old")
    make_form(d, "沈家門街道", fingerprint="fp-2")
    with Ledger(tmp_path / "台賬.ledger.sqlite") as lg:   # the master's ledger, above the folder
        for unit, fp, at in [("區司法局", "fp-old", "2020-08-20T09:00:00+08:00"),
                             ("區司法局", "fp-2", "2020-08-25T09:00:00+08:00"),
                             ("沈家門街道", "fp-2", "2020-08-25T09:00:00+08:00"),
                             ("區教育局", "fp-2", "2020-08-25T09:00:00+08:00")]:
            lg.conn.execute("INSERT INTO issued VALUES (?,?,?,?,?,?,?)",
                            (MONTH, unit, f"{MONTH}_{unit}_法治政府建設月報.xlsx", fp, "1.1.1",
                             "2020-09-05", at))
    report = send_forms(d, MONTH, cfg)
    assert report.ledger == tmp_path / "台賬.ledger.sqlite"
    got = problems(report)
    assert ("stale_form", "區司法局", f"{MONTH}_區司法局_法治政府建設月報.xlsx", True) in got
    assert ("missing_form", "區教育局", None, True) in got
    assert [r.rcpt_tos for r in server.received] == [ADDRESSES["沈家門街道"]]


def test_cancel_and_stop_if_missing(tmp_path, smtp_server):
    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    d = tmp_path / "forms"
    for u in ("區司法局", "區財政局"):
        make_form(d, u)
    report = send_forms(d, MONTH, cfg, confirm=lambda r: False)
    assert report.cancelled and server.received == []
    assert {m.status for m in report.messages} == {"cancelled"}
    report = send_forms(d, MONTH, cfg, stop_if_missing=True, confirm=lambda r: True)
    assert report.cancelled and server.received == []
    assert "全部不發" in "\n".join(report.summary_lines())
    report = send_forms(d, MONTH, cfg)
    assert len(server.received) == 1


def _config_with(tmp_path, mutate):
    path = write_config(tmp_path / "c.yaml", 25)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(raw)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_settings_are_checked_with_the_line(tmp_path):
    path = _config_with(tmp_path, lambda r: r["mail"]["smtp"].update(pasword="x"))
    with pytest.raises(ConfigError, match="mail.smtp」下未知的配置項「pasword」") as e:
        load_config(path)
    assert e.value.line == next(i for i, line in enumerate(
        path.read_text(encoding="utf-8").splitlines(), 1) if "pasword" in line)

    path = _config_with(tmp_path, lambda r: r["mail"]["templates"].update(
        forms_subject="{month_label}月報({單位})"))
    d = tmp_path / "forms"
    make_form(d, "區司法局")
    with pytest.raises(ConfigError, match=r"forms_subject 中的「\{單位\}」不認識") as e:
        send_forms(d, MONTH, load(path), dry_run_dir=tmp_path / "x")
    assert e.value.line and "forms_subject" in path.read_text(encoding="utf-8").splitlines()[
        e.value.line - 1]

    path = _config_with(tmp_path, lambda r: r["mail"]["smtp"].update(security="tls"))
    with pytest.raises(ConfigError, match="none、starttls 或 ssl"):
        send_forms(d, MONTH, load(path), dry_run_dir=tmp_path / "x")

    path = _config_with(tmp_path, lambda r: r["mail"].update({"from": ""}))
    with pytest.raises(Exception, match="mail.from 沒有填寫"):
        send_forms(d, MONTH, load(path), dry_run_dir=tmp_path / "x")


def test_bad_address_in_config(tmp_path, smtp_server):
    server = smtp_server()
    addrs = dict(ADDRESSES, 區司法局=["sfj@putuo.example.cn", "not an address"], 沈家門街道=["sjm@"])
    cfg = load(write_config(tmp_path / "c.yaml", server.port, addresses=addrs))
    d = tmp_path / "forms"
    for u in ("區司法局", "沈家門街道"):
        make_form(d, u)
    report = send_forms(d, MONTH, cfg)
    got = problems(report)
    assert ("bad_address", "區司法局", f"{MONTH}_區司法局_法治政府建設月報.xlsx", False) in got
    assert ("bad_address", "沈家門街道", f"{MONTH}_沈家門街道_法治政府建設月報.xlsx", True) in got
    assert [r.rcpt_tos for r in server.received] == [["sfj@putuo.example.cn"]]


def test_a_unit_not_in_the_directory_is_one_clear_line(tmp_path, smtp_server):
    """A notice names a unit config.yaml does not know (区普陀山管委会): forms still writes its
    form (and the ledger records it as issued). mail says once, plainly, why it does not go and
    what to do — not "bad metadata" and "not found in the folder" for the same file."""
    from putuo_xl.workbook.forms import write_forms
    from putuo_xl.workbook.master import build_master
    from putuo_xl.plan.parser import parse_notice
    from putuo_xl.text import to_simplified

    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    seed = (Path(__file__).resolve().parents[1] / "putuo_xl" / "data" /
            "notice_2020_putuo.txt").read_text(encoding="utf-8")
    text = seed.replace("(責任單位:區司法局)。", "(責任單位:區司法局、區普陀山管委會)。", 1)
    assert text != seed
    notice = tmp_path / "通知.txt"
    notice.write_text(to_simplified(text), encoding="utf-8")
    plan = parse_notice(notice, cfg)
    unknown = "区普陀山管委会"
    assert unknown in {u.name for t in plan.tasks() for u in t.units if u.canonical is None}
    master = build_master(plan, tmp_path / "任务分解台账.xlsx", cfg).path
    result = write_forms(master, MONTH, None, cfg, units=["區司法局", unknown])
    assert set(result.units) == {"區司法局", unknown}

    report = send_forms(result.out_dir, MONTH, cfg)
    about = [p for p in report.problems if unknown in p.message]
    assert len(about) == 1, [p.message for p in about]
    (p,) = about
    assert (p.code, p.unit, p.file, p.blocking) == (
        "unknown_unit", unknown, result.units[unknown].name, True)
    assert "不在 config.yaml 的单位名录中" in p.message and "aliases" in p.message
    for lines in (report.plan_lines(), report.summary_lines()):
        assert len([x for x in lines if unknown in x]) == 1
    assert [r.rcpt_tos for r in server.received] == [ADDRESSES["區司法局"]]


def test_only_some_units(tmp_path, smtp_server, seed_forms_session):
    """send_forms(units=…): those units' forms only; a bad file that names one of them is still
    reported, the others' files are none of this run's business."""
    server = smtp_server()
    cfg = load(write_config(tmp_path / "c.yaml", server.port))
    d = tmp_path / "forms"
    copy_form(seed_forms_session, "區教育局", d)
    copy_form(seed_forms_session, "區司法局", d)
    copy_form(seed_forms_session, "區司法局", d, f"{MONTH}_沈家門街道_法治政府建設月報.xlsx")
    report = send_forms(d, MONTH, cfg, units=["沈家門街道"])
    assert problems(report) == {("bad_file", None, f"{MONTH}_沈家門街道_法治政府建設月報.xlsx", True)}
    assert report.messages == [] and server.received == []
    report = send_forms(d, MONTH, cfg, units=["區司法局"])
    assert problems(report) == set()
    assert [r.rcpt_tos for r in server.received] == [ADDRESSES["區司法局"]]
