"""Helpers for the collect tests: make a master and its forms, and fill forms the way
officials do (openpyxl: typing, pasting over dropdowns, inserting rows, renaming sheets)."""
from __future__ import annotations

import io
import os
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl

from putuo_xl import layout
from putuo_xl.text import norm_name

HEADERS = {norm_name(label): key for key, label in layout.FORM_COLUMNS}


def rezip_bytes(src: bytes, change=None, add=None, level: int = 6) -> bytes:
    """The ZIP `src` with parts changed (name → bytes → bytes) and parts added (name → bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                                  compresslevel=level) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if change and info.filename in change:
                data = change[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return out.getvalue()


def set_mtime(path: Path, when: str) -> None:
    """Pretend the file arrived at `when` ('2020-09-03 10:00', local time)."""
    ts = datetime.fromisoformat(when).astimezone().timestamp()
    os.utime(path, (ts, ts))


class Form:
    """An openpyxl view of a form: rows by task id, columns by header key."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.wb = openpyxl.load_workbook(self.path)
        self.ws = None
        for ws in self.wb.worksheets:
            if ws.sheet_state != "visible":
                continue
            hit = self._header(ws)
            if hit:
                self.ws, self.header_row, self.cols = ws, *hit
                break
        assert self.ws is not None, f"no form sheet in {path}"

    @staticmethod
    def _header(ws):
        for row in ws.iter_rows(min_row=1, max_row=30):
            keys = {}
            for c in row:
                if isinstance(c.value, str) and norm_name(c.value) in HEADERS:
                    keys[HEADERS[norm_name(c.value)]] = c.column
            if "task_id" in keys:
                return row[0].row, keys
        return None

    def rows(self) -> dict[str, int]:
        """Row key → row: the hidden key column's ("1.3.1", "1.3.1#2"), else 任務編號's."""
        col = self.cols.get(layout.FORM_KEY, self.cols["task_id"])
        out = {}
        for r in range(self.header_row + 1, self.ws.max_row + 1):
            v = self.ws.cell(r, col).value
            if v:
                out[str(v)] = r
        return out

    def set_id(self, task_id: str, new: str) -> None:
        """Write another id on a row: in 任務編號 and in the hidden key (a row from another form)."""
        r = self.rows()[task_id]
        for key in ("task_id", layout.FORM_KEY):
            if key in self.cols:
                self.ws.cell(r, self.cols[key]).value = new

    def drop_keys(self) -> None:
        """The form as a unit rebuilds it by hand: no hidden key column (任務編號 as shown)."""
        if layout.FORM_KEY in self.cols:
            self.ws.delete_cols(self.cols.pop(layout.FORM_KEY))

    def task_ids(self) -> list[str]:
        return [t for t in self.rows() if "#" not in t]

    def indicator_rows(self) -> list[str]:
        """Task ids whose main row takes an actual (the target column is filled)."""
        out = []
        for tid, r in self.rows().items():
            if self.ws.cell(r, self.cols["target"]).value not in (None, ""):
                out.append(tid)
        return out

    def set_contact(self, **by_label) -> None:
        """Type into the input cell right of a label above the table: set_contact(填報人="張三")."""
        from openpyxl.cell.cell import MergedCell
        for row in self.ws.iter_rows(min_row=1, max_row=self.header_row - 1):
            for c in row:
                if not isinstance(c.value, str):
                    continue
                label = next((k for k in by_label if c.value.startswith(k)), None)
                if label is None:
                    continue
                col = c.column + 1
                while isinstance(self.ws.cell(c.row, col), MergedCell):
                    col += 1
                self.ws.cell(c.row, col).value = by_label[label]

    def target(self, task_id: str) -> str:
        return str(self.ws.cell(self.rows()[task_id], self.cols["target"]).value or "")

    def set(self, task_id: str, **values) -> None:
        r = self.rows()[task_id]
        for key, v in values.items():
            cell = self.ws.cell(r, self.cols[key])
            cell.value = v
            if isinstance(v, str) and v[:1] == "=":
                cell.data_type = "s"   # what a user gets typing '=… into a text cell

    def fill_all(self, status="推進中", progress=0.5, text="按計劃推進", actual=None, count=12) -> None:
        """Fill every row; `actual` goes to targets in %, `count` to the others (天, 件 …)."""
        for tid in self.rows():
            if "#" not in tid:
                self.set(tid, status=status, progress=progress, progress_text=text)
        if actual is not None:
            for tid in self.indicator_rows():
                pct = "%" in self.target(tid) or "％" in self.target(tid)
                self.set(tid, actual=actual if pct else count)

    def meta(self, key: str, value: str) -> None:
        ws = self.wb[layout.FORM_META_SHEET]
        for row in ws.iter_rows():
            if row[0].value == key:
                row[1].value = value
                return
        raise KeyError(key)

    def save(self, path: Path | None = None) -> Path:
        out = Path(path or self.path)
        self.wb.save(out)
        return out

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.wb.save(buf)
        return buf.getvalue()


# -- master and forms -------------------------------------------------------------------
def make_master_and_forms(folder: Path, month: str, cfg) -> tuple[Path, Path]:
    """The master built from the bundled notice, and the month's real forms in folder/forms-MONTH
    (recorded in the ledger's `issued` table by write_forms)."""
    from putuo_xl.workbook.forms import write_forms
    from putuo_xl.workbook.master import build_master

    master = folder / "任務分解台賬.xlsx"
    if not master.exists():
        build_master(None, master, cfg)
    out = folder / f"forms-{month}"
    write_forms(master, month, out_dir=out, config=cfg)
    return master, out
