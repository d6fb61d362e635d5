"""`putuo-xl serve` against the attacks a LAN server meets, on a live server on 127.0.0.1.

The static files: xlwings Server 1.20's override folder joined the request path unchecked, so
`/static/..%2F..%2Fetc%2Fpasswd` read any file. Requests go over a raw socket because HTTP
clients remove `..` segments before sending.
"""
from __future__ import annotations

import shutil
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from test_excel_server import ROOT, running_server

SECRET = "putuo-secret-7f3a9c"


def raw_get(base_url: str, target: str) -> tuple[int, bytes]:
    """GET `target` exactly as written (no normalisation), HTTP/1.1; returns (status, body)."""
    url = urlsplit(base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n"
                  .encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _traversals(secret: Path) -> list[str]:
    """Every way we know to spell a step up: raw, %2F, %2f, %2e, mixed, backslashes, doubled
    slashes, through a subfolder, absolute, double-encoded."""
    up = 30
    rel = str(secret).lstrip("/")
    rel_enc = rel.replace("/", "%2F")
    forms = []
    for step in ("../", "..%2F", "..%2f", "%2e%2e/", "%2E%2E%2F", ".%2e/", "%2e./", "..%5C",
                 "..\\", "..//", "%2e%2e%5c", "..%252F", "%252e%252e%252f", "..;/", "....//"):
        forms.append("/static/" + step * up + rel)
        forms.append("/static/js/" + step * up + rel_enc)
    forms += [
        "/static//" + rel, "/static/%2F" + rel_enc, "/static/" + "%2F" + rel,
        "/static/js/..%2F..%2F..%2F" + "..%2F" * up + rel_enc,
        "/static/./" + "./../" * up + rel,
    ]
    return forms


@pytest.fixture(scope="module")
def exposed(tmp_path_factory):
    """A live server whose project folder is a copy of server/ with a symlink in static/ that
    points outside, and a secret file outside the static folders."""
    base = tmp_path_factory.mktemp("static-attack")
    project = base / "project"
    shutil.copytree(ROOT / "putuo_xl" / "data" / "server", project, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", ".env", "certs"))
    secret = base / "secret.env"
    secret.write_text(f"XLWINGS_SECRET_KEY={SECRET}\n", encoding="utf-8")
    (project / "static" / "js" / "leak.js").symlink_to(secret)
    data = base / "data"
    data.mkdir()
    with running_server(data, project_dir=project) as client:
        client.secret = secret
        yield client


def test_static_traversal_refused_in_every_encoding(exposed):
    base = str(exposed.base_url)
    leaked = []
    for target in _traversals(exposed.secret) + _traversals(Path("/etc/passwd")):
        status, body = raw_get(base, target)
        if SECRET.encode() in body or b"root:" in body:
            leaked.append((target, status))
        else:
            assert status in (400, 404), (target, status)
    assert not leaked, leaked


def test_static_symlink_out_of_the_folder_refused(exposed):
    status, body = raw_get(str(exposed.base_url), "/static/js/leak.js")
    assert status == 404 and SECRET.encode() not in body


def test_static_files_still_served(exposed):
    # the project's override first, then xlwings Server's own files
    status, body = raw_get(str(exposed.base_url), "/static/js/ribbon.js")
    assert status == 200 and b"bindScript" in body
    status, body = raw_get(str(exposed.base_url), "/static/css/core.css")
    assert status == 200 and body


# -- an office's server: sign-in, roles, projects, limits, cross-site requests, audit trail ------
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from urllib.parse import quote  # noqa: E402

import httpx  # noqa: E402

from putuo_xl.excel.payload import book_payload  # noqa: E402
from test_excel_server import ServerMaster  # noqa: E402


def raw_request(base_url: str, head: str, body: bytes = b"", timeout: float = 10) -> tuple[int, dict]:
    """Send `head` (request line + headers, without the blank line) and `body` as they are;
    returns (status, JSON body)."""
    url = urlsplit(base_url)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as s:
        s.sendall(head.encode("utf-8") + b"\r\n\r\n" + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    top, _, rest = data.partition(b"\r\n\r\n")
    try:
        payload = json.loads(rest)
    except ValueError:
        payload = {"raw": rest[:200].decode("utf-8", "replace")}
    return int(top.split(b" ", 2)[1]), payload


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """A signed-in server with a master built by 測試官員 (all roles), and two more officials:
    甲 (no mail role, every project) and 乙 (every role, only the projects they build)."""
    from putuo_xl.excel.users import UserStore
    data = tmp_path_factory.mktemp("office")
    with running_server(data, env={"PUTUO_XL_BODY_SECONDS": "3"}) as client:
        store = UserStore(data)
        client.codes = {"甲": store.add("官員甲", ["build", "collect", "refresh"]),
                        "乙": store.add("官員乙", ["build", "collect", "refresh", "mail"], projects=[])}
        client.master = ServerMaster(client)
        yield client


def as_user(client, who: str) -> dict:
    return {"Authorization": f"Bearer {client.codes[who]}", "X-Putuo-Client": "tests"}


def test_no_sign_in_is_a_chinese_401_before_the_body_is_read(office):
    body = office.master.body("refresh_rollup")
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer pxl_guessed"},
                    {"Authorization": "test-token"}):
        r = office.post("/xlwings/custom-scripts-call/refresh_rollup", json=body, headers=headers)
        assert r.status_code == 401 and "訪問碼" in r.json()["detail"], r.text
    # a huge body without sign-in is refused as fast as a small one: it is never read
    status, detail = raw_request(str(office.base_url),
                                 f"POST /xlwings/custom-scripts-call/diagnose HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 f"Content-Type: application/json\r\nContent-Length: {50 * 1024 * 1024}")
    assert status == 401, detail
    # functions and the file routes alike
    r = office.post("/xlwings/custom-functions-call", json={"func_name": "unit_rate", "args": []},
                    headers={"Authorization": ""})
    assert r.status_code == 401
    r = office.get("/putuo/whoami", headers={"Authorization": ""})
    assert r.status_code == 401
    r = office.get("/putuo/whoami")
    assert r.status_code == 200 and r.json()["name"].startswith("測試官員")


def test_cross_site_requests_are_refused(office):
    body = json.dumps(office.master.body("refresh_rollup"), ensure_ascii=False)
    url = "/xlwings/custom-scripts-call/send_reminders"
    # a page elsewhere can send text/plain or a form without a CORS preflight: refused, even
    # with the official's code (a browser would not add it, but the type alone is refused)
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        r = office.post(url, content=body.encode(), headers={"Content-Type": ctype})
        assert r.status_code == 415 and "JSON" in r.json()["detail"], (ctype, r.text)
    # JSON from another origin (or marked cross-site by the browser)
    for extra in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                  {"Sec-Fetch-Site": "cross-site"}):
        r = office.post(url, json=json.loads(body), headers=extra)
        assert r.status_code == 403 and "跨站" in r.json()["detail"], (extra, r.text)
    # a DNS-rebinding page reaches the server under its own name: refused
    r = office.get("/manifest", headers={"Host": "evil.example"})
    assert r.status_code == 400 and "evil.example" in r.json()["detail"]
    # the server's own pages are fine
    r = office.post("/xlwings/custom-scripts-call/diagnose",
                    json=book_payload({"S": [["x"]]}), headers={"Origin": str(office.base_url).rstrip("/")})
    assert r.status_code == 200, r.text
    # CORS stays closed: a preflight from elsewhere gets no allow-origin
    r = office.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
                                     "Access-Control-Request-Headers": "content-type"})
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}


