"""Sending a report's messages over one connection: one SMTP transaction per message, temporary
failures retried in rounds, every attempt recorded in the send log, each message's outcome set.

A message whose content went out but whose answer never came (the connection broke after the
final dot) may have been stored by the server: it is not sent again in the run (the unit would
get two copies), and the send log says `uncertain`, as it says `pending` after a run that was
killed at that moment; the next run holds both back unless asked to resend them. Ctrl-C stops
the run at once: what was sent, what failed and what may have gone are in the report
(`MailInterrupted` carries it)."""
from __future__ import annotations

import smtplib
from typing import Callable

from putuo_xl.ledger.store import Ledger
from putuo_xl.mail.mime import message_bytes
from putuo_xl.mail.report import MailInterrupted, MailReport, Outgoing
from putuo_xl.mail.sendlog import log_insert, log_update
from putuo_xl.mail.settings import MailSettings
from putuo_xl.mail.smtp import Connection, Fatal, Transient, code_text

UNCONFIRMED = "郵件已發出,但連接在服務器確認收到之前中斷"


class _CtrlC:
    """Ctrl-C during a run: it stops what waits (connecting, the SMTP transaction, the pause
    between rounds) at once, and waits itself while the send log is written, so that the log
    and the report always say what happened to the message in hand. Only in the main thread
    (where Python handles the signal); elsewhere nothing changes."""

    def __init__(self) -> None:
        self.pending = False
        self.raising = True
        self._old = None

    def _handler(self, signum, frame):
        if self.raising:
            raise KeyboardInterrupt
        self.pending = True

    def __enter__(self):
        import signal
        import threading
        if threading.current_thread() is threading.main_thread():
            try:
                self._old = signal.signal(signal.SIGINT, self._handler)
                self.raising = False
            except (ValueError, OSError):
                self._old = None
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            import signal
            signal.signal(signal.SIGINT, self._old)
        return False

    def check(self) -> None:
        """A safe point: a Ctrl-C held back is raised now."""
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    def allow(self):
        """`with ctrl_c.allow():` a Ctrl-C raises inside (one held back, at once)."""
        import contextlib

        @contextlib.contextmanager
        def raising():
            if self._old is None:
                yield
                return
            self.check()
            self.raising = True
            try:
                yield
            finally:
                self.raising = False
        return raising()


_NO_CTRL_C = _CtrlC()          # outside deliver: allow() does nothing
# what an undelivered address's entry says: temporary (retry), permanent, or unknown outcome
TEMPORARY, PERMANENT, UNKNOWN = "temporary", "permanent", "unknown"


def _attempt(conn: Connection, ledger: Ledger | None, m: Outgoing, sender: str, data: bytes,
             rcpts: list[str], ctrl_c: _CtrlC = _NO_CTRL_C) -> dict[str, tuple[str, str]]:
    """One SMTP transaction to `rcpts`. Returns the addresses not delivered: addr → (TEMPORARY |
    PERMANENT | UNKNOWN, reason). Raises Transient/Fatal for connection-wide failures; on Ctrl-C
    the attempt is logged as what it was (not sent, or maybe sent) and KeyboardInterrupt goes on."""
    with ctrl_c.allow():
        smtp = conn.open()
    m.attempts += 1
    row = log_insert(ledger, m, rcpts, "pending", attempts=m.attempts) if ledger else None
    smtp.content_sent = False
    undelivered: dict[str, tuple[str, str]] = {}
    try:
        with ctrl_c.allow():
            refused = smtp.sendmail(sender, rcpts, data)
    except smtplib.SMTPRecipientsRefused as e:
        refused = e.recipients
    except smtplib.SMTPSenderRefused as e:
        text = code_text(e.smtp_code, e.smtp_error)
        if row:
            log_update(ledger, row, "failed", detail=f"發件人被拒絕:{text}")
        if 400 <= e.smtp_code < 500:
            return {r: (TEMPORARY, f"服務器暫時不接收:{text}") for r in rcpts}
        raise Fatal(f"郵件服務器拒絕發件人 {sender}:{text}。請檢查 mail.from 和登錄用戶。") from None
    except smtplib.SMTPDataError as e:
        text = code_text(e.smtp_code, e.smtp_error)
        temporary = 400 <= e.smtp_code < 500
        if row:
            log_update(ledger, row, "failed" if temporary else "refused", detail=text)
        return {r: (TEMPORARY if temporary else PERMANENT,
                    f"服務器{'暫時' if temporary else ''}拒收這封郵件:{text}") for r in rcpts}
    except smtplib.SMTPResponseException as e:
        text = code_text(e.smtp_code, e.smtp_error)
        conn.drop()
        temporary = 400 <= e.smtp_code < 500
        if row:
            log_update(ledger, row, "failed", detail=text)
        return {r: (TEMPORARY if temporary else PERMANENT, text) for r in rcpts}
    except (smtplib.SMTPServerDisconnected, OSError) as e:
        conn.drop()
        if smtp.content_sent:        # the server may have it: not sent again blindly
            why = f"{UNCONFIRMED}({type(e).__name__}),不知道對方是否收到"
            if row:
                log_update(ledger, row, "uncertain", detail=why)
            return {r: (UNKNOWN, why) for r in rcpts}
        if row:
            log_update(ledger, row, "failed", detail=f"連接中斷:{e}")
        return {r: (TEMPORARY, f"與服務器的連接中斷({type(e).__name__})") for r in rcpts}
    except KeyboardInterrupt:
        conn.drop()
        if smtp.content_sent:
            m.lost.update({r: f"{UNCONFIRMED}(按了 Ctrl-C),不知道對方是否收到" for r in rcpts})
            if row:
                log_update(ledger, row, "uncertain", detail="發送時按了 Ctrl-C:郵件已發出,未等到服務器確認")
        elif row:
            log_update(ledger, row, "failed", detail="發送時按了 Ctrl-C:郵件沒有發出")
        raise
    lower = {k.lower(): v for k, v in refused.items()}
    for r in rcpts:
        if r.lower() in lower:
            code, msg = lower[r.lower()]
            text = code_text(code, msg)
            temporary = 400 <= int(code) < 500
            undelivered[r] = (TEMPORARY if temporary else PERMANENT,
                              f"{'暫時' if temporary else ''}拒收這個地址:{text}")
    delivered = [r for r in rcpts if r not in undelivered]
    m.delivered += delivered
    if row:
        if delivered:
            log_update(ledger, row, "sent", delivered)
            for r, (kind, why) in undelivered.items():
                log_insert(ledger, m, [r], "failed" if kind == TEMPORARY else "refused", why, m.attempts)
        else:
            perm = all(kind == PERMANENT for kind, _ in undelivered.values())
            log_update(ledger, row, "refused" if perm else "failed",
                       detail="; ".join(f"{r}: {w}" for r, (_, w) in undelivered.items()))
    return undelivered


