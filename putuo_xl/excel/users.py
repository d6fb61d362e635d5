"""Who may use `putuo-xl serve`, and what they may do.

An office without an identity provider gives each official a personal access code (訪問碼),
created with `putuo-xl serve user add NAME --role …` and stored only as its SHA-256 in
`<data folder>/_server/users.json`. The code travels as the add-in's Authorization header
(xlwings Server's auth provider `putuo`, server/auth/putuo). An office with Entra ID or another
OIDC provider signs in through xlwings Server's own provider; its users' roles come from the
token's claims, and an entry here (matched by e-mail) can add roles and projects.

Roles say which buttons a user may press (ROLES); projects say which masters (their keys, or
`*` for all). Whoever builds a master on the server may always work on it.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from putuo_xl.errors import PutuoError

ROLES = {
    "build": "生成台賬、生成月報、下載本月月報",
    "collect": "上傳回報、導入回報",
    "refresh": "刷新匯總、單位視圖、工作表函數、年度報告、下載年度報告、通報文稿、下載通報",
    "mail": "發送月報、催報、發送通報",
}
DEFAULT_ROLES = ("build", "collect", "refresh")
# button (script name) or route -> the role it needs; None: any signed-in user
ACTION_ROLES = {
    "build_master": "build", "make_forms": "build", "unit_view": "refresh",
    "collect_returns": "collect", "refresh_rollup": "refresh", "send_forms": "mail",
    "send_reminders": "mail", "send_bulletin": "mail", "diagnose": None,
    "forms_link": "build", "upload_returns": "collect", "functions": None, "whoami": None,
    "annual_report": "refresh", "report_link": "refresh",
    "bulletin_docx": "refresh", "bulletin_link": "refresh",
}
ALL_PROJECTS = "*"
TOKEN_PREFIX = "pxl_"
LOCAL_USER = "本機用戶"          # the one user of a server started with --no-auth
_NAME_OK = re.compile(r"^[^\x00-\x1f/\\:*?\"<>|]{1,40}$")


def store_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "_server"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


@dataclass
class Account:
    name: str
    roles: list[str] = field(default_factory=lambda: list(DEFAULT_ROLES))
    projects: list[str] = field(default_factory=lambda: [ALL_PROJECTS])
    token_sha256: str | None = None     # None: signs in through an identity provider
    email: str | None = None
    created: str = ""

    def may_open(self, project: str) -> bool:
        return ALL_PROJECTS in self.projects or project in self.projects


@dataclass
class Identity:
    """The signed-in user as putuo-xl sees them: a name for the audit trail, roles, and which
    projects they may open (None: only those they created)."""
    name: str
    roles: set[str]
    projects: set[str] | None
    id: str = ""
    ip: str | None = None

    def has_role(self, role: str | None) -> bool:
        return role is None or role in self.roles

    def may_open(self, project: str, created_by: str | None) -> bool:
        if created_by and created_by == self.id:
            return True
        return self.projects is not None and (ALL_PROJECTS in self.projects or project in self.projects)


def local_identity() -> Identity:
    return Identity(LOCAL_USER, set(ROLES), {ALL_PROJECTS}, id="local")


class UserStore:
    """users.json in the server's data folder; re-read when the file changes (the CLI adds
    users while the server runs), written atomically."""
    _lock = threading.Lock()

    def __init__(self, data_dir: str | Path):
        self.path = store_dir(Path(data_dir)) / "users.json"
        self._stamp: tuple | None = None
        self._accounts: dict[str, Account] = {}

    # -- reading -----------------------------------------------------------------------
    def accounts(self) -> dict[str, Account]:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            self._stamp, self._accounts = None, {}
            return {}
        if stamp != self._stamp:
            try:
                raw = json.loads(self.path.read_text("utf-8"))
                accounts = {a["name"]: Account(**a) for a in raw.get("users", [])}
            except (ValueError, KeyError, TypeError) as e:
                raise PutuoError(f"用戶文件 {self.path.name} 已損壞({e}),請從備份恢復,"
                                 f"或刪除後用 putuo-xl serve user add 重新添加用戶。") from None
            self._stamp, self._accounts = stamp, accounts
        return self._accounts

    def by_token(self, token: str) -> Account | None:
        if not token:
            return None
        digest = token_hash(token)
        found = None
        for acc in self.accounts().values():    # every entry compared, in constant time
            if acc.token_sha256 and secrets.compare_digest(acc.token_sha256, digest):
                found = acc
        return found

    def by_email(self, email: str | None) -> Account | None:
        if not email:
            return None
        e = email.strip().casefold()
        return next((a for a in self.accounts().values() if (a.email or "").casefold() == e), None)

    # -- writing -----------------------------------------------------------------------
    def _save(self, accounts: dict[str, Account]) -> None:
        from putuo_xl.fileio import atomic_write_text
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"users": [asdict(a) for a in sorted(accounts.values(), key=lambda a: a.name)]}
        atomic_write_text(self.path, json.dumps(data, ensure_ascii=False, indent=1), check_open=False)
        try:
            self.path.chmod(0o600)
        except OSError:
            pass
        self._stamp = None

    def add(self, name: str, roles: list[str] | None = None, projects: list[str] | None = None,
            email: str | None = None, with_token: bool = True) -> str | None:
        """A new user; returns their access code (shown once, never stored) or None for a
        user who signs in through an identity provider (`with_token=False`)."""
        name = name.strip()
        if not _NAME_OK.match(name):
            raise PutuoError(f"用戶名「{name}」不能用:最多 40 個字,不要含 / \\ : * ? \" < > |。")
        roles = check_roles(roles or list(DEFAULT_ROLES))
        with self._lock:
            accounts = dict(self.accounts())
            if name in accounts:
                raise PutuoError(f"已經有用戶「{name}」。要換訪問碼請用 putuo-xl serve user token {name}。")
            token = TOKEN_PREFIX + secrets.token_urlsafe(24) if with_token else None
            accounts[name] = Account(name, roles, [ALL_PROJECTS] if projects is None else list(projects),
                                     token_hash(token) if token else None, email,
                                     datetime.now().astimezone().isoformat(timespec="seconds"))
            self._save(accounts)
        return token

    def update(self, name: str, *, roles: list[str] | None = None, grant: list[str] | None = None,
               revoke: list[str] | None = None, new_token: bool = False) -> str | None:
        with self._lock:
            accounts = dict(self.accounts())
            acc = accounts.get(name)
            if acc is None:
                raise PutuoError(f"沒有用戶「{name}」。用 putuo-xl serve user list 查看已有的用戶。")
            if roles is not None:
                acc.roles = check_roles(roles)
            for p in grant or ():
                if p not in acc.projects:
                    acc.projects.append(p)
            for p in revoke or ():
                acc.projects = [x for x in acc.projects if x != p]
            token = None
            if new_token:
                token = TOKEN_PREFIX + secrets.token_urlsafe(24)
                acc.token_sha256 = token_hash(token)
            self._save(accounts)
        return token

    def remove(self, name: str) -> None:
        with self._lock:
            accounts = dict(self.accounts())
            if accounts.pop(name, None) is None:
                raise PutuoError(f"沒有用戶「{name}」。")
            self._save(accounts)

    def grant_created(self, identity: Identity, project: str) -> None:
        """The builder of a new project may work on it (their account lists it)."""
        with self._lock:
            accounts = dict(self.accounts())
            acc = accounts.get(identity.name)
            if acc is not None and not acc.may_open(project):
                acc.projects.append(project)
                self._save(accounts)


def check_roles(roles: list[str]) -> list[str]:
    out = []
    for r in roles:
        for part in str(r).replace(",", " ").split():
            if part not in ROLES:
                raise PutuoError(f"沒有角色「{part}」。可用的角色:" +
                                 "、".join(f"{k}({v})" for k, v in ROLES.items()))
            if part not in out:
                out.append(part)
    return out


def identity_for(user, store: UserStore) -> Identity:
    """putuo-xl's view of an xlwings Server user (models.User): our own accounts by name
    (auth provider `putuo`), identity-provider users by their claims plus an entry matched by
    e-mail."""
    uid = str(getattr(user, "id", "") or "")
    if uid.startswith("putuo:"):
        acc = store.accounts().get(uid.removeprefix("putuo:"))
        if acc is None:
            return Identity(getattr(user, "name", "") or uid, set(), set(), id=uid)
        return Identity(acc.name, set(acc.roles), set(acc.projects), id=uid)
    roles = {r for r in (getattr(user, "roles", None) or []) if r in ROLES}
    acc = store.by_email(getattr(user, "email", None))
    projects = None
    if acc is not None:
        roles |= set(acc.roles)
        projects = set(acc.projects)
    name = getattr(user, "name", None) or getattr(user, "email", None) or uid
    return Identity(str(name), roles, projects, id=uid or str(name))
