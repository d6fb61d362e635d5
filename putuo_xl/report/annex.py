"""The 年度報告's annex as a workbook for 公開 (xlsxwriter): the two tables of the report's annexes
— every task with its lead unit and year-end status, every target with its last actual — and
the figures behind part 一 (by section, by month). Laid out with the rollup's sheet layout
(rollup.render: title, note, header repeated on every page, A4 landscape, page numbers, status
colours with a legend), so it looks like the 工作報表 sheets of the master."""
from __future__ import annotations

from pathlib import Path

from putuo_xl import layout
from putuo_xl.report.document import TARGET_COLUMNS, month_end
from putuo_xl.report.figures import YearFigures
from putuo_xl.rollup.render import Col, Grid, _head, sheet_layout
from putuo_xl.rollup.rules import LIGHT_COLORS, LIGHTS, MET, NO_VALUE, NOT_MET, NOT_REPORTED
from putuo_xl.workbook.sheetlayout import WORKBOOK_OPTIONS, Formats, write_xlsx

SHEETS = ("任務完成情況", "考評指標完成情況", "分部分統計", "月度報送情況")


class _Look:
    """What the rollup's layout asks of its figures: the script, whether they are sample data."""

    def __init__(self, fig: YearFigures):
        self.script = fig.script
        self.sample = fig.sample
        self.settings = {"full_marks": 100}

    def t(self, s: str) -> str:
        from putuo_xl.text import in_script
        return in_script(s, self.script)


def _grid(fig: YearFigures, key: str, number: str, cols: list[Col]) -> Grid:
    title = f"{fig.district}{fig.year}年法治政府建設年度報告·附表{number} {key}"
    return Grid(key, title, layout.month_label(fig.last), cols)


def _subtitle(fig: YearFigures, what: str) -> str:
    return (f"統計截至{month_end(fig.last)}(共{len(fig.months)}個月)。{what}"
            f"本表由 putuo-xl 根據台賬生成,與年度報告的附件一致。")


def _table(g: Grid, look: _Look, rows: list[list]) -> None:
    from putuo_xl.text import in_script
    hdr = g.add([in_script(c.name, look.script) for c in g.cols], "header")
    g.header_rows.append(hdr)
    g.repeat_row = hdr
    g.freeze = (hdr + 1, 0)
    for r in rows:
        g.add(r, "data")
    last = len(g.rows) - 1
    if last > hdr:
        g.autofilter = (hdr, 0, last, g.width - 1)
        for ci, c in enumerate(g.cols):
            if c.colors:
                g.cond_ranges.append((hdr + 1, ci, last, ci,
                                      {in_script(k, look.script): v for k, v in c.colors.items()}))


