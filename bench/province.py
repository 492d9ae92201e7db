"""A province on one installation: 30 parks' councils, 3,000 members, 300 groups and
1,000,000 messages over half a year (plus check-ins, reports, incidents, directives, acks
and requests), then two `antt-bot serve` OS processes taking a mixed load of every park
(bench/province_load.py).

Timed in one run: a plain COUNT(*) of the week's messages (the baseline), the provincial
overview (every park, the 6-week trend, the attention rules) and one park's digest, each the
median of 5; then the overview's queries one by one, so a slow one shows. PostgreSQL runs
when ANTT_BENCH_POSTGRES_URL (or ANTT_TEST_POSTGRES_URL) names a server; the data goes into
the database `antt_bench_province` on it, kept between runs and reused while its shape
matches (ANTT_BENCH_PROVINCE_FRESH=1 rebuilds it, ANTT_BENCH_PROVINCE_DROP=1 drops it after).
Without PostgreSQL a SQLite file in a temp dir is used (slower to load).

    python -m bench province        (or: python bench/province.py)
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import SECRET, TOKEN, machine, pg_scratch, postgres_url, table
from bench.digest import _sqlite_value
from bench.province_load import Chats, LoadFigures, two_apps, two_processes
from handlers.config import Settings, load_settings
from handlers.digest import build_digest, window
from handlers.province import build_province_digest
from models import province as pq
from models.db import make_engine, make_sessionmaker, upgrade

COUNCILS, MEMBERS, GROUPS, MESSAGES = 30, 3_000, 300, 1_000_000
PER_COUNCIL, GROUPS_PER = MEMBERS // COUNCILS, GROUPS // COUNCILS
CHECKINS, INCIDENTS, REQUESTS = 80_000, 3_000, 2_000
START = datetime(2025, 12, 28, 17, 0, tzinfo=UTC)  # Monday 29/12/2025 00:00 in Hanoi
WEEKS = 26
WEEK = "2026-W24"  # measured: late in the data, so its 6-week trend is full
REPEAT = 5
LOAD_PER_CHAT = 4  # events per group chat sent to the two serve processes
SEED = 20261205
DB_NAME = "antt_bench_province"
# Kept in `kv` after a load: a database with another shape is rebuilt, not measured.
SHAPE = f"v2:{COUNCILS}:{MEMBERS}:{GROUPS}:{MESSAGES}:{WEEKS}:{SEED}"
# Parks made to need attention, so the rules are exercised on real volumes.
QUIET_PARK, NO_NIGHT_PARK, SLOW_PARK, LOW_ACK_PARK = 7, 12, 3, 20

Rows = dict[str, list[tuple[Any, ...]]]


def council_id(c: int) -> str:
    return f"kcn-{c:02d}"


def chat_id(c: int, g: int) -> str:
    return f"g{c:02d}-{g:02d}"


def province_settings(url: str, **extra: Any) -> Settings:
    """Every park's council configured, with its groups and chair; the province's staff."""
    data: dict[str, Any] = {
        **province_config(),
        "database": {"url": url},
        "platform": {"kind": "local", "webhook_secret": SECRET, "token": TOKEN},
        **extra,
    }
    return load_settings(None, environ={}, overrides=data)


def province_config() -> dict[str, Any]:
    """The configuration file's content without the database and the secrets (a `serve`
    process takes those from the environment)."""
    councils = [
        {
            "id": council_id(c),
            "name": f"KCN số {c}",
            "coordinators": [f"u{c * PER_COUNCIL + 1:06d}"],
            "groups": [
                {
                    "chat_id": chat_id(c, g),
                    "name": f"Nhóm {g} KCN số {c}",
                    "kind": "council" if g == 0 else "enterprise",
                    **({"enterprise": f"Doanh nghiệp {c}-{g}"} if g else {}),
                }
                for g in range(GROUPS_PER)
            ],
        }
        for c in range(COUNCILS)
    ]
    return {
        "platform": {"kind": "local"},
        "engagement": {"holidays": [], "monthly_message_budget": 0},
        "councils": councils,
        "province": {"coordinators": ["u_tinh"]},
        "log_level": "WARNING",
    }


def _at(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.randrange(WEEKS * 7 * 86400))


def generate() -> Rows:
    """Every table's rows as tuples, reproducible from SEED."""
    rng = random.Random(SEED)
    t0 = START - timedelta(days=30)
    groups: list[tuple[Any, ...]] = []
    members: list[tuple[Any, ...]] = []
    memberships: list[tuple[Any, ...]] = []
    council_members: list[tuple[Any, ...]] = []
    homes: dict[int, list[str]] = {}
    council_of: dict[int, int] = {}
    group_pk = {}
    for c in range(COUNCILS):
        for g in range(GROUPS_PER):
            pk = c * GROUPS_PER + g + 1
            group_pk[chat_id(c, g)] = pk
            kind = "council" if g == 0 else "enterprise"
            enterprise = f"Doanh nghiệp {c}-{g}" if g else None
            name = f"Nhóm {g} KCN số {c}"
            groups.append((pk, council_id(c), chat_id(c, g), name, kind, enterprise, t0))
    for m in range(1, MEMBERS + 1):
        c = (m - 1) // PER_COUNCIL
        council_of[m] = c
        role = "coordinator" if (m - 1) % PER_COUNCIL == 0 else "member"
        ent = f"Doanh nghiệp {c}-{rng.randint(1, GROUPS_PER - 1)}"
        members.append(
            (m, f"u{m:06d}", f"Thành viên {m}", f"thanh vien {m}", f"Thành viên {m}",
             f"09{m:08d}", ent, role, "member", False, f"p{m:06d}", True, t0, t0, None)
        )  # fmt: skip
        council_members.append((m, m, council_id(c), role, t0))
        chosen = [0, *rng.sample(range(1, GROUPS_PER), rng.randint(1, 2))]
        homes[m] = [chat_id(c, g) for g in chosen]
        for g in chosen:
            memberships.append((len(memberships) + 1, m, group_pk[chat_id(c, g)], True, t0, None))
    # Chatty few, quiet many; one park barely writes at all.
    weights = []
    for m in range(1, MEMBERS + 1):
        w = rng.paretovariate(1.5) if rng.random() > 0.2 else 0.002
        weights.append(w * (0.01 if council_of[m] == QUIET_PARK else 1.0))
    senders = rng.choices(range(1, MEMBERS + 1), weights=weights, k=MESSAGES)
    # Stored as they arrive: ids follow time, so a week's rows sit together in the table.
    times = sorted(_at(rng) for _ in range(MESSAGES))
    messages = []
    for i, (m, at) in enumerate(zip(senders, times, strict=True), start=1):
        messages.append(
            (i, council_id(council_of[m]), "zalo_bot", rng.choice(homes[m]), "group", m,
             f"u{m:06d}", f"mid{i}", at, "text", "xin chào", None, None, at)
        )  # fmt: skip
    checkins = []
    for i in range(1, CHECKINS + 1):
        m = rng.randint(1, MEMBERS)
        c = council_of[m]
        at = _at(rng)
        local_hour = (at.hour + 7) % 24
        if c == NO_NIGHT_PARK and (local_hour >= 22 or local_hour < 6):
            at -= timedelta(hours=10)  # this park never checks in at night
        kind = "patrol" if rng.random() < 0.3 else "attendance"
        checkins.append((i, council_id(c), m, homes[m][0], kind, "", at))
    cats = ("fire", "theft", "fight", "traffic", "suspicious", "equipment", "other")
    incidents: list[tuple[Any, ...]] = []
    reports: list[tuple[Any, ...]] = []
    for i in range(1, INCIDENTS + 1):
        m = rng.randint(1, MEMBERS)
        c = council_of[m]
        first = _at(rng)
        delay = rng.expovariate(1 / (300 if c == SLOW_PARK else 25))
        acked = first + timedelta(minutes=delay)
        resolved = acked + timedelta(minutes=rng.expovariate(1 / 240))
        # A few recent ones are still open (older ones were closed long ago).
        still_open = first > START + timedelta(weeks=WEEKS - 3) and rng.random() < 0.03
        status = "handling" if still_open else "resolved"
        category = rng.choice(cats)
        incidents.append(
            (i, council_id(c), category, "medium", status, "", False, first, first, acked,
             None if still_open else resolved, 0)
        )  # fmt: skip
        for _ in range(2):
            reports.append(
                (len(reports) + 1, council_id(c), rng.choice(homes[m]), m, category, "medium",
                 "confirmed", "[]", "[]", "báo cáo", False, first, i)
            )  # fmt: skip
    directives: list[tuple[Any, ...]] = []
    targets: list[tuple[Any, ...]] = []
    acks: list[tuple[Any, ...]] = []
    group_members: dict[str, list[int]] = defaultdict(list)
    for m, chats in homes.items():
        for chat in chats:
            group_members[chat].append(m)
    for c in range(COUNCILS):
        for week in range(WEEKS):
            d = len(directives) + 1
            at = START + timedelta(days=7 * week + rng.randint(0, 4), hours=rng.randint(1, 10))
            chair = c * PER_COUNCIL + 1
            chat = chat_id(c, 0)
            deadline = at + timedelta(days=1)
            directives.append(
                (d, council_id(c), chair, chat, f"Thông báo {d}", at, deadline, "open")
            )
            targets.append((d, d, chat))
            share = 0.3 if c == LOW_ACK_PARK else 0.85
            for m in group_members[chat]:
                if m != chair and rng.random() < share:
                    ack_at = at + timedelta(hours=rng.randint(1, 30))
                    acks.append((len(acks) + 1, d, m, chat, ack_at))
    requests = []
    for i in range(1, REQUESTS + 1):
        m = rng.randint(1, MEMBERS)
        asked = _at(rng)
        answered = asked + timedelta(hours=rng.randint(1, 48)) if rng.random() < 0.85 else None
        requests.append(
            (i, council_id(council_of[m]), m, f"p{m:06d}", "cho hỏi",
             "answered" if answered else "open", "coordinators", asked, answered)
        )  # fmt: skip
    return {
        "groups": groups,
        "members": members,
        "council_members": council_members,
        "memberships": memberships,
        "messages": messages,
        "checkins": checkins,
        "incidents": incidents,
        "reports": reports,
        "directives": directives,
        "directive_targets": targets,
        "acks": acks,
        "requests": requests,
    }


