"""Mail: each unit's form, the reminders (催報) and the bulletin (通報) — exactly once,
to the right unit.

One function per action (`send_forms`, `send_reminders`, `send_bulletin`); the CLI and the
Excel ribbon call them. Every action works the same way:

1. plan: find what to send (forms identified by their hidden `_form` metadata, cross-checked
   with the file name; who is missing or rejected from the ledger; the bulletin text), render
   subject and body from config.yaml mail.templates, look up the addresses, and list every
   problem (a unit with no address, a bad file, two forms for one unit) before anything goes;
2. look each message up in the send log (ledger table `sends`, key kind|month|unit|hash of the
   content — for a form its `_form` metadata, for a reminder the day and the text, for the
   bulletin its text): an address that already received the same content is not sent to again;
3. `dry_run_dir`: write the messages as .eml files instead of sending;
4. otherwise ask `confirm(report)` (when given), then send over SMTP, retrying temporary
   failures (server down, 4xx) in rounds, and record every attempt in the send log;
5. return a `MailReport` that says exactly who received what, and what failed and why.
"""
from __future__ import annotations

import base64
import hashlib
import re
import smtplib
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formatdate
from pathlib import Path
from typing import Callable, Iterable

from putuo_xl import layout
from putuo_xl.config import Config, default_config_path, load_config
from putuo_xl.errors import ConfigError, InputError, PutuoError
from putuo_xl.fileio import atomic_write_bytes, lock_files
from putuo_xl.ledger.store import Ledger, ledger_path_for, now_iso, open_ledger
from putuo_xl.text import SIMPLIFIED, TRADITIONAL, cjk_punct, detect_script, in_script, norm_name

KINDS = ("forms", "remind", "bulletin")
KIND_LABELS = {"forms": "月報填報表", "remind": "催報", "bulletin": "通報"}
SECURITY = ("none", "starttls", "ssl")
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
XLSM_TYPE = ("application", "vnd.ms-excel.sheet.macroEnabled.12")
DEFAULT_FILE_NAME = "{month}_{unit}_法治政府建設月報.xlsx"
# The `_form` metadata a sent form is known by (see FormFile.identity).
FORM_IDENTITY_KEYS = ("kind", "unit", "month", "due", "plan_fingerprint", "form_version",
                      "task_ids", "indicator_ids")

# Outcome of one message (Outgoing.status) and how the report names it.
STATUS_LABELS = {
    "planned": "待發送",
    "sent": "已發送",
    "partial": "部分送達",
    "failed": "發送失敗",
    "already_sent": "此前已發送,本次不重發",
    "uncertain": "上次發送中斷、結果不明,本次未發",
    "written": "已寫出預覽(.eml)",
    "cancelled": "已取消,未發送",
}


class MailError(PutuoError):
    """Mail cannot go out as asked (settings, missing input); nothing was sent."""


# -- settings --------------------------------------------------------------------------------
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


class _Values(dict):
    def __init__(self, values, template_key, settings):
        super().__init__(values)
        self.template_key, self.settings = template_key, settings

    def __missing__(self, key):
        raise ConfigError(
            f"郵件模板 mail.templates.{self.template_key} 中的「{{{key}}}」不認識,可用的有:"
            f"{'、'.join('{' + k + '}' for k in self)}。(要寫花括號本身,請寫成 {{{{ 和 }}}}。)",
            file=self.settings.config_path, line=self.settings.template_lines.get(self.template_key))


def render(settings: MailSettings, key: str, values: dict, script: str) -> str:
    """Fill template `key` in the notice's script; an unknown placeholder names the line."""
    template = in_script(settings.templates.get(key, ""), script)
    try:
        return cjk_punct(template.format_map(_Values(values, key, settings)).strip("\n"))
    except (ValueError, IndexError) as e:
        raise ConfigError(f"郵件模板 mail.templates.{key} 的花括號寫法有誤({e})。"
                          f"佔位符寫成 {{month_label}} 這樣,花括號本身寫成 {{{{ 和 }}}}。",
                          file=settings.config_path, line=settings.template_lines.get(key)) from None


def date_label(d: date | str) -> str:
    """date(2020, 9, 5) or '2020-09-05' → '2020年9月5日'."""
    if isinstance(d, str):
        try:
            d = date.fromisoformat(d[:10])
        except ValueError:
            return d
    return f"{d.year}年{d.month}月{d.day}日"


# -- MIME: Chinese that displays everywhere --------------------------------------------------
def _encoded_words(text: str, limit: int = 64) -> list[str]:
    """RFC 2047 'B' encoded words of at most `limit` characters (RFC 2047 allows 75; 64 keeps the
    folded `filename="…` line within 78 columns), split between characters."""
    words, cur = [], ""
    for ch in text:
        if cur and len(base64.b64encode((cur + ch).encode("utf-8"))) + 12 > limit:
            words.append(cur)
            cur = ch
        else:
            cur += ch
    if cur:
        words.append(cur)
    return ["=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words]


def _rfc2231(param: str, text: str, width: int = 60) -> list[str]:
    """`param*=utf-8''…` (RFC 2231), continued in pieces that never split a character."""
    pieces, cur = [], ""
    for ch in text:
        enc = urllib.parse.quote(ch, safe="!#$&+-.^_`|~")
        if cur and len(cur) + len(enc) > width:
            pieces.append(cur)
            cur = enc
        else:
            cur += enc
    pieces.append(cur)
    if len(pieces) == 1:
        return [f"{param}*=utf-8''{pieces[0]}"]
    return [f"{param}*{i}*=" + ("utf-8''" if i == 0 else "") + p for i, p in enumerate(pieces)]


class _MailPolicy(EmailPolicy):
    """The standard SMTP policy, except for attachment names: Content-Disposition gets both the
    RFC 2231 `filename*` (Thunderbird, Apple Mail, webmail) and an RFC 2047 `filename="=?utf-8?…"`,
    Content-Type an RFC 2047 `name=` — what Outlook, Foxmail and the Chinese webmails read."""

    def _attachment_header(self, name, value):
        params = getattr(value, "params", None)
        if not params:
            return None
        lname = name.lower()
        if lname == "content-type" and "name" in params and not str(params["name"]).isascii():
            return (f"{name}: {value.content_type};\r\n name=\""
                    + "\r\n ".join(_encoded_words(str(params["name"]))) + "\"\r\n")
        if lname == "content-disposition" and "filename" in params \
                and not str(params["filename"]).isascii():
            fname = str(params["filename"])
            parts = ([value.content_disposition] + _rfc2231("filename", fname)
                     + ['filename="' + "\r\n ".join(_encoded_words(fname)) + '"'])
            return f"{name}: " + ";\r\n ".join(parts) + "\r\n"
        return None

    def fold(self, name, value):
        s = self._attachment_header(name, value)
        return s.replace("\r\n", self.linesep) if s else super().fold(name, value)

    def fold_binary(self, name, value):
        s = self._attachment_header(name, value)
        if s:
            return s.replace("\r\n", self.linesep).encode("ascii")
        return super().fold_binary(name, value)


MAIL_POLICY = _MailPolicy(linesep="\r\n")


def build_message(sender: Address, to: list[Address], subject: str, body: str, *,
                  attachment: tuple[str, bytes] | None = None, reply_to: Address | None = None,
                  message_id: str | None = None, key: str | None = None,
                  when: datetime | None = None) -> EmailMessage:
    """A MIME message: RFC 2047 headers (subject, display names), a UTF-8 body (base64) and an
    attachment whose Chinese file name shows correctly in common clients."""
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    if reply_to is not None:
        msg["Reply-To"] = reply_to
    msg["Date"] = formatdate((when or datetime.now()).timestamp(), localtime=True)
    msg["Message-ID"] = message_id or f"<{hashlib.sha1(str(time.time_ns()).encode()).hexdigest()[:20]}" \
                                      f"@{sender.domain}>"
    msg["X-Mailer"] = "putuo-xl"
    if key:
        msg["X-Putuo-XL-Key"] = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    body = body.replace("\r\n", "\n")
    if not body.endswith("\n"):
        body += "\n"
    msg.set_content(body, charset="utf-8", cte="base64")
    if attachment is not None:
        fname, data = attachment
        maintype, subtype = XLSM_TYPE if fname.lower().endswith(".xlsm") else XLSX_TYPE
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=fname)
        part = list(msg.iter_attachments())[-1]
        part.set_param("name", fname)
    return msg


