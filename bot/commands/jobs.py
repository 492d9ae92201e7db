"""`antt-bot jobs list` and `antt-bot jobs run NAME [--at ISO] [--send]`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from aiohttp import web

from bot import keys
from bot.app import create_app
from bot.cli import EXIT_FAIL, EXIT_OK, UsageError, chosen_council, command, load, parse_when
from bot.commands.core import open_db
from bot.scheduler import next_fire, run_job
from handlers.clock import FixedClock, SystemClock
from handlers.config import Settings
from handlers.jobs import JobSpec, load_all


@command("jobs list")
def jobs_list(args: argparse.Namespace) -> int:
    settings = load(args)
    now = datetime.now(UTC)
    for spec in load_all().values():
        print(f"{spec.name:<20} {schedule(spec, settings, now):<22} {spec.description}")
    return EXIT_OK


def schedule(spec: JobSpec, settings: Settings, now: datetime) -> str:
    """`next 2026-12-07 08:00` for a job that acts at a set time; `every N min` otherwise."""
    if spec.next_due is not None:  # checks often, acts at a set time (the digest's send)
        fire: datetime | None = spec.next_due(settings, now)
    else:
        trigger = spec.trigger(settings)
        if trigger["trigger"] == "interval" and "minutes" in trigger:
            # An interval counts from when `serve` started: only its period is known here.
            return f"every {trigger['minutes']} min"
        fire = next_fire(spec, settings, now)
    return f"next {fire.astimezone(settings.tz):%Y-%m-%d %H:%M}" if fire else "-"


@command("jobs run")
async def jobs_run(args: argparse.Namespace) -> int:
    settings = load(args)
    jobs = load_all()
    if args.name not in jobs:
        raise UsageError(f"unknown job {args.name!r}; jobs: {', '.join(jobs)}")
    council = chosen_council(args, settings, required=False)  # none: every park's council
    clock = FixedClock(parse_when(args.at, settings.tz, "--at")) if args.at else SystemClock()
    holder = f"cli:{id(clock):x}"
    if not args.send:
        async with open_db(settings) as sessions:
            outcome = await run_job(
                args.name, sessions, settings, clock, holder, council_id=council
            )
        return _report(outcome.name, outcome.ran, outcome.queued, sent=False)
    # --send: run inside a full app so the real sender delivers what the job queued.
    app = create_app(settings, clock=clock, workers=False)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        runtime = app[keys.RUNTIME]
        outcome = await runtime.run_job(args.name, council)
        await runtime.drain()
    finally:
        await runner.cleanup()
    return _report(outcome.name, outcome.ran, outcome.queued, sent=True)


def _report(name: str, ran: bool, queued: int, sent: bool) -> int:
    if not ran:
        print(
            f"{name}: skipped, another instance is running it; try again shortly", file=sys.stderr
        )
        return EXIT_FAIL
    tail = "and delivered" if sent else "(a running `serve` delivers them)"
    print(f"{name}: {queued} message(s) queued {tail}")
    return EXIT_OK
