"""Click's own errors (usage, bad parameter, a prompt without a terminal) as one-line Chinese
messages, like the library's errors: an official who mistypes an option reads what to do.

`ChineseGroup` runs click in non-standalone mode and renders what click would have printed in
English: usage errors exit 2, an aborted prompt exits 1, `-h`/`--help` and `--version` work as
before.
"""
from __future__ import annotations

import re
import sys

import click

from putuo_xl.cli.helptext import ChineseCommand, ChineseContext, choose_script, cli_text, metavar, set_script

USAGE_EXIT = 2
ABORT_EXIT = 1

_PATH_PATTERNS = [
    (re.compile(r"^(?:File|Directory|Path) '(.*)' does not exist\.?$"), "「{0}」不存在,請檢查路徑"),
    (re.compile(r"^File '(.*)' is a directory\.?$"), "「{0}」是文件夾,這裡需要一個文件"),
    (re.compile(r"^Directory '(.*)' is a file\.?$"), "「{0}」是文件,這裡需要一個文件夾"),
    (re.compile(r"^(?:File|Directory|Path) '(.*)' is not readable\.?$"), "「{0}」沒有讀取權限"),
    (re.compile(r"^(?:File|Directory|Path) '(.*)' is not writable\.?$"), "「{0}」沒有寫入權限"),
    (re.compile(r"^'(.*)' is not a valid integer( range)?\.?$"), "「{0}」不是整數"),
    (re.compile(r"^(\S+) is not in the range (.+?)<=x<=(.+?)\.?$"), "{0} 不在 {1} 到 {2} 之間"),
    (re.compile(r"^(\S+) is not in the range x<=(.+?)\.?$"), "{0} 應不大於 {1}"),
    (re.compile(r"^(\S+) is not in the range x>=(.+?)\.?$"), "{0} 應不小於 {1}"),
    (re.compile(r"^'(.*)' is not a valid float( range)?\.?$"), "「{0}」不是數字"),
    (re.compile(r"^'(.*)' is not a valid boolean\.?$"), "「{0}」不是 true/false"),
    (re.compile(r"^'(.*)' is not (?:one of|a valid choice)"), "「{0}」不是可選的值"),
]


def _param_name(param, ctx) -> str:
    if param is None:
        return ""
    if isinstance(param, click.Argument):
        return param.metavar or metavar(param.name or "")
    opts = [o for o in (param.opts or []) if o.startswith("--")] or list(param.opts or [])
    return opts[0] if opts else (param.name or "")


def _help_hint(ctx) -> str:
    path = ctx.command_path if ctx is not None else "putuo-xl"
    return f"用 {path} -h 查看用法和例子。"


def usage_message(e: click.UsageError) -> str:
    """One Chinese line for a click usage error (missing/unknown option, bad value …)."""
    ctx = getattr(e, "ctx", None)
    hint = _help_hint(ctx)
    if isinstance(e, click.MissingParameter):
        name = _param_name(e.param, ctx)
        if isinstance(e.param, click.Argument):
            return f"缺少參數 {name}。{hint}"
        extra = ""
        if e.param is not None and getattr(e.param, "help", None):
            extra = f"({e.param.help})"
        return f"缺少選項 {name}{extra}。{hint}"
    if isinstance(e, click.NoSuchOption):
        guess = f"是不是 {'、'.join(e.possibilities)}?" if e.possibilities else ""
        return f"沒有選項 {e.option_name}。{guess}{hint}"
    if isinstance(e, click.BadOptionUsage):
        if "requires an argument" in (e.message or ""):
            return f"選項 {e.option_name} 後面需要一個值。{hint}"
        return f"選項 {e.option_name} 用法不對({e.message})。{hint}"
    if isinstance(e, click.BadParameter):
        name = _param_name(e.param, ctx) or (e.param_hint if isinstance(e.param_hint, str) else "")
        what = e.message or ""
        for rx, zh in _PATH_PATTERNS:
            m = rx.match(what.strip())
            if m:
                what = zh.format(*m.groups())
                break
        where = f"{name} 的值" if name else "參數值"
        return f"{where}不對:{what}。{hint}"
    msg = e.message or ""
    m = re.match(r"^No such command '(.*)'\.?$", msg)
    if m:
        return f"沒有命令「{m.group(1)}」。{hint}"
    m = re.match(r"^Got unexpected extra arguments? \((.*)\)\.?$", msg)
    if m:
        return f"多出了參數:{m.group(1)}(含空格的路徑請加引號)。{hint}"
    if msg.startswith("Missing command"):
        return f"缺少命令。{hint}"
    return f"命令行用法不對({msg})。{hint}"


class ChineseGroup(click.Group):
    """A click group whose own errors are one-line Chinese messages on stderr, and whose help
    (its commands' and subgroups' too) is in Chinese (helptext.py)."""
    context_class = ChineseContext
    command_class = ChineseCommand
    group_class = type

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        set_script(choose_script(args))
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            if type(e).__name__ == "NoArgsIsHelpError":     # a bare group: its help, as click does
                click.echo(e.format_message(), err=True)
                sys.exit(USAGE_EXIT)
            click.echo(cli_text(f"錯誤:{usage_message(e)}"), err=True)
            sys.exit(USAGE_EXIT)
        except click.Abort:
            click.echo(cli_text("已取消。沒有終端時無法詢問確認或密碼:發送郵件請加 --yes,"
                                 "並把 SMTP 密碼放在 mail.smtp.password_env 指定的環境變量中。"), err=True)
            sys.exit(ABORT_EXIT)
        except click.ClickException as e:
            click.echo(cli_text(f"錯誤:{e.format_message()}"), err=True)
            sys.exit(e.exit_code)
        sys.exit(rv if isinstance(rv, int) else 0)
