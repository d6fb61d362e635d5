"""Files between officials and the server (server route): the month's generated forms as one
zip to download, the year's 年度報告 (.docx and its .xlsx annex) and the month's 通報 (.docx) as
zips to download, and returned forms / saved e-mails uploaded into the month's returns folder.

On the server, 生成月報 writes into the data folder and 導入回報 reads from it, so without this
officials could neither get their forms nor hand in returns. The task pane (server/templates/
taskpane.html + static/js/putuo-files.js) sends the workbook's 設置 and _meta sheets like a
script call; the folders are the ones the buttons use (設置 月報文件夾 / 回報文件夾 or the
defaults in the master's project folder), with the same confinement to the data folder.

Rules for uploads: only .xlsx/.xlsm/.xls/.eml; each file at most collect.max_file_mb (the
collector's own limit); names reduced to their last path component and made safe (no path
separators or characters Windows refuses, no leading dots); nothing is overwritten — the same
name with other content is saved as 名稱(2).xlsx, the same content is not saved twice; every
file is written atomically. Bad files are listed with the reason and the rest are kept.

The FastAPI routes are in putuo_xl.excel.routes; this module has no web framework in it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import BinaryIO, Iterable

import xlwings as xw

from putuo_xl import layout
from putuo_xl.excel.context import Context, Route, UserError
from putuo_xl.fileio import safe_name
from putuo_xl.excel.flows import forms_folder, require_master, returns_folder
from putuo_xl.excel.settings import settings_sheet_name

UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".eml")
FORM_SUFFIXES = (".xlsx", ".xlsm")
REPORT_SUFFIXES = (".docx", ".xlsx")
MAX_FILES = 200                  # files per upload
TOKEN_SECONDS = 15 * 60          # a download link is valid this long
# The sheets the task pane sends (both scripts): all the server needs to find the folders.
BOOK_SHEETS = (settings_sheet_name("traditional"), settings_sheet_name("simplified"), layout.META_SHEET)


def open_book_context(book: xw.Book, route: Route) -> tuple[Context, str]:
    """The master's context and the 報告月份 of its 設置 sheet (which must exist: the month is
    never guessed for a download or an upload)."""
    ctx = Context.open(book, route)
    require_master(ctx)
    if not ctx.settings.sheet:
        raise ctx.fail("工作簿中沒有「設置」工作表。請先按一次「生成月報」(或其他按鈕),"
                       "在「設置」中填好報告月份,再下載或上傳。")
    return ctx, ctx.month()


def _is_temp(name: str) -> bool:
    return name.startswith(("~$", ".")) or name.lower() in ("thumbs.db", "desktop.ini")


# -- download --------------------------------------------------------------------------------
@dataclass
class FormsArchive:
    month: str                   # forms, bulletin: the month; report: the year
    folder: Path
    files: list[Path]
    name: str                    # the zip's file name
    kind: str = "forms"          # forms | report (年度報告: .docx and .xlsx annex) | bulletin (通報 .docx)

    def zip_bytes(self) -> bytes:
        return zip_files(self.files)


def forms_archive(ctx: Context, month: str) -> FormsArchive:
    """The month's generated forms (the folder 生成月報 wrote to)."""
    folder = forms_folder(ctx, month)
    _confine(ctx, folder)
    files = _form_files(folder)
    if not files:
        raise ctx.fail("{m} 還沒有生成月報(文件夾「{f}」中沒有月報)。請先按「生成月報」。",
                       m=layout.month_label(month), f=_shown(ctx, folder))
    return FormsArchive(month, folder, files, ctx.t("{m}_月報.zip", m=month))


def report_archive(ctx: Context, year: int) -> FormsArchive:
    """The year's 年度報告 and annex (the folder 年度報告 writes to), without earlier drafts."""
    from putuo_xl.excel.flows import report_folder
    folder = report_folder(ctx)
    _confine(ctx, folder)
    files = _report_files(folder, str(year))
    if not files:
        raise ctx.fail("還沒有起草 {y} 年度報告(文件夾「{f}」中沒有)。請先按「年度報告」。",
                       y=year, f=_shown(ctx, folder))
    return FormsArchive(str(year), folder, files, ctx.t("{y}年法治政府建設年度報告.zip", y=year),
                        kind="report")


