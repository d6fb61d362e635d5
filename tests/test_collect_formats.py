"""Other shapes a returned form arrives in: saved as .xls by WPS/LibreOffice, inside a
forwarded e-mail; an e-mail without attachment; a file too large."""
from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from putuo_xl.collect import collect
from putuo_xl.config import config_from_dict, load_config

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


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_form_saved_as_xls_by_libreoffice(made, cfg, tmp_path):
    root, master, forms = made
    f = Form(forms / form_name("區農業農村局"))
    f.fill_all(status="進行中", progress="40%", actual="91%")
    xlsx = f.save(tmp_path / form_name("區農業農村局"))
    profile = tmp_path / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", "xls", "--outdir", str(tmp_path / "xls"), str(xlsx)],
                   check=True, capture_output=True, timeout=120)
    xls = tmp_path / "xls" / (xlsx.stem + ".xls")
    assert xls.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    set_mtime(xls, "2020-09-02 11:00")
    report = collect(master, [xls], MONTH, write_master=False)
    [res] = report.files
    assert res.outcome == "accepted", [p.message for p in res.errors]
    assert res.unit == "區農業農村局" and res.rows == len(f.task_ids())
    assert res.archive_path.endswith(".xls")


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
    report = collect(master, [forms / form_name("區文廣旅體局"), tmp_path / "沒有這個文件.xlsx"], MONTH,
                     config=small, write_master=False)
    codes = [f.reason_code for f in report.files]
    assert codes == ["too-large", "not-found"]
    assert "沒有這個文件.xlsx" in report.files[1].errors[0].message


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
