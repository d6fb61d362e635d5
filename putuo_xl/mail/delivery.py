"""Sending a report's messages over one connection: one SMTP transaction per message, temporary
failures retried in rounds, every attempt recorded in the send log, each message's outcome set."""
from __future__ import annotations

import smtplib
from typing import Callable

from putuo_xl.ledger.store import Ledger
from putuo_xl.mail.mime import message_bytes
from putuo_xl.mail.report import MailReport, Outgoing
from putuo_xl.mail.sendlog import log_insert, log_update
from putuo_xl.mail.settings import MailSettings
from putuo_xl.mail.smtp import Connection, Fatal, Transient, code_text


def _attempt(conn: Connection, ledger: Ledger | None, m: Outgoing, sender: str, data: bytes,
             rcpts: list[str]) -> dict[str, tuple[bool, str]]:
    """One SMTP transaction to `rcpts`. Returns the addresses not delivered: addr → (temporary?,
    reason). Raises Transient/Fatal for connection-wide failures."""
    smtp = conn.open()
    m.attempts += 1
    row = log_insert(ledger, m, rcpts, "pending", attempts=m.attempts) if ledger else None
    undelivered: dict[str, tuple[bool, str]] = {}
    try:
        refused = smtp.sendmail(sender, rcpts, data)
    except smtplib.SMTPRecipientsRefused as e:
        refused = e.recipients
    except smtplib.SMTPSenderRefused as e:
        text = code_text(e.smtp_code, e.smtp_error)
        if row:
            log_update(ledger, row, "failed", detail=f"發件人被拒絕:{text}")
        if 400 <= e.smtp_code < 500:
            return {r: (True, f"服務器暫時不接收:{text}") for r in rcpts}
        raise Fatal(f"郵件服務器拒絕發件人 {sender}:{text}。請檢查 mail.from 和登錄用戶。") from None
    except smtplib.SMTPDataError as e:
        text = code_text(e.smtp_code, e.smtp_error)
        temporary = 400 <= e.smtp_code < 500
        if row:
            log_update(ledger, row, "failed" if temporary else "refused", detail=text)
        return {r: (temporary, f"服務器{'暫時' if temporary else ''}拒收這封郵件:{text}") for r in rcpts}
    except smtplib.SMTPResponseException as e:
        text = code_text(e.smtp_code, e.smtp_error)
        conn.drop()
        temporary = 400 <= e.smtp_code < 500
        if row:
            log_update(ledger, row, "failed", detail=text)
        return {r: (temporary, text) for r in rcpts}
    except (smtplib.SMTPServerDisconnected, OSError) as e:
        conn.drop()
        if row:
            log_update(ledger, row, "failed", detail=f"連接中斷:{e}")
        return {r: (True, f"與服務器的連接中斷({type(e).__name__})") for r in rcpts}
    lower = {k.lower(): v for k, v in refused.items()}
    for r in rcpts:
        if r.lower() in lower:
            code, msg = lower[r.lower()]
            text = code_text(code, msg)
            temporary = 400 <= int(code) < 500
            undelivered[r] = (temporary, f"{'暫時' if temporary else ''}拒收這個地址:{text}")
    delivered = [r for r in rcpts if r not in undelivered]
    if row:
        if delivered:
            log_update(ledger, row, "sent", delivered)
            for r, (temporary, why) in undelivered.items():
                log_insert(ledger, m, [r], "failed" if temporary else "refused", why, m.attempts)
        else:
            perm = all(not t for t, _ in undelivered.values())
            log_update(ledger, row, "refused" if perm else "failed",
                       detail="; ".join(f"{r}: {w}" for r, (_, w) in undelivered.items()))
    m.delivered += delivered
    return undelivered


def deliver(report: MailReport, settings: MailSettings, ledger: Ledger | None, password: str | None,
            sleep: Callable[[float], None]) -> None:
    """Send `report.to_send`, retry temporary failures, set each message's status."""
    assert settings.sender is not None
    sender = settings.sender.addr_spec
    conn = Connection(settings.smtp, password)
    data = {id(m): message_bytes(m, settings) for m in report.to_send}
    queue: list[tuple[Outgoing, list[str]]] = [(m, list(m.pending)) for m in report.to_send]
    last_error: dict[int, dict[str, str]] = {}
    unlogged: set[int] = set()      # messages whose latest try never reached the server
    fatal = ""
    try:
        for rnd in range(settings.retries + 1):
            if not queue or fatal:
                break
            if rnd:
                conn.drop()
                sleep(settings.retry_wait)
            retry: list[tuple[Outgoing, list[str]]] = []
            for i, (m, rcpts) in enumerate(queue):
                if fatal:
                    unlogged.add(id(m))
                    retry.append((m, rcpts))
                    continue
                before = m.attempts
                try:
                    undelivered = _attempt(conn, ledger, m, sender, data[id(m)], rcpts)
                except Transient as e:
                    # the server cannot be reached: every message left waits for the next round
                    for m2, r2 in queue[i:]:
                        last_error[id(m2)] = {r: str(e) for r in r2}
                        unlogged.add(id(m2))
                        retry.append((m2, r2))
                    break
                except Fatal as e:
                    fatal = str(e)
                    if m.attempts == before:
                        unlogged.add(id(m))
                    retry.append((m, rcpts))
                    continue
                unlogged.discard(id(m))
                again = [r for r, (temporary, _) in undelivered.items() if temporary]
                for r, (temporary, why) in undelivered.items():
                    if not temporary:
                        m.refused[r] = why
                last_error[id(m)] = {r: why for r, (_, why) in undelivered.items()}
                if again:
                    retry.append((m, again))
            queue = retry
    finally:
        conn.close()
    for m, rcpts in queue:        # retries used up, or stopped by a fatal error
        why = last_error.get(id(m), {})
        for r in rcpts:
            m.failed[r] = fatal or why.get(r) or "未能發送"
        if ledger is not None and id(m) in unlogged:
            log_insert(ledger, m, rcpts, "failed", fatal or next(iter(why.values()), ""),
                       max(m.attempts, 1))
    for m in report.to_send:
        if m.delivered and (m.failed or m.refused):
            m.status = "partial"
        elif m.delivered:
            m.status = "sent"
        else:
            m.status = "failed"
            m.detail = fatal or next(iter({**m.refused, **m.failed}.values()), "")