COLUMNS = {
    "groups": "id, council_id, chat_id, name, kind, enterprise, created_at",
    "members": "id, member_id, name, name_folded, display_name, phone, enterprise, role, "
    "status, is_lead, private_chat_id, active, created_at, expected_since, last_active_at",
    "council_members": "id, member_pk, council_id, role, created_at",
    "memberships": "id, member_pk, group_pk, from_roster, joined_at, last_active_at",
    "messages": "id, council_id, platform, chat_id, chat_type, member_pk, member_id, "
    "message_id, sent_at, kind, text, type, category, created_at",
    "checkins": "id, council_id, member_pk, chat_id, kind, note, at",
    "incidents": "id, council_id, category, severity, status, place_key, urgent, "
    "first_reported_at, last_reported_at, acknowledged_at, resolved_at, escalation_level",
    "reports": "id, council_id, chat_id, member_pk, category, severity, status, places, "
    "phones, text, ambiguous, created_at, incident_pk",
    "directives": "id, council_id, issued_by, origin_chat_id, text, created_at, deadline_at, "
    "status",
    "directive_targets": "id, directive_pk, chat_id",
    "acks": "id, directive_pk, member_pk, chat_id, at",
    "requests": "id, council_id, member_pk, chat_id, text, status, forwarded_to, asked_at, "
    "answered_at",
}


