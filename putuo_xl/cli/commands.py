"""putuo-xl command line: thin adapters over the library (one library call per command)."""
from __future__ import annotations

import functools
import sys

import click

from putuo_xl import __version__
from putuo_xl.cli.errors import ChineseGroup
from putuo_xl.errors import PutuoError


def _stderr(msg: str) -> None:
    from putuo_xl.text import cjk_punct
    click.echo(cjk_punct(msg) if isinstance(msg, str) else msg, err=True)


def _stdout(line: str) -> None:
    from putuo_xl.text import cjk_punct
    click.echo(cjk_punct(line))


def user_errors(fn):
    """Turn the library's own errors into a one-line Chinese message and exit code 1."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PutuoError as e:
            from putuo_xl.text import in_script
            _stderr(in_script("錯誤:", getattr(e, "script", None) or "traditional") + str(e))
            sys.exit(1)
        except OSError as e:     # the disk or the system (full, read-only, no permission)
            from putuo_xl.errors import os_error_message
            _stderr("錯誤:" + os_error_message(e))
            sys.exit(1)
    return wrapper


@click.group(cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="putuo-xl", message="%(prog)s 版本 %(version)s")
def main():
    """putuo-xl：把法治政府建設工作要點變成任務台賬、月報、工作報表和預評估通報。

    每個命令的用法和例子：putuo-xl 命令 -h（如 putuo-xl forms -h）。
    """


config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False),
                             default=None, help="配置文件 config.yaml(默認:普陀區的內置配置)")


@main.command()
@click.argument("notice", required=False, type=click.Path(dir_okay=True))
@click.option("-o", "--output", type=click.Path(), help="寫出 plan.yaml(可編輯)或 plan.json")
@click.option("--json", "as_json", is_flag=True, help="只在標準輸出打印 JSON(提示寫到標準錯誤)")
@config_option
@user_errors
def parse(notice, output, as_json, config_path):
    """解析通知（.txt、.html 或 .docx 文件）或任務分解表（.xlsx），打印分解結果。

    \b
    例：
      putuo-xl parse 通知.html -o plan.yaml
      putuo-xl parse 通知.docx --json > plan.json
      putuo-xl parse 通知.txt --config 定海區.yaml

    不給通知時解析內置的 2020 年普陀區工作要點。
    """
    from putuo_xl.config import load_config
    from putuo_xl.plan.parser import parse_notice
    from putuo_xl.plan.planfile import plan_to_json, save_plan

    cfg = load_config(config_path)
    plan = parse_notice(notice, cfg)
    if output:
        save_plan(plan, output)
    if as_json:
        click.echo(plan_to_json(plan))
        from putuo_xl.text import in_script
        for w in plan.warnings:
            _stderr(in_script("提示:", plan.script) + w)
    else:
        print_plan_summary(plan)
    if output:
        from putuo_xl.text import in_script
        _stderr(in_script(f"已寫出 {output}", plan.script))


def print_plan_summary(plan) -> None:
    """The readable summary of `parse`: metadata, sections, units by role, warnings."""
    from rich.console import Console
    from rich.table import Table

    from putuo_xl.plan.planfile import plan_summary
    from putuo_xl.text import cjk_punct, in_script

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
                         ("指標", "right"), ("單位/組", "right"), ("未標單位", "right")):
        table.add_column(t(col), justify=justify, overflow="fold")
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
            console.print(cjk_punct(f"  - {w}"), markup=False, soft_wrap=True)
    else:
        console.print(t("沒有需要處理的提示。"))


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="生成加載項(如 法治政府.xlam);與 --xlam 一起用時:寫出換上新功能區的加載項")
@click.option("--bundle", type=click.Path(file_okay=False),
              help="生成給各台電腦的安裝文件夾:加載項、Windows 安裝包、安裝腳本和安裝說明")
@click.option("--python-version", default="3.11", show_default=True, help="安裝文件夾對應的 Python 版本")
@click.option("--script", type=click.Choice(["traditional", "simplified"]), default="traditional",
              show_default=True, help="安裝說明和功能區用繁體還是簡體(與通知相同)")
@click.option("--codepage", type=click.Choice(["1252", "936"]), default=None,
              help="VBA 工程的代碼頁（默認 1252；VBA 中有中文時用 936）")
@click.option("--configure", "configure", type=click.Path(dir_okay=False, exists=True),
              help="安裝腳本用:把 --interpreter 寫進這個加載項的配置工作表")
@click.option("--interpreter", help="與 --configure 一起用:pythonw.exe 的完整路徑")
@click.option("--xlam", type=click.Path(dir_okay=False), help="在別處組裝好的加載項 .xlam(只換功能區)")
@click.option("--ribbon", type=click.Path(dir_okay=False), help="功能區 XML（默認：內置的 putuo_xl/data/macros/customUI.xml）")
@click.option("--vba-dir", type=click.Path(file_okay=False), help="VBA 源文件夾（默認：內置的 putuo_xl/data/macros/）")
@user_errors
def addin(output, bundle, python_version, script, codepage, configure, interpreter, xlam, ribbon, vba_dir):
    """桌面加載項：檢查功能區按鈕、VBA 回調和 Python 操作是否對應，生成加載項和安裝文件夾。

    \b
    例：
      putuo-xl addin                       只檢查 VBA 和功能區的源文件
      putuo-xl addin -o 法治政府.xlam      生成加載項（在任何系統上，從 xlwings 自帶的模板）
      putuo-xl addin --bundle 安裝文件夾   生成給各台電腦的安裝文件夾（需要能訪問 PyPI）

    步驟和各個對話框見 docs/excel.md。
    """
    from putuo_xl.excel.addin import addin as run_addin

    if configure:
        from putuo_xl.excel.xlam import configure_addin
        if not interpreter:
            raise click.UsageError("--configure 需要 --interpreter。")
        _stderr(f"已把 Python 路徑 {interpreter} 寫進 {configure_addin(configure, interpreter)}")
        return
    if bundle:
        from putuo_xl.excel.bundle import make_bundle
        b = make_bundle(bundle, python_version, script, int(codepage) if codepage else None)
        _stderr(f"已寫出安裝文件夾 {b.path}:")
        for name in b.files:
            _stderr(f"  {name}")
        _stderr(f"  {b.wheelhouse.name} 中有 {len(b.wheels)} 個安裝包,共 {b.wheelhouse_bytes / 1e6:.1f} MB"
                f"(下載用了 {b.seconds_download:.0f} 秒)。")
        if b.added_for_windows:
            _stderr(f"  只在 Windows 上需要、另外下載的:{', '.join(b.added_for_windows)}")
        return
    result = run_addin(xlam, output, ribbon, vba_dir, int(codepage) if codepage else None, script)
    _stderr(f"已檢查 {result.source}。")
    for note in result.check.notes:
        _stderr(f"  {note}")
    for problem in result.check.problems:
        _stderr(f"問題:{problem}")
    if not result.check.ok:
        sys.exit(1)
    if result.written:
        _stderr(f"已寫出 {result.written}")


data_dir_option = click.option("--data-dir", type=click.Path(file_okay=False),
                               help="數據目錄(台賬、數據庫、月報、回報、用戶)")


@main.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="監聽地址")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="端口")
@data_dir_option
@click.option("--project-dir", type=click.Path(file_okay=False), help="xlwings Server 工程（默認：內置的 putuo_xl/data/server/）")
@click.option("--env-file", type=click.Path(dir_okay=False), help="xlwings Server 的 .env 文件")
@click.option("--no-auth", is_flag=True, help="不要求登錄(只能與 --host 127.0.0.1 一起用,單機試用)")
@click.option("--allow-host", "allow_hosts", multiple=True,
              help="瀏覽器訪問本服務器時用的主機名或 IP(可重複),如 putuo-xl.example.gov.cn")
@click.option("--max-request-mb", type=click.FloatRange(0.1, 1024), default=None,
              help="一次操作的請求上限(MB,默認 8)")
@click.option("--cert", type=click.Path(dir_okay=False, exists=True), help="HTTPS 證書(PEM)")
@click.option("--key", "key_file", type=click.Path(dir_okay=False, exists=True), help="HTTPS 私鑰(PEM)")
@config_option
@click.pass_context
@user_errors
def serve(ctx, host, port, data_dir, project_dir, env_file, no_auth, allow_hosts, max_request_mb,
          cert, key_file, config_path):
    """啟動 xlwings Server：Excel（Windows、Mac、網頁版）的法治政府功能區和自定義函數。

    \b
    例：
      putuo-xl serve --host 0.0.0.0 --allow-host 10.1.2.3 --data-dir D:\\putuo-data

    每位工作人員用自己的訪問碼登錄：先用 putuo-xl serve user add 姓名 --role … 添加用戶。
    默認只在本機 127.0.0.1 上監聽；Office.js 需要 HTTPS，證書和部署見 docs/excel.md。
    """
    if ctx.invoked_subcommand is not None:
        return
    from putuo_xl.excel.serve import serve as run_serve

    run_serve(host=host, port=port, data_dir=data_dir, project_dir=project_dir,
              env_file=env_file, config_path=config_path, echo=_stderr, auth=not no_auth,
              allowed_hosts=list(allow_hosts), max_request_mb=max_request_mb, cert=cert,
              key=key_file)


@serve.group("user")
def serve_user():
    """服務器的用戶：訪問碼、角色（能按哪些按鈕）和可用的台賬。

    \b
    角色：
      build     生成台賬、生成月報、下載本月月報
      collect   上傳回報、導入回報
      refresh   刷新匯總、單位視圖、工作表函數
      mail      發送月報、催報、發送通報
    """


def _user_store(data_dir, config_path):
    from putuo_xl.config import load_config
    from putuo_xl.excel.context import data_dir_from
    from putuo_xl.excel.users import UserStore

    cfg = load_config(config_path) if config_path else None
    return UserStore(data_dir_from(data_dir, cfg))


@serve_user.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, help="角色(可重複;默認 build、collect、refresh)")
@click.option("--project", "projects", multiple=True, help="可用的台賬鑰匙(可重複;默認 * = 全部)")
@click.option("--email", help="電子郵箱(用 Entra ID 等身份提供方登錄的用戶按郵箱對應)")
@click.option("--no-code", is_flag=True, help="不發訪問碼(用身份提供方登錄的用戶)")
@data_dir_option
@config_option
@user_errors
def serve_user_add(name, roles, projects, email, no_code, data_dir, config_path):
    """添加用戶，打印他的訪問碼（只顯示這一次，服務器只保存它的摘要）。

    \b
    例：
      putuo-xl serve user add 張三 --role build --role collect --role refresh
    """
    store = _user_store(data_dir, config_path)
    code = store.add(name, list(roles) or None, list(projects) or None, email, with_token=not no_code)
    acc = store.accounts()[name]
    _stderr(f"已添加用戶 {name},角色:{'、'.join(acc.roles)},台賬:{'、'.join(acc.projects)}。")
    if code:
        _stderr("訪問碼(請私下交給本人,在「法治政府」操作面板的「登錄」中填寫;遺失後用 "
                f"putuo-xl serve user code {name} 重新生成):")
        click.echo(code)


@serve_user.command("code")
@click.argument("name")
@data_dir_option
@config_option
@user_errors
def serve_user_code(name, data_dir, config_path):
    """給用戶換一個新的訪問碼（舊的立即失效）。

    \b
    例：
      putuo-xl serve user code 張三
    """
    code = _user_store(data_dir, config_path).update(name, new_token=True)
    _stderr(f"{name} 的新訪問碼(舊的已失效):")
    click.echo(code)


@serve_user.command("set")
@click.argument("name")
@click.option("--role", "roles", multiple=True, help="新的角色(可重複;給出時替換原有角色)")
@click.option("--grant", multiple=True, help="允許使用的台賬鑰匙(可重複;* = 全部)")
@click.option("--revoke", multiple=True, help="不再允許使用的台賬鑰匙(可重複)")
@data_dir_option
@config_option
@user_errors
def serve_user_set(name, roles, grant, revoke, data_dir, config_path):
    """修改用戶的角色和可用的台賬。

    \b
    例：
      putuo-xl serve user set 張三 --role build --role mail --revoke "*" --grant 2020普陀區-…
    """
    store = _user_store(data_dir, config_path)
    store.update(name, roles=list(roles) if roles else None, grant=list(grant), revoke=list(revoke))
    acc = store.accounts()[name]
    _stderr(f"{name}:角色 {'、'.join(acc.roles) or '(無)'},台賬 {'、'.join(acc.projects) or '(無)'}。")


@serve_user.command("remove")
@click.argument("name")
@data_dir_option
@config_option
@user_errors
def serve_user_remove(name, data_dir, config_path):
    """刪除用戶（他的訪問碼立即失效）。

    \b
    例：
      putuo-xl serve user remove 張三
    """
    _user_store(data_dir, config_path).remove(name)
    _stderr(f"已刪除用戶 {name}。")


@serve_user.command("list")
@data_dir_option
@config_option
@user_errors
def serve_user_list(data_dir, config_path):
    """列出用戶、角色和可用的台賬。

    \b
    例：
      putuo-xl serve user list
    """
    accounts = _user_store(data_dir, config_path).accounts()
    if not accounts:
        _stderr("還沒有用戶。用 putuo-xl serve user add 姓名 添加。")
    for a in accounts.values():
        how = "訪問碼" if a.token_sha256 else ("身份提供方 " + (a.email or ""))
        click.echo(f"{a.name}\t{'、'.join(a.roles)}\t{'、'.join(a.projects)}\t{how}")


@main.command("log")
@click.argument("master", type=click.Path(dir_okay=False, exists=True))
@click.option("-n", "--limit", type=click.IntRange(1), default=50, show_default=True, help="最多顯示幾條")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 打印")
@config_option
@user_errors
def log_cmd(master, limit, as_json, config_path):
    """操作記錄（留痕）：誰、何時、在哪個台賬上按了哪個按鈕、做了什麼、結果如何。

    \b
    例：
      putuo-xl log 任務分解台賬.xlsx -n 20
    """
    import json as _json
    from dataclasses import asdict

    from putuo_xl.config import load_config
    from putuo_xl.ledger.audit import RESULTS, entries
    from putuo_xl.ledger.store import ledger_path_for

    cfg = load_config(config_path)
    template = cfg.section("collect").get("ledger_name") or "{master_stem}.ledger.sqlite"
    path = ledger_path_for(master, template)
    if not path.is_file():
        _stderr(f"「{path.name}」還不存在:這個台賬還沒有任何操作記錄。")
        return
    from putuo_xl.ledger.store import Ledger
    with Ledger(path) as led:
        rows = entries(led, limit)
    if as_json:
        click.echo(_json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1))
        return
    if not rows:
        _stderr("還沒有操作記錄。")
    for r in rows:
        where = {"server": "服務器", "desktop": "桌面", "cli": "命令行"}.get(r.route, r.route)
        ip = f" {r.ip}" if r.ip else ""
        first = (r.summary or "").split("\n")[0]
        click.echo(f"{r.at}  {r.user}{ip}  {where}  {r.label or r.action}  "
                   f"{RESULTS.get(r.result, r.result)}  {first}")


@main.command()
@click.argument("source", required=False, type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="台賬文件(默認:當前目錄下的 任務分解台賬.xlsx)")
@click.option("--force", is_flag=True, help="台賬文件已存在時重新生成(原文件另存為 .bak-日期時間.xlsx 備份)")
@click.option("--refresh", "refresh_master", type=click.Path(dir_okay=False, exists=True),
              help="不重新生成:按章節表中的修改更新這個台賬的按單位查看、責任矩陣和考評指標")
@click.option("--other-district", is_flag=True,
              help="通知屬於另一個地方時也用這份配置生成(默認:拒絕,並說明怎樣起草那個地方的配置)")
@config_option
@user_errors
def build(source, output, force, refresh_master, other_district, config_path):
    """生成任務分解台賬。

    來源可以是通知（.txt、.html 或 .docx 文件）、任務分解表（.xlsx、.docx 或 .html）、
    plan.yaml 或 plan.json，或已修改的台賬 .xlsx；不給時用內置的 2020 年普陀區工作要點。

    \b
    例：
      putuo-xl build 通知.docx -o 任務分解台賬.xlsx
      putuo-xl build --refresh 任務分解台賬.xlsx

    已存在的台賬不會被覆蓋，除非加 --force（原文件保留為備份）。
    """
    from putuo_xl.config import load_config
    from putuo_xl.text import in_script

    cfg = load_config(config_path)
    if refresh_master:
        from putuo_xl.workbook.views import refresh_views
        if source or output or force:
            raise click.UsageError("--refresh 只更新已有的台賬,不能同時給 SOURCE、-o 或 --force。")
        r = refresh_views(refresh_master, cfg)
        _stderr(r.summary())
        return
    from putuo_xl.workbook.master import build_master

    result = build_master(source, output, cfg, overwrite=force, check_district=not other_district)
    c = result.counts

    def t(s):
        return in_script(s, result.plan.script)
    _stderr(t("已寫出 ") + str(result.path) + t(f"\uff1a{c['sections']} 個章節、{c['tasks']} 項任務、"
            f"{c['indicators']} 個量化指標、{c['units']} 個責任單位({result.seconds:.1f} 秒)"))
    if result.backup:
        _stderr(t("原來的台賬已另存為備份:") + str(result.backup))
    if result.units_without_tasks:
        _stderr(t(f"沒有任務的單位({len(result.units_without_tasks)} 個,不生成月報):")
                + "、".join(t(u) for u in result.units_without_tasks))
    for w in result.warnings:
        _stderr(t("提示:") + w)


@main.group("config")
def config_group():
    """配置文件：為另一個區縣起草 config.yaml。"""


@config_group.command("draft")
@click.argument("notice", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="寫出的配置文件,如 西平縣.yaml")
@click.option("--force", is_flag=True, help="配置文件已存在時覆蓋")
@config_option
@user_errors
def config_draft(notice, output, force, config_path):
    """按通知起草這個區縣的配置文件。

    \b
    例：
      putuo-xl config draft 西平縣工作安排.html -o 西平縣.yaml
      putuo-xl build 西平縣工作安排.html --config 西平縣.yaml

    起草的配置列出通知點名的每個單位和單位組，email 留空；標「請核對」的地方請核對後再用。
    與地方無關的設置（狀態、月報、匯總、郵件）取自 --config 指定的配置（默認：內置配置）。
    """
    from putuo_xl.config import load_config
    from putuo_xl.plan.configdraft import write_draft

    _, summary = write_draft(notice, output, load_config(config_path), overwrite=force)
    _stderr(summary)


@main.command()
@click.argument("master", type=click.Path(dir_okay=False))
@click.option("--month", required=True, metavar="年-月", help="月份,YYYY-MM,例如 2020-08")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False),
              help="輸出目錄(默認:台賬旁的 <月份>_月報/)")
@click.option("--force", is_flag=True,
              help="覆蓋已經存在的月報;月份不在台賬的年度內時也照樣生成(會提示)")
@click.option("--unit", "units", multiple=True, help="只生成這些單位的月報(可重複)")
@config_option
@user_errors
def forms(master, month, out_dir, force, units, config_path):
    """按台賬為每個單位生成當月的月報填報表。

    \b
    例：
      putuo-xl forms 任務分解台賬.xlsx --month 2020-08

    已存在的月報不會被覆蓋，除非加 --force。月份不在台賬的年度內（如 2020 年的台賬寫了
    --month 2019-08）時不生成、不記錄，除非加 --force。
    """
    from putuo_xl.config import load_config
    from putuo_xl.workbook.forms import write_forms

    result = write_forms(master, month, out_dir, load_config(config_path), force=force,
                         units=list(units) or None)
    if result.master_changes:
        _stderr(result.master_changes)
    if result.views:
        _stderr(result.views)
    from putuo_xl.text import in_script
    for w in result.warnings:
        _stderr(in_script("提示:", result.script) + w)
    _stderr(result.summary())


@main.command("collect")
@click.argument("master", type=click.Path(dir_okay=False))
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--month", required=True, metavar="年-月", help="月份,如 2020-08")
@click.option("--json", "as_json", is_flag=True, help="只在標準輸出打印 JSON 報告")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="把帶收件情況的總表寫到新文件(總表在 Excel/WPS 中打開時用)")
@click.option("--rollup", "with_rollup", is_flag=True,
              help="收集後接着刷新匯總(工作報表、預評估、通報),總表只重寫一次")
@click.option("--bulletin", "bulletin_path", type=click.Path(dir_okay=False),
              help="與 --rollup 同用：另把通報寫到這個文件（.docx：公文格式；其他：文字）")
@click.option("--force", is_flag=True, help="月份不在台賬的年度內時也照樣收集（會提示）")
@config_option
@user_errors
def collect_cmd(master, paths, month, as_json, output, with_rollup, bulletin_path, force,
                config_path):
    """收集各單位發回的月報（文件夾、文件或保存的郵件 .eml），寫入台賬和收件情況表。

    \b
    例：
      putuo-xl collect 任務分解台賬.xlsx 收件箱/ 司法局.eml --month 2020-08
      putuo-xl collect 任務分解台賬.xlsx 收件箱/ --month 2020-08 --rollup

    加 --rollup 時收集完接着刷新匯總，等於先 collect 再 rollup，但更快（總表只讀寫一次）。
    給出的文件夾或文件不存在時不收集任何文件，台賬和總表都不改動。
    """
    if bulletin_path and not with_rollup:
        raise click.UsageError("--bulletin 要和 --rollup 一起用(或用 putuo-xl rollup --bulletin)。")
    if not with_rollup:
        from putuo_xl.collect.run import collect
        report = collect(master, list(paths), month, config=config_path, output=output, force=force)
    else:
        from putuo_xl.rollup.with_collect import collect_and_rollup
        run = collect_and_rollup(master, list(paths), month, config=config_path, output=output,
                                 force=force)
        report = run.report
    if as_json:
        click.echo(report.to_json())
    else:
        report.render_table()
        if report.master_written:
            _stderr(report.t(f"收件情況已寫入 {report.output}"))
    if not with_rollup:
        return
    if run.rollup_error is not None:
        _stderr(report.t("錯誤:已收集,但未能刷新匯總:") + str(run.rollup_error))
        sys.exit(1)
    if bulletin_path:
        _write_bulletin(run.rollup.rollup, bulletin_path)
    for w in run.rollup.rollup.warnings:
        _stderr(run.rollup.rollup.t(f"提示:{w}"))
    if not as_json:
        _stdout(run.rollup.summary())


@main.command("rollup")
@click.argument("master", type=click.Path(dir_okay=False))
@click.option("--month", required=True, metavar="年-月", help="匯總到哪個月,如 2020-08(之前各月一併保留)")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="寫到新文件(總表在 Excel/WPS 中打開時用)")
@click.option("--bulletin", "bulletin_path", type=click.Path(dir_okay=False),
              help="另把通報寫到這個文件（.docx：按公文格式排版；其他如 .txt：文字）")
@click.option("--force", is_flag=True, help="月份不在台賬的年度內時也照樣匯總（會提示）")
@config_option
@user_errors
def rollup_cmd(master, month, output, bulletin_path, force, config_path):
    """按台賬匯總工作報表：月度匯總、任務進展、考評指標完成情況、趨勢、預評估和通報。

    \b
    例：
      putuo-xl rollup 任務分解台賬.xlsx --month 2020-08
      putuo-xl rollup 任務分解台賬.xlsx --month 2020-08 --bulletin 通報.docx

    總表正在 Excel 或 WPS 中打開時，用 -o 寫到新文件，如 -o 任務分解台賬_8月匯總.xlsx。
    --bulletin 給 .docx 文件時寫出按《黨政機關公文格式》排版的通報，可直接導入公文系統。
    """
    from putuo_xl.rollup.run import rollup

    result = rollup(master, month, config=config_path, output=output, force=force)
    if bulletin_path:
        _write_bulletin(result.rollup, bulletin_path)
    for w in result.rollup.warnings:
        _stderr(result.rollup.t(f"提示:{w}"))
    _stdout(result.summary())              # what the command did: its output


def _write_bulletin(r, path) -> None:
    """`--bulletin PATH`: the month's 通報 as a GB/T 9704 .docx, or as text."""
    from pathlib import Path
    if Path(path).suffix.lower() == ".docx":
        from putuo_xl.rollup.bulletin_docx import write_bulletin_docx
        write_bulletin_docx(r, path)
    else:
        from putuo_xl.fileio import atomic_write_text
        atomic_write_text(path, r.bulletin() + "\n")
    _stderr(r.t(f"通報已寫入 {path}"))


