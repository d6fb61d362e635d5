"""Each closed month's figures kept beside the ledger, so that a rollup with a year in the ledger
computes only the months whose returns changed (docs/performance.md, "A year in the ledger").

A month's figures depend only on the ledger's rows for it and the months before it (every
assignment's status is carried from the earlier months), the plan, the config and — while some
unit's due date has not passed — the day. So after a month is computed, its figures (the six
sheets' rows for it, its 通報, the hidden rows) and what the next month needs (every
assignment's latest status and progress, each unit's reporting so far) are written to
`<master>.rollup-cache/<month>.{summary,figures,carry}.json`, under a key that chains the month's ledger content to the
key of the month before:

    key(m) = sha256(key(m-1), plan and config, this code's version and source,
                    the month's submissions (id, sha256 of the file, unit, month, status,
                    superseded_by, on_time, received_at), the forms issued for it (unit, due,
                    plan fingerprint) and when its 通報 was first mailed)

A late return or a correction for August changes August's key and with it every later
month's: those are computed again, the months before are read. A month is kept only when every
due date up to it has passed (未到期 depends on the day), and read only by a run whose day is
after them. The requested month is always computed. The cache is JSON (no pickle: nothing in
it can run code); a file that cannot be read or written is ignored — the figures are computed
from the ledger instead, as without a cache. Deleting the folder is always safe.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

CACHE_VERSION = "2"
_CODE: list[str] = []


def code_fingerprint() -> str:
    """sha256 of the code that computes a month's figures (the rollup package, the reporting
    rule, the plan's month range, shared text helpers): a snapshot written by other code is
    never read, even when the version number did not change."""
    if not _CODE:
        root = Path(__file__).resolve().parent.parent
        files = sorted((root / "rollup").glob("*.py")) + [
            root / "ledger" / "status.py", root / "plan" / "months.py", root / "text.py",
            root / "layout.py"]
        h = hashlib.sha256()
        for f in files:
            try:
                h.update(f.name.encode() + b"\0" + f.read_bytes())
            except OSError:
                h.update(f.name.encode() + b"\0missing")
        _CODE.append(h.hexdigest())
    return _CODE[0]
FRAMES = ("monthly", "progress", "indicators", "scores")


@dataclass
class Carry:
    """Every task × unit assignment's latest status and progress as of a month (plan order)."""
    status: np.ndarray      # object: status name, None never reported
    received: np.ndarray    # object: 'YYYY-MM-DD' the status report arrived, None
    smonth: np.ndarray      # object: the month the status was reported for, None
    progress: np.ndarray    # float: latest progress, nan none

    @classmethod
    def empty(cls, n: int) -> "Carry":
        none = np.full(n, None, dtype=object)
        return cls(none, none.copy(), none.copy(), np.full(n, np.nan))

    def to_json(self) -> dict:
        out = {}
        for name in ("status", "received", "smonth"):
            values = getattr(self, name).tolist()
            words = sorted({v for v in values if v is not None})
            code = {w: i for i, w in enumerate(words)}
            out[name] = {"words": words, "codes": [code[v] if v is not None else -1 for v in values]}
        out["progress"] = [None if p != p else p for p in self.progress.tolist()]
        return out

    @classmethod
    def from_json(cls, d: dict, n: int) -> "Carry":
        arrays = []
        for name in ("status", "received", "smonth"):
            words = np.array(list(d[name]["words"]) + [None], dtype=object)
            codes = np.array(d[name]["codes"], dtype=np.int64)
            if len(codes) != n:
                raise ValueError("carry of another plan")
            arrays.append(words[codes])          # -1 → the None at the end
        progress = np.array([np.nan if p is None else p for p in d["progress"]], dtype=float)
        return cls(*arrays, progress)


def _default(o):
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(type(o).__name__)


def frame_to_json(df: pd.DataFrame) -> dict:
    return {"columns": list(df.columns),
            "data": [[None if (isinstance(v, float) and v != v) else v for v in df[c].tolist()]
                     for c in df.columns]}


def frame_from_json(d: dict) -> pd.DataFrame:
    cols = d["columns"]        # pandas infers each column's type as it did for the original
    return pd.DataFrame(dict(zip(cols, d["data"])), columns=cols)


