"""What people type into a form, made comparable: statuses in either script and their
synonyms, percentages written five ways, numbers with full-width digits, trimmed text.

Every function takes a raw cell value (as python-calamine returns it: str, int, float, bool,
date/datetime or '') and returns a clean value or raises `ValueProblem` with a code the
collector turns into a report entry. Nothing here guesses silently: a value that changed is
returned together with `changed=True` so the report can say so.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from putuo_xl.config import Config
from putuo_xl.text import halfwidth, norm_name

BLANKS = {"", "-", "--", "—", "——", "/", "無", "无", "暫無", "暂无", "n/a", "na", "null", "none"}
_PUNCT_TRIM = " \t\r\n\u3000。.,，、;；:：!！?？\"'“”‘’「」『』()（）"
_NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


class ValueProblem(ValueError):
    """A value that cannot be used. `code` is a problem code of collect_report.PROBLEMS."""

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(code)


@dataclass(frozen=True)
class Clean:
    value: object          # the clean value (None for blank)
    changed: bool = False  # True when the clean value differs from what was typed


def is_blank(raw) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return raw.strip(" \t\r\n\u3000") == ""
    if isinstance(raw, float) and math.isnan(raw):
        return True
    return False


def cell_text(raw) -> str:
    """A cell value as the text a person sees (dates as YYYY-MM-DD, 3.0 as 3)."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float):
        if math.isfinite(raw) and raw == int(raw) and abs(raw) < 1e15:
            return str(int(raw))
        return repr(raw)
    if isinstance(raw, _dt.datetime):
        return raw.strftime("%Y-%m-%d %H:%M") if (raw.hour or raw.minute) else raw.strftime("%Y-%m-%d")
    if isinstance(raw, _dt.date):
        return raw.isoformat()
    return str(raw)


def clean_text(raw) -> Clean:
    """Trimmed text; a value starting with = + - @ stays text (it is never written as a formula:
    writers use `as_text_cell`)."""
    if is_blank(raw):
        return Clean(None, changed=raw not in (None, ""))
    s = cell_text(raw)
    t = s.replace("\r\n", "\n").replace("\r", "\n").strip(" \t\n\u3000")
    return Clean(t, changed=(t != s))


# control characters (C0 but tab and line breaks, DEL, C1) and the invisible marks that reorder
# text (bidirectional embeddings, overrides, isolates) or hide in it (zero-width, BOM)
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e"
                       "\u2060-\u2064\u2066-\u2069\ufeff]")


def strip_controls(text: str) -> tuple[str, int]:
    """(text without control characters, how many were removed). What a unit sent stays in the
    archive as it arrived; what is stored and shown is this."""
    if text.isprintable():             # the common case, at C speed
        return text, 0
    return _CONTROLS.subn("", text)


def text_value(raw) -> str | None:
    """`clean_text(raw).value`, without building a `Clean` (the collector calls it for every
    text cell of every form)."""
    if raw.__class__ is str:
        if "\r" in raw:
            raw = raw.replace("\r\n", "\n").replace("\r", "\n")
        return raw.strip(" \t\n\u3000") or None
    return clean_text(raw).value


def clean_task_id(raw) -> str:
    """'１.２.３ ' → '1.2.3'; '1.3.1＃2' → '1.3.1#2'. Empty string when blank."""
    if is_blank(raw):
        return ""
    return _clean_task_id(cell_text(raw))


@lru_cache(maxsize=65536)
def _clean_task_id(text: str) -> str:
    s = halfwidth(text)
    s = re.sub(r"\s+", "", s)
    s = s.replace("。", ".").replace("、", ".").replace("．", ".")
    return s.strip(".")


class StatusTable:
    """Status names and synonyms from the config, compared in normalised form."""

    def __init__(self, cfg: Config):
        self.names = [s.name for s in cfg.statuses]
        self._map: dict[str, str] = {}
        self._seen: dict[str, Clean | ValueProblem] = {}     # text as typed → its reading
        for st in cfg.statuses:
            for alias in [st.name, *st.synonyms]:
                self._map.setdefault(self._key(alias), st.name)

    @staticmethod
    def _key(text: str) -> str:
        return norm_name(str(text)).strip(_PUNCT_TRIM)

    def clean(self, raw) -> Clean:
        if raw.__class__ is str:           # the common case: text seen before (never blank)
            hit = self._seen.get(raw)
            if hit is not None:
                if hit.__class__ is Clean:
                    return hit
                raise ValueProblem(hit.code, **hit.params)
        if is_blank(raw):
            return Clean(None)
        text = cell_text(raw)
        hit = self._seen.get(text)
        if hit is None:
            try:
                hit = self._clean(text)
            except ValueProblem as e:
                hit = e
            if len(self._seen) < 100000:
                self._seen[text] = hit
        if isinstance(hit, ValueProblem):
            raise ValueProblem(hit.code, **hit.params)
        return hit

    def _clean(self, text: str) -> Clean:
        if text.strip().lower() in BLANKS:
            return Clean(None, changed=True)
        name = self._map.get(self._key(text))
        if name is None:
            raise ValueProblem("bad-status", value=text.strip(), allowed="、".join(self.names))
        return Clean(name, changed=(name != text))


