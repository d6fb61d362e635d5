"""The ledger: a SQLite file next to the master that holds every submission a unit sent,
every reported row, and the mail send log. Nothing is ever deleted or overwritten: a newer
submission marks the older one `superseded_by`, and both stay.

Writes happen in transactions (`with ledger.tx():`), so a failing run leaves the ledger as it was.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT
);
-- One row per form issued by `forms` (unit × month × plan): who is expected to report,
-- and which plan fingerprints a returned form for that unit and month may carry.
CREATE TABLE IF NOT EXISTS issued (
    month            TEXT NOT NULL,
    unit             TEXT NOT NULL,
    file_name        TEXT NOT NULL,
    plan_fingerprint TEXT NOT NULL,
    task_ids         TEXT NOT NULL,      -- comma-separated, in form order
    due              TEXT NOT NULL,      -- YYYY-MM-DD
    created_at       TEXT NOT NULL,
    PRIMARY KEY (month, unit, plan_fingerprint)
);
-- What an issued form's locked cells (task, role, deadline, indicator, target) said, so that
-- the collector believes the plan and not an edited copy (JSON, see workbook/locked.py).
CREATE TABLE IF NOT EXISTS issued_cells (
    month            TEXT NOT NULL,
    unit             TEXT NOT NULL,
    plan_fingerprint TEXT NOT NULL,
    locked           TEXT NOT NULL,
    PRIMARY KEY (month, unit, plan_fingerprint)
);
-- One row per file judged (accepted or rejected). sha256 is of the original bytes.
CREATE TABLE IF NOT EXISTS submissions (
    id               INTEGER PRIMARY KEY,
    sha256           TEXT NOT NULL,
    file_name        TEXT NOT NULL,      -- as received (e-mail attachment name or file name)
    source           TEXT,               -- where it came from: path, or e-mail file + sender
    archive_path     TEXT,               -- the original, relative to the ledger's folder
    unit             TEXT,               -- identified unit (canonical), NULL if unknown
    month            TEXT,               -- YYYY-MM as identified, NULL if unknown
    received_at      TEXT NOT NULL,      -- ISO time the file arrived (e-mail Date or file mtime)
    collected_at     TEXT NOT NULL,      -- ISO time of the collect run
    status           TEXT NOT NULL,      -- accepted | rejected
    reason_code      TEXT,               -- rejected: a code from collect.REASONS
    reason           TEXT,               -- rejected: the Chinese message (file, sheet, cell, what to do)
    on_time          INTEGER,            -- 1 on time, 0 late (accepted only)
    plan_fingerprint TEXT,
    form_version     TEXT,
    superseded_by    INTEGER REFERENCES submissions(id),
    row_count        INTEGER DEFAULT 0,
    sender           TEXT,               -- e-mail From ("Name <addr>") when it came by e-mail
    collect_month    TEXT,               -- the month the collect run was for (rejected files too)
    contact          TEXT,               -- 填報人/電話/審核 as filled in on the form
    unit_from        TEXT                -- form: unit from the form's metadata; name: a file that
                                         -- could not be read, unit as its file name/sender names it
);
CREATE INDEX IF NOT EXISTS submissions_unit_month ON submissions(unit, month);
CREATE INDEX IF NOT EXISTS submissions_sha ON submissions(sha256);
-- One row per task row of an accepted submission.
CREATE TABLE IF NOT EXISTS reports (
    submission_id  INTEGER NOT NULL REFERENCES submissions(id),
    unit           TEXT NOT NULL,
    month          TEXT NOT NULL,
    task_id        TEXT NOT NULL,
    role           TEXT,                 -- lead | co | responsible
    status         TEXT,                 -- normalised to a config status name, NULL if blank
    progress       REAL,                 -- 0..1, NULL if blank
    progress_text  TEXT,
    problems       TEXT,
    next_steps     TEXT,
    PRIMARY KEY (submission_id, task_id)
);
CREATE INDEX IF NOT EXISTS reports_month ON reports(month, unit);
-- One row per reported indicator value.
CREATE TABLE IF NOT EXISTS actuals (
    submission_id  INTEGER NOT NULL REFERENCES submissions(id),
    unit           TEXT NOT NULL,
    month          TEXT NOT NULL,
    task_id        TEXT NOT NULL,
    indicator_id   TEXT NOT NULL,        -- "1.4.1#1"
    value          REAL NOT NULL,
    PRIMARY KEY (submission_id, indicator_id)
);
-- Non-fatal findings on accepted files (a value cleaned up, a row ignored): shown in 收件情況.
CREATE TABLE IF NOT EXISTS notes (
    submission_id  INTEGER NOT NULL REFERENCES submissions(id),
    code           TEXT NOT NULL,
    message        TEXT NOT NULL,
    sheet          TEXT,
    cell           TEXT
);
-- Mail send log: one row per message attempt outcome; `key` identifies the logical message
-- (kind|month|unit|content hash) so that a re-run does not send it twice.
CREATE TABLE IF NOT EXISTS sends (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL,
    kind         TEXT NOT NULL,          -- forms | remind | bulletin
    month        TEXT,
    unit         TEXT,
    recipients   TEXT NOT NULL,          -- comma-separated
    subject      TEXT NOT NULL,
    attachment   TEXT,
    status       TEXT NOT NULL,          -- pending | sent | failed | refused | uncertain
    detail       TEXT,
    attempts     INTEGER NOT NULL DEFAULT 1,
    at           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sends_key ON sends(key, status);
-- The audit trail (留痕): one row per ribbon action or server request on this master — who,
-- when, from where, which button, what it did or sent, and how it ended (see ledger/audit.py).
CREATE TABLE IF NOT EXISTS audit (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    user     TEXT NOT NULL,
    ip       TEXT,
    route    TEXT NOT NULL,              -- desktop | server | cli
    project  TEXT,
    action   TEXT NOT NULL,              -- the button's tag (build_master, send_forms …)
    label    TEXT,                       -- the button's caption (生成台賬 …)
    result   TEXT NOT NULL,              -- ok | error | denied
    summary  TEXT,                       -- what the official was told
    details  TEXT                        -- JSON: the 操作記錄 rows of the action
);
"""


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


