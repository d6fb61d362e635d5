"""Hostile returns: zip bombs, an oversized file, XML entities, control characters, an e-mail
without attachment, edited locked cells and a form from before a reissue — each judged with a
clear reason, and nothing that arrived vanishes (recorded in the ledger, archived as it came)."""
from __future__ import annotations

import hashlib
import os
import sqlite3
import zipfile
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from putuo_xl.collect.run import archive_dir_for, collect
from putuo_xl.config import config_from_dict, load_config

from collect_kit import Form, rezip_bytes, set_mtime

from test_collect_formats import CST, MONTH, cfg, form_name, made  # noqa: F401  (fixtures)

MB = 1024 * 1024


@pytest.fixture
def world(tmp_path, made):
    """A fresh copy of the master and its ledger (issued forms), and the blank forms."""
    import shutil
    root, master, forms = made
    for p in root.iterdir():
        if p.is_file():
            shutil.copy2(p, tmp_path / p.name)
    return tmp_path / master.name, forms


def filled(forms: Path, unit: str, out: Path, **fill) -> Path:
    f = Form(forms / form_name(unit))
    f.fill_all(**({"status": "推進中", "progress": 0.5, "actual": 90} | fill))
    out.mkdir(parents=True, exist_ok=True)
    p = f.save(out / form_name(unit))
    set_mtime(p, "2020-09-02 10:00")
    return p


def rezip(src: Path, dst: Path, change=None, add=None, level=6) -> Path:
    """`src` with parts changed (name → bytes → bytes) and parts added (name → bytes)."""
    dst.write_bytes(rezip_bytes(src.read_bytes(), change, add, level))
    set_mtime(dst, "2020-09-02 10:00")
    return dst


def submissions(master: Path):
    conn = sqlite3.connect(master.with_name(master.stem + ".ledger.sqlite"))
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM submissions ORDER BY id").fetchall()
    conn.close()
    return rows


def archived(master: Path, row) -> bytes:
    return (master.parent / row["archive_path"]).read_bytes()


# -- 2. zip bombs -----------------------------------------------------------------------------
def _bomb_rows(mb: float) -> bytes:
    """Empty rows after the form's table, `mb` MB of them: deflate packs them ~1000:1."""
    row = b"<row/>"
    return row * int(mb * MB / len(row))


def test_zip_bombs_are_refused_before_they_are_read(world, tmp_path):
    master, forms = world
    good = filled(forms, "區司法局", tmp_path / "src")
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    rows = _bomb_rows(12)
    # the sheet XML grown to 12 MB (a 266 KB form that unpacks to 200 MB is the same, larger)
    rezip(good, inbox / form_name("區司法局"), level=9, change={
        "xl/worksheets/sheet1.xml": lambda d: d.replace(b"</sheetData>", rows + b"</sheetData>")})
    # a part packed more than 100:1 that is not big in itself (2 MB of the same bytes)
    rezip(filled(forms, "區財政局", tmp_path / "src"), inbox / form_name("區財政局"), level=9,
          add={"docProps/custom.xml": b"<x>" + b"a" * (2 * MB) + b"</x>"})
    # an honest 3 MB picture (it does not pack): accepted
    rezip(filled(forms, "區教育局", tmp_path / "src"), inbox / form_name("區教育局"),
          add={"xl/media/image1.png": os.urandom(3 * MB)})
    assert (inbox / form_name("區司法局")).stat().st_size < 200_000
    report = collect(master, [inbox], MONTH)
    by = {f.unit or f.unit_hint: f for f in report.files}
    bomb, ratio, picture = by["區司法局"], by["區財政局"], by["區教育局"]
    assert bomb.outcome == "rejected" and bomb.reason_code == "zip-bomb"
    msg = bomb.errors[0].message
    assert "xl/worksheets/sheet1.xml" in msg and "超過上限 10 MB" in msg and "壓縮炸彈" in msg
    assert "collect.max_xml_mb" in msg
    assert ratio.reason_code == "zip-bomb" and "docProps/custom.xml" in ratio.errors[0].message
    assert "collect.max_zip_ratio" in ratio.errors[0].message
    assert picture.outcome == "accepted", [p.message for p in picture.errors]
    # refused, and still kept: ledger rows with the reason, the originals in the archive
    rows = {r["file_name"]: r for r in submissions(master)}
    for unit in ("區司法局", "區財政局"):
        r = rows[form_name(unit)]
        assert r["status"] == "rejected" and r["reason_code"] == "zip-bomb"
        assert archived(master, r) == (inbox / form_name(unit)).read_bytes()
    # the limits are config.yaml's: an office that expects such files raises them
    raw = dict(load_config().raw)
    raw["collect"] = {**raw["collect"], "max_xml_mb": 20, "max_zip_ratio": 2000}
    again = collect(master, [inbox / form_name("區司法局"), inbox / form_name("區財政局")], MONTH,
                    config=config_from_dict(raw), write_master=False)
    assert [f.outcome for f in again.files] == ["accepted", "accepted"]


