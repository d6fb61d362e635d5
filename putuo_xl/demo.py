"""`putuo-xl demo`: the whole monthly cycle on the bundled 2020 普陀區 notice, in one command.

    build the master → write every unit's form → fill them with SAMPLE returns (示例數據) →
    collect → roll up  — for two consecutive months, so the 趨勢 sheet has a curve.

The sample returns are clearly marked: file names start with 示例數據_, every text a unit
"wrote" starts with 【示例數據】, the workbook properties say so, and the rollup, seeing marked
files in the ledger, titles its sheets and the 通報 as 示例數據. Some units report late (the
file's time is after the due day), some do not report, and one sends a form with a status
nobody can read, which collect rejects. Everything comes from a fixed seed: the same command
gives the same figures.

`fill_form` (fill a generated form as a unit would, with openpyxl) is also what the tests use.
"""
from __future__ import annotations

import os
import random
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from putuo_xl import layout
from putuo_xl.config import Config, load_config
from putuo_xl.errors import InputError
from putuo_xl.text import in_script, norm_name

SAMPLE_MARK = "示例數據"
MARKER_FILE = ".putuo-xl-demo"
DEFAULT_DIR = "putuo-xl-示例"
DEFAULT_MONTHS = ("2020-08", "2020-09")

PROGRESS_TEXTS = [
    "已制定工作方案,明確責任科室和時間節點,按計劃推進。",
    "已召開專題會議部署,相關制度正在起草。",
    "已完成前期調研,正在徵求相關單位意見。",
    "工作已全面鋪開,階段性任務已完成。",
    "已建立工作台賬,每月跟蹤督辦。",
    "已完成年度任務,形成總結材料。",
]
# What a unit writes matches what it reports (the README's pictures come from these returns):
# by status and, for 推進中, by how far it says it has come.
TEXTS_NOT_STARTED = ["已列入本單位年度工作計劃,正在研究制定實施方案,尚未正式啟動。",
                     "待相關配套文件出台後啟動,已明確責任科室。"]
TEXTS_EARLY = PROGRESS_TEXTS[:3]                  # 推進中, up to 40%
TEXTS_MIDWAY = [PROGRESS_TEXTS[4], "主要工作已啟動,正在按時間節點推進。"]    # 50–70%
TEXTS_ADVANCED = [PROGRESS_TEXTS[3], "主體工作基本完成,正在查漏補缺。"]       # 80% and more
TEXTS_LAGGING = ["受人員和經費等因素影響,進度慢於計劃。", "部分事項需其他部門配合,尚未落實,進度滯後。"]
TEXT_DONE = PROGRESS_TEXTS[5]


def progress_text(status_kind: str, progress: float, pick: int) -> str:
    """A sample 工作進展 that says what the status and the progress say (`pick`: which of the
    fitting texts). `status_kind`: done | lagging | not_started | in_progress."""
    if status_kind == "done":
        return TEXT_DONE
    if status_kind == "lagging":
        texts = TEXTS_LAGGING
    elif status_kind == "not_started" or not progress:
        texts = TEXTS_NOT_STARTED
    elif progress <= 0.4:
        texts = TEXTS_EARLY
    elif progress < 0.8:
        texts = TEXTS_MIDWAY
    else:
        texts = TEXTS_ADVANCED
    return texts[pick % len(texts)]
PROBLEM_TEXTS = ["人員力量不足,進度偏慢。", "需要其他部門配合的事項尚未落實。", "經費尚未到位。"]
NEXT_TEXTS = ["下月完成制度起草並報審。", "加強與牽頭單位的溝通銜接。", "按時間節點推進,確保年底前完成。"]


# -- filling a form as a unit would ---------------------------------------------------------------
@dataclass
class FormRow:
    row: int                 # 1-based worksheet row
    task_id: str             # the row's key: "1.3.1", or "1.3.1#2" (a further target of the task)
    role: str
    indicator: str           # the indicator text shown on the row ("" if none)


@dataclass
class FormInfo:
    unit: str
    month: str
    due: str
    sheet: str
    header_row: int
    columns: dict[str, int]  # form column key → 1-based column
    rows: list[FormRow]


