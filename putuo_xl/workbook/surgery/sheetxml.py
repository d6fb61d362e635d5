"""A source sheet's XML rewritten for the target: cell formats remapped to the target's styles,
shared strings made inline strings (the target's sharedStrings.xml is never touched), renamed
tables followed in formulas, the sheet's VBA code name kept, the selected tab.
"""
from __future__ import annotations

import re

from lxml import etree

from putuo_xl.workbook.surgery.package import _PARSER, _child, _Plan, _q, _rtype, _Sheet
from putuo_xl.workbook.surgery.styles import _StyleMerger


_WS_ORDER = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
             "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter",
             "sortState", "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr",
             "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions",
             "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
             "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
             "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
             "webPublishItems", "tableParts", "extLst"]


class _SheetXml:
    """Step 3 of `_Surgery` (replace.py) and the sheet XML of step 4. Uses t, s, rows,
    t_wb_part, s_wb_part, table_renames; sets styles, sst, sst_plain, t_styles_part."""

    # 3. styles
    def _styles(self):
        t_rel = self.t.rel_of_type(self.t_wb_part, "styles")
        s_rel = self.s.rel_of_type(self.s_wb_part, "styles")
        if t_rel is None:
            raise self.t.error("缺少樣式部件 styles.xml。")
        self.t_styles_part = t_rel.part
        self.styles = _StyleMerger(self.t.xml(t_rel.part),
                                   self.s.xml(s_rel.part) if s_rel is not None else None,
                                   self.s.path)
        sst = self.s.rel_of_type(self.s_wb_part, "sharedStrings")
        self.sst = []
        if sst is not None and self.s.has(sst.part):
            self.sst = [si for si in self.s.xml(sst.part) if si.tag == _q("si")]
        # a string item that is just <t>text</t> becomes a new <t>; others are copied whole
        t_tag = _q("t")
        self.sst_plain = [si[0].text or "" if len(si) == 1 and si[0].tag == t_tag else None
                          for si in self.sst]

    # the sheet XML itself
    def _sheet_xml(self, p: _Plan) -> bytes:
        part = p.src.rel.part
        try:
            root = etree.fromstring(self.s.read(part), _PARSER)
        except etree.XMLSyntaxError as e:
            raise self.s.error(f"部件 {part} 不是有效的 XML({e})。")
        p.extra["root"] = root      # serialised once the active tab is known (_workbook_xml)
        writer = self.rows.get(p.src.name.casefold())
        if writer is not None:
            if root.tag != _q("worksheet") or root.prefix is not None:
                raise ValueError("rows go into worksheets written in the default namespace only")
            p.extra["rows"] = writer
        if _rtype(p.src.rel.type) != "worksheet":
            return b""
        st = self.styles
        default_s = str(st.xf(0)) if st.sc is not None and st.sc["cellXfs"].items else "0"
        smap: dict[str, str] = {}

        def xf(v: str) -> str:
            r = smap.get(v)
            if r is None:
                if not v.strip().isdigit():
                    raise self.s.error(f"工作表「{p.src.name}」的單元格格式 {v!r} 無效。")
                r = smap[v] = str(st.xf(int(v)))
            return r

        v_tag, f_tag, is_tag, t_tag = _q("v"), _q("f"), _q("is"), _q("t")
        renames = self.table_renames
        rename_re = re.compile(r"(?<![\w.])(" + "|".join(re.escape(k) for k in sorted(
            renames, key=len, reverse=True)) + r")(?![\w.])") if renames else None
        sst, n_sst = self.sst, len(self.sst)
        plain = self.sst_plain
        for row in root.iter(_q("row")):
            rs = row.get("s")
            if rs is not None:
                row.set("s", xf(rs))
        for c in root.iter(_q("c")):
            s = c.get("s")
            if s is not None:
                c.set("s", xf(s))
            elif default_s != "0":
                c.set("s", default_s)
            if c.get("t") == "s":
                v = c.find(v_tag)
                text = v.text if v is not None else None
                idx = int(text) if text and text.strip().isdigit() else -1
                if not 0 <= idx < n_sst:
                    raise self.s.error(f"工作表「{p.src.name}」單元格 {c.get('r')} 引用了不存在的共享字符串。")
                is_ = etree.Element(is_tag)
                if plain[idx] is not None:
                    t = etree.SubElement(is_, t_tag)
                    t.text = plain[idx]
                    if plain[idx] != plain[idx].strip() or "\n" in plain[idx]:
                        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                else:
                    for ch in sst[idx]:
                        is_.append(ch.__deepcopy__(None))
                v.addprevious(is_)
                c.remove(v)
                c.set("t", "inlineStr")
            elif rename_re is not None:
                f = c.find(f_tag)
                if f is not None and f.text:
                    f.text = rename_re.sub(lambda m: renames[m.group(0)], f.text)
        cols = root.find(_q("cols"))
        for col in (cols if cols is not None else []):
            if col.get("style") is not None:
                col.set("style", xf(col.get("style")))
        for cf in root.iter(_q("cfRule")):
            if cf.get("dxfId") is not None:
                cf.set("dxfId", str(st.dxf(int(cf.get("dxfId")))))
        # the VBA code name stays with the sheet; a new sheet gets none (Excel assigns one)
        pr = root.find(_q("sheetPr"))
        codename = p.old and self._old_codename(p.old)
        if pr is not None and pr.get("codeName") is not None:
            del pr.attrib["codeName"]
        if codename:
            if pr is None:
                pr = etree.Element(_q("sheetPr"))
                root.insert(0, pr)
            pr.set("codeName", codename)
        return b""

    def _old_codename(self, old: _Sheet) -> str | None:
        data = self.t.head(old.rel.part, b"sheetData")     # sheetPr comes before the rows
        end = data.find(b"sheetData")
        m = re.search(rb'<(?:\w+:)?sheetPr\b[^>]*\bcodeName="([^"]*)"', data[:end if end > 0 else None])
        return m.group(1).decode("utf-8") if m else None

    @staticmethod
    def _has_selected_tab(root) -> bool:
        return any(v.get("tabSelected") in ("1", "true") for v in root.iter(_q("sheetView")))

    @staticmethod
    def _select_tab(root, selected: bool):
        views = list(root.iter(_q("sheetView")))
        for i, v in enumerate(views):
            if selected and i == 0:
                v.set("tabSelected", "1")
            else:
                v.attrib.pop("tabSelected", None)
        if selected and not views:
            svs = _child(root, "sheetViews", _WS_ORDER)
            etree.SubElement(svs, _q("sheetView"), tabSelected="1", workbookViewId="0")
