"""Task tables: the header row found by its meaning (序號 / 工作任務 / 牽頭單位 / 配合單位 / 完成時限 …,
not its position), the rows made into the numbered items with unit parentheses the parser reads.

The tables come from a Word document (python-docx), a web page (`_html_grid`, merged cells
repeated), a spreadsheet (`read_xlsx`), or text: cells between `|` or tabs, or one cell per line
as a web page's text copy gives them (`_text_tables`).
"""
from __future__ import annotations

import re

from putuo_xl.text import narrow, squeeze_cjk_spaces

# What a column is, from its header (spaces and a parenthesised word left out: 牽頭(責任)單位,
# 牵头责任 单位). A header row has a task column and a unit column.
_TASK_HEAD = re.compile(r"(工作任務|工作任务|任務|任务|工作內容|工作内容|內容|内容|工作要點|工作要点|"
                        r"工作措施|具體措施|具体措施|細化措施|细化措施|主要措施|推進措施|推进措施|"
                        r"重點工作|重点工作|事項|事项|舉措|举措|項目|项目|目標|目标)")
_ROLE_HEAD = r"(牽頭|牵头|主辦|主办|承辦|承办|責任|责任|配合|協辦|协办|協同|协同|參與|参与|主責|主责)"
_UNIT_HEAD = re.compile(rf"{_ROLE_HEAD}(?:責任|责任)?(單位|单位|部門|部门|處室|处室|科室|股室|主體|主体)")
_LEADER_HEAD = re.compile(r"(牽頭|牵头|責任|责任|分管|包保|聯繫|联系)(縣|县|區|区|市)?(領導|领导)")
_SEQ_HEAD = re.compile(r"^(序號|序号|編號|编号|序)$")
_DEADLINE_HEAD = re.compile(r"(時限|时限|期限|完成時間|完成时间|時間節點|时间节点|進度安排|进度安排|完成時間節點)")
_STATUS_HEAD = re.compile(r"(完成情況|完成情况|進展情況|进展情况|進度|进度|推進情況|推进情况|備註|备注|落實情況|落实情况)")
_HEADING_START = re.compile(r"^\s*([一二三四五六七八九十]{1,3}\s*[、.．]|[((]\s*[一二三四五六七八九十]{1,3}\s*[))]|"
                            r"\d{1,3}\s*[.．、]|[((]\s*\d{1,3}\s*[))])")
_LEAD_WORDS = ("牽頭", "牵头", "主辦", "主办")
_CO_WORDS = ("配合", "協辦", "协办", "協同", "协同", "參與", "参与")


def _head(cell: str) -> str:
    """A header cell as it is matched: narrow, no spaces, no parenthesised word."""
    h = narrow(cell or "").replace(" ", "").replace("\u3000", "")
    return re.sub(r"\([^()]*\)", "", h)


def _role_label(header: str) -> str:
    """The label a unit column's cells get in the item's parenthesis: 牽頭單位 / 配合單位 / 責任單位."""
    m = _UNIT_HEAD.search(_head(header))
    word = m.group(1) if m else ""
    if word in _LEAD_WORDS:
        return "牽頭單位"
    if word in _CO_WORDS:
        return "配合單位"
    return "責任單位"


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
    cells = [_head(c) for c in row]
    return len(cells) >= 2 and any(_UNIT_HEAD.search(c) for c in cells) \
        and any(_TASK_HEAD.search(c) and not _UNIT_HEAD.search(c) for c in cells)


def _header_like(row: list[str]) -> bool:
    """A row of short labels (a second header row: 責任領導 | 責任人 | 責任處室 …)."""
    cells = [_head(c) for c in row if c and c.strip()]
    return len(set(cells)) >= 2 and all(len(c) <= 12 and not re.search(r"[,，。;；、:：]", c)
                                        and not _HEADING_START.match(c) for c in cells)


