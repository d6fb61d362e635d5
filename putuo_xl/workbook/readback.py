"""Read an (edited) master workbook back into a Plan.

After `build`, officials edit the section sheets: they correct a unit, reword a task, add a row
with a new ID, delete a row. `plan_from_workbook` reads what the sheets say now. What the sheets
do not show (the notice's metadata, indicator details, how a unit was written in the notice) comes
from the hidden `_meta` sheet, as long as the visible cell still says what build wrote.

Broken edits are reported all at once, each with file, sheet, cell and what to do.
"""
from __future__ import annotations

import copy
import difflib
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from putuo_xl import layout
from putuo_xl.config import Config, load_config
from putuo_xl.errors import InputError, PutuoError
from putuo_xl.plan.model import Indicator, Plan, Section, Subsection, Task, UnitRef
from putuo_xl.plan.labels import (RECURRING_LABEL, deadline_value, indicator_line, indicators_text,
                                  split_units, subsection_label, to_iso)
from putuo_xl.text import halfwidth, in_script, norm_name, to_simplified
from putuo_xl.plan.assignments import strip_joint_mark

ID_RE = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
NEW_SECTION_RE = re.compile(r"^([一二三四五六七八九十]{1,3})、(.+)$")
CN_NUMERALS = "零一二三四五六七八九十"
SUB_LABEL_RE = re.compile(r"^\s*([((]\s*[一二三四五六七八九十]{1,3}\s*[))]|\d{1,3}[.、])\s*(.*)$")
RECURRING_WORDS = ("經常性", "经常性", "常態化", "常态化", "長期", "长期", "持續", "持续")
HEADER_KEYS = {
    "id": ["任務編號", "編號"],
    "subsection": ["小節"],
    "task": ["工作任務", "任務"],
    "lead": ["牽頭單位"],
    "co": ["配合單位", "責任單位", "配合/責任單位", "配合單位/責任單位"],
    "indicator": ["量化指標", "指標"],
    "deadline": ["完成時限", "時限"],
}
_HEADER_NORM = {norm_name(h): k for k, hs in HEADER_KEYS.items() for h in hs}


class PlanEditError(InputError):
    """The master has edits that cannot be read; `problems` lists every one."""

    def __init__(self, problems: list[PutuoError], file: str, script: str = "traditional"):
        self.problems = problems
        lines = [in_script(f"台賬中有 {len(problems)} 處需要修改,改好後保存再試:", script)]
        lines += [f"  {i}. {p.render()}" for i, p in enumerate(problems, 1)]
        super().__init__("\n".join(lines), code="master-edit", script=script)
        self.file = file

    def render(self) -> str:     # the problems already name the file
        return self.message


@dataclass
class Change:
    kind: str        # added | deleted | changed
    task_id: str
    what: str = ""   # for changed: which columns


@dataclass
class MasterRead:
    plan: Plan
    meta: dict[str, str]
    changes: list[Change] = field(default_factory=list)
    script: str = "traditional"

    def summary(self) -> str:
        if not self.changes:
            return in_script("台賬與生成時一致。", self.script)
        n = {k: sum(c.kind == k for c in self.changes) for k in ("added", "deleted", "changed")}
        return in_script(f"台賬與生成時相比:新增 {n['added']} 項任務,刪除 {n['deleted']} 項,"
                         f"修改 {n['changed']} 項。", self.script)


def plan_from_workbook(path: str | Path, config: Config | None = None, *,
                       engine: str = "openpyxl") -> Plan:
    """The plan as the master workbook at `path` says now (edits included); `engine` as for
    `read_master`."""
    return read_master(path, config, engine=engine).plan


def read_meta(path: str | Path) -> dict[str, str]:
    """The master's `_meta` key/value pairs (raises InputError if it is not a master)."""
    from putuo_xl.workbook.filekind import reading
    with reading(path):
        wb = _open(Path(path))
        try:
            return _meta(wb, Path(path))
        finally:
            wb.close()


