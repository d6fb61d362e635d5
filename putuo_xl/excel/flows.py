"""What each ribbon action does, on top of the library (the registry is in actions.py).

Data flow, the same on both routes: the plan comes from the OPEN workbook's values (what the
official sees, unsaved edits included: `readback.plan_from_values`); the ledger, the archive of
returned forms and the generated forms are files — beside the master on the desktop, in the
master's project folder inside the data folder on the server (see context.py). Results are
written back into the open workbook in one block per sheet.
"""
from __future__ import annotations

import json
from pathlib import Path

from putuo_xl import layout
from putuo_xl.errors import PutuoError
from putuo_xl.text import norm_name
from putuo_xl.excel.book import cell_text
from putuo_xl.excel.context import PROJECT_META_KEY, SERVER_MASTER_NAME, Context, UserError

PLAN_SNAPSHOT = "plan.json"


# -- shared helpers --------------------------------------------------------------------------
def is_master(ctx: Context) -> bool:
    return ctx.meta.get("kind") == layout.MASTER_KIND


def require_master(ctx: Context) -> None:
    if not is_master(ctx):
        raise ctx.fail("這個工作簿不是 putuo-xl 的任務分解台賬(沒有隱藏的 _meta 工作表)。"
                       "請先打開台賬,或按「生成台賬」生成一個。")


def plan_sheets(ctx: Context) -> dict[str, list[list]]:
    """The sheets the plan is read back from (hidden data sheets and section sheets)."""
    return ctx.io.all_values()


def book_plan(ctx: Context):
    """The plan as the open workbook says now (edits included)."""
    from putuo_xl.workbook.readback import plan_from_values

    require_master(ctx)
    try:
        plan = plan_from_values(plan_sheets(ctx), ctx.config, name=ctx.io.name)
    except PutuoError as e:
        raise UserError(str(e)) from None
    ctx.script = plan.script
    if ctx.on_server:
        _snapshot_plan(ctx, plan)
    return plan


def _snapshot_plan(ctx: Context, plan) -> None:
    """Server: keep the plan beside the ledger (the worksheet functions read it)."""
    from putuo_xl.fileio import atomic_write_text
    from putuo_xl.plan.planfile import plan_to_json

    proj = ctx.project_dir()
    atomic_write_text(proj / PLAN_SNAPSHOT, plan_to_json(plan), check_open=False)


def master_file(ctx: Context, plan=None) -> Path:
    """A master FILE for the library functions that read one (collect, forms, mail).
    Desktop: the open workbook's own file, saved first so that it says what the official
    sees. Server: a copy in the project folder, rebuilt whenever the book's plan changed."""
    if not ctx.on_server:
        path = ctx.master_path()
        ctx.io.book.save()
        ctx.say("已保存台賬。")
        return path
    from putuo_xl.workbook.master import build_master

    plan = plan or book_plan(ctx)
    path = ctx.master_path()
    stamp = path.with_suffix(".fingerprint")
    fp = plan.fingerprint() + ":" + ctx.config.fingerprint()
    if not path.is_file() or not stamp.is_file() or stamp.read_text("utf-8") != fp:
        build_master(plan, output=path, config=ctx.config, overwrite=True, backup=False)
        stamp.write_text(fp, "utf-8")
    return path


def open_ledger_for(ctx: Context, master: Path, must_exist: bool = True):
    from putuo_xl.ledger.store import Ledger, ledger_path_for

    template = ctx.config.section("collect").get("ledger_name") or "{master_stem}.ledger.sqlite"
    p = ledger_path_for(master, template)
    if must_exist and not p.is_file():
        raise ctx.fail("還沒有台賬數據庫「{name}」:請先生成月報、導入各單位交回的月報。", name=p.name)
    return Ledger(p)


def write_sheets(ctx: Context, sheets: dict[str, list[list]], hidden: set[str] = frozenset()) -> None:
    for name, values in sheets.items():
        ctx.io.write(name, values, visible=(False if name in hidden else None))


