"""collect, end to end: the month's forms are generated, filled the way officials fill them,
returned in a folder and by e-mail, and collected. Asserted file by file: what was accepted,
what was rejected with which reason code, what the ledger and the archive hold, and what the
收件情況 sheet in the master says."""
from __future__ import annotations

import io
import shutil
import sqlite3
import zipfile
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timezone, timedelta
from pathlib import Path

import msoffcrypto
import pytest
import python_calamine as pc

from putuo_xl import layout
from putuo_xl.collect.run import collect
from putuo_xl.config import load_config

from collect_kit import Form, make_master_and_forms, set_mtime
from putuo_xl.text import narrow

MONTH = "2020-08"
CST = timezone(timedelta(hours=8))


def form_name(unit, month=MONTH):
    return f"{month}_{unit}_法治政府建設月報.xlsx"


@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.fixture(scope="module")
def world(tmp_path_factory, cfg):
    """The master, the August forms (and July's for one unit), and an inbox filled like real life."""
    root = tmp_path_factory.mktemp("collect")
    master, forms = make_master_and_forms(root, MONTH, cfg)
    _, july = make_master_and_forms(root, "2020-07", cfg)
    inbox = root / "收件箱"
    inbox.mkdir()
    expected: dict[str, tuple[str, str | None]] = {}   # file name → (outcome, reason code)

    def src(unit, month=MONTH):
        return (forms if month == MONTH else july) / form_name(unit, month)

    # 1. awkward but valid input: synonyms in both scripts, five ways of writing 80%, full-width
    #    digits, padded text, a text that starts with '='
    f = Form(src("區司法局"))
    ids = f.task_ids()
    styles = [("進行中", 0.8), ("推进中", "80%"), ("完成", "１００％"), ("正在推進", 80), ("未開始", "0")]
    for n, tid in enumerate(ids):
        st, pr = styles[n % len(styles)]
        f.set(tid, status=st, progress=pr, progress_text="  已召開專題會議 ", problems="=無",
              next_steps="+繼續推進")
    for tid in f.indicator_rows():
        pct = "%" in f.target(tid) or "％" in f.target(tid)
        f.set(tid, actual=("９５％" if "#" not in tid else 96) if pct else "１２")
    f.set_contact(填報人="王小明", 聯繫電話="０５８０－３０１２３４５", 審核人="李主任")
    p = f.save(inbox / form_name("區司法局"))
    set_mtime(p, "2020-09-03 09:30")
    expected[p.name] = ("accepted", None)

    # 2. pasted values over the dropdowns, an inserted row with a remark, rows sorted backwards
    f = Form(src("區財政局"))
    f.fill_all(status="正在推進", progress="６０％", actual="88")
    ws = f.ws
    ws.insert_rows(f.header_row + 2)
    ws.cell(f.header_row + 2, f.cols["progress_text"]).value = "補充說明:本月另開展普法活動兩場"
    _reverse_rows(f)
    p = f.save(inbox / form_name("區財政局"))
    set_mtime(p, "2020-09-04 16:00")
    expected[p.name] = ("accepted", None)

    # 3. the sheet renamed
    f = Form(src("區發改局"))
    f.fill_all(status="推進中", progress=0.5, actual=90)
    f.ws.title = "8月報表"
    p = f.save(inbox / form_name("區發改局"))
    set_mtime(p, "2020-09-05 17:59")
    expected[p.name] = ("accepted", None)

    # 4. late
    f = Form(src("區教育局"))
    f.fill_all(status="已完成", progress=1, actual=100)
    p = f.save(inbox / form_name("區教育局"))
    set_mtime(p, "2020-09-10 08:00")
    expected[p.name] = ("accepted", None)

    # 5. corrupt: a filled form cut short (a download that did not finish)
    f = Form(src("區民政局"))
    f.fill_all()
    data = f.to_bytes()
    p = inbox / form_name("區民政局")
    p.write_bytes(data[: len(data) * 2 // 3])
    expected[p.name] = ("rejected", "corrupt")

    # 6. password-protected (really encrypted: an OLE container with EncryptedPackage)
    f = Form(src("區公安分局"))
    f.fill_all()
    enc = io.BytesIO()
    msoffcrypto.OfficeFile(io.BytesIO(f.to_bytes())).encrypt("普陀2020", enc)
    p = inbox / form_name("區公安分局")
    p.write_bytes(enc.getvalue())
    expected[p.name] = ("rejected", "encrypted")

    # 7. last month's form sent again
    f = Form(src("區科技局", "2020-07"))
    f.fill_all()
    p = f.save(inbox / form_name("區科技局", "2020-07"))
    expected[p.name] = ("rejected", "wrong-month")

    # 8. another unit's form, saved under the sender's own name
    f = Form(src("區衛健局"))
    f.fill_all()
    p = f.save(inbox / form_name("區商務局"))
    expected[p.name] = ("rejected", "unit-mismatch")

    # 9. a corrected resubmission: the first version on 3 Sep, the corrected one on 4 Sep
    f = Form(src("區住建局"))
    f.fill_all(status="推進中", progress=0.3, actual=50)
    p = f.save(inbox / "區住建局8月月報.xlsx")
    set_mtime(p, "2020-09-03 10:00")
    expected[p.name] = ("accepted", None)
    f.fill_all(status="已完成", progress=1, actual=100)
    (inbox / "更正").mkdir()
    p = f.save(inbox / "更正" / "區住建局8月月報(更正).xlsx")
    set_mtime(p, "2020-09-04 10:00")
    expected["區住建局8月月報(更正).xlsx"] = ("accepted", None)

    # 10. the same file twice (also forwarded into another folder)
    (inbox / "轉發").mkdir()
    shutil.copy2(inbox / form_name("區司法局"), inbox / "轉發" / form_name("區司法局"))

    # 11. an unknown task id, a deleted task row, a value out of range, a status nobody knows
    f = Form(src("區統計局"))
    f.fill_all()
    f.set_id(f.task_ids()[0], "9.9.9")
    p = f.save(inbox / form_name("區統計局"))
    expected[p.name] = ("rejected", "unknown-task")
    f = Form(src("區醫保分局"))
    f.fill_all()
    f.ws.delete_rows(f.rows()[f.task_ids()[-1]])
    p = f.save(inbox / form_name("區醫保分局"))
    expected[p.name] = ("rejected", "missing-task")
    f = Form(src("區審招辦"))
    f.fill_all()
    f.set(f.task_ids()[0], progress="150%")
    p = f.save(inbox / form_name("區審招辦"))
    expected[p.name] = ("rejected", "out-of-range")
    f = Form(src("區跑改辦"))
    f.fill_all()
    f.set(f.task_ids()[0], status="=1+1")
    p = f.save(inbox / form_name("區跑改辦"))
    expected[p.name] = ("rejected", "bad-status")

    # 12. a form for another plan (an old version of the 任務分解表)
    f = Form(src("區經信局"))
    f.fill_all()
    f.meta("plan_fingerprint", "0123456789abcdef")
    p = f.save(inbox / form_name("區經信局"))
    expected[p.name] = ("rejected", "wrong-plan")

    # 13. not an Excel file at all: a Word document named .xlsx, a PDF
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    (inbox / "區信訪局月報.xlsx").write_bytes(buf.getvalue())
    expected["區信訪局月報.xlsx"] = ("rejected", "not-excel")

    # 14. a saved e-mail with the form attached (Date and From count)
    f = Form(src("區審計局"))
    f.fill_all(status="推進中", progress="70%", actual="93%")
    msg = EmailMessage()
    msg["From"] = "區審計局 辦公室 <sjj@putuo.gov.cn>"
    msg["To"] = "fzb@putuo.gov.cn"
    msg["Subject"] = "報送8月法治政府建設月報"
    msg["Date"] = format_datetime(datetime(2020, 9, 4, 21, 15, tzinfo=CST))
    msg.set_content("請查收。")
    msg.add_attachment(f.to_bytes(), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       filename=form_name("區審計局"))
    (inbox / "審計局來信.eml").write_bytes(bytes(msg))
    expected[form_name("區審計局")] = ("accepted", None)

    # lock files and temp files in the folder are not forms
    (inbox / ("~$" + form_name("區司法局"))).write_bytes(b"\x00" * 165)

    return {"root": root, "master": master, "forms": forms, "inbox": inbox, "expected": expected}


def _reverse_rows(f: Form) -> None:
    """Sort the task rows backwards (values only, like Data → Sort)."""
    ws = f.ws
    first = f.header_row + 1
    rows = [[ws.cell(r, c).value for c in range(1, ws.max_column + 1)] for r in range(first, ws.max_row + 1)]
    rows.reverse()
    for i, vals in enumerate(rows):
        for c, v in enumerate(vals, start=1):
            ws.cell(first + i, c).value = v


@pytest.fixture(scope="module")
def run(world):
    before = world["master"].read_bytes()
    report = collect(world["master"], [world["inbox"]], MONTH, now=datetime(2020, 9, 11, 9, 0, tzinfo=CST))
    return {"report": report, "before": before, **world}


def _by_name(report):
    out = {}
    for f in report.files:
        out.setdefault(f.name, []).append(f)
    return out


def test_every_file_judged_as_expected(run):
    report, expected = run["report"], run["expected"]
    got = _by_name(report)
    for name, (outcome, code) in expected.items():
        assert name in got, name
        first = got[name][0]
        assert first.outcome == outcome, (name, first.outcome, [p.message for p in first.errors])
        assert first.reason_code == code, (name, first.reason_code)
    # the second copy of 區司法局's file is a duplicate, the lock file is not judged at all
    assert [f.outcome for f in got[form_name("區司法局")]] == ["accepted", "duplicate"]
    assert not any(n.startswith("~$") for n in got)
    assert len(report.files) == len(expected) + 1


def test_rejections_say_where_and_what_to_do(run):
    got = _by_name(run["report"])
    enc = got[form_name("區公安分局")][0].errors[0].message
    assert form_name("區公安分局") in enc and "密碼" in enc
    oor = got[form_name("區審招辦")][0].errors[0]
    assert oor.sheet == layout.FORM_SHEET and oor.cell and "150%" in oor.message and "0–100%" in oor.message
    assert f"單元格 {oor.cell}" in oor.message
    month = got[form_name("區科技局", "2020-07")][0].errors[0].message
    assert "2020年7月" in month and "--month 2020-07" in month
    other = got[form_name("區商務局")][0].errors[0].message
    assert "區衛健局" in other and "區商務局" in other
    unknown = got[form_name("區統計局")][0].errors[0]
    assert unknown.params["task_id"] == "9.9.9" and unknown.cell.startswith("A")


def test_awkward_values_normalised_in_ledger(run):
    conn = sqlite3.connect(run["report"].ledger)
    conn.row_factory = sqlite3.Row
    sub = conn.execute("SELECT * FROM submissions WHERE file_name = ? AND status='accepted'",
                       (form_name("區司法局"),)).fetchone()
    rows = conn.execute("SELECT * FROM reports WHERE submission_id = ?", (sub["id"],)).fetchall()
    assert {r["status"] for r in rows} <= {"推進中", "已完成", "未啟動"}
    by_status = {}
    for r in rows:
        by_status.setdefault(r["status"], set()).add(r["progress"])
    assert by_status["推進中"] == {0.8}
    assert by_status.get("已完成", {1.0}) == {1.0}
    assert all(r["progress_text"] == "已召開專題會議" for r in rows)
    assert all(r["problems"] == "=無" and r["next_steps"] == "+繼續推進" for r in rows)
    actuals = conn.execute("SELECT indicator_id, value FROM actuals WHERE submission_id = ?", (sub["id"],)).fetchall()
    assert actuals and {a["value"] for a in actuals} <= {95.0, 96.0, 12.0}
    assert sub["on_time"] == 1 and sub["row_count"] == len(rows)
    assert sub["unit"] == "區司法局" and sub["month"] == MONTH
    assert sub["contact"] == "填報人:王小明;電話:０５８０－３０１２３４５;審核:李主任"


def test_inserted_row_sorted_rows_and_renamed_sheet(run):
    got = _by_name(run["report"])
    fin = got[form_name("區財政局")][0]
    assert [p.code for p in fin.warnings] == ["row-without-id"]
    assert "補充說明" in fin.warnings[0].message
    assert fin.rows == len(Form(run["forms"] / form_name("區財政局")).task_ids())
    dev = got[form_name("區發改局")][0]
    assert dev.sheet == "8月報表" and "sheet-renamed" in [p.code for p in dev.infos]


def test_on_time_and_late(run):
    got = _by_name(run["report"])
    assert got[form_name("區發改局")][0].on_time is True          # 5 Sep 17:59, due 5 Sep
    late = got[form_name("區教育局")][0]
    assert late.on_time is False and late.days_late == 5
    mail = got[form_name("區審計局")][0]
    assert mail.received_at.startswith("2020-09-04T21:15") and mail.on_time is True
    assert "sjj@putuo.gov.cn" in mail.sender and "審計局來信.eml" in mail.source


def test_resubmission_supersedes_and_both_stay(run):
    got = _by_name(run["report"])
    first = got["區住建局8月月報.xlsx"][0]
    second = got["區住建局8月月報(更正).xlsx"][0]
    assert first.superseded_by == second.submission_id and not first.in_force
    assert second.in_force and second.supersedes == [first.submission_id]
    conn = sqlite3.connect(run["report"].ledger)
    rows = conn.execute("SELECT id, superseded_by FROM submissions WHERE unit='區住建局' ORDER BY id").fetchall()
    assert rows == [(first.submission_id, second.submission_id), (second.submission_id, None)]
    statuses = {r[0] for r in conn.execute("SELECT status FROM reports WHERE submission_id=?", (second.submission_id,))}
    assert statuses == {"已完成"}


def test_archive_holds_every_original_by_hash(run):
    root = Path(run["report"].ledger).parent
    for f in run["report"].files:
        if f.outcome == "accepted":
            p = root / f.archive_path
            assert p.name.startswith(f.sha256) and p.exists()
    sj = _by_name(run["report"])[form_name("區司法局")][0]
    assert (root / sj.archive_path).read_bytes() == (run["inbox"] / form_name("區司法局")).read_bytes()


def test_missing_units_listed(run):
    report = run["report"]
    assert report.expected_units and "區司法局" not in report.missing
    assert "區民政局" in report.missing          # its only file was corrupt
    assert "區公安分局" in report.missing
    assert "區衛健局" in report.missing          # its form came under another name
    states = {u.unit: u for u in report.units}
    # the corrupt and the encrypted file are counted for the unit their file name names
    assert states["區民政局"].rejected == 1 and "損壞" in states["區民政局"].rejected_reason
    assert states["區公安分局"].rejected == 1
    assert states["區衛健局"].rejected == 1      # identified by its metadata, rejected for the name
    assert states["區商務局"].rejected == 0
    # the ledger names the unit of an unreadable file as its file name does, and says so
    conn = sqlite3.connect(report.ledger)
    row = conn.execute("SELECT unit, unit_from, reason_code FROM submissions WHERE file_name = ?",
                       (form_name("區民政局"),)).fetchone()
    assert row == ("區民政局", "name", "corrupt")
    reported = {u.unit for u in report.units if u.submission_id}
    assert reported == {"區司法局", "區財政局", "區發改局", "區教育局", "區住建局", "區審計局"}


def test_receipts_sheet_written_into_master(run):
    report = run["report"]
    assert report.master_written and run["master"].read_bytes() != run["before"]
    wb = pc.CalamineWorkbook.from_path(str(run["master"]))
    name = layout.name("receipts", report.script)
    assert name in wb.sheet_names
    rows = wb.get_sheet_by_name(name).to_python()
    text = "\n".join("|".join(str(c) for c in r) for r in rows)
    assert "月報收件情況" in text and "缺報" in text and "區民政局" in text and "拒收" in text
    assert "逾期" in text
    # the sheets the master had are still there
    assert layout.META_SHEET in wb.sheet_names
    # a value that starts with '=' is text in the sheet, never a formula
    with zipfile.ZipFile(run["master"]) as z:
        idx = wb.sheet_names.index(name) + 1
        sheet_xml = next(z.read(n) for n in z.namelist() if n == f"xl/worksheets/sheet{idx}.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml
    assert "=1+1" in text
    # rejected files without a readable unit are listed under the unit their name names
    assert "區民政局(據文件名)" in narrow(text)
    assert "2020-07_區科技局_法治政府建設月報.xlsx" in text   # last month's form, rejected in this run


def test_report_renders_json_and_table(run):
    import json
    from rich.console import Console

    report = run["report"]
    d = json.loads(report.to_json())
    assert d["stats"]["accepted"] == 7 and d["stats"]["duplicates"] == 1
    assert {f["reason_code"] for f in d["files"] if f["outcome"] == "rejected"} >= {"corrupt", "encrypted"}
    console = Console(record=True, width=200)
    report.render_table(console)
    out = console.export_text()
    assert "拒收" in out and "缺報單位" in out and "區民政局" in out


def test_second_run_is_a_no_op(run):
    conn = sqlite3.connect(run["report"].ledger)
    counts = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("submissions", "reports", "actuals")]
    conn.close()
    again = collect(run["master"], [run["inbox"]], MONTH)
    assert not again.accepted
    assert {f.outcome for f in again.files if f.sha256} == {"duplicate"}
    conn = sqlite3.connect(run["report"].ledger)
    assert counts == [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                      for t in ("submissions", "reports", "actuals")]


def test_master_opens_cleanly_in_libreoffice(run):
    import subprocess
    tool = Path(__file__).resolve().parents[1] / "tools" / "xlsx-check"
    res = subprocess.run([str(tool), str(run["master"]), "--json"], capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stdout + res.stderr
    import json
    data = json.loads(res.stdout)
    text = json.dumps(data, ensure_ascii=False)
    assert "收件情況" in text


def test_a_large_batch_lists_the_urgent_files_first_and_counts_the_rest(run, monkeypatch):
    """Over TABLE_MAX_ROWS files needing attention, the table keeps the refused ones (and then
    those with warnings, then the late ones) and says how many of each it left out."""
    from rich.console import Console
    from putuo_xl.collect.report import CollectReport
    from putuo_xl.text import narrow

    report = run["report"]
    monkeypatch.setattr(CollectReport, "TABLE_MAX_ROWS", 2)
    not_taken = [f.name for f in report.files if f.outcome != "accepted"]   # refused, duplicates
    late = [f.name for f in report.files if f.outcome == "accepted" and f.on_time is False
            and not f.warnings and f.in_force]
    assert len(not_taken) >= 3 and late
    console = Console(record=True, width=300)
    report.render_table(console, full=False)
    out = narrow(console.export_text())
    table = out.split("另有")[0]
    assert [f.name for f in report.files if f.name in table] == not_taken[:2]
    assert f"(拒收或重複 {len(not_taken) - 2}、" in out and f"逾期收錄 {len(late)})" in out
