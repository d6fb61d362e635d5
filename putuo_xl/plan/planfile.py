"""plan.yaml / JSON: the plan in a form people can edit and other tools can read."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from putuo_xl.errors import InputError
from putuo_xl.plan.model import OPS, ROLES, Plan

PLAN_SUFFIXES = (".yaml", ".yml", ".json")


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def plan_to_json(plan: Plan, indent: int | None = 2) -> str:
    return json.dumps(plan.to_dict(), ensure_ascii=False, indent=indent)


def plan_to_yaml(plan: Plan) -> str:
    from putuo_xl.text import in_script
    header = in_script("# 工作要點分解計劃 (putuo-xl plan). 可以直接編輯: 任務文字、責任單位、指標、時限。\n"
                       "# role: lead=牽頭 co=配合 responsible=責任 (也可以寫中文); "
                       "op: >= 不低於, <= 不超過, = 等於\n", plan.script)
    return header + yaml.dump(plan.to_dict(), Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                              width=1000)


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write plan.yaml (or .json, by the suffix) atomically; never over a file open in Excel/WPS."""
    from putuo_xl.fileio import atomic_write_text
    p = Path(path)
    if p.is_dir():
        raise InputError("這是一個文件夾,請給出計劃文件的名稱,如 plan.yaml。", file=str(p))
    if p.suffix.lower() not in PLAN_SUFFIXES:
        raise InputError("計劃文件請用 .yaml(可以直接編輯)或 .json 作擴展名。", file=str(p))
    text = plan_to_json(plan) if p.suffix.lower() == ".json" else plan_to_yaml(plan)
    try:
        atomic_write_text(p, text)
    except IsADirectoryError:
        raise InputError("這是一個文件夾,請給出計劃文件的名稱,如 plan.yaml。", file=str(p)) from None
    except OSError as e:
        raise InputError(f"無法寫出計劃文件({e.strerror or e}),請檢查文件夾是否存在、是否有寫入權限。",
                         file=str(p)) from None
    return p


# What people type when they edit plan.yaml by hand.
_ROLE_WORDS = {"牽頭": "lead", "牵头": "lead", "主辦": "lead", "主办": "lead", "lead": "lead",
               "配合": "co", "協辦": "co", "协办": "co", "co": "co",
               "責任": "responsible", "责任": "responsible", "responsible": "responsible"}
_OP_WORDS = {">=": ">=", "≥": ">=", "以上": ">=", "不低於": ">=", "不低于": ">=",
             "<=": "<=", "≤": "<=", "以下": "<=", "以內": "<=", "以内": "<=", "不超過": "<=", "不超过": "<=",
             "=": "=", "==": "="}


def load_plan(path: str | Path) -> Plan:
    """Read plan.yaml / plan.json back into a Plan; hand edits are checked, with the line."""
    from putuo_xl.config import _DuplicateKey, _LineLoader

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("找不到計劃文件。", file=str(p)) from None
    except IsADirectoryError:
        raise InputError("這是一個文件夾,請選擇計劃文件 plan.yaml。", file=str(p)) from None
    except UnicodeDecodeError:
        raise InputError("計劃文件不是 UTF-8 編碼。", file=str(p)) from None
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.load(text, Loader=_LineLoader)
    except _DuplicateKey as e:
        raise InputError(f"「{e.key}」在同一處寫了兩次(第 {e.first} 行和第 {e.second} 行)。",
                         file=str(p), line=e.second) from None
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else getattr(e, "lineno", None)
        raise InputError(f"計劃文件格式錯誤({getattr(e, 'problem', None) or e}),請檢查縮進和引號。",
                         file=str(p), line=line) from None
    if not isinstance(data, dict) or "sections" not in data:
        raise InputError("這不是 putuo-xl 的計劃文件(缺少 sections)。", file=str(p))
    _check_plan_data(data, str(p))
    try:
        return Plan.from_dict(data)
    except (TypeError, AttributeError) as e:
        raise InputError(f"計劃文件的結構不對({e}),請對照 putuo-xl parse 生成的樣例修改。",
                         file=str(p)) from None


