"""Typed application state keys, all in one place (STYLE.md 2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handlers.clock import Clock
from handlers.config import Settings
from models.checkpoints import WalCheckpointer

if TYPE_CHECKING:
    from bot.inbox import InboxWriter
    from bot.metrics import Metrics
    from bot.platforms.base import PlatformClient
    from bot.platforms.local import LocalStore
    from bot.platforms.zalo_oa import OATokenStore
    from bot.runtime import Runtime

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
HTTP = web.AppKey("http", aiohttp.ClientSession)
# Serving on a SQLite file: the background WAL checkpoints (absent otherwise).
CHECKPOINTS = web.AppKey("checkpoints", WalCheckpointer)
INBOX: web.AppKey[InboxWriter] = web.AppKey("inbox")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
CLIENT: web.AppKey[PlatformClient] = web.AppKey("client")
LOCAL_STORE: web.AppKey[LocalStore] = web.AppKey("local_store")
RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")
# The client of a platform an extension provides (zalo_oa), built at start-up.
CLIENT_FACTORY: web.AppKey[Callable[[web.Application], PlatformClient]] = web.AppKey(
    "client_factory"
)
OA_TOKENS: web.AppKey[OATokenStore] = web.AppKey("oa_tokens")
