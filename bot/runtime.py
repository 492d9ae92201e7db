"""The background parts of one process: inbox writer, processor, sender (and scheduler)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.inbox import InboxWriter
from bot.processor import Processor
from bot.scheduler import JobOutcome, run_job
from bot.sender import Sender
from handlers.clock import Clock
from handlers.config import Settings


@dataclass
class Runtime:
    inbox: InboxWriter
    processor: Processor
    sender: Sender
    send_wake: asyncio.Event
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    clock: Clock
    holder: str
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    extra_stoppers: list[object] = field(default_factory=list)

    def start_workers(self) -> None:
        self.tasks.append(asyncio.create_task(self.processor.run(), name="processor"))
        self.tasks.append(asyncio.create_task(self.sender.run(), name="sender"))

    async def stop_workers(self, grace: float = 10.0) -> None:
        """Let each worker finish the event or send in hand, then stop (SIGTERM path)."""
        self.processor.stop()
        self.sender.stop()
        if self.tasks:
            _done, pending = await asyncio.wait(self.tasks, timeout=grace)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.tasks.clear()

    async def run_job(self, name: str) -> JobOutcome:
        """Run one scheduled job now, at the clock's time, and wake the sender."""
        outcome = await run_job(name, self.sessions, self.settings, self.clock, self.holder)
        self.send_wake.set()
        return outcome

    async def drain(self, rounds: int = 10_000) -> None:
        """Handle every stored event and send every due message now (tests, `jobs run --send`)."""
        for _ in range(rounds):
            handled = await self.processor.run_once()
            sent = await self.sender.run_once()
            if handled == 0 and sent == 0:
                return
