"""The help of every command in Chinese: click's own words (Usage, Options, Commands, "Show
this message and exit.", [required], [default: …], TEXT/FILE/DIRECTORY …) translated, and our
help texts with Chinese full-width punctuation (text.cjk_punct: codes, paths and examples keep
theirs). `ChineseContext` gives every command of a `ChineseGroup` this formatter."""
from __future__ import annotations

import locale
import os
import re
import sys
import unicodedata

import click

from putuo_xl.text import SIMPLIFIED, TRADITIONAL, cjk_punct, detect_script, in_script

HEADINGS = {"Options": "選項", "Commands": "命令", "Arguments": "參數",
            "Positional arguments": "參數"}
# click's metavars and our arguments' names (as click writes them: NAME in capitals)
METAVARS = {"OPTIONS": "選項", "COMMAND": "命令", "ARGS": "參數", "TEXT": "文字", "FILE": "文件",
            "DIRECTORY": "文件夾", "PATH": "路徑", "INTEGER": "整數", "FLOAT": "數字",
            "INTEGER RANGE": "整數", "FLOAT RANGE": "數字", "BOOLEAN": "是或否",
            "MASTER": "台賬", "NOTICE": "通知", "SOURCE": "來源", "PATHS": "回報",
            "FORMS_DIR": "月報文件夾", "NAME": "姓名"}
PHRASES = {"Show this message and exit.": "顯示本說明並退出。",
           "Show the version and exit.": "顯示版本號並退出。"}
_METAVAR_RE = re.compile(r"\b(" + "|".join(sorted((re.escape(k) for k in METAVARS), key=len,
                                                 reverse=True)) + r")\b")
_EXTRA_RE = re.compile(r"\s*\[([^\[\]]*)\]$")


def metavar(name: str) -> str:
    """An argument's or a value's name as the help shows it (MASTER → 台賬)."""
    return METAVARS.get(name.upper(), name)


def _words(text: str) -> str:
    """Metavars in a usage line or an option's name column."""
    return _METAVAR_RE.sub(lambda m: METAVARS[m.group(1)], text)


def _extra(item: str) -> str:
    item = item.strip()
    if item == "required":
        return "必填"
    for en, zh in (("default: ", "默認:"), ("env var: ", "環境變量:")):
        if item.startswith(en):
            return zh + item[len(en):]
    return item


def help_line(text: str) -> str:
    """An option's help: click's phrases and [required]/[default: …] in Chinese, our punctuation."""
    text = PHRASES.get(text, text)
    m = _EXTRA_RE.search(text)
    if m:
        extras = "；".join(_extra(x) for x in m.group(1).split(";"))
        text = text[:m.start()] + f"({extras})"
    return cjk_punct(text)


def display_width(s: str) -> int:
    """Columns `s` takes in a terminal: CJK and full-width characters two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


_TOKEN = re.compile(r"\s+|[^\s\u2e80-\uffef]+|.")
_NO_START = set("，。；：、）」》！？,.;:)")
_NO_END = set("（「《(")


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` terminal columns. Chinese breaks between any two
    characters (not before a closing mark, not after an opening one); Latin words, options
    and paths only at spaces."""
    lines: list[str] = []
    cur = ""
    for tok in _TOKEN.findall(text):
        if tok.isspace():
            if cur:
                cur += " "
            continue
        if cur and display_width(cur.rstrip()) + display_width(tok) > width and tok[0] not in _NO_START:
            carry = ""
            body = cur.rstrip()
            while body and body[-1] in _NO_END:
                carry, body = body[-1] + carry, body[:-1]
            if body:
                lines.append(body)
                cur = carry
        cur += tok
    if cur.strip():
        lines.append(cur.rstrip())
    return lines or [""]


_SIMPLIFIED_LOCALE = re.compile(r"^(zh[_-](cn|sg|hans)|chinese[ _(]*simplified|chinese_(china|singapore))", re.I)
_TRADITIONAL_LOCALE = re.compile(r"^(zh[_-](tw|hk|mo|hant)|chinese[ _(]*traditional|chinese_(taiwan|hong kong|macau))", re.I)
_script = [TRADITIONAL]


