"""Finding the structure: sections 一、, subsections (一), numbered items 1. 1、 (1) 1) ①, and
which numbering style makes tasks (1.標題 lines over (1) tasks are a level of their own). The
scan turns the body's paragraphs into sections of blocks — text, unit markers, 完成時限 and
牽頭領導 notes — that tasks.py builds into the Plan; leading 總體要求 and trailing 工作要求
sections without units are set aside.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from putuo_xl.plan.model import UnitRef
from putuo_xl.plan.parse_state import SENTENCE_END, _q
from putuo_xl.plan.roles import (LABEL_RE, LEADER_LINE_RE, PAREN_RE, UNIT_LINE_RE, RoleMarkers,
                                 _Marker)
from putuo_xl.plan.targets import DEADLINE_LINE_RE

_CN_NUM = r"[一二三四五六七八九十]{1,3}"
_CN_VALUES = {c: i for i, c in enumerate("零一二三四五六七八九十")}

SECTION_RE = re.compile(rf"^\s*({_CN_NUM})\s*[、.．,,]\s*(.*)$")
SUBSECTION_RE = re.compile(rf"^\s*[((]\s*({_CN_NUM})\s*[))]\s*[、.．]?\s*(.*)$")
# 1. 1、 1. (1) (1) 1) ① — "2.0平臺" is not an item, "1.6月底前…" is item 1.
ITEM_RE = re.compile(
    r"^\s*(?:(?P<arabic>\d{1,3})\s*(?:[.．](?:(?!\d)|(?=\d{1,2}\s*月))|、)"
    r"|[((]\s*(?P<paren>\d{1,3})\s*[))]"
    r"|(?P<rparen>\d{1,3})\s*[))]"
    r"|(?P<circled>[①-⑳]))\s*(?P<text>.*)$")
# The headings of a plan's own parts, known by their words
KNOWN_TITLE_RE = re.compile(
    r"^(指導思想|指导思想|總體要求|总体要求|基本原則|基本原则|工作原則|工作原则|發展目標|发展目标|工作目標|工作目标|"
    r"主要目標|主要目标|總體目標|总体目标|主要任務|主要任务|重點任務|重点任务|保障措施|工作要求|組織保障|组织保障)"
    r"(?=[\u3400-\u9fff“])")
# Sections before and after the tasks that are not tasks
INTRO_TITLE_RE = re.compile(
    r"^[^,,。]{0,6}(總體要求|总体要求|指導思想|指导思想|總體目標|总体目标|工作目標|工作目标|主要目標|主要目标|發展目標|发展目标|"
    r"基本原則|基本原则|目標任務|目标任务|實施步驟|实施步骤|工作步驟|工作步骤|方法步驟|方法步骤|實施階段|实施阶段)"
    r"[^,,。]{0,10}$")
CLOSING_TITLE_RE = re.compile(
    r"^[^,,。]{0,6}(保障措施|工作要求|組織保障|组织保障|組織實施|组织实施|有關要求|有关要求|工作保障|"
    r"組織領導|组织领导|工作措施|實施要求|实施要求|推進措施|推进措施)[^,,。]{0,6}$")


@dataclass
class _DeadlineNote:
    text: str


@dataclass
class _LeaderNote:
    text: str


@dataclass
class _Block:
    """A numbered item or an unnumbered run of paragraphs inside a subsection."""
    number: str | None
    pieces: list[object] = field(default_factory=list)   # str | _Marker | _DeadlineNote


@dataclass
class _Sub:
    number: str | None            # "(一)" as written, None for paragraphs before the first one
    value: int | None
    title: str | None
    title_units: list[UnitRef] | None = None
    title_notes: list[str] | None = None    # what the parser read into the heading's units
    blocks: list[_Block] = field(default_factory=list)
    style: str | None = None      # the item numbering style that makes tasks here
    group_style: str | None = None    # a fourth level: 1.標題 lines grouping the (1) tasks
    group: tuple[str, str] | None = None  # the current 1.標題: (number, title)


@dataclass
class _Sec:
    number: str
    value: int | None
    title: str
    lines: list[str] = field(default_factory=list)
    subs: list[_Sub] = field(default_factory=list)

    def has_markers(self) -> bool:
        return any(s.title_units or any(isinstance(p, _Marker) for b in s.blocks for p in b.pieces)
                   for s in self.subs)


def _cn_value(s: str) -> int | None:
    """一 → 1, 十二 → 12, 二十三 → 23."""
    if not s or any(c not in _CN_VALUES for c in s):
        return None
    if s == "十":
        return 10
    if "十" in s:
        a, _, b = s.partition("十")
        if "十" in b:
            return None
        return (_CN_VALUES[a] if a else 1) * 10 + (_CN_VALUES[b] if b else 0)
    return _CN_VALUES[s] if len(s) == 1 else None


def _item_style(m: re.Match) -> tuple[str, str]:
    """(style, number) of an ITEM_RE match; 1. and 1、 are one style."""
    for style in ("arabic", "paren", "rparen", "circled"):
        if m.group(style):
            return ("arabic" if style == "arabic" else "paren" if style in ("paren", "rparen")
                    else "circled"), m.group(style)
    return "arabic", ""


class StructureScan(RoleMarkers):
    """The body's paragraphs → _Sec (sections) of _Sub (subsections) of _Block (items)."""

    @staticmethod
    def _split_heading(head: str) -> tuple[str | None, str]:
        """深化“最多跑一次”改革。加快推進… → (title, rest); a long heading without a title → (None, all)."""
        if not head:
            return None, ""
        kt = KNOWN_TITLE_RE.match(head)
        if kt and len(head) > 30 and re.search(r"[,,。]", head) \
                and not re.match(r"[。.,,::;;((和与與及]", head[kt.end():kt.end() + 1] or "。"):
            # 一、指導思想圍繞…: a heading word run on into its text (a copy that lost the break)
            return kt.group(0), head[kt.end():].strip()
        m = re.match(r"^(.{2,40}?)(?:。|\.(?!\d))(.*)$", head)
        if m and not PAREN_RE.search(m.group(1)) and not re.search(r"[,,;;]", m.group(1)):
            return m.group(1).strip(), m.group(2).strip()
        if len(head) <= 40 and "。" not in head.rstrip("。"):
            return head.rstrip("。").strip(), ""
        return None, head

    def _section_heading(self, p: str) -> tuple[re.Match, str, str] | None:
        ms = SECTION_RE.match(p)
        if ms and ms.group(2):
            title, rest = self._split_heading(ms.group(2))
            if title is not None and len(title) <= 60:
                return ms, title, rest
            # a part that is one task (三、完善制度建設程序,促進…民主化。圍繞…(市政府法制局)): its first
            # sentence is its title even with a comma in it, when the paragraph names its units
            m = re.match(r"^([^。;;:：()()]{2,40}?)。(.+)$", ms.group(2))
            if m and self._find_markers(m.group(2)):
                return ms, m.group(1).strip(), m.group(2).strip()
        return None

    def _scan(self, body: list[str], implicit: bool) -> list[_Sec]:
        secs: list[_Sec] = []
        promote: str | None = None
        if implicit:
            secs.append(_Sec(number="", value=None, title=self.plan.title))
            promote = self._promoted_style(body)
        for i, p in enumerate(body):
            heading = self._section_heading(p)
            if heading:
                ms, title, rest = heading
                sec = _Sec(number=ms.group(1), value=_cn_value(ms.group(1)), title=title)
                secs.append(sec)
                sec.lines.append(p)
                end = next((j for j in range(i + 1, len(body)) if self._section_heading(body[j])), len(body))
                promote = self._promoted_style(body[i + 1:end])
                tm = self._find_markers(title)
                if tm:
                    sec.title = self._strip_markers(title)
                    sub = self._sub(sec)
                    sub.title_units = tm[-1][2].units
                    sub.title_notes = tm[-1][2].notes
                if rest:
                    self._content(sec, rest)
                continue
            if not secs:
                secs.append(_Sec(number="", value=None, title=self.plan.title))
            sec = secs[-1]
            sec.lines.append(p)
            mss = SUBSECTION_RE.match(p)
            mi = ITEM_RE.match(p) if promote else None
            if mi and _item_style(mi)[0] == promote:
                # 一、 / 1.標題 / (1)任務: the numbered titles are the subsections here
                style, num = _item_style(mi)
                sub = _Sub(number=p[:mi.start("text")].strip(), value=int(num) if num.isdigit() else None,
                           title=mi.group("text").strip().rstrip("。"))
                sec.subs.append(sub)
                continue
            if mss:
                title, rest = self._split_heading(mss.group(2))
                sub = _Sub(number=f"({mss.group(1)})", value=_cn_value(mss.group(1)), title=title)
                sec.subs.append(sub)
                # (一) → 1.標題 → (1)任務: the 1. titles group the tasks of this subsection
                end = next((j for j in range(i + 1, len(body)) if SUBSECTION_RE.match(body[j])
                            or self._section_heading(body[j])), len(body))
                if not rest:
                    sub.group_style = self._promoted_style(body[i + 1:end])
                if title:
                    tm = self._find_markers(title)
                    if tm:
                        sub.title_units = tm[-1][2].units
                        sub.title_notes = tm[-1][2].notes
                        sub.title = self._strip_markers(title)
                if rest:
                    self._content(sec, rest)
                continue
            self._content(sec, p)
        return secs

    def _promoted_style(self, lines: list[str]) -> str | None:
        """In a section without (一) subsections whose numbered lines of the first style are all
        bare titles and another numbering style follows (1.標題 / (1)任務), that first style
        numbers subsections, not tasks."""
        if any(SUBSECTION_RE.match(x) for x in lines):
            return None
        order: list[str] = []
        texts: dict[str, list[str]] = {}
        for x in lines:
            m = ITEM_RE.match(x)
            if m and m.group("text").strip():
                style = _item_style(m)[0]
                texts.setdefault(style, []).append(m.group("text").strip())
                if style not in order:
                    order.append(style)
        if len(order) < 2:
            return None
        for t in texts[order[0]]:
            title, rest = self._split_heading(t)
            if rest or title is None or len(title) > 40 or self._find_markers(t) or UNIT_LINE_RE.match(t):
                return None
        return order[0]

    @staticmethod
    def _sub(sec: _Sec) -> _Sub:
        if not sec.subs:
            sec.subs.append(_Sub(number=None, value=None, title=None))
        return sec.subs[-1]

    def _content(self, sec: _Sec, line: str) -> None:
        sub = self._sub(sec)
        mi = ITEM_RE.match(line)
        if mi and mi.group("text").strip():
            style, _ = _item_style(mi)
            if style == sub.group_style:
                sub.group = (line[:mi.start("text")].strip(), mi.group("text").strip().rstrip("。"))
                return
            if sub.style is None:
                sub.style = style
            if style == sub.style:
                number = line[:mi.start("text")].strip()
                block = _Block(number=(sub.group[0] + number) if sub.group else number)
                sub.blocks.append(block)
                line = mi.group("text")
                if sub.group:
                    block.pieces.append(sub.group[1] + ":")
        if not sub.blocks:
            sub.blocks.append(_Block(number=None))
        pieces = sub.blocks[-1].pieces
        ml = LEADER_LINE_RE.match(line)
        if ml and not UNIT_LINE_RE.match(line) and not LABEL_RE.search(line):
            pieces.append(_LeaderNote(ml.group(1).strip()))
            return
        md = DEADLINE_LINE_RE.match(line)
        if md and not UNIT_LINE_RE.match(line):
            pieces.append(_DeadlineNote(md.group(1).strip()))
            return
        stripped = line.strip().rstrip("。;; ")
        if UNIT_LINE_RE.match(line) and (stripped[:1] not in "((〔" or not PAREN_RE.match(stripped)):
            unclosed = False
            if stripped[:1] in "((〔" and stripped[-1:] in "))〕":
                stripped = stripped[1:-1]
            elif stripped[:1] in "((〔" and not re.search(r"[))〕]", stripped):
                stripped, unclosed = stripped[1:], True     # the text was cut off in the list
            marker = self._units_from_marker(stripped, bare=False, cut=unclosed)
            marker.unclosed = unclosed
            marker.line = True
            pieces.append(marker)
            return
        before = len(pieces)
        self._pieces(line, pieces)
        # a paragraph that is just a unit parenthesis works like a unit line
        if PAREN_RE.fullmatch(stripped or "-"):
            for piece in pieces[before:]:
                if isinstance(piece, _Marker):
                    piece.line = True

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
            pieces.append(rest)

    def _trim_sections(self, secs: list[_Sec]) -> tuple[list[_Sec], list[str], list[str]]:
        """Leading 總體要求 and trailing 工作要求 sections without units are not task sections."""
        intro: list[str] = []
        closing: list[str] = []
        while len(secs) > 1 and not secs[0].has_markers() and INTRO_TITLE_RE.match(secs[0].title) \
                and not any(b.number for s in secs[0].subs for b in s.blocks if s.number is None):
            intro.extend(secs.pop(0).lines)
        while len(secs) > 1 and not secs[-1].has_markers() and CLOSING_TITLE_RE.match(secs[-1].title):
            sec = secs.pop()
            closing[:0] = sec.lines
            self.notes.append(self.t(f"「{_q(sec.number)}、{_q(sec.title)}」沒有標明責任單位,按通知的工作要求處理,"
                                     f"沒有分解為任務;如需分解,請在台賬中添加。"))
        return secs, intro, closing