# -- the report ----------------------------------------------------------------------------
@dataclass
class Problem:
    """Something found before sending. `blocking`: that unit's message is not sent."""
    code: str                 # no_address | bad_address | bad_file | other_month | duplicate_form
                              # | missing_form | stale_form | changed_form | unknown_unit
                              # | file_open | info
    message: str
    unit: str | None = None
    file: str | None = None
    blocking: bool = True


@dataclass
class Outgoing:
    """One message: its content, its recipients and, after the run, what happened to it."""
    kind: str
    month: str
    unit: str | None
    to: list[Address]
    subject: str
    body: str
    key: str
    attachment_name: str | None = None
    attachment_path: Path | None = None
    attachment_bytes: bytes | None = field(default=None, repr=False)
    situation: str = ""                   # remind: missing | rejected
    status: str = "planned"
    pending: list[str] = field(default_factory=list)     # addresses to send to in this run
    delivered: list[str] = field(default_factory=list)   # accepted by the server in this run
    earlier: dict[str, str] = field(default_factory=dict)    # address → when, sent before
    uncertain: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)    # permanent: address → reason
    failed: dict[str, str] = field(default_factory=dict)     # temporary, retries used up
    attempts: int = 0
    detail: str = ""
    eml: Path | None = None
    message_id: str = ""
    script: str = TRADITIONAL             # the notice's script: display names follow it
    aliases: list[str] = field(default_factory=list)     # older keys that mean the same content

    @property
    def who(self) -> str:
        return self.unit or "、".join(a.display_name or a.addr_spec for a in self.to)

    def addresses(self) -> list[str]:
        return [a.addr_spec for a in self.to]


@dataclass
class MailReport:
    kind: str
    month: str
    ledger: Path | None = None
    dry_run_dir: Path | None = None
    messages: list[Outgoing] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    cancelled: bool = False
    cancel_reason: str = ""
    script: str = TRADITIONAL

    def by_status(self, *statuses: str) -> list[Outgoing]:
        return [m for m in self.messages if m.status in statuses]

    @property
    def to_send(self) -> list[Outgoing]:
        return [m for m in self.messages if m.pending and m.status == "planned"]

    @property
    def failures(self) -> list[Outgoing]:
        """Messages that did not reach every address they were meant for in this run."""
        return self.by_status("failed", "partial")

    @property
    def ok(self) -> bool:
        """Nothing failed and nothing that should have gone was held back."""
        return (not self.cancelled and not self.by_status("failed", "partial", "uncertain")
                and not any(p.blocking for p in self.problems))

    def _s(self, text: str) -> str:
        return in_script(text, self.script)

    def _blocking_lines(self) -> list[str]:
        """Blocking problems, one line each; units without an address on one line together."""
        blocking = [p for p in self.problems if p.blocking]
        no_addr = [p.unit for p in blocking if p.code == "no_address" and p.unit]
        lines = [f"  - {p.message}" for p in blocking
                 if not (p.code == "no_address" and p.unit and len(no_addr) > 1)]
        if len(no_addr) > 1:
            lines.insert(0, self._s(f"  - {len(no_addr)} 個單位在 config.yaml 中沒有填寫郵箱"
                                    f"(units → 單位 → email),不發送:{'、'.join(no_addr)}。"))
        return lines

    def plan_lines(self) -> list[str]:
        """What will happen, shown before anything is sent (and before the confirmation)."""
        label = KIND_LABELS[self.kind]
        out = [self._s(f"{layout.month_label(self.month)} {label}:")]
        blocking = [p for p in self.problems if p.blocking]
        warnings = [p for p in self.problems if not p.blocking]
        if blocking:
            out.append(self._s(f"以下 {len(blocking)} 項不會發送:"))
            out += self._blocking_lines()
        if warnings:
            out.append(self._s("提示:"))
            out += [f"  - {p.message}" for p in warnings]
        for m in self.by_status("already_sent"):
            when = "、".join(sorted(set(m.earlier.values())))
            out.append(self._s(f"  · {m.who}:{when} 已發送過同樣內容,不重發。"))
        for m in self.by_status("uncertain"):
            out.append(self._s(f"  · {m.who}:上次發給 {'、'.join(m.uncertain)} 時中斷,"
                               f"不知道對方是否收到;請先向對方確認,需要時用 --resend-uncertain 重發。"))
        todo = [m for m in self.messages
                if m.pending and m.status in ("planned", "written", "cancelled")]
        if todo:
            head = "預覽(不發送)" if self.dry_run_dir is not None else "將發送"
            out.append(self._s(f"{head} {len(todo)} 封郵件:"))
            for m in todo:
                att = self._s(",附件") + f"「{m.attachment_name}」" if m.attachment_name else ""
                again = self._s("(補發給新地址)") if m.earlier else ""
                out.append(self._s(f"  → {m.who}:") + f"{'、'.join(m.pending)}{again}{att}")
        else:
            out.append(self._s("沒有需要發送的郵件。"))
        return out

    def summary_lines(self) -> list[str]:
        """After the run: exactly who received what, and what failed."""
        s = self._s
        label = KIND_LABELS[self.kind]
        out = []
        if self.dry_run_dir is not None:
            written = self.by_status("written")
            out.append(s(f"預覽:寫出 {len(written)} 封郵件到 ") + str(self.dry_run_dir) + s("(沒有發送)。"))
            out += [f"  {m.eml.name}" for m in written if m.eml]
        elif self.cancelled:
            out.append(s(f"已取消,沒有發送任何郵件。{self.cancel_reason}"))
        sent = self.by_status("sent", "partial")
        if sent:
            out.append(s(f"已發送 {len(sent)} 封{label}:"))
            for m in sent:
                att = s(",附件") + f"「{m.attachment_name}」" if m.attachment_name else ""
                out.append(s(f"  ✓ {m.who} 收到") + f"「{m.subject}」" + s(":")
                           + "、".join(m.delivered) + att)
        failures = self.failures
        if failures:
            out.append(s(f"沒有送達({len(failures)} 封):"))
        for m in failures:
            by_reason: dict[str, list[str]] = {}
            for addr, why in {**m.refused, **m.failed}.items():
                by_reason.setdefault(why, []).append(addr)
            for why, addrs in by_reason.items():
                out.append(s(f"  ✗ {m.who} {'、'.join(addrs)} 沒有收到:{why}"))
            if not by_reason and m.detail:
                out.append(s(f"  ✗ {m.who} 沒有收到:{m.detail}"))
        earlier = self.by_status("already_sent")
        if earlier:
            out.append(s(f"此前已發送、本次未重發 {len(earlier)} 封:"
                         + "、".join(m.who for m in earlier)))
        unc = self.by_status("uncertain")
        if unc:
            out.append(s("上次發送中斷、結果不明、本次未發:" + "、".join(m.who for m in unc)))
        blocking = [p for p in self.problems if p.blocking]
        if blocking:
            out.append(s(f"未發送 {len(blocking)} 項:"))
            out += self._blocking_lines()
        failed = self.by_status("failed")
        if failed:
            out.append(s(f"發送失敗 {len(failed)} 封:" + "、".join(m.who for m in failed) + "。"))
        if failures:
            out.append(s("問題解決後重新運行同一命令即可:已送達的地址不會重發。"))
        if self.ledger is not None and self.dry_run_dir is None:
            out.append(s("發送記錄:") + str(self.ledger))
        return out

    def rows(self) -> list[list[str]]:
        """One row per message and per blocking problem (for a sheet or a ribbon dialog)."""
        s = self._s
        rows = [[s("單位"), s("收件人"), s("狀態"), s("主題"), s("附件"), s("說明")]]
        for m in self.messages:
            why = "; ".join(f"{a}:{r}" for a, r in {**m.refused, **m.failed}.items()) or m.detail
            rows.append([s(m.who), "、".join(m.delivered or m.pending or m.addresses()),
                         s(STATUS_LABELS.get(m.status, m.status)), m.subject,
                         m.attachment_name or "", why])
        for p in self.problems:
            if p.blocking:
                rows.append([s(p.unit or ""), "", s("未發送"), "", p.file or "", p.message])
        return rows


