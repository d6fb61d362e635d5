"""The ribbon actions: one function per button, each taking the open `xw.Book`.

The same functions serve both front ends: the desktop add-in (VBA `RunTagged` →
`putuo_xl.excel.desktop.run(tag)` → `xw.Book.caller()`) and xlwings Server (the Office.js
ribbon → `putuo_xl.excel.server_scripts`). Each action reads what it needs from the book
once, does the heavy work on files through the library, writes results back in a few block
writes, and tells the official what happened: an alert with the summary, the 操作記錄 sheet
with every detail, and 上次操作 / 操作結果 in the 設置 sheet.

Problems the official can fix raise `UserError` (an `xw.XlwingsError` with a Chinese
message; xlwings Server answers it with HTTP 400 and the add-in shows it).
"""
from __future__ import annotations

import platform
import sys
import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import xlwings as xw

from putuo_xl import __version__, layout
from putuo_xl.errors import PutuoError
from putuo_xl.excel.context import DESKTOP, AskMonth, Context, Route, UserError
from putuo_xl.excel.settings import log_sheet_name, status_cells

LOG_HEADER = ["時間", "操作", "類別", "內容"]
LOG_KEEP_ROWS = 1000
ALERT_LINES = 14


@dataclass(frozen=True)
class Action:
    tag: str           # ribbon tag = server script name = desktop.run() key (ASCII)
    label: str         # the button's caption
    tooltip: str
    image_mso: str     # desktop ribbon icon (a built-in Office image)
    fn: Callable[[Context], None]
    group: str = "help"                      # ribbon group (see GROUPS)
    include: tuple[str, ...] | None = None   # server: only these sheets' values are sent
    exclude: tuple[str, ...] | None = None   # server: these sheets' values are not sent

    @property
    def function_name(self) -> str:
        """The Office.js ribbon FunctionName (manifest.xml ↔ ribbon.js)."""
        return self.tag.replace("_", "-")

    @property
    def control_id(self) -> str:
        return "btn" + "".join(p.capitalize() for p in self.tag.split("_"))


ACTIONS: dict[str, Action] = {}
# Ribbon groups of the 法治政府 tab, in order: key -> caption.
GROUPS = {"master": "台賬", "forms": "月報", "report": "報告", "mail": "郵件", "help": "幫助"}


def _both_scripts(*names: str) -> tuple[str, ...]:
    from putuo_xl.text import to_simplified
    out: list[str] = []
    for n in names:
        for v in (n, to_simplified(n)):
            if v not in out:
                out.append(v)
    return tuple(out)


# What the server needs of the workbook, to keep requests small (the client sends every
# sheet's values otherwise): the report sheets and the views are only written, never read.
_WRITTEN_ONLY = _both_scripts(*(layout.SHEETS[k] for k in layout.ROLLUP_SHEETS),
                              layout.SHEETS["receipts"], layout.SHEETS["by_unit"],
                              layout.SHEETS["matrix"], layout.SHEETS["indicators"], "診斷") + (
    layout.STATUS_SHEET, layout.ACTUALS_SHEET, layout.PLAN_SHEET, layout.UNITS_SHEET, layout.CHARTS_SHEET)
# 刷新匯總 rewrites 趨勢's charts: the client lists a sheet's charts only when it sends the sheet
_TREND = _both_scripts(layout.SHEETS["trend"])
_ROLLUP_EXCLUDE = tuple(n for n in _WRITTEN_ONLY if n not in _TREND)
_SETTINGS_ONLY = _both_scripts("設置", "操作記錄") + (layout.META_SHEET,)


def action(tag: str, label: str, tooltip: str, image_mso: str, group: str,
           include: tuple[str, ...] | None = None, exclude: tuple[str, ...] | None = None):
    def deco(fn: Callable[[Context], None]):
        ACTIONS[tag] = Action(tag, label, tooltip, image_mso, fn, group, include, exclude)
        return fn
    return deco


