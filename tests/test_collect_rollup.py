"""`collect_and_rollup` (putuo-xl collect --rollup) gives exactly what `collect` followed by
`rollup` gives — the same ledger, the same sheets in the same places, hidden the same way, with
the same cells — while reading the plan once and rewriting the master once. Judging in worker
processes (fork, and spawn as on Windows) gives what judging one file after another gives."""
from __future__ import annotations

import shutil
import sqlite3
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import docx
import pytest
import python_calamine as pc
from click.testing import CliRunner
from lxml import etree

import putuo_xl.collect.run as collect_mod
from putuo_xl import layout
from putuo_xl.cli.commands import main
from putuo_xl.collect.run import collect
from putuo_xl.rollup.with_collect import collect_and_rollup
from putuo_xl.config import load_config
from putuo_xl.demo import SampleUnits, fill_form, read_form
from putuo_xl.docx_gbt import style_name
from putuo_xl.workbook.forms import write_forms
from putuo_xl.workbook.master import build_master
from putuo_xl.rollup.run import rollup

MONTHS = ["2020-08", "2020-09"]
CST = timezone(timedelta(hours=8))
NOW = {"2020-08": datetime(2020, 9, 8, 9, 0, tzinfo=CST), "2020-09": datetime(2020, 10, 9, 9, 0, tzinfo=CST)}
TABLES = ("issued", "submissions", "reports", "actuals", "notes")
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A master with its issued forms for two months, and the returns filled as the demo fills
    them (some late, some missing, one rejected; in September only a dozen units report)."""
    root = tmp_path_factory.mktemp("cr-src")
    cfg = load_config()
    seed = root / "seed"
    seed.mkdir()
    master = build_master(None, seed / "任務分解台賬.xlsx", cfg).path
    targets = {ind.id: ind for _t, ind in master_plan(master, cfg).indicators()}
    returns = {}
    sample = None
    for i, month in enumerate(MONTHS):
        fr = write_forms(master, month, root / f"forms-{month}", cfg)
        units = list(fr.units)
        if sample is None:
            sample = SampleUnits(units, cfg, 7)
            plans = sample.plan_months(MONTHS, units)
        mp = plans[i]
        ret = root / f"returns-{month}"
        due = datetime.fromisoformat(fr.due).replace(hour=17)
        chosen = units if i == 0 else units[:12]
        for j, unit in enumerate(chosen):
            info = read_form(fr.units[unit])
            values = sample.values(unit, info, i, targets)
            if unit in mp.missing:
                continue
            if unit in mp.rejected:
                first = next(k for k, v in values.items() if "status" in v)
                values[first]["status"] = "差不多"
            when = due - timedelta(days=1 + j % 4) if unit not in mp.late else due + timedelta(days=2)
            fill_form(fr.units[unit], ret / fr.units[unit].name, values, received=when.astimezone(),
                      sample=False, info=info)
        returns[month] = ret
    return root, returns


def master_plan(master, cfg):
    from putuo_xl.workbook.readback import plan_from_workbook
    return plan_from_workbook(master, cfg, engine="calamine")


def fresh(made, tmp_path, name):
    root, returns = made
    d = tmp_path / name
    shutil.copytree(root / "seed", d)
    return d / "任務分解台賬.xlsx", returns


def same_report(rep, master):
    """The report as JSON, without timings and with the run's folder written as <dir>."""
    import json
    d = rep.to_dict()
    d["timings"] = {}
    return json.dumps(d, ensure_ascii=False, sort_keys=True).replace(str(master.parent), "<dir>")


def ledger_rows(master: Path):
    conn = sqlite3.connect(master.with_name(master.stem + ".ledger.sqlite"))
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}
    finally:
        conn.close()


def sheets(master: Path):
    """[(name, state)] in tab order, and every sheet's values."""
    with zipfile.ZipFile(master) as z:
        wb = etree.fromstring(z.read("xl/workbook.xml"))
    tabs = [(s.get("name"), s.get("state", "visible")) for s in wb.iter(MAIN + "sheet")]
    book = pc.CalamineWorkbook.from_path(str(master))
    values = {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name, _ in tabs}
    book.close()
    return tabs, values


def test_same_as_collect_then_rollup(made, tmp_path):
    cfg = load_config()
    a, returns = fresh(made, tmp_path, "separate")
    b, _ = fresh(made, tmp_path, "combined")
    for month in MONTHS:
        rep_a = collect(a, [returns[month]], month, cfg, now=NOW[month])
        res_a = rollup(a, month, cfg)
        run = collect_and_rollup(b, [returns[month]], month, cfg, now=NOW[month])
        assert run.ok and run.rollup is not None
        assert same_report(rep_a, a) == same_report(run.report, b)
        assert ledger_rows(a) == ledger_rows(b)
        assert sheets(a) == sheets(b), month
        assert res_a.rollup.bulletin() == run.rollup.rollup.bulletin()
        assert res_a.months == run.rollup.months == MONTHS[: MONTHS.index(month) + 1]
        assert run.report.timings["rollup_compute_s"] >= 0
    tabs, values = sheets(b)
    assert (layout.STATUS_SHEET, "hidden") in tabs and (layout.name("receipts"), "visible") in tabs
    status = values[layout.STATUS_SHEET]
    assert status[0] == list(layout.STATUS_COLUMNS) and len(status) > 1000