# -- forms: which file is whose ------------------------------------------------------------------
@dataclass
class FormFile:
    path: Path
    unit: str
    month: str
    due: str
    plan_fingerprint: str
    script: str
    meta: dict

    def identity(self) -> str:
        """What makes two forms the same form for the unit: its `_form` metadata without the
        moment and the program that wrote it (`created`, `generator`), so that a form
        regenerated from an unchanged plan (`forms --force`) is the form already sent."""
        return "\n".join(f"{k}={self.unit if k == 'unit' else self.meta.get(k, '')}"
                         for k in FORM_IDENTITY_KEYS)


def _cell_str(v) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_form_meta(path: str | Path) -> tuple[dict[str, str], dict[str, int], list[str]]:
    """The `_form` sheet (key | value, hidden or veryHidden) → (meta, key → row, sheet names)."""
    import python_calamine

    p = Path(path)
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(p))
    except Exception as e:  # noqa: BLE001 - calamine raises several types for bad files
        raise InputError(f"不是能打開的 Excel 文件({type(e).__name__})。請確認它是 .xlsx 格式。",
                         file=p.name, code="bad_file") from None
    names = list(wb.sheet_names)
    if layout.FORM_META_SHEET not in names:
        raise InputError(f"沒有月報的隱藏工作表「{layout.FORM_META_SHEET}」,不是 putuo-xl 生成的"
                         f"月報填報表。請用 putuo-xl forms 重新生成。", file=p.name,
                         sheet=layout.FORM_META_SHEET, code="bad_file")
    meta, rows = {}, {}
    for i, row in enumerate(wb.get_sheet_by_name(layout.FORM_META_SHEET).to_python(), start=1):
        if not row or not _cell_str(row[0]):
            continue
        key = _cell_str(row[0])
        meta[key] = _cell_str(row[1]) if len(row) > 1 else ""
        rows[key] = i
    return meta, rows, names


def _file_name_regex(template: str, month: str) -> re.Pattern | None:
    parts = re.split(r"(\{[a-z_]+\})", norm_name(template))
    if "{unit}" not in parts:
        return None
    rx = ""
    for part in parts:
        if part == "{unit}":
            rx += r"(?P<unit>.+?)"
        elif part == "{month}":
            rx += re.escape(norm_name(month))
        elif part.startswith("{"):
            rx += ".*?"
        else:
            rx += re.escape(part)
    return re.compile(rx + "$", re.IGNORECASE)


def _units_named_in(text: str, config: Config) -> set[str]:
    n = norm_name(text)
    found = set()
    for alias, canonical in config.known_names().items():
        if canonical in config.units and len(alias) >= 2 and alias in n:
            found.add(canonical)
    return found


def identify_form(path: str | Path, config: Config, month: str | None = None) -> FormFile:
    """Whose form is this? From its `_form` metadata (kind, unit, month), cross-checked with the
    file name; raises InputError naming the file, sheet and cell when they disagree."""
    p = Path(path)
    meta, rows, names = read_form_meta(p)
    sheet = layout.FORM_META_SHEET

    def bad(msg, key=None):
        return InputError(msg, file=p.name, sheet=sheet,
                          cell=f"B{rows[key]}" if key in rows else None, code="bad_file")

    if meta.get("kind") != layout.FORM_KIND:
        raise bad(f"元數據 kind 是「{meta.get('kind', '')}」,不是月報填報表({layout.FORM_KIND})。",
                  "kind")
    unit_raw = meta.get("unit", "")
    unit = config.resolve(unit_raw) if unit_raw else None
    if not unit_raw:
        raise bad("元數據中沒有單位(unit)。請用 putuo-xl forms 重新生成這份表。", "unit")
    if unit is None or unit not in config.units:
        err = bad(f"元數據中的單位「{unit_raw}」不在 config.yaml 的單位名錄中。"
                  f"請在 units 下添加它(或它的別名),或重新生成這份表。", "unit")
        err.code, err.unit = "unknown_unit", unit_raw
        raise err
    form_month = meta.get("month", "")
    if not re.fullmatch(r"\d{4}-\d{2}", form_month):
        raise bad(f"元數據中的月份「{form_month}」不是 YYYY-MM 格式。", "month")
    if month and form_month != month:
        raise InputError(f"這是 {layout.month_label(form_month)} 的月報,不是 "
                         f"{layout.month_label(month)} 的。", file=p.name, sheet=sheet,
                         cell=f"B{rows['month']}" if "month" in rows else None, code="other_month")

    # Cross-check with the file name: it must name this unit (and no other) and this month.
    template = config.section("forms").get("file_name") or DEFAULT_FILE_NAME
    rx = _file_name_regex(template, form_month)
    name_n = norm_name(p.name)
    named: set[str] = set()
    m = rx.match(name_n) if rx else None
    if m:
        u = config.resolve(m.group("unit"))
        named = {u} if u else _units_named_in(m.group("unit"), config)
    else:
        named = _units_named_in(p.stem, config)
        other_months = set(re.findall(r"(?<!\d)(\d{4})[-年.](\d{1,2})(?!\d)", p.stem))
        if any(f"{y}-{int(mo):02d}" != form_month for y, mo in other_months):
            raise bad(f"文件名中的月份與表內元數據的月份({form_month})不一致。"
                      f"請改回 putuo-xl forms 生成時的文件名。", "month")
    expected = template.format(month=form_month, unit=unit)
    if unit not in named:
        if named:
            raise bad(f"文件名寫的是「{'、'.join(sorted(named))}」,表內元數據卻是「{unit}」。"
                      f"為避免發錯單位,這份表不發送;請用 putuo-xl forms 重新生成。", "unit")
        raise bad(f"文件名中沒有單位名稱,無法與表內的「{unit}」核對。"
                  f"請把文件名改回「{expected}」。", "unit")
    if len(named) > 1:
        raise bad(f"文件名中出現了多個單位({'、'.join(sorted(named))})。"
                  f"請把文件名改回「{expected}」。", "unit")

    # the notice's script: forms name their sheets in it (月報 / 月报); else a short sample
    if layout.header(layout.FORM_SHEET, SIMPLIFIED) in names:
        script = SIMPLIFIED
    elif layout.header(layout.FORM_SHEET, TRADITIONAL) in names:
        script = TRADITIONAL
    else:
        script = detect_script((p.stem + "".join(n for n in names))[:200])
    return FormFile(path=p, unit=unit, month=form_month, due=meta.get("due", ""),
                    plan_fingerprint=meta.get("plan_fingerprint", ""), script=script, meta=meta)


def _is_candidate(p: Path) -> bool:
    n = p.name
    return (p.is_file() and p.suffix.lower() in (".xlsx", ".xlsm")
            and not n.startswith(("~$", ".~", ".tmp-", "._")))


# -- master and ledger helpers ---------------------------------------------------------------
def master_script(master: str | Path) -> str:
    """The notice's script as the master shows it: its `_meta` script, else its sheet names."""
    import python_calamine

    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(master))
    except Exception:  # noqa: BLE001
        return TRADITIONAL
    names = set(wb.sheet_names)
    if layout.META_SHEET in names:
        for row in wb.get_sheet_by_name(layout.META_SHEET).to_python():
            if row and _cell_str(row[0]) == "script" and len(row) > 1:
                if _cell_str(row[1]) in (TRADITIONAL, SIMPLIFIED):
                    return _cell_str(row[1])
    trad = {layout.name(k, TRADITIONAL) for k in layout.SHEETS}
    simp = {layout.name(k, SIMPLIFIED) for k in layout.SHEETS} - trad
    if names & simp and not names & (trad - simp):
        return SIMPLIFIED
    return TRADITIONAL