@main.command()
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False),
              help="示例目錄(默認:當前目錄下的 putuo-xl-示例/)")
@click.option("--month", "months", multiple=True,
              help="示例的月份(可重複;默認 2020-08 和 2020-09 兩個月,趨勢圖才有曲線)")
@click.option("--months", "count", type=click.IntRange(1, 12),
              help="示例的月數:當年最後幾個月(12 = 全年 1 至 12 月,可再用 putuo-xl report 寫年度報告)")
@click.option("--seed", default=2020, show_default=True, help="示例數據的隨機種子")
@config_option
@user_errors
def demo(out_dir, months, count, seed, config_path):
    """用內置的 2020 年普陀區工作要點跑一遍完整流程（示例數據）。

    生成台賬和各單位月報，用示例數據填寫回報（有逾期、有未報、有一份被退回），
    收集入台賬並匯總，打開生成的「任務分解台賬.xlsx」即可看到每張工作報表。

    \b
    例：
      putuo-xl demo -o 示例
      putuo-xl demo --months 12 -o 示例全年
      putuo-xl report 示例全年/任務分解台賬.xlsx --year 2020

    --months 12 生成全年 12 個月的示例，之後可用 putuo-xl report 寫年度報告。
    """
    from putuo_xl.demo import DEFAULT_MONTHS, run_demo

    if count and months:
        raise click.UsageError("--month 和 --months 只能用一個。")
    chosen = count or list(months) or DEFAULT_MONTHS
    result = run_demo(out_dir, months=chosen, config=config_path, seed=seed)
    _stderr(result.summary())


