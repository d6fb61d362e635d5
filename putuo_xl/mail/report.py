"""What a mail run tells: one `Outgoing` per message (its content, recipients and what happened
to it), the `Problem`s found before sending, and the `MailReport` that shows the plan before
anything goes and, after the run, exactly who received what. `MailError`: nothing was sent."""
from __future__ import annotations

from dataclasses import dataclass, field
from email.headerregistry import Address
from pathlib import Path

from putuo_xl import layout
from putuo_xl.errors import PutuoError
from putuo_xl.text import TRADITIONAL, in_script


KINDS = ("forms", "remind", "bulletin")
KIND_LABELS = {"forms": "月報填報表", "remind": "催報", "bulletin": "通報"}


# Outcome of one message (Outgoing.status) and how the report names it.
STATUS_LABELS = {
    "planned": "待發送",
    "sent": "已發送",
    "partial": "部分送達",
    "failed": "發送失敗",
    "already_sent": "此前已發送,本次不重發",
    "uncertain": "上次發送中斷、結果不明,本次未發",
    "unconfirmed": "已發出、未獲服務器確認(結果不明),未重發",
    "interrupted": "發送被中斷,沒有發出",
    "written": "已寫出預覽(.eml)",
    "cancelled": "已取消,未發送",
}


class MailError(PutuoError):
    """Mail cannot go out as asked (settings, missing input); nothing was sent."""


class MailInterrupted(KeyboardInterrupt):
    """Ctrl-C while sending: `report` says what was sent, what failed, what may have gone and
    what was not sent (`MailReport.interrupted`)."""

    def __init__(self, report: "MailReport"):
        super().__init__()
        self.report = report


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
    situation: str = ""                   # remind: missing | rejected | outdated
    status: str = "planned"
    pending: list[str] = field(default_factory=list)     # addresses to send to in this run
    delivered: list[str] = field(default_factory=list)   # accepted by the server in this run
    earlier: dict[str, str] = field(default_factory=dict)    # address → when, sent before
    uncertain: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)    # permanent: address → reason
    failed: dict[str, str] = field(default_factory=dict)     # temporary, retries used up
    # sent in this run, but the connection broke before the server confirmed it: address →
    # why; not sent again (the unit might get two copies), uncertain in the send log
    lost: dict[str, str] = field(default_factory=dict)
    not_sent: list[str] = field(default_factory=list)    # the run was interrupted first
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
    interrupted: bool = False             # Ctrl-C while sending (see MailInterrupted)
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
        """Every unit got what the command was to send it: nothing failed, nothing was held
        back (uncertain, no address, a form that cannot go), nothing was left unsent by a
        cancel or Ctrl-C. The CLI exits 1 otherwise."""
        return (not self.cancelled and not self.interrupted
                and not self.by_status("failed", "partial", "uncertain", "unconfirmed", "interrupted")
                and not any(p.blocking for p in self.problems))

    @property
    def maybe_twice(self) -> list[Outgoing]:
        """Messages sent in this run whose delivery the server never confirmed."""
        return [m for m in self.messages if m.lost]

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
        if self.interrupted:
            out.append(s("發送被中斷(Ctrl-C)。到中斷時為止:"))
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
        lost = self.maybe_twice
        if lost:
            out.append(s(f"結果不明({len(lost)} 封):郵件已發出,但連接在服務器確認收到之前中斷,"
                         f"對方可能已經收到。為免重複,沒有重發:"))
            for m in lost:
                out.append(s(f"  ? {m.who} ") + "、".join(m.lost) + s(f":{next(iter(m.lost.values()))}"))
            out.append(s("  請先向對方確認是否收到;沒有收到的,用 --resend-uncertain 重發。"))
        not_sent = [m for m in self.messages if m.not_sent]
        if not_sent:
            out.append(s(f"發送被中斷,沒有發出 {len(not_sent)} 封:" + "、".join(m.who for m in not_sent)
                         + "。重新運行同一命令即可補發(已送達的不會重發)。"))
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
            why = "; ".join(f"{a}:{r}" for a, r in {**m.refused, **m.failed, **m.lost}.items()) \
                or m.detail or (s("發送被中斷,沒有發出") if m.not_sent else "")
            rows.append([s(m.who), "、".join(m.delivered or m.pending or m.addresses()),
                         s(STATUS_LABELS.get(m.status, m.status)), m.subject,
                         m.attachment_name or "", why])
        for p in self.problems:
            if p.blocking:
                rows.append([s(p.unit or ""), "", s("未發送"), "", p.file or "", p.message])
        return rows
