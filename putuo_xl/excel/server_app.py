"""The ASGI app `putuo-xl serve` runs: xlwings Server's own app with its static files served
through a path check.

xlwings Server 1.20 serves /static through `OverridableStaticFiles`, whose `lookup_path` joins
the project's static folder and the request path without checking that the result stays inside
it: `GET /static/..%2F..%2Fetc%2Fpasswd` returned any file the server could read. Here every such
mount is replaced by Starlette's `StaticFiles` over the same two folders (project first, then
the package), whose lookup resolves the path and refuses anything outside them
(docs/security.md has the upstream report).
"""
from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles


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


def _build():
    from xlwings_server import main as xlwings_main

    make_static_safe(xlwings_main.app)
    return xlwings_main.main_app


main_app = _build()
