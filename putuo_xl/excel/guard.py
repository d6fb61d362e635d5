"""The guard in front of xlwings Server: every check a request must pass BEFORE its body is
read or parsed (xlwings' own dependencies read and parse the book first, then authenticate).

In order: the Host is one of this server's names (no DNS rebinding); a request that changes
anything is a POST from this server's own pages (Origin, Sec-Fetch-Site), with the content
type the route expects (JSON for actions, multipart with our own header for uploads — both
force a browser's CORS preflight, which is closed); the user is signed in (xlwings Server's
auth provider, checked here from the headers alone) and has the route's role; the body has a
declared length within the route's limit and arrives in time; an action's JSON has the shape
an action needs. Every refusal is a Chinese message in a 4xx response.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from putuo_xl.excel import projects
from putuo_xl.excel.users import ACTION_ROLES, ROLES, Identity, identity_for, local_identity

log = logging.getLogger("putuo_xl.guard")

ACTION_MB_ENV = "PUTUO_XL_MAX_REQUEST_MB"
UPLOAD_MB_ENV = "PUTUO_XL_MAX_UPLOAD_MB"
HOSTS_ENV = "PUTUO_XL_ALLOWED_HOSTS"
DEFAULT_ACTION_MB = 8
DEFAULT_UPLOAD_MB = 300
BODY_SECONDS_ENV = "PUTUO_XL_BODY_SECONDS"
BODY_SECONDS = 120            # the whole body of an action must arrive within this
UPLOAD_IDLE_SECONDS = 60      # an upload may not stall longer than this between chunks
CLIENT_HEADER = "x-putuo-client"
PROJECT_HEADER = "x-putuo-project"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass
class Policy:
    auth: bool = True
    hosts: set[str] = field(default_factory=lambda: set(LOOPBACK))   # host names, no port
    origins: set[str] = field(default_factory=set)                   # extra allowed origins
    app_path: str = ""
    action_bytes: int = DEFAULT_ACTION_MB * 1024 * 1024
    upload_bytes: int = DEFAULT_UPLOAD_MB * 1024 * 1024
    body_seconds: float = BODY_SECONDS

    @classmethod
    def from_env(cls, app_path: str = "", cors: list[str] | None = None,
                 hostname: str | None = None) -> "Policy":
        hosts = set(LOOPBACK)
        for h in (os.environ.get(HOSTS_ENV) or "").split(","):
            if h.strip():
                hosts.add(h.strip().lower())
        if hostname:
            hosts.add(hostname.lower())
        return cls(auth=os.environ.get(projects.AUTH_ENV) != "off", hosts=hosts,
                   origins={o.rstrip("/") for o in (cors or [])}, app_path=app_path.rstrip("/"),
                   action_bytes=int(float(os.environ.get(ACTION_MB_ENV) or DEFAULT_ACTION_MB) * 1024 * 1024),
                   upload_bytes=int(float(os.environ.get(UPLOAD_MB_ENV) or DEFAULT_UPLOAD_MB) * 1024 * 1024),
                   body_seconds=float(os.environ.get(BODY_SECONDS_ENV) or BODY_SECONDS))


@dataclass
class RouteKind:
    name: str            # script | functions | forms_link | report_link | bulletin_link | upload_returns | whoami | other
    role_key: str        # key of users.ACTION_ROLES
    body: str            # json | multipart | none


def classify(method: str, path: str, app_path: str = "") -> RouteKind | None:
    """What a request is; None for what needs no guard beyond the Host (pages, scripts,
    manifest, static files, metadata: all GET)."""
    if app_path and path.startswith(app_path):
        path = path[len(app_path):]
    if method in ("GET", "HEAD", "OPTIONS"):
        if path == "/putuo/whoami":
            return RouteKind("whoami", "whoami", "none")
        return None
    if path.startswith("/xlwings/custom-scripts-call/"):
        name = path.rsplit("/", 1)[-1]
        return RouteKind("script", name, "json")
    if path == "/xlwings/custom-functions-call":
        return RouteKind("functions", "functions", "json")
    if path in ("/putuo/forms/link", "/putuo/report/link", "/putuo/bulletin/link"):
        name = path.split("/")[2] + "_link"
        return RouteKind(name, name, "json")
    if path == "/putuo/returns":
        return RouteKind("upload_returns", "upload_returns", "multipart")
    return RouteKind("other", "functions", "json")


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


async def respond(send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


def _headers(scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers") or ():
        out.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
    return out


def host_name(host_header: str) -> str:
    h = host_header.strip().lower()
    if h.startswith("["):
        return h[: h.find("]") + 1] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


class Guard:
    """ASGI middleware; `app` is xlwings Server's app (with its CORS middleware)."""

    def __init__(self, app, policy: Policy):
        self.app, self.policy = app, policy

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            receive = await self._check(scope, receive)
        except Refused as r:
            log.warning("refused %s %s: %s %s", scope.get("method"), scope.get("path"), r.status, r.message)
            return await respond(send, r.status, r.message)
        return await self.app(scope, receive, send)

    async def _check(self, scope, receive):
        h = _headers(scope)
        p = self.policy
        host = host_name(h.get("host", ""))
        if host not in p.hosts:
            raise Refused(400, f"這個服務器不接受發往「{host or '(空)'}」的請求。請用管理員給出的地址"
                               f"訪問;管理員可以用 putuo-xl serve --allow-host 添加地址。")
        kind = classify(scope["method"], scope["path"], p.app_path)
        if kind is None:
            return receive
        if kind.body != "none":
            self._same_origin(h, scope)
            self._content_type(h, kind)
        identity = await self._identity(h, scope)
        role = ACTION_ROLES.get(kind.role_key)     # an unknown script: xlwings answers it
        if not identity.has_role(role):
            raise Refused(403, f"{identity.name} 沒有「{ROLES[role]}」的權限(需要角色 {role})。"
                               f"請向管理員申請。")
        projects.current_identity.set(identity)
        # percent-encoded by the add-in (a header is ASCII; a key holds the master's title)
        projects.current_project_header.set(unquote((h.get(PROJECT_HEADER) or "").strip()) or None)
        scope.setdefault("state", {})["putuo_identity"] = identity
        projects.current_client.set(client_caps(h))
        if kind.body == "none":
            return receive
        limit = p.upload_bytes if kind.body == "multipart" else p.action_bytes
        length = h.get("content-length")
        if length is None or not length.isdigit():
            raise Refused(411, "請求沒有註明長度(Content-Length)。請用 Excel 中的加載項操作。")
        if int(length) > limit:
            mb = limit / 1024 / 1024
            what = "一次上傳的文件合計" if kind.body == "multipart" else "工作簿數據"
            raise Refused(413, f"{what}超過 {mb:g} MB,服務器不接收。" + (
                "請分批上傳。" if kind.body == "multipart" else
                "請刪除台賬中不需要的大表,或請管理員調大 --max-request-mb。"))
        if kind.body == "multipart":
            return _limited_receive(receive, int(length))
        body = await _read_body(receive, int(length), p.body_seconds)
        _check_json(body, kind)
        return _replay(body)

    def _same_origin(self, h: dict, scope) -> None:
        origin = (h.get("origin") or "").rstrip("/")
        site = (h.get("sec-fetch-site") or "").lower()
        if origin and origin != "null":
            u = urlsplit(origin)
            if origin in self.policy.origins:
                return
            if (u.netloc or "").lower() == (h.get("host") or "").lower():
                return
            raise Refused(403, "拒絕跨站請求:只接受本服務器自己的加載項頁面發出的操作。")
        if origin == "null" or site == "cross-site":
            raise Refused(403, "拒絕跨站請求:只接受本服務器自己的加載項頁面發出的操作。")

    @staticmethod
    def _content_type(h: dict, kind: RouteKind) -> None:
        ctype = (h.get("content-type") or "").split(";")[0].strip().lower()
        if kind.body == "json" and ctype != "application/json":
            raise Refused(415, "請求的格式不對:操作只接受 JSON(Content-Type: application/json)。"
                               "請用 Excel 中的加載項操作。")
        if kind.body == "multipart":
            if ctype != "multipart/form-data" or not h.get(CLIENT_HEADER):
                raise Refused(415, "請求的格式不對:回報文件只能從「法治政府」操作面板上傳。")

    async def _identity(self, h: dict, scope) -> Identity:
        client = scope.get("client")
        ip = client[0] if client else None
        if not self.policy.auth:
            who = local_identity()
            who.ip = ip
            return who
        from fastapi import HTTPException
        from xlwings_server.dependencies import authenticate

        from putuo_xl.excel.signin import NOT_SIGNED_IN, store
        token = h.get("authorization", "")
        if not token.strip():
            raise Refused(401, NOT_SIGNED_IN)
        try:
            user = await authenticate(token, h.get("auth-provider") or None)
        except HTTPException as e:
            detail = e.detail if isinstance(e.detail, str) and _is_chinese(e.detail) else NOT_SIGNED_IN
            raise Refused(401 if e.status_code in (400, 401, 403) else e.status_code, detail) from None
        except Exception:  # noqa: BLE001 - a provider that fails is no sign-in
            log.exception("auth provider failed")
            raise Refused(401, NOT_SIGNED_IN) from None
        who = identity_for(user, store())
        who.ip = ip
        return who