def grids(fig: YearFigures) -> list[Grid]:
    look = _Look(fig)
    st_colors = dict(fig.status_colors)
    light_colors = {LIGHTS[k]: LIGHT_COLORS[k] for k in LIGHTS}
    out = []
    g = _grid(fig, SHEETS[0], "一", [
        Col("編號", 7, "center"), Col("部分", 16, "wrap"), Col("工作任務", 52, "wrap"),
        Col("牽頭單位", 16, "wrap"), Col("完成時限", 11, "center"),
        Col("年末狀態", 9, "center", colors=st_colors), Col("完成進度", 8, "pct"),
        Col("預警", 6, "center", colors=light_colors), Col("說明", 36, "wrap", ours=True)])
    _head(g, look, _subtitle(fig, "逐項列出工作要點的任務和截至年末的總體狀態。"),
          ["年末狀態取牽頭單位截至年末最近一次填報的狀態(多個牽頭單位時取最差的;沒有牽頭單位的任務按"
           "各責任單位的比例),與工作報表「任務進展」表的總體狀態相同。"],
          [(k, v) for k, v in st_colors.items()])
    titles = {s.id: f"{s.number}、{s.title}" for s in fig.sections}
    _table(g, look, [[t.id, titles.get(t.section_id, ""), t.text, t.lead, t.deadline, t.status,
                      t.progress, t.light, t.note] for t in fig.tasks])
    out.append(g)

    colors = {MET: "C6EFCE", NOT_MET: "FFC7CE", NO_VALUE: "FFEB9C"}
    g = _grid(fig, SHEETS[1], "二", [
        Col(TARGET_COLUMNS[0], 9, "center"), Col("任務編號", 7, "center"), Col(TARGET_COLUMNS[1], 30, "wrap"),
        Col(TARGET_COLUMNS[2], 16, "wrap"), Col("目標值", 8, "num"), Col("計量單位", 8, "center"),
        Col(TARGET_COLUMNS[3], 9, "num"), Col(TARGET_COLUMNS[4], 16), Col(TARGET_COLUMNS[5], 10, "center"),
        Col(TARGET_COLUMNS[6], 8, "center", colors=colors)])
    _head(g, look, _subtitle(fig, "逐項列出考評指標的目標和截至年末最近一次填報的實際值。"),
          ["實際值取牽頭(責任)單位最近一次填報的數值,牽頭單位未填時取其他責任單位的;"
           "「不低於」的指標實際值 ≥ 目標值為達標,「不超過」的指標實際值 ≤ 目標值為達標。"],
          [(k, v) for k, v in colors.items()])
    _table(g, look, [[t.id, t.task_id, t.name, t.target, t.value, t.unit, t.actual, t.reporter,
                      layout.month_label(t.month) if t.month else "", t.met] for t in fig.targets])
    out.append(g)

    g = _grid(fig, SHEETS[2], "三", [
        Col("部分", 30, "wrap"), Col("任務數", 7, "int"), Col("已完成", 7, "int"), Col("推進中", 7, "int"),
        Col("未啟動", 7, "int"), Col("滯後", 7, "int"), Col(NOT_REPORTED, 7, "int"), Col("完成率", 8, "pct"),
        Col("考評指標", 8, "int"), Col("已達標", 8, "int")])
    _head(g, look, _subtitle(fig, "按工作要點的部分統計任務的年末狀態和考評指標。"), [], [])
    rows = [[f"{s.number}、{s.title}", len(s.tasks), s.done, s.count("in_progress"),
             s.count("not_started"), s.count("lagging"), s.count(None), s.rate, len(s.targets),
             len(s.targets_met)] for s in fig.sections]
    rows.append([look.t("合計"), len(fig.tasks), fig.count("done"), fig.count("in_progress"),
                 fig.count("not_started"), fig.count("lagging"), fig.count(None), fig.rate,
                 len(fig.targets), fig.targets_met])
    _table(g, look, rows)
    g.kinds[-1] = "total"
    out.append(g)

    g = _grid(fig, SHEETS[3], "四", [
        Col("月份", 12, "center"), Col("應報單位", 8, "int"), Col("按時報送", 8, "int"),
        Col("逾期報送", 8, "int"), Col("未報送", 8, "int"), Col("未到期", 8, "int"),
        Col("按時報送率", 9, "pct")])
    _head(g, look, _subtitle(fig, "逐月列出工作報表的報送情況。"),
          ["按時報送率不計尚未到報送截止日期的單位。"], [])
    rows = [[layout.month_label(m.month), m.expected, m.on_time, m.late, m.missing, m.not_due, m.rate]
            for m in fig.reporting]
    rows.append([look.t("合計"), fig.total("expected"), fig.total("on_time"), fig.total("late"),
                 fig.total("missing"), fig.total("not_due"), fig.on_time_rate])
    _table(g, look, rows)
    g.kinds[-1] = "total"
    out.append(g)
    return out


def write_annex(fig: YearFigures, path: str | Path) -> Path:
    """The annex workbook at `path` (atomic)."""
    import xlsxwriter

    from putuo_xl.fileio import AtomicPath
    from putuo_xl.text import in_script
    look = _Look(fig)
    with AtomicPath(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {**WORKBOOK_OPTIONS, "constant_memory": False})
        wb.set_properties({"title": in_script(f"{fig.district}{fig.year}年法治政府建設年度報告附表",
                                              fig.script),
                           "author": "putuo-xl", "comments": f"annual report {fig.year}"})
        fmts = Formats(wb)
        for g in grids(fig):
            name = in_script(g.key, fig.script)
            write_xlsx(wb.add_worksheet(name), sheet_layout(g, look, name), fmts.get)
        wb.close()
    return Path(path)
