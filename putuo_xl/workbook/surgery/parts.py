"""The parts that travel with a sheet: the replaced sheets' old parts deleted, new part names
allocated, the source sheet's parts (drawings, charts, images, tables, comments) copied with
their relationships and content types; table ids and names, comment shape ids kept unique.
"""
from __future__ import annotations

import copy
import posixpath
import re

from lxml import etree

from putuo_xl.errors import InputError
from putuo_xl.workbook.surgery.package import (
    CT_NS, CT_TABLE, CT_VML, CT_WORKSHEET, PKG_REL, _q, _Rel, _rels_name, _relpath, _rtype, _tobytes)


def _vml_blocks(text: str) -> set[int]:
    out = set()
    for m in re.finditer(r'<(?:\w+:)?idmap\b[^>]*\bdata="([^"]*)"', text):
        out.update(int(x) for x in re.findall(r"\d+", m.group(1)))
    return out


class _Parts:
    """Steps 2 and 4 of `_Surgery` (replace.py). Uses t, s (the packages), plans, out,
    deleted, allocated, t_wb_part, t_wb, styles; sets calc_rel, table_ids, table_renames,
    _vml_renumber. The sheet XML itself is `_SheetXml._sheet_xml`."""

    # 2. delete the replaced sheets' parts that nothing else uses
    def _remove_old_parts(self):
        t = self.t
        old_parts = {p.old.rel.part.lower() for p in self.plans if p.old is not None}
        if not old_parts:
            candidates: set[str] = set()
        else:
            candidates = t.reachable([p.old.rel.part for p in self.plans if p.old is not None])
        keep = t.reachable([""], skip=old_parts)
        drop = candidates - keep
        calc = t.rel_of_type(self.t_wb_part, "calcChain")
        if calc is not None:
            drop.add(calc.part.lower())
        for name in drop:
            self._delete(name)
        self.calc_rel = calc

    def _delete(self, name_lower: str):
        real = self.t.real(name_lower)
        self.deleted.add(name_lower)
        rels = _rels_name(real).lower()
        if self.t.has(rels):
            self.deleted.add(rels)

    def _exists(self, name: str) -> bool:
        low = name.lower()
        return (self.t.has(name) and low not in self.deleted) or low in self.allocated

    def _alloc(self, like: str) -> str:
        d, b = posixpath.split(like)
        stem, ext = posixpath.splitext(b)
        prefix = stem.rstrip("0123456789") or stem
        n = 1
        while True:
            cand = posixpath.join(d, f"{prefix}{n}{ext}")
            if not self._exists(cand):
                self.allocated.add(cand.lower())
                return cand
            n += 1

    # 4. copy each sheet with its parts
    def _copy_parts(self):
        s = self.s
        mapping: dict[str, str] = {}     # source part (lower) → target part name
        order: list[str] = []
        # the sheets themselves first, so they keep their old part names
        for p in self.plans:
            if p.old is not None and p.old.rel.part.lower() in self.deleted and \
                    _rtype(p.old.rel.type) == _rtype(p.src.rel.type):
                p.part = p.old.rel.part
                self.allocated.add(p.part.lower())
        for p in self.plans:
            src_part = p.src.rel.part
            if not p.part:
                p.part = self._alloc(src_part if _rtype(p.src.rel.type) != "worksheet"
                                     else "xl/worksheets/sheet1.xml")
            if "plain" in p.extra:        # as given: no parts of its own, nothing to remap
                self.out[p.part] = p.extra["plain"]
                self._set_content_type(p.part, CT_WORKSHEET, False)
                if self.t.has(_rels_name(p.part)):
                    self.deleted.add(_rels_name(p.part).lower())
                continue
            mapping[src_part.lower()] = p.part
            order.append(src_part)
        # then everything reachable from them
        todo = list(order)
        while todo:
            part = todo.pop(0)
            for r in s.rels(part):
                if r.external or r.part is None:
                    continue
                kind = _rtype(r.type)
                if kind in ("pivotTable", "worksheet", "chartsheet", "officeDocument"):
                    raise InputError(f"來源工作表引用了不支持的部件 {r.part}({kind})。",
                                     file=str(s.path), code="unsupported-part")
                if r.part.lower() in mapping:
                    continue
                if not s.has(r.part):
                    raise s.error(f"部件 {part} 引用的 {r.part} 不存在。")
                mapping[r.part.lower()] = self._alloc(r.part)
                order.append(r.part)
                todo.append(r.part)
        self._tables(order)
        self._vml_renumber = self._vml_plan(order)
        plan_by_part = {p.src.rel.part.lower(): p for p in self.plans if "plain" not in p.extra}
        for part in order:
            new = mapping[part.lower()]
            ct = s.content_type(part)
            if ct is None:
                raise s.error(f"部件 {part} 沒有內容類型。")
            if part.lower() in plan_by_part:
                data = self._sheet_xml(plan_by_part[part.lower()])
            elif ct == CT_TABLE:
                data = self._table_xml(part)
            elif ct == CT_VML or part.lower().endswith(".vml"):
                data = self._vml(part)
            else:
                data = s.read(part)
            self.out[new] = data
            self._set_content_type(new, ct, s.content_type_is_default(part))
            rels = s.rels(part)
            if rels:
                self.out[_rels_name(new)] = self._rels_xml(new, rels, mapping)
            elif self.t.has(_rels_name(new)):
                self.deleted.add(_rels_name(new).lower())

    def _set_content_type(self, part: str, ct: str, was_default: bool):
        t = self.t
        ext = posixpath.splitext(part)[1].lstrip(".").lower()
        d = t.defaults.get(ext)
        o = t.overrides.get(part.lower())
        if o is not None:
            if o.get("ContentType") != ct:
                o.set("ContentType", ct)
            return
        if d is not None and d.get("ContentType") == ct:
            return
        root = t.ct_root
        if d is None and was_default and ext:
            el = etree.Element(_q("Default", CT_NS), Extension=ext, ContentType=ct)
            defaults = root.findall(_q("Default", CT_NS))
            if defaults:
                defaults[-1].addnext(el)
            else:
                root.insert(0, el)
            t.defaults[ext] = el
        else:
            el = etree.SubElement(root, _q("Override", CT_NS), PartName="/" + part, ContentType=ct)
            t.overrides[part.lower()] = el

    def _rels_xml(self, new_part: str, rels: list[_Rel], mapping) -> bytes:
        root = etree.Element(_q("Relationships", PKG_REL), nsmap={None: PKG_REL})
        for r in rels:
            el = etree.SubElement(root, _q("Relationship", PKG_REL))
            el.set("Id", r.id)
            el.set("Type", r.type)
            if r.external:
                el.set("Target", r.target)
                el.set("TargetMode", "External")
            else:
                el.set("Target", _relpath(new_part, mapping[r.part.lower()]))
        return _tobytes(root)

    # tables: unique id and names across the workbook
    def _tables(self, order):
        t = self.t
        used_ids, used_names = set(), set()
        for low, real in t.lower.items():
            if low in self.deleted or t.content_type(real) != CT_TABLE:
                continue
            root = t.xml(real)
            if root.get("id", "").isdigit():
                used_ids.add(int(root.get("id")))
            used_names.update(n.casefold() for n in (root.get("name"), root.get("displayName")) if n)
        dn = self.t_wb.find(_q("definedNames"))
        for d in (dn if dn is not None else []):
            if d.get("name"):
                used_names.add(d.get("name").casefold())
        self.table_ids: dict[str, int] = {}
        self.table_renames: dict[str, str] = {}
        for part in order:
            if self.s.content_type(part) != CT_TABLE:
                continue
            root = self.s.xml(part)
            tid = int(root.get("id", "1")) if root.get("id", "").isdigit() else 1
            if tid in used_ids:
                tid = max(used_ids) + 1
            used_ids.add(tid)
            self.table_ids[part.lower()] = tid
            done = set()
            for attr in ("displayName", "name"):
                old = root.get(attr)
                if not old or old in done:
                    continue
                done.add(old)
                new, n = old, 2
                while new.casefold() in used_names:
                    new = f"{old}_{n}"
                    n += 1
                used_names.add(new.casefold())
                if new != old:
                    self.table_renames[old] = new

    def _table_xml(self, part: str) -> bytes:
        root = copy.deepcopy(self.s.xml(part))
        root.set("id", str(self.table_ids[part.lower()]))
        for attr in ("displayName", "name"):
            if root.get(attr) in self.table_renames:
                root.set(attr, self.table_renames[root.get(attr)])
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            for a, v in list(el.attrib.items()):
                if a.endswith("DxfId") and v.isdigit():
                    el.set(a, str(self.styles.dxf(int(v))))
        return _tobytes(root)

    # VML (comments): shape ids live in blocks of 1024 per <o:idmap data="n">; keep them unique
    def _vml_plan(self, order) -> dict[int, int]:
        t = self.t
        used: set[int] = set()
        for low, real in t.lower.items():
            if low.endswith(".vml") and low not in self.deleted:
                used |= _vml_blocks(t.read(real).decode("utf-8", "replace"))
        remap: dict[int, int] = {}
        for part in order:
            if not part.lower().endswith(".vml"):
                continue
            for b in sorted(_vml_blocks(self.s.read(part).decode("utf-8", "replace"))):
                if b in remap:
                    continue
                nb = b
                while nb in used:
                    nb += 1
                used.add(nb)
                remap[b] = nb
        return remap

    def _vml(self, part: str) -> bytes:
        text = self.s.read(part).decode("utf-8")
        remap = self._vml_renumber
        if not remap or all(k == v for k, v in remap.items()):
            return self.s.read(part)

        def idmap(m):
            nums = re.sub(r"\d+", lambda n: str(remap.get(int(n.group(0)), int(n.group(0)))), m.group(2))
            return m.group(1) + nums + '"'

        text = re.sub(r'(<(?:\w+:)?idmap\b[^>]*\bdata=")([^"]*)"', idmap, text)

        def shape(m):
            n = int(m.group(2))
            b, k = divmod(n, 1024)
            return f"{m.group(1)}{remap.get(b, b) * 1024 + k}"

        text = re.sub(r"(_x0000_s)(\d+)", shape, text)
        return text.encode("utf-8")
