"""Optional parts of the app (dashboard, demo, media, OA): each module has `install(app)`."""

from __future__ import annotations

import importlib
import pkgutil

from aiohttp import web

# Installed in this order (their start-up contexts start in it and stop in reverse).
# A new module in this package must be listed here: install_all refuses one that is not.
EXTENSIONS = ("serving_lock", "artifacts", "dashboard", "media", "zalo_oa")


def install_all(app: web.Application) -> None:
    """Let every extension module add its routes and background parts, in EXTENSIONS order."""
    unlisted = sorted({i.name for i in pkgutil.iter_modules(__path__)} - set(EXTENSIONS))
    if unlisted:
        raise RuntimeError(
            f"bot/ext: add {', '.join(unlisted)} to EXTENSIONS in bot/ext/__init__.py"
        )
    for name in EXTENSIONS:
        importlib.import_module(f"{__name__}.{name}").install(app)
