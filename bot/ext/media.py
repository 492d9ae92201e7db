"""Report photos: fetch pending attachments promptly (Zalo's media URLs expire), with retries.

A background worker runs beside the processor when the app runs its workers; tests and
one-off tools call `fetch_due(app)` for one deterministic pass.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from aiohttp import web
from yarl import URL

from bot import keys
from bot.background import add_background_task
from bot.worker import is_database_error
from models.incidents import claim_due_attachments
from models.tables import Attachment

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024  # a phone photo is a few MB; anything larger is not a photo
MAX_ATTEMPTS = 6  # about 1.5 hours of retries with the delays below
HOLD = timedelta(minutes=2)  # a claimed row is not due again while one worker fetches it
TIMEOUT = aiohttp.ClientTimeout(total=30)
IDLE_SECONDS = 2.0
MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 303, 307, 308)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 2 min, 8 min, 32 min, then hourly: quick at first, since the URL may expire."""
    return timedelta(seconds=min(30 * 4 ** max(0, attempts - 1), 3600))


@dataclass(frozen=True)
class Fetched:
    data: bytes | None = None
    content_type: str | None = None
    error: str | None = None
    permanent: bool = False  # retrying cannot help (too large, not a web address)


def host_allowed(url: URL, hosts: tuple[str, ...]) -> bool:
    """True when the URL's host is one of `hosts` or a subdomain of one (names only: an IP
    address must be listed as it is)."""
    host = (url.host or "").lower().rstrip(".")
    return bool(host) and any(
        host == h or (not h.replace(".", "").isdigit() and host.endswith("." + h)) for h in hosts
    )


async def fetch_one(http: aiohttp.ClientSession, url: str, hosts: tuple[str, ...]) -> Fetched:
    """GET one photo from an allowed host, keeping at most MAX_BYTES; every failure becomes a
    Fetched.error. Redirects are followed only to allowed hosts (a member chooses the URL)."""
    try:
        target = URL(url)
    except ValueError:
        return Fetched(error="not a web address", permanent=True)
    for _ in range(MAX_REDIRECTS + 1):
        if target.scheme not in ("http", "https") or not target.host:
            return Fetched(error="not a web address", permanent=True)
        if not host_allowed(target, hosts):
            return Fetched(
                error=f"{target.host} is not a Zalo media host (platform.media_hosts)",
                permanent=True,
            )
        try:
            async with http.get(target, timeout=TIMEOUT, allow_redirects=False) as resp:
                if resp.status in REDIRECTS and "Location" in resp.headers:
                    target = resp.url.join(URL(resp.headers["Location"]))
                    continue
                return await _read(resp)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return Fetched(error=f"{type(exc).__name__}: {exc}"[:500])
    return Fetched(error=f"more than {MAX_REDIRECTS} redirects", permanent=True)


async def _read(resp: aiohttp.ClientResponse) -> Fetched:
    if resp.status != 200:
        return Fetched(error=f"HTTP {resp.status}")
    if resp.content_length is not None and resp.content_length > MAX_BYTES:
        return Fetched(error=f"too large: {resp.content_length} bytes", permanent=True)
    body = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > MAX_BYTES:
            return Fetched(error=f"too large: over {MAX_BYTES} bytes", permanent=True)
    return Fetched(data=bytes(body), content_type=resp.content_type[:100])


async def fetch_due(app: web.Application) -> int:
    """One pass: fetch every photo due now and record the outcome; returns how many were tried."""
    sessions, clock = app[keys.SESSIONS], app[keys.CLOCK]
    hosts = app[keys.SETTINGS].platform.media_hosts
    async with sessions() as session, session.begin():
        due = [(a.id, a.url) for a in await claim_due_attachments(session, clock.now(), HOLD)]
    for att_id, url in due:
        # Fetched outside any transaction: a slow server never holds a database lock.
        result = await fetch_one(app[keys.HTTP], url, hosts)
        async with sessions() as session, session.begin():
            row = await session.get(Attachment, att_id)
            if row is not None:
                record(row, result, clock.now())
    return len(due)


def record(row: Attachment, result: Fetched, now: datetime) -> None:
    """Store the photo, or the error and when to try again (failed for good after N tries)."""
    row.attempts += 1
    if result.data is not None:
        row.status, row.data, row.content_type = "fetched", result.data, result.content_type
        row.fetched_at, row.error, row.next_attempt_at = now, None, None
        return
    row.error = result.error
    if result.permanent or row.attempts >= MAX_ATTEMPTS:
        row.status, row.next_attempt_at = "failed", None
        log.warning("photo %s given up: %s", row.id, result.error)
    else:
        row.next_attempt_at = now + retry_delay(row.attempts)


async def _worker(app: web.Application) -> None:
    while True:
        try:
            tried = await fetch_due(app)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one bad pass (database away) must not end the worker
            if is_database_error(exc):  # an outage: one line, as the other workers say it
                log.warning("photo fetch cannot reach the database (retrying): %r", exc)
            else:  # anything else is a bug: its traceback
                log.exception("photo fetch pass failed")
            tried = 0
        if tried == 0:
            await asyncio.sleep(IDLE_SECONDS)


def install(app: web.Application) -> None:
    """Run the photo fetcher beside the processor (only when the app runs its workers)."""
    add_background_task(app, "media", _worker, with_workers_only=True)
