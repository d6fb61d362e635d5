"""Targets and deadlines of a task: the quantitative targets (考評指標) in its text, its
deadline (a 完成時限 line or clause, else a phrase in its text, else the notice's default) and
whether it is recurring work (經常性工作).

`extract_indicators` and `parse_deadline` are plain functions (the workbook's read-back uses them
too); `TargetsAndDeadlines._enrich` fills them into each task as the plan is built.
"""
from __future__ import annotations

import calendar
import re

from putuo_xl.plan.model import Indicator, Task
from putuo_xl.plan.parse_state import ParserState, _q
from putuo_xl.text import halfwidth, to_simplified, to_traditional

# 完成時限:… on a line of its own, or as a clause inside a unit marker
_DEADLINE_LABEL = r"(?:完成時限|完成时限|進度安排|进度安排|時間安排|时间安排|完成時間|完成时间|完成期限|時間節點|时间节点|時限要求|时限要求|時間要求|时间要求|時限|时限)"
DEADLINE_LINE_RE = re.compile(
    rf"^\s*(?:[((]\s*)?(?:[【\[]\s*{_DEADLINE_LABEL}\s*[】\]]\s*[::]?|{_DEADLINE_LABEL}\s*[::])\s*(.*?)[))]?\s*[。;;]?\s*$")
DEADLINE_CLAUSE_RE = re.compile(rf"{_DEADLINE_LABEL}\s*[::]\s*([^;;]*)")
RECURRING_DEADLINE_RE = re.compile(
    r"(長期|长期|持續|持续|經常|经常|常態|常态|全年|每年|每季度|每月|常年|年度內|年度内|貫穿全年|贯穿全年)")


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
    rf"(新增|建成|新建|打造|培育|創建|创建|設立|设立|開工|开工|新開工|新开工|增設|增设|安裝|安装)"
    rf"([\u4e00-\u9fff“”]{{0,12}}?){_NUM}\s*(個|个|家|所|名|支|處|处|座|條|条|部|套|台|臺|輛|辆)(以上)?"
    rf"(?=[,,。;;、)]|$)")
# quantities held under a ceiling: 全市用水總量控制在11.88億立方米以內
MEASURE_RE = re.compile(
    rf"(控制在|不超過|不超过|壓減到|压减到|壓減至|压减至|降低到|降低至|下降到|下降至)\s*{_NUM}\s*"
    rf"(億|亿|萬|万)?(立方米|噸|吨|畝|亩|平方米|公里|千瓦時|千瓦时|噸標準煤|吨标准煤)(以內|以内|以下)?")
COUNT_POST_RE = re.compile(rf"(?<![\d.第])\s*{_NUM}\s*(個百分點|个百分点|人次|學時|学时|件|項|项|家|場|场|篇|個|个|次|期|分)"
                           rf"(以上|以下|以內|以内)")
MONEY_RE = re.compile(
    rf"(力爭|力争|實現|实现|完成|達到|达到|新增|減輕|减轻|節約|节约|降低|減少|减少|增加|突破|超過|超过|爭取|争取|"
    rf"撬動|撬动|帶動|带动|投資|投资|籌集|筹集|落實|落实)[^,,。;;\d]{{0,12}}?{_NUM}\s*(億元|亿元|萬元|万元)"
    rf"(以上|以內|以内|以下)?")
CN_COUNT_RE = re.compile(
    r"(至少|不少於|不少于|不低於|不低于)\s*([一二兩两三四五六七八九十]{1,3})\s*"
    r"(次|個|个|項|项|場|场|期|名|人|家|所|篇|批|輪|轮)")


def _cn_count(s: str) -> int | None:
    digits = {"一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    if s == "十":
        return 10
    if "十" in s:
        a, _, b = s.partition("十")
        return (digits.get(a, 1) if a else 1) * 10 + (digits.get(b, 0) if b else 0)
    return digits.get(s) if len(s) == 1 else None


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
    for m in MEASURE_RE.finditer(flat):
        if overlaps(m.start(2), m.end()):
            continue
        unit = (m.group(3) or "") + m.group(4)
        ind = Indicator(text=flat[m.start(2):m.end()], value=float(m.group(2)), unit=unit, op="<=")
        found.append((m.start(2), m.end(), ind))
    # money: 力爭減輕企業各類負擔200億元
    for m in MONEY_RE.finditer(flat):
        if overlaps(m.start(2), m.end()):
            continue
        op = "<=" if m.group(4) in ("以內", "以内", "以下") else ">="
        ind = Indicator(text=flat[m.start(2):m.end()], value=float(m.group(2)), unit=m.group(3), op=op)
        found.append((m.start(2), m.end(), ind))
    # counts in words: 每年開展至少一次執法能力培訓 / 不少於兩次
    for m in CN_COUNT_RE.finditer(flat):
        if overlaps(m.start(), m.end()):
            continue
        value = _cn_count(m.group(2))
        if value is None:
            continue
        ind = Indicator(text=m.group(0), value=float(value), unit=m.group(3), op=">=")
        found.append((m.start(), m.end(), ind))
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


class TargetsAndDeadlines(ParserState):
    """A task's targets, deadline and recurring work, filled in as the task is built."""

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
