"""The ribbon's 刷新匯總 and 導入回報 give the sheets `putuo-xl rollup` and `putuo-xl collect`
give: the actions the remote engine sends back to Excel are replayed on a model of the
workbook's cells (xl_replay) — starting from a master the CLI formatted, or from one without
report sheets — and compared cell by cell with the CLI's file for the same master and ledger:
values at the same addresses, number formats, fonts, fills, merges, conditional formats, column
widths, row heights; old content gone; the 趨勢 charts there."""
from __future__ import annotations

import math
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import xlwings as xw

from putuo_xl import layout
from putuo_xl.collect.run import collect
from putuo_xl.config import load_config
from putuo_xl.demo import run_demo
from putuo_xl.excel import actions
from putuo_xl.excel.payload import actions as acts
from putuo_xl.excel.render import DEFAULT_ROW_HEIGHT, PROPS, chars_to_points, plan_property
from putuo_xl.rollup.run import rollup

from test_excel_flow import settings_rows
from xl_replay import BookState, SheetState, norm_value

MONTHS = ["2020-08", "2020-09"]
REPORTS = [layout.name(k) for k in layout.ROLLUP_SHEETS]
RECEIPTS = layout.name("receipts")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A master rolled up by the CLI for 2020-09 (two months in the ledger), its returns."""
    out = tmp_path_factory.mktemp("ribbon") / "demo"
    run_demo(out, months=MONTHS)
    return out


@pytest.fixture(scope="module")
def cfg():
    return load_config()


def copy_of(demo: Path, where: Path) -> Path:
    shutil.copytree(demo, where)
    return where / "任務分解台賬.xlsx"


def press(tag: str, master: Path, state: BookState, month: str, **settings) -> list[dict]:
    """Press the button `tag` on the book `state` (the master file's path as its name: the
    desktop route) as the Office.js client sends it; replay the answer on `state`."""
    if "設置" not in state.names:
        s = SheetState("設置")
        for r, row in enumerate(settings_rows(month, **settings)):
            for c, v in enumerate(row):
                if v is not None:
                    s.values[(r, c)] = v
        state.sheets.append(s)
    else:
        state["設置"].values[(1, 1)] = month
    act = actions.ACTIONS[tag]
    body = state.payload(str(master), exclude=act.exclude or ())
    book = xw.Book(json=body)
    try:
        getattr(actions, tag)(book)
        done = acts(book)
    finally:
        book.close()
    state.replay(done)
    return done


def cells_differ(cli: SheetState, rib: SheetState, skip=()) -> list:
    """Every difference between two sheets a user would see (empty: the same sheet)."""
    out = []
    keys = set(cli.values) | set(rib.values)
    for k in sorted(keys):
        if k in skip:
            continue
        a, b = norm_value(cli.values.get(k)), norm_value(rib.values.get(k))
        if isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-14):
            continue        # the file keeps 16 significant digits
        if a != b:
            out.append(("value", k, a, b))
    for k in sorted(set(cli.fmt) | set(rib.fmt)):
        fa, fb = cli.fmt.get(k, {}), rib.fmt.get(k, {})
        if fa.get("fill") != fb.get("fill"):
            out.append(("fill", k, fa.get("fill"), fb.get("fill")))
        if k not in cli.values:
            continue
        for p in ("num_format", "font_name", "font_size", "bold", "align", "wrap"):
            if fa.get(p) not in (None, False) and fa.get(p) != fb.get(p):
                out.append((p, k, fa.get(p), fb.get(p)))
    if cli.gridlines != rib.gridlines:
        out.append(("gridlines", cli.gridlines, rib.gridlines))
    if cli.merges != rib.merges:
        out.append(("merges", sorted(cli.merges ^ rib.merges)))
    if sorted(cli.cond) != sorted(rib.cond):
        out.append(("cond", sorted(set(cli.cond) ^ set(rib.cond))))
    for c, w in cli.widths.items():
        if abs(rib.widths.get(c, -1) - w) > 0.01:
            out.append(("width", c, w, rib.widths.get(c)))
    nrows = max((r for r, _ in cli.values), default=0) + 1
    for r in range(nrows):
        a, b = cli.heights.get(r, DEFAULT_ROW_HEIGHT), rib.heights.get(r, DEFAULT_ROW_HEIGHT)
        if abs(a - b) > 0.01:
            out.append(("height", r, a, b))
    return out


def assert_same_reports(cli: BookState, rib: BookState) -> None:
    for name in REPORTS:
        d = cells_differ(cli[name], rib[name])
        assert not d, f"{name}: {d[:8]}"
        assert rib[name].visible
    for name in (layout.STATUS_SHEET, layout.ACTUALS_SHEET):
        assert _data(rib[name]) == _data(cli[name])
        assert not rib[name].visible
    # the report sheets in the CLI's order
    order = [n for n in rib.names if n in REPORTS]
    assert order == [n for n in cli.names if n in REPORTS]


def _data(sheet: SheetState) -> list[list]:
    """A hidden data sheet's values; a date is the number Excel keeps (the remote engine sends
    "2020-09-10", which Excel turns into that date; the CLI writes its serial number)."""
    def one(v):
        v = norm_value(v)
        if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            return (date.fromisoformat(v) - date(1899, 12, 30)).days
        return v
    return [[one(v) for v in row] for row in sheet.matrix()]


def assert_trend_charts(cli: BookState, rib: BookState) -> None:
    """趨勢 has the CLI's charts, each plotting a block of _charts that holds the rows the CLI
    chart plots (the same values as 趨勢's rows)."""
    trend = layout.name("trend")
    want = cli[trend].charts
    got = rib[trend].charts
    assert len(got) == len(want) >= 2
    data = rib[layout.CHARTS_SHEET]
    assert not data.visible
    block = data.matrix()
    tm = cli[trend].matrix()
    rows_by_name: dict[str, list] = {}
    for row in tm:
        if row and isinstance(row[0], str):
            rows_by_name.setdefault(row[0], []).append(row)
    for ch, w in zip(got, want):
        assert ch["source_sheet"] == layout.CHARTS_SHEET and ch["plot_by"] == "Rows"
        m = re.fullmatch(r"\$?A\$?(\d+):\$?([A-Z]+)\$?(\d+)", ch["source"])
        r0, r1 = int(m.group(1)) - 1, int(m.group(3)) - 1
        assert r1 - r0 == w["series"]                       # a header row, then one per series
        for row in block[r0 + 1:r1 + 1]:
            name = row[0]
            if name in rows_by_name:        # a row of 趨勢 by that name (an indicator is named in 二 and 三)
                got_values = [norm_value(v) for v in row[1:]]
                assert any(got_values == pytest.approx([norm_value(v) for v in src[2:2 + len(row) - 1]],
                                                       rel=1e-14) for src in rows_by_name[name]), name
        assert ch["title"] and ch["width"] > 300


def test_rollup_on_a_cli_master_for_a_shorter_month(demo, cfg, tmp_path):
    """The master the CLI rolled up for September; the ribbon refreshes August (one month, fewer
    rows): every sheet ends up as the CLI writes it for August, nothing of September left —
    values, fills, conditional-format ranges, merges, charts."""
    master = copy_of(demo, tmp_path / "ribbon")
    state = BookState.from_xlsx(master)
    before = state[layout.name("monthly")]
    assert before.cond and max(r1 for (_r0, _c0, r1, *_x) in before.cond) > 60
    done = press("refresh_rollup", master, state, "2020-08")
    cli_master = copy_of(demo, tmp_path / "cli")
    rollup(cli_master, "2020-08", cfg)
    cli = BookState.from_xlsx(cli_master)
    assert_same_reports(cli, state)
    assert_trend_charts(cli, state)
    trend_pos = [s.name for s in BookState.from_xlsx(master).sheets].index(layout.name("trend"))
    assert sum(1 for a in done if a["func"] == "deleteChart" and a["sheet_position"] == trend_pos) == 3
    # batched: one value block per sheet, formats on rectangles (a few dozen per sheet)
    names = BookState.from_xlsx(master).names
    fmt = ("setFontProperty", "setRangeColor", "setNumberFormat", "setHorizontalAlignment",
           "setVerticalAlignment", "setWrapText", "setBorderProperty")
    for name in REPORTS:
        pos = names.index(name)
        mine = [a for a in done if a["sheet_position"] == pos]
        # 趨勢 is laid out for print: three bordered tables with group rows, every row's height
        trend = name == layout.name("trend")
        assert sum(1 for a in mine if a["func"] == "setValues") == 1
        assert sum(1 for a in mine if a["func"] in fmt) < (120 if trend else 80), name
        assert len(mine) < (200 if trend else 160), name


def test_rollup_on_a_master_without_report_sheets_then_a_longer_month(demo, cfg, tmp_path):
    """A master whose report sheets were never written: the ribbon adds them formatted (August),
    then a second refresh for September (two months, more rows) gives the CLI's September."""
    master = copy_of(demo, tmp_path / "ribbon")
    state = BookState.from_xlsx(master)
    state.sheets = [s for s in state.sheets if s.name not in REPORTS]
    press("refresh_rollup", master, state, "2020-08")
    august = BookState.from_xlsx(copy_of(demo, tmp_path / "cli-08"))
    rollup(tmp_path / "cli-08" / "任務分解台賬.xlsx", "2020-08", cfg)
    august = BookState.from_xlsx(tmp_path / "cli-08" / "任務分解台賬.xlsx")
    assert_same_reports(august, state)
    # new sheets go where the CLI puts them: before the hidden data sheets
    assert state.names.index(REPORTS[-1]) < state.names.index(layout.META_SHEET)
    press("refresh_rollup", master, state, "2020-09")
    cli_master = copy_of(demo, tmp_path / "cli")
    rollup(cli_master, "2020-09", cfg)
    cli = BookState.from_xlsx(cli_master)
    assert_same_reports(cli, state)
    assert_trend_charts(cli, state)


def _receipts_skip(sheet: SheetState) -> set:
    """The summary line says when it was written: the one cell two runs cannot share."""
    return {(1, 0)}


def test_collect_on_a_cli_master_gives_the_cli_sheet(demo, cfg, tmp_path):
    """導入回報 for August on the master whose 收件情況 the CLI wrote for September (more rows):
    the sheet is the CLI's August 收件情況 — header on row 5, the legend's colours on row 3."""
    master = copy_of(demo, tmp_path / "ribbon")
    returns = next(master.parent.glob("2020-08_*"))
    state = BookState.from_xlsx(master)
    old_rows = len(state[RECEIPTS].matrix())
    press("collect_returns", master, state, "2020-08", returns_dir=str(returns))
    cli_master = copy_of(demo, tmp_path / "cli")
    collect(cli_master, [next(cli_master.parent.glob("2020-08_*"))], "2020-08", cfg)
    cli = BookState.from_xlsx(cli_master)
    got, want = state[RECEIPTS], cli[RECEIPTS]
    d = cells_differ(want, got, skip=_receipts_skip(want))
    assert not d, d[:8]
    assert str(got.values[(1, 0)]).split("更新於")[0] == str(want.values[(1, 0)]).split("更新於")[0]
    assert got.values[(4, 0)] == "單位" and got.fmt[(4, 0)]["fill"] == "#DDEBF7"
    assert {got.fmt.get((2, c), {}).get("fill") for c in range(1, 10)} - {None} == \
        {"#C6EFCE", "#FFEB9C", "#FFC7CE", "#EDEDED"}
    assert len(got.matrix()) < old_rows or len(got.matrix()) == len(want.matrix())
    assert got.freeze == "A1:A5"


def test_collect_adds_a_formatted_sheet(demo, cfg, tmp_path):
    """No 收件情況 yet: 導入回報 adds it formatted, where the CLI adds it (before the report
    sheets)."""
    master = copy_of(demo, tmp_path / "ribbon")
    returns = next(master.parent.glob("2020-09_*"))
    state = BookState.from_xlsx(master)
    state.sheets = [s for s in state.sheets if s.name != RECEIPTS]
    press("collect_returns", master, state, "2020-09", returns_dir=str(returns))
    cli_master = copy_of(demo, tmp_path / "cli")
    collect(cli_master, [next(cli_master.parent.glob("2020-09_*"))], "2020-09", cfg)
    want = BookState.from_xlsx(cli_master)[RECEIPTS]
    d = cells_differ(want, state[RECEIPTS], skip=_receipts_skip(want))
    assert not d, d[:8]
    assert state.names.index(RECEIPTS) == state.names.index(REPORTS[0]) - 1


def test_properties_cover_every_styled_cell(demo, cfg):
    """The rectangles the writer sets a property on give every styled cell its style's value."""
    from putuo_xl.ledger.store import Ledger
    from putuo_xl.rollup.compute import compute_rollup
    from putuo_xl.rollup.reading import _plan_for
    from putuo_xl.excel.render import _row_keys, _value

    master = demo / "任務分解台賬.xlsx"
    with Ledger(next(demo.glob("*.ledger.sqlite"))) as led:
        r = compute_rollup(led, _plan_for(master, cfg), cfg, "2020-09")
    for lay in r.sheet_layouts().values():
        rows = _row_keys(lay)
        for prop in PROPS:
            got = {}
            for r0, c0, r1, c1, v in plan_property(lay, prop, rows):
                for i in range(r0, r1 + 1):
                    for j in range(c0, c1 + 1):
                        got[(i, j)] = v
            for i, keys in enumerate(rows):
                for j, k in enumerate(keys or ()):
                    if k is not None:
                        assert got.get((i, j), _cleared(prop)) == _value(lay.formats[k], prop), \
                            (lay.name, prop, i, j)
    assert chars_to_points(10) == 56.25


def _cleared(prop):
    from putuo_xl.excel.render import CLEARED, _value
    return CLEARED[prop] if CLEARED[prop] is not None else _value({}, prop)


def test_through_a_real_xlwings_server(tmp_path):
    """The Office.js route over HTTP (`putuo-xl serve` on 127.0.0.1): 導入回報 and 刷新匯總 on a
    master built on the server; the answers, replayed, equal what the CLI writes for a copy of
    the same project folder."""
    from putuo_xl.excel.context import PROJECT_META_KEY

    from test_excel_flow import MONTH, fill_returns
    from test_excel_server import ServerMaster, running_server

    cfg = load_config()
    (tmp_path / "data").mkdir()
    with running_server(tmp_path / "data") as server:
        sm = ServerMaster(server)
        sm.run("make_forms")
        returns = sm.folder / "回報" / MONTH
        fill_returns(sm.folder / "2020-08_月報", returns,
                     {"區司法局": "已完成", "區財政局": "推進中", "區教育局": "滯後"})
        cli_dir = tmp_path / "cli"
        shutil.copytree(sm.folder, cli_dir)
        state = BookState.from_xlsx(sm.master)
        meta = state[layout.META_SHEET]
        meta.values[(max(r for r, _ in meta.values) + 1, 0)] = PROJECT_META_KEY
        meta.values[(max(r for r, _ in meta.values), 1)] = sm.key
        set_rows = settings_rows(MONTH)
        s = SheetState("設置")
        s.values = {(r, c): v for r, row in enumerate(set_rows) for c, v in enumerate(row) if v is not None}
        state.sheets.append(s)

        def post(script):
            m = sm.meta[script]
            body = state.payload(sm.name, exclude=(m.get("exclude") or "").split(","))
            r = server.post(f"/xlwings/custom-scripts-call/{script}", json=body)
            assert r.status_code == 200, r.text
            state.replay(r.json()["actions"])

        post("collect_returns")
        post("refresh_rollup")
    cli_master = cli_dir / sm.master.name
    collect(cli_master, [cli_dir / "回報" / MONTH], MONTH, cfg)
    rollup(cli_master, MONTH, cfg)
    cli = BookState.from_xlsx(cli_master)
    d = cells_differ(cli[RECEIPTS], state[RECEIPTS], skip={(1, 0)})
    assert not d, d[:8]
    assert_same_reports(cli, state)
    # the 趨勢 charts came inside the sheet (one .xlsx): the CLI's charts, series for series
    trend = layout.name("trend")
    assert [c["series"] for c in state[trend].charts] == [c["series"] for c in cli[trend].charts]
    assert len(cli[trend].charts) >= 2


def test_a_long_table_of_varying_row_heights_is_fitted_by_excel(demo, cfg, monkeypatch):
    """Past MAX_HEIGHT_ACTIONS row-height changes, the table's rows are fitted by Excel in one
    action; title, notes and header keep the layout's heights."""
    from putuo_xl.excel import render
    from putuo_xl.excel.book import BookIO
    from putuo_xl.excel.payload import book_payload
    from putuo_xl.ledger.store import Ledger
    from putuo_xl.rollup.compute import compute_rollup
    from putuo_xl.rollup.reading import _plan_for

    master = demo / "任務分解台賬.xlsx"
    with Ledger(next(demo.glob("*.ledger.sqlite"))) as led:
        r = compute_rollup(led, _plan_for(master, cfg), cfg, "2020-09")
    lay = r.sheet_layouts()[layout.name("progress")]
    body = {id(t) for t in lay.body_styles}
    tall_head = [i for i, h in enumerate(lay.heights) if h and id(lay.styles[i]) not in body]
    monkeypatch.setattr(render, "MAX_HEIGHT_ACTIONS", 5)
    book = xw.Book(json=book_payload({"其他": [["x"]]}))
    try:
        render.write_layout(BookIO(book), lay)
        done = acts(book)
    finally:
        book.close()
    fit = [a for a in done if a["func"] == "setAutofit"]
    assert len(fit) == 1 and fit[0]["args"] == ["rows"]
    first = min(i for i, k in enumerate(lay.styles) if id(k) in body)
    assert fit[0]["start_row"] == first and fit[0]["row_count"] > 100
    heights = [a for a in done if a["func"] == "setRowHeight"]
    assert {a["start_row"] for a in heights} <= set(tall_head) and len(heights) <= len(tall_head)


def test_header_sections_for_desktop_print_settings():
    """The CLI's header/footer codes split into Excel's sections (desktop route's PageSetup)."""
    from putuo_xl.excel.render import header_sections
    h = header_sections('&C&11&"SimHei,Regular"A&&B 報表&R&9&"SimSun,Regular"截至2020年8月')
    assert h == {"L": "", "C": '&11&"SimHei,Regular"A&&B 報表', "R": '&9&"SimSun,Regular"截至2020年8月'}
    assert header_sections("&C第 &P 頁,共 &N 頁") == {"L": "", "C": "第 &P 頁,共 &N 頁", "R": ""}