def _report_files(folder: Path, year: str) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in REPORT_SUFFIXES and p.name.startswith(year)
                   and ".bak-" not in p.name and not _is_temp(p.name)), key=lambda p: p.name)


def bulletin_archive(ctx: Context, month: str) -> FormsArchive:
    """The month's 通報 .docx (the folder 通報文稿 writes to), without earlier copies."""
    from putuo_xl.excel.flows import bulletin_folder
    folder = bulletin_folder(ctx)
    _confine(ctx, folder)
    files = _bulletin_files(folder, month)
    label = layout.month_label(month)
    if not files:
        raise ctx.fail("還沒有寫出{m}的通報(文件夾「{f}」中沒有)。請先按「通報文稿」。",
                       m=label, f=_shown(ctx, folder))
    return FormsArchive(month, folder, files, ctx.t("{m}預評估通報.zip", m=label), kind="bulletin")


def _bulletin_files(folder: Path, month: str) -> list[Path]:
    from putuo_xl.rollup.run import bulletin_docx_name
    names = {bulletin_docx_name(month, s) for s in ("traditional", "simplified")}
    return sorted(p for p in (folder / n for n in names) if p.is_file())


def _form_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in FORM_SUFFIXES and not _is_temp(p.name)),
                  key=lambda p: p.name)


def zip_files(files: Iterable[Path]) -> bytes:
    """One zip of `files` (flat, their own names; UTF-8 names for Chinese)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:   # .xlsx is compressed already
        for p in files:
            st = p.stat()
            info = zipfile.ZipInfo(p.name, date_time=time.localtime(st.st_mtime)[:6])
            info.external_attr = 0o644 << 16
            z.writestr(info, p.read_bytes())
    return buf.getvalue()


def download_token(data_dir: Path, archive: FormsArchive, secret: bytes,
                   now: float | None = None) -> str:
    """A signed, short-lived token naming the forms folder (relative to the data folder):
    the download link opens in the browser, which cannot send the add-in's Authorization."""
    rel = Path(_lexical(archive.folder)).relative_to(_lexical(data_dir)).as_posix()
    payload = {"d": rel, "m": archive.month, "n": archive.name, "k": archive.kind,
               "e": int((now or time.time()) + TOKEN_SECONDS)}
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    body = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    sig = hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()
    return body + "." + base64.urlsafe_b64encode(sig).decode("ascii").rstrip("=")


def _lexical(p) -> str:
    """The path as written, made absolute, `..` removed (symbolic links are not followed: a
    folder the administrator linked into the data folder stays inside it)."""
    return os.path.normpath(os.path.abspath(p))


class BadToken(Exception):
    pass


# kind -> (the files of the token's month or year in its folder, the task pane's button, what
# to say when they are gone)
_KINDS = {
    "forms": (lambda folder, m: _form_files(folder), "下載本月月報", "月報已不在服務器上:請重新生成月報。"),
    "report": (_report_files, "下載年度報告", "年度報告已不在服務器上:請重新按「年度報告」。"),
    "bulletin": (_bulletin_files, "下載通報", "通報已不在服務器上:請重新按「通報文稿」。"),
}


def archive_from_token(data_dir: Path, token: str, secret: bytes,
                       now: float | None = None, kind: str = "forms") -> FormsArchive:
    """The archive a token names; BadToken when it is forged, expired, leaves the data folder or
    names another `kind` of archive."""
    try:
        body, sig = token.split(".")
        want = hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()
        got = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
        if not hmac.compare_digest(want, got):
            raise BadToken("下載鏈接無效。")
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, UnicodeError, json.JSONDecodeError):
        raise BadToken("下載鏈接無效。") from None
    if payload.get("k", "forms") != kind or kind not in _KINDS:
        raise BadToken("下載鏈接無效。")
    files_in, button, gone = _KINDS[kind]
    if payload.get("e", 0) < (now or time.time()):
        raise BadToken(f"下載鏈接已過期:請在操作面板中再按一次「{button}」。")
    root = Path(_lexical(data_dir))
    folder = Path(_lexical(root / payload["d"]))
    if folder != root and root not in folder.parents:
        raise BadToken("下載鏈接無效。")
    files = files_in(folder, str(payload["m"]))
    if not files:
        raise BadToken(gone)
    return FormsArchive(payload["m"], folder, files, payload["n"], kind)