def test_the_limits_fit_the_largest_real_form_with_room(made, cfg, tmp_path):
    """The shipped limits against the real forms of the seed plan, filled in: the largest is
    far below every limit (config.yaml says how they were sized at province scale)."""
    from putuo_xl.collect import zipcheck
    root, master, forms = made
    limits = zipcheck.Limits.from_config(cfg.section("collect"))
    sizes = []
    for p in sorted(forms.glob("*.xlsx")):
        f = Form(p)
        f.fill_all(status="推進中", progress=0.5, actual=90, text="已召開專題會議,按計劃推進。" * 20)
        data = f.to_bytes()
        assert zipcheck.over_limits(data, limits) is None
        sizes.append(zipcheck.entries(data))
    unpacked = max(sum(u for _n, _p, u in parts) for parts in sizes)
    ratio = max(u / max(p, 1) for parts in sizes for _n, p, u in parts)
    # every text cell filled with 280 characters: still a twentieth of the limit
    assert len(sizes) == 44 and unpacked * 20 < limits.xml and ratio * 5 < limits.ratio


# -- 3. an oversized file --------------------------------------------------------------------
def test_an_oversized_file_is_recorded_and_archived_with_its_real_size(world, tmp_path):
    master, forms = world
    good = filled(forms, "區審計局", tmp_path / "src")
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    big = rezip(good, inbox / form_name("區審計局"), add={"xl/media/image1.png": os.urandom(21 * MB)})
    size = big.stat().st_size
    assert size > 21 * MB
    report = collect(master, [inbox], MONTH)
    [f] = report.files
    assert f.outcome == "rejected" and f.reason_code == "too-large"
    assert f"文件有 {size / MB:.1f} MB" in f.errors[0].message and "20.0 MB" not in f.errors[0].message
    assert f.size == size and f.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()
    [row] = submissions(master)
    assert row["status"] == "rejected" and row["reason_code"] == "too-large"
    assert row["unit"] == "區審計局" and row["unit_from"] == "name"       # 收件情況 and 催報 find it
    assert archived(master, row) == big.read_bytes()
    assert row["archive_path"].endswith(".xlsx")
    assert any(r.file_name == big.name and r.status == "rejected" for r in report.month_rows)
    assert not [p for p in archive_dir_for(master, cfg=load_config()).rglob(".tmp-*")]
    # sent again: a duplicate of the refused file, not stored twice
    again = collect(master, [inbox], MONTH)
    assert again.files[0].outcome == "duplicate" and len(submissions(master)) == 1


def test_an_oversized_attachment_is_recorded_and_archived(world, tmp_path):
    master, forms = world
    raw = dict(load_config().raw)
    raw["collect"] = {**raw["collect"], "max_file_mb": 0.01}
    small = config_from_dict(raw)
    data = filled(forms, "區審計局", tmp_path / "src").read_bytes()
    msg = EmailMessage()
    msg["From"] = "審計局 <sjj@example.cn>"
    msg["Date"] = format_datetime(datetime(2020, 9, 2, 9, 0, tzinfo=CST))
    msg["Subject"] = "月報"
    msg.set_content("見附件")
    msg.add_attachment(data, maintype="application", subtype="octet-stream",
                       filename=form_name("區審計局"))
    eml = tmp_path / "審計局.eml"
    eml.write_bytes(bytes(msg))
    report = collect(master, [eml], MONTH, config=small)
    [f] = report.files
    assert f.reason_code == "too-large" and f"文件有 {len(data) / MB:.3f} MB" in f.errors[0].message
    [row] = submissions(master)
    assert archived(master, row) == data and row["sender"].startswith("審計局")


# -- 6. an e-mail without attachment, XML entities, control characters ------------------------
def test_an_email_without_attachment_is_recorded_and_archived(world, tmp_path):
    master, forms = world
    msg = EmailMessage()
    msg["From"] = "資源規劃分局 <zrzy@example.cn>"
    msg["Date"] = format_datetime(datetime(2020, 9, 3, 9, 0, tzinfo=CST))
    msg["Subject"] = "8月月報"
    msg.set_content("忘了附件")
    eml = tmp_path / "資源規劃分局.eml"
    eml.write_bytes(bytes(msg))
    report = collect(master, [eml], MONTH)
    assert report.files[0].reason_code == "no-attachment"
    [row] = submissions(master)
    assert row["status"] == "rejected" and row["reason_code"] == "no-attachment"
    assert archived(master, row) == eml.read_bytes() and row["archive_path"].endswith(".eml")
    assert row["received_at"].startswith("2020-09-03T09:00")


