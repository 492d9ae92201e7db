"""How long one week's digest takes on a year of a big park's data, SQLite and PostgreSQL.

1,000 members, 50 groups, 1,000,000 messages over a year (plus check-ins, reports,
directives, acks, tasks, nudges and the bot's sends), bulk-loaded (executemany on SQLite,
COPY on PostgreSQL). Timed in the same run: a plain COUNT(*) of the week's messages (the
baseline), the park totals, and the whole digest (every group and enterprise, the 4-week
trend, top and inactive members). PostgreSQL runs when ANTT_BENCH_POSTGRES_URL or
ANTT_TEST_POSTGRES_URL names a server (a scratch database is created and dropped).

    python -m bench digest        (or: python bench/digest.py)
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import machine, pg_scratch, postgres_url, table
from handlers.config import Settings, load_settings
from handlers.digest import build_digest, week_bounds
from models import digest as q
from models.db import make_engine, make_sessionmaker, upgrade

MEMBERS, GROUPS, MESSAGES = 1_000, 50, 1_000_000
ENTERPRISES = 40
YEAR_START = datetime(2025, 12, 1, tzinfo=UTC)
DAYS = 365
WEEK = "2026-W22"  # a week in the middle of the data
REPEAT = 5
SEED = 20261127
COORDINATORS = 10  # the first members; the digest counts members only (docs/digest.md)

Rows = dict[str, list[tuple[Any, ...]]]


def _at(rng: random.Random) -> datetime:
    return YEAR_START + timedelta(seconds=rng.randrange(DAYS * 86400))


def generate() -> Rows:
    """Every table's rows as tuples, reproducible from SEED."""
    rng = random.Random(SEED)
    t0 = YEAR_START - timedelta(days=30)
    groups = [
        (
            i,
            f"g{i:04d}",
            f"Nhóm {i}",
            "council" if i == 1 else "enterprise",
            f"Doanh nghiệp {i % ENTERPRISES}" if i > 1 else None,
            t0,
        )
        for i in range(1, GROUPS + 1)
    ]
    members = []
    memberships = []
    homes: dict[int, list[str]] = {}
    ms_id = 0
    for m in range(1, MEMBERS + 1):
        role = "coordinator" if m <= COORDINATORS else "member"
        members.append(
            (
                m,
                f"u{m:06d}",
                f"Thành viên {m}",
                f"thanh vien {m}",
                f"Thành viên {m}",
                f"09{m:08d}",
                f"Doanh nghiệp {m % ENTERPRISES}",
                role,
                "member",
                False,
                f"p{m:06d}",
                True,
                t0,
                t0,
                None,
            )
        )
        chosen = [1, *rng.sample(range(2, GROUPS + 1), rng.randint(1, 3))]
        homes[m] = [f"g{g:04d}" for g in chosen]
        for g in chosen:
            ms_id += 1
            memberships.append((ms_id, m, g, True, t0, None))
    # A few members are much chattier than the rest and a fifth barely write, as in real
    # groups, so the inactive list is not empty.
    weights = [rng.paretovariate(1.5) if rng.random() > 0.2 else 0.002 for _ in range(MEMBERS)]
    senders = rng.choices(range(1, MEMBERS + 1), weights=weights, k=MESSAGES)
    messages = []
    for i, m in enumerate(senders, start=1):
        at = _at(rng)
        chat = rng.choice(homes[m])
        messages.append(
            (
                i,
                "zalo_bot",
                chat,
                "group",
                m,
                f"u{m:06d}",
                f"mid{i}",
                at,
                "text",
                "xin chào",
                None,
                None,
                at,
            )
        )
    checkins = [
        (i, m, "g0001", "attendance", "", _at(rng))
        for i, m in enumerate(rng.choices(range(1, MEMBERS + 1), k=50_000), start=1)
    ]
    cats = ("fire", "theft", "fight", "traffic", "suspicious", "equipment", "other")
    reports = [
        (
            i,
            rng.choice(homes[m]),
            m,
            rng.choice(cats),
            rng.choice(("high", "medium", "low")),
            "confirmed",
            "[]",
            "[]",
            "báo cáo",
            False,
            _at(rng),
        )
        for i, m in enumerate(rng.choices(range(1, MEMBERS + 1), k=5_000), start=1)
    ]
    directives, targets, acks = [], [], []
    ack_id = 0
    for d in range(1, 521):
        at = _at(rng)
        g = rng.randint(1, GROUPS)
        directives.append(
            (
                d,
                rng.randint(1, 10),
                f"g{g:04d}",
                f"Thông báo {d}",
                at,
                at + timedelta(days=1),
                "open",
            )
        )
        targets.append((d, d, f"g{g:04d}"))
        for m in rng.sample(range(1, MEMBERS + 1), 15):
            ack_id += 1
            acks.append((ack_id, d, m, "g0001", at + timedelta(hours=rng.randint(1, 30))))
    tasks = []
    for t in range(1, 2_001):
        created = _at(rng)
        due = created + timedelta(days=rng.randint(1, 10))
        done = rng.random() < 0.7
        tasks.append(
            (
                t,
                rng.randint(1, MEMBERS),
                "g0001",
                "tuần tra",
                due,
                "done" if done else "open",
                created,
                due - timedelta(hours=rng.randint(-24, 48)) if done else None,
            )
        )
    outbox, nudges = [], []
    levels: dict[tuple[int, str], int] = {}
    for o in range(1, 20_001):
        at = _at(rng)
        kind = "nudge" if o <= 3_000 else rng.choice(("reply", "directive", "digest"))
        outbox.append(
            (
                o,
                f"p{rng.randint(1, MEMBERS):06d}",
                kind,
                30,
                "ok",
                f"bench:{o}",
                "sent",
                1,
                at,
                at,
                1,
                at,
            )
        )
        if kind == "nudge":
            m = rng.randint(1, MEMBERS)
            week = f"{at.isocalendar()[0]}-W{at.isocalendar()[1]:02d}"
            back = at + timedelta(days=2) if rng.random() < 0.4 else None
            level = levels[(m, week)] = levels.get((m, week), 0) + 1
            nudges.append((o, m, week, level, "private", f"p{m:06d}", o, at, back))
    return {
        "groups": groups,
        "members": members,
        "memberships": memberships,
        "messages": messages,
        "checkins": checkins,
        "reports": reports,
        "directives": directives,
        "directive_targets": targets,
        "acks": acks,
        "tasks": tasks,
        "outbox": outbox,
        "nudges": nudges,
    }


