"""`putuo-xl serve`: xlwings Server for the Office.js add-in (Excel on Windows, macOS and the
web, no Python on the officials' PCs), running the same actions as the desktop ribbon.

The server project (manifest, ribbon.js, task pane, custom_scripts/custom_functions that
import putuo_xl.excel) is putuo_xl/data/server (package data); its state lives in one data folder.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable

# xlwings picks its server flavour (decorators, remote engine) when first imported, and the
# import below brings it in: this module is only imported to serve.
os.environ.setdefault("XLWINGS_ON_SERVER", "true")
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")   # PolyForm Noncommercial (docs/excel.md)

from putuo_xl.errors import PutuoError  # noqa: E402
from putuo_xl.excel.context import CONFIG_ENV, DATA_DIR_ENV, data_dir_from  # noqa: E402
from putuo_xl.excel.guard import ACTION_MB_ENV, HOSTS_ENV  # noqa: E402
from putuo_xl.excel.projects import AUTH_ENV  # noqa: E402

PROJECT_ENV = "PUTUO_XL_SERVER_PROJECT"


def default_project_dir() -> Path:
    from putuo_xl.resources import resource_dir
    return resource_dir("server")


def server_env(data_dir: str | Path | None = None, project_dir: str | Path | None = None,
               env_file: str | Path | None = None, config_path: str | Path | None = None,
               base: dict | None = None, *, auth: bool = True,
               allowed_hosts: list[str] | None = None,
               max_request_mb: float | None = None) -> dict[str, str]:
    """The environment xlwings Server needs, on top of `base` (default: os.environ):
    the project, the data folder, the licence key, the server flavour of xlwings, and the
    guard's settings (sign-in, host names, request limit)."""
    from putuo_xl.config import load_config

    env = dict(os.environ if base is None else base)
    project = Path(project_dir or env.get(PROJECT_ENV) or default_project_dir()).resolve()
    if not (project / "custom_scripts" / "__init__.py").is_file():
        raise PutuoError(f"找不到 xlwings Server 工程(應含 custom_scripts/):{project}。"
                         f"請用 --project-dir 指定倉庫中的 server 文件夾。")
    cfg = load_config(config_path or env.get(CONFIG_ENV) or None)
    data = data_dir_from(data_dir or env.get(DATA_DIR_ENV), cfg)
    env.update({
        "XLWINGS_PROJECT_DIR": str(project),
        "XLWINGS_ON_SERVER": "true",
        DATA_DIR_ENV: str(data),
    })
    env.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    env.setdefault("XLWINGS_ENVIRONMENT", "prod")
    env.setdefault("XLWINGS_ENABLE_SOCKETIO", "false")     # no streaming functions here
    env.setdefault("XLWINGS_ENABLE_EXAMPLES", "false")
    if auth:
        # xlwings Server's own auth mechanism; an office with Entra ID sets it in .env
        env.setdefault("XLWINGS_AUTH_PROVIDERS", '["putuo"]')
        env[AUTH_ENV] = "on"
    else:
        env[AUTH_ENV] = "off"
        env["XLWINGS_AUTH_PROVIDERS"] = "[]"
    if allowed_hosts:
        env[HOSTS_ENV] = ",".join(h.strip() for h in allowed_hosts if h.strip())
    if max_request_mb:
        env[ACTION_MB_ENV] = str(max_request_mb)
    if config_path:
        env[CONFIG_ENV] = str(Path(config_path).resolve())
    if env_file:
        env["DOTENV_PATH"] = str(Path(env_file).resolve())
    elif not (project / ".env").is_file():
        # no .env in the project: point xlwings Server at a path that does not exist rather
        # than letting it pick up a stray .env from elsewhere
        env["DOTENV_PATH"] = str(project / ".env")
    return env


