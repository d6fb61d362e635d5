"""The rollup's inputs: the config, the master's plan (as the master says now), the ledger, and
the ledger's rows a rollup up to a month needs (one query per table, the report rows one month at
a time; `StoredRows`: the rows collect has just inserted, taken as they are)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from putuo_xl.config import Config, load_config
from putuo_xl.errors import InputError
from putuo_xl.plan.model import Plan


def _frame(rows: list, columns: list[str], numeric: tuple[str, ...] = ()) -> pd.DataFrame:
    """A DataFrame from row tuples with object columns for text (no pandas string dtype: it costs
    seconds at province scale) and float columns for `numeric`."""
    cols = list(zip(*rows)) if rows else [()] * len(columns)
    data = {}
    for name, values in zip(columns, cols):
        if name in numeric:   # numpy turns None into nan for a float array
            data[name] = np.array(values, dtype=float)
        else:   # a Series of dtype object: a bare object ndarray would be inferred as str
            data[name] = pd.Series(np.array(values, dtype=object), dtype=object)
    return pd.DataFrame(data, columns=columns)


def _ledger_inputs(ledger, month: str, stored: "StoredRows | None" = None):
    """What every month of a rollup up to `month` needs (one query per table): the months with
    anything to report, the day each submission in force arrived, the indicator values, and
    when each month's 通報 was first mailed. The report rows are read month by month
    (_month_rows)."""
    conn = ledger.conn.cursor()
    conn.row_factory = None
    months = {r[0] for r in conn.execute(
        "SELECT DISTINCT month FROM issued WHERE month <= ? UNION "
        "SELECT DISTINCT CASE WHEN status = 'accepted' THEN month ELSE COALESCE(collect_month, month) END "
        "FROM submissions WHERE (CASE WHEN status = 'accepted' THEN month "
        "ELSE COALESCE(collect_month, month) END) <= ?", (month, month)) if r[0]}
    received = dict(conn.execute(
        "SELECT id, substr(received_at, 1, 10) FROM submissions "
        "WHERE status = 'accepted' AND superseded_by IS NULL AND month <= ?", (month,)))
    actuals = _frame(conn.execute(
        "SELECT a.unit, a.month, a.indicator_id, a.value FROM actuals a "
        "JOIN submissions s ON s.id = a.submission_id "
        "WHERE s.status = 'accepted' AND s.superseded_by IS NULL AND a.month <= ?", (month,)).fetchall(),
        ["unit", "month", "indicator_id", "value"], numeric=("value",))
    sent = dict(conn.execute("SELECT month, MIN(at) FROM sends WHERE kind = 'bulletin' AND "
                             "status = 'sent' AND month <= ? GROUP BY month", (month,)))
    return months, received, actuals, sent


def _month_rows(ledger, m: str, received: dict, stored: "StoredRows | None" = None) -> list:
    """The report rows of month `m` from the submissions in force, in the order they were
    stored (the month index finds them; a month is a few per cent of a year's ledger):
    (submission id, unit, month, task id, status, progress, 工作進展, 存在問題, 下步計劃)."""
    conn = ledger.conn.cursor()
    conn.row_factory = None
    query = MONTH_ROWS
    if stored is None:
        return conn.execute(query + " ORDER BY r.rowid", (m, m)).fetchall()
    rows = conn.execute(query + " AND r.rowid <= ? ORDER BY r.rowid", (m, m, stored.before)).fetchall()
    rows += [(r[0], r[1], r[2], r[3], r[5], r[6], r[7], r[8], r[9]) for r in stored.rows
             if r[0] in received and r[2] == m and any(x is not None for x in r[5:10])]
    return rows


MONTH_ROWS = ("SELECT r.submission_id, r.unit, r.month, r.task_id, r.status, r.progress, "
              "r.progress_text, r.problems, r.next_steps "
              "FROM reports r WHERE r.month = ? AND r.submission_id IN (SELECT id FROM submissions "
              "WHERE status = 'accepted' AND superseded_by IS NULL AND month = ?) "
              "AND (r.status IS NOT NULL OR r.progress IS NOT NULL OR r.progress_text IS NOT NULL "
              "OR r.problems IS NOT NULL OR r.next_steps IS NOT NULL)")


def _state_rows(rows: list, received: dict):
    """The rows a month's state is counted from: those with a status or a progress."""
    return [r[:6] for r in rows if r[4] is not None or r[5] is not None], received


@dataclass
class StoredRows:
    """The rows of `reports` that collect inserted in the ledger's open transaction, as it
    inserted them — (submission_id, unit, month, task_id, role, status, progress, …) in insert
    order — and the largest rowid the table had before (0: none): the rollup takes them as
    they are instead of reading them back (the same rows, in the same order)."""
    before: int
    rows: list


def _load_cfg(config) -> Config:
    if isinstance(config, Config):
        return config
    return load_config(config)


def _plan_for(master_path, cfg: Config) -> Plan:
    """The plan as the master says now (officials' edits included), read with readback's
    calamine engine (milliseconds, where openpyxl takes a second at 600 units)."""
    from putuo_xl.workbook.readback import plan_from_workbook
    return plan_from_workbook(master_path, cfg, engine="calamine")


def _ledger_for(master_path, cfg: Config):
    from putuo_xl.ledger.store import Ledger, ledger_path_for
    template = cfg.section("collect").get("ledger_name") or "{master_stem}.ledger.sqlite"
    p = ledger_path_for(master_path, template)
    if not p.exists():
        raise InputError(f"找不到台賬文件「{p.name}」。請先用 putuo-xl collect 收集各單位的月報。",
                         file=str(master_path), code="no-ledger")
    return Ledger(p)

