"""Parse a 工作要點 notice into a Plan: sections → subsections → tasks, with units,
quantitative targets and deadlines.

The genre, not one file: tasks end with a responsible-unit parenthesis (the 2020 普陀
notice), or are numbered items (1. 2. / (1) / ①) with the units in a parenthesis or on a
`責任單位:` line of their own, or carry `(牽頭單位:…;配合單位:…)`. Both scripts and both
punctuation widths are read; everything shown keeps the notice's own wording.
"""
from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config, load_config
from .model import Indicator, Plan, Section, Subsection, Task, UnitRef
from .notice import NoticeText, read_notice
from .text import SIMPLIFIED, detect_script, halfwidth, in_script, norm_name

CN_DIGITS = "零一二三四五六七八九十"
_CN_NUM = r"[一二三四五六七八九十]{1,3}"

SECTION_RE = re.compile(rf"^\s*({_CN_NUM})\s*[、.．,，]\s*(.*)$")
SUBSECTION_RE = re.compile(rf"^\s*[((]\s*({_CN_NUM})\s*[))]\s*[、.．]?\s*(.*)$")
ITEM_RE = re.compile(r"^\s*(?:(\d{1,3})\s*[.．、](?!\d)|[((]\s*(\d{1,3})\s*[))]|([①-⑳]))\s*(.*)$")

ROLE_WORDS = {
    "牽頭": "lead", "牵头": "lead", "主辦": "lead", "主办": "lead", "牽頭部門": "lead",
    "配合": "co", "協辦": "co", "协办": "co", "參與": "co", "参与": "co", "協同": "co", "协同": "co",
    "責任": "responsible", "责任": "responsible", "主責": "responsible", "主责": "responsible",
}
_ROLE_LABEL = r"(牽頭|牵头|主辦|主办|配合|協辦|协办|參與|参与|協同|协同|責任|责任|主責|主责)(?:單位|单位|部門|部门)"
ROLE_LABEL_RE = re.compile(rf"({_ROLE_LABEL}(?:\s*[//、和及]\s*{_ROLE_LABEL})*)\s*[::]")
# One level of nested parentheses inside: (責任單位:區級有關單位、各鎮(街道))
_PAREN = r"[((【\[]((?:[^()()【】\[\]]|[((<][^()()]*[))>])*)[))】\]]"
PAREN_RE = re.compile(_PAREN)
UNIT_LINE_RE = re.compile(rf"^\s*[((【\[]?\s*{_ROLE_LABEL}\s*[::]")

UNIT_SUFFIX_RE = re.compile(
    r"(局|辦|办|部|委|會|会|院|所|中心|單位|单位|街道|鎮|镇|鄉|乡|公司|隊|队|站|處|处|室|庭|廳|厅|署|集團|集团|協會|协会|聯社|联社|分行|銀行|银行)$")
QUALIFIERS = re.compile(
    r"(按職責分工負責|按职责分工负责|按職責分工|按职责分工|按職責|按职责|分別負責|分别负责|負責|负责|"
    r"依職責|依职责|按照職責|按照职责|分工負責|分工负责|等單位|等单位|共同|列第一位的為牽頭單位|"
    r"列第一位的为牵头单位|排名第一的為牽頭單位|排名第一的为牵头单位)")
LIST_SPLIT_RE = re.compile(r"[、,,;;//]|\s+")
ETC_GROUP_RE = re.compile(r"^(.+?)等(.+)$")

SENTENCE_END = "。!?;!?;"
CLOSING_RE = re.compile(
    r"^(各(地|部門|部门|單位|单位|鎮|镇|級|级|區|区|縣|县|有關|有关)[^。]{0,30}(要|應|应|務必|务必|須|须)"
    r"|請各|请各|以上|本要點|本要点|本通知|附件)")
DEFAULT_DEADLINE_RE = re.compile(r"原則上|原则上|除經常性|除经常性")
ATTACHMENT_RE = re.compile(r"^附件\s*[::]")
DOC_NUMBER_RE = re.compile(r"[\u4e00-\u9fff]{1,10}[〔\[(【]\s*(\d{4})\s*[〕\])】]\s*\d{1,4}\s*[號号]")


