import sys
from putuo_xl.parser import parse_notice
for f in sys.argv[1:]:
    p = parse_notice(f)
    print("=====", f, p.script, "|", p.title, "|", p.issuer, "|", p.date, "|", p.doc_number, "| dd", p.default_deadline, p.default_deadline_text)
    print("preamble:", (p.preamble or "")[:60])
    for s in p.sections:
        print(s.id, s.number, s.title)
        for ss in s.subsections:
            print("  ", ss.id, ss.number, ss.title)
            for t in ss.tasks:
                print("     ", t.id, t.number, repr(t.text[:70]), "rec" if t.recurring else "", t.deadline, t.deadline_text, "TRUNC" if t.truncated else "")
                print("         units:", [(u.name, u.canonical, u.role, u.group) for u in t.units])
                if t.indicators: print("         ind:", [(i.text, i.value, i.unit, i.op, i.name) for i in t.indicators])
    for w in p.warnings: print("  W:", w)
