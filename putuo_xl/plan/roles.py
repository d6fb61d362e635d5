"""Unit markers and roles: where a task names its units — (責任單位:A、B), 【牽頭單位】…,
(牽頭單位:A;配合單位:B), (A牽頭,B按職責分工負責), A(牽頭)、B, a bare (A、B), a list cut off
before its closing parenthesis — and the role each unit gets (牽頭 lead, 配合 co, 責任
responsible), with a 完成時限 or 牽頭領導 given inside the marker. The names in a list are
read by units.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from putuo_xl.plan.model import UnitRef
from putuo_xl.plan.parse_state import SENTENCE_END, _q
from putuo_xl.plan.targets import DEADLINE_CLAUSE_RE
from putuo_xl.plan.units import (GENERIC_GROUP_RE, INLINE_ROLE_RE, NOT_A_UNIT_RE, QUALIFIERS,
                                 STRONG_UNIT_SUFFIX_RE, UNIT_SUFFIX_RE, UnitNames)
from putuo_xl.text import norm_name

_ROLE_WORD = r"(?:牽頭|牵头|主辦|主办|配合|協辦|协办|參與|参与|協同|协同|協助|协助|責任|责任|主責|主责|承辦|承办|承擔|承担)"
# 牽頭單位, and the compound 牽頭責任單位 / 協同責任單位 (the first word says the role)
_ROLE_LABEL = rf"{_ROLE_WORD}(?:責任|责任)?(?:單位|单位|部門|部门|主體|主体)"
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
                 r"(?:縣|县|區|区|市)?(?:負責|负责)?(?:領導|领导|負責人|负责人)")
LEADER_LINE_RE = re.compile(rf"^\s*[((〔]?\s*{_LEADER_LABEL}\s*[::]\s*(.*?)\s*[))〕]?\s*[。;;]?\s*$")
LEADER_CLAUSE_RE = re.compile(rf"{_LEADER_LABEL}\s*[::]\s*([^;;]*)[;;]?")

# One level of nested parentheses inside: (責任單位:區級有關單位、各鎮(街道)). Text copied out
# of a PDF often brackets the units with 〔〕: 〔牽頭單位:…;責任單位:…〕.
_PAREN = r"[((【\[〔]((?:[^()()【】\[\]〔〕]|[((<〔\[][^()()〔〕\[\]]*[))>〕\]])*)[))】\]〕]"
PAREN_RE = re.compile(_PAREN)
# A unit list whose closing parenthesis is missing (the text was cut off).
OPEN_MARKER_RE = re.compile(rf"[((〔]\s*(?:{_LABELS})\s*[::](?:[^()()〔〕]|[((][^()()]*[))])*$")
_ROLE_VERB = (r"(牽頭負責|牵头负责|牽頭|牵头|配合|協辦|协办|參與|参与|協助|协助|協同|协同|"
              r"按職責分工負責|按职责分工负责|按職責分工分別負責|按职责分工分别负责|按職責負責|按职责负责|"
              r"分別負責|分别负责|共同負責|共同负责|具體負責|具体负责|負責|负责)$")
ROLE_VERB_RE = re.compile(_ROLE_VERB)

# A convention a notice states with a unit list: the first listed leads (for the lists after it
# too when it says 下同): (A、B、C。排名第一的為牽頭單位,下同), …(列第一位者為工作牽頭單位或匯總單位,下同)
CONVENTION_RE = re.compile(
    r"[。;；,，]?\s*[(（]?\s*(?:排名第一|排在第一位?|列第一位|列在第一位|列首位|排首位|第一個|第一个|排名首位)"
    r"(?:的|者)?(?:單位|单位|部門|部门)?\s*(?:為|为|是)\s*(?:工作)?(?:牽頭|牵头|主辦|主办)(?:單位|单位|部門|部门)?"
    r"(?:或(?:工作)?(?:匯總|汇总)(?:單位|单位))?\s*(?P<same>[,，;；]?\s*(?:下同|以下同))?\s*[)）]?[。]?")
# A task's deadline given as the last item of its unit list: (…,湘西經開區管委會,6月底完成)
LIST_DEADLINE_RE = re.compile(
    r"[,，;；]\s*(?P<d>(?:\d{4}年)?(?:\d{1,2}月(?:\d{1,2}日)?(?:底|末|中旬|上旬|下旬)?|年底|年內|年内|上半年|下半年|"
    r"[一二三四]季度)(?:前|以前|內|内)?(?:完成|辦結|办结|見效|见效)?)\s*$")
# Units named before the work: 由省經貿委負責,省農業廳、環保局配合,加快… / 由A承辦,B協辦。
_LEAD_VERB = r"(?:牽頭負責|牵头负责|負責|负责|承辦|承办|牽頭|牵头|主辦|主办)"
_CO_VERB = r"(?:配合|協辦|协办|參與|参与|協助|协助|協同|协同)"
LEADING_RE = re.compile(
    rf"(?:^|(?<=[。;；]))\s*(?P<you>由)?(?P<lead>[^,，。;；:：()（）“”《》]{{2,80}}?){_LEAD_VERB}"
    rf"(?:[,，]\s*(?P<co>[^,，。;；:：()（）“”《》]{{2,120}}?){_CO_VERB})?\s*(?P<end>[,，。;；]|$)")


@dataclass
class _Marker:
    units: list[UnitRef]
    bare: bool = False            # a unit list without 責任單位: prefix
    deadline: str | None = None   # 完成時限 given inside the marker
    line: bool = False            # a unit line of its own (not an inline parenthesis)
    unclosed: bool = False        # the closing parenthesis is missing
    dropped: str | None = None    # a cut-off unit name left out at the end of the text
    leader: str | None = None     # 牽頭領導:… given inside the marker
    leading: bool = False         # named before the work (由A負責,B配合,…): it applies to what follows
    notes: list[str] | None = None    # what the parser read into the list and says so (abbreviations)


class RoleMarkers(UnitNames):
    """Unit markers found in a paragraph and read into _Marker (units with roles)."""

    def _find_markers(self, text: str) -> list[tuple[int, int, _Marker]]:
        found: list[tuple[int, int, _Marker]] = []
        for m in PAREN_RE.finditer(text):
            whole = m.group(1).strip()
            inner = self._clean_marker(whole)[0]
            lm = LABEL_RE.search(inner)
            if lm and lm.start() <= 12 and not re.search(r"[,,。;;]", inner[:lm.start()].strip(" ;;,,")):
                found.append((m.start(), m.end(), self._units_from_marker(whole, bare=False)))
                continue
            if self._is_role_verb_list(inner, text, m.end()):
                found.append((m.start(), m.end(), self._units_from_marker(whole, bare=False)))
                continue
            ranked = bool(CONVENTION_RE.search(m.group(1)))
            if self._is_bare_unit_list(inner, text, m.end(), ranked):
                ranked = ranked or getattr(self, "ranked_lists", False)
                found.append((m.start(), m.end(), self._units_from_marker(m.group(1).strip(), bare=not ranked)))
        found.extend(self._leading_markers(text, [(s, e) for s, e, _ in found]))
        found.sort(key=lambda f: f[0])
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
            else:
                bare = self._open_bare_list(text, pos, spans)
                if bare:
                    found.append(bare)
        return found

    def _open_bare_list(self, text: str, pos: int, spans) -> tuple[int, int, _Marker] | None:
        """A bare unit list cut off before its closing parenthesis at the end of the text
        ((國務院審改辦、人力 / (市政府辦公室、市): the names before the cut are the task's units."""
        om = re.search(r"[((〔]([^()()〔〕]{2,200})$", text[pos:])
        if not om:
            return None
        start = pos + om.start()
        if any(s <= start < e for s, e in spans):
            return None
        items = self._split_units(om.group(1))
        if len(items) < 2:
            return None
        first = items[0]
        if not (self.cfg.resolve(first) or (len(first) >= 3 and STRONG_UNIT_SUFFIX_RE.search(first)
                                             and not NOT_A_UNIT_RE.search(first))):
            return None
        marker = self._units_from_marker(om.group(1), bare=True, cut=True)
        if not marker.units:
            return None
        marker.unclosed = True
        return start, len(text), marker

    def _leading_markers(self, text: str, taken) -> list[tuple[int, int, _Marker]]:
        """由省經貿委負責,省農業廳、環保局配合,加快… / 福建出入境檢驗檢疫局負責,省農業廳配合,強化…:
        units named at the start of a sentence, before the work they do."""
        out = []
        for m in LEADING_RE.finditer(text):
            start = m.start("you") if m.group("you") else m.start("lead")
            if any(s <= start < e for s, e in taken):
                continue
            names = [m.group("lead")] + ([m.group("co")] if m.group("co") else [])
            strong = bool(m.group("you"))
            ok = True
            for group in names:
                for item in self._split_units(group):
                    if self.cfg.resolve(item) or self._resolve_etc(item):
                        continue
                    if len(item) >= 3 and not NOT_A_UNIT_RE.search(item) and (
                            STRONG_UNIT_SUFFIX_RE.search(item) or strong and UNIT_SUFFIX_RE.search(item)):
                        continue
                    ok = False
            if not ok:
                continue
            body = f"牽頭單位:{m.group('lead')}" + (f";配合單位:{m.group('co')}" if m.group("co") else "")
            marker = self._units_from_marker(body, bare=False)
            if not marker.units:
                continue
            marker.leading = True
            end = m.end()
            # a sentence that is only the units (由A承辦,B協辦。) is a unit line
            marker.line = m.group("end") in ("。", "") and not text[:start].strip(" 。")
            out.append((start, end, marker))
        return out

    def _clean_marker(self, inner: str) -> tuple[str, bool, str | None]:
        """A unit list without what a notice adds to it: the convention it states (排名第一的為牽頭
        單位,下同: (list, True)), a remark after a full stop (。具體任務均涉及相關市(州)人民政府,
        不再做分工,下同。), a deadline as the last item (,6月底完成: returned)."""
        ranked = False
        cm = CONVENTION_RE.search(inner)
        if cm:
            ranked = True
            if cm.group("same"):
                self.ranked_lists = True
            inner = (inner[:cm.start()] + inner[cm.end():]).strip(" ,,;;。")
        # a remark after the list: 。具體任務均涉及…,不再做分工,下同。
        parts = re.split(r"。", inner, maxsplit=1)
        if len(parts) == 2 and parts[1].strip() and (re.search(r"下同|不再|涉及|均由|其中|另", parts[1])
                                                      or not LABEL_RE.search(parts[1])):
            inner = parts[0]
        inner = re.sub(r"[,，;；]\s*(下同|以下同)\s*$", "", inner).strip()
        deadline = None
        dm = LIST_DEADLINE_RE.search(inner)
        if dm:
            deadline = dm.group("d")
            inner = inner[:dm.start()].strip()
        return inner, ranked, deadline

    def _strip_markers(self, text: str) -> str:
        out, pos = [], 0
        for start, end, _ in self._find_markers(text):
            out.append(text[pos:start])
            pos = end
        out.append(text[pos:])
        return "".join(out).strip()

    def _has_units(self, p: str) -> bool:
        return bool(UNIT_LINE_RE.match(p) or self._find_markers(p))

    def _is_role_verb_list(self, inner: str, text: str, end: int) -> bool:
        """(區司法局牽頭,區級有關單位按職責分工負責) / (區司法局負責), at the end of a sentence or
        after its full stop (…開展執法檢查。(區衛生健康委負責)加強…)."""
        after = text[end:end + 2].strip()
        if after and after[0] not in SENTENCE_END + "”" and not self._after_sentence(text, end):
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

    @staticmethod
    def _after_sentence(text: str, end: int) -> bool:
        """The parenthesis ending at `end` follows a full stop: …。(區衛生健康委負責)加強…"""
        start = text.rfind("(", 0, end)
        start = max(start, text.rfind("(", 0, end))
        before = text[:start].rstrip() if start > 0 else ""
        return bool(before) and before[-1] in "。;;"

    def _is_bare_unit_list(self, inner: str, text: str, end: int, ranked: bool = False) -> bool:
        after = text[end:end + 2].strip()
        if after and after[0] not in SENTENCE_END and not self._after_sentence(text, end):
            return False
        items = self._split_units(inner)
        if not items or len(inner) > 200:
            return False
        if ranked:
            # the notice says which of them leads (排名第一的為牽頭單位): a unit list when most of
            # the names look like offices (中儲糧株洲直屬庫 need not)
            like = sum(1 for it in items if self._unit_like(it))
            return like >= max(1, (len(items) + 1) // 2)
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

    def _units_from_marker(self, inner: str, bare: bool, cut: bool = False) -> _Marker:
        """`責任單位:A、B` / `牽頭單位:A;配合單位:B、C` / `A牽頭,B配合` / `A、B` → a marker."""
        inner, ranked, list_deadline = self._clean_marker(inner.strip())
        ranked = ranked or getattr(self, "ranked_lists", False)
        deadline = list_deadline
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
                if re.fullmatch(rf"{_ROLE_WORD}(?:責任|责任)(?:單位|单位|部門|部门|主體|主体)", label.strip()):
                    words = words[:1]           # 牽頭責任單位 / 協同責任單位: the first word says it
                roles = [ROLE_WORDS[w] for w in words] or ["responsible"]
                # 責任單位/配合單位: A、B → A as the first word says, the rest as the last word says
                clauses.append((roles[0], inner[lm.end():end], roles[-1] if len(roles) > 1 else None))
        units: list[UnitRef] = []
        explicit = any(r != "responsible" for r, _, _ in clauses) or any(rest for _, _, rest in clauses)
        dropped = None
        keep_responsible: set[int] = set()
        notes: list[str] = []
        for ci, (role, body, rest_role) in enumerate(clauses):
            body = body.strip().strip(";;,,。")
            said = set()
            items, expanded = self._expand_abbreviations(self._split_units(body, said))
            notes.extend(self.t(f"「{_q(a)}」按前面的名稱讀作「{_q(b)}」") for a, b in expanded)
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
        if ranked and units and not explicit:
            # the notice says the first listed leads (排名第一的為牽頭單位)
            units[0].role = "lead"
            for u in units[1:]:
                u.role = "co"
        elif self.cfg.first_listed_is_lead and units and not units[0].group:
            if not explicit:
                units[0].role = "lead"
                for k, u in enumerate(units[1:], 1):
                    u.role = "responsible" if k in keep_responsible else "co"
            elif units[0].role == "responsible" and not any(u.role == "lead" for u in units):
                units[0].role = "lead"      # 責任單位/配合單位: A、B → A leads
        return _Marker(units=units, bare=bare, deadline=deadline, dropped=dropped, leader=leader,
                       notes=notes or None)

    def _merge_marker(self, into: _Marker, extra: _Marker) -> None:
        for u in extra.units:
            if not any((x.canonical or x.name) == (u.canonical or u.name) for x in into.units):
                into.units.append(u)
        into.deadline = into.deadline or extra.deadline
        into.unclosed = into.unclosed or extra.unclosed
        into.dropped = into.dropped or extra.dropped
        into.leader = into.leader or extra.leader
        if extra.notes:
            into.notes = (into.notes or []) + extra.notes

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
