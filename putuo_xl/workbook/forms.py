"""The monthly report forms (月報填報表): one workbook per unit and month with only that unit's
tasks, written from the master workbook (as officials last edited it).

Each form has the sheet the unit fills in (layout.FORM_SHEET): locked task columns, input columns
with data validation, sheet protection, and a hidden locked key column outside the print area
(layout.FORM_KEY: the row's task or indicator id, what the collector reads; 任務編號 shows only
task ids); an instructions sheet; a hidden list sheet for the status
dropdown; and a very hidden `_form` sheet with the metadata the collector checks
(layout.FORM_META_KEYS). Every form written is recorded in the ledger's `issued` table.

Written with xlsxwriter (a few ms per form): writing all forms of the seed takes well under 1 s.
"""
from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from putuo_xl import __version__, layout
from putuo_xl.config import Config, load_config
from putuo_xl.errors import FileBusyError, InputError
from putuo_xl.fileio import AtomicPath
from putuo_xl.plan.model import ROLE_LABELS, Plan, Task
from putuo_xl.plan.labels import deadline_value
from putuo_xl.workbook import locked
from putuo_xl.workbook.cells import row_height
from putuo_xl.workbook.styles import FormatCache, Styles, load_styles
from putuo_xl.text import in_script
from putuo_xl.plan.assignments import Assignment, unit_assignments

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
DEFAULT_FILE_NAME = "{month}_{unit}_法治政府建設月報.xlsx"
DEFAULT_FOLDER = layout.FORMS_FOLDER
GENERATOR = f"putuo-xl {__version__}"
BAD_FILE_CHARS = re.compile(r'[\\/:*?"<>|\r\n\t]')

# column key -> width; order and headers from layout.FORM_COLUMNS
WIDTHS = {"task_id": 9, "task": 40, "role": 6, "deadline": 15, "indicator": 16, "target": 11,
          "status": 9, "progress": 9, "actual": 11.5, "progress_text": 30, "problems": 20,
          "next_steps": 20, "row_key": 9}
TITLE_ROW, INFO_ROW, CONTACT_ROW, NOTE_ROW, HEADER_ROW = 0, 1, 2, 3, 4     # 0-based
FIRST_ROW = HEADER_ROW + 1


@dataclass
class FormsResult:
    month: str
    due: str
    out_dir: Path
    plan_fingerprint: str
    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)       # already there, not overwritten
    stale: list[Path] = field(default_factory=list)         # skipped and made from another plan
    no_tasks: list[str] = field(default_factory=list)       # units without tasks: no form
    busy: list[Path] = field(default_factory=list)          # open in Excel/WPS: not rewritten
    units: dict[str, Path] = field(default_factory=dict)    # unit -> its form (written or kept)
    seconds: float = 0.0
    master_changes: str | None = None                       # what officials changed in the master
    script: str = "traditional"                             # the notice's: our wording in it
    views: str | None = None                                # the master's views refreshed (or not)
    warnings: list[str] = field(default_factory=list)       # e.g. a month outside the plan (--force)

    def summary(self) -> str:
        T = lambda s: in_script(s, self.script)  # noqa: E731
        parts = [T(f"{self.month} 月報:寫出 {len(self.written)} 份")]
        if self.skipped:
            parts.append(T(f"已存在未覆蓋 {len(self.skipped)} 份(如需重新生成請加 --force)"))
        if self.stale:
            parts.append(T(f"其中 {len(self.stale)} 份是按修改前的台賬生成的"))
        if self.busy:
            parts.append(T(f"{len(self.busy)} 份正在 Excel 或 WPS 中打開,沒有重寫:")
                         + "、".join(p.name for p in self.busy) + T("(關閉後加 --force 重試)"))
        if self.no_tasks:
            parts.append(T(f"{len(self.no_tasks)} 個單位沒有任務,不生成月報:") + "、".join(self.no_tasks))
        return ";".join(parts) + T("。目錄:") + str(self.out_dir)


def check_month(month: str) -> str:
    m = MONTH_RE.match(str(month or "").strip())
    if not m:
        raise InputError(f"月份「{month}」格式不對,應寫成 YYYY-MM,例如 2020-08。")
    return m.group(0)


