"""What a form's locked cells said when it was issued, kept in the ledger (`issued.locked`), so
that the collector believes the plan, not an edited copy of it.

The plan owns a form's 工作任務, 角色, 完成時限, 量化指標 and 目標值 (grey, protected cells);
a unit that unprotects the sheet and changes them (配合 → 牽頭, a lower target) changes nothing:
the collector stores what was issued and says what was changed. One JSON object per form:
row key (the form's hidden key column, layout.FORM_KEY: a task id, or an indicator id such as
"1.3.1#2" on a further target's row) → [task text digest, role code, deadline, indicator,
target] (None where the row has no such cell). 任務編號 is locked too: it shows the key's task
id, and the collector compares it with the key.
"""
from __future__ import annotations

import json
import zlib
from datetime import date, datetime

COLUMNS = ("task", "role", "deadline", "indicator", "target")


def squash(text: str) -> str:
    """Text compared without its white space (a line break Excel added is no change)."""
    return "".join(text.split())


def digest(text: str) -> str:
    return format(zlib.crc32(squash(text).encode("utf-8")), "08x")


def deadline_text(value) -> str:
    """A 完成時限 cell as compared: a date as YYYY-MM-DD, text as written."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value or "")


def task_row(text: str, role: str, deadline, indicator: str, target: str) -> list:
    return [digest(text), role, deadline_text(deadline), indicator or "", target or ""]


def indicator_row(indicator: str, target: str) -> list:
    return [None, None, None, indicator or "", target or ""]


def dumps(rows: dict[str, list]) -> str:
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | None) -> dict[str, list] | None:
    if not text:
        return None
    try:
        rows = json.loads(text)
    except ValueError:
        return None
    return rows if isinstance(rows, dict) else None
