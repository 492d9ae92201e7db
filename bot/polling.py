"""Long-poll mode: getUpdates feeds the same inbox as the webhook (no public URL needed)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot import keys
from bot.background import add_background_task
from bot.inbox import StorageUnavailable
from bot.platforms.base import DeliveryError, PlatformError, Unauthorized
from bot.platforms.zalo_bot import ZaloBotClient, event_from_json
from bot.sender import backoff_seconds

log = logging.getLogger(__name__)


async def poll_forever(app: web.Application) -> None:
    """One update per call; 408 means nothing new; the same update may come back (deduped)."""
    client = app[keys.CLIENT]
    if not isinstance(client, ZaloBotClient):
        raise RuntimeError("polling mode needs platform.kind: zalo_bot")
    settings, clock, inbox = app[keys.SETTINGS], app[keys.CLOCK], app[keys.INBOX]
    failures = 0
    while True:
        try:
            update = await client.get_update(settings.platform.poll_timeout_seconds)
            failures = 0
        except Unauthorized:
            log.error("polling stopped: the bot token was refused (401); fix platform.token")
            return
        except PlatformError as exc:
            failures += 1
            log.warning("getUpdates failed: %s", exc)
            await asyncio.sleep(backoff_seconds(failures))
            continue
        if update is None:
            continue
        try:
            event = event_from_json(update, clock.now())
        except DeliveryError as exc:
            log.warning("ignoring an update that is not an event: %s", exc)
            continue
        while True:
            try:
                await inbox.submit(event, "ignored" if event.sender_is_bot else "pending")
                break
            except DeliveryError as exc:  # this update cannot be stored as it is
                log.warning("ignoring an update that cannot be stored: %s", exc)
                break
            except StorageUnavailable:
                # Keep the update in hand until the database takes it: nothing is lost.
                await asyncio.sleep(1)


def install(app: web.Application) -> None:
    """Run the poller beside the other workers when platform.mode is polling."""
    add_background_task(app, "poller", poll_forever)