COLUMNS = {
    "groups": "id, chat_id, name, kind, enterprise, created_at",
    "members": "id, member_id, name, name_folded, display_name, phone, enterprise, role, "
    "status, is_lead, private_chat_id, active, created_at, expected_since, "
    "last_active_at",
    "memberships": "id, member_pk, group_pk, from_roster, joined_at, last_active_at",
    "messages": "id, platform, chat_id, chat_type, member_pk, member_id, message_id, sent_at, "
    "kind, text, type, category, created_at",
    "checkins": "id, member_pk, chat_id, kind, note, at",
    "reports": "id, chat_id, member_pk, category, severity, status, places, phones, text, "
    "ambiguous, created_at",
    "directives": "id, issued_by, origin_chat_id, text, created_at, deadline_at, status",
    "directive_targets": "id, directive_pk, chat_id",
    "acks": "id, directive_pk, member_pk, chat_id, at",
    "tasks": "id, assignee_pk, chat_id, text, due_at, status, created_at, done_at",
    "outbox": "id, chat_id, kind, priority, text, idempotency_key, status, attempts, "
    "next_attempt_at, sent_at, chunks_sent, created_at",
    "nudges": "id, member_pk, week, level, channel, chat_id, outbox_pk, planned_at, reengaged_at",
}
ORDER = (
    "groups",
    "members",
    "memberships",
    "messages",
    "checkins",
    "reports",
    "directives",
    "directive_targets",
    "acks",
    "tasks",
    "outbox",
    "nudges",
)


def _sqlite_value(v: Any) -> Any:
    # The format SQLAlchemy's DateTime writes on SQLite (naive UTC), so comparisons agree.
    return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v


