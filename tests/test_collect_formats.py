"""Other shapes a returned form arrives in: saved as .xls by WPS/LibreOffice, inside a
forwarded e-mail; an e-mail without attachment; a file too large."""
from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
import python_calamine as pc

from putuo_xl.collect.run import collect
from putuo_xl.config import config_from_dict, load_config
from putuo_xl.errors import InputError

from collect_kit import Form, make_master_and_forms, set_mtime

MONTH = "2020-08"
CST = timezone(timedelta(hours=8))


def form_name(unit):
    return f"{MONTH}_{unit}_法治政府建設月報.xlsx"


@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.fixture(scope="module")
def made(tmp_path_factory, cfg):
    root = tmp_path_factory.mktemp("formats")
    master, forms = make_master_and_forms(root, MONTH, cfg)
    return root, master, forms


@pytest.fixture(scope="module")
def xls_form(made, tmp_path_factory):
    """A filled form saved as .xls by LibreOffice (as WPS users send them)."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed")
    root, master, forms = made
    tmp = tmp_path_factory.mktemp("xls")
    f = Form(forms / form_name("區農業農村局"))
    f.fill_all(status="進行中", progress="40%", actual="91%")
    xlsx = f.save(tmp / form_name("區農業農村局"))
    profile = tmp / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", "xls", "--outdir", str(tmp / "xls"), str(xlsx)],
                   check=True, capture_output=True, timeout=120)
    xls = tmp / "xls" / (xlsx.stem + ".xls")
    assert xls.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    set_mtime(xls, "2020-09-02 11:00")
    return xls, f


def test_form_saved_as_xls_by_libreoffice(made, cfg, xls_form):
    root, master, forms = made
    xls, f = xls_form
    report = collect(master, [xls], MONTH, write_master=False)
    [res] = report.files
    assert res.outcome == "accepted", [p.message for p in res.errors]
    assert res.unit == "區農業農村局" and res.rows == len(f.task_ids())
    assert res.archive_path.endswith(".xls")
    # LibreOffice's .xls keeps the locked cells as issued: nothing reads as edited
    assert not [p.message for p in res.problems if p.code == "locked-changed"]


def test_an_xls_that_crashes_the_reader_is_refused_alone(made, cfg, xls_form, tmp_path,
                                                          monkeypatch):
    """A damaged .xls can make python-calamine abort its process (a Rust allocation failure):
    .xls files are read in a helper process, so only that file is refused; the next .xls gets
    a new helper, and a helper that hangs is stopped after the timeout."""
    import putuo_xl.collect.xls_helper as xls_isolated
    root, master, forms = made
    xls_sent, _f = xls_form
    xls = tmp_path / xls_sent.name     # other bytes (a padding sector), the same workbook:
    xls.write_bytes(xls_sent.read_bytes() + bytes(512))     # not a duplicate of another test's
    crash = tmp_path / "壞_區農業農村局.xls"
    crash.write_bytes(xls.read_bytes() + b"ABORT-ME")
    hang = tmp_path / "卡住_區農業農村局.xls"
    hang.write_bytes(xls.read_bytes() + b"HANG-ME")
    other = Form(forms / form_name("區衛健局"))
    other.fill_all(status="推進中", progress=0.5, actual=95)
    good_xlsx = other.save(tmp_path / form_name("區衛健局"))
    patched = xls_isolated._HELPER.replace(
        "    try:\n        wb = ",
        "    if data.endswith(b'ABORT-ME'):\n        import os; os.abort()\n"
        "    if data.endswith(b'HANG-ME'):\n        import time; time.sleep(30)\n"
        "    try:\n        wb = ", 1)
    assert patched != xls_isolated._HELPER
    monkeypatch.setattr(xls_isolated, "_HELPER", patched)
    monkeypatch.setattr(xls_isolated, "TIMEOUT_SECONDS", 2)
    report = collect(master, [crash, hang, xls, good_xlsx], MONTH, write_master=False)
    got = {r.name: (r.outcome, r.reason_code) for r in report.files}
    assert got[crash.name] == ("rejected", "xls-unreadable")
    assert got[hang.name] == ("rejected", "xls-unreadable")
    assert got[xls.name][0] == "accepted" and got[good_xlsx.name][0] == "accepted"
    assert xls_isolated._helper is None          # stopped when the batch was judged


def test_forwarded_mail_and_mail_without_attachment(made, cfg, tmp_path):
    root, master, forms = made
    f = Form(forms / form_name("區交通運輸局"))
    f.fill_all(status="推進中", progress=0.6, actual=95)
    inner = EmailMessage()
    inner["From"] = "交通局 <jtj@example.cn>"
    inner["Date"] = format_datetime(datetime(2020, 9, 1, 9, 0, tzinfo=CST))
    inner["Subject"] = "月報"
    inner.set_content("見附件")
    inner.add_attachment(f.to_bytes(), maintype="application", subtype="octet-stream",
                         filename=form_name("區交通運輸局"))
    outer = EmailMessage()
    outer["From"] = "辦公室 <office@example.cn>"
    outer["Date"] = format_datetime(datetime(2020, 9, 6, 8, 30, tzinfo=CST))
    outer["Subject"] = "轉發:月報"
    outer.set_content("轉發")
    outer.add_attachment(inner)
    empty = EmailMessage()
    empty["From"] = "資源規劃分局 <zrzy@example.cn>"
    empty["Date"] = format_datetime(datetime(2020, 9, 3, 9, 0, tzinfo=CST))
    empty["Subject"] = "8月月報"
    empty.set_content("忘了附件")
    mails = tmp_path / "mails"
    mails.mkdir()
    (mails / "fwd.eml").write_bytes(bytes(outer))
    (mails / "empty.eml").write_bytes(bytes(empty))
    report = collect(master, [mails], MONTH, write_master=False)
    by = {f.name: f for f in report.files}
    fwd = by[form_name("區交通運輸局")]
    assert fwd.outcome == "accepted"
    # the office received it when the forward arrived
    assert fwd.received_at.startswith("2020-09-06T08:30") and fwd.on_time is False
    assert by["empty.eml"].reason_code == "no-attachment"


def test_too_large_and_missing_path(made, tmp_path):
    root, master, forms = made
    raw = dict(load_config().raw)
    raw["collect"] = {**raw.get("collect", {}), "max_file_mb": 0.001}
    small = config_from_dict(raw)
    report = collect(master, [forms / form_name("區文廣旅體局")], MONTH, config=small,
                     write_master=False)
    assert [f.reason_code for f in report.files] == ["too-large"]
    # a path that does not exist (a mistyped folder): refused before anything is read
    with pytest.raises(InputError) as e:
        collect(master, [forms / form_name("區文廣旅體局"), tmp_path / "沒有這個文件.xlsx"], MONTH,
                config=small, write_master=False)
    assert e.value.code == "no-such-path" and "沒有這個文件.xlsx" in str(e.value)


def test_without_issued_records_the_masters_plan_decides(made, cfg, tmp_path):
    """Forms made without a ledger record (or a ledger lost): the master's current plan is read
    back, and the units with tasks are the ones expected."""
    root, master, forms = made
    work = tmp_path / "w"
    work.mkdir()
    shutil.copy2(master, work / master.name)
    m = work / master.name
    f = Form(forms / form_name("區統計局"))
    f.fill_all(status="推進中", progress=0.2, actual=90)
    p = f.save(tmp_path / form_name("區統計局"))
    report = collect(m, [p], MONTH, write_master=False)      # a new, empty ledger beside m
    [res] = report.files
    assert res.outcome == "accepted", [e.message for e in res.errors]
    assert report.plan_loaded and report.expected_from == "plan"
    assert len(report.expected_units) == 44 and "區司法局" in report.missing
    # a form for another plan is still refused
    f.meta("plan_fingerprint", "ffffffffffffffff")
    p2 = f.save(tmp_path / "舊版_區統計局.xlsx")
    report = collect(m, [p2], MONTH, write_master=False)
    assert report.files[0].reason_code == "wrong-plan"


def test_damaged_bytes_never_break_the_batch(made, cfg, tmp_path):
    """Cut and corrupt a real filled form in many ways: each file gets a verdict, none raises."""
    import random
    root, master, forms = made
    f = Form(forms / form_name("區退役軍人事務局"))
    f.fill_all(status="推進中", progress=0.5, actual=90)
    good = f.to_bytes()
    rnd = random.Random(7)
    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(40):
        data = bytearray(good)
        if i % 2:
            data = data[: rnd.randrange(1, len(data))]
        else:
            for _ in range(rnd.randrange(1, 20)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
        (bad / f"{i:02d}_區退役軍人事務局.xlsx").write_bytes(bytes(data))
    report = collect(master, [bad], MONTH, write_master=False)
    assert len(report.files) == 40
    for res in report.files:
        assert res.outcome in ("accepted", "rejected", "duplicate")
        if res.outcome == "rejected":
            assert res.errors and res.errors[0].message


def test_collecting_the_masters_folder_skips_the_blank_forms(cfg, tmp_path):
    from putuo_xl.workbook.forms import write_forms
    from putuo_xl.workbook.master import build_master
    master = tmp_path / "任務分解台賬.xlsx"
    build_master(None, master, cfg)
    res = write_forms(master, MONTH, config=cfg)          # → tmp_path/2020-08_月報/
    assert res.out_dir.parent == tmp_path and len(res.written) == 44
    f = Form(res.units["區司法局"])
    f.fill_all(status="推進中", progress=0.5, actual=90)
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    f.save(inbox / form_name("區司法局"))
    report = collect(master, [tmp_path], MONTH, write_master=False)
    assert [(r.name, r.outcome) for r in report.files] == [(form_name("區司法局"), "accepted")]
    # named on purpose, the folder is read: the blank forms are refused as unfilled
    report = collect(master, [res.out_dir / form_name("區財政局")], MONTH, write_master=False)
    assert report.files[0].reason_code == "blank-form"


def test_mail_with_raw_gbk_attachment_name(made, cfg, tmp_path):
    """Some mail clients put the attachment name in GBK bytes, unencoded, into the header."""
    import base64
    root, master, forms = made
    f = Form(forms / form_name("區應急管理局"))
    f.fill_all(status="推進中", progress=0.4, actual=92)
    name = form_name("區應急管理局")
    body = base64.encodebytes(f.to_bytes())
    raw = (b"From: =?utf-8?b?" + base64.b64encode("應急局".encode()) + b"?= <yjj@example.cn>\r\n"
           b"Date: Thu, 03 Sep 2020 10:00:00 +0800\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
           b"--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
           b"Content-Disposition: attachment; filename=\"" + name.encode("gb18030") + b"\"\r\n\r\n"
           + body + b"\r\n--XX--\r\n")
    (tmp_path / "gbk.eml").write_bytes(raw)
    report = collect(master, [tmp_path / "gbk.eml"], MONTH, write_master=False)
    [res] = report.files
    assert res.name == name and res.outcome == "accepted", [e.message for e in res.errors]
    assert res.sender.startswith("應急局") and res.on_time is True


def test_mail_with_a_damaged_header_charset_is_still_read(made, cfg, tmp_path):
    """A From header whose encoded word names a charset that does not exist (a damaged byte):
    the attachment is judged, the sender kept as written; the batch goes on."""
    import base64
    root, master, forms = made
    f = Form(forms / form_name("區審計局"))
    f.fill_all(status="推進中", progress=0.4, actual=92)
    name = form_name("區審計局")
    raw = (b"From: =?utf-\xff?b?" + base64.b64encode("審計局".encode()) + b"?= <sjj@example.cn>\r\n"
           b"Date: Thu, 03 Sep 2020 10:00:00 +0800\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
           b"--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
           b"Content-Disposition: attachment; filename=\"" + name.encode() + b"\"\r\n\r\n"
           + base64.encodebytes(f.to_bytes()) + b"\r\n--XX--\r\n")
    (tmp_path / "bad-charset.eml").write_bytes(raw)
    (tmp_path / "other.eml").write_bytes(raw.replace(b"utf-\xff", b"utf-8"))
    report = collect(master, [tmp_path / "bad-charset.eml", tmp_path / "other.eml"], MONTH,
                     write_master=False)
    assert [r.outcome for r in report.files] == ["accepted", "duplicate"], \
        [e.message for r in report.files for e in r.errors]
    assert "sjj@example.cn" in report.files[0].sender


def test_simplified_notice_gives_a_simplified_report(cfg, tmp_path):
    """A notice in simplified characters: forms, messages and 收件情况 follow its script."""
    from putuo_xl.workbook.forms import write_forms
    from putuo_xl.workbook.master import build_master
    from putuo_xl.plan.notice import default_notice_path
    from putuo_xl.text import to_simplified

    notice = tmp_path / "通知.txt"
    notice.write_text(to_simplified(default_notice_path().read_text(encoding="utf-8")), encoding="utf-8")
    master = tmp_path / "任务分解台账.xlsx"
    build_master(notice, master, cfg)
    res = write_forms(master, MONTH, out_dir=tmp_path / "forms", config=cfg)
    unit_form = next(p for u, p in res.units.items() if u == "區司法局")
    f = Form(unit_form)
    f.fill_all(status="进行中", progress="80%", actual=95)
    f.set(f.task_ids()[0], status="差不多")
    p = f.save(tmp_path / unit_form.name)
    report = collect(master, [p], MONTH)
    assert report.script == "simplified"
    [bad] = report.files
    assert bad.reason_code == "bad-status"
    msg = bad.errors[0].message
    assert "进展状态" in msg and "无法识别" in msg and "单元格" in msg
    names = pc.CalamineWorkbook.from_path(str(master)).sheet_names
    assert "收件情况" in names


def test_cross_checks_that_only_warn(made, tmp_path):
    """A stale month in the file name, and an e-mail from another unit's registered address: the
    form's own metadata decides, and the office is told."""
    root, master, forms = made
    raw = dict(load_config().raw)
    units = {k: dict(v or {}) for k, v in raw["units"].items()}
    units["區財政局"]["email"] = ["czj@example.cn"]
    raw["units"] = units
    mailcfg = config_from_dict(raw)
    f = Form(forms / form_name("區人力社保局"))
    f.fill_all(status="推進中", progress=0.3, actual=90)
    stale = f.save(tmp_path / "2020-07_區人力社保局_法治政府建設月報.xlsx")
    g = Form(forms / form_name("區生態環境分局"))
    g.fill_all(status="推進中", progress=0.3, actual=90)
    msg = EmailMessage()
    msg["From"] = "財政局 <CZJ@example.cn>"
    msg["Date"] = format_datetime(datetime(2020, 9, 2, 9, 0, tzinfo=CST))
    msg["Subject"] = "代報"
    msg.set_content("代生態環境分局報送")
    msg.add_attachment(g.to_bytes(), maintype="application", subtype="octet-stream",
                       filename=form_name("區生態環境分局"))
    (tmp_path / "代報.eml").write_bytes(bytes(msg))
    report = collect(master, [stale, tmp_path / "代報.eml"], MONTH, config=mailcfg, write_master=False)
    by = {r.name: r for r in report.files}
    a = by[stale.name]
    assert a.outcome == "accepted" and [p.code for p in a.warnings] == ["name-month-mismatch"]
    b = by[form_name("區生態環境分局")]
    assert b.outcome == "accepted" and [p.code for p in b.warnings] == ["sender-mismatch"]
    assert b.unit == "區生態環境分局" and "區財政局" in b.warnings[0].message