def _cols(name: str) -> list[str]:
    return [c.strip() for c in COLUMNS[name].split(",")]


async def load_postgres(url: str, rows: Rows) -> None:
    """COPY every table, move the sequences past the ids, ANALYZE, and note the shape."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for name in COLUMNS:
            await conn.copy_records_to_table(name, records=rows[name], columns=_cols(name))
            last = f"(SELECT max(id) FROM {name})"
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {last})")
        # VACUUM sets the visibility map, so index-only scans need no table visits.
        await conn.execute("VACUUM ANALYZE")
        await conn.execute(
            "INSERT INTO kv (key, value, updated_at) VALUES ('bench:province', $1, now())",
            json.dumps({"shape": SHAPE}),
        )
    finally:
        await conn.close()


def load_sqlite(path: Path, rows: Rows) -> None:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=OFF")
        for name in COLUMNS:
            marks = ", ".join("?" * len(_cols(name)))
            con.executemany(
                f"INSERT INTO {name} ({COLUMNS[name]}) VALUES ({marks})",
                ([_sqlite_value(v) for v in r] for r in rows[name]),
            )
        con.commit()
        con.execute("ANALYZE")
    finally:
        con.close()


async def _pg_database(base_url: str) -> tuple[str, bool]:
    """`antt_bench_province` on the server: (its URL, whether it holds this shape already)."""
    import asyncpg

    plain = base_url.replace("postgresql+asyncpg://", "postgresql://")
    url = f"{base_url.rpartition('/')[0]}/{DB_NAME}"
    admin = await asyncpg.connect(plain)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DB_NAME)
        if exists and os.environ.get("ANTT_BENCH_PROVINCE_FRESH") != "1":
            conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
            try:
                value = await conn.fetchval("SELECT value FROM kv WHERE key = 'bench:province'")
            except asyncpg.PostgresError:
                value = None
            finally:
                await conn.close()
            shape = json.loads(value).get("shape") if isinstance(value, str) else None
            if isinstance(value, dict):
                shape = value.get("shape")
            if shape == SHAPE:
                return url, True
        await admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        await admin.close()
    return url, False


async def _drop_pg(base_url: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(base_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    finally:
        await admin.close()


def same_totals(p: Any, council: str, totals: Any) -> str:
    """Whether the overview's `totals` for a park are its own digest's (SPEC.md 2)."""
    (park,) = [x for x in p.parks if x.id == council]
    return "yes" if park.totals.to_dict() == totals.to_dict() else "NO"


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int = REPEAT) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


async def measure(url: str, settings: Settings) -> list[tuple[str, float, str]]:
    """The baseline, the overview, one park's digest, and the overview's queries apart."""
    from models import digest as q

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    w = window(WEEK, settings.tz, datetime(2027, 1, 1, tzinfo=UTC))
    now = w.end + timedelta(days=1)
    out: list[tuple[str, float, str]] = []
    try:
        async with sessions() as s:
            secs, n = await timed(lambda: q.week_message_count(s, w))
            out.append(("baseline: COUNT(*) of the week's messages", secs, f"{n:,} messages"))
            secs, p = await timed(lambda: build_province_digest(s, settings, WEEK, now))
            flagged = ", ".join(f"{x.id}: {x.reasons[0].rule}" for x in p.attention[:6])
            out.append(
                (
                    f"provincial overview: {len(p.parks)} parks, 6-week trend",
                    secs,
                    f"{p.province.active}/{p.province.members} active; attention {flagged}",
                )
            )
            one = council_id(1)
            secs, d = await timed(lambda: build_digest(s, settings, WEEK, now, council_id=one))
            out.append(
                (
                    f"one park's digest ({one})",
                    secs,
                    f"{d.totals.active}/{d.totals.members} active, {len(d.groups)} groups; "
                    f"overview's totals for it equal: {same_totals(p, one, d.totals)}",
                )
            )
            totals: list[tuple[str, Callable[[dict[str, Any]], Awaitable[None]]]] = [
                (
                    "council totals: members and activity",
                    lambda into: _fill(pq.member_totals(s, w), into),
                ),
                ("council totals: reports", lambda into: pq.report_totals(s, w, into)),
                (
                    "council totals: directives and acks",
                    lambda into: pq.directive_totals(s, w, into),
                ),
                ("council totals: messages sent", lambda into: pq.outbox_totals(s, w, into)),
                ("incidents", lambda into: pq.incidents(s, w, into)),
                ("requests", lambda into: pq.requests(s, w, into)),
            ]
            for name, part in totals:
                secs, _ = await timed(lambda part=part: part({}))  # type: ignore[misc]
                out.append((f"  overview query: {name}", secs, ""))
    finally:
        await engine.dispose()
    return out


async def _fill(query: Awaitable[dict[str, Any]], into: dict[str, Any]) -> None:
    """Run a query that returns its figures (the bench times it like the others)."""
    into.update(await query)


# ---------------------------------------------------------------- two instances


def load_chats(councils: int, groups_per: int) -> Chats:
    """The first `councils` parks' group chats, each written in by its park's members."""
    return [
        (chat_id(c, g), [f"u{c * PER_COUNCIL + 2 + k:06d}" for k in range(PER_COUNCIL - 1)])
        for c in range(councils)
        for g in range(groups_per)
    ]


async def two_instances(
    url: str, councils: int, groups_per: int, per_chat: int, *, seconds: float = 120
) -> LoadFigures:
    """Two apps with their workers in one process (a quick test of the same load)."""
    chats = load_chats(councils, groups_per)
    return await two_apps(url, province_config(), chats, per_chat, seconds=seconds, seed=SEED)


async def two_serve_processes(
    url: str, councils: int, groups_per: int, per_chat: int, *, seconds: float = 600
) -> LoadFigures:
    """Two `antt-bot serve` OS processes on the database `url`, every park configured."""
    chats = load_chats(councils, groups_per)
    return await two_processes(url, province_config(), chats, per_chat, seconds=seconds, seed=SEED)


# ---------------------------------------------------------------- the run


def load_row(load: LoadFigures, councils: int, groups_per: int) -> list[str]:
    """The two processes' line of the table: what was sent, how long, what came of it."""
    return [
        f"two serve processes: {load.deliveries:,} group events in {councils * groups_per} "
        f"chats of {councils} parks ({load.posts:,} posts, every 4th to both)",
        f"{load.seconds:.1f} s",
        f"{load.rate:.0f} events/s; stored {load.stored:,}, twice {load.twice}, "
        f"chats out of order {load.out_of_order}, wrong park {load.wrong_park}, "
        f"events per process {sorted(load.by_instance.values())}, "
        f"HTTP answers {dict(sorted(load.statuses.items()))}",
    ]


