"""Parse a 工作要點 notice into a Plan: sections → subsections → tasks, with units,
quantitative targets and deadlines.

The genre, not one file. Tasks are found in any of the shapes district offices use:

* a run of sentences that ends with a unit parenthesis `(責任單位:A、B)` (the 2020 普陀
  notice), or with a bare unit list `(A、B)` (flagged);
* numbered items `1.` `1、` `(1)` `1)` `①` under a subsection or directly under a section;
  other numbering styles inside an item stay in the item's text;
* `責任單位:…` / `牽頭單位:…` / `配合單位:…` / `【責任單位】…` on a line of their own after
  the item (consecutive lines merge), or after the item's last sentence;
* `(牽頭單位:…;配合單位:…)`, `(牽頭單位:…;責任單位:…)`, `(責任單位/配合單位:…)`,
  `(A牽頭,B按職責分工負責)`, `A(牽頭)、B`;
* `完成時限:…` lines or clauses for a task's own deadline.

A subsection without any unit marking is one task, flagged. Sections named 總體要求/指導思想
before the tasks go to the preamble, sections named 工作要求/保障措施 without units after them
go to the closing part (where the notice's default deadline usually is).

Issuer and date come from the head (title, meta lines, page hints) or else from the signature
at the end. Recurring work (經常性工作) is only what a task says of itself, and is warned.

Both scripts and both punctuation widths are read; everything shown keeps the notice's own
wording; our own messages are written in traditional characters and rendered in the notice's
script, with IDs, file names and our punctuation as we write them (only the notice's quoted
fragments keep its widths).

The phases, each a mixin of `_Parser` in a module of its own (`run` takes them in order):

    parse_state.py  the narrow lines, the plan being filled, our messages, widths given back
    document.py     head and tail: where the body begins, metadata, signature, closing part
    structure.py    sections, subsections, numbered items: the body scanned into blocks
    tasks.py        the blocks built into sections, subsections and tasks
    roles.py        unit markers ((責任單位:…), 牽頭單位 lines, (A牽頭,B配合)) and roles
    units.py        unit lists split into names, resolved against the config; closest_units
    targets.py      quantitative targets, deadlines, recurring work

Where a new shape goes: a file or page layout (a task table, a web copy) becomes lines in
notice.py and its head is read in document.py; a heading or numbering style goes to
structure.py; a way of naming units (before the task, in a column of its own) to roles.py, the
names in it to units.py; a target or deadline phrase to targets.py.
"""
from __future__ import annotations

import re
from pathlib import Path

from putuo_xl.config import Config, load_config
from putuo_xl.plan.document import (ATTACHMENT_RE, CLOSING_FURNITURE_RE, REPORT_TITLE_RE,
                                    SIGNATURE_RE, DocumentParts)
from putuo_xl.plan.model import Plan
from putuo_xl.plan.notice import NoticeText, read_notice
from putuo_xl.plan.parse_state import SENTENCE_END, _q
from putuo_xl.plan.tasks import TaskBuilder
from putuo_xl.plan.units import closest_units


def parse_notice(path: str | Path | None = None, config: Config | None = None) -> Plan:
    """Read and parse a notice file (None = the bundled 2020 普陀區 notice)."""
    notice = read_notice(path)
    return parse_text(notice, config)


def parse_text(notice: NoticeText | str, config: Config | None = None) -> Plan:
    """Parse notice text (a NoticeText or a plain string) into a Plan. Never raises on content."""
    if isinstance(notice, str):
        from putuo_xl.plan.notice import _clean_lines
        notice = NoticeText(lines=_clean_lines(notice.splitlines()), source="<text>", kind="txt")
    cfg = config or load_config()
    return _Parser(notice, cfg).run()


def _ends_sentence(text: str) -> bool:
    t = text.rstrip()
    return bool(t) and t[-1] in SENTENCE_END + "”》))」』.!"