# -- 生成台賬 ----------------------------------------------------------------------------------
def build_master_flow(ctx: Context) -> None:
    from putuo_xl.workbook.master import build_master, default_output, load_source

    typed = ctx.settings.text("notice")
    source = ctx.resolve_input(typed, "notice") if typed else None
    if source is not None and not source.is_file():
        raise ctx.fail("找不到通知文件「{p}」({where})。請填寫正確的路徑,或留空使用內置的工作要點。",
                       p=source, where=ctx.settings.where("notice"))
    cfg = ctx.config
    ctx.io.status(ctx.t("正在解析通知……"))
    plan = load_source(source, cfg)
    ctx.script = plan.script
    if ctx.on_server:
        if is_master(ctx):
            raise ctx.fail("這個工作簿已經是台賬,在其中重新生成會覆蓋其中的修改。要按新的通知生成台賬,"
                           "請新建一個空白工作簿,填好「設置」中的通知文件,再按「生成台賬」。")
        from putuo_xl.excel import projects
        from putuo_xl.excel.users import UserStore
        year = str(plan.year or "")
        title = plan.title if plan.title.startswith(year) else year + plan.title
        key = projects.new_key(title)       # a new secret: never derived from the plan
        folder = projects.create(ctx.data_dir, key, title, ctx.route.identity)
        UserStore(ctx.data_dir).grant_created(ctx.route.identity, key)
        out = folder / SERVER_MASTER_NAME
        result = build_master(plan, output=out, config=cfg, overwrite=True,
                              meta={PROJECT_META_KEY: key})
        (out.with_suffix(".fingerprint")).write_text(plan.fingerprint() + ":" + cfg.fingerprint(), "utf-8")
        ctx.meta[PROJECT_META_KEY] = key
        _snapshot_plan(ctx, plan)
        counts = dict(n=result.counts.get("tasks", len(plan.tasks())),
                      u=result.counts.get("units", len(plan.unit_names())))
        _give_master(ctx, out, counts)
    else:
        try:
            folder = ctx.master_path().parent
        except UserError:
            folder = _documents()
        out = _free_name(default_output(plan, folder))
        result = build_master(plan, output=out, config=cfg)
        ctx.say("已生成台賬:{p}", p=out)
        ctx.say("共 {n} 項任務,{u} 個責任單位。", n=result.counts.get("tasks", len(plan.tasks())),
                u=result.counts.get("units", len(plan.unit_names())))
        if _open_in_excel(ctx, out):
            ctx.say("已在 Excel 中打開;以後的操作請在新台賬中進行。")
        else:
            ctx.say("請在 Excel 中打開它;以後的操作請在新台賬中進行。")
    if result.units_without_tasks:
        ctx.detail("說明", "配置中沒有任務的單位:{u}", u="、".join(result.units_without_tasks))
    for w in result.warnings:
        ctx.detail("提示", "{w}", w=w)


def _give_master(ctx: Context, path: Path, counts: dict) -> None:
    """Server: the master the server built into the official's Excel — the same file the
    CLI writes (tables, names, styles, widths, validation, protection, print setup) as one
    .xlsx (ExcelApi 1.13), or else opened as a new workbook (ExcelApi 1.8; every Excel that
    runs the add-in's client has 1.9)."""
    from putuo_xl.excel import transfer

    data = path.read_bytes()
    if transfer.can_transfer(ctx):
        notes = []
        if transfer.on_web():       # the web cannot insert sheets with comments: notes added after
            data, notes = transfer.without_notes(data)
        states = transfer.sheet_states(data)
        visible = [n for n, st in states if st == "visible"]
        starters = [n for n in ctx.io.sheet_names() if not ctx.io.values(n)
                    and n not in {s for s, _ in states}]
        transfer.send(ctx, transfer.SheetTransfer(
            data=data, insert=[n for n, _ in states], before=ctx.io.sheet_names()[:1],
            hidden=[n for n, st in states if st != "visible"],
            names=transfer.defined_names(data), remove_if_empty=starters, notes=notes,
            activate=visible[0] if visible else None))
        ctx.say("已在本工作簿中生成台賬:{n} 項任務,{u} 個責任單位。", **counts)
    elif transfer.supports(transfer.CREATE_API):
        transfer.open_as_new_workbook(ctx, data)
        ctx.say("已生成台賬:{n} 項任務,{u} 個責任單位,在新打開的工作簿中。", **counts)
        ctx.say("請在新工作簿中繼續操作,並保存它(另存為);本工作簿可以關閉。")
        return
    else:
        raise ctx.fail("這個 Excel 版本太舊,不能接收台賬(需要 ExcelApi 1.8)。請使用 Microsoft 365 或 "
                       "Excel 2021 及以後的版本;Office 2016/2019 請用桌面加載項(見 docs/excel.md)。")
    ctx.say("台賬已保存在服務器上;以後的操作請在本工作簿中進行,並保存本工作簿(其中的 _meta 工作表"
            "是它在服務器上的鑰匙)。")


