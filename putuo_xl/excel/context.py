"""Where an action runs and what it works on: the route (desktop or server), the open book,
its settings, the config, and the files that belong to the master (ledger, forms, returns).

Desktop: the master is the open workbook's own file; its folder holds the ledger, the
archive of returned forms and the generated forms (or the folders named in 設置).
Server: nothing comes from `book.fullname` (it is only a name there). Each master gets a
project folder inside the server's data folder, named by the `server_project` key of its
`_meta` sheet (a random secret written when the server builds the master; see projects.py),
never by the workbook's name; every path an official types is resolved inside that folder and
may not leave the data folder. Messages shown on the server name no server path.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import xlwings as xw

from putuo_xl import layout
from putuo_xl.config import Config, load_config
from putuo_xl.errors import PutuoError
from putuo_xl.text import in_script
from putuo_xl.excel.book import BookIO, Matrix, cell_text
if TYPE_CHECKING:
    from putuo_xl.excel.users import Identity
from putuo_xl.excel.settings import (FIELDS, Settings, default_settings_values,
                                     parse_month, read_settings, settings_sheet_name)

DESKTOP = "desktop"
SERVER = "server"
DATA_DIR_ENV = "PUTUO_XL_DATA_DIR"
CONFIG_ENV = "PUTUO_XL_CONFIG"
PROJECT_META_KEY = "server_project"
# The server's copy of a master: one fixed name per project folder, so that renaming the
# workbook in Excel never separates it from its ledger.
SERVER_MASTER_NAME = "任務分解台賬.xlsx"
def default_data_dir() -> Path:
    return Path.home() / "putuo-xl-data"


def data_dir_from(explicit: str | Path | None = None, config: Config | None = None) -> Path:
    """The server's data folder: --data-dir, else $PUTUO_XL_DATA_DIR, else config
    server.data_dir, else ~/putuo-xl-data."""
    for cand in (explicit, os.environ.get(DATA_DIR_ENV),
                 (config.section("server").get("data_dir") if config else None)):
        if cand:
            return Path(os.path.expandvars(str(cand))).expanduser().resolve()
    return default_data_dir().resolve()


@dataclass
class Route:
    kind: str = DESKTOP              # desktop | server
    data_dir: Path | None = None     # server only
    identity: "Identity | None" = None   # server only: the signed-in user

    @classmethod
    def server(cls, data_dir: str | Path | None = None, identity: "Identity | None" = None) -> "Route":
        from putuo_xl.excel.projects import request_identity
        return cls(SERVER, data_dir_from(data_dir), identity or request_identity())

    def who(self) -> str:
        """The name of whoever acts, for the audit trail."""
        if self.identity is not None:
            return self.identity.name
        import getpass
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "?"


class UserError(xw.XlwingsError):
    """A problem the official can fix; the message is Chinese. The server maps it to HTTP 400."""


class AskMonth(Exception):
    """The action needs the 報告月份, which 設置 does not have: the official was asked for it
    (Context.month); the action ends there, as a completed action that did nothing else."""

    def __init__(self, suggested: str):
        super().__init__(suggested)
        self.suggested = suggested


@dataclass
class Context:
    io: BookIO
    route: Route
    settings: Settings
    meta: dict[str, str]
    script: str = "traditional"
    lines: list[str] = field(default_factory=list)     # summary shown to the user
    details: list[list] = field(default_factory=list)  # rows for the 操作記錄 sheet
    _config: Config | None = None
    _project: str | None = None        # the project key checked against the user
    # actions to emit after the 操作記錄/設置 writes and before the alert (transfer.py)
    finish: list = field(default_factory=list)
    asked: bool = False                # the action stopped to ask the official (AskMonth)

    # -- construction --------------------------------------------------------------
    @classmethod
    def open(cls, book: xw.Book, route: Route) -> "Context":
        io = BookIO(book)
        meta = read_meta(io.values(layout.META_SHEET)) if layout.META_SHEET in io.sheet_names() else {}
        script = meta.get("script") or guess_script(io.sheet_names())
        sheet = io.find(settings_sheet_name("traditional"), settings_sheet_name("simplified"))
        settings = read_settings(io.values(sheet), sheet) if sheet else read_settings([], None)
        return cls(io=io, route=route, settings=settings, meta=meta, script=script)

    @property
    def on_server(self) -> bool:
        return self.route.kind == SERVER

    def t(self, template: str, **values) -> str:
        """Our (traditional) wording in the notice's script; `values` (file names, units…)
        are filled in afterwards, unconverted."""
        text = in_script(template, self.script)
        return text.format(**values) if values else text

    def say(self, template: str, **values) -> None:
        self.lines.append(self.t(template, **values))

    def detail(self, kind: str, template: str, **values) -> None:
        """A row for the 操作記錄 sheet only (not the alert)."""
        self.details.append([self.t(kind), self.t(template, **values)])

    def fail(self, template: str, **values) -> UserError:
        return UserError(self.public(self.t(template, **values)))

    def public(self, text: str) -> str:
        """Text for the official: on the server, no path of the server's disk in it."""
        if not self.on_server or self.route.data_dir is None:
            return text
        return redact_paths(text, self.route.data_dir)

    # -- settings --------------------------------------------------------------------
    def ensure_settings(self, month: str | None = None) -> None:
        """Add the 設置 sheet when the book has none (one write); its 報告月份 is `month`,
        or empty for the official to fill in."""
        if self.settings.sheet:
            return
        name = settings_sheet_name(self.script)
        values = default_settings_values(self.script, month or "")
        if not month:
            values = [[a, None if i == 1 else b, c] for i, (a, b, c) in enumerate(values)]
        self.io.write(name, values)
        self.settings = read_settings(values, name)
        self.say("已添加「{name}」工作表,請檢查其中的文件夾等設置。", name=name)

    def month(self, plan=None) -> str:
        """The 報告月份 of 設置. When it is empty (or the book has no 設置 yet) the month is
        not guessed: the official is asked for it (suggesting the month before today, within
        the plan's year) and the action stops here (AskMonth)."""
        raw = self.settings.values.get("month")
        if raw is None or cell_text(raw) == "":
            self.ensure_settings()
            suggested = suggest_month(getattr(plan, "year", None))
            where = self.settings.where("month")
            self.say("請先確認報告月份(建議 {m}):填在「{where}」,然後再按一次按鈕。",
                     m=suggested, where=where)
            if self.on_server:
                sheet, cell = where.split("!")
                self.finish.append(lambda: self.io.book.app.macro("putuoAskMonth")(sheet, cell, suggested))
                self.say("操作面板已打開,可以在其中選擇月份。")
            raise AskMonth(suggested)
        m = parse_month(raw)
        if not m:
            raise self.fail("報告月份「{raw}」不是有效的月份({where})。請按 2020-08 的格式填寫。",
                            raw=cell_text(raw), where=self.settings.where("month"))
        return m

    # -- config ------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = self._load_config()
        return self._config

    def _load_config(self) -> Config:
        typed = self.settings.text("config")
        try:
            if typed:
                return load_config(self.resolve_input(typed, "config"))
            if self.on_server:
                env = os.environ.get(CONFIG_ENV)
                if env:
                    return load_config(env)
                local = self.data_dir / "config.yaml"
                return load_config(local if local.is_file() else None)
            return load_config(os.environ.get(CONFIG_ENV) or None)
        except PutuoError as e:
            raise UserError(str(e)) from None

    # -- files ---------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        if self.route.data_dir is None:
            raise self.fail("服務器沒有配置數據目錄。")
        return self.route.data_dir

    def project_key(self) -> str:
        """Server: the key of this master's project (its `_meta`); Forbidden when the book
        has none, when it names no project, or one this user may not open."""
        self.project_dir()
        return self.meta[PROJECT_META_KEY]

    def project_dir(self) -> Path:
        """Server: this master's folder inside the data folder, checked against the user."""
        from putuo_xl.excel.projects import Forbidden, open_project
        key = self.meta.get(PROJECT_META_KEY)
        if key is None or self._project != key:
            if self.route.identity is None:
                raise Forbidden()
            open_project(self.data_dir, key, self.route.identity)
            self._project = key
        return self.data_dir / key

    def master_path(self) -> Path:
        """The master workbook's file: the open book on the desktop; on the server the copy
        the server keeps in the project folder (its ledger, archive and forms sit beside it)."""
        if self.on_server:
            return self.project_dir() / SERVER_MASTER_NAME
        full = self.io.book.fullname
        if re.match(r"^[a-z]+://", full, re.I):
            raise self.fail("台賬保存在 OneDrive/SharePoint 網址上,無法在本機找到它的文件夾。"
                            "請把台賬另存到本機或共享盤的文件夾後再操作。")
        p = Path(full)
        if not p.is_absolute() or not p.parent.is_dir():
            raise self.fail("請先保存台賬(文件 → 另存為),台賬所在的文件夾用來存放台賬數據庫、月報和回報。")
        return p

    def base_dir(self) -> Path:
        return self.project_dir() if self.on_server else self.master_path().parent

    def server_root(self) -> Path:
        """Server: the folder paths typed in 設置 stay in — the master's project folder, or
        the data folder before the master exists (生成台賬 reads its notice there)."""
        from putuo_xl.excel.projects import Forbidden
        try:
            return self.project_dir()
        except Forbidden:
            if PROJECT_META_KEY in self.meta:
                raise
            return self.data_dir

    def resolve_input(self, typed: str, key: str) -> Path:
        """A path typed in 設置: relative to the master's folder (desktop) or the project
        folder (server). On the server it must stay inside the project folder; the check is
        on the path as written (`..` removed), so a folder the administrator linked into it
        (a symbolic link to a share) works."""
        raw = Path(os.path.expandvars(typed.strip().strip('"'))).expanduser()
        if not self.on_server:
            return (raw if raw.is_absolute() else self.base_dir() / raw).resolve()
        root = Path(os.path.normpath(os.path.abspath(self.server_root())))
        p = Path(os.path.normpath(os.path.abspath(raw if raw.is_absolute() else root / raw)))
        if p != root and root not in p.parents:
            raise self.fail("{where} 的路徑「{typed}」不在本台賬的服務器文件夾內。"
                            "服務器上只能使用台賬文件夾之內的文件夾(不寫路徑時用默認的文件夾)。",
                            where=self.settings.where(key), typed=typed)
        return p

    def folder(self, key: str, default: Path, *, must_exist: bool) -> Path:
        typed = self.settings.text(key)
        p = self.resolve_input(typed, key) if typed else default
        if must_exist and not p.is_dir():
            label = {k: lbl for k, lbl, _ in FIELDS}[key]
            where = self.settings.where(key)
            raise self.fail(label + "「{p}」不存在。請在 {where} 填寫正確的文件夾"
                            "(留空時使用 {default})。", p=p, where=where, default=default)
        return p


