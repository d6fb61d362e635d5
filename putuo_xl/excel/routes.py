"""HTTP routes the putuo-xl task pane adds to xlwings Server: download the month's forms as a
zip, download the year's 年度報告 and the month's 通報 as zips, upload returned files. xlwings Server 1.20 includes `router` from the project's
routers/custom.py (server/routers/custom.py imports this module).

    POST {app_path}/putuo/forms/link        body: the workbook JSON (設置, _meta)
         -> {"url", "name", "files", "message"}; the url is a signed link valid 15 minutes
    GET  {app_path}/putuo/forms/download/<token>  -> the zip
    POST {app_path}/putuo/report/link       body: the workbook JSON (設置, _meta)
         -> the same for the 報告月份's year's 年度報告 (.docx) and its annex (.xlsx)
    GET  {app_path}/putuo/report/download/<token> -> the zip
    POST {app_path}/putuo/bulletin/link     body: the workbook JSON (設置, _meta)
         -> the same for the 報告月份's 通報 (.docx, written by the 通報文稿 button)
    GET  {app_path}/putuo/bulletin/download/<token> -> the zip
    POST {app_path}/putuo/returns           multipart: bookData (the workbook JSON), files…
         -> {"folder", "saved", "renamed", "same", "rejected", "message"}

The POST routes authenticate like the scripts and functions (xlwings Server's `get_user`
dependency: XLWINGS_AUTH_PROVIDERS, the Authorization and Auth-Provider headers, required
roles); the download link carries its own signature (XLWINGS_SECRET_KEY, else a key made
when the server starts) because a browser window cannot send the add-in's token.
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
from dataclasses import dataclass
from urllib.parse import quote

import xlwings as xw
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from xlwings_server import dependencies as dep
from xlwings_server.config import settings

from putuo_xl import layout
from putuo_xl.excel import exchange
from putuo_xl.excel.context import Route

router = APIRouter(prefix=f"{settings.app_path}/putuo")
_PROCESS_SECRET = secrets.token_bytes(32)
MAX_UPLOAD_MB = 300                 # one request, all files together
MAX_BOOK_JSON = 16 * 1024 * 1024    # the bookData form field (設置 + _meta)


def _secret() -> bytes:
    key = settings.secret_key or os.environ.get("XLWINGS_SECRET_KEY")
    return key.encode("utf-8") if key else _PROCESS_SECRET


def _book(body) -> xw.Book:
    if not isinstance(body, dict) or not isinstance(body.get("sheets"), list) or "book" not in body:
        raise HTTPException(status_code=400, detail="請求中沒有工作簿數據(bookData)。")
    return xw.Book(json=body)


@dataclass(frozen=True)
class _RouteAction:          # what the audit trail needs of an action
    tag: str
    label: str


FORMS_LINK = _RouteAction("forms_link", "下載本月月報")
REPORT_LINK = _RouteAction("report_link", "下載年度報告")
BULLETIN_LINK = _RouteAction("bulletin_link", "下載通報")
UPLOAD = _RouteAction("upload_returns", "上傳回報")


def _in_book(body, work, route: Route, act: _RouteAction):
    """Run `work(ctx, month)` on the workbook the task pane sent (in a worker thread), and
    record it in the project's audit trail."""
    from putuo_xl.excel.audit import audit
    from putuo_xl.excel.context import UserError
    from putuo_xl.excel.projects import Forbidden

    book = _book(body)
    ctx = None
    try:
        ctx, month = exchange.open_book_context(book, route)
        ctx.project_dir()           # the project must be this user's before anything else
        result = work(ctx, month)
        audit(ctx, act, "ok", result.get("message", ""))
        return result
    except Forbidden as e:
        if ctx is not None:
            audit(ctx, act, "denied", str(e))
        raise HTTPException(status_code=403, detail=str(e)) from None
    except UserError as e:
        if ctx is not None:
            audit(ctx, act, "error", str(e))
        raise
    finally:
        book.close()


