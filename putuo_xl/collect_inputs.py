"""Where returned forms come from: folders (recursively), single files, and saved e-mails
(.eml, attachments extracted; the e-mail's Date is the received time and its From the source).
"""
from __future__ import annotations

import email
import email.policy
import os
from datetime import datetime
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from .collect_read import Incoming
from .collect_report import Problem

MAIL_SUFFIXES = (".eml",)
SKIP_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime).astimezone()


def _is_lock_or_temp(name: str) -> bool:
    return (name.startswith("~$") or name.startswith(".~") or name.startswith(".tmp-")
            or name.lower() in SKIP_NAMES or name.startswith("."))


def gather(paths, exclude: set[Path] | None = None) -> list[Incoming]:
    """Every file to judge, in a stable order. Missing paths become items with a problem."""
    exclude = {p.resolve() for p in (exclude or set())}
    items: list[Incoming] = []
    seen: set[Path] = set()

    def excluded(p: Path) -> bool:
        rp = p.resolve()
        return rp in exclude or any(parent in exclude for parent in rp.parents)

    for raw in paths:
        p = Path(raw)
        if not p.exists():
            items.append(Incoming(name=p.name or str(p), source=str(p), received_at=datetime.now().astimezone(),
                                  problem=Problem("not-found", file=str(p))))
            continue
        if p.is_dir():
            files = sorted((f for f in p.rglob("*") if f.is_file()), key=lambda f: str(f))
            for f in files:
                rel_parts = f.relative_to(p).parts
                if any(_is_lock_or_temp(part) for part in rel_parts) or excluded(f):
                    continue
                rf = f.resolve()
                if rf in seen:
                    continue
                seen.add(rf)
                items.extend(_file_items(f))
        else:
            rp = p.resolve()
            if rp in seen:
                continue
            seen.add(rp)
            items.extend(_file_items(p))
    return items


def _file_items(path: Path) -> list[Incoming]:
    if path.suffix.lower() in MAIL_SUFFIXES:
        return mail_items(path)
    try:
        received = _mtime(path)
    except OSError:
        received = datetime.now().astimezone()
    return [Incoming(name=path.name, source=str(path), received_at=received, path=str(path))]


def mail_items(path: Path) -> list[Incoming]:
    """The attachments of a saved e-mail, each with the e-mail's Date and From."""
    try:
        data = path.read_bytes()
    except OSError as e:
        return [Incoming(name=path.name, source=str(path), received_at=datetime.now().astimezone(),
                         problem=Problem("unreadable", {"detail": e.strerror or type(e).__name__},
                                         file=path.name))]
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as e:  # the stdlib parser is lenient; this is for truly broken files
        return [Incoming(name=path.name, source=str(path), received_at=_mtime(path),
                         problem=Problem("corrupt", {"detail": str(e)[:80]}, file=path.name))]
    received = None
    date_header = msg.get("Date")
    if date_header:
        try:
            received = parsedate_to_datetime(str(date_header))
            if received.tzinfo is None:
                received = received.astimezone()
        except (TypeError, ValueError, IndexError):
            received = None
    if received is None:
        received = _mtime(path)
    sender_text = str(msg.get("From") or "").strip() or None
    sender_addr = None
    if sender_text:
        addrs = getaddresses([sender_text])
        if addrs and addrs[0][1]:
            sender_addr = addrs[0][1].strip().lower()
    items: list[Incoming] = []
    for n, part in enumerate(msg.walk()):
        if part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = (part.get_content_disposition() or "").lower()
        if not filename:
            if disposition != "attachment":
                continue
            filename = f"附件{n}"
        if part.get_content_maintype() == "image" and disposition != "attachment":
            continue  # logos and signatures shown inline
        filename = os.path.basename(filename.replace("\\", "/")).strip() or f"附件{n}"
        payload = part.get_payload(decode=True) or b""
        items.append(Incoming(name=filename, source=f"{path} › {filename}", received_at=received,
                              data=payload, sender=sender_text, sender_addr=sender_addr))
    if not items:
        items.append(Incoming(name=path.name, source=str(path), received_at=received, sender=sender_text,
                              sender_addr=sender_addr,
                              problem=Problem("no-attachment", {}, file=path.name)))
    return items
