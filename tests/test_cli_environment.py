"""What the IT officer sees when the machine around the bot is wrong: a database that does
not answer, a busy port set outside the command line, a date option typed wrong."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.test_cli import _free_port, run, write_config

PASSWORD = "s3cret-pw"


def _one_line(stderr: str) -> str:
    """The message, checked to be a single line without a traceback."""
    lines = [line for line in stderr.splitlines() if not line.startswith("{")]  # JSON logs
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize(
    "argv", [["serve"], ["db", "upgrade"], ["digest"], ["export", "reports"], ["members", "list"]]
)
def test_a_postgres_that_refuses_connections_is_named_with_what_to_check(
    tmp_path: Path, argv: list[str]
) -> None:
    """Was `antt-bot: ConnectionRefusedError: [Errno 111] Connect call failed`: now the
    address, the database and where the URL came from; exit 1 (it may come back: systemd
    starts `serve` again)."""
    write_config(tmp_path)
    port = _free_port()
    url = f"postgresql+asyncpg://antt:{PASSWORD}@127.0.0.1:{port}/antt"
    proc = run(*argv, cwd=tmp_path, env={"ANTT_DATABASE__URL": url})
    assert proc.returncode == 1, proc.stderr
    line = _one_line(proc.stderr)
    assert line.startswith("antt-bot: cannot reach the PostgreSQL database"), line
    assert f"127.0.0.1:{port}" in line and "connection refused" in line, line
    assert "ANTT_DATABASE__URL" in line and "PostgreSQL runs" in line, line
    assert PASSWORD not in proc.stderr and "Error" not in line, line


def test_a_postgres_host_that_never_answers_fails_within_the_connect_timeout(
    tmp_path: Path,
) -> None:
    """A firewall that drops packets: every command waited asyncpg's 60 s before the line.
    Now database.connect_timeout_seconds (10 s by default; 2 s here) and the line says so."""
    with socket.socket() as silent:  # takes the connection, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        url = f"postgresql+asyncpg://antt@127.0.0.1:{port}/antt"
        write_config(tmp_path, database={"url": url, "connect_timeout_seconds": 2})
        started = time.monotonic()
        proc = run("members", "list", cwd=tmp_path)
        waited = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    line = _one_line(proc.stderr)
    assert line.startswith("antt-bot: cannot reach the PostgreSQL database"), line
    assert f"127.0.0.1:{port}" in line and "no answer within 2 s" in line, line
    assert waited < 30, waited


def test_a_connect_timeout_out_of_range_is_refused_with_its_key(tmp_path: Path) -> None:
    write_config(
        tmp_path, database={"url": "sqlite+aiosqlite:///x.db", "connect_timeout_seconds": 0}
    )
    proc = run("members", "list", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "database.connect_timeout_seconds: Input should be greater" in proc.stderr, proc.stderr


def test_an_unknown_database_host_is_a_configuration_error(tmp_path: Path) -> None:
    """A misspelt host in config.yaml: exit 2 (restarting cannot fix it), naming the key."""
    write_config(tmp_path, database={"url": "postgresql+asyncpg://antt@db.invalid:5432/antt"})
    proc = run("db", "upgrade", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    line = _one_line(proc.stderr)
    assert "db.invalid:5432" in line and "host name" in line, line
    assert "database.url in config.yaml" in line, line
    # An @ in the password splits the URL there: said so, without the password's tail.
    env = {"ANTT_DATABASE__URL": "postgresql+asyncpg://antt:pa@ss-tail@127.0.0.1:5432/antt"}
    proc = run("db", "upgrade", cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr
    line = _one_line(proc.stderr)
    assert "%40" in line and "ANTT_DATABASE__URL" in line and "ss-tail" not in line, line


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("ANTT_TEST_POSTGRES_URL"), reason="no PostgreSQL")
def test_a_postgres_that_refuses_the_login_or_lacks_the_database_says_which(
    tmp_path: Path,
) -> None:
    """Wrong user, missing database: exit 2 with PostgreSQL's own reason, not its class."""
    good = make_url(os.environ["ANTT_TEST_POSTGRES_URL"])
    write_config(tmp_path)
    cases = [
        (good.set(username="antt_no_such_role", password=PASSWORD), "antt_no_such_role"),
        (good.set(database="antt_no_such_db"), 'database "antt_no_such_db" does not exist'),
    ]
    for url, said in cases:
        env = {"ANTT_DATABASE__URL": url.render_as_string(hide_password=False)}
        proc = run("export", "messages", cwd=tmp_path, env=env)
        assert proc.returncode == 2, proc.stderr
        line = _one_line(proc.stderr)
        assert said in line and "ANTT_DATABASE__URL" in line, line
        assert "Error" not in line and PASSWORD not in line, line


