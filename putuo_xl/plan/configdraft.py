"""A district's config.yaml drafted from its notice (`putuo-xl config draft`), and the check that
a config belongs to the district whose notice is being built.

The draft names every unit the notice names (full names where the notice gives them, else the
district's name before the short one), every group it mentions (各鄉鎮(街道), 縣直有關單位 …) with
the members the notice lets us guess, the district's name and the notice's script; e-mail fields
are empty for the office to fill in, and every guess carries a comment asking to confirm it. The
settings that are not about the district (statuses, forms, rollup, scoring, mail) are the bundled
config's.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import yaml

from putuo_xl.config import Config, config_from_dict, config_to_plain, load_config
from putuo_xl.plan.model import Plan
from putuo_xl.plan.units import GENERIC_GROUP_RE
from putuo_xl.text import in_script, norm_name

# The district a notice is for, from the start of its issuer or title: 舟山市普陀區, 西平縣,
# 鞍山市立山區, 湘西自治州 (a province or city before the county-level place is kept).
_PLACE = re.compile(
    r"^(?:中共)?(?P<place>(?:[\u3400-\u9fff]{2,8}?(?:省|自治區|自治区|市|州|盟|地區|地区))?"
    r"[\u3400-\u9fff]{1,8}?(?:縣|县|區|区|旗|市|州|盟))")
_NOT_PLACE = re.compile(r"^(關於|关于|印發|印发|\d|各|全|本|我|國務院|国务院|黨|党|中央)")
# What a unit's name says about its kind (the config's `kind`)
_KINDS = [
    (re.compile(r"(街道|街道辦事處|街道办事处)$"), "街道"),
    (re.compile(r"(鎮|镇)(人民政府)?$"), "鎮"),
    (re.compile(r"(鄉|乡)(人民政府)?$"), "鄉"),
    (re.compile(r"(管委會|管委会|管理委員會|管理委员会)$"), "管委會"),
    (re.compile(r"法院$"), "審判機關"),
    (re.compile(r"(檢察院|检察院)$"), "檢察機關"),
    (re.compile(r"(紀委|纪委|監委|监委)"), "紀檢監察機關"),
    (re.compile(r"(人大|人大常委會|人大常委会)"), "人大機關"),
    (re.compile(r"(政協|政协)"), "政協機關"),
    (re.compile(r"^(中共)?[\u3400-\u9fff]{0,6}(縣委|县委|區委|区委|市委|州委|黨委|党委)"), "黨委部門"),
]
_TOWN_GROUP = re.compile(r"(鄉|乡|鎮|镇|街道|街鎮|街镇|鎮街|镇街)")
_LEVEL = re.compile(r"^(省|市|州|縣|县|區|区|旗|盟)")


def district_of(plan: Plan) -> str | None:
    """The district (or county, city) the notice is for, as it writes it, or None."""
    for text in (plan.issuer, plan.notice_title, plan.title):
        if not text:
            continue
        t = re.sub(r"^[\s《“]+|^\d{4}\s*年(度)?", "", text)
        if _NOT_PLACE.match(t):
            continue
        m = _PLACE.match(t)
        if m and len(m.group("place")) >= 2:
            return m.group("place")
    return None


def same_place(a: str, b: str) -> bool:
    """舟山市普陀區 and 普陀區, 普陀区 and 普陀區: the same place; 西平縣 and 普陀區 not."""
    na, nb = norm_name(a), norm_name(b)
    return bool(na and nb and (na in nb or nb in na))


def config_mismatch(plan: Plan, cfg: Config) -> str | None:
    """The message when `cfg` is plainly another district's config for this notice (its place
    differs from the config's district, or most of its units are not in the config), else None."""
    units = [u for t in plan.tasks() for u in t.units]
    unknown = [u for u in units if u.canonical is None]
    place = district_of(plan)
    where = f"「{cfg.district}」" if cfg.district else "另一個地方"
    source = Path(cfg.path).name if cfg.path and not cfg.path.startswith("<") else "config.yaml"
    notice = Path(plan.source).name if plan.source and not plan.source.startswith("<") else "通知文件"
    if place and cfg.district:
        if same_place(place, cfg.district):
            return None
        head = f"這份通知是「{place}」的,而配置文件 {source} 是{where}的"
    elif len(unknown) >= 3 and len(unknown) >= 0.6 * len(units):
        head = f"這份通知中的 {len(units)} 個單位有 {len(unknown)} 個不在配置文件 {source}({where})中,看來配置文件屬於另一個地方"
    else:
        return None
    name = place or "本地"
    text = (f"{head}:用它生成的台賬會把{where}的單位列為沒有任務,並把通知中的單位組當作單位發月報。"
            f"請先生成這個地方的配置:putuo-xl config draft {notice} -o {name}.yaml,"
            f"核對其中標「請核對」的地方、填寫各單位的郵箱,再用 --config {name}.yaml 生成台賬。"
            f"沒有寫出任何文件。")
    return in_script(text, plan.script)


