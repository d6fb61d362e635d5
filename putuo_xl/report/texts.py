"""What the units wrote during the year (工作進展, 存在問題, 下步計劃), as the 年度報告 quotes it:
per task and kind, each distinct text once — the latest first —, with the units that wrote it
and the month and ledger number of each unit's latest return that says it (the source the
report's comments name).

Texts are compared as written, without the 【示例數據】 mark the demo puts before every sample
text and without surrounding spaces; a text is never reworded, shortened or merged with another.
Only the submissions in force count (a superseded form's texts were replaced by its correction).
"""
from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("progress_text", "problems", "next_steps")
SAMPLE_PREFIXES = ("【示例數據】", "【示例数据】")


@dataclass
class Said:
    """One distinct text for one task, and who wrote it (unit → (month, submission id) of the
    latest return that says it)."""
    task_id: str
    text: str
    units: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def latest(self) -> str:
        return max(m for m, _ in self.units.values())

    def ordered_units(self, order: dict[str, int], leads: set[str] = frozenset()) -> list[str]:
        """The units: the latest month first, lead units before others, then directory order."""
        n = len(order)
        return sorted(self.units, key=lambda u: (-_month_rank(self.units[u][0]), u not in leads,
                                                 order.get(u, n), u))


@dataclass
class YearTexts:
    """kind → task id → the distinct texts, the latest first."""
    by_kind: dict[str, dict[str, list[Said]]]
    order: dict[str, int]                    # unit → directory rank
    leads: dict[str, set[str]]               # task → its lead (or responsible) units
    rows: int = 0                            # report rows read

    def of(self, kind: str, task_id: str) -> list[Said]:
        return self.by_kind.get(kind, {}).get(task_id, [])


def _month_rank(m: str) -> int:
    return int(m[:4]) * 12 + int(m[5:7])


def clean(text) -> str:
    s = str(text or "").strip()
    for p in SAMPLE_PREFIXES:
        if s.startswith(p):
            s = s[len(p):].strip()
    return s


def year_texts(ledger, months: list[str], order: dict[str, int],
               leads: dict[str, set[str]]) -> YearTexts:
    """Every text of the submissions in force for `months` (one scan of the reports)."""
    lo, hi = months[0], months[-1]
    cur = ledger.conn.cursor()
    cur.row_factory = None
    rows = cur.execute(
        "SELECT r.task_id, r.unit, r.month, r.submission_id, r.progress_text, r.problems, "
        "r.next_steps FROM reports r NOT INDEXED WHERE r.submission_id IN (SELECT id FROM "
        "submissions WHERE status = 'accepted' AND superseded_by IS NULL) AND r.month BETWEEN ? AND ? "
        "AND (r.progress_text IS NOT NULL OR r.problems IS NOT NULL OR r.next_steps IS NOT NULL)",
        (lo, hi))
    groups: list[dict] = [{}, {}, {}]
    cleaned: dict = {}
    n = 0
    for task, unit, month, sid, *texts in rows:
        n += 1
        for k, raw in enumerate(texts):
            if raw is None:
                continue
            text = cleaned.get(raw)
            if text is None:
                text = cleaned[raw] = clean(raw)
            if not text:
                continue
            g = groups[k]
            key = (task, text)
            units = g.get(key)
            if units is None:
                g[key] = units = {}
            had = units.get(unit)
            if had is None or (month, sid) > had:
                units[unit] = (month, sid)
    by_kind: dict[str, dict[str, list[Said]]] = {}
    for kind, g in zip(KINDS, groups):
        per_task: dict[str, list[Said]] = {}
        for (task, text), units in g.items():
            per_task.setdefault(task, []).append(Said(task, text, units))
        for task, said in per_task.items():
            lead = leads.get(task, set())
            # the latest first; then a text a lead unit wrote, then the most units, then as read
            said.sort(key=lambda s: (-_month_rank(s.latest), not (lead & s.units.keys()),
                                     -len(s.units)))
        by_kind[kind] = per_task
    return YearTexts(by_kind, order, leads, n)