def load_sqlite(path: Path, rows: Rows) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=OFF")
        for table_name in ORDER:
            cols = COLUMNS[table_name]
            marks = ", ".join("?" * len(cols.split(",")))
            con.executemany(
                f"INSERT INTO {table_name} ({cols}) VALUES ({marks})",
                ([_sqlite_value(v) for v in r] for r in rows[table_name]),
            )
        con.commit()
        con.execute("ANALYZE")
    finally:
        con.close()


async def load_postgres(url: str, rows: Rows) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for table_name in ORDER:
            cols = [c.strip() for c in COLUMNS[table_name].split(",")]
            records = rows[table_name]
            await conn.copy_records_to_table(table_name, records=records, columns=cols)
        for table_name in ORDER:  # COPY with explicit ids leaves the sequences behind
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
                f"(SELECT max(id) FROM {table_name}))"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


async def measure(url: str, settings: Settings) -> list[tuple[str, float, str]]:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    start, end = week_bounds(WEEK, settings.tz)
    w = q.Window(start, end, end)
    now = end + timedelta(days=1)
    out = []
    try:
        async with sessions() as s:
            base, n = await timed(lambda: q.week_message_count(s, w))
            out.append(("baseline: COUNT(*) of the week's messages", base, f"{n:,} messages"))
            tot, fig = await timed(lambda: q.totals(s, w))
            out.append(("park totals (one scope)", tot, f"{fig.active} of {fig.members} active"))
            shifts, lines = await timed(lambda: q.shift_checkins(s, w, {}, settings.tz))
            out.append(
                (
                    "check-ins per enterprise and shift (part of the digest)",
                    shifts,
                    f"{sum(x.checkins for x in lines):,} check-ins in {len(lines)} rows",
                )
            )
            full, digest = await timed(lambda: build_digest(s, settings, WEEK, now))
            out.append(
                (
                    "whole digest: 50 groups, 40 enterprises, trend, people",
                    full,
                    f"{len(digest.groups)} groups, {len(digest.inactive_members)} inactive",
                )
            )
    finally:
        await engine.dispose()
    return out


def _progress(msg: str) -> None:
    if sys.stderr.isatty():
        print(msg, file=sys.stderr, flush=True)


async def main() -> str:
    _progress("generating a year of data ...")
    start = time.perf_counter()
    rows = generate()
    gen = time.perf_counter() - start
    results: list[list[Any]] = []
    notes = [machine(), f"data generated in {gen:.1f} s; median of {REPEAT} runs per figure"]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings = load_settings(None, environ={}, overrides={"database": {"url": url}})
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()
        _progress("loading SQLite ...")
        t = time.perf_counter()
        load_sqlite(Path(tmp) / "bench.db", rows)
        notes.append(f"SQLite loaded in {time.perf_counter() - t:.1f} s")
        for what, secs, detail in await measure(url, settings):
            results.append(["SQLite", what, f"{secs * 1000:.0f} ms", detail])
    pg = postgres_url()
    if pg:
        url, drop = await pg_scratch(pg)
        try:
            engine = make_engine(url)
            await upgrade(engine)
            await engine.dispose()
            _progress("loading PostgreSQL ...")
            t = time.perf_counter()
            await load_postgres(url, rows)
            notes.append(f"PostgreSQL loaded in {time.perf_counter() - t:.1f} s")
            settings = load_settings(None, environ={}, overrides={"database": {"url": url}})
            for what, secs, detail in await measure(url, settings):
                results.append(["PostgreSQL", what, f"{secs * 1000:.0f} ms", detail])
        finally:
            await drop()
    else:
        notes.append("PostgreSQL skipped: set ANTT_BENCH_POSTGRES_URL")
    notes.append("target: the whole digest under 1 s")
    return table(
        f"digest: one week ({WEEK}) of {MEMBERS:,} members, {GROUPS} groups, "
        f"{MESSAGES:,} messages a year",
        ["database", "what", "median", "result"],
        results,
        notes,
    )


if __name__ == "__main__":
    print(asyncio.run(main()))
