"""Worksheet functions for officials who build their own sheets.

On xlwings Server they are =PUTUO.UNIT_TASKS(…) etc. (the manifest's namespace); with the
classic desktop add-in ("UDF Modules" = putuo_xl.excel.udfs, Windows only) they are
=UNIT_TASKS(…). They compute from the same data as the ribbon: the master's plan and its
ledger — on the server the calling workbook's project folder in the data folder (the plan
snapshot written by the last ribbon action), on the desktop the calling workbook's own file
and the ledger beside it. The optional last argument names another master (server: its
project key from its _meta sheet; desktop: its path). On the server the calling workbook is
known by the project key its add-in sends, never by its name.

Results use the same numbers as 刷新匯總 (putuo_xl.rollup.compute_rollup), so a function
never disagrees with the report sheets.
"""
from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import xlwings as xw

from putuo_xl.errors import PutuoError
from putuo_xl.text import in_script, norm_name

ON_SERVER = bool(getattr(xw, "on_server", False))

__all__ = ["unit_tasks", "unit_rate", "task_status", "indicator_actual", "indicator_met"]


def udf(**arg_docs: str):
    """@xw.func with Chinese argument help; on the server the hidden `caller` argument is
    typed as xlwings' Caller so that the server fills it in (classic xlwings fills the
    argument named `caller` itself and must not see that type)."""
    def deco(fn):
        if ON_SERVER:
            from xlwings.server import Caller
            fn.__annotations__["caller"] = Optional[Caller]
        f = xw.func(fn)
        for name, doc in arg_docs.items():
            f = xw.arg(name, doc=doc)(f)
        return f
    return deco


# -- where the data is ---------------------------------------------------------------------------
class Source:
    def __init__(self, plan, ledger_path: Path, config, label: str):
        self.plan, self.ledger_path, self.config, self.label = plan, ledger_path, config, label

    def t(self, s: str) -> str:
        return in_script(s, self.plan.script)


_lock = threading.Lock()


def _config():
    """The config the ribbon actions use on this route, parsed once per file version (a
    function call must not re-read the YAML: that was 90% of its time)."""
    from putuo_xl.config import default_config_path
    from putuo_xl.excel.context import CONFIG_ENV, data_dir_from

    path = os.environ.get(CONFIG_ENV) or None
    if path is None and ON_SERVER:
        local = data_dir_from(None) / "config.yaml"
        if local.is_file():
            path = str(local)
    try:
        stamp = Path(path or default_config_path()).stat().st_mtime_ns
    except OSError:
        stamp = 0          # load_config reports the missing file
    return _load_config(path, stamp)


@lru_cache(maxsize=8)
def _load_config(path: str | None, mtime_ns: int):
    from putuo_xl.config import load_config
    try:
        return load_config(path)
    except PutuoError as e:
        raise xw.XlwingsError(str(e)) from None


def _server_source(caller, book: str | None) -> Source:
    """The calling workbook's project: the key its add-in sends (X-Putuo-Project, read from
    the workbook's _meta) or, for another master, the key written as the last argument —
    never a workbook name, which two officials' books can share."""
    from putuo_xl.excel import projects
    from putuo_xl.excel.context import SERVER_MASTER_NAME, data_dir_from
    from putuo_xl.excel.flows import PLAN_SNAPSHOT
    from putuo_xl.ledger.store import ledger_path_for

    data = data_dir_from(None)
    key = (str(book).strip() if book not in (None, "") else "") or projects.current_project_header.get()
    if not key:
        raise xw.XlwingsError("這個工作簿不是服務器上的台賬(_meta 中沒有項目鑰匙):請在台賬中使用本函數,"
                              "或在最後一個參數中寫另一個台賬 _meta 工作表中 server_project 的值。")
    who = projects.request_identity()
    try:
        if who is None:
            raise projects.Forbidden()
        proj = projects.open_project(data, key, who)
    except projects.Forbidden as e:
        raise xw.XlwingsError(str(e)) from None
    snap = proj / PLAN_SNAPSHOT
    if not snap.is_file():
        raise xw.XlwingsError("服務器上還沒有這個台賬的數據:請先在台賬中按一次「刷新匯總」(或其他功能區按鈕)。")
    cfg = _config()
    plan = _cached_plan(str(snap), snap.stat().st_mtime_ns, "json")
    template = cfg.section("collect").get("ledger_name") or "{master_stem}.ledger.sqlite"
    return Source(plan, ledger_path_for(proj / SERVER_MASTER_NAME, template), cfg, key)