def test_a_60_mb_body_is_refused_at_once_without_growing(office):
    pid = office.proc.pid
    before = rss_kb(pid)
    t0 = time.monotonic()
    url = urlsplit(str(office.base_url))
    size = 60 * 1024 * 1024
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall((f"POST /xlwings/custom-scripts-call/refresh_rollup HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: Bearer {office.code}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {size}\r\n\r\n").encode())
        sent = 0
        chunk = b" " * (1024 * 1024)
        s.settimeout(0.05)
        reply = b""
        while b"\r\n\r\n" not in reply and time.monotonic() - t0 < 10:
            try:
                if sent < size:
                    sent += s.send(chunk)
            except (BlockingIOError, socket.timeout, BrokenPipeError, ConnectionResetError):
                pass
            try:
                got = s.recv(65536)
                if not got:
                    break
                reply += got
            except socket.timeout:
                pass
        elapsed = time.monotonic() - t0
        # the rest of the answer (its body may come in a later packet)
        s.settimeout(5)
        head, _, rest = reply.partition(b"\r\n\r\n")
        length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))
        while len(rest) < length:
            try:
                got = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not got:
                break
            rest += got
        reply = head + b"\r\n\r\n" + rest
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert "超過 8 MB" in json.loads(reply.partition(b"\r\n\r\n")[2])["detail"]
    assert elapsed < 2, elapsed
    assert rss_kb(pid) - before < 20 * 1024          # MB of the body never held
    # a body with no declared length (chunked) is refused before it is read
    status, detail = raw_request(str(office.base_url),
                                 f"POST /xlwings/custom-scripts-call/diagnose HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 f"Authorization: Bearer {office.code}\r\nContent-Type: application/json\r\n"
                                 f"Transfer-Encoding: chunked", b"5\r\n{}{}{\r\n0\r\n\r\n")
    assert status == 411, detail


