"""What mail reads in the master: the notice's script, the month of its latest rollup, and
the 通報 text; `check_master_rollup` refuses a bulletin whose attachment is not that month's."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from putuo_xl import layout
from putuo_xl.config import Config
from putuo_xl.mail.identify import cell_str
from putuo_xl.mail.report import MailError
from putuo_xl.text import SIMPLIFIED, TRADITIONAL, in_script, norm_name


def master_script(master: str | Path) -> str:
    """The notice's script as the master shows it: its `_meta` script, else its sheet names."""
    import python_calamine

    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(master))
    except Exception:  # noqa: BLE001
        return TRADITIONAL
    names = set(wb.sheet_names)
    if layout.META_SHEET in names:
        for row in wb.get_sheet_by_name(layout.META_SHEET).to_python():
            if row and cell_str(row[0]) == "script" and len(row) > 1:
                if cell_str(row[1]) in (TRADITIONAL, SIMPLIFIED):
                    return cell_str(row[1])
    trad = {layout.name(k, TRADITIONAL) for k in layout.SHEETS}
    simp = {layout.name(k, SIMPLIFIED) for k in layout.SHEETS} - trad
    if names & simp and not names & (trad - simp):
        return SIMPLIFIED
    return TRADITIONAL


def bulletin_for(master: str | Path, month: str, config: Config) -> str:
    """The 通報 text for `month`: `putuo_xl.rollup.bulletin_text(master, month, config)` when the
    rollup provides it, else the text of the master's 通報 sheet (checked to be this month's)."""
    try:
        from putuo_xl.rollup.run import bulletin_text  # type: ignore[attr-defined]
    except ImportError:
        bulletin_text = None
    if bulletin_text is not None:
        text = bulletin_text(master, month, config)
        if not str(text or "").strip():
            raise MailError(f"{layout.month_label(month)}的通報是空的。請先運行 putuo-xl rollup "
                            f"--month {month}。", file=Path(master).name)
        return str(text).strip()
    return bulletin_from_sheet(master, month)


_MONTH_CELL = re.compile(r"(\d{4})\s*(?:年|-|/|\.)\s*(\d{1,2})\s*月?(?:份)?")


def month_of(value) -> str | None:
    """A 月份 cell as the rollup writes it ('2020年8月'; a date when Excel turned it into one)
    → '2020-08'; None when it is not a month."""
    if isinstance(value, (datetime, date)):
        return f"{value.year:04d}-{value.month:02d}"
    m = _MONTH_CELL.fullmatch(cell_str(value))
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    return None


@dataclass
class MasterRollup:
    """What the master's rollup sheets say: the month of its latest rollup (the newest month in
    the 月份 column of 月度匯總; None when the master was never rolled up) and the text of its
    通報 sheet, one stripped line per non-empty row (None when it has no 通報 sheet)."""
    month: str | None
    monthly_sheet: str | None
    bulletin_lines: list[str] | None


def read_master_rollup(master: str | Path) -> MasterRollup:
    """The master's own record of its latest rollup (see `MasterRollup`), read with calamine."""
    import python_calamine

    p = Path(master)
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(p))
    except Exception:  # noqa: BLE001 - calamine raises several types for bad files
        from putuo_xl.workbook.filekind import not_workbook_message
        raise MailError(not_workbook_message(p), file=p.name) from None

    def find(key):
        want = norm_name(layout.SHEETS[key])
        return next((n for n in wb.sheet_names if norm_name(n) == want), None)

    monthly, month = find("monthly"), None
    if monthly is not None:
        col = None
        for row in wb.get_sheet_by_name(monthly).to_python():
            if col is None:
                cells = [cell_str(c) for c in row]
                col = cells.index("月份") if "月份" in cells else None
                continue
            m = month_of(row[col]) if col < len(row) else None
            if m and (month is None or m > month):
                month = m
    lines = None
    bulletin = find("bulletin")
    if bulletin is not None:
        lines = []
        for row in wb.get_sheet_by_name(bulletin).to_python():
            cells = [layout.month_label(month_of(c)) if isinstance(c, (datetime, date))
                     else cell_str(c) for c in row]
            line = " ".join(c for c in cells if c).strip()
            if line:
                lines.append(line)
    return MasterRollup(month=month, monthly_sheet=monthly, bulletin_lines=lines)