# -- the draft ----------------------------------------------------------------------------

def _empty_config(base: Config) -> Config:
    raw = {k: v for k, v in config_to_plain(base).items() if k not in ("units", "groups", "district", "office")}
    return config_from_dict(raw, "<draft>")


def _kind(name: str) -> str:
    n = norm_name(name)
    for pattern, kind in _KINDS:
        if pattern.search(n):
            return kind
    return "部門"


def _full_name(name: str, place: str | None, text: str) -> tuple[str, bool]:
    """(full name, found in the notice): 縣司法局 → 西平縣司法局 when the notice writes it so, else
    the district's name before the short name (a guess)."""
    if not place:
        return "", False
    short = _LEVEL.sub("", name)
    county = re.sub(r"^.*?(?=[^省市州盟]+(縣|县|區|区|旗|市)$)", "", place) if len(place) > 3 else place
    for candidate in (place + short, county + short, place + short.replace("政府", "人民政府"),
                      county + short.replace("政府", "人民政府")):
        if candidate != name and norm_name(candidate) in norm_name(text):
            return candidate, True
    if _LEVEL.match(name):
        return county + short, False
    return "", False


def draft_config(plan: Plan, base: Config | None = None, notice_text: str = "",
                 today: date | None = None) -> str:
    """The YAML text of a config for the district of `plan` (see the module's doc)."""
    base = base or load_config()
    s = plan.script

    def T(text: str) -> str:
        return in_script(text, s)
    place = district_of(plan)
    confirm = T("請核對")
    units: dict[str, dict] = {}
    groups: dict[str, dict] = {}
    aliases: dict[str, set[str]] = {}
    for t in plan.tasks():
        for u in t.units:
            key = u.name
            is_group = u.group or bool(GENERIC_GROUP_RE.search(norm_name(u.name)))
            target = groups if is_group else units
            if not any(norm_name(k) == norm_name(key) for k in target):
                target[key] = {"tasks": []}
            k = next(k for k in target if norm_name(k) == norm_name(key))
            target[k]["tasks"].append(t.id)
            aliases.setdefault(k, set())
    lines: list[str] = []
    add = lines.append
    when = (today or date.today()).isoformat()
    add(T(f"# putuo-xl 配置文件:由 putuo-xl config draft 按通知「{plan.title}」起草({when})。"))
    add(T("# 標「請核對」的每一處都是從通知推斷的,請逐項核對、改正後再用 --config 使用;"
          "各單位的 email 請辦公室填寫(月報和催報發到那裡)。"))
    add(T("# 通知中沒有點名、但要填報的單位,請自行添加;不填報的單位可以刪去。"))
    add("version: 1")
    add(f"district: {_q(place or '')}    # {confirm}" + (T(f":從發文機關「{plan.issuer}」推斷") if plan.issuer else ""))
    add(f"office: {_q(plan.issuer or '')}    # {confirm}" + T(":發通知的辦公室(月報和通報的落款)"))
    add("")
    plain = config_to_plain(base)
    add(yaml.safe_dump({"parser": plain.get("parser") or {}}, allow_unicode=True, sort_keys=False).rstrip())
    add("")
    add(T("# 單位目錄:鍵是通知和月報中使用的簡稱。"))
    add("units:" if units else "units: {}")
    for name, info in units.items():
        full, found = _full_name(name, place, notice_text)
        add(f"  {_q(name)}:")
        note = T(f"見任務 {'、'.join(info['tasks'][:4])}" + (" 等" if len(info["tasks"]) > 4 else ""))
        if full:
            add(f"    full_name: {_q(full)}" + ("" if found else f"    # {confirm}:" + T("全稱按地名推斷")))
        else:
            add(f"    full_name: ''    # {confirm}:" + T("通知中沒有寫全稱"))
        add(f"    aliases: []")
        add(f"    kind: {_q(T(_kind(name)))}    # {confirm}({note})")
        add("    email: []")
    add("")
    add(T("# 單位組:解析時保持為組,發月報時展開為 members 中的單位。"))
    add("groups:" if groups else "groups: {}")
    departments = [n for n in units if _kind(n) in ("部門",)]
    towns = [n for n in units if _kind(n) in ("鎮", "鄉", "街道")]
    for name, info in groups.items():
        n = norm_name(name)
        add(f"  {_q(name)}:")
        add(f"    description: ''")
        add("    aliases: []")
        if _TOWN_GROUP.search(n):
            members = towns
            why = T("通知沒有逐一點名各鄉鎮(街道),請把它們添加為單位並列在這裡") if not towns else \
                T("通知中點名的鄉鎮(街道)")
        else:
            members = departments
            why = T("通知中點名的部門;不屬於這個組的請刪去,沒有點名的請添加")
        add(f"    members: [{', '.join(_q(m) for m in members)}]    # {confirm}:{why}")
    add("")
    add(T("# 以下是與地方無關的設置(狀態、月報、回收、匯總、評分、郵件),照內置配置填寫,可按需要修改。"))
    rest = {k: v for k, v in plain.items() if k in ("statuses", "forms", "collect", "rollup", "scoring",
                                                      "mail", "server")}
    rest = _blank_mail(rest)
    add(yaml.safe_dump(rest, allow_unicode=True, sort_keys=False, width=100).rstrip())
    return "\n".join(lines) + "\n"