@main.command("report")
@click.argument("master", type=click.Path(dir_okay=False))
@click.option("--year", required=True, metavar="年份", help="年份,如 2020")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="年度報告 .docx(默認:台賬旁的「2020年法治政府建設年度報告（草稿）.docx」)")
@click.option("--annex", type=click.Path(dir_okay=False), help="附表 .xlsx(默認:與報告同目錄)")
@click.option("--no-annex", is_flag=True, help="不寫附表 .xlsx")
@config_option
@user_errors
def report_cmd(master, year, output, annex, no_annex, config_path):
    """按台賬起草法治政府建設年度報告(Word,按黨政機關公文格式排版)和附表(Excel,供公開)。

    一、主要舉措和成效,二、存在的不足和原因,四、下一年度工作打算取自各單位全年的月報(照錄原文,
    批註註明來源單位和月報),任務和指標的數字取自台賬;三、黨政主要負責人履行第一責任人職責情況
    留給辦公室填寫。同名文件已存在時,原文件另存為 .bak-日期時間 備份。

    \b
    例：
      putuo-xl report 任務分解台賬.xlsx --year 2020
      putuo-xl report 任務分解台賬.xlsx --year 2020 -o 年度報告.docx --no-annex
    """
    from putuo_xl.report.run import annual_report

    result = annual_report(master, year, config=config_path, output=output, annex=annex,
                           xlsx=not no_annex)
    for w in result.figures.warnings:
        _stderr(f"提示:{w}")
    _stderr(result.summary())


