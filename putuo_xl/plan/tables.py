"""Task tables: the header row found by its meaning (序號 / 工作任務 / 牽頭單位 / 配合單位 / 完成時限 …,
not its position), the rows made into the numbered items with unit parentheses the parser reads.

The tables come from a Word document (python-docx), a web page (`_html_grid`, merged cells
repeated), a spreadsheet (`read_xlsx`), or text: cells between `|` or tabs, or one cell per line
as a web page's text copy gives them (`_text_tables`).
"""
from __future__ import annotations

import re

from putuo_xl.text import narrow, squeeze_cjk_spaces

_TASK_HEAD = re.compile(r"(工作任務|工作任务|任務|任务|工作內容|工作内容|內容|内容|工作要點|工作要点|"
                        r"工作措施|具體措施|具体措施|重點工作|重点工作|事項|事项|舉措|举措)")
_UNIT_HEAD = re.compile(r"(責任單位|牽頭單位|配合單位|協辦單位|责任单位|牵头单位|配合单位|协办单位|"
                        r"責任部門|责任部门|牽頭部門|牵头部门|配合部門|配合部门|參與單位|参与单位)")
_SEQ_HEAD = re.compile(r"^(序號|序号|編號|编号|序)$")
_DEADLINE_HEAD = re.compile(r"(時限|时限|期限|完成時間|完成时间|時間節點|时间节点|進度安排|进度安排)")
_HEADING_START = re.compile(r"^\s*([一二三四五六七八九十]{1,3}\s*[、.．]|[((]\s*[一二三四五六七八九十]{1,3}\s*[))]|"
                            r"\d{1,3}\s*[.．、]|[((]\s*\d{1,3}\s*[))])")


def _table_lines(table) -> list[str]:
    """A task table (序號 | 工作任務 | 牽頭單位 | 配合單位 | 完成時限) becomes numbered items with a
    unit parenthesis, the shape the parser reads; a row merged across the table (一、…) stays a
    heading line; other tables become plain lines.

    With several text columns (重點任務 | 具體措施 | …) the last is the task and the others
    group the tasks: a new value there becomes a subsection heading."""
    rows = [[re.sub(r"\s*\n\s*", "", c.text).strip() for c in r.cells] for r in table.rows]
    return _rows_lines(rows)


def _is_task_header(row: list[str]) -> bool:
    """序號 | 工作任務 | 牽頭單位 | 配合單位 | 完成時限: a header with a task and a unit column."""
    cells = [narrow(c).replace(" ", "") for c in row]
    return len(cells) >= 2 and any(_UNIT_HEAD.search(c) for c in cells) \
        and any(_TASK_HEAD.search(c) and not _UNIT_HEAD.search(c) for c in cells)


def _rows_lines(rows: list[list[str]]) -> list[str]:
    """The lines of a table given as rows of cell texts (merged cells repeated), see _table_lines."""
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    # a title row above the header (…任務分解表 across the table) stays a line of its own
    lead: list[str] = []
    for k in range(min(3, len(rows))):
        if _is_task_header(rows[k]):
            lead = ["".join(dict.fromkeys(r)) for r in rows[:k]]
            rows = rows[k:]
            break
    width = len(rows[0])
    rows = [r + [""] * (width - len(r)) if len(r) < width else r for r in rows]
    return lead + _header_rows_lines(rows)


