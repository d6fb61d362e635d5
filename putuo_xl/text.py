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
    return re.sub(r"(?<=[\u3400-\u9fff,。、;:“”《》()\uff0c\uff1b\uff1a\uff08\uff09])[ \t\u3000]+"
                  r"(?=[\u3400-\u9fff,。、;:“”《》()\uff0c\uff1b\uff1a\uff08\uff09])", "", text)


# Full-width ASCII forms (U+FF01..U+FF5E) and the ideographic space, one character each way.
_NARROW = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_NARROW[0x3000] = 0x20


def narrow(text: str) -> str:
    """Full-width ASCII forms to ASCII, character for character (（→( ：→: ，→, １→1, ％→%),
    so that positions in the result are positions in `text`. CJK punctuation (。、“”《》【】〔〕)
    is left alone. The parser matches on the narrow form and shows the original."""
    return text.translate(_NARROW)


class WidthRestorer:
    """Puts a document's own punctuation widths back into strings derived from its narrow form.

    Every ASCII character that stood for a full-width one in the document is looked up in its
    context (a few characters either side) in the narrow document and replaced by what the
    original had there; a character whose context is not found (our own wording) takes the
    width the document mostly uses for it.
    """

    def __init__(self, original: str):
        self.original = original
        self.narrow = narrow(original)
        counts: dict[str, dict[str, int]] = {}
        for n, o in zip(self.narrow, self.original):
            if n != o or n in "(),:;!?%":
                counts.setdefault(n, {}).setdefault(o, 0)
                counts[n][o] += 1
        self.changed = {n for n, o in zip(self.narrow, self.original) if n != o}
        self.majority = {n: max(c, key=c.get) for n, c in counts.items()}

    # Our own messages quote the notice (a unit name, a deadline phrase): only those fragments
    # take the notice's widths back; the message around them (task IDs, file names, our
    # wording) stays as we write it. `fragment()` marks a quotation, `message()` restores it.
    FRAGMENT_START, FRAGMENT_END = "\ue000", "\ue001"
    _FRAGMENT = re.compile("\ue000([^\ue000\ue001]*)\ue001")

    @classmethod
    def fragment(cls, s: str) -> str:
        """`s` (a piece of the notice's narrow text) marked for width restoring in a message."""
        return f"{cls.FRAGMENT_START}{s}{cls.FRAGMENT_END}"

    @classmethod
    def unmark(cls, s: str | None) -> str | None:
        """A message with the fragment marks taken out (nothing restored)."""
        if not s:
            return s
        return s.replace(cls.FRAGMENT_START, "").replace(cls.FRAGMENT_END, "")

    def message(self, s: str | None) -> str | None:
        """A message of ours: the marked fragments in the notice's widths, the rest untouched."""
        if not s:
            return s
        return self.unmark(self._FRAGMENT.sub(lambda m: self(m.group(1)), s))

    def __call__(self, s: str | None) -> str | None:
        if not s or not self.changed or not any(ch in self.changed for ch in s):
            return s
        out = []
        for i, ch in enumerate(s):
            if ch not in self.changed:
                out.append(ch)
                continue
            for w in (6, 3, 1):
                a, b = max(0, i - w), min(len(s), i + w + 1)
                pos = self.narrow.find(s[a:b])
                if pos >= 0:
                    out.append(self.original[pos + i - a])
                    break
            else:
                out.append(self.majority.get(ch, ch))
        return "".join(out)