def test_rollup_that_cannot_be_computed_still_collects(made, tmp_path):
    """An official broke the master's plan (an unreadable deadline): the forms are collected
    and 收件情況 written all the same; the rollup error is reported, the exit code is 1."""
    import openpyxl
    master, returns = fresh(made, tmp_path, "broken")
    wb = openpyxl.load_workbook(master)
    ws = next(w for w in wb.worksheets if w.title.startswith("一、"))
    hdr = next(r for r in range(1, 10) if ws.cell(r, 1).value == "任務編號")
    ws.cell(hdr + 1, 7, "盡快")                             # a deadline nobody can read
    wb.save(master)
    res = CliRunner().invoke(main, ["collect", str(master), str(returns["2020-08"]), "--month", "2020-08",
                                    "--rollup"])
    assert res.exit_code == 1
    assert "未能刷新匯總" in res.output and "收件情況已寫入" in res.output
    tabs, _ = sheets(master)
    names = [n for n, _ in tabs]
    assert layout.name("receipts") in names and layout.name("monthly") not in names
    assert len(ledger_rows(master)["submissions"]) == len(list(returns["2020-08"].iterdir()))


def test_cli_rollup_flag(made, tmp_path):
    master, returns = fresh(made, tmp_path, "cli")
    bulletin = tmp_path / "通報.txt"
    res = CliRunner().invoke(main, ["collect", str(master), str(returns["2020-08"]), "--month", "2020-08",
                                    "--rollup", "--bulletin", str(bulletin)])
    assert res.exit_code == 0, res.output
    assert "已匯總" in res.output and "收件情況已寫入" in res.output
    assert "預評估通報" in bulletin.read_text(encoding="utf-8")
    names = [n for n, _ in sheets(master)[0]]
    assert layout.name("monthly") in names and layout.name("receipts") in names
    res = CliRunner().invoke(main, ["collect", str(master), str(returns["2020-08"]), "--month", "2020-08",
                                    "--bulletin", str(bulletin)])
    assert res.exit_code != 0 and "--rollup" in res.output
    # `rollup --bulletin X.docx`: the same 通報 as a GB/T 9704 Word document (docx_gbt)
    word = tmp_path / "通報.docx"
    res = CliRunner().invoke(main, ["rollup", str(master), "--month", "2020-08", "--bulletin", str(word)])
    assert res.exit_code == 0, res.output
    d = docx.Document(str(word))
    text = bulletin.read_text(encoding="utf-8")
    kinds = {p.text: p.style.name for p in d.paragraphs if p.text}
    title = next(t for t, k in kinds.items() if k == style_name("title"))
    assert "預評估通報" in title and title in text
    assert [t for t, k in kinds.items() if k == style_name("h1")] == [
        ln for ln in text.split("\n") if ln[:2] in ("一、", "二、", "三、", "四、", "五、", "六、")]
    assert d.paragraphs[-1].style.name == style_name("date") and d.paragraphs[-1].text in text


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_worker_processes_judge_as_one_process_does(made, tmp_path, monkeypatch, method):
    cfg = load_config()
    month = "2020-08"
    a, returns = fresh(made, tmp_path, "serial")
    b, _ = fresh(made, tmp_path, method)
    rep_a = collect(a, [returns[month]], month, cfg, now=NOW[month], workers=1)
    assert rep_a.timings["pool"] == "serial"
    monkeypatch.setattr(collect_mod, "_process_method", lambda n, w: method)
    rep_b = collect(b, [returns[month]], month, cfg, now=NOW[month], workers=2)
    assert rep_b.timings["pool"] == "process"
    assert same_report(rep_a, a) == same_report(rep_b, b)
    assert ledger_rows(a) == ledger_rows(b)
    archive = collect_mod.archive_dir_for(b, cfg)
    assert sorted(p.name for p in archive.rglob("*.xls*")) == \
        sorted(p.name for p in collect_mod.archive_dir_for(a, cfg).rglob("*.xls*"))


def test_pool_is_not_used_where_it_cannot_pay_or_start(monkeypatch):
    assert collect_mod._process_method(10, 2) is None                      # too few files
    assert collect_mod._process_method(100000, 1) is None                  # one worker asked for
    monkeypatch.setenv("PUTUO_XL_NO_PROCESSES", "1")
    assert collect_mod._process_method(100000, 2) is None
    monkeypatch.delenv("PUTUO_XL_NO_PROCESSES")
    import sys
    monkeypatch.setattr(sys, "executable", r"C:\Program Files\Microsoft Office\EXCEL.EXE")
    import threading
    monkeypatch.setattr(threading, "active_count", lambda: 3)             # a threaded host
    assert collect_mod._process_method(100000, 2) is None


