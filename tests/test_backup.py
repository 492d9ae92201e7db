"""`antt-bot db backup` / `db restore`: an online backup under load keeps every acknowledged
delivery; a restore refuses while a bot serves the database; bad files get a clear answer."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from sqlalchemy import func, select, text

from bot import dbfile
from bot.cli import main
from bot.dbfile import held_exclusively, lock_path
from models.db import head_revision, make_engine, make_sessionmaker
from models.tables import Group
from tests.conftest import PG_URL, T0, _fresh_pg, text_event
from tests.test_faults import ROOT, RecordingZalo, Serve, free_port, post, wait_for


@pytest.fixture
async def zalo() -> AsyncIterator[RecordingZalo]:
    fake = RecordingZalo()
    await fake.start()
    yield fake
    await fake.close()


def write_config(folder: Path, url: str | None = None, **extra: Any) -> Path:
    data: dict[str, Any] = {
        "database": {"url": url or "sqlite+aiosqlite:///data/antt.db"},
        "engagement": {"holidays": [], "monthly_message_budget": 0},
        **extra,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


async def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`python -m bot ARGS` as a separate process, without blocking the loop."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def message_ids(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {row[0] for row in conn.execute("SELECT message_id FROM inbound_events")}
    finally:
        conn.close()


# ---------------------------------------------------------------- under load


@pytest.mark.slow
async def test_a_backup_taken_while_serving_restores_every_acknowledged_delivery(
    tmp_path: Path, zalo: RecordingZalo
) -> None:
    config = write_config(tmp_path, platform={"kind": "zalo_bot", "api_base": zalo.api_base})
    db = tmp_path / "data" / "antt.db"
    copy = tmp_path / "nightly.db"
    serve = Serve(config, free_port(), tmp_path / "serve.log")
    acked: set[str] = set()
    stop = asyncio.Event()
    numbers = iter(range(10**6))
    loaders: list[asyncio.Task[None]] = []

    async def load(http: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            i = next(numbers)
            body = text_event("có mặt", sender=f"b{i:06d}", message_id=f"bk{i:016d}")
            if await post(http, f"{serve.url}/webhook/zalo-bot", body) == 200:
                acked.add(body["message"]["message_id"])

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        try:
            await serve.start(http)
            loaders += [asyncio.create_task(load(http)) for _ in range(6)]

            async def flowing() -> bool:
                return len(acked) >= 100

            await wait_for(flowing, 30, "deliveries to flow before the backup")
            before = set(acked)
            status, out, err = await cli("db", "backup", str(copy), "-c", str(config))
            assert status == 0, err
            assert f"written to {copy}" in out and "checked" in out
            taken_under_load = len(acked) > len(before)

            # The bot is serving: a restore refuses and says how to stop it.
            status, _out, err = await cli("db", "restore", str(copy), "-c", str(config))
            assert status == 1
            assert str(lock_path(db)) in err and "systemctl stop antt-bot" in err
            assert message_ids(db) >= before  # the live database was not touched
        finally:
            stop.set()
            await asyncio.gather(*loaders)
            serve.stop()

    assert taken_under_load, "the load stopped while the backup ran"
    assert_private_single_file(copy)

    status, out, err = await cli("db", "restore", str(copy), "-c", str(config))
    assert status == 0, err
    assert "restored" in out and "kept as" in out
    restored = message_ids(db)
    assert before <= restored, "a delivery answered 200 before the backup is missing"
    # The database the restore replaced is kept whole: nothing acknowledged is lost.
    (kept,) = db.parent.glob("antt.db.before-restore-*")
    assert acked <= message_ids(kept)


def assert_private_single_file(copy: Path) -> None:
    assert copy.stat().st_mode & 0o777 == 0o600  # names and phone numbers: owner only
    assert not Path(f"{copy}-wal").exists()
    with contextlib.closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)


# ---------------------------------------------------------------- the serving lock


async def test_serve_does_not_start_while_a_restore_holds_the_database(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    db = tmp_path / "data" / "antt.db"
    with held_exclusively(db):
        status, _out, err = await cli("serve", "--port", str(free_port()), "-c", str(config))
    assert status == 1
    assert "a restore is running" in err and str(db) in err


def test_restore_into_a_stopped_bot_keeps_the_replaced_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    db = tmp_path / "data" / "antt.db"
    assert main(["members", "list", "-c", str(config)]) == 0  # creates the database
    copy = tmp_path / "copy.db"
    assert main(["db", "backup", str(copy), "-c", str(config)]) == 0
    _insert_group(db, "after-backup")
    assert main(["db", "restore", str(copy), "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"revision {head_revision()}" in out
    assert "after-backup" not in _chat_ids(db)
    (kept,) = db.parent.glob("antt.db.before-restore-*")
    assert "after-backup" in _chat_ids(kept) and str(kept) in out
    # The restored database is the bot's again: WAL, and every command opens it.
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert main(["members", "list", "-c", str(config)]) == 0


def _insert_group(db: Path, chat_id: str) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO groups (chat_id, name, kind, created_at) VALUES (?, ?, 'council', ?)",
            (chat_id, chat_id, T0.replace(tzinfo=None).isoformat(sep=" ")),
        )
    conn.close()


def _chat_ids(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {row[0] for row in conn.execute("SELECT chat_id FROM groups")}
    finally:
        conn.close()


# ---------------------------------------------------------------- bad input


def test_bad_files_get_a_clear_answer_and_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    db = tmp_path / "data" / "antt.db"
    args = ["-c", str(config)]
    assert main(["db", "backup", str(tmp_path / "x.db"), *args]) == 2
    assert f"no database at {db}" in capsys.readouterr().err

    assert main(["members", "list", *args]) == 0
    _insert_group(db, "precious")
    before = db.read_bytes()
    not_db = tmp_path / "notes.txt"
    not_db.write_text("hello", encoding="utf-8")
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.close()
    newer = tmp_path / "newer.db"
    assert main(["db", "backup", str(newer), *args]) == 0
    assert main(["db", "backup", str(tmp_path / "ok.db"), *args]) == 0
    with contextlib.closing(sqlite3.connect(newer)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    capsys.readouterr()
    cases = [
        (["db", "backup", str(db)], "is the database itself"),
        (["db", "backup", f"{db}-wal"], "is the database itself"),
        (["db", "backup", str(tmp_path / "no" / "such" / "x.db")], "is not a folder"),
        (["db", "backup", str(tmp_path)], f"{tmp_path} is a folder: give the backup's file"),
        (["db", "restore", str(tmp_path / "missing.db")], "no file at"),
        (["db", "restore", str(not_db)], "is not an SQLite database"),
        (["db", "restore", str(foreign)], "is not an antt-bot database"),
        (["db", "restore", str(newer)], "made by a newer antt-bot"),
        (["db", "restore", str(db)], "is the database itself"),
    ]
    for argv, reason in cases:
        assert main([*argv, *args]) == 2, argv
        err = capsys.readouterr().err
        assert reason in err, (argv, err)
    # A folder the bot's user cannot write in: said as such, not as an error of a .part file.
    assert main(["db", "backup", "/proc/antt.db", *args]) == 1
    err = capsys.readouterr().err
    assert "antt-bot: cannot write the backup /proc/antt.db:" in err and ".part" not in err, err
    # A program still has the database open (a stopped bot's `jobs run`, an sqlite3 shell).
    monkeypatch.setattr(dbfile, "BUSY_SECONDS", 0.1)
    with contextlib.closing(sqlite3.connect(db)) as other:
        other.execute("SELECT count(*) FROM groups").fetchone()
        assert main(["db", "restore", str(newer.with_name("ok.db")), *args]) == 1
    assert "another program has" in capsys.readouterr().err
    assert "precious" in _chat_ids(db) and db.read_bytes() == before
    assert not list(db.parent.glob("*.before-restore-*"))


# ---------------------------------------------------------------- PostgreSQL


def test_postgres_backup_prints_pg_dump_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+asyncpg://antt:pa55-Word!@db.example:5433/antt_prod"
    config = write_config(tmp_path)
    monkeypatch.setenv("ANTT_DATABASE__URL", url)  # a password never lives in the file
    assert main(["db", "backup", "/var/backups/antt-bot/x.dump", "-c", str(config)]) == 0
    out, err = capsys.readouterr()
    assert shlex.split(out) == [
        "pg_dump",
        "--format=custom",
        "--file=/var/backups/antt-bot/x.dump",
        "--host=db.example",
        "--port=5433",
        "--username=antt",
        "--dbname=antt_prod",
    ]
    assert "pa55" not in out + err and "PGPASSWORD" in err


async def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`antt-bot ARGS` through main() on a thread (it runs its own event loop)."""
    capsys.readouterr()
    status = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="ANTT_TEST_POSTGRES_URL not set")
