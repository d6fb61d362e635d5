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
"""
from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from putuo_xl.config import Config, load_config
from putuo_xl.plan.model import Indicator, Plan, Section, Subsection, Task, UnitRef
from putuo_xl.plan.notice import NoticeText, read_notice
from putuo_xl.text import (WidthRestorer, detect_script, halfwidth, in_script, narrow, norm_name,
                           to_simplified, to_traditional)

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

_ROLE_WORD = r"(?:牽頭|牵头|主辦|主办|配合|協辦|协办|參與|参与|協同|协同|協助|协助|責任|责任|主責|主责|承辦|承办|承擔|承担)"
_ROLE_LABEL = rf"{_ROLE_WORD}(?:單位|单位|部門|部门|主體|主体)"
_LABELS = rf"{_ROLE_LABEL}(?:\s*[//、和及]\s*{_ROLE_LABEL})*"
# `責任單位:` or `【責任單位】`
LABEL_RE = re.compile(rf"(?:[【\[]\s*(?P<b>{_LABELS})\s*[】\]]\s*[::]?|(?P<c>{_LABELS})\s*[::])")
UNIT_LINE_RE = re.compile(rf"^\s*[((〔]?\s*(?:[【\[]\s*{_LABELS}\s*[】\]]|{_LABELS}\s*[::])")
ROLE_WORDS = {
    "牽頭": "lead", "牵头": "lead", "主辦": "lead", "主办": "lead",
    "配合": "co", "協辦": "co", "协办": "co", "參與": "co", "参与": "co", "協同": "co", "协同": "co",
    "協助": "co", "协助": "co",
    "責任": "responsible", "责任": "responsible", "主責": "responsible", "主责": "responsible",
    "承辦": "responsible", "承办": "responsible", "承擔": "responsible", "承担": "responsible",
}
# 牽頭領導:副縣長 張三 — the official in charge: not a unit, not part of the task's text
_LEADER_LABEL = (r"(?:牽頭|牵头|責任|责任|分管|包抓|包保|聯繫|联系|主管|督辦|督办|掛點|挂点)"
                 r"(?:縣|县|區|区|市)?(?:領導|领导|負責人|负责人)")
LEADER_LINE_RE = re.compile(rf"^\s*[((〔]?\s*{_LEADER_LABEL}\s*[::]\s*(.*?)\s*[))〕]?\s*[。;;]?\s*$")
LEADER_CLAUSE_RE = re.compile(rf"{_LEADER_LABEL}\s*[::]\s*([^;;]*)[;;]?")
_DEADLINE_LABEL = r"(?:完成時限|完成时限|進度安排|进度安排|時間安排|时间安排|完成時間|完成时间|完成期限|時間節點|时间节点|時限要求|时限要求|時間要求|时间要求|時限|时限)"
DEADLINE_LINE_RE = re.compile(
    rf"^\s*(?:[((]\s*)?(?:[【\[]\s*{_DEADLINE_LABEL}\s*[】\]]\s*[::]?|{_DEADLINE_LABEL}\s*[::])\s*(.*?)[))]?\s*[。;;]?\s*$")
DEADLINE_CLAUSE_RE = re.compile(rf"{_DEADLINE_LABEL}\s*[::]\s*([^;;]*)")

# One level of nested parentheses inside: (責任單位:區級有關單位、各鎮(街道)). Text copied out
# of a PDF often brackets the units with 〔〕: 〔牽頭單位:…;責任單位:…〕.
_PAREN = r"[((【\[〔]((?:[^()()【】\[\]〔〕]|[((<〔][^()()〔〕]*[))>〕])*)[))】\]〕]"
PAREN_RE = re.compile(_PAREN)
# A unit list whose closing parenthesis is missing (the text was cut off).
OPEN_MARKER_RE = re.compile(rf"[((〔]\s*(?:{_LABELS})\s*[::][^))〕]*$")

UNIT_SUFFIX_RE = re.compile(
    r"(局|辦|办|部|委|會|会|院|所|中心|單位|单位|街道|鎮|镇|鄉|乡|公司|隊|队|站|處|处|室|庭|廳|厅|署|集團|集团|"
    r"協會|协会|聯社|联社|分行|銀行|银行|政府|機關|机关|部門|部门|聯|联|團|团|社|館|馆|校)$")
# Words around unit names that are not units.
QUALIFIERS = re.compile(
    r"(按職責分工負責|按职责分工负责|按職責分工|按职责分工|按職責負責|按职责负责|按職責|按职责|分別負責|分别负责|"
    r"依職責|依职责|按照職責|按照职责|分工負責|分工负责|共同負責|共同负责|具體負責|具体负责|負責|负责|共同|"
    r"列第一位的為牽頭單位|列第一位的为牵头单位|排名第一的為牽頭單位|排名第一的为牵头单位|"
    r"排在第一位的為牽頭單位|排在第一位的为牵头单位|下同)")
_ROLE_VERB = (r"(牽頭負責|牵头负责|牽頭|牵头|配合|協辦|协办|參與|参与|協助|协助|協同|协同|"
              r"按職責分工負責|按职责分工负责|按職責分工分別負責|按职责分工分别负责|按職責負責|按职责负责|"
              r"分別負責|分别负责|共同負責|共同负责|具體負責|具体负责|負責|负责)$")
ROLE_VERB_RE = re.compile(_ROLE_VERB)
INLINE_ROLE_RE = re.compile(r"[((](牽頭|牵头|主辦|主办|配合|協辦|协办|參與|参与|協助|协助|責任|责任)[))]$")
ETC_GROUP_RE = re.compile(r"^(.+?)等(.+)$")
# 各鎮 / 鎮 / 各鄉鎮 (normalised): with a bare 街道 after a 、 they name one group, 各鎮、街道
TOWN_WORD_RE = re.compile(r"^各?(乡镇|镇|乡)(人民政府)?$")
# Names of a kind of unit rather than one unit (各部門, 區直有關單位, 鄉鎮人民政府): an unknown name
# like these is a group.
GENERIC_GROUP_RE = re.compile(
    r"^各"
    r"|^(全區|全区|全縣|全县|全市)"
    r"|(有關|有关|相關|相关|成員|成员|直屬|直属|所屬|所属)(單位|单位|部門|部门|機關|机关)$"
    r"|^(區級|区级|區直|区直|縣級|县级|縣直|县直|市級|市级|市直|區屬|区属|縣屬|县属|市屬|市属)(各|有關|有关|相關|相关)?"
    r"(單位|单位|部門|部门|機關|机关)"
    r"|^(區|区|縣|县|市)(政府|委)(各|有關|有关|相關|相关|所屬|所属|直屬|直属)"
    r"|^(鄉鎮|乡镇|鎮|镇|街道|鄉鎮\(街道\)|乡镇\(街道\)|鎮\(街道\)|镇\(街道\)|鎮街|镇街)"
    r"(人民政府|辦事處|办事处)?$")

# Names that end like an office (局, 辦, 委, 法院 …): one such name alone in a parenthesis at the
# end of a task is its unit even when the directory does not know it (another district's notice).
STRONG_UNIT_SUFFIX_RE = re.compile(
    r"(局|辦|办|委|院|部|中心|政府|辦公室|办公室|辦事處|办事处|管委會|管委会|公司|法院|檢察院|检察院|委員會|委员会)$")
RUN_TOGETHER_RE = re.compile(r"(?<=[局辦办委院部室隊队所站])(?=(?:縣|县|區|区|市)[^,,、;;]{2,})")
NOT_A_UNIT_RE = re.compile(r"^(含|包括|包含|如|即|例如|特別是|特别是|尤其是|以及|詳見|详见|見|见|參照|参照|依托|通過|通过)"
                           r"|[《》“”\"]")

# A paragraph that says it introduces the items after it: 目標:… / 主要措施: / …措施如下:
LEAD_IN_RE = re.compile(r"^(主要|工作|總體|总体|具體|具体)?(目標|目标|要求|任務|任务|措施|舉措|举措)\s*[::]|[::]$")

SENTENCE_END = "。!?;!?;"

# A piece of the notice quoted in one of our messages: it keeps the notice's script and
# punctuation widths, the message around it is ours (WidthRestorer.message).
_q = WidthRestorer.fragment
_FRAGMENT_SPLIT = re.compile("(\ue000[^\ue000\ue001]*\ue001)")
CLOSING_RE = re.compile(
    r"^(各(地|部門|部门|單位|单位|鎮|镇|鄉|乡|級|级|區|区|縣|县|有關|有关|相關|相关)[^。]{0,30}(要|應|应|務必|务必|須|须)"
    r"|請各|请各|以上|上述|本要點|本要点|本通知|本方案|附件)")
DEFAULT_DEADLINE_RE = re.compile(
    r"原則上|原则上|除經常性|除经常性|除明確|除明确|未(明確|明确|注明|標明|标明|列明)(完成)?(時限|时限|時間|时间)|"
    r"其餘(工作|任務)|其余(工作|任务)|各項(工作)?任務[^。]{0,12}(應|須|要|均)|各项(工作)?任务[^。]{0,12}(应|须|要|均)")
ATTACHMENT_RE = re.compile(r"^附件\s*\d*\s*(?:[::]|$)")
DOC_NUMBER_RE = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[(【]\s*(\d{4})\s*[〕\])】]\s*第?\s*\d{1,4}\s*[號号]")
DOC_NUMBER_LABEL_RE = re.compile(r"(發文字號|发文字号|文號|文号|文件編號|文件编号)\s*[::|]?\s*(.+)$")
PLAN_TITLE_RE = re.compile(r"(工作要點|工作要点|工作計劃|工作计划|實施方案|实施方案|任務清單|任务清单|工作安排|"
                           r"工作任務|工作任务|任務分解|任务分解)(表)?$")
INTRO_TITLE_RE = re.compile(
    r"^[^,,。]{0,6}(總體要求|总体要求|指導思想|指导思想|總體目標|总体目标|工作目標|工作目标|主要目標|主要目标|"
    r"基本原則|基本原则|目標任務|目标任务|實施步驟|实施步骤|工作步驟|工作步骤|方法步驟|方法步骤|實施階段|实施阶段)"
    r"[^,,。]{0,10}$")
CLOSING_TITLE_RE = re.compile(
    r"^[^,,。]{0,6}(保障措施|工作要求|組織保障|组织保障|組織實施|组织实施|有關要求|有关要求|工作保障|"
    r"組織領導|组织领导|工作措施|實施要求|实施要求|推進措施|推进措施)[^,,。]{0,6}$")
SIGNATURE_RE = re.compile(
    r"^(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|[((]此件[^))]*[))]|(抄送|抄報|抄报|印發|印发|主送)\s*[::].*"
    r"|[\u4e00-\u9fff()()]{2,30}(人民政府|辦公室|办公室|委員會|委员会|領導小組|领导小组|司法局|政府)"
    r"(辦公室|办公室)?\s*(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*(印發|印发)?)?)$")
# The date of a signature, alone or after the issuer on its line: 普陀區人民政府辦公室 2023年3月1日
SIGN_DATE_RE = re.compile(r"^(?P<issuer>[^,,。;;::]{2,40}?)?\s*(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月"
                          r"\s*(?P<d>\d{1,2})\s*日\s*(印發|印发)?$")
# Lines after the closing text that are not part of it.
CLOSING_FURNITURE_RE = re.compile(
    r"^(特此(通知|函告|通報|通报)[。.]?$|(聯繫人|联系人|聯繫電話|联系电话|聯繫方式|联系方式|電話|电话|傳真|传真|"
    r"郵箱|邮箱|電子郵箱|电子邮箱|地址)\s*[::])")
DOC_TITLE_RE = re.compile(r"(報告|报告|要點|要点|計劃|计划|方案|安排|意見|意见|規劃|规划|清單|清单|辦法|办法|細則|细则|"
                          r"通知|總結|总结|綱要|纲要)(\s*[((][^()()]{2,20}[))])?$")
REPORT_TITLE_RE = re.compile(r"(情況報告|情况报告|工作報告|工作报告|年度報告|年度报告|工作總結|工作总结|總結報告|总结报告)$")
TITLE_LABEL_RE = re.compile(r"^(名稱|名称|標題|标题|標\s+題|标\s+题|文件名稱|文件名称)\s*[:|]\s*")
BYLINE_RE = re.compile(
    r"^(?:(?P<issuer>[\u4e00-\u9fff()]{2,30}?)\s*)?(?:(?:https?://)?[\w.-]+\.(?:cn|com|net|org)\S*\s+)?"
    r"(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
ISSUER_RE = re.compile(r"(政府|辦公室|办公室|委員會|委员会|領導小組|领导小组|局|辦|办|委|部|院|中心)$")
RECURRING_DEADLINE_RE = re.compile(
    r"(長期|长期|持續|持续|經常|经常|常態|常态|全年|每年|每季度|每月|常年|年度內|年度内|貫穿全年|贯穿全年)")


@dataclass
class _Marker:
    units: list[UnitRef]
    bare: bool = False            # a unit list without 責任單位: prefix
    deadline: str | None = None   # 完成時限 given inside the marker
    line: bool = False            # a unit line of its own (not an inline parenthesis)
    unclosed: bool = False        # the closing parenthesis is missing
    dropped: str | None = None    # a cut-off unit name left out at the end of the text
    leader: str | None = None     # 牽頭領導:… given inside the marker


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


@dataclass
class _Run:
    number: str | None
    text: str = ""
    marker: _Marker | None = None
    deadline: str | None = None
    backfilled: bool = False
    leader: str | None = None


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


def _increasing(values: list[int | None]) -> bool:
    return all(v is not None for v in values) and all(a < b for a, b in zip(values, values[1:]))


def _item_style(m: re.Match) -> tuple[str, str]:
    """(style, number) of an ITEM_RE match; 1. and 1、 are one style."""
    for style in ("arabic", "paren", "rparen", "circled"):
        if m.group(style):
            return ("arabic" if style == "arabic" else "paren" if style in ("paren", "rparen")
                    else "circled"), m.group(style)
    return "arabic", ""


def _ends_sentence(text: str) -> bool:
    t = text.rstrip()
    return bool(t) and t[-1] in SENTENCE_END + "”》))」』.!"


class _Parser:
    def __init__(self, notice: NoticeText, cfg: Config):
        self.notice = notice
        self.cfg = cfg
        # Matching is done on the narrow form (（→( ：→: ，→,), character for character; what
        # users see gets the notice's own widths back at the end (WidthRestorer).
        self.lines = [narrow(line) for line in notice.lines]
        self.hints = {k: narrow(v) if isinstance(v, str) else v for k, v in notice.hints.items()}
        self.restore = WidthRestorer("\n".join(notice.lines))
        full = "\n".join(self.lines)
        self.script = detect_script(full)
        self.plan = Plan(title="", script=self.script, source=notice.source)
        self.unknown: dict[str, None] = {}
        self.notes: list[str] = []

    def t(self, text: str) -> str:
        """Our (traditional) wording in the notice's script; quoted fragments of the notice
        (marked with `_q`) stay as the notice wrote them."""
        parts = _FRAGMENT_SPLIT.split(text)
        return "".join(p if i % 2 else in_script(p, self.script) for i, p in enumerate(parts))

    # -- top level ----------------------------------------------------------
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

    def _restore_widths(self) -> None:
        """Everything shown to users in the notice's own punctuation widths."""
        r = self.restore
        plan = self.plan
        for attr in ("title", "issuer", "doc_number", "addressees", "notice_title", "preamble",
                     "default_deadline_text"):
            setattr(plan, attr, r(getattr(plan, attr)))
        # our messages: only the quoted fragments of the notice get its widths back
        plan.warnings = [r.message(w) for w in plan.warnings]
        for sec in plan.sections:
            sec.number, sec.title, sec.intro = r(sec.number), r(sec.title), r(sec.intro)
            for sub in sec.subsections:
                sub.number, sub.title, sub.intro = r(sub.number), r(sub.title), r(sub.intro)
                for task in sub.tasks:
                    task.text, task.number = r(task.text), r(task.number)
                    task.deadline_text = r(task.deadline_text)
                    task.leader = r(task.leader)
                    task.warnings = [r.message(w) for w in task.warnings]
                    for u in task.units:
                        u.name = r(u.name)
                    for ind in task.indicators:
                        ind.text, ind.name = r(ind.text), r(ind.name)

    def _find_body_start(self, paras: list[str]) -> tuple[int | None, bool]:
        for i, p in enumerate(paras):
            m = SECTION_RE.match(p)
            if m and m.group(2) and (len(m.group(2)) <= 60 or self._split_heading(m.group(2))[0]):
                return i, False
        # No 一、 headings: start at the first (一) or numbered item that carries units.
        for i, p in enumerate(paras):
            if SUBSECTION_RE.match(p) and SUBSECTION_RE.match(p).group(2):
                return i, True
            mi = ITEM_RE.match(p)
            if mi and (self._find_markers(p) or any(UNIT_LINE_RE.match(q) for q in paras[i + 1:i + 3])):
                return i, True
        return None, False

    def _has_units(self, p: str) -> bool:
        return bool(UNIT_LINE_RE.match(p) or self._find_markers(p))

    def _attachment_body(self, paras: list[str], start: int, implicit: bool) -> tuple[int, bool]:
        """A covering notice with its own 一、二、 (requirements, no units) and the tasks in the
        attachment (附件 / 附件:任務分解表): the body is the attachment."""
        for a in range(start + 1, len(paras)):
            if not (ATTACHMENT_RE.match(paras[a]) or PLAN_TITLE_RE.search(paras[a])
                    and len(paras[a]) <= 60 and not re.search(r"[,。;:]", paras[a])):
                continue
            if any(self._has_units(p) for p in paras[start:a]):
                return start, implicit
            if any(self._has_units(p) for p in paras[a + 1:]):
                inner, inner_implicit = self._find_body_start(paras[a + 1:])
                if inner is not None:
                    return a + 1 + inner, inner_implicit
        return start, implicit

    # -- metadata -----------------------------------------------------------
    def _metadata(self, head: list[str], allp: list[str]) -> None:
        plan = self.plan
        hints = self.hints
        head = self._join_split_title(head)
        plan.doc_number = self._doc_number(head, allp) or hints.get("doc_number")
        notice_title = None
        plan_title = None
        plan_title_re = PLAN_TITLE_RE.pattern
        # a page's information table names the title: 名稱: / 標題 | (the label is not the title)
        head = [TITLE_LABEL_RE.sub("", p).rstrip(" |") if TITLE_LABEL_RE.match(p) else p for p in head]
        titles = [p for p in head if re.search(r"(關于|关于|關於)?印[發发].*(通知|通報|通报)$", p)]
        if titles:
            # prefer the one that names its issuer (舟山市…辦公室關于印發…) over a page's short title
            notice_title = max(titles, key=lambda x: (bool(re.match(r"^.+?(關于|关于|關於)", x)), len(x)))
        for p in head:
            if p not in titles and re.search(plan_title_re, p) and len(p) <= 60 and not plan_title \
                    and not re.search(r"[,,;;:]", p):
                plan_title = p
        if not notice_title and hints.get("title") and re.search(r"通知$", hints["title"]):
            notice_title = hints["title"]
        if notice_title and (not plan_title or re.search(r"(分解表|分解|清單|清单)(表)?$", plan_title)):
            # the attachment's 任務分解表 is a part of what the notice issues: its title is the plan's
            m2 = re.search(r"印[發发][《“]?(.+?)[》”]?的?通知$", notice_title)
            if m2 and (not plan_title or not re.search(r"(分解表|分解|清單|清单)(表)?$", m2.group(1))):
                plan_title = m2.group(1)
        if not plan_title:
            # a line named like a document (…情況報告, …實施意見, …規劃) before any other short line
            # (a page's category label, 工作報告, is not the title)
            plan_title = hints.get("title") or next(
                (p for p in head if 6 <= len(p) <= 60 and not re.search(r"[::,,。]", p) and DOC_TITLE_RE.search(p)),
                None) or next(
                (p for p in head if len(p) <= 60 and not re.search(r"[::]", p)), None) \
                or self.t("工作要點")
        plan.title = plan_title.strip("《》 ")
        if plan_title in head:
            after = [p for p in head[head.index(plan_title) + 1:] if not self._is_meta_line(p)]
            if after:
                plan.preamble = "\n".join(after)
        plan.notice_title = notice_title
        issuer = None
        if notice_title:
            m3 = re.match(r"^(.+?)(關于|关于|關於)", notice_title)
            if m3:
                issuer = m3.group(1).strip()
            elif notice_title in head and head.index(notice_title) > 0:
                # 西平縣人民政府辦公室 / 關于印發…的通知 on two lines
                prev = head[head.index(notice_title) - 1]
                if len(prev) <= 40 and re.search(r"(政府|辦公室|办公室|委員會|委员会|領導小組|领导小组|局|辦|办|委)$",
                                                 prev) and not re.search(r"[,。:;]", prev):
                    issuer = prev
        for i, p in enumerate(head):
            if re.fullmatch(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日", p) and i > 0 and not issuer:
                prev = head[i - 1]
                if len(prev) <= 40 and not SECTION_RE.match(prev) and not re.search(r"[,,。::]", prev):
                    issuer = prev
        if not issuer and (hints.get("issuer") or hints.get("source")):
            issuer = hints.get("issuer") or hints.get("source")
        plan.issuer = issuer
        date = None
        whole = "\n".join(allp[:len(head) + 5])
        for label in (r"發布日期|发布日期|發布時間|发布时间|發佈日期|发佈日期|公開日期|公开日期",
                      r"成文日期|生成日期|發文日期|发文日期|日期|時間|时间"):
            m4 = re.search(rf"({label})\s*[::|]?\s*(\d{{4}})\s*[-/年.]\s*(\d{{1,2}})\s*[-/月.]\s*(\d{{1,2}})",
                           whole)
            if m4:
                date = (int(m4.group(2)), int(m4.group(3)), int(m4.group(4)))
                break
        if date is None and hints.get("date"):
            m6 = re.search(r"(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})", hints["date"])
            if m6:
                date = tuple(int(x) for x in m6.groups())
        if date is None:
            for p in head:
                m5 = re.fullmatch(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", p)
                if m5:
                    date = tuple(int(x) for x in m5.groups())
                    break
        if date is None:
            # a web page's byline: 中陽縣政府 www.sxzhongyang.gov.cn 2016-03-21 00:00
            for p in head[:12]:
                mb = BYLINE_RE.match(p)
                if mb:
                    date = (int(mb.group("y")), int(mb.group("m")), int(mb.group("d")))
                    who = (mb.group("issuer") or "").strip()
                    if not issuer and who and ISSUER_RE.search(who):
                        issuer = plan.issuer = who
                    break
        if date and 1 <= date[1] <= 12 and 1 <= date[2] <= 31 and 1900 < date[0] < 2200:
            plan.date = f"{date[0]:04d}-{date[1]:02d}-{date[2]:02d}"
        for p in head:
            if re.search(r"[::]$", p) and re.match(r"^各", p) and len(p) <= 120:
                plan.addressees = p.rstrip("::")
                break
        else:
            # 永昌縣、金川區人民政府,市政府各部門、單位,…: a salutation that names bodies
            for p in head:
                if re.search(r"[::]$", p) and len(p) <= 120 and "。" not in p \
                        and len(re.findall(r"(人民政府|政府|部門|部门|單位|单位|管委會|管委会|辦事處|办事处|機構|机构)", p)) >= 2:
                    plan.addressees = p.rstrip("::")
                    break
        ym = re.search(r"(\d{4})\s*(年|年度)", plan.title or "")
        if ym and 1900 < int(ym.group(1)) < 2200:
            plan.year = int(ym.group(1))
        elif plan.date:
            plan.year = int(plan.date[:4])

    def _signature(self, paras: list[str]) -> None:
        """Issuer and date from the signature at the end of the notice (普陀區人民政府辦公室 /
        2023年3月1日, then perhaps (此件公開發布), 抄送:…, 附件…), when the head gave none."""
        plan = self.plan
        if plan.issuer and plan.date:
            return
        for i in range(len(paras) - 1, max(-1, len(paras) - 9), -1):
            p = paras[i]
            m = SIGN_DATE_RE.match(p)
            if m:
                break
            if not (SIGNATURE_RE.match(p) or ATTACHMENT_RE.match(p)):
                return          # the last paragraphs are text: no signature
        else:
            return
        y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        if not plan.date and 1900 < y < 2200 and 1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]:
            plan.date = f"{y:04d}-{mo:02d}-{d:02d}"
            if not plan.year:
                plan.year = y
        if plan.issuer:
            return
        issuer = (m.group("issuer") or "").strip()
        if not issuer and i > 0:
            issuer = paras[i - 1].strip()
        if 2 <= len(issuer) <= 40 and ISSUER_RE.search(issuer) and not SECTION_RE.match(issuer) \
                and not re.search(r"[,,。;;::]", issuer) and not self._find_markers(issuer):
            plan.issuer = issuer

    @staticmethod
    def _is_meta_line(p: str) -> bool:
        return bool(re.match(r"^(發布日期|发布日期|發布時間|发布时间|成文日期|發文字號|发文字号|文號|文号|索引號|索引号)", p)) \
            or bool(DOC_NUMBER_RE.fullmatch(p.strip()))

    @staticmethod
    def _join_split_title(head: list[str]) -> list[str]:
        """A notice title broken over two lines (關于印發…法治政府建設 / 工作要點的通知) is one title."""
        out: list[str] = []
        i = 0
        while i < len(head):
            p = head[i]
            if i + 1 < len(head) and re.search(r"印[發发]", p) and not re.search(r"通知$", p) \
                    and re.search(r"通知$", head[i + 1]) and len(head[i + 1]) <= 30 and len(p) <= 60:
                out.append(p + head[i + 1])
                i += 2
                continue
            out.append(p)
            i += 1
        return out

    def _doc_number(self, head: list[str], allp: list[str]) -> str | None:
        for p in head[:12]:
            m = DOC_NUMBER_LABEL_RE.search(p)
            if m:
                found = DOC_NUMBER_RE.search(m.group(2))
                if found:
                    return found.group(0).strip()
        for p in head[:12]:
            if DOC_NUMBER_RE.fullmatch(p.strip()):
                return p.strip()
        for p in allp:
            if ATTACHMENT_RE.match(p):
                m = DOC_NUMBER_RE.search(p)
                if m:
                    return m.group(0)
        for p in head[:12]:
            m = DOC_NUMBER_RE.search(p)
            if m and not re.search(r"[((]\s*$", p[:m.start()]) and "《" not in p[:m.start()]:
                return m.group(0)
        return None

    # -- body ----------------------------------------------------------------
    def _split_epilogue(self, paras: list[str]) -> tuple[list[str], list[str]]:
        """The closing paragraphs (各地、各部門要…, 原則上…完成, 附件:…) after the last task."""
        end = len(paras)
        for i, p in enumerate(paras):
            if i > 0 and ATTACHMENT_RE.match(p) and not any(self._has_units(q) for q in paras[i + 1:]):
                end = i
                break
        # a 附件 line with tasks after it belongs to no task
        tail = paras[end:]
        paras = [p for i, p in enumerate(paras[:end]) if i == 0 or not ATTACHMENT_RE.match(p)]
        end = len(paras)
        paras = paras + tail
        # signature, date, (此件公開發布), 抄送 at the very end; an issuer the signature pattern
        # does not know (…依法治區辦) counts when a date line follows it
        dated = False
        while end > 1 and not self._find_markers(paras[end - 1]) \
                and not (SECTION_RE.match(paras[end - 1]) or SUBSECTION_RE.match(paras[end - 1])
                         or ITEM_RE.match(paras[end - 1])) \
                and (SIGNATURE_RE.match(paras[end - 1]) or dated and self._is_issuer_line(paras[end - 1])):
            if dated and not SIGNATURE_RE.match(paras[end - 1]):
                end -= 1
                break
            dated = dated or bool(SIGN_DATE_RE.match(paras[end - 1]))
            end -= 1
        for i, p in enumerate(paras[:end]):
            if i == 0 or SECTION_RE.match(p) or SUBSECTION_RE.match(p) or ITEM_RE.match(p) \
                    or UNIT_LINE_RE.match(p):
                continue
            closing = CLOSING_RE.match(p) or (DEFAULT_DEADLINE_RE.search(p) and
                                              parse_deadline(p, self.plan.year) is not None)
            if closing and not self._find_markers(p) and not any(
                    SECTION_RE.match(q) or self._find_markers(q) or UNIT_LINE_RE.match(q) for q in paras[i + 1:end]):
                return paras[:i], paras[i:]
        return paras[:end], paras[end:]

    def _epilogue(self, paras: list[str]) -> None:
        if self.plan.default_deadline:
            return
        year = self.plan.year
        for p in paras:
            if ATTACHMENT_RE.match(p):
                continue
            for sentence in re.split(r"(?<=[。;;])", p):
                if DEFAULT_DEADLINE_RE.search(sentence):
                    d = parse_deadline(sentence, year)
                    if d:
                        clause = re.search(r"(除[^,,。]*[,,])?[^,,。]*(原則上|原则上|未|其餘|其余|各項|各项)"
                                           r"[^。;]*", sentence)
                        self.plan.default_deadline = d[0]
                        self.plan.default_deadline_text = (clause.group(0) if clause else sentence).strip()
                        if not year:
                            self.plan.year = int(d[0][:4])
                        return

    @staticmethod
    def _split_heading(head: str) -> tuple[str | None, str]:
        """深化“最多跑一次”改革。加快推進… → (title, rest); a long heading without a title → (None, all)."""
        if not head:
            return None, ""
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

    # -- building the plan ----------------------------------------------------------
    def _build(self, secs: list[_Sec]) -> None:
        written = [s.value for s in secs]
        use_written = _increasing(written)
        for n, s in enumerate(secs, 1):
            sid = str(written[n - 1] if use_written else n)
            section = Section(id=sid, number=s.number, title=s.title)
            numbered = [ss for ss in s.subs if ss.number is not None]
            sub_written = _increasing([ss.value for ss in numbered])
            section_units: list[UnitRef] | None = None
            k = 0
            for ss in s.subs:
                if ss.number is None:
                    marked = any(isinstance(p, _Marker) for b in ss.blocks for p in b.pieces)
                    if numbered and not marked and not any(b.number for b in ss.blocks):
                        # paragraphs between a section heading and its first (一): the intro
                        text = "".join(p for b in ss.blocks for p in b.pieces if isinstance(p, str)).strip()
                        section.intro = text or None
                        section_units = ss.title_units
                        continue
                    if not ss.blocks and not ss.title_units:
                        continue
                    subid = f"{sid}.0"
                else:
                    k += 1
                    subid = f"{sid}.{ss.value if sub_written else k}"
                sub = Subsection(id=subid, number=ss.number, title=ss.title)
                self.lead_in = None
                sub.tasks = self._tasks(subid, ss, ss.title_units or section_units)
                if self.lead_in:
                    if ss.number is None:
                        section.intro = "\n".join(x for x in (section.intro, self.lead_in) if x)
                    else:
                        sub.intro = self.lead_in
                section.subsections.append(sub)
            self.plan.sections.append(section)

    def _tasks(self, subid: str, ss: _Sub, title_units: list[UnitRef] | None) -> list[Task]:
        runs: list[_Run] = []
        title_leader: str | None = None
        for bi, block in enumerate(ss.blocks):
            block_runs: list[_Run] = []
            cur = _Run(number=block.number)
            leading: _Marker | None = None
            for piece in block.pieces:
                if isinstance(piece, _DeadlineNote):
                    target = cur if cur.text.strip() or not block_runs else block_runs[-1]
                    target.deadline = piece.text
                elif isinstance(piece, _LeaderNote):
                    target = cur if cur.text.strip() or not block_runs else block_runs[-1]
                    target.leader = piece.text
                elif isinstance(piece, _Marker):
                    if not cur.text.strip(" 。;;,,.") and not cur.deadline:
                        if block_runs and block_runs[-1].marker is not None:
                            self._merge_marker(block_runs[-1].marker, piece)   # 牽頭單位 / 配合單位 lines
                            continue
                        if not block_runs:
                            if bi == 0 and block.number is None and title_units is None and piece.line:
                                title_units = piece.units    # units right under the heading
                                title_leader = piece.leader
                            else:
                                leading = piece
                            continue
                    cur.marker = piece
                    if piece.deadline and not cur.deadline:
                        cur.deadline = piece.deadline
                    block_runs.append(cur)
                    cur = _Run(number=None)
                else:
                    cur.text += piece
            self.tail_text = cur.text
            # words after a unit list in the same paragraph run: a new sentence was begun
            self.tail_after_marker = block.number is None and bool(block_runs)
            if cur.text.strip(" 。;;,,.") or cur.deadline:
                if block.number is not None and block_runs:
                    # trailing words after the units belong to the numbered item
                    block_runs[-1].text += cur.text
                    block_runs[-1].deadline = block_runs[-1].deadline or cur.deadline
                else:
                    if leading is not None and not block_runs:
                        cur.marker = leading
                    block_runs.append(cur)
            elif not block_runs and block.number is not None:
                block_runs.append(_Run(number=block.number, marker=leading))
            if block_runs:
                block_runs[0].number = block.number
            runs.extend(block_runs)

        # A unit line after several unmarked numbered items (one 責任單位 line after a list)
        # applies to all of them; flagged so that someone checks.
        for i, run in enumerate(runs):
            if run.marker and run.marker.line and not run.marker.bare and run.number is not None:
                j = i - 1
                while j >= 0 and runs[j].marker is None and runs[j].number is not None:
                    runs[j].marker = run.marker
                    runs[j].backfilled = True
                    j -= 1

        # A paragraph before numbered items that carry units, itself without units or a number
        # (各鄉鎮和縣直單位要…): the lead-in of the items, not a task.
        if len(runs) > 1 and runs[0].number is None and runs[0].marker is None and not runs[0].deadline \
                and not title_units and all(r.number is not None for r in runs[1:]) \
                and (any(r.marker is not None and not r.backfilled for r in runs[1:])
                     or LEAD_IN_RE.search(runs[0].text.strip())):
            self.lead_in = self._clean_task_text(runs[0].text) or None
            runs = runs[1:]

        has_any_marker = any(r.marker for r in runs) or title_units
        if not has_any_marker and len(runs) > 1 and all(r.number is None for r in runs):
            runs = [_Run(number=None, text="".join(r.text for r in runs),
                         deadline=next((r.deadline for r in runs if r.deadline), None))]
        if not runs:
            runs = [_Run(number=None, text=ss.title or "")]

        tasks: list[Task] = []
        for k, run in enumerate(runs, 1):
            text = self._clean_task_text(run.text)
            if not text and ss.title:
                text = ss.title
            task = Task(id=f"{subid}.{k}", text=text, number=run.number)
            marker = run.marker
            task.leader = run.leader or (marker.leader if marker else None) or title_leader
            if marker:
                task.units = [UnitRef(**vars(u)) for u in marker.units]
                if marker.bare:
                    task.warnings.append(self._bare_list_warning(task.units))
                if run.backfilled:
                    task.warnings.append(self.t("本條沒有自己的責任單位,已沿用同一小節後面「責任單位」行的單位,請核對。"))
                if marker.unclosed:
                    task.truncated = True
                    cut = self.t(f"(「{_q(marker.dropped)}」不完整,已略去)") if marker.dropped else ""
                    task.warnings.append(self.t("責任單位的括號沒有閉合,正文可能在此處被截斷") + cut
                                         + self.t(",請核對原文。"))
            elif title_units:
                task.units = [UnitRef(**vars(u)) for u in title_units]
            if not task.units:
                task.warnings.append(self.t("未標明責任單位,請在台賬中補填。"))
            self._enrich(task, run.deadline)
            tasks.append(task)
        return tasks

    def _bare_list_warning(self, units: list[UnitRef]) -> str:
        """A unit list without 責任單位: — say what roles the units were given (the first listed
        leads when parser.first_listed_is_lead is on), not just that they count as 責任單位."""
        head = "單位列表前沒有「責任單位:」字樣,"
        if all(u.role == "responsible" for u in units):
            return self.t(head + "已按責任單位處理。")
        said = {"lead": "牽頭", "co": "配合", "responsible": "為責任單位"}
        parts = []
        for role in ("lead", "responsible", "co"):
            names = [u.name for u in units if u.role == role]
            if names:
                parts.append("「" + "、".join(_q(n) for n in names) + "」" + said[role])
        return self.t(head + "已按責任單位名單處理:" + ",".join(parts)
                      + "(列第一位的牽頭,見 config.yaml 的 parser.first_listed_is_lead),請核對。")

    def _merge_marker(self, into: _Marker, extra: _Marker) -> None:
        for u in extra.units:
            if not any((x.canonical or x.name) == (u.canonical or u.name) for x in into.units):
                into.units.append(u)
        into.deadline = into.deadline or extra.deadline
        into.unclosed = into.unclosed or extra.unclosed
        into.dropped = into.dropped or extra.dropped
        into.leader = into.leader or extra.leader

    def _clean_task_text(self, txt: str) -> str:
        text = txt.strip()
        text = re.sub(r"\s+(?=[。,;、,;])", "", text)
        text = re.sub(r"^[。,;,;.\s]+", "", text)
        text = re.sub(r"。{2,}", "。", text)
        text = re.sub(r"([;;,,])。", "。", text)
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
            pieces.append(rest)

    def _strip_markers(self, text: str) -> str:
        out, pos = [], 0
        for start, end, _ in self._find_markers(text):
            out.append(text[pos:start])
            pos = end
        out.append(text[pos:])
        return "".join(out).strip()

    def _find_markers(self, text: str) -> list[tuple[int, int, _Marker]]:
        found: list[tuple[int, int, _Marker]] = []
        for m in PAREN_RE.finditer(text):
            inner = m.group(1).strip()
            lm = LABEL_RE.search(inner)
            if lm and lm.start() <= 12 and not re.search(r"[,,。;;]", inner[:lm.start()].strip(" ;;,,")):
                found.append((m.start(), m.end(), self._units_from_marker(inner, bare=False)))
                continue
            if self._is_role_verb_list(inner, text, m.end()):
                found.append((m.start(), m.end(), self._units_from_marker(inner, bare=False)))
                continue
            if self._is_bare_unit_list(inner, text, m.end()):
                found.append((m.start(), m.end(), self._units_from_marker(inner, bare=True)))
        # 責任單位:… after the last sentence, without parentheses
        pos = found[-1][1] if found else 0
        spans = [(m.start(), m.end()) for m in PAREN_RE.finditer(text)]
        for lm in LABEL_RE.finditer(text, pos):
            if any(s <= lm.start() < e for s, e in spans):
                continue
            before = text[:lm.start()].rstrip()
            if before and before[-1] not in SENTENCE_END + "))":
                continue
            if re.search(r"[((〔][^))〕]*$", text[pos:lm.start()]):
                continue        # inside a bracket that is not closed: an unclosed marker, below
            start = lm.start()
            if before.endswith(("(", "(")):
                continue
            found.append((start, len(text), self._units_from_marker(text[start:].rstrip("。;; "), bare=False)))
            break
        else:
            om = OPEN_MARKER_RE.search(text, pos)
            if om and not any(s <= om.start() < e for s, e in spans):
                marker = self._units_from_marker(om.group(0)[1:], bare=False, cut=True)
                marker.unclosed = True
                found.append((om.start(), len(text), marker))
        return found

    def _is_role_verb_list(self, inner: str, text: str, end: int) -> bool:
        """(區司法局牽頭,區級有關單位按職責分工負責) / (區司法局負責)."""
        after = text[end:end + 2].strip()
        if after and after[0] not in SENTENCE_END + "”":
            return False
        parts = [x.strip() for x in re.split(r"[,,;;]", inner) if x.strip()]
        if not parts or len(inner) > 200:
            return False
        known = 0
        for part in parts:
            m = ROLE_VERB_RE.search(part)
            if not m:
                return False
            who = part[:m.start()].strip()
            if not who:
                return False
            for it in self._split_units(who):
                if self.cfg.resolve(it) or self._resolve_etc(it) or self._segment(it):
                    known += 1
                elif not (UNIT_SUFFIX_RE.search(it) or GENERIC_GROUP_RE.search(norm_name(it))):
                    return False
                elif len(it) >= 3 and STRONG_UNIT_SUFFIX_RE.search(it) and not NOT_A_UNIT_RE.search(it):
                    known += 1      # a unit of another district: 縣司法局牽頭,縣公安局配合
        return known >= 1

    def _is_bare_unit_list(self, inner: str, text: str, end: int) -> bool:
        after = text[end:end + 2].strip()
        if after and after[0] not in SENTENCE_END:
            return False
        items = self._split_units(inner)
        if not items or len(inner) > 200:
            return False
        known = 0
        strong = 0
        for it in items:
            if self.cfg.resolve(it) or self._resolve_etc(it) or self._segment(it):
                known += 1
            elif len(it) >= 3 and UNIT_SUFFIX_RE.search(it) and not re.search(r"\d|以下|簡稱|简称", it):
                strong += bool(STRONG_UNIT_SUFFIX_RE.search(it) and not NOT_A_UNIT_RE.search(it))
                continue
            else:
                return False
        # one name the directory does not know counts when it is plainly an office: (縣司法局)
        return known >= 1 or len(items) >= 2 or strong == 1

    def _resolve_etc(self, item: str) -> list[str] | None:
        m = ETC_GROUP_RE.match(item)
        if not m:
            return None
        head, group = self.cfg.resolve(m.group(1)), self.cfg.resolve(m.group(2))
        if head and group:
            return [head, group]
        return None

    def _segment(self, item: str) -> list[tuple[str, str]] | None:
        """區司法局區財政局 (a list whose separators were lost) → [(as written, canonical)], or None."""
        written = re.sub(r"[\s“”\"']", "", item)
        s = norm_name(written)
        if len(s) < 4 or len(s) > 80:
            return None
        known = self.cfg.known_names()
        best: list[list[tuple[int, int]] | None] = [None] * (len(s) + 1)
        best[0] = []
        for i in range(len(s)):
            if best[i] is None:
                continue
            for j in range(i + 2, min(len(s), i + 30) + 1):
                if s[i:j] in known and (best[j] is None or len(best[j]) > len(best[i]) + 1):
                    best[j] = best[i] + [(i, j)]
        spans = best[len(s)]
        if not spans or len(spans) < 2:
            return None
        same = len(written) == len(s)
        return [(written[i:j] if same else in_script(known[s[i:j]], self.script), known[s[i:j]])
                for i, j in spans]

    def _units_from_marker(self, inner: str, bare: bool, cut: bool = False) -> _Marker:
        """`責任單位:A、B` / `牽頭單位:A;配合單位:B、C` / `A牽頭,B配合` / `A、B` → a marker."""
        inner = inner.strip()
        deadline = None
        dm = DEADLINE_CLAUSE_RE.search(inner)
        if dm:
            deadline = dm.group(1).strip(" ;;,,。")
            inner = (inner[:dm.start()] + inner[dm.end():]).strip()
        leader = None
        lm0 = LEADER_CLAUSE_RE.search(inner)
        if lm0:
            leader = lm0.group(1).strip(" ;;,,。") or None
            inner = (inner[:lm0.start()] + inner[lm0.end():]).strip(" ;;")
        clauses: list[tuple[str, str, str | None]] = []   # (role, text, role of the rest)
        labels = list(LABEL_RE.finditer(inner))
        if not labels:
            parts = [x for x in re.split(r"[,,;;]", inner) if x.strip()]
            if parts and all(ROLE_VERB_RE.search(p.strip()) for p in parts) and not bare:
                for p in parts:
                    p = p.strip()
                    m = ROLE_VERB_RE.search(p)
                    verb = m.group(1)
                    first = re.match(r"(牽頭|牵头|配合|協辦|协办|參與|参与|協助|协助|協同|协同)", verb)
                    role = ROLE_WORDS[first.group(1)] if first else "responsible"
                    clauses.append((role, p[:m.start()], None))
            else:
                clauses.append(("responsible", inner, None))
        else:
            if labels[0].start() > 0 and inner[:labels[0].start()].strip(" ;;,,"):
                clauses.append(("responsible", inner[:labels[0].start()], None))
            for i, lm in enumerate(labels):
                end = labels[i + 1].start() if i + 1 < len(labels) else len(inner)
                label = lm.group("b") or lm.group("c")
                words = re.findall(_ROLE_WORD, label)
                roles = [ROLE_WORDS[w] for w in words] or ["responsible"]
                # 責任單位/配合單位: A、B → A as the first word says, the rest as the last word says
                clauses.append((roles[0], inner[lm.end():end], roles[-1] if len(roles) > 1 else None))
        units: list[UnitRef] = []
        explicit = any(r != "responsible" for r, _, _ in clauses) or any(rest for _, _, rest in clauses)
        dropped = None
        keep_responsible: set[int] = set()
        for ci, (role, body, rest_role) in enumerate(clauses):
            body = body.strip().strip(";;,,。")
            said = set()
            items = self._split_units(body, said)
            if cut and ci == len(clauses) - 1 and items:
                # the last name of a cut-off list may be incomplete
                last = items[-1]
                if not self.cfg.resolve(last) and not self._resolve_etc(last):
                    dropped = last
                    items = items[:-1]
            # 區政府辦(牽頭)、區司法局: one marked lead in a plain list, the others co-operate
            marked_lead = role == "responsible" and any(
                (m := INLINE_ROLE_RE.search(it)) and ROLE_WORDS[m.group(1)] == "lead" for it in items)
            for n, item in enumerate(items):
                item_role = role if (n == 0 or rest_role is None) else rest_role
                if marked_lead:
                    item_role = "co"
                im = INLINE_ROLE_RE.search(item)
                if im:
                    item = QUALIFIERS.sub("", item[:im.start()]).strip(" 。.")
                    if not item:
                        continue
                    item_role = ROLE_WORDS[im.group(1)]
                    explicit = True
                for name, canonical in self._resolve_item(item):
                    if any((u.canonical or u.name) == (canonical or name) for u in units):
                        continue
                    group = bool(canonical and self.cfg.is_group(canonical)) or \
                        (canonical is None and bool(GENERIC_GROUP_RE.search(norm_name(name))))
                    if n in said and role == "responsible":
                        keep_responsible.add(len(units))     # 各單位按職責分工負責
                    units.append(UnitRef(name=name, canonical=canonical, role=item_role, group=group))
        if self.cfg.first_listed_is_lead and units and not units[0].group:
            if not explicit:
                units[0].role = "lead"
                for k, u in enumerate(units[1:], 1):
                    u.role = "responsible" if k in keep_responsible else "co"
            elif units[0].role == "responsible" and not any(u.role == "lead" for u in units):
                units[0].role = "lead"      # 責任單位/配合單位: A、B → A leads
        return _Marker(units=units, bare=bare, deadline=deadline, dropped=dropped, leader=leader)

    def _split_units(self, body: str, responsible: set[int] | None = None) -> list[str]:
        """`A、B,C按職責分工負責` → [A, B, C]; `responsible` collects the positions of the names
        that carried a 負責 phrase (they stay 責任 when the first listed is made lead).

        A group phrase written with 、 inside it (各鎮、街道, 鎮、街道, 各鎮人民政府、街道辦事處)
        stays one name: neighbours joined by 、 that the directory knows as one name, or a
        town word followed by a bare 街道."""
        # split on 、,; but not inside parentheses: 各鎮(街道、社區)
        raw, seps, depth, cur = [], [], 0, ""
        for ch in body:
            if ch in "((<【":
                depth += 1
            elif ch in "))>】":
                depth = max(0, depth - 1)
            if depth == 0 and ch in "、,,;;/":
                raw.append(cur)
                seps.append(ch)
                cur = ""
            else:
                cur += ch
        raw.append(cur)
        # (name, said 負責, has an inline role, separator before it)
        cleaned: list[tuple[str, bool, bool, str | None]] = []
        for k, it in enumerate(raw):
            sep = seps[k - 1] if k else None
            it = it.strip(" 。.")
            if INLINE_ROLE_RE.search(it):
                cleaned.append((it, False, True, sep))
                continue
            said_responsible = bool(re.search(r"負責|负责", it))
            it = QUALIFIERS.sub("", it).strip(" 。.")
            it = re.sub(r"^(以及|及|和|與|与|由)", "", it)
            it = re.sub(r"等(單位|单位|部門|部门)?$", "", it)
            if it:
                cleaned.append((it, said_responsible, False, sep))
        out: list[str] = []
        i = 0
        while i < len(cleaned):
            took = 1
            if not cleaned[i][2]:
                for j in range(min(len(cleaned), i + 3), i + 1, -1):
                    parts = cleaned[i:j]
                    if any(p[2] for p in parts) or any(p[3] != "、" for p in parts[1:]):
                        continue
                    joined = "、".join(p[0] for p in parts)
                    if self.cfg.resolve(joined) or (
                            j == i + 2 and TOWN_WORD_RE.match(norm_name(parts[0][0]))
                            and norm_name(parts[1][0]) == "街道"):
                        took = j - i
                        break
            parts = cleaned[i:i + took]
            if any(p[1] for p in parts) and responsible is not None:
                responsible.add(len(out))
            out.append("、".join(p[0] for p in parts))
            i += took
        return out

    def _resolve_item(self, item: str) -> list[tuple[str, str | None]]:
        canonical = self.cfg.resolve(item)
        if canonical:
            return [(item, canonical)]
        # 區司法局(區委依法治區辦) / 區委宣傳部(區文明辦): a unit with its other name in brackets
        am = re.match(r"^(.{2,}?)[((]([^()()]{2,})[))]$", item)
        if am:
            alias = self.cfg.resolve(am.group(1)) or self.cfg.resolve(am.group(2))
            if alias:
                return [(item, alias)]
        m = ETC_GROUP_RE.match(item)
        if m:
            head, tail = m.group(1), m.group(2)
            hc, tc = self.cfg.resolve(head), self.cfg.resolve(tail)
            # 縣司法局等縣直有關部門 in another district: an office and a group, both unknown here
            plain = len(head) >= 3 and STRONG_UNIT_SUFFIX_RE.search(head) and not NOT_A_UNIT_RE.search(head) \
                and GENERIC_GROUP_RE.search(norm_name(tail))
            if hc or tc or plain:
                out = [(head, hc), (tail, tc)]
                for name, c in out:
                    if c is None:
                        self.unknown.setdefault(name, None)
                return out
        seg = self._segment(item)
        if seg:
            return seg
        # 縣司法局縣財政局縣審計局: another district's names whose separators a web page lost
        parts = RUN_TOGETHER_RE.split(item)
        if len(parts) >= 2 and all(len(x) >= 3 and STRONG_UNIT_SUFFIX_RE.search(x) and not NOT_A_UNIT_RE.search(x)
                                   for x in parts):
            for x in parts:
                self.unknown.setdefault(x, None)
            return [(x, None) for x in parts]
        self.unknown.setdefault(item, None)
        return [(item, None)]

    # -- task details -----------------------------------------------------------
    def _enrich(self, task: Task, own_deadline: str | None = None) -> None:
        task.indicators = extract_indicators(task.text, task.id)
        year = self.plan.year
        if own_deadline:
            # a deadline cell or clause says just 第三季度 / 6月 / 年底: by the end of it
            d = parse_deadline(own_deadline, year) or parse_deadline(own_deadline.rstrip("。") + "前", year)
            if d:
                task.deadline, task.deadline_text = d[0], own_deadline
            elif RECURRING_DEADLINE_RE.search(own_deadline):
                task.recurring = True
                task.deadline_text = own_deadline
                self._recurring_warning(task, own_deadline)
            else:
                task.deadline_text = own_deadline
                task.warnings.append(self.t(f"完成時限「{_q(own_deadline)}」無法識別為日期,請在台賬中填寫。"))
        else:
            d = parse_deadline(task.text, year, own_only=True)
            if d:
                task.deadline, task.deadline_text = d
        if not task.deadline and not task.recurring:
            phrase = self._recurring_phrase(task.text)
            if phrase:
                task.recurring = True
                self._recurring_warning(task, phrase)

    def _recurring_warning(self, task: Task, phrase: str) -> None:
        task.warnings.append(self.t(f"按「{_q(phrase)}」推斷為經常性工作,無統一完成時限,請核對。"))

    def _recurring_phrase(self, text: str) -> str | None:
        """The words by which a task says it is recurring work, as written; None when it does not.

        Conservative (docs/parse.md): a marker of parser.recurring_markers (經常性, 長期堅持,
        常態化開展) counts only as the task's own framing: at the start of the task
        (常態化開展法治宣傳…), at its very end (…,長期堅持。), or said of the work itself
        (…為經常性工作 / 經常性任務). A marker inside the task (建立經常性監督機制, 推動出庭應訴
        常態化, 常態化“立改廢釋”工作機制) is a goal or a mechanism, not recurring work."""
        body = text.strip()
        for marker in self.cfg.recurring_markers:
            forms = {marker, to_simplified(marker), to_traditional(marker)}
            alt = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True) if f)
            if not alt:
                continue
            for pattern in (rf"^(?:要|應|应|堅持|坚持|繼續|继续)?({alt})",
                            rf"({alt})(?:下去|開展|开展|推進|推进)?\s*[。.;;!]?\s*$",
                            rf"({alt})(?:工作|任務|任务)(?=\s*(?:[,,;;。.]|$))"):
                m = re.search(pattern, body)
                if m:
                    return m.group(1)
        return None

    @staticmethod
    def _is_issuer_line(p: str) -> bool:
        """A short line that names an office and says nothing else: 普陀區依法治區辦."""
        return 2 <= len(p) <= 30 and bool(ISSUER_RE.search(p)) and not re.search(r"[,,。;;::!?、]", p) \
            and not (SECTION_RE.match(p) or SUBSECTION_RE.match(p) or ITEM_RE.match(p))

    def _closing_tail(self, epilogue: list[str]) -> str | None:
        """The last paragraph of the closing part's text: before any 附件, without the signature,
        the date, 特此通知, 此件/抄送 lines and contact lines. None when there is none."""
        text: list[str] = []
        for p in epilogue:
            if ATTACHMENT_RE.match(p):
                break
            if SIGNATURE_RE.match(p) or SIGN_DATE_RE.match(p) or CLOSING_FURNITURE_RE.match(p):
                continue
            if self._is_issuer_line(p):
                continue    # an issuer line the signature pattern does not know (…依法治區辦)
            text.append(p)
        return text[-1] if text else None

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
                         or getattr(self, "tail_after_marker", False)):
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
        plan.warnings.extend(self.notes)
        for task in tasks:
            for w in task.warnings:
                plan.warnings.append(self.t(f"任務 {task.id}:") + w)
