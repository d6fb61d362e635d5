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
    shutil.copytree(ROOT / "server", project, symlinks=True,
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
