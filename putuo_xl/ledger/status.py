"""Each unit's reporting state for a month — THE rule, in one place.

collect (收件情況 and its summary), rollup (月度匯總, 預評估 報送及時, 通報 晾曬) and mail (催報:
who is missing, whose file was rejected) all ask `month_status` / `ledger_status`, so the same
ledger gives the same answer everywhere.

The rule (docs/collect.md, docs/rollup.md):

- **Expected**: the units the month's forms were issued to (`issued`); when nothing was issued,
  the caller's fallback (the units with tasks in the master's plan).
- **In force**: a unit's accepted submission for the month that no later one superseded (the
  ledger's `superseded_by`); its rows are the month's data. An earlier one replaced by a
  correction stays in the ledger.
- **On time / late** is about the unit, not about a file: a unit that had an accepted form in
  by the due date **reported on time**, also when it later sent a correction after the due date
  (the correction's content counts; the sheets say 更正版 and when it arrived). A unit whose
  accepted forms all arrived after the due date reported **late**.
- **Missing**: no accepted form, and the due date (`issued.due`, else day `forms.due_day` of
  the next month) has passed; **not yet due** (未到期) while it has not (today ≤ due): such a
  unit is not named as missing and not penalised.
- **Outdated**: the office changed a unit's tasks and issued the month's form again; a unit
  whose form in force is an earlier one that lacks tasks of its latest form has reported, and
  is still asked (催報) to report those tasks (`UnitMonth.lacking`).
- **Rejections** belong to the month of the collect run that judged them (`collect_month`; a
  file rejected in September's run is September's business, even if it is August's form sent
  again) — for a ledger row without it, to its identified month. They are listed per unit by
  the time they arrived, and a rejection is said to be *resubmitted* only when an accepted form
  arrived after it.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime

ON_TIME, LATE, MISSING, NOT_DUE = "on_time", "late", "missing", "not_due"
# what each state is called on the sheets (traditional; rendered with text.in_script)
LABELS = {ON_TIME: "按時報送", LATE: "逾期報送", MISSING: "未報送", NOT_DUE: "未到期"}
SAMPLE_MARKS = ("示例數據", "示例数据")


def is_sample_name(name: str | None) -> bool:
    """A file the demo made (putuo-xl demo names every sample return 示例數據_…)."""
    return bool(name) and any(m in name for m in SAMPLE_MARKS)


def due_for_month(month: str, config=None) -> date:
    """Day `forms.due_day` (default 5) of the month after `month`."""
    day = 5
    if config is not None:
        day = int(config.section("forms").get("due_day") or 5)
    y, m = (int(x) for x in month.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return date(y, m, min(day, calendar.monthrange(y, m)[1]))


def parse_time(s: str | None) -> datetime:
    """An ISO time from the ledger as an aware datetime (unreadable → the earliest time)."""
    try:
        d = datetime.fromisoformat(s or "")
    except ValueError:
        return datetime.min.replace(tzinfo=datetime.now().astimezone().tzinfo)
    return d if d.tzinfo else d.astimezone()


@dataclass(frozen=True)
class Filed:
    """One submission row as the status sees it."""
    id: int
    unit: str | None
    month: str | None            # the month the form says (None: the file could not be read)
    collect_month: str | None    # the month of the collect run that judged it
    file_name: str
    received_at: str
    collected_at: str
    accepted: bool
    on_time: bool | None         # accepted: arrived by the due date
    reason: str | None           # rejected: the collector's message
    reason_code: str | None
    by_name: bool                # unit taken from the file name / sender (file not readable)
    superseded_by: int | None
    plan_fingerprint: str | None = None   # the plan of the form (which issued form it was)

    @property
    def day(self) -> str:
        """'YYYY-MM-DD' the file arrived."""
        return (self.received_at or "")[:10]


@dataclass
class UnitMonth:
    """One unit's reporting for one month."""
    unit: str
    month: str
    due: date
    expected: bool
    state: str                                   # on_time | late | missing | not_due
    accepted: list[Filed] = field(default_factory=list)      # by arrival
    rejections: list[Filed] = field(default_factory=list)    # by arrival
    in_force: Filed | None = None
    # the tasks of the unit's latest issued form that the form in force lacks (it was filled
    # in on a form issued before: see the module doc); empty when it is the latest
    lacking: list[str] = field(default_factory=list)

    @property
    def reported(self) -> bool:
        return self.in_force is not None

    @property
    def label(self) -> str:
        return LABELS[self.state]

    @property
    def first(self) -> Filed | None:
        """The earliest accepted submission."""
        return self.accepted[0] if self.accepted else None

    @property
    def corrected(self) -> bool:
        """The submission in force replaced an earlier accepted one (更正版)."""
        return self.in_force is not None and any(a.id != self.in_force.id for a in self.accepted)

    @property
    def superseded(self) -> list[Filed]:
        return [a for a in self.accepted if self.in_force is None or a.id != self.in_force.id]

    @property
    def late_change(self) -> bool:
        """The month's data in force arrived after the due date (a late correction or a late
        first form): the month's figures changed after they were due."""
        return self.in_force is not None and self.in_force.day > self.due.isoformat()

    def _after(self, f: Filed, g: Filed) -> bool:
        return (parse_time(f.received_at), f.id) > (parse_time(g.received_at), g.id)

    @property
    def resubmitted_rejections(self) -> list[Filed]:
        """Rejected files an accepted form arrived after (退回後已重報)."""
        last = self.accepted[-1] if self.accepted else None
        return [r for r in self.rejections if last is not None and self._after(last, r)]

    @property
    def later_rejections(self) -> list[Filed]:
        """Rejected files that arrived after the last accepted form, or with none accepted:
        the unit's latest word was refused."""
        last = self.accepted[-1] if self.accepted else None
        return [r for r in self.rejections if last is None or self._after(r, last)]

    @property
    def latest_rejection(self) -> Filed | None:
        return self.rejections[-1] if self.rejections else None


