"""The year's figures for the 年度報告, from the ledger and the rollup: every task's status and
every target's actual as of the year's last month in the ledger, each section's counts, the
reporting month by month, and who reported how often. Nothing here is estimated: each figure
is a count or a value of the ledger, or a ratio of two such counts (the texts are in texts.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from putuo_xl import layout
from putuo_xl.config import Config
from putuo_xl.errors import InputError
from putuo_xl.plan.model import Plan
from putuo_xl.report.texts import YearTexts, year_texts
from putuo_xl.rollup.by_task import _short
from putuo_xl.rollup.rules import (MET, NO_VALUE, NOT_MET, NOT_REPORTED, SUBMIT_LATE, SUBMIT_MISSING,
                                   status_categories)


@dataclass
class TaskLine:
    """One task at the year's end (附件1)."""
    id: str
    section_id: str
    text: str
    short: str
    lead: str                    # 牽頭單位 as the section sheets show it
    deadline: str                # 完成時限 as the 任務進展 sheet shows it
    status: str                  # 總體狀態 (a status name or 未填報)
    category: str | None         # done | in_progress | not_started | lagging | None
    progress: float | None       # 完成進度 0..1
    light: str                   # 預警 (綠燈 黃燈 紅燈)
    note: str                    # 說明 of 任務進展


@dataclass
class TargetLine:
    """One target with its last actual (附件2)."""
    id: str
    task_id: str
    section_id: str
    name: str
    target: str                  # as written: 90%以上
    value: float                 # the target value
    unit: str
    op: str
    actual: float | None
    reporter: str                # the unit whose value counts
    month: str                   # the month the value was reported for ("" none)
    met: str                     # 達標 | 未達標 | 未填報


@dataclass
class SectionFigures:
    id: str
    number: str
    title: str
    tasks: list[TaskLine]
    targets: list[TargetLine]

    def count(self, category: str | None) -> int:
        return sum(1 for t in self.tasks if t.category == category)

    @property
    def done(self) -> int:
        return self.count("done")

    @property
    def rate(self) -> float | None:
        return self.done / len(self.tasks) if self.tasks else None

    @property
    def targets_met(self) -> list[TargetLine]:
        return [t for t in self.targets if t.met == MET]

    @property
    def unfinished(self) -> list[TaskLine]:
        return [t for t in self.tasks if t.category != "done"]

    @property
    def targets_short(self) -> list[TargetLine]:
        return [t for t in self.targets if t.met != MET]


@dataclass
class MonthReporting:
    """One month's reporting (趨勢): units expected, on time, late, missing, not yet due."""
    month: str
    expected: int
    on_time: int
    late: int
    missing: int
    not_due: int

    @property
    def rate(self) -> float | None:
        due = self.expected - self.not_due
        return self.on_time / due if due else None


@dataclass
class YearFigures:
    year: int
    months: list[str]            # the year's months in the ledger, ascending
    last: str                    # the last of them: statuses and actuals are as of its end
    script: str
    plan_title: str
    doc_number: str | None
    district: str
    office: str
    sample: bool                 # some month's data in force is putuo-xl demo's sample returns
    sections: list[SectionFigures]
    reporting: list[MonthReporting]
    files_accepted: int          # forms accepted in the year (corrections included)
    files_rejected: int          # files refused
    issued: int                  # forms issued (unit × month)
    unit_missing: dict[str, int] = field(default_factory=dict)   # unit → months not reported
    unit_late: dict[str, int] = field(default_factory=dict)      # unit → months reported late
    texts: YearTexts | None = None
    status_colors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def tasks(self) -> list[TaskLine]:
        return [t for s in self.sections for t in s.tasks]

    @property
    def targets(self) -> list[TargetLine]:
        return [t for s in self.sections for t in s.targets]

    def total(self, attr: str) -> int:
        return sum(getattr(m, attr) for m in self.reporting)

    @property
    def on_time_rate(self) -> float | None:
        due = self.total("expected") - self.total("not_due")
        return self.total("on_time") / due if due else None

    def count(self, category: str | None) -> int:
        return sum(1 for t in self.tasks if t.category == category)

    @property
    def rate(self) -> float | None:
        n = len(self.tasks)
        return self.count("done") / n if n else None

    @property
    def targets_met(self) -> int:
        return sum(1 for t in self.targets if t.met == MET)


def year_months(ledger, year: int) -> list[str]:
    """The months of `year` with anything in the ledger: forms issued or files received."""
    lo, hi = f"{year:04d}-01", f"{year:04d}-12"
    rows = ledger.conn.execute(
        "SELECT month FROM issued WHERE month BETWEEN ?1 AND ?2 UNION "
        "SELECT COALESCE(month, collect_month) FROM submissions "
        "WHERE COALESCE(month, collect_month) BETWEEN ?1 AND ?2", (lo, hi))
    return sorted({r[0] for r in rows if r[0]})


