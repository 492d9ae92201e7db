"""The operator's path: a forgiving command line, set-up scripts that need no network twice."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot import keys
from bot.app import create_app
from bot.cli import build_parser, subparsers_of
from bot.scheduler import LeaseLost, LeaseTerms, run_spec
from handlers.clock import Clock, FixedClock
from handlers.config import Settings
from handlers.jobs import JobSpec, every
from models.db import ensure_schema, make_engine, make_sessionmaker
from models.exports import KINDS
from models.people import get_or_create_group
from models.tables import Group, JobLease
from tests.conftest import T0
from tests.engagement_helpers import ROSTER
from tests.test_cli import run, write_config

REPO = Path(__file__).parents[1]


def command_paths(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every runnable command (`serve`, `jobs run`, ...) with its parser."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from command_paths(child, (*path, name))


def required_positionals(parser: argparse.ArgumentParser) -> list[str]:
    return [
        "1"  # fits every positional: a file name, a text, an id
        for a in parser._actions
        if not a.option_strings
        and not isinstance(a, argparse._SubParsersAction)
        and a.nargs not in ("*", "?")
    ]


def test_config_option_before_or_after_every_subcommand() -> None:
    parser = build_parser()
    paths = list(command_paths(parser))
    assert len(paths) >= 12 and ("jobs", "run") in dict(paths)
    for path, leaf in paths:
        rest = required_positionals(leaf)
        # -c before the command, between a command and its subcommand, and at the very end.
        placements = [["-c", "C.yaml", *path, *rest], [*path, *rest, "--config", "C.yaml"]]
        placements += [[*path[:i], "-c", "C.yaml", *path[i:], *rest] for i in range(1, len(path))]
        for argv in placements:
            assert parser.parse_args(argv).config == "C.yaml", argv
    assert all("-c" in p._option_string_actions for p in subparsers_of(parser))


def test_config_before_the_command_is_used_for_real(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    cfg = write_config(other, digest={"weekday": "wed", "time": "17:45"})
    (other / "roster.csv").write_text(ROSTER, encoding="utf-8")
    proc = run("-c", str(cfg), "members", "import", "other/roster.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (other / "data" / "antt.db").exists() and not (tmp_path / "data").exists()
    for args in (("-c", str(cfg), "jobs", "list"), ("jobs", "list", "-c", str(cfg))):
        listing = run(*args, cwd=tmp_path).stdout
        assert re.search(r"weekly_digest\s+next \d{4}-\d\d-\d\d 17:45", listing), listing


def test_jobs_list_shows_the_digests_send_time_and_vietnamese(tmp_path: Path) -> None:
    write_config(tmp_path, digest={"weekday": "thu", "time": "06:30"}, timezone="Asia/Bangkok")
    proc = run("jobs", "list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()}
    when = re.search(r"next (\S+ \S+)", lines["weekly_digest"])
    assert when is not None
    at = datetime.strptime(when[1], "%Y-%m-%d %H:%M")
    # Thursday 06:30 in the configured zone, within the coming week (not "in 15 minutes").
    assert at.weekday() == 3 and at.strftime("%H:%M") == "06:30"
    now_there = datetime.now(ZoneInfo("Asia/Bangkok")).replace(tzinfo=None)
    assert now_there < at <= now_there + timedelta(days=7)
    assert "tổng hợp tuần" in lines["weekly_digest"]
    assert "every 30 min" in lines["nudges"] and "next" in lines["retention"]
    for line in lines.values():  # every description is Vietnamese
        assert re.search(r"[àáảãạăâđèéêìíòóôơùúưỳý]", line.split(maxsplit=3)[-1]), line


def test_members_import_counts_and_names_rejected_rows(tmp_path: Path) -> None:
    write_config(tmp_path)
    roster = (
        "member_id,name,phone,enterprise,role,groups\n"
        "u1,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil\n"
        "\n"
        "u2,Trần Thị Bình,0901000002,May Việt,boss,gmayviet\n"
        "u3,,0901000003,May Việt,member,gmayviet\n"
        "u4,Ngô Thị Dung,12,May Việt,member,gmayviet\n"
    )
    (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
    proc = run("members", "import", "roster.csv", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.strip().endswith("2 created, 0 updated, 0 unchanged, 2 rejected")
    # The file's own line numbers (the blank line counts), each with its reason.
    assert "roster.csv: line 4: role 'boss' must be one of" in proc.stderr
    assert "roster.csv: line 5: name is empty; not imported" in proc.stderr
    assert "line 6: phone '12' is not a Vietnamese number; kept empty" in proc.stderr  # kept
    good = "member_id,name\nu1,Phạm Minh Quân\n"
    (tmp_path / "good.csv").write_text(good, encoding="utf-8")
    proc = run("members", "import", "good.csv", cwd=tmp_path)
    assert proc.returncode == 0 and "0 created, 1 updated, 0 unchanged, 0 rejected" in proc.stdout
    (tmp_path / "bad.csv").write_text("id;who\n1;A\n2;B\n", encoding="utf-8")
    proc = run("members", "import", "bad.csv", cwd=tmp_path)
    assert proc.returncode == 1 and "0 created, 0 updated, 0 unchanged, 2 rejected" in proc.stdout
    assert "missing column(s) name" in proc.stderr


def test_export_help_lists_the_kinds_and_the_date_format(tmp_path: Path) -> None:
    proc = run("export", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    for kind in KINDS:
        assert kind in proc.stdout
    assert "2026-11-01" in proc.stdout and "ISO 8601" in proc.stdout


@pytest.mark.parametrize("cmd", [["serve"], ["demo", "--no-browser"]])
def test_a_busy_port_names_the_port_option(tmp_path: Path, cmd: list[str]) -> None:
    write_config(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run(*cmd, "--port", str(port), "--host", "127.0.0.1", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert f"127.0.0.1:{port}" in proc.stderr and "--port" in proc.stderr
    assert "already in use" in proc.stderr and "Traceback" not in proc.stderr
    # An address this machine does not have (TEST-NET-1) names --host instead.
    proc = run(*cmd, "--port", "0", "--host", "192.0.2.1", cwd=tmp_path)
    assert proc.returncode == 2 and "192.0.2.1:0" in proc.stderr and "--host" in proc.stderr


FAKE_PYTHON = """#!/usr/bin/env bash
# Plays .venv/bin/python for scripts/venv.sh: records each call; pip fails once "offline".
echo "$*" >> .venv/calls
[ -f .venv/offline ] && { echo "pip: no network" >&2; exit 1; }
touch .venv/bin/antt-bot && chmod +x .venv/bin/antt-bot
"""


def _venv_step(root: Path, extras: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f'source scripts/venv.sh "{extras}"\necho ready'],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHON": shutil.which("python3") or "python3"},
    )


def test_setup_scripts_do_not_reinstall_a_current_install(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "venv.sh", tmp_path / "scripts")
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(FAKE_PYTHON, encoding="utf-8")
    fake.chmod(0o755)
    calls = tmp_path / ".venv" / "calls"
    first = _venv_step(tmp_path, "[dev]")
    assert first.returncode == 0 and "ready" in first.stdout, first.stderr
    assert "install -q -e .[dev]" in calls.read_text()
    (tmp_path / ".venv" / "offline").touch()  # from now on pip would fail
    before = calls.read_text()
    again = _venv_step(tmp_path, "[dev]")
    assert again.returncode == 0 and "ready" in again.stdout, again.stderr
    assert calls.read_text() == before  # pip was not run at all
    # A changed pyproject.toml (new dependency) is installed again: here pip fails, loudly.
    with (tmp_path / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write("\n# a change\n")
    changed = _venv_step(tmp_path, "[dev]")
    assert changed.returncode != 0 and "no network" in changed.stderr
    assert "installing into .venv failed" in changed.stderr
    for script in ("demo.sh", "test.sh"):  # both go through venv.sh
        assert "source scripts/venv.sh" in (REPO / "scripts" / script).read_text()


OWN_ROSTER = """member_id,name,phone,enterprise,role,groups
z-anh,Nguyễn Văn Anh,0987000001,Ban quản lý KCN Tân Bình,coordinator,g-tanbinh;g-dongnai
,Lò Thị Bé,0987000002,Cty Dệt Đồng Nai,member,g-dongnai
"""
URL_LINE = re.compile(r"ANTT Bot demo: (http://\S+)/demo")


async def _demo_url(proc: asyncio.subprocess.Process, seen: list[str]) -> str:
    assert proc.stdout is not None
    while line := (await asyncio.wait_for(proc.stdout.readline(), timeout=60)).decode():
        seen.append(line)
        if match := URL_LINE.search(line):
            return match[1]
    raise AssertionError("the demo printed no URL:\n" + "".join(seen))


async def test_rehearsal_with_our_own_roster_and_groups(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        groups=[{"chat_id": "g-tanbinh", "name": "Hội đồng ANTT KCN Tân Bình", "kind": "council"}],
        roster="roster.csv",
    )
    (tmp_path / "roster.csv").write_text(OWN_ROSTER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "-c", "config.yaml", "demo", "--no-browser"),
        *("--port", "0"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    seen: list[str] = []
    try:
        base = await _demo_url(proc, seen)
        async with aiohttp.ClientSession(base) as http:
            async with http.get("/demo/api/state") as resp:
                state = await resp.json()
            people = {m["name"]: m for m in state["members"]}
            assert set(people) == {"Nguyễn Văn Anh", "Lò Thị Bé"}  # ours, not the seeded eight
            chats = {c["id"]: c["name"] for c in state["chats"]}
            assert chats == {"g-tanbinh": "Hội đồng ANTT KCN Tân Bình", "g-dongnai": "g-dongnai"}
            be = people["Lò Thị Bé"]["id"]  # no Zalo id on the roster: the demo gives one
            body = {"member_id": be, "chat_id": be, "text": "có mặt"}
            async with http.post("/demo/api/send", json=body) as resp:
                assert resp.status == 200 and (await resp.json())["delivered"]
            after, answer = 0, None
            for _ in range(30):
                async with http.get(f"/demo/api/lines?after={after}&wait=2") as resp:
                    lines = (await resp.json())["lines"]
                for line in lines:
                    after = max(after, line["id"])
                    if line["is_bot"] and line["chat_id"] == be:
                        answer = line["text"]
                if answer:
                    break
            # Recognised as the roster's member by name, not as a guest.
            assert answer is not None and "Đã ghi nhận anh/chị Bé có mặt" in answer, answer
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    seen.append(out.decode())
    text = "".join(seen)
    assert proc.returncode == 0, text
    assert "rehearsal: your roster (2 people, 2 groups)" in text
    assert "antt-bot -c data/demo/antt-demo.yaml digest" in text
    # Its own SQLite file beside the config, never the configured database.
    assert (tmp_path / "data" / "demo" / "antt-demo.db").exists()
    assert not (tmp_path / "data" / "antt.db").exists()
    # The command line the demo printed reads the rehearsal's records.
    proc2 = await asyncio.to_thread(
        run, "-c", "data/demo/antt-demo.yaml", "export", "checkins", cwd=tmp_path
    )
    assert proc2.returncode == 0, proc2.stderr
    assert [json.loads(x)["member_id"] for x in proc2.stdout.splitlines()] == [be]


def test_a_demo_refused_for_a_busy_port_leaves_no_folder_behind(tmp_path: Path) -> None:
    """Port 8765 taken by a demo still running in another window: the second one stopped
    with the port's message but left an empty data/demo/ (or the --data-dir) behind."""
    write_config(tmp_path, roster="roster.csv")
    (tmp_path / "roster.csv").write_text(OWN_ROSTER, encoding="utf-8")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        proc = run("demo", "--no-browser", "--port", port, cwd=tmp_path)
        assert proc.returncode == 2 and f"127.0.0.1:{port}" in proc.stderr, proc.stderr
        proc = run("demo", "--no-browser", "--port", port, "--data-dir", "thu", cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "thu").exists()