def bulletin_for(master: str | Path, month: str, config: Config) -> str:
    """The 通報 text for `month`: `putuo_xl.rollup.bulletin_text(master, month, config)` when the
    rollup provides it, else the text of the master's 通報 sheet (checked to be this month's)."""
    try:
        from putuo_xl.rollup.run import bulletin_text  # type: ignore[attr-defined]
    except ImportError:
        bulletin_text = None
    if bulletin_text is not None:
        text = bulletin_text(master, month, config)
        if not str(text or "").strip():
            raise MailError(f"{layout.month_label(month)}的通報是空的。請先運行 putuo-xl rollup "
                            f"--month {month}。", file=Path(master).name)
        return str(text).strip()
    return bulletin_from_sheet(master, month)


_MONTH_CELL = re.compile(r"(\d{4})\s*(?:年|-|/|\.)\s*(\d{1,2})\s*月?(?:份)?")


def _month_of(value) -> str | None:
    """A 月份 cell as the rollup writes it ('2020年8月'; a date when Excel turned it into one)
    → '2020-08'; None when it is not a month."""
    if isinstance(value, (datetime, date)):
        return f"{value.year:04d}-{value.month:02d}"
    m = _MONTH_CELL.fullmatch(_cell_str(value))
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    return None


@dataclass
class MasterRollup:
    """What the master's rollup sheets say: the month of its latest rollup (the newest month in
    the 月份 column of 月度匯總; None when the master was never rolled up) and the text of its
    通報 sheet, one stripped line per non-empty row (None when it has no 通報 sheet)."""
    month: str | None
    monthly_sheet: str | None
    bulletin_lines: list[str] | None


def read_master_rollup(master: str | Path) -> MasterRollup:
    """The master's own record of its latest rollup (see `MasterRollup`), read with calamine."""
    import python_calamine

    p = Path(master)
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(p))
    except Exception:  # noqa: BLE001 - calamine raises several types for bad files
        from putuo_xl.workbook.filekind import not_workbook_message
        raise MailError(not_workbook_message(p), file=p.name) from None

    def find(key):
        want = norm_name(layout.SHEETS[key])
        return next((n for n in wb.sheet_names if norm_name(n) == want), None)

    monthly, month = find("monthly"), None
    if monthly is not None:
        col = None
        for row in wb.get_sheet_by_name(monthly).to_python():
            if col is None:
                cells = [_cell_str(c) for c in row]
                col = cells.index("月份") if "月份" in cells else None
                continue
            m = _month_of(row[col]) if col < len(row) else None
            if m and (month is None or m > month):
                month = m
    lines = None
    bulletin = find("bulletin")
    if bulletin is not None:
        lines = []
        for row in wb.get_sheet_by_name(bulletin).to_python():
            cells = [layout.month_label(_month_of(c)) if isinstance(c, (datetime, date))
                     else _cell_str(c) for c in row]
            line = " ".join(c for c in cells if c).strip()
            if line:
                lines.append(line)
    return MasterRollup(month=month, monthly_sheet=monthly, bulletin_lines=lines)


def check_master_rollup(master: str | Path, month: str, text: str | None = None,
                        script: str = TRADITIONAL) -> MasterRollup:
    """Refuse (MailError) to send `month`'s bulletin with a master whose 工作報表 are not
    `month`'s: never rolled up, last rolled up to another month, or — when `text`, the bulletin
    computed from the ledger now, is given — rolled up before the ledger last changed (its 通報
    sheet does not say `text`)."""
    p = Path(master)
    info = read_master_rollup(p)
    label = layout.month_label(month)
    run = f"請先在台賬中按「刷新匯總」(或運行 putuo-xl rollup --month {month})"
    sheet = layout.name("monthly", script)
    if info.month is None:
        raise MailError(in_script(
            f"主表還沒有刷新匯總,裡面沒有{label}的工作報表(「{sheet}」工作表),通報沒有發送。"
            f"{run},再發送通報。", script), file=p.name, sheet=info.monthly_sheet,
            code="not_rolled_up")
    if info.month != month:
        latest = layout.month_label(info.month)
        raise MailError(in_script(
            f"主表中的工作報表是{latest}的(最近一次匯總),與要發送的{label}通報不是同一個月,"
            f"通報沒有發送。要發{label}的通報,{run};要發{latest}的通報,請用 --month "
            f"{info.month}。", script), file=p.name, sheet=info.monthly_sheet, code="other_month")
    if text is not None:
        want = [line.strip() for line in text.split("\n") if line.strip()]
        have = info.bulletin_lines or []
        at = have.index(want[0]) if want and want[0] in have else -1
        if at < 0 or have[at:at + len(want)] != want:
            raise MailError(in_script(
                f"主表中{label}的工作報表與按台賬現在的數據算出的通報不一致(匯總之後又收到或"
                f"退回了回報,過了報送截止日期,或改了 config.yaml),附件和郵件正文會對不上,通報沒有發送。{run},"
                f"再發送通報。", script), file=p.name, sheet=layout.name("bulletin", script),
                code="stale_rollup")
    return info


def bulletin_from_sheet(master: str | Path, month: str) -> str:
    """The text of the master's 通報 sheet (either script), one paragraph a row; it must name
    `month` (2020年8月, 2020-08 …), so that last month's bulletin is never sent by mistake."""
    import python_calamine

    p = Path(master)
    if not p.exists():
        raise MailError("找不到主表文件。", file=str(p))
    wb = python_calamine.CalamineWorkbook.from_path(str(p))
    want = norm_name(layout.SHEETS["bulletin"])
    sheet = next((n for n in wb.sheet_names if norm_name(n) == want), None)
    if sheet is None:
        raise MailError(f"主表中沒有「{layout.SHEETS['bulletin']}」工作表。請先運行 putuo-xl rollup "
                        f"--month {month} 生成工作報表和通報。", file=p.name)
    lines: list[str] = []
    for row in wb.get_sheet_by_name(sheet).to_python():
        cells = [_cell_str(c) for c in row if _cell_str(c)]
        line = " ".join(cells)
        if line or (lines and lines[-1]):
            lines.append(line)
    text = "\n".join(lines).strip()
    if not text:
        raise MailError(f"「{sheet}」工作表是空的。請先運行 putuo-xl rollup --month {month}。",
                        file=p.name, sheet=sheet)
    y, m = month.split("-")
    marks = [f"{int(y)}年{int(m)}月", f"{y}年{m}月", month, f"{y}.{m}", f"{int(y)}年{int(m)}月份"]
    if not any(mark in text for mark in marks):
        raise MailError(f"「{sheet}」工作表沒有提到{layout.month_label(month)},不像是這個月的通報。"
                        f"請先運行 putuo-xl rollup --month {month} 刷新後再發送。",
                        file=p.name, sheet=sheet, code="other_month")
    return text


def _open_given_ledger(ledger) -> Ledger:
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
        names = {x.name for x in d.iterdir() if _is_candidate(x)}
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


# -- the send log --------------------------------------------------------------------------
def _log_insert(ledger: Ledger, m: Outgoing, rcpts: Iterable[str], status: str, detail: str = "",
                attempts: int = 1) -> int:
    cur = ledger.conn.execute(
        "INSERT INTO sends(key, kind, month, unit, recipients, subject, attachment, status, detail,"
        " attempts, at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (m.key, m.kind, m.month, m.unit, ",".join(rcpts), m.subject, m.attachment_name, status,
         detail, attempts, now_iso()))
    return int(cur.lastrowid)


def _log_update(ledger: Ledger, row_id: int, status: str, rcpts: Iterable[str] | None = None,
                detail: str = "") -> None:
    if rcpts is None:
        ledger.conn.execute("UPDATE sends SET status=?, detail=?, at=? WHERE id=?",
                            (status, detail, now_iso(), row_id))
    else:
        ledger.conn.execute("UPDATE sends SET status=?, recipients=?, detail=?, at=? WHERE id=?",
                            (status, ",".join(rcpts), detail, now_iso(), row_id))


def _check_log(ledger: Ledger | None, m: Outgoing, resend: bool, resend_uncertain: bool) -> None:
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
            elif row["status"] == "pending":
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


# -- SMTP ----------------------------------------------------------------------------------
class _Fatal(Exception):
    """A failure that stops the whole run (login refused, TLS, server refuses the sender)."""


class _Transient(Exception):
    """A failure worth retrying for every message (server down, disconnected)."""


