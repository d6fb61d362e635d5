"""plan.yaml / JSON: the plan in a form people can edit and other tools can read."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from .errors import InputError
from .model import Plan

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
    header = ("# 工作要點分解計劃 (putuo-xl plan). 可以直接編輯: 任務文字、責任單位、指標、時限。\n"
              "# role: lead=牽頭 co=配合 responsible=責任; op: >= 不低於, <= 不超過, = 等於\n")
    return header + yaml.dump(plan.to_dict(), Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                              width=1000)


def save_plan(plan: Plan, path: str | Path) -> Path:
    from .fileio import atomic_write_text
    p = Path(path)
    text = plan_to_json(plan) if p.suffix.lower() == ".json" else plan_to_yaml(plan)
    atomic_write_text(p, text)
    return p


def load_plan(path: str | Path) -> Plan:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("找不到計劃文件。", file=str(p)) from None
    except UnicodeDecodeError:
        raise InputError("計劃文件不是 UTF-8 編碼。", file=str(p)) from None
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else getattr(e, "lineno", None)
        raise InputError(f"計劃文件格式錯誤({getattr(e, 'problem', None) or e}),請檢查縮進和引號。",
                         file=str(p), line=line) from None
    if not isinstance(data, dict) or "sections" not in data:
        raise InputError("這不是 putuo-xl 的計劃文件(缺少 sections)。", file=str(p))
    try:
        return Plan.from_dict(data)
    except (TypeError, AttributeError) as e:
        raise InputError(f"計劃文件的結構不對({e}),請對照 putuo-xl parse 生成的樣例修改。",
                         file=str(p)) from None