def _cells(path, name):
    """Every cell of a sheet with what a user sees of it: value, number format, font, fill,
    border, alignment; and the row heights."""
    import openpyxl
    wb = openpyxl.load_workbook(path)
    ws = wb[name]
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None and not c.has_style:
                continue
            cells[c.coordinate] = (c.value, c.number_format, c.font.name, c.font.b, c.font.sz,
                                   c.fill.fgColor.rgb if c.fill and c.fill.fill_type else None,
                                   c.border.left.style, c.border.left.color.rgb if c.border.left.color else None,
                                   c.alignment.horizontal, c.alignment.vertical, c.alignment.wrap_text)
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
    wb.close()
    return cells, heights


def test_table_bodies_written_as_xml_look_as_xlsxwriter_writes_them(made, tmp_path):
    """The big tables' rows (月度匯總, 預評估, 收件情況) go into the master as XML the surgery
    does not parse: every cell must carry the same value and look as xlsxwriter writes it."""
    from putuo_xl.collect.receipts import build_sheet_workbook, sheet_name
    from putuo_xl.rollup.render import render_standalone
    from putuo_xl.workbook.surgery import replace_sheets
    cfg = load_config()
    month = "2020-08"
    master, returns = fresh(made, tmp_path, "bodies")
    run = collect_and_rollup(master, [returns[month]], month, cfg, now=NOW[month])
    alone = tmp_path / "alone.xlsx"
    render_standalone(run.rollup.rollup, alone)            # all by xlsxwriter
    receipts = tmp_path / "receipts.xlsx"
    build_sheet_workbook(run.report, receipts)
    for key in ("monthly", "score"):
        name = layout.name(key)
        got, want = _cells(master, name), _cells(alone, name)
        assert len(got[0]) > 500 and got == want, name
    name = sheet_name(run.report.script)
    one = tmp_path / "one.xlsx"
    replace_sheets(master, receipts, sheets=[name], output=one)
    assert _cells(master, name) == _cells(one, name)


def test_row_xml_and_rows_splice(tmp_path):
    """xlsxsurgery's rows= fast path: rows land between the source's own rows, text is escaped
    as Excel escapes it, the dimension covers them; a clash is refused."""
    import openpyxl
    import xlsxwriter
    from putuo_xl.workbook.surgery import replace_sheets, row_xml
    target = tmp_path / "t.xlsx"
    openpyxl.Workbook().save(target)
    src = tmp_path / "s.xlsx"
    wb = xlsxwriter.Workbook(str(src), {"constant_memory": True})
    ws = wb.add_worksheet("表")
    bold = wb.add_format({"bold": True, "bg_color": "#FFC7CE"})
    ws.write_string(0, 0, "標題", bold)
    ws.write_number(4, 0, 99, bold)
    wb.close()

    def writer(style):
        s = style(bold.xf_index)
        return [(2, row_xml(2, [("=1+1 & <b>", s), (" 前後空格 ", s), (None, s)], 30)),
                (3, row_xml(3, [("a\x07b_x0041_", s), (1.5, s), (True, s)])),
                (9, row_xml(9, [(7, s)]))]
    replace_sheets(target, src, sheets=["表"], output=tmp_path / "o.xlsx", rows={"表": writer})
    # calamine reads Excel's _xHHHH_ escapes back (openpyxl leaves them); a bool is a number
    got = pc.CalamineWorkbook.from_path(str(tmp_path / "o.xlsx")).get_sheet_by_name("表").to_python()
    assert [r[:3] for r in got[:5]] == [
        ["標題", "", ""], ["=1+1 & <b>", " 前後空格 ", ""], ["a\x07b_x0041_", 1.5, 1.0],
        ["", "", ""], [99.0, "", ""]]
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx")["表"]
    assert ws["A2"].data_type == "s"                       # text stays text, never a formula
    assert ws["A9"].value == 7 and ws["A2"].font.b and ws["C2"].fill.fgColor.rgb.endswith("FFC7CE")
    assert ws.row_dimensions[2].height == 30 and ws.max_row == 9
    with pytest.raises(ValueError, match="repeat rows"):
        replace_sheets(target, src, sheets=["表"], output=tmp_path / "x.xlsx",
                       rows={"表": lambda style: [(5, row_xml(5, [(1, 0)]))]})
    with pytest.raises(ValueError):
        replace_sheets(target, src, sheets=["表"], output=tmp_path / "x.xlsx",
                       rows={"別的": lambda style: []})


def test_receipts_body_as_xml_in_collect_alone(made, tmp_path, monkeypatch):
    """collect without --rollup: a long 收件情況 (here: any length) goes in with its rows as
    XML, and looks exactly as the one xlsxwriter writes whole."""
    import putuo_xl.collect.receipts as receipts
    from putuo_xl.collect.receipts import sheet_name
    cfg = load_config()
    month = "2020-08"
    a, returns = fresh(made, tmp_path, "whole")
    b, _ = fresh(made, tmp_path, "rows")
    collect(a, [returns[month]], month, cfg, now=NOW[month])
    monkeypatch.setattr(receipts, "BODY_MIN_ROWS", 0)
    collect(b, [returns[month]], month, cfg, now=NOW[month])
    name = sheet_name("traditional")
    got, want = _cells(b, name), _cells(a, name)
    assert len(got[0]) > 300 and got == want
    assert sheets(a) == sheets(b)
