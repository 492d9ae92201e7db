"""Optional parts of the app (dashboard, demo, media, OA): each module has `install(app)`."""

from __future__ import annotations

import importlib
import pkgutil

from aiohttp import web


def install_all(app: web.Application) -> None:
    """Let every extension module add its routes and background parts."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.install(app)