def deliver(report: MailReport, settings: MailSettings, ledger: Ledger | None, password: str | None,
            sleep: Callable[[float], None], resend_uncertain: bool = False) -> None:
    """Send `report.to_send`, retry temporary failures, set each message's status. A message
    whose outcome is unknown is not retried unless `resend_uncertain`. Ctrl-C: the report is
    finished as far as it got and raised as MailInterrupted."""
    assert settings.sender is not None
    sender = settings.sender.addr_spec
    todo = report.to_send
    conn = Connection(settings.smtp, password)
    queue: list[tuple[Outgoing, list[str]]] = [(m, list(m.pending)) for m in todo]
    last_error: dict[int, dict[str, str]] = {}
    unlogged: set[int] = set()      # messages whose latest try never reached the server
    fatal = ""
    interrupted = False
    with _CtrlC() as ctrl_c:
        try:
            data = {id(m): message_bytes(m, settings) for m in todo}
            fatal = _rounds(conn, ledger, sender, data, queue, settings, sleep, resend_uncertain,
                            last_error, unlogged, ctrl_c)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            conn.close()
        _outcomes(report, todo, ledger, queue, last_error, unlogged, fatal, interrupted)
    if interrupted:
        report.interrupted = True
        raise MailInterrupted(report)


def _rounds(conn, ledger, sender, data, queue, settings, sleep, resend_uncertain, last_error,
            unlogged, ctrl_c) -> str:
    """The messages of `queue` ((message, addresses) — left holding what was not delivered when
    it ends, Ctrl-C too) sent in rounds; returns the fatal error that stopped them, or ''."""
    fatal = ""
    for rnd in range(settings.retries + 1):
        if not queue or fatal:
            break
        if rnd:
            conn.drop()
            with ctrl_c.allow():
                sleep(settings.retry_wait)
        retry: list[tuple[Outgoing, list[str]]] = []
        at, handled = 0, False
        try:
            for i, (m, rcpts) in enumerate(queue):
                at = i
                ctrl_c.check()
                if fatal:
                    unlogged.add(id(m))
                    retry.append((m, rcpts))
                    continue
                before = m.attempts
                try:
                    undelivered = _attempt(conn, ledger, m, sender, data[id(m)], rcpts, ctrl_c)
                except KeyboardInterrupt:
                    # the message in hand: what is not delivered nor maybe delivered is left
                    left = [r for r in rcpts if r not in m.lost and r not in m.delivered]
                    queue[:] = retry + ([(m, left)] if left else []) + queue[i + 1:]
                    handled = True
                    raise
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
                again = []
                for r, (kind, why) in undelivered.items():
                    if kind == PERMANENT:
                        m.refused[r] = why
                    elif kind == UNKNOWN and not resend_uncertain:
                        m.lost[r] = why
                    else:
                        again.append(r)
                last_error[id(m)] = {r: why for r, (_, why) in undelivered.items()}
                if again:
                    retry.append((m, again))
        except KeyboardInterrupt:
            if not handled:          # before the message at `at` was tried
                queue[:] = retry + queue[at:]
            raise
        queue[:] = retry
    return fatal


def _outcomes(report, todo, ledger, queue, last_error, unlogged, fatal, interrupted) -> None:
    """Each message's status once the rounds are over; what was left undelivered logged."""
    for m, rcpts in queue:        # retries used up, stopped by a fatal error, or by Ctrl-C
        why = last_error.get(id(m), {})
        for r in rcpts:
            if interrupted and r not in why:
                m.not_sent.append(r)
            else:
                m.failed[r] = fatal or why.get(r) or "未能發送"
        if ledger is not None and id(m) in unlogged and not interrupted:
            log_insert(ledger, m, rcpts, "failed", fatal or next(iter(why.values()), ""),
                       max(m.attempts, 1))
    for m in todo:
        if m.delivered and (m.failed or m.refused or m.lost or m.not_sent):
            m.status = "partial"
        elif m.delivered:
            m.status = "sent"
        elif m.lost:
            m.status = "unconfirmed"
        elif m.not_sent and not (m.failed or m.refused):
            m.status = "interrupted"
        else:
            m.status = "failed"
            m.detail = fatal or next(iter({**m.refused, **m.failed}.values()), "")
