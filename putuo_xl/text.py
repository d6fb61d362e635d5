"""Chinese text helpers: script detection and conversion, name normalisation.

What users see keeps the notice's script; names are compared in a normal form
(simplified, half-width, one kind of parentheses, no spaces).
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

TRADITIONAL = "traditional"
SIMPLIFIED = "simplified"


@lru_cache(maxsize=None)
def _converter(name: str):
    """The opencc converter `name` ('t2s', 's2t'), made on first use (s2t reads ~50,000
    phrases: a command that never converts to traditional does not pay for it)."""
    import opencc
    return opencc.OpenCC(name)


class _PhraseFreeT2S:
    """opencc's t2s, exactly, for text that holds none of its phrases.

    t2s is one group of two dictionaries: TSPhrases (a few hundred phrases of 2+ characters,
    matched first) and TSCharacters (one character each). Text in which no phrase occurs is
    converted character by character (each character to the first of its alternatives) — what
    `str.translate` does in C, where opencc's pure-Python matcher takes ~0.1 ms per string. A
    phrase never spans one of opencc's separators, so looking for phrases in the whole string is
    the same as looking in each separated piece. Built from the dictionaries opencc's own t2s.json
    names; if they are not shaped as described (another opencc), `load()` gives None and every
    string goes through opencc.
    """

    def __init__(self, phrases: dict[str, str], chars: dict[str, str]):
        self.table = str.maketrans({k: v.split(" ")[0] for k, v in chars.items() if k != v.split(" ")[0]})
        self.first = frozenset(k[0] for k in phrases)
        self.bigrams = frozenset(k[:2] for k in phrases)

    def has_phrase(self, text: str) -> bool:
        if self.first.isdisjoint(text):
            return False
        bigrams = self.bigrams
        return any(text[i:i + 2] in bigrams for i in range(len(text) - 1))

    @classmethod
    def load(cls) -> "_PhraseFreeT2S | None":
        try:
            import opencc
            base = Path(opencc.__file__).parent
            conf = json.loads((base / "config" / "t2s.json").read_text(encoding="utf-8"))
            chain = conf["conversion_chain"]
            group = chain[0]["dict"]
            if len(chain) != 1 or group.get("type") != "group" or len(group["dicts"]) != 2:
                return None
            tables = []
            for d in group["dicts"]:
                if d.get("type") != "txt":
                    return None
                entries = {}
                with open(base / "dictionary" / d["file"], encoding="utf-8") as fh:
                    for line in fh:
                        k, v = line.strip().split("\t")
                        entries[k] = v
                tables.append(entries)
            phrases, chars = tables
            split = _converter("t2s").split_chars_re
            if any(len(k) < 2 for k in phrases) or any(len(k) != 1 or split.fullmatch(k) for k in chars):
                return None
            return cls(phrases, chars)
        except Exception:     # noqa: BLE001 - any surprise: opencc does all the work
            return None


_fast_t2s: list = []          # [the _PhraseFreeT2S or None], filled on first use

_BRACKETS = str.maketrans({"<": "(", ">": ")", "〈": "(", "〉": ")", "【": "(", "】": ")",
                           "[": "(", "]": ")", "〔": "(", "〕": ")", "﹙": "(", "﹚": ")"})
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    if not _fast_t2s:
        _fast_t2s.append(_PhraseFreeT2S.load())
    fast = _fast_t2s[0]
    if fast is not None and not fast.has_phrase(text):
        return text.translate(fast.table)
    return _converter("t2s").convert(text)


@lru_cache(maxsize=65536)
def to_traditional(text: str) -> str:
    return _converter("s2t").convert(text)


def in_script(text: str, script: str) -> str:
    """Render our own (traditional) wording in the notice's script, with Chinese punctuation."""
    return cjk_punct(to_simplified(text) if script == SIMPLIFIED else text)


# Characters after which , ; : ! ? ( are Chinese punctuation: ideographs, CJK punctuation and
# full-width forms (what Chinese text is made of).
_CJKISH = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff01-\uff60]")
_WIDE = {",": "\uff0c", ";": "\uff1b", ":": "\uff1a", "!": "\uff01", "?": "\uff1f",
         "(": "\uff08", ")": "\uff09"}
_PUNCT_RUN = re.compile(r"[,;:!?()]")
# Kept as written: what is quoted in 「」 (a file, sheet or value the user wrote), file paths
# and file names. Tokens are matched from their first character only (linear in the text).
_KEEP_PUNCT = re.compile(r"「[^「」]*」|\ue000[^\ue001]*\ue001|(?<!\S)(?:[A-Za-z]:[\\/]|[/~]|\.{1,2}[/\\])[^\s「」]*|(?<![^\s「」,;:])[^\s「」,;:]*[/\\](?!\S)"
                         r"|(?<![^\s「」,;:])[^\s「」,;:]*[^\s「」,;:(]\.(?:xlsx|xlsm|xls|xlam|eml|yaml|yml|sqlite|txt|docx|html?|csv|pdf|json|png)\b",
                         re.IGNORECASE)


_PUNCT_DONE: dict[str, str] = {}


def cjk_punct(text: str) -> str:
    """ASCII , ; : ! ? ( ) in Chinese text as full-width (GB/T 15834): a mark right after a
    Chinese character (or one before a Chinese character, for , ; and an opening parenthesis),
    a ) when its ( was widened. Formulas, codes, dates, times, numbers (1,000), file
    paths and names, what is quoted in 「」 and Latin text keep theirs. Remembered, and so is
    the result as its own (text in the notice's script passes here twice: a long 通報 once)."""
    done = _PUNCT_DONE.get(text)
    if done is not None:
        return done
    out = _cjk_punct(text)
    if len(_PUNCT_DONE) > 131072:
        _PUNCT_DONE.clear()
    _PUNCT_DONE[text] = out
    _PUNCT_DONE[out] = out
    return out


def _cjk_punct(text: str) -> str:
    if not text or not _PUNCT_RUN.search(text) or not _CJK.search(text) or text.startswith("="):
        return text
    out = list(text)
    opened: list[bool] = []
    spans = [(m.start(), m.end()) for m in _KEEP_PUNCT.finditer(text)]
    k = 0

    def cjk(i: int) -> bool:
        return 0 <= i < len(out) and bool(_CJKISH.match(out[i]))

    for pm in _PUNCT_RUN.finditer(text):     # only the marks: a long text has few
        i, ch = pm.start(), pm.group()
        while k < len(spans) and spans[k][1] <= i:
            k += 1
        if k < len(spans) and spans[k][0] <= i:   # kept; a kept ( keeps its ) too
            if ch == "(":
                opened.append(False)
            elif ch == ")" and opened:
                opened.pop()
            continue
        if ch == "(":
            wide = cjk(i - 1) or cjk(i + 1)
            opened.append(wide)
        elif ch == ")":
            wide = opened.pop() if opened else cjk(i - 1)
        elif ch in ",;:":
            wide = cjk(i - 1) or cjk(i + 1)
        else:
            wide = cjk(i - 1)
        if wide:
            out[i] = _WIDE[ch]
    return "".join(out)


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
        return self.unmark(self._FRAGMENT.sub(lambda m: self(m.group(1)), cjk_punct(s)))

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
