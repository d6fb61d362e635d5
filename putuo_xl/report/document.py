"""The 年度報告's text, block by block, and the .docx (docx_gbt).

The order is the one 《法治政府建設與責任落實督察工作規定》 asks of an annual report:

    一、主要舉措和成效           per section of the notice: its figures, the targets reached, and
                                  per task what the units reported (工作進展: the latest first,
                                  each distinct text once, the units named)
    二、存在的不足和原因         per section: tasks not done, targets not met, 存在問題; then the
                                  reporting (who did not report, who reported late)
    三、黨政主要負責人履行推進法治建設第一責任人職責情況
                                  a highlighted placeholder: the ledger knows nothing of it
    四、下一年度工作打算         per section: the unfinished tasks and the 下步計劃 units wrote
    附件1 任務完成情況表, 附件2 考評指標完成情況表

Every sentence taken from a unit's return is quoted as written and carries a comment naming
the unit(s), the month and the ledger number of the return; every figure is a count or value of
the ledger (figures.py). What only the office can write (主送機關, 署名, 成文日期, part 三) is a
highlighted 〔…〕 placeholder.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from putuo_xl import layout
from putuo_xl.docx_gbt import GbtDocument, Part
from putuo_xl.report.figures import SectionFigures, TargetLine, YearFigures
from putuo_xl.report.texts import Said
from putuo_xl.rollup.bulletin import _fmt_num
from putuo_xl.rollup.rules import MET, NO_VALUE
from putuo_xl.text import in_script

TASK_TEXTS = 3          # distinct 工作進展 texts quoted per task
SECTION_TEXTS = 5       # distinct 存在問題 / 下步計劃 texts quoted per section
UNITS_NAMED = 5         # units named in the body after a quoted text
UNITS_IN_NOTE = 10      # units (with month and return) named in a comment

PARTS = ("一、主要舉措和成效", "二、存在的不足和原因",
         "三、黨政主要負責人履行推進法治建設第一責任人職責情況", "四、下一年度工作打算")
ANNEXES = ("任務完成情況表", "考評指標完成情況表")
TASK_COLUMNS = ("編號", "工作任務", "牽頭單位", "完成時限", "年末狀態", "完成進度")
TARGET_COLUMNS = ("編號", "考評指標", "目標", "實際值", "填報單位", "數據月份", "是否達標")


@dataclass
class Block:
    kind: str                  # title | addressee | h1 | h2 | p | placeholder | attachments | signature
    parts: list                # list of Part (or str)
    extra: object = None       # signature: the date Part


def pct(x) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def cn_num(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (up to 99)."""
    d = "零一二三四五六七八九"
    if n < 10:
        return d[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else d[tens]) + "十" + ("" if ones == 0 else d[ones])


def month_end(month: str) -> str:
    return f"{layout.month_label(month)}底"


def actual_text(t: TargetLine) -> str:
    return f"{_fmt_num(t.actual)}{t.unit}"


