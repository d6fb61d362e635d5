"""The SMTP connection: plain, STARTTLS or SSL, the certificate check, the login (UTF-8 too),
the password, and what each failure means (`Fatal` stops the run, `Transient` is retried)."""
from __future__ import annotations

import base64
import smtplib
import socket
import ssl
from typing import Callable

from putuo_xl.mail.report import MailError
from putuo_xl.mail.settings import MailSettings, SmtpSettings


class Fatal(Exception):
    """A failure that stops the whole run (login refused, TLS, server refuses the sender)."""


class Transient(Exception):
    """A failure worth retrying for every message (server down, disconnected)."""


def code_text(code, msg) -> str:
    """An SMTP reply as one line: '451 try later'."""
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return f"{code} {msg}".strip()


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib's login, except that a user name or password outside ASCII is sent as UTF-8
    (smtplib would raise UnicodeEncodeError)."""
    if user.isascii() and password.isascii():
        conn.login(user, password)
        return
    conn.ehlo_or_helo_if_needed()
    if not conn.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    mechanisms = conn.esmtp_features["auth"].upper().split()

    def b64(text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    if "PLAIN" in mechanisms:
        code, resp = conn.docmd("AUTH", "PLAIN " + b64(f"\0{user}\0{password}"))
    elif "LOGIN" in mechanisms:
        code, resp = conn.docmd("AUTH", "LOGIN " + b64(user))
        if code == 334:
            code, resp = conn.docmd(b64(password))
    else:
        raise smtplib.SMTPNotSupportedError("No suitable authentication method found.")
    if code not in (235, 503):
        raise smtplib.SMTPAuthenticationError(code, resp)


class _Tracked:
    """smtplib's client that remembers whether a message itself went out — DATA's content up to
    its final dot (`content_sent`). A connection lost after that, before the server's answer,
    leaves the outcome unknown: the server may have stored the message."""
    content_sent = False
    _in_data = False

    def data(self, msg):
        self.content_sent = False
        self._in_data = True
        try:
            return super().data(msg)
        finally:
            self._in_data = False

    def send(self, s):
        super().send(s)
        if self._in_data and isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.content_sent = True


class _SMTP(_Tracked, smtplib.SMTP):
    pass


class _SMTP_SSL(_Tracked, smtplib.SMTP_SSL):
    pass


class Connection:
    """One SMTP connection, opened (and logged in) when first needed, reopened after a drop."""

    def __init__(self, settings: SmtpSettings, password: str | None):
        self.s, self.password = settings, password
        self.smtp: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        try:
            ctx = ssl.create_default_context(cafile=self.s.ca_file or None)
        except (OSError, ssl.SSLError) as e:
            raise Fatal(f"讀不了 mail.smtp.ca_file「{self.s.ca_file}」({e})。") from None
        if not self.s.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def open(self) -> smtplib.SMTP:
        if self.smtp is not None:
            return self.smtp
        s = self.s
        where = f"{s.host}:{s.port}"
        local = socket.gethostname() or "localhost"
        try:
            if s.security == "ssl":
                conn = _SMTP_SSL(s.host, s.port, local_hostname=local, timeout=s.timeout,
                                        context=self._context())
            else:
                conn = _SMTP(s.host, s.port, local_hostname=local, timeout=s.timeout)
            try:
                conn.ehlo()
                if s.security == "starttls":
                    if not conn.has_extn("starttls"):
                        raise Fatal(f"郵件服務器 {where} 不支持 STARTTLS。請把 mail.smtp.security "
                                    f"改成 ssl 或 none,或換端口。")
                    conn.starttls(context=self._context())
                    conn.ehlo()
                if s.user:
                    _login(conn, s.user, self.password or "")
            except BaseException:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass
                raise
        except Fatal:
            raise
        except smtplib.SMTPAuthenticationError as e:
            raise Fatal(f"郵件服務器拒絕登錄(用戶 {s.user}):{code_text(e.smtp_code, e.smtp_error)}。"
                        f"請檢查 mail.smtp.user 和密碼。") from None
        except smtplib.SMTPNotSupportedError as e:
            raise Fatal(f"郵件服務器 {where} 不支持所需的功能({e})。如需登錄,請先用 starttls 或 ssl。"
                        ) from None
        except ssl.SSLCertVerificationError as e:
            raise Fatal(f"郵件服務器 {where} 的證書未通過驗證({e.verify_message})。若是內網自簽證書,"
                        f"請把證書文件填到 mail.smtp.ca_file。") from None
        except ssl.SSLError as e:
            raise Fatal(f"與郵件服務器 {where} 建立加密連接失敗({e.reason or e})。請檢查 "
                        f"mail.smtp.security(ssl 用 465 端口,starttls 用 587 或 25)。") from None
        except smtplib.SMTPResponseException as e:
            text = code_text(e.smtp_code, e.smtp_error)
            if 400 <= e.smtp_code < 500:
                raise Transient(f"郵件服務器 {where} 暫時拒絕連接:{text}") from None
            raise Fatal(f"郵件服務器 {where} 拒絕連接:{text}") from None
        except ConnectionRefusedError:
            raise Transient(f"無法連接郵件服務器 {where}(連接被拒絕,服務器沒有運行或端口不對)") from None
        except (socket.timeout, TimeoutError):
            raise Transient(f"連接郵件服務器 {where} 超時") from None
        except socket.gaierror:
            raise Transient(f"找不到郵件服務器 {s.host}(域名解析失敗)") from None
        except (smtplib.SMTPException, OSError) as e:
            raise Transient(f"無法連接郵件服務器 {where}({type(e).__name__}: {e})") from None
        self.smtp = conn
        return conn

    def drop(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.close()
            except Exception:  # noqa: BLE001
                pass
        self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except Exception:  # noqa: BLE001
                pass
        self.drop()


def smtp_password(settings: MailSettings, password_prompt: Callable[[], str] | None) -> str | None:
    """The login password: the environment variable mail.smtp.password_env, else the prompt."""
    import os

    if not settings.smtp.user:
        return None
    value = os.environ.get(settings.smtp.password_env) if settings.smtp.password_env else None
    if value:
        return value
    if password_prompt is not None:
        return password_prompt()
    raise MailError(f"需要郵箱密碼(用戶 {settings.smtp.user}):請設置環境變量 "
                    f"{settings.smtp.password_env},或在命令行運行時輸入。密碼不要寫進 config.yaml。")