def test_a_slow_request_does_not_stall_the_others(office):
    url = urlsplit(str(office.base_url))
    started = threading.Event()
    result = {}

    def trickle():
        with socket.create_connection((url.hostname, url.port), timeout=30) as s:
            s.sendall((f"POST /xlwings/custom-scripts-call/diagnose HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       f"Authorization: Bearer {office.code}\r\nContent-Type: application/json\r\n"
                       f"Content-Length: 1000\r\n\r\n{{").encode())
            started.set()
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            result["reply"] = data

    t = threading.Thread(target=trickle)
    t.start()
    started.wait(10)
    t0 = time.monotonic()
    for _ in range(5):
        assert office.get("/putuo/whoami").status_code == 200
    assert time.monotonic() - t0 < 2
    t.join(20)
    assert result["reply"].startswith(b"HTTP/1.1 408"), result      # given up after 3 s (the test's limit)


def test_bad_requests_are_a_chinese_400_without_paths(office):
    url = "/xlwings/custom-scripts-call/refresh_rollup"
    cases = [(b"{not json", "不是有效的 JSON"), (b"[1, 2]", "應是一個對象"), (b'{"book": {}}', "sheets"),
             (b'"text"', "應是一個對象"), (b'{"sheets": []}', "工作簿信息")]
    for raw, words in cases:
        r = office.post(url, content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and words in r.json()["detail"], (raw, r.text)
    r = office.post("/xlwings/custom-functions-call", json={"args": "x"})
    assert r.status_code == 400 and "func_name" in r.json()["detail"]
    # an action that fails shows no path of the server's disk
    body = office.master.body("collect_returns", returns_dir="沒有的文件夾")
    r = office.post("/xlwings/custom-scripts-call/collect_returns", json=body)
    assert r.status_code == 400 and "不存在" in r.text
    assert str(office.data_dir) not in r.text and str(office.data_dir.resolve()) not in r.text


def test_forged_and_guessed_project_keys_get_the_same_403(office):
    m = office.master
    body = m.body("refresh_rollup")
    meta = next(s for s in body["sheets"] if s["name"] == "_meta")
    answers = set()
    for forged in (m.key[:-1] + ("A" if m.key[-1] != "A" else "B"),      # one character off
                   m.key.rsplit("-", 1)[0] + "-" + "x" * 22,              # the title, a guessed secret
                   "../" + m.key, "", m.key.rsplit("-", 1)[0]):           # a path, nothing, the old style
        for row in meta["values"]:
            if row and row[0] == "server_project":
                row[1] = forged
        r = office.post("/xlwings/custom-scripts-call/refresh_rollup", json=body)
        assert r.status_code == 403, (forged, r.text)
        answers.add(r.json()["detail"])
        # the worksheet functions' project argument (empty: the calling workbook's own) and
        # the header alike
        if forged:
            status, text = m.function("unit_rate", "區司法局", "2020-08", forged)
            assert status == 400 and "沒有這個台賬" in text, (forged, text)
        r = office.post("/xlwings/custom-functions-call", headers={"X-Putuo-Project": quote(forged)},
                        json={"client": "Office.js", "func_name": "unit_rate",
                              "args": [[["區司法局"]], [["2020-08"]], [[None]]],
                              "caller_address": f"[{m.name}]Sheet1!C3", "version": "0.37.8",
                              "culture_info_name": "zh-CN", "date_format": "yyyy/m/d", "runtime": "1.4"})
        assert r.status_code == 400 and "沒有這個台賬" in r.text or "不是服務器上的台賬" in r.text, r.text
    # a real key of a project the user may not open: the same answer as a made-up one
    r = office.post("/xlwings/custom-scripts-call/refresh_rollup", json=m.body("refresh_rollup"),
                    headers=as_user(office, "乙"))
    assert r.status_code == 403
    answers.add(r.json()["detail"])
    assert len(answers) == 1, answers
    r = office.post("/putuo/forms/link", json=m.body("make_forms"), headers=as_user(office, "乙"))
    assert r.status_code == 403 and r.json()["detail"] in answers


def test_roles_decide_the_buttons(office):
    m = office.master
    # 甲 may refresh but not send mail: refused before the request is read, in Chinese
    r = office.post("/xlwings/custom-scripts-call/send_forms", json=m.body("send_forms"),
                    headers=as_user(office, "甲"))
    assert r.status_code == 403 and "官員甲" in r.json()["detail"] and "mail" in r.json()["detail"]
    for script in ("send_reminders", "send_bulletin"):
        r = office.post(f"/xlwings/custom-scripts-call/{script}", json=m.body(script),
                        headers=as_user(office, "甲"))
        assert r.status_code == 403
    r = office.post("/xlwings/custom-scripts-call/make_forms", json=m.body("make_forms"),
                    headers=as_user(office, "甲"))
    assert r.status_code == 200, r.text
    # 乙 builds a master of their own and works on it
    r = office.post("/xlwings/custom-scripts-call/build_master",
                    json=book_payload({"工作表1": []}, name="乙的台賬"), headers=as_user(office, "乙"))
    assert r.status_code == 200, r.text
    # a user whose roles are taken away is refused at once (the server re-reads the users)
    from putuo_xl.excel.users import UserStore
    UserStore(office.data_dir).update("官員甲", roles=["collect"])
    r = office.post("/xlwings/custom-scripts-call/refresh_rollup", json=m.body("refresh_rollup"),
                    headers=as_user(office, "甲"))
    assert r.status_code == 403 and "refresh" in r.json()["detail"]
    UserStore(office.data_dir).remove("官員甲")
    r = office.get("/putuo/whoami", headers=as_user(office, "甲"))
    assert r.status_code == 401


def test_every_action_is_in_the_audit_trail(office):
    m = office.master
    m.run("make_forms")
    r = office.post("/xlwings/custom-scripts-call/send_forms", json=m.body("send_forms"),
                    headers={"Authorization": f"Bearer {office.codes['乙']}"})
    assert r.status_code == 403
    out = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "log", str(m.master), "--json",
                          "-n", "100"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    done = {(r["action"], r["result"]) for r in rows}
    assert ("build_master", "ok") in done and ("make_forms", "ok") in done
    for r in rows:
        assert r["user"] and r["at"] and r["route"] == "server" and r["ip"] == "127.0.0.1"
        assert r["project"] == m.key
    mine = [r for r in rows if r["action"] == "make_forms"][0]
    assert "月報" in mine["summary"] and mine["user"].startswith("測試官員")
    # a refused attempt on a project the user may not open goes to the server's access log
    log = (office.data_dir / "_server" / "access.log").read_text("utf-8")
    assert "官員乙" in log or "denied" in log
    text = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "log", str(m.master)],
                          capture_output=True, text=True, timeout=60).stdout
    assert "生成月報" in text and "完成" in text