# -- mail -----------------------------------------------------------------------------------
@main.group()
def mail():
    """發送郵件：月報填報表（forms）、催報（remind）、通報（bulletin）。

    同一內容不會重複發給同一地址（發送記錄在台賬中）；先用 --dry-run 寫出 .eml 預覽。
    SMTP 設置在 config.yaml 的 mail.smtp；密碼取自環境變量（mail.smtp.password_env）
    或運行時輸入。
    """


def _mail_options(fn):
    for option in reversed([
        click.option("--month", required=True, metavar="年-月", help="月份,YYYY-MM,例如 2020-08"),
        click.option("--dry-run", "dry_run", type=click.Path(file_okay=False),
                     help="不發送,把郵件寫成 .eml 文件放到這個文件夾,可用郵件客戶端打開檢查"),
        click.option("--yes", "-y", is_flag=True, help="不再詢問,直接發送"),
        click.option("--stop-if-missing", is_flag=True,
                     help="只要有單位不能發送(如沒有郵箱),就全部不發"),
        click.option("--resend-uncertain", is_flag=True,
                     help="上次發送中斷、不知道是否送達的郵件,這次重發"),
        click.option("--resend", is_flag=True,
                     help="即使此前已發送過同樣內容,也再發一次(對方說沒收到時)"),
        config_option,
    ]):
        fn = option(fn)
    return fn