def test_a_busy_port_names_where_the_port_was_set(tmp_path: Path) -> None:
    """Was "choose another port with --port" when nobody had typed --port."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        write_config(tmp_path, server={"port": port})
        proc = run("serve", cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        line = _one_line(proc.stderr)
        assert f"127.0.0.1:{port}" in line and "server.port in config.yaml" in line, line
        assert "--port" in line  # the way out that needs no edit

        write_config(tmp_path)
        proc = run("serve", cwd=tmp_path, env={"ANTT_SERVER__PORT": str(port)})
        assert proc.returncode == 2, proc.stderr
        line = _one_line(proc.stderr)
        assert "ANTT_SERVER__PORT" in line and "server.port in" not in line, line


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["export", "reports", "--since", "abc"], "--since"),
        (["export", "reports", "--until", "2026-13-01"], "--until"),
        (["digest", "--at", "yesterday"], "--at"),
        (["jobs", "run", "nudges", "--at", "x"], "--at"),
        (["parse", "--now", "x", "chay kho"], "--now"),
    ],
)
def test_a_bad_date_option_names_the_option_and_the_format(
    tmp_path: Path, argv: list[str], option: str
) -> None:
    """Was "'abc' is not an ISO 8601 time": which of --since and --until?"""
    write_config(tmp_path)
    proc = run(*argv, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    line = _one_line(proc.stderr)
    assert line.startswith(f"antt-bot: {option} {argv[argv.index(option) + 1]!r}"), line
    assert "2026-11-01" in line and "2026-11-27T14:30" in line, line


@pytest.mark.parametrize("week", ["99", "2026-W60"])
def test_a_bad_week_names_the_option(tmp_path: Path, week: str) -> None:
    write_config(tmp_path)
    proc = run("digest", "--week", week, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    line = _one_line(proc.stderr)
    assert line.startswith(f"antt-bot: --week {week!r}"), line
    assert "2026-W48" in line or "has no ISO week 60" in line, line


BAD_REQUESTS = [
    b"POST /webhook/zalo-bot HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
    b"POST /webhook/zalo-bot HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\n"
    b"Content-Length: 5\r\n\r\nabcde",
]


async def _serve(tmp_path: Path) -> tuple[asyncio.subprocess.Process, int]:
    """A real `serve` on a free port, once its banner says it listens."""
    port = _free_port()
    write_config(tmp_path, server={"port": port})
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    async with asyncio.timeout(60):
        while b"serving on" not in await proc.stderr.readline():
            pass
    return proc, port


async def test_a_malformed_request_is_logged_once_as_the_clients_fault(tmp_path: Path) -> None:
    """A bad chunk size or `Content-Encoding: br` is answered 400 by aiohttp's parser; it
    was logged at ERROR with a traceback, as if the bot had failed. Now: one INFO line."""
    proc, port = await _serve(tmp_path)
    try:
        for raw in BAD_REQUESTS:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            assert b" 400 " in await reader.readline()
            writer.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    records = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    bad = [r for r in records if r["logger"] == "aiohttp.server"]
    assert [r["level"] for r in bad] == ["INFO", "INFO"], bad
    assert "chunk size" in bad[0]["msg"] and "content-encoding" in bad[1]["msg"], bad
    assert all("127.0.0.1" in r["msg"] and "exc" not in r for r in bad), bad
    assert "Traceback" not in err.decode()


async def test_a_server_bug_keeps_its_error_and_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only the parser's 400s are demoted: a handler that fails (a 500) stays an ERROR."""
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from bot.logs import CLIENT_FAULTS

    async def broken(_request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app = web.Application()
    app.router.add_get("/", broken)
    logging.getLogger("aiohttp.server").addFilter(CLIENT_FAULTS)
    try:
        async with TestClient(TestServer(app)) as client:
            assert (await client.get("/")).status == 500
    finally:
        logging.getLogger("aiohttp.server").removeFilter(CLIENT_FAULTS)
    bugs = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert [r.levelname for r in bugs] == ["ERROR"] and bugs[0].exc_info, bugs


def test_zalo_out_of_reach_is_not_called_a_refusal(tmp_path: Path) -> None:
    """A firewall or DNS on a fresh machine: `platform info` said "Zalo refused: getMe:
    network error (ClientConnectorError)". Now what failed and what to check."""
    port = _free_port()
    write_config(tmp_path, platform={"kind": "zalo_bot", "api_base": f"http://127.0.0.1:{port}"})
    env = {"ANTT_PLATFORM__TOKEN": "123456789:secret-token"}
    proc = run("platform", "info", cwd=tmp_path, env=env)
    assert proc.returncode == 1, proc.stderr
    line = _one_line(proc.stderr)
    assert line.startswith(f"antt-bot: cannot reach Zalo at 127.0.0.1:{port}"), line
    assert "connection refused" in line and "platform.api_base" in line, line
    assert "refused:" not in line and "Error" not in line and "secret-token" not in line, line


def test_an_address_from_the_config_file_names_its_key(tmp_path: Path) -> None:
    """server.host that this machine does not have (TEST-NET-1): was "check --host"."""
    write_config(tmp_path, server={"host": "192.0.2.1", "port": 0})
    proc = run("serve", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    line = _one_line(proc.stderr)
    assert "192.0.2.1:0" in line and "server.host in config.yaml" in line, line


async def _start_up_records(tmp_path: Path, **env: str) -> list[dict[str, str]]:
    """The JSON log lines of a `serve` from a fresh SQLite file until it stops."""
    port = _free_port()
    write_config(tmp_path, server={"port": port})
    full_env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), **env}
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "serve"),
        cwd=tmp_path,
        env=full_env,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    lines: list[bytes] = []
    async with asyncio.timeout(60):
        while b"serving on" not in (line := await proc.stderr.readline()):
            lines.append(line)
    proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(proc.communicate(), timeout=30)
    return [json.loads(x) for x in lines if x.startswith(b"{")]


