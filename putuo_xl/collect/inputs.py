"""Where returned forms come from: folders (recursively), single files, and saved e-mails
(.eml, attachments extracted; the e-mail's Date is the received time and its From the source).
"""
from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import os
from datetime import datetime
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from putuo_xl.collect.judge import Incoming
from putuo_xl.collect.report import Problem

MAIL_SUFFIXES = (".eml",)
SKIP_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


def _fix_text(text: str) -> str:
    """Header text a mail client wrote as raw 8-bit (often GBK) instead of encoding it: the
    parser keeps those bytes as surrogates; decode them as UTF-8, else GB18030."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def _header_text(value) -> str:
    """A header value as text: RFC 2047 encoded words decoded, raw 8-bit bytes rescued."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        value = str(value)
    text = _fix_text(str(value))
    if "=?" in text:
        try:
            text = str(email.header.make_header(email.header.decode_header(text)))
        except Exception:      # an unknown or damaged charset (CharsetError…): the raw text
            pass
    return text


def _attachment_name(part) -> str | None:
    """The attachment's file name: RFC 2231 and RFC 2047 forms, and raw GBK/UTF-8 bytes."""
    import email.message
    fixed = email.message.Message()
    for name, value in part.raw_items():
        if name.lower() in ("content-disposition", "content-type"):
            fixed[name] = _fix_text(str(value))
    try:
        filename = fixed.get_filename()
    except Exception:      # a malformed parameter: the caller falls back to a generic name
        return None
    return _header_text(filename) if filename else None


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

    for raw in paths:
        p = Path(raw)
        if not p.exists():
            items.append(Incoming(name=p.name or str(p), source=str(p), received_at=datetime.now().astimezone(),
                                  problem=Problem("not-found", file=str(p))))
            continue
        if p.is_dir():
            # a folder named on purpose is read even if it would be skipped inside another
            rp = p.resolve()
            active = {e for e in exclude if not (e == rp or e in rp.parents)}
            for f, rf, entry in _walk(p, rp, active):
                if rf in seen:
                    continue
                seen.add(rf)
                items.extend(_file_items(f, entry))
        else:
            rp = p.resolve()
            if rp in seen:
                continue
            seen.add(rp)
            items.extend(_file_items(p))
    return items


def _walk(top: Path, real_top: Path, active: set[Path]):
    """(path, resolved path, DirEntry) of every file under `top`, sorted by path as
    `top.rglob("*")` would give them (symbolic links to folders are not followed), without lock
    and temporary files or anything under them, and without what `active` excludes (resolved
    paths: the file itself or a folder above it). Directory entries carry what rglob + resolve
    would ask the file system for file by file (~0.1 ms a file at province scale)."""
    def excluded_dir(real: Path) -> bool:
        return real in active or any(parent in active for parent in real.parents)

    base = str(top)
    found = []
    stack = [(base, real_top, excluded_dir(real_top))]
    while stack:
        folder, real, skip_all = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue
        for e in entries:
            if _is_lock_or_temp(e.name):
                continue
            path = e.name if folder == "." else os.path.join(folder, e.name)
            try:
                if e.is_dir() and not e.is_symlink():
                    sub = real / e.name
                    stack.append((path, sub, skip_all or sub in active))
                    continue
                if not e.is_file():
                    continue
                rf = Path(os.path.realpath(path)) if e.is_symlink() else real / e.name
            except OSError:
                continue
            if skip_all or rf in active or (e.is_symlink() and excluded_dir(rf)):
                continue
            found.append((path, rf, e))
    found.sort(key=lambda x: x[0])
    return [(Path(path), rf, e) for path, rf, e in found]


def _file_items(path: Path, entry: os.DirEntry | None = None) -> list[Incoming]:
    if path.suffix.lower() in MAIL_SUFFIXES:
        try:
            return mail_items(path)
        except Exception as e:     # an e-mail broken in a way no check foresaw: refused alone
            return [Incoming(name=path.name, source=str(path), received_at=_mtime(path),
                             problem=Problem("corrupt", {"detail": str(e)[:80] or type(e).__name__},
                                             file=path.name))]
    try:
        st = entry.stat() if entry is not None else path.stat()
        received = datetime.fromtimestamp(st.st_mtime).astimezone()
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
        # compat32 keeps header bytes a client did not encode (raw GBK names) as surrogates
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception as e:  # the stdlib parser is lenient; this is for truly broken files
        return [Incoming(name=path.name, source=str(path), received_at=_mtime(path), data=data,
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
    sender_text = _header_text(msg.get("From")).strip() or None
    sender_addr = None
    if sender_text:
        addrs = getaddresses([sender_text])
        if addrs and addrs[0][1]:
            sender_addr = addrs[0][1].strip().lower()
    items: list[Incoming] = []
    for n, part in enumerate(msg.walk()):
        if part.is_multipart():
            continue
        filename = _attachment_name(part)
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
        # the e-mail itself is what arrived: recorded and archived (data), refused
        items.append(Incoming(name=path.name, source=str(path), received_at=received, sender=sender_text,
                              sender_addr=sender_addr, data=data,
                              problem=Problem("no-attachment", {}, file=path.name)))
    return items