def _mail_run(action, target, month, dry_run, yes, stop_if_missing, resend_uncertain, resend,
              config_path, **extra):
    """Call one library action with the CLI's confirmation and password prompt; print the
    plan and the summary — also after Ctrl-C while sending; exit 1 unless every unit got what
    the command was to send it (`MailReport.ok`)."""
    from putuo_xl.config import load_config
    from putuo_xl.mail.report import MailInterrupted
    from putuo_xl.text import in_script

    cfg = load_config(config_path)
    shown = []

    def confirm(report):
        shown.append(True)
        for line in report.plan_lines():
            _stdout(line)
        if yes:
            return True
        n = len(report.to_send)
        try:
            return click.confirm(in_script(f"確認發送這 {n} 封郵件?", report.script), default=False)
        except click.Abort:
            if sys.stdin is not None and sys.stdin.isatty():    # Ctrl-C at the question: a no
                click.echo("", err=True)
                return False
            raise

    def password():
        user = (cfg.section("mail").get("smtp") or {}).get("user", "")
        return click.prompt(f"SMTP 密碼({user})", hide_input=True, err=True)

    try:
        report = action(target, month, cfg, dry_run_dir=dry_run, confirm=confirm,
                        password_prompt=password, stop_if_missing=stop_if_missing,
                        resend_uncertain=resend_uncertain, resend=resend, **extra)
    except MailInterrupted as e:       # Ctrl-C while sending: what went and what did not
        report = e.report
    if not shown:                      # dry run, nothing to send, or stopped before asking
        for line in report.plan_lines():
            _stdout(line)
    for line in report.summary_lines():
        _stdout(line)
    if not report.ok:                  # a unit without what it was to get: batch scripts see it
        sys.exit(1)


