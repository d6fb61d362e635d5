"""The collect report, modelled on frictionless-py's validation reports: every finding is a
typed `Problem` (a code, a message template, coordinates: file, sheet, row, cell), collected
per file into a `FileResult` and per run into a `CollectReport`. One report, three renderings:
`render_table()` (the CLI summary), `to_json()`, and `receipts_rows()` (the 收件情況 sheet,
also what a ribbon script writes into an open workbook).

Templates are written in traditional characters and rendered in the notice's script.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from putuo_xl.layout import month_label
from putuo_xl.text import cjk_punct, in_script

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass(frozen=True)
class ProblemType:
    code: str
    title: str        # a short label (a column value in 收件情況)
    template: str     # str.format template over the problem's params
    hint: str = ""    # what to do
    severity: str = ERROR


_TYPES = [
    # -- the file as a whole ------------------------------------------------------------
    ProblemType("not-found", "找不到文件", "找不到這個文件或文件夾。", "請檢查路徑。"),
    ProblemType("unreadable", "無法讀取", "無法讀取文件({detail})。", "請檢查文件權限,或複製到本機後重試。"),
    ProblemType("no-attachment", "郵件沒有附件", "這封郵件沒有附件。", "請單位把月報作為附件重新發送。"),
    ProblemType("empty-file", "空文件", "文件是空的(0 字節)。", "請單位重新發送月報。"),
    ProblemType("too-large", "文件過大", "文件有 {size_mb} MB,超過上限 {limit_mb} MB。",
                "月報表通常只有幾十 KB:請確認發錯了文件,或調大 collect.max_file_mb。"),
    ProblemType("not-excel", "不是 Excel 文件", "這不是 Excel 文件(看起來是{detected})。",
                "請發回下發的 .xlsx 月報表。"),
    ProblemType("xls-unreadable", "無法讀取 .xls", "這是舊版 .xls 文件,無法讀取。",
                "請在 Excel/WPS 中另存為 .xlsx 後重新發送。"),
    ProblemType("corrupt", "文件損壞", "文件已損壞或不完整,無法打開。",
                "可能沒有下載完整:請重新保存附件,或請單位重新發送。"),
    ProblemType("zip-bomb", "解壓後過大",
                "文件{detail},不像正常保存的月報(可能是惡意構造的「壓縮炸彈」),沒有打開。",
                "月報表解壓後通常不到 1 MB:請單位在下發的原表上填寫後重新發送;確是正常文件時,"
                "可調大 config.yaml 的 collect.{key}。"),
    ProblemType("xml-entities", "含 XML 實體聲明",
                "文件內的「{part}」聲明了 XML 文檔類型或實體(<!DOCTYPE / <!ENTITY),Excel 和 WPS "
                "保存的工作簿不會有這種內容:這是特意構造的文件(XXE 或「十億笑」攻擊的寫法),沒有讀取。",
                "請單位在下發的原表上填寫後重新發送;文件來歷可疑時,請告知本單位的網絡安全負責人。"),
    ProblemType("encrypted", "設置了密碼", "文件設置了打開密碼,無法讀取。",
                "請單位取消打開密碼(文件→信息→保護工作簿→用密碼進行加密,清空密碼)後重新發送。"),
    ProblemType("no-metadata", "不是下發的月報", "找不到月報的隱藏信息(_form 工作表)。",
                "可能是把內容複製到了新工作簿,或不是本系統下發的月報:請在下發的原表上填寫後發回。"),
    ProblemType("bad-metadata", "隱藏信息不完整", "月報的隱藏信息不完整或被改動:{detail}。",
                "請在下發的原表上填寫後發回。"),
    ProblemType("no-form-sheet", "找不到填報表", "找不到填報表(帶「任務編號」表頭的工作表)。",
                "請不要刪除或改動表頭行:請在下發的原表上填寫後發回。"),
    ProblemType("ambiguous-sheet", "有多個填報表", "有多個工作表都像填報表({sheets}),不知道以哪個為準。",
                "請只保留一個填報表後重新發送。"),
    ProblemType("missing-column", "缺少列", "表頭缺少「{column}」列。", "請不要刪除或改寫表頭:請在下發的原表上填寫後發回。"),
    ProblemType("wrong-month", "月份不符", "這是 {form_month_label} 的月報,不是 {month_label} 的。",
                "如果要收 {form_month_label} 的月報,請用 --month {form_month} 收集;"
                "否則請單位填報 {month_label} 的月報。"),
    ProblemType("unit-mismatch", "單位不符", "表內信息是「{unit}」的月報,但{where}是「{other}」。",
                "可能用錯了別的單位的表:請單位在自己的月報上填寫後重新發送。"),
    ProblemType("unknown-unit", "未知單位", "表內單位「{unit}」不在單位名錄中,本月也沒有向它下發月報。",
                "請確認來源;如果是新單位,請先加入 config.yaml 並重新生成月報。"),
    ProblemType("wrong-plan", "任務版本不符",
                "這份月報是按另一版任務分解表生成的(版本 {fingerprint}),不是本月下發給「{unit}」的版本。",
                "請把本月下發的月報發給「{unit}」重新填報。"),
    ProblemType("unknown-task", "未知任務編號", "任務編號「{task_id}」不在「{unit}」本月的任務中。",
                "請刪除這一行或改正編號(可能是從別的表複製過來的)。"),
    ProblemType("missing-task", "缺少任務", "缺少任務「{task_id}」這一行(可能被刪除了)。",
                "請在下發的原表上補回這一行後重新發送。"),
    ProblemType("duplicate-task", "任務重複", "任務「{task_id}」出現了兩次(第 {row1} 行和第 {row2} 行),內容不同。",
                "請只保留一行後重新發送。"),
    ProblemType("bad-status", "狀態無法識別", "進展狀態「{value}」無法識別。",
                "請從下拉列表中選擇:{allowed}。"),
    ProblemType("bad-percent", "進度無效", "完成進度「{value}」不是有效的百分比。", "請填 0 到 100% 之間的數,如 80%。"),
    ProblemType("bad-number", "實際值無效", "指標實際值「{value}」不是數字。", "請只填數字,如 95 或 95%。"),
    ProblemType("out-of-range", "超出範圍", "{column}「{value}」超出允許範圍({range})。", "請改正後重新發送。"),
    ProblemType("blank-form", "未填寫", "表格中沒有填寫任何內容。", "請單位填寫後再發回。"),
    # -- warnings: the file is accepted, the office should know ----------------------------
    ProblemType("name-month-mismatch", "文件名月份不符",
                "文件名中的月份({name_month})與表內月份({month})不一致,已按表內信息收錄。", severity=WARNING),
    ProblemType("sender-mismatch", "發件人不符",
                "發件人 {sender} 登記的是「{other}」的郵箱,而這是「{unit}」的月報,已按表內信息收錄。", severity=WARNING),
    ProblemType("row-without-id", "無編號的行", "這一行沒有任務編號,填寫的內容沒有收錄:「{text}」。",
                "如需補充,請寫在對應任務的那一行。", severity=WARNING),
    ProblemType("ignored-input", "內容未收錄", "「{column}」的內容沒有收錄({why}):「{text}」。", severity=WARNING),
    ProblemType("inconsistent", "狀態與進度不一致", "任務「{task_id}」的狀態是「{status}」,完成進度卻是 {progress}。",
                "請核實。", severity=WARNING),
    ProblemType("empty-row", "未填報", "任務「{task_id}」沒有填寫任何內容。", severity=WARNING),
    ProblemType("duplicate-row", "重複行", "任務「{task_id}」出現了兩次(第 {row1} 行和第 {row2} 行),內容相同,只收錄一次。",
                severity=WARNING),
    ProblemType("outdated-form", "舊版月報",
                "這是 {issued} 下發的月報,{newer} 已重新下發了新版,已按這份舊版收錄;{what}。",
                severity=WARNING),
    ProblemType("locked-changed", "鎖定內容被改動",
                "{count} 處由台賬確定、鎖定的內容被改動:{examples}。已按下發的內容收錄,這些改動沒有採用。",
                "任務、角色、時限和目標由辦公室在台賬中確定;確需調整,請聯繫辦公室修改台賬後重新下發月報。",
                severity=WARNING),
    ProblemType("control-chars", "含控制字符",
                "{count} 個單元格({cells})的文字含控制字符(看不見的特殊字符),已去掉後收錄;"
                "原件按收到時的樣子保存在歸檔中。", severity=WARNING),
    ProblemType("sheet-renamed", "工作表已改名", "填報表被改名為「{sheet_name}」,已按表頭找到。", severity=INFO),
    ProblemType("normalised", "已規範化", "{count} 處填寫按規範收錄,如 {examples}。", severity=INFO),
    ProblemType("formula-text", "按文字收錄", "「{value}」以 = + - @ 開頭,按文字收錄(不作為公式)。", severity=INFO),
]
PROBLEMS: dict[str, ProblemType] = {t.code: t for t in _TYPES}


class _Params(dict):
    """Template parameters; a missing one shows as '?' instead of failing the run."""

    def __missing__(self, key):
        return "?"

    @classmethod
    def clean(cls, params: dict) -> "_Params":
        """Text typed by a unit is shown without control characters (a terminal or a sheet would
        act on them)."""
        from putuo_xl.collect.normalize import strip_controls
        return cls({k: strip_controls(v)[0] if isinstance(v, str) else v for k, v in params.items()})


@dataclass
class Problem:
    code: str
    params: dict = field(default_factory=dict)
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    cell: str | None = None
    message: str = ""            # rendered: where (file, sheet, cell) + what + what to do
    short: str = ""              # the same without the file name (tables that show the file)

    @property
    def type(self) -> ProblemType:
        return PROBLEMS[self.code]

    @property
    def severity(self) -> str:
        return self.type.severity

    def render(self, script: str = "traditional", with_file: bool = True) -> str:
        t = self.type
        params = _Params.clean(self.params)
        what = in_script(t.template, script).format_map(params)
        hint = in_script(t.hint, script).format_map(params) if t.hint else ""
        where = []
        if self.file and with_file:
            where.append(in_script("文件「", script) + self.file + "」")
        if self.sheet:
            where.append(in_script("工作表「", script) + self.sheet + "」")
        if self.cell:
            where.append(in_script("單元格 ", script) + self.cell)
        elif self.row:
            where.append(in_script(f"第 {self.row} 行", script))
        head = " ".join(where)
        msg = f"{head}\uff1a{what}" if head else what
        return cjk_punct(msg + hint)

    def finish(self, script: str) -> "Problem":
        self.message = self.render(script)
        self.short = self.render(script, with_file=False)
        return self

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "title": self.type.title,
                "message": self.message, "short": self.short, "file": self.file, "sheet": self.sheet, "row": self.row,
                "cell": self.cell, "params": self.params}


ACCEPTED, REJECTED, DUPLICATE = "accepted", "rejected", "duplicate"
OUTCOME_LABELS = {ACCEPTED: "已收錄", REJECTED: "拒收", DUPLICATE: "重複(未重複收錄)"}


@dataclass
class FileResult:
    """One file judged in this run."""
    name: str                           # file name as received
    source: str                         # path, or e-mail file + attachment
    outcome: str = REJECTED             # accepted | rejected | duplicate
    sha256: str | None = None
    size: int = 0
    sender: str | None = None
    received_at: str | None = None      # ISO
    unit: str | None = None
    unit_hint: str | None = None        # not identified: the unit the file name or sender names
    contact: str | None = None          # 填報人/電話/審核 as filled in on the form
    month: str | None = None
    due: str | None = None
    on_time: bool | None = None
    days_late: int | None = None
    plan_fingerprint: str | None = None
    form_version: str | None = None
    sheet: str | None = None
    rows: int = 0                       # task rows stored
    actuals: int = 0                    # indicator values stored
    submission_id: int | None = None    # the ledger row (for duplicates: the earlier one)
    duplicate_of: int | None = None
    previous_outcome: str | None = None  # duplicates: what the earlier copy got
    in_force: bool = False               # accepted: the submission the rollup uses for unit/month
    superseded_by: int | None = None
    supersedes: list[int] = field(default_factory=list)
    archive_path: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def infos(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == INFO]

    @property
    def reason_code(self) -> str | None:
        errs = self.errors
        return errs[0].code if errs else None

    def reason(self, limit: int = 5, short: bool = False) -> str:
        errs = self.errors
        text = ";".join((p.short if short else p.message) for p in errs[:limit])
        if len(errs) > limit:
            text += f";…另有 {len(errs) - limit} 處"
        return text

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "problems"}
        d["reason_code"] = self.reason_code
        d["problems"] = [p.to_dict() for p in self.problems]
        return d


@dataclass
class UnitState:
    """One unit's standing for the month, from the ledger after this run (all runs)."""
    unit: str
    expected: bool
    submission_id: int | None = None      # in force
    received_at: str | None = None
    on_time: bool | None = None
    file_name: str | None = None
    submissions: int = 0                  # accepted ones, superseded included
    rejected: int = 0                     # files rejected this month (named for the unit)
    rejected_reason: str | None = None    # why the latest of them was rejected
    # status.month_status: on_time | late | missing | not_due (the one rule; on_time above is
    # the unit's, not a file's: a unit on time that sent a late correction is on time)
    state: str = ""
    due: str | None = None                # YYYY-MM-DD
    on_time_by: int | None = None         # on time: the submission that was in by the due date
    # reported on a form issued before the unit's latest: the latest form's tasks it lacks
    # (status.UnitMonth.lacking; the unit is listed for 催報)
    lacking: list[str] = field(default_factory=list)


