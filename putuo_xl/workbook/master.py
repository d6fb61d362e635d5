"""The master workbook (任務分解台賬): the plan as an official reads, prints and edits it.

`build_master(source, output, config)` writes, in the notice's script:
  說明          cover: the document, counts, how to use the workbook, the colour legend
  一、… 六、…   one sheet per section: an Excel table of its tasks; the progress columns are
                formulas over the hidden `_status` sheet the monthly rollup fills
  按單位查看    pick a unit in a dropdown, see all its tasks (formulas over `_plan`)
  責任矩陣      tasks × units: ● lead, ○ co-operating, ◎ jointly responsible, counts per unit
  考評指標      every quantitative target with monthly actuals (formulas over `_actuals`)
  _meta _plan _units _status _actuals   hidden data sheets (layout.py)

Formulas use INDEX/MATCH/COUNTIF only (Excel 2016+, WPS, LibreOffice 7.4).
After `build`, the workbook is the plan's source of truth: `plan_from_workbook` reads it back.
"""
from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from putuo_xl import __version__, layout
from putuo_xl.config import Config, load_config
from putuo_xl.errors import InputError
from putuo_xl.fileio import AtomicPath, ensure_not_open
from putuo_xl.plan.model import Plan
from putuo_xl.plan.labels import (OP_LABELS, co_text, deadline_value, indicators_text,
                                  section_label, subsection_label, truncate)
from putuo_xl.workbook.cells import row_height, section_sheet_names
from putuo_xl.workbook.styles import FormatCache, Styles, load_styles
from putuo_xl.text import in_script
from putuo_xl.plan.assignments import is_joint, lead_label, task_units, unit_assignments

DEFAULT_OUTPUT = "任務分解台賬.xlsx"
GENERATOR = f"putuo-xl {__version__}"
MARKS = {"lead": "●", "co": "○", "responsible": "◎"}

# Section sheet: layout.SECTION_COLUMNS with widths and styles.
SECTION_WIDTHS = [9, 15, 48, 13, 20, 22, 15, 9, 12, 10]   # G: 2020年12月31日 fits (not ####)
SECTION_TITLE_ROW, SECTION_SUB_ROW, SECTION_HEADER_ROW = 0, 1, 2   # 0-based
# 按單位查看
VIEW_UNIT_CELL = "B2"
VIEW_HEADER_ROW = 3          # 0-based: row 4
VIEW_COLUMNS = ["序號", "任務編號", "工作任務", "角色", "牽頭單位", "完成時限", "量化指標",
                "本單位狀態", "完成進度", "最近填報"]
VIEW_WIDTHS = [9, 9, 48, 6, 12, 15, 22, 11, 9, 10]   # A: 「選擇單位」 fits on the printed page
UNITS_NAME = "putuo_units"   # defined name of the unit list (the dropdown's source)


@dataclass
class BuildResult:
    path: Path
    plan: Plan
    sheets: list[str]
    section_sheets: dict[str, str]          # section id -> sheet name
    counts: dict[str, int]
    units_without_tasks: list[str]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    backup: Path | None = None              # the previous file, kept when overwriting


# -- source -------------------------------------------------------------------------------

def load_source(source, cfg: Config) -> Plan:
    """A Plan from a notice path (a 任務分解表 .xlsx too), a plan.yaml/.json, a master .xlsx, or a
    Plan (None = seed)."""
    if isinstance(source, Plan):
        return source
    if source is None:
        from putuo_xl.plan.parser import parse_notice
        return parse_notice(None, cfg)
    p = Path(source)
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        from putuo_xl.plan.planfile import load_plan
        return load_plan(p)
    if suffix in (".xlsx", ".xlsm"):
        from putuo_xl.plan.notice import is_master_workbook
        if not p.exists() or is_master_workbook(p):
            from putuo_xl.workbook.readback import plan_from_workbook
            return plan_from_workbook(p, cfg)
        # a 任務分解表 kept as a spreadsheet is read like a notice
    if not p.exists():
        raise InputError("找不到文件,請檢查路徑。", file=str(p))
    from putuo_xl.plan.parser import parse_notice
    return parse_notice(p, cfg)


def _is_notice_or_plan_file(p: Path) -> bool:
    """A notice, a task table or a plan file (not a master workbook read back)."""
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        from putuo_xl.plan.notice import is_master_workbook
        return not is_master_workbook(p)
    return True


def default_output(plan: Plan, folder: str | Path | None = None) -> Path:
    return Path(folder or Path.cwd()) / in_script(DEFAULT_OUTPUT, plan.script)


# -- entry point ----------------------------------------------------------------------------

def build_master(source=None, output: str | Path | None = None, config: Config | None = None,
                 styles: Styles | None = None, overwrite: bool = False,
                 backup: bool = True, meta: dict[str, str] | None = None,
                 check_district: bool = True) -> BuildResult:
    """Write the master workbook for `source` (see load_source) to `output` (atomically).
    `meta`: more key/value rows for the hidden _meta sheet (the server's project key).

    An existing `output` is the official's working copy (edits, collected returns, rollup
    sheets): it is refused unless `overwrite`, and then kept beside it as
    `<name>.bak-YYYYmmdd-HHMMSS.xlsx` (`BuildResult.backup`) unless `backup` is False.

    A notice (or plan file) of another district than the config's is refused before anything is
    written, with how to draft that district's config (`check_district=False` builds anyway)."""
    t0 = time.perf_counter()
    cfg = config or load_config()
    plan = load_source(source, cfg)
    if check_district and isinstance(source, (str, Path)) and _is_notice_or_plan_file(Path(source)):
        # another district's notice with this district's config: said before anything is written
        from putuo_xl.plan.configdraft import config_mismatch
        mismatch = config_mismatch(plan, cfg)
        if mismatch:
            raise InputError(mismatch, file=plan.source or str(source), code="config-mismatch",
                             script=plan.script)
    if not plan.tasks():
        raise InputError(in_script("計劃中沒有任何任務,無法生成台賬。請先用 putuo-xl parse 檢查通知的分解結果。",
                                   plan.script), file=plan.source, script=plan.script)
    out = Path(output) if output else default_output(plan)
    if out.suffix.lower() != ".xlsx":
        raise InputError(in_script("台賬文件名應以 .xlsx 結尾。", plan.script), file=str(out),
                         script=plan.script)
    ensure_not_open(out)
    if out.exists() and not overwrite:
        raise InputError(in_script("台賬文件已經存在,其中可能有您修改過的任務、收集的月報和匯總,"
                                   "不會覆蓋。要把修改後的台賬更新為最新格式,請用 putuo-xl build --refresh 台賬文件;"
                                   "確實要重新生成,請加 --force(原文件會另存為備份),或用 -o 指定新的文件名。",
                                   plan.script), file=str(out), code="master-exists", script=plan.script)
    st = styles or load_styles(cfg)
    saved = None
    with AtomicPath(out) as tmp:
        writer = _MasterWriter(plan, cfg, st, tmp)
        writer.extra_meta = dict(meta or {})
        writer.write()
        if out.exists() and backup:
            saved = backup_path(out)
            shutil.copy2(out, saved)
    return BuildResult(path=out, plan=plan, sheets=writer.sheet_order,
                       section_sheets=writer.section_sheets, counts=writer.counts,
                       units_without_tasks=writer.idle_units,
                       seconds=time.perf_counter() - t0, warnings=list(plan.warnings) + _group_warnings(plan, cfg),
                       backup=saved)