def _find_header(rows: list[list[str]]) -> tuple[int, list[str], int] | None:
    """(index of the header, the header, how many rows it takes): the first of the first ten rows
    that names a task and a unit column, alone or with the row under it (a header in two rows
    whose upper cells span the lower ones: 責任清單 over 責任領導 | 責任人 | 責任處室)."""
    for k in range(min(10, len(rows))):
        if _is_task_header(rows[k]):
            if k + 1 < len(rows) and _header_like(rows[k + 1]) and rows[k + 1] != rows[k] \
                    and any(a != b and b for a, b in zip(rows[k], rows[k + 1])):
                return k, _combine(rows[k], rows[k + 1]), 2
            return k, rows[k], 1
        if k + 1 < len(rows) and _header_like(rows[k]) and _header_like(rows[k + 1]):
            both = _combine(rows[k], rows[k + 1])
            if _is_task_header(both):
                return k, both, 2
    return None


def _combine(upper: list[str], lower: list[str]) -> list[str]:
    """Two header rows made one: 責任清單 / 責任處室 (a cell the same in both once)."""
    out = []
    for c in range(max(len(upper), len(lower))):
        a = upper[c] if c < len(upper) else ""
        b = lower[c] if c < len(lower) else ""
        out.append("/".join(dict.fromkeys(x for x in (a, b) if x)))
    return out


def _rows_lines(rows: list[list[str]]) -> list[str]:
    """The lines of a table given as rows of cell texts (merged cells repeated), see _table_lines."""
    rows = [r for r in rows if any(c and c.strip() for c in r)]
    if not rows:
        return []
    found = _find_header(rows)
    if found is None:
        return ["".join(dict.fromkeys(c for c in r if c)) for r in rows]
    k, header, height = found
    # rows above the header (…任務分解表 across the table) stay lines of their own
    lead = ["".join(dict.fromkeys(c for c in r if c)) for r in rows[:k]]
    body = rows[k + height:]
    width = max([len(header)] + [len(r) for r in body])
    header = header + [""] * (width - len(header))
    body = [r + [""] * (width - len(r)) if len(r) < width else r for r in body]
    return lead + _header_rows_lines([header] + body)


def _header_rows_lines(rows: list[list[str]]) -> list[str]:
    header = rows[0]
    heads = [_head(h) for h in header]
    seq_col = next((i for i, h in enumerate(heads) if _SEQ_HEAD.match(h)), None)
    unit_cols = [(i, header[i]) for i, h in enumerate(heads) if _UNIT_HEAD.search(h)]
    leader_col = next((i for i, h in enumerate(heads) if _LEADER_HEAD.search(h)
                       and not _UNIT_HEAD.search(h)), None)
    deadline_col = next((i for i, h in enumerate(heads) if _DEADLINE_HEAD.search(h)), None)
    text_cols = [i for i, h in enumerate(heads) if _TASK_HEAD.search(h) and i != seq_col
                 and i not in dict(unit_cols) and i != deadline_col and i != leader_col
                 and not _STATUS_HEAD.search(h)]
    if not text_cols or not unit_cols:
        return ["".join(dict.fromkeys(c for c in r if c)) for r in rows]
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
        seq = narrow(cell(seq_col)).strip().rstrip(".、．")
        number = f"{seq}." if re.fullmatch(r"\d{1,3}", seq) else f"{counter}."
        roles = []
        for i, h in unit_cols:
            if cell(i):
                roles.append(f"{_role_label(h)}:{_spaced_units(cell(i))}")
        if cell(leader_col):
            roles.append(f"責任領導:{cell(leader_col)}")
        if cell(deadline_col):
            roles.append(f"完成時限:{cell(deadline_col)}")
        lead_no = re.match(r"^\s*(\d{1,3})\s*[.．、]\s*", narrow(text))
        if lead_no:
            text = text[lead_no.end():]
            if seq_col is None or not cell(seq_col):
                number = f"{lead_no.group(1)}."      # the row's own number (11. after 5.)
        out.append(f"{number}{text}({';'.join(roles)})" if roles else f"{number}{text}")
    return out


