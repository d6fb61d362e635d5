"""Reading a notice into a Plan. First stage: takes a notice file (.txt in UTF-8/GBK/Big5, .html,
.docx) or plan.yaml; gives a `Plan` (sections → subsections → tasks with units, roles, targets
and deadlines), and who does what (`assignments`). Next: `workbook` builds the master from it.

    notice.py       a notice file → clean text lines
    parser.py       text lines → Plan (parse_notice, parse_text), in phases of their own:
      parse_state.py  what the phases share: narrow lines, the plan, our messages, widths
      document.py     head and tail: where the body begins, metadata, signature, closing part
      structure.py    sections, subsections, numbered items: the body scanned into blocks
      tasks.py        the blocks built into sections, subsections and tasks
      roles.py        unit markers ((責任單位:…), 牽頭單位 lines) and the role of each unit
      units.py        unit lists split into names, resolved against the config; closest_units
      targets.py      targets, deadlines, recurring work (extract_indicators, parse_deadline)
    model.py        the Plan dataclasses
    planfile.py     plan.yaml / JSON
    assignments.py  a plan's units expanded through the config's groups
    labels.py       how a plan is written as text in cells, and read back
"""
from putuo_xl import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "parse_notice": "parser",
    "parse_text": "parser",
    "Plan": "model",
    "Section": "model",
    "Subsection": "model",
    "Task": "model",
    "UnitRef": "model",
    "Indicator": "model",
    "load_plan": "planfile",
    "save_plan": "planfile",
    "unit_assignments": "assignments",
    "read_notice": "notice",
    "default_notice_path": "notice",
})