def _group_warnings(plan: Plan, cfg: Config) -> list[str]:
    """Groups the plan names that give no unit a form: not in the config, or without members."""
    out: list[str] = []
    seen: dict[str, list[str]] = {}
    for t in plan.tasks():
        for u in t.units:
            if u.group and (not u.canonical or not cfg.expand(u.canonical)):
                seen.setdefault(u.canonical or u.name, []).append(t.id)
    for name, ids in seen.items():
        where = "、".join(dict.fromkeys(ids[:5])) + (" 等" if len(ids) > 5 else "")
        why = "沒有成員" if cfg.resolve(name) else "不在配置文件中"
        out.append(in_script(f"單位組「{name}」{why},沒有為它的單位生成月報(任務 {where})。"
                             f"請在 config.yaml 的 groups 中列出它的成員(members)。", plan.script))
    return out


def backup_path(path: Path, now: datetime | None = None) -> Path:
    """`任務分解台賬.xlsx` → `任務分解台賬.bak-20200815-093000.xlsx` beside it (never an existing file)."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    cand = path.with_name(f"{path.stem}.bak-{stamp}{path.suffix}")
    n = 2
    while cand.exists():
        cand = path.with_name(f"{path.stem}.bak-{stamp}-{n}{path.suffix}")
        n += 1
    return cand


def keep_earlier(path: str | Path) -> Path | None:
    """An earlier file at `path` (an office may have edited it) kept as name.bak-….ext beside it
    before it is replaced: the copy, or None when there was none. Refused (FileBusyError) while
    the file is open in Excel/Word/WPS."""
    path = Path(path)
    if not path.exists():
        return None
    ensure_not_open(path)
    dest = backup_path(path)
    shutil.copy2(path, dest)
    return dest


def _esc_hf(text: str) -> str:
    """Header/footer text: a literal & is written &&."""
    return text.replace("&", "&&")


def plan_year(plan: Plan) -> int:
    if plan.year:
        return plan.year
    for d in (plan.default_deadline, plan.date):
        if d:
            return int(d[:4])
    return datetime.now().year


def report_months(plan: Plan) -> list[str]:
    """The months of the plan year the indicator sheet has columns for: from the month the
    notice was published (when it is in the plan year) to December."""
    year = plan_year(plan)
    start = 1
    if plan.date and plan.date[:4] == str(year):
        start = int(plan.date[5:7])
    return [f"{year}-{m:02d}" for m in range(start, 13)]


class _MasterWriter:
    def __init__(self, plan: Plan, cfg: Config, styles: Styles, path, selected_unit: str | None = None):
        # path: a file path, or a BytesIO (views.refresh_views builds in memory)
        self.plan, self.cfg, self.styles, self.path = plan, cfg, styles, path
        self.selected_unit = selected_unit      # the unit the view opens with (canonical name)
        self.extra_meta: dict[str, str] = {}
        self.script = plan.script
        self.T = lambda s: in_script(s, self.script)
        self.assign = unit_assignments(plan, cfg)
        self.units = list(self.assign)
        self.idle_units = [u for u in cfg.units if u not in self.assign]
        reserved = {layout.name(k, self.script) for k in layout.SHEETS}
        reserved |= {layout.META_SHEET, layout.PLAN_SHEET, layout.STATUS_SHEET,
                     layout.ACTUALS_SHEET, layout.UNITS_SHEET, layout.TASKS_SHEET}
        self.section_sheets = section_sheet_names(plan, reserved)
        self.sheet_order: list[str] = []
        self.tasks = plan.tasks()
        self.sub_of = plan.subsection_of()
        self.section_of = {t.id: s for s in plan.sections for ss in s.subsections for t in ss.tasks}
        # (sheet, row, column) of the cell each task's warnings are written on (see _section)
        self.task_cells: dict[str, tuple[str, int, int]] = {}
        for sec in plan.sections:
            for i, t in enumerate(t for ss in sec.subsections for t in ss.tasks):
                self.task_cells[t.id] = (self.section_sheets[sec.id], SECTION_HEADER_ROW + 1 + i,
                                         _warning_column(t.warnings))
        self.counts = {
            "sections": len(plan.sections),
            "subsections": sum(len(s.subsections) for s in plan.sections),
            "tasks": len(self.tasks),
            "recurring": sum(1 for t in self.tasks if t.recurring),
            "indicators": sum(len(t.indicators) for t in self.tasks),
            "units": len(self.units),
            "lead_units": len({a.unit for a_list in self.assign.values() for a in a_list
                               if a.role == "lead"}),
        }

    # -- workbook ------------------------------------------------------------------------
    def write(self) -> None:
        target = self.path if hasattr(self.path, "write") else str(self.path)
        wb = xlsxwriter.Workbook(target, {"in_memory": True, "strings_to_numbers": False,
                                                  "strings_to_formulas": False,
                                                  "strings_to_urls": False})
        self.wb = wb
        self.fmt = FormatCache(wb, self.styles)
        wb.set_properties({"title": self.plan.title + self.T("任務分解台賬"),
                           "subject": self.T("法治政府建設工作要點任務分解"),
                           "author": self.cfg.office or GENERATOR, "company": self.cfg.district,
                           "comments": GENERATOR, "created": datetime.now()})
        # sheet objects first (so cross-sheet links and order are fixed), content after
        ws_readme = self._add(layout.name("readme", self.script))
        ws_sections = {sid: self._add(name) for sid, name in self.section_sheets.items()}
        ws_view = self._add(layout.name("by_unit", self.script))
        ws_matrix = self._add(layout.name("matrix", self.script))
        ws_ind = self._add(layout.name("indicators", self.script))
        hidden = {name: self._add(name) for name in (layout.META_SHEET, layout.PLAN_SHEET,
                                                      layout.TASKS_SHEET, layout.UNITS_SHEET,
                                                      layout.STATUS_SHEET,
                                                      layout.ACTUALS_SHEET)}
        self._readme(ws_readme)
        for sec in self.plan.sections:
            self._section(ws_sections[sec.id], sec)
        self._plan_sheet(hidden[layout.PLAN_SHEET])
        self._tasks_sheet(hidden[layout.TASKS_SHEET])
        self._units_sheet(hidden[layout.UNITS_SHEET])
        self._view(ws_view)
        self._matrix(ws_matrix)
        self._indicators(ws_ind)
        self._meta(hidden[layout.META_SHEET])
        self._header_only(hidden[layout.STATUS_SHEET], layout.STATUS_COLUMNS)
        self._header_only(hidden[layout.ACTUALS_SHEET], layout.ACTUALS_COLUMNS)
        for ws in hidden.values():
            ws.hide()
        ws_readme.activate()
        wb.close()

    def _add(self, name: str):
        self.sheet_order.append(name)
        return self.wb.add_worksheet(name)

    def _page(self, ws, right: str, repeat: tuple[int, int] | None = None, landscape=True):
        font, size = self.styles.font("page_header")
        f = f'&{int(size)}&"{font},Regular"'
        ws.set_paper(9)
        if landscape:
            ws.set_landscape()
        ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.65)
        ws.set_header(f"&L{f}{_esc_hf(self.plan.title)}&R{f}{_esc_hf(right)}", {"margin": 0.3})
        ws.set_footer(f"&C{f}" + self.T("第 &P 頁,共 &N 頁"), {"margin": 0.3})
        if repeat:
            ws.repeat_rows(*repeat)
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()

    def _title(self, ws, text: str, last_col: int, sub: str | None = None, sub_fmt=None):
        ws.set_row(0, 30)
        ws.merge_range(0, 0, 0, last_col, text, self.fmt("title"))
        if sub is not None:
            ws.set_row(1, 20)
            ws.merge_range(1, 0, 1, last_col, sub, sub_fmt or self.fmt("subtitle"))

    # -- 說明 -----------------------------------------------------------------------------
    def _readme(self, ws):
        T, f, plan = self.T, self.fmt, self.plan
        ws.set_column(0, 0, 16)
        ws.set_column(1, 1, 34)
        ws.set_column(2, 5, 11)
        ws.hide_gridlines(2)
        self._title(ws, plan.title, 5, T("任務分解台賬"), sub_fmt=f("subtitle", align="center"))
        row = 3

        def heading(text):
            nonlocal row
            row += 1
            ws.set_row(row, 22)
            ws.merge_range(row, 0, row, 5, text, f("heading"))
            row += 1

        def kv(key, value, fmt="text"):
            nonlocal row
            if value in (None, ""):
                return
            ws.write(row, 0, T(key), f("label", valign="top"))
            ws.merge_range(row, 1, row, 5, value, f(fmt))
            ws.set_row(row, row_height([(value, 78)]))
            row += 1

        heading(T("一、文件信息"))
        kv("文件", plan.notice_title or plan.title)
        kv("發文機關", plan.issuer)
        kv("文號", plan.doc_number)
        kv("發布日期", _cn_date(plan.date))
        kv("總體完成時限", _cn_date(plan.default_deadline))
        kv("來源文件", Path(plan.source).name if plan.source else None)
        kv("生成時間", layout.date_label(datetime.now().strftime("%Y-%m-%d %H:%M")))

        heading(T("二、分解概況"))
        c = self.counts
        kv("章節 / 小節", T(f"{c['sections']} 個章節,{c['subsections']} 個小節"))
        kv("工作任務", T(f"{c['tasks']} 項(其中經常性工作 {c['recurring']} 項)"))
        kv("量化指標", T(f"{c['indicators']} 個(見「{layout.name('indicators', self.script)}」表)"))
        kv("責任單位", T(f"{c['units']} 個單位需要報送月報,其中 {c['lead_units']} 個單位牽頭任務"))
        if self.idle_units:
            kv("沒有任務的單位", UNIT_LIST_SEP.join(self.T(u) for u in self.idle_units))
        row += 1
        heads = [T(h) for h in ("章節", "工作表", "小節", "任務", "指標")]
        ws.write_row(row, 0, heads[:1], f("header"))
        ws.write(row, 1, heads[1], f("header"))
        ws.write_row(row, 2, heads[2:], f("header"))
        ws.write(row, 5, T("牽頭單位數"), f("header"))
        row += 1
        for sec in plan.sections:
            tasks = [t for ss in sec.subsections for t in ss.tasks]
            name = self.section_sheets[sec.id]
            ws.write(row, 0, sec.number, f("cell_center"))
            ws.write_url(row, 1, f"internal:'{name}'!A1", f("link", border=1, border_color="#A6A6A6",
                                                             text_wrap=True),
                         string=name)
            leads = {u.canonical or u.name for t in tasks for u in t.units if u.role == "lead"}
            ws.write_row(row, 2, [len(sec.subsections), len(tasks),
                                  sum(len(t.indicators) for t in tasks), len(leads)],
                         f("cell_center"))
            row += 1
        ws.write(row, 0, T("合計"), f("count"))
        ws.write(row, 1, "", f("count"))
        ws.write_row(row, 2, [c["subsections"], c["tasks"], c["indicators"]], f("count"))
        ws.write(row, 5, "", f("count"))
        row += 1

        heading(T("三、使用方法"))
        steps = [
            f"各章節工作表(「{self.section_sheets[plan.sections[0].id]}」等)是任務分解台賬的正本:"
            f"每行一項任務,任務編號(如 1.2.3)在整個流程中保持不變,月報和匯總都按編號對應。",
            "可以直接在章節表中修改:改正牽頭單位或配合單位、修改任務表述、在表格末尾添加新任務"
            "(填寫一個新的編號,如 1.2.9)、刪除整行任務。單位名稱用頓號「、」分隔,"
            "可以寫單位簡稱、全稱或單位組(如「區級有關單位」「各鎮(街道)」)。",
            "牽頭單位一欄寫「（共同負責）」的任務沒有牽頭單位,由「配合/責任單位」一欄所列的單位"
            "共同負責(責任矩陣中標記 ◎);新增這樣的任務時,牽頭單位一欄留空或寫「（共同負責）」均可。",
            "修改後保存本文件,再在「法治政府」選項卡中按「生成月報」,選擇報告月份:"
            "月報按修改後的台賬生成,每個單位只收到本單位的任務。"
            "(沒有「法治政府」選項卡的電腦,也可在命令行中生成:putuo-xl forms 台賬文件 --month 2020-08。)",
            f"「{layout.name('by_unit', self.script)}」:點擊 B2 單元格的下拉箭頭選擇單位,"
            f"下方列出該單位牽頭、配合的全部任務和本單位最近的填報狀態。",
            f"「{layout.name('matrix', self.script)}」:任務 × 單位一覽,"
            f"● 牽頭、○ 配合、◎ 共同負責,底部是各單位的任務數。",
            f"「{layout.name('indicators', self.script)}」:全部量化指標,按月顯示各單位報送的實際值和達標情況。",
            "「最新狀態」「完成進度」「最近填報」等淺綠底色的列由月報匯總自動填寫,請勿手工修改。",
            "以「_」開頭的隱藏工作表保存程序使用的數據,請勿取消隱藏或修改。",
        ]
        for i, s in enumerate(steps, 1):
            ws.write(row, 0, f"{i}.", f("text", align="right"))
            ws.merge_range(row, 1, row, 5, T(s), f("text"))
            ws.set_row(row, row_height([(s, 78)]))
            row += 1

        heading(T("四、顏色說明"))
        legend = [("good", "綠色", "已完成、按計劃推進、指標達標"),
                  ("risk", "黃色", "臨近完成時限仍未完成,需要關注"),
                  ("bad", "紅色", "滯後、逾期或指標未達標"),
                  ("idle", "灰色", "未啟動或尚未填報")]
        for key, name, meaning in legend:
            ws.write(row, 0, T(name), f(key, **_cell_box()))
            ws.merge_range(row, 1, row, 5, T(meaning), f("text"))
            row += 1
        for st in self.cfg.statuses:
            ws.write(row, 0, self.T(st.name), f(_status_style(st), **_cell_box()))
            ws.merge_range(row, 1, row, 5, T("進展狀態「") + self.T(st.name) + T("」"), f("text"))
            row += 1
        ws.write(row, 0, T("表頭淺綠"), f("header_auto"))
        ws.merge_range(row, 1, row, 5, T("由月報匯總自動填寫的列"), f("text"))
        row += 1

        if plan.warnings:
            heading(T("五、解析提示(請核對原文)"))
            ws.merge_range(row, 0, row, 5, T("任務的提示也寫在該任務所在行的批註中(紅色三角);點擊下面的提示可跳到那一行。"),
                           f("text"))
            row += 1
            for w in plan.warnings:
                ws.merge_range(row, 0, row, 5, "", f("note"))
                m = re.match(r"^任[務务] ([\d.]+)[:：]", w)
                cell = self.task_cells.get(m.group(1)) if m else None
                if cell:
                    sheet, r, c = cell
                    ws.write_url(row, 0, f"internal:'{sheet}'!{xl_col_to_name(c)}{r + 1}", f("note"),
                                 string="· " + w)
                else:
                    ws.write_string(row, 0, "· " + w, f("note"))
                ws.set_row(row, row_height([("· " + w, 94, 9)], size=9, minimum=14))
                row += 1
        self._page(ws, T("說明"), landscape=False)
        if row <= 60:
            ws.fit_to_pages(1, 1)

    # -- section sheets ---------------------------------------------------------------------
    def _section_headers(self) -> list[str]:
        has_roles = any(u.role in ("lead", "co") for t in self.tasks for u in t.units)
        heads = list(layout.SECTION_COLUMNS)
        if not has_roles:
            heads[heads.index("配合單位")] = layout.SECTION_RESPONSIBLE_HEADER
        elif any(is_joint(t) for t in self.tasks):
            # some tasks have no lead: their units, in this column, share the responsibility
            heads[heads.index("配合單位")] = CO_RESPONSIBLE_HEADER
        return [self.T(h) for h in heads]

    def _section(self, ws, sec):
        T, f = self.T, self.fmt
        tasks = [t for ss in sec.subsections for t in ss.tasks]
        heads = self._section_headers()
        n_cols = len(heads)
        last = n_cols - 1
        sub = T(f"{self.plan.title} · 共 {len(tasks)} 項任務") + (
            T(f"、{sum(len(t.indicators) for t in tasks)} 個量化指標")
            if any(t.indicators for t in tasks) else "")
        self._title(ws, section_label(sec), last)
        self._section_legend(ws, sub, any(is_joint(t) for t in tasks), heads)
        for c, w in enumerate(SECTION_WIDTHS):
            ws.set_column(c, c, w)
        hr = SECTION_HEADER_ROW
        first = hr + 1
        n = max(len(tasks), 1)
        auto = {7, 8, 9}
        columns = [{"header": h, "header_format": f("header_auto" if i in auto else "header")}
                   for i, h in enumerate(heads)]
        # progress columns are calculated columns: a row an official inserts gets them too
        key = f"Section{sec.id}[@[{heads[0]}]]"
        S = layout.STATUS_SHEET
        progress = [(7, "B", _lookup_text, "cell_auto"), (8, "C", _lookup_value, "cell_auto_pct"),
                    (9, "D", _lookup_value, "cell_auto_date")]
        for i, col, fn, style in progress:
            columns[i].update({"formula": fn(S, col, key), "format": f(style)})
        ws.add_table(hr, 0, hr + n, last, {"name": f"Section{sec.id}", "columns": columns,
                                           "style": "Table Style Light 1", "autofilter": True})
        # ... written again without the result xlsxwriter caches (0): LibreOffice shows a cached
        # result as it is (0, 0%, 1899-12-30 until the user recalculates), and the rollup
        # changes _status, not these cells. With none, every engine that computes computes them.
        row_key = f"Section{sec.id}[[#This Row],[{heads[0]}]]"    # xlsxwriter's form of the @
        for i, col, fn, style in progress:
            for r in range(first, first + n):
                ws.write_formula(r, i, fn(S, col, row_key), f(style), "")
        ws.set_row(hr, 30)
        status_col = xl_col_to_name(7)
        for i, t in enumerate(tasks):
            r = first + i
            ss = self.sub_of[t.id]
            texts = [t.id, subsection_label(ss), t.text, lead_label(t, self.script, with_units=False),
                     co_text(t, self.script), indicators_text(t)]
            ws.write_string(r, 0, texts[0], f("cell_center"))
            ws.write_string(r, 1, texts[1], f("cell"))
            ws.write_string(r, 2, texts[2], f("cell"))
            ws.write_string(r, 3, texts[3], f("cell_center"))
            ws.write_string(r, 4, texts[4], f("cell"))
            ws.write_string(r, 5, texts[5], f("cell"))
            ws.set_row(r, row_height(zip(texts[1:], SECTION_WIDTHS[1:6])))
            dv = deadline_value(t, self.script)
            if isinstance(dv, datetime):
                ws.write_datetime(r, 6, dv, f("cell_date"))
            else:
                ws.write_string(r, 6, dv, f("cell_center"))
            if t.warnings:
                # what the parser could not decide, on the cell the official corrects
                ws.write_comment(r, _warning_column(t.warnings), "\n".join(t.warnings),
                                 {"author": "putuo-xl", "x_scale": 2.5, "y_scale": 1.2 + 0.4 * len(t.warnings)})
        rng = f"{status_col}{first + 1}:{status_col}{first + n}"
        self._status_cf(ws, rng, f"$A{first + 1}", with_light=True)
        ws.freeze_panes(first, 1)
        self._page(ws, section_label(sec), repeat=(hr, hr))

    def _section_legend(self, ws, sub: str, joint: bool, heads: list[str]) -> None:
        """Row 2 of a section sheet: what it is (left) and, printed with it, what the colours of
        最新狀態 mean and what 「（共同負責）」 in 牽頭單位 means (right)."""
        T, f = self.T, self.fmt
        ws.set_row(SECTION_SUB_ROW, 30 if joint else 20)
        left = sub
        if joint:
            left += "\n" + T("牽頭單位為「（共同負責）」的任務沒有牽頭單位,由「") + heads[4] + T("」所列單位共同負責。")
        ws.merge_range(SECTION_SUB_ROW, 0, SECTION_SUB_ROW, 4, left,
                       f("subtitle", text_wrap=True, font_size=9 if joint else 10))
        ws.write(SECTION_SUB_ROW, 5, heads[7] + T("的顏色:"),
                 f("note", align="right", valign="vcenter", text_wrap=True))
        for c, (key, label) in enumerate(STATUS_LEGEND, 6):
            ws.write(SECTION_SUB_ROW, c, T(label), f(key, **{**_cell_box(), "font_size": 8.5, "text_wrap": True}))

    def _status_cf(self, ws, rng: str, key_cell: str, with_light: bool):
        """Colour a status column: the rollup's light (green/yellow/red) first, then the
        status name with the configured status colours."""
        f = self.fmt
        if with_light:
            light = (f'IFERROR(INDEX({layout.STATUS_SHEET}!$E:$E,'
                     f'MATCH({key_cell},{layout.STATUS_SHEET}!$A:$A,0)),"")')
            for value, key in (("red", "bad"), ("yellow", "risk"), ("green", "good")):
                ws.conditional_format(rng, {"type": "formula", "criteria": f'={light}="{value}"',
                                            "format": f(key), "stop_if_true": True})
        for st in self.cfg.statuses:
            ws.conditional_format(rng, {"type": "cell", "criteria": "==",
                                        "value": f'"{self.T(st.name)}"',
                                        "format": f(_status_style(st))})

    # -- hidden data --------------------------------------------------------------------
    def _plan_sheet(self, ws):
        """_plan: one row per unit × task (groups expanded), grouped by unit; key "unit|n"."""
        ws.write_row(0, 0, layout.PLAN_COLUMNS)
        r = 1
        self.max_per_unit = 0
        self.view_heights: list[float] = []
        heights = {}
        for t in self.tasks:
            heights[t.id] = row_height([(t.text, VIEW_WIDTHS[2]),
                                        (lead_label(t, self.script) or "—", VIEW_WIDTHS[4]),
                                        (indicators_text(t), VIEW_WIDTHS[6])])
        by_pos: list[list[float]] = []
        for unit, items in self.assign.items():
            self.max_per_unit = max(self.max_per_unit, len(items))
            label = self.T(unit)
            for seq, a in enumerate(items, 1):
                ws.write_row(r, 0, [f"{label}|{seq}", label, seq, a.task_id, a.role,
                                    self.T(_role_label(a.role)), self.T(a.via) if a.via else ""])
                if len(by_pos) < seq:
                    by_pos.append([])
                by_pos[seq - 1].append(heights[a.task_id])
                r += 1
        # Picking another unit in the view does not resize rows in any spreadsheet application
        # (a formula's new value never triggers autofit), so each row is as tall as the tallest
        # task any unit has at that position: whichever unit is picked, no text is cut off.
        self.view_heights = [max(p) for p in by_pos]

    def _tasks_sheet(self, ws):
        """_tasks: one row per task, what the section sheets show (the unit view reads it)."""
        ws.write_row(0, 0, layout.TASKS_COLUMNS)
        date_fmt = self.fmt("cell_date", border=0, text_wrap=False)
        for r, t in enumerate(self.tasks, 1):
            sec = self.section_of[t.id]
            ws.write_row(r, 0, [t.id, sec.id, self.section_sheets[sec.id],
                                subsection_label(self.sub_of[t.id]), t.text, lead_label(t, self.script),
                                co_text(t, self.script), indicators_text(t)])
            dv = deadline_value(t, self.script)
            if isinstance(dv, datetime):
                ws.write_datetime(r, 8, dv, date_fmt)
            else:
                ws.write_string(r, 8, dv)
            ws.write_string(r, 9, ",".join(i.id for i in t.indicators))

    def _units_sheet(self, ws):
        ws.write_row(0, 0, layout.UNITS_COLUMNS)
        for r, unit in enumerate(self.units, 1):
            items = self.assign[unit]
            u = self.cfg.units.get(unit)
            ws.write_row(r, 0, [self.T(unit), self.T(u.full_name) if u and u.full_name else "",
                                self.T(u.kind) if u and u.kind else "",
                                sum(a.role == "lead" for a in items),
                                sum(a.role == "co" for a in items),
                                sum(a.role == "responsible" for a in items), len(items), unit])
        n = max(len(self.units), 1)
        self.wb.define_name(UNITS_NAME, f"={layout.UNITS_SHEET}!$A$2:$A${n + 1}")

    def _header_only(self, ws, columns):
        ws.write_row(0, 0, columns)

    def _meta(self, ws):
        plan, cfg = self.plan, self.cfg
        rows = [
            ("kind", layout.MASTER_KIND),
            ("plan_fingerprint", plan.fingerprint()),
            ("config_fingerprint", cfg.fingerprint()),
            ("generator", GENERATOR),
            ("generator_version", __version__),
            ("workbook_version", layout.WORKBOOK_VERSION),
            ("created", datetime.now().astimezone().isoformat(timespec="seconds")),
            ("title", plan.title),
            ("script", plan.script),
            ("year", str(plan_year(plan))),
            ("months", ",".join(report_months(plan))),
            ("district", cfg.district),
            *self.extra_meta.items(),
        ]
        head = {k: v for k, v in plan.to_dict().items() if k not in ("sections", "warnings")}
        rows.append(("plan", json.dumps(head, ensure_ascii=False)))
        rows.append(("plan_warnings", json.dumps(plan.warnings, ensure_ascii=False)))
        for sec in plan.sections:
            rows.append((f"section:{sec.id}", json.dumps(
                {"number": sec.number, "title": sec.title, "sheet": self.section_sheets[sec.id]},
                ensure_ascii=False)))
            for ss in sec.subsections:
                rows.append((f"subsection:{ss.id}", json.dumps(
                    {"number": ss.number, "title": ss.title}, ensure_ascii=False)))
                for t in ss.tasks:
                    d = {k: v for k, v in _task_dict(t).items() if k != "id"}
                    rows.append((f"task:{t.id}", json.dumps(d, ensure_ascii=False)))
        ws.write_row(0, 0, ["key", "value"])
        for r, (k, v) in enumerate(rows, 1):
            ws.write_string(r, 0, k)
            ws.write_string(r, 1, v if v is not None else "")
        ws.set_column(0, 0, 20)
        ws.set_column(1, 1, 60)

    # -- 按單位查看 ---------------------------------------------------------------------------
    def _view(self, ws):
        T, f = self.T, self.fmt
        heads = [T(h) for h in VIEW_COLUMNS]
        last = len(heads) - 1
        helper = len(heads)          # hidden helper columns: the row in _plan, the row in _tasks
        hcol, tcol = xl_col_to_name(helper), xl_col_to_name(helper + 1)
        self._title(ws, T("按單位查看任務"), last)
        for c, w in enumerate(VIEW_WIDTHS):
            ws.set_column(c, c, w)
        ws.set_column(helper, helper + 1, 8, None, {"hidden": True})
        ws.set_row(1, 24)
        ws.write(1, 0, T("選擇單位"), f("label", align="right"))
        default = self._default_unit()
        ws.merge_range(1, 1, 1, 2, self.T(default) if default else "", f("picker"))
        ws.data_validation(VIEW_UNIT_CELL, {
            "validate": "list", "source": f"={UNITS_NAME}",
            "input_title": T("選擇單位"), "input_message": T("點擊右側箭頭,從列表中選擇一個單位。"),
            "error_title": T("不是列表中的單位"),
            "error_message": T("請從下拉列表中選擇單位(列表中是台賬裡有任務的全部單位)。")})
        u = "$B$2"
        P = layout.PLAN_SHEET
        count = f"COUNTIF({P}!$B:$B,{u})"

        def cnt(role):
            return f'COUNTIFS({P}!$B:$B,{u},{P}!$E:$E,"{role}")'
        info = (f'=IF({u}="","{T("請在左側選擇單位")}",IF({count}=0,"{T("該單位在台賬中沒有任務")}",'
                f'"{T("共")} "&{count}&" {T("項:牽頭")} "&{cnt("lead")}&" {T("項,配合")} "&{cnt("co")}'
                f'&" {T("項,共同負責")} "&{cnt("responsible")}&" {T("項")}"))')
        ws.merge_range(1, 3, 1, last, "", f("subtitle"))
        ws.write_formula(1, 3, info, f("subtitle"), "")
        ws.merge_range(2, 0, 2, last, T("選擇單位後,下表列出該單位牽頭、配合和共同負責的全部任務(跨所有章節);"
                                        "「本單位狀態」「完成進度」「最近填報」來自該單位最近一次匯總的月報。"),
                       f("note"))
        ws.set_row(2, 18)
        hr = VIEW_HEADER_ROW
        auto = {7, 8, 9}
        for c, h in enumerate(heads):
            ws.write(hr, c, h, f("header_auto" if c in auto else "header"))
        ws.set_row(hr, 30)
        n = max(self.max_per_unit, 1)
        S, TK = layout.STATUS_SHEET, layout.TASKS_SHEET
        # _status keys units by their config name; the dropdown shows them in the notice's script
        canon = f"${hcol}$2"
        U = layout.UNITS_SHEET
        ws.write_formula(1, helper, f'=IFERROR(INDEX({U}!$H:$H,MATCH({u},{U}!$A:$A,0)),{u})', None,
                         self._default_unit() or "")
        for i in range(n):
            r = hr + 1 + i
            x = r + 1                                # Excel row number
            k = f"${hcol}{x}"
            if i < len(self.view_heights):
                ws.set_row(r, self.view_heights[i])
            j = f"${tcol}{x}"
            ws.write_formula(r, helper, f'=IFERROR(MATCH({u}&"|{i + 1}",{P}!$A:$A,0),"")', None, "")
            ws.write_formula(r, helper + 1, f'=IF({k}="","",IFERROR(MATCH(INDEX({P}!$D:$D,{k}),'
                                            f'{TK}!$A:$A,0),""))', None, "")

            def pick(col, j=j):
                return f'=IF({j}="","",INDEX({TK}!${col}:${col},{j})&"")'
            ws.write_formula(r, 0, f'=IF({k}="","",INDEX({P}!$C:$C,{k}))', f("cell_center"), "")
            ws.write_formula(r, 1, f'=IF({k}="","",INDEX({P}!$D:$D,{k})&"")', f("cell_center"), "")
            ws.write_formula(r, 2, pick("E"), f("cell"), "")
            ws.write_formula(r, 3, f'=IF({k}="","",INDEX({P}!$F:$F,{k})&"")', f("cell_center"), "")
            ws.write_formula(r, 4, f'=IF({j}="","",IF(INDEX({TK}!$F:$F,{j})="","—",INDEX({TK}!$F:$F,{j})))',
                             f("cell_center"), "")
            ws.write_formula(r, 5, f'=IF({j}="","",IF(INDEX({TK}!$I:$I,{j})="","",INDEX({TK}!$I:$I,{j})))',
                             f("cell_date"), "")
            ws.write_formula(r, 6, pick("H"), f("cell"), "")
            key = f'$B{x}&"|"&{canon}'
            ws.write_formula(r, 7, f'=IF($B{x}="","",{_lookup_text(S, "B", key)[1:]})', f("cell_auto"), "")
            ws.write_formula(r, 8, f'=IF($B{x}="","",{_lookup_value(S, "C", key)[1:]})',
                             f("cell_auto_pct"), "")
            ws.write_formula(r, 9, f'=IF($B{x}="","",{_lookup_value(S, "D", key)[1:]})',
                             f("cell_auto_date"), "")
        first, lastrow = hr + 2, hr + 1 + n
        self._status_cf(ws, f"H{first}:H{lastrow}", f'$B{first}&"|"&{canon}', with_light=True)
        ws.freeze_panes(hr + 1, 0)
        ws.protect("", {"format_columns": True, "format_rows": True, "autofilter": True,
                        "sort": False, "select_locked_cells": True, "select_unlocked_cells": True})
        self._page(ws, T("按單位查看"), repeat=(hr, hr))
        ws.print_area(0, 0, lastrow - 1, last)

    def _default_unit(self) -> str | None:
        """The unit shown first: the one that leads most tasks (the office's own unit in a
        typical notice), else the first one."""
        if not self.units:
            return None
        if self.selected_unit in self.assign:
            return self.selected_unit
        return max(self.units, key=lambda u: (sum(a.role == "lead" for a in self.assign[u]),
                                              -self.units.index(u)))

    # -- 責任矩陣 ---------------------------------------------------------------------------
    def _matrix(self, ws):
        T, f = self.T, self.fmt
        units = self.units
        first_u = 2
        last = first_u + len(units) - 1
        self._title(ws, T("責任矩陣"), max(last, 2),
                    T("● 牽頭單位  ○ 配合單位  ◎ 共同負責(任務沒有牽頭單位時)  ·  單位組已展開到具體單位"))
        ws.set_column(0, 0, 9)
        ws.set_column(1, 1, 30)
        ws.set_column(first_u, max(last, first_u), 3.2)
        hr = 2
        ws.write(hr, 0, T("任務編號"), f("header"))
        ws.write(hr, 1, T("工作任務"), f("header"))
        for j, u in enumerate(units):
            ws.write(hr, first_u + j, self.T(u), f("matrix_head"))
        longest = max((len(u) for u in units), default=4)
        ws.set_row(hr, max(60, 14 * longest + 10))
        r = hr + 1
        col_of = {u: first_u + j for j, u in enumerate(units)}
        first_data = r
        for sec in self.plan.sections:
            ws.merge_range(r, 0, r, max(last, 2), section_label(sec), f("label", bg_color="#F2F2F2",
                                                                         border=1, border_color="#A6A6A6"))
            r += 1
            for ss in sec.subsections:
                for t in ss.tasks:
                    ws.write_string(r, 0, t.id, f("cell_center", valign="top"))
                    short = truncate(t.text, 36)
                    ws.write_string(r, 1, short, f("cell", font_size=9))
                    ws.set_row(r, row_height([(short, 30, 9)], size=9, minimum=15))
                    row_vals = {a.unit: MARKS[a.role] for a in task_units(t, self.cfg)}
                    for u in units:
                        ws.write_string(r, col_of[u], row_vals.get(u, ""), f("matrix_cell"))
                    r += 1
        last_data = r - 1
        labels = [("●", "牽頭"), ("○", "配合"), ("◎", "共同負責")]
        for mark, label in labels:
            ws.write(r, 0, mark, f("count"))
            ws.write(r, 1, T(f"{label}任務數"), f("count", align="right"))
            for u in units:
                c = xl_col_to_name(col_of[u])
                ws.write_formula(r, col_of[u], f'=COUNTIF({c}{first_data + 1}:{c}{last_data + 1},"{mark}")',
                                 f("count", font_size=9),
                                 sum(1 for a in self.assign[u] if MARKS[a.role] == mark))
            r += 1
        ws.write(r, 0, "", f("count"))
        ws.write(r, 1, T("合計"), f("count", align="right"))
        for u in units:
            c = xl_col_to_name(col_of[u])
            ws.write_formula(r, col_of[u], f"=SUM({c}{r - 2}:{c}{r})", f("count", font_size=9),
                             len(self.assign[u]))
        ws.freeze_panes(hr + 1, first_u)
        self._page(ws, T("責任矩陣"), repeat=(hr, hr))
        ws.repeat_columns(0, 1)

    # -- 考評指標 ---------------------------------------------------------------------------
    def _indicators(self, ws):
        T, f = self.T, self.fmt
        months = report_months(self.plan)
        year = plan_year(self.plan)
        heads = [T(h) for h in ("序號", "任務編號", "指標名稱", "目標(原文)", "方向", "目標值",
                                "計量單位", "牽頭單位", "配合/責任單位")]
        fixed = len(heads)
        month_heads = [f"{int(m[5:])}" + T("月") for m in months]
        heads += month_heads + [T("最新實際值"), T("達標情況")]
        last = len(heads) - 1
        self._title(ws, T("考評指標"), last,
                    T(f"{year}年各月實際值由月報匯總自動填寫(與目標值同一計量單位,如 92 表示 92%)"))
        widths = [6, 9, 25, 16, 7, 7, 9, 12, 20] + [6] * len(months) + [11, 9]
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        # the indicator's id (1.4.1#1), what the monthly values are looked up by and what the
        # worksheet functions take: a hidden column after the table (not printed)
        key_col = last + 1
        K = xl_col_to_name(key_col)
        ws.set_column(key_col, key_col, 9, None, {"hidden": True})
        hr = 2
        for c, h in enumerate(heads):
            ws.write(hr, c, h, f("header_auto" if c >= fixed else "header"))
        ws.write(hr, key_col, T("指標編號"), f("header"))
        ws.set_row(hr, 30)
        items = self.plan.indicators()
        A = layout.ACTUALS_SHEET
        latest_col = fixed + len(months)
        for i, (t, ind) in enumerate(items):
            r = hr + 1 + i
            x = r + 1
            others = co_text(t, self.script)
            ws.write_number(r, 0, i + 1, f("cell_center"))
            ws.write_string(r, key_col, ind.id, f("cell_center"))
            ws.write_string(r, 1, t.id, f("cell_center"))
            ws.write_string(r, 2, ind.name or "", f("cell"))
            ws.write_string(r, 3, ind.text, f("cell"))
            ws.write_string(r, 4, T(OP_LABELS.get(ind.op, ind.op)), f("cell_center"))
            ws.write_number(r, 5, ind.value, f("cell_number"))
            ws.write_string(r, 6, ind.unit, f("cell_center"))
            lead = lead_label(t, self.script, with_units=False)
            ws.write_string(r, 7, lead, f("cell_center"))
            ws.write_string(r, 8, others, f("cell"))
            ws.set_row(r, row_height([(ind.name or "", 24), (ind.text, 16), (others, 20), (lead, 12)]))
            for j, m in enumerate(months):
                ws.write_formula(r, fixed + j, _lookup_value(A, "B", f'${K}{x}&"|{m}"'), f("cell_auto"), "")
            # latest month with a value, right to left
            expr = '""'
            for j in range(len(months)):
                c = xl_rowcol_to_cell(r, fixed + j)
                expr = f'IF({c}<>"",{c},{expr})'
            ws.write_formula(r, latest_col, "=" + expr, f("cell_auto"), "")
            L = xl_rowcol_to_cell(r, latest_col)
            V, O = f"$F{x}", f"$E{x}"
            ok, ko = T("達標"), T("未達標")
            ge, le = T(OP_LABELS[">="]), T(OP_LABELS["<="])
            met = (f'=IF({L}="","",IF({O}="{ge}",IF({L}>={V},"{ok}","{ko}"),'
                   f'IF({O}="{le}",IF({L}<={V},"{ok}","{ko}"),IF({L}={V},"{ok}","{ko}"))))')
            ws.write_formula(r, latest_col + 1, met, f("cell_auto"), "")
        if items:
            mc = xl_col_to_name(latest_col + 1)
            rng = f"{mc}{hr + 2}:{mc}{hr + 1 + len(items)}"
            ws.conditional_format(rng, {"type": "cell", "criteria": "==", "value": f'"{T("達標")}"',
                                        "format": f("good")})
            ws.conditional_format(rng, {"type": "cell", "criteria": "==", "value": f'"{T("未達標")}"',
                                        "format": f("bad")})
            ws.autofilter(hr, 0, hr + len(items), last)
        else:
            ws.merge_range(hr + 1, 0, hr + 1, last, T("本計劃沒有量化指標。"), f("note"))
        ws.freeze_panes(hr + 1, 3)
        self._page(ws, T("考評指標"), repeat=(hr, hr))


UNIT_LIST_SEP = "、"
CO_RESPONSIBLE_HEADER = "配合/責任單位"     # a section sheet's 配合單位 column when some tasks have no lead
# The legend under a printed section sheet's title: the colours of 最新狀態 (styles' font colours).
STATUS_LEGEND = [("good", "綠:完成、按計劃"), ("risk", "黃:需關注"), ("bad", "紅:滯後逾期"),
                 ("idle", "灰:未填報")]


def _warning_column(warnings: list[str]) -> int:
    """The section sheet's column a task's warnings are about: 牽頭單位 (units), 完成時限
    (deadlines, recurring work), else 工作任務."""
    text = "".join(warnings)
    if re.search(r"單位|单位|讀作|读作", text):
        return 3
    if re.search(r"時限|时限|經常性|经常性|截止", text):
        return 6
    return 2


def _cell_box() -> dict:
    return {"border": 1, "border_color": "#A6A6A6", "align": "center", "valign": "vcenter",
            "font_name": "SimSun", "font_size": 10.5}


def _status_style(st) -> str:
    if st.done:
        return "good"
    if st.lagging:
        return "bad"
    if not st.started:
        return "idle"
    return "ontrack"


def _role_label(role: str) -> str:
    from putuo_xl.plan.model import ROLE_LABELS
    return ROLE_LABELS.get(role, role)


def _lookup_text(sheet: str, col: str, key: str) -> str:
    """=IFERROR(INDEX(sheet!col, MATCH(key, sheet!A, 0))&"", "") — a text lookup, blank if none."""
    return f'=IFERROR(INDEX({sheet}!${col}:${col},MATCH({key},{sheet}!$A:$A,0))&"","")'


def _lookup_value(sheet: str, col: str, key: str) -> str:
    """A value lookup that stays a number (or date) and shows blank for a missing or empty cell."""
    idx = f"INDEX({sheet}!${col}:${col},MATCH({key},{sheet}!$A:$A,0))"
    return f'=IFERROR(IF({idx}="","",{idx}),"")'


def _cn_date(iso: str | None) -> str | None:
    if not iso:
        return None
    try:
        d = datetime.strptime(iso, "%Y-%m-%d")
    except ValueError:
        return iso
    return f"{d.year}年{d.month}月{d.day}日"


def _task_dict(t) -> dict:
    from dataclasses import asdict
    return asdict(t)
