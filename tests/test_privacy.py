"""Personal data by law (issue 18.5): /baomat and the first-message notice, retention per kind,
`members export-data` and `members forget` through the CLI, the dashboard's page and audit."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import func, select

from bot.cli import main
from handlers.clock import FixedClock
from models.exports import KINDS
from models.tables import AuditLog, Message
from tests.conftest import Bot, text_event
from tests.engagement_helpers import GROUPS, MAY, NAMES, import_roster

ROOT = Path(__file__).resolve().parents[1]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
TUE = datetime(2026, 12, 1, 10, 0, tzinfo=VN)
PASSWORD = "mật khẩu đủ dài 2026"
NAME, PHONE = NAMES["u2"], "0901000002"  # Trần Thị Bình, from the roster


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


async def export_in_process(cwd: Path, kind: str) -> str:
    """`antt-bot -c config.yaml export KIND` through the CLI's own entry point, in this process
    (a thread: main runs its own loop); the commands above run as real processes, and a
    process's start for each of the kinds only cost the suite time."""
    out = io.StringIO()

    def call() -> int:
        with contextlib.redirect_stdout(out):
            return main(["-c", str(cwd / "config.yaml"), "export", kind, "--format", "jsonl"])

    assert await asyncio.to_thread(call) == 0, kind
    return out.getvalue()


@pytest.fixture
async def park(make_bot: Any, make_settings: Any, tmp_path: Path) -> Bot:
    """A council on a real SQLite file that the CLI opens too."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}"
    config = {"database": {"url": url}, "groups": GROUPS}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    settings = make_settings(
        db=url,
        groups=GROUPS,
        dashboard={"password": PASSWORD},
        server={"public_url": "https://antt.vn"},
        retention={"messages_days": 30, "digests_days": 400, "first_message_notice": True},
    )
    bot: Bot = await make_bot(settings, clock=FixedClock(TUE))
    await import_roster(bot, TUE)
    return bot


async def say(bot: Bot, member: str, text: str, *, chat: str | None = None) -> None:
    body = text_event(
        text if chat is None else f"@Bot ANTT {text}",
        sender=member,
        name=NAMES[member],
        chat=chat,
        group=chat is not None,
        at=bot.clock.now(),
    )
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()


async def login(bot: Bot) -> None:
    async with bot.http.get("/dashboard/login") as resp:
        token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert token is not None
    data = {"username": "0901000001", "password": PASSWORD, "csrf": token[1], "next": "/"}
    async with bot.http.post("/dashboard/login", data=data, allow_redirects=False) as resp:
        assert resp.status == 303


async def test_baomat_and_the_notice_once_on_the_first_private_message(park: Bot) -> None:
    await say(park, "u3", "có mặt")
    await say(park, "u3", "có mặt")
    notices = [x.text for x in park.store.bot_lines("u3") if x.text.startswith("🔒")]
    assert notices == [
        "🔒 Bot lưu tên, số điện thoại và tin nhắn anh/chị gửi để phục vụ công tác ANTT. "
        "Chi tiết: https://antt.vn/dashboard/baomat"
    ]
    await say(park, "u3", "/baomat")
    answer = park.store.bot_lines("u3")[-1].text
    assert "Nghị định 13/2023/NĐ-CP" in answer and "30 ngày" in answer
    # The sent digests name members too: their period is the configured one (docs/privacy.md).
    assert "• Bản tổng kết tuần đã gửi (có tên thành viên): 400 ngày." in answer.splitlines()
    async with park.http.get("/dashboard/baomat") as resp:  # public: members have no login
        page = await resp.text()
    assert resp.status == 200 and "30 ngày" in page
    # The page lists the sent digests in the chat's words, with the configured period.
    row = re.search(
        r"<tr><td>Bản tổng kết tuần đã gửi \(có tên thành viên\)</td>.*?</tr>", page, re.S
    )
    assert row is not None and "<td>400 ngày</td>" in row[0]


async def test_retention_deletes_messages_past_the_configured_days(park: Bot) -> None:
    await say(park, "u3", "có mặt")
    park.clock.set(TUE + timedelta(days=20))
    await say(park, "u4", "có mặt")
    park.clock.set(TUE + timedelta(days=31))
    await park.runtime.run_job("retention")
    async with park.sessions() as s:
        left = (await s.execute(select(Message.member_id))).scalars().all()
    assert left == ["u4"]


async def test_export_data_then_forget_leaves_no_trace(park: Bot, tmp_path: Path) -> None:
    await say(park, "u2", f"Cháy ở kho 3, gọi em số {PHONE}")
    await say(park, "u3", f"điểm danh ca 1, cùng chị {NAME}", chat=MAY)
    await say(park, "u1", "/thongke")

    proc = cli("members", "export-data", "u2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["member"]["phone"] == PHONE
    assert any("Cháy ở kho 3" in m["text"] for m in data["messages"])
    assert data["reports"] and data["reports"][0]["category"] == "fire"
    assert cli("members", "export-data", "nobody", cwd=tmp_path).returncode != 0

    before = cli("export", "outbox", "--format", "jsonl", cwd=tmp_path).stdout
    assert NAME in before  # the fire alert named the reporter: forget must mask it

    proc = cli("members", "forget", "u2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    await login(park)
    await assert_no_trace(park, tmp_path, NAME, PHONE)
    async with park.sessions() as s:
        audit = (await s.execute(select(AuditLog).order_by(AuditLog.id))).scalars().all()
    assert audit[0].action == "member.forget" and audit[0].actor == "cli"
    downloads = [a for a in audit if a.action == "download"]
    assert [a.detail["kind"] for a in downloads] == list(KINDS)
    assert {a.actor for a in downloads} == {audit[-1].actor} and audit[-1].actor
    assert await count_audit(park) == 1 + len(KINDS)


async def assert_no_trace(bot: Bot, tmp_path: Path, name: str, phone: str) -> None:
    """After a forget: the name and phone are in no export (CLI, every kind) and on no page or
    download of a signed-in dashboard; the report's category and place stay."""
    for kind in KINDS:
        out = await export_in_process(tmp_path, kind)
        assert name not in out and phone not in out, kind
    reports = await export_in_process(tmp_path, "reports")
    assert '"fire"' in reports and "kho 3" in reports  # category and place stay
    pages = ["/dashboard/", "/dashboard/reports", "/dashboard/members", "/dashboard/incidents"]
    pages += ["/dashboard/incidents/1", "/dashboard/tasks", "/dashboard/directives"]
    pages += ["/dashboard/honour", "/dashboard/posts"]
    for path in pages:
        async with bot.http.get(path) as resp:
            html = await resp.text()
        assert resp.status == 200 and name not in html and phone not in html, path
    for kind in KINDS:
        async with bot.http.get(f"/dashboard/downloads/{kind}.csv") as resp:
            assert resp.status == 200
            body = await resp.text()
        assert name not in body and phone not in body, kind


async def count_audit(bot: Bot) -> int:
    async with bot.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(AuditLog))).scalar_one())