def check_year(year) -> int:
    try:
        y = int(str(year).strip().removesuffix("年"))
    except (TypeError, ValueError):
        y = 0
    if not 2000 <= y <= 2100:
        from putuo_xl.errors import PutuoError
        raise PutuoError(f"年份「{year}」不對,請寫成 2020 這樣的四位數年份。", code="bad-year")
    return y


def year_figures(ledger, plan: Plan, cfg: Config, year, *, today: date | None = None,
                 texts: bool = True) -> YearFigures:
    """Everything the 年度報告 says about `year`, from the ledger (see the module doc).
    Refused (InputError) for a year with nothing in the ledger."""
    from putuo_xl.rollup.compute import compute_rollup

    year = check_year(year)
    months = year_months(ledger, year)
    if not months:
        raise InputError(
            f"台賬中沒有{year}年的記錄:沒有下發過{year}年的月報,也沒有收到過{year}年的回報,"
            f"無從撰寫年度報告。請檢查年份,或先下發、收集各月的月報。", code="empty-year")
    last = months[-1]
    r = compute_rollup(ledger, plan, cfg, last, today=today, history=False, texts=texts)
    cats = status_categories(cfg)
    prog = r.progress[r.progress["月份"] == last]
    by_task = {row["任務編號"]: row for row in prog.to_dict("records")}
    ind = r.indicators[r.indicators["月份"] == last]
    by_ind = {row["指標編號"]: row for row in ind.to_dict("records")}
    sections = []
    for s in plan.sections:
        tasks, targets = [], []
        for ss in s.subsections:
            for t in ss.tasks:
                row = by_task.get(t.id, {})
                status = row.get("總體狀態") or NOT_REPORTED
                tasks.append(TaskLine(
                    id=t.id, section_id=s.id, text=t.text, short=_short(t.text),
                    lead=row.get("牽頭單位", ""), deadline=row.get("完成時限", ""), status=status,
                    category=None if status == NOT_REPORTED else cats.get(status, "in_progress"),
                    progress=_num(row.get("完成進度")), light=row.get("預警", ""),
                    note=row.get("說明", "")))
                for i in t.indicators:
                    x = by_ind.get(i.id, {})
                    targets.append(TargetLine(
                        id=i.id, task_id=t.id, section_id=s.id, name=i.name or i.text,
                        target=i.text, value=i.value, unit=i.unit, op=i.op,
                        actual=_num(x.get("實際值")), reporter=x.get("填報單位") or "",
                        month=x.get("數據月份") or "", met=x.get("是否達標") or NO_VALUE))
        sections.append(SectionFigures(s.id, s.number, s.title, tasks, targets))
    trend = {row["月份"]: row for row in r.trend.to_dict("records")}
    reporting = [MonthReporting(m, *(int(trend[m].get(k) or 0) for k in (
        "應報單位", "按時報送", "逾期報送", "未報送", "未到期")))
        for m in months if m in trend]
    missing: dict[str, int] = {}
    late: dict[str, int] = {}
    for m, units in r.unit_states.items():
        if m in months:
            for u, state in units.items():
                if state == SUBMIT_MISSING:
                    missing[u] = missing.get(u, 0) + 1
                elif state == SUBMIT_LATE:
                    late[u] = late.get(u, 0) + 1
    lo, hi = months[0], months[-1]
    acc, rej = ledger.conn.execute(
        "SELECT SUM(status = 'accepted' AND month BETWEEN ?1 AND ?2), "
        "SUM(status <> 'accepted' AND COALESCE(collect_month, month) BETWEEN ?1 AND ?2) "
        "FROM submissions", (lo, hi)).fetchone()
    issued = ledger.conn.execute("SELECT COUNT(*) FROM (SELECT DISTINCT month, unit FROM issued "
                                 "WHERE month BETWEEN ? AND ?)", (lo, hi)).fetchone()[0]
    fig = YearFigures(
        year=year, months=months, last=last, script=plan.script, plan_title=plan.title,
        doc_number=plan.doc_number, district=cfg.district, office=cfg.office,
        sample=bool(set(months) & set(r.sample_months)), sections=sections, reporting=reporting,
        files_accepted=int(acc or 0), files_rejected=int(rej or 0), issued=int(issued),
        unit_missing=missing, unit_late=late, status_colors=dict(r.status_colors),
        warnings=list(r.warnings))
    if texts:
        order = {u: i for i, u in enumerate(cfg.units)}
        leads: dict[str, set[str]] = {}
        for t in plan.tasks():     # the lead (or responsible) units, groups expanded
            from putuo_xl.plan.assignments import task_roles
            leads[t.id] = {u for u, (role, _via) in task_roles(t, cfg).items() if role != "co"}
        section_of = {t.id: s.id for s in plan.sections for ss in s.subsections for t in ss.tasks}
        task_order = {t.id: i for i, t in enumerate(plan.tasks())}
        fig.texts = year_texts({m: r.texts[m] for m in months if m in r.texts}, months, order,
                               leads, section_of, task_order)
    return fig


def _num(x) -> float | None:
    if x is None or x == "":
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def month_word(month: str) -> str:
    return layout.month_label(month)