def _desktop_source(caller, book: str | None) -> Source:
    from putuo_xl.ledger.store import ledger_path_for

    if book:
        path = Path(book).expanduser()
    else:
        try:
            path = Path(caller.sheet.book.fullname)
        except AttributeError:
            raise xw.XlwingsError("不知道是哪個台賬:請在最後一個參數中寫台賬文件的路徑。") from None
    if not path.is_file():
        raise xw.XlwingsError(f"找不到台賬文件 {path}:請先保存台賬。")
    cfg = _config()
    plan = _cached_plan(str(path), path.stat().st_mtime_ns, "xlsx")
    template = cfg.section("collect").get("ledger_name") or "{master_stem}.ledger.sqlite"
    return Source(plan, ledger_path_for(path, template), cfg, path.name)


@lru_cache(maxsize=32)
def _cached_plan(path: str, mtime_ns: int, kind: str):
    try:
        if kind == "json":
            from putuo_xl.plan.planfile import load_plan
            return load_plan(path)
        from putuo_xl.workbook.readback import plan_from_workbook
        return plan_from_workbook(path, _config())
    except PutuoError as e:
        raise xw.XlwingsError(str(e)) from None


def source(caller=None, book: str | None = None) -> Source:
    return _server_source(caller, book) if ON_SERVER else _desktop_source(caller, book)


_rollups: dict[tuple, Any] = {}


def _rollup(src: Source, month: str):
    """compute_rollup for the source's ledger and `month`, cached until the ledger changes."""
    from putuo_xl.ledger.store import Ledger
    from putuo_xl.rollup.compute import compute_rollup

    if not src.ledger_path.is_file():
        raise xw.XlwingsError(src.t("還沒有台賬數據庫:請先生成月報、導入各單位交回的月報。"))
    wal = src.ledger_path.with_name(src.ledger_path.name + "-wal")
    stamp = (src.ledger_path.stat().st_mtime_ns, wal.stat().st_mtime_ns if wal.exists() else 0)
    key = (str(src.ledger_path), stamp, src.plan.fingerprint(), month, src.config.fingerprint())
    with _lock:
        hit = _rollups.get(key)
        if hit is not None:
            return hit
    led = Ledger(src.ledger_path)
    try:
        r = compute_rollup(led, src.plan, src.config, month)
    except PutuoError as e:
        raise xw.XlwingsError(str(e)) from None
    finally:
        led.close()
    with _lock:
        if len(_rollups) > 32:
            _rollups.clear()
        _rollups[key] = r
    return r


def _month(value: Any, src: Source) -> str:
    from putuo_xl.excel.settings import parse_month

    m = parse_month(value)
    if not m:
        raise xw.XlwingsError(src.t(f"「{value}」不是月份,請寫成 \"2020-08\"。"))
    return m


_assigned: dict[tuple[int, int], tuple] = {}


def _assignments(src: Source) -> dict:
    """unit_assignments for the source's plan and config (both cached objects: kept by identity)."""
    from putuo_xl.plan.assignments import unit_assignments

    key = (id(src.plan), id(src.config))
    with _lock:
        hit = _assigned.get(key)
    if hit is not None and hit[0] is src.plan and hit[1] is src.config:
        return hit[2]
    result = unit_assignments(src.plan, src.config)
    with _lock:
        if len(_assigned) > 16:
            _assigned.clear()
        _assigned[key] = (src.plan, src.config, result)
    return result


def _unit(value: Any, src: Source) -> str:
    text = str(value or "").strip()
    units = _assignments(src)
    canon = src.config.resolve(text) or text
    by_norm = {norm_name(u): u for u in units}
    hit = by_norm.get(norm_name(canon))
    if hit is None:
        raise xw.XlwingsError(src.t(f"「{text}」不是台賬中有任務的單位。"))
    return hit


# -- the functions ----------------------------------------------------------------------------------
@udf(unit="單位名稱(簡稱、全稱或別名),如 區司法局",
     book="可選:另一個台賬(服務器上是它 _meta 中 server_project 的值,桌面上是文件路徑)")
def unit_tasks(unit, book=None, caller=None):
    """某單位承擔的全部任務(溢出為表格):任務編號、工作任務、角色、牽頭單位、完成時限、量化指標。"""
    from putuo_xl.plan.model import ROLE_LABELS
    from putuo_xl.plan.labels import deadline_label, indicators_text
    from putuo_xl.plan.assignments import lead_label

    src = source(caller, book)
    u = _unit(unit, src)
    tasks = src.plan.task_index()
    script = src.plan.script
    rows = [[src.t(h) for h in ("任務編號", "工作任務", "角色", "牽頭單位", "完成時限", "量化指標")]]
    # the same assignments and cell texts as the master's _plan / _tasks sheets
    for a in _assignments(src)[u]:
        t = tasks[a.task_id]
        rows.append([t.id, t.text, src.t(ROLE_LABELS.get(a.role, a.role)), lead_label(t, script),
                     deadline_label(t, script), indicators_text(t)])
    return rows


@udf(unit="單位名稱,如 區司法局", month="月份,如 \"2020-08\"",
     book="可選:另一個台賬(服務器上是它 _meta 中 server_project 的值,桌面上是文件路徑)")