def test_no_auth_is_for_this_computer_only(tmp_path):
    out = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "serve", "--no-auth", "--host", "0.0.0.0",
                          "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "只能在本機" in out.stderr


def test_an_identity_provider_plugs_in_the_xlwings_way(tmp_path):
    """An office with its own identity provider: a provider module in the project's auth/
    folder (as xlwings Server documents), XLWINGS_AUTH_PROVIDERS naming it. Roles come from
    the token's claims; an entry matched by e-mail limits the projects."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "putuo_xl" / "data" / "server", project, ignore=shutil.ignore_patterns("__pycache__", ".env"))
    (project / "auth" / "office").mkdir(parents=True)
    (project / "auth" / "office" / "__init__.py").write_text('''
from fastapi import HTTPException
from xlwings_server.models import User

async def validate_token(token_string):
    if token_string == "Bearer sso-zhang":
        return User(id="oid-1", name="張科長", email="zhang@example.gov.cn",
                    claims={"roles": ["refresh", "build"]})
    raise HTTPException(status_code=401, detail="token invalid")
''', encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    with running_server(data, env={"XLWINGS_AUTH_PROVIDERS": '["office"]'}, project_dir=project,
                        roles=None) as client:
        r = client.get("/putuo/whoami", headers={"Authorization": "Bearer sso-zhang"})
        assert r.status_code == 200 and r.json()["name"] == "張科長"
        assert r.json()["roles"] == ["build", "refresh"]
        r = client.get("/putuo/whoami", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and "訪問碼" in r.json()["detail"]
        body = book_payload({"S": [["x"]]})
        r = client.post("/xlwings/custom-scripts-call/send_forms", json=body,
                        headers={"Authorization": "Bearer sso-zhang"})
        assert r.status_code == 403 and "mail" in r.json()["detail"]