async def test_postgres_backup_and_restore_commands_work_as_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = contextlib.asynccontextmanager(_fresh_pg)
    dump = tmp_path / "antt.dump"
    async with fresh() as source_url, fresh(migrate=False) as target_url:
        engine = make_engine(source_url)
        try:
            async with make_sessionmaker(engine)() as s, s.begin():
                s.add_all(
                    Group(chat_id=f"g{i}", name=f"Nhóm {i}", kind="council", created_at=T0)
                    for i in range(5)
                )
        finally:
            await engine.dispose()
        source = write_config(tmp_path, url=source_url)
        status, out, err = await in_process(capsys, "db", "backup", str(dump), "-c", str(source))
        assert status == 0, err
        assert (
            await asyncio.to_thread(subprocess.run, shlex.split(out), check=False)
        ).returncode == 0

        (tmp_path / "target").mkdir()
        target = write_config(tmp_path / "target", url=target_url)
        target_engine = make_engine(target_url)
        try:
            async with target_engine.connect() as held:  # a bot still connected
                await held.execute(text("SELECT 1"))
                status, _out, err = await in_process(
                    capsys, "db", "restore", str(dump), "-c", str(target)
                )
                assert status == 1 and "stop every `antt-bot serve` first" in err
        finally:
            await target_engine.dispose()
        status, out, err = await in_process(capsys, "db", "restore", str(dump), "-c", str(target))
        assert status == 0, err
        argv = shlex.split(out)
        assert argv[0] == "pg_restore" and argv[-1] == str(dump)
        assert (await asyncio.to_thread(subprocess.run, argv, check=False)).returncode == 0

        engine = make_engine(target_url)
        try:
            async with make_sessionmaker(engine)() as s:
                n = (await s.execute(select(func.count()).select_from(Group))).scalar_one()
        finally:
            await engine.dispose()
        assert n == 5
