"""Judge one returned file: sniff what it is, read it with python-calamine, find the form by its
hidden metadata and header (never by sheet name alone), match rows by task ID (never by
position), normalise what people typed and check it against what was issued.

Everything here is pure and thread-safe: `judge(item, ctx)` takes bytes and a read-only
context and returns a `Judgement`; the collector does the ledger, the archive and the master.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple
from datetime import date, datetime

import python_calamine as pc

from putuo_xl import layout
from putuo_xl.collect import zipcheck
from putuo_xl.collect.sniff import OLE_MAGIC, ZIP_MAGIC, _names_workbook, sniff  # noqa: F401
from putuo_xl.collect.report import ERROR, Problem
from putuo_xl.config import Config
from putuo_xl.errors import PutuoError
from putuo_xl.plan.model import ROLE_LABELS
from putuo_xl.collect.normalize import (StatusTable, ValueProblem, _clean_task_id, cell_text,
                                        clean_number, clean_percent, clean_task_id, is_blank,
                                        strip_controls, text_value)
from putuo_xl.text import halfwidth, norm_name
import putuo_xl.workbook.sheetlayout as sheetlayout
from putuo_xl.workbook import locked as locked_cells

TASK_ID_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){0,4}(#\d{1,3})?$")
HEADER_SCAN_ROWS = 30
TEXT_KEYS = ("progress_text", "problems", "next_steps")
COLUMN_LABELS = dict(layout.FORM_COLUMNS)
ROLE_CODES = {norm_name(label): code for code, label in ROLE_LABELS.items()}
ROLE_CODES.update({norm_name(label + "單位"): code for code, label in ROLE_LABELS.items()})


col_letter = lru_cache(maxsize=1024)(sheetlayout.col_letter)     # 0 → A, 26 → AA


def cell_ref(row: int, col: int) -> str:
    """0-based row/col → 'G12'."""
    return f"{col_letter(col)}{row + 1}"


# -- context --------------------------------------------------------------------------
@dataclass(frozen=True)
class IssuedForm:
    unit: str
    month: str
    plan_fingerprint: str
    task_ids: tuple[str, ...]
    due: str
    created: str = ""                  # when it was issued (ISO)
    locked: str | None = None          # its locked cells as issued (workbook.locked, JSON)


@dataclass
class PlanInfo:
    """What the collector needs from the master's current plan. Reading the plan back from
    a large master costs time, and forms that carry an issued fingerprint do not need it: the
    plan is loaded on first use (`ensure()`, thread-safe, at most once) by `loader`."""
    script: str = "traditional"
    title: str = ""                             # the plan's title (the master's _meta)
    meta_fingerprint: str | None = None         # the fingerprint the master was built with
    fingerprints: set[str] = field(default_factory=set)           # the current plan's (once loaded)
    tasks_by_unit: dict[str, list[str]] | None = None           # unit → task ids
    indicator_units: dict[str, str] = field(default_factory=dict)  # "1.4.1#1" → "%"
    indicator_targets: dict[str, float] = field(default_factory=dict)  # "1.4.1#1" → 90.0
    indicators_by_task: dict[str, list[str]] = field(default_factory=dict)
    roles: dict[tuple[str, str], str] = field(default_factory=dict)   # (unit, task) → lead | co …
    loader: object = None                       # callable(PlanInfo) -> None, may raise PutuoError
    loaded: bool = False
    error: str | None = None                    # why the plan could not be read
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ensure(self) -> bool:
        """Load the current plan if not done yet; True when it is available."""
        if self.loaded:
            return self.error is None and self.tasks_by_unit is not None
        with self._lock:
            if not self.loaded:
                if self.loader is not None:
                    try:
                        self.loader(self)
                    except PutuoError as e:
                        self.error = str(e)
                self.loaded = True
        return self.error is None and self.tasks_by_unit is not None

    def __getstate__(self):        # for a worker process started with spawn (Windows)
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()


@dataclass
class Context:
    month: str
    config: Config
    statuses: StatusTable
    plan: PlanInfo
    issued: dict[str, list[IssuedForm]]          # unit → forms issued for the month
    unit_emails: dict[str, str]                  # lower-case address → unit
    name_keys: dict[str, str] = field(default_factory=dict)   # normalised unit name/alias → unit
    name_lengths: tuple[int, ...] = ()
    max_bytes: int = 20 * 1024 * 1024
    zip_limits: zipcheck.Limits = field(default_factory=zipcheck.Limits)
    # originals the ledger already holds as accepted: sha256 → (unit, month). A file with one of
    # these hashes is not read again — unless it came for another month, or under a file name
    # that names another unit: then it is judged, so that a mismatch is not hidden as a duplicate
    accepted_shas: dict = field(default_factory=dict)

    @classmethod
    def build(cls, month: str, config: Config, plan: PlanInfo, issued: list[IssuedForm]) -> "Context":
        by_unit: dict[str, list[IssuedForm]] = {}
        for f in issued:
            by_unit.setdefault(f.unit, []).append(f)
        emails = {}
        for u in config.units.values():
            for e in u.email:
                emails[e.strip().lower()] = u.name
        keys = {k: v for k, v in config.known_names().items() if v in config.units and len(k) >= 3}
        for unit in by_unit:
            if config.resolve(unit) is None:
                keys[norm_name(unit)] = unit
        section = config.section("collect")
        max_mb = float(section.get("max_file_mb") or 20)
        return cls(month=month, config=config, statuses=StatusTable(config), plan=plan,
                   issued=by_unit, unit_emails=emails, name_keys=keys,
                   name_lengths=tuple(sorted({len(k) for k in keys}, reverse=True)),
                   max_bytes=int(max_mb * 1024 * 1024), zip_limits=zipcheck.Limits.from_config(section, config.path))

    def canonical_unit(self, name: str) -> str | None:
        c = self.config.resolve(name)
        if c and c in self.config.units:
            return c
        if name in self.issued:
            return name
        if self.plan.tasks_by_unit and name in self.plan.tasks_by_unit:
            return name
        return None

    def guess_unit(self, file_name: str, sender: str | None = None) -> str | None:
        """The one unit a file name (or else the sender's address) names, for files that could
        not be read: so the office knows whom to ask again."""
        named = {u for u in self.units_in_name(file_name) if u in self.config.units or u in self.issued}
        if len(named) == 1:
            return named.pop()
        if sender:
            from email.utils import parseaddr
            addr = parseaddr(sender)[1].lower()
            return self.unit_emails.get(addr)
        return None

    def units_in_name(self, file_name: str) -> set[str]:
        """Units whose name or alias a file name contains (leftmost-longest matches)."""
        if not self.name_keys:
            return set()
        stem = norm_name(file_name.rsplit(".", 1)[0])
        keys, lengths, n = self.name_keys, self.name_lengths, len(stem)
        found: set[str] = set()
        i = 0
        while i < n:
            for length in lengths:
                if i + length <= n and stem[i:i + length] in keys:
                    found.add(keys[stem[i:i + length]])
                    i += length
                    break
            else:
                i += 1
        return found


# -- inputs and outputs ------------------------------------------------------------------
@dataclass
class Incoming:
    """A file to judge: from a folder, a path, or an e-mail attachment."""
    name: str                      # file name as received
    source: str                    # the path, or "mail.eml › attachment.xlsx"
    received_at: datetime          # aware datetime
    path: str | None = None        # read lazily from here when data is None
    data: bytes | None = None
    sender: str | None = None      # "Name <addr>" from an e-mail
    sender_addr: str | None = None
    problem: Problem | None = None  # a problem found before reading (missing path, broken e-mail)


class RowReport(NamedTuple):
    """One task row as stored (a tuple: cheap to make, and to send back from a worker process)."""
    task_id: str
    role: str | None
    status: str | None
    progress: float | None
    progress_text: str | None
    problems: str | None
    next_steps: str | None


@dataclass
class Judgement:
    item: Incoming
    sha256: str | None = None
    size: int = 0
    data: bytes | None = None        # kept for the archive (accepted or not)
    kind: str = ""
    unit: str | None = None
    month: str | None = None
    due: str | None = None
    plan_fingerprint: str | None = None
    form_version: str | None = None
    sheet: str | None = None
    reports: list[RowReport] = field(default_factory=list)
    actuals: list[tuple[str, str, float]] = field(default_factory=list)  # task_id, indicator_id, value
    problems: list[Problem] = field(default_factory=list)
    archive_rel: str | None = None   # where the original was archived (relative to the ledger)
    unit_hint: str | None = None     # not identified: the unit named by the file name or sender
    contact: str | None = None       # 填報人 / 聯繫電話 / 單位負責人 as filled in above the table
    stream_path: str | None = None   # too large to read: archived straight from this path

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)

    def add(self, code: str, sheet: str | None = None, row: int | None = None,
            cell: str | None = None, **params) -> Problem:
        p = Problem(code, params, file=self.item.name, sheet=sheet, row=row, cell=cell)
        self.problems.append(p)
        return p


# -- judging -------------------------------------------------------------------------
def judge(item: Incoming, ctx: Context) -> Judgement:
    """Read and check one file. Never raises for anything a file can contain."""
    try:
        j = _judge(item, ctx)
    except Exception as e:     # a file no check foresaw: refused, and the batch goes on
        j = Judgement(item)
        j.add("corrupt", detail=_short(e))
    if j.unit is None:
        j.unit_hint = ctx.guess_unit(item.name, item.sender)
    return j


def _same_place(known, item: Incoming, ctx: Context) -> bool:
    """A file accepted before as (unit, month) comes again for the same month under a name that
    names no other unit: a plain duplicate."""
    unit, month = known if isinstance(known, tuple) else (None, None)
    if month is not None and month != ctx.month:
        return False
    named = {u for u in ctx.units_in_name(item.name) if u in ctx.config.units or u in ctx.issued}
    return not named or unit is None or unit in named


def _judge(item: Incoming, ctx: Context) -> Judgement:
    j = Judgement(item)
    if item.problem is not None:
        j.problems.append(item.problem)
        if item.data is not None:          # what did arrive (an e-mail without attachment) is kept
            j.data, j.size = item.data, len(item.data)
            j.sha256 = hashlib.sha256(item.data).hexdigest()
        return j
    try:
        if item.data is None:
            with open(item.path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                data = fh.read(ctx.max_bytes + 1) if size <= ctx.max_bytes else b""
                size = max(size, len(data))
        else:
            data = item.data
            size = len(data)
    except OSError as e:
        j.add("unreadable", detail=e.strerror or type(e).__name__)
        return j
    j.size = size
    if size > ctx.max_bytes:
        # refused unread, and still recorded and archived: from memory (an e-mail attachment)
        # or streamed from the file, hashed on the way (collect.run)
        j.add("too-large", size_mb=size_mb(size, ctx.max_bytes), limit_mb=f"{ctx.max_bytes / 1048576:g}")
        if item.data is None:
            j.stream_path = item.path
        else:
            j.data = data
            j.sha256 = hashlib.sha256(data).hexdigest()
        return j
    j.sha256 = hashlib.sha256(data).hexdigest()
    known = ctx.accepted_shas.get(j.sha256)
    if known is not None and _same_place(known, item, ctx):
        j.kind = "known"          # accepted before: a duplicate, nothing to read or archive
        return j
    j.data = data
    kind, detail = sniff(data, item.name)
    j.kind = kind
    if kind == "empty":
        j.add("empty-file")
        return j
    if kind == "not-excel":
        j.add("not-excel", detected=detail)
        return j
    if kind == "encrypted":
        j.add("encrypted")
        return j
    if kind == "corrupt":
        j.add("corrupt", detail=detail)
        return j
    if kind == "xlsx":
        over = zipcheck.over_limits(data, ctx.zip_limits)
        if over is not None:             # a "zip bomb": refused before anything unpacks it
            j.add("zip-bomb", detail=over[0], key=over[1])
            return j
    try:
        if kind == "xls":      # in a helper process: a damaged .xls can crash calamine
            from putuo_xl.collect.xls_helper import open_xls
            wb = open_xls(data)
        else:
            wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError:
        j.add("encrypted")
        return j
    except Exception as e:  # calamine raises several error types for broken files
        _broken(j, kind, data, e, "xls-unreadable" if kind == "xls" else "corrupt")
        return j
    try:
        _judge_workbook(j, wb, ctx)
    except pc.PasswordError:
        j.add("encrypted")
    except Exception as e:  # a sheet that fails to parse mid-way: the file is corrupt
        if not any(p.severity == ERROR for p in j.problems):
            _broken(j, kind, data, e, "corrupt")
    finally:
        try:
            wb.close()
        except Exception:
            pass
    return j


def size_mb(size: int, limit: int) -> str:
    """A size in MB as the too-large message gives it: never rounded down to the limit."""
    text = f"{size / 1048576:.1f}"
    return text if float(text) > limit / 1048576 else f"{size / 1048576:.3f}"


def _broken(j: Judgement, kind: str, data: bytes, e: Exception, code: str) -> None:
    """A file that could not be read: say what it is when it can be told (XML entity
    declarations: a crafted file, not a broken download)."""
    if kind == "xlsx":
        part = zipcheck.xml_declarations(data)
        if part is not None:
            j.add("xml-entities", part=part)
            return
    j.add(code, detail=_short(e))


def _short(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:120]


def _read_meta(wb) -> dict[str, str] | None:
    names = {n.lower(): n for n in wb.sheet_names}
    real = names.get(layout.FORM_META_SHEET.lower())
    if real is None:
        return None
    meta: dict[str, str] = {}
    for row in wb.get_sheet_by_name(real).to_python(skip_empty_area=False):
        if len(row) >= 2 and not is_blank(row[0]):
            key = cell_text(row[0]).strip()
            if key and key not in meta:
                meta[key] = cell_text(row[1]).strip() if len(row) > 1 else ""
    return meta


def split_ids(text: str) -> list[str]:
    return [clean_task_id(x) for x in re.split(r"[,\s;;、,]+", halfwidth(text or "")) if x.strip()]


def _norm_header(text) -> str:
    return _norm_header_str(text if text.__class__ is str else cell_text(text))


@lru_cache(maxsize=16384)
def _norm_header_str(text: str) -> str:
    s = norm_name(text)
    s = re.sub(r"[*※★]", "", s)
    s = re.sub(r"\(.*?\)$", "", s)       # 完成進度(%) / 進展狀態(下拉選擇)
    return s.strip(":")


_HEADER_KEYS = {norm_name(label): key for key, label in layout.FORM_COLUMNS}


def _find_header(rows: list[list]) -> tuple[int, dict[str, int]] | None:
    """(row index, key → column index) of the first row holding a 任務編號 header."""
    task_key = norm_name("任務編號")
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cols: dict[str, int] = {}
        texts = [(c, _norm_header(v)) for c, v in enumerate(row) if isinstance(v, str) and v.strip()]
        if not any(t == task_key for _, t in texts):
            continue
        for c, t in texts:                                 # exact matches first
            key = _HEADER_KEYS.get(t)
            if key and key not in cols:
                cols[key] = c
        for c, t in texts:                                 # then a header that starts with ours
            if c in cols.values():
                continue
            for label, key in _HEADER_KEYS.items():
                if key not in cols and t.startswith(label):
                    cols[key] = c
                    break
        return r, cols
    return None


def _candidate_sheets(wb) -> list[str]:
    skip = {layout.FORM_META_SHEET.lower(), layout.FORM_LISTS_SHEET.lower()}
    help_names = {norm_name(layout.FORM_HELP_SHEET)}
    out = []
    for meta in wb.sheets_metadata:
        if meta.typ != pc.SheetTypeEnum.WorkSheet:
            continue
        if meta.name.lower() in skip or norm_name(meta.name) in help_names:
            continue
        out.append(meta.name)
    return out


@dataclass
class _Sheet:
    name: str
    rows: list[list]
    header_row: int
    cols: dict[str, int]
    filled: int = 0


def _has_input(row: list, cols: dict[str, int]) -> bool:
    for key in layout.FORM_INPUT_KEYS:
        c = cols.get(key)
        if c is not None and c < len(row) and not is_blank(row[c]):
            return True
    return False


def _judge_workbook(j: Judgement, wb, ctx: Context) -> None:
    meta = _read_meta(wb)
    if meta is None:
        j.add("no-metadata")
        return
    kind = meta.get("kind", "")
    if kind == layout.MASTER_KIND:
        j.add("not-excel", detected="任務分解台賬(總表),不是單位的月報")
        return
    if kind != layout.FORM_KIND:
        j.add("bad-metadata", sheet=layout.FORM_META_SHEET, detail=f"kind = 「{kind}」")
        return
    missing = [k for k in ("unit", "month", "plan_fingerprint", "task_ids") if not meta.get(k)]
    if missing:
        j.add("bad-metadata", sheet=layout.FORM_META_SHEET, detail="缺少 " + "、".join(missing))
        return
    j.plan_fingerprint = meta["plan_fingerprint"]
    j.form_version = meta.get("form_version") or None
    j.month = _norm_month(meta["month"])
    if j.month is None:
        j.add("bad-metadata", sheet=layout.FORM_META_SHEET, detail=f"month = 「{meta['month']}」")
        return
    unit_written = meta["unit"]
    unit = ctx.canonical_unit(unit_written)
    j.unit = unit or unit_written
    j.due = meta.get("due") or None

    # -- who and when: metadata cross-checked with the file name and the sender ----------
    if j.month != ctx.month:
        j.add("wrong-month", form_month=j.month, form_month_label=layout.month_label(j.month),
              month=ctx.month, month_label=layout.month_label(ctx.month))
        return
    if unit is None:
        j.add("unknown-unit", unit=unit_written)
        return
    named = {u for u in ctx.units_in_name(j.item.name) if u in ctx.config.units or u in ctx.issued}
    if named and unit not in named:
        j.add("unit-mismatch", unit=unit, where="文件名中的單位", other="、".join(sorted(named)))
        return
    name_month = month_in_name(j.item.name)
    if name_month and name_month != j.month:
        j.add("name-month-mismatch", name_month=layout.month_label(name_month),
              month=layout.month_label(j.month))
    if j.item.sender_addr:
        other = ctx.unit_emails.get(j.item.sender_addr.lower())
        if other and other != unit:
            j.add("sender-mismatch", sender=j.item.sender_addr, other=other, unit=unit)

    # -- which plan: the fingerprint must be one issued to the unit or the master's current --
    forms = ctx.issued.get(unit, [])
    issued = [f for f in forms if f.plan_fingerprint == j.plan_fingerprint]
    current = False
    if issued:
        expected_tasks = list(issued[-1].task_ids)
        j.due = issued[-1].due or j.due
        if forms[-1].plan_fingerprint != j.plan_fingerprint:
            _outdated(j, issued[-1], forms[-1])
    elif ctx.plan.ensure() and j.plan_fingerprint in ctx.plan.fingerprints:
        current = True
        expected_tasks = list(ctx.plan.tasks_by_unit.get(unit, []))
    else:
        j.add("wrong-plan", fingerprint=j.plan_fingerprint, unit=unit)
        return
    indicator_ids = split_ids(meta.get("indicator_ids", ""))
    if not indicator_ids and current:
        indicator_ids = [i for t in expected_tasks for i in ctx.plan.indicators_by_task.get(t, [])]
    expected_set = set(expected_tasks)
    indicator_ids = [i for i in indicator_ids if i.split("#")[0] in expected_set]

    # -- the form sheet: found by its header, whatever its name ---------------------------
    sheet = _pick_sheet(j, wb, bool(indicator_ids))
    if sheet is None:
        return
    j.sheet = sheet.name
    j.contact = _contact(sheet)
    if norm_name(sheet.name) != norm_name(layout.FORM_SHEET):
        j.add("sheet-renamed", sheet=sheet.name, sheet_name=sheet.name)
    _read_rows(j, sheet, ctx, expected_tasks, indicator_ids, issued[-1] if issued else None)


def _outdated(j: Judgement, form: IssuedForm, newer: IssuedForm) -> None:
    """A form issued before the unit's latest one (the office changed the unit's tasks and
    issued the month's form again): accepted, and said what the newer form has that it lacks."""
    have = set(form.task_ids)
    lacking = [t for t in newer.task_ids if t not in have]
    if not lacking:
        mine, theirs = locked_cells.loads(form.locked), locked_cells.loads(newer.locked)
        if mine is None or theirs is None or mine == theirs:
            return        # the plan changed elsewhere: this unit's form reads the same
    when = _day_label(newer.created)
    if lacking:
        what = (f"新版增加了任務 {'、'.join(lacking)}(這份沒有,這些任務記為未報送)。"
                f"請單位在新版月報上填報後重新發送")
    else:
        changed = sorted(t for t in set(mine) | set(theirs) if mine.get(t) != theirs.get(t))
        what = (f"新版中任務 {'、'.join(changed[:5])}{'等' if len(changed) > 5 else ''} 的內容或要求有調整。"
                f"請單位核對新版月報,需要時重新填報")
    j.add("outdated-form", issued=_day_label(form.created), newer=when, what=what,
          lacking="、".join(lacking))


def _day_label(iso: str) -> str:
    """'2020-08-25T09:00:00+08:00' → '8月25日' (the day a form was issued); '' → '之前'."""
    try:
        d = date.fromisoformat(str(iso)[:10])
    except ValueError:
        return "之前"
    return f"{d.month}月{d.day}日"


def _norm_month(text: str) -> str | None:
    m = re.match(r"^\s*(\d{4})\s*[-/年.]?\s*(\d{1,2})\s*月?\s*$", halfwidth(str(text)))
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


_NAME_MONTH_RE = re.compile(r"(?<!\d)(20\d\d)\s*[-_.年/]?\s*(1[0-2]|0?[1-9])(?!\d)\s*月?")


def month_in_name(file_name: str) -> str | None:
    """'2020-08_區司法局….xlsx' → '2020-08'; '202008' → '2020-08'; None when no month is written."""
    stem = halfwidth(file_name.rsplit(".", 1)[0])
    for m in _NAME_MONTH_RE.finditer(stem):
        y, mo = m.group(1), m.group(2)
        if len(mo) == 1 and not re.search(r"[-_.年/]", m.group(0)):
            continue  # "20201" is no month
        return f"{y}-{int(mo):02d}"
    return None


def _pick_sheet(j: Judgement, wb, needs_actual: bool) -> _Sheet | None:
    found: list[_Sheet] = []
    for name in _candidate_sheets(wb):
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        hit = _find_header(rows)
        if hit is None:
            continue
        r, cols = hit
        found.append(_Sheet(name, rows, r, cols))
    if not found:
        j.add("no-form-sheet")
        return None
    if len(found) > 1:
        for s in found:
            s.filled = sum(1 for row in s.rows[s.header_row + 1:] if _has_input(row, s.cols))
        filled = [s for s in found if s.filled]
        if len(filled) == 1:
            found = filled
        else:
            named = [s for s in (filled or found) if norm_name(s.name) == norm_name(layout.FORM_SHEET)]
            if len(named) == 1 and not filled:
                found = named
            else:
                j.add("ambiguous-sheet", sheets="、".join(f"「{s.name}」" for s in (filled or found)))
                return None
    sheet = found[0]
    required = ["status", "progress", "progress_text", "problems", "next_steps"]
    if needs_actual:
        required.append("actual")
    for key in required:
        if key not in sheet.cols:
            j.add("missing-column", sheet=sheet.name, row=sheet.header_row + 1,
                  column=COLUMN_LABELS[key])
    if not j.ok:
        return None
    return sheet


CONTACT_LABELS = {norm_name(k): v for k, v in [
    ("填報人", "填報人"), ("填表人", "填報人"), ("聯繫人", "填報人"), ("聯繫電話", "電話"), ("電話", "電話"),
    ("聯系電話", "電話"), ("單位負責人", "審核"), ("審核人", "審核"), ("負責人", "審核")]}


def _contact(sheet: _Sheet) -> str | None:
    """'填報人:張三;電話:0580-1234567;審核:李四' from the labelled cells above the header."""
    found: dict[str, str] = {}
    for row in sheet.rows[:sheet.header_row]:
        for c, v in enumerate(row):
            if not isinstance(v, str):
                continue
            label = CONTACT_LABELS.get(_norm_header(v))
            if label is None or label in found:
                continue
            for w in row[c + 1:]:
                if is_blank(w):
                    continue
                if isinstance(w, str) and _norm_header(w) in CONTACT_LABELS:
                    break
                found[label] = strip_controls(cell_text(w))[0].strip()
                break
    if not found:
        return None
    return ";".join(f"{k}:{v}" for k, v in found.items())


def _pct(v: float) -> str:
    return f"{v * 100:g}%"


def _target_info(text) -> tuple[str, float | None]:
    """('%', 90.0) from a target as written on the form ('90%以上', '≥90%'); ('', None) if none."""
    s = halfwidth(cell_text(text))
    m = re.search(r"\d+(?:\.\d+)?", s)
    return ("%" if "%" in s else ""), (float(m.group(0)) if m else None)


def _role_code(raw) -> str | None:
    if raw.__class__ is str:
        return _role_code_str(raw)
    return ROLE_CODES.get(norm_name(cell_text(raw).strip()))


@lru_cache(maxsize=1024)
def _role_code_str(raw: str) -> str | None:
    return ROLE_CODES.get(norm_name(raw.strip()))


def _read_rows(j: Judgement, sheet: _Sheet, ctx: Context, expected: list[str],
               indicator_ids: list[str], form: IssuedForm | None = None) -> None:
    """Every row matched by its key (never by position), every input value normalised.
    The key is the hidden key column's (layout.FORM_KEY: "1.3.1", or "1.3.1#2" on a further
    target's row, where 任務編號 shows "1.3.1" again); a form without it (issued before it, or
    rebuilt by hand) is read by 任務編號, which says "1.3.1#2" on forms issued before, and
    "1.3.1" again on a rebuilt one (see `_further_target`).
    What the plan owns (task, role, deadline, indicator, target: locked cells) is taken from
    the form as issued (`form.locked`), else from the master's plan; a change the unit made to
    it is a warning."""
    cols = sheet.cols
    issued_cells = locked_cells.loads(form.locked) if form is not None else None
    if issued_cells is None:
        ctx.plan.ensure()             # a form issued before the ledger kept its locked cells
    plan_roles = ctx.plan.roles
    edits: list[str] = []             # locked cells the unit changed
    locked_cols = [(key, i, cols[key]) for key, i in _LOCKED if key in cols]
    controls: list[str] = []          # cells whose text had control characters
    name = sheet.name
    c_tid = cols["task_id"]
    c_key = cols.get(layout.FORM_KEY)
    c_status, c_progress = cols["status"], cols["progress"]
    c_actual, c_target, c_role = cols.get("actual"), cols.get("target"), cols.get("role")
    c_texts = [(k, cols[k]) for k in TEXT_KEYS]
    text_cols = [cols[k] for k in TEXT_KEYS]      # progress_text, problems, next_steps
    input_cols = [cols[k] for k in layout.FORM_INPUT_KEYS if k in cols]
    width = max(cols.values()) + 1
    expected_set = set(expected)
    first_indicator: dict[str, str] = {}
    extra_rows: dict[str, str] = {}
    further: dict[str, list[str]] = {}            # task → its further targets, in order
    for iid in indicator_ids:
        task = iid.partition("#")[0]
        if task not in first_indicator:
            first_indicator[task] = iid
        else:
            extra_rows[iid] = task
            further.setdefault(task, []).append(iid)
    # a form may also label the first target's row explicitly ("1.3.1#1")
    allowed_rows = expected_set | set(extra_rows) | set(first_indicator.values())
    plan_units, plan_targets = ctx.plan.indicator_units, ctx.plan.indicator_targets
    script = ctx.plan.script
    statuses = ctx.statuses
    done = {s.name for s in ctx.config.statuses if s.done}
    not_started = {s.name for s in ctx.config.statuses if not s.started}

    seen: dict[str, int] = {}
    empty_tasks: list[str] = []
    actual_seen: dict[str, tuple[float, int]] = {}
    changed: list[tuple[str, str]] = []          # (typed, as stored) for the one summary note
    rows = sheet.rows
    for r in range(sheet.header_row + 1, len(rows)):
        row = rows[r]
        if len(row) < width:
            row = list(row) + [""] * (width - len(row))
        raw_tid = shown = row[c_tid]
        keyed = False
        if c_key is not None:         # the hidden key, unless blank (a row the unit added)
            k = row[c_key]
            if k.__class__ is str:
                if k:
                    raw_tid, keyed = k, True
            elif not is_blank(k):
                raw_tid, keyed = k, True
        if raw_tid.__class__ is str:    # blank text gives "" too
            tid = _clean_task_id(raw_tid) if raw_tid else ""
        else:
            tid = clean_task_id(raw_tid)
        if keyed and not tid:           # a key of spaces: as if blank
            keyed = False
            tid = clean_task_id(shown)
        if not tid or not TASK_ID_RE.match(tid):
            filled = [row[c] for c in input_cols if row[c] != "" and not is_blank(row[c])]
            if filled:
                text = "|".join(cell_text(v).strip() for v in filled)
                j.add("row-without-id", sheet=name, row=r + 1, text=text[:60])
            continue
        if tid not in allowed_rows:
            j.add("unknown-task", sheet=name, cell=cell_ref(r, c_tid), task_id=_row_label(tid, script),
                  unit=j.unit)
            continue
        if tid in seen:
            iid = None if keyed else _further_target(tid, row, further.get(tid), seen, issued_cells,
                                                     cols)
            if iid is None:
                prev = seen[tid]
                same = all(cell_text(rows[prev][c] if c < len(rows[prev]) else "") == cell_text(row[c])
                           for c in input_cols)
                j.add("duplicate-row" if same else "duplicate-task", sheet=name, row=r + 1,
                      task_id=_row_label(tid, script), row1=prev + 1, row2=r + 1)
                continue
            tid = iid
        seen[tid] = r
        is_extra = "#" in tid
        task = tid.partition("#")[0] if is_extra else tid
        indicator = tid if is_extra else first_indicator.get(task)
        if keyed and shown != task and _clean_task_id(cell_text(shown)) != task:
            # 任務編號 is locked: it shows the row's task as issued
            edits.append(_edit_text(cell_ref(r, c_tid), "task_id", task, cell_text(shown)))

        raw_actual = row[c_actual] if c_actual is not None else ""
        if raw_actual != "" and not is_blank(raw_actual):
            ref = cell_ref(r, c_actual)
            if indicator is None:
                j.add("ignored-input", sheet=name, cell=ref, column=COLUMN_LABELS["actual"],
                      why="這項任務沒有量化指標", text=cell_text(raw_actual)[:40])
            else:
                unit, target = plan_units.get(indicator), plan_targets.get(indicator)
                if unit is None:
                    rec = issued_cells.get(indicator if is_extra else task) if issued_cells else None
                    if rec is not None:
                        unit, target = _target_info(rec[4])
                    else:
                        unit, target = _target_info(row[c_target]) if c_target is not None else ("", None)
                try:
                    c = clean_number(raw_actual, unit, target)
                except ValueProblem as e:
                    j.add(e.code, sheet=name, cell=ref, column=COLUMN_LABELS["actual"], **e.params)
                else:
                    if c.value is not None:
                        if indicator in actual_seen:
                            if actual_seen[indicator][0] != c.value:
                                j.add("duplicate-task", sheet=name, row=r + 1,
                                      task_id=_row_label(indicator, script),
                                      row1=actual_seen[indicator][1], row2=r + 1)
                        else:
                            actual_seen[indicator] = (c.value, r + 1)
                            j.actuals.append((task, indicator, c.value))
                        if c.changed:
                            changed.append((cell_text(raw_actual).strip(),
                                            f"{c.value:g}{'%' if unit == '%' else ''}"))
        rec = issued_cells.get(tid) if issued_cells is not None else None
        if rec is not None:
            # a task's row reads the same in the form of every unit that has it: rows found
            # unchanged before are not compared cell by cell again
            seen_key = (tid, *rec, *[row[c] for _k, _i, c in locked_cols])
            if seen_key not in _UNCHANGED:
                n = len(edits)
                _locked_edits(row, locked_cols, rec, r, edits, ctx.plan.script)
                if len(edits) == n:
                    if len(_UNCHANGED) > 65536:
                        _UNCHANGED.clear()
                    _UNCHANGED.add(seen_key)
        if is_extra:
            for key, col in (("status", c_status), ("progress", c_progress), *c_texts):
                v = row[col]
                if v != "" and not is_blank(v):
                    j.add("ignored-input", sheet=name, cell=cell_ref(r, col), column=COLUMN_LABELS[key],
                          why="這一行只填指標實際值", text=cell_text(v)[:40])
            continue

        status = progress = None
        raw = row[c_status]
        try:
            c = statuses.clean(raw)
            status = c.value
            if c.changed and status is not None:
                changed.append((cell_text(raw).strip(), status))
        except ValueProblem as e:
            j.add(e.code, sheet=name, cell=cell_ref(r, c_status), **e.params)
        raw = row[c_progress]
        try:
            c = clean_percent(raw)
            progress = c.value
            if c.changed and progress is not None:
                changed.append((cell_text(raw).strip(), _pct(progress)))
        except ValueProblem as e:
            j.add(e.code, sheet=name, cell=cell_ref(r, c_progress), column=COLUMN_LABELS["progress"],
                  **e.params)
        texts = [text_value(row[col]) for col in text_cols]
        for i, v in enumerate(texts):
            if v is not None and not v.isprintable():
                clean, n = strip_controls(v)
                if n:
                    texts[i] = clean or None
                    controls.append(cell_ref(r, text_cols[i]))
        for v, col in zip(texts, text_cols):
            if v and v[0] in "=+-@":
                j.add("formula-text", sheet=name, cell=cell_ref(r, col), value=v[:40])
        if status is None and progress is None and not any(texts) and is_blank(raw_actual):
            empty_tasks.append(task)
        if status is not None and progress is not None:
            if (status in done and progress < 1) or (status in not_started and progress > 0):
                j.add("inconsistent", sheet=name, row=r + 1, task_id=task, status=status,
                      progress=_pct(progress))
        if rec is not None:
            role = rec[1]
        else:
            role = plan_roles.get((j.unit, task))
            if role is None and c_role is not None:
                role = _role_code(row[c_role])
            elif role is not None and c_role is not None and not issued_cells:
                typed = _role_code(row[c_role])
                if typed != role:
                    edits.append(_edit_text(cell_ref(r, c_role), "role", _role_label(role, ctx.plan.script),
                                            cell_text(row[c_role])))
        j.reports.append(RowReport(task, role, status, progress, *texts))

    if edits:
        j.add("locked-changed", sheet=name, count=len(edits), examples=";".join(edits[:4])
              + (f";…另有 {len(edits) - 4} 處" if len(edits) > 4 else ""))
    if controls:
        j.add("control-chars", sheet=name, count=len(controls), cells="、".join(controls[:5])
              + ("…" if len(controls) > 5 else ""))
    for tid in expected:
        if tid not in seen:
            j.add("missing-task", sheet=name, task_id=tid)
    for iid in extra_rows:
        if iid not in seen:
            j.add("missing-task", sheet=name, task_id=_row_label(iid, script))
    if not j.ok:
        return
    if expected and len(empty_tasks) == len(j.reports):
        j.add("blank-form", sheet=name)
        return
    if empty_tasks:
        j.add("empty-row", sheet=name, task_id="、".join(empty_tasks))
    # a value typed as text that reads the same as stored ("80%" typed into a text cell) is no
    # change an official would see: not listed, not counted
    changed = [(a, b) for a, b in changed if a != b]
    if changed:
        examples = list(dict.fromkeys(f"「{a}」→「{b}」" for a, b in changed))
        j.add("normalised", sheet=name, count=len(changed), examples="、".join(examples[:4]))


_LOCKED = (("task", 0), ("role", 1), ("deadline", 2), ("indicator", 3), ("target", 4))
_ROW_INPUTS = ("status", "progress", *TEXT_KEYS)      # what a further target's row leaves blank


def _row_label(tid: str, script: str) -> str:
    """A row as people know it: "1.3.1#2" → "1.3.1(第 2 項指標)"; a task id as it is."""
    task, sep, n = tid.partition("#")
    if not sep:
        return tid
    from putuo_xl.text import in_script
    return task + in_script(f"\uff08第 {n} 項指標\uff09", script)


def _further_target(task: str, row: list, targets: list[str] | None, seen: dict[str, int],
                    issued_cells: dict | None, cols: dict[str, int]) -> str | None:
    """A form without keys (rebuilt by hand) shows a task's further targets under the task's own
    任務編號: a row repeating a task is one of its further targets only when it holds nothing
    but 指標實際值 (no status, progress or text). Which one: the target its 量化指標 names, when
    it names one and the names are known; else the next one not yet read. None (a duplicate
    task row) when the task has no further target left, or the row says otherwise."""
    if not targets:
        return None
    for key in _ROW_INPUTS:
        c = cols.get(key)
        if c is not None and row[c] != "" and not is_blank(row[c]):
            return None
    left = [i for i in targets if i not in seen]
    if not left:
        return None
    c_ind = cols.get("indicator")
    named = "" if c_ind is None else locked_cells.squash(cell_text(row[c_ind]))
    names = {i: locked_cells.squash(str(rec[3] or "")) for i in left
             if issued_cells and (rec := issued_cells.get(i)) is not None and len(rec) > 3}
    if named and names:
        hit = [i for i in left if names.get(i) == named]
        return hit[0] if hit else None
    return left[0]


def _role_label(code: str | None, script: str) -> str:
    from putuo_xl.text import in_script
    return in_script(ROLE_LABELS.get(code, code or ""), script)


def _edit_text(ref: str, key: str, issued: str | None, typed: str) -> str:
    typed = strip_controls(typed)[0].strip()
    typed = typed if len(typed) <= 24 else typed[:24] + "…"
    label = COLUMN_LABELS[key]
    if issued is None:
        return f"{ref}「{label}」被改寫(表中是「{typed}」)"
    return f"{ref}「{label}」下發時是「{issued}」,表中是「{typed}」"


def _locked_edits(row: list, locked_cols: list, rec: list, r: int, out: list[str],
                  script: str) -> None:
    """The locked cells of one row that differ from what was issued (`rec`, workbook.locked).
    `locked_cols`: (key, index in rec, column) of the locked columns the sheet has."""
    for key, i, c in locked_cols:
        want = rec[i] if i < len(rec) else None
        if want is None:
            continue
        v = row[c]
        if v == want:
            continue
        if key == "task":
            typed = v if v.__class__ is str else cell_text(v)
            if _digest(typed) != want:
                out.append(_edit_text(cell_ref(r, c), key, None, typed))
        elif key == "role":
            if (None if is_blank(v) else _role_code(v)) != want:
                out.append(_edit_text(cell_ref(r, c), key, _role_label(want, script), cell_text(v)))
        else:
            typed = locked_cells.deadline_text(v) if key == "deadline" else cell_text(v)
            if typed != want and locked_cells.squash(typed) != locked_cells.squash(str(want)):
                shown = str(want)
                if key == "deadline" and re.fullmatch(r"\d{4}-\d\d-\d\d", shown):
                    shown = f"{int(shown[:4])}年{int(shown[5:7])}月{int(shown[8:])}日"
                out.append(_edit_text(cell_ref(r, c), key, shown, typed))


_UNCHANGED: set = set()       # locked rows found as issued (see _read_rows)
# a task's text is in the form of every unit that has the task: its digest made once
_digest = lru_cache(maxsize=8192)(locked_cells.digest)


def received_date(dt: datetime) -> date:
    """The day a file arrived, in the sender's own time zone (an e-mail Date keeps its offset)."""
    return dt.date()