@dataclass
class LedgerRow:
    """A submission of the month as the ledger holds it (for the 收件情況 sheet)."""
    id: int
    unit: str | None
    file_name: str
    source: str | None
    sender: str | None
    received_at: str
    collected_at: str
    status: str
    reason_code: str | None
    reason: str | None
    on_time: bool | None
    superseded_by: int | None
    row_count: int
    archive_path: str | None
    notes: list[str] = field(default_factory=list)
    unit_hint: str | None = None          # unreadable file: the unit its file name or sender names
    contact: str | None = None
    days_late: int | None = None


@dataclass
class CollectReport:
    month: str
    master: str
    ledger: str
    output: str | None
    collected_at: str
    script: str = "traditional"
    files: list[FileResult] = field(default_factory=list)
    expected_units: list[str] = field(default_factory=list)
    expected_from: str = "issued"          # issued | plan | none
    due: str | None = None                 # the month's due date (YYYY-MM-DD)
    units: list[UnitState] = field(default_factory=list)
    month_rows: list[LedgerRow] = field(default_factory=list)
    master_written: bool = False
    plan_loaded: bool = False            # the master's plan had to be read back (see PlanInfo)
    plan_title: str = ""                 # the notice's title (page header of 收件情況)
    sample: bool = False                 # the month's data in force is putuo-xl demo's sample returns
    warnings: list[str] = field(default_factory=list)   # run-level notes (Chinese)
    timings: dict = field(default_factory=dict)

    # -- counts ----------------------------------------------------------------------
    def by_outcome(self, outcome: str) -> list[FileResult]:
        return [f for f in self.files if f.outcome == outcome]

    @property
    def accepted(self) -> list[FileResult]:
        return self.by_outcome(ACCEPTED)

    @property
    def rejected(self) -> list[FileResult]:
        return self.by_outcome(REJECTED)

    @property
    def duplicates(self) -> list[FileResult]:
        return self.by_outcome(DUPLICATE)

    @property
    def not_received(self) -> list[str]:
        """Expected units with no accepted form in force (missing or not yet due)."""
        return [u.unit for u in self.units if u.expected and u.submission_id is None]

    @property
    def missing(self) -> list[str]:
        """Expected units with no accepted form whose due date has passed (缺報)."""
        return [u.unit for u in self.units if u.expected and u.submission_id is None
                and u.state != "not_due"]

    @property
    def not_due(self) -> list[str]:
        """Expected units with no accepted form yet whose due date has not passed (未到期)."""
        return [u.unit for u in self.units if u.expected and u.submission_id is None
                and u.state == "not_due"]

    @property
    def outdated(self) -> list[UnitState]:
        """Units whose form in force is an older issue that lacks tasks of the latest."""
        return [u for u in self.units if u.submission_id is not None and u.lacking]

    @property
    def late(self) -> list[UnitState]:
        """Units that reported late (status rule: none of their accepted forms by the due date)."""
        return [u for u in self.units if u.submission_id is not None and u.on_time is False]

    @property
    def valid(self) -> bool:
        return not self.rejected

    def stats(self) -> dict:
        in_force = [u for u in self.units if u.submission_id is not None]
        return {"files": len(self.files), "accepted": len(self.accepted),
                "rejected": len(self.rejected), "duplicates": len(self.duplicates),
                "expected": len(self.expected_units), "reported": len(in_force),
                "missing": len(self.missing), "not_due": len(self.not_due), "late": len(self.late)}

    def t(self, s: str) -> str:
        return in_script(s, self.script)

    # -- rendering 1: JSON -------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"month": self.month, "due": self.due, "master": self.master, "ledger": self.ledger,
                "output": self.output, "collected_at": self.collected_at,
                "master_written": self.master_written, "stats": self.stats(),
                "files": [f.to_dict() for f in self.files],
                "expected_from": self.expected_from,
                "missing": self.missing, "not_due": self.not_due,
                "outdated": {u.unit: u.lacking for u in self.outdated},
                "units": [asdict(u) for u in self.units],
                "month_submissions": [asdict(r) for r in self.month_rows],
                "warnings": self.warnings, "timings": self.timings}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, default=str)

    # -- rendering 2: the CLI summary -------------------------------------------------------
    def summary_line(self) -> str:
        s = self.stats()
        return self.t(f"{month_label(self.month)}:本次 {s['files']} 個文件,收錄 {s['accepted']},"
                      f"拒收 {s['rejected']},重複 {s['duplicates']};{self.units_line()}")

    def units_line(self) -> str:
        """應報 N 個單位,已報 …,缺報 …(,未到期 …),逾期 …。 — the CLI summary and 收件情況."""
        s = self.stats()
        return (f"應報 {s['expected']} 個單位,已報 {s['reported']},缺報 {s['missing']},"
                + (f"未到期 {s['not_due']}," if s["not_due"] else "") + f"逾期 {s['late']}。")

    TABLE_MAX_ROWS = 100      # the CLI table's rows for a large batch (the rest are counted)

    def render_table(self, console=None, full: bool | None = None) -> None:
        """Print the run's summary with rich (user text is escaped, never read as markup).
        A large batch lists only the files that need attention unless `full`."""
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        console = console or Console()
        t = self.t
        console.print(escape(self.summary_line()))
        if full is None:
            full = len(self.files) <= 100
        shown = [f for f in self.files
                 if full or f.outcome != ACCEPTED or f.warnings or not f.in_force or f.on_time is False]
        listed = len(shown)
        if not full and len(shown) > self.TABLE_MAX_ROWS:
            # a province's batch: the files to act on first (refused, then with warnings or
            # corrected, then late), in file order within each; the rest are counted
            def urgency(f):
                return 0 if f.outcome != ACCEPTED else 1 if (f.warnings or not f.in_force) else 2
            order = sorted(range(len(shown)), key=lambda i: (urgency(shown[i]), i))
            rest = [0, 0, 0]
            for i in order[self.TABLE_MAX_ROWS:]:
                rest[urgency(shown[i])] += 1
            shown = [shown[i] for i in sorted(order[:self.TABLE_MAX_ROWS])]
        if shown:
            table = Table(show_lines=False)
            for col in ("文件", "單位", "收到時間", "結果", "按時", "說明"):
                table.add_column(t(col), overflow="fold")
            for f in shown:
                unit = f.unit or (f"{f.unit_hint}?" if f.unit_hint else "?")
                table.add_row(escape(f.name), escape(unit), _time_text(f.received_at),
                              t(self._outcome_label(f)), t(_on_time_label(f.on_time, f.days_late)),
                              escape(self._file_note(f)))
            console.print(table)
        if len(shown) < listed:
            kinds = "、".join(f"{label} {n}" for label, n in zip(("拒收或重複", "有提示或已更正", "逾期收錄"), rest) if n)
            console.print(escape(t(f"另有 {listed - len(shown)} 個需要注意的文件未在上表列出({kinds}),"
                                   f"見收件情況表或 --json。")))
        if listed < len(self.files):
            console.print(escape(t(f"另有 {len(self.files) - listed} 個文件按時收錄、沒有提示,未逐一列出"
                                   f"(見收件情況表或 --json)。")))
        if self.missing:
            states = {u.unit: u for u in self.units}
            names = [m + (t("(文件被拒收)") if states.get(m) and states[m].rejected else "") for m in self.missing]
            console.print(escape(t(f"缺報單位({len(names)}):") + "、".join(names)))
        if self.outdated:
            console.print(escape(t(f"按舊版月報報送、還要補報新增任務的單位({len(self.outdated)},催報時會提醒):")
                                 + "、".join(f"{u.unit}" + t(f"(缺 {'、'.join(u.lacking)})")
                                            for u in self.outdated)))
        if self.not_due:
            console.print(escape(t(f"未到報送截止日期、尚未收到的單位({len(self.not_due)}):")
                                 + "、".join(self.not_due)))
        for w in self.warnings:
            console.print(escape(t("提示:") + w))

    def _outcome_label(self, f: FileResult) -> str:
        if f.outcome == ACCEPTED:
            return "已收錄" if f.in_force else f"已收錄(已被 #{f.superseded_by} 取代)"
        if f.outcome == DUPLICATE:
            return f"重複,同 #{f.duplicate_of}"
        return "拒收"

    def _file_note(self, f: FileResult) -> str:
        if f.outcome == REJECTED:
            return f.reason(3, short=True)
        parts = []
        if f.outcome == DUPLICATE:
            parts.append(self.t("這個文件以前已收過(#{}),{}").format(
                f.duplicate_of, self.t("當時拒收") if f.previous_outcome == REJECTED else self.t("沒有重複收錄")))
        if f.supersedes:
            parts.append(self.t("更正了 ") + "、".join(f"#{i}" for i in f.supersedes))
        for p in f.warnings[:3]:
            parts.append(p.short)
        if f.outcome == ACCEPTED:
            parts.extend(p.short for p in f.infos if p.code == "normalised")
        return ";".join(parts)

    # -- rendering 3: the 收件情況 sheet -----------------------------------------------------
    RECEIPT_COLUMNS = ["單位", "情況", "收到時間", "按時", "填報人", "文件", "來源", "編號", "結果", "原因或說明"]

    def receipts_rows(self) -> list[list]:
        """The 收件情況 table: one row per submission of the month (all runs), then one row per
        unit that has not reported. Every value is text or a number; text is never a formula."""
        return [row for _, row in self.receipts_table()]

    def receipts_table(self) -> list[tuple[str, list]]:
        """(kind, row) pairs; kind is ok | late | old | bad | wait and picks the row's colour."""
        t = self.t
        out: list[tuple[str, list]] = []
        order = {u.unit: i for i, u in enumerate(self.units)}
        by_id = {r.id: r for r in self.month_rows}
        states = {u.unit: u for u in self.units}

        def key(r):
            u = r.unit or r.unit_hint or ""
            return (order.get(u, 10**6), u, r.received_at, r.id)

        for r in sorted(self.month_rows, key=key):
            if r.status == ACCEPTED:
                current = r.superseded_by is None
                state = "已收" if current else "已被更正"
                result = "採用" if current else f"被 #{r.superseded_by} 取代"
                note = ";".join(r.notes)
                st = states.get(r.unit)
                if current and r.on_time is False and st is not None and st.on_time_by:
                    note = (t(f"更正版;本單位 #{st.on_time_by} 已按時報送,按時報送計,內容以本件為準")
                            + (";" + note if note else ""))
                if current and st is not None and st.lacking and "重新下發" not in note:
                    note = (t(f"按之前下發的月報報送,新版增加的任務 {'、'.join(st.lacking)} 還沒有報送,請催報")
                            + (";" + note if note else ""))
                if not current and r.superseded_by in by_id:
                    newer = by_id[r.superseded_by]
                    note = (t(f"以 {_time_text(newer.received_at)} 收到的 #{newer.id} 為準")
                            + (";" + note if note else ""))
                kind = "old" if not current else ("late" if r.on_time is False else "ok")
            else:
                state = result = "拒收"
                note = ";".join(r.notes[:5]) or r.reason or ""
                if len(r.notes) > 5:
                    note += t(f";…另有 {len(r.notes) - 5} 處")
                kind = "bad"
            unit = r.unit or (r.unit_hint + t("(據文件名)") if r.unit_hint else t("(未識別)"))
            out.append((kind, [unit, t(state), _time_text(r.received_at),
                               t(_on_time_label(r.on_time, r.days_late) if r.status == ACCEPTED else ""),
                               r.contact or "", r.file_name, r.sender or self._short_source(r.source),
                               r.id, t(result), note]))
        for unit in self.not_received:
            st = states.get(unit)
            overdue = st is None or st.state != "not_due"
            due = (st.due if st is not None else None) or self.due
            if st is not None and st.rejected:
                note = t(f"收到的 {st.rejected} 個文件都被拒收(見上),請催報並說明原因")
            elif overdue:
                note = t(f"截止 {due} 仍未收到月報,請催報")
            else:
                note = t(f"尚未收到,未到報送截止日期(截止 {due})")
            out.append(("bad" if overdue or (st and st.rejected) else "wait",
                        [unit, t("缺報" if overdue else "未報"), "", "", "", "", "", "", "", note]))
        return out

    def _short_source(self, source: str | None) -> str:
        """A path under the master's folder is shown relative to it (收件箱/…)."""
        if not source:
            return ""
        from pathlib import Path
        base = self.__dict__.get("_master_folder")
        if base is None:
            base = self.__dict__["_master_folder"] = Path(self.master).parent
        try:
            return str(Path(source).relative_to(base))
        except ValueError:
            return source

    @property
    def overdue(self) -> bool:
        """The month's due date has passed (at the time of this run)."""
        if not self.due:
            return True
        return self.collected_at[:10] > self.due

    def receipts_title(self) -> str:
        return self.t(f"{month_label(self.month)} 月報收件情況" + ("(示例數據)" if self.sample else ""))

    def receipts_header(self) -> str:
        """The printed page header: the notice's title and the sheet's."""
        title = self.receipts_title()
        return f"{self.plan_title}·{title}" if self.plan_title else title


def _on_time_label(on_time: bool | None, days_late: int | None = None) -> str:
    if on_time is None:
        return ""
    if on_time:
        return "按時"
    return f"逾期 {days_late} 天" if days_late else "逾期"


def _time_text(iso: str | None) -> str:
    if not iso:
        return ""
    return iso[:16].replace("T", " ")