_CELL_UNIT = re.compile(r"^[\u3400-\u9fff()（）]{2,30}(局|辦|办|委|部|院|所|中心|單位|单位|街道|鎮|镇|鄉|乡|政府|"
                        r"辦公室|办公室|處|处|室|庭|廳|厅|署|站|隊|队|公司|管委會|管委会|部門|部门)$")


def _spaced_units(cell: str) -> str:
    """區司法局 區財政局 (a cell whose names are separated by spaces, not 、) → 區司法局、區財政局."""
    parts = [x for x in re.split(r"[ \t\u3000]+", cell.strip()) if x]
    if len(parts) >= 2 and all(_CELL_UNIT.match(x) for x in parts):
        return "、".join(parts)
    return cell


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
            text = squeeze_cjk_spaces(_spaced_units(text))
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
    spreadsheet pasted into a .txt, a page's text copy with one cell per line): the header row
    (序號 | 工作任務 | 牽頭單位 | …) and the rows after it become the numbered items with unit
    parentheses that the parser reads."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        cells = _text_cells(raw[i])
        header = None
        if cells and len(cells) >= 3:
            nxt = next((_text_cells(x) for x in raw[i + 1:i + 3] if x.strip()), None)
            if _is_task_header(cells) and not (nxt and _is_task_header(nxt)):
                header = [cells]
            elif nxt and _header_like(cells) and _header_like(nxt) and not _is_task_header(cells) \
                    and _is_task_header(cells + nxt):
                header = [cells, nxt]           # a header in two rows, the upper one spanning
        if header:
            j = i + 1
            while len(header) == 2 and not raw[j].strip():
                j += 1
            j += len(header) - 1
            rows: list[list[str]] = []
            # rows go on while lines have cells; a heading line between them (一、… without any
            # separator, its trailing tabs lost) is a merged row of the table
            while j < len(raw) and (_text_cells(raw[j]) is not None or not raw[j].strip()
                                    or _HEADING_START.match(narrow(raw[j]))
                                    and any(_text_cells(x) for x in raw[j + 1:j + 3])):
                if raw[j].strip():
                    rows.append(_text_cells(raw[j]) or [raw[j].strip()])
                j += 1
            out.extend(_rows_lines([_flat_header(header, rows)] + rows))
            i = j
            continue
        spaced = _spaced_table(raw, i)
        if spaced:
            rows, j = spaced
            lines = _rows_lines(rows)
            if lines and not any(x.strip() for x in raw[j:]) and lines[-1].endswith(")"):
                # the text ends in the table's last row: its last cell may be cut (…、高), so its
                # unit list is left open for the parser to treat as cut off
                lines[-1] = lines[-1][:-1]
            out.extend(lines)
            i = j
            continue
        block = _cell_lines_header(raw, i)
        if block:
            heads, j = block
            rows, j = _cell_lines_rows(raw, j, heads)
            out.extend(_rows_lines([heads] + rows))
            i = j
            continue
        out.append(raw[i])
        i += 1
    return out


def _flat_header(header: list[list[str]], rows: list[list[str]]) -> list[str]:
    """The header of a text table. Two rows copied from a table whose upper cells span the lower
    ones lose the spans (序號 | 內容清單 | 責任清單 | 措施清單 and 責任領導 | 責任人 | 責任處室 | …):
    the lower row's labels go under the upper row's spanning cells, which come after the upper
    row's leading columns that are a number or the task (they span both rows)."""
    if len(header) == 1:
        return header[0]
    upper, lower = header
    width = max([len(r) for r in rows] + [len(upper)])
    leading = 0
    for c in upper:
        h = _head(c)
        if _SEQ_HEAD.match(h) or (_TASK_HEAD.search(h) and not _UNIT_HEAD.search(h)):
            leading += 1
        else:
            break
    combined = upper[:leading] + lower
    return combined + [""] * (width - len(combined))


_ITEM_START = re.compile(r"^\s*\d{1,3}\s*[.．、](?!\d)")


