"""Files putuo-xl ships beside its code: the styles template, the VBA/ribbon sources of the
desktop add-in and the xlwings Server project. They are package data (putuo_xl/data/…), so a
plain `pip install` has them, and a checkout has them at the same place (there are no copies or
links at the top level of the repository: links become plain text files in a Windows clone).

Lookup order for each: a folder of the official's own (the config file's folder, for the styles
template: see workbook/styles.py) → the package data.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def resource_dir(name: str) -> Path:
    """The folder `name` (workbook_templates, macros, server) in the package data."""
    return PACKAGE_DATA / name


def resource_candidates(name: str, file: str) -> list[Path]:
    """Where `name/file` is looked for after the official's own folder: the package data."""
    return [PACKAGE_DATA / name / file]
