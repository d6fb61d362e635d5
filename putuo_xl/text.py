"""Chinese text helpers: script detection and conversion, name normalisation.

What users see keeps the notice's script; names are compared in a normal form
(simplified, half-width, one kind of parentheses, no spaces).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

TRADITIONAL = "traditional"
SIMPLIFIED = "simplified"

_t2s = opencc.OpenCC("t2s")
_s2t = opencc.OpenCC("s2t")

_BRACKETS = str.maketrans({"<": "(", ">": ")", "〈": "(", "〉": ")", "【": "(", "】": ")",
                           "[": "(", "]": ")", "〔": "(", "〕": ")", "﹙": "(", "﹚": ")"})
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    return _t2s.convert(text)


@lru_cache(maxsize=65536)
def to_traditional(text: str) -> str:
    return _s2t.convert(text)


def in_script(text: str, script: str) -> str:
    """Render our own (traditional) wording in the notice's script."""
    return to_simplified(text) if script == SIMPLIFIED else text


def detect_script(text: str) -> str:
    """`traditional` when converting to simplified changes a noticeable share of the characters."""
    sample = "".join(_CJK.findall(text))[:20000]
    if not sample:
        return TRADITIONAL
    simp = to_simplified(sample)
    trad_only = sum(1 for a, b in zip(sample, simp) if a != b)
    trad = to_traditional(sample)
    simp_only = sum(1 for a, b in zip(sample, trad) if a != b)
    return TRADITIONAL if trad_only > simp_only else SIMPLIFIED


def halfwidth(text: str) -> str:
    """Full-width ASCII (digits, letters, punctuation, space) to half-width; CJK untouched."""
    return unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=65536)
def norm_name(text: str) -> str:
    """The form names are compared in: simplified, half-width, (), no spaces or quotes."""
    s = halfwidth(text or "").translate(_BRACKETS)
    s = _SPACE.sub("", s)
    s = s.replace("“", "").replace("”", "").replace('"', "").replace("'", "")
    return to_simplified(s)


def squeeze_cjk_spaces(text: str) -> str:
    """Remove spaces that web pages put between CJK characters ("法治政府 建設")."""
    return re.sub(r"(?<=[\u3400-\u9fff,。、;:“”《》()])[ \t\u3000]+(?=[\u3400-\u9fff,。、;:“”《》()])",
                  "", text)