_AFFIX_HEAD = re.compile(r"^(舟山市|浙江省|浙江)?(普陀區|普陀区|普陀)?(中共)?(區委|区委|區|区|縣委|县委|縣|县|市委|市)?")
_AFFIX_TAIL = re.compile(r"(分局|局|辦公室|办公室|辦|办|委員會|委员会|中心|部|院|所|處|处)$")


def _core(name: str) -> str:
    """區市場監管分局 → 市場監管: what tells units apart (all of them start 區 and end 局)."""
    s = norm_name(name)
    core = _AFFIX_TAIL.sub("", _AFFIX_HEAD.sub("", s))
    return core or s


def closest_units(name: str, cfg: Config, n: int = 3) -> list[str]:
    """The config's units and groups whose names are closest to `name`, best first."""
    target, core = norm_name(name), _core(name)
    generic = bool(GENERIC_GROUP_RE.search(target))
    scores: dict[str, float] = {}
    for alias, canonical in cfg.known_names().items():
        if generic and not cfg.is_group(canonical):
            continue
        full = difflib.SequenceMatcher(None, target, alias).ratio()
        c = _core(alias)
        part = difflib.SequenceMatcher(None, core, c).ratio() if len(core) >= 2 and len(c) >= 2 else 0.0
        if len(core) >= 2 and len(c) >= 2 and (core in c or c in core) \
                and min(len(core), len(c)) / max(len(core), len(c)) >= 0.5:
            part = max(part, 0.8)
        score = max(full if full >= 0.75 else 0.0, part if part >= 0.6 else 0.0)
        if score > scores.get(canonical, 0.0):
            scores[canonical] = score
    ranked = sorted((x for x in scores.items() if x[1] > 0), key=lambda kv: -kv[1])
    return [k for k, _ in ranked[:n]]


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
_COUNT_UNITS = (r"(個百分點|个百分点|人次|學時|学时|課時|课时|件|個|个|項|项|家|次|場|场|所|批|篇|條|条|宗|戶|户|"
                r"期|輪|轮|名|人)")
