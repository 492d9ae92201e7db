"""GET /a/{token}.png: files the bot hands to the platform by URL (digest charts for sendPhoto).

The token (secrets.token_urlsafe(32), 256 random bits) is the only credential, so the URL
works for Zalo's fetcher without a login; rows answer until `expires_at`, then 404.
"""

from __future__ import annotations

import re

from aiohttp import web

from bot import keys
from models.db import read_session
from models.tables import Artifact

TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")


def install(app: web.Application) -> None:
    app.router.add_get("/a/{token}.png", serve_artifact)


async def serve_artifact(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    if not TOKEN.fullmatch(token):
        raise web.HTTPNotFound()
    now = request.app[keys.CLOCK].now()
    async with read_session(request.app[keys.SESSIONS]) as session:
        row = await session.get(Artifact, token)
    if row is None or row.expires_at <= now:
        raise web.HTTPNotFound()
    # Cached no longer than the link lives; private so shared caches do not keep a copy.
    max_age = max(0, min(86400, int((row.expires_at - now).total_seconds())))
    return web.Response(
        body=row.data,
        content_type=row.content_type,
        headers={
            "Cache-Control": f"private, max-age={max_age}",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