def with_ratios(rows: list[tuple[str, float, str]]) -> list[tuple[str, str, str]]:
    """Milliseconds, and for the big figures how many baselines (COUNT(*)) they take: the
    ratio holds on a busy machine where the milliseconds do not."""
    base = rows[0][1] if rows else 0.0
    out = []
    for i, (what, secs, detail) in enumerate(rows):
        shown = f"{secs * 1000:.0f} ms"
        if 0 < i < 3 and base:
            shown += f" ({secs / base:.0f}× baseline)"
        out.append((what, shown, detail))
    return out


def _progress(msg: str) -> None:
    if sys.stderr.isatty():
        print(msg, file=sys.stderr, flush=True)


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


async def main() -> str:
    results: list[list[Any]] = []
    notes = [machine(), f"load average at start: {_load_average()}"]
    pg = postgres_url()
    if pg:
        url, reused = await _pg_database(pg)
        if reused:
            notes.append(f"PostgreSQL: reused database {DB_NAME} ({SHAPE})")
        else:
            _progress("generating half a year of 30 parks ...")
            t = time.perf_counter()
            rows = generate()
            gen = time.perf_counter() - t
            engine = make_engine(url)
            await upgrade(engine)
            await engine.dispose()
            _progress("loading PostgreSQL (COPY) ...")
            t = time.perf_counter()
            await load_postgres(url, rows)
            notes.append(
                f"data generated in {gen:.1f} s, PostgreSQL loaded (COPY) in "
                f"{time.perf_counter() - t:.1f} s into {DB_NAME}"
            )
        settings = province_settings(url)
        for what, secs, detail in with_ratios(await measure(url, settings)):
            results.append(["PostgreSQL", what, secs, detail])
        if os.environ.get("ANTT_BENCH_PROVINCE_DROP") == "1":
            await _drop_pg(pg)
            notes.append(f"dropped {DB_NAME}")
        _progress("two serve processes under a mixed load ...")
        scratch, drop = await pg_scratch(pg)
        try:
            load = await two_serve_processes(
                scratch, COUNCILS, GROUPS_PER, per_chat=LOAD_PER_CHAT, seconds=600
            )
        finally:
            await drop()
        results.append(["PostgreSQL", *load_row(load, COUNCILS, GROUPS_PER)])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "province.db"
            url = f"sqlite+aiosqlite:///{path}"
            engine = make_engine(url)
            await upgrade(engine)
            await engine.dispose()
            rows = generate()
            t = time.perf_counter()
            load_sqlite(path, rows)
            notes.append(f"SQLite loaded in {time.perf_counter() - t:.1f} s")
            for what, secs, detail in with_ratios(await measure(url, province_settings(url))):
                results.append(["SQLite", what, secs, detail])
        notes.append("PostgreSQL skipped (and the two-instance load): set ANTT_BENCH_POSTGRES_URL")
    notes.append(f"median of {REPEAT} runs per figure; load average at end: {_load_average()}")
    notes.append("targets: the provincial overview < 2 s, one park's digest < 0.5 s")
    return table(
        f"province: week {WEEK} of {COUNCILS} parks, {MEMBERS:,} members, {GROUPS} groups, "
        f"{MESSAGES:,} messages in {WEEKS} weeks",
        ["database", "what", "median", "result"],
        results,
        notes,
    )


if __name__ == "__main__":
    print(asyncio.run(main()))