def _documents() -> Path:
    home = Path.home()
    docs = home / "Documents"
    return docs if docs.is_dir() else home


def _free_name(p: Path) -> Path:
    """`p`, or `name(2).xlsx`, `name(3).xlsx`… — a build never overwrites an existing master."""
    if not p.exists():
        return p
    n = 2
    while True:
        cand = p.with_name(f"{p.stem}({n}){p.suffix}")
        if not cand.exists():
            return cand
        n += 1


def _open_in_excel(ctx: Context, path: Path) -> bool:
    """Desktop Excel: open the new master. Other engines cannot open files: False."""
    if ctx.io.book.app.engine.name not in ("excel",):
        return False
    try:
        ctx.io.book.app.books.open(str(path))
        return True
    except Exception:  # noqa: BLE001 - opening is a convenience; the path is reported anyway
        return False


# -- 單位視圖 ----------------------------------------------------------------------------------
def unit_view_flow(ctx: Context) -> None:
    require_master(ctx)
    from putuo_xl.workbook.master import VIEW_UNIT_CELL

    view = ctx.io.find(layout.name("by_unit", "traditional"), layout.name("by_unit", "simplified"))
    if not view:
        raise ctx.fail("台賬中沒有「按單位查看」工作表。請重新生成台賬。")
    units = [cell_text(r[0]) for r in ctx.io.values(layout.UNITS_SHEET)[1:] if r and cell_text(r[0])]
    sheet, value = ctx.io.selection()
    typed = cell_text(value)
    cfg = ctx.config
    unit = None
    if typed:
        canon = cfg.resolve(typed) or typed
        by_norm = {norm_name(u): u for u in units}
        unit = by_norm.get(norm_name(canon)) or by_norm.get(norm_name(typed))
    if unit is None:
        if not typed:
            raise ctx.fail("請先選中一個寫有單位名稱的單元格(例如「責任矩陣」的表頭或「收件情況」的單位列),"
                           "再按「單位視圖」。")
        raise ctx.fail("選中的「{v}」不是台賬中有任務的單位。請選中一個單位名稱,或直接在「{view}」"
                       "工作表的 {cell} 下拉列表中選擇。", v=typed, view=view, cell=VIEW_UNIT_CELL)
    ctx.io.write_at(view, VIEW_UNIT_CELL, [[unit]])
    ctx.io.book.sheets[view].activate()
    n = sum(1 for r in ctx.io.values(layout.PLAN_SHEET)[1:] if len(r) > 1 and cell_text(r[1]) == unit)
    ctx.say("「{view}」已切換到 {unit}({n} 項任務)。", view=view, unit=unit, n=n)


# -- 生成月報 ----------------------------------------------------------------------------------
def make_forms_flow(ctx: Context) -> None:
    require_master(ctx)
    from putuo_xl.workbook.forms import write_forms

    plan = book_plan(ctx)
    month = ctx.month(plan)
    out_dir = forms_folder(ctx, month)
    ctx.io.status(ctx.t("正在生成月報……"))
    result = write_forms(ctx.master_path(), month, out_dir=out_dir, config=ctx.config, plan=plan)
    ctx.say("{m} 月報:生成 {n} 份,在 {d}", m=layout.month_label(month), n=len(result.written), d=out_dir)
    if result.skipped:
        ctx.say("{n} 份已存在,沒有重寫(要重新生成,請先刪除或移走這些文件)。", n=len(result.skipped))
    if result.stale:
        ctx.say("其中 {n} 份是按修改前的台賬生成的,請刪除後重新生成。", n=len(result.stale))
    if result.no_tasks:
        ctx.detail("說明", "沒有任務、不生成月報的單位:{u}", u="、".join(result.no_tasks))
    for p in result.written:
        ctx.detail("文件", "{f}", f=p)
    for p in result.skipped:
        ctx.detail("已存在", "{f}", f=p)


