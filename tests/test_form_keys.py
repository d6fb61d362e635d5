"""Which row of a monthly form is which target: 任務編號 shows task ids only (「1.3.1」 on the
rows of 1.3.1's further targets too); the hidden key column (layout.FORM_KEY) says "1.3.1#2".
Filled, collected, and compared with the same values on a form as issued before the key column
(任務編號 「1.3.1#2」, no key column) and on forms rebuilt by hand (no key column, 「1.3.1」 on
every row of the task)."""
from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from putuo_xl import layout
from putuo_xl.collect.judge import Context, Incoming, IssuedForm, judge
from putuo_xl.collect.run import collect, load_plan_info
from putuo_xl.ledger.store import open_ledger

from collect_kit import Form, set_mtime
from test_collect_formats import CST, MONTH, form_name
from test_collect_formats import cfg, made as _made  # noqa: F401  (fixtures)

UNIT = "區發改局"          # 1.3.1 with four targets (lead), 3.3.1 with three (co)


@pytest.fixture(scope="module")
def made(_made):
    """The master (its ledger has the issued forms) and the month's blank forms."""
    return _made[1:]


@pytest.fixture(scope="module")
def ctx(made, cfg):
    master, _ = made
    info, _ = load_plan_info(master, cfg)
    with open_ledger(master, cfg) as led:
        issued = [IssuedForm(r["unit"], r["month"], r["plan_fingerprint"], tuple(r["task_ids"].split(",")),
                             r["due"], r["created_at"] or "", r["locked"]) for r in led.issued_with_cells(MONTH)]
    return Context.build(MONTH, cfg, info, issued)


def values(f: Form) -> dict[str, dict]:
    """A value of its own for every row: the task rows' status, progress and text, every
    target's actual (10, 11, 12 … in row order)."""
    out = {}
    for n, key in enumerate(f.rows()):
        v = {}
        if "#" not in key:
            v.update(status="推進中", progress=0.5, progress_text=f"{key} 按計劃推進")
        if f.target(key):
            v["actual"] = 10 + n
        out[key] = v
    return out


def filled(forms: Path, unit: str = UNIT) -> tuple[Form, dict[str, dict]]:
    f = Form(forms / form_name(unit))
    vals = values(f)
    for key, v in vals.items():
        f.set(key, **v)
    return f, vals


def expected_actuals(vals: dict[str, dict]) -> dict[str, float]:
    """indicator id → value: a task row's actual is its first target's (1.3.1 → 1.3.1#1)."""
    return {(k if "#" in k else k + "#1"): v["actual"] for k, v in vals.items() if "actual" in v}


def old_layout(f: Form) -> Form:
    """The form as issued before the key column: the row key in 任務編號, no key column."""
    for key, r in f.rows().items():
        f.ws.cell(r, f.cols["task_id"]).value = key
    f.drop_keys()
    return f


def judged(f: Form, ctx: Context, tmp_path: Path, name: str | None = None):
    p = f.save(tmp_path / (name or f.path.name))
    return judge(Incoming(p.name, str(p), datetime(2020, 9, 2, 10, tzinfo=CST), path=str(p)), ctx)


def actuals(j) -> dict[str, float]:
    return {ind: v for _task, ind, v in j.actuals}


def codes(j) -> list[str]:
    return sorted(p.code for p in j.problems)


# -- the form as issued -----------------------------------------------------------------------
def test_the_form_shows_task_ids_and_keys_every_target(made):
    _, forms = made
    f = Form(forms / form_name(UNIT))
    keys = list(f.rows())
    assert [k for k in keys if k.startswith("1.3.1")] == ["1.3.1", "1.3.1#2", "1.3.1#3", "1.3.1#4"]
    for key, r in f.rows().items():
        shown = f.ws.cell(r, f.cols["task_id"]).value
        assert shown == key.partition("#")[0]                   # never "1.3.1#2" where it shows
    assert f.ws.column_dimensions[f.ws.cell(1, f.cols[layout.FORM_KEY]).column_letter].hidden


