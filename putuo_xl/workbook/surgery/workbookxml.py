"""The target's workbook-level parts: workbook.xml (tab order, sheet ids, states, defined names,
active tab, calcPr), its relationships, the content types, and docProps/app.xml's sheet titles.
"""
from __future__ import annotations

import copy
import re

from lxml import etree

from putuo_xl.errors import InputError
from putuo_xl.workbook.surgery.package import (
    EP_NS, PKG_REL, R_NS, VT_NS, _child, _q, _rels_name, _relpath, _rtype, _tobytes)
from putuo_xl.workbook.surgery.rows import FORK_ROWS, _splice_rows, body_rows, spliced_part


_WB_ORDER = ["fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews",
             "sheets", "functionGroups", "externalReferences", "definedNames", "calcPr", "oleSize",
             "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing",
             "fileRecoveryPr", "webPublishObjects", "extLst"]


_SHEET_REF = re.compile(r"'((?:[^']|'')+)'!|([^\s'!:,()=+\-*/&^<>{}\[\]\"]+)!")


def _sheets_in_formula(text: str) -> set[str]:
    out = set()
    for m in _SHEET_REF.finditer(text or ""):
        name = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
        if name.startswith("[") or "]" in name:   # external workbook
            continue
        out.add(name.casefold())
    return out