# -- running an action -----------------------------------------------------------------
def run_action(tag: str, book: xw.Book, route: Route | None = None) -> Context:
    """Run the action `tag` on `book`: the work, then the report (alert, 操作記錄, 設置) and
    the audit trail in the master's ledger. Raises UserError for problems the official can
    fix (nothing written to the book then, except on the desktop, where `desktop.run` shows
    it itself) and projects.Forbidden on the server for a project the user may not open."""
    from putuo_xl.excel.audit import audit
    from putuo_xl.excel.projects import Forbidden

    act = ACTIONS.get(tag)
    if act is None:
        raise UserError(f"沒有名為「{tag}」的操作。請更新 putuo-xl 或檢查功能區按鈕的 tag。")
    ctx = Context.open(book, route or Route(DESKTOP))
    try:
        act.fn(ctx)
    except AskMonth:
        ctx.asked = True    # the official was asked for the month: nothing else was done
    except PutuoError as e:
        err = UserError(ctx.public(ctx.t(str(e))))
        audit(ctx, act, "error", str(err))
        raise err from None
    except OSError as e:        # the disk or the system: one sentence, not a traceback
        from putuo_xl.errors import os_error_message
        err = UserError(ctx.public(ctx.t(os_error_message(e))))
        audit(ctx, act, "error", str(err))
        raise err from None
    except Forbidden as e:
        audit(ctx, act, "denied", str(e))
        raise
    except Exception as e:
        audit(ctx, act, "error", ctx.public(str(e)) or type(e).__name__)
        raise
    finally:
        ctx.io.clear_status()
    report(ctx, act, ok=True)
    audit(ctx, act, "ok", "\n".join(ctx.lines))
    return ctx


def report(ctx: Context, act: Action, ok: bool, error: str | None = None,
           trace: str | None = None) -> None:
    """Show what happened: the log sheet (details on top of the history), the status rows
    of 設置 and an alert with the summary."""
    now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    label = ctx.t(act.label)
    result = ctx.t("待確認" if getattr(ctx, "asked", False) else "完成") if ok else ctx.t("失敗")
    lines = [ctx.public(x) for x in (ctx.lines if ok else [error or ""])]
    ctx.details = [[kind, ctx.public(str(text))] for kind, text in ctx.details]
    rows = [[now, label, result, lines[0] if lines else result]]
    rows += [[now, label, ctx.t("說明") if ok else ctx.t("錯誤"), ln] for ln in lines[1:]]
    rows += [[now, label, kind, text] for kind, text in ctx.details]
    if trace:
        rows += [[now, label, ctx.t("程序詳情"), ln] for ln in trace.rstrip().splitlines()]
    log_name = ctx.io.find(log_sheet_name("traditional"), log_sheet_name("simplified")) \
        or log_sheet_name(ctx.script)
    old = ctx.io.values(log_name)[1:] if log_name in ctx.io.sheet_names() else []
    ctx.io.write(log_name, [[ctx.t(h) for h in LOG_HEADER]] + rows + old[:max(0, LOG_KEEP_ROWS - len(rows))])
    if ctx.settings.sheet:
        cells = status_cells(ctx.io.values(ctx.settings.sheet))
        if "last_action" in cells and cells.get("last_result") == cells["last_action"] + 1:
            first = lines[0] if lines else result
            ctx.io.write_at(ctx.settings.sheet, f"B{cells['last_action']}",
                            [[f"{label} {now}"], [f"{result}:{first}"]])
    # whole sheets sent as one file (transfer.py): after every write that addresses sheets by
    # position, before the alert
    for emit in ctx.finish if ok else ():
        emit()
    body = lines[:ALERT_LINES]
    if len(lines) > ALERT_LINES or ctx.details:
        body.append(ctx.t("詳見「{name}」工作表。", name=log_name))
    ctx.io.alert("\n".join(body) or result, title=f"{label} {result}")


def run_reporting_errors(tag: str, book: xw.Book, route: Route | None = None) -> bool:
    """Desktop: run the action and show any error in Excel itself (alert + 操作記錄), so
    that no Python traceback with garbled Chinese pops up. Returns whether it succeeded."""
    try:
        run_action(tag, book, route)
        return True
    except Exception as e:  # noqa: BLE001 - every failure is shown to the official
        act = ACTIONS.get(tag) or Action(tag, tag, "", "", lambda c: None)
        ctx = Context.open(book, route or Route(DESKTOP))
        if isinstance(e, (xw.XlwingsError, PutuoError)):
            report(ctx, act, ok=False, error=str(e))
        else:
            report(ctx, act, ok=False,
                   error=ctx.t("程序出錯:{err}。請把「操作記錄」工作表發給維護人員。",
                               err=f"{type(e).__name__}: {e}"),
                   trace=traceback.format_exc())
        return False