def check_master_rollup(master: str | Path, month: str, text: str | None = None,
                        script: str = TRADITIONAL) -> MasterRollup:
    """Refuse (MailError) to send `month`'s bulletin with a master whose 工作報表 are not
    `month`'s: never rolled up, last rolled up to another month, or — when `text`, the bulletin
    computed from the ledger now, is given — rolled up before the ledger last changed (its 通報
    sheet does not say `text`)."""
    p = Path(master)
    info = read_master_rollup(p)
    label = layout.month_label(month)
    run = f"請先在台賬中按「刷新匯總」(或運行 putuo-xl rollup --month {month})"
    sheet = layout.name("monthly", script)
    if info.month is None:
        raise MailError(in_script(
            f"主表還沒有刷新匯總,裡面沒有{label}的工作報表(「{sheet}」工作表),通報沒有發送。"
            f"{run},再發送通報。", script), file=p.name, sheet=info.monthly_sheet,
            code="not_rolled_up")
    if info.month != month:
        latest = layout.month_label(info.month)
        raise MailError(in_script(
            f"主表中的工作報表是{latest}的(最近一次匯總),與要發送的{label}通報不是同一個月,"
            f"通報沒有發送。要發{label}的通報,{run};要發{latest}的通報,請用 --month "
            f"{info.month}。", script), file=p.name, sheet=info.monthly_sheet, code="other_month")
    if text is not None:
        want = [line.strip() for line in text.split("\n") if line.strip()]
        have = info.bulletin_lines or []
        at = have.index(want[0]) if want and want[0] in have else -1
        if at < 0 or have[at:at + len(want)] != want:
            raise MailError(in_script(
                f"主表中{label}的工作報表與按台賬現在的數據算出的通報不一致(匯總之後又收到或"
                f"退回了回報,過了報送截止日期,或改了 config.yaml),附件和郵件正文會對不上,通報沒有發送。{run},"
                f"再發送通報。", script), file=p.name, sheet=layout.name("bulletin", script),
                code="stale_rollup")
    return info


def bulletin_from_sheet(master: str | Path, month: str) -> str:
    """The text of the master's 通報 sheet (either script), one paragraph a row; it must name
    `month` (2020年8月, 2020-08 …), so that last month's bulletin is never sent by mistake."""
    import python_calamine

    p = Path(master)
    if not p.exists():
        raise MailError("找不到主表文件。", file=str(p))
    wb = python_calamine.CalamineWorkbook.from_path(str(p))
    want = norm_name(layout.SHEETS["bulletin"])
    sheet = next((n for n in wb.sheet_names if norm_name(n) == want), None)
    if sheet is None:
        raise MailError(f"主表中沒有「{layout.SHEETS['bulletin']}」工作表。請先運行 putuo-xl rollup "
                        f"--month {month} 生成工作報表和通報。", file=p.name)
    lines: list[str] = []
    for row in wb.get_sheet_by_name(sheet).to_python():
        cells = [cell_str(c) for c in row if cell_str(c)]
        line = " ".join(cells)
        if line or (lines and lines[-1]):
            lines.append(line)
    text = "\n".join(lines).strip()
    if not text:
        raise MailError(f"「{sheet}」工作表是空的。請先運行 putuo-xl rollup --month {month}。",
                        file=p.name, sheet=sheet)
    y, m = month.split("-")
    marks = [f"{int(y)}年{int(m)}月", f"{y}年{m}月", month, f"{y}.{m}", f"{int(y)}年{int(m)}月份"]
    if not any(mark in text for mark in marks):
        raise MailError(f"「{sheet}」工作表沒有提到{layout.month_label(month)},不像是這個月的通報。"
                        f"請先運行 putuo-xl rollup --month {month} 刷新後再發送。",
                        file=p.name, sheet=sheet, code="other_month")
    return text
