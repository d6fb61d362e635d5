"""Every task × unit assignment as of a month: the ledger's report rows as arrays over the
plan's assignments (`_Reports`), and each assignment's latest status and progress up to the
month (`_month_state`: the month's rows over what was carried from the month before), from
which every figure of the month is counted."""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from putuo_xl.rollup.context import _Ctx
from putuo_xl.rollup.rules import CAT_CODE
from putuo_xl.rollup.snapshots import Carry
from putuo_xl.rollup.sorting import lexorder


class _Reports:
    """The ledger's report rows as arrays over the plan's task × unit assignments: assignment
    index, month (as a rank: comparisons as between the month strings), status, progress, the
    day the report arrived."""

    def __init__(self, ctx: _Ctx, rows_and_received):
        rows, received = rows_and_received
        sids, units, months, tasks, status, prog = (list(c) for c in zip(*rows)) if rows else \
            ([], [], [], [], [], [])
        recv = list(map(received.__getitem__, sids))
        idx = np.array(list(map(ctx.assignment_index().get, zip(tasks, units), repeat(-1))),
                       dtype=np.int64)
        keep = idx >= 0
        self.dropped = int(len(idx) - keep.sum())
        self.n_assign = len(ctx.a_units)
        self.idx = idx[keep]
        names = sorted(set(months))
        self.rank = {m: i for i, m in enumerate(names)}
        self.names = names
        self.month = np.array(list(map(self.rank.__getitem__, months)), dtype=np.int64)[keep]
        self.status = np.array(status, dtype=object).reshape(-1)[keep]
        self.has_status = np.not_equal(self.status, None).astype(bool)
        self.progress = np.array(prog, dtype=float).reshape(-1)[keep]       # None → nan
        self.has_progress = ~np.isnan(self.progress)
        self.received = np.array(recv, dtype=object).reshape(-1)[keep]

    # made in a second process (compute.months_apart): its text columns travel as codes
    _CODED = ("status", "received")

    def __getstate__(self) -> dict:
        import pandas as pd
        state = self.__dict__.copy()
        for name in self._CODED:
            codes, uniques = pd.factorize(state[name])          # None → -1
            state[name] = (list(uniques), codes.astype(np.int32))
        return state

    def __setstate__(self, state: dict) -> None:
        for name in self._CODED:
            uniques, codes = state[name]
            state[name] = np.array(uniques + [None], dtype=object)[codes]     # -1 → None
        self.__dict__.update(state)

    def upto(self, m: str) -> np.ndarray:
        """Rows of months ≤ m."""
        k = bisect.bisect_right(self.names, m)          # ranks below k are months ≤ m
        return self.month < k

    def latest(self, rows: np.ndarray) -> np.ndarray:
        """Per assignment, the row (of the boolean mask `rows`) of the latest month, -1 if none;
        among rows of the same month the one read last (as a stable sort + keep last)."""
        out = np.full(self.n_assign, -1, dtype=np.int64)
        sel = np.nonzero(rows)[0]
        if not len(sel):
            return out
        o = lexorder((sel, self.month[sel], self.idx[sel]))
        s = sel[o]
        ids = self.idx[s]
        last = np.ones(len(s), dtype=bool)
        last[:-1] = ids[1:] != ids[:-1]
        out[ids[last]] = s[last]
        return out


@dataclass
class _State:
    """Every task × unit assignment as of a month (lists in assignment order)."""
    unit: list
    task_id: list
    status: list          # status name, None if never reported
    cat: list             # done | in_progress | not_started | lagging, None
    progress: list        # 0..1, None
    received: list        # 'YYYY-MM-DD' the status report arrived, None
    c_code: np.ndarray    # CAT_CODE of cat, 4 for None
    uorder: np.ndarray
    torder: np.ndarray


@dataclass
class _MonthState:
    """What a month's figures are counted from: `state` (kept with the result for `_status`
    and the 通報) and the working arrays made with it."""
    state: _State
    progress: np.ndarray  # progress per assignment, nan if none
    carried: dict         # assignment → the month its status was carried from
    cat_of: dict          # status name (None) → category
    reported_now: dict    # unit → rows it reported for the month
    by_cat: np.ndarray    # unit × CAT_CODE counts (4: no status)
    n_tasks: np.ndarray   # assignments per unit


def _month_state(ctx: _Ctx, m: str, reports: _Reports, carry: Carry | None = None
                 ) -> tuple[_MonthState, Carry]:
    """Every assignment as of m: its latest status (and the day that report arrived) and
    progress, the month a status was carried from; the counts per unit. `reports`: the rows of
    month m; `carry`: every assignment as of the month before (None: nothing before). Gives
    the month's state and the carry for the month after."""
    n = reports.n_assign
    carry = carry or Carry.empty(n)
    now = reports.month == reports.rank[m] if m in reports.rank else \
        np.zeros(len(reports.month), dtype=bool)
    st_row = reports.latest(now & reports.has_status)
    pg_row = reports.latest(now & reports.has_progress)
    has = st_row >= 0
    S_a = carry.status.copy()
    S_a[has] = reports.status[st_row[has]]
    RC_a = carry.received.copy()
    RC_a[has] = reports.received[st_row[has]]
    SM_a = carry.smonth.copy()
    SM_a[has] = m
    PG_a = carry.progress.copy()
    hp = pg_row >= 0
    PG_a[hp] = reports.progress[pg_row[hp]]
    S = S_a.tolist()
    RC = RC_a.tolist()
    PG = [None if p != p else p for p in PG_a.tolist()]
    # a status carried from an earlier month (the unit did not report it for m): its month
    SM = SM_a.tolist()
    CM = {k: x for k, x in enumerate(SM) if x is not None and x != m}
    catmap = ctx.category
    cat_of = {x: (catmap.get(x, "in_progress") if x.__class__ is str else None) for x in set(S)}
    C = list(map(cat_of.__getitem__, S))
    now = now & reports.has_status
    per_unit = np.bincount(ctx.a_unit[reports.idx[now]], minlength=len(ctx.units))
    reported_now = {ctx.units[i]: int(c) for i, c in enumerate(per_unit.tolist()) if c}
    nu = len(ctx.units)
    c_code = np.fromiter(map(CAT_CODE.get, C, repeat(4)), dtype=np.int64, count=len(C))
    by_cat = np.bincount(ctx.a_unit * 5 + c_code, minlength=nu * 5).reshape(nu, 5)
    n_tasks = np.bincount(ctx.a_unit, minlength=nu)
    return (_MonthState(_State(ctx.a_units, ctx.a_tasks, S, C, PG, RC, c_code, ctx.a_unit,
                               ctx.a_torder), PG_a, CM, cat_of, reported_now, by_cat, n_tasks),
            Carry(S_a, RC_a, SM_a, PG_a))