def forms_folder(ctx: Context, month: str) -> Path:
    """設置 月報文件夾 (+ /month), else the CLI's default beside the master."""
    from putuo_xl.workbook.forms import default_forms_dir

    if ctx.settings.text("forms_dir"):
        return ctx.folder("forms_dir", Path(), must_exist=False) / month
    return default_forms_dir(ctx.master_path(), month, ctx.script)


# -- 導入回報 ----------------------------------------------------------------------------------
def returns_folder(ctx: Context, month: str, must_exist: bool) -> Path:
    """設置 回報文件夾, else 回報/<month> beside the master (server: in its project folder)."""
    return ctx.folder("returns_dir", ctx.base_dir() / ctx.t("回報") / month, must_exist=must_exist)


def collect_flow(ctx: Context) -> None:
    require_master(ctx)
    from putuo_xl.collect.run import collect

    plan = book_plan(ctx)
    month = ctx.month(plan)
    master = master_file(ctx, plan)
    folder = returns_folder(ctx, month, must_exist=True)
    ctx.io.status(ctx.t("正在導入回報……"))
    report = collect(master, [folder], month, ctx.config, write_master=False)
    name = write_receipts(ctx, report)
    ctx.lines.append(report.summary_line())
    for f in report.files:
        ctx.details.append([report._outcome_label(f), f"{f.name}:{report._file_note(f)}".rstrip(":")])
    rejected = report.rejected
    if rejected:
        ctx.say("拒收 {n} 份(原因見「{sheet}」):", n=len(rejected), sheet=name)
        for f in rejected[:8]:
            ctx.lines.append(f"  ✗ {f.name}:{f.reason(limit=1, short=True)}")
    if report.missing:
        ctx.say("尚未報送 {n} 個單位:{u}", n=len(report.missing), u="、".join(report.missing[:12])
                + ("…" if len(report.missing) > 12 else ""))
    for w in report.warnings:
        ctx.detail("提示", "{w}", w=w)


def write_receipts(ctx: Context, report) -> str:
    """The 收件情況 sheet into the open book, laid out as `putuo-xl collect` writes it
    (receipts.receipts_layout); a new sheet goes where collect puts it. Returns its name."""
    from putuo_xl.collect.receipts import receipts_layout, receipts_position
    from putuo_xl.excel import transfer
    from putuo_xl.excel.render import write_layout

    if transfer.can_transfer(ctx):
        return _send_receipts(ctx, report)
    lay = receipts_layout(report)
    pos = receipts_position(ctx.io.sheet_names(), lay.name) or {}
    write_layout(ctx.io, lay, before=pos.get(lay.name))
    return lay.name


def _both(*names: str) -> set[str]:
    from putuo_xl.text import to_simplified
    return {v for n in names for v in (n, to_simplified(n))}


def _send_receipts(ctx: Context, report) -> str:
    """收件情況 as one .xlsx (transfer.py): the sheet the CLI writes, in its place."""
    import tempfile

    from putuo_xl.collect.receipts import build_sheet_workbook, receipts_position, sheet_name
    from putuo_xl.excel import transfer

    name = sheet_name(report.script)
    with tempfile.TemporaryDirectory(prefix="putuo-xl-") as tmp:
        data = build_sheet_workbook(report, Path(tmp) / "receipts.xlsx").read_bytes()
    existing = ctx.io.sheet_names()
    old = [n for n in existing if n in _both(layout.SHEETS["receipts"])]
    pos = receipts_position(existing, name) or {}
    before = [pos[name]] if name in pos else ([layout.META_SHEET] if not old else [])
    transfer.send(ctx, transfer.SheetTransfer(data=data, insert=[name], replace=old, before=before))
    return name


# -- 刷新匯總 ----------------------------------------------------------------------------------
TEMP_DATA = {layout.STATUS_SHEET: "~putuo_status", layout.ACTUALS_SHEET: "~putuo_actuals"}


