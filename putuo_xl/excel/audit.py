"""The audit trail of the ribbon actions and the server's file routes: one row per action in
the master's ledger (who, when, from where, which project, which button, what it did, the
result). A project the user may not open is not theirs to write in: those attempts go to the
server's own access log. Recording never makes an action fail."""
from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

from putuo_xl.excel.context import Context, SERVER_MASTER_NAME

log = logging.getLogger("putuo_xl.audit")


def audit(ctx: Context, act, result: str, summary: str = "") -> None:
    from putuo_xl.ledger.audit import AuditEntry, record
    from putuo_xl.ledger.store import Ledger, ledger_path_for

    identity = ctx.route.identity
    entry = AuditEntry(user=ctx.route.who(), route=ctx.route.kind, action=act.tag,
                       label=ctx.t(act.label), result=result, summary=summary,
                       details=[list(map(str, d)) for d in ctx.details] or None,
                       ip=getattr(identity, "ip", None))
    try:
        master = _master_for_audit(ctx)
        if master is None:
            if ctx.on_server and ctx.route.data_dir is not None:
                access_log(ctx.route.data_dir, entry, ctx.meta.get("server_project"))
            return
        entry.project = ctx.meta.get("server_project") if ctx.on_server else master.name
        template = ctx.config.section("collect").get("ledger_name") or "{master_stem}.ledger.sqlite"
        path = ledger_path_for(master, template)
        if not path.is_file() and result != "ok":
            path.parent.mkdir(parents=True, exist_ok=True)
        with Ledger(path) as led:
            record(led, entry)
    except Exception:  # noqa: BLE001 - the trail must not break the action it records
        log.exception("audit record failed for %s", act.tag)


def _master_for_audit(ctx: Context) -> Path | None:
    """The master whose ledger gets the row: on the server the project's (when the user may
    open it), on the desktop the saved workbook's own file."""
    from putuo_xl.excel.projects import Forbidden
    if ctx.on_server:
        try:
            return ctx.project_dir() / SERVER_MASTER_NAME
        except Forbidden:
            return None
    full = ctx.io.book.fullname
    p = Path(full)
    if p.suffix.lower() in (".xlsx", ".xlsm") and p.is_absolute() and p.parent.is_dir():
        from putuo_xl import layout
        return p if ctx.meta.get("kind") == layout.MASTER_KIND else None
    return None


def access_log(data_dir: Path, entry, project: str | None) -> None:
    """A refused or project-less request, in <data>/_server/access.log (JSON lines)."""
    from putuo_xl.excel.users import store_dir
    folder = store_dir(Path(data_dir))
    folder.mkdir(parents=True, exist_ok=True)
    line = {"at": datetime.now().astimezone().isoformat(timespec="seconds"), "user": entry.user,
            "ip": entry.ip, "action": entry.action, "result": entry.result,
            "project": (project or "")[:80], "summary": entry.summary[:500]}
    with open(folder / "access.log", "a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")
