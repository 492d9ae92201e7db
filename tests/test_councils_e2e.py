"""Two parks on one installation, through the webhook (issue 20): each council kept to itself.

Bình Xuyên and Khai Quang share one bot (examples/two_parks.yaml). Anh Hải works for Điện cơ
Khai Quang, which has a workshop in each park, so he is on both rosters. The province's
industrial-parks board (anh Quốc, u_ban_quan_ly) gets copies of urgent alerts."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from sqlalchemy import select

from handlers.clock import FixedClock
from handlers.config import Settings, load_settings
from handlers.digest import build_digest
from handlers.texts import digest as digest_texts
from handlers.texts import identity as identity_texts
from models.roster import import_roster_csv
from models.tables import (
    CheckIn,
    Conversation,
    Directive,
    Incident,
    Member,
    MemberRequest,
    Message,
    Nudge,
    Outbox,
    Report,
    Task,
)
from tests.browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM
from tests.conftest import SECRET, Bot, text_event
from tests.test_backup import cli
from tests.test_operator import _demo_url

ROOT = Path(__file__).resolve().parents[1]
TWO_PARKS = ROOT / "examples" / "two_parks.yaml"
# Tuesday 1 Dec 2026, 09:00 in Hanoi.
TUESDAY = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
PASSWORD = "mat-khau-hoi-dong-2026"
NAMES = {
    "u_bx_chu_tich": "Nguyễn Văn Tuấn",
    "u_bx_lan": "Trần Thị Lan",
    "u_bx_hung": "Lê Văn Hùng",
    "u_kq_chu_tich": "Đỗ Thị Mai",
    "u_kq_nam": "Hoàng Văn Nam",
    "u_kq_thu": "Vũ Thị Thu",
    "u_hai": "Phạm Minh Hải",
    "u_ban_quan_ly": "Bùi Quốc",
}


def two_parks(db_url: str, **extra: Any) -> Settings:
    overrides: dict[str, Any] = {
        "database": {"url": db_url},
        "platform": {"kind": "local", "webhook_secret": SECRET, "token": "123:abc"},
        "engagement": {"holidays": []},
        **extra,
    }
    return load_settings(TWO_PARKS, environ={}, overrides=overrides)


@pytest.fixture
async def parks(make_bot: Any, db_url: str) -> Bot:
    bot: Bot = await make_bot(two_parks(db_url), clock=FixedClock(TUESDAY))
    # The chairs and the province's officer open a private chat with the bot first.
    for who in ("u_bx_chu_tich", "u_kq_chu_tich", "u_ban_quan_ly"):
        await say(bot, who, "chào bot")
    return bot


async def say(bot: Bot, who: str, text: str, group: str | None = None, quote: str = "") -> None:
    body = text_event(
        text,
        sender=who,
        name=NAMES[who],
        chat=group or who,
        group=group is not None,
        at=bot.clock.now(),
        quote=quote or None,
    )
    status, _ = await bot.deliver(body)
    assert status == 200
    await bot.drain()
    bot.clock.advance(timedelta(minutes=1))


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def all_rows(bot: Bot, model: Any) -> list[Any]:
    async with bot.sessions() as s:
        return list((await s.execute(select(model).order_by(model.id))).scalars())


async def test_a_fire_in_one_park_alerts_its_council_and_the_province_never_the_other(
    parks: Bot,
) -> None:
    await say(parks, "u_bx_lan", "Cháy lớn ở kho vải xưởng 2, cần hỗ trợ gấp!!!", "g_bx_council")
    (incident,) = await all_rows(parks, Incident)
    assert incident.council_id == "binh-xuyen" and incident.urgent
    (report,) = await all_rows(parks, Report)
    assert report.council_id == "binh-xuyen"

    chair = [t for t in said(parks, "u_bx_chu_tich") if "KHẨN" in t]
    assert len(chair) == 1 and "kho vải xưởng 2" in chair[0]
    province = [t for t in said(parks, "u_ban_quan_ly") if "KHẨN" in t]
    assert len(province) == 1
    assert province[0].startswith("🏭 KCN Bình Xuyên\n🚨 KHẨN") and "Trần Thị Lan" in province[0]
    # Khai Quang's chair hears nothing of it.
    assert not any("KHẨN" in t or "xưởng 2" in t for t in said(parks, "u_kq_chu_tich"))
    # Chị Lan is told who was alerted: the people who really got it.
    told = said(parks, "g_bx_council")[-1]
    assert "Bot đã báo khẩn cho anh Tuấn và anh/chị Quốc." in told


async def test_a_coordinator_of_one_park_cannot_act_on_the_other_parks_incident(
    parks: Bot,
) -> None:
    await say(parks, "u_bx_lan", "Cháy lớn ở kho vải xưởng 2, cần hỗ trợ gấp!!!", "g_bx_council")
    (incident,) = await all_rows(parks, Incident)
    code = f"SV{incident.id}"
    # Chị Mai chairs Khai Quang: neither her private chat nor a reply to the alert reaches it.
    await say(parks, "u_kq_chu_tich", f"/xuly {code}")
    await say(parks, "u_kq_chu_tich", f"/bao_nham {code} nhầm")
    (incident,) = await all_rows(parks, Incident)
    assert incident.status == "reported" and incident.handler_pk is None
    answers = said(parks, "u_kq_chu_tich")[-2:]
    not_found = f"Bot không tìm thấy sự việc {code}. Gõ /baocao để xem các sự việc đang mở."
    assert answers == [not_found] * 2
    # Anh Tuấn, Bình Xuyên's chair, takes it.
    await say(parks, "u_bx_chu_tich", f"/xuly {code}")
    (incident,) = await all_rows(parks, Incident)
    assert incident.status == "handling"


async def test_a_member_of_both_parks_is_asked_once_which_park(parks: Bot) -> None:
    await say(parks, "u_hai", "Mất trộm xe máy ở nhà xe cổng 3")
    question = said(parks, "u_hai")[-1]
    assert "KCN nào" in question and "1. KCN Bình Xuyên" in question
    assert "2. KCN Khai Quang" in question
    assert await all_rows(parks, Report) == []  # the report waits for the answer
    await say(parks, "u_hai", "2")
    (report,) = await all_rows(parks, Report)
    assert report.council_id == "khai-quang" and report.category == "theft"
    assert "KCN Khai Quang" in said(parks, "u_hai")[-2] or "KCN Khai Quang" in " ".join(
        said(parks, "u_hai")[-3:]
    )
    # The choice holds for the conversation: the next message is not asked about.
    await say(parks, "u_hai", "co mat")
    (checkin,) = await all_rows(parks, CheckIn)
    assert checkin.council_id == "khai-quang"
    asked = [t for t in said(parks, "u_hai") if "KCN nào" in t]
    assert len(asked) == 1
    # A message that names the park needs no question (a member of both parks, new chat).
    messages = await all_rows(parks, Message)
    assert {m.council_id for m in messages if m.member_id == "u_hai"} == {"khai-quang"}


async def test_a_member_of_both_parks_may_name_the_park_or_answer_badly(parks: Bot) -> None:
    await say(parks, "u_hai", "Có mặt ca sáng")
    await say(parks, "u_hai", "kcn nao cung duoc")  # not an answer: asked again, kept
    assert "trả lời số 1 đến 2" in said(parks, "u_hai")[-1]
    await say(parks, "u_hai", "binh xuyen")
    checkins = await all_rows(parks, CheckIn)
    assert [c.council_id for c in checkins] == ["binh-xuyen"]
    assert "KCN Bình Xuyên" in " ".join(said(parks, "u_hai")[-3:])


async def test_one_parks_digest_holds_nothing_of_the_other(parks: Bot) -> None:
    await say(parks, "u_bx_lan", "Cháy lớn ở kho vải xưởng 2, cần hỗ trợ gấp!!!", "g_bx_council")
    await say(parks, "u_kq_nam", "có mặt", "g_kq_council")
    await say(parks, "u_kq_thu", "tuần tra khu B bình thường", "g_kq_dienco")
    settings = parks.runtime.settings
    async with parks.sessions() as s:
        kq = await build_digest(s, settings, "2026-W49", parks.clock.now(), council_id="khai-quang")
        bx = await build_digest(s, settings, "2026-W49", parks.clock.now(), council_id="binh-xuyen")
    kq_json = kq.to_json()
    assert kq_json["council"] == "KCN Khai Quang"
    assert kq.totals.reports == 0 and kq.incidents == []
    assert kq.totals.checkins == 2
    assert {g.chat_id for g, _f in kq.groups} == {"g_kq_council", "g_kq_dienco"}
    text = kq.render_text()
    assert "KCN Khai Quang" in text and "Lan" not in text and "xưởng 2" not in text
    assert bx.totals.reports == 1 and bx.totals.checkins == 0
    assert {g.chat_id for g, _f in bx.groups} == {"g_bx_council", "g_bx_mayviet"}
    # Members: each park counts its own roster (anh Hải is on both), less its chair.
    assert kq.totals.members == 3 and bx.totals.members == 3


def two_parks_file(tmp_path: Path, db_url: str) -> Path:
    """examples/two_parks.yaml on the test's database (rosters found where they are)."""
    data = yaml.safe_load(TWO_PARKS.read_text(encoding="utf-8"))
    data["database"] = {"url": db_url}
    for council in data["councils"]:
        council["roster"] = str(TWO_PARKS.parent / council["roster"])
    path = tmp_path / "two_parks.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def test_the_command_line_keeps_to_the_park_it_is_given(
    parks: Bot, tmp_path: Path, db_url: str
) -> None:
    await say(parks, "u_bx_lan", "Cháy lớn ở kho vải xưởng 2, cần hỗ trợ gấp!!!", "g_bx_council")
    await say(parks, "u_kq_nam", "có mặt", "g_kq_council")
    config = str(two_parks_file(tmp_path, db_url))

    # Where the result would mix parks, the park must be named; a wrong one is named back.
    for argv in (
        ["digest", "--week", "2026-W49"],
        ["export", "reports"],
        ["members", "list"],
        ["posts", "list"],
    ):
        status, _out, err = await cli(*argv, "-c", config)
        assert status == 2 and "--council" in err and "binh-xuyen, khai-quang" in err, argv
    status, _out, err = await cli("digest", "--council", "kcn-x", "-c", config)
    assert status == 2 and "kcn-x" in err and "binh-xuyen, khai-quang" in err

    at = "2026-12-01T18:00"
    status, out, err = await cli(
        "digest", "--council", "khai-quang", "--week", "2026-W49", "--at", at,
        "--format", "json", "-c", config,
    )  # fmt: skip
    assert status == 0, err
    kq = json.loads(out)
    assert kq["council"] == "KCN Khai Quang" and kq["totals"]["reports"] == 0
    assert kq["totals"]["checkins"] == 1 and kq["incidents"] == []

    status, out, err = await cli("export", "reports", "--council", "khai-quang", "-c", config)
    assert status == 0 and out.strip() == "", (out, err)
    status, out, err = await cli("export", "reports", "--council", "binh-xuyen", "-c", config)
    assert status == 0 and "kho vải xưởng 2" in out
    status, out, _err = await cli("export", "messages", "--council", "khai-quang", "-c", config)
    assert "có mặt" in out and "xưởng 2" not in out

    status, out, err = await cli(
        "members", "list", "--council", "khai-quang", "--format", "jsonl", "-c", config
    )
    assert status == 0, err
    people = {json.loads(line)["member_id"]: json.loads(line) for line in out.splitlines()}
    assert set(people) == {"u_kq_chu_tich", "u_kq_nam", "u_kq_thu", "u_hai"}
    assert people["u_kq_chu_tich"]["role"] == "coordinator"
    assert people["u_hai"]["groups"] == ["g_kq_council", "g_kq_dienco"]

    # jobs run without --council runs every park's council; with it, that one alone.
    status, out, err = await cli("jobs", "run", "daily_summary", "--council", "nope", "-c", config)
    assert status == 2 and "nope" in err
    status, out, err = await cli(
        "jobs", "run", "weekly_digest", "--council", "khai-quang", "--at", "2026-12-08T09:00",
        "-c", config,
    )  # fmt: skip
    assert status == 0 and out.startswith("weekly_digest: ") and " 0 message" not in out, err
    async with parks.sessions() as s:
        keys = set((await s.execute(select(Outbox.idempotency_key))).scalars())
    # Khai Quang's chair got its digest; Bình Xuyên's (due Monday) was not touched.
    assert "digest:khai-quang:u_kq_chu_tich:2026-W49" in keys
    assert not any(k.startswith("digest:binh-xuyen") for k in keys)