def _code_text(code, msg) -> str:
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


class _Connection:
    def __init__(self, settings: SmtpSettings, password: str | None):
        self.s, self.password = settings, password
        self.smtp: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        try:
            ctx = ssl.create_default_context(cafile=self.s.ca_file or None)
        except (OSError, ssl.SSLError) as e:
            raise _Fatal(f"讀不了 mail.smtp.ca_file「{self.s.ca_file}」({e})。") from None
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
                conn = smtplib.SMTP_SSL(s.host, s.port, local_hostname=local, timeout=s.timeout,
                                        context=self._context())
            else:
                conn = smtplib.SMTP(s.host, s.port, local_hostname=local, timeout=s.timeout)
            try:
                conn.ehlo()
                if s.security == "starttls":
                    if not conn.has_extn("starttls"):
                        raise _Fatal(f"郵件服務器 {where} 不支持 STARTTLS。請把 mail.smtp.security "
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
        except _Fatal:
            raise
        except smtplib.SMTPAuthenticationError as e:
            raise _Fatal(f"郵件服務器拒絕登錄(用戶 {s.user}):{_code_text(e.smtp_code, e.smtp_error)}。"
                         f"請檢查 mail.smtp.user 和密碼。") from None
        except smtplib.SMTPNotSupportedError as e:
            raise _Fatal(f"郵件服務器 {where} 不支持所需的功能({e})。如需登錄,請先用 starttls 或 ssl。"
                         ) from None
        except ssl.SSLCertVerificationError as e:
            raise _Fatal(f"郵件服務器 {where} 的證書未通過驗證({e.verify_message})。若是內網自簽證書,"
                         f"請把證書文件填到 mail.smtp.ca_file。") from None
        except ssl.SSLError as e:
            raise _Fatal(f"與郵件服務器 {where} 建立加密連接失敗({e.reason or e})。請檢查 "
                         f"mail.smtp.security(ssl 用 465 端口,starttls 用 587 或 25)。") from None
        except smtplib.SMTPResponseException as e:
            text = _code_text(e.smtp_code, e.smtp_error)
            if 400 <= e.smtp_code < 500:
                raise _Transient(f"郵件服務器 {where} 暫時拒絕連接:{text}") from None
            raise _Fatal(f"郵件服務器 {where} 拒絕連接:{text}") from None
        except ConnectionRefusedError:
            raise _Transient(f"無法連接郵件服務器 {where}(連接被拒絕,服務器沒有運行或端口不對)") from None
        except (socket.timeout, TimeoutError):
            raise _Transient(f"連接郵件服務器 {where} 超時") from None
        except socket.gaierror:
            raise _Transient(f"找不到郵件服務器 {s.host}(域名解析失敗)") from None
        except (smtplib.SMTPException, OSError) as e:
            raise _Transient(f"無法連接郵件服務器 {where}({type(e).__name__}: {e})") from None
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


def _attempt(conn: _Connection, ledger: Ledger | None, m: Outgoing, sender: str, data: bytes,
             rcpts: list[str]) -> dict[str, tuple[bool, str]]:
    """One SMTP transaction to `rcpts`. Returns the addresses not delivered: addr → (temporary?,
    reason). Raises _Transient/_Fatal for connection-wide failures."""
    smtp = conn.open()
    m.attempts += 1
    row = _log_insert(ledger, m, rcpts, "pending", attempts=m.attempts) if ledger else None
    undelivered: dict[str, tuple[bool, str]] = {}
    try:
        refused = smtp.sendmail(sender, rcpts, data)
    except smtplib.SMTPRecipientsRefused as e:
        refused = e.recipients
    except smtplib.SMTPSenderRefused as e:
        text = _code_text(e.smtp_code, e.smtp_error)
        if row:
            _log_update(ledger, row, "failed", detail=f"發件人被拒絕:{text}")
        if 400 <= e.smtp_code < 500:
            return {r: (True, f"服務器暫時不接收:{text}") for r in rcpts}
        raise _Fatal(f"郵件服務器拒絕發件人 {sender}:{text}。請檢查 mail.from 和登錄用戶。") from None
    except smtplib.SMTPDataError as e:
        text = _code_text(e.smtp_code, e.smtp_error)
        temporary = 400 <= e.smtp_code < 500
        if row:
            _log_update(ledger, row, "failed" if temporary else "refused", detail=text)
        return {r: (temporary, f"服務器{'暫時' if temporary else ''}拒收這封郵件:{text}") for r in rcpts}
    except smtplib.SMTPResponseException as e:
        text = _code_text(e.smtp_code, e.smtp_error)
        conn.drop()
        temporary = 400 <= e.smtp_code < 500
        if row:
            _log_update(ledger, row, "failed", detail=text)
        return {r: (temporary, text) for r in rcpts}
    except (smtplib.SMTPServerDisconnected, OSError) as e:
        conn.drop()
        if row:
            _log_update(ledger, row, "failed", detail=f"連接中斷:{e}")
        return {r: (True, f"與服務器的連接中斷({type(e).__name__})") for r in rcpts}
    lower = {k.lower(): v for k, v in refused.items()}
    for r in rcpts:
        if r.lower() in lower:
            code, msg = lower[r.lower()]
            text = _code_text(code, msg)
            temporary = 400 <= int(code) < 500
            undelivered[r] = (temporary, f"{'暫時' if temporary else ''}拒收這個地址:{text}")
    delivered = [r for r in rcpts if r not in undelivered]
    if row:
        if delivered:
            _log_update(ledger, row, "sent", delivered)
            for r, (temporary, why) in undelivered.items():
                _log_insert(ledger, m, [r], "failed" if temporary else "refused", why, m.attempts)
        else:
            perm = all(not t for t, _ in undelivered.values())
            _log_update(ledger, row, "refused" if perm else "failed",
                        detail="; ".join(f"{r}: {w}" for r, (_, w) in undelivered.items()))
    m.delivered += delivered
    return undelivered


def _deliver(report: MailReport, settings: MailSettings, ledger: Ledger | None, password: str | None,
             sleep: Callable[[float], None]) -> None:
    assert settings.sender is not None
    sender = settings.sender.addr_spec
    conn = _Connection(settings.smtp, password)
    data = {id(m): _as_bytes(m, settings) for m in report.to_send}
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
                except _Transient as e:
                    # the server cannot be reached: every message left waits for the next round
                    for m2, r2 in queue[i:]:
                        last_error[id(m2)] = {r: str(e) for r in r2}
                        unlogged.add(id(m2))
                        retry.append((m2, r2))
                    break
                except _Fatal as e:
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
            _log_insert(ledger, m, rcpts, "failed", fatal or next(iter(why.values()), ""),
                        max(m.attempts, 1))
    for m in report.to_send:
        if m.delivered and (m.failed or m.refused):
            m.status = "partial"
        elif m.delivered:
            m.status = "sent"
        else:
            m.status = "failed"
            m.detail = fatal or next(iter({**m.refused, **m.failed}.values()), "")


def _in_script_address(a: Address | None, script: str) -> Address | None:
    """The display name in the notice's script (config.yaml is written in traditional)."""
    if a is None or not a.display_name:
        return a
    return Address(display_name=in_script(a.display_name, script), username=a.username,
                   domain=a.domain)


def _as_bytes(m: Outgoing, settings: MailSettings) -> bytes:
    assert settings.sender is not None
    att = (m.attachment_name, m.attachment_bytes) if m.attachment_name else None
    msg = build_message(_in_script_address(settings.sender, m.script),
                        [_in_script_address(a, m.script) for a in m.to], m.subject, m.body,
                        attachment=att, reply_to=_in_script_address(settings.reply_to, m.script),
                        message_id=m.message_id, key=m.key)
    return msg.as_bytes()


def _password(settings: MailSettings, password_prompt: Callable[[], str] | None) -> str | None:
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


def _eml_name(m: Outgoing) -> str:
    """「2020-08_月報填報表_六橫鎮.eml」, in the message's script."""
    label = in_script(KIND_LABELS[m.kind], m.script)
    if not m.unit:
        return f"{m.month}_{label}.eml"
    who = re.sub(r'[\\/:*?"<>|\s]+', "_", in_script(m.unit, m.script))
    return f"{m.month}_{label}_{who}.eml"


def _run(report: MailReport, settings: MailSettings, ledger: Ledger | None, *,
         dry_run_dir, confirm, password_prompt, sleep, resend, resend_uncertain,
         stop_if_missing) -> MailReport:
    if settings.sender is None:
        raise MailError("config.yaml 的 mail.from 沒有填寫發件郵箱(如 \"普陀區依法治區辦 "
                        "<fzdc@example.gov.cn>\")。", file=settings.config_path)
    domain = settings.sender.domain
    for m in report.messages:
        # One Message-ID per content: a copy that arrives twice (a resend after an interrupted
        # run) is shown once by clients that deduplicate. A deliberate resend gets a new one.
        mid = hashlib.sha256(m.key.encode("utf-8")).hexdigest()[:24]
        if resend:
            mid += "." + hashlib.sha1(str(time.time_ns()).encode()).hexdigest()[:8]
        m.message_id = f"<{mid}.{m.kind}@{domain}>"
        _check_log(ledger, m, resend, resend_uncertain)
    if dry_run_dir is not None:
        out = Path(dry_run_dir)
        out.mkdir(parents=True, exist_ok=True)
        report.dry_run_dir = out
        for m in report.to_send:
            m.eml = atomic_write_bytes(out / _eml_name(m), _as_bytes(m, settings), check_open=False)
            m.status = "written"
        return report
    if not report.to_send:
        return report
    if stop_if_missing and any(p.blocking for p in report.problems):
        report.cancelled = True
        report.cancel_reason = in_script("有單位不能發送(見上),按要求全部不發。", report.script)
        for m in report.to_send:
            m.status = "cancelled"
        return report
    needs_password = bool(settings.smtp.user)
    if needs_password and password_prompt is None:
        _password(settings, None)           # fail before asking for confirmation
    if confirm is not None and not confirm(report):
        report.cancelled = True
        for m in report.to_send:
            m.status = "cancelled"
        return report
    password = _password(settings, password_prompt)
    _deliver(report, settings, ledger, password, sleep)
    return report


def _load(config) -> Config:
    if isinstance(config, Config):
        return config
    return load_config(config)


def _sha(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]


def _unit_addresses(config: Config, unit: str, report: MailReport, file: str | None = None,
                    script: str | None = None) -> list[Address]:
    """The unit's addresses from config.yaml, named by its full name in `script` (default: the
    report's); bad or missing addresses become problems."""
    u = config.units.get(unit)
    display = in_script((u.full_name or u.name) if u else unit, script or report.script)
    good, bad = [], []
    for raw in (u.email if u else []):
        a = parse_address(raw, default_name=display)
        (good.append(a) if a else bad.append(raw))
    if bad:
        report.problems.append(Problem(
            "bad_address", in_script(f"{unit}:郵箱「{'、'.join(bad)}」格式不對,"
                                     f"{'只發給其餘地址' if good else '沒有可用地址,不發送'}。"
                                     f"請改正 config.yaml 中 {unit} 的 email。", report.script),
            unit=unit, file=file, blocking=not good))
    if not good and not bad:
        report.problems.append(Problem(
            "no_address", in_script(f"{unit}:config.yaml 中沒有填寫郵箱(units → {unit} → email),"
                                    f"不發送。", report.script), unit=unit, file=file))
    return good


def _common_values(config: Config, settings: MailSettings, month: str, today: date,
                   script: str) -> dict[str, str]:
    return {"district": in_script(config.district, script), "office": in_script(config.office, script),
            "contact": in_script(settings.contact, script), "month": month, "month_label": layout.month_label(month),
            "today_label": date_label(today)}


def _unit_values(config: Config, unit: str, script: str) -> dict[str, str]:
    u = config.units.get(unit)
    return {"unit": in_script(unit, script),
            "unit_full": in_script((u.full_name or u.name) if u else unit, script)}


# -- the three actions -----------------------------------------------------------------------
def send_forms(forms_dir: str | Path, month: str, config: Config | str | Path | None = None, *,
               ledger: Ledger | str | Path | None = None, master: str | Path | None = None,
               dry_run_dir: str | Path | None = None,
               confirm: Callable[[MailReport], bool] | None = None,
               password_prompt: Callable[[], str] | None = None,
               sleep: Callable[[float], None] = time.sleep, today: date | None = None,
               resend: bool = False, resend_uncertain: bool = False,
               stop_if_missing: bool = False, units: Iterable[str] | None = None) -> MailReport:
    """Mail each unit its own form for `month` from `forms_dir`.

    A form's unit comes from its hidden `_form` metadata, cross-checked with the file name; a
    file that cannot be identified, two forms for one unit, or a unit without an address is
    reported and not sent, the rest go. The send log is `ledger`, else the ledger of `master`,
    else the master ledger found in or above `forms_dir` (see `ledger_for_forms`).

    A form is known by its metadata (`FormFile.identity`), not by its bytes: regenerating an
    unchanged form sends nothing. A unit that already received a different form this month is
    held back with a line saying so; `resend` sends it. `units` limits the run to those units
    (names or aliases from config.yaml)."""
    cfg = _load(config)
    settings = mail_settings(cfg)
    today = today or date.today()
    d = Path(forms_dir)
    if not d.is_dir():
        raise MailError("找不到月報文件夾。", file=str(d))
    _check_month(month)
    only = _only_units(cfg, units)
    report = MailReport(kind="forms", month=month)
    forms: dict[str, list[FormFile]] = {}
    scripts, bad_files = [], []
    for p in sorted(x for x in d.iterdir() if _is_candidate(x)):
        try:
            f = identify_form(p, cfg, month)
        except InputError as e:
            bad_files.append((p, e))
            continue
        if only is not None and f.unit not in only:
            continue
        forms.setdefault(f.unit, []).append(f)
        scripts.append(f.script)
    report.script = max(set(scripts), key=scripts.count) if scripts else TRADITIONAL
    present = set()          # issued files that are there but cannot go (already reported)
    for p, e in bad_files:
        unit_raw = getattr(e, "unit", None)
        present.add(p.name)
        if only is not None and not _units_named_in(p.stem, cfg) & only:
            continue              # not a file of the units asked for
        if e.code == "unknown_unit":
            report.problems.append(Problem("unknown_unit", in_script(
                f"{unit_raw}:不在 config.yaml 的單位名錄中,沒有郵箱,它的月報「{p.name}」不發送。"
                f"請在 config.yaml 的 units 下添加這個單位並填寫 email(若它是已有單位的另一種寫法,"
                f"把它加到那個單位的 aliases 中,並重新生成月報),然後重新運行。", report.script),
                unit=unit_raw, file=p.name))
            continue
        other = e.code == "other_month"
        report.problems.append(Problem(e.code, in_script(f"{e}" + ("(跳過)" if other else "(不發送)"),
                                                         report.script),
                                       file=p.name, blocking=not other))

    if ledger is None and master is not None:
        ledger = ledger_path_for(master, cfg.section("collect").get("ledger_name")
                                 or "{master_stem}.ledger.sqlite")
    if ledger is not None:
        lg = _open_given_ledger(ledger)
    else:
        path = ledger_for_forms(d, cfg, month)
        # a dry run leaves no trace: it reads an existing send log but creates none
        lg = Ledger(path) if (path.exists() or dry_run_dir is None) else None
    report.ledger = lg.path if lg is not None else None
    try:
        issued: dict[str, list] = {}
        for row in (lg.issued(month) if lg is not None else []):
            if only is None or row["unit"] in only:
                issued.setdefault(row["unit"], []).append(row)
        for unit, rows in sorted(issued.items(), key=lambda kv: list(cfg.units).index(kv[0])
                                 if kv[0] in cfg.units else len(cfg.units)):
            if unit not in forms and not {r["file_name"] for r in rows} & present:
                report.problems.append(Problem(
                    "missing_form", in_script(f"{unit}:台賬記錄已生成 {layout.month_label(month)} "
                                              f"的月報「{rows[-1]['file_name']}」,但文件夾中沒有找到,"
                                              f"沒有發送。", report.script), unit=unit))
        if not forms:
            if not report.problems:
                report.problems.append(Problem("missing_form", in_script(
                    f"文件夾 {d} 中沒有 {layout.month_label(month)} 的月報填報表。請先運行 "
                    f"putuo-xl forms。", report.script)))
        order = {u: i for i, u in enumerate(cfg.units)}
        for unit, files in sorted(forms.items(), key=lambda kv: order.get(kv[0], len(order))):
            if len(files) > 1:
                report.problems.append(Problem("duplicate_form", in_script(
                    f"{unit}:文件夾中有 {len(files)} 份這個月的月報("
                    f"{'、'.join(f.path.name for f in files)}),不知道該發哪一份,都不發送。"
                    f"請只保留一份。", report.script), unit=unit))
                continue
            f = files[0]
            rows = issued.get(unit, [])
            if rows and f.plan_fingerprint:
                # rows come in ledger order: on equal times (seconds) the later row is the latest
                latest = max(enumerate(rows), key=lambda ir: (ir[1]["created_at"], ir[0]))[1]
                if f.plan_fingerprint not in {r["plan_fingerprint"] for r in rows}:
                    report.problems.append(Problem("stale_form", in_script(
                        f"{unit}:「{f.path.name}」不是台賬記錄中生成的月報(任務版本不同),不發送。"
                        f"請用 putuo-xl forms 重新生成。", report.script), unit=unit, file=f.path.name))
                    continue
                if latest["plan_fingerprint"] != f.plan_fingerprint:
                    report.problems.append(Problem("stale_form", in_script(
                        f"{unit}:「{f.path.name}」是舊版本的月報,之後已按修改後的任務重新生成過,"
                        f"不發送。請用 putuo-xl forms 重新生成後再發。", report.script),
                        unit=unit, file=f.path.name))
                    continue
            to = _unit_addresses(cfg, unit, report, f.path.name, f.script)
            if not to:
                continue
            data = f.path.read_bytes()
            key = f"forms|{month}|{unit}|{_sha(f.identity())}"
            if not resend and _held_as_changed(lg, report, f, key, data):
                continue
            values = {**_common_values(cfg, settings, month, today, f.script),
                      **_unit_values(cfg, unit, f.script),
                      "due_label": date_label(f.due) if f.due else "", "file_name": f.path.name}
            report.messages.append(Outgoing(
                kind="forms", month=month, unit=unit, to=to,
                subject=render(settings, "forms_subject", values, f.script),
                body=render(settings, "forms_body", values, f.script),
                key=key, aliases=[_legacy_forms_key(month, unit, data)],
                attachment_name=f.path.name, attachment_path=f.path, attachment_bytes=data,
                script=f.script))
        return _run(report, settings, lg, dry_run_dir=dry_run_dir, confirm=confirm,
                    password_prompt=password_prompt, sleep=sleep, resend=resend,
                    resend_uncertain=resend_uncertain, stop_if_missing=stop_if_missing)
    finally:
        if lg is not None and not isinstance(ledger, Ledger):
            lg.close()


def _only_units(cfg: Config, units: Iterable[str] | None) -> set[str] | None:
    """`units` as config names (aliases and either script accepted); None: every unit."""
    if units is None:
        return None
    out = set()
    for name in units:
        canonical = cfg.resolve(str(name))
        if canonical in cfg.groups:
            out.update(cfg.expand(canonical))
        elif canonical in cfg.units:
            out.add(canonical)
        else:
            raise MailError(f"不認識的單位「{name}」。請寫 config.yaml 中的單位名稱(或它的別名)。")
    return out


def _arg(path: Path) -> str:
    """A path as one command-line argument."""
    text = str(path)
    return f'"{text}"' if re.search(r"\s", text) else text


def _legacy_forms_key(month: str, unit: str, data: bytes) -> str:
    """The key the send log used before forms were known by their metadata (the file's bytes):
    a form sent then and unchanged since counts as sent."""
    return f"forms|{month}|{unit}|{_sha(data)}"


def _held_as_changed(lg: Ledger | None, report: MailReport, f: FormFile, key: str,
                     data: bytes) -> bool:
    """A unit that already received a different form for the month: not sent again on its own
    (the unit may be filling in the first one); one line says so and how to send it. True when
    held back."""
    if lg is None:
        return False
    last = lg.conn.execute(
        "SELECT key, attachment, at FROM sends WHERE kind='forms' AND month=? AND unit=? "
        "AND status='sent' ORDER BY id DESC LIMIT 1", (f.month, f.unit)).fetchone()
    if last is None or last["key"] in (key, _legacy_forms_key(f.month, f.unit, data)):
        return False
    when = last["at"][:16].replace("T", " ")
    report.problems.append(Problem("changed_form", in_script(
        f"{f.unit}:{when} 已經收到過本月的另一份月報(「{last['attachment']}」),文件夾中的"
        f"「{f.path.name}」與它不同(任務、指標、截止日期或版本有變化),沒有發送,以免該單位"
        f"填錯版本。確認要讓它改填新的這份,請重新發送給它:putuo-xl mail forms ", report.script)
        + _arg(f.path.parent) + f" --month {f.month} --resend --unit "
        + in_script(f.unit, report.script), unit=f.unit, file=f.path.name))
    return True


def _unsigned_if_signed(text: str, settings: MailSettings, office: str) -> str:
    """The bulletin text for the body. The rollup's 通報 ends with its signature (the office, the
    month); a bulletin_body template that signs the e-mail itself after {bulletin} (as config.yaml
    files copied from earlier versions do) gets the text without it: the e-mail is signed once."""
    template = settings.templates.get("bulletin_body", "")
    after = template.split("{bulletin}", 1)[1] if "{bulletin}" in template else ""
    if "{office}" not in after:
        return text
    lines = text.rstrip().split("\n")
    if len(lines) >= 2 and office and lines[-2].strip() == office and _month_of(lines[-1].strip()):
        return "\n".join(lines[:-2]).rstrip()
    return text


def _check_month(month: str) -> None:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month or ""):
        raise MailError(f"月份「{month}」應寫成 YYYY-MM,如 2020-08。")


