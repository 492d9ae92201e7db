"""deploy/ and docs/deploy.md exercised: the systemd units verify, Caddy validates and proxies a
signed delivery over HTTPS with /metrics kept local, and the upgrade runbook keeps every row.

(A killed `serve` restarted by the same command keeps every acknowledged delivery:
tests/test_faults.py::test_kill_9_under_load_loses_nothing_and_says_nothing_twice.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from handlers.config import load_settings
from models.db import alembic_config, head_revision, make_engine
from tests.conftest import PG_URL, _fresh_pg, text_event
from tests.test_backup import cli, message_ids, write_config
from tests.test_faults import ROOT, RecordingZalo, Serve, free_port, post, wait_for

DEPLOY = ROOT / "deploy"
UNITS = ["antt-bot.service", "antt-bot-backup.service", "antt-bot-backup.timer"]


@pytest.fixture
async def zalo() -> AsyncIterator[RecordingZalo]:
    fake = RecordingZalo()
    await fake.start()
    yield fake
    await fake.close()


# ---------------------------------------------------------------- systemd


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_the_systemd_units_verify(tmp_path: Path) -> None:
    """With the venv's antt-bot replaced by a stand-in (verify checks the program exists)."""
    program = tmp_path / "venv" / "bin" / "antt-bot"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    program.chmod(0o755)
    units = tmp_path / "units"
    (units / "antt-bot-backup.service.d").mkdir(parents=True)
    for name in UNITS:
        unit = (DEPLOY / name).read_text(encoding="utf-8")
        (units / name).write_text(
            unit.replace("/opt/antt-bot/venv/bin/antt-bot", str(program)), encoding="utf-8"
        )
    dropin = (DEPLOY / "antt-bot-backup-postgres.conf").read_text(encoding="utf-8")
    (units / "antt-bot-backup.service.d" / "postgres.conf").write_text(
        dropin.replace("/opt/antt-bot/venv/bin/antt-bot", str(program)), encoding="utf-8"
    )
    for name in UNITS:
        proc = subprocess.run(
            ["systemd-analyze", "verify", name],
            env={**os.environ, "SYSTEMD_UNIT_PATH": f"{units}:"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output
        # Unknown keys are only warned about: a misspelt hardening option would go unseen.
        assert "Unknown" not in output and "ignoring" not in output, output


def test_the_service_runs_serve_with_the_documented_safeguards() -> None:
    unit = (DEPLOY / "antt-bot.service").read_text(encoding="utf-8")
    for line in (
        "User=antt",
        "ExecStart=/opt/antt-bot/venv/bin/antt-bot serve",
        "Restart=on-failure",
        "EnvironmentFile=/etc/antt-bot/env",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=antt-bot",
    ):
        assert f"\n{line}\n" in unit, line
    config = (DEPLOY / "config.yaml").read_text(encoding="utf-8")
    # Under ProtectSystem=strict only the state directory is writable: the database is there.
    assert "url: sqlite+aiosqlite:////var/lib/antt-bot/antt.db" in config
    timer = (DEPLOY / "antt-bot-backup.service").read_text(encoding="utf-8")
    assert "antt-bot db backup" in timer and "-mtime +13 -delete" in timer


def test_the_shipped_config_and_secrets_file_are_valid_together() -> None:
    """deploy/config.yaml with deploy/env.example read as systemd reads it: no unknown key."""
    environ = {}
    for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            environ[key] = value.strip("'")
    settings = load_settings(DEPLOY / "config.yaml", environ=environ)
    assert settings.platform.kind == "zalo_bot" and settings.server.host == "127.0.0.1"
    assert settings.platform.token.get_secret_value().startswith("123456789:")
    proc = subprocess.run(["sh", "-n", str(DEPLOY / "antt-bot.sh")], check=False, timeout=30)
    assert proc.returncode == 0


def test_the_admin_command_reads_the_services_config_from_the_source_folder(
    tmp_path: Path,
) -> None:
    """docs/deploy.md runs `sudo antt-bot ...` from /opt/antt-bot/src, whose config.yaml is
    the repository's: the wrapper must still use /etc/antt-bot/config.yaml, as the service."""
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "env").write_text("ANTT_DASHBOARD__PASSWORD='x'\n", encoding="utf-8")
    (etc / "config.yaml").write_text("digest:\n  weekday: wed\n  time: '17:45'\n", "utf-8")
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOT / "config.yaml", src / "config.yaml")  # digest at mon 08:00
    script = (DEPLOY / "antt-bot.sh").read_text(encoding="utf-8")
    script = script.replace("/etc/antt-bot/", f"{etc}/").replace(
        "runuser -u antt -- /opt/antt-bot/venv/bin/antt-bot", f"{sys.executable} -m bot"
    )
    (tmp_path / "antt-bot").write_text(script, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ANTT_CONFIG", None)
    proc = subprocess.run(
        ["sh", str(tmp_path / "antt-bot"), "jobs", "list"],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "17:45" in proc.stdout and not (src / "data").exists(), proc.stdout


# ---------------------------------------------------------------- Caddy


CADDY = shutil.which("caddy")
needs_caddy = pytest.mark.skipif(not CADDY, reason="Debian's caddy is not installed")


def caddy_env(tmp_path: Path) -> dict[str, str]:
    """Caddy keeps its certificates and autosave under HOME/XDG: a folder of the test's."""
    home = tmp_path / "caddy-home"
    home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }


@needs_caddy
def test_caddy_validates_the_shipped_caddyfile(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(CADDY), "validate", "--adapter", "caddyfile", "--config", str(DEPLOY / "Caddyfile")],
        env=caddy_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Valid configuration" in proc.stdout + proc.stderr


def loopback_caddyfile(tmp_path: Path, https_port: int, http_port: int, upstream: int) -> Path:
    """The shipped Caddyfile on loopback: `tls internal`, high ports, the test's upstream."""
    shipped = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    site = shipped.replace(
        "bot.example.org {", f"https://127.0.0.1:{https_port} {{\n\ttls internal", 1
    )
    site = site.replace("127.0.0.1:8080", f"127.0.0.1:{upstream}")
    site = site.replace("/var/log/caddy/antt-bot.log", str(tmp_path / "access.log"))
    assert site.count(f"127.0.0.1:{upstream}") == 2 and "tls internal" in site
    options = (
        "{\n\tadmin off\n"
        f"\thttp_port {http_port}\n\thttps_port {https_port}\n"
        f"\tstorage file_system {tmp_path / 'caddy-storage'}\n"
        "\tskip_install_trust\n\tdefault_sni 127.0.0.1\n}\n\n"
    )
    path = tmp_path / "Caddyfile"
    path.write_text(options + site, encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def running_caddy(tmp_path: Path, config: Path, port: int) -> AsyncIterator[ssl.SSLContext]:
    """`caddy run` until the block ends; yields a TLS context trusting Caddy's local CA."""
    log = tmp_path / "caddy.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: ASYNC220 (a quick fork, then we poll)
            [str(CADDY), "run", "--adapter", "caddyfile", "--config", str(config)],
            env=caddy_env(tmp_path),
            stdout=out,
            stderr=out,
        )
    root = tmp_path / "caddy-storage" / "pki" / "authorities" / "local" / "root.crt"

    async def listening() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"caddy exited: {log.read_text()[-3000:]}")
        if not root.exists():
            return False
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return True
        return False

    try:
        await wait_for(listening, 60, "caddy to listen")
        yield ssl.create_default_context(cafile=str(root))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@needs_caddy