class Writer:
    """The blocks of the report, in our (traditional) wording rendered in the notice's script."""

    def __init__(self, fig: YearFigures):
        self.fig = fig
        self.blocks: list[Block] = []
        texts = fig.texts
        self.order = texts.order if texts else {}

    def t(self, s: str) -> str:
        return in_script(s, self.fig.script)

    def add(self, kind: str, *parts, extra=None) -> Block:
        b = Block(kind, [p if isinstance(p, Part) else Part(p) for p in parts if p], extra)
        self.blocks.append(b)
        return b

    # -- quoting a unit ----------------------------------------------------------------------
    def quote(self, said: Said, lead_in: str = "") -> Part:
        """`said` as written, the units named before its full stop, a comment with its sources."""
        units = said.ordered_units()
        named = "、".join(units[:UNITS_NAMED])
        if said.count > UNITS_NAMED:
            named += f"等{said.count}個單位"
        # the text as written; our words (the units, the full stop) in the notice's script
        body = said.text.rstrip("。.;;,,、 ")
        text = self.t(lead_in) + body + self.t(f"({named})") + "。"
        src = [f"{u} {layout.month_label(said.units[u][0])}月報(台賬 #{said.units[u][1]})"
               for u in units[:UNITS_IN_NOTE]]
        note = "來源:" + ";".join(src)
        if said.count > UNITS_IN_NOTE:
            note += f";另有{said.count - UNITS_IN_NOTE}個單位報送了相同內容"
        return Part(text, note=self.t(f"任務 {said.task_id} {note}"))

    def target_part(self, t: TargetLine) -> Part:
        """A target and its last actual, with the return it came from as a comment."""
        if t.met == NO_VALUE or t.actual is None:
            return Part(self.t(f"{t.name}(目標:{t.target}),尚未填報實際值"))
        text = self.t(f"{t.name}{actual_text(t)}(目標:{t.target},{t.reporter}填報)")
        month = layout.month_label(t.month) if t.month else ""
        return Part(text, note=self.t(f"指標 {t.id} 來源:{t.reporter} {month}月報"))

    # -- the parts ---------------------------------------------------------------------------
    def build(self) -> list[Block]:
        f = self.fig
        title = f"{f.district}{f.year}年法治政府建設年度報告"
        if f.sample:
            title += "(示例數據)"
        self.add("title", self.t(title))
        if f.sample:
            self.add("placeholder", self.t("【示例數據:本稿由 putuo-xl demo 的示例回報生成,不是真實填報】"))
        self.add("placeholder", self.t(
            f"〔草稿說明:本稿由 putuo-xl 根據台賬自動生成(統計截至{month_end(f.last)},"
            f"共{len(f.months)}個月)。數字均取自台賬;摘自各單位月報的語句照錄原文,並以批註註明"
            f"來源單位和月報,請逐條核對、修改、補充。每項任務最多摘錄{TASK_TEXTS}條不同的進展,"
            f"每個部分最多摘錄{SECTION_TEXTS}條問題和計劃。第三部分和署名、日期由辦公室填寫。"
            f"定稿前刪除本段。〕"))
        self.add("addressee", Part(self.t("〔主送機關〕:"), highlight=True))
        doc = f"({f.doc_number})" if f.doc_number else ""
        self.add("p", self.t(f"{f.year}年,按照《{f.plan_title}》{doc}的部署,"
                             f"各單位逐月報送工作報表。現將{f.year}年法治政府建設情況報告如下。"))
        self.part_one()
        self.part_two()
        self.part_three()
        self.part_four()
        self.add("attachments", *[self.t(a) for a in ANNEXES])
        self.add("signature", Part(self.t("〔發文機關署名〕"), highlight=True),
                 extra=Part(self.t("〔成文日期〕"), highlight=True))
        return self.blocks

    def overview(self) -> str:
        f = self.fig
        n = len(f.tasks)
        bits = [f"全年工作要點共{n}項工作任務,截至{month_end(f.last)},已完成{f.count('done')}項,"
                f"推進中{f.count('in_progress')}項,未啟動{f.count('not_started')}項,"
                f"滯後{f.count('lagging')}項"]
        if f.count(None):
            bits.append(f",尚無單位填報{f.count(None)}項")
        bits.append(f",任務完成率{pct(f.rate)}。")
        k = len(f.targets)
        if k:
            short = sum(1 for t in f.targets if t.met not in (MET, NO_VALUE))
            none = sum(1 for t in f.targets if t.met == NO_VALUE)
            bits.append(f"{k}項考評指標中,已達標{f.targets_met}項,未達標{short}項"
                        + (f",尚未填報{none}項" if none else "") + "。")
        bits.append(f"全年{len(f.months)}個月共下發月報{f.issued}份,各單位應報送{f.total('expected')}份次,"
                    f"按時報送{f.total('on_time')}份次,逾期報送{f.total('late')}份次,"
                    f"未報送{f.total('missing')}份次")
        if f.total("not_due"):
            bits.append(f",尚未到報送截止日期{f.total('not_due')}份次")
        bits.append(f",按時報送率{pct(f.on_time_rate)}。")
        return self.t("".join(bits))

    def section_figures(self, s: SectionFigures) -> list[Part]:
        bits = [f"本部分{len(s.tasks)}項任務,已完成{s.done}項"]
        for cat, word in (("in_progress", "推進中"), ("not_started", "未啟動"), ("lagging", "滯後")):
            if s.count(cat):
                bits.append(f",{word}{s.count(cat)}項")
        if s.count(None):
            bits.append(f",尚無單位填報{s.count(None)}項")
        bits.append(f",完成率{pct(s.rate)}。")
        parts = [Part(self.t("".join(bits)))]
        if s.targets:
            met = s.targets_met
            head = f"涉及考評指標{len(s.targets)}項,已達標{len(met)}項"
            if not met:
                parts.append(Part(self.t(head + "。")))
            else:
                parts.append(Part(self.t(head + ":")))
                for i, t in enumerate(met):
                    parts.append(self.target_part(t))
                    parts.append(Part("；" if i < len(met) - 1 else "。"))
        return parts

    def part_one(self) -> None:
        f = self.fig
        self.add("h1", self.t(PARTS[0]))
        self.add("p", self.overview())
        for i, s in enumerate(f.sections, 1):
            self.add("h2", self.t(f"({cn_num(i)})") + (s.title or self.t(f"第{i}部分")))
            self.add("p", *self.section_figures(s))
            for task in s.tasks:
                said = f.texts.of("progress_text", task.id) if f.texts else []
                if not said:
                    continue
                head = Part(f"{task.id} {task.short}" + self.t(f"({task.status})。"), bold=True)
                self.add("p", head, *[self.quote(x) for x in said[:TASK_TEXTS]])

    def part_two(self) -> None:
        f = self.fig
        self.add("h1", self.t(PARTS[1]))
        k = 0
        for s in f.sections:
            problems = self._section_texts("problems", s)
            if not (s.unfinished or s.targets_short or problems):
                continue
            k += 1
            self.add("h2", self.t(f"({cn_num(k)})") + s.title)
            if s.unfinished:
                items = []
                for t in s.unfinished:
                    p = f",完成進度{pct(t.progress)}" if t.progress is not None else ""
                    items.append(f"{t.id} {t.short}" + self.t(f"({t.status}{p})"))
                self.add("p", self.t(f"尚未完成的任務{len(items)}項:") + "；".join(items) + "。")
            if s.targets_short:
                parts = [Part(self.t(f"未達標或尚未填報的考評指標{len(s.targets_short)}項:"))]
                for i, t in enumerate(s.targets_short):
                    parts.append(self.target_part(t))
                    parts.append(Part("；" if i < len(s.targets_short) - 1 else "。"))
                self.add("p", *parts)
            if problems:
                self.add("p", Part(self.t("各單位報告的問題:")), *[self.quote(x) for x in problems])
        if not k:
            self.add("p", self.t(f"截至{month_end(f.last)},各項任務均已完成,考評指標均已達標,"
                                 f"各單位沒有報告存在的問題。"))
        k += 1
        self.add("h2", self.t(f"({cn_num(k)})工作報表報送"))
        miss, late = f.total("missing"), f.total("late")
        if not (miss or late):
            self.add("p", self.t("全年各單位均按時報送了工作報表。"))
            return
        bits = [f"全年未報送月報{miss}份次,逾期報送{late}份次。"]
        for word, counts in (("未報送", f.unit_missing), ("逾期報送", f.unit_late)):
            if counts:
                top = sorted(counts.items(), key=lambda x: (-x[1], self.order.get(x[0], len(self.order)), x[0]))
                named = "、".join(f"{u}({c}次)" for u, c in top[:UNITS_NAMED])
                more = f"等{len(top)}個單位" if len(top) > UNITS_NAMED else ""
                bits.append(f"有{word}記錄的單位{len(top)}個,次數較多的是{named}{more}。")
        self.add("p", self.t("".join(bits)))

    def part_three(self) -> None:
        self.add("h1", self.t(PARTS[2]))
        self.add("placeholder", self.t(
            "〔此部分由辦公室撰寫:黨政主要負責人履行推進法治建設第一責任人職責的情況"
            "(如研究部署法治政府建設、聽取工作匯報、帶頭尊法學法守法用法、解決重大問題等)。"
            "台賬中沒有這方面的記錄,本稿不代擬。〕"))

    def part_four(self) -> None:
        f = self.fig
        self.add("h1", self.t(PARTS[3]))
        k = 0
        for s in f.sections:
            plans = self._section_texts("next_steps", s)
            if not (s.unfinished or plans):
                continue
            k += 1
            self.add("h2", self.t(f"({cn_num(k)})") + s.title)
            parts = []
            if s.unfinished:
                ids = "、".join(t.id for t in s.unfinished)
                parts.append(Part(self.t(f"繼續推進尚未完成的{len(s.unfinished)}項任務({ids})。")))
            if plans:
                parts.append(Part(self.t("各單位報送的下步計劃:")))
                parts += [self.quote(x) for x in plans]
            self.add("p", *parts)
        if not k:
            self.add("placeholder", self.t("〔各項任務均已完成,各單位沒有報送下步計劃:"
                                           "請辦公室根據下一年度的工作要點撰寫。〕"))

    def _section_texts(self, kind: str, s: SectionFigures) -> list[Said]:
        """A section's distinct texts of `kind` (the same text under several of its tasks is
        one), the latest first, at most SECTION_TEXTS."""
        if not self.fig.texts:
            return []
        said = sorted(self.fig.texts.of_section(kind, s.id), key=lambda x: (x.latest, x.count),
                      reverse=True)
        return said[:SECTION_TEXTS]

    # -- annexes -----------------------------------------------------------------------------
    def task_rows(self) -> list[list]:
        return [[t.id, t.text, t.lead, t.deadline, t.status,
                 pct(t.progress) if t.progress is not None else ""] for t in self.fig.tasks]

    def target_rows(self) -> list[list]:
        rows = []
        for t in self.fig.targets:
            rows.append([t.id, t.name, t.target, actual_text(t) if t.actual is not None else "",
                         t.reporter, layout.month_label(t.month) if t.month else "", t.met])
        return rows


