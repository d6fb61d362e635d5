"""xlwings Server scripts: the Office.js ribbon buttons (manifest.xml → static/js/ribbon.js
→ POST /xlwings/custom-scripts-call/<name>) call these. Each one runs the same action as the
desktop button with the same tag, in a worker thread so that a long import does not block the
server, with the server's data folder as the place for masters, ledgers and forms.

The server project's custom_scripts/__init__.py star-imports this module.
"""
from __future__ import annotations

import asyncio

import xlwings as xw
from xlwings.server import script

from putuo_xl.excel.actions import ACTIONS, run_action
from putuo_xl.excel.context import Route

__all__ = [
    "build_master", "make_forms", "collect_returns", "refresh_rollup", "unit_view",
    "send_forms", "send_reminders", "send_bulletin", "diagnose", "annual_report",
    "bulletin_docx",
]


async def _run(tag: str, book: xw.Book) -> None:
    from fastapi import HTTPException

    from putuo_xl.excel.projects import Forbidden
    try:
        await asyncio.to_thread(run_action, tag, book, Route.server())
    except Forbidden as e:
        raise HTTPException(status_code=403, detail=str(e)) from None


def _sheets(tag: str) -> dict:
    """@script(include=…) or (exclude=…): which sheets' values the client sends."""
    act = ACTIONS[tag]
    if act.include:
        return {"include": list(act.include)}
    if act.exclude:
        return {"exclude": list(act.exclude)}
    return {}


@script(**_sheets("build_master"))
async def build_master(book: xw.Book):
    """生成台賬"""
    await _run("build_master", book)


@script(**_sheets("make_forms"))
async def make_forms(book: xw.Book):
    """生成月報"""
    await _run("make_forms", book)


@script(**_sheets("collect_returns"))
async def collect_returns(book: xw.Book):
    """導入回報"""
    await _run("collect_returns", book)


@script(**_sheets("refresh_rollup"))
async def refresh_rollup(book: xw.Book):
    """刷新匯總"""
    await _run("refresh_rollup", book)


@script(**_sheets("unit_view"))
async def unit_view(book: xw.Book):
    """單位視圖"""
    await _run("unit_view", book)


@script(**_sheets("send_forms"))
async def send_forms(book: xw.Book):
    """發送月報"""
    await _run("send_forms", book)


@script(**_sheets("send_reminders"))
async def send_reminders(book: xw.Book):
    """催報"""
    await _run("send_reminders", book)


@script(**_sheets("send_bulletin"))
async def send_bulletin(book: xw.Book):
    """發送通報"""
    await _run("send_bulletin", book)


@script(**_sheets("diagnose"))
async def diagnose(book: xw.Book):
    """診斷"""
    await _run("diagnose", book)


@script(**_sheets("annual_report"))
async def annual_report(book: xw.Book):
    """年度報告"""
    await _run("annual_report", book)


@script(**_sheets("bulletin_docx"))
async def bulletin_docx(book: xw.Book):
    """通報文稿"""
    await _run("bulletin_docx", book)