XXE = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;'
          b'&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')


def _with_entity(dtd: bytes, ref: bytes):
    def change(data: bytes) -> bytes:
        head, rest = data.split(b"?>", 1) if data.startswith(b"<?xml") else (b"", data)
        return (head + b"?>" if head else b"") + dtd + rest.replace(b"<t>", b"<t>" + ref, 1)
    return change


@pytest.mark.parametrize("dtd,ref", [(XXE, b"&xxe;"), (LAUGHS, b"&lol3;")], ids=["xxe", "laughs"])
def test_xml_entities_are_named_for_what_they_are(world, tmp_path, dtd, ref):
    master, forms = world
    good = filled(forms, "區民政局", tmp_path / "src")
    part = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in zipfile.ZipFile(good).namelist() \
        else "xl/worksheets/sheet1.xml"
    bad = rezip(good, tmp_path / form_name("區民政局"), change={part: _with_entity(dtd, ref)})
    report = collect(master, [bad], MONTH, write_master=False)
    [f] = report.files
    assert f.reason_code == "xml-entities", f.errors[0].message
    msg = f.errors[0].message
    assert part in msg and "XXE" in msg and "下載完整" not in msg


def test_control_characters_are_stored_clean_and_kept_in_the_archive(world, tmp_path):
    master, forms = world
    f = Form(forms / form_name("區司法局"))
    f.fill_all(status="推進中", progress=0.5, actual=90, text="按計劃推進")
    tid = f.task_ids()[0]
    f.set(tid, progress_text="MARKA", problems="MARKB")
    f.set_contact(填報人="MARKC")
    src = f.save(tmp_path / "src.xlsx")
    nasty = {"MARKA": "已召開_x001B_[31m專題會議_x0007_", "MARKB": "\u202e無問題", "MARKC": "張三_x0000_"}

    def change(data: bytes) -> bytes:
        for k, v in nasty.items():
            data = data.replace(k.encode(), v.encode())
        return data
    parts = {n: change for n in zipfile.ZipFile(src).namelist()
             if n in ("xl/sharedStrings.xml", "xl/worksheets/sheet1.xml")}
    p = rezip(src, tmp_path / form_name("區司法局"), change=parts)
    report = collect(master, [p], MONTH)
    [res] = report.files
    assert res.outcome == "accepted", [e.message for e in res.errors]
    warn = next(w for w in res.warnings if w.code == "control-chars")
    assert "已去掉" in warn.message and "2 個單元格" in warn.message
    conn = sqlite3.connect(master.with_name(master.stem + ".ledger.sqlite"))
    text, problems = conn.execute("SELECT progress_text, problems FROM reports WHERE task_id = ?",
                                  (tid,)).fetchone()
    contact = conn.execute("SELECT contact FROM submissions").fetchone()[0]
    assert text == "已召開[31m專題會議" and problems == "無問題" and "張三" in contact
    assert not any(ch in (text + problems + contact) for ch in "\x1b\x07\x00\u202e")
    [row] = submissions(master)
    assert archived(master, row) == p.read_bytes()          # the original as it arrived
    # the 收件情況 row says so too
    assert any("控制字符" in n for r in report.month_rows for n in r.notes)