async def test_the_dashboard_shows_a_coordinator_only_their_park(
    make_bot: Any, db_url: str
) -> None:
    bot: Bot = await make_bot(
        two_parks(db_url, dashboard={"password": PASSWORD}), clock=FixedClock(TUESDAY)
    )
    await say(bot, "u_bx_lan", "Cháy lớn ở kho vải xưởng 2, cần hỗ trợ gấp!!!", "g_bx_council")
    await say(bot, "u_kq_nam", "Mất trộm dây điện ở cổng 5", "g_kq_council")
    # Chị Mai, Khai Quang's chair, signs in with her phone.
    status = await login(bot, "0901000201")
    assert status == 303
    seen = {}
    for path in (
        "/dashboard/",
        "/dashboard/reports",
        "/dashboard/incidents",
        "/dashboard/members",
        "/dashboard/digest/2026-W49",
        "/dashboard/downloads/reports.csv",
        "/dashboard/downloads/members.csv",
    ):
        async with bot.http.get(path) as resp:
            assert resp.status == 200, path
            seen[path] = await resp.text()
    everything = "\n".join(seen.values())
    assert "cổng 5" in seen["/dashboard/reports"] and "Hoàng Văn Nam" in seen["/dashboard/members"]
    assert "Đỗ Thị Mai · điều phối viên · KCN Khai Quang" in seen["/dashboard/"]
    for other in ("xưởng 2", "Trần Thị Lan", "Lê Văn Hùng", "Nguyễn Văn Tuấn", "May Việt"):
        assert other not in everything, other
    # Another park's member cannot be opened by id either.
    async with bot.sessions() as s:
        lan = (await s.execute(select(Member).where(Member.member_id == "u_bx_lan"))).scalar_one()
    async with bot.http.get(f"/dashboard/members/{lan.id}") as resp:
        assert resp.status in (403, 404)


