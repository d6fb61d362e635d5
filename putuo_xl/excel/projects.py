"""Projects on the server: one folder in the data folder per master, named by a key that
holds a random secret (made when the server builds the master, kept in its `_meta` sheet).

A key that does not exist and a key the user may not open get the same answer (403), so a
key cannot be guessed or probed; nothing is ever found by a workbook's name.
"""
from __future__ import annotations

import contextvars
import json
import re
import secrets
from datetime import datetime
from pathlib import Path

from putuo_xl.excel.users import Identity, local_identity

AUTH_ENV = "PUTUO_XL_AUTH"          # "off": a server started with --no-auth (127.0.0.1 only)

PROJECT_FILE = "project.json"
_SECRET_LEN = 22                                     # token_urlsafe(16)
KEY_RE = re.compile(r"^[^\x00-\x1f/\\:*?\"<>|.][^\x00-\x1f/\\:*?\"<>|]{0,40}-[A-Za-z0-9_-]{22}$")
NO_ACCESS = "沒有這個台賬,或您沒有使用它的權限。請打開服務器生成的台賬,或向管理員申請權限。"

# The signed-in user of the request being served and the project the add-in says the calling
# workbook belongs to (header X-Putuo-Project, read from the workbook by server/static/js/
# putuo-auth.js); set by the guard middleware, read by actions and worksheet functions.
current_identity: contextvars.ContextVar[Identity | None] = contextvars.ContextVar(
    "putuo_identity", default=None)
current_project_header: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "putuo_project_header", default=None)
# What the calling Excel can do (headers X-Putuo-ExcelApi, X-Putuo-Platform, sent by auth.js):
# {"excel_api": "1.17", "platform": "PC" | "Mac" | "OfficeOnline" | …}; {} when unknown.
current_client: contextvars.ContextVar[dict] = contextvars.ContextVar("putuo_client", default={})


class Forbidden(Exception):
    """No such project, or not this user's: always the same message (HTTP 403)."""

    def __init__(self, message: str = NO_ACCESS):
        super().__init__(message)


def new_key(title: str) -> str:
    from putuo_xl.fileio import safe_name
    base = safe_name(title)[:40].rstrip(" .-") or "台賬"
    return f"{base}-{secrets.token_urlsafe(16)}"


def is_key(key: str | None) -> bool:
    return bool(key) and bool(KEY_RE.match(key))


def create(data_dir: Path, key: str, title: str, identity: Identity) -> Path:
    from putuo_xl.fileio import atomic_write_text
    folder = Path(data_dir) / key
    folder.mkdir(parents=True, exist_ok=False)
    info = {"title": title, "created_by": identity.id, "created_by_name": identity.name,
            "created_at": datetime.now().astimezone().isoformat(timespec="seconds")}
    atomic_write_text(folder / PROJECT_FILE, json.dumps(info, ensure_ascii=False, indent=1),
                      check_open=False)
    return folder


def info(data_dir: Path, key: str) -> dict | None:
    try:
        return json.loads((Path(data_dir) / key / PROJECT_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def open_project(data_dir: Path, key: str | None, identity: Identity) -> Path:
    """The project's folder, if `key` names a project `identity` may open; else Forbidden."""
    if not is_key(key):
        raise Forbidden()
    root = Path(data_dir).resolve()
    folder = (root / key).resolve()
    if folder.parent != root:
        raise Forbidden()
    meta = info(root, key)
    if meta is None:
        raise Forbidden()
    if not identity.may_open(key, meta.get("created_by")):
        raise Forbidden()
    return folder


def request_identity() -> Identity | None:
    """Who is asking: the signed-in user of this request; on a server started with --no-auth
    the one local user; None when sign-in is required and nobody signed in."""
    import os
    who = current_identity.get()
    if who is None and os.environ.get(AUTH_ENV) == "off":
        return local_identity()
    return who