def _send_rollup_sheets(ctx: Context, r) -> list[str]:
    """The report sheets as the CLI writes them, in one .xlsx (transfer.py): they replace the
    book's report sheets in place (new ones go before the hidden data sheets, as the CLI puts
    them); `_status`/`_actuals` get the new values in place (section sheets' formulas use
    them). Excel on the web cannot insert a sheet with charts: there the add-in adds 趨勢's
    charts itself."""
    from putuo_xl.excel import transfer
    from putuo_xl.rollup.render import render_bytes

    web = transfer.on_web()
    names = [layout.name(k, r.script) for k in layout.ROLLUP_SHEETS]
    data = render_bytes(r, data_names=TEMP_DATA, charts=not web)
    every = _both(*(layout.SHEETS[k] for k in layout.ROLLUP_SHEETS))
    charts = []
    if web:
        trend = layout.name("trend", r.script)
        charts = transfer.chart_specs(r.sheet_layouts()[trend])
    transfer.send(ctx, transfer.SheetTransfer(
        data=data, insert=names + list(TEMP_DATA.values()),
        replace=[n for n in ctx.io.sheet_names() if n in every],
        before=[layout.META_SHEET], copies=[(t, k) for k, t in TEMP_DATA.items()],
        hidden=list(TEMP_DATA), charts=charts))
    return names + list(TEMP_DATA)



def write_rollup_sheets(ctx: Context, r) -> list[str]:
    """The report sheets into the open book, laid out as `putuo-xl rollup` writes them
    (Rollup.sheet_layouts; new ones before the hidden data sheets, as the CLI puts them), the
    趨勢 charts plotting the hidden `_charts` sheet, and the hidden `_status`/`_actuals`
    tables. Returns the names written."""
    from putuo_xl.excel.render import write_layout

    before = layout.META_SHEET if layout.META_SHEET in ctx.io.sheet_names() else None
    names = []
    for name, lay in r.sheet_layouts().items():
        write_layout(ctx.io, lay, before=before, chart_sheet=layout.CHARTS_SHEET)
        names.append(name)
    values = r.sheet_values()
    hidden = (layout.STATUS_SHEET, layout.ACTUALS_SHEET)
    write_sheets(ctx, {k: values[k] for k in hidden}, hidden=set(hidden))
    return names + list(hidden)


def rollup_flow(ctx: Context) -> None:
    require_master(ctx)
    from putuo_xl.rollup.compute import compute_rollup

    plan = book_plan(ctx)
    master = ctx.master_path()          # an unsaved book: said before asking for the month
    month = ctx.month(plan)
    ctx.io.status(ctx.t("正在刷新匯總……"))
    with open_ledger_for(ctx, master) as led:
        r = compute_rollup(led, plan, ctx.config, month)
    from putuo_xl.excel import transfer
    sheets = _send_rollup_sheets(ctx, r) if transfer.can_transfer(ctx) else write_rollup_sheets(ctx, r)
    cur = r.trend[r.trend["月份"] == r.month].iloc[0]
    ctx.say("已匯總 {m}(共 {k} 個月):應報 {a} 個單位,按時 {b}、逾期 {c}、未報 {d}。",
            m=layout.month_label(r.month), k=len(r.months), a=int(cur["應報單位"]),
            b=int(cur["按時報送"]), c=int(cur["逾期報送"]), d=int(cur["未報送"]))
    ctx.say("任務完成率 {p:.1%},考評指標達標 {x}/{y}。", p=float(cur["任務完成率"]),
            x=int(cur["已達標"]), y=int(cur["考評指標"]))
    ctx.say("已寫入:{s}", s="、".join(n for n in sheets if not n.startswith("_")))
    for w in r.warnings:
        ctx.detail("提示", "{w}", w=w)


# -- 發送月報 / 催報 / 發送通報 -------------------------------------------------------------------
def mail_flow(ctx: Context, kind: str) -> None:
    require_master(ctx)
    from putuo_xl.mail.bulletin import send_bulletin
    from putuo_xl.mail.forms import send_forms
    from putuo_xl.mail.reminders import send_reminders

    plan = book_plan(ctx)
    month = ctx.month(plan)
    master = master_file(ctx, plan)
    cfg = ctx.config
    dry_dir = None
    if ctx.settings.flag("dry_run"):
        dry_dir = ctx.base_dir() / ctx.t("郵件預覽") / month / kind
    with open_ledger_for(ctx, master, must_exist=kind != "forms") as led:
        kwargs = dict(ledger=led, dry_run_dir=dry_dir)
        if kind == "forms":
            folder = forms_folder(ctx, month)
            if not folder.is_dir():
                raise ctx.fail("找不到 {m} 的月報文件夾「{f}」。請先按「生成月報」。",
                               m=layout.month_label(month), f=folder)
            report = send_forms(folder, month, cfg, **kwargs)
        elif kind == "remind":
            report = send_reminders(master, month, cfg, **kwargs)
        else:
            if ctx.on_server:
                from putuo_xl.rollup.run import rollup
                rollup(master, month, cfg)       # the attached master carries this month's 工作報表
            report = send_bulletin(master, month, cfg, **kwargs)
    ctx.lines.extend(report.summary_lines() or report.plan_lines())
    rows = report.rows()
    for r in rows[1:]:
        ctx.details.append([r[2], " ".join(str(x) for x in (r[0], r[1], r[3], r[4], r[5]) if x)])
    if not report.ok:
        ctx.say("有郵件沒有發出,見上面的說明;修正後再按一次即可,已送達的不會重發。")