def unit_rate(unit, month, book=None, caller=None):
    """某單位某月的任務完成率(已完成的任務 ÷ 承擔的任務,與「月度匯總」相同),0 到 1 之間。"""
    src = source(caller, book)
    u, m = _unit(unit, src), _month(month, src)
    r = _rollup(src, m)
    df = r.monthly
    hit = df[(df["月份"] == m) & (df["單位"] == u)]
    if hit.empty:
        raise xw.XlwingsError(src.t(f"{u} 在 {m} 沒有應報的任務。"))
    v = hit.iloc[0]["承擔任務完成率"]
    return None if v is None or v != v else float(v)


@udf(task_id="任務編號,如 \"1.2.3\"", month="月份,如 \"2020-08\"",
     unit="可選:單位名稱;不填時是任務的總體狀態",
     book="可選:另一個台賬(服務器上是它 _meta 中 server_project 的值,桌面上是文件路徑)")
def task_status(task_id, month, unit=None, book=None, caller=None):
    """某項任務在某月的狀態(未啟動、推進中、已完成、滯後或未填報),可按單位查看。"""
    src = source(caller, book)
    tid = str(task_id or "").strip()
    if isinstance(task_id, float):
        tid = str(task_id)
    if tid not in src.plan.task_index():
        raise xw.XlwingsError(src.t(f"沒有編號為「{tid}」的任務(編號形如 1.2.3)。"))
    m = _month(month, src)
    key = tid if not unit else f"{tid}|{_unit(unit, src)}"
    for row in _rollup(src, m).status_rows:
        if row[0] == key:
            return row[1]
    raise xw.XlwingsError(src.t(f"{unit} 不承擔任務 {tid}。"))


def _indicator_id(src, given) -> str:
    """The indicator an official means: its id (1.4.1#1, the hidden column of 考評指標), its
    name as the sheets show it, or the task's number when the task has one indicator."""
    from putuo_xl.text import norm_name
    text = str(given or "").strip()
    items = src.plan.indicators()
    if any(i.id == text for _t, i in items):
        return text
    by_name = [i.id for _t, i in items if i.name and norm_name(i.name) == norm_name(text)]
    by_task = [i.id for t, i in items if t.id == text]
    for found in (by_name, by_task):
        if len(found) == 1:
            return found[0]
    raise xw.XlwingsError(src.t(f"沒有「{text}」這個考評指標:請寫指標名稱(如「政務服務辦件網上受理率」)"
                                f"或任務編號(如 1.4.1;一項任務有幾個指標時寫指標編號,如 1.3.1#2)。"))


def _indicator_row(indicator_id, month, book, caller):
    """The indicator's row of 考評指標完成情況 for the month (default: the ledger's latest),
    as compute_rollup makes it: (source, row as a dict)."""
    src = source(caller, book)
    iid = _indicator_id(src, indicator_id)
    if month in (None, ""):
        from putuo_xl.ledger.store import Ledger
        if not src.ledger_path.is_file():
            raise xw.XlwingsError(src.t("還沒有台賬數據庫:請先導入各單位交回的月報。"))
        with Ledger(src.ledger_path) as led:
            months = led.months()
        if not months:
            raise xw.XlwingsError(src.t("台賬數據庫中還沒有任何月報。"))
        m = months[-1]
    else:
        m = _month(month, src)
    df = _rollup(src, m).indicators
    hit = df[(df["月份"] == m) & (df["指標編號"] == iid)]
    return src, hit.iloc[0].to_dict()


@udf(indicator_id="考評指標:名稱(如 \"政務服務辦件網上受理率\")、任務編號(如 \"1.4.1\")或指標編號(如 \"1.3.1#2\")",
     month="可選:月份,如 \"2020-08\";不填時是最近一個月",
     book="可選:另一個台賬(服務器上是它 _meta 中 server_project 的值,桌面上是文件路徑)")
def indicator_actual(indicator_id, month=None, book=None, caller=None):
    """考評指標截至某月最近一次填報的實際值(按指標自身的單位,如 92 表示 92%);沒有填報時為空。"""
    _src, row = _indicator_row(indicator_id, month, book, caller)
    v = row["實際值"]
    return None if v is None or v != v else float(v)


@udf(indicator_id="考評指標:名稱、任務編號(如 \"1.4.1\")或指標編號(如 \"1.3.1#2\")",
     month="可選:月份,如 \"2020-08\";不填時是最近一個月",
     book="可選:另一個台賬(服務器上是它 _meta 中 server_project 的值,桌面上是文件路徑)")
def indicator_met(indicator_id, month=None, book=None, caller=None):
    """考評指標截至某月是否達到目標:「達標」「未達標」或「未填報」。"""
    src, row = _indicator_row(indicator_id, month, book, caller)
    return src.t(row["是否達標"])