def _check_plan_data(data: dict, path: str) -> None:
    """Normalise what a person may have typed (牽頭 for lead, ≥ for >=) and refuse what would
    break the later stages: duplicate task ids, a task without id or text, a bad role."""
    def line(mapping, key="id"):
        return getattr(mapping, "lines", {}).get(key)

    def fail(msg, mapping, key="id"):
        raise InputError(msg, file=path, line=line(mapping, key))

    seen: dict[str, int | None] = {}
    sections = data.get("sections") or []
    if not isinstance(sections, list):
        fail("sections 應是列表。", data, "sections")
    for s in sections:
        if not isinstance(s, dict):
            raise InputError("每個章節應是「鍵: 值」映射(id、number、title、subsections)。", file=path)
        for ss in s.get("subsections") or []:
            if not isinstance(ss, dict):
                raise InputError("每個小節應是「鍵: 值」映射(id、title、tasks)。", file=path)
            for t in ss.get("tasks") or []:
                if not isinstance(t, dict):
                    raise InputError("每個任務應是「鍵: 值」映射(id、text、units…)。", file=path)
                tid = str(t.get("id") or "").strip()
                if not tid:
                    fail("有一個任務沒有 id(如 1.2.3),請補上。", t, "text")
                if tid in seen:
                    fail(f"任務編號 {tid} 重複(第 {seen[tid]} 行已有),每個任務的 id 必須唯一。", t)
                seen[tid] = line(t)
                t["id"] = tid
                if not str(t.get("text") or "").strip():
                    fail(f"任務 {tid} 沒有內容(text)。", t)
                for u in t.get("units") or []:
                    if not isinstance(u, dict) or not str(u.get("name") or "").strip():
                        fail(f"任務 {tid} 的責任單位缺少 name。", t, "units")
                    role = _ROLE_WORDS.get(str(u.get("role") or "responsible").strip())
                    if role not in ROLES:
                        fail(f"任務 {tid} 的單位「{u.get('name')}」的 role 應是 lead(牽頭)、co(配合)"
                             f"或 responsible(責任)。", u, "role")
                    u["role"] = role
                for ind in t.get("indicators") or []:
                    if not isinstance(ind, dict):
                        fail(f"任務 {tid} 的指標格式不對。", t, "indicators")
                    op = _OP_WORDS.get(str(ind.get("op") or ">=").strip())
                    if op not in OPS:
                        fail(f"任務 {tid} 的指標 op 應是 >=(不低於)、<=(不超過)或 =。", ind, "op")
                    ind["op"] = op
                    try:
                        ind["value"] = float(ind.get("value"))
                    except (TypeError, ValueError):
                        fail(f"任務 {tid} 的指標 value 應是數字。", ind, "value")


def plan_summary(plan: Plan) -> dict:
    """What `putuo-xl parse` shows: per section counts, per unit counts by role, the warnings."""
    sections = []
    for s in plan.sections:
        tasks = [t for ss in s.subsections for t in ss.tasks]
        sections.append({
            "id": s.id, "number": s.number, "title": s.title, "subsections": len(s.subsections),
            "tasks": len(tasks), "indicators": sum(len(t.indicators) for t in tasks),
            "units": len({u.canonical or u.name for t in tasks for u in t.units}),
            "without_units": sum(1 for t in tasks if not t.units)})
    units: dict[str, dict] = {}
    for t in plan.tasks():
        for u in t.units:
            row = units.setdefault(u.canonical or u.name, {
                "name": u.canonical or u.name, "as_written": u.name, "resolved": u.canonical is not None,
                "group": u.group, "lead": 0, "co": 0, "responsible": 0})
            row[u.role] += 1
    tasks = plan.tasks()
    return {
        "sections": sections,
        "totals": {"sections": len(plan.sections), "subsections": sum(x["subsections"] for x in sections),
                   "tasks": len(tasks), "indicators": sum(x["indicators"] for x in sections),
                   "units": len(units), "without_units": sum(1 for t in tasks if not t.units)},
        "units": list(units.values()),
        "warnings": list(plan.warnings),
    }