@dataclass
class MonthStatus:
    """Every unit's reporting for one month (see the module doc for the rule)."""
    month: str
    today: date
    default_due: date
    expected_from: str                             # issued | fallback | none
    units: dict[str, UnitMonth]                    # expected, reported or rejected; directory order
    unassigned: list[Filed] = field(default_factory=list)   # rejected files naming no unit

    @property
    def due(self) -> date:
        """The month's due date (the latest a unit was given)."""
        dues = [u.due for u in self.units.values() if u.expected]
        return max(dues) if dues else self.default_due

    def in_scope(self) -> list[UnitMonth]:
        """The units the month's report counts: expected, or reported anyway."""
        return [u for u in self.units.values() if u.expected or u.reported]

    def names(self, state: str) -> list[str]:
        return [u.unit for u in self.in_scope() if u.state == state]

    def counts(self) -> dict[str, int]:
        scope = self.in_scope()
        out = {s: 0 for s in LABELS}
        for u in scope:
            out[u.state] += 1
        out["expected"] = len(scope)
        return out

    @property
    def submissions(self) -> int:
        return sum(len(u.accepted) + len(u.rejections) for u in self.units.values()) + len(self.unassigned)

    @property
    def empty(self) -> bool:
        """Nothing issued and nothing received (accepted or rejected) for the month."""
        return self.expected_from != "issued" and self.submissions == 0

    @property
    def sample(self) -> bool:
        """The month's data in force comes from putuo-xl demo's sample returns."""
        return any(is_sample_name(u.in_force.file_name) for u in self.units.values() if u.in_force)


_COLUMNS = ("id, unit, month, collect_month, file_name, received_at, collected_at, status, on_time, "
            "reason, reason_code, unit_from, superseded_by, plan_fingerprint")


def ledger_status(conn, months, config=None, *, today: date | None = None,
                  fallback_units=(), order=None) -> dict[str, MonthStatus]:
    """{month: MonthStatus} for each of `months`, in two queries (`conn`: a sqlite3 connection or
    a Ledger). `fallback_units`: who is expected in a month nothing was issued for (or a
    callable month → units). `order`: unit → rank for the order of `units` (else the config's
    directory order, then by name). `today`: the day the due dates are compared with."""
    conn = getattr(conn, "conn", conn)
    months = sorted(set(months))
    today = today or date.today()
    if not months:
        return {}
    lo, hi = months[0], months[-1]
    cur = conn.cursor()
    cur.row_factory = None
    issued: dict[str, dict[str, str]] = {m: {} for m in months}
    forms: dict[str, dict[str, list[tuple[str, str]]]] = {m: {} for m in months}
    for m, unit, due, fp, ids in cur.execute(
            "SELECT month, unit, due, plan_fingerprint, task_ids FROM issued WHERE month BETWEEN ? AND ?"
            " ORDER BY rowid", (lo, hi)):
        if m in issued:
            issued[m][unit] = due            # the last form issued to the unit decides
            forms[m].setdefault(unit, []).append((fp, ids))
    filed: dict[str, list[Filed]] = {m: [] for m in months}
    for (sid, unit, month, cmonth, name, recv, coll, status, ot, reason, code, unit_from,
         sup, fp) in cur.execute(
            f"SELECT {_COLUMNS} FROM submissions WHERE (status = 'accepted' AND month BETWEEN ? AND ?)"
            " OR (status <> 'accepted' AND COALESCE(collect_month, month) BETWEEN ? AND ?) ORDER BY id",
            (lo, hi, lo, hi)):
        acc = status == "accepted"
        key = month if acc else (cmonth or month)
        bucket = filed.get(key)
        if bucket is None:
            continue
        bucket.append(Filed(int(sid), unit, month, cmonth, name or "", recv or "", coll or "", acc,
                            None if ot is None else bool(ot), reason, code, unit_from == "name",
                            None if sup is None else int(sup), fp))
    if order is None:
        directory = list(config.units) if config is not None else []
        order = {u: i for i, u in enumerate(directory)}
    out = {}
    for m in months:
        fb = fallback_units(m) if callable(fallback_units) else fallback_units
        out[m] = _month(m, issued[m], filed[m], config, today, fb, order)
        for u, um in out[m].units.items():
            if um.in_force is not None and u in forms[m]:
                um.lacking = lacking_tasks(forms[m][u], um.in_force.plan_fingerprint)
    return out


