#!/usr/bin/python3
"""Open an .xlam in headless LibreOffice and print, as JSON, what LibreOffice read from it:
the sheets with their cell text, and the VBA project as LibreOffice imports it (its own reader
of the dir stream, the module streams and the compression; one Basic library per project).

LibreOffice has no type for the add-in content type, so the Excel 2007+ VBA filter is named;
the file is the .xlam itself. Run with a Python that has uno (Debian's /usr/bin/python3); uses
the private-LibreOffice machinery of tools/xlsx-check. Usage: lo_addin_probe.py FILE.xlam
"""
import importlib.machinery
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
xc = importlib.machinery.SourceFileLoader(
    "xlsx_check", os.path.join(HERE, "..", "tools", "xlsx-check")).load_module()


def main(path):
    import uno
    work = tempfile.mkdtemp(prefix="lo-addin-")
    office = xc.Office(xc.find_soffice(), work, time.monotonic() + 90)
    office.start()
    try:
        requests = []
        props = (xc.prop("Hidden", True), xc.prop("ReadOnly", True), xc.prop("MacroExecutionMode", 0),
                 xc.prop("FilterName", "Calc MS Excel 2007 VBA XML"),
                 xc.prop("InteractionHandler", xc.make_handler(requests)))
        doc = office.desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)),
                                                  "_blank", 0, props)
        out = {"loaded": doc is not None, "requests": requests, "sheets": {}, "libraries": {}}
        if doc is not None:
            for name in doc.Sheets.ElementNames:
                sheet = doc.Sheets.getByName(name)
                cur = sheet.createCursor()
                cur.gotoEndOfUsedArea(False)
                end = cur.RangeAddress
                rows = sheet.getCellRangeByPosition(0, 0, end.EndColumn, end.EndRow).DataArray
                out["sheets"][name] = [[str(v) for v in row] for row in rows]
            libs = doc.BasicLibraries
            for lib_name in libs.ElementNames:
                libs.loadLibrary(lib_name)
                lib = libs.getByName(lib_name)
                out["libraries"][lib_name] = {m: lib.getByName(m) for m in lib.ElementNames}
            doc.close(True)
        print(json.dumps(out, ensure_ascii=False))
    finally:
        office.stop()


if __name__ == "__main__":
    main(sys.argv[1])
