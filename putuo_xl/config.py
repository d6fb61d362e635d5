"""config.yaml: the unit directory (units, aliases, groups, addresses) and the settings
of every stage. Loaded once, validated with messages that name the line."""
from __future__ import annotations

import copy
import hashlib
import importlib.resources
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from putuo_xl.errors import ConfigError
from putuo_xl.text import norm_name

DEFAULT_CONFIG_NAME = "config.yaml"

# Allowed keys per top-level section; a key not listed is reported with its line.
SCHEMA: dict[str, set[str] | None] = {
    "version": None,
    "district": None,
    "office": None,
    "parser": {"first_listed_is_lead", "recurring_markers", "group_suffix_aliases"},
    "units": None,       # mapping name -> unit, checked by UNIT_KEYS
    "groups": None,      # mapping name -> group, checked by GROUP_KEYS
    "statuses": None,    # list of {name, synonyms, ...}, checked by STATUS_KEYS
    "forms": {"due_day", "password", "file_name", "form_version", "extra_statuses"},
    "collect": {"ledger_name", "archive_dir", "max_file_mb", "max_unpacked_mb", "max_xml_mb",
                "max_zip_ratio"},
    "rollup": {"overall_status", "near_deadline_days", "good_rate", "lagging_rate",
               "top_n", "overall_status_group", "group_done_share", "group_lagging_share",
               "bulletin_max_units"},
    "scoring": {"weights", "full_marks", "late_credit"},
    "mail": {"smtp", "from", "reply_to", "contact", "bulletin_to", "templates",
             "retries", "retry_wait_seconds"},
    "server": {"data_dir"},
}
# Mappings one level further down whose keys are checked too: (section, key) -> allowed keys.
SUBSCHEMA: dict[tuple[str, str], set[str]] = {
    ("mail", "smtp"): {"host", "port", "security", "user", "password_env", "timeout_seconds",
                       "ca_file", "verify"},
    ("mail", "templates"): {"forms_subject", "forms_body", "remind_subject", "remind_body",
                            "remind_missing", "remind_rejected", "remind_outdated", "bulletin_subject",
                            "bulletin_body"},
}
UNIT_KEYS = {"full_name", "aliases", "kind", "email", "contact"}
GROUP_KEYS = {"aliases", "members", "description"}
STATUS_KEYS = {"name", "synonyms", "done", "lagging", "started", "color"}
DEFAULT_PASSWORD_ENV = "PUTUO_XL_SMTP_PASSWORD"
# The placeholders a form's file name may use (forms.file_name).
FORM_NAME_FIELDS = {"month", "unit"}


class _LineLoader(yaml.SafeLoader):
    """Keeps the line of every mapping key (`mapping.lines[key]`) and of every list item
    (`sequence.lines[i]`), 1-based, so that a message can name the line."""


class LineDict(dict):
    lines: dict


class LineList(list):
    lines: list


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key, first: int, second: int):
        super().__init__(f"duplicate key {key!r}")
        self.key, self.first, self.second = key, first, second


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    result = LineDict()
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in result.lines:
            # YAML would silently keep the last one: a unit defined twice loses its first half
            raise _DuplicateKey(key, result.lines[key], line)
        result[key] = loader.construct_object(value_node, deep=deep)
        result.lines[key] = line
    return result


def _construct_sequence(loader, node, deep=False):
    result = LineList(loader.construct_object(child, deep=deep) for child in node.value)
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)

if getattr(yaml, "__with_libyaml__", False):
    class _FastLineLoader(yaml.CSafeLoader):
        """_LineLoader's constructors over libyaml's parser: ~10x faster on a province's
        config (thousands of units); a document it refuses is parsed again by _LineLoader, so
        the message and line are the pure-Python parser's."""

    _FastLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _FastLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
else:   # pragma: no cover - PyYAML without libyaml
    _FastLineLoader = _LineLoader


def _load_yaml(text: str):
    try:
        return yaml.load(text, Loader=_FastLineLoader)
    except _DuplicateKey:
        raise
    except yaml.YAMLError:
        if _FastLineLoader is _LineLoader:
            raise
        return yaml.load(text, Loader=_LineLoader)   # raises the pure-Python parser's error


def _line(mapping, key) -> int | None:
    return getattr(mapping, "lines", {}).get(key)


def _item_line(mapping, key, index: int) -> int | None:
    """The line of item `index` of the list under `key`, else the key's own line."""
    seq = mapping.get(key) if isinstance(mapping, dict) else None
    lines = getattr(seq, "lines", None)
    if lines and 0 <= index < len(lines):
        return lines[index]
    return _line(mapping, key)