async def login(bot: Bot, username: str) -> int:
    async with bot.http.get("/dashboard/login") as resp:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert csrf is not None
    async with bot.http.post(
        "/dashboard/login",
        allow_redirects=False,
        data={"username": username, "password": PASSWORD, "csrf": csrf[1], "next": "/dashboard/"},
    ) as resp:
        return resp.status


async def test_tasks_go_only_to_people_of_the_same_park(parks: Bot) -> None:
    # Anh Tuấn (Bình Xuyên) names chị Thu, who is on Khai Quang's roster only.
    await say(parks, "u_bx_chu_tich", "/giaoviec @Vũ Thị Thu kiểm tra bình chữa cháy xưởng 2")
    async with parks.sessions() as s:
        assert (await s.execute(select(Task))).first() is None
    assert said(parks, "u_kq_thu") == []
    assert said(parks, "u_bx_chu_tich")[-1].startswith("Không tìm thấy thành viên")
    # Chị Lan is his park's: the task is hers, in Bình Xuyên.
    await say(parks, "u_bx_chu_tich", "/giaoviec @Trần Thị Lan kiểm tra bình chữa cháy xưởng 2")
    (task,) = await all_rows(parks, Task)
    assert task.council_id == "binh-xuyen"


async def test_the_province_gets_hazmat_and_injuries_but_not_a_plain_theft(parks: Bot) -> None:
    await say(parks, "u_kq_nam", "Rò rỉ hóa chất ở kho sơn cổng 4, mùi rất nặng", "g_kq_council")
    await say(parks, "u_kq_nam", "Tai nạn ở xưởng cơ khí, 1 người bị thương nặng", "g_kq_council")
    await say(parks, "u_kq_nam", "Mất trộm 2 cuộn dây điện ở bãi xe", "g_kq_council")
    incidents = {i.category: i for i in await all_rows(parks, Incident)}
    assert {i.council_id for i in incidents.values()} == {"khai-quang"}
    province = [t for t in said(parks, "u_ban_quan_ly") if "KHẨN" in t]
    assert len(province) == 2, province
    assert all(t.startswith("🏭 KCN Khai Quang\n") for t in province)
    assert any("kho sơn" in t for t in province) and any("bị thương" in t for t in province)
    assert not any("dây điện" in t for t in said(parks, "u_ban_quan_ly"))
    assert not any("KHẨN" in t for t in said(parks, "u_bx_chu_tich"))


