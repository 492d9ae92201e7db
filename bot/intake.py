"""The webhook routes: check the secret, validate, store durably, answer (STYLE.md 6)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from bot import keys
from bot.clean import MAX_NESTING, nested_too_deep
from bot.inbox import StorageUnavailable
from bot.platforms import zalo_bot
from bot.platforms.base import DeliveryError, InboundEvent
from bot.ratelimit import RateLimiter

log = logging.getLogger(__name__)

Parser = Callable[[bytes, datetime], list[InboundEvent]]
RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# Route handlers with the app's error boundary built in (bot/app.py adds its middleware
# only if a webhook route lacks it: a middleware costs every request two more coroutines).
GUARDED: weakref.WeakSet[RouteHandler] = weakref.WeakSet()

_OK = json.dumps({"ok": True}).encode()
_DUPLICATE = json.dumps({"ok": True, "duplicate": True}).encode()


def _fail(status: int, error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The body, or None if it is over `limit` bytes (without reading all of a huge one)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunk = await request.content.read(limit + 1)
    if len(chunk) <= limit and request.content.at_eof():
        return chunk  # the usual delivery: all of it arrived in one piece, no copy
    # read(n) returns what has arrived so far, not n bytes: keep reading to the end.
    body = bytearray(chunk)
    while chunk and len(body) <= limit:
        chunk = await request.content.read(limit + 1 - len(body))
        body += chunk
    if len(body) > limit:
        return None
    return bytes(body)


def secret_ok(given: str | None, expected: str) -> bool:
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))


async def store_events(
    request: web.Request, platform: str, events: list[InboundEvent]
) -> web.Response:
    """Commit the events (group commit), then answer 200; 503 if the database refused,
    400 if an event cannot be stored as it is (only that delivery: its batch is kept)."""
    app = request.app
    metrics = app[keys.METRICS]
    duplicate = False
    try:
        for event in events:
            status = "ignored" if event.sender_is_bot else "pending"
            is_new = await app[keys.INBOX].submit(event, status)
            if is_new:
                metrics.child(metrics.events_received, platform).inc()
            else:
                duplicate = True
                metrics.child(metrics.events_duplicate, platform).inc()
            if log.isEnabledFor(logging.DEBUG):  # the record's dict costs every delivery
                log.debug("stored event", extra={"event_key": event.event_key, "new": is_new})
    except DeliveryError as exc:
        metrics.child(metrics.events_rejected, platform, "invalid").inc()
        return _fail(400, str(exc))
    except StorageUnavailable as exc:
        metrics.child(metrics.events_rejected, platform, "storage").inc()
        log.warning("database unavailable, asking the platform to redeliver: %s", exc)
        return _fail(503, "storage unavailable, please retry")
    # Constant bodies: this answer is the hot path, and encoding JSON for it costs.
    return web.Response(body=_DUPLICATE if duplicate else _OK, content_type="application/json")


def bot_platform_webhook(
    platform: str, parser: Parser, check_secret: bool, limiter: RateLimiter | None = None
) -> RouteHandler:
    """A handler for bodies shaped like Zalo Bot Platform deliveries."""

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            return await receive(request)
        except (web.HTTPException, asyncio.CancelledError):
            raise
        except Exception:
            return unexpected_error(request)

    async def receive(request: web.Request) -> web.StreamResponse:
        app = request.app
        settings = app[keys.SETTINGS]
        metrics = app[keys.METRICS]
        if request.method != "POST":
            return web.json_response(
                {"ok": False, "error": "method not allowed: use POST"},
                status=405,
                headers={"Allow": "POST"},
            )
        authentic = check_secret and secret_ok(
            request.headers.get("X-Bot-Api-Secret-Token"),
            settings.platform.webhook_secret.get_secret_value(),
        )
        # Only requests without the secret are limited, so nobody can spend Zalo's share.
        if limiter is not None and not authentic:
            wait = limiter.check(request.remote or "")
            if wait:
                metrics.child(metrics.events_rejected, platform, "rate_limited").inc()
                return web.json_response(
                    {"ok": False, "error": "too many requests"},
                    status=429,
                    headers={"Retry-After": limiter.retry_after(wait)},
                )
        if check_secret and not authentic:
            metrics.child(metrics.events_rejected, platform, "secret").inc()
            return _fail(401, "missing or wrong X-Bot-Api-Secret-Token")
        try:
            body = await read_body(request, settings.server.max_body_bytes)
        except RequestPayloadError as exc:
            # A body that cannot be decoded (a corrupt gzip, a broken chunk) is the sender's
            # fault: 400, not the error boundary's 503 (Zalo would redeliver it for ever).
            metrics.child(metrics.events_rejected, platform, "invalid").inc()
            reason = str(exc).splitlines()[-1].strip()
            return await refuse_unreadable(request, f"body cannot be read: {reason}")
        except ConnectionResetError:
            # The client hung up (or the guard cut a slow one) before the body was whole:
            # the network's doing, not a bug, and nobody is left to hear an answer.
            metrics.child(metrics.events_rejected, platform, "cut_off").inc()
            log.info("a delivery's body was cut off before its end: nothing stored")
            return _fail(400, "body cut off before its end")
        if body is None:
            metrics.child(metrics.events_rejected, platform, "too_large").inc()
            return _fail(413, f"body over {settings.server.max_body_bytes} bytes")
        try:
            events = parse_checked(parser, body, app[keys.CLOCK].now())
        except DeliveryError as exc:
            metrics.child(metrics.events_rejected, platform, "invalid").inc()
            return _fail(400, str(exc))
        return await store_events(request, platform, events)

    GUARDED.add(handler)
    return handler


async def refuse_unreadable(request: web.Request, error: str) -> web.Response:
    """400, then the connection closed: the rest of an undecodable stream cannot be read,
    and aiohttp, skipping it to keep the connection, would log the error as a traceback."""
    response = _fail(400, error)
    response.force_close()  # says "Connection: close", so the client does not reuse it
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()  # after the answer: the transport sends it, then closes
    return response


def unexpected_error(request: web.Request) -> web.Response:
    """No input ever gets a 500 from a webhook: an unexpected error asks for a redelivery."""
    log.exception("unhandled error on %s", request.path)
    return web.json_response({"ok": False, "error": "temporarily unavailable"}, status=503)


def parse_checked(parser: Parser, body: bytes, now: datetime) -> list[InboundEvent]:
    """The parser's events; DeliveryError for bodies no JSON decoder should be given."""
    if nested_too_deep(body):
        raise DeliveryError(f"invalid JSON: nested more than {MAX_NESTING} levels deep")
    try:
        return parser(body, now)
    except DeliveryError:
        raise
    except ValueError as exc:
        # json.loads refuses integers over sys.get_int_max_str_digits() (4300) digits
        # with a plain ValueError.
        raise DeliveryError(f"invalid JSON: {str(exc).split(':')[0]}") from None
    except RecursionError:
        raise DeliveryError(f"invalid JSON: nested more than {MAX_NESTING} levels deep") from None


def zalo_bot_parser(body: bytes, now: datetime) -> list[InboundEvent]:
    return zalo_bot.parse_delivery(body, now)


def local_parser(body: bytes, now: datetime) -> list[InboundEvent]:
    return zalo_bot.parse_delivery(body, now, platform="local")


def add_routes(app: web.Application) -> None:
    kind = app[keys.SETTINGS].platform.kind
    limiter = RateLimiter(app[keys.SETTINGS].server.rate_limit_per_minute)
    app.router.add_route(
        "*",
        "/webhook/zalo-bot",
        bot_platform_webhook("zalo_bot", zalo_bot_parser, check_secret=True, limiter=limiter),
    )
    if kind == "local":
        # The simulator's deliveries carry no secret; the route exists only on `local`.
        app.router.add_route(
            "*",
            "/webhook/local",
            bot_platform_webhook("local", local_parser, check_secret=False, limiter=limiter),
        )