@dataclass
class _Marker:
    units: list[UnitRef]
    bare: bool = False            # a unit list without 責任單位: prefix


@dataclass
class _Block:
    """A numbered item or an unnumbered run of paragraphs inside a subsection."""
    number: str | None
    pieces: list[object] = field(default_factory=list)   # str text or _Marker


def parse_notice(path: str | Path | None = None, config: Config | None = None) -> Plan:
    """Read and parse a notice file (None = the bundled 2020 普陀區 notice)."""
    notice = read_notice(path)
    return parse_text(notice, config)


def parse_text(notice: NoticeText | str, config: Config | None = None) -> Plan:
    """Parse notice text (a NoticeText or a plain string) into a Plan. Never raises on content."""
    if isinstance(notice, str):
        from .notice import _clean_lines
        notice = NoticeText(lines=_clean_lines(notice.splitlines()), source="<text>", kind="txt")
    cfg = config or load_config()
    return _Parser(notice, cfg).run()


class _Parser:
    def __init__(self, notice: NoticeText, cfg: Config):
        self.notice = notice
        self.cfg = cfg
        self.lines = [line for line in notice.lines]
        full = "\n".join(self.lines)
        self.script = detect_script(full)
        self.plan = Plan(title="", script=self.script, source=notice.source)
        self.unknown: dict[str, list[str]] = {}

    def t(self, text: str) -> str:
        return in_script(text, self.script)

    # -- top level ----------------------------------------------------------
    def run(self) -> Plan:
        paras = [p for p in self.lines if p]
        body_start = self._find_body_start(paras)
        self._metadata(paras[:body_start] if body_start is not None else paras, paras)
        if body_start is None:
            self.plan.warnings.append(self.t("沒有找到「一、」這樣的章節標題,無法分解任務。請確認文件是工作要點正文。"))
            self._finish()
            return self.plan
        body, epilogue = self._split_epilogue(paras[body_start:])
        self._structure(body)
        self._epilogue(epilogue)
        self._finish()
        return self.plan

    def _find_body_start(self, paras: list[str]) -> int | None:
        for i, p in enumerate(paras):
            m = SECTION_RE.match(p)
            if m and len(m.group(2)) <= 60 and m.group(2):
                return i
        return None

    # -- metadata -----------------------------------------------------------
    def _metadata(self, head: list[str], allp: list[str]) -> None:
        plan = self.plan
        hints = self.notice.hints
        whole = "\n".join(allp)
        m = DOC_NUMBER_RE.search(halfwidth(whole).replace("(", "〔").replace(")", "〕")) or DOC_NUMBER_RE.search(whole)
        if m:
            found = DOC_NUMBER_RE.search(whole[max(0, m.start() - 2): m.end() + 2]) or m
            plan.doc_number = found.group(0)
        notice_title = None
        plan_title = None
        for p in head:
            if re.search(r"(關于|关于|關於)?印發.*(通知|通報)$", p) and not notice_title:
                notice_title = p
            elif re.search(r"(工作要點|工作要点|工作計劃|工作计划|實施方案|实施方案|任務清單|任务清单)$", p) \
                    and len(p) <= 60 and not plan_title:
                plan_title = p
        if not notice_title and hints.get("title") and re.search(r"通知$", hints["title"]):
            notice_title = hints["title"]
        if not plan_title and notice_title:
            m2 = re.search(r"印發[《“]?(.+?)[》”]?的?通知$", notice_title) or \
                re.search(r"印发[《“]?(.+?)[》”]?的?通知$", notice_title)
            if m2:
                plan_title = m2.group(1)
        if not plan_title:
            plan_title = hints.get("title") or next((p for p in head if len(p) <= 60), None) \
                or self.t("工作要點")
        plan.title = plan_title.strip("《》 ")
        if plan_title in head:
            after = head[head.index(plan_title) + 1:]
            if after:
                plan.preamble = "\n".join(after)
        plan.notice_title = notice_title
        issuer = None
        if notice_title:
            m3 = re.match(r"^(.+?)(關于|关于|關於)", notice_title)
            if m3:
                issuer = m3.group(1)
        for i, p in enumerate(head):
            if re.fullmatch(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日", p) and i > 0 and not issuer:
                prev = head[i - 1]
                if len(prev) <= 40 and not SECTION_RE.match(prev):
                    issuer = prev
        plan.issuer = issuer or hints.get("issuer")
        date = None
        m4 = re.search(r"(發布日期|发布日期|發布時間|发布时间|日期)\s*[::]\s*(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})", whole)
        if m4:
            date = (int(m4.group(2)), int(m4.group(3)), int(m4.group(4)))
        else:
            for p in head:
                m5 = re.fullmatch(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", p)
                if m5:
                    date = tuple(int(x) for x in m5.groups())
                    break
            if date is None and hints.get("date"):
                m6 = re.search(r"(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})", hints["date"])
                if m6:
                    date = tuple(int(x) for x in m6.groups())
        if date:
            plan.date = f"{date[0]:04d}-{date[1]:02d}-{date[2]:02d}"
        for p in head:
            if re.search(r"[::]$", p) and re.match(r"^各", p) and len(p) <= 120:
                plan.addressees = p.rstrip("::")
                break
        ym = re.search(r"(\d{4})\s*年", plan.title or "")
        if ym:
            plan.year = int(ym.group(1))
        elif plan.date:
            plan.year = int(plan.date[:4])

    # -- body ----------------------------------------------------------------
    def _split_epilogue(self, paras: list[str]) -> tuple[list[str], list[str]]:
        """The closing paragraphs (各地、各部門要…, 附件:…) after the last task."""
        for i, p in enumerate(paras):
            if i == 0 or SECTION_RE.match(p) or SUBSECTION_RE.match(p) or ITEM_RE.match(p):
                continue
            if ATTACHMENT_RE.match(p):
                return paras[:i], paras[i:]
            if CLOSING_RE.match(p) and not self._find_markers(p):
                # Only when no section heading follows: a closing paragraph ends the body.
                if not any(SECTION_RE.match(q) for q in paras[i + 1:]):
                    return paras[:i], paras[i:]
        return paras, []

    def _epilogue(self, paras: list[str]) -> None:
        year = self.plan.year
        for p in paras:
            if ATTACHMENT_RE.match(p):
                continue
            for sentence in re.split(r"(?<=[。;;])", p):
                if DEFAULT_DEADLINE_RE.search(sentence):
                    d = parse_deadline(sentence, year)
                    if d:
                        clause = re.search(r"(除(經常性|经常性)[^,,。]*[,,])?[^,,。]*(原則上|原则上)[^。;]*",
                                           sentence)
                        self.plan.default_deadline = d[0]
                        self.plan.default_deadline_text = (clause.group(0) if clause else sentence).strip()
                        m = re.search(r"(\d{4})\s*年", sentence)
                        if m and not year:
                            self.plan.year = int(m.group(1))
                        return

    def _structure(self, body: list[str]) -> None:
        plan = self.plan
        section: Section | None = None
        sub_paras: list[tuple[str | None, str | None, list[str]]] = []

        def flush_section():
            if section is None:
                return
            self._build_subsections(section, sub_paras)

        for p in body:
            ms = SECTION_RE.match(p)
            if ms and len(ms.group(2)) <= 60:
                flush_section()
                sid = str(len(plan.sections) + 1)
                title = ms.group(2).rstrip("。")
                section = Section(id=sid, number=ms.group(1), title=title)
                plan.sections.append(section)
                sub_paras = []
                continue
            mss = SUBSECTION_RE.match(p)
            if mss:
                sub_paras.append((f"({mss.group(1)})" if "(" in p[:3] else f"({mss.group(1)})",
                                  mss.group(2), []))
                continue
            if not sub_paras:
                sub_paras.append((None, None, []))
            sub_paras[-1][2].append(p)
        flush_section()

    def _build_subsections(self, section: Section, subs) -> None:
        numbered = 0
        unnumbered = 0
        for number, head, paras in subs:
            if number is None:
                unnumbered += 1
                sid = f"{section.id}.0" if unnumbered == 1 else f"{section.id}.0{unnumbered}"
                title = None
                lines = list(paras)
            else:
                numbered += 1
                sid = f"{section.id}.{numbered}"
                title, rest = self._split_title(head)
                lines = ([rest] if rest else []) + list(paras)
            sub = Subsection(id=sid, number=number, title=title)
            if number is None and not any(x.strip() for x in lines):
                continue
            title_units = None
            if title:
                tm = self._find_markers(title)
                if tm:
                    title_units = tm[-1][2].units
                    sub.title = self._strip_markers(title)
            sub.tasks = self._tasks(sid, lines, title, title_units)
            section.subsections.append(sub)

    def _split_title(self, head: str) -> tuple[str | None, str]:
        """(一)深化“最多跑一次”改革。加快推進… → title, rest."""
        if not head:
            return None, ""
        m = re.match(r"^(.{2,40}?)[。.](.*)$", head)
        if m and not self._find_markers(m.group(1)) and not re.search(r"[,,;;]", m.group(1)):
            return m.group(1), m.group(2).strip()
        if len(head) <= 40 and not re.search(r"[。]", head.rstrip("。")):
            return head.rstrip("。"), ""
        return None, head

    # -- tasks ----------------------------------------------------------------
    def _tasks(self, sid: str, lines: list[str], title: str | None,
               title_units: list[UnitRef] | None) -> list[Task]:
        blocks: list[_Block] = []
        for line in lines:
            mi = ITEM_RE.match(line)
            if mi:
                num = mi.group(1) or mi.group(2) or mi.group(3)
                raw_num = line[:mi.start(4)].strip()
                blocks.append(_Block(number=raw_num or num))
                line = mi.group(4)
            elif not blocks:
                blocks.append(_Block(number=None))
            if UNIT_LINE_RE.match(line) and not PAREN_RE.fullmatch(line.strip().rstrip("。")):
                units = self._units_from_marker(line.strip().strip("()()【】[]。"), bare=False)
                blocks[-1].pieces.append(_Marker(units))
                continue
            self._pieces(line, blocks[-1].pieces)

        raw_tasks: list[tuple[str | None, str, _Marker | None]] = []
        for block in blocks:
            runs: list[tuple[str, _Marker | None]] = []
            text = ""
            for piece in block.pieces:
                if isinstance(piece, _Marker):
                    runs.append((text, piece))
                    text = ""
                else:
                    text += piece
            if text.strip():
                if block.number is not None and runs:
                    # trailing words after the units belong to the numbered item
                    prev_text, prev_marker = runs[-1]
                    runs[-1] = (prev_text + text, prev_marker)
                else:
                    runs.append((text, None))
            elif not runs and block.number is not None:
                runs.append(("", None))
            for k, (txt, marker) in enumerate(runs):
                raw_tasks.append((block.number if k == 0 else None, txt, marker))

        # A marker that follows several unmarked numbered items (one 責任單位 line after a
        # list) applies to all of them.
        for i, (num, txt, marker) in enumerate(raw_tasks):
            if marker and not marker.bare and num is not None:
                j = i - 1
                while j >= 0 and raw_tasks[j][2] is None and raw_tasks[j][0] is not None:
                    raw_tasks[j] = (raw_tasks[j][0], raw_tasks[j][1], _Marker(marker.units, bare=False))
                    j -= 1

        tasks: list[Task] = []
        has_any_marker = any(m for _, _, m in raw_tasks) or title_units
        if not has_any_marker and len(raw_tasks) > 1 and all(n is None for n, _, _ in raw_tasks):
            joined = "".join(t for _, t, _ in raw_tasks)
            raw_tasks = [(None, joined, None)]
        if not raw_tasks:
            raw_tasks = [(None, title or "", None)]
        for k, (num, txt, marker) in enumerate(raw_tasks, 1):
            text = self._clean_task_text(txt)
            if not text and title:
                text = title
            task = Task(id=f"{sid}.{k}", text=text, number=num)
            if marker:
                task.units = [UnitRef(**vars(u)) for u in marker.units]
                if marker.bare:
                    task.warnings.append(self.t("單位列表前沒有「責任單位:」字樣,已按責任單位處理。"))
            elif title_units:
                task.units = [UnitRef(**vars(u)) for u in title_units]
            if not task.units:
                task.warnings.append(self.t("未標明責任單位,請在台賬中補填。"))
            self._enrich(task)
            tasks.append(task)
        return tasks

    def _clean_task_text(self, txt: str) -> str:
        text = txt.strip()
        text = re.sub(r"\s+(?=[。,;、])", "", text)
        text = re.sub(r"^[。,;,;\s]+", "", text)
        text = re.sub(r"。{2,}", "。", text)
        return text

    def _pieces(self, line: str, pieces: list) -> None:
        """Split a paragraph into text and unit markers."""
        pos = 0
        markers = self._find_markers(line)
        for start, end, marker in markers:
            before = line[pos:start]
            pieces.append(before)
            # keep the sentence end that follows the parenthesis with the task
            tail = re.match(r"\s*[。;;]", line[end:])
            if tail:
                pieces.append("。" if "。" in tail.group(0) else tail.group(0).strip())
                end += tail.end()
            elif before.strip() and before.rstrip()[-1] not in SENTENCE_END:
                pieces.append("。")
            pieces.append(marker)
            pos = end
        rest = line[pos:]
        if rest.strip():
            if pieces and isinstance(pieces[-1], str) and pieces[-1] and not pieces[-1].endswith(tuple(SENTENCE_END)):
                pieces.append(rest)
            else:
                pieces.append(rest)

    def _strip_markers(self, text: str) -> str:
        out, pos = [], 0
        for start, end, _ in self._find_markers(text):
            out.append(text[pos:start])
            pos = end
        out.append(text[pos:])
        return "".join(out).strip()

    def _find_markers(self, text: str) -> list[tuple[int, int, _Marker]]:
        found = []
        for m in PAREN_RE.finditer(text):
            inner = m.group(1).strip()
            if ROLE_LABEL_RE.search(inner[:12]) or ROLE_LABEL_RE.match(inner):
                units = self._units_from_marker(inner, bare=False)
                found.append((m.start(), m.end(), _Marker(units)))
                continue
            if self._is_bare_unit_list(inner, text, m.end()):
                units = self._units_from_marker(inner, bare=True)
                found.append((m.start(), m.end(), _Marker(units, bare=True)))
        return found

    def _is_bare_unit_list(self, inner: str, text: str, end: int) -> bool:
        after = text[end:end + 2].strip()
        if after and after[0] not in SENTENCE_END:
            return False
        items = [x for x in LIST_SPLIT_RE.split(inner) if x]
        if not items or len(inner) > 200:
            return False
        known = 0
        for it in items:
            it = QUALIFIERS.sub("", it).strip()
            if not it:
                continue
            if self.cfg.resolve(it) or self._resolve_etc(it):
                known += 1
            elif len(it) >= 3 and UNIT_SUFFIX_RE.search(it) and not re.search(r"\d", it):
                continue
            else:
                return False
        return known >= 1 or (len(items) >= 2)

    def _resolve_etc(self, item: str) -> list[str] | None:
        m = ETC_GROUP_RE.match(item)
        if not m:
            return None
        head, group = self.cfg.resolve(m.group(1)), self.cfg.resolve(m.group(2))
        if head and group:
            return [head, group]
        return None

    def _units_from_marker(self, inner: str, bare: bool) -> list[UnitRef]:
        """`責任單位:A、B` / `牽頭單位:A;配合單位:B、C` / `A、B` → UnitRefs with roles."""
        inner = inner.strip()
        clauses: list[tuple[str, str]] = []
        labels = list(ROLE_LABEL_RE.finditer(inner))
        if not labels:
            clauses.append(("responsible", inner))
        else:
            if labels[0].start() > 0 and inner[:labels[0].start()].strip(" ;;,,"):
                clauses.append(("responsible", inner[:labels[0].start()]))
            for i, lm in enumerate(labels):
                end = labels[i + 1].start() if i + 1 < len(labels) else len(inner)
                label = lm.group(1)
                role = "responsible"
                first = re.match(r"(牽頭|牵头|主辦|主办|配合|協辦|协办|參與|参与|協同|协同|責任|责任|主責|主责)", label)
                if first:
                    role = ROLE_WORDS[first.group(1)]
                # 責任單位/配合單位: both words → the listed units co-operate
                if re.search(r"[//]", label) and role == "responsible":
                    role = "co"
                clauses.append((role, inner[lm.end():end]))
        units: list[UnitRef] = []
        for role, body in clauses:
            body = body.strip().strip(";;,,。")
            for item in self._split_units(body):
                for name, canonical in self._resolve_item(item):
                    if any((u.canonical or u.name) == (canonical or name) for u in units):
                        continue
                    units.append(UnitRef(name=name, canonical=canonical, role=role,
                                         group=bool(canonical and self.cfg.is_group(canonical))))
        has_label_roles = any(r != "responsible" for r, _ in clauses)
        if self.cfg.first_listed_is_lead and not has_label_roles and units:
            if not units[0].group:
                units[0].role = "lead"
                for u in units[1:]:
                    u.role = "co"
        return units

    def _split_units(self, body: str) -> list[str]:
        # split on 、,; but not inside parentheses: 各鎮(街道、社區)
        items, depth, cur = [], 0, ""
        for ch in body:
            if ch in "((<【":
                depth += 1
            elif ch in "))>】":
                depth = max(0, depth - 1)
            if depth == 0 and ch in "、,,;;/":
                items.append(cur)
                cur = ""
            else:
                cur += ch
        items.append(cur)
        out = []
        for it in items:
            it = QUALIFIERS.sub("", it).strip(" 。.")
            it = re.sub(r"^(及|和|以及|與|与)", "", it)
            if it:
                out.append(it)
        return out

    def _resolve_item(self, item: str) -> list[tuple[str, str | None]]:
        canonical = self.cfg.resolve(item)
        if canonical:
            return [(item, canonical)]
        m = ETC_GROUP_RE.match(item)
        if m:
            head, tail = m.group(1), m.group(2)
            hc, tc = self.cfg.resolve(head), self.cfg.resolve(tail)
            if hc or tc:
                return [(head, hc), (tail, tc)]
        self.unknown.setdefault(item, [])
        return [(item, None)]

    # -- task details -----------------------------------------------------------
    def _enrich(self, task: Task) -> None:
        task.indicators = extract_indicators(task.text, task.id)
        d = parse_deadline(task.text, self.plan.year, own_only=True)
        if d:
            task.deadline, task.deadline_text = d
        markers = [m for m in self.cfg.recurring_markers if norm_name(m) in norm_name(task.text)]
        if markers:
            task.recurring = True

    def _finish(self) -> None:
        plan = self.plan
        tasks = plan.tasks()
        for task in tasks:
            if not task.deadline and not task.recurring and plan.default_deadline:
                task.deadline = plan.default_deadline
        if tasks:
            last = tasks[-1]
            tail = last.text.rstrip()
            if tail and tail[-1] not in SENTENCE_END + "”》)" and not last.units:
                last.truncated = True
                last.warnings.append(self.t("正文在此處中斷(句子不完整),文件可能被截斷,請核對原文。"))
            elif re.search(r"[((][^))]*$", tail):
                last.truncated = True
                last.warnings.append(self.t("正文在此處中斷(括號未閉合),文件可能被截斷,請核對原文。"))
        known = self.cfg.known_names()
        display = {}
        for u in self.cfg.units.values():
            display.setdefault(norm_name(u.name), u.name)
        for g in self.cfg.groups.values():
            display.setdefault(norm_name(g.name), g.name)
        for name in self.unknown:
            close = difflib.get_close_matches(norm_name(name), list(known), n=3, cutoff=0.5)
            names = list(dict.fromkeys(known[c] for c in close))
            hint = self.t(f",最接近的是:{'、'.join(names)}") if names else ""
            plan.warnings.append(self.t(f"單位「{name}」不在配置文件的單位目錄中{hint}。"
                                        f"請在 config.yaml 中添加它或它的別名。"))
        if not tasks:
            plan.warnings.append(self.t("沒有識別出任何任務。"))
        if not plan.default_deadline:
            plan.warnings.append(self.t("沒有找到通知的總體完成時限(如「原則上應在…年底完成」),"
                                        "未標時限的任務沒有截止日期。"))
        for task in tasks:
            for w in task.warnings:
                plan.warnings.append(self.t(f"任務 {task.id}:") + w)


# -- indicators -------------------------------------------------------------------

_NUM = r"(\d+(?:\.\d+)?)"
PERCENT_RE = re.compile(
    rf"(達到|达到|達|达|不低於|不低于|不少於|不少于|不超過|不超过|低於|低于|高於|高于|控制在|提高到|提高至|"
    rf"提升到|提升至|超過|超过|保持在|穩定在|稳定在|力爭|力争)?\s*{_NUM}\s*[%%](以上|以下|以內|以内)?")
DURATION_RE = re.compile(
    rf"(最多|不超過|不超过|不超|壓縮至|压缩至|壓縮到|压缩到|壓減至|压减至|壓減到|压减到|縮短至|缩短至|縮短到|"
    rf"缩短到|控制在|少於|少于|最長|最长)\s*[“\"]?\s*{_NUM}\s*(個工作日|个工作日|工作日|天|日|小時|小时|個月|个月|分鐘|分钟)"
    rf"(以內|以内|內|内)?")
DURATION_POST_RE = re.compile(
    rf"{_NUM}\s*(個工作日|个工作日|工作日|天|小時|小时|個月|个月)(以內|以内)")
COUNT_RE = re.compile(
    rf"(實現|实现|完成|達到|达到|新增|不少於|不少于|至少|累計|累计|建成|打造|培育|創建|创建|力爭|力争)\s*{_NUM}\s*"
    rf"(件|個|个|項|项|家|次|場|场|人次|所|批|篇|條|条|宗)(以上)?")
_NAME_STRIP = re.compile(r"^(力爭|力争|確保|确保|推動|推动|實現|实现|全區|全区|進一步|进一步|開展|开展|推進|推进|"
                         r"高質量|高质量|努力|全面|使|讓|让|並|并|且|同時|同时)+")


def extract_indicators(text: str, task_id: str = "") -> list[Indicator]:
    """Quantitative targets in a task's text, in order of appearance."""
    flat = halfwidth(text)
    found: list[tuple[int, int, Indicator]] = []

    def overlaps(s, e):
        return any(not (e <= fs or s >= fe) for fs, fe, _ in found)

    for m in DURATION_RE.finditer(flat):
        value = float(m.group(2))
        found.append((m.start(), m.end(), Indicator(text=m.group(0).replace("“", "").replace('"', ""),
                                                    value=value, unit=m.group(3), op="<=")))
    for m in DURATION_POST_RE.finditer(flat):
        if not overlaps(m.start(), m.end()):
            found.append((m.start(), m.end(), Indicator(text=m.group(0), value=float(m.group(1)),
                                                        unit=m.group(2), op="<=")))
    for m in PERCENT_RE.finditer(flat):
        if overlaps(m.start(2), m.end()):
            continue
        pre, post = m.group(1) or "", m.group(3) or ""
        op = ">="
        if post in ("以下", "以內", "以内") or pre in ("不超過", "不超过", "低於", "低于", "控制在"):
            op = "<="
        s = m.start() if pre else m.start(2)
        found.append((s, m.end(), Indicator(text=flat[s:m.end()].strip(), value=float(m.group(2)),
                                            unit="%", op=op)))
    for m in COUNT_RE.finditer(flat):
        if overlaps(m.start(2), m.end()):
            continue
        found.append((m.start(), m.end(), Indicator(text=m.group(0), value=float(m.group(2)),
                                                    unit=m.group(3), op=">=")))
    found.sort(key=lambda x: x[0])
    out = []
    for n, (s, e, ind) in enumerate(found, 1):
        ind.name = _indicator_name(flat, s, e)
        ind.id = f"{task_id}#{n}" if task_id else str(n)
        if ind.value == int(ind.value):
            ind.value = float(int(ind.value))
        out.append(ind)
    return out


def _indicator_name(flat: str, start: int, end: int) -> str:
    before = flat[:start]
    cut = max(before.rfind(c) for c in ",。;:()!?")
    clause = before[cut + 1:]
    clause = _NAME_STRIP.sub("", clause).strip("“”\" 、")
    clause = re.sub(r"(達到|达到|達|达|為|为|在)$", "", clause)
    if len(clause) >= 4:
        return _balance_quotes(clause[-30:])
    after = flat[end:]
    m = re.match(r"[^,。;:()]{1,30}", after)
    tail = m.group(0).strip("“”\" ") if m else ""
    return _balance_quotes((clause + tail).strip() or tail)


def _balance_quotes(s: str) -> str:
    if s.count("”") > s.count("“") and not s.startswith("“"):
        s = "“" + s
    if s.count("“") > s.count("”"):
        s = s + "”"
    return s


# -- deadlines ----------------------------------------------------------------------

_CN_MONTH = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
             "十": 10, "十一": 11, "十二": 12}
_QUARTER = {"一": 3, "1": 3, "二": 6, "2": 6, "三": 9, "3": 9, "四": 12, "4": 12}


def _month_end(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"


def parse_deadline(text: str, year: int | None, own_only: bool = False) -> tuple[str, str] | None:
    """A deadline phrase in `text` → (YYYY-MM-DD, phrase). `year` fills in phrases without one."""
    flat = halfwidth(text)
    pats = [
        (r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(?:前|之前|以前)", "day"),
        (r"(?:(\d{4})\s*年\s*)?(\d{1,2}|[一二三四五六七八九十]{1,2})\s*月\s*(?:份\s*)?(?:底|末)?\s*(?:前|之前|以前)", "month"),
        (r"(?:(\d{4})\s*年\s*)?(?:第\s*)?([一二三四1-4])\s*季度\s*(?:末|底)?\s*(?:前|之前|以前)?(?:完成)", "quarter"),
        (r"(?:(\d{4})\s*年\s*)?上半年\s*(?:前|之前|完成|底前)", "h1"),
        (r"(?:(\d{4})\s*年\s*)?(?:年底|年末|年內|年内|(?<=\d{4}年)底)\s*(?:前|之前|以前)?\s*(?:完成|建成|實現|实现|出臺|出台)?", "year"),
    ]
    for pat, kind in pats:
        m = re.search(pat, flat)
        if not m:
            continue
        y = int(m.group(1)) if m.group(1) else year
        if y is None:
            continue
        phrase = m.group(0).strip()
        if own_only and kind == "year" and not re.search(r"前|完成|建成|實現|实现|出臺|出台|年內|年内", phrase):
            continue
        try:
            if kind == "day":
                mo, d = int(m.group(2)), int(m.group(3))
                calendar.monthrange(y, mo)
                if not 1 <= d <= calendar.monthrange(y, mo)[1]:
                    continue
                return f"{y:04d}-{mo:02d}-{d:02d}", phrase
            if kind == "month":
                mo_s = m.group(2)
                mo = int(mo_s) if mo_s.isdigit() else _CN_MONTH.get(mo_s, 0)
                if not 1 <= mo <= 12:
                    continue
                return _month_end(y, mo), phrase
            if kind == "quarter":
                return _month_end(y, _QUARTER[m.group(2)]), phrase
            if kind == "h1":
                return _month_end(y, 6), phrase
            return f"{y:04d}-12-31", phrase
        except (ValueError, KeyError):
            continue
    return None
