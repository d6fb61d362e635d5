"""Write the corpus files that are task tables made from the rows of a table on a web page
(see README.md): xialu_2023_fengong.html and .docx (a four-column 分工方案 whose 一、 rows span
the 项目 column) and hongyang_2022_qingdan.xlsx (a 四个清单工作分解表 with a two-row header).
The rows are those of the stored copies (xialu_2023_fengong_copied.txt, hongyang_2022_qingdan.txt);
run it after changing them: python tests/notices/corpus/make_tables.py"""
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parent

XIALU_TITLE = "《法治下陆建设规划(2021-2025年)》重要举措分工方案"
XIALU_HEAD = ["项目", "具体项目", "牵头单位", "责任单位"]
XIALU_COVER = [
    "关于印发《法治下陆建设规划(2021-2025年)》《下陆区法治政府建设实施方案(2021-2025)》 "
    "《下陆区法治社会建设实施方案(2021—2025)》 重要举措分工方案的通知",
    "街办,区直各部门:",
    "为贯彻落实《法治下陆建设规划(2021-2025年)》《下陆区法治政府建设实施方案(2021-2025年)》"
    "《下陆区法治社会建设实施方案(2021—2025年)》,现将规划和实施方案的重要举措分工方案印发给你们,"
    "请结合实际抓好落实。",
    "中共下陆区委全面依法治区委员会办公室",
    "2023年6月22日",
]


def xialu_groups() -> list[tuple[str, list[list[str]]]]:
    """(项目, rows of 具体项目 | 牵头单位 | 责任单位) from the copied page, one cell a line."""
    lines = [x.strip() for x in (HERE / "xialu_2023_fengong_copied.txt").read_text("utf-8").splitlines()]
    lines = [x for x in lines if x]
    start = lines.index("责任单位") + 1
    groups: list[tuple[str, list[list[str]]]] = []
    i = start
    while i < len(lines):
        x = lines[i]
        if x[:2] in ("一、", "二、", "三、", "四、"):
            groups.append((x, []))
            i += 1
        elif i + 2 < len(lines):
            groups[-1][1].append(lines[i:i + 3])
            i += 3
        else:
            break           # the number of a row the copy breaks off in
    return groups


def write_xialu_html() -> None:
    rows = []
    for head, items in xialu_groups():
        for k, cells in enumerate(items):
            first = f'<td rowspan="{len(items)}">{escape(head)}</td>' if k == 0 else ""
            rows.append("<tr>" + first + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    cover = "\n".join(f"<p>{escape(p)}</p>" for p in XIALU_COVER[1:])
    page = f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{escape(XIALU_COVER[0])}</title>
</head>
<body>
<ul class="tools"><li>设为首页</li><li>加入收藏</li><li>无障碍阅读</li><li>长者版</li></ul>
<div class="article">
<h1>{escape(XIALU_COVER[0])}</h1>
{cover}
<p style="text-align:center">{escape(XIALU_TITLE)}</p>
<table border="1">
<tr>{"".join(f"<th>{h}</th>" for h in XIALU_HEAD)}</tr>
{chr(10).join(rows)}
</table>
</div>
</body>
</html>
"""
    (HERE / "xialu_2023_fengong.html").write_text(page, encoding="utf-8")


def write_xialu_docx() -> None:
    import docx

    d = docx.Document()
    for p in XIALU_COVER:
        d.add_paragraph(p)
    d.add_paragraph(XIALU_TITLE)
    groups = xialu_groups()
    n = 1 + sum(len(items) for _, items in groups)
    table = d.add_table(rows=n, cols=4)
    table.style = "Table Grid"
    for c, h in enumerate(XIALU_HEAD):
        table.cell(0, c).text = h
    r = 1
    for head, items in groups:
        top = r
        for cells in items:
            for c, text in enumerate(cells, 1):
                table.cell(r, c).text = text
            r += 1
        merged = table.cell(top, 0).merge(table.cell(r - 1, 0)) if r - 1 > top else table.cell(top, 0)
        merged.text = head
    d.save(HERE / "xialu_2023_fengong.docx")


HONGYANG_HEAD1 = ["序号", "内容清单", "责任清单", "", "", "措施清单", "", "", "标准清单"]
HONGYANG_HEAD2 = ["", "", "责任领导", "责任人", "责任处室", "普法对象", "学习宣传载体", "方式措施", ""]


def hongyang_rows() -> list[list[str]]:
    """The data rows of the copied table (cells between |)."""
    out = []
    for line in (HERE / "hongyang_2022_qingdan.txt").read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 5 and cells[0].isdigit():
            out.append(cells[:9])
    return out


def write_hongyang_xlsx() -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    wb = Workbook()
    ws = wb.active
    ws.title = "四个清单"
    ws.append(["海原县红羊乡“谁执法谁普法”四个清单工作分解表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=9)
    ws.append(HONGYANG_HEAD1)
    ws.append(HONGYANG_HEAD2)
    ws.merge_cells("C2:E2")
    ws.merge_cells("F2:H2")
    for col in ("A", "B", "I"):
        ws.merge_cells(f"{col}2:{col}3")
    for row in hongyang_rows():
        ws.append([int(row[0])] + row[1:])
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(HERE / "hongyang_2022_qingdan.xlsx")


if __name__ == "__main__":
    write_xialu_html()
    write_xialu_docx()
    write_hongyang_xlsx()