def _parse_number_text(text: str) -> tuple[float, str] | None:
    """'８０％' → (80.0, '%'); '1,234件' → (1234.0, '件'); '95' → (95.0, ''). None if no number."""
    s = halfwidth(text).strip().replace(" ", "")
    m = re.match(r"^([+-]?[\d.,]+(?:[eE][+-]?\d+)?)(.*)$", s)
    if not m:
        return None
    num, suffix = m.group(1), m.group(2).strip()
    if "," in num:
        if not _THOUSANDS_RE.match(num):
            return None
        num = num.replace(",", "")
    if not _NUM_RE.match(num):
        return None
    value = float(num)
    if not math.isfinite(value):
        return None
    return value, suffix


_PERCENT_SEEN: dict = {}     # (type, value as typed) → Clean | ValueProblem: progress repeats


def clean_percent(raw) -> Clean:
    """Progress as a fraction 0..1. Accepts 80, 0.8, '80', '0.8', '80%', '８０％'.

    A number 0..1 is read as a fraction (a percent-formatted cell stores 80% as 0.8); a number
    above 1 up to 100 as percent points. Text ending with % is percent points.
    """
    cls = raw.__class__
    if (cls is float or cls is int or cls is str) and raw == raw and raw != 0:   # not nan, not ±0.0
        key = (cls, raw)
        hit = _PERCENT_SEEN.get(key)
        if hit is None:
            try:
                hit = _clean_percent(raw)
            except ValueProblem as e:
                hit = e
            if len(_PERCENT_SEEN) < 100000:
                _PERCENT_SEEN[key] = hit
        if hit.__class__ is Clean:
            return hit
        raise ValueProblem(hit.code, **hit.params)
    return _clean_percent(raw)


def _clean_percent(raw) -> Clean:
    if is_blank(raw):
        return Clean(None)
    if isinstance(raw, bool) or isinstance(raw, (_dt.date, _dt.time, _dt.timedelta)):
        raise ValueProblem("bad-percent", value=cell_text(raw))
    if isinstance(raw, (int, float)):
        value, pct_sign, typed = float(raw), False, raw
    else:
        text = cell_text(raw)
        if text.strip().lower() in BLANKS:
            return Clean(None, changed=True)
        parsed = _parse_number_text(text)
        if parsed is None or parsed[1] not in ("", "%"):
            raise ValueProblem("bad-percent", value=text.strip())
        value, pct_sign, typed = parsed[0], parsed[1] == "%", text
    if pct_sign or value > 1:
        frac = value / 100.0
    else:
        frac = value
    if not (0.0 <= frac <= 1.0) or math.isnan(frac):
        raise ValueProblem("out-of-range", value=cell_text(typed).strip(), range="0–100%")
    frac = round(frac, 6)
    return Clean(frac, changed=not isinstance(typed, (int, float)) or frac != typed)


def clean_number(raw, unit: str = "", target: float | None = None) -> Clean:
    """An indicator's actual value in the indicator's own unit.

    `unit` is the target's unit ('%', '件', '天', …). For a '%' target, '95%', '95' and 0.95 all
    mean 95: typing "95%" into a number cell makes Excel store 0.95. That reading of a number
    0..1 is used only when the target itself is above 1% (a rate like 90%); for a small target
    (差錯率 ≤ 0.5%) a number is taken as written. For other units the unit may follow the
    number ('12件'). Negative values and percentages above 100 are out of range.
    """
    if is_blank(raw):
        return Clean(None)
    if isinstance(raw, bool) or isinstance(raw, (_dt.date, _dt.time, _dt.timedelta)):
        raise ValueProblem("bad-number", value=cell_text(raw))
    is_pct = unit.strip() in ("%", "％")
    if isinstance(raw, (int, float)):
        value = float(raw)
        if not math.isfinite(value):
            raise ValueProblem("bad-number", value=cell_text(raw))
        if is_pct and 0 < value <= 1 and (target is None or target > 1):
            value = value * 100.0
        changed = value != raw
        typed = cell_text(raw)
    else:
        typed = cell_text(raw).strip()
        if typed.lower() in BLANKS:
            return Clean(None, changed=True)
        parsed = _parse_number_text(typed)
        if parsed is None:
            raise ValueProblem("bad-number", value=typed)
        value, suffix = parsed
        if suffix:
            # the target's own unit may follow the number; '%' also when the unit is unknown
            allowed = {"%"} if (is_pct or not unit) else {norm_name(unit)}
            if norm_name(suffix) not in allowed:
                raise ValueProblem("bad-number", value=typed)
        elif is_pct and 0 < value < 1 and (target is None or target > 1):
            value = value * 100.0
        changed = True
    value = round(value, 6)
    if value < 0:
        raise ValueProblem("out-of-range", value=typed, range="≥0")
    if is_pct and value > 100:
        raise ValueProblem("out-of-range", value=typed, range="0–100%")
    return Clean(value, changed=changed)


FORMULA_PREFIXES = ("=", "+", "-", "@")


def looks_like_formula(text: str) -> bool:
    return isinstance(text, str) and text[:1] in FORMULA_PREFIXES