def _check_port_free(host: str, port: int) -> None:
    """A port already taken (another `putuo-xl serve`, say) or an address this machine does not
    have: a Chinese message before uvicorn starts (it would log an English error and exit 3)."""
    import socket
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise PutuoError(f"監聽地址「{host}」不對,找不到這個地址。請用 --host 127.0.0.1(只本機)"
                         f"或本機的一個 IP 地址。") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        if os.name != "nt":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as uvicorn binds
        try:
            s.bind(address)
        except OSError as e:
            import errno
            if e.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
                raise PutuoError(f"端口 {port} 已被佔用(可能已有一個 putuo-xl serve 在運行)。"
                                 f"請先關閉它,或用 --port 換一個端口。") from None
            raise PutuoError(f"不能在 {host}:{port} 上監聽({e.strerror or e})。請換一個地址或端口"
                             f"(1024 以下的端口需要管理員權限)。") from None


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def serve(host: str = "127.0.0.1", port: int = 8000, data_dir: str | Path | None = None,
          project_dir: str | Path | None = None, env_file: str | Path | None = None,
          config_path: str | Path | None = None, echo: Callable[[str], None] = print, *,
          auth: bool = True, allowed_hosts: list[str] | None = None,
          max_request_mb: float | None = None, cert: str | Path | None = None,
          key: str | Path | None = None) -> None:
    """Run xlwings Server in this process (uvicorn, no reloader) until interrupted."""
    if not auth and host not in LOOPBACK_HOSTS:
        raise PutuoError("--no-auth 只能在本機(--host 127.0.0.1)上使用:在局域網上運行時,"
                         "每位工作人員都要用自己的訪問碼登錄(putuo-xl serve user add)。")
    if bool(cert) != bool(key):
        raise PutuoError("HTTPS 需要同時給出 --cert(證書)和 --key(私鑰)。")
    hosts = list(allowed_hosts or [])
    if host not in ("0.0.0.0", "::", "") and host not in hosts:
        hosts.append(host)
    env = server_env(data_dir, project_dir, env_file, config_path, auth=auth,
                     allowed_hosts=hosts, max_request_mb=max_request_mb)
    if "xlwings" in sys.modules and not getattr(sys.modules["xlwings"], "on_server", False):
        raise PutuoError("xlwings 已按桌面方式加載,不能在同一進程中啟動服務器。請直接運行 putuo-xl serve。")
    _check_port_free(host, port)
    os.environ.update(env)
    data = Path(env[DATA_DIR_ENV])
    data.mkdir(parents=True, exist_ok=True)
    import uvicorn

    ssl = {}
    if cert:
        ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    else:
        certs = Path(env["XLWINGS_PROJECT_DIR"]) / "certs"
        if (certs / "localhost+2.pem").is_file() and (certs / "localhost+2-key.pem").is_file():
            ssl = {"ssl_certfile": str(certs / "localhost+2.pem"),
                   "ssl_keyfile": str(certs / "localhost+2-key.pem")}
    scheme = "https" if ssl else "http"
    echo(f"putuo-xl 服務器:{scheme}://{host}:{port}  數據目錄:{data}")
    echo(f"清單(manifest):{scheme}://{host}:{port}/manifest")
    if not auth:
        echo("注意:--no-auth 不要求登錄,只供本機試用;服務器只接受本機(127.0.0.1)的連接。")
    elif env.get("XLWINGS_AUTH_PROVIDERS", "").strip() in ('["putuo"]', "['putuo']", "putuo"):
        from putuo_xl.excel.users import UserStore
        if not UserStore(data).accounts():
            echo("還沒有用戶,誰也不能登錄:先用 putuo-xl serve user add 姓名 --role … 添加用戶。")
    if host in ("0.0.0.0", "::") and not allowed_hosts:
        echo("提示:在所有地址上監聽時,請用 --allow-host 給出工作人員訪問本服務器用的主機名或 IP,"
             "否則只接受本機訪問。")
    if not ssl:
        echo("提示:沒有 HTTPS 證書,Office.js 加載項需要 HTTPS(見 docs/excel.md)。")
    uvicorn.run("putuo_xl.excel.server_app:main_app", host=host, port=port, reload=False,
                log_level=os.environ.get("PUTUO_XL_LOG_LEVEL", "info"),
                timeout_keep_alive=5, **ssl)