def _cell_lines_header(raw: list[str], i: int) -> tuple[list[str], int] | None:
    """A table whose text copy has one cell a line: short header lines (項目 / 具體項目 / 牽頭單位 /
    責任單位), blank lines between them allowed, naming a task and a unit column, with an item
    (1.…) or a heading (一、…) after them. (header cells, index after the header) or None."""
    heads: list[str] = []
    j = i
    while j < len(raw) and len(heads) < 12:
        x = raw[j].strip()
        if not x:
            j += 1
            continue
        h = _head(x)
        if len(h) > 10 or re.search(r"[,，。;；:：、]", h) or _HEADING_START.match(narrow(x)) \
                or re.fullmatch(r"\d{1,3}[.．、]?", h):
            break
        heads.append(x)
        j += 1
    if len(heads) < 3 or not _is_task_header(heads) or not _head(heads[0]) == _head(raw[i].strip()):
        return None
    nxt = narrow(next((x for x in raw[j:j + 3] if x.strip()), "")).strip()
    numbered = any(_SEQ_HEAD.match(_head(h)) for h in heads) and re.fullmatch(r"\d{1,3}[.．、]?", nxt)
    if not (_ITEM_START.match(nxt) or _HEADING_START.match(nxt) or numbered):
        return None
    return heads, j


def _cell_lines_rows(raw: list[str], j: int, heads: list[str]) -> tuple[list[list[str]], int]:
    """The rows after a one-cell-a-line header: a heading line (一、…) is a row of its own
    (the grouping column's cell, spanning its rows), an item line (1.…) starts a row whose
    other cells are the lines up to the next item or heading, in the order of the columns after
    the task column."""
    heads_n = [_head(h) for h in heads]
    task_col = max((k for k, h in enumerate(heads_n) if _TASK_HEAD.search(h) and not _UNIT_HEAD.search(h)),
                   default=0)
    seq_col = next((k for k, h in enumerate(heads_n) if _SEQ_HEAD.match(h)), None)
    rows: list[list[str]] = []
    width = len(heads)
    cur: list[str] | None = None
    cur_col = task_col + 1
    while j < len(raw):
        x = raw[j].strip()
        if not x:
            j += 1
            continue
        n = narrow(x)
        if _HEADING_START.match(n) and not _ITEM_START.match(n):
            if cur:
                rows.append(cur)
            cur = None
            rows.append([x] * width)
        elif re.fullmatch(r"\d{1,3}[.．、]?", n):
            # a row's number in a cell of its own (序號), or the number of a row the copy ends in
            if cur:
                rows.append(cur)
            cur = [""] * width
            if seq_col is not None:
                cur[seq_col] = x
            cur_col = task_col
        elif _ITEM_START.match(n) and len(x) > 4 and not (cur is not None and cur_col == task_col):
            if cur:
                rows.append(cur)
            cur = [""] * width
            cur[task_col] = x
            cur_col = task_col + 1
        elif cur is not None and cur_col < width and len(x) <= 120:
            cur[cur_col] = x
            cur_col += 1
        else:
            break                    # prose after the table, or a line too many for the row
        j += 1
    if cur:
        rows.append(cur)
    return rows, j


# -- spreadsheets ------------------------------------------------------------------------------

def xlsx_grids(data: bytes) -> list[tuple[str, list[list[str]]]]:
    """(sheet name, rows of cell texts) of every visible sheet of an .xlsx, a merged cell's text in
    every slot it covers (as a Word or web table gives them). Raises ValueError for a file that
    is not a readable workbook."""
    import io

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as e:          # openpyxl raises several kinds on a broken or foreign package
        raise ValueError(type(e).__name__) from None
    out = []
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        grid: dict[tuple[int, int], str] = {}
        for row in ws.iter_rows(max_row=min(ws.max_row or 0, 5000), max_col=min(ws.max_column or 0, 60)):
            for c in row:
                if c.value is not None:
                    text = str(c.value)
                    if isinstance(c.value, float) and c.value.is_integer():
                        text = str(int(c.value))
                    grid[(c.row - 1, c.column - 1)] = re.sub(r"\s*\n\s*", "", text).strip()
        for rng in ws.merged_cells.ranges:
            value = grid.get((rng.min_row - 1, rng.min_col - 1), "")
            for r in range(rng.min_row - 1, min(rng.max_row, 5000)):
                for c in range(rng.min_col - 1, min(rng.max_col, 60)):
                    grid[(r, c)] = value
        if not grid:
            continue
        nrows = max(r for r, _ in grid) + 1
        ncols = max(c for _, c in grid) + 1
        out.append((ws.title, [[grid.get((r, c), "") for c in range(ncols)] for r in range(nrows)]))
    return out