@mail.command("forms")
@click.argument("forms_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--master", type=click.Path(dir_okay=False),
              help="主表(發送記錄記在它的台賬裡;默認找月報文件夾旁的台賬)")
@click.option("--unit", "units", multiple=True,
              help="只發這個單位的月報(可重複;與 --resend 合用,把改過的月報只重發給它)")
@_mail_options
@user_errors
def mail_forms(forms_dir, master, units, month, dry_run, yes, stop_if_missing, resend_uncertain,
               resend, config_path):
    """把每個單位的月報填報表發給它自己（按 config.yaml 中的單位郵箱）。

    \b
    例：
      putuo-xl mail forms 2020-08_月報 --month 2020-08 --dry-run 預覽
      putuo-xl mail forms 2020-08_月報 --month 2020-08 --resend --unit 六橫鎮

    重新生成後內容沒變的月報不會再發；已收到本月另一份月報的單位要加 --resend
    才會收到新的（上面第二個例子）。
    """
    from putuo_xl.mail.forms import send_forms

    _mail_run(send_forms, forms_dir, month, dry_run, yes, stop_if_missing, resend_uncertain,
              resend, config_path, master=master, units=list(units) or None)


@mail.command("remind")
@click.argument("master", type=click.Path(dir_okay=False, exists=True))
@_mail_options
@user_errors
def mail_remind(master, month, dry_run, yes, stop_if_missing, resend_uncertain, resend,
                config_path):
    """給沒有報送、或報送被退回的單位發催報（依據台賬中的收件記錄）。

    \b
    例：
      putuo-xl mail remind 任務分解台賬.xlsx --month 2020-08

    同一單位同一天、同一情況只催一次。
    """
    from putuo_xl.mail.reminders import send_reminders

    _mail_run(send_reminders, master, month, dry_run, yes, stop_if_missing, resend_uncertain,
              resend, config_path)


