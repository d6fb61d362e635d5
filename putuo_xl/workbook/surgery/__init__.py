"""xlsx surgery: sheets put into an existing workbook without round-tripping it through openpyxl.

Takes a target workbook (the master) and a small source workbook (xlsxwriter or openpyxl), and
optionally plain sheets and rows as XML; gives the target with those sheets replaced in place or
added, and everything else of it as it was (docs/xlsxsurgery.md).

    replace.py      replace_sheets, new_sheets: the steps, in order; the result written atomically
    package.py      a zip package in memory: parts, content types, relationships, its sheets
    parts.py        a sheet's parts copied (drawings, charts, tables, comments); old ones deleted
    sheetxml.py     a sheet's XML: styles remapped, shared strings made inline, selected tab
    styles.py       the source's styles merged into the target's styles.xml
    workbookxml.py  workbook.xml (tab order, defined names, active tab), app.xml, content types
    zipwriter.py    the new zip: new parts compressed, untouched ones copied as they are
    plain.py        plain_sheet_xml: a values-only sheet, never parsed on its way in
    rows.py         row_xml, xlsxwriter_rows: a sheet's body as XML, spliced in by row number

Names with a leading underscore are shared between these modules only.
"""
from putuo_xl.workbook.surgery.package import sheet_names
from putuo_xl.workbook.surgery.plain import plain_sheet_xml
from putuo_xl.workbook.surgery.replace import new_sheets, replace_sheets
from putuo_xl.workbook.surgery.rows import row_xml, xlsxwriter_rows
from putuo_xl.workbook.surgery.zipwriter import Deflated, deflate

__all__ = ["replace_sheets", "new_sheets", "sheet_names", "plain_sheet_xml", "deflate", "Deflated",
           "row_xml", "xlsxwriter_rows"]
