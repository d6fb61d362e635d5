"""Subjects and bodies: the templates of config.yaml mail.templates filled in the notice's
script, and the values every template can use."""
from __future__ import annotations

from datetime import date

from putuo_xl import layout
from putuo_xl.config import Config
from putuo_xl.errors import ConfigError
from putuo_xl.mail.settings import MailSettings
from putuo_xl.text import cjk_punct, in_script


class _Values(dict):
    def __init__(self, values, template_key, settings):
        super().__init__(values)
        self.template_key, self.settings = template_key, settings

    def __missing__(self, key):
        raise ConfigError(
            f"郵件模板 mail.templates.{self.template_key} 中的「{{{key}}}」不認識,可用的有:"
            f"{'、'.join('{' + k + '}' for k in self)}。(要寫花括號本身,請寫成 {{{{ 和 }}}}。)",
            file=self.settings.config_path, line=self.settings.template_lines.get(self.template_key))


def render(settings: MailSettings, key: str, values: dict, script: str) -> str:
    """Fill template `key` in the notice's script; an unknown placeholder names the line."""
    template = in_script(settings.templates.get(key, ""), script)
    try:
        return cjk_punct(template.format_map(_Values(values, key, settings)).strip("\n"))
    except (ValueError, IndexError) as e:
        raise ConfigError(f"郵件模板 mail.templates.{key} 的花括號寫法有誤({e})。"
                          f"佔位符寫成 {{month_label}} 這樣,花括號本身寫成 {{{{ 和 }}}}。",
                          file=settings.config_path, line=settings.template_lines.get(key)) from None


def date_label(d: date | str) -> str:
    """date(2020, 9, 5) or '2020-09-05' → '2020年9月5日'."""
    if isinstance(d, str):
        try:
            d = date.fromisoformat(d[:10])
        except ValueError:
            return d
    return f"{d.year}年{d.month}月{d.day}日"


def common_values(config: Config, settings: MailSettings, month: str, today: date,
                  script: str) -> dict[str, str]:
    """The values every template can use (district, office, contact, month, today)."""
    return {"district": in_script(config.district, script), "office": in_script(config.office, script),
            "contact": in_script(settings.contact, script), "month": month, "month_label": layout.month_label(month),
            "today_label": date_label(today)}


def unit_values(config: Config, unit: str, script: str) -> dict[str, str]:
    """{unit} and {unit_full} for a unit's message."""
    u = config.units.get(unit)
    return {"unit": in_script(unit, script),
            "unit_full": in_script((u.full_name or u.name) if u else unit, script)}