COUNT_RE = re.compile(
    rf"(實現|实现|完成|達到|达到|新增|不少於|不少于|不低於|不低于|至少|累計|累计|建成|打造|培育|創建|创建|力爭|力争|配備|配备|"
    rf"提高|提升|增加|超過|超过)\s*(?:(?:開展|开展|組織|组织|舉辦|举办|召開|召开|進行|进行|安排|聽取|听取|"
    rf"參加|参加|檢查|检查)\s*)?{_NUM}\s*{_COUNT_UNITS}(以上)?")
# 20件以上 / 不超過3次: a count with its direction after it
# 新增公共法律服務站點20個: the count after what is built
COUNT_NOUN_RE = re.compile(
    rf"(新增|建成|新建|打造|培育|創建|创建|設立|设立)([\u4e00-\u9fff“”]{{1,12}}?){_NUM}\s*(個|个|家|所|名|支|處|处|座|條|条)(以上)?"
    rf"(?=[,,。;;、)]|$)")
COUNT_POST_RE = re.compile(rf"(?<![\d.第])\s*{_NUM}\s*(個百分點|个百分点|人次|學時|学时|件|項|项|家|場|场|篇|個|个|次|期|分)"
                           rf"(以上|以下|以內|以内)")
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
    # counts whose counted thing follows them (至少組織1次旁聽庭審 / 2次以上法治講座)
    named_after: set[int] = set()
    for m in COUNT_RE.finditer(flat):
        if overlaps(m.start(2), m.end()):
            continue
        ind = Indicator(text=m.group(0), value=float(m.group(2)), unit=m.group(3), op=">=")
        found.append((m.start(), m.end(), ind))
        if re.search(r"(開展|开展|組織|组织|舉辦|举办|召開|召开|進行|进行|安排|聽取|听取|參加|参加|檢查|检查)\s*$",
                          flat[m.start():m.start(2)]):
            named_after.add(id(ind))
    for m in COUNT_NOUN_RE.finditer(flat):
        if overlaps(m.start(3), m.end()):
            continue
        ind = Indicator(text=flat[m.start(3):m.end()], value=float(m.group(3)), unit=m.group(4), op=">=")
        found.append((m.start(3), m.end(), ind))
    for m in COUNT_POST_RE.finditer(flat):
        if overlaps(m.start(1), m.end()):
            continue
        op = ">=" if m.group(3) == "以上" else "<="
        ind = Indicator(text=flat[m.start(1):m.end()], value=float(m.group(1)), unit=m.group(2), op=op)
        found.append((m.start(1), m.end(), ind))
        named_after.add(id(ind))
    found.sort(key=lambda x: x[0])
    out = []
    for n, (s, e, ind) in enumerate(found, 1):
        after = re.match(r"的?([\u4e00-\u9fff“”]{2,20}?)(?=[,,。;;::()()、]|至少|不少|不低|\d|$)", flat[e:]) \
            if id(ind) in named_after else None
        ind.name = _balance_quotes(after.group(1)) if after else _indicator_name(flat, s, e)
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