def test_every_target_read_from_the_keys(made, ctx, tmp_path):
    _, forms = made
    f, vals = filled(forms)
    j = judged(f, ctx, tmp_path)
    assert j.ok and codes(j) == [], [p.code for p in j.problems]
    assert actuals(j) == expected_actuals(vals)
    assert {"1.3.1#2", "1.3.1#3", "1.3.1#4", "3.3.1#2", "3.3.1#3"} <= set(actuals(j))
    assert [r.task_id for r in j.reports] == [k for k in vals if "#" not in k]


def test_a_form_issued_before_the_key_column_reads_as_before(made, ctx, tmp_path):
    _, forms = made
    f, vals = filled(forms)
    new = judged(f, ctx, tmp_path, "new.xlsx")
    old = old_layout(f)
    assert layout.FORM_KEY not in old.cols and "1.3.1#2" in old.rows()
    j = judged(old, ctx, tmp_path, "old.xlsx")
    assert j.ok and codes(j) == [], [p.code for p in j.problems]
    assert actuals(j) == actuals(new) == expected_actuals(vals)
    assert j.reports == new.reports


def test_new_and_old_forms_give_the_same_ledger_rows(made, cfg, tmp_path):
    """Collected for real: the new form on 2 September, the same values on the old layout as a
    resubmission on the 3rd; both accepted, the same actuals and reports stored for each."""
    master, forms = made
    import shutil
    for p in master.parent.iterdir():
        if p.is_file():
            shutil.copy2(p, tmp_path / p.name)
    master = tmp_path / master.name
    inbox = tmp_path / "in"
    inbox.mkdir()
    f, vals = filled(forms)
    set_mtime(f.save(inbox / form_name(UNIT)), "2020-09-02 10:00")
    set_mtime(old_layout(f).save(inbox / f"更正_{form_name(UNIT)}"), "2020-09-03 10:00")
    report = collect(master, [inbox], MONTH, config=cfg)
    assert [x.outcome for x in report.files] == ["accepted", "accepted"], \
        [e.message for x in report.files for e in x.errors]
    conn = sqlite3.connect(master.with_name(master.stem + ".ledger.sqlite"))
    subs = [r[0] for r in conn.execute("SELECT id FROM submissions ORDER BY id")]
    stored = [dict(conn.execute("SELECT indicator_id, value FROM actuals WHERE submission_id = ?", (s,)))
              for s in subs]
    rows = [conn.execute("SELECT task_id, role, status, progress, progress_text FROM reports "
                         "WHERE submission_id = ? ORDER BY task_id", (s,)).fetchall() for s in subs]
    conn.close()
    assert stored[0] == stored[1] == expected_actuals(vals)
    assert rows[0] == rows[1] and len(rows[0]) == len([k for k in vals if "#" not in k])


# -- edits to a form with keys --------------------------------------------------------------------
def test_an_edited_task_id_is_read_by_its_key_and_named(made, ctx, tmp_path):
    _, forms = made
    f, vals = filled(forms)
    r = f.rows()["1.3.1#2"]
    f.ws.protection.sheet = False
    f.ws.cell(r, f.cols["task_id"]).value = "1.3.2"
    j = judged(f, ctx, tmp_path)
    assert j.ok and actuals(j) == expected_actuals(vals)
    (warn,) = [p for p in j.problems if p.code == "locked-changed"]
    assert f"A{r}「任務編號」下發時是「1.3.1」,表中是「1.3.2」" in warn.params["examples"]


def test_a_row_without_its_key_is_read_by_its_task_id(made, ctx, tmp_path):
    """Keys cleared (on a task's row and on a further target's): 任務編號 decides for them."""
    _, forms = made
    f, vals = filled(forms)
    for key, blank in (("1.3.1", None), ("1.3.1#3", None), ("3.3.1#2", "  ")):
        f.ws.cell(f.rows()[key], f.cols[layout.FORM_KEY]).value = blank
    j = judged(f, ctx, tmp_path)
    assert j.ok and codes(j) == [], [p.code for p in j.problems]
    assert actuals(j) == expected_actuals(vals)


