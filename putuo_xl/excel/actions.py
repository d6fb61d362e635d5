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

from .. import __version__, layout
from ..errors import PutuoError
from .context import DESKTOP, Context, Route, UserError
from .settings import log_sheet_name, status_cells

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
    include: tuple[str, ...] | None = None   # server: only these sheets are sent (None = all)

    @property
    def function_name(self) -> str:
        """The Office.js ribbon FunctionName (manifest.xml ↔ ribbon.js)."""
        return self.tag.replace("_", "-")

    @property
    def control_id(self) -> str:
        return "btn" + "".join(p.capitalize() for p in self.tag.split("_"))


ACTIONS: dict[str, Action] = {}


def action(tag: str, label: str, tooltip: str, image_mso: str,
           include: tuple[str, ...] | None = None):
    def deco(fn: Callable[[Context], None]):
        ACTIONS[tag] = Action(tag, label, tooltip, image_mso, fn, include)
        return fn
    return deco


# -- running an action -----------------------------------------------------------------
def run_action(tag: str, book: xw.Book, route: Route | None = None) -> Context:
    """Run the action `tag` on `book`: the work, then the report (alert, 操作記錄, 設置).
    Raises UserError for problems the official can fix (nothing written to the book then,
    except on the desktop, where `desktop.run` shows it itself)."""
    act = ACTIONS.get(tag)
    if act is None:
        raise UserError(f"沒有名為「{tag}」的操作。請更新 putuo-xl 或檢查功能區按鈕的 tag。")
    ctx = Context.open(book, route or Route(DESKTOP))
    try:
        act.fn(ctx)
    except PutuoError as e:
        raise UserError(ctx.t(str(e))) from None
    finally:
        ctx.io.clear_status()
    report(ctx, act, ok=True)
    return ctx


def report(ctx: Context, act: Action, ok: bool, error: str | None = None,
           trace: str | None = None) -> None:
    """Show what happened: the log sheet (details on top of the history), the status rows
    of 設置 and an alert with the summary."""
    now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    label = ctx.t(act.label)
    result = ctx.t("完成") if ok else ctx.t("失敗")
    lines = list(ctx.lines) if ok else [error or ""]
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
@action("diagnose", "診斷", "檢查 Python、xlwings 和 putuo-xl 的安裝,結果寫到「診斷」工作表。", "Info")
def _diagnose(ctx: Context) -> None:
    import os

    import xlwings

    key = os.environ.get("XLWINGS_LICENSE_KEY") or ""
    rows: list[list] = [
        ["putuo-xl 版本", __version__],
        ["xlwings 版本", xlwings.__version__],
        ["Python", sys.version.split()[0]],
        ["Python 程序", sys.executable],
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
        rows += [["配置文件", cfg.path], ["配置中的單位數", len(cfg.units)]]
    except UserError as e:
        problems.append(str(e))
    if ctx.on_server:
        rows += [["數據目錄", str(ctx.route.data_dir)], ["本台賬的項目文件夾", str(ctx.project_dir())]]
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
