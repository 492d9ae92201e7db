"""`platform.kind: zalo_oa`: the signed webhook, the OA client and the token keep-alive."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot import keys
from bot.intake import _fail, read_body, store_events
from bot.platforms import zalo_oa
from bot.platforms.base import DeliveryError, PlatformClient, PlatformError
from handlers.config import ConfigError

log = logging.getLogger(__name__)

PATH = "/webhook/zalo-oa"
KEEP_FRESH_EVERY_S = 600.0


def install(app: web.Application) -> None:
    """Only on `platform.kind: zalo_oa`: add the route, the client factory and the keep-alive."""
    settings = app[keys.SETTINGS]
    if settings.platform.kind != "zalo_oa":
        return
    if settings.platform.mode == "polling":
        raise ConfigError(
            "platform.mode: a Zalo Official Account delivers by webhook only; "
            "set platform.mode: webhook"
        )
    first, secret = zalo_oa.signature_terms(settings.platform)
    if not first or not secret:
        # Checked here, before anything opens: a failed start in aiohttp cleans up nothing.
        p = settings.platform
        raise ConfigError(
            f"platform.{p.signature_first_term} and platform.{p.signature_secret} are needed "
            f"to check X-ZEvent-Signature (export ANTT_PLATFORM__{p.signature_secret.upper()})"
        )
    app.router.add_route("*", PATH, webhook)
    app[keys.CLIENT_FACTORY] = build_client
    app.cleanup_ctx.append(_serving)  # after the runtime's: it knows whether workers run


def build_client(app: web.Application) -> PlatformClient:
    """The OA client over the app's HTTP session, with its token store (called at start-up)."""
    settings = app[keys.SETTINGS]
    tokens = zalo_oa.OATokenStore(
        app[keys.SESSIONS], settings.platform, app[keys.HTTP], app[keys.CLOCK]
    )
    app[keys.OA_TOKENS] = tokens
    return zalo_oa.ZaloOAClient(
        settings.platform.oa_api_base,
        tokens,
        app[keys.HTTP],
        is_group=zalo_oa.group_lookup(app[keys.SESSIONS], settings),
        tz=settings.tz,
        clock=app[keys.CLOCK],
    )


async def webhook(request: web.Request) -> web.StreamResponse:
    """Check the signature over the raw bytes, validate, store durably, then answer."""
    app = request.app
    settings, metrics = app[keys.SETTINGS], app[keys.METRICS]
    if request.method != "POST":
        return web.json_response(
            {"ok": False, "error": "method not allowed: use POST"},
            status=405,
            headers={"Allow": "POST"},
        )
    header = request.headers.get("X-ZEvent-Signature")
    if not header:
        metrics.events_rejected.labels(zalo_oa.PLATFORM, "signature").inc()
        return _fail(401, "missing X-ZEvent-Signature")
    raw = await read_body(request, settings.server.max_body_bytes)
    if raw is None:
        metrics.events_rejected.labels(zalo_oa.PLATFORM, "too_large").inc()
        return _fail(413, f"body over {settings.server.max_body_bytes} bytes")
    if not raw.strip():
        return web.json_response({"ok": True})  # nothing to store, nothing to verify
    try:
        body = zalo_oa.decode(raw)
    except DeliveryError as exc:
        metrics.events_rejected.labels(zalo_oa.PLATFORM, "invalid").inc()
        return _fail(400, str(exc))
    first, secret = zalo_oa.signature_terms(settings.platform)
    if not zalo_oa.signature_ok(header, first, raw, zalo_oa.body_timestamp(body), secret):
        metrics.events_rejected.labels(zalo_oa.PLATFORM, "signature").inc()
        return _fail(401, "wrong X-ZEvent-Signature")
    try:
        event = zalo_oa.event_from_json(body, app[keys.CLOCK].now(), oa_id=settings.platform.oa_id)
    except DeliveryError as exc:
        metrics.events_rejected.labels(zalo_oa.PLATFORM, "invalid").inc()
        return _fail(400, str(exc))
    return await store_events(request, zalo_oa.PLATFORM, [event])


async def _serving(app: web.Application) -> AsyncIterator[None]:
    """When serving (workers on), keep the tokens fresh even if nothing is sent."""
    task: asyncio.Task[None] | None = None
    tokens = app.get(keys.OA_TOKENS)
    # No keep-alive for a one-off command (jobs run --send) or a test without workers.
    if app[keys.RUNTIME].workers_running and tokens is not None:
        task = asyncio.create_task(_keep_fresh(tokens), name="oa-keep-fresh")
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _keep_fresh(tokens: zalo_oa.OATokenStore) -> None:
    """Refresh ahead of expiry even when nothing is sent: refresh tokens lapse after ~3 months."""
    while True:
        try:
            await tokens.access_token()
        except PlatformError as exc:
            log.warning("OA token check: %s", exc)
        except Exception:
            log.exception("OA token check failed")
        await asyncio.sleep(KEEP_FRESH_EVERY_S)