async def test_each_park_gets_its_digest_on_its_own_day(parks: Bot) -> None:
    await say(parks, "u_bx_lan", "có mặt", "g_bx_council")
    await say(parks, "u_kq_nam", "có mặt", "g_kq_council")
    # Monday 7 Dec, 09:00: Bình Xuyên's day (the shared `digest.weekday: mon`).
    parks.clock.set(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    await parks.runtime.run_job("weekly_digest")
    await parks.drain()
    bx = [t for t in said(parks, "u_bx_chu_tich") if "Tổng kết tuần 49" in t]
    assert len(bx) == 1 and "KCN Bình Xuyên" in bx[0]
    assert not any("Tổng kết tuần" in t for t in said(parks, "u_kq_chu_tich"))
    # Tuesday: Khai Quang's own day (`digest: {weekday: tue}`); Bình Xuyên's is not repeated.
    parks.clock.set(datetime(2026, 12, 8, 2, 0, tzinfo=UTC))
    await parks.runtime.run_job("weekly_digest")
    await parks.drain()
    kq = [t for t in said(parks, "u_kq_chu_tich") if "Tổng kết tuần 49" in t]
    assert len(kq) == 1 and "KCN Khai Quang" in kq[0] and "Bình Xuyên" not in kq[0]
    assert len([t for t in said(parks, "u_bx_chu_tich") if "Tổng kết tuần" in t]) == 1


async def test_each_chair_gets_a_daily_summary_of_their_own_park(parks: Bot) -> None:
    await say(parks, "u_bx_lan", "Mất trộm xe đạp ở nhà xe cổng 1", "g_bx_council")
    await say(parks, "u_kq_nam", "Camera cổng 5 bị hỏng", "g_kq_council")
    # Wednesday 2 Dec, 07:45: after the summary time, on a working day.
    parks.clock.set(datetime(2026, 12, 2, 0, 45, tzinfo=UTC))
    assert (await parks.runtime.run_job("daily_summary")).queued == 2
    assert (await parks.runtime.run_job("daily_summary")).queued == 0  # once a day
    await parks.drain()
    (bx,) = [t for t in said(parks, "u_bx_chu_tich") if "cổng" in t]
    (kq,) = [t for t in said(parks, "u_kq_chu_tich") if "cổng" in t]
    assert "cổng 1" in bx and "cổng 5" not in bx
    assert "cổng 5" in kq and "cổng 1" not in kq


async def test_a_reply_to_the_bots_message_needs_no_park_question(parks: Bot) -> None:
    # Anh Hải (on both rosters) greets the bot and says he is at Bình Xuyên today.
    await say(parks, "u_hai", "chào bot")
    await say(parks, "u_hai", "1")
    assert len([t for t in said(parks, "u_hai") if "KCN nào" in t]) == 1
    # The next day chị Mai gives him a task from Khai Quang's group.
    parks.clock.advance(timedelta(hours=25))
    await say(
        parks, "u_kq_chu_tich", "/giaoviec @Phạm Minh Hải thay bóng đèn nhà xe", "g_kq_council"
    )
    (task,) = await all_rows(parks, Task)
    assert task.council_id == "khai-quang"
    line = parks.store.bot_lines("u_hai")[-1]
    assert "thay bóng đèn" in line.text
    # He answers by replying to it in private: the park is the task's, nobody asks.
    await say(parks, "u_hai", "e nhận việc", quote=line.message_id)
    assert len([t for t in said(parks, "u_hai") if "KCN nào" in t]) == 1
    (task,) = await all_rows(parks, Task)
    assert task.accepted_at is not None


async def test_nudges_name_to_each_chair_only_their_own_parks_quiet_members(parks: Bot) -> None:
    await say(parks, "u_bx_lan", "có mặt", "g_bx_council")
    # Wednesday 16 Dec, 10:00: two weeks on, nobody else has said a word.
    parks.clock.set(datetime(2026, 12, 16, 3, 0, tzinfo=UTC))
    await parks.runtime.run_job("nudges")
    await parks.drain()
    bx = " ".join(said(parks, "u_bx_chu_tich"))
    kq = " ".join(said(parks, "u_kq_chu_tich"))
    assert "anh Hùng (May Việt)" in bx and "chị Thu (Điện cơ Khai Quang)" in kq
    for name in ("chị Thu", "anh Nam"):
        assert name not in bx
    for name in ("anh Hùng", "chị Lan"):
        assert name not in kq
    async with parks.sessions() as s:
        nudges = list((await s.execute(select(Nudge))).scalars())
    assert {n.council_id for n in nudges} == {"binh-xuyen", "khai-quang"}


async def test_a_chair_cannot_answer_or_cancel_the_other_parks_requests_and_directives(
    parks: Bot,
) -> None:
    # Anh Nam asks Khai Quang's council something; chị Mai posts a directive there.
    await say(parks, "u_kq_nam", "chào bot")
    await say(parks, "u_kq_nam", "Cho em hỏi thủ tục đăng ký tạm trú cho công nhân mới ạ?")
    await say(
        parks, "u_kq_chu_tich", "/thongbao Kiểm tra bình chữa cháy trước thứ 6", "g_kq_council"
    )
    async with parks.sessions() as s:
        (request,) = (await s.execute(select(MemberRequest))).scalars()
        (directive,) = (await s.execute(select(Directive))).scalars()
    assert request.council_id == directive.council_id == "khai-quang"
    assert "tạm trú" in " ".join(said(parks, "u_kq_chu_tich"))
    assert "tạm trú" not in " ".join(said(parks, "u_bx_chu_tich"))
    # Anh Tuấn chairs Bình Xuyên: neither is his to answer or cancel.
    await say(parks, "u_bx_chu_tich", f"/traloi YC{request.id} Anh liên hệ công an phường")
    assert said(parks, "u_bx_chu_tich")[-1].startswith(f"Bot không tìm thấy yêu cầu YC{request.id}")
    await say(parks, "u_bx_chu_tich", f"/huy TB{directive.id}")
    assert said(parks, "u_bx_chu_tich")[-1] == f"Không tìm thấy thông báo TB{directive.id}."
    async with parks.sessions() as s:
        request = await s.get(MemberRequest, request.id)
        directive = await s.get(Directive, directive.id)
    assert request is not None and request.status == "open"
    assert directive is not None and directive.status == "open"
    assert "công an phường" not in " ".join(said(parks, "u_kq_nam"))


async def test_an_answer_that_names_the_park_and_says_more_is_handled_too(parks: Bot) -> None:
    await say(parks, "u_hai", "Mất trộm xe máy ở nhà xe cổng 3")
    await say(parks, "u_hai", "Kho sơn KCN Khai Quang đang cháy lớn, cần hỗ trợ gấp!!!")
    reports = await all_rows(parks, Report)
    assert sorted(r.category for r in reports) == ["fire", "theft"]
    assert {r.council_id for r in reports} == {"khai-quang"}
    assert any("KHẨN" in t and "Kho sơn" in t for t in said(parks, "u_kq_chu_tich"))


async def test_the_demo_rehearses_both_parks_from_their_rosters(tmp_path: Path) -> None:
    shutil.copytree(TWO_PARKS.parent / "two_parks", tmp_path / "two_parks")
    shutil.copy(TWO_PARKS, tmp_path / "config.yaml")
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "-c", "config.yaml", "demo", "--no-browser"),
        *("--port", "0"),
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    seen: list[str] = []
    try:
        base = await _demo_url(proc, seen)
        async with aiohttp.ClientSession(base) as http:
            async with http.get("/demo/api/state") as resp:
                state = await resp.json()
            people = [m["name"] for m in state["members"]]
            assert len(people) == 7 and people.count("Phạm Minh Hải") == 1
            assert {c["id"] for c in state["chats"]} >= {"g_bx_council", "g_kq_council"}
            body = {
                "member_id": "u_bx_lan",
                "chat_id": "g_bx_council",
                "text": "@Bot ANTT Cháy lớn ở kho vải xưởng 2, cần hỗ trợ gấp!!!",
            }
            async with http.post("/demo/api/send", json=body) as resp:
                assert resp.status == 200 and (await resp.json())["delivered"]
            alerted: set[str] = set()
            after = 0
            for _ in range(30):
                async with http.get(f"/demo/api/lines?after={after}&wait=2") as resp:
                    lines = (await resp.json())["lines"]
                for line in lines:
                    after = max(after, line["id"])
                    if line["is_bot"] and "KHẨN" in line["text"]:
                        alerted.add(line["chat_id"])
                if "u_bx_chu_tich" in alerted:
                    break
            assert "u_bx_chu_tich" in alerted and "u_kq_chu_tich" not in alerted
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, "".join(seen) + out.decode()
    # The command line the demo printed reads each park on its own.
    config = str(next((tmp_path / "data").rglob("antt-demo.yaml")))
    status, out, err = await cli("export", "reports", "--council", "binh-xuyen", "-c", config)
    assert status == 0 and "xưởng 2" in out, err
    status, out, err = await cli("export", "reports", "--council", "khai-quang", "-c", config)
    assert status == 0 and out.strip() == "", err