def report_blocks(fig: YearFigures) -> tuple[list[Block], Writer]:
    w = Writer(fig)
    return w.build(), w


def write_docx(fig: YearFigures, path: str | Path) -> Path:
    """The report as a GB/T 9704 .docx at `path` (atomic)."""
    blocks, w = report_blocks(fig)
    doc = GbtDocument(fig.script)
    doc.doc.core_properties.title = blocks[0].parts[0].text
    doc.doc.core_properties.subject = w.t("法治政府建設年度報告(草稿)")
    doc.doc.core_properties.comments = w.t(f"putuo-xl 根據台賬生成,統計截至{month_end(fig.last)}")
    for b in blocks:
        if b.kind == "title":
            doc.title(b.parts[0].text)
        elif b.kind == "addressee":
            doc.addressee(b.parts)
        elif b.kind == "h1":
            doc.heading(1, b.parts[0].text)
        elif b.kind == "h2":
            doc.heading(2, b.parts[0].text)
        elif b.kind == "placeholder":
            doc.paragraph(b.parts, placeholder=True)
        elif b.kind == "attachments":
            doc.attachments(b.parts)
        elif b.kind == "signature":
            doc.signature(b.parts[0], b.extra)
        else:
            doc.paragraph(b.parts)
    doc.annex(w.t("附件1"), w.t(ANNEXES[0]), [w.t(c) for c in TASK_COLUMNS], w.task_rows(),
              widths=[14, 56, 28, 22, 16, 20])
    doc.annex(w.t("附件2"), w.t(ANNEXES[1]), [w.t(c) for c in TARGET_COLUMNS], w.target_rows(),
              widths=[20, 40, 24, 18, 24, 16, 14],
              notes=[w.t(f"註:實際值取牽頭(責任)單位截至{month_end(fig.last)}最近一次填報的數值。")])
    return doc.save(path)