def xlsx_task_lines(data: bytes) -> list[str] | None:
    """The lines of the task tables in a workbook (every sheet whose header, found by its meaning
    in its first ten rows, names a task and a unit column), or None when no sheet has one."""
    lines: list[str] = []
    for _, rows in xlsx_grids(data):
        rows = [r for r in rows if any(r)]
        if _find_header(rows) is None:
            continue
        lines.extend(_rows_lines(rows))
        lines.append("")
    return lines if any(lines) else None


# -- tables whose text copy separates the cells by spaces -----------------------------------------

_SPACED_ROW = re.compile(r"^\s*(\d{1,3})( +)(\S.*)$")


def _spaced_table(raw: list[str], i: int) -> tuple[list[list[str]], int] | None:
    """A table a page's text copy flattened with spaces between the cells (序号 类别 主要任务 细化措施
    牵头单位 参与单位 责任单位 / 1 加强水资源保 护 严守… 开展…。 市水利局 …): the rows, header first,
    and the index after the table, or None. Cells may hold stray spaces and empty cells leave runs
    of spaces, so a row is read from both ends: the unit columns are its last fields, the first
    field with a full stop or comma begins the measures, and what lies between the row's number
    and them fills the columns before, an empty cell for each space too many after the number."""
    heads = raw[i].split()
    if len(heads) < 4 or len(heads) > 12 or any(len(_head(h)) > 8 for h in heads) \
            or not _is_task_header(heads) or "|" in raw[i] or "\t" in raw[i]:
        return None
    hn = [_head(h) for h in heads]
    unit_cols = [k for k, h in enumerate(hn) if _UNIT_HEAD.search(h)]
    if not unit_cols or unit_cols != list(range(unit_cols[0], len(heads))):
        return None                     # the unit columns must be the last ones
    seq = 1 if _SEQ_HEAD.match(hn[0]) else 0
    text_cols = list(range(seq, unit_cols[0]))
    rows = [heads]
    j = i + 1
    while j < len(raw):
        m = _SPACED_ROW.match(raw[j])
        if not m:
            if raw[j].strip():
                break
            j += 1
            continue
        fields = m.group(3).split()
        units = fields[-len(unit_cols):] if len(fields) > len(unit_cols) else []
        middle = fields[:len(fields) - len(units)]
        k = next((n for n, f in enumerate(middle) if re.search(r"[。,，;；]", f)), len(middle) - 1)
        before, measure = middle[:k], "".join(middle[k:])
        empties = min(len(m.group(2)) - 1, len(text_cols) - 1)
        slots = len(text_cols) - 1 - empties          # columns before the measures to fill
        merged: list[str] = []
        for f in before:                              # 加强水资源保 护: a fragment joins its cell
            if merged and len(f) <= 2:
                merged[-1] += f
            else:
                merged.append(f)
        if slots <= 0:
            merged = []
        elif len(merged) > slots:
            merged = merged[:slots - 1] + ["".join(merged[slots - 1:])]
        elif empties > 0 and merged:
            merged = ["".join(merged)]
        cells = [""] * len(heads)
        if seq:
            cells[0] = m.group(1)
        front = text_cols[:-1]
        for col, value in zip(front[len(front) - len(merged):] if merged else [], merged):
            cells[col] = value
        cells[text_cols[-1]] = measure
        for col, value in zip(unit_cols, units):
            cells[col] = value
        rows.append(cells)
        j += 1
    return (rows, j) if len(rows) > 1 else None