def lacking_tasks(forms: list[tuple[str, str]], fingerprint: str | None) -> list[str]:
    """The tasks of the latest of `forms` ((plan fingerprint, task ids) as issued, in order)
    that the form issued with `fingerprint` lacks; [] when that is the latest, or unknown."""
    latest_fp, latest_ids = forms[-1]
    if fingerprint == latest_fp:
        return []
    older = next((ids for fp, ids in reversed(forms) if fp == fingerprint), None)
    if older is None:
        return []
    have = set(older.split(","))
    return [t for t in latest_ids.split(",") if t and t not in have]


def month_status(conn, month: str, config=None, *, today: date | None = None,
                 fallback_units=(), order=None) -> MonthStatus:
    """One month of `ledger_status`."""
    return ledger_status(conn, [month], config, today=today, fallback_units=fallback_units,
                         order=order)[month]


def _iso(s) -> date | None:
    try:
        return date.fromisoformat(str(s)[:10])
    except (TypeError, ValueError):
        return None


def _month(m: str, issued: dict[str, str], filed: list[Filed], config, today: date, fallback,
           order: dict) -> MonthStatus:
    default_due = due_for_month(m, config)
    if issued:
        expected, source = list(issued), "issued"
    elif fallback:
        expected, source = list(fallback), "fallback"
    else:
        expected, source = [], "none"
    expected_set = set(expected)
    by_unit: dict[str, list[Filed]] = {}
    unassigned = []
    for f in filed:
        if f.unit:
            by_unit.setdefault(f.unit, []).append(f)
        else:
            unassigned.append(f)
    names = list(dict.fromkeys([*expected, *by_unit]))
    n = len(order)
    names.sort(key=lambda u: (order.get(u, n), u if u not in order else ""))
    units = {}
    for u in names:
        mine = by_unit.get(u, ())
        due = _iso(issued.get(u)) or default_due
        acc = [f for f in mine if f.accepted]
        rej = [f for f in mine if not f.accepted]
        if len(acc) > 1:
            acc.sort(key=lambda f: (parse_time(f.received_at), f.id))
        if len(rej) > 1:
            rej.sort(key=lambda f: (parse_time(f.received_at), f.id))
        in_force = None
        for f in reversed(acc):
            if f.superseded_by is None:
                in_force = f
                break
        if acc:
            on = any((f.on_time if f.on_time is not None else f.day <= due.isoformat()) for f in acc)
            state = ON_TIME if on else LATE
        else:
            state = NOT_DUE if today <= due else MISSING
        units[u] = UnitMonth(u, m, due, u in expected_set, state, acc, rej, in_force)
    return MonthStatus(m, today, default_due, source, units, unassigned)


# -- what the sheets say about a unit's files (traditional; rendered with in_script) ---------
def day_label(day: str) -> str:
    """'2020-09-10' → '9月10日'."""
    try:
        d = date.fromisoformat(day[:10])
    except ValueError:
        return day
    return f"{d.month}月{d.day}日"


def month_word(month: str) -> str:
    """'2020-08' → '8月'."""
    return f"{int(month[5:7])}月"


def short_reason(f: Filed) -> str:
    """The collector's reason without the file name it starts with (the note names the file)."""
    text = (f.reason or f.reason_code or "").strip()
    for head in (f"文件「{f.file_name}」", f"文件「{f.file_name}」"):
        if text.startswith(head):
            text = text[len(head):].lstrip(" ::")
    return text


def rejection_notes(u: UnitMonth) -> list[str]:
    """What 月度匯總's 備註 says about a unit's rejected files, from the order they arrived in."""
    notes = []
    later = u.later_rejections
    if not u.reported:
        if later:
            last = later[-1]
            notes.append(f"報表被退回未重報:{last.reason or last.reason_code or ''}")
        return notes
    if u.resubmitted_rejections:
        notes.append("曾有報表被退回,已重報")
    for r in later:
        notes.append(f"{day_label(r.day)}收到的文件「{r.file_name}」被退回"
                     f"({short_reason(r)}),仍以{day_label(u.in_force.day)}收到的月報為準")
    return notes


def used_file(u: UnitMonth) -> str:
    """月度匯總's 採用文件: the submission the month's data comes from, by its file name (the
    ledger's numbers are not shown on the reports) and, for a correction, when the reports it
    replaced arrived."""
    f = u.in_force
    if f is None:
        return ""
    text = f.file_name
    if u.corrected:
        older = "、".join(dict.fromkeys(day_label(a.day) for a in u.superseded))
        text += f"(更正版,取代{older}收到的月報)"
    return text


def change_note(u: UnitMonth) -> str:
    """A correction that arrived after the due date changed the month's figures after they
    were due (the 報送情況 still says 按時報送): say so (nothing is frozen). A late first form
    needs no note: 逾期報送 and its date say it."""
    if not (u.late_change and u.corrected):
        return ""
    return f"{day_label(u.in_force.day)}收到更正,{month_word(u.month)}數據已更新"
