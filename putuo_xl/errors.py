"""Errors that reach a user: one Chinese sentence that says what and where, and what to do."""
from __future__ import annotations


class PutuoError(Exception):
    """A problem the user can fix. `str(err)` is the message to show, in Chinese."""

    def __init__(self, message: str, *, file: str | None = None, sheet: str | None = None,
                 cell: str | None = None, line: int | None = None, code: str = "error"):
        self.message = message
        self.file, self.sheet, self.cell, self.line, self.code = file, sheet, cell, line, code
        super().__init__(self.render())

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(f"文件「{self.file}」")
        if self.line is not None:
            parts.append(f"第 {self.line} 行")
        if self.sheet:
            parts.append(f"工作表「{self.sheet}」")
        if self.cell:
            parts.append(f"單元格 {self.cell}")
        return " ".join(parts)

    def render(self) -> str:
        where = self.where()
        return f"{where}:{self.message}" if where else self.message


class InputError(PutuoError):
    """An input file that cannot be read (wrong type, empty, corrupt)."""


class ConfigError(PutuoError):
    """config.yaml is invalid."""


class FileBusyError(PutuoError):
    """The output file is open in Excel/WPS (a lock file sits beside it)."""