def _ledger_of_master(master: str | Path, config: Config, ledger) -> Ledger:
    if ledger is not None:
        return _open_given_ledger(ledger)
    template = config.section("collect").get("ledger_name") or "{master_stem}.ledger.sqlite"
    path = ledger_path_for(master, template)
    if not path.exists():
        raise MailError(f"找不到台賬文件 {path.name}(應在主表旁邊)。請先用 putuo-xl forms 生成月報、"
                        f"用 putuo-xl collect 收集回報。", file=str(path))
    return open_ledger(master, config)


def send_reminders(master: str | Path, month: str, config: Config | str | Path | None = None, *,
                   ledger: Ledger | str | Path | None = None, dry_run_dir: str | Path | None = None,
                   confirm: Callable[[MailReport], bool] | None = None,
                   password_prompt: Callable[[], str] | None = None,
                   sleep: Callable[[float], None] = time.sleep, today: date | None = None,
                   resend: bool = False, resend_uncertain: bool = False,
                   stop_if_missing: bool = False, forms_dir: str | Path | None = None
                   ) -> MailReport:
    """A 催報 to every unit whose `month` form is missing (issued, no accepted submission in
    force) or was rejected (with the collector's reason). At most one reminder per unit, day and
    situation: re-running the same day sends nothing twice.

    A unit that has not reported gets its blank form again, attached, when it is found in
    `forms_dir` (default: the forms folder beside the master) and its `_form` metadata confirms
    the unit and the month."""
    cfg = _load(config)
    settings = mail_settings(cfg)
    today = today or date.today()
    _check_month(month)
    lg = _ledger_of_master(master, cfg, ledger)
    script = master_script(master) if Path(master).exists() else TRADITIONAL
    report = MailReport(kind="remind", month=month, ledger=lg.path, script=script)
    try:
        issued: dict[str, object] = {}
        for row in lg.issued(month):
            cur = issued.get(row["unit"])
            if cur is None or row["created_at"] >= cur["created_at"]:
                issued[row["unit"]] = row
        # who has reported, whose files were rejected: status.month_status, the rule collect's
        # 收件情況 and the rollup use (rejections of the month's collect runs, by arrival)
        from putuo_xl.ledger.status import month_status
        ms = month_status(lg, month, cfg, today=today)
        accepted = {u for u, um in ms.units.items() if um.reported}
        rejected: dict[str, object] = {}
        for u, um in ms.units.items():
            if um.rejections:
                rejected[u] = _row_by_id(lg, um.latest_rejection.id)
        unknown = [_row_by_id(lg, f.id) for f in ms.unassigned]
        if not issued and not rejected:
            raise MailError(f"台賬中沒有 {layout.month_label(month)} 的月報發放記錄。請先用 "
                            f"putuo-xl forms --month {month} 生成月報。", file=str(lg.path))
        if unknown:
            report.problems.append(Problem("info", in_script(
                f"另有 {len(unknown)} 份退回的文件認不出是哪個單位的("
                f"{'、'.join(r['file_name'] for r in unknown[:5])}{'…' if len(unknown) > 5 else ''}),"
                f"無法催報,請查看「收件情況」。", script), blocking=False))
        order = {u: i for i, u in enumerate(cfg.units)}
        units = sorted(set(issued) | set(rejected), key=lambda u: (order.get(u, len(order)), u))
        for unit in units:
            if unit in accepted:
                continue
            if unit not in cfg.units:
                report.problems.append(Problem("unknown_unit", in_script(
                    f"{unit}:不在 config.yaml 的單位名錄中,沒有郵箱,無法催報。", script), unit=unit))
                continue
            row = issued.get(unit)
            due = row["due"] if row is not None else ""
            if not due:
                due = ms.units[unit].due.isoformat() if unit in ms.units else _default_due(month, cfg)
            values = {**_common_values(cfg, settings, month, today, script),
                      **_unit_values(cfg, unit, script), "due_label": date_label(due)}
            rej = rejected.get(unit)
            if rej is not None:
                reason = (rej["reason"] or rej["reason_code"] or "").strip()
                if reason and reason[-1] not in "。.!!??":
                    reason += "。"
                when = (rej["received_at"] or rej["collected_at"] or "")[:10]
                situation = render(settings, "remind_rejected", {
                    **values, "file_name": rej["file_name"], "reason": reason,
                    "received_label": date_label(when) if when else ""}, script)
                kind_of = "rejected"
            else:
                situation = render(settings, "remind_missing", values, script)
                kind_of = "missing"
            values["situation"] = situation
            body = render(settings, "remind_body", values, script)
            to = _unit_addresses(cfg, unit, report)
            if not to:
                continue
            form = _reminder_form(master, month, cfg, unit, row, forms_dir, script) \
                if kind_of == "missing" else None
            report.messages.append(Outgoing(
                kind="remind", month=month, unit=unit, to=to,
                subject=render(settings, "remind_subject", values, script), body=body,
                key=f"remind|{month}|{unit}|{_sha(today.isoformat() + '|' + body)}",
                situation=kind_of, attachment_name=form.name if form else None,
                attachment_path=form, attachment_bytes=form.read_bytes() if form else None,
                script=script))
        return _run(report, settings, lg, dry_run_dir=dry_run_dir, confirm=confirm,
                    password_prompt=password_prompt, sleep=sleep, resend=resend,
                    resend_uncertain=resend_uncertain, stop_if_missing=stop_if_missing)
    finally:
        if not isinstance(ledger, Ledger):
            lg.close()


