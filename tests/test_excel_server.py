"""A real xlwings Server (uvicorn, the repository's server/ project) on 127.0.0.1: the ribbon
scripts and the worksheet functions over HTTP, as the Office.js add-in calls them."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree as ET

import httpx
import pytest

from putuo_xl.excel.actions import ACTIONS
from putuo_xl.excel.payload import book_payload

ROOT = Path(__file__).resolve().parents[1]
OFFICE_NS = {"o": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
             "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ALL_ROLES = ("build", "collect", "refresh", "mail")


@contextmanager
def running_server(data: Path, env: dict | None = None, project_dir: Path | None = None,
                   *, auth: bool = True, roles=ALL_ROLES, extra_args: tuple = ()):
    """`putuo-xl serve`, as an administrator starts it (uvicorn in that process, no reloader),
    on a free port with `data` as its data folder; yields an httpx client (`.data_dir` set).
    With `auth` (the default, as in an office) a user 測試官員 with `roles` is added first and
    the client signs in with their access code (`.code`), as the add-in does."""
    from putuo_xl.excel.users import UserStore

    port = _free_port()
    full_env = dict(os.environ, PUTUO_XL_LOG_LEVEL="warning", **(env or {}))
    full_env.pop("PUTUO_XL_AUTH", None)
    headers = {}
    code = None
    if auth:
        store = UserStore(data)
        code = store.add(f"測試官員{port}", list(roles)) if roles is not None else None
        if code:
            headers = {"Authorization": f"Bearer {code}", "X-Putuo-Client": "tests"}
    else:
        extra_args = ("--no-auth", *extra_args)
    log_path = data.parent / f"uvicorn-{port}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "putuo_xl.cli", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--data-dir", str(data),
                             "--project-dir", str(project_dir or ROOT / "putuo_xl" / "data" / "server"), *extra_args],
                            env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=str(data))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(log_path.read_text(errors="replace"))
            time.sleep(0.1)
        else:
            raise RuntimeError("xlwings Server did not start")
        with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
            client.data_dir = data
            client.log_path = log_path
            client.code = code
            client.proc = proc
            yield client
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("server-data")) as client:
        yield client


def test_health_and_scripts_meta(server):
    assert server.get("/").json() == {"status": "ok"}
    meta = server.get("/xlwings/custom-scripts-meta.json").json()
    assert sorted(m["function_name"] for m in meta) == sorted(ACTIONS)


def test_manifest_buttons_match_ribbon_js_and_scripts(server):
    text = server.get("/manifest").text
    root = ET.fromstring(text.encode("utf-8"))
    tab = root.find(".//o:CustomTab", OFFICE_NS)
    assert tab is not None and tab.get("id") == "PutuoTab"
    functions = [e.text for e in root.iter("{%s}FunctionName" % OFFICE_NS["o"])]
    assert sorted(functions) == sorted(a.function_name for a in ACTIONS.values())
    strings = {s.get("id"): s.get("DefaultValue") for s in root.iter("{%s}String" % OFFICE_NS["bt"])}
    assert strings["PutuoTab.TabLabel"] == "法治政府"
    for ctrl in tab.iter("{%s}Control" % OFFICE_NS["o"]):
        label = ctrl.find("o:Label", OFFICE_NS).get("resid")
        assert label in strings, label
    labels = {strings[c.find("o:Label", OFFICE_NS).get("resid")] for c in tab.iter("{%s}Control" % OFFICE_NS["o"])}
    assert {a.label for a in ACTIONS.values()} <= labels
    # the ribbon.js the task pane loads (the project's file overrides the package's)
    js = server.get("/static/js/ribbon.js").text
    import re
    calls = re.findall(r'^bindScript\((.*)\);', js, re.M)
    assert len(calls) == len(ACTIONS)
    bound = {}
    meta = {m["function_name"]: m for m in server.get("/xlwings/custom-scripts-meta.json").json()}
    for call in calls:
        fn, script, sheets = json.loads(f"[{call}]")
        bound[fn] = script
        # a ribbon button sends the same sheets as the task-pane button of the same script
        assert sheets == {"include": meta[script].get("include") or "",
                          "exclude": meta[script].get("exclude") or ""}, script
    assert set(bound) == set(functions)
    assert set(bound.values()) <= set(meta)
    assert "月度匯總" in meta["refresh_rollup"]["exclude"].split(",")
    assert meta["diagnose"]["include"]
    # the custom functions are registered under the PUTUO namespace
    ns = strings.get("Functions.Namespace")
    assert ns == "PUTUO"


def test_diagnose_script(server):
    body = book_payload({"Sheet1": [["x"]]}, name="新工作簿.xlsx")
    r = server.post("/xlwings/custom-scripts-call/diagnose", json=body)
    assert r.status_code == 200, r.text
    acts = r.json()["actions"]
    assert [a["args"][1] for a in acts if a["func"] == "addSheet"] == ["診斷", "操作記錄"]
    diag = next(a for a in acts if a["func"] == "setValues" and a["sheet_position"] == 1)["values"]
    assert dict(map(tuple, diag))["運行方式"] == "服務器 (xlwings Server)"
    assert dict(map(tuple, diag))["登錄用戶"].startswith("測試官員")
    # no path of the server's disk reaches an official
    assert str(server.data_dir) not in r.text and str(server.data_dir.resolve()) not in r.text


def test_action_on_a_book_that_is_not_a_master_is_a_clear_400(server):
    body = book_payload({"Sheet1": [["x"]]}, name="新工作簿.xlsx")
    for script in ("make_forms", "collect_returns", "refresh_rollup", "unit_view", "send_reminders"):
        r = server.post(f"/xlwings/custom-scripts-call/{script}", json=body)
        assert r.status_code == 400, (script, r.status_code, r.text)
        assert "不是 putuo-xl 的任務分解台賬" in r.text or "報告月份" in r.text, r.text


def test_unknown_script_is_not_a_traceback(server):
    # an unhandled error makes the server drop the connection after its 500: own connection
    r = httpx.post(str(server.base_url).rstrip("/") + "/xlwings/custom-scripts-call/nope", json=book_payload({"S": [["x"]]}),
                   timeout=30, headers=server.headers)
    assert r.status_code == 500 and "Traceback" not in r.text
    assert "服務器出錯了(編號" in r.json()["detail"]


def test_custom_functions_meta_and_error(server):
    meta = server.get("/xlwings/custom-functions-meta.json").json()
    names = {f["name"] for f in meta["functions"]}
    assert names == {"UNIT_TASKS", "UNIT_RATE", "TASK_STATUS", "INDICATOR_ACTUAL", "INDICATOR_MET"}
    for f in meta["functions"]:
        assert all(p["name"] != "caller" for p in f["parameters"])
        assert f["description"] and any("\u4e00" <= ch <= "\u9fff" for ch in f["description"])
    body = {"client": "Office.js", "func_name": "unit_tasks", "args": [[["區司法局"]], [[None]]],
            "caller_address": "[沒有數據.xlsx]Sheet1!E1", "version": "0.37.8",
            "culture_info_name": "zh-CN", "date_format": "yyyy/m/d", "runtime": "1.4"}
    r = server.post("/xlwings/custom-functions-call", json=body)
    assert r.status_code == 400 and "不是服務器上的台賬" in r.text, r.text


def _apply_meta(body, key):
    """The book as Excel holds it after 生成台賬's actions: the master's sheets with the
    project key in _meta (the tests rebuild it from the server's copy of the master)."""
    from putuo_xl import layout
    from putuo_xl.excel.context import PROJECT_META_KEY
    from putuo_xl.excel.payload import sheet_payload
    meta = next(s for s in body["sheets"] if s["name"] == layout.META_SHEET)
    rows = meta["values"] + [[PROJECT_META_KEY, key]]
    body["sheets"][body["sheets"].index(meta)] = sheet_payload(layout.META_SHEET, rows, "Hidden")
    return body


class ServerMaster:
    """A master built on the server by 生成台賬 in a blank book, then opened in Excel under
    `name`: `body(script, month, **settings)` is what the client sends for a script (only the
    sheets the script's metadata asks for, 設置 appended); `run` posts it."""

    def __init__(self, client, name: str = "普陀台賬.xlsx"):
        from putuo_xl import layout
        from putuo_xl.excel.context import PROJECT_META_KEY, SERVER_MASTER_NAME

        self.client, self.name = client, name
        before = {p.name for p in client.data_dir.iterdir()} if client.data_dir.exists() else set()
        r = client.post("/xlwings/custom-scripts-call/build_master",
                        json=book_payload({"工作表1": []}, name="活頁簿1"))
        assert r.status_code == 200, r.text
        acts = r.json()["actions"]
        # the new project's folder; its key is in the master the add-in inserts (_meta)
        [self.key] = [p.name for p in client.data_dir.iterdir()
                      if p.name not in before and (p / "project.json").is_file()]
        assert any(a["func"] == "runMacro" and a["args"][0] == "putuoPutSheets" for a in acts)
        self.folder = client.data_dir / self.key
        self.master = self.folder / SERVER_MASTER_NAME
        assert self.master.is_file()
        self.build_actions = acts
        self.meta = {m["function_name"]: m for m in client.get("/xlwings/custom-scripts-meta.json").json()}

    def body(self, script: str, month: str = "2020-08", **settings) -> dict:
        from putuo_xl.excel.payload import payload_from_xlsx, sheet_payload

        from test_excel_flow import settings_rows
        m = self.meta[script]
        inc = m.get("include") and m["include"].split(",")
        exc = m.get("exclude") and m["exclude"].split(",")
        body = _apply_meta(payload_from_xlsx(self.master, name=self.name, include=inc or None,
                                             exclude=exc or None), self.key)
        body["sheets"].append(sheet_payload("設置", settings_rows(month=month, **settings)))
        return body

    def run(self, script: str, month: str = "2020-08", expect: int = 200, **settings) -> dict:
        body = self.body(script, month, **settings)
        r = self.client.post(f"/xlwings/custom-scripts-call/{script}", json=body)
        assert r.status_code == expect, (script, r.status_code, r.text)
        return {"body": body, "actions": r.json()["actions"]} if expect == 200 else {"text": r.text}

    def function(self, func_name: str, *args):
        """A worksheet function called from a cell of this workbook: (status, result or text)."""
        call = {"client": "Office.js", "func_name": func_name, "args": [[[a]] for a in args],
                "caller_address": f"[{self.name}]Sheet1!C3", "version": "0.37.8",
                "culture_info_name": "zh-CN", "date_format": "yyyy/m/d", "runtime": "1.4"}
        # the add-in sends the calling workbook's project key (its _meta), never its name
        r = self.client.post("/xlwings/custom-functions-call", json=call,
                             headers={"X-Putuo-Project": quote(self.key)})
        return r.status_code, (r.json()["result"] if r.status_code == 200 else r.text)


def written_sheets(body: dict, actions: list[dict]) -> dict[str, list[list]]:
    """{sheet name: values} of what the actions write, as Excel ends up with them (blocks put
    together by start row; sheets the actions add are placed where Excel adds them)."""
    names = [s["name"] for s in body["sheets"]]
    out: dict[str, dict[int, list]] = {}
    cleared: set[str] = set()
    for a in actions:
        if a["func"] == "runMacro" and a["args"][0] == "putuoPutSheets":
            # whole sheets in one .xlsx (the add-in's putuoPutSheets): their values
            import base64
            import io
            from openpyxl import load_workbook
            spec = json.loads(a["args"][1])
            wb = load_workbook(io.BytesIO(base64.b64decode(a["args"][2])), data_only=True)
            target = dict((t, k) for t, k in spec["copies"])
            for n in spec["insert"]:
                rows = [list(r) for r in wb[n].iter_rows(values_only=True)]
                out[target.get(n, n)] = dict(enumerate(rows))
                if target.get(n, n) not in names:
                    names.append(target.get(n, n))
            continue
        if a["func"] == "addSheet":
            names.insert(a["args"][0], a["args"][1])
        elif a["func"] == "rangeClearContents" or a["func"] == "sheetClearContents":
            cleared.add(names[a["sheet_position"]])
        elif a["func"] in ("setValues", "setFormula"):
            from xl_replay import as_excel_keeps
            name = names[a["sheet_position"]]
            rows = out.setdefault(name, {})
            for i, row in enumerate(as_excel_keeps(a["values"])):
                cur = rows.setdefault(a["start_row"] + i, [])
                c0 = a["start_column"]
                if len(cur) < c0 + len(row):
                    cur.extend([None] * (c0 + len(row) - len(cur)))
                cur[c0:c0 + len(row)] = row
    return {n: [rows.get(i, []) for i in range(max(rows) + 1)] for n, rows in out.items()}


def test_server_buttons_end_to_end_over_http(server):
    from putuo_xl import layout
    from putuo_xl.excel.context import PROJECT_META_KEY, SERVER_MASTER_NAME
    from putuo_xl.excel.payload import payload_from_xlsx, sheet_payload

    from test_excel_flow import MONTH, fill_returns, settings_rows

    # 生成台賬 in a blank book
    built = ServerMaster(server)
    key, acts = built.key, built.build_actions
    master = server.data_dir / key / SERVER_MASTER_NAME
    assert master.is_file()
    assert any(a["func"] == "alert" and "已在本工作簿中生成台賬" in a["args"][0] for a in acts)

    name = "普陀台賬.xlsx"
    # the client sends only the sheets a script asks for (custom-scripts-meta: include/exclude)
    meta = {m["function_name"]: m for m in server.get("/xlwings/custom-scripts-meta.json").json()}

    def book(script, month=MONTH, **kw):
        m = meta[script]
        inc = m.get("include") and m["include"].split(",")
        exc = m.get("exclude") and m["exclude"].split(",")
        body = _apply_meta(payload_from_xlsx(master, name=name, include=inc or None, exclude=exc or None), key)
        body["sheets"].append(sheet_payload("設置", settings_rows(month=month, **kw)))
        return body

    assert "月度匯總" in meta["refresh_rollup"]["exclude"].split(",")
    r = server.post("/xlwings/custom-scripts-call/make_forms", json=book("make_forms"))
    assert r.status_code == 200, r.text
    forms = server.data_dir / key / "2020-08_月報"
    fill_returns(forms, server.data_dir / key / "回報" / MONTH, {"區司法局": "已完成"})
    r = server.post("/xlwings/custom-scripts-call/collect_returns", json=book("collect_returns"))
    assert r.status_code == 200, r.text
    alert = [a for a in r.json()["actions"] if a["func"] == "alert"][-1]["args"][0]
    assert "收錄 1" in alert and "拒收 1" in alert
    r = server.post("/xlwings/custom-scripts-call/refresh_rollup", json=book("refresh_rollup"))
    assert r.status_code == 200, r.text
    sizes = len(json.dumps(book("refresh_rollup"), ensure_ascii=False)), len(json.dumps(book("unit_view"), ensure_ascii=False))
    assert sizes[0] < sizes[1]

    # bad requests come back as a Chinese 400, not a 500
    r = server.post("/xlwings/custom-scripts-call/refresh_rollup", json=book("refresh_rollup", month="2020-13"))
    assert r.status_code == 400 and "報告月份「2020-13」不是有效的月份" in r.text
    r = server.post("/xlwings/custom-scripts-call/collect_returns", json=book("collect_returns", returns_dir="沒有的文件夾"))
    assert r.status_code == 400 and "回報文件夾" in r.text and "不存在" in r.text

    # a worksheet function in that workbook
    call = {"client": "Office.js", "func_name": "unit_rate", "args": [[["區司法局"]], [["2020-08"]], [[None]]],
            "caller_address": f"[{name}]Sheet1!C3", "version": "0.37.8",
            "culture_info_name": "zh-CN", "date_format": "yyyy/m/d", "runtime": "1.4"}
    project = {"X-Putuo-Project": quote(key)}
    r = server.post("/xlwings/custom-functions-call", json=call, headers=project)
    assert r.status_code == 200, r.text
    assert r.json()["result"] == [[1.0]]
    call["func_name"], call["args"] = "unit_tasks", [[["区司法局"]], [[None]]]
    r = server.post("/xlwings/custom-functions-call", json=call, headers=project)
    assert r.status_code == 200, r.text
    assert r.json()["result"][0][0] == "任務編號" and len(r.json()["result"]) > 5