class Ledger:
    """A thin wrapper over the SQLite connection; queries return sqlite3.Row objects."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), isolation_level=None)
        try:
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA busy_timeout=10000")
            self.conn.executescript(SCHEMA)  # idempotent DDL (executescript commits on its own)
            self._add_missing_columns()
            with self.tx():
                self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                                  (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as e:
            self.conn.close()
            if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
                raise
            raise damaged_ledger(self.path, e) from None

    # Columns added after a ledger may already exist: (table, column, type).
    ADDED_COLUMNS = [("submissions", "sender", "TEXT"), ("submissions", "collect_month", "TEXT"),
                     ("submissions", "contact", "TEXT"), ("submissions", "unit_from", "TEXT")]

    def _add_missing_columns(self) -> None:
        for table, column, kind in self.ADDED_COLUMNS:
            have = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                try:
                    self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                except sqlite3.OperationalError as e:   # another process added it just now
                    if "duplicate column" not in str(e):
                        raise

    @property
    def folder(self) -> Path:
        return self.path.parent

    @contextmanager
    def tx(self):
        """One transaction: everything inside commits together or not at all."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- queries used by several stages ------------------------------------------
    def submissions(self, month: str | None = None) -> list[sqlite3.Row]:
        sql = "SELECT * FROM submissions"
        args: tuple = ()
        if month:
            sql += " WHERE month = ?"
            args = (month,)
        return list(self.conn.execute(sql + " ORDER BY id", args))

    def current_submissions(self, month: str) -> dict[str, sqlite3.Row]:
        """unit → the accepted submission in force for `month` (not superseded)."""
        rows = self.conn.execute(
            "SELECT * FROM submissions WHERE month = ? AND status = 'accepted' "
            "AND superseded_by IS NULL ORDER BY id", (month,))
        return {r["unit"]: r for r in rows}

    def months(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT month FROM submissions WHERE status='accepted' AND month IS NOT NULL "
            "ORDER BY month")
        return [r[0] for r in rows]

    def issued(self, month: str) -> list[sqlite3.Row]:
        return list(self.conn.execute("SELECT * FROM issued WHERE month = ? ORDER BY rowid", (month,)))

    def issued_with_cells(self, month: str) -> list[sqlite3.Row]:
        """`issued(month)` with each form's `locked` cells (None for a form issued before the
        ledger kept them)."""
        return list(self.conn.execute(
            "SELECT i.*, c.locked FROM issued i LEFT JOIN issued_cells c ON c.month = i.month "
            "AND c.unit = i.unit AND c.plan_fingerprint = i.plan_fingerprint WHERE i.month = ? "
            "ORDER BY i.rowid", (month,)))

    def find_by_sha(self, sha256: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM submissions WHERE sha256 = ? ORDER BY id LIMIT 1",
                                 (sha256,)).fetchone()

    def sent_keys(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT key FROM sends WHERE status = 'sent'")}


def damaged_ledger(path: Path, err: Exception):
    """The InputError for a ledger file SQLite cannot read (not a database, or damaged)."""
    from putuo_xl.errors import InputError
    archive = path.name.removesuffix(".ledger.sqlite") + "_回報原件"
    return InputError(
        f"台賬文件「{path.name}」已損壞或不是台賬(SQLite)文件,無法打開({str(err)[:60]})。"
        f"請把它移到別處保存(不要刪除),然後從備份恢復台賬;沒有備份時,各單位發來的原件都保存在"
        f"「{archive}」文件夾中(按內容編號存放):把這個文件夾複製到別處,再用 putuo-xl collect "
        f"逐月收集這份副本,可以重建台賬的收件和填報內容(收到時間和更正的先後將按文件時間計算,"
        f"是否按時、以哪一份為準需要核對;月報發放記錄可用 putuo-xl forms 重新生成,郵件發送記錄無法恢復)。",
        file=str(path), code="bad-ledger")


def ledger_path_for(master: str | Path, name_template: str = "{master_stem}.ledger.sqlite") -> Path:
    m = Path(master)
    return m.with_name(name_template.format(master_stem=m.stem))


def open_ledger(master: str | Path, config=None) -> Ledger:
    """The ledger that belongs to a master workbook (a SQLite file beside it)."""
    template = "{master_stem}.ledger.sqlite"
    if config is not None:
        template = config.section("collect").get("ledger_name") or template
    return Ledger(ledger_path_for(master, template))