class _WorkbookXml:
    """Steps 5 and 6 of `_Surgery` (replace.py). Uses t, s_wb, s_sheets, t_wb_part, t_wb,
    t_sheets, plans, position, calc_rel, styles, t_styles_part, deleted, allocated; writes
    into out. The sheets of `plans` are serialised here, once the active tab is known."""

    # 5. workbook.xml, its rels, defined names, views, calcPr
    def _workbook_xml(self):
        t, wb = self.t, self.t_wb
        wb_rels_name = t.real(_rels_name(self.t_wb_part))
        rels_root = t.xml(wb_rels_name)
        rel_els = {r.get("Id"): r for r in rels_root.findall(_q("Relationship", PKG_REL))}
        sheets_el = wb.find(_q("sheets"))
        old_order = [x.el for x in self.t_sheets]
        active_idx = 0
        view = None
        bv = wb.find(_q("bookViews"))
        if bv is not None:
            view = bv.find(_q("workbookView"))
        if view is not None and (view.get("activeTab") or "0").isdigit():
            active_idx = int(view.get("activeTab") or 0)
        active_el = old_order[active_idx] if active_idx < len(old_order) else None
        first_el = None
        if view is not None and (view.get("firstSheet") or "").isdigit() and \
                int(view.get("firstSheet")) < len(old_order):
            first_el = old_order[int(view.get("firstSheet"))]

        ids = [int(x.get("sheetId")) for x in old_order if (x.get("sheetId") or "").isdigit()]
        next_sheet_id = max(ids, default=0) + 1
        used_rids = set(rel_els)
        new_els = []
        for p in self.plans:
            if p.old is not None:
                el = p.old.el
                el.set("name", p.src.name)
                rel = rel_els[p.old.rel.id]
                if p.part.lower() != p.old.rel.part.lower():
                    rel.set("Target", _relpath(self.t_wb_part, p.part))
                rel.set("Type", p.src.rel.type)
            else:
                n = 1
                while f"rId{n}" in used_rids:
                    n += 1
                rid = f"rId{n}"
                used_rids.add(rid)
                rel = etree.SubElement(rels_root, _q("Relationship", PKG_REL))
                rel.set("Id", rid)
                rel.set("Type", p.src.rel.type)
                rel.set("Target", _relpath(self.t_wb_part, p.part))
                el = etree.Element(_q("sheet"))
                el.set("name", p.src.name)
                el.set("sheetId", str(next_sheet_id))
                next_sheet_id += 1
                el.set(_q("id", R_NS), rid)
                new_els.append(el)
            if p.state == "visible":
                el.attrib.pop("state", None)
            else:
                el.set("state", p.state)
            p.el = el
        # final order: existing sheets in place, new ones at the end or at their position
        order = list(old_order) + new_els
        plan_by_el = {id(p.el): p for p in self.plans}
        for name, pos in self.position.items():
            p = next((q for q in self.plans if q.src.name.casefold() == name.casefold()), None)
            if p is None:
                raise ValueError(f"position names a sheet that is not replaced: {name}")
            if p.old is not None:
                continue   # a replaced sheet stays where the officials put it
            order.remove(p.el)
            if isinstance(pos, str):
                anchor = next((e for e in order if e.get("name", "").casefold() == pos.casefold()), None)
                idx = order.index(anchor) if anchor is not None else len(order)
            else:
                idx = int(pos)
                if idx < 0:
                    idx = max(0, len(order) + 1 + idx)
                idx = min(idx, len(order))
            order.insert(idx, p.el)
        for e in list(sheets_el):
            sheets_el.remove(e)
        for e in order:
            sheets_el.append(e)
        new_index = {id(e): i for i, e in enumerate(order)}
        if not any(e.get("state", "visible") == "visible" for e in order):
            raise InputError("替換後工作簿中沒有可見的工作表。", file=str(self.t.path), code="all-hidden")

        # calcChain goes: Excel rebuilds it
        if self.calc_rel is not None:
            el = rel_els.get(self.calc_rel.id)
            if el is not None:
                rels_root.remove(el)

        self._defined_names(old_order, order, new_index)

        # active tab: the same sheet as before if it is still visible, else the first visible
        moved = False
        if active_el is None or active_el.get("state", "visible") != "visible":
            active_el = next(e for e in order if e.get("state", "visible") == "visible")
            moved = True
        if view is not None:
            idx = new_index[id(active_el)]
            if idx or view.get("activeTab") is not None:
                view.set("activeTab", str(idx))
            if view.get("firstSheet") is not None:
                if first_el is not None and first_el.get("state", "visible") == "visible":
                    view.set("firstSheet", str(min(new_index[id(first_el)], idx)))
                else:
                    view.set("firstSheet", "0")
        for p in self.plans:
            root = p.extra.get("root")
            if root is not None:
                self._select_tab(root, p.el is active_el)
                self.out[p.part] = _tobytes(root)
        self._bodies()
        if moved and id(active_el) not in plan_by_el:
            # an existing sheet becomes active (the old active one was replaced by a hidden one)
            part = next(x.rel.part for x in self.t_sheets if x.el is active_el)
            root = self.t.xml(part)
            if not self._has_selected_tab(root):
                self._select_tab(root, True)
                self.out[part] = _tobytes(root)

        calc = _child(wb, "calcPr", _WB_ORDER)
        calc.set("fullCalcOnLoad", "1")
        self.out[self.t_wb_part] = _tobytes(wb)
        self.out[wb_rels_name] = _tobytes(rels_root)
        if self.styles.is_changed():
            self.out[self.t_styles_part] = _tobytes(self.styles.t)
        for low, o in list(self.t.overrides.items()):
            if low in self.deleted and low not in self.allocated:
                o.getparent().remove(o)
                del self.t.overrides[low]
        self.out["[Content_Types].xml"] = _tobytes(self.t.ct_root)

    def _bodies(self) -> None:
        """Rows written by the caller (replace_sheets(rows=...)) into their sheets: styles mapped
        in sheet order; every big body but the last made and compressed in a forked process
        (taken when the package is written, last), the others here."""
        with_rows = [p for p in self.plans if p.extra.get("root") is not None and "rows" in p.extra]
        jobs = []
        for p in with_rows:
            w = p.extra["rows"]
            prepare = getattr(w, "prepare", None)
            jobs.append((p, prepare(self.styles.xf) if prepare else None))
        for k, (p, job) in enumerate(jobs):
            if job is not None and k < len(jobs) - 1 and len(job[0]) >= FORK_ROWS:
                from putuo_xl.parallel import Result
                pending = Result(spliced_part, (self.out[p.part], job, p.src.name))
                if pending.forked:
                    self.out[p.part] = pending.result
                    continue
            rows = body_rows(job) if job is not None else p.extra["rows"](self.styles.xf)
            self.out[p.part] = _splice_rows(self.out[p.part], rows, p.src.name)

    def _defined_names(self, old_order, order, new_index):
        wb = self.t_wb
        dn = wb.find(_q("definedNames"))
        replaced = {id(p.old.el) for p in self.plans if p.old is not None}
        replaced_names = {p.src.name.casefold() for p in self.plans if p.old is not None}
        final_names = {e.get("name", "").casefold() for e in order}
        existing_global: dict[str, etree._Element] = {}
        if dn is not None:
            for d in list(dn):
                if d.tag != _q("definedName"):
                    continue
                lsid = d.get("localSheetId")
                if lsid is not None:
                    i = int(lsid)
                    if i >= len(old_order):
                        continue    # a dangling local name: leave it as it was
                    if id(old_order[i]) in replaced:
                        dn.remove(d)
                    else:
                        d.set("localSheetId", str(new_index[id(old_order[i])]))
                else:
                    existing_global[d.get("name", "").casefold()] = d
        s_dn = self.s_wb.find(_q("definedNames"))
        plan_by_src = {p.src.el: p for p in self.plans}
        added = []
        for d in (s_dn if s_dn is not None else []):
            if d.tag != _q("definedName"):
                continue
            refs = _sheets_in_formula(d.text or "")
            if refs - final_names:
                continue    # refers to a sheet that is not in the target
            new = copy.deepcopy(d)
            lsid = d.get("localSheetId")
            if lsid is not None:
                i = int(lsid)
                p = plan_by_src.get(self.s_sheets[i].el) if i < len(self.s_sheets) else None
                if p is None:
                    continue    # scoped to a sheet we do not copy
                new.set("localSheetId", str(new_index[id(p.el)]))
            else:
                name = d.get("name", "").casefold()
                old = existing_global.get(name)
                if old is not None:
                    old_refs = _sheets_in_formula(old.text or "")
                    if old_refs and old_refs <= (replaced_names | refs):
                        old.getparent().remove(old)     # ours, from an earlier refresh
                    else:
                        continue    # an official's own name wins
            added.append(new)
        if added:
            if dn is None:
                dn = _child(wb, "definedNames", _WB_ORDER)
            for d in added:
                dn.append(d)
        if dn is not None and len(dn) == 0:
            wb.remove(dn)

    # 6. docProps/app.xml: the list of worksheet titles
    def _app_xml(self):
        rel = self.t.rel_of_type("", "extended-properties")
        if rel is None or not self.t.has(rel.part):
            return
        root = copy.deepcopy(self.t.xml(rel.part))
        hp = root.find(_q("HeadingPairs", EP_NS))
        tp = root.find(_q("TitlesOfParts", EP_NS))
        if hp is None or tp is None:
            return
        old = [x.name for x in self.t_sheets]
        final = [e.get("name") for e in self.t_wb.find(_q("sheets"))]
        try:
            hv = hp.find(_q("vector", VT_NS))
            variants = list(hv)
            pairs = []
            for i in range(0, len(variants), 2):
                count = variants[i + 1].find(_q("i4", VT_NS))
                pairs.append((variants[i], variants[i + 1], count))
            tv = tp.find(_q("vector", VT_NS))
            titles = list(tv)
            pos = 0
            for head, cnt_variant, count in pairs:
                n = int(count.text)
                group = [x.text for x in titles[pos:pos + n]]
                if group == old and all(_rtype(x.rel.type) == "worksheet" for x in self.t_sheets) \
                        and all(_rtype(p.src.rel.type) == "worksheet" for p in self.plans):
                    for x in titles[pos:pos + n]:
                        tv.remove(x)
                    anchor = titles[pos + n] if pos + n < len(titles) else None
                    for name in final:
                        el = etree.Element(_q("lpstr", VT_NS))
                        el.text = name
                        if anchor is not None:
                            anchor.addprevious(el)
                        else:
                            tv.append(el)
                    count.text = str(len(final))
                    tv.set("size", str(len(tv)))
                    break
                pos += n
            else:
                raise ValueError("no worksheet group")
        except (ValueError, TypeError, AttributeError, IndexError):
            # not what we expect: drop both lists rather than leave them inconsistent
            root.remove(hp)
            root.remove(tp)
        self.out[rel.part] = _tobytes(root)