async def _link(request: Request, act: _RouteAction, kind: str, archive_of, message):
    """A signed download link for the archive `archive_of(ctx, month)` gives (routes/<kind>)."""
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(status_code=400, detail="請求中沒有工作簿數據(bookData)。") from None

    def work(ctx, month):
        arch = archive_of(ctx, month)
        token = exchange.download_token(ctx.data_dir, arch, _secret())
        return {"url": f"{settings.app_path}/putuo/{kind}/download/{token}", "name": arch.name,
                "files": len(arch.files), "message": message(ctx, arch)}

    return await asyncio.to_thread(_in_book, body, work, Route.server(), act)


@router.post("/forms/link")
async def forms_link(request: Request, current_user: dep.User):
    return await _link(request, FORMS_LINK, "forms", exchange.forms_archive, lambda ctx, arch: ctx.t(
        "{m} 月報 {n} 份,打包為 {z}。", m=arch.month, n=len(arch.files), z=arch.name))


@router.get("/forms/download/{token}")
async def forms_download(token: str):
    return await _download(token, "forms")


@router.post("/report/link")
async def report_link(request: Request, current_user: dep.User):
    """The 報告月份's year's 年度報告 and annex (written by the 年度報告 button) as one zip."""
    return await _link(request, REPORT_LINK, "report",
                       lambda ctx, month: exchange.report_archive(ctx, int(month[:4])),
                       lambda ctx, arch: ctx.t("{y} 年度報告和附表 {n} 份,打包為 {z}。", y=arch.month,
                                               n=len(arch.files), z=arch.name))


@router.get("/report/download/{token}")
async def report_download(token: str):
    return await _download(token, "report")


@router.post("/bulletin/link")
async def bulletin_link(request: Request, current_user: dep.User):
    """The 報告月份's 通報 (written by the 通報文稿 button) as a zip."""
    return await _link(request, BULLETIN_LINK, "bulletin", exchange.bulletin_archive,
                       lambda ctx, arch: ctx.t("{m}預評估通報(Word),打包為 {z}。",
                                               m=layout.month_label(arch.month), z=arch.name))


@router.get("/bulletin/download/{token}")
async def bulletin_download(token: str):
    return await _download(token, "bulletin")


async def _download(token: str, kind: str):
    data_dir = Route.server().data_dir
    try:
        arch = await asyncio.to_thread(exchange.archive_from_token, data_dir, token, _secret(),
                                       None, kind)
    except exchange.BadToken as e:
        return PlainTextResponse(str(e), status_code=403)
    data = await asyncio.to_thread(arch.zip_bytes)
    ascii_name = f"{arch.month}_{kind}.zip"
    return Response(content=data, media_type="application/zip", headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(arch.name)}"})


@router.get("/whoami")
async def whoami(request: Request):
    """The signed-in official, for the task pane (the guard has checked the sign-in)."""
    from putuo_xl.excel.projects import request_identity
    from putuo_xl.excel.users import ROLES

    who = request_identity()
    if who is None:
        raise HTTPException(status_code=401, detail="沒有登錄。")
    return {"name": who.name, "roles": sorted(who.roles),
            "can": [ROLES[r] for r in sorted(who.roles) if r in ROLES]}


@router.post("/returns")
async def upload_returns(request: Request, current_user: dep.User):
    size = request.headers.get("content-length")
    if size and size.isdigit() and int(size) > MAX_UPLOAD_MB * 1024 * 1024:
        raise HTTPException(status_code=413, detail=f"一次上傳的文件合計超過 {MAX_UPLOAD_MB} MB,請分批上傳。")
    try:
        form = await request.form(max_files=exchange.MAX_FILES, max_fields=20, max_part_size=MAX_BOOK_JSON)
    except (MultiPartException, StarletteHTTPException):   # Starlette turns the first into the second
        raise HTTPException(status_code=400, detail=f"一次最多上傳 {exchange.MAX_FILES} 份文件,請分批上傳。") from None
    try:
        raw = form.get("bookData")
        try:
            body = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            body = None
        uploads = [u for u in form.getlist("files") if hasattr(u, "file")]
        if not uploads:
            raise HTTPException(status_code=400, detail="沒有收到文件:請先選擇要上傳的回報文件。")

        times = exchange.received_times(form.get("received"))

        def work(ctx, month):
            return exchange.save_returns(ctx, month, [(u.filename, u.file) for u in uploads],
                                         times=times).as_json()

        return await asyncio.to_thread(_in_book, body, work, Route.server(), UPLOAD)
    finally:
        await form.close()
