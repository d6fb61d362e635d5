"""The audit trail (留痕) in a master's ledger: who pressed which button, when, on which
project, what it did or sent, and how it ended. Rows are only ever added."""
from __future__ import annotations

import json
from dataclasses import dataclass

from putuo_xl.ledger.store import Ledger, now_iso

RESULTS = {"ok": "完成", "error": "失敗", "denied": "拒絕"}
MAX_DETAIL_ROWS = 500


@dataclass
class AuditEntry:
    user: str
    route: str
    action: str
    result: str
    label: str = ""
    summary: str = ""
    details: list | None = None
    project: str | None = None
    ip: str | None = None
    at: str = ""


def record(ledger: Ledger, entry: AuditEntry) -> int:
    details = json.dumps((entry.details or [])[:MAX_DETAIL_ROWS], ensure_ascii=False) \
        if entry.details else None
    with ledger.tx() as conn:
        cur = conn.execute(
            "INSERT INTO audit(at, user, ip, route, project, action, label, result, summary, details) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            (entry.at or now_iso(), entry.user, entry.ip, entry.route, entry.project, entry.action,
             entry.label, entry.result, entry.summary, details))
        return cur.lastrowid


def entries(ledger: Ledger, limit: int | None = None) -> list[AuditEntry]:
    """Newest first."""
    sql = "SELECT * FROM audit ORDER BY id DESC" + (" LIMIT ?" if limit else "")
    rows = ledger.conn.execute(sql, (limit,) if limit else ())
    return [AuditEntry(user=r["user"], route=r["route"], action=r["action"], result=r["result"],
                       label=r["label"] or "", summary=r["summary"] or "",
                       details=json.loads(r["details"]) if r["details"] else None,
                       project=r["project"], ip=r["ip"], at=r["at"]) for r in rows]