# -- the actions -------------------------------------------------------------------------
@action("build_master", "生成台賬", "按「設置」中的通知文件(留空 = 內置的 2020 年普陀區工作要點)"
        "生成任務分解台賬。", "TableInsert", "master", include=_SETTINGS_ONLY)
def _build_master(ctx: Context) -> None:
    from putuo_xl.excel.flows import build_master_flow
    build_master_flow(ctx)


@action("unit_view", "單位視圖", "先選中一個單位名稱(任何工作表中),再按此按鈕:"
        "「按單位查看」切換到該單位。", "FilterBySelection", "master")
def _unit_view(ctx: Context) -> None:
    from putuo_xl.excel.flows import unit_view_flow
    unit_view_flow(ctx)


@action("make_forms", "生成月報", "為報告月份的每個責任單位生成一份月報填報表。", "FileSaveAs", "forms", exclude=_WRITTEN_ONLY)
def _make_forms(ctx: Context) -> None:
    from putuo_xl.excel.flows import make_forms_flow
    make_forms_flow(ctx)


@action("collect_returns", "導入回報", "讀取回報文件夾中各單位交回的月報,逐份檢查後存入台賬數據庫,"
        "結果寫到「收件情況」。", "ImportExcel", "forms", exclude=_WRITTEN_ONLY)
def _collect_returns(ctx: Context) -> None:
    from putuo_xl.excel.flows import collect_flow
    collect_flow(ctx)


@action("refresh_rollup", "刷新匯總", "按台賬數據庫重新計算月度匯總、任務進展、考評指標、趨勢、預評估和通報。",
        "Refresh", "forms", exclude=_ROLLUP_EXCLUDE)
def _refresh_rollup(ctx: Context) -> None:
    from putuo_xl.excel.flows import rollup_flow
    rollup_flow(ctx)


@action("annual_report", "年度報告", "按台賬起草報告月份所在年度的法治政府建設年度報告(Word,按公文格式排版)"
        "和附表(Excel,供公開),保存在台賬旁的「年度報告」文件夾。", "ExportWord", "report",
        exclude=_WRITTEN_ONLY)
def _annual_report(ctx: Context) -> None:
    from putuo_xl.excel.flows import annual_report_flow
    annual_report_flow(ctx)


@action("bulletin_docx", "通報文稿", "把報告月份的預評估通報(與「通報」工作表、「發送通報」的文字相同)"
        "寫成 Word 文件(按公文格式排版),保存在台賬旁的「通報」文件夾。", "ExportWord", "report",
        exclude=_WRITTEN_ONLY)
def _bulletin_docx(ctx: Context) -> None:
    from putuo_xl.excel.flows import bulletin_docx_flow
    bulletin_docx_flow(ctx)


@action("send_forms", "發送月報", "把報告月份的月報分別發給各單位的郵箱。", "FileSendAsAttachment", "mail", exclude=_WRITTEN_ONLY)
def _send_forms(ctx: Context) -> None:
    from putuo_xl.excel.flows import mail_flow
    mail_flow(ctx, "forms")


@action("send_reminders", "催報", "給報告月份還沒有交回月報的單位發催報郵件。", "Reminder", "mail", exclude=_WRITTEN_ONLY)
def _send_reminders(ctx: Context) -> None:
    from putuo_xl.excel.flows import mail_flow
    mail_flow(ctx, "remind")


@action("send_bulletin", "發送通報", "把報告月份的預評估通報發給通報名單。", "NewMailMessage", "mail", exclude=_WRITTEN_ONLY)
def _send_bulletin(ctx: Context) -> None:
    from putuo_xl.excel.flows import mail_flow
    mail_flow(ctx, "bulletin")


@action("diagnose", "診斷", "檢查 Python、xlwings 和 putuo-xl 的安裝,結果寫到「診斷」工作表。",
        "Info", "help", include=_SETTINGS_ONLY)