_DEADLINE_PATTERNS = [
    (r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日號号]\s*(?:前|之前|以前|完成)(?![后後])", "day"),
    (r"(?:(\d{4})\s*年\s*)?(\d{1,2}|十[一二]|[一二三四五六七八九十])\s*月\s*份?\s*"
     r"(?:(?:底|末)\s*(?:前|之前|以前)?|(?:前|之前|以前)|(?<=份)\s*(?:完成|[內内]))(?![后後])", "month"),
    # 4月至6月開展… / 2022年1月—12月: the work runs until the end of the later month
    (r"(?:(\d{4})\s*年\s*)?(?:\d{1,2})\s*月\s*份?\s*(?:至|到|—|－|~|～|-)\s*(\d{1,2})\s*月\s*份?(?:底|末)?", "month"),
    (r"(?:(\d{4})\s*年\s*)?(?:第\s*)?([一二三四1-4])\s*季度\s*(?:(?:末|底)\s*(?:前|之前|以前)?|前|之前|以前|完成|[內内])",
     "quarter"),
    (r"(?:(\d{4})\s*年\s*)?上半年\s*(?:底前|末前|前|之前|完成|[內内])", "h1"),
    (r"(?:(\d{4})\s*年\s*)?下半年\s*(?:底前|末前|前|之前|完成|[內内])?", "year"),
    (r"(?:(\d{4})\s*年\s*)?(?:年底|年末|(?<![一二三四五六七八九十兩两\d])年[內内]|(?<=\d{4}年)底)"
     r"\s*(?:前|之前|以前)?\s*(?:完成|建成|實現|实现|出臺|出台)?", "year"),
]


