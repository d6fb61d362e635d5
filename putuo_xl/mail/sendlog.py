"""The send log (ledger table `sends`): which ledger holds it, one row per attempt, and which
addresses already received a message's content (sent), may have (pending, uncertain) or not."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

from putuo_xl.config import Config
from putuo_xl.ledger.store import Ledger, ledger_path_for, now_iso, open_ledger
from putuo_xl.mail.identify import is_form_candidate
from putuo_xl.mail.report import MailError, Outgoing


def open_given_ledger(ledger) -> Ledger:
    """The `ledger` a caller gave: an open Ledger, or the path of one."""
    return ledger if isinstance(ledger, Ledger) else Ledger(ledger)


def ledger_for_forms(forms_dir: str | Path, config: Config, month: str | None = None) -> Path:
    """The send log for `send_forms` when none is given: the master's ledger in the forms folder
    or the folder above it (where `putuo-xl forms` puts them). With several, the one that issued
    forms for `month` under these file names; with none, a new `寄送記錄.ledger.sqlite` in the
    forms folder."""
    d = Path(forms_dir)
    template = config.section("collect").get("ledger_name") or "{master_stem}.ledger.sqlite"
    pattern = template.replace("{master_stem}", "*")
    found: list[Path] = []
    for folder in (d, d.parent):
        found += sorted(x for x in folder.glob(pattern) if x.is_file())
    if len(found) > 1 and month:
        names = {x.name for x in d.iterdir() if is_form_candidate(x)}
        issued_here = []
        for path in found:
            with Ledger(path) as lg:
                if any(r["file_name"] in names for r in lg.issued(month)):
                    issued_here.append(path)
        if len(issued_here) == 1:
            return issued_here[0]
    if len(found) > 1:
        raise MailError(f"在 {d} 和上一級文件夾中找到多個台賬({'、'.join(x.name for x in found)}),"
                        f"無法確定記在哪一個。請用 --master 指定主表。", file=str(d))
    return found[0] if found else d / "寄送記錄.ledger.sqlite"


def ledger_of_master(master: str | Path, config: Config, ledger) -> Ledger:
    """The given `ledger`, else the existing ledger beside `master`."""
    if ledger is not None:
        return open_given_ledger(ledger)
    template = config.section("collect").get("ledger_name") or "{master_stem}.ledger.sqlite"
    path = ledger_path_for(master, template)
    if not path.exists():
        raise MailError(f"找不到台賬文件 {path.name}(應在主表旁邊)。請先用 putuo-xl forms 生成月報、"
                        f"用 putuo-xl collect 收集回報。", file=str(path))
    return open_ledger(master, config)


def log_insert(ledger: Ledger, m: Outgoing, rcpts: Iterable[str], status: str, detail: str = "",
               attempts: int = 1) -> int:
    """One attempt to send `m` to `rcpts`, recorded; returns its row id."""
    cur = ledger.conn.execute(
        "INSERT INTO sends(key, kind, month, unit, recipients, subject, attachment, status, detail,"
        " attempts, at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (m.key, m.kind, m.month, m.unit, ",".join(rcpts), m.subject, m.attachment_name, status,
         detail, attempts, now_iso()))
    return int(cur.lastrowid)


def log_update(ledger: Ledger, row_id: int, status: str, rcpts: Iterable[str] | None = None,
               detail: str = "") -> None:
    """The outcome of an attempt (and the addresses that received it, when given)."""
    if rcpts is None:
        ledger.conn.execute("UPDATE sends SET status=?, detail=?, at=? WHERE id=?",
                            (status, detail, now_iso(), row_id))
    else:
        ledger.conn.execute("UPDATE sends SET status=?, recipients=?, detail=?, at=? WHERE id=?",
                            (status, ",".join(rcpts), detail, now_iso(), row_id))


def check_log(ledger: Ledger | None, m: Outgoing, resend: bool, resend_uncertain: bool) -> None:
    """Set m.pending to the addresses that have not received this content yet."""
    want = m.addresses()
    delivered: dict[str, str] = {}
    pending: set[str] = set()
    if ledger is not None:
        keys = [m.key, *m.aliases]
        for row in ledger.conn.execute(
                f"SELECT status, recipients, at FROM sends WHERE key IN ({','.join('?' * len(keys))})"
                f" ORDER BY id", keys):
            addrs = [a for a in (row["recipients"] or "").split(",") if a]
            if row["status"] == "sent":
                for a in addrs:
                    delivered.setdefault(a.lower(), row["at"][:16].replace("T", " "))
            elif row["status"] in ("pending", "uncertain"):
                # pending: the run ended before the server answered (killed); uncertain: the
                # content went out and the connection broke before the answer — alike: unknown
                pending.update(a.lower() for a in addrs)
    if resend:
        m.pending = list(want)
        return
    m.earlier = {a: delivered[a.lower()] for a in want if a.lower() in delivered}
    m.uncertain = [a for a in want if a.lower() in pending and a.lower() not in delivered]
    m.pending = [a for a in want if a.lower() not in delivered
                 and (resend_uncertain or a.lower() not in pending)]
    if not m.pending:
        m.status = "uncertain" if m.uncertain else "already_sent"


def content_hash(data: bytes | str) -> str:
    """The short hash that ends a send log key."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]
