"""Building the plan from the scanned sections: Section, Subsection and Task with their IDs, each
task's units (its marker, a unit line after a list of items, the heading's units), lead-in
paragraphs, and the warnings someone should check. A task's targets and deadline: targets.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from putuo_xl.plan.model import Section, Subsection, Task, UnitRef
from putuo_xl.plan.parse_state import _q
from putuo_xl.plan.roles import RoleMarkers, _Marker
from putuo_xl.plan.structure import _DeadlineNote, _LeaderNote, _Sec, _Sub
from putuo_xl.plan.targets import TargetsAndDeadlines

# A paragraph that says it introduces the items after it: 目標:… / 主要措施: / …措施如下:
LEAD_IN_RE = re.compile(r"^(主要|工作|總體|总体|具體|具体)?(目標|目标|要求|任務|任务|措施|舉措|举措)\s*[::]|[::]$")


@dataclass
class _Run:
    number: str | None
    text: str = ""
    marker: _Marker | None = None
    deadline: str | None = None
    backfilled: bool = False
    leader: str | None = None


def _increasing(values: list[int | None]) -> bool:
    return all(v is not None for v in values) and all(a < b for a, b in zip(values, values[1:]))


class TaskBuilder(RoleMarkers, TargetsAndDeadlines):
    """_Sec / _Sub / _Block → the plan's Section / Subsection / Task."""

    def _build(self, secs: list[_Sec]) -> None:
        written = [s.value for s in secs]
        use_written = _increasing(written)
        for n, s in enumerate(secs, 1):
            sid = str(written[n - 1] if use_written else n)
            section = Section(id=sid, number=s.number, title=s.title)
            numbered = [ss for ss in s.subs if ss.number is not None]
            sub_written = _increasing([ss.value for ss in numbered])
            section_units: list[UnitRef] | None = None
            k = 0
            for ss in s.subs:
                if ss.number is None:
                    marked = any(isinstance(p, _Marker) for b in ss.blocks for p in b.pieces)
                    if numbered and not marked and not any(b.number for b in ss.blocks):
                        # paragraphs between a section heading and its first (一): the intro
                        text = "".join(p for b in ss.blocks for p in b.pieces if isinstance(p, str)).strip()
                        section.intro = text or None
                        section_units = ss.title_units
                        continue
                    if not ss.blocks and not ss.title_units:
                        continue
                    subid = f"{sid}.0"
                else:
                    k += 1
                    subid = f"{sid}.{ss.value if sub_written else k}"
                sub = Subsection(id=subid, number=ss.number, title=ss.title)
                self.lead_in = None
                sub.tasks = self._tasks(subid, ss, ss.title_units or section_units)
                if self.lead_in:
                    if ss.number is None:
                        section.intro = "\n".join(x for x in (section.intro, self.lead_in) if x)
                    else:
                        sub.intro = self.lead_in
                section.subsections.append(sub)
            self.plan.sections.append(section)

    def _tasks(self, subid: str, ss: _Sub, title_units: list[UnitRef] | None) -> list[Task]:
        runs: list[_Run] = []
        title_leader: str | None = None
        title_notes = ss.title_notes if title_units is ss.title_units else None
        for bi, block in enumerate(ss.blocks):
            block_runs: list[_Run] = []
            cur = _Run(number=block.number)
            leading: _Marker | None = None
            for piece in block.pieces:
                if isinstance(piece, _DeadlineNote):
                    target = cur if cur.text.strip() or not block_runs else block_runs[-1]
                    target.deadline = piece.text
                elif isinstance(piece, _LeaderNote):
                    target = cur if cur.text.strip() or not block_runs else block_runs[-1]
                    target.leader = piece.text
                elif isinstance(piece, _Marker) and piece.leading and not (
                        bi == 0 and block.number is None and title_units is None and piece.line
                        and not cur.text.strip(" 。;;,,.") and not block_runs):
                    # units named before the work (由A負責,B配合,…): in a numbered item they are the
                    # item's (several groups merge); in running text they begin a new task
                    if block.number is not None:
                        if leading is None:
                            leading = piece
                        else:
                            self._merge_marker(leading, piece)
                        continue
                    if cur.text.strip(" 。;;,,.") or cur.deadline:
                        block_runs.append(cur)
                        cur = _Run(number=None)
                    if cur.marker is None:
                        cur.marker = piece
                    else:
                        self._merge_marker(cur.marker, piece)
                elif isinstance(piece, _Marker):
                    if cur.marker is not None and cur.marker.leading:
                        # a list after the work that already had units named before it: one task
                        self._merge_marker(cur.marker, piece)
                        if piece.deadline and not cur.deadline:
                            cur.deadline = piece.deadline
                        block_runs.append(cur)
                        cur = _Run(number=None)
                        continue
                    if not cur.text.strip(" 。;;,,.") and not cur.deadline:
                        if block_runs and block_runs[-1].marker is not None:
                            self._merge_marker(block_runs[-1].marker, piece)   # 牽頭單位 / 配合單位 lines
                            continue
                        if not block_runs:
                            if bi == 0 and block.number is None and title_units is None and piece.line:
                                title_units = piece.units    # units right under the heading
                                title_leader = piece.leader
                                title_notes = piece.notes
                            else:
                                leading = piece
                            continue
                    cur.marker = piece
                    if piece.deadline and not cur.deadline:
                        cur.deadline = piece.deadline
                    block_runs.append(cur)
                    cur = _Run(number=None)
                else:
                    cur.text += piece
            self.tail_text = cur.text
            # words after a unit list in the same paragraph run: a new sentence was begun
            self.tail_after_marker = block.number is None and bool(block_runs)
            if cur.marker is not None and cur.marker.leading and not (cur.text.strip(" 。;;,,.") or cur.deadline):
                # units named before a work that never came (the text ends): the item's anyway
                if block_runs and block_runs[-1].marker is None:
                    block_runs[-1].marker = cur.marker
                elif not block_runs:
                    leading = leading or cur.marker
                cur = _Run(number=None)
            if leading is not None and block.number is not None and block_runs:
                # units named before the work of a numbered item that also has a list after it
                target = block_runs[0]
                if target.marker is None:
                    target.marker = leading
                else:
                    self._merge_marker(target.marker, leading)
                leading = None
            if cur.text.strip(" 。;;,,.") or cur.deadline:
                if block.number is not None and block_runs:
                    # trailing words after the units belong to the numbered item
                    block_runs[-1].text += cur.text
                    block_runs[-1].deadline = block_runs[-1].deadline or cur.deadline
                else:
                    if leading is not None and not block_runs:
                        cur.marker = leading
                    block_runs.append(cur)
            elif not block_runs and block.number is not None:
                block_runs.append(_Run(number=block.number, marker=leading))
            if block_runs:
                block_runs[0].number = block.number
            runs.extend(block_runs)

        # A unit line after several unmarked numbered items (one 責任單位 line after a list)
        # applies to all of them; flagged so that someone checks.
        for i, run in enumerate(runs):
            if run.marker and run.marker.line and not run.marker.bare and run.number is not None:
                j = i - 1
                while j >= 0 and runs[j].marker is None and runs[j].number is not None:
                    runs[j].marker = run.marker
                    runs[j].backfilled = True
                    j -= 1

        # A paragraph before numbered items that carry units, itself without units or a number
        # (各鄉鎮和縣直單位要…): the lead-in of the items, not a task.
        if len(runs) > 1 and runs[0].number is None and runs[0].marker is None and not runs[0].deadline \
                and not title_units and all(r.number is not None for r in runs[1:]) \
                and (any(r.marker is not None and not r.backfilled for r in runs[1:])
                     or LEAD_IN_RE.search(runs[0].text.strip())):
            self.lead_in = self._clean_task_text(runs[0].text) or None
            runs = runs[1:]

        has_any_marker = any(r.marker for r in runs) or title_units
        if not has_any_marker and len(runs) > 1 and all(r.number is None for r in runs):
            runs = [_Run(number=None, text="".join(r.text for r in runs),
                         deadline=next((r.deadline for r in runs if r.deadline), None))]
        if not runs:
            runs = [_Run(number=None, text=ss.title or "")]

        tasks: list[Task] = []
        for k, run in enumerate(runs, 1):
            text = self._clean_task_text(run.text)
            if not text and ss.title:
                text = ss.title
            task = Task(id=f"{subid}.{k}", text=text, number=run.number)
            marker = run.marker
            task.leader = run.leader or (marker.leader if marker else None) or title_leader
            if marker:
                task.units = [UnitRef(**vars(u)) for u in marker.units]
                for note in marker.notes or []:
                    task.warnings.append(note + self.t(",請核對。"))
                if marker.bare:
                    task.warnings.append(self._bare_list_warning(task.units))
                if run.backfilled:
                    task.warnings.append(self.t("本條沒有自己的責任單位,已沿用同一小節後面「責任單位」行的單位,請核對。"))
                if marker.unclosed:
                    task.truncated = True
                    cut = self.t(f"(「{_q(marker.dropped)}」不完整,已略去)") if marker.dropped else ""
                    task.warnings.append(self.t("責任單位的括號沒有閉合,正文可能在此處被截斷") + cut
                                         + self.t(",請核對原文。"))
            elif title_units:
                task.units = [UnitRef(**vars(u)) for u in title_units]
                for note in title_notes or []:
                    task.warnings.append(note + self.t(",請核對。"))
            if not task.units:
                task.warnings.append(self.t("未標明責任單位,請在台賬中補填。"))
            self._enrich(task, run.deadline)
            tasks.append(task)
        return tasks

    def _clean_task_text(self, txt: str) -> str:
        text = txt.strip()
        text = re.sub(r"\s+(?=[。,;、,;])", "", text)
        text = re.sub(r"^[。,;,;.\s]+", "", text)
        text = re.sub(r"。{2,}", "。", text)
        text = re.sub(r"([;;,,])。", "。", text)
        return text