# -- 年度報告 ----------------------------------------------------------------------------------
def report_folder(ctx: Context) -> Path:
    """年度報告/ beside the master (server: in its project folder)."""
    return ctx.base_dir() / ctx.t("年度報告")


def annual_report_flow(ctx: Context) -> None:
    """The draft 年度報告 of the 報告月份's year, from the open book's plan and the ledger: the
    .docx and its .xlsx annex in 年度報告/ beside the master (server: the project folder, from
    where the task pane's 下載年度報告 fetches them)."""
    require_master(ctx)
    from putuo_xl.report.run import default_paths, write_annual_report

    plan = book_plan(ctx)
    master = ctx.master_path()
    year = int(ctx.month(plan)[:4])
    docx, xlsx = default_paths(report_folder(ctx), year, ctx.script)
    ctx.io.status(ctx.t("正在起草年度報告……"))
    with open_ledger_for(ctx, master) as led:
        res = write_annual_report(led, plan, ctx.config, year, docx, xlsx)
    f = res.figures
    ctx.say("已起草 {y} 年法治政府建設年度報告(統計截至{m},共 {k} 個月)。", y=year,
            m=layout.month_label(f.last), k=len(f.months))
    ctx.say("任務 {n} 項,已完成 {d} 項;考評指標 {t} 項,已達標 {a} 項。", n=len(f.tasks),
            d=f.count("done"), t=len(f.targets), a=f.targets_met)
    if ctx.on_server:
        ctx.say("報告(Word)和附表(Excel)保存在服務器上:請在操作面板中按「下載年度報告」。")
    else:
        ctx.say("報告:{p}", p=docx)
        ctx.say("附表:{p}", p=xlsx)
    for b in res.backups:
        ctx.say("原有的同名文件已另存為 {n}。", n=b.name)
    ctx.say("摘自各單位月報的語句都有批註註明來源;第三部分和署名、日期請辦公室填寫。")
    if f.sample:
        ctx.say("本稿根據示例數據生成,不是真實填報。")
    for w in f.warnings:
        ctx.detail("提示", "{w}", w=w)


# -- 通報文稿 ----------------------------------------------------------------------------------
def bulletin_folder(ctx: Context) -> Path:
    """通報/ beside the master (server: in its project folder)."""
    return ctx.base_dir() / ctx.t("通報")


def bulletin_docx_flow(ctx: Context) -> None:
    """The 報告月份's 通報 as a GB/T 9704 Word document (the text of the 通報 sheet and of
    發送通報), from the open book's plan and the ledger, in 通報/ beside the master (server: the
    project folder, from where the task pane's 下載通報 fetches it)."""
    require_master(ctx)
    from putuo_xl.rollup.run import bulletin_docx_name, write_bulletin

    plan = book_plan(ctx)
    master = ctx.master_path()
    month = ctx.month(plan)
    path = bulletin_folder(ctx) / bulletin_docx_name(month, ctx.script)
    ctx.io.status(ctx.t("正在寫出通報……"))
    with open_ledger_for(ctx, master) as led:
        res = write_bulletin(led, plan, ctx.config, month, path, keep=True)
    ctx.say("已寫出{m}預評估通報(Word,按公文格式排版),文字與「通報」工作表和「發送通報」相同。",
            m=layout.month_label(month))
    if ctx.on_server:
        ctx.say("通報保存在服務器上:請在操作面板中按「下載通報」。")
    else:
        ctx.say("通報:{p}", p=res.path)
    for b in res.backups:
        ctx.say("原有的同名文件已另存為 {n}。", n=b.name)
    for w in res.rollup.warnings:
        ctx.detail("提示", "{w}", w=w)
