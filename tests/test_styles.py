"""Styles come from workbook_templates/styles.xlsx, which an office can restyle in Excel."""
from __future__ import annotations

import shutil

from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill

from putuo_xl.config import default_config_path, load_config
from putuo_xl.workbook.master import build_master
from putuo_xl.plan.parser import parse_notice
from putuo_xl.workbook.styles import (DEFAULTS, TEMPLATE_SHEET, load_styles, template_candidates,
                                      write_template)


def _sides(props: dict) -> dict:
    """Normalise border shorthand to per-side keys (the template stores sides)."""
    d = dict(props)
    if d.get("border"):
        b, c = d.pop("border"), d.pop("border_color", None)
        for side in ("left", "right", "top", "bottom"):
            d.setdefault(side, b)
            if c:
                d.setdefault(f"{side}_color", c)
    if d.get("locked", True) is True:
        d.pop("locked", None)
    d.pop("font_charset", None)
    if "font_size" in d:
        d["font_size"] = float(d["font_size"])
    return d


def test_bundled_template_matches_the_defaults():
    path = template_candidates()[-1]
    assert path.exists(), "workbook_templates/styles.xlsx is missing: python -m putuo_xl.workbook.styles"
    styles = load_styles(path=path)
    for key, (_, props) in DEFAULTS.items():
        assert _sides(styles.props(key)) == _sides(props), key


def test_restyled_template_changes_the_workbook(tmp_path):
    tpl = write_template(tmp_path / "workbook_templates" / "styles.xlsx")
    wb = load_workbook(tpl)
    ws = wb[TEMPLATE_SHEET]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "header")
    row[2].fill = PatternFill("solid", fgColor="FF00B050")
    row[2].font = Font(name="Microsoft YaHei", sz=12, color="FFFFFFFF")
    wb.save(tpl)
    styles = load_styles(path=tpl)
    assert styles.props("header")["bg_color"] == "#00B050"
    assert styles.props("header")["font_name"] == "Microsoft YaHei"
    cfg = load_config()
    out = build_master(parse_notice(None, cfg), tmp_path / "m.xlsx", cfg, styles=styles).path
    cell = load_workbook(out)["一、推進政府職能依法全面履行"]["C3"]
    assert cell.fill.fgColor.rgb.endswith("00B050") and cell.font.name == "Microsoft YaHei"


def test_template_next_to_the_config_wins(tmp_path):
    shutil.copy(default_config_path(), tmp_path / "config.yaml")
    cfg = load_config(tmp_path / "config.yaml")
    tpl = write_template(tmp_path / "workbook_templates" / "styles.xlsx")
    wb = load_workbook(tpl)
    row = next(r for r in wb[TEMPLATE_SHEET].iter_rows(min_row=2) if r[0].value == "title")
    row[2].font = Font(name="KaiTi", sz=20)
    wb.save(tpl)
    assert load_styles(cfg).props("title")["font_name"] == "KaiTi"