# -- upload -------------------------------------------------------------------------------------
@dataclass
class UploadResult:
    folder: Path
    shown_folder: str
    saved: list[tuple[str, str]] = field(default_factory=list)      # (name sent, name saved)
    same: list[str] = field(default_factory=list)                   # already there, same bytes
    rejected: list[tuple[str, str]] = field(default_factory=list)   # (name sent, reason)
    script: str = "traditional"
    received: dict[str, str] = field(default_factory=dict)          # name saved -> 收件日期

    def message(self) -> str:
        from putuo_xl.text import in_script
        parts = []
        if self.saved:
            days = sorted(set(self.received.values()))
            when = ""
            if days:
                when = f"收件日期 {days[0]}" + (f" 至 {days[-1]}" if len(days) > 1 else "") + "。"
            parts.append(f"已保存 {len(self.saved)} 份到「{self.shown_folder}」。{when}")
        if self.same:
            parts.append(f"{len(self.same)} 份已經在服務器上,沒有重複保存。")
        if self.rejected:
            parts.append(f"未保存 {len(self.rejected)} 份:" + ";".join(
                f"{n}:{r}" for n, r in self.rejected[:8]) + ("…" if len(self.rejected) > 8 else ""))
        if self.saved or self.same:
            parts.append("請按「導入回報」把它們收進台賬。")
        return in_script("".join(parts) or "沒有收到文件。", self.script)

    def as_json(self) -> dict:
        return {"folder": self.shown_folder, "saved": [s for _, s in self.saved],
                "renamed": [[a, b] for a, b in self.saved if a != b], "same": self.same,
                "rejected": [[n, r] for n, r in self.rejected], "received": self.received,
                "message": self.message()}


def upload_name(sent: str) -> tuple[str | None, str | None]:
    """(safe name, None) or (None, reason) for a file name as a browser sent it."""
    base = PurePath(str(sent or "").replace("\\", "/")).name if sent else ""
    base = base.split("/")[-1]
    suffix = PurePath(base).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        return None, "只接受 .xlsx、.xlsm、.xls 月報和保存的郵件 .eml。"
    if _is_temp(base):
        return None, "這是 Excel/WPS 打開文件時生成的臨時文件,不是月報。"
    stem = safe_name(base[: -len(suffix)], fallback="回報")[:100]
    return stem + base[-len(suffix):], None


def received_times(raw) -> dict[str, float]:
    """{file name: POSIX time it arrived} from the task pane's `received` field: each file's
    lastModified (when the official saved the e-mail's attachment) unless the official set
    another 收件日期, which then counts from noon of that day. Anything unreadable is left
    out (the file then counts from the upload)."""
    from datetime import datetime, time as dtime
    try:
        data = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    out: dict[str, float] = {}
    now = time.time()
    for name, info in (data.items() if isinstance(data, dict) else ()):
        if not isinstance(info, dict):
            continue
        ms = info.get("lastModified")
        t = ms / 1000 if isinstance(ms, (int, float)) and ms > 0 else None
        day = info.get("date")
        if isinstance(day, str) and day:
            try:
                d = datetime.strptime(day, "%Y-%m-%d").date()
            except ValueError:
                d = None
            if d is not None and (t is None or datetime.fromtimestamp(t).date() != d):
                t = datetime.combine(d, dtime(12, 0)).timestamp()
        if t is not None and 0 < t <= now + 86400:
            out[PurePath(str(name).replace("\\", "/")).name] = t
    return out


