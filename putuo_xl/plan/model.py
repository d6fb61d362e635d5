"""The plan parsed from a notice: sections -> subsections -> tasks.

Plain dataclasses with a stable dict form (the `--json` shape of `parse`);
`Plan.from_dict(plan.to_dict()) == plan` always holds.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields

ROLES = ("lead", "co", "responsible")
ROLE_LABELS = {"lead": "牽頭", "co": "配合", "responsible": "責任"}
OPS = (">=", "<=", "=")


@dataclass
class UnitRef:
    name: str                      # as written in the notice
    canonical: str | None = None   # the config's unit or group name, None if unknown
    role: str = "responsible"      # lead | co | responsible
    group: bool = False


@dataclass
class Indicator:
    text: str                      # as written: "90%以上"
    value: float
    unit: str                      # "%", "件", "天", "個工作日"
    op: str                        # ">=", "<=", "="
    name: str = ""                 # what is measured: "政務服務辦件網上受理率"
    id: str = ""                   # "1.4.1#1": task id and position

    def met(self, actual: float | None) -> bool | None:
        """Whether `actual` meets the target; None when nothing was reported."""
        if actual is None:
            return None
        if self.op == ">=":
            return actual >= self.value
        if self.op == "<=":
            return actual <= self.value
        return actual == self.value


@dataclass
class Task:
    id: str                        # "1.2.3": section.subsection.task
    text: str
    number: str | None = None      # the item number as written ("1."), if any
    units: list[UnitRef] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    deadline: str | None = None    # YYYY-MM-DD: the task's own or the notice's default
    deadline_text: str | None = None  # the task's own deadline phrase, if any
    recurring: bool = False        # 經常性工作: no year-end deadline
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)
    leader: str | None = None      # 牽頭領導/責任領導 as written (an official, not a unit)

    def units_by_role(self, role: str) -> list[UnitRef]:
        return [u for u in self.units if u.role == role]


@dataclass
class Subsection:
    id: str                        # "1.2"
    number: str | None             # "(二)" as written, None for an unnumbered block
    title: str | None
    tasks: list[Task] = field(default_factory=list)
    intro: str | None = None       # a lead-in paragraph before the numbered tasks (not a task)


@dataclass
class Section:
    id: str                        # "1"
    number: str                    # "一"
    title: str
    subsections: list[Subsection] = field(default_factory=list)
    intro: str | None = None       # text between the heading and the first subsection


@dataclass
class Plan:
    title: str
    issuer: str | None = None
    date: str | None = None        # publication date, YYYY-MM-DD
    doc_number: str | None = None  # 文號: 舟普政辦〔2020〕31號
    addressees: str | None = None
    notice_title: str | None = None  # the covering notice's own title (關于印發…的通知)
    year: int | None = None
    script: str = "traditional"    # traditional | simplified
    default_deadline: str | None = None
    default_deadline_text: str | None = None
    preamble: str | None = None    # the 總體要求 paragraph before the first section
    source: str | None = None      # file name the plan came from
    warnings: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    # -- navigation -------------------------------------------------------
    def tasks(self) -> list[Task]:
        return [t for s in self.sections for ss in s.subsections for t in ss.tasks]

    def task_index(self) -> dict[str, Task]:
        return {t.id: t for t in self.tasks()}

    def subsection_of(self) -> dict[str, Subsection]:
        return {t.id: ss for s in self.sections for ss in s.subsections for t in ss.tasks}

    def indicators(self) -> list[tuple[Task, Indicator]]:
        return [(t, i) for t in self.tasks() for i in t.indicators]

    def unit_names(self) -> list[str]:
        """Distinct units and groups named, by canonical name (else as written), in order."""
        seen: dict[str, None] = {}
        for t in self.tasks():
            for u in t.units:
                seen.setdefault(u.canonical or u.name, None)
        return list(seen)

    # -- serialisation ----------------------------------------------------
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Plan":
        def build(kind, data):
            names = {f.name for f in fields(kind)}
            return kind(**{k: v for k, v in data.items() if k in names})

        sections = []
        for s in d.get("sections") or []:
            subs = []
            for ss in s.get("subsections") or []:
                tasks = []
                for t in ss.get("tasks") or []:
                    task = build(Task, {**t, "units": [], "indicators": []})
                    task.units = [build(UnitRef, u) for u in t.get("units") or []]
                    task.indicators = [build(Indicator, i) for i in t.get("indicators") or []]
                    task.warnings = list(t.get("warnings") or [])
                    tasks.append(task)
                subs.append(build(Subsection, {**ss, "tasks": tasks}))
            sections.append(build(Section, {**s, "subsections": subs}))
        plan = build(Plan, {**d, "sections": sections})
        plan.warnings = list(d.get("warnings") or [])
        return plan

    def fingerprint(self) -> str:
        """A short hash of what a form depends on: task ids, texts, units, targets.

        Metadata and warnings are left out, so re-parsing or re-reading the master
        gives the same fingerprint as long as the tasks are the same.
        """
        core = [
            [t.id, t.text, [[u.canonical or u.name, u.role] for u in t.units],
             [[i.value, i.unit, i.op] for i in t.indicators], t.deadline]
            for t in self.tasks()
        ]
        blob = json.dumps(core, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]
