"""putuo-xl command line: thin adapters over the library (one library call per command)."""
from __future__ import annotations

import functools
import sys

import click

from . import __version__
from .errors import PutuoError


def _stderr(msg: str) -> None:
    click.echo(msg, err=True)


def user_errors(fn):
    """Turn the library's own errors into a one-line Chinese message and exit code 1."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PutuoError as e:
            _stderr(f"錯誤:{e}")
            sys.exit(1)
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="putuo-xl")
def main():
    """putuo-xl:把法治政府建設工作要點變成任務台賬、月報、工作報表和預評估通報。"""


config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False),
                             default=None, help="配置文件 config.yaml(默認:普陀區的內置配置)")


@main.command()
@click.argument("notice", required=False, type=click.Path(dir_okay=True))
@click.option("-o", "--output", type=click.Path(), help="寫出 plan.yaml(可編輯)或 plan.json")
@click.option("--json", "as_json", is_flag=True, help="只在標準輸出打印 JSON(提示寫到標準錯誤)")
@config_option
@user_errors
def parse(notice, output, as_json, config_path):
    """解析通知(.txt/.html/.docx),打印分解結果。

    \b
    例:putuo-xl parse 通知.html -o plan.yaml
        putuo-xl parse 通知.docx --json > plan.json
        putuo-xl parse 通知.txt --config 定海區.yaml
    不給 NOTICE 時解析內置的 2020 年普陀區工作要點。
    """
    from .config import load_config
    from .parser import parse_notice
    from .planio import plan_to_json, save_plan

    cfg = load_config(config_path)
    plan = parse_notice(notice, cfg)
    if output:
        save_plan(plan, output)
    if as_json:
        click.echo(plan_to_json(plan))
        for w in plan.warnings:
            _stderr(f"提示:{w}")
    else:
        print_plan_summary(plan)
    if output:
        from .text import in_script
        _stderr(in_script(f"已寫出 {output}", plan.script))


def print_plan_summary(plan) -> None:
    """The readable summary of `parse`: metadata, sections, units by role, warnings."""
    from rich.console import Console
    from rich.table import Table

    from .planio import plan_summary
    from .text import in_script

    def t(s):
        return in_script(s, plan.script)

    summary = plan_summary(plan)
    console = Console(highlight=False, soft_wrap=False)
    console.print(f"[bold]{plan.title}[/bold]")
    meta = [("發文機關", plan.issuer), ("文號", plan.doc_number), ("發布日期", plan.date),
            ("總體時限", plan.default_deadline), ("字體", "繁體" if plan.script == "traditional" else "簡體")]
    console.print(t("  ".join(f"{k}:{v}" for k, v in meta if v)), soft_wrap=True)

    table = Table(title=t("章節"), title_justify="left")
    for col, justify in (("編號", "left"), ("章節", "left"), ("小節", "right"), ("任務", "right"),
                         ("指標", "right"), ("單位(含組)", "right"), ("未標單位", "right")):
        table.add_column(t(col), justify=justify)
    for s in summary["sections"]:
        table.add_row(s["number"] or "-", s["title"], str(s["subsections"]), str(s["tasks"]),
                      str(s["indicators"]), str(s["units"]), str(s["without_units"] or ""))
    tot = summary["totals"]
    table.add_row("", t("合計"), str(tot["subsections"]), str(tot["tasks"]), str(tot["indicators"]),
                  str(tot["units"]), str(tot["without_units"] or ""), style="bold")
    console.print(table)

    units = Table(title=t("責任單位"), title_justify="left")
    for col, justify in (("單位", "left"), ("牽頭", "right"), ("責任", "right"), ("配合", "right"),
                         ("說明", "left")):
        units.add_column(t(col), justify=justify)
    for u in summary["units"]:
        note = t("單位組") if u["group"] else ""
        if not u["resolved"]:
            note = (note + " " if note else "") + t("不在配置文件中")
        units.add_row(in_script(u["name"], plan.script) if u["resolved"] else u["name"],
                      str(u["lead"] or ""), str(u["responsible"] or ""), str(u["co"] or ""), note)
    console.print(units)
    if plan.warnings:
        console.print(t(f"[yellow]提示 {len(plan.warnings)} 條:[/yellow]"))
        for w in plan.warnings:
            console.print(f"  - {w}", markup=False, soft_wrap=True)
    else:
        console.print(t("沒有需要處理的提示。"))


if __name__ == "__main__":
    main()