def save_returns(ctx: Context, month: str, files: Iterable[tuple[str, BinaryIO]],
                 max_files: int = MAX_FILES, times: dict[str, float] | None = None) -> UploadResult:
    """Store uploaded files (name as sent, readable binary file) in the month's returns folder.
    `times`: when each file arrived (received_times); a stored file gets it as its time, which
    collect reads as the 收件日期."""
    folder = returns_folder(ctx, month, must_exist=False)
    _confine(ctx, folder)
    if folder.exists() and not folder.is_dir():
        raise ctx.fail("回報文件夾「{p}」是一個文件,不是文件夾。請在 {where} 填寫文件夾。",
                       p=_shown(ctx, folder), where=ctx.settings.where("returns_dir"))
    max_mb = float(ctx.config.section("collect").get("max_file_mb") or 20)
    limit = int(max_mb * 1024 * 1024)
    res = UploadResult(folder, _shown(ctx, folder), script=ctx.script)
    for n, (sent, fh) in enumerate(files):
        shown = PurePath(str(sent or "").replace("\\", "/")).name or ctx.t("(無名文件)")
        if n >= max_files:
            res.rejected.append((shown, ctx.t("一次最多上傳 {n} 份,請分批上傳。", n=max_files)))
            continue
        name, why = upload_name(sent)
        if name is None:
            res.rejected.append((shown, ctx.t(why)))
            continue
        data = fh.read(limit + 1)
        if len(data) > limit:
            res.rejected.append((shown, ctx.t("文件超過 {mb:g} MB(collect.max_file_mb),月報表通常只有"
                                              "幾十 KB:請確認沒有發錯文件。", mb=max_mb)))
            continue
        if not data:
            res.rejected.append((shown, ctx.t("文件是空的。")))
            continue
        stored, new = _store_new(folder, name, data)
        if new:
            when = (times or {}).get(shown)
            if when is not None:
                os.utime(stored, (when, when))
            res.saved.append((shown, stored.name))
            res.received[stored.name] = time.strftime("%Y-%m-%d", time.localtime(stored.stat().st_mtime))
        else:
            res.same.append(stored.name)
    return res


def _store_new(folder: Path, name: str, data: bytes) -> tuple[Path, bool]:
    """Write `data` as folder/name, or name(2), name(3)… when another file has that name;
    (path, True) — or (existing path, False) when a file there has the same bytes. Never
    replaces a file: the new file appears complete under its name or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).digest()
    stem, suffix = name[: -len(PurePath(name).suffix)], PurePath(name).suffix
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=str(folder))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        k = 1
        while True:
            cand = folder / (name if k == 1 else f"{stem}({k}){suffix}")
            if cand.exists():
                if cand.is_file() and hashlib.sha256(cand.read_bytes()).digest() == digest:
                    return cand, False
            else:
                try:
                    os.link(tmp, cand)          # atomic and never replaces an existing file
                    return cand, True
                except FileExistsError:
                    continue                    # someone was quicker: look at it again
                except OSError:                 # no hard links here (some shares): exclusive create
                    try:
                        with open(cand, "xb") as out:
                            out.write(data)
                        return cand, True
                    except FileExistsError:
                        continue
            k += 1
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


# -- helpers ---------------------------------------------------------------------------------------
def _confine(ctx: Context, folder: Path) -> None:
    root = Path(os.path.normpath(os.path.abspath(ctx.server_root())))
    p = Path(os.path.normpath(os.path.abspath(folder)))
    if p != root and root not in p.parents:
        raise UserError(ctx.public(ctx.t("文件夾「{p}」不在本台賬的服務器文件夾內。", p=folder)))


def _shown(ctx: Context, folder: Path) -> str:
    """A folder as an official should read it: relative to the master's project folder."""
    root = os.path.normpath(os.path.abspath(ctx.project_dir()))
    try:
        return Path(os.path.normpath(os.path.abspath(folder))).relative_to(root).as_posix()
    except ValueError:
        return ctx.public(str(folder))
