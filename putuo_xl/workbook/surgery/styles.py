"""Styles merged into the target's styles.xml: the source's fonts, fills, borders, number formats,
cell formats, named cell styles and differential formats are appended unless the same is there
already, and `_StyleMerger` maps each source index to the target's.
"""
from __future__ import annotations

import copy
from pathlib import Path

from lxml import etree

from putuo_xl.errors import InputError
from putuo_xl.workbook.surgery.package import _child, _q


def _key(el) -> tuple:
    """A comparable form of an XML element: tag, attributes, children, text."""
    children = tuple(_key(c) for c in el if isinstance(c.tag, str))
    text = (el.text or "")
    if children:
        text = text.strip()
    return (el.tag, tuple(sorted(el.attrib.items())), children, text)


_STYLE_ORDER = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles",
                "dxfs", "tableStyles", "colors", "extLst"]


class _Collection:
    """One list of styles.xml (fonts, fills, ...): index → element, dedupe by content."""

    def __init__(self, root, tag: str, item: str):
        self.root, self.tag, self.item = root, tag, item
        self.el = _child(root, tag, _STYLE_ORDER, create=False)
        self.items = [] if self.el is None else [c for c in self.el if c.tag == _q(item)]
        self.index: dict[tuple, int] = {}
        for i, c in enumerate(self.items):
            self.index.setdefault(_key(c), i)
        self.changed = False

    def add(self, el) -> int:
        k = _key(el)
        if k in self.index:
            return self.index[k]
        if self.el is None:
            self.el = _child(self.root, self.tag, _STYLE_ORDER)
        self.el.append(el)
        self.items.append(el)
        self.index[k] = len(self.items) - 1
        self.el.set("count", str(len(self.items)))
        self.changed = True
        return len(self.items) - 1


class _StyleMerger:
    """Maps the source's style indexes to the target's styles.xml, appending what is missing."""

    def __init__(self, target_root, source_root, source_path: Path | None = None):
        self.t, self.s = target_root, source_root
        self.source_path = source_path
        self.tc = {tag: _Collection(target_root, tag, item) for tag, item in
                   [("fonts", "font"), ("fills", "fill"), ("borders", "border"),
                    ("cellStyleXfs", "xf"), ("cellXfs", "xf"), ("cellStyles", "cellStyle"),
                    ("dxfs", "dxf")]}
        self.sc = {tag: _Collection(source_root, tag, item) for tag, item in
                   [("fonts", "font"), ("fills", "fill"), ("borders", "border"),
                    ("cellStyleXfs", "xf"), ("cellXfs", "xf"), ("cellStyles", "cellStyle"),
                    ("dxfs", "dxf")]} if source_root is not None else None
        self.t_fmts = {}   # formatCode → id
        self.t_fmt_ids = set()
        nf = target_root.find(_q("numFmts"))
        for f in (nf if nf is not None else []):
            if f.tag == _q("numFmt"):
                self.t_fmts.setdefault(f.get("formatCode"), int(f.get("numFmtId")))
                self.t_fmt_ids.add(int(f.get("numFmtId")))
        self.s_fmts = {}
        if source_root is not None:
            nf = source_root.find(_q("numFmts"))
            for f in (nf if nf is not None else []):
                if f.tag == _q("numFmt"):
                    self.s_fmts[int(f.get("numFmtId"))] = f.get("formatCode")
        self._memo: dict[tuple[str, int], int] = {}
        self.changed = False

    def _simple(self, tag: str, i: int) -> int:
        memo = (tag, i)
        if memo not in self._memo:
            items = self.sc[tag].items
            if i >= len(items):
                self._memo[memo] = 0
            else:
                self._memo[memo] = self.tc[tag].add(copy.deepcopy(items[i]))
        return self._memo[memo]

    def numfmt(self, i: int) -> int:
        code = self.s_fmts.get(i)
        if code is None:
            return i          # built-in format
        if code in self.t_fmts:
            return self.t_fmts[code]
        new = max([163, *self.t_fmt_ids]) + 1
        nf = _child(self.t, "numFmts", _STYLE_ORDER)
        el = etree.SubElement(nf, _q("numFmt"))
        el.set("numFmtId", str(new))
        el.set("formatCode", code)
        nf.set("count", str(len(nf.findall(_q("numFmt")))))
        self.t_fmts[code] = new
        self.t_fmt_ids.add(new)
        self.changed = True
        return new

    def _xf(self, xf, style_xf: bool):
        new = copy.deepcopy(xf)
        for attr, fn in (("numFmtId", self.numfmt), ("fontId", lambda i: self._simple("fonts", i)),
                         ("fillId", lambda i: self._simple("fills", i)),
                         ("borderId", lambda i: self._simple("borders", i))):
            v = new.get(attr)
            mapped = fn(int(v) if v is not None else 0)
            if v is not None or mapped != 0:
                new.set(attr, str(mapped))
        if not style_xf:
            v = new.get("xfId")
            mapped = self.style_xf(int(v) if v is not None else 0)
            if v is not None or mapped != 0:
                new.set("xfId", str(mapped))
        return new

    def style_xf(self, j: int) -> int:
        """A source cellStyleXfs index → the target's, through the named cell style."""
        memo = ("cellStyleXfs", j)
        if memo in self._memo:
            return self._memo[memo]
        styles = [c for c in self.sc["cellStyles"].items if c.get("xfId") == str(j)]
        result = 0
        if styles:
            st = styles[0]
            for c in self.tc["cellStyles"].items:
                same_builtin = st.get("builtinId") is not None and \
                    c.get("builtinId") == st.get("builtinId") and st.get("iLevel") == c.get("iLevel")
                if same_builtin or (c.get("name") or "").casefold() == (st.get("name") or "").casefold():
                    result = int(c.get("xfId", "0"))
                    break
            else:
                items = self.sc["cellStyleXfs"].items
                if j < len(items):
                    before = len(self.tc["cellStyleXfs"].items)
                    result = self.tc["cellStyleXfs"].add(self._xf(items[j], True))
                    if result == before:   # a new style xf: name it
                        cs = copy.deepcopy(st)
                        cs.set("xfId", str(result))
                        self.tc["cellStyles"].add(cs)
        self._memo[memo] = result
        return result

    def xf(self, i: int) -> int:
        """A source cellXfs index → the target's."""
        memo = ("cellXfs", i)
        if self.sc is None:
            return 0
        if memo not in self._memo:
            items = self.sc["cellXfs"].items
            if i >= len(items):
                raise InputError(f"引用了不存在的單元格格式 {i},工作簿已損壞。請重新生成。",
                                 file=str(self.source_path) if self.source_path else None,
                                 code="bad-style")
            self._memo[memo] = self.tc["cellXfs"].add(self._xf(items[i], False))
        return self._memo[memo]

    def dxf(self, i: int) -> int:
        return 0 if self.sc is None else self._simple("dxfs", i)

    def is_changed(self) -> bool:
        return self.changed or any(c.changed for c in self.tc.values())
