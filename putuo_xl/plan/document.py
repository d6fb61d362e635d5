"""The document's head and tail: where the body begins (in the attachment of a covering
notice), the metadata in the head (title, issuer, doc number, date, addressees), the signature
at the end, and the closing part after the last task (where the default deadline usually is).
"""
from __future__ import annotations

import calendar
import re

from putuo_xl.plan.roles import UNIT_LINE_RE
from putuo_xl.plan.structure import ITEM_RE, SECTION_RE, SUBSECTION_RE, StructureScan
from putuo_xl.plan.targets import parse_deadline

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
                           r"工作任務|工作任务|任務分解|任务分解|責任分解|责任分解|分工方案|責任分工|责任分工)(表)?$")
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


class DocumentParts(StructureScan):
    """Where the body begins and what the head and tail say about the notice."""

    # -- where the body begins ----------------------------------------------------
    def _find_body_start(self, paras: list[str]) -> tuple[int | None, bool]:
        for i, p in enumerate(paras):
            m = SECTION_RE.match(p)
            if m and m.group(2) and (len(m.group(2)) <= 60 or self._section_heading(p)):
                # a page that begins inside the body ((上接第一版) … (三)… 4.… before the 三、 the
                # copy has): the body begins at that subsection
                for k in range(min(i, 3)):
                    if SUBSECTION_RE.match(paras[k]) and any(ITEM_RE.match(q) for q in paras[k + 1:i]) \
                            and not any(PLAN_TITLE_RE.search(q) or SIGN_DATE_RE.match(q) for q in paras[:i]):
                        return k, False
                return i, False
        # No 一、 headings: start at the first (一) or numbered item that carries units.
        for i, p in enumerate(paras):
            if SUBSECTION_RE.match(p) and SUBSECTION_RE.match(p).group(2):
                return i, True
            mi = ITEM_RE.match(p)
            if mi and (self._find_markers(p) or any(UNIT_LINE_RE.match(q) for q in paras[i + 1:i + 3])):
                return i, True
        return None, False

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
        # a page's column label before the title: 【市政府重點工作及責任分解】滁州市人民政府關於…,
        # a document number run into it: 鞍立政發〔2023〕2號立山區人民政府關於…
        head = [re.sub(r"^【[^】]{2,20}】(?=\S{6,})", "", p) for p in head]
        head = [p[m.end():] if (m := DOC_NUMBER_RE.match(p)) and re.search(r"(關于|关于|關於).*通知$", p[m.end():])
                else p for p in head]
        titles = [p for p in head if re.search(r"(關于|关于|關於)?印[發发].*(通知|通報|通报)$", p)]
        if titles:
            # prefer the one that names its issuer (舟山市…辦公室關于印發…) over a page's short title
            notice_title = max(titles, key=lambda x: (bool(re.match(r"^.+?(關于|关于|關於)", x)), len(x)))
        for p in head:
            if p not in titles and re.search(plan_title_re, p) and len(p) <= 60 and not plan_title \
                    and not re.search(r"[,,;;:]", p) and not ITEM_RE.match(p):
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

    # -- tail -------------------------------------------------------------------
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
