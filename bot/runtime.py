"""The background parts of one process: inbox writer, processor, sender, and the jobs it runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.inbox import InboxWriter
from bot.processor import Processor
from bot.scheduler import JobOutcome, LeaseTerms, run_spec
from bot.sender import Sender
from handlers.clock import Clock
from handlers.config import Settings
from handlers.jobs import JobSpec, load_all

log = logging.getLogger(__name__)

JOBS_GRACE_SECONDS = 60.0  # how long a shutdown waits for running jobs before stopping them


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
    lease: LeaseTerms = field(default_factory=LeaseTerms)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    jobs_running: set[asyncio.Task[JobOutcome]] = field(default_factory=set)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def workers_running(self) -> bool:
        """True in `serve` and the demo; False for one-off commands and hand-driven tests."""
        return bool(self.tasks)

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

    async def run_job(self, name: str, council_id: str | None = None) -> JobOutcome:
        """Run one scheduled job now, at the clock's time, and wake the sender (with several
        parks, for every council, or for `council_id` alone)."""
        spec = load_all().get(name)
        if spec is None:
            raise KeyError(name)
        return await self.run(spec, council_id)

    async def run(self, spec: JobSpec, council_id: str | None = None) -> JobOutcome:
        """Run a job in a task of its own that shutdown waits for: a caller that is cancelled
        (the scheduler stopping, a closed request) does not cut the job short."""
        task = asyncio.create_task(
            run_spec(
                spec,
                self.sessions,
                self.settings,
                self.clock,
                self.holder,
                self.lease,
                council_id,
            ),
            name=f"job:{spec.name}",
        )
        self.jobs_running.add(task)
        task.add_done_callback(self.jobs_running.discard)
        outcome = await asyncio.shield(task)
        self.send_wake.set()
        return outcome

    async def wait_for_jobs(self, grace: float = JOBS_GRACE_SECONDS) -> None:
        """Shutdown: let running jobs finish (their lease and transaction end cleanly); after
        `grace` seconds stop them (jobs are idempotent: the next run redoes the rest)."""
        self.stopping.set()
        running = set(self.jobs_running)
        if not running:
            return
        log.info("waiting for %d running job(s) before stopping", len(running))
        _done, pending = await asyncio.wait(running, timeout=grace)
        for task in pending:
            log.warning("job %s still running after %.0f s: stopped", task.get_name(), grace)
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def drain(self, rounds: int = 10_000) -> None:
        """Handle every stored event and send every due message now (tests, `jobs run --send`)."""
        for _ in range(rounds):
            handled = await self.processor.run_once()
            sent = await self.sender.run_once()
            if handled == 0 and sent == 0:
                return