def test_demo_with_a_config_but_no_roster_says_what_to_do(tmp_path: Path) -> None:
    write_config(tmp_path)
    proc = run("demo", "-c", "config.yaml", "--no-browser", "--port", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "--roster FILE" in proc.stderr
    proc = run("demo", "--roster", "missing.csv", "--no-browser", "--port", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "missing.csv: file not found" in proc.stderr
    (tmp_path / "r.csv").write_text("member_id,name\n", encoding="utf-8")
    proc = run("demo", "--roster", "r.csv", "--no-browser", "--port", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "nobody to rehearse with" in proc.stderr
    # The configured database is never the demo's.
    cfg = {"url": "sqlite+aiosqlite:///data/demo/antt-demo.db"}
    write_config(tmp_path, database=cfg, roster="roster.csv")
    (tmp_path / "roster.csv").write_text(OWN_ROSTER, encoding="utf-8")
    proc = run("demo", "--no-browser", "--port", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "this is the configured database" in proc.stderr
    assert not (tmp_path / "data").exists()
    # Nor does it overwrite a file of someone else's beside its database.
    (tmp_path / "antt-demo.yaml").write_text("groups: []\n", encoding="utf-8")
    proc = run("demo", "--data-dir", ".", "--no-browser", "--port", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "not written by the demo" in proc.stderr
    assert (tmp_path / "antt-demo.yaml").read_text(encoding="utf-8") == "groups: []\n"


class ManualSleep:
    """Plays `asyncio.sleep` for a lease keeper: it wakes only when the test ticks, and a tick
    returns once the keeper has renewed and gone back to sleep (no real waiting)."""

    def __init__(self) -> None:
        self._asleep: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()

    async def __call__(self, _seconds: float) -> None:
        wake = asyncio.get_running_loop().create_future()
        await self._asleep.put(wake)
        await wake

    async def tick(self) -> None:
        (await self._asleep.get()).set_result(None)
        self._asleep.put_nowait(await self._asleep.get())  # back asleep: the renewal is done


class BlockingJob:
    """A job that runs until the test lets it finish, writing one row as its work."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.finish = asyncio.Event()
        self.runs = 0

    def spec(self) -> JobSpec:
        return JobSpec("blocking_test_job", self.fn, every(60), "việc thử, chạy đến khi được thả")

    async def fn(self, sessions: Any, _settings: Settings, clock: Clock) -> int:
        self.runs += 1
        self.started.set()
        await self.finish.wait()
        async with sessions() as session, session.begin():
            await get_or_create_group(session, f"g-job-{self.runs}", now=clock.now(), name="x")
        return 1


async def test_a_job_longer_than_its_lease_keeps_it(
    db_url: str, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db=db_url)
    engine = make_engine(db_url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    job, lease_clock, sleep = BlockingJob(), FixedClock(T0), ManualSleep()
    terms = LeaseTerms(ttl=timedelta(minutes=10), clock=lease_clock, sleep=sleep)
    try:
        a = asyncio.create_task(
            run_spec(job.spec(), sessions, settings, FixedClock(T0), "instance-a", terms)
        )
        await job.started.wait()
        for _ in range(5):  # 20 minutes of work: twice the lease, renewed every 4 minutes
            lease_clock.advance(timedelta(minutes=4))
            await sleep.tick()
            b = await run_spec(job.spec(), sessions, settings, FixedClock(T0), "instance-b", terms)
            assert not b.ran  # the second instance does not run it alongside
        assert job.runs == 1 and not a.done()
        job.finish.set()
        assert (await a).ran
        # Released at the end: the other instance may run it now.
        b = await run_spec(job.spec(), sessions, settings, FixedClock(T0), "instance-b", terms)
        assert b.ran and job.runs == 2
    finally:
        await engine.dispose()


async def test_a_job_whose_lease_was_taken_stops(
    sqlite_url: str, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db=sqlite_url)
    engine = make_engine(sqlite_url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    job, lease_clock, sleep = BlockingJob(), FixedClock(T0), ManualSleep()
    terms = LeaseTerms(ttl=timedelta(minutes=10), clock=lease_clock, sleep=sleep)
    try:
        a = asyncio.create_task(
            run_spec(job.spec(), sessions, settings, FixedClock(T0), "instance-a", terms)
        )
        await job.started.wait()
        # Instance A was frozen past its lease (no renewal): B takes the job over.
        lease_clock.advance(timedelta(minutes=11))
        job.started.clear()
        b = asyncio.create_task(
            run_spec(job.spec(), sessions, settings, FixedClock(T0), "instance-b", terms)
        )
        await job.started.wait()
        assert job.runs == 2
        # A's keeper wakes, finds the lease gone and stops A: never two at once.
        (await sleep._asleep.get()).set_result(None)  # A's keeper, asleep since A started
        with pytest.raises(LeaseLost):
            await a
        job.finish.set()
        assert (await b).ran
    finally:
        await engine.dispose()


async def test_shutdown_waits_for_a_running_job(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    app = create_app(settings, clock=FixedClock(T0), workers=True)
    runner = web.AppRunner(app)
    await runner.setup()
    runtime = app[keys.RUNTIME]
    job = BlockingJob()
    caller = asyncio.create_task(runtime.run(job.spec()))
    await job.started.wait()
    caller.cancel()  # as the scheduler's shutdown cancels the jobs it started
    cleanup = asyncio.create_task(runner.cleanup())
    # The shutdown reaches the running job and waits for it (rather than finishing first).
    stopping = asyncio.create_task(runtime.stopping.wait())
    await asyncio.wait({cleanup, stopping}, return_when=asyncio.FIRST_COMPLETED)
    assert stopping.done() and not cleanup.done() and len(runtime.jobs_running) == 1
    job.finish.set()  # the job writes through the database, which is still open
    await cleanup
    assert not runtime.jobs_running
    engine = make_engine(settings.database.url)
    try:
        async with make_sessionmaker(engine)() as session:
            groups = await session.scalars(select(Group.chat_id))
            assert "g-job-1" in set(groups)  # its work was committed
            lease = await session.get(JobLease, "blocking_test_job")
            assert lease is not None and lease.last_run_at is not None  # and its lease released
    finally:
        await engine.dispose()


def test_namesakes_and_a_shared_phone_stay_separate_people(tmp_path: Path) -> None:
    """Two Nguyễn Văn Hùng of one enterprise, or two people at one guard-post phone, each
    with their own Zalo id, are two members; a row repeated in the file is named, not applied."""
    write_config(tmp_path)
    roster = (
        "member_id,name,phone,enterprise,role,groups\n"
        "u20,Nguyễn Văn Hùng,,May Việt,member,gmayviet\n"
        "u21,Nguyễn Văn Hùng,,May Việt,member,gmayviet\n"
        "u22,Trần Văn Nam,0901000055,Hansol,member,gmayviet\n"
        "u23,Lê Thị Hoa,0901000055,Hansol,member,gmayviet\n"
        ",Đỗ Văn Tư,,Hansol,member,gmayviet\n"
        ",Đỗ Văn Tư,,Hansol,member,gmayviet\n"
    )
    (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
    proc = run("members", "import", "roster.csv", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "5 created, 0 updated, 0 unchanged, 1 rejected" in proc.stdout
    assert "roster.csv: line 7: the same person as line 6" in proc.stderr
    listed = run("members", "list", "--format", "jsonl", cwd=tmp_path).stdout
    ids = sorted(json.loads(line)["member_id"] or "-" for line in listed.splitlines())
    assert ids == ["-", "u20", "u21", "u22", "u23"]
    again = run("members", "import", "roster.csv", cwd=tmp_path)  # idempotent, nobody swapped
    assert "0 created, 0 updated, 5 unchanged, 1 rejected" in again.stdout, again.stderr


def test_importing_a_folder_or_an_unreadable_file_says_so(tmp_path: Path) -> None:
    """`members import` / `posts import` given a folder: exit 2 naming it, no traceback name."""
    write_config(tmp_path)
    (tmp_path / "rosters").mkdir()
    for command in ("members", "posts"):
        proc = run(command, "import", "rosters", cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("antt-bot: rosters: cannot read:"), proc.stderr
        assert "Error" not in proc.stderr, proc.stderr


def test_an_export_range_that_ends_before_it_starts_is_named(tmp_path: Path) -> None:
    """--since after --until (swapped dates) would export nothing and say nothing."""
    write_config(tmp_path)
    proc = run("export", "messages", "--since", "2026-12-07", "--until", "2026-12-01", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert "--since 2026-12-07 is not before --until 2026-12-01" in proc.stderr, proc.stderr
    proc = run("export", "messages", "--since", "2026-12-01", "--until", "2026-12-07", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_a_missing_subcommand_names_the_choices_not_an_internal_name(tmp_path: Path) -> None:
    """`antt-bot jobs` alone: 'required: {list,run}', never the parser's `jobs_cmd`."""
    for argv, choices in ((["jobs"], "{list,run}"), ([], "{serve,demo,"), (["db"], "{upgrade,")):
        proc = run(*argv, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        last = proc.stderr.strip().splitlines()[-1]
        assert f"the following arguments are required: {choices}" in last, last
        assert "_cmd" not in last and not last.endswith(": cmd"), last


def test_a_port_out_of_range_is_named_before_anything_starts(tmp_path: Path) -> None:
    """`serve --port 70000` / `demo --port -1`: exit 2 naming --port (was OverflowError, or
    a resolver error blaming --host)."""
    write_config(tmp_path)
    for argv in (["serve", "--port", "70000"], ["demo", "--no-browser", "--port", "-1"]):
        proc = run(*argv, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        last = proc.stderr.strip().splitlines()[-1]
        assert "argument --port:" in last and "0-65535" in last, last
    assert not (tmp_path / "data").exists()  # refused before the database was opened


def test_an_output_file_that_cannot_be_written_is_named_plainly(tmp_path: Path) -> None:
    """-o into a missing folder or onto a folder: the path and the reason, exit 1."""
    write_config(tmp_path)
    cases = [
        (["export", "members", "-o", "no/such/x.csv"], "antt-bot: no/such/x.csv: No such file"),
        (["digest", "-o", str(tmp_path)], f"antt-bot: {tmp_path}: Is a directory"),
        (["members", "export-data", "u1", "-o", "no/x.json"], None),  # no such member: 2
    ]
    for argv, said in cases:
        proc = run(*argv, cwd=tmp_path)
        if said is None:
            assert proc.returncode == 2, proc.stderr
            continue
        assert proc.returncode == 1, proc.stderr
        assert said in proc.stderr and "Error" not in proc.stderr, proc.stderr


def test_a_phone_whose_leading_zero_excel_dropped_is_restored(tmp_path: Path) -> None:
    """Excel shows 0901000001 as the number 901000001 and saves it so: the phone is kept
    (with a note), not emptied; a number too short for that stays refused."""
    write_config(tmp_path)
    roster = (
        "member_id,name,phone,enterprise,role,groups\n"
        "u1,Phạm Minh Quân,901000001,Ban quản lý KCN,coordinator,gcouncil\n"
        "u2,Trần Thị Bình,2113845678,May Việt,member,gmayviet\n"
        "u3,Ngô Thị Dung,1234567,May Việt,member,gmayviet\n"
    )
    (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
    proc = run("members", "import", "roster.csv", cwd=tmp_path)
    assert proc.returncode == 0 and "3 created" in proc.stdout, proc.stderr
    assert "line 2: phone '901000001' read as 0901000001 (the leading 0 was lost" in proc.stderr
    assert "line 4: phone '1234567' is not a Vietnamese number; kept empty" in proc.stderr
    listed = run("export", "members", "--format", "jsonl", cwd=tmp_path).stdout
    phones = {r["member_id"]: r["phone"] for r in map(json.loads, listed.splitlines())}
    assert phones == {"u1": "0901000001", "u2": "02113845678", "u3": None}