class _Parser(DocumentParts, TaskBuilder):
    """One notice's parse: run() takes the phases in order, _finish() adds the checks that need
    the whole plan. Each phase brings the phases it calls: DocumentParts → StructureScan →
    RoleMarkers → UnitNames, and TaskBuilder → RoleMarkers, TargetsAndDeadlines."""

    def run(self) -> Plan:
        paras = [p for p in self.lines if p]
        body_start, implicit = self._find_body_start(paras)
        if body_start is not None:
            body_start, implicit = self._attachment_body(paras, body_start, implicit)
        head = paras[:body_start] if body_start is not None else paras
        self._metadata(head, paras)
        self._signature(paras)
        if body_start is None:
            self.plan.warnings.append(self.t("沒有找到「一、」「(一)」或「1.」這樣的標題,無法分解任務。"
                                             "請確認文件是工作要點正文。"))
            self._epilogue(head)
            self._finish()
            self._restore_widths()
            return self.plan
        body, epilogue = self._split_epilogue(paras[body_start:])
        secs = self._scan(body, implicit)
        secs, intro, closing = self._trim_sections(secs)
        if intro:
            self.plan.preamble = "\n".join(x for x in [self.plan.preamble, *intro] if x) or None
        epilogue = closing + epilogue
        self.epilogue = epilogue
        self._epilogue(epilogue)
        if not self.plan.default_deadline:
            self._epilogue(head)
        self._build(secs)
        self._finish()
        self._restore_widths()
        return self.plan

    def _finish(self) -> None:
        plan = self.plan
        tasks = plan.tasks()
        for task in tasks:
            if not task.deadline and not task.recurring and plan.default_deadline:
                task.deadline = plan.default_deadline
        epilogue = [p for p in getattr(self, "epilogue", []) if not ATTACHMENT_RE.match(p)
                    and not SIGNATURE_RE.match(p)]
        if tasks and not epilogue:
            last = tasks[-1]
            tail = getattr(self, "tail_text", "").strip()
            if not last.truncated and tail \
                    and not _ends_sentence(tail) \
                    and not (self._is_issuer_line(tail) or CLOSING_FURNITURE_RE.match(tail)) \
                    and (re.search(r"[,,;;、]", tail) or len(tail) > 25 or "。" in tail
                         or re.search(r"[((〔《“][^))〕》”]*$", tail)
                         or getattr(self, "tail_after_marker", False)
                         # a sentence begun and cut at its first characters: 六、穩步推進機構改革。根
                         or (len(tail) <= 3 and re.fullmatch(r"[\u3400-\u9fff]+", tail)
                             and last.text.rstrip().endswith(tail))):
                last.truncated = True
                last.warnings.append(self.t("正文在此處中斷(句子不完整),文件可能被截斷,請核對原文。"))
        elif epilogue:
            tail = self._closing_tail(getattr(self, "epilogue", []))
            if tail and not _ends_sentence(tail):
                plan.warnings.append(self.t("通知的結尾段落在句子中間中斷,文件可能被截斷,請核對原文。"))
        for name in self.unknown:
            names = closest_units(name, self.cfg)
            hint = f",最接近的是:{'、'.join(names)}" if names else ",配置文件中沒有相近的名稱"
            plan.warnings.append(self.t(f"單位「{_q(name)}」不在配置文件的單位目錄中{hint}。"
                                        f"請在 config.yaml 中添加它或它的別名。"))
        if not tasks and plan.sections:
            plan.warnings.append(self.t("沒有識別出任何任務。"))
        if REPORT_TITLE_RE.search(plan.title or ""):
            plan.warnings.append(self.t(f"「{_q(plan.title)}」看來是工作報告或總結,不是工作要點:分解出的「任務」"
                                        "是已做的工作,請確認文件是否選對。"))
        elif len(tasks) >= 3 and not any(t.units for t in tasks):
            plan.warnings.append(self.t("全文沒有找到任何責任單位,請確認這是工作要點(而不是工作報告、總結或講話),"
                                        "並在台賬中補填責任單位。"))
        if not plan.default_deadline:
            plan.warnings.append(self.t("沒有找到通知的總體完成時限(如「原則上應在…年底完成」),"
                                        "未標時限的任務沒有截止日期。"))
        masked = re.search(r"(?<![\d*＊])[*＊]{1,4}\s*年|[〔\[(]\s*[*＊]{1,4}\s*[〕\])]", "\n".join(self.lines))
        if masked:
            plan.warnings.append(self.t(f"文中的年份被網站換成了星號(「{_q(masked.group(0).strip())}」),"
                                        "通知的年度和日期可能沒有讀出,請按原文核對計劃年度和各項時限。"))
        for kind, a, b in self.notice.hints.get("notes") or []:
            if kind == "gbk":
                plan.warnings.append(self.t(f"亂碼「{_q(a)}」按錯位一個字節的 GBK 編碼讀作「{_q(b)}」,請核對原文。"))
            elif kind == "header":
                plan.warnings.append(self.t(f"句中混入的「{_q(a)}」(另一個頁面的文頭)已刪去:「…{_q(b)}…」,請核對原文。"))
        plan.warnings.extend(self.notes)
        for task in tasks:
            for w in task.warnings:
                plan.warnings.append(self.t(f"任務 {task.id}:") + w)