@dataclass
class Unit:
    name: str                       # the short name officials use: 區司法局
    full_name: str = ""
    aliases: list[str] = field(default_factory=list)
    kind: str = ""                  # 部門 / 鎮 / 街道 / 管委會
    email: list[str] = field(default_factory=list)
    contact: str = ""


@dataclass
class Group:
    name: str
    aliases: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    description: str = ""


@dataclass
class Status:
    name: str
    synonyms: list[str] = field(default_factory=list)
    done: bool = False
    lagging: bool = False
    started: bool = True
    color: str = ""


@dataclass
class Config:
    raw: dict
    path: str
    district: str = ""
    office: str = ""
    units: dict[str, Unit] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)
    _names: dict[str, str] = field(default_factory=dict)   # normalised alias -> canonical

    # -- sections with defaults ----------------------------------------------
    def section(self, name: str) -> dict:
        return self.raw.get(name) or {}

    @property
    def first_listed_is_lead(self) -> bool:
        return bool(self.section("parser").get("first_listed_is_lead", False))

    @property
    def recurring_markers(self) -> list[str]:
        return list(self.section("parser").get("recurring_markers") or ["經常性", "長期堅持", "常態化開展"])

    # -- names ---------------------------------------------------------------
    def resolve(self, name: str) -> str | None:
        """Canonical unit or group name for a name as written, in either script."""
        return self._names.get(norm_name(name))

    def is_group(self, canonical: str) -> bool:
        return canonical in self.groups

    def expand(self, canonical: str) -> list[str]:
        """A group's member units (recursively); a unit is itself."""
        if canonical in self.units:
            return [canonical]
        group = self.groups.get(canonical)
        if group is None:
            return []
        # memo: a province-sized group is expanded once per task; the config does not change
        # after loading (keyed by the member list, so an edited group is expanded afresh)
        memo = self.__dict__.setdefault("_expanded", {})
        key = (canonical, tuple(group.members))
        hit = memo.get(key)
        if hit is not None:
            return list(hit)
        out: list[str] = []
        seen: set[str] = set()      # a set, not `in out`: groups of thousands of units (a province)
        for m in group.members:
            for u in self.expand(m):
                if u not in seen:
                    seen.add(u)
                    out.append(u)
        memo[key] = tuple(out)
        return out

    def known_names(self) -> dict[str, str]:
        """Every normalised alias -> canonical name."""
        return dict(self._names)

    def status_names(self) -> list[str]:
        return [s.name for s in self.statuses]

    def fingerprint(self) -> str:
        blob = json.dumps(self.raw, ensure_ascii=False, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def default_config_path() -> Path:
    return Path(str(importlib.resources.files("putuo_xl").joinpath("data", DEFAULT_CONFIG_NAME)))


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate config.yaml; None loads the bundled default for 普陀區."""
    p = Path(path) if path else default_config_path()
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("找不到配置文件,請檢查路徑。", file=str(p)) from None
    except IsADirectoryError:
        raise ConfigError("這是一個文件夾,請指定 config.yaml 文件。", file=str(p)) from None
    except UnicodeDecodeError:
        raise ConfigError("配置文件不是 UTF-8 編碼,請用 UTF-8 保存。", file=str(p)) from None
    except OSError as e:
        raise ConfigError(f"無法讀取配置文件({e.strerror or e})。", file=str(p)) from None
    try:
        raw = _load_yaml(text) or LineDict()
    except _DuplicateKey as e:
        raise ConfigError(f"「{e.key}」在同一層寫了兩次(第 {e.first} 行和第 {e.second} 行),"
                          f"後一個會覆蓋前一個。請合併成一個。", file=str(p), line=e.second) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigError(f"YAML 格式錯誤({getattr(e, 'problem', None) or e}),請檢查縮進、冒號和括號。",
                          file=str(p), line=mark.line + 1 if mark else None) from None
    return config_from_dict(raw, str(p))


def config_from_dict(raw: dict, path: str = "<config>") -> Config:
    if not isinstance(raw, dict):
        raise ConfigError("配置文件的頂層應是「鍵: 值」映射。", file=path, line=1)

    def err(msg, mapping=None, key=None):
        return ConfigError(msg, file=path, line=_line(mapping, key) if mapping is not None else None)

    for key, value in raw.items():
        if key not in SCHEMA:
            raise err(f"未知的配置項「{key}」,可用的有:{'、'.join(SCHEMA)}。", raw, key)
        allowed = SCHEMA[key]
        if allowed is not None:
            if value is None:
                continue
            if not isinstance(value, dict):
                raise err(f"配置項「{key}」應是「鍵: 值」映射。", raw, key)
            for sub in value:
                if sub not in allowed:
                    raise err(f"「{key}」下未知的配置項「{sub}」,可用的有:{'、'.join(sorted(allowed))}。",
                              value, sub)
                nested = SUBSCHEMA.get((key, sub))
                if nested is None or value[sub] is None:
                    continue
                if not isinstance(value[sub], dict):
                    raise err(f"配置項「{key}.{sub}」應是「鍵: 值」映射。", value, sub)
                for k in value[sub]:
                    if (key, sub, k) == ("mail", "smtp", "password"):
                        env = value[sub].get("password_env") or DEFAULT_PASSWORD_ENV
                        raise err(f"SMTP 密碼不能寫在配置文件中(配置文件會被複製、郵寄和提交)。請刪除"
                                  f"「mail.smtp.password」這一行,把密碼放在環境變量 {env} 中"
                                  f"(環境變量的名字由 mail.smtp.password_env 指定),"
                                  f"或在發送時按提示輸入。", value[sub], k)
                    if k not in nested:
                        raise err(f"「{key}.{sub}」下未知的配置項「{k}」,可用的有:"
                                  f"{'、'.join(sorted(nested))}。", value[sub], k)

    _check_forms(raw.get("forms"), err)
    cfg = Config(raw=raw, path=path, district=str(raw.get("district") or ""),
                 office=str(raw.get("office") or ""))
    names: dict[str, tuple[str, int | None, str]] = {}

    def register(alias, canonical, line):
        n = norm_name(str(alias))
        if not n:
            return
        prev = names.get(n)
        if prev and prev[0] != canonical:
            same = "" if prev[2] == str(alias) else f"(與「{prev[2]}」只差簡繁體、全半角或空格,算同一個名稱)"
            if str(alias) == canonical and prev[2] != prev[0]:
                # the unit's own name was given earlier as another unit's alias: that alias is wrong
                raise ConfigError(f"「{alias}」是單位(組)名稱,不能又是「{prev[0]}」的別名{same}。"
                                  f"請刪除這個別名。", file=path, line=prev[1])
            raise ConfigError(f"別名「{alias}」重複{same}:已屬於「{prev[0]}」(第 {prev[1]} 行),"
                              f"不能再屬於「{canonical}」。請刪除其中一個。", file=path, line=line)
        names[n] = (canonical, line, str(alias))

    def as_list(v, owner="statuses", mapping=None, key="synonyms"):
        if v is None:
            return []
        if isinstance(v, (str, int, float)):
            return [str(v)]
        if isinstance(v, list) and all(isinstance(x, (str, int, float)) for x in v):
            return [str(x) for x in v]
        raise err(f"「{owner}」的「{key}」應是一個名稱或名稱列表,如 [甲, 乙]。", mapping, key)

    def as_text(v, owner, mapping, key):
        if v is None:
            return ""
        if isinstance(v, (str, int, float)):
            return str(v)
        raise err(f"「{owner}」的「{key}」應是一段文字。", mapping, key)

    parser_cfg = raw.get("parser") or {}
    if isinstance(parser_cfg, dict):
        if "first_listed_is_lead" in parser_cfg and not isinstance(parser_cfg["first_listed_is_lead"], bool):
            raise err("「parser.first_listed_is_lead」應是 true 或 false。", parser_cfg, "first_listed_is_lead")
        if "recurring_markers" in parser_cfg:
            as_list(parser_cfg["recurring_markers"], "parser", parser_cfg, "recurring_markers")

    units = raw.get("units") or {}
    if not isinstance(units, dict):
        raise err("「units」應是以單位簡稱為鍵的映射。", raw, "units")
    for name, spec in units.items():
        spec = spec or {}
        if not isinstance(spec, dict):
            raise err(f"單位「{name}」的設置應是映射(full_name、aliases、email…)。", units, name)
        for k in spec:
            if k not in UNIT_KEYS:
                raise err(f"單位「{name}」下未知的配置項「{k}」,可用的有:{'、'.join(sorted(UNIT_KEYS))}。",
                          spec, k)
        unit = Unit(name=str(name), full_name=as_text(spec.get("full_name"), name, spec, "full_name"),
                    aliases=as_list(spec.get("aliases"), name, spec, "aliases"),
                    kind=as_text(spec.get("kind"), name, spec, "kind"),
                    email=as_list(spec.get("email"), name, spec, "email"),
                    contact=as_text(spec.get("contact"), name, spec, "contact"))
        cfg.units[unit.name] = unit
        register(unit.name, unit.name, _line(units, name))
        if unit.full_name:
            register(unit.full_name, unit.name, _line(spec, "full_name"))
        for i, a in enumerate(unit.aliases):
            register(a, unit.name, _item_line(spec, "aliases", i))

    groups = raw.get("groups") or {}
    if not isinstance(groups, dict):
        raise err("「groups」應是以組名為鍵的映射。", raw, "groups")
    for name, spec in groups.items():
        spec = spec or {}
        if not isinstance(spec, dict):
            raise err(f"單位組「{name}」的設置應是映射(aliases、members)。", groups, name)
        for k in spec:
            if k not in GROUP_KEYS:
                raise err(f"單位組「{name}」下未知的配置項「{k}」,可用的有:{'、'.join(sorted(GROUP_KEYS))}。",
                          spec, k)
        group = Group(name=str(name), aliases=as_list(spec.get("aliases"), name, spec, "aliases"),
                      members=as_list(spec.get("members"), name, spec, "members"),
                      description=as_text(spec.get("description"), name, spec, "description"))
        if str(name) in cfg.units:
            raise err(f"「{name}」既是單位又是單位組,請改名其一。", groups, name)
        cfg.groups[group.name] = group
        register(group.name, group.name, _line(groups, name))
        for i, a in enumerate(group.aliases):
            register(a, group.name, _item_line(spec, "aliases", i))
    for gname, group in cfg.groups.items():
        spec = groups[gname] or {}
        for i, m in enumerate(group.members):
            if m not in cfg.units and m not in cfg.groups:
                known = names.get(norm_name(m))
                hint = f"它是「{known[0]}」的別名,請寫「{known[0]}」。" if known else \
                    "請先在 units 下添加它,或改正名稱。"
                raise ConfigError(f"單位組「{gname}」的成員「{m}」沒有在 units 或 groups 中定義。{hint}",
                                  file=path, line=_item_line(spec, "members", i))
    _check_group_cycles(cfg, groups, path)

    statuses = raw.get("statuses") or []
    if not isinstance(statuses, list):
        raise err("「statuses」應是列表。", raw, "statuses")
    for item in statuses:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not item.get("name"):
            raise err("「statuses」的每一項需要 name。", raw, "statuses")
        for k in item:
            if k not in STATUS_KEYS:
                raise err(f"狀態「{item.get('name')}」下未知的配置項「{k}」。", item, k)
        st = Status(name=str(item["name"]), synonyms=as_list(item.get("synonyms")),
                    done=bool(item.get("done", False)), lagging=bool(item.get("lagging", False)),
                    started=bool(item.get("started", True)), color=str(item.get("color") or ""))
        cfg.statuses.append(st)

    cfg._names = {k: v[0] for k, v in names.items()}
    return cfg


def _check_forms(forms, err) -> None:
    """forms.due_day is a day of the month; forms.file_name uses only {month} and {unit}."""
    if not isinstance(forms, dict):
        return
    if forms.get("due_day") is not None:
        day = forms["due_day"]
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 31:
            raise err(f"「forms.due_day」應是 1 到 31 之間的整數(報送截止日是下個月的幾號,例如 5),"
                      f"現在是「{day}」。", forms, "due_day")
    name = forms.get("file_name")
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            raise err("「forms.file_name」應是一段文字,例如 \"{month}_{unit}_法治政府建設月報.xlsx\"。",
                      forms, "file_name")
        import string
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(name) if f is not None]
        except ValueError:
            raise err(f"「forms.file_name」中的花括號不成對:「{name}」。只能用 {{month}}(月份)和 "
                      f"{{unit}}(單位)兩個佔位符。", forms, "file_name") from None
        bad = [f for f in fields if f not in FORM_NAME_FIELDS]
        if bad:
            raise err(f"「forms.file_name」中的佔位符「{{{bad[0]}}}」不認識。只能用 {{month}}(月份)和 "
                      f"{{unit}}(單位),例如 \"{{month}}_{{unit}}_法治政府建設月報.xlsx\"。", forms, "file_name")
        if "unit" not in fields:
            raise err("「forms.file_name」需要包含 {unit},否則各單位的月報文件名相同、互相覆蓋。",
                      forms, "file_name")


def _check_group_cycles(cfg: Config, groups: dict, path: str) -> None:
    """A group that contains itself (directly or through others) cannot be expanded."""
    def visit(name, trail):
        for m in cfg.groups[name].members:
            if m in cfg.groups:
                if m in trail:
                    loop = " → ".join([*trail[trail.index(m):], m])
                    raise ConfigError(f"單位組互相包含:{loop}。請去掉其中一個成員。", file=path,
                                      line=_line(groups, name))
                visit(m, [*trail, m])
    for name in cfg.groups:
        visit(name, [name])


def config_to_plain(cfg: Config) -> dict:
    """A deep plain-dict copy of the raw config (for writing or hashing)."""
    return json.loads(json.dumps(copy.deepcopy(cfg.raw), ensure_ascii=False, default=str))
