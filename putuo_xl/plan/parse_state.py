"""What every phase of the parser shares: the notice's lines in the narrow form it matches on,
the Plan being filled, our messages in the notice's script, and the notice's own punctuation
widths given back at the end.

The phases are mixins over ParserState, composed into `parser._Parser` (parser.py lists them).
A phase inherits the phases it calls through `self`, as its module imports theirs. Names with a
leading underscore are the parser's own: shared by its modules, not used outside plan/.
"""
from __future__ import annotations

import re

from putuo_xl.config import Config
from putuo_xl.plan.model import Plan
from putuo_xl.plan.notice import NoticeText
from putuo_xl.text import WidthRestorer, detect_script, in_script, narrow

SENTENCE_END = "。!?;!?;"

# A piece of the notice quoted in one of our messages: it keeps the notice's script and
# punctuation widths, the message around it is ours (WidthRestorer.message).
_q = WidthRestorer.fragment
_FRAGMENT_SPLIT = re.compile("(\ue000[^\ue000\ue001]*\ue001)")


class ParserState:
    """The state of one parse. Each phase is a subclass that also inherits the phases it calls."""

    # Set by the phases as they go; read with getattr() where a notice may not get that far.
    epilogue: list[str]         # document: the closing paragraphs after the last task
    lead_in: str | None         # tasks: the lead-in paragraph of the subsection being built
    tail_text: str              # tasks: the words after the last marker of the last block
    tail_after_marker: bool     # tasks: those words began a new sentence after a unit list

    def __init__(self, notice: NoticeText, cfg: Config):
        self.notice = notice
        self.cfg = cfg
        # Matching is done on the narrow form (（→( ：→: ，→,), character for character; what
        # users see gets the notice's own widths back at the end (WidthRestorer).
        self.lines = [narrow(line) for line in notice.lines]
        self.hints = {k: narrow(v) if isinstance(v, str) else v for k, v in notice.hints.items()}
        self.restore = WidthRestorer("\n".join(notice.lines))
        full = "\n".join(self.lines)
        self.script = detect_script(full)
        self.plan = Plan(title="", script=self.script, source=notice.source)
        self.unknown: dict[str, None] = {}
        self.notes: list[str] = []

    def t(self, text: str) -> str:
        """Our (traditional) wording in the notice's script; quoted fragments of the notice
        (marked with `_q`) stay as the notice wrote them."""
        parts = _FRAGMENT_SPLIT.split(text)
        return "".join(p if i % 2 else in_script(p, self.script) for i, p in enumerate(parts))

    def _restore_widths(self) -> None:
        """Everything shown to users in the notice's own punctuation widths."""
        r = self.restore
        plan = self.plan
        for attr in ("title", "issuer", "doc_number", "addressees", "notice_title", "preamble",
                     "default_deadline_text"):
            setattr(plan, attr, r(getattr(plan, attr)))
        # our messages: only the quoted fragments of the notice get its widths back
        plan.warnings = [r.message(w) for w in plan.warnings]
        for sec in plan.sections:
            sec.number, sec.title, sec.intro = r(sec.number), r(sec.title), r(sec.intro)
            for sub in sec.subsections:
                sub.number, sub.title, sub.intro = r(sub.number), r(sub.title), r(sub.intro)
                for task in sub.tasks:
                    task.text, task.number = r(task.text), r(task.number)
                    task.deadline_text = r(task.deadline_text)
                    task.leader = r(task.leader)
                    task.warnings = [r.message(w) for w in task.warnings]
                    for u in task.units:
                        u.name = r(u.name)
                    for ind in task.indicators:
                        ind.text, ind.name = r(ind.text), r(ind.name)
