"""Files putuo-xl ships beside its code: the styles template, the VBA/ribbon sources of the
desktop add-in and the xlwings Server project. They are package data (putuo_xl/data/…), so a
plain `pip install` has them; a source checkout also shows them at the top level
(workbook_templates/, macros/, server/ are links to the package data), where an office restyles.

Lookup order for each: a folder of the official's own (the config file's folder, for the styles
template) → the top level of a source checkout → the package data.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DATA = Path(__file__).resolve().parent / "data"
TOP_LEVEL = Path(__file__).resolve().parents[1]     # a source checkout's root (else site-packages)

# name -> a file that must be inside, so that an unrelated folder of the same name (e.g. a
# `server` package in site-packages) is never taken for ours
MARKERS = {"workbook_templates": "styles.xlsx", "macros": "customUI.xml",
           "server": "custom_scripts/__init__.py"}


def resource_dir(name: str) -> Path:
    """The folder `name` (workbook_templates, macros, server): the checkout's top-level one when
    it is there, else the package data's."""
    marker = MARKERS.get(name, "")
    top = TOP_LEVEL / name
    if top.is_dir() and (not marker or (top / marker).exists()):
        return top
    return PACKAGE_DATA / name


def resource_candidates(name: str, file: str) -> list[Path]:
    """`name/file` at the top level of a checkout, then in the package data (distinct paths)."""
    out: list[Path] = []
    for d in (TOP_LEVEL / name, PACKAGE_DATA / name):
        p = d / file
        if all(_same(p, q) is False for q in out):
            out.append(p)
    return out


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
