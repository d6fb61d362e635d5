"""Score the parser on the corpus of real notices and task tables (tests/notices/corpus/).

    .venv/bin/python bench/score_notices.py               # per-file table and the totals
    .venv/bin/python bench/score_notices.py --write       # also bench/results/notices.md
    .venv/bin/python bench/score_notices.py --check       # exit 1 below the targets

Each notice has an annotation NAME.yaml (see tests/notices/corpus/README.md) listing its tasks by
a key (a fragment of the task's text), its units by role, its targets and its own deadline. Every
file of the notice (.txt, .html, .docx, .xlsx) is parsed with the bundled config and compared:

* task recall: annotated tasks found (a parsed task whose text contains the key; each parsed task
  answers one annotated task);
* units: the names of a found task's units against the annotation (compared in the normalised form
  of putuo_xl.text.norm_name: script, width, brackets, spaces); a unit of a task that was not found
  is missed; precision, recall and F1 over all files;
* lead/co accuracy: of the annotated units whose role the notice states (lead or co) and that were
  found, the share the parser gave that role (a unit annotated responsible, the notice stating no
  role, is not counted);
* target recall: annotated targets found among the task's indicators (same number and unit);
* deadline accuracy (extra): annotated own deadlines the task got;
* held out: the notices annotated `held_out: true`, found after the parser's changes for the
  others and scored before any change for them, on a line of their own;
* crashes: files the parser raised on with anything but its own message (printed, never a
  traceback); refused: files it declined to read with its own message (InputError).

The targets (task recall >= 0.95, unit F1 >= 0.90, no crash, no file refused) are the ones CI checks
(tests/test_parser_corpus.py).
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from putuo_xl.config import load_config  # noqa: E402
from putuo_xl.text import norm_name  # noqa: E402

CORPUS = ROOT / "tests" / "notices" / "corpus"
TARGET_TASK_RECALL = 0.95
TARGET_UNIT_F1 = 0.90
ROLES = ("lead", "co", "responsible")


@dataclass
class Score:
    name: str
    tasks: int = 0
    found: int = 0
    unit_tp: int = 0
    unit_fp: int = 0
    unit_fn: int = 0
    role_total: int = 0
    role_right: int = 0
    targets: int = 0
    targets_found: int = 0
    deadlines: int = 0
    deadlines_right: int = 0
    crash: str | None = None      # an exception other than the parser's own refusal
    refused: str | None = None    # the parser's own message (InputError): the file was not read
    misses: list[str] = field(default_factory=list)

    def add(self, other: "Score") -> None:
        for f in ("tasks", "found", "unit_tp", "unit_fp", "unit_fn", "role_total", "role_right",
                  "targets", "targets_found", "deadlines", "deadlines_right"):
            setattr(self, f, getattr(self, f) + getattr(other, f))

    @staticmethod
    def _ratio(a: int, b: int) -> float | None:
        return a / b if b else None

    @property
    def task_recall(self):
        return self._ratio(self.found, self.tasks)

    @property
    def unit_precision(self):
        return self._ratio(self.unit_tp, self.unit_tp + self.unit_fp)

    @property
    def unit_recall(self):
        return self._ratio(self.unit_tp, self.unit_tp + self.unit_fn)

    @property
    def unit_f1(self):
        p, r = self.unit_precision, self.unit_recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def role_accuracy(self):
        return self._ratio(self.role_right, self.role_total)

    @property
    def target_recall(self):
        return self._ratio(self.targets_found, self.targets)

    @property
    def deadline_accuracy(self):
        return self._ratio(self.deadlines_right, self.deadlines)


def annotations(corpus: Path = CORPUS) -> list[tuple[Path, dict]]:
    out = []
    for path in sorted(corpus.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out.append((path, data))
    return out


def _key(text: str) -> str:
    return re.sub(r"[,，、;；:：。“”\"'《》()（）\s]", "", norm_name(text))


def _number(text: str) -> tuple[float, str] | None:
    t = norm_name(str(text))
    m = re.search(r"(\d+(?:\.\d+)?)\s*(%|亿元|万元|元|个|件|项|次|天|日|人|学时)?", t)
    if m:
        return float(m.group(1)), m.group(2) or ""
    cn = re.search(r"[一二两三四五六七八九十]", t)
    if cn:
        return float("一二两三四五六七八九十".index(cn.group(0)) + (0 if cn.group(0) in "一二" else -1) + 1), ""
    return None


def _target_found(expected: str, indicators) -> bool:
    want = _number(expected)
    if want is None:
        return False
    for ind in indicators:
        if abs(ind.value - want[0]) < 1e-9 and (not want[1] or norm_name(ind.unit) == want[1]
                                                or want[1] in norm_name(ind.text)):
            return True
    return False


def score_plan(name: str, plan, ann: dict) -> Score:
    s = Score(name)
    parsed = plan.tasks()
    subs = plan.subsection_of()
    secs = {t.id: s for s in plan.sections for ss in s.subsections for t in ss.tasks}
    # a task is known by its text and the title of its subsection ((一)為推動…提供法治保障。 + text),
    # or of its section when it has no subsection (三、完善規範性文件制定程序。+ text)
    texts = [_key((subs[t.id].title or secs[t.id].title or "") + "|" + t.text) for t in parsed]
    used: set[int] = set()
    for exp in ann.get("tasks") or []:
        s.tasks += 1
        key = _key(exp["key"])
        match = next((i for i, t in enumerate(parsed) if i not in used and key in _key(t.text)), None)
        if match is None:
            match = next((i for i in range(len(parsed)) if i not in used and key in texts[i]), None)
        expected_units = {norm_name(u): role for role in ROLES for u in exp.get(role) or []}
        targets = exp.get("targets") or []
        s.targets += len(targets)
        deadline = exp.get("deadline")
        if deadline:
            s.deadlines += 1
        if match is None:
            s.unit_fn += len(expected_units)
            s.misses.append(f"task「{exp['key']}」not found")
            continue
        used.add(match)
        task = parsed[match]
        s.found += 1
        got = {}
        for u in task.units:
            got.setdefault(norm_name(u.name), u.role)
        for unit, role in expected_units.items():
            if unit in got:
                s.unit_tp += 1
                if role in ("lead", "co"):
                    s.role_total += 1
                    if got[unit] == role:
                        s.role_right += 1
                    else:
                        s.misses.append(f"「{exp['key']}」{unit}: {got[unit]}, expected {role}")
            else:
                s.unit_fn += 1
                s.misses.append(f"「{exp['key']}」unit {unit} missed")
        for unit in got:
            if unit not in expected_units:
                s.unit_fp += 1
                s.misses.append(f"「{exp['key']}」unit {unit} not in the notice's list")
        for t in targets:
            if _target_found(t, task.indicators):
                s.targets_found += 1
            else:
                s.misses.append(f"「{exp['key']}」target {t} missed")
        if deadline:
            if task.deadline == str(deadline):
                s.deadlines_right += 1
            else:
                s.misses.append(f"「{exp['key']}」deadline {task.deadline}, expected {deadline}")
    return s


def score_file(path: Path, ann: dict, cfg) -> Score:
    from putuo_xl.plan.parser import parse_notice

    from putuo_xl.errors import PutuoError

    try:
        plan = parse_notice(path, cfg)
    except Exception as e:      # a crash is what this counts: the message, never a traceback
        s = Score(path.name)
        if isinstance(e, PutuoError):
            s.refused = str(e)
        else:
            s.crash = f"{type(e).__name__}: {e}"
        s.tasks = len(ann.get("tasks") or [])
        s.unit_fn = sum(len(t.get(r) or []) for t in ann.get("tasks") or [] for r in ROLES)
        s.targets = sum(len(t.get("targets") or []) for t in ann.get("tasks") or [])
        s.deadlines = sum(1 for t in ann.get("tasks") or [] if t.get("deadline"))
        return s
    return score_plan(path.name, plan, ann)


def score_corpus(corpus: Path = CORPUS) -> tuple[list[Score], Score, dict]:
    cfg = load_config()
    scores: list[Score] = []
    total = Score("合計")
    held = Score("held out")
    provinces: set[str] = set()
    scripts: set[str] = set()
    forms: set[str] = set()
    for path, ann in annotations(corpus):
        if ann.get("province") and not re.search("未注明|国务院|國務院", str(ann["province"])):
            provinces.add(str(ann["province"]))
        scripts.add(str(ann.get("script")))
        for f in ann.get("files") or []:
            forms.add(Path(f).suffix.lower())
            s = score_file(corpus / f, ann, cfg)
            scores.append(s)
            total.add(s)
            if ann.get("held_out"):
                held.add(s)
    crashes = sum(1 for s in scores if s.crash)
    refused = sum(1 for s in scores if s.refused)
    info = {"refused": refused, "held_out": held if held.tasks else None, "notices": len(annotations(corpus)), "files": len(scores), "provinces": sorted(provinces),
            "scripts": sorted(scripts), "forms": sorted(forms), "crashes": crashes}
    return scores, total, info


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def table(scores: list[Score], total: Score, info: dict, details: bool = False) -> str:
    head = ("| file | tasks | task recall | unit P | unit R | unit F1 | lead/co | targets | "
            "deadlines | crash | refused |")
    lines = [head, "|" + " --- |" * 11]
    extra = [info["held_out"]] if info.get("held_out") else []
    for s in scores + extra + [total]:
        name = f"**{s.name}**" if s is total else (f"*{s.name}*" if s in extra else s.name)
        crash = str(info["crashes"]) if s is total else ("yes" if s.crash else "")
        refused = str(info["refused"]) if s is total else ("yes" if s.refused else "")
        lines.append(f"| {name} | {s.found}/{s.tasks} | {_fmt(s.task_recall)} | {_fmt(s.unit_precision)} | "
                     f"{_fmt(s.unit_recall)} | {_fmt(s.unit_f1)} | {_fmt(s.role_accuracy)} | "
                     f"{_fmt(s.target_recall)} | {_fmt(s.deadline_accuracy)} | {crash} | {refused} |")
    out = "\n".join(lines)
    out += (f"\n\n{info['notices']} notices, {info['files']} files ({', '.join(info['forms'])}), "
            f"{len(info['provinces'])} provinces and the State Council's office, scripts: "
            f"{', '.join(info['scripts'])}.")
    if details:
        for s in scores:
            if s.crash or s.refused:
                out += f"\n\n{s.name}: " + (f"crashed: {s.crash}" if s.crash else f"refused: {s.refused}")
            elif s.misses:
                out += f"\n\n{s.name}:\n" + "\n".join(f"  - {m}" for m in s.misses)
    return out


def meets_targets(total: Score, info: dict) -> bool:
    return (info["crashes"] == 0 and info["refused"] == 0 and (total.task_recall or 0) >= TARGET_TASK_RECALL
            and (total.unit_f1 or 0) >= TARGET_UNIT_F1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write bench/results/notices.md")
    ap.add_argument("--check", action="store_true", help="exit 1 below the targets")
    ap.add_argument("--details", action="store_true", help="list what was missed, file by file")
    args = ap.parse_args(argv)
    scores, total, info = score_corpus()
    text = table(scores, total, info, details=args.details)
    print(text)
    if args.write:
        out = ROOT / "bench" / "results" / "notices.md"
        out.write_text("# Parser score on the corpus of real notices\n\n"
                       "`bench/score_notices.py` over `tests/notices/corpus/` (see its README).\n\n"
                       + table(scores, total, info, details=True) + "\n", encoding="utf-8")
    if args.check and not meets_targets(total, info):
        print(f"\nbelow the targets: task recall {_fmt(total.task_recall)} (>= {TARGET_TASK_RECALL}), "
              f"unit F1 {_fmt(total.unit_f1)} (>= {TARGET_UNIT_F1}), crashes {info['crashes']} (0), "
              f"refused {info['refused']} (0)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
