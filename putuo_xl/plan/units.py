"""Unit names: a unit list split into names (各鎮、街道 stays one), each name resolved against
the config's directory (aliases, another name in brackets, A等B, names run together without
separators), and `closest_units` for a name the directory does not know.
"""
from __future__ import annotations

import difflib
import re

from putuo_xl.config import Config
from putuo_xl.plan.parse_state import ParserState
from putuo_xl.text import in_script, norm_name

UNIT_SUFFIX_RE = re.compile(
    r"(局|辦|办|部|委|會|会|院|所|中心|單位|单位|街道|鎮|镇|鄉|乡|公司|隊|队|站|處|处|室|庭|廳|厅|署|集團|集团|"
    r"協會|协会|聯社|联社|分行|銀行|银行|政府|機關|机关|部門|部门|聯|联|團|团|社|館|馆|校)$")
# Words around unit names that are not units.
QUALIFIERS = re.compile(
    r"(按職責分工負責|按职责分工负责|按職責分工|按职责分工|按職責負責|按职责负责|按職責|按职责|分別負責|分别负责|"
    r"依職責|依职责|按照職責|按照职责|分工負責|分工负责|共同負責|共同负责|具體負責|具体负责|負責|负责|共同|"
    r"列第一位的為牽頭單位|列第一位的为牵头单位|排名第一的為牽頭單位|排名第一的为牵头单位|"
    r"排在第一位的為牽頭單位|排在第一位的为牵头单位|下同)")
# 區政府辦(牽頭): a role written after one name of a list
INLINE_ROLE_RE = re.compile(r"[((](牽頭|牵头|主辦|主办|配合|協辦|协办|參與|参与|協助|协助|責任|责任)[))]$")
ETC_GROUP_RE = re.compile(r"^(.+?)等(.+)$")
# 各縣、市、區政府: admin words joined by 、 before a government
ADMIN_WORD_RE = re.compile(r"^各?(县|市|区|乡|镇|旗|州)$")
ADMIN_GOV_RE = re.compile(r"^(县|市|区|乡|镇|旗|州)?(人民)?(政府|党委|管委会)$")
# A name with a level prefix (省農業廳) and a short office name that leans on it (衛生廳)
LEVEL_PREFIX_RE = re.compile(r"^(省|市|州|縣|县|區|区)(?!政府|委員會|委员会)[\u3400-\u9fff]{1,12}(廳|厅|局|委|辦|办|署)$")
ABBREVIATED_OFFICE_RE = re.compile(r"^[\u3400-\u9fff]{2,10}(廳|厅|局|委|辦|办|署)$")
# the stems of department names (工業和信息化委, 住房和城鄉建設局 …): no place before them
DEPARTMENT_STEM_RE = re.compile(
    r"^(發展改革|发展改革|工業和信息化|工业和信息化|住房和城鄉建設|住房和城乡建设|自然資源|自然资源|生態環境|生态环境|"
    r"交通運輸|交通运输|農業農村|农业农村|文化和旅遊|文化和旅游|衛生健康|卫生健康|市場監管|市场监管|"
    r"人力資源和社會保障|人力资源和社会保障|退役軍人事務|退役军人事务|應急管理|应急管理|行政審批|行政审批)")
# a body that is no name of its own (各縣(市、區)黨委和人民政府 is one name, not 黨委 + 人民政府)
BARE_BODY_RE = re.compile(r"^(人民政府|政府|党委|党工委|管委会|办事处|人大|政协|党组)$")
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
    r"(局|辦|办|委|院|部|廳|厅|中心|政府|辦公室|办公室|辦事處|办事处|管委會|管委会|公司|法院|檢察院|检察院|委員會|委员会)$")
RUN_TOGETHER_RE = re.compile(r"(?<=[局辦办委院部室隊队所站])(?=(?:縣|县|區|区|市)[^,,、;;]{2,})")
NOT_A_UNIT_RE = re.compile(r"^(含|包括|包含|如|即|例如|特別是|特别是|尤其是|以及|詳見|详见|見|见|參照|参照|依托|通過|通过)"
                           r"|[《》“”\"]")

# What unit names share (區…局): left out when comparing names (closest_units)
_AFFIX_HEAD = re.compile(r"^(舟山市|浙江省|浙江)?(普陀區|普陀区|普陀)?(中共)?(區委|区委|區|区|縣委|县委|縣|县|市委|市)?")
_AFFIX_TAIL = re.compile(r"(分局|局|辦公室|办公室|辦|办|委員會|委员会|中心|部|院|所|處|处)$")