def read_form(path: str | Path) -> FormInfo:
    """Where to write in a generated form: its metadata, header columns and task rows."""
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(str(path))
    try:
        meta = {str(r[0]): ("" if r[1] in (None, "") else str(r[1]))
                for r in wb.get_sheet_by_name(layout.FORM_META_SHEET).to_python() if len(r) > 1 and r[0]}
        rows = [[None if v == "" else v for v in r]
                for r in wb.get_sheet_by_name(layout.FORM_SHEET).to_python(skip_empty_area=False)]
    finally:
        wb.close()
    wanted = {norm_name(h): key for key, h in layout.FORM_COLUMNS}
    for hi, row in enumerate(rows[:15]):
        cols = {wanted[norm_name(str(v))]: ci + 1 for ci, v in enumerate(row)
                if v is not None and norm_name(str(v)) in wanted}
        if "task_id" in cols and "status" in cols:
            break
    else:
        raise InputError("找不到月報的表頭行(任務編號)。", file=str(path), sheet=layout.FORM_SHEET)
    out = []
    c_id = cols.get(layout.FORM_KEY, cols["task_id"])     # the hidden key (1.3.1#2) if the form has it
    for ri in range(hi + 1, len(rows)):
        row = rows[ri]
        tid = row[c_id - 1] if len(row) >= c_id else None
        if tid is None or not str(tid).strip():
            continue
        ind = row[cols["indicator"] - 1] if "indicator" in cols and len(row) >= cols["indicator"] else ""
        role = row[cols["role"] - 1] if "role" in cols and len(row) >= cols["role"] else ""
        out.append(FormRow(ri + 1, str(tid).strip(), str(role or ""), str(ind or "")))
    return FormInfo(meta.get("unit", ""), meta.get("month", ""), meta.get("due", ""),
                    layout.FORM_SHEET, hi + 1, cols, out)


def fill_form(path: str | Path, out_path: str | Path, values: dict[str, dict],
              received: datetime | None = None, sample: bool = True,
              info: FormInfo | None = None) -> Path:
    """Fill the form at `path` with `values` ({task id or "1.3.1#2": {status, progress, actual,
    progress_text, problems, next_steps}}) and save it as `out_path`, the way a unit does in
    Excel; `received` sets the file's time (collect takes it as the arrival time). With
    `sample`, texts and the workbook's properties are marked 示例數據."""
    from openpyxl import load_workbook

    info = info or read_form(path)
    wb = load_workbook(path)
    ws = wb[info.sheet]
    script_mark = SAMPLE_MARK if "報" in (ws.cell(1, 1).value or "報") else in_script(SAMPLE_MARK, "simplified")
    for fr in info.rows:
        v = values.get(fr.task_id)
        if not v:
            continue
        for key in layout.FORM_INPUT_KEYS:
            if key not in v or v[key] is None or key not in info.columns:
                continue
            value = v[key]
            if sample and key in ("progress_text", "problems", "next_steps") and value:
                value = f"【{script_mark}】{value}"
            ws.cell(fr.row, info.columns[key], value)
    if sample:
        title = ws.cell(1, 1).value
        if isinstance(title, str) and script_mark not in title:
            ws.cell(1, 1, f"{title}\uff08{script_mark}\uff09")
        wb.properties.title = f"{script_mark}:{info.unit} {info.month}"
        wb.properties.subject = script_mark
        wb.properties.description = f"{script_mark}:putuo-xl demo 生成的示例回報,不是真實填報。"
        wb.properties.keywords = script_mark
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    if received is not None:
        ts = received.timestamp()
        os.utime(out, (ts, ts))
    return out


# -- the sample scenario -----------------------------------------------------------------------------
@dataclass
class MonthPlan:
    month: str
    missing: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