def _open(p: Path):
    from openpyxl import load_workbook
    if not p.exists():
        raise InputError("找不到台賬文件,請檢查路徑。", file=str(p))
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        return load_workbook(p, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        from putuo_xl.workbook.filekind import not_workbook_message
        raise InputError(not_workbook_message(p, "任務分解台賬"), file=str(p)) from None


def _meta(wb, p: Path) -> dict[str, str]:
    if layout.META_SHEET not in wb.sheetnames:
        raise InputError(f"這不是 putuo-xl 生成的任務分解台賬(缺少隱藏工作表 {layout.META_SHEET})。"
                         f"請用 putuo-xl build 生成台賬後再在其中修改。", file=str(p))
    meta: dict[str, str] = {}
    for row in wb[layout.META_SHEET].iter_rows(min_row=2, max_col=2, values_only=True):
        if row and row[0] is not None:
            meta[str(row[0])] = "" if row[1] is None else str(row[1])
    if meta.get("kind") != layout.MASTER_KIND:
        raise InputError(f"工作表 {layout.META_SHEET} 標明的文件類型是「{meta.get('kind')}」,"
                         f"不是任務分解台賬。", file=str(p), sheet=layout.META_SHEET)
    return meta


ENGINES = ("openpyxl", "calamine")


def read_master(path: str | Path, config: Config | None = None, *,
                engine: str = "openpyxl") -> MasterRead:
    """The master at `path` read back: plan, `_meta`, and what officials changed since build.

    `engine`: "openpyxl" (the default) or "calamine" — python-calamine through
    `xlsxread.CalamineBook`, which gives the reader the same values (tests compare the plans)
    in milliseconds where openpyxl needs about a second for a province's master. A file
    calamine cannot open is read with openpyxl, so the user gets openpyxl's message for it.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    cfg = config or load_config()
    p = Path(path)
    wb = None
    if engine == "calamine" and p.is_file():
        from putuo_xl.workbook.xlsxread import CalamineBook
        try:
            wb = CalamineBook(p)
        except Exception:   # noqa: BLE001 - any calamine failure: let openpyxl explain the file
            wb = None
    from putuo_xl.workbook.filekind import reading
    with reading(p):
        if wb is None:
            wb = _open(p)
        try:
            meta = _meta(wb, p)
            return _Reader(wb, p, meta, cfg).run()
        finally:
            wb.close()


# -- the same, from sheet values (an open workbook through xlwings) ---------------------------
class _ValuesSheet:
    """What _Reader uses of an openpyxl read-only worksheet, over a 2-D list of values."""

    def __init__(self, rows):
        self.rows = [list(r) for r in (rows or [])]

    def iter_rows(self, min_row: int = 1, max_col: int | None = None, values_only: bool = True):
        for r in self.rows[min_row - 1:]:
            yield tuple(r[:max_col] if max_col else r)


class _ValuesBook:
    def __init__(self, sheets: dict):
        self.sheetnames = list(sheets)
        self._sheets = {k: _ValuesSheet(v) for k, v in sheets.items()}

    def __getitem__(self, name):
        return self._sheets[name]


def read_master_values(sheets: dict[str, list[list]], config: Config | None = None,
                       name: str = "台賬") -> MasterRead:
    """`read_master` for a workbook given as {sheet name: 2-D values} (e.g. the workbook open
    in Excel, read through xlwings): same checks, same messages, `name` as the file."""
    cfg = config or load_config()
    wb = _ValuesBook(sheets)
    p = Path(name)
    meta = _meta(wb, p)
    return _Reader(wb, p, meta, cfg).run()


def plan_from_values(sheets: dict[str, list[list]], config: Config | None = None,
                     name: str = "台賬") -> Plan:
    """The plan as an open workbook's sheet values say now (see read_master_values)."""
    return read_master_values(sheets, config, name).plan


def _cell(col: int, row: int) -> str:
    """0-based column, 1-based row → 'D12' (openpyxl's get_column_letter, without importing
    openpyxl for it: the calamine engine never needs openpyxl)."""
    letters = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).replace("\r\n", "\n").replace("\r", "\n").strip()