def _deadline_candidates(text: str, year: int | None):
    flat = halfwidth(text)
    for pat, kind in _DEADLINE_PATTERNS:
        for m in re.finditer(pat, flat):
            explicit = int(m.group(1)) if m.group(1) else None
            y = explicit or year
            if y is None:
                continue
            phrase = m.group(0).strip()
            try:
                if kind == "day":
                    mo, d = int(m.group(2)), int(m.group(3))
                    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]):
                        continue
                    date = f"{y:04d}-{mo:02d}-{d:02d}"
                elif kind == "month":
                    mo_s = m.group(2)
                    mo = int(mo_s) if mo_s.isdigit() else _CN_MONTH.get(mo_s, 0)
                    if not 1 <= mo <= 12:
                        continue
                    date = _month_end(y, mo)
                elif kind == "quarter":
                    date = _month_end(y, _QUARTER[m.group(2)])
                elif kind == "h1":
                    date = _month_end(y, 6)
                else:
                    date = f"{y:04d}-12-31"
            except (ValueError, KeyError, calendar.IllegalMonthError):
                continue
            yield date, m.start(), phrase, kind, explicit


def parse_deadline(text: str, year: int | None, own_only: bool = False) -> tuple[str, str] | None:
    """A deadline phrase in `text` → (YYYY-MM-DD, phrase); None when there is none.

    `year` fills in phrases without one (6月底前 → year-06-30). With several phrases the latest
    date wins (6月底前出臺方案,年底前全面完成 → year end: the milestone is not the deadline).
    With `own_only` (a task's text), a bare 年底 without 前/完成 is not a deadline, and phrases
    for another year than `year` (到2025年底前基本建成) are a longer-term aim, not this plan's.
    """
    best = None
    for date, pos, phrase, kind, explicit in _deadline_candidates(text, year):
        if own_only:
            if kind == "year" and not re.search(r"前|完成|建成|實現|实现|出臺|出台|年內|年内", phrase):
                continue
            if explicit and year and explicit != year:
                continue
        if best is None or date > best[0]:
            best = (date, phrase)
    return best