class SampleUnits:
    """Deterministic sample returns: each unit has a profile (strong / normal / weak) and its
    tasks move forward month by month (未啟動 → 推進中 → 已完成, some 滯後)."""

    def __init__(self, units: list[str], cfg: Config, seed: int):
        self.rng = random.Random(seed)
        self.cfg = cfg
        names = {s.name for s in cfg.statuses}
        self.s_done = next((s.name for s in cfg.statuses if s.done), "已完成")
        self.s_lag = next((s.name for s in cfg.statuses if s.lagging), "滯後")
        self.s_new = next((s.name for s in cfg.statuses if not s.started), "未啟動")
        self.s_doing = next((s.name for s in cfg.statuses
                             if s.started and not s.done and not s.lagging), "推進中")
        assert {self.s_done, self.s_lag, self.s_new, self.s_doing} <= names or not names
        order = list(units)
        self.rng.shuffle(order)
        n = len(order)
        self.profile = {u: ("strong" if i < n // 4 else "weak" if i >= n - max(3, n // 8) else "normal")
                        for i, u in enumerate(order)}
        self.state: dict[tuple[str, str], tuple[str, float]] = {}

    def plan_months(self, months: list[str], units: list[str]) -> list[MonthPlan]:
        rng = random.Random(self.rng.random())
        plans = []
        weak = [u for u in units if self.profile[u] == "weak"]
        normal = [u for u in units if self.profile[u] == "normal"]
        for i, m in enumerate(months):
            pool = sorted(weak) + sorted(normal)
            rng.shuffle(pool)
            miss = sorted(pool[:3 if i == 0 else 2])
            late = sorted(pool[3:7] if i == 0 else pool[2:5])
            rejected = [pool[7]] if i == 0 and len(pool) > 7 else []
            plans.append(MonthPlan(m, missing=miss, late=late, rejected=rejected))
        return plans

    def values(self, unit: str, info: FormInfo, month_index: int, targets: dict) -> dict[str, dict]:
        rng = self.rng
        prof = self.profile[unit]
        p_lag = {"strong": 0.0, "normal": 0.004, "weak": 0.05}[prof]
        p_step = {"strong": 0.45, "normal": 0.3, "weak": 0.15}[prof]
        out: dict[str, dict] = {}
        roles = {fr.task_id: fr.role for fr in info.rows if "#" not in fr.task_id}
        for fr in info.rows:
            base, _, k = fr.task_id.partition("#")
            co = roles.get(base, "") == "配合"         # co-operating units leave targets to the lead
            if k:                                      # a further target of the task
                if not co:
                    out[fr.task_id] = {"actual": self._actual(targets.get(fr.task_id), prof, month_index)}
                continue
            st, prog = self.state.get((unit, base), (None, 0.0))
            if st is None:
                st = rng.choices([self.s_new, self.s_doing, self.s_done],
                                 [0.25, 0.65, 0.10 + (0.1 if prof == "strong" else 0)])[0]
                prog = {self.s_new: 0.0, self.s_doing: rng.choice([0.2, 0.3, 0.4, 0.5]),
                        self.s_done: 1.0}[st]
            elif st != self.s_done:
                if rng.random() < p_step:
                    st, prog = self.s_done, 1.0
                else:
                    st = self.s_doing
                    prog = min(0.9, round(prog + rng.choice([0.1, 0.2, 0.3]), 1))
            if st != self.s_done and rng.random() < p_lag:
                st = self.s_lag
            self.state[(unit, base)] = (self.s_doing if st == self.s_lag else st, prog)
            # the same draw from the seed as ever (the figures stay), a text that fits the status
            pick = rng.choice(range(1) if st == self.s_done else range(len(PROGRESS_TEXTS) - 1))
            kind = ("done" if st == self.s_done else "lagging" if st == self.s_lag
                    else "not_started" if st == self.s_new else "in_progress")
            v = {"status": st, "progress": prog, "progress_text": progress_text(kind, prog, pick)}
            if st == self.s_lag:
                v["problems"] = rng.choice(PROBLEM_TEXTS)
                v["next_steps"] = rng.choice(NEXT_TEXTS)
            if fr.indicator and not co and targets.get(base + "#1"):
                v["actual"] = self._actual(targets[base + "#1"], prof, month_index)
            out[base] = v
        return out

    def _actual(self, ind, prof: str, month_index: int):
        if ind is None:
            return None
        rng = self.rng
        good = rng.random() < {"strong": 0.8, "normal": 0.7, "weak": 0.5}[prof] + 0.05 * month_index
        if ind.op == "<=":
            v = ind.value * (rng.uniform(0.7, 0.98) if good else rng.uniform(1.05, 1.3))
        else:
            v = ind.value * (rng.uniform(1.0, 1.08) if good else rng.uniform(0.8, 0.97))
        if ind.unit == "%":
            v = min(v, 100.0)
            return round(v, 1)
        return float(round(v))


@dataclass
class DemoResult:
    out_dir: Path
    master: Path
    months: list[str]
    forms: dict[str, Path] = field(default_factory=dict)       # month → folder of issued forms
    returns: dict[str, Path] = field(default_factory=dict)     # month → folder of sample returns
    plans: list[MonthPlan] = field(default_factory=list)
    collect_summaries: list[str] = field(default_factory=list)
    rollup_summary: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [f"示例已生成:{self.out_dir}", f"  任務分解台賬:{self.master.name}(已刷新匯總,打開即可看到各工作報表)"]
        for mp in self.plans:
            lines.append(f"  {layout.month_label(mp.month)}:未報 {len(mp.missing)} 個單位、"
                         f"逾期 {len(mp.late)} 個、退回 {len(mp.rejected)} 份;回報在 {self.returns[mp.month].name}/")
        lines.append(f"  {self.rollup_summary}")
        lines.append(f"  用時 {self.seconds:.1f} 秒。所有回報均為{SAMPLE_MARK},不是真實填報。")
        return "\n".join(lines)


def year_months(count: int, year: int = 2020) -> list[str]:
    """The last `count` months of `year` (12: the whole year, January to December)."""
    if not 1 <= count <= 12:
        raise InputError(f"示例的月數應在 1 到 12 之間,現在是 {count}。", code="demo-months")
    return [f"{year:04d}-{m:02d}" for m in range(13 - count, 13)]


def run_demo(out_dir: str | Path | None = None, months=DEFAULT_MONTHS, config=None,
             seed: int = 2020) -> DemoResult:
    """Build, issue, fill (sample data), collect and roll up `months` into `out_dir`
    (`months`: a list of months, or a number of months: the last that many of the year)."""
    from putuo_xl.collect.run import collect
    from putuo_xl.workbook.forms import write_forms
    from putuo_xl.workbook.master import build_master
    from putuo_xl.rollup.rules import check_month
    from putuo_xl.rollup.run import rollup

    t0 = time.perf_counter()
    cfg = config if isinstance(config, Config) else load_config(config)
    if isinstance(months, int):
        months = year_months(months)
    months = [check_month(m) for m in months]
    out = Path(out_dir or DEFAULT_DIR)
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER_FILE).exists():
            raise InputError("目錄不是空的,示例不會寫進去(以免覆蓋您的文件)。請用 -o 指定一個新目錄。",
                             file=str(out), code="demo-dir")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER_FILE).write_text("putuo-xl demo: this folder is rewritten by `putuo-xl demo`\n",
                                   encoding="utf-8")
    built = build_master(None, out / "任務分解台賬.xlsx", cfg)
    plan = built.plan
    res = DemoResult(out_dir=out, master=built.path, months=months)
    targets = {ind.id: ind for _t, ind in plan.indicators()}
    sample = None
    for i, month in enumerate(months):
        fr = write_forms(built.path, month, None, cfg)
        res.forms[month] = fr.out_dir
        units = list(fr.units)
        if sample is None:
            sample = SampleUnits(units, cfg, seed)
            res.plans = sample.plan_months(months, units)
        mp = res.plans[i]
        ret_dir = out / f"{month}_{in_script('回收', plan.script)}({in_script(SAMPLE_MARK, plan.script)})"
        due = datetime.fromisoformat(fr.due).replace(hour=17)
        for j, unit in enumerate(units):
            form = fr.units[unit]
            info = read_form(form)
            values = sample.values(unit, info, i, targets)
            if unit in mp.missing:
                continue
            if unit in mp.rejected:
                first = next(k for k, v in values.items() if "status" in v)
                values[first]["status"] = "差不多"     # nobody can read that: collect rejects it
            received = due - timedelta(days=1 + j % 4, hours=j % 7)
            if unit in mp.late:
                received = due + timedelta(days=2 + j % 5)
            fill_form(form, ret_dir / f"{in_script(SAMPLE_MARK, plan.script)}_{form.name}", values,
                      received=received.astimezone(), info=info)
        res.returns[month] = ret_dir
        report = collect(built.path, [ret_dir], month, cfg)
        res.collect_summaries.append(report.summary_line())
    r = rollup(built.path, months[-1], cfg)
    res.rollup_summary = r.summary()
    res.seconds = time.perf_counter() - t0
    return res
