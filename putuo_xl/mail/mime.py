"""A message as it goes on the wire: MIME whose Chinese (subject, names, the attachment's file
name) displays correctly in common clients, names in the notice's script."""
from __future__ import annotations

import base64
import hashlib
import time
import urllib.parse
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formatdate

from putuo_xl.mail.report import Outgoing
from putuo_xl.mail.settings import MailSettings
from putuo_xl.text import in_script


XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
XLSM_TYPE = ("application", "vnd.ms-excel.sheet.macroEnabled.12")


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


def _in_script_address(a: Address | None, script: str) -> Address | None:
    """The display name in the notice's script (config.yaml is written in traditional)."""
    if a is None or not a.display_name:
        return a
    return Address(display_name=in_script(a.display_name, script), username=a.username,
                   domain=a.domain)


def message_bytes(m: Outgoing, settings: MailSettings) -> bytes:
    """`m` as it goes on the wire, names in its script."""
    assert settings.sender is not None
    att = (m.attachment_name, m.attachment_bytes) if m.attachment_name else None
    msg = build_message(_in_script_address(settings.sender, m.script),
                        [_in_script_address(a, m.script) for a in m.to], m.subject, m.body,
                        attachment=att, reply_to=_in_script_address(settings.reply_to, m.script),
                        message_id=m.message_id, key=m.key)
    return msg.as_bytes()