_ABS_PATH = re.compile(r"(?<![\w〕\]\)）/.:])(?:[A-Za-z]:[\\/]|\\\\|/)(?:[^\s/\\:：，。、（）()「」『』\"'<>|]+[/\\])+"
                       r"([^\s/\\:：，。、（）()「」『』\"'<>|]*)")


def redact_paths(text: str, data_dir: Path | None = None) -> str:
    """`text` without paths of the server's disk: a path inside the data folder keeps what
    follows the project folder, any other absolute path keeps its last part."""
    if not text:
        return text
    if data_dir is not None:
        for root in {str(Path(data_dir)), str(Path(data_dir).resolve())}:
            text = re.sub(re.escape(root) + r"[/\\][^/\\\s]+-[A-Za-z0-9_-]{22}(?=[/\\]|\b)", "〔台賬文件夾〕", text)
            text = text.replace(root, "〔數據目錄〕")
    return _ABS_PATH.sub(lambda m: m.group(1) or "…", text)


def suggest_month(plan_year: int | None = None, today=None) -> str:
    """The month to suggest for a report: the month before today, within the plan's year."""
    from datetime import date
    d = today or date.today()
    y, m = (d.year, d.month - 1) if d.month > 1 else (d.year - 1, 12)
    if plan_year:
        if y > plan_year:
            return f"{plan_year:04d}-12"
        if y < plan_year:
            return f"{plan_year:04d}-01"
    return f"{y:04d}-{m:02d}"


def read_meta(values: Matrix) -> dict[str, str]:
    """_meta: key | value rows."""
    out = {}
    for row in values:
        if row and row[0] is not None:
            k = cell_text(row[0])
            if k and k not in out:
                out[k] = cell_text(row[1]) if len(row) > 1 else ""
    return out


def guess_script(sheet_names: list[str]) -> str:
    """simplified when the book's sheets carry simplified names (e.g. 按单位查看)."""
    trad = set(layout.SHEETS.values())
    simp = {in_script(v, "simplified") for v in trad} - trad
    names = set(sheet_names)
    return "simplified" if names & simp and not names & trad else "traditional"
