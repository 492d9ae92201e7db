"""Long-poll mode: getUpdates feeds the same inbox as the webhook (no public URL needed)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot import keys
from bot.background import add_background_task
from bot.inbox import StorageUnavailable
from bot.platforms.base import DeliveryError, PlatformError, Unauthorized
from bot.platforms.outage import describe
from bot.platforms.zalo_bot import ZaloBotClient, event_from_json
from bot.sender import backoff_seconds

log = logging.getLogger(__name__)


class Poller:
    """One update per call; 408 means nothing new; the same update may come back (deduped)."""

    def __init__(self, app: web.Application) -> None:
        client = app[keys.CLIENT]
        if not isinstance(client, ZaloBotClient):
            raise RuntimeError("polling mode needs platform.kind: zalo_bot")
        self._client = client
        self._settings, self._clock, self._inbox = (
            app[keys.SETTINGS],
            app[keys.CLOCK],
            app[keys.INBOX],
        )
        # The sender's: a refused token pauses sending and polling alike, and shows on /healthz.
        self.outage = app[keys.RUNTIME].sender.outage
        self._failures = 0

    async def poll_once(self) -> float:
        """One getUpdates call, its update stored; returns the seconds to wait before the next."""
        try:
            update = await self._client.get_update(self._settings.platform.poll_timeout_seconds)
            self._failures = 0
            if self.outage.recovered():
                log.warning("zalo_bot accepts the token again: polling resumes")
        except Unauthorized as exc:
            # Not the end of polling: the token may be fixed on Zalo's side (or it was a glitch).
            first = self.outage.reason is None
            reason = describe(self._client.name, exc)
            pause = self.outage.refused(self._clock.now(), reason)
            if first:
                log.error("polling paused: %s; trying again in %d s", reason, pause.seconds)
            else:
                log.warning("polling still paused: %s", exc)
            return pause.total_seconds()
        except PlatformError as exc:
            self._failures += 1
            log.warning("getUpdates failed: %s", exc)
            return backoff_seconds(self._failures)
        if update is None:
            return 0.0
        try:
            event = event_from_json(update, self._clock.now())
        except DeliveryError as exc:
            log.warning("ignoring an update that is not an event: %s", exc)
            return 0.0
        while True:
            try:
                await self._inbox.submit(event, "ignored" if event.sender_is_bot else "pending")
                return 0.0
            except DeliveryError as exc:  # this update cannot be stored as it is
                log.warning("ignoring an update that cannot be stored: %s", exc)
                return 0.0
            except StorageUnavailable:
                # Keep the update in hand until the database takes it: nothing is lost.
                await asyncio.sleep(1)

    async def run(self) -> None:
        while True:
            delay = await self.poll_once()
            if delay > 0:
                await asyncio.sleep(delay)


async def poll_forever(app: web.Application) -> None:
    """The background task of polling mode."""
    await Poller(app).run()


def install(app: web.Application) -> None:
    """Run the poller beside the other workers when platform.mode is polling."""
    add_background_task(app, "poller", poll_forever)
