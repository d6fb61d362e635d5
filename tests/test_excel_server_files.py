"""The task pane's file exchange over HTTP against a real xlwings Server: the month's forms as
one zip (download link → zip with the forms' exact bytes) and returned files uploaded into the
month's returns folder (validation, no overwriting, confinement to the data folder), then
導入回報 over HTTP takes them in. Authentication as for the scripts (XLWINGS_AUTH_PROVIDERS)."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from putuo_xl.config import default_config_path
from putuo_xl.excel import exchange
from putuo_xl.excel.payload import book_payload, payload_from_xlsx, sheet_payload

from collect_kit import Form
from test_excel_flow import settings_rows
from test_excel_server import ROOT, ServerMaster, _apply_meta, running_server, written_sheets
from putuo_xl.text import narrow

MONTH = "2020-08"
MAX_MB = 1


def files_body(w: ServerMaster, month: str = MONTH, **settings) -> dict:
    """What putuo-files.js sends: getBookData({include: 設置,设置,_meta})."""
    body = _apply_meta(payload_from_xlsx(w.master, name=w.name, include=exchange.BOOK_SHEETS), w.key)
    body["sheets"].append(sheet_payload("設置", settings_rows(month=month, **settings)))
    return body


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    data = tmp_path_factory.mktemp("files-data")
    # the server's config: the bundled one with a small upload limit
    raw = yaml.safe_load(default_config_path().read_text("utf-8"))
    raw["collect"]["max_file_mb"] = MAX_MB
    (data / "config.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with running_server(data) as client:
        w = ServerMaster(client)
        w.run("make_forms", MONTH)
        yield w


def _form_bytes(w: ServerMaster, unit: str, status: str) -> tuple[str, bytes]:
    src = next((w.folder / f"{MONTH}_月報").glob(f"*_{unit}_*.xlsx"))
    f = Form(src)
    f.fill_all(status=status, progress=1.0 if status == "已完成" else 0.5, actual=95)
    return src.name, f.to_bytes()


def test_download_forms_as_one_zip(world):
    w = world
    r = w.client.post("/putuo/forms/link", json=files_body(w))
    assert r.status_code == 200, r.text
    info = r.json()
    forms = sorted((w.folder / f"{MONTH}_月報").glob("*.xlsx"))
    assert info["files"] == len(forms) >= 30 and info["name"] == f"{MONTH}_月報.zip"
    assert re.fullmatch(r"/putuo/forms/download/[\w-]+\.[\w-]+", info["url"])
    z = w.client.get(info["url"])        # the browser window: no Authorization header
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    assert "filename*=UTF-8''2020-08_%E6%9C%88%E5%A0%B1.zip" in z.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(z.content)) as zf:
        assert zf.testzip() is None
        assert sorted(zf.namelist()) == [p.name for p in forms]
        for p in forms:
            assert zf.read(p.name) == p.read_bytes(), p.name
    # a forged or altered link is refused
    body, sig = info["url"].rsplit("/", 1)[1].split(".")
    forged = exchange.download_token(w.client.data_dir, exchange.FormsArchive(
        MONTH, w.folder / f"{MONTH}_月報", [], "x.zip"), b"guessed secret")
    for bad in (f"{body}.{sig[:-2]}AA", forged, "nonsense"):
        r = w.client.get(f"/putuo/forms/download/{bad}")
        assert r.status_code == 403 and "下載鏈接無效" in r.text, bad
    # a month without forms: a clear 400
    r = w.client.post("/putuo/forms/link", json=files_body(w, "2020-11"))
    assert r.status_code == 400 and "2020年11月 還沒有生成月報" in r.text, r.text


def test_bulletin_docx_button_then_download_over_http(world):
    """通報文稿 over HTTP (the month's forms are issued, nothing returned yet: every unit 未報送),
    then the task pane's 下載通報: a zip with the .docx's exact bytes; a forged link refused."""
    w = world
    out = w.run("bulletin_docx", MONTH)
    docx_path = w.folder / "通報" / "2020年8月預評估通報.docx"
    assert docx_path.is_file()
    r = w.client.post("/putuo/bulletin/link", json=files_body(w))
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["files"] == 1 and info["name"] == "2020年8月預評估通報.zip"
    assert re.fullmatch(r"/putuo/bulletin/download/[\w-]+\.[\w-]+", info["url"])
    z = w.client.get(info["url"])
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(z.content)) as zf:
        assert zf.namelist() == [docx_path.name] and zf.read(docx_path.name) == docx_path.read_bytes()
    body, sig = info["url"].rsplit("/", 1)[1].split(".")
    for bad in (f"{body}.{sig[:-2]}AA", "nonsense"):
        r = w.client.get(f"/putuo/bulletin/download/{bad}")
        assert r.status_code == 403 and "下載鏈接無效" in r.text, bad
    # the link is not a 年度報告 or forms link
    assert w.client.get(info["url"].replace("/bulletin/", "/report/")).status_code == 403
    # a month the ledger knows nothing of: the library's Chinese error, not a traceback
    bad = w.run("bulletin_docx", "2020-11", expect=400)
    assert "台賬中沒有2020年11月的記錄" in bad["text"] and "Traceback" not in bad["text"]
    r = w.client.post("/putuo/bulletin/link", json=files_body(w, "2020-11"))
    assert r.status_code == 400 and "還沒有寫出2020年11月的通報" in r.text, r.text
    assert out["actions"]


def test_token_expiry_and_confinement(tmp_path):
    data = tmp_path / "data"
    folder = data / "proj" / "2020-08_月報"
    folder.mkdir(parents=True)
    (folder / "a.xlsx").write_bytes(b"PK..")
    arch = exchange.FormsArchive(MONTH, folder, [folder / "a.xlsx"], "2020-08_月報.zip")
    tok = exchange.download_token(data, arch, b"k", now=1000.0)
    assert exchange.archive_from_token(data, tok, b"k", now=1000.0 + 60).files == [folder / "a.xlsx"]
    with pytest.raises(exchange.BadToken, match="已過期"):
        exchange.archive_from_token(data, tok, b"k", now=1000.0 + exchange.TOKEN_SECONDS + 1)
    with pytest.raises(exchange.BadToken, match="無效"):
        exchange.archive_from_token(data, tok, b"other key", now=1000.0)
    # a correctly signed token may still not leave the data folder
    outside = exchange.FormsArchive(MONTH, tmp_path, [], "x.zip")
    with pytest.raises(ValueError):
        exchange.download_token(data, outside, b"k")


def test_upload_names():
    ok = exchange.upload_name
    assert ok("2020-08_區司法局_法治政府建設月報.xlsx") == ("2020-08_區司法局_法治政府建設月報.xlsx", None)
    assert ok("../../etc/cron.d/x.xlsx") == ("x.xlsx", None)
    assert ok("C:\\Users\\張三\\桌面\\回報.XLSM") == ("回報.XLSM", None)
    assert ok('a:b*c?"<>|.xls') == ("a_b_c.xls", None)
    assert ok("..xlsx")[0] is None and ok("~$月報.xlsx")[0] is None
    assert ok("說明.txt")[0] is None and ok("月報.xlsx.exe")[0] is None and ok("")[0] is None


def test_upload_returns_then_collect(world):
    w = world
    returns = w.folder / "回報" / MONTH
    sfj_name, sfj = _form_bytes(w, "區司法局", "已完成")
    jyj_name, jyj = _form_bytes(w, "區教育局", "推進中")
    czj_name, czj = _form_bytes(w, "區財政局", "推進中")
    msg = EmailMessage()
    msg["From"] = "區財政局 <czj@putuo.example.cn>"
    msg["Date"] = format_datetime(datetime(2020, 9, 3, 9, 0, tzinfo=timezone(timedelta(hours=8))))
    msg["Subject"] = "8月月報"
    msg.set_content("見附件")
    msg.add_attachment(czj, maintype="application", subtype="octet-stream", filename=czj_name)
    files = [
        ("files", (sfj_name, sfj)),
        ("files", ("../../" + jyj_name, jyj)),             # a path: only the name is used
        ("files", ("財政局來信.eml", bytes(msg))),
        ("files", ("說明.txt", b"hello")),                  # not a form
        ("files", ("~$" + sfj_name, b"lock")),              # Excel's lock file
        ("files", ("大文件.xlsx", b"x" * (MAX_MB * 1024 * 1024 + 1))),
        ("files", ("空.xlsx", b"")),
    ]
    r = w.client.post("/putuo/returns", data={"bookData": _json(files_body(w))}, files=files)
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["folder"] == f"回報/{MONTH}"
    assert sorted(res["saved"]) == sorted([sfj_name, jyj_name, "財政局來信.eml"])
    assert [n for n, _ in res["rejected"]] == ["說明.txt", "~$" + sfj_name, "大文件.xlsx", "空.xlsx"]
    reasons = dict(res["rejected"])
    assert "只接受" in reasons["說明.txt"] and "臨時文件" in reasons["~$" + sfj_name]
    assert f"超過 {MAX_MB} MB" in reasons["大文件.xlsx"] and "空" in reasons["空.xlsx"]
    assert "已保存 3 份到「回報/2020-08」" in res["message"] and "導入回報" in res["message"]
    assert (returns / sfj_name).read_bytes() == sfj and (returns / jyj_name).read_bytes() == jyj
    assert sorted(p.name for p in returns.iterdir()) == sorted(res["saved"])
    assert not list(w.client.data_dir.rglob(".tmp-*"))
    # the audit trail names the upload as an upload (not as the forms' download link)
    log = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "log", str(w.master), "--json",
                          "-n", "100"], capture_output=True, text=True, timeout=60)
    assert log.returncode == 0, log.stderr
    uploads = [e for e in json.loads(log.stdout) if e["action"] == "upload_returns"]
    assert uploads and all(e["label"] == "上傳回報" and e["result"] == "ok" for e in uploads), uploads

    # again: the same bytes are not stored twice; another file of the same name is kept apart
    _, jyj2 = _form_bytes(w, "區教育局", "已完成")
    r = w.client.post("/putuo/returns", data={"bookData": _json(files_body(w))},
                      files=[("files", (sfj_name, sfj)), ("files", (jyj_name, jyj2))])
    res = r.json()
    assert res["same"] == [sfj_name]
    renamed = jyj_name[:-5] + "(2).xlsx"
    assert res["renamed"] == [[jyj_name, renamed]]
    assert (returns / jyj_name).read_bytes() == jyj and (returns / renamed).read_bytes() == jyj2

    # 導入回報 over HTTP takes them in
    out = w.run("collect_returns", MONTH)
    alert = [a for a in out["actions"] if a["func"] == "alert"][-1]["args"][0]
    assert "收錄 4" in alert, alert
    rows = written_sheets(out["body"], out["actions"])["收件情況"]
    accepted = {r[0] for r in rows[2:] if len(r) > 8 and r[1] == "已收"}
    assert accepted == {"區司法局", "區教育局", "區財政局"}


def test_upload_refusals(world):
    w = world
    one = [("files", ("x.xlsx", b"PK\x03\x04"))]
    # 設置 回報文件夾 outside the data folder
    r = w.client.post("/putuo/returns", data={"bookData": _json(files_body(w, returns_dir="/tmp"))}, files=one)
    assert r.status_code == 400 and "不在本台賬的服務器文件夾內" in r.text, r.text
    r = w.client.post("/putuo/returns", data={"bookData": _json(files_body(w, returns_dir="../../x"))}, files=one)
    assert r.status_code == 400 and "不在本台賬的服務器文件夾內" in r.text, r.text
    # a folder 設置 names inside the project folder is used (and created)
    r = w.client.post("/putuo/returns", data={"bookData": _json(files_body(w, returns_dir="收件箱"))}, files=one)
    assert r.status_code == 200 and r.json()["folder"] == "收件箱"
    assert (w.folder / "收件箱" / "x.xlsx").read_bytes() == b"PK\x03\x04"
    r = w.client.post("/putuo/returns", data={"bookData": _json(files_body(w, returns_dir="收件箱/x.xlsx"))}, files=one)
    assert r.status_code == 400 and "是一個文件,不是文件夾" in narrow(r.text), r.text
    # a form post (urlencoded, as a cross-site page could send) is refused before it is read
    r = w.client.post("/putuo/returns", data={"bookData": _json(files_body(w))})
    assert r.status_code == 415 and "操作面板上傳" in r.text
    # no files, no workbook, not a master, no 設置
    r = w.client.post("/putuo/returns", files={"bookData": (None, _json(files_body(w)))})
    assert r.status_code == 400 and "沒有收到文件" in r.text
    r = w.client.post("/putuo/returns", files=one)
    assert r.status_code == 400 and "沒有工作簿數據" in r.text
    blank = book_payload({"Sheet1": [["x"]]}, name="新工作簿.xlsx")
    r = w.client.post("/putuo/returns", data={"bookData": _json(blank)}, files=one)
    assert r.status_code == 400 and "不是 putuo-xl 的任務分解台賬" in r.text
    nosettings = _apply_meta(payload_from_xlsx(w.master, name=w.name, include=exchange.BOOK_SHEETS), w.key)
    r = w.client.post("/putuo/returns", data={"bookData": _json(nosettings)}, files=one)
    assert r.status_code == 400 and "沒有「設置」工作表" in r.text
    r = w.client.post("/putuo/forms/link", json=nosettings)
    assert r.status_code == 400 and "沒有「設置」工作表" in r.text
    # too many files in one request
    many = [("files", (f"{i}.xlsx", b"PK")) for i in range(exchange.MAX_FILES + 1)]
    r = w.client.post("/putuo/returns", data={"bookData": _json(files_body(w))}, files=many)
    assert r.status_code == 400 and "一次最多上傳" in r.text


def test_task_pane_has_the_exchange(world):
    page = world.client.get("/taskpane.html").text
    assert 'id="putuo-download-forms"' in page and 'id="putuo-upload-returns"' in page
    assert 'accept=".xlsx,.xlsm,.xls,.eml"' in page and "/static/js/putuo-files.js" in page
    js = world.client.get("/static/js/putuo-files.js").text
    sheets = re.search(r'const PUTUO_BOOK_SHEETS = "([^"]*)";', js).group(1)
    assert sheets.split(",") == list(exchange.BOOK_SHEETS)
    assert '"/putuo/forms/link"' in js and '"/putuo/returns"' in js
    assert 'id="putuo-download-bulletin"' in page and '"/putuo/bulletin/link"' in js
    assert (ROOT / "putuo_xl" / "data" / "server" / "routers" / "custom.py").is_file()


def test_exchange_needs_the_same_login_as_the_scripts(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with running_server(data) as client:
        blank = book_payload({"Sheet1": [["x"]]}, name="新工作簿.xlsx")
        one = [("files", ("x.xlsx", b"PK"))]
        anonymous = {"Authorization": "", "X-Putuo-Client": "tests"}
        # without the access code: refused like a script call, before the body is read
        for r in (client.post("/xlwings/custom-scripts-call/diagnose", json=blank, headers=anonymous),
                  client.post("/putuo/forms/link", json=blank, headers=anonymous),
                  client.post("/putuo/returns", data={"bookData": _json(blank)}, files=one,
                              headers=anonymous)):
            assert r.status_code == 401 and "訪問碼" in r.json()["detail"], r.text
        # with it: let in, then told the workbook is not a master
        r = client.post("/putuo/forms/link", json=blank)
        assert r.status_code == 400 and "不是 putuo-xl 的任務分解台賬" in r.text
        r = client.post("/putuo/returns", data={"bookData": _json(blank)}, files=one)
        assert r.status_code == 400 and "不是 putuo-xl 的任務分解台賬" in r.text


def _json(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False)


def test_a_folder_linked_into_the_project_works(world, tmp_path):
    """An administrator links a share into the project folder (a symbolic link): 設置 may name
    it; `..` still cannot leave the project folder."""
    w = world
    share = tmp_path / "共享盤" / "回報"
    share.mkdir(parents=True)
    (w.folder / "共享回報").symlink_to(share, target_is_directory=True)
    name, data = _form_bytes(w, "區司法局", "已完成")
    r = w.client.post("/putuo/returns", data={"bookData": _json(files_body(w, returns_dir="共享回報"))},
                      files=[("files", (name, data))])
    assert r.status_code == 200, r.text
    assert (share / name).read_bytes() == data
    r = w.client.post("/xlwings/custom-scripts-call/collect_returns",
                      json=w.body("collect_returns", returns_dir="共享回報"))
    assert r.status_code == 200 and "收錄 1" in r.text, r.text
    r = w.client.post("/putuo/returns", data={"bookData": _json(files_body(w, returns_dir="共享回報/../../x"))},
                      files=[("files", (name, data))])
    assert r.status_code == 400 and "不在本台賬的服務器文件夾內" in r.text