@pytest.mark.browser
async def test_in_chromium_a_chair_signs_in_and_sees_only_their_park(
    make_bot: Any, db_url: str
) -> None:
    if not HAVE_CHROMIUM:
        pytest.skip(f"Debian chromium not installed at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    bot: Bot = await make_bot(
        two_parks(db_url, dashboard={"password": PASSWORD}), clock=FixedClock(TUESDAY)
    )
    await say(bot, "u_bx_lan", "Cháy lớn ở kho vải xưởng 2, cần hỗ trợ gấp!!!", "g_bx_council")
    await say(bot, "u_kq_nam", "Mất trộm dây điện ở cổng 5", "g_kq_council")
    base = str(bot.http.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await (await browser.new_context(viewport={"width": 390, "height": 844})).new_page()
        try:
            await page.goto(f"{base}/dashboard/")
            await page.fill("input[name=username]", "0901000201")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/dashboard/")
            assert "KCN Khai Quang" in await page.inner_text("header")
            await page.click("text=Báo cáo")
            body = await page.inner_text("main")
            assert "cổng 5" in body and "xưởng 2" not in body
        finally:
            await browser.close()


async def test_an_ack_counts_in_the_park_of_its_directive_only(parks: Bot) -> None:
    """Anh Hải sits on both parks' councils; he acknowledges chị Mai's Khai Quang directive in
    Khai Quang's group. Bình Xuyên's digest, where he did nothing, neither thanks him for it
    nor counts it; Khai Quang's does."""
    await say(
        parks, "u_kq_chu_tich", "/thongbao Kiểm tra bình chữa cháy trước thứ 6", "g_kq_council"
    )
    await say(parks, "u_hai", "đã nhận", "g_kq_council")
    settings = parks.runtime.settings
    async with parks.sessions() as s:
        (directive,) = (await s.execute(select(Directive))).scalars()
        kq = await build_digest(s, settings, "2026-W49", parks.clock.now(), council_id="khai-quang")
        bx = await build_digest(s, settings, "2026-W49", parks.clock.now(), council_id="binh-xuyen")
    assert directive.council_id == "khai-quang"
    assert (kq.totals.acks, bx.totals.acks) == (1, 0)
    assert [m.member_id for m in kq.top_members] == ["u_hai"]
    assert kq.top_members[0].interactions == 2  # his message and his acknowledgement
    assert bx.top_members == [], [(m.member_id, m.interactions) for m in bx.top_members]
    assert digest_texts.NO_THANKS in bx.render_text()  # he is listed as quiet there, rightly


async def test_a_chair_confirms_a_new_coordinator_of_his_own_park_only(parks: Bot) -> None:
    """Khai Quang adds anh Khoa as a coordinator without a Zalo id. A stranger named like him
    writes to the bot: Khai Quang's chair is asked to confirm, Bình Xuyên's is not told of
    it; anh Tuấn (Bình Xuyên) cannot confirm him, even by the claim's number; chị Mai can."""
    async with parks.sessions() as s, s.begin():
        roster = "member_id,name,phone,enterprise,role,groups\n,Đinh Văn Khoa,,,coordinator,"
        result = await import_roster_csv(s, roster + "g_kq_council\n", TUESDAY, "khai-quang")
    assert result.errors == [] and result.created == 1

    body = text_event("chào bot", sender="u_khoa", name="Đinh Văn Khoa", at=parks.clock.now())
    assert (await parks.deliver(body))[0] == 200
    await parks.drain()
    async with parks.sessions() as s:
        (claim,) = (
            await s.execute(select(Conversation).where(Conversation.kind == "identity_claim"))
        ).scalars()
    asked = identity_texts.CONFIRM_ASK.split("{")[0]
    assert any(
        t.startswith(asked) and f"/xacnhan {claim.id}" in t for t in said(parks, "u_kq_chu_tich")
    )
    assert not any("Khoa" in t for t in said(parks, "u_bx_chu_tich"))

    await say(parks, "u_bx_chu_tich", "/xacnhan")
    assert said(parks, "u_bx_chu_tich")[-1] == identity_texts.CONFIRM_NONE
    await say(parks, "u_bx_chu_tich", f"/xacnhan {claim.id}")
    assert said(parks, "u_bx_chu_tich")[-1] == identity_texts.CONFIRM_UNKNOWN.format(n=claim.id)
    khoa = await member_by_name(parks, "Đinh Văn Khoa")
    assert khoa.member_id is None  # still unlinked: the stranger stays a guest

    await say(parks, "u_kq_chu_tich", f"/xacnhan {claim.id}")
    assert said(parks, "u_kq_chu_tich")[-1] == identity_texts.CONFIRM_DONE.format(
        display="Đinh Văn Khoa", name="Đinh Văn Khoa"
    )
    khoa = await member_by_name(parks, "Đinh Văn Khoa")
    assert khoa.member_id == "u_khoa" and khoa.status == "member"


async def member_by_name(bot: Bot, name: str) -> Member:
    """The roster row of that name (a guest writing under the same name is not it)."""
    async with bot.sessions() as s:
        stmt = select(Member).where(Member.name == name, Member.status == "member")
        return (await s.execute(stmt)).scalar_one()


async def test_a_chair_of_both_parks_switches_park_and_every_page_follows(
    make_bot: Any, db_url: str
) -> None:
    """Chị Mai chairs Khai Quang and is made a coordinator of Bình Xuyên too: the header lets
    her choose the park, the session keeps it, and every page shows that park only. Anh
    Tuấn (Bình Xuyên only) has nothing to choose and cannot switch by a forged form; anh
    Quốc (the province) chooses any park, or the province's overview."""
    bot: Bot = await make_bot(
        two_parks(db_url, dashboard={"password": PASSWORD}), clock=FixedClock(TUESDAY)
    )
    await say(bot, "u_ban_quan_ly", "chào bot")
    await say(bot, "u_bx_lan", "Cháy lớn ở kho vải xưởng 2, cần hỗ trợ gấp!!!", "g_bx_council")
    await say(bot, "u_kq_nam", "Mất trộm dây điện ở cổng 5", "g_kq_council")
    async with bot.sessions() as s, s.begin():
        mai = "u_kq_chu_tich,Đỗ Thị Mai,0901000201,,coordinator,g_bx_council\n"
        result = await import_roster_csv(s, ROSTER_HEADER + mai, TUESDAY, "binh-xuyen")
    assert result.errors == []
    bx_only = ("xưởng 2", "Trần Thị Lan", "May Việt")
    kq_only = ("cổng 5", "Hoàng Văn Nam", "Vũ Thị Thu")
    pages = ("/dashboard/", "/dashboard/reports", "/dashboard/incidents", "/dashboard/members")
    pages += ("/dashboard/digest/2026-W49", "/dashboard/downloads/reports.csv")

    async def shown() -> str:
        seen = []
        for path in pages:
            async with bot.http.get(path, allow_redirects=False) as resp:
                assert resp.status == 200, path
                seen.append(await resp.text())
        return "\n".join(seen)

    assert await login(bot, "0901000201") == 303
    home = await page_text(bot, "/dashboard/")
    assert '<option value="binh-xuyen" selected>KCN Bình Xuyên</option>' in home
    assert '<option value="khai-quang">KCN Khai Quang</option>' in home
    everything = await shown()  # the first park she coordinates, in the file's order
    assert all(w in everything for w in bx_only) and not any(w in everything for w in kq_only)

    switched = await switch(bot, "khai-quang", "/dashboard/reports")
    assert (switched.status, switched.headers["Location"]) == (303, "/dashboard/reports")
    everything = await shown()
    assert all(w in everything for w in kq_only) and not any(w in everything for w in bx_only)
    assert "Đỗ Thị Mai · điều phối viên · KCN Khai Quang" in everything
    # A record's page belongs to the park it came from: after a switch, its list is shown.
    back = await switch(bot, "binh-xuyen", "/dashboard/members/3")
    assert back.headers["Location"] == "/dashboard/members"
    assert "Trần Thị Lan" in await page_text(bot, "/dashboard/members")
    # Forged or broken forms change nothing and crash nothing.
    for council in ("nowhere", "", "x" * 500, "khai-quang\x00"):
        assert (await switch(bot, council, "/dashboard/")).status == 403, council
    async with bot.http.post(
        "/dashboard/park", data={"council": "khai-quang"}, allow_redirects=False
    ) as resp:
        assert resp.status == 403  # no CSRF token
    assert "xưởng 2" in await page_text(bot, "/dashboard/reports")
    bot.http.session.cookie_jar.clear()

    # Anh Tuấn chairs Bình Xuyên only: no choice shown, and Khai Quang is not his to open.
    assert await login(bot, "0901000101") == 303
    assert 'action="/dashboard/park"' not in await page_text(bot, "/dashboard/")
    assert (await switch(bot, "khai-quang", "/dashboard/reports")).status == 403
    assert "cổng 5" not in await page_text(bot, "/dashboard/reports")
    bot.http.session.cookie_jar.clear()

    # Anh Quốc (the province) starts from the overview; a park's page waits for his choice.
    assert await login(bot, "u_ban_quan_ly") == 303
    async with bot.http.get("/dashboard/reports", allow_redirects=False) as resp:
        assert (resp.status, resp.headers["Location"]) == (303, "/dashboard/province")
    overview = await page_text(bot, "/dashboard/province")
    assert '<option value="" selected>Toàn tỉnh</option>' in overview
    assert (await switch(bot, "khai-quang", "/dashboard/province")).headers[
        "Location"
    ] == "/dashboard/"
    everything = await shown()
    assert all(w in everything for w in kq_only) and not any(w in everything for w in bx_only)
    assert (await switch(bot, "", "/dashboard/")).headers["Location"] == "/dashboard/province"
    async with bot.http.get("/dashboard/", allow_redirects=False) as resp:
        assert (resp.status, resp.headers["Location"]) == (303, "/dashboard/province")


async def test_a_chair_last_read_as_a_plain_member_of_the_other_park_still_signs_in(
    make_bot: Any, db_url: str
) -> None:
    """Chị Mai chairs Khai Quang; Bình Xuyên's roster, read after it, lists her as a plain
    member, so `members.role` says member. She still signs in, sees Khai Quang as its chair,
    and is offered no Bình Xuyên. Chị Lan, a plain member of Bình Xuyên only, cannot."""
    bot: Bot = await make_bot(
        two_parks(db_url, dashboard={"password": PASSWORD}), clock=FixedClock(TUESDAY)
    )
    await say(bot, "u_bx_lan", "Cháy lớn ở kho vải xưởng 2, cần hỗ trợ gấp!!!", "g_bx_council")
    await say(bot, "u_kq_nam", "Mất trộm dây điện ở cổng 5", "g_kq_council")
    async with bot.sessions() as s, s.begin():
        mai = "u_kq_chu_tich,Đỗ Thị Mai,0901000201,,member,g_bx_council\n"
        result = await import_roster_csv(s, ROSTER_HEADER + mai, TUESDAY, "binh-xuyen")
    assert result.errors == []
    assert (await member_by_name(bot, "Đỗ Thị Mai")).role == "member"  # the last roster read

    assert await login(bot, "0901000201") == 303
    home = await page_text(bot, "/dashboard/")
    assert "Đỗ Thị Mai · điều phối viên · KCN Khai Quang" in home
    assert 'action="/dashboard/park"' not in home  # one park to coordinate: nothing to choose
    assert "cổng 5" in await page_text(bot, "/dashboard/reports")
    assert (await switch(bot, "binh-xuyen", "/dashboard/reports")).status == 403
    assert "xưởng 2" not in await page_text(bot, "/dashboard/reports")
    bot.http.session.cookie_jar.clear()

    assert await login(bot, "u_bx_lan") == 401  # coordinates no park
    async with bot.http.get("/dashboard/", allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"].startswith("/dashboard/login")


ROSTER_HEADER = "member_id,name,phone,enterprise,role,groups\n"


async def page_text(bot: Bot, path: str) -> str:
    async with bot.http.get(path) as resp:
        assert resp.status == 200, path
        return await resp.text()


async def switch(bot: Bot, council: str, next_url: str) -> Any:
    """The header's park switch, posted as the browser would (with the page's CSRF token)."""
    csrf = re.search(r'name="csrf" value="([^"]+)"', await page_text(bot, "/dashboard/baomat"))
    assert csrf is not None
    async with bot.http.post(
        "/dashboard/park",
        data={"council": council, "next": next_url, "csrf": csrf[1]},
        allow_redirects=False,
    ) as resp:
        await resp.read()
        return resp