API_HEADER = "x-putuo-excelapi"
PLATFORM_HEADER = "x-putuo-platform"


def client_caps(h: dict) -> dict:
    """What the calling Excel says it supports (auth.js sends it with every request)."""
    api = (h.get(API_HEADER) or "").strip()
    platform = (h.get(PLATFORM_HEADER) or "").strip()
    out = {}
    if api and all(p.isdigit() for p in api.split(".")) and api.count(".") == 1:
        out["excel_api"] = api
    if platform.isalnum():
        out["platform"] = platform
    return out


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


async def _read_body(receive, length: int, seconds: float) -> bytes:
    """The declared `length` bytes, within `seconds`; more than declared is refused."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    chunks, got = [], 0
    while True:
        left = deadline - loop.time()
        if left <= 0:
            raise Refused(408, "請求發送得太慢,服務器已停止等待。請檢查網絡後重試。")
        try:
            message = await asyncio.wait_for(receive(), left)
        except asyncio.TimeoutError:
            raise Refused(408, "請求發送得太慢,服務器已停止等待。請檢查網絡後重試。") from None
        if message["type"] == "http.disconnect":
            raise Refused(400, "連接已斷開。")
        chunk = message.get("body", b"")
        got += len(chunk)
        if got > length:
            raise Refused(400, "請求的長度與聲明的不符。")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes):
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()       # as a real connection: wait for the disconnect
    return receive


def _limited_receive(receive, length: int):
    """An upload's body, passed on as it arrives: never more than declared, never a stall of
    more than UPLOAD_IDLE_SECONDS (then the request ends as a disconnect)."""
    got = 0

    async def limited():
        nonlocal got
        try:
            message = await asyncio.wait_for(receive(), UPLOAD_IDLE_SECONDS)
        except asyncio.TimeoutError:
            return {"type": "http.disconnect"}
        if message["type"] == "http.request":
            got += len(message.get("body", b""))
            if got > length:
                return {"type": "http.disconnect"}
        return message
    return limited


def _check_json(body: bytes, kind: RouteKind) -> None:
    """The JSON an action needs: a workbook (book, sheets) or a function call (func_name,
    args); a Chinese 400 that says what is wrong otherwise."""
    try:
        data = json.loads(body)
    except UnicodeDecodeError:
        raise Refused(400, "請求不是 UTF-8 編碼的 JSON。") from None
    except ValueError as e:
        raise Refused(400, f"請求不是有效的 JSON(第 {getattr(e, 'lineno', '?')} 行第 "
                           f"{getattr(e, 'colno', '?')} 列)。請用 Excel 中的加載項操作。") from None
    if not isinstance(data, dict):
        raise Refused(400, "請求的 JSON 應是一個對象({…}),收到的是" +
                      {list: "數組", str: "字符串"}.get(type(data), "其他值") + "。")
    if kind.name in ("script", "forms_link"):
        book, sheets = data.get("book"), data.get("sheets")
        if not isinstance(book, dict):
            raise Refused(400, "請求中沒有工作簿信息(book)。請用 Excel 中的加載項操作。")
        if not isinstance(sheets, list) or not all(
                isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("values", []), list)
                for s in sheets):
            raise Refused(400, "請求中沒有工作表數據(sheets),或其格式不對。請用 Excel 中的加載項操作。")
        if "args" in data and not isinstance(data["args"], list):
            raise Refused(400, "請求中的 args 應是數組。")
    elif kind.name == "functions":
        if not isinstance(data.get("func_name"), str) or not isinstance(data.get("args", []), list):
            raise Refused(400, "工作表函數的請求格式不對(需要 func_name 和 args)。")
