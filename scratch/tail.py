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
    rf"(實現|实现|完成|達到|达到|新增|不少於|不少于|不低於|不低于|至少|累計|累计|建成|打造|培育|創建|创建|力爭|力争|"
    rf"提高|提升|增加|超過|超过)\s*{_NUM}\s*{_COUNT_UNITS}(以上)?")
# 20件以上 / 不超過3次: a count with its direction after it
COUNT_POST_RE = re.compile(rf"(?<![\d.第])\s*{_NUM}\s*(個百分點|个百分点|人次|學時|学时|件|項|项|家|場|场|篇|個|个)(以上|以下|以內|以内)")
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
                                                    unit=m.group(3), op=">="))
    for m in COUNT_POST_RE.finditer(flat):
        if overlaps(m.start(1), m.end()):
            continue
        op = ">=" if m.group(3) == "以上" else "<="
        found.append((m.start(1), m.end(), Indicator(text=flat[m.start(1):m.end()], value=float(m.group(1)),
                                                     unit=m.group(2), op=op))))
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


_DEADLINE_PATTERNS = [
    (r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日號号]\s*(?:前|之前|以前|完成)(?![后後])", "day"),
    (r"(?:(\d{4})\s*年\s*)?(\d{1,2}|十[一二]|[一二三四五六七八九十])\s*月\s*份?\s*"
     r"(?:(?:底|末)\s*(?:前|之前|以前)?|(?:前|之前|以前))(?![后後])", "month"),
    (r"(?:(\d{4})\s*年\s*)?(?:第\s*)?([一二三四1-4])\s*季度\s*(?:(?:末|底)\s*(?:前|之前|以前)?|前|之前|以前|完成)",
     "quarter"),
    (r"(?:(\d{4})\s*年\s*)?上半年\s*(?:底前|末前|前|之前|完成)", "h1"),
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