async def test_start_up_says_one_line_per_stage_with_the_details_at_debug(
    tmp_path: Path,
) -> None:
    """The IT officer's first `journalctl -u antt-bot`: ~45 lines of "Running upgrade 0007 ->
    0010", "Context impl SQLiteImpl." and "Adding job tentatively". Now the schema's
    revision and the jobs scheduled, one line each; the steps stay at DEBUG."""
    from models.db import head_revision

    records = await _start_up_records(tmp_path)
    said = [r["msg"] for r in records if r["level"] == "INFO"]
    assert not any(r["logger"].startswith(("alembic", "apscheduler")) for r in records), said
    assert said.count(f"database schema created at revision {head_revision()}") == 1, said
    assert not any(m.startswith("database schema at") for m in said), said  # said once
    jobs = [m for m in said if " jobs scheduled: " in m]
    assert len(jobs) == 1 and "weekly_digest" in jobs[0] and "nudges" in jobs[0], said
    assert len(said) <= 4, said

    debug = await _start_up_records(tmp_path, ANTT_LOG_LEVEL="DEBUG")
    steps = [r for r in debug if r["logger"] == "alembic.runtime.migration"]
    assert steps and all(r["level"] == "DEBUG" for r in steps), steps
    said = [r["msg"] for r in debug if r["level"] == "INFO"]
    assert said.count(f"database schema at revision {head_revision()}") == 1, said