def test_a_missing_target_row_is_named_as_people_see_it(made, ctx, tmp_path):
    _, forms = made
    f, _ = filled(forms)
    f.ws.delete_rows(f.rows()["1.3.1#2"])
    j = judged(f, ctx, tmp_path)
    (miss,) = [p for p in j.problems if p.code == "missing-task"]
    miss.finish("traditional")
    assert "1.3.1(第 2 項指標)" in miss.message.replace("\uff08", "(").replace("\uff09", ")")
    assert "#" not in miss.message


# -- forms rebuilt by hand: no key column, 「1.3.1」 on every row of the task ----------------------
def rebuilt(forms: Path) -> tuple[Form, dict[str, dict]]:
    f, vals = filled(forms)
    f.drop_keys()
    assert layout.FORM_KEY not in f.cols
    return f, vals


def _rows_of(f: Form, task: str) -> list[int]:
    return [r for r in range(f.header_row + 1, f.ws.max_row + 1)
            if f.ws.cell(r, f.cols["task_id"]).value == task]


@pytest.mark.parametrize("names", [True, False], ids=["with-names", "names-left-out"])
def test_rebuilt_form_reads_a_tasks_repeated_rows_as_its_further_targets(made, ctx, tmp_path, names):
    """Each repeated 1.3.1 with nothing but 指標實際值 is the next target (by its name when the
    row has it, else in order)."""
    _, forms = made
    f, vals = rebuilt(forms)
    assert len(_rows_of(f, "1.3.1")) == 4
    if not names:
        for r in _rows_of(f, "1.3.1")[1:] + _rows_of(f, "3.3.1")[1:]:
            f.ws.cell(r, f.cols["indicator"]).value = None
    j = judged(f, ctx, tmp_path)
    # the emptied 量化指標 cells are locked cells changed: said, and the issued names kept
    assert j.ok and codes(j) == ([] if names else ["locked-changed"]), [p.code for p in j.problems]
    assert actuals(j) == expected_actuals(vals)


def test_rebuilt_form_with_targets_in_another_order_goes_by_their_names(made, ctx, tmp_path):
    _, forms = made
    f, vals = rebuilt(forms)
    r2, r3 = _rows_of(f, "1.3.1")[1:3]
    for key in ("task", "indicator", "target", "actual"):
        c = f.cols[key]
        a, b = f.ws.cell(r2, c).value, f.ws.cell(r3, c).value
        f.ws.cell(r2, c).value, f.ws.cell(r3, c).value = b, a
    j = judged(f, ctx, tmp_path)
    assert j.ok, [p.code for p in j.problems]
    assert actuals(j) == expected_actuals(vals)


@pytest.mark.parametrize("change", ["status", "another-indicator", "one-row-too-many"])
def test_rebuilt_form_with_a_task_row_twice_is_refused(made, ctx, tmp_path, change):
    """A repeated 1.3.1 that is not a further target's row (it has a status, its 量化指標 names
    none of the targets left, or every target is already read) is the task twice."""
    _, forms = made
    f, _ = rebuilt(forms)
    r2 = _rows_of(f, "1.3.1")[1]
    if change == "status":
        f.ws.cell(r2, f.cols["status"]).value = "推進中"
    elif change == "another-indicator":
        f.ws.cell(r2, f.cols["indicator"]).value = "本單位自己寫的指標"
    else:
        r = f.ws.max_row + 1
        f.ws.cell(r, f.cols["task_id"]).value = "1.3.1"
        f.ws.cell(r, f.cols["actual"]).value = 7
    j = judged(f, ctx, tmp_path)
    assert not j.ok
    (dup,) = [p for p in j.problems if p.code == "duplicate-task"]
    assert dup.params["task_id"] == "1.3.1"