@mail.command("bulletin")
@click.argument("master", type=click.Path(dir_okay=False, exists=True))
@_mail_options
@user_errors
def mail_bulletin(master, month, dry_run, yes, stop_if_missing, resend_uncertain, resend,
                  config_path):
    """把當月通報（正文）和工作報表（附件：主表）發給 config.yaml 的 mail.bulletin_to。

    \b
    例：
      putuo-xl mail bulletin 任務分解台賬.xlsx --month 2020-08 --yes
    """
    from putuo_xl.mail.bulletin import send_bulletin

    _mail_run(send_bulletin, master, month, dry_run, yes, stop_if_missing, resend_uncertain,
              resend, config_path)


def console_main() -> None:
    """The `putuo-xl` command: `main`, then a quick exit.

    Once a command has finished, everything it wrote is closed and committed; what is left is
    the interpreter's teardown (a garbage collection and unloading pandas and numpy), ~0.1 s of
    every command for nothing. So: flush the output, run the atexit handlers (logging, temporary
    files, child processes), and leave with the command's exit code. An unexpected exception
    still ends the normal way, with its traceback."""
    try:
        main.main(prog_name="putuo-xl")
    except SystemExit as e:
        code = e.code
    else:
        code = 0
    if code is None:
        code = 0
    elif not isinstance(code, int):      # sys.exit("message"), as Python would print it
        print(code, file=sys.stderr)
        code = 1
    quick_exit(code)


def quick_exit(code: int = 0) -> None:
    """Do what the interpreter does first when it ends — wait for non-daemon threads (after
    telling thread pools to stop), run the atexit handlers, flush stdout/stderr — and end the
    process without the rest of its teardown (see console_main)."""
    import atexit
    import os
    import threading
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # a reader that went away (| head): as Python does
        code = code or 120
    os._exit(code)

