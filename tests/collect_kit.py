"""Helpers for the collect tests: make a master and its forms, and fill forms the way
officials do (openpyxl: typing, pasting over dropdowns, inserting rows, renaming sheets)."""
from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path

import openpyxl

from putuo_xl import layout
from putuo_xl.text import norm_name

HEADERS = {norm_name(label): key for key, label in layout.FORM_COLUMNS}


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
        out = {}
        for r in range(self.header_row + 1, self.ws.max_row + 1):
            v = self.ws.cell(r, self.cols["task_id"]).value
            if v:
                out[str(v)] = r
        return out

    def task_ids(self) -> list[str]:
        return [t for t in self.rows() if "#" not in t]

    def indicator_rows(self) -> list[str]:
        """Task ids whose main row takes an actual (the target column is filled)."""
        out = []
        for tid, r in self.rows().items():
            if self.ws.cell(r, self.cols["target"]).value not in (None, ""):
                out.append(tid)
        return out

    def set(self, task_id: str, **values) -> None:
        r = self.rows()[task_id]
        for key, v in values.items():
            cell = self.ws.cell(r, self.cols[key])
            cell.value = v
            if isinstance(v, str) and v[:1] == "=":
                cell.data_type = "s"   # what a user gets typing '=… into a text cell

    def fill_all(self, status="推進中", progress=0.5, text="按計劃推進", actual=None) -> None:
        for tid in self.rows():
            if "#" in tid:
                if actual is not None:
                    self.set(tid, actual=actual)
                continue
            self.set(tid, status=status, progress=progress, progress_text=text)
        if actual is not None:
            for tid in self.indicator_rows():
                if "#" not in tid:
                    self.set(tid, actual=actual)

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
def make_master_and_forms(folder: Path, month: str, cfg, plan=None) -> tuple[Path, Path]:
    """A master built from the seed notice and the month's forms in folder/forms-MONTH."""
    try:
        from putuo_xl.forms import write_forms
        from putuo_xl.master import build_master
    except ImportError:
        return _contract_forms(folder, month, cfg)
    master = folder / "任務分解台賬.xlsx"
    if not master.exists():
        build_master(None, output=master, config=cfg)
    out = folder / f"forms-{month}"
    write_forms(master, month, out_dir=out, config=cfg)
    return master, out


def _contract_forms(folder: Path, month: str, cfg):
    """Until the workbook branch lands: forms written to the layout.py contract."""
    from putuo_xl.collect import due_for_month
    from putuo_xl.ledger import open_ledger
    from putuo_xl.parser import parse_notice
    from putuo_xl.units import unit_assignments

    plan = parse_notice(None, cfg)
    master = folder / "任務分解台賬.xlsx"
    if not master.exists():
        wb = openpyxl.Workbook()
        wb.active.title = "說明"
        meta = wb.create_sheet(layout.META_SHEET)
        meta.sheet_state = "hidden"
        for kv in [("kind", layout.MASTER_KIND), ("plan_fingerprint", plan.fingerprint()),
                   ("script", plan.script)]:
            meta.append(list(kv))
        wb.save(master)
    out = folder / f"forms-{month}"
    out.mkdir(parents=True, exist_ok=True)
    idx = plan.task_index()
    due = due_for_month(month, cfg).isoformat()
    ledger = open_ledger(master, cfg)
    labels = {"lead": "牽頭", "co": "配合", "responsible": "責任"}
    for unit, items in unit_assignments(plan, cfg).items():
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = layout.FORM_SHEET
        ws.append([f"{unit} {layout.month_label(month)} 法治政府建設工作月報"])
        ws.append([f"截止日期:{due}"])
        ws.append([label for _, label in layout.FORM_COLUMNS])
        inds = []
        for a in items:
            t = idx[a.task_id]
            first = t.indicators[0] if t.indicators else None
            ws.append([t.id, t.text[:60], labels[a.role], t.deadline or "", first.text if first else "",
                       f"{first.op}{first.value:g}{first.unit}" if first else ""])
            for k, ind in enumerate(t.indicators, start=1):
                inds.append(f"{t.id}#{k}")
                if k > 1:
                    ws.append([f"{t.id}#{k}", "", "", "", ind.text, f"{ind.op}{ind.value:g}{ind.unit}"])
        meta = wb.create_sheet(layout.FORM_META_SHEET)
        meta.sheet_state = "veryHidden"
        task_ids = ",".join(a.task_id for a in items)
        for kv in [("kind", layout.FORM_KIND), ("unit", unit), ("month", month), ("due", due),
                   ("plan_fingerprint", plan.fingerprint()), ("form_version", layout.FORM_VERSION),
                   ("task_ids", task_ids), ("indicator_ids", ",".join(inds))]:
            meta.append(list(kv))
        name = f"{month}_{unit}_法治政府建設月報.xlsx"
        wb.save(out / name)
        with ledger.tx() as conn:
            conn.execute("INSERT OR REPLACE INTO issued VALUES (?,?,?,?,?,?,?)",
                         (month, unit, name, plan.fingerprint(), task_ids, due, "2020-08-01T00:00:00+08:00"))
    ledger.close()
    return master, out
