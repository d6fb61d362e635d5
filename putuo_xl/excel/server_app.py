"""The ASGI app `putuo-xl serve` runs: xlwings Server's own app, made safe for a whole office.

- The guard (guard.py) in front of everything: Host, same-origin POSTs, content types,
  sign-in and roles, body limits — all before a body is read.
- /static through Starlette's checked StaticFiles: xlwings Server 1.20 serves it through
  `OverridableStaticFiles`, whose `lookup_path` joins the project's static folder and the
  request path unchecked (`GET /static/..%2F..%2Fetc%2Fpasswd` read any file; docs/security.md
  has the upstream report).
- A failure nobody foresaw answers in Chinese with a reference to the server log, never with a
  path or a traceback.
"""
from __future__ import annotations

import logging
import secrets
from pathlib import Path

from starlette.responses import JSONResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

log = logging.getLogger("putuo_xl.server")


class CheckedStaticFiles(StaticFiles):
    """Starlette's StaticFiles over several folders, searched in order; a path that resolves
    outside every folder (``..`` in any encoding, a symlink leading out, an absolute path) is
    not found."""

    def __init__(self, directories: list[Path]) -> None:
        existing = [str(d) for d in directories if Path(d).is_dir()]
        super().__init__(directory=existing[0] if existing else None, check_dir=False)
        self.all_directories = existing


def make_static_safe(app) -> int:
    """Replace every `OverridableStaticFiles` mount of a FastAPI/Starlette app by a
    `CheckedStaticFiles` over the same folders; returns how many were replaced."""
    from xlwings_server.main import OverridableStaticFiles

    replaced = 0
    for route in app.router.routes:
        if isinstance(route, Mount) and isinstance(route.app, OverridableStaticFiles):
            old = route.app
            route.app = route._base_app = CheckedStaticFiles([Path(old.user_dir), Path(old.package_dir)])
            replaced += 1
    return replaced


async def unexpected_error(request, exc):
    ref = secrets.token_hex(4)
    log.error("unexpected error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": f"服務器出錯了(編號 {ref})。請把這個編號和操作時間告訴管理員,"
                                   f"詳情在服務器日誌中。"}, status_code=500)


def _build():
    from xlwings_server import main as xlwings_main
    from xlwings_server.config import settings

    from putuo_xl.excel.guard import Guard, Policy

    make_static_safe(xlwings_main.app)
    xlwings_main.app.exception_handlers[Exception] = unexpected_error
    policy = Policy.from_env(settings.app_path, settings.cors_allow_origins, settings.hostname)
    return Guard(xlwings_main.main_app, policy)


main_app = _build()
