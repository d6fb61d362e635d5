"""putuo-xl: 法治政府建設工作要點 → 任務分解台賬 → 月報 → 工作報表 / 預評估通報.

The packages follow the data flow (docs/layout.md); each imports only the ones before it:

    plan/      a notice (.txt .html .docx) → the Plan (sections, tasks, units, targets)
    ledger/    the SQLite ledger beside a master, and each unit's reporting state for a month
    workbook/  Plan → the master workbook (任務分解台賬) and each unit's monthly form; read back
    collect/   returned forms → judged, archived, stored in the ledger; 收件情況
    rollup/    ledger → 工作報表, 預評估, 通報 in the master
    report/    ledger + the rollup's figures → the year-end 年度報告 (.docx) and its annex
    mail/      forms, reminders (催報) and the bulletin out by SMTP
    demo.py, excel/, cli/   adapters and the whole cycle: they may use everything

Shared pieces at the top: config, errors, text, fileio, locks, layout (the sheet names and form
layout every stage agrees on), parallel, resources, docx_gbt (official documents, GB/T 9704).
"""
__version__ = "0.1.0"


def lazy_exports(package: str, exports: dict[str, str]):
    """A module `__getattr__` for a package that re-exports `name -> submodule` without
    importing the submodules until a name is used (commands stay quick to start)."""
    import importlib

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__, sorted(exports)