def _blank_mail(rest: dict) -> dict:
    """The bundled config's settings without its office's contact details (e-mail fields empty)."""
    import copy

    out = copy.deepcopy(dict(rest))
    mail = dict(out.get("mail") or {})
    for key in ("from", "reply_to", "contact"):
        if key in mail:
            mail[key] = ""
    if "bulletin_to" in mail:
        mail["bulletin_to"] = []
    if "smtp" in mail:
        smtp = dict(mail["smtp"])
        smtp["user"] = ""
        mail["smtp"] = smtp
    out["mail"] = mail
    return out


def _q(text: str) -> str:
    """A YAML scalar for a name (quoted when YAML would read it otherwise)."""
    dumped = yaml.safe_dump(text, allow_unicode=True).strip()
    return dumped[:-4].rstrip() if dumped.endswith("\n...") else dumped.replace("\n...", "")


def write_draft(notice: str | Path, output: str | Path, base: Config | None = None,
                overwrite: bool = False) -> tuple[Path, str]:
    """Draft the config for the notice at `notice` and write it to `output` (atomically).
    Returns (path, summary in the notice's script). The draft is checked by loading it."""
    from putuo_xl.errors import InputError
    from putuo_xl.fileio import atomic_write_text
    from putuo_xl.plan.notice import read_notice
    from putuo_xl.plan.parser import parse_text

    base = base or load_config()
    notice_text = read_notice(notice)
    plan = parse_text(notice_text, _empty_config(base))
    plan.source = Path(notice).name
    out = Path(output)
    if out.exists() and not overwrite:
        raise InputError(in_script("配置文件已經存在,不會覆蓋。請換一個文件名(-o),或加 --force 覆蓋。", plan.script),
                         file=str(out), script=plan.script)
    text = draft_config(plan, base, "\n".join(notice_text.lines))
    config_from_dict(yaml.safe_load(text), str(out))      # the draft is a valid config
    atomic_write_text(out, text)
    n_units = sum(1 for line in text.splitlines() if line.startswith("    full_name:"))
    n_groups = sum(1 for line in text.splitlines() if line.startswith("    members:"))
    n_check = text.count(in_script("請核對", plan.script)) - 1
    summary = in_script(f"已寫出 {out}:{district_of(plan) or '(地名未能確定)'},{n_units} 個單位、{n_groups} 個單位組;"
                        f"標「請核對」的 {n_check} 處請核對,填寫各單位的 email 後用 --config {out.name} 使用。",
                        plan.script)
    return out, summary