def due_date(month: str, config: Config) -> str:
    """The day of the following month the form is due (config forms.due_day, default 5)."""
    y, m = (int(x) for x in month.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    try:
        day = int(config.section("forms").get("due_day") or 5)
    except (TypeError, ValueError):
        day = 5
    day = min(max(day, 1), calendar.monthrange(y, m)[1])
    return date(y, m, day).isoformat()


def form_file_name(month: str, unit: str, config: Config, script: str) -> str:
    template = config.section("forms").get("file_name") or DEFAULT_FILE_NAME
    name = in_script(template, script).format(month=month, unit=in_script(unit, script))
    name = BAD_FILE_CHARS.sub("_", name)
    return name if name.lower().endswith(".xlsx") else name + ".xlsx"


def default_forms_dir(master_path: str | Path, month: str, script: str) -> Path:
    return layout.default_forms_dir(master_path, month, script)


def write_forms(master_path: str | Path | None, month: str, out_dir: str | Path | None = None,
                config: Config | None = None, force: bool = False,
                units: list[str] | None = None, plan: Plan | None = None,
                styles: Styles | None = None) -> FormsResult:
    """Write one form per unit with tasks for `month` from the master at `master_path`.

    The plan is read from the master (its section sheets as last edited), unless `plan` is given.
    An existing form is kept unless `force`. `units` limits the run to those units (names in any
    script or alias). Each written form is recorded in the master's ledger (`issued`).
    A month outside the plan's year is refused before anything is written (InputError, code
    "month-outside-plan"); with `force` it goes ahead with a warning in `warnings`.
    """
    t0 = time.perf_counter()
    month = check_month(month)
    cfg = config or load_config()
    changes = views = read = None
    if plan is None:
        if master_path is None:
            raise InputError("請指定任務分解台賬(master)文件。")
        from putuo_xl.workbook.readback import read_master
        read = read_master(master_path, cfg)
        plan = read.plan
        changes = read.summary()
    from putuo_xl.plan.months import check_plan_month, plan_month_range
    outside = check_plan_month(month, plan_month_range(plan), force=force, script=plan.script,
                               title=plan.title)
    if read is not None:
        views = _refresh_views(master_path, cfg, read)
    if out_dir is None:
        if master_path is None:
            raise InputError("沒有台賬文件時請用 -o 指定月報的輸出目錄。")
        out = default_forms_dir(master_path, month, plan.script)
    else:
        out = Path(out_dir)
    due = due_date(month, cfg)
    fp = plan.fingerprint()
    assign = unit_assignments(plan, cfg)
    result = FormsResult(month=month, due=due, out_dir=out, plan_fingerprint=fp,
                         master_changes=changes, script=plan.script, views=views,
                         warnings=[outside] if outside else [])
    wanted = list(assign)
    if units:
        wanted = []
        for name in units:
            canonical = cfg.resolve(name) or name
            members = cfg.expand(canonical) if canonical in cfg.groups else [canonical]
            for u in members:
                if u not in assign and u not in cfg.units:
                    raise InputError(in_script(f"不認識的單位「{name}」。請寫 config.yaml 中的單位名稱。",
                                               plan.script), script=plan.script)
                if u not in wanted:
                    wanted.append(u)
    result.no_tasks = [in_script(u, plan.script) for u in (wanted if units else cfg.units)
                       if u not in assign]
    st = styles or load_styles(cfg)
    form_version = str(cfg.section("forms").get("form_version") or layout.FORM_VERSION)
    index = plan.task_index()
    views = {t.id: _TaskView.of(t, plan.script) for t in plan.tasks()}   # shared by all forms
    out.mkdir(parents=True, exist_ok=True)
    issued_rows = []
    created = datetime.now().astimezone().isoformat(timespec="seconds")
    for unit in wanted:
        items = assign.get(unit)
        if not items:
            continue
        path = out / form_file_name(month, unit, cfg, plan.script)
        result.units[unit] = path
        if path.exists() and not force:
            result.skipped.append(path)
            meta = _existing_meta(path)
            if meta.get("plan_fingerprint") and meta["plan_fingerprint"] != fp:
                result.stale.append(path)
            if meta.get("plan_fingerprint") and meta.get("unit") == unit and meta.get("month") == month:
                issued_rows.append((month, unit, path.name, meta["plan_fingerprint"],
                                    meta.get("task_ids", ""), meta.get("due") or due,
                                    meta.get("created") or created, True, None))
            continue
        form = _FormWriter(plan, cfg, st, unit, items, views, month, due, fp, form_version, created)
        try:
            with AtomicPath(path) as tmp:
                form.write(tmp)
        except FileBusyError:          # that one form is open somewhere: the others still go out
            result.busy.append(path)
            continue
        result.written.append(path)
        issued_rows.append((month, unit, path.name, fp, ",".join(form.task_ids), due, created, False,
                            locked.dumps(form.locked)))
    if master_path is not None and issued_rows:
        _record_issued(master_path, cfg, issued_rows)
    result.seconds = time.perf_counter() - t0
    return result


def _refresh_views(master_path, cfg, read) -> str | None:
    """When officials edited the plan since the master's views were written, bring 按單位查看,
    責任矩陣 and 考評指標 up to date (views.refresh_views); a master open in Excel/WPS keeps
    its old views and the forms still go out. Returns what to tell the user, or None."""
    if read.meta.get("plan_fingerprint") == read.plan.fingerprint():
        return None
    from putuo_xl.workbook.views import refresh_views
    try:
        return refresh_views(master_path, cfg, read=read).summary()
    except FileBusyError:
        return in_script("台賬正在 Excel 或 WPS 中打開,按單位查看、責任矩陣和考評指標沒有按修改更新;"
                         "關閉台賬後運行 putuo-xl build --refresh 台賬文件 即可更新。", read.plan.script)


def _record_issued(master_path, cfg, rows) -> None:
    from putuo_xl.ledger.store import open_ledger
    with open_ledger(master_path, cfg) as ledger, ledger.tx() as conn:
        for month, unit, name, fp, ids, due, created, keep, cells in rows:
            verb = "INSERT OR IGNORE" if keep else "INSERT OR REPLACE"
            conn.execute(f"{verb} INTO issued(month, unit, file_name, plan_fingerprint, task_ids, due, "
                         f"created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (month, unit, name, fp, ids, due, created))
            if cells is not None:      # what its locked cells say (workbook.locked)
                conn.execute("INSERT OR REPLACE INTO issued_cells(month, unit, plan_fingerprint, locked)"
                             " VALUES (?, ?, ?, ?)", (month, unit, fp, cells))


def read_form_meta(path: str | Path) -> dict[str, str]:
    """The `_form` metadata of a form workbook ({} if it has none)."""
    return _existing_meta(Path(path))


def _existing_meta(path: Path) -> dict[str, str]:
    from openpyxl import load_workbook
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # an unreadable file counts as "no metadata"; it is still not overwritten
        return {}
    try:
        if layout.FORM_META_SHEET not in wb.sheetnames:
            return {}
        out = {}
        for row in wb[layout.FORM_META_SHEET].iter_rows(max_col=2, values_only=True):
            if row and row[0] is not None:
                out[str(row[0])] = "" if row[1] is None else str(row[1])
        return out
    finally:
        wb.close()


def _role_text(role: str, script: str) -> str:
    return in_script(ROLE_LABELS.get(role, role), script)


def _cn_date(iso: str) -> str:
    d = datetime.strptime(iso, "%Y-%m-%d")
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass
class _TaskView:
    """What a form row shows for a task, computed once per run (a task is in many forms)."""
    task: Task
    deadline: object
    height: float
    sub_heights: list[float]

    @classmethod
    def of(cls, t: Task, script: str) -> "_TaskView":
        first = t.indicators[0] if t.indicators else None
        h = max(row_height([(t.text, WIDTHS["task"]), (first.name if first else "", WIDTHS["indicator"]),
                            (first.text if first else "", WIDTHS["target"])]), 36)
        subs = [row_height([(i.name, WIDTHS["indicator"]), (i.text, WIDTHS["target"])], minimum=22)
                for i in t.indicators[1:]]
        return cls(t, deadline_value(t, script), h, subs)


class _FormWriter:
    def __init__(self, plan: Plan, cfg: Config, styles: Styles, unit: str,
                 items: list[Assignment], views: dict[str, _TaskView], month: str, due: str, fp: str,
                 form_version: str, created: str):
        self.plan, self.cfg, self.styles, self.unit, self.items = plan, cfg, styles, unit, items
        self.views, self.month, self.due, self.fp = views, month, due, fp
        self.due_label = _cn_date(due)
        index = {k: v.task for k, v in views.items()}
        self.form_version, self.created = form_version, created
        self.script = plan.script
        self.T = lambda s: in_script(s, self.script)
        self.unit_label = self.T(unit)
        self.task_ids = [a.task_id for a in items]
        self.indicator_ids = [i.id for a in items for i in index[a.task_id].indicators]
        self.index = index
        self.locked: dict[str, list] = {}    # what the locked cells say (workbook.locked)

    def write(self, path: Path) -> None:
        wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False,
                                             "strings_to_formulas": False, "strings_to_urls": False})
        self.fmt = FormatCache(wb, self.styles)
        T = self.T
        title = self.month_title()
        wb.set_properties({"title": f"{self.unit_label} {title}", "author": self.cfg.office or GENERATOR,
                           "company": self.cfg.district, "comments": GENERATOR,
                           "created": datetime.now()})
        ws = wb.add_worksheet(layout.header(layout.FORM_SHEET, self.script))
        help_ws = wb.add_worksheet(layout.header(layout.FORM_HELP_SHEET, self.script))
        lists = wb.add_worksheet(layout.FORM_LISTS_SHEET)
        meta = wb.add_worksheet(layout.FORM_META_SHEET)
        statuses = [T(s.name) for s in self.cfg.statuses] + [
            T(str(s)) for s in (self.cfg.section("forms").get("extra_statuses") or [])]
        lists.write(0, 0, "status")
        lists.write_column(1, 0, statuses)
        lists.hide()
        self._form_sheet(ws, title, statuses)
        self._help(help_ws, title, statuses)
        self._meta(meta)
        meta.very_hidden()
        ws.activate()
        wb.close()

    def month_title(self) -> str:
        return layout.month_label(self.month) + self.T("法治政府建設工作進展月報")

    # -- the sheet the unit fills in -------------------------------------------------------
    def _form_sheet(self, ws, title: str, statuses: list[str]) -> None:
        T, f = self.T, self.fmt
        keys = [k for k, _ in layout.FORM_COLUMNS]
        col = {k: i for i, k in enumerate(keys)}
        c_key = col[layout.FORM_KEY]
        last = max(i for k, i in col.items() if k != layout.FORM_KEY)     # the last printed column
        for i, k in enumerate(keys):
            ws.set_column(i, i, WIDTHS[k], None, {"hidden": True} if i == c_key else {})
        lead = sum(a.role == "lead" for a in self.items)
        co = sum(a.role == "co" for a in self.items)
        resp = sum(a.role == "responsible" for a in self.items)
        ws.set_row(TITLE_ROW, 30)
        ws.merge_range(TITLE_ROW, 0, TITLE_ROW, last, title, f("title"))
        counts = T(f"牽頭 {lead} 項、配合 {co} 項") + (T(f"、共同負責 {resp} 項") if resp else "")
        info = (T("填報單位:") + self.unit_label + "    " + T("報送月份:") + layout.month_label(self.month)
                + "    " + T("報送截止:") + self.due_label + "    " + T("本單位任務:") + counts)
        ws.set_row(INFO_ROW, 22)
        ws.merge_range(INFO_ROW, 0, INFO_ROW, last, info, f("subtitle", font_size=11))
        # who filled it in: free input cells above the table
        ws.set_row(CONTACT_ROW, 22)
        lab = f("label", align="right")
        inp = f("input_center")
        ws.write(CONTACT_ROW, 0, T("填報人"), lab)
        ws.write_blank(CONTACT_ROW, 1, None, inp)
        ws.merge_range(CONTACT_ROW, 2, CONTACT_ROW, 3, T("聯繫電話"), lab)
        ws.merge_range(CONTACT_ROW, 4, CONTACT_ROW, 5, "", inp)
        ws.merge_range(CONTACT_ROW, 6, CONTACT_ROW, 8, T("審核人"), lab)
        ws.write_blank(CONTACT_ROW, 9, None, inp)
        ws.merge_range(NOTE_ROW, 0, NOTE_ROW, last,
                       T("淡黃色單元格由本單位填寫,灰色單元格不能修改。進展狀態從下拉列表選擇;完成進度填 0%–100%;"
                         "指標實際值填數字,計量單位與目標值相同(如 92 表示 92%)。詳見「填報說明」工作表。"),
                       f("note"))
        ws.set_row(NOTE_ROW, 26)
        for i, (k, h) in enumerate(layout.FORM_COLUMNS):
            style = "header_input" if k in layout.FORM_INPUT_KEYS else "header"
            ws.write(HEADER_ROW, i, layout.header(h, self.script), f(style))
        ws.set_row(HEADER_ROW, 30)

        r = FIRST_ROW
        runs: dict[str, list[int]] = {"status": [], "progress": [], "actual_pct": [], "actual": [],
                                      "text": []}
        for a in self.items:
            view = self.views[a.task_id]
            t = view.task
            first = t.indicators[0] if t.indicators else None
            dv = view.deadline
            ws.write_string(r, col["task_id"], t.id, f("locked_center"))
            ws.write_string(r, c_key, t.id, f("locked_center"))
            ws.write_string(r, col["task"], t.text, f("locked"))
            ws.write_string(r, col["role"], _role_text(a.role, self.script), f("locked_center"))
            if isinstance(dv, datetime):
                ws.write_datetime(r, col["deadline"], dv, f("locked_center", num_format='yyyy"年"m"月"d"日"'))
            else:
                ws.write_string(r, col["deadline"], dv, f("locked_center"))
            ws.write_string(r, col["indicator"], first.name if first else "", f("locked"))
            ws.write_string(r, col["target"], first.text if first else "", f("locked_center"))
            self.locked[t.id] = locked.task_row(t.text, a.role, dv, first.name if first else "",
                                                first.text if first else "")
            ws.write_blank(r, col["status"], None, f("input_center"))
            ws.write_blank(r, col["progress"], None, f("input_pct"))
            if first:
                ws.write_blank(r, col["actual"], None, f("input_number"))
                runs["actual_pct" if first.unit == "%" else "actual"].append(r)
            else:
                ws.write_blank(r, col["actual"], None, f("locked_center"))
            for k in ("progress_text", "problems", "next_steps"):
                ws.write_blank(r, col[k], None, f("input"))
            runs["status"].append(r)
            runs["progress"].append(r)
            runs["text"].append(r)
            ws.set_row(r, view.height)
            r += 1
            for n, ind in enumerate(t.indicators[1:], 2):
                ws.write_string(r, col["task_id"], t.id, f("locked_sub", align="center",
                                                             valign="vcenter"))
                ws.write_string(r, c_key, ind.id, f("locked_center"))
                ws.write_string(r, col["task"], T(f"(任務 {t.id} 的第 {n} 項指標,只需填寫指標實際值)"),
                                f("locked_sub"))
                for k in ("role", "deadline", "status", "progress", "progress_text", "problems",
                          "next_steps"):
                    ws.write_blank(r, col[k], None, f("locked_sub"))
                ws.write_string(r, col["indicator"], ind.name, f("locked"))
                ws.write_string(r, col["target"], ind.text, f("locked_center"))
                self.locked[ind.id] = locked.indicator_row(ind.name, ind.text)
                ws.write_blank(r, col["actual"], None, f("input_number"))
                runs["actual_pct" if ind.unit == "%" else "actual"].append(r)
                ws.set_row(r, view.sub_heights[n - 2])
                r += 1
        last_row = r - 1
        self._validations(ws, col, runs, statuses)
        if last_row >= FIRST_ROW:
            rng = f"{_col(col['status'])}{FIRST_ROW + 1}:{_col(col['status'])}{last_row + 1}"
            for s in self.cfg.statuses:
                style = "good" if s.done else "bad" if s.lagging else "idle" if not s.started else "ontrack"
                ws.conditional_format(rng, {"type": "cell", "criteria": "==", "value": f'"{T(s.name)}"',
                                            "format": f(style)})
        ws.freeze_panes(FIRST_ROW, 2)
        password = str(self.cfg.section("forms").get("password") or "")
        ws.protect(password, {"format_columns": True, "format_rows": True,
                              "select_locked_cells": True, "select_unlocked_cells": True})
        self._page(ws, title)
        ws.repeat_rows(HEADER_ROW, HEADER_ROW)
        ws.print_area(0, 0, max(last_row, HEADER_ROW), last)

    def _validations(self, ws, col, runs, statuses) -> None:
        T = self.T
        status_src = f"={layout.FORM_LISTS_SHEET}!$A$2:$A${len(statuses) + 1}"
        specs = {
            "status": ([col["status"]], {
                "validate": "list", "source": status_src,
                "input_title": T("進展狀態"), "input_message": T("點擊右側箭頭選擇:") + "、".join(statuses),
                "error_title": T("請從列表中選擇"),
                "error_message": T("進展狀態只能從下拉列表中選擇:") + "、".join(statuses) + T("。")}),
            "progress": ([col["progress"]], {
                "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1,
                "input_title": T("完成進度"), "input_message": T("填寫 0% 到 100%,例如 60%。"),
                "error_title": T("完成進度超出範圍"),
                "error_message": T("完成進度應在 0% 到 100% 之間,例如填 60%。")}),
            "actual_pct": ([col["actual"]], {
                "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
                "input_title": T("指標實際值"), "input_message": T("填寫數字,單位是 %:例如 92 表示 92%。"),
                "error_title": T("請填寫 0 到 100 的數字"),
                "error_message": T("這個指標以 % 計,請填寫 0 到 100 之間的數字,例如 92 表示 92%。")}),
            "actual": ([col["actual"]], {
                "validate": "decimal", "criteria": ">=", "value": 0,
                "input_title": T("指標實際值"), "input_message": T("填寫數字,計量單位與目標值相同(如天數、件數)。"),
                "error_title": T("請填寫數字"),
                "error_message": T("指標實際值應是不小於 0 的數字,計量單位與目標值相同。")}),
            "text": ([col["progress_text"], col["problems"], col["next_steps"]], {
                "validate": "length", "criteria": "<=", "value": 2000,
                "input_title": T("文字說明"), "input_message": T("簡要填寫;單元格內換行按 Alt+Enter。"),
                "error_title": T("文字太長"), "error_message": T("每格最多 2000 字,請精簡。")}),
        }
        for key, rows in runs.items():
            if not rows:
                continue
            cols, opts = specs[key]
            for start, end in _runs(rows):
                for c in cols:
                    ws.data_validation(start, c, end, c, dict(opts))

    def _page(self, ws, title: str, landscape: bool = True) -> None:
        font, size = self.styles.font("page_header")
        f = f'&{int(size)}&"{font},Regular"'
        esc = lambda s: s.replace("&", "&&")  # noqa: E731
        ws.set_paper(9)
        if landscape:
            ws.set_landscape()
        ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.65)
        ws.set_header(f"&L{f}{esc(self.unit_label)}&C{f}{esc(title)}&R{f}"
                      + esc(self.T("截止 ") + self.due_label), {"margin": 0.3})
        ws.set_footer(f"&C{f}" + self.T("第 &P 頁,共 &N 頁"), {"margin": 0.3})
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()

    # -- 填報說明 ------------------------------------------------------------------------------
    def _help(self, ws, title: str, statuses: list[str]) -> None:
        T, f = self.T, self.fmt
        ws.hide_gridlines(2)
        ws.set_column(0, 0, 4)
        ws.set_column(1, 1, 86)
        ws.set_row(0, 30)
        ws.merge_range(0, 0, 0, 1, T("填報說明"), f("title"))
        ws.merge_range(1, 0, 1, 1, f"{self.unit_label} · {title}", f("subtitle", align="center"))
        mail = self.cfg.section("mail")
        contact = str(mail.get("contact") or self.cfg.office or "")
        n_tasks = len(self.items)
        n_ind = len(self.indicator_ids)
        sheet = layout.header(layout.FORM_SHEET, self.script)
        paras = [
            ("這張表是什麼",
             f"本表是{self.unit_label}{layout.month_label(self.month)}的法治政府建設工作進展月報,"
             f"列出《{self.plan.title}》中由本單位牽頭、配合或共同負責的 {n_tasks} 項任務"
             + (f"和 {n_ind} 個量化指標" if n_ind else "") + "。"),
            ("報送時間",
             f"請在 {self.due_label} 前填好並報送" + (f"{contact}" if contact else "") +
             "。報送後如需更正,修改後重新報送即可,以最後一次報送為準。"),
            ("填寫哪些格",
             f"只填寫「{sheet}」工作表中淡黃色的單元格;灰色單元格(任務編號、工作任務、角色、完成時限、"
             f"量化指標、目標值)不能修改。表頭上方請填寫填報人、聯繫電話和審核人(審核本表的單位負責人)。"),
            ("進展狀態", "從下拉列表選擇:" + "、".join(statuses) +
             "。本月沒有進展的任務也請選擇狀態(如「推進中」或「未啟動」)。"),
            ("完成進度", "填寫任務到本月底的總體完成程度,0% 到 100%,例如輸入 60 或 60% 都會顯示為 60%。"
             "已完成的任務填 100%。"),
            ("指標實際值", "只有帶量化指標的任務可以填寫。填寫數字,計量單位與「目標值」相同:"
             "百分比指標填 92 表示 92%,天數指標填 45 表示 45 天。同一任務有多個指標時,"
             "第二個起各佔一行(任務編號相同,「工作任務」欄註明是第幾項指標),這些行只需填寫指標實際值。"),
            ("工作進展、存在問題、下步計劃", "用簡短的文字說明本月做了什麼、遇到什麼問題、下月打算做什麼。"
             "單元格內換行按 Alt+Enter。配合單位填寫本單位承擔部分的進展。"),
            ("任務或單位有誤時", "如果發現任務不屬於本單位、表述或時限有誤,請在「存在問題」中寫明,"
             "或直接聯繫" + (contact or "牽頭部門") + ";請不要自行刪改灰色單元格。"),
            ("請不要", "增刪行列、修改工作表名稱、取消工作表保護後改動表格結構,或另存為 .xls、.wps、PDF 等格式"
             "(請保存為 .xlsx)。文件名可以保留原樣。"),
        ]
        r = 3
        for i, (head, body) in enumerate(paras, 1):
            ws.write(r, 0, f"{i}.", f("heading", font_size=11, align="right"))
            ws.write(r, 1, T(head), f("heading", font_size=11))
            r += 1
            text = T(body)
            ws.write(r, 1, text, f("text"))
            ws.set_row(r, row_height([(text, 86)]))
            r += 1
        r += 1
        ws.write(r, 1, T("顏色說明"), f("heading", font_size=11))
        r += 1
        legend = [("input", "淡黃色:由本單位填寫"), ("locked", "灰色:不能修改")]
        legend += [("good" if s.done else "bad" if s.lagging else "idle" if not s.started else "ontrack",
                    f"進展狀態「{s.name}」") for s in self.cfg.statuses]
        for style, text in legend:
            ws.write(r, 1, T(text), f(style, border=1, border_color="#A6A6A6", font_name="SimSun",
                                      font_size=10.5, locked=True))
            r += 1
        ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
        self._page(ws, T("填報說明"), landscape=False)

    # -- _form -------------------------------------------------------------------------------
    def _meta(self, ws) -> None:
        values = {
            "kind": layout.FORM_KIND,
            "unit": self.unit,
            "month": self.month,
            "due": self.due,
            "plan_fingerprint": self.fp,
            "form_version": self.form_version,
            "task_ids": ",".join(self.task_ids),
            "indicator_ids": ",".join(self.indicator_ids),
            "generator": GENERATOR,
            "created": self.created,
        }
        for r, k in enumerate(layout.FORM_META_KEYS):
            ws.write_string(r, 0, k)
            ws.write_string(r, 1, values[k])


def _runs(rows: list[int]):
    """Contiguous runs of row numbers: [5,6,7,9] -> (5,7), (9,9)."""
    start = prev = None
    for r in rows:
        if start is None:
            start = prev = r
        elif r == prev + 1:
            prev = r
        else:
            yield start, prev
            start = prev = r
    if start is not None:
        yield start, prev


def _col(c: int) -> str:
    from xlsxwriter.utility import xl_col_to_name
    return xl_col_to_name(c)
