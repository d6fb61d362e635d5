"""`annual_report(master, year)`: the draft 年度報告 (.docx) and its annex (.xlsx) from the master's
plan and its ledger; `write_annual_report(ledger, plan, config, year, …)` the same from what a
caller has open (the ribbon: the open book's plan)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from putuo_xl.config import Config
from putuo_xl.errors import InputError
from putuo_xl.plan.model import Plan
from putuo_xl.report.figures import YearFigures, check_year, year_figures
from putuo_xl.text import in_script

DOCX_NAME = "{year}年法治政府建設年度報告（草稿）.docx"
XLSX_NAME = "{year}年法治政府建設年度報告附表.xlsx"


@dataclass
class AnnualReport:
    docx: Path
    xlsx: Path | None
    figures: YearFigures
    backups: list[Path] = field(default_factory=list)   # earlier drafts kept (name.bak-….docx)
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)

    def summary(self) -> str:
        f = self.figures
        rate = "—" if f.rate is None else f"{f.rate:.1%}"
        lines = [f"已生成 {f.year} 年法治政府建設年度報告草稿(統計截至{f.last},共 {len(f.months)} 個月):"
                 f"{self.docx}",
                 f"  任務 {len(f.tasks)} 項,已完成 {f.count('done')} 項(任務完成率 {rate});"
                 f"考評指標 {len(f.targets)} 項,已達標 {f.targets_met} 項。"]
        if self.xlsx:
            lines.append(f"  附表(供公開):{self.xlsx}")
        for b in self.backups:
            lines.append(f"  原有的同名文件已另存為 {b.name}")
        lines.append("  摘自各單位月報的語句都有批註註明來源;第三部分和署名、日期請辦公室填寫。")
        if f.sample:
            lines.append("  本稿根據示例數據生成,不是真實填報。")
        return in_script("\n".join(lines), f.script)


def default_paths(folder: Path, year: int, script: str) -> tuple[Path, Path]:
    return (folder / in_script(DOCX_NAME, script).format(year=year),
            folder / in_script(XLSX_NAME, script).format(year=year))


def _keep(path: Path, kept: list[Path]) -> None:
    """An earlier draft at `path` (an office may have edited it) is kept as name.bak-….docx."""
    from putuo_xl.workbook.master import keep_earlier
    dest = keep_earlier(path)
    if dest is not None:
        kept.append(dest)


def write_annual_report(ledger, plan: Plan, config: Config, year, docx: str | Path,
                        xlsx: str | Path | None = None, *, today: date | None = None) -> AnnualReport:
    """Compute the year's figures from `ledger` and write the report to `docx` (and the annex to
    `xlsx`); an existing file of either name is kept as a .bak- copy first."""
    from putuo_xl.report.annex import write_annex
    from putuo_xl.report.document import write_docx
    from putuo_xl.rollup.context import _no_gc

    t0 = time.perf_counter()
    with _no_gc():
        fig = year_figures(ledger, plan, config, year, today=today)
    t1 = time.perf_counter()
    kept: list[Path] = []
    docx = Path(docx)
    _keep(docx, kept)
    write_docx(fig, docx)
    t2 = time.perf_counter()
    if xlsx is not None:
        xlsx = Path(xlsx)
        _keep(xlsx, kept)
        write_annex(fig, xlsx)
    t3 = time.perf_counter()
    return AnnualReport(docx, xlsx, fig, kept, t3 - t0,
                        {"figures_s": round(t1 - t0, 3), "docx_s": round(t2 - t1, 3),
                         "xlsx_s": round(t3 - t2, 3)})


def annual_report(master_path, year, config=None, output=None, annex=None, *, xlsx: bool = True,
                  now=None) -> AnnualReport:
    """The draft 年度報告 of `year` for the master at `master_path`: `output` (default: beside the
    master, 2020年法治政府建設年度報告（草稿）.docx) and its annex (`annex`, default beside the
    report; `xlsx=False`: none)."""
    from putuo_xl.rollup.reading import _ledger_for, _load_cfg, _plan_for
    from putuo_xl.rollup.run import _today

    t0 = time.perf_counter()
    year = check_year(year)
    cfg = _load_cfg(config)
    master = Path(master_path)
    if not master.exists():
        raise InputError("找不到任務台賬文件,請檢查路徑。", file=str(master), code="no-master")
    plan = _plan_for(master, cfg)
    t1 = time.perf_counter()
    docx, sheet = default_paths(master.resolve().parent, year, plan.script)
    if output:
        docx = Path(output)
        if docx.suffix.lower() != ".docx":
            raise InputError("年度報告寫成 Word 文件,輸出文件名應以 .docx 結尾。", file=str(docx),
                             code="bad-output")
        sheet = docx.with_name(docx.stem + in_script("_附表", plan.script) + ".xlsx")
    if annex:
        sheet = Path(annex)
    with _ledger_for(master, cfg) as led:
        res = write_annual_report(led, plan, cfg, year, docx, sheet if xlsx else None,
                                  today=_today(now))
    res.timings = {"plan_s": round(t1 - t0, 3), **res.timings}
    res.seconds = time.perf_counter() - t0
    return res