def _diagnose(ctx: Context) -> None:
    import os

    import xlwings

    key = os.environ.get("XLWINGS_LICENSE_KEY") or ""
    rows: list[list] = [
        ["putuo-xl 版本", __version__],
        ["xlwings 版本", xlwings.__version__],
        ["Python", sys.version.split()[0]],
        ["Python 程序", ctx.public(sys.executable)],
        ["操作系統", platform.platform()],
        ["運行方式", ctx.t("服務器 (xlwings Server)" if ctx.on_server else "桌面 (RunPython)")],
        ["xlwings 許可", "noncommercial" if key == "noncommercial" else ctx.t("已設置" if key else "未設置")],
        ["工作簿", ctx.io.name],
        ["台賬標記 (_meta kind)", ctx.meta.get("kind") or ctx.t("(不是 putuo-xl 台賬)")],
    ]
    problems: list[str] = []
    if ctx.meta.get("kind") and ctx.meta["kind"] != layout.MASTER_KIND:
        problems.append(ctx.t("_meta 的 kind 是「{kind}」,不是台賬。", kind=ctx.meta["kind"]))
    try:
        cfg = ctx.config
        rows += [["配置文件", ctx.public(str(cfg.path))], ["配置中的單位數", len(cfg.units)]]
    except UserError as e:
        problems.append(str(e))
    if ctx.on_server:       # no server path is shown to an official
        rows += [["登錄用戶", ctx.route.who()]]
    else:
        try:
            rows.append(["台賬文件", str(ctx.master_path())])
        except UserError as e:
            rows.append(["台賬文件", ctx.t("(未保存)")])
            problems.append(str(e))
    rows.append(["發現的問題", len(problems)])
    rows += [["問題", p] for p in problems]
    name = ctx.t("診斷")
    ctx.io.write(name, [[ctx.t("項目"), ctx.t("值")]] + [[ctx.t(a), b] for a, b in rows])
    ctx.say("putuo-xl {v},xlwings {xv},Python {pv}。", v=__version__, xv=xlwings.__version__,
            pv=sys.version.split()[0])
    if problems:
        ctx.say("發現 {n} 個問題,見「{name}」工作表:", n=len(problems), name=name)
        ctx.lines.extend(problems)
    else:
        ctx.say("沒有發現問題。")


# -- one public function per action, taking the book ------------------------------------
def diagnose(book: xw.Book, route: Route | None = None) -> Context:
    """診斷: versions, interpreter, licence, files — into the 診斷 sheet."""
    return run_action("diagnose", book, route)


def build_master(book: xw.Book, route: Route | None = None) -> Context:
    """生成台賬: the master from the notice named in 設置."""
    return run_action("build_master", book, route)


def unit_view(book: xw.Book, route: Route | None = None) -> Context:
    """單位視圖: the 按單位查看 sheet switched to the selected unit."""
    return run_action("unit_view", book, route)


def make_forms(book: xw.Book, route: Route | None = None) -> Context:
    """生成月報: this month's form for every unit."""
    return run_action("make_forms", book, route)


def collect_returns(book: xw.Book, route: Route | None = None) -> Context:
    """導入回報: returned forms from the returns folder into the ledger; 收件情況 rewritten."""
    return run_action("collect_returns", book, route)


def refresh_rollup(book: xw.Book, route: Route | None = None) -> Context:
    """刷新匯總: the report sheets and _status/_actuals from the ledger."""
    return run_action("refresh_rollup", book, route)


def annual_report(book: xw.Book, route: Route | None = None) -> Context:
    """年度報告: the draft annual report (.docx) and its annex (.xlsx) of the 報告月份's year."""
    return run_action("annual_report", book, route)


def bulletin_docx(book: xw.Book, route: Route | None = None) -> Context:
    """通報文稿: the 報告月份's 通報 as a GB/T 9704 Word document (.docx)."""
    return run_action("bulletin_docx", book, route)


def send_forms(book: xw.Book, route: Route | None = None) -> Context:
    """發送月報: each unit its form by e-mail."""
    return run_action("send_forms", book, route)


def send_reminders(book: xw.Book, route: Route | None = None) -> Context:
    """催報: reminders to units that have not reported."""
    return run_action("send_reminders", book, route)


def send_bulletin(book: xw.Book, route: Route | None = None) -> Context:
    """發送通報: the bulletin to its recipients."""
    return run_action("send_bulletin", book, route)
