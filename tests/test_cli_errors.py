"""The CLI through a real subprocess: click's own errors and the library's, one Chinese line each."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mail_helpers import MONTH, seed_forms, seed_forms_session, write_config  # noqa: F401
from putuo_xl.text import narrow

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    """`putuo-xl ARGS` as an official runs it: no terminal on stdin."""
    e = dict(os.environ, **(env or {}))
    e["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "putuo_xl.cli", *map(str, args)], cwd=cwd, env=e,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)


def one_line_error(p: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in p.stderr, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    assert narrow(lines[0]).startswith("錯誤:"), p.stderr
    return lines[0]


@pytest.mark.parametrize("args,expect", [
    (["forms", "x.xlsx"], "缺少選項 --month"),
    (["forms"], "缺少參數 台賬"),
    (["mail", "forms", "nonexist", "--month", "2020-08"], "「nonexist」不存在"),
    (["build", "--forse"], "沒有選項 --forse。是不是 --force?"),
    (["bild"], "沒有命令「bild」"),
    (["serve", "--port", "abc"], "--port 的值不對:「abc」不是整數"),
    (["serve", "--port", "99999"], "--port 的值不對:99999 不在 1 到 65535 之間"),
    (["build", "a", "b", "c"], "多出了參數:b c"),
    (["forms", "x.xlsx", "--month"], "選項 --month 後面需要一個值"),
])
def test_click_usage_errors_are_chinese_with_exit_2(tmp_path, args, expect):
    p = cli(*args, cwd=tmp_path)
    line = one_line_error(p)
    assert p.returncode == 2
    assert expect in narrow(line) and "-h 查看用法" in line
    assert "Error" not in line and "Usage" not in p.stderr


def test_help_and_version_still_work(tmp_path):
    p = cli("build", "-h", cwd=tmp_path)
    assert p.returncode == 0 and "生成任務分解台賬" in p.stdout and "--force" in p.stdout
    p = cli("--version", cwd=tmp_path)
    assert p.returncode == 0 and "0.1" in p.stdout


def test_prompt_without_terminal_is_a_chinese_abort(tmp_path, seed_forms):  # noqa: F811
    _, forms_dir, _ = seed_forms
    cfg = write_config(tmp_path / "c.yaml", 1)     # never reached: the confirmation comes first
    p = cli("mail", "forms", forms_dir, "--month", MONTH, "--config", cfg)
    assert p.returncode == 1, p.stderr
    assert "Aborted" not in p.stderr and "Traceback" not in p.stderr
    assert "已取消" in p.stderr and "--yes" in p.stderr


def test_build_refuses_to_overwrite_then_force_keeps_a_backup(tmp_path):
    out = tmp_path / "任務分解台賬.xlsx"
    p = cli("build", "-o", out, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out.write_bytes(out.read_bytes() + b"")          # the official's copy
    os.utime(out, (1_000_000_000, 1_000_000_000))
    before = out.read_bytes()
    p = cli("build", "-o", out, cwd=tmp_path)
    line = one_line_error(p)
    assert p.returncode == 1
    assert "已經存在" in line and "--force" in line and "--refresh" in line
    assert out.read_bytes() == before and out.stat().st_mtime == 1_000_000_000
    p = cli("build", "-o", out, "--force", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    (backup,) = tmp_path.glob("任務分解台賬.bak-*.xlsx")
    assert backup.read_bytes() == before
    assert backup.name in p.stderr and "備份" in p.stderr
    assert out.stat().st_mtime > 1_000_000_000


def _junk_files(d: Path) -> dict[str, Path]:
    files = {"x.txt": "工作要點\n一、推進政府職能".encode("utf-8"),
             "x.png": b"\x89PNG\r\n\x1a\n" + bytes(64),
             "old.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
             "empty.xlsx": b""}
    out = {}
    for name, data in files.items():
        (d / name).write_bytes(data)
        out[name] = d / name
    return out


@pytest.mark.parametrize("cmd", [["forms", "{f}", "--month", "2020-08"],
                                 ["rollup", "{f}", "--month", "2020-08"],
                                 ["mail", "bulletin", "{f}", "--month", "2020-08", "--dry-run", "eml"]])
def test_not_a_workbook_gets_a_chinese_message(tmp_path, cmd):
    files = _junk_files(tmp_path)
    expect = {"x.txt": "文本文件", "x.png": "圖片(PNG)", "old.xls": "舊版 Excel 文件",
              "empty.xlsx": "文件是空的"}
    names = ["old.xls"] if cmd[0] != "forms" else list(files)
    for name in names:
        p = cli(*[a.replace("{f}", name) for a in cmd], cwd=tmp_path)
        line = one_line_error(p)
        assert p.returncode == 1
        assert f"文件「{name}」" in line and expect[name] in narrow(line), line
        assert ".xlsx" in line


def test_quick_exit_keeps_the_output_and_the_exit_code(tmp_path):
    """`putuo-xl` ends with os._exit after flushing (console_main): a long piped output arrives
    whole, and the exit codes are the command's."""
    import json
    e = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-m", "putuo_xl", "parse", "--json"], cwd=tmp_path, env=e,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    plan = json.loads(p.stdout)
    assert len(p.stdout) > 20000 and plan["sections"]
    p = cli("rollup", "沒有這個.xlsx", "--month", "2020-08", cwd=tmp_path)
    assert p.returncode == 1
    one_line_error(p)


def test_quick_exit_waits_for_threads_and_pools_like_python(tmp_path):
    """quick_exit ends as the interpreter would have: a running non-daemon thread finishes,
    a thread pool never shut down does not hang it, atexit handlers run."""
    script = tmp_path / "ends.py"
    out = tmp_path / "out.txt"
    script.write_text(f'''
import atexit, threading, time
from concurrent.futures import ThreadPoolExecutor
from putuo_xl.cli import quick_exit
pool = ThreadPoolExecutor(2)
pool.submit(time.sleep, 0.01)
def slow():
    time.sleep(0.3)
    open({str(out)!r}, "a").write("thread ")
threading.Thread(target=slow).start()
atexit.register(lambda: open({str(out)!r}, "a").write("atexit"))
print("bye", flush=False)
quick_exit(3)
''', encoding="utf-8")
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert p.returncode == 3 and p.stdout == "bye\n", p.stderr
    assert out.read_text() == "thread atexit"


def test_serve_on_a_taken_port_says_so(tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = cli("serve", "--port", port, "--data-dir", tmp_path / "data", cwd=tmp_path)
    assert p.returncode == 1
    assert f"端口 {port} 已被佔用" in narrow(one_line_error(p))