def _reminder_form(master, month: str, cfg: Config, unit: str, issued_row, forms_dir,
                   script: str) -> Path | None:
    """The unit's form for `month` to attach to a reminder: the file the ledger says was issued,
    in `forms_dir` or the forms folder beside the master, if its metadata confirms the unit and
    the month. None when there is no such file (the reminder then goes without it)."""
    if issued_row is None:
        return None
    from putuo_xl.workbook.forms import default_forms_dir

    folder = Path(forms_dir) if forms_dir else default_forms_dir(master, month, script)
    path = folder / issued_row["file_name"]
    if not path.is_file():
        return None
    try:
        f = identify_form(path, cfg, month)
    except InputError:
        return None
    ok = f.unit == unit and f.plan_fingerprint == issued_row["plan_fingerprint"]
    return path if ok else None


def _row_by_id(lg: Ledger, sid: int):
    return lg.conn.execute("SELECT * FROM submissions WHERE id = ?", (sid,)).fetchone()


def _default_due(month: str, config: Config) -> str:
    y, m = (int(x) for x in month.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    day = int(config.section("forms").get("due_day") or 5)
    return date(y, m, min(day, 28)).isoformat()


def send_bulletin(master: str | Path, month: str, config: Config | str | Path | None = None, *,
                  ledger: Ledger | str | Path | None = None, dry_run_dir: str | Path | None = None,
                  confirm: Callable[[MailReport], bool] | None = None,
                  password_prompt: Callable[[], str] | None = None,
                  sleep: Callable[[float], None] = time.sleep, today: date | None = None,
                  resend: bool = False, resend_uncertain: bool = False,
                  stop_if_missing: bool = False) -> MailReport:
    """The 通報 of `month` (text in the body, the master's 工作報表 attached) to mail.bulletin_to.
    The send log key is the bulletin text: the same bulletin goes to each address once.

    Refused (MailError, nothing sent or written) unless the master's latest rollup is `month`'s
    and says what the ledger says now (`check_master_rollup`)."""
    cfg = _load(config)
    settings = mail_settings(cfg)
    today = today or date.today()
    _check_month(month)
    m_path = Path(master)
    if not m_path.exists():
        raise MailError("找不到主表文件。", file=str(m_path))
    script = master_script(m_path)
    check_master_rollup(m_path, month, script=script)      # before the text: says what to run
    text = bulletin_for(m_path, month, cfg)
    check_master_rollup(m_path, month, text, script)
    if ledger is not None:
        lg = _open_given_ledger(ledger)
    else:
        path = ledger_path_for(m_path, cfg.section("collect").get("ledger_name")
                               or "{master_stem}.ledger.sqlite")
        # a dry run leaves no trace: it reads an existing send log but creates none
        lg = open_ledger(m_path, cfg) if (path.exists() or dry_run_dir is None) else None
    report = MailReport(kind="bulletin", month=month, ledger=lg.path if lg else None, script=script)
    try:
        if settings.bad_bulletin_to:
            report.problems.append(Problem("bad_address", in_script(
                f"mail.bulletin_to 中的「{'、'.join(settings.bad_bulletin_to)}」不是有效的郵箱地址,"
                f"{'只發給其餘地址' if settings.bulletin_to else '不發送'}。請在 config.yaml 中改正。",
                script), blocking=not settings.bulletin_to))
        elif not settings.bulletin_to:
            report.problems.append(Problem("no_address", in_script(
                "config.yaml 的 mail.bulletin_to 沒有填寫收件人,通報不發送。", script)))
        if lock_files(m_path):
            report.problems.append(Problem("file_open", in_script(
                f"主表「{m_path.name}」正在 Excel/WPS 中打開:附件是它最後一次保存的內容。"
                f"如有未保存的修改,請先保存。", script), file=m_path.name, blocking=False))
        if settings.bulletin_to:
            data = m_path.read_bytes()
            values = {**_common_values(cfg, settings, month, today, script),
                      "bulletin": _unsigned_if_signed(text, settings, in_script(cfg.office, script)),
                      "file_name": m_path.name}
            report.messages.append(Outgoing(
                kind="bulletin", month=month, unit=None, to=list(settings.bulletin_to),
                subject=render(settings, "bulletin_subject", values, script),
                body=render(settings, "bulletin_body", values, script),
                key=f"bulletin|{month}||{_sha(text)}", attachment_name=m_path.name,
                attachment_path=m_path, attachment_bytes=data, script=script))
        return _run(report, settings, lg, dry_run_dir=dry_run_dir, confirm=confirm,
                    password_prompt=password_prompt, sleep=sleep, resend=resend,
                    resend_uncertain=resend_uncertain, stop_if_missing=stop_if_missing)
    finally:
        if lg is not None and not isinstance(ledger, Ledger):
            lg.close()