class UnitNames(ParserState):
    """Names in a unit list → (as written, the config's name or None); unknown names are kept in
    self.unknown for the warnings at the end."""

    def _split_units(self, body: str, responsible: set[int] | None = None) -> list[str]:
        """`A、B,C按職責分工負責` → [A, B, C]; `responsible` collects the positions of the names
        that carried a 負責 phrase (they stay 責任 when the first listed is made lead).

        A group phrase written with 、 inside it (各鎮、街道, 鎮、街道, 各鎮人民政府、街道辦事處)
        stays one name: neighbours joined by 、 that the directory knows as one name, or a
        town word followed by a bare 街道."""
        # split on 、,; but not inside parentheses: 各鎮(街道、社區)
        raw, seps, depth, cur = [], [], 0, ""
        for ch in body:
            if ch in "((<【[":
                depth += 1
            elif ch in "))>】]":
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
            # 州委編辦及州直相關單位 / 市政府法制辦及相關部門和縣(區)政府: two names joined by a word;
            # 區司法局 區財政局: names a copy separated by spaces instead of 、
            parts = [y for x in (self._split_spaced(it) if it else []) for y in self._split_joined(x)]
            for n, part in enumerate(parts):
                cleaned.append((part, said_responsible, False, sep if n == 0 else "及"))
        out: list[str] = []
        i = 0
        while i < len(cleaned):
            took = 1
            if not cleaned[i][2]:
                for j in range(min(len(cleaned), i + 4), i + 1, -1):
                    parts = cleaned[i:j]
                    if any(p[2] for p in parts) or any(p[3] != "、" for p in parts[1:]):
                        continue
                    joined = "、".join(p[0] for p in parts)
                    if self.cfg.resolve(joined) or (
                            j == i + 2 and TOWN_WORD_RE.match(norm_name(parts[0][0]))
                            and norm_name(parts[1][0]) == "街道") or (
                            # 各縣、市、區政府 / 各縣、區人民政府: one group of governments
                            ADMIN_WORD_RE.match(norm_name(parts[0][0]))
                            and all(ADMIN_WORD_RE.match(norm_name(p[0])) for p in parts[1:-1])
                            and ADMIN_GOV_RE.match(norm_name(parts[-1][0]))) or (
                            # 市直有關部門、單位: a group and the bare kind after it
                            j == i + 2 and GENERIC_GROUP_RE.search(norm_name(parts[0][0]))
                            and norm_name(parts[1][0]) in ("单位", "部门", "机构", "企业")):
                        took = j - i
                        break
            parts = cleaned[i:i + took]
            if any(p[1] for p in parts) and responsible is not None:
                responsible.add(len(out))
            out.append("、".join(p[0] for p in parts))
            i += took
        return out

    def _unit_like(self, name: str) -> bool:
        """A name that is plainly an office or a group (for splitting A及B, A和B)."""
        n = norm_name(name)
        return bool(self.cfg.resolve(name) or GENERIC_GROUP_RE.search(n)
                    or (len(n) >= 3 and UNIT_SUFFIX_RE.search(n) and not NOT_A_UNIT_RE.search(n)))

    def _split_joined(self, item: str) -> list[str]:
        """市政府法制辦及相關部門和縣(區)政府 → three names; 區政務服務和大數據局 stays one (區政務服務
        is not a name)."""
        if self.cfg.resolve(item) or not re.search(r"以及|及|和|與|与", item):
            return [item]
        parts = [x.strip() for x in re.split(r"以及|及|和|與|与", item)]
        if len(parts) >= 2 and all(parts) and all(self._unit_like(x) for x in parts) \
                and not any(BARE_BODY_RE.match(norm_name(x)) for x in parts[1:]):
            return parts
        return [item]

    def _split_spaced(self, item: str) -> list[str]:
        parts = [x for x in re.split(r"[ \t\u3000]+", item.strip()) if x]
        if len(parts) >= 2 and all(self._unit_like(x) for x in parts):
            return parts
        return [item]

    def _expand_abbreviations(self, items: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
        """省農業廳、衛生廳、環保局 → 省衛生廳, 省環保局: a short office name after one with a level
        prefix (省/市/州/縣/區) in the same list is that level's office. ([(as written, as read)])"""
        out: list[str] = []
        notes: list[tuple[str, str]] = []
        prefix = None
        for item in items:
            m = LEVEL_PREFIX_RE.match(item)
            if m:
                prefix = m.group(1)
                out.append(item)
                continue
            if prefix and (len(item) <= 5 or "和" in item or DEPARTMENT_STEM_RE.match(item)) \
                    and ABBREVIATED_OFFICE_RE.search(item) \
                    and not re.search(r"^[省市州縣县區区鄉乡鎮镇村旗盟]|區委|区委|縣委|县委|市委|鄉鎮|乡镇|街道", item) \
                    and not self.cfg.resolve(item) and not GENERIC_GROUP_RE.search(norm_name(item)):
                notes.append((item, prefix + item))
                out.append(prefix + item)
                continue
            prefix = None
            out.append(item)
        return out, notes

    def _resolve_item(self, item: str) -> list[tuple[str, str | None]]:
        canonical = self.cfg.resolve(item)
        if canonical:
            return [(item, canonical)]
        # 區司法局(區委依法治區辦) / 縣委組織部[縣委編辦]: a unit with its other name in brackets
        am = re.match(r"^(.{2,}?)[((\[]([^()()\[\]]{2,})[))\]]$", item)
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