class _Reader:
    def __init__(self, wb, path: Path, meta: dict, cfg: Config):
        self.wb, self.path, self.meta, self.cfg = wb, path, meta, cfg
        self.file = str(path)
        self.problems: list[PutuoError] = []
        self.changes: list[Change] = []
        try:
            self.head = json.loads(meta.get("plan") or "{}")
        except json.JSONDecodeError:
            raise InputError(f"隱藏工作表 {layout.META_SHEET} 已損壞(plan)。請重新生成台賬。",
                             file=self.file, sheet=layout.META_SHEET) from None
        self.script = self.head.get("script") or meta.get("script") or "traditional"
        self.year = self.head.get("year") or (int(meta["year"]) if meta.get("year", "").isdigit() else None)
        self.sections: list[dict] = []
        self.subsections: dict[str, dict] = {}
        self.base_tasks: dict[str, Task] = {}
        for k, v in meta.items():
            try:
                if k.startswith("section:"):
                    self.sections.append({"id": k[8:], **json.loads(v)})
                elif k.startswith("subsection:"):
                    self.subsections[k[11:]] = json.loads(v)
                elif k.startswith("task:"):
                    d = json.loads(v)
                    t = Plan.from_dict({"title": "", "sections": [{"id": "0", "number": "", "title": "",
                                        "subsections": [{"id": "0", "number": None, "title": None,
                                                         "tasks": [{**d, "id": k[5:]}]}]}]}).tasks()[0]
                    self.base_tasks[t.id] = t
            except (json.JSONDecodeError, TypeError) as e:
                raise InputError(f"隱藏工作表 {layout.META_SHEET} 的「{k}」已損壞({e})。請重新生成台賬。",
                                 file=self.file, sheet=layout.META_SHEET) from None
        self.seen: dict[str, tuple[str, str]] = {}     # task id -> (sheet, cell)

    def problem(self, msg: str, sheet: str | None = None, cell: str | None = None):
        self.problems.append(PutuoError(in_script(msg, self.script), file=self.file, sheet=sheet,
                                        cell=cell, code="master-edit", script=self.script))

    def run(self) -> MasterRead:
        plan = Plan.from_dict({**self.head, "sections": []})
        try:
            plan.warnings = json.loads(self.meta.get("plan_warnings") or "[]")
        except json.JSONDecodeError:
            plan.warnings = []
        names = self.wb.sheetnames
        used: set[str] = set()
        for sec in self.sections:
            sheet = sec.get("sheet")
            if sheet not in names:
                alt = [n for n in names if n.startswith(f"{sec['number']}、")]
                if len(alt) == 1:
                    sheet = alt[0]
                else:
                    self.problem(f"找不到第{sec['number']}章的工作表「{sec.get('sheet')}」。如果改了工作表名,"
                                 f"請改回原名;如要刪除整章任務,請刪除表中的任務行而不是整個工作表。")
                    continue
            used.add(sheet)
            section = Section(id=sec["id"], number=sec["number"], title=sec["title"])
            self._read_section(self.wb[sheet], sheet, section)
            plan.sections.append(section)
        # A sheet an official added for a new section: named like 「七、標題」, same columns.
        known_ids = {s.id for s in plan.sections}
        for name in names:
            m = NEW_SECTION_RE.match(name)
            if name in used or not m:
                continue
            sid = str(cn_number(m.group(1)))
            section = Section(id=sid, number=m.group(1), title=m.group(2).strip())
            if not self._read_section(self.wb[name], name, section, optional=True):
                continue
            if sid in known_ids:
                self.problem(f"工作表「{name}」和已有的第{m.group(1)}章重名。新增章節請用下一個序號命名,"
                             f"例如「{CN_NUMERALS[len(known_ids)]}、章節標題」。", name)
                continue
            known_ids.add(sid)
            plan.sections.append(section)
        plan.sections.sort(key=lambda s: int(s.id))
        if self.problems:
            raise PlanEditError(self.problems, self.file, self.script)
        present = {t.id for t in plan.tasks()}
        for tid in self.base_tasks:
            if tid not in present:
                self.changes.append(Change("deleted", tid))
        return MasterRead(plan=plan, meta=self.meta, changes=self.changes, script=self.script)

    # -- one section sheet ------------------------------------------------------------------
    def _read_section(self, ws, sheet: str, section: Section, optional: bool = False) -> bool:
        """Read the tasks of one section sheet into `section`; False if the sheet has no task
        table (a problem, unless `optional`)."""
        rows = ws.iter_rows(values_only=True)
        cols: dict[str, int] = {}
        header_row = 0
        buffered = []
        for i, row in enumerate(rows, 1):
            found = {}
            for c, v in enumerate(row):
                k = _HEADER_NORM.get(norm_name(_text(v)))
                if k and k not in found:
                    found[k] = c
            if "id" in found and "task" in found:
                cols, header_row = found, i
                break
            buffered.append(row)
            if i >= 12:
                break
        if not cols:
            if not optional:
                self.problem("找不到表頭行(應有「任務編號」「工作任務」等列)。請不要刪除或改動表頭。", sheet)
            return False
        for key, label in (("lead", "牽頭單位"), ("co", "配合單位")):
            if key not in cols:
                self.problem(f"缺少「{label}」列。請恢復該列的表頭。", sheet)
        if "lead" not in cols or "co" not in cols:
            return True
        subs: dict[str, Subsection] = {}
        for r, row in enumerate(rows, header_row + 1):
            def get(key, row=row):
                c = cols.get(key)
                return row[c] if c is not None and c < len(row) else None
            editable = [get(k) for k in ("id", "task", "lead", "co", "indicator", "deadline")]
            if all(v is None or (not isinstance(v, (datetime, date)) and _text(v) == "")
                   for v in editable):
                continue
            task = self._read_row(sheet, section, r, cols, get)
            if task is None:
                continue
            sub_id = task.id.rsplit(".", 1)[0]
            ss = subs.get(sub_id)
            if ss is None:
                ss = subs[sub_id] = self._subsection(sub_id, _text(get("subsection")))
                section.subsections.append(ss)
            ss.tasks.append(task)
        # Plan order is task-number order, not row order: sorting or filtering the table in
        # Excel changes nothing, and a task added at the bottom lands in its subsection.
        section.subsections.sort(key=lambda ss: _id_key(ss.id))
        for ss in section.subsections:
            ss.tasks.sort(key=lambda t: _id_key(t.id))
        return True

    def _subsection(self, sub_id: str, label: str) -> Subsection:
        base = self.subsections.get(sub_id)
        if base is not None:
            ss = Subsection(id=sub_id, number=base.get("number"), title=base.get("title"))
            if label and label != subsection_label(ss):
                m = SUB_LABEL_RE.match(label)
                ss.number, ss.title = (m.group(1), m.group(2).strip()) if m else (ss.number, label)
            return ss
        m = SUB_LABEL_RE.match(label) if label else None
        if m:
            return Subsection(id=sub_id, number=m.group(1), title=m.group(2).strip() or None)
        return Subsection(id=sub_id, number=None, title=label or None)

    def _read_row(self, sheet, section, r, cols, get) -> Task | None:
        id_cell = _cell(cols["id"], r)
        tid = halfwidth(_text(get("id"))).replace(" ", "").replace("。", ".")
        text = _text(get("task"))
        if not tid:
            nxt = self._next_id(section)
            self.problem(f"這一行有內容但沒有任務編號。請填寫一個新編號(例如 {nxt}),"
                         f"或刪除這一行。", sheet, id_cell)
            return None
        m = ID_RE.match(tid)
        if not m:
            self.problem(f"任務編號「{tid}」的格式不對,應為「章.節.序號」三段數字,例如 "
                         f"{section.id}.1.1。", sheet, id_cell)
            return None
        if m.group(1) != section.id:
            self.problem(f"任務編號 {tid} 不屬於本章(第{section.number}章的任務編號以 {section.id}. 開頭)。"
                         f"請改為 {section.id}.x.x,或把這一行移到相應章節的工作表。", sheet, id_cell)
            return None
        if tid in self.seen:
            other_sheet, other_cell = self.seen[tid]
            where = f"工作表「{other_sheet}」單元格 {other_cell}" if other_sheet != sheet else f"單元格 {other_cell}"
            self.problem(f"任務編號 {tid} 重複({where} 已用過)。每項任務的編號必須唯一,"
                         f"請給新增的任務換一個未用過的編號(例如 {self._next_id(section, tid)})。",
                         sheet, id_cell)
            return None
        self.seen[tid] = (sheet, id_cell)
        if not text:
            self.problem(f"任務 {tid} 的「工作任務」是空的。請填寫任務內容;如要刪除這項任務,"
                         f"請刪除整行。", sheet, _cell(cols["task"], r))
            return None
        base = self.base_tasks.get(tid)
        task = copy.deepcopy(base) if base else Task(id=tid, text=text)
        task.text = text
        what = [] if base is None or base.text == text else ["工作任務"]
        units = self._units(sheet, r, cols, get, tid, base)
        if units is None:
            return None
        if base is None or not _same_units(units, base.units):
            task.units = units
            if base is not None:
                what.append("責任單位")
        if "indicator" in cols:
            inds = self._indicators(sheet, _cell(cols["indicator"], r), get("indicator"), tid, base)
            if inds is None:
                return None
            if base is None or inds is not base.indicators:
                if base is not None:
                    what.append("量化指標")
                task.indicators = inds
        if "deadline" in cols:
            ok = self._deadline(sheet, _cell(cols["deadline"], r), get("deadline"), task, base)
            if not ok:
                return None
            if base is not None and (task.deadline, task.recurring) != (base.deadline, base.recurring):
                what.append("完成時限")
        if base is None:
            self.changes.append(Change("added", tid))
        elif what:
            self.changes.append(Change("changed", tid, "、".join(what)))
        return task

    def _next_id(self, section: Section, like: str | None = None) -> str:
        prefix = like.rsplit(".", 1)[0] if like else None
        used = set(self.seen) | set(self.base_tasks)
        if prefix is None:
            subs = [k for k in self.subsections if k.split(".")[0] == section.id]
            prefix = subs[-1] if subs else f"{section.id}.1"
        n = 1
        while f"{prefix}.{n}" in used:
            n += 1
        return f"{prefix}.{n}"

    # -- cells ---------------------------------------------------------------------------
    def _units(self, sheet, r, cols, get, tid, base) -> list[UnitRef] | None:
        lead_names = split_units(strip_joint_mark(get("lead")))   # 「（共同負責）」: no lead
        co_names = split_units(get("co"))
        base_refs = base.units if base else []
        by_norm: dict[str, UnitRef] = {}
        for ref in base_refs:
            by_norm.setdefault(norm_name(ref.name), ref)
            if ref.canonical:
                by_norm.setdefault(norm_name(ref.canonical), ref)
        out: list[UnitRef] = []
        ok = True
        co_role = "co" if lead_names else "responsible"
        for names, role, key in ((lead_names, "lead", "lead"), (co_names, co_role, "co")):
            for name in names:
                ref = by_norm.get(norm_name(name))
                if ref is not None:
                    new = UnitRef(name=ref.name, canonical=ref.canonical, role=role, group=ref.group)
                else:
                    canonical = self.cfg.resolve(name)
                    if canonical is None:
                        ok = False
                        self.problem(self._unknown_unit(name), sheet, _cell(cols[key], r))
                        continue
                    new = UnitRef(name=canonical, canonical=canonical, role=role,
                                  group=self.cfg.is_group(canonical))
                if any((u.canonical or u.name) == (new.canonical or new.name) for u in out):
                    continue
                out.append(new)
        if not ok:
            return None
        if not out and (base is None or base.units):
            self.problem(f"任務 {tid} 沒有填寫牽頭單位或配合單位。請至少填寫一個責任單位。",
                         sheet, _cell(cols["lead"], r))
            return None
        return out

    def _unknown_unit(self, name: str) -> str:
        choices = list(self.cfg.units) + list(self.cfg.groups)
        by_norm = {norm_name(c): c for c in choices}
        for u in self.cfg.units.values():
            for a in [u.full_name, *u.aliases]:
                if a:
                    by_norm.setdefault(norm_name(a), u.name)
        close = difflib.get_close_matches(norm_name(name), list(by_norm), n=1, cutoff=0.6)
        hint = f"是不是「{by_norm[close[0]]}」?" if close else ""
        return (f"不認識的單位「{name}」。{hint}請寫配置文件中的單位名稱(簡稱、全稱或別名均可,"
                f"多個單位用頓號「、」分隔),或先在 config.yaml 的 units 下添加這個單位。")

    def _indicators(self, sheet, cell, value, tid, base) -> list[Indicator] | None:
        text = _text(value)
        if base is not None and text == indicators_text(base):
            return base.indicators
        from putuo_xl.plan.targets import extract_indicators    # only for an edited cell (its import costs)
        lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
        old = {indicator_line(i): i for i in (base.indicators if base else [])}
        used_ids = {i.id for i in old.values()}
        out: list[Indicator] = []
        for ln in lines:
            if ln in old:
                out.append(copy.deepcopy(old[ln]))
                continue
            name, _, target = ln.replace(":", ":").partition(":")
            if not target:
                name, target = "", ln
            found = extract_indicators(target)
            if not found:
                self.problem(f"無法識別量化指標「{ln}」。請寫成「指標名稱:目標」的形式,"
                             f"例如「網上受理率:達到90%以上」或「審批時間:不超過50天」,每行一個指標。",
                             sheet, cell)
                return None
            ind = found[0]
            ind.name = name.strip() or ind.name
            ind.text = target.strip()
            out.append(ind)
        n = 1
        for ind in out:
            if ind.id and ind.id.startswith(f"{tid}#"):
                continue
            while f"{tid}#{n}" in used_ids:
                n += 1
            ind.id = f"{tid}#{n}"
            used_ids.add(ind.id)
        return out

    def _deadline(self, sheet, cell, value, task: Task, base) -> bool:
        if base is not None:
            bv = deadline_value(base, self.script)
            same = (isinstance(value, datetime) and isinstance(bv, datetime) and value.date() == bv.date()) \
                or (_text(value) == _text(bv) and not isinstance(value, datetime))
            if same:
                task.deadline, task.deadline_text, task.recurring = \
                    base.deadline, base.deadline_text, base.recurring
                return True
        iso = to_iso(value)
        text = _text(value)
        task.recurring = False
        if iso:
            task.deadline, task.deadline_text = iso, None
            return True
        if not text:
            task.deadline, task.deadline_text = None, None
            return True
        if any(w in text for w in RECURRING_WORDS) or to_simplified(text) == to_simplified(RECURRING_LABEL):
            task.deadline, task.deadline_text, task.recurring = None, None, True
            return True
        flat = halfwidth(text)
        m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(前|之前)?", flat)
        if m:
            try:
                d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                task.deadline, task.deadline_text = d.isoformat(), None
                return True
            except ValueError:
                pass
        from putuo_xl.plan.targets import parse_deadline        # only for a deadline written in words
        got = parse_deadline(text if re.search(r"前|底|末|完成|年內|年内", text) else text + "前", self.year)
        if got:
            task.deadline, task.deadline_text = got[0], text
            return True
        self.problem(f"無法識別完成時限「{text}」。請填寫日期(如 2020-12-31 或 2020年12月31日)、"
                     f"「{self.year or 2020}年10月底前」這樣的說法,或「{RECURRING_LABEL}」。", sheet, cell)
        return False


def cn_number(s: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十三 → 23."""
    if "十" not in s:
        return CN_NUMERALS.index(s)
    tens, _, ones = s.partition("十")
    return (CN_NUMERALS.index(tens) if tens else 1) * 10 + (CN_NUMERALS.index(ones) if ones else 0)


def _id_key(tid: str) -> tuple[int, ...]:
    return tuple(int(p) for p in tid.split("."))


def _same_units(a: list[UnitRef], b: list[UnitRef]) -> bool:
    def key(lst):
        return sorted(((u.canonical or u.name), u.role) for u in lst)
    return key(a) == key(b)
