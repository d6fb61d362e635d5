"""Errors that reach a user: one Chinese sentence that says what and where, and what to do."""
from __future__ import annotations


class PutuoError(Exception):
    """A problem the user can fix. `str(err)` is the message to show, in Chinese."""

    def __init__(self, message: str, *, file: str | None = None, sheet: str | None = None,
                 cell: str | None = None, line: int | None = None, code: str = "error",
                 script: str | None = None):
        self.message = message
        self.file, self.sheet, self.cell, self.line, self.code = file, sheet, cell, line, code
        # the notice's script when known ("simplified"/"traditional"): our wording is shown in it
        self.script = script
        super().__init__(self.render())

    def _t(self, text: str) -> str:
        from .text import in_script
        return in_script(text, self.script or "traditional")

    def where(self) -> str:
        t = self._t
        parts = []
        if self.file:
            parts.append(t("文件") + f"「{self.file}」")
        if self.line is not None:
            parts.append(t(f"第 {self.line} 行"))
        if self.sheet:
            parts.append(t("工作表") + f"「{self.sheet}」")
        if self.cell:
            parts.append(t("單元格") + f" {self.cell}")
        return " ".join(parts)

    def render(self) -> str:
        where = self.where()
        from .text import cjk_punct
        message = cjk_punct(self.message)
        return f"{where}\uff1a{message}" if where else message


class InputError(PutuoError):
    """An input file that cannot be read (wrong type, empty, corrupt)."""


class ConfigError(PutuoError):
    """config.yaml is invalid."""


class FileBusyError(PutuoError):
    """The output file is open in Excel/WPS (a lock file sits beside it)."""
