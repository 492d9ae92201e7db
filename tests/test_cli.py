"""The command line as a user runs it: real processes, a config file, exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import yaml

from tests.engagement_helpers import GROUPS, ROSTER
from tests.fake_zalo import TOKEN, FakeZalo

SECRET = "webhook-secret-123"


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), **(env or {})},
    )


def write_config(tmp_path: Path, **extra: object) -> Path:
    data: dict[str, object] = {
        "database": {"url": "sqlite+aiosqlite:///data/antt.db"},
        "groups": GROUPS,
        "engagement": {"holidays": []},
    }
    data.update(extra)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_jobs_list_shows_when_the_daily_summary_really_goes(tmp_path: Path) -> None:
    """It said "every 15 min" (how often it checks); the coordinators get it once a working
    day at reminders.summary_time."""
    write_config(tmp_path, reminders={"summary_time": "07:45"}, timezone="Asia/Ho_Chi_Minh")
    listing = run("jobs", "list", cwd=tmp_path).stdout
    line = next(x for x in listing.splitlines() if x.startswith("daily_summary"))
    match = re.search(r"next (\d{4}-\d\d-\d\d) 07:45", line)
    assert match is not None, line
    when = date.fromisoformat(match[1])
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    assert today <= when <= today + timedelta(days=14)
    assert when.weekday() != 6  # Sunday is a rest day


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    fake = await FakeZalo().start()
    yield fake
    await fake.close()


def test_parse_prints_one_json_line_per_message(tmp_path: Path) -> None:
    write_config(tmp_path)
    proc = run("parse", "--now", "2026-11-27T16:00", "Cháy ở xưởng 2", "có mặt", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [x["type"] for x in lines] == ["incident", "check_in"]
    assert lines[0]["category"] == "fire"
    proc = run(
        "parse",
        "--now",
        "2026-11-27T16:00+07:00",
        cwd=tmp_path,
        stdin="đã nhận\n\n22h có xe lạ vào lô A1\n",
    )
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert (
        len(out) == 3 and out[0]["type"] == "ack" and out[2]["time"] == {"at": "2026-11-26T22:00"}
    )
    assert run("parse", "--now", "yesterday", "x", cwd=tmp_path).returncode == 2


def test_members_import_list_and_export(tmp_path: Path) -> None:
    write_config(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8-sig")
    proc = run("members", "import", "roster.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "10 created" in proc.stdout
    assert "10 unchanged" in run("members", "import", "roster.csv", cwd=tmp_path).stdout
    listing = run("members", "list", cwd=tmp_path).stdout
    assert "Lý Thị Kim" in listing and "coordinator" in listing
    rows = [json.loads(x) for x in run("export", "members", cwd=tmp_path).stdout.splitlines()]
    assert {r["member_id"] for r in rows} == {f"u{i}" for i in range(1, 11)}
    assert rows[0]["groups"] == ["gcouncil", "gdienquang", "ghansol", "gmayviet"]
    assert set(rows[0]) >= {
        "member_id",
        "name",
        "phone",
        "enterprise",
        "role",
        "groups",
        "status",
        "last_active_at",
    }
    csv_out = tmp_path / "m.csv"
    assert (
        run("export", "members", "--format", "csv", "-o", str(csv_out), cwd=tmp_path).returncode
        == 0
    )
    assert csv_out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel needs the BOM
    assert "Lý Thị Kim" in csv_out.read_text(encoding="utf-8-sig")
    bad = run("members", "import", "nope.csv", cwd=tmp_path)
    assert bad.returncode == 2 and "file not found" in bad.stderr
    assert run("export", "bogus", cwd=tmp_path).returncode == 2


def test_unknown_command_and_bad_usage_exit_2(tmp_path: Path) -> None:
    write_config(tmp_path)
    proc = run("fly", cwd=tmp_path)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    proc = run("jobs", "run", "nope", cwd=tmp_path)
    assert proc.returncode == 2 and "unknown job" in proc.stderr


def test_jobs_list_and_run_at_a_time(tmp_path: Path) -> None:
    write_config(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    assert run("members", "import", "roster.csv", cwd=tmp_path).returncode == 0
    listing = run("jobs", "list", cwd=tmp_path).stdout
    for name in ("nudges", "ack_reminders", "task_reminders", "retention"):
        assert name in listing
    # Nobody has been seen: a week and a day later everyone on the roster is nudged in a group.
    when = time.time() + 8 * 86400
    while time.localtime(when).tm_wday == 6:  # Sunday is a rest day: no nudges
        when += 86400
    later = time.strftime("%Y-%m-%d", time.localtime(when)) + "T10:00"
    proc = run("jobs", "run", "nudges", "--at", later, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "3 message(s) queued" in proc.stdout  # one batched message per enterprise group
    proc = run("jobs", "run", "nudges", "--at", later, "--send", cwd=tmp_path)
    assert "0 message(s) queued and delivered" in proc.stdout
    rows = [json.loads(x) for x in run("export", "outbox", cwd=tmp_path).stdout.splitlines()]
    assert len(rows) == 3 and {r["kind"] for r in rows} == {"nudge"}


async def test_platform_commands_against_a_fake_zalo(tmp_path: Path, zalo: FakeZalo) -> None:
    write_config(tmp_path, platform={"kind": "zalo_bot", "api_base": zalo.api_base})
    env = {"ANTT_PLATFORM__TOKEN": TOKEN, "ANTT_PLATFORM__WEBHOOK_SECRET": SECRET}
    proc = await asyncio.to_thread(
        run,
        "platform",
        "set-webhook",
        "https://antt.example.vn/webhook/zalo-bot",
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert zalo.calls[-1].body == {
        "url": "https://antt.example.vn/webhook/zalo-bot",
        "secret_token": SECRET,
    }
    proc = await asyncio.to_thread(run, "platform", "info", cwd=tmp_path, env=env)
    info = json.loads(proc.stdout)
    assert info["me"]["account_name"] == "bot.test"
    assert info["webhook"]["url"].endswith("/webhook/zalo-bot")
    assert TOKEN not in proc.stdout + proc.stderr
    proc = await asyncio.to_thread(
        run, "platform", "set-webhook", "http://insecure", cwd=tmp_path, env=env
    )
    assert proc.returncode == 2 and "https://" in proc.stderr
    proc = await asyncio.to_thread(
        run, "platform", "info", cwd=tmp_path, env={"ANTT_PLATFORM__TOKEN": "1:wrong"}
    )
    assert proc.returncode == 1 and "401" in proc.stderr


def test_serve_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    write_config(tmp_path, platform={"kind": "zalo_bot"})
    proc = run("serve", cwd=tmp_path)
    assert proc.returncode == 2 and "platform.token" in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_answers_processes_and_stops_cleanly_on_sigterm(
    tmp_path: Path, zalo: FakeZalo
) -> None:
    port = _free_port()
    write_config(
        tmp_path, platform={"kind": "zalo_bot", "api_base": zalo.api_base}, server={"port": port}
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "ANTT_PLATFORM__TOKEN": TOKEN,
        "ANTT_PLATFORM__WEBHOOK_SECRET": SECRET,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            body = {
                "event_name": "message.text.received",
                "message": {
                    "from": {"id": "u1", "display_name": "A"},
                    "chat": {"id": "u1", "chat_type": "PRIVATE"},
                    "message_id": "serve0000000000000001",
                    "date": 1789033572455,
                    "text": "/huongdan",
                },
            }
            async with http.post(
                f"{base}/webhook/zalo-bot", json=body, headers={"X-Bot-Api-Secret-Token": SECRET}
            ) as resp:
                assert resp.status == 200
            for _ in range(100):
                if len(zalo.sent()) >= 2:  # the one-time note to a guest, then the help
                    break
                await asyncio.sleep(0.1)
        assert any("Báo sự việc" in b["text"] for b in zalo.sent())
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0
    logs = err.decode()
    assert TOKEN not in logs and "Traceback" not in logs
    assert '"outbox_id": 1' in logs  # structured logs carry the record's id


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("ANTT_TEST_POSTGRES_URL"), reason="no PostgreSQL")
async def test_postgres_behind_says_so_and_exits_2_until_db_upgrade(tmp_path: Path) -> None:
    from tests.conftest import _fresh_pg

    async for url in _fresh_pg(migrate=False):
        write_config(tmp_path, database={"url": url})
        proc = await asyncio.to_thread(run, "export", "messages", cwd=tmp_path)
        assert proc.returncode == 2 and "antt-bot db upgrade" in proc.stderr
        proc = await asyncio.to_thread(run, "db", "upgrade", cwd=tmp_path)
        assert proc.returncode == 0 and "upgraded from empty" in proc.stdout
        proc = await asyncio.to_thread(run, "export", "messages", cwd=tmp_path)
        assert proc.returncode == 0 and proc.stdout == ""
        proc = await asyncio.to_thread(run, "db", "upgrade", cwd=tmp_path)
        assert "already at revision" in proc.stdout


def test_config_option_is_kept_wherever_it_stands(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    cfg = write_config(other)
    (other / "roster.csv").write_text(ROSTER, encoding="utf-8")
    for args in (
        ("members", "-c", str(cfg), "import", "other/roster.csv"),
        ("members", "import", "-c", str(cfg), "other/roster.csv"),
    ):
        proc = run(*args, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    assert (other / "data" / "antt.db").exists()
    assert not (tmp_path / "data").exists()
