"""`collect` and `rollup` for the same month in one run (`putuo-xl collect … --rollup`): the
master's plan is read once, the 工作報表 are computed from the ledger inside collect's
transaction (so they count this run's files), and the master is rewritten once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from putuo_xl.collect.report import CollectReport
from putuo_xl.collect.run import _collect
from putuo_xl.config import Config
from putuo_xl.errors import PutuoError
from putuo_xl.rollup.compute import compute_rollup
from putuo_xl.rollup.context import prepare_rollup
from putuo_xl.rollup.reading import StoredRows, _plan_for
from putuo_xl.rollup.result import RollupResult


@dataclass
class CollectRollup:
    """What `collect_and_rollup` did: the collect report, and the rollup written with it — or,
    when the 工作報表 could not be computed (the master's plan cannot be read, a config error),
    why not (`rollup_error`; the forms are collected and 收件情況 is written all the same)."""
    report: CollectReport
    rollup: RollupResult | None = None
    rollup_error: PutuoError | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rollup_error is None


class _RollupAlong:
    """The rollup as collect's companion (collect.run.Companion)."""

    def __init__(self, force: bool = False) -> None:
        self.force = force
        self.plan = None
        self.cfg: Config | None = None
        self.prepared = None
        self.computed = None
        self.error: PutuoError | None = None

    def prepare(self, master: Path, cfg: Config) -> None:
        import putuo_xl.rollup.render  # noqa: F401  (imported while the forms are judged)
        import xlsxwriter  # noqa: F401
        self.cfg = cfg
        try:
            self.plan = _plan_for(master, cfg)
            self.prepared = prepare_rollup(self.plan, cfg)
        except PutuoError as e:
            self.plan, self.error = None, e

    def compute(self, ledger, month: str, today: date, before: int, kept: list) -> None:
        if self.plan is None:
            return
        try:
            self.computed = compute_rollup(ledger, self.plan, self.cfg, month, self.prepared,
                                           today=today, stored=StoredRows(before, kept),
                                           force=self.force)
        except PutuoError as e:
            self.error = e

    def write_into_master(self, master: Path, dest: Path, report: CollectReport) -> bool:
        if self.computed is None:
            return False
        from putuo_xl.rollup.render import write_into_master
        write_into_master(master, dest, self.computed, receipts=report)
        return True

    def finish(self, report: CollectReport, target: Path, month: str, seconds_writing: float,
               seconds_total: float) -> CollectRollup:
        result = None
        if self.computed is not None:
            result = RollupResult(path=target, month=month, months=self.computed.months,
                                  rollup=self.computed, seconds=seconds_writing)
        return CollectRollup(report, result, self.error, seconds_total)


def collect_and_rollup(master_path, paths, month: str, config: Config | str | Path | None = None,
                       output: str | Path | None = None, now: datetime | None = None, *,
                       workers: int = 2, force: bool = False) -> CollectRollup:
    """`collect` and then `rollup` for the same month, in one go: the master's plan is read
    once, the 工作報表 are computed from the ledger inside collect's transaction (so they count
    this run's files), and the master is rewritten ONCE — 收件情況, the six 工作報表 sheets and
    the hidden `_status`/`_actuals` in a single surgery pass, then one atomic rename after the
    ledger is committed. Same arguments as `collect` (`output`: the master with all the new
    sheets goes to this new file; `force`: a month outside the plan's year). A failing or killed
    run leaves master and ledger as they were; a rollup that cannot be computed is reported in
    `rollup_error` (see CollectRollup)."""
    return _collect(master_path, paths, month, config, output, now, write_master=True,
                    workers=workers, companion=_RollupAlong(force), force=force)