def _header_rows_lines(rows: list[list[str]]) -> list[str]:
    header = rows[0]
    seq_col = next((i for i, h in enumerate(header) if _SEQ_HEAD.match(h.replace(" ", ""))), None)
    unit_cols = [(i, h) for i, h in enumerate(header) if _UNIT_HEAD.search(h)]
    deadline_col = next((i for i, h in enumerate(header) if _DEADLINE_HEAD.search(h)), None)
    text_cols = [i for i, h in enumerate(header) if _TASK_HEAD.search(h) and i != seq_col
                 and i not in dict(unit_cols) and i != deadline_col]
    if not text_cols or not unit_cols:
        return ["".join(dict.fromkeys(r)) for r in rows]
    task_col, group_cols = text_cols[-1], text_cols[:-1]
    out: list[str] = []
    groups_seen: dict[int, str] = {}
    counter = 0
    for row in rows[1:]:
        distinct = [c for c in dict.fromkeys(row) if c]
        if len(distinct) == 1 and len(row) > 1 and (row.count(distinct[0]) > 1 or
                                                    _HEADING_START.match(narrow(distinct[0]))):
            out.append(distinct[0])          # a merged heading row: 一、… / (一)…
            continue
        cell = lambda i: row[i] if i is not None and i < len(row) else ""   # noqa: E731
        for g in group_cols:
            value = cell(g)
            if value and groups_seen.get(g) != value:
                groups_seen[g] = value
                if not _HEADING_START.match(narrow(value)):
                    value = f"({_cn_numeral(_groups_in_section(out) + 1)}){value}"
                out.append(value)
        text = cell(task_col)
        if not text:
            continue
        counter += 1
        seq = narrow(cell(seq_col)).rstrip(".、．")
        number = f"{seq}." if re.fullmatch(r"\d{1,3}", seq) else f"{counter}."
        roles = []
        for i, h in unit_cols:
            if cell(i):
                label = re.sub(r"[\s(].*$", "", narrow(h))
                roles.append(f"{label}:{cell(i)}")
        if cell(deadline_col):
            label = re.sub(r"[\s(].*$", "", narrow(header[deadline_col])) or "完成時限"
            roles.append(f"{label}:{cell(deadline_col)}")
        lead = re.match(r"^\s*\d{1,3}\s*[.．、]\s*", narrow(text))
        text = text[lead.end():] if lead else text
        out.append(f"{number}{text}({';'.join(roles)})" if roles else f"{number}{text}")
    return out


def _groups_in_section(lines: list[str]) -> int:
    """How many (一)(二)… headings follow the last 一、 heading."""
    n = 0
    for x in reversed(lines):
        if re.match(r"^[一二三四五六七八九十]{1,3}\s*[、.．]", narrow(x)):
            break
        if re.match(r"^[(][一二三四五六七八九十]{1,3}[)]", narrow(x)):
            n += 1
    return n


def _cn_numeral(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")


def _html_grid(table) -> list[list[str]]:
    """The cell texts of an HTML table, a merged cell (rowspan/colspan) repeated in every slot
    it covers, as python-docx gives a Word table's merged cells."""
    grid: dict[tuple[int, int], str] = {}
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    for r, tr in enumerate(rows):
        c = 0
        for cell in tr.find_all(["td", "th"], recursive=False):
            while (r, c) in grid:
                c += 1
            text = re.sub(r"\s+", " ", cell.get_text(" ", strip=True)).strip()
            text = squeeze_cjk_spaces(text)
            try:
                rs = max(1, min(int(cell.get("rowspan", 1) or 1), 200))
                cs = max(1, min(int(cell.get("colspan", 1) or 1), 50))
            except ValueError:
                rs = cs = 1
            for dr in range(rs):
                for dc in range(cs):
                    grid.setdefault((r + dr, c + dc), text)
            c += cs
    if not grid:
        return []
    nrows = max(r for r, _ in grid) + 1
    ncols = max(c for _, c in grid) + 1
    return [[grid.get((r, c), "") for c in range(ncols)] for r in range(nrows)]


def _text_cells(line: str) -> list[str] | None:
    """The cells of a table row written as text: `1 | 任務 | 區司法局 |` or tab-separated."""
    if "|" in line:
        cells = [c.strip() for c in line.split("|")]
    elif "\t" in line.strip():
        cells = [c.strip() for c in line.strip().split("\t")]
    else:
        return None
    while cells and not cells[-1]:
        cells.pop()
    while cells and not cells[0]:
        cells.pop(0)
    return cells or None


def _text_tables(raw: list[str]) -> list[str]:
    """Task tables flattened to text (a web page copied with `|` or tabs between the cells, a
    spreadsheet pasted into a .txt): the header row (序號 | 工作任務 | 牽頭單位 | …) and the rows
    after it become the numbered items with unit parentheses that the parser reads."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        cells = _text_cells(raw[i])
        if cells and len(cells) >= 3 and _is_task_header(cells):
            rows = [cells]
            j = i + 1
            # rows go on while lines have cells; a heading line between them (一、… without any
            # separator, its trailing tabs lost) is a merged row of the table
            while j < len(raw) and (_text_cells(raw[j]) is not None or not raw[j].strip()
                                    or _HEADING_START.match(narrow(raw[j]))
                                    and any(_text_cells(x) for x in raw[j + 1:j + 3])):
                if raw[j].strip():
                    rows.append(_text_cells(raw[j]) or [raw[j].strip()])
                j += 1
            out.extend(_rows_lines(rows))
            i = j
            continue
        out.append(raw[i])
        i += 1
    return out
