"""Desktop entry point: the add-in's one VBA callback runs

    RunPython "import putuo_xl.excel.desktop as d; d.run('<button tag>')"

so a new ribbon button needs only a line of customUI XML with its tag. The workbook comes
from `xw.Book.caller()`; errors are shown inside Excel (alert + 操作記錄 sheet), never as a
Python traceback (whose Chinese the VBA error box would garble).
"""
from __future__ import annotations

import xlwings as xw

from putuo_xl.excel.actions import ACTIONS, run_reporting_errors
from putuo_xl.excel.context import DESKTOP, Route


def run(tag: str) -> bool:
    """Run the ribbon action `tag` on the workbook that called; True when it succeeded."""
    book = xw.Book.caller()
    return run_reporting_errors(tag, book, Route(DESKTOP))


def tags() -> list[str]:
    return list(ACTIONS)