# -- 5. locked cells edited -------------------------------------------------------------------
def _ledger(master: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(master.with_name(master.stem + ".ledger.sqlite"))
    conn.row_factory = sqlite3.Row
    return conn


def _edited_form(forms: Path, unit: str, out: Path):
    """The unit's form filled in, its sheet unprotected and locked cells changed: a 配合 role
    made 牽頭, a target lowered, a task reworded. Returns (path, co task, target task, reworded)."""
    f = Form(forms / form_name(unit))
    f.fill_all(status="推進中", progress=0.5, actual=90)
    rows = f.rows()
    role = f.cols["role"]
    co = next(t for t in f.task_ids() if f.ws.cell(rows[t], role).value == "配合")
    f.ws.protection.sheet = False
    f.set(co, role="牽頭")
    target = f.indicator_rows()[0]
    f.set(target, target="10%以上")
    reworded = next(t for t in f.task_ids() if t not in (co, target))
    f.set(reworded, task="本單位自己改寫的任務")
    out.mkdir(parents=True, exist_ok=True)
    p = f.save(out / form_name(unit))
    set_mtime(p, "2020-09-02 10:00")
    return p, co, target, reworded


@pytest.mark.parametrize("issued_cells", [True, False], ids=["issued-cells", "older-ledger"])
def test_edited_locked_cells_are_not_believed(world, tmp_path, issued_cells):
    master, forms = world
    p, co, target, reworded = _edited_form(forms, "區司法局", tmp_path / "in")
    if not issued_cells:      # a form issued before the ledger kept its locked cells: the plan
        with _ledger(master) as conn:
            conn.execute("DELETE FROM issued_cells")
    report = collect(master, [p], MONTH)
    [res] = report.files
    assert res.outcome == "accepted", [e.message for e in res.errors]
    with _ledger(master) as conn:
        role = conn.execute("SELECT role FROM reports WHERE task_id = ?", (co,)).fetchone()[0]
    assert role == "co"                                    # the plan's, not the unit's 牽頭
    from putuo_xl.text import narrow
    warn = narrow(next(w for w in res.warnings if w.code == "locked-changed").message)
    assert "C6「角色」下發時是「配合」,表中是「牽頭」" in warn and "已按下發的內容收錄" in warn
    if issued_cells:
        assert "「目標值」下發時是「實現41件」,表中是「10%以上」" in warn
        assert "B7「工作任務」被改寫" in warn and "3 處" in warn
    assert any("鎖定的內容被改動" in n for r in report.month_rows for n in r.notes)


def test_untouched_locked_cells_give_no_warning(world, tmp_path):
    master, forms = world
    p = filled(forms, "區司法局", tmp_path / "in")
    report = collect(master, [p], MONTH)
    assert report.files[0].outcome == "accepted"
    assert not [w for w in report.files[0].problems if w.code == "locked-changed"]


# -- 4. a form from before a reissue ----------------------------------------------------------
S1 = "一、推進政府職能依法全面履行"


def _add_task_and_reissue(master: Path, cfg, out: Path) -> None:
    """The office gives 區財政局 a new task 1.5.5 in the master and issues the forms again."""
    from putuo_xl.workbook.forms import write_forms
    wb = load_workbook(master)
    ws = wb[S1]
    new = ws.max_row + 1
    ws.cell(row=new, column=1).value = "1.5.5"
    ws.cell(row=new, column=3).value = "推進政府採購領域專項整治。"
    ws.cell(row=new, column=4).value = "區財政局"
    ws.cell(row=new, column=7).value = "2020年10月底前"
    wb.save(master)
    result = write_forms(master, MONTH, out_dir=out, config=cfg, force=True)
    assert "區財政局" in result.units


def test_a_form_from_before_a_reissue_is_accepted_and_its_new_tasks_chased(world, tmp_path, cfg):
    master, forms = world
    old = filled(forms, "區財政局", tmp_path / "in")          # filled in on the first issue
    other = filled(forms, "區司法局", tmp_path / "in")        # its form did not change
    _add_task_and_reissue(master, cfg, tmp_path / "reissued")
    report = collect(master, [old, other], MONTH)
    by = {f.unit: f for f in report.files}
    fin = by["區財政局"]
    assert fin.outcome == "accepted" and fin.in_force
    warn = next(w for w in fin.warnings if w.code == "outdated-form")
    assert "已重新下發了新版" in warn.message and "1.5.5" in warn.message
    assert not [w for w in by["區司法局"].warnings if w.code == "outdated-form"]
    assert [(u.unit, u.lacking) for u in report.outdated] == [("區財政局", ["1.5.5"])]
    row = next(r for r in report.month_rows if r.unit == "區財政局")
    assert any("1.5.5" in n for n in row.notes)
    sheet = [row for kind, row in report.receipts_table() if row[0] == "區財政局"]
    assert "1.5.5" in sheet[0][-1]
    assert report.to_dict()["outdated"] == {"區財政局": ["1.5.5"]}
    # 催報 asks for the new tasks, with the new form attached; 區司法局 is not chased
    from mail_helpers import write_config
    from putuo_xl.mail.reminders import send_reminders
    mail_cfg = load_config(write_config(tmp_path / "mail.yaml", 25, addresses={
        "區財政局": ["czj@putuo.example.cn"], "區司法局": ["sfj@putuo.example.cn"]}))
    rem = send_reminders(master, MONTH, mail_cfg, dry_run_dir=tmp_path / "eml",
                         forms_dir=tmp_path / "reissued", today=datetime(2020, 9, 3).date())
    m = next(x for x in rem.messages if x.unit == "區財政局")
    assert m.situation == "outdated" and "1.5.5" in m.body and "新版" in m.body
    assert m.attachment_path == tmp_path / "reissued" / form_name("區財政局")
    assert "區司法局" not in {x.unit for x in rem.messages}