def _config_arg(args: list[str]) -> str | None:
    for i, a in enumerate(args):
        if a == "--config" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--config="):
            return a.split("=", 1)[1]
    return None


def _config_script(path: str) -> str | None:
    """The script of the district a --config file describes (its names, not our comments)."""
    try:
        import yaml
        with open(path, encoding="utf-8-sig") as f:
            data = yaml.safe_load(f)
        names = [str(data.get("district") or ""), str(data.get("office") or ""),
                 *(str(k) for k in (data.get("units") or {}))]
    except Exception:          # help must show whatever the file is; the command reports it
        return None
    text = "".join(names)
    return detect_script(text) if text.strip() else None


def _locale_script() -> str | None:
    names = [os.environ.get(k, "") for k in ("LC_ALL", "LC_MESSAGES", "LANG")]
    try:
        names.append(locale.getlocale()[0] or "")
    except ValueError:
        pass
    for n in names:
        if _SIMPLIFIED_LOCALE.match(n):
            return SIMPLIFIED
        if _TRADITIONAL_LOCALE.match(n):
            return TRADITIONAL
        if n and n not in ("C", "POSIX"):
            break              # the first locale that is set decides
    return None


def choose_script(args: list[str] | None = None) -> str:
    """The script of what the CLI itself says (help, usage errors) before any notice is read:
    the district's in a --config file, else the system's Chinese locale (zh_CN → simplified,
    zh_TW/zh_HK → traditional), else the bundled notice's (traditional)."""
    args = sys.argv[1:] if args is None else list(args)
    cfg = _config_arg(args)
    return (cfg and _config_script(cfg)) or _locale_script() or TRADITIONAL


def set_script(script: str) -> None:
    _script[0] = script


def cli_text(text: str) -> str:
    """Our wording in the script chosen for this run, with Chinese punctuation."""
    return in_script(text, _script[0])


class ChineseFormatter(click.HelpFormatter):
    def getvalue(self) -> str:
        return in_script(super().getvalue(), _script[0]) if _script[0] == SIMPLIFIED else super().getvalue()

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, _words(args), "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{HEADINGS.get(heading, heading)}：\n")

    def write_text(self, text: str) -> None:
        """Paragraphs (blank-line separated) wrapped by terminal columns; a paragraph that
        starts with a line holding only \\b (click's mark) is written as it is: examples."""
        indent = " " * self.current_indent
        width = max(self.width - self.current_indent, 20)
        paragraphs = re.split(r"\n\s*\n", text.strip("\n"))
        for i, par in enumerate(paragraphs):
            if i:
                self.write("\n")
            lines = par.split("\n")
            if lines[0].strip() == "\b":
                body = [ln.rstrip() for ln in lines[1:]]
                strip = min((len(ln) - len(ln.lstrip()) for ln in body if ln.strip()), default=0)
                for ln in body:
                    self.write(indent + cjk_punct(ln[strip:]) + "\n")
                continue
            joined = ""
            for ln in (x.strip() for x in lines):
                if joined and ln and not (display_width(joined[-1]) == 2 and display_width(ln[0]) == 2):
                    joined += " "
                joined += ln
            for ln in _wrap(cjk_punct(joined), width):
                self.write(indent + ln + "\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        """click's definition list (options, commands), aligned by terminal columns."""
        rows = [(_words(a), help_line(b)) for a, b in rows]
        if not rows:
            return
        first = min(max(display_width(a) for a, _ in rows), col_max) + col_spacing
        indent = " " * self.current_indent
        text_width = max(self.width - self.current_indent - first, 20)
        for a, b in rows:
            aw = display_width(a)
            if aw <= first - col_spacing:
                head = indent + a + " " * (first - aw)
            else:
                self.write(indent + a + "\n")
                head = indent + " " * first
            lines = _wrap(b, text_width) if b else [""]
            self.write((head + lines[0]).rstrip() + "\n")
            for line in lines[1:]:
                self.write(indent + " " * first + line + "\n")


class ChineseContext(click.Context):
    formatter_class = ChineseFormatter


class ChineseCommand(click.Command):
    context_class = ChineseContext
