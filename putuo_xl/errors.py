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
        from putuo_xl.text import in_script
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
        from putuo_xl.text import cjk_punct
        message = cjk_punct(self.message)
        return f"{where}\uff1a{message}" if where else message


class InputError(PutuoError):
    """An input file that cannot be read (wrong type, empty, corrupt)."""


class ConfigError(PutuoError):
    """config.yaml is invalid."""


class FileBusyError(PutuoError):
    """The output file is open in Excel/WPS (a lock file sits beside it)."""


def os_reason(e: OSError) -> str:
    """Why an OSError happened, in Chinese where the cause is a common one (else the system's
    own words)."""
    import errno
    reasons = {"ENOSPC": "磁盤空間不足", "EACCES": "沒有寫入權限", "EPERM": "沒有寫入權限",
               "EROFS": "磁盤是只讀的", "ENOTDIR": "路徑中有一個同名的文件,不是文件夾",
               "ENAMETOOLONG": "路徑太長", "EDQUOT": "超出了磁盤配額", "ENOENT": "路徑不存在"}
    name = errno.errorcode.get(e.errno or 0)
    return reasons.get(name, e.strerror or type(e).__name__)


def os_error_message(e: OSError) -> str:
    """One Chinese sentence for an OSError that reached the user (disk full, read-only, no
    permission …): what, where, what to do. Our writes are atomic (a temporary file, renamed),
    so nothing half-written stays."""
    import os
    where = ""
    if e.filename:
        name = str(e.filename)
        if os.path.basename(name).startswith(".tmp-"):    # our temporary file: name its folder
            where = f"文件夾「{os.path.dirname(name) or '.'}」:"
        else:
            where = f"文件「{name}」:"
    return f"{where}無法讀寫({os_reason(e)})。請檢查磁盤空間和權限後重試;寫到一半的文件不會留下。"
