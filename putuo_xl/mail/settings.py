"""The mail section of config.yaml, checked: the SMTP server, the sender, the bulletin's
recipients, retries and the message templates (config.yaml's own over the shipped ones)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from email.headerregistry import Address

from putuo_xl.config import Config, default_config_path, load_config
from putuo_xl.errors import ConfigError


SECURITY = ("none", "starttls", "ssl")


@dataclass
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    security: str = "none"          # none | starttls | ssl
    user: str = ""
    password_env: str = "PUTUO_XL_SMTP_PASSWORD"
    timeout: float = 30.0
    ca_file: str = ""
    verify: bool = True


@dataclass
class MailSettings:
    smtp: SmtpSettings
    sender: Address | None
    reply_to: Address | None
    contact: str
    bulletin_to: list[Address]
    bad_bulletin_to: list[str]
    retries: int
    retry_wait: float
    templates: dict[str, str]
    template_lines: dict[str, int | None]
    config_path: str


_ADDR = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def parse_address(text: str, default_name: str = "") -> Address | None:
    """'名稱 <a@b.cn>' or 'a@b.cn' → Address; None when it is not a usable address.

    Not email.utils.parseaddr: it takes the ASCII brackets in "…(依法行政)…" for a comment."""
    text = str(text or "").strip()
    m = re.fullmatch(r"(.*?)\s*<([^<>]*)>", text, re.S)
    name, addr = (m.group(1).strip(), m.group(2).strip()) if m else ("", text)
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"')
    if not _ADDR.match(addr):
        return None
    user, domain = addr.rsplit("@", 1)
    return Address(display_name=(name or default_name).strip(), username=user, domain=domain)


def _default_templates() -> dict[str, str]:
    raw = load_config(default_config_path()).raw
    return dict(((raw.get("mail") or {}).get("templates")) or {})


def mail_settings(config: Config) -> MailSettings:
    """The mail section of config.yaml, checked; problems name the line."""
    mail = config.section("mail")
    smtp = mail.get("smtp") or {}

    def err(msg, mapping, key):
        lines = getattr(mapping, "lines", {})
        return ConfigError(msg, file=config.path, line=lines.get(key))

    s = SmtpSettings()
    s.host = str(smtp.get("host") or s.host)
    try:
        s.port = int(smtp.get("port") or 0) or (465 if smtp.get("security") == "ssl" else 25)
    except (TypeError, ValueError):
        raise err(f"mail.smtp.port 應是數字(如 25、465、587),現在是「{smtp.get('port')}」。",
                  smtp, "port") from None
    s.security = str(smtp.get("security") or "none").strip().lower()
    if s.security not in SECURITY:
        raise err(f"mail.smtp.security 應是 none、starttls 或 ssl,現在是「{s.security}」。",
                  smtp, "security")
    s.user = str(smtp.get("user") or "")
    s.password_env = str(smtp.get("password_env") or s.password_env)
    try:
        s.timeout = float(smtp.get("timeout_seconds") or s.timeout)
    except (TypeError, ValueError):
        raise err("mail.smtp.timeout_seconds 應是秒數。", smtp, "timeout_seconds") from None
    s.ca_file = str(smtp.get("ca_file") or "")
    s.verify = bool(smtp.get("verify", True))

    sender = None
    if mail.get("from"):
        sender = parse_address(str(mail["from"]), default_name=config.office)
        if sender is None:
            raise err(f"mail.from「{mail['from']}」不是有效的郵箱地址(如 "
                      f"\"普陀區依法治區辦 <fzdc@example.gov.cn>\")。", mail, "from")
    reply_to = None
    if mail.get("reply_to"):
        reply_to = parse_address(str(mail["reply_to"]))
        if reply_to is None:
            raise err(f"mail.reply_to「{mail['reply_to']}」不是有效的郵箱地址。", mail, "reply_to")
    bulletin_to, bad = [], []
    raw_to = mail.get("bulletin_to") or []
    for item in (raw_to if isinstance(raw_to, list) else [raw_to]):
        a = parse_address(str(item))
        (bulletin_to.append(a) if a else bad.append(str(item)))
    try:
        retries = max(0, int(mail.get("retries", 3)))
    except (TypeError, ValueError):
        raise err("mail.retries 應是整數。", mail, "retries") from None
    try:
        wait = max(0.0, float(mail.get("retry_wait_seconds", 5)))
    except (TypeError, ValueError):
        raise err("mail.retry_wait_seconds 應是秒數。", mail, "retry_wait_seconds") from None

    templates = _default_templates()
    given = mail.get("templates") or {}
    lines = dict(getattr(given, "lines", {}))
    for k, v in given.items():
        if v is not None:
            templates[k] = str(v)
    return MailSettings(smtp=s, sender=sender, reply_to=reply_to,
                        contact=str(mail.get("contact") or ""), bulletin_to=bulletin_to,
                        bad_bulletin_to=bad, retries=retries, retry_wait=wait,
                        templates=templates, template_lines=lines, config_path=config.path)