class MonthCache:
    """The snapshots of one ledger (see the module doc)."""

    def __init__(self, folder: Path, base: str):
        self.folder = folder
        self.base = base

    @classmethod
    def for_ledger(cls, ledger, plan, cfg) -> "MonthCache | None":
        path = getattr(ledger, "path", None)
        if path is None or os.environ.get("PUTUO_XL_ROLLUP_CACHE") == "off":
            return None
        from putuo_xl import __version__
        plan_part = json.dumps([plan.fingerprint(), plan.title, plan.doc_number, plan.addressees,
                                plan.script, [t.id for t in plan.tasks()]], ensure_ascii=False)
        base = hashlib.sha256(f"{CACHE_VERSION}|{__version__}|{code_fingerprint()}|{plan_part}|{cfg.fingerprint()}|"
                              f"{cfg.district}|{cfg.office}".encode("utf-8")).hexdigest()
        stem = Path(path).name.removesuffix(".sqlite").removesuffix(".ledger")
        return cls(Path(path).with_name(f"{stem}.rollup-cache"), base)

    # -- keys ----------------------------------------------------------------------------------
    def keys(self, conn, months: list[str], sent: dict) -> dict[str, str]:
        """month → key, chained from the first month (one query per table)."""
        if not months:
            return {}
        lo, hi = months[0], months[-1]
        cur = conn.cursor()
        cur.row_factory = None
        subs = dict(cur.execute(
            "SELECT em, group_concat(x, ';') FROM (SELECT CASE WHEN status = 'accepted' THEN month "
            "ELSE COALESCE(collect_month, month) END AS em, id || ',' || sha256 || ',' || "
            "IFNULL(unit, '') || ',' || IFNULL(month, '') || ',' || status || ',' || "
            "IFNULL(superseded_by, '') || ',' || IFNULL(on_time, '') || ',' || received_at || ',' || "
            "IFNULL(unit_from, '') || ',' || IFNULL(reason_code, '') AS x FROM submissions "
            "ORDER BY id) WHERE em BETWEEN ? AND ? GROUP BY em", (lo, hi)))
        issued = dict(cur.execute(
            "SELECT month, group_concat(x, ';') FROM (SELECT month, unit || ',' || due || ',' || "
            "plan_fingerprint AS x FROM issued ORDER BY rowid) WHERE month BETWEEN ? AND ? "
            "GROUP BY month", (lo, hi)))
        out, prev = {}, self.base
        for m in months:
            h = hashlib.sha256()
            for part in (prev, m, subs.get(m) or "", issued.get(m) or "", sent.get(m) or ""):
                h.update(part.encode("utf-8"))
                h.update(b"\x00")
            prev = out[m] = h.hexdigest()
        return out

    # -- files ---------------------------------------------------------------------------------
    def _path(self, month: str, part: str) -> Path:
        return self.folder / f"{month}.{part}.json"

    def load(self, month: str, key: str, today: date, frames: bool = True) -> dict | None:
        """The month's figures, or None (no snapshot, another key, or a day not after its due
        dates). `frames=False`: without the sheets' rows (the 年度報告 needs only the summary)."""
        data = self._read(self._path(month, "summary"))
        if not data or data.get("key") != key:
            return None
        if today.isoformat() <= data.get("max_due", "9999"):
            return None
        if frames:
            rows = self._read(self._path(month, "figures"))
            if not rows or rows.get("key") != key:
                return None
            for name in FRAMES:
                data[name] = frame_from_json(rows[name])
        data["ind_values"] = {k: tuple(v) for k, v in data["ind_values"].items()}
        data["ind_month"] = {k: tuple(v) for k, v in data["ind_month"].items()}
        return data

    def load_carry(self, month: str, key: str, n: int) -> Carry | None:
        data = self._read(self._path(month, "carry"))
        if not data or data.get("key") != key:
            return None
        try:
            return Carry.from_json(data["carry"], n)
        except (KeyError, ValueError, TypeError, IndexError):
            return None

    def load_texts(self, month: str, key: str):
        from putuo_xl.rollup.month_texts import MonthTexts
        return MonthTexts.load(self.folder / f"{month}.texts.npz", key)

    def save(self, month: str, key: str, figures: dict, carry: Carry, texts=None) -> None:
        summary = {"key": key, **{k: v for k, v in figures.items() if k not in FRAMES}}
        self._write(self._path(month, "figures"),
                    {"key": key, **{name: frame_to_json(figures[name]) for name in FRAMES}})
        self._write(self._path(month, "carry"), {"key": key, "carry": carry.to_json()})
        if texts is not None:
            self._write_with(self.folder / f"{month}.texts.npz", lambda p: texts.save(p, key))
        self._write(self._path(month, "summary"), summary)     # last: it says the month is kept

    def _write_with(self, path: Path, write) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=str(self.folder))
            os.close(fd)
            try:
                write(Path(tmp))
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except (OSError, ValueError):
            pass

    @staticmethod
    def _read(path: Path) -> dict | None:
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def _write(self, path: Path, data: dict) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # dumps: the C encoder (dump to a file takes the pure-Python one)
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_default)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=str(self.folder))
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except (OSError, TypeError, ValueError):
            try:
                os.unlink(tmp)              # noqa: F821 - set when mkstemp succeeded
            except (OSError, NameError, UnboundLocalError):
                pass