@pytest.mark.slow
async def test_caddy_proxies_a_signed_delivery_over_https_and_keeps_metrics_local(
    tmp_path: Path, zalo: RecordingZalo
) -> None:
    config = write_config(tmp_path, platform={"kind": "zalo_bot", "api_base": zalo.api_base})
    serve = Serve(config, free_port(), tmp_path / "serve.log")
    body = text_event("có mặt", sender="u-https", message_id="https0000000001")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as plain:
        try:
            await serve.start(plain)  # first, so Caddy's free ports cannot be the bot's
            https_port = free_port()
            caddyfile = loopback_caddyfile(tmp_path, https_port, free_port(), serve.port)
            base = f"https://127.0.0.1:{https_port}"
            async with (
                running_caddy(tmp_path, caddyfile, https_port) as tls,
                aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(ssl=tls),
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as local,
                aiohttp.ClientSession(
                    # 127.0.0.2 is loopback too, but not "localhost" to Caddy's remote_ip.
                    connector=aiohttp.TCPConnector(ssl=tls, local_addr=("127.0.0.2", 0)),
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as outside,
            ):

                async def https_ready() -> bool:
                    with contextlib.suppress(aiohttp.ClientError):
                        async with outside.get(f"{base}/healthz") as resp:
                            return resp.status == 200
                    return False

                await wait_for(https_ready, 30, "/healthz over HTTPS")
                assert await post(outside, f"{base}/webhook/zalo-bot", body) == 200
                async with outside.post(
                    f"{base}/webhook/zalo-bot", json=body, headers={"X-Bot-Api-Secret-Token": "x"}
                ) as resp:
                    assert resp.status == 401  # the bot's own check, through the proxy

                async def replied() -> bool:
                    return any(b["chat_id"] == "u-https" for b in zalo.delivered)

                await wait_for(replied, 30, "the bot to answer the delivery")
                async with local.get(f"{base}/metrics") as resp:
                    assert resp.status == 200 and "antt_events_received" in await resp.text()
                for path in ("/metrics", "/", "/demo", "/webhook"):
                    async with outside.get(f"{base}{path}") as resp:
                        assert resp.status == 404, path
                async with outside.get(f"{base}/dashboard/login") as resp:
                    # The bot's own page (no password configured here), not Caddy's 404.
                    assert "Trang quản lý chưa bật" in await resp.text()
        finally:
            serve.stop()
    assert "https0000000001" in message_ids(tmp_path / "data" / "antt.db")


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed")
def test_nginx_accepts_the_shipped_site(tmp_path: Path) -> None:
    site = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=t"),
            *("-keyout", str(key), "-out", str(cert), "-days", "1"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = site.replace("/etc/letsencrypt/live/bot.example.org/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/bot.example.org/privkey.pem", str(key))
    main = tmp_path / "nginx.conf"
    temp = "".join(
        f"{kind}_temp_path {tmp_path}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\naccess_log off;\n{temp}{site}\n}}\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        ["nginx", "-t", "-c", str(main), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------- the upgrade runbook

ROWS = 3
WHEN = datetime(2026, 11, 20, 3, 4, 5, tzinfo=UTC)


def _value(column: sa.Column[Any], table: str, i: int) -> Any:
    """A value of the column's type, different on every row (unique constraints hold)."""
    kind = column.type
    if isinstance(kind, sa.TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, sa.Boolean):
        return i % 2 == 0
    if isinstance(kind, sa.Integer):
        return 1000 + i
    if isinstance(kind, sa.DateTime):
        when = WHEN + timedelta(days=i, microseconds=i)
        return when if kind.timezone else when.replace(tzinfo=None)
    if isinstance(kind, sa.Date):
        return (WHEN + timedelta(days=i)).date()
    if isinstance(kind, sa.Time):
        return (WHEN + timedelta(minutes=i)).time()
    if isinstance(kind, sa.Uuid):
        return uuid.UUID(int=i + 1)
    if isinstance(kind, sa.JSON):
        return {"n": i, "nơi": f"xưởng {i}", "list": [i, None]}
    if isinstance(kind, sa.LargeBinary):
        return bytes([i, 0, 255]) * 4
    if isinstance(kind, sa.Float | sa.Numeric):
        return i + 0.5
    if isinstance(kind, sa.String):
        value = f"{i}-{table}.{column.name} Cháy ở xưởng"
        return value[: kind.length] if kind.length else value
    raise AssertionError(f"{table}.{column.name}: no sample for {kind!r}; add one here")


def _fill_every_table(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Rows in every table of the schema as it is now, foreign keys pointing at real rows."""
    meta = sa.MetaData()
    meta.reflect(conn)
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in meta.sorted_tables:
        if table.name == "alembic_version":
            continue
        rows[table.name] = []
        for i in range(ROWS):
            row: dict[str, Any] = {}
            for column in table.columns:
                fk = next(iter(column.foreign_keys), None)
                if fk is not None and fk.column.table is not table:
                    row[column.name] = rows[fk.column.table.name][i][fk.column.name]
                elif fk is not None or (column.primary_key and column.autoincrement is True):
                    continue  # a self-reference stays empty; serial ids come from the database
                elif column.primary_key and isinstance(column.type, sa.Integer):
                    continue
                else:
                    row[column.name] = _value(column, table.name, i)
            result = conn.execute(table.insert().values(row))
            for pk, value in zip(
                table.primary_key.columns, result.inserted_primary_key, strict=True
            ):
                row[pk.name] = value
            rows[table.name].append(row)
    return rows


def _read_back(conn: Connection, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    meta = sa.MetaData()
    meta.reflect(conn, only=names)
    out = {}
    for name in names:
        table = meta.tables[name]
        order = list(table.primary_key.columns)
        out[name] = [dict(r._mapping) for r in conn.execute(table.select().order_by(*order))]
    return out


def _at_revision(conn: Connection, revision: str) -> None:
    command.upgrade(alembic_config(conn), revision)


def _revision(conn: Connection) -> str:
    return str(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one())


async def _previous_release(url: str) -> dict[str, list[dict[str, Any]]]:
    """A database as the previous release (schema 0001) left it, with rows in every table."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_at_revision, "0001")
        async with engine.begin() as conn:
            return await conn.run_sync(_fill_every_table)
    finally:
        await engine.dispose()


async def _upgrade_and_compare(
    tmp_path: Path, url: str, before: dict[str, list[dict[str, Any]]]
) -> None:
    config = write_config(tmp_path, url=url)
    status, out, err = await cli("db", "upgrade", "-c", str(config))
    assert status == 0, err
    assert head_revision() in out
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_revision) == head_revision()
            after = await conn.run_sync(_read_back, list(before))
    finally:
        await engine.dispose()
    for name, rows in before.items():
        assert len(after[name]) == ROWS, f"{name}: rows lost or added by the upgrade"
        for old, new in zip(rows, after[name], strict=True):
            kept = {k: v for k, v in old.items() if k in new}
            assert {k: new[k] for k in kept} == kept, f"{name}: a value changed"
            if "council_id" in new and "council_id" not in old:
                # Issue 20: rows from before councils belong to the one council there was.
                assert new["council_id"] == "default", f"{name}: no council given"
    councils = [n for n, rows in after.items() if rows and "council_id" in rows[0]]
    assert {"messages", "incidents", "reports", "groups", "outbox"} <= set(councils)


async def test_a_sqlite_database_of_the_previous_release_upgrades_and_rolls_back(
    tmp_path: Path,
) -> None:
    """The runbook: backup, `db upgrade`, every row kept; rollback: `db restore` the backup."""
    db = tmp_path / "antt.db"
    url = f"sqlite+aiosqlite:///{db}"
    before = await _previous_release(url)
    config = write_config(tmp_path, url=url)
    saved = tmp_path / "before-upgrade.db"
    status, _out, err = await cli("db", "backup", str(saved), "-c", str(config))
    assert status == 0, err
    await _upgrade_and_compare(tmp_path, url, before)

    status, out, err = await cli("db", "restore", str(saved), "-c", str(config))
    assert status == 0 and "revision 0001" in out, err
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (ROWS,)
    finally:
        conn.close()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="ANTT_TEST_POSTGRES_URL not set")
async def test_a_postgres_database_of_the_previous_release_upgrades_with_every_row(
    tmp_path: Path,
) -> None:
    async with contextlib.asynccontextmanager(_fresh_pg)(migrate=False) as url:
        await _upgrade_and_compare(tmp_path, url, await _previous_release(url))


def test_the_schema_sampler_knows_every_column_type() -> None:
    """A new column type gets a sample in _value before a migration that adds it ships."""
    from models.base import Base

    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            _value(column, table.name, 0)
