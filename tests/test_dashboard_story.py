"""The incidents' story, tasks and directives on the dashboard, all in Vietnamese (issue 16.2-3).

An incident is played through the webhook (reports, alert, escalation, taken, resolved) so the
pages show what the bot really recorded; tasks and directives come from the digest factory.
"""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from models.tables import Attachment, Member, Report
from tests.browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM
from tests.conftest import Bot, text_event
from tests.digest_factory import Factory, day

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "mật khẩu đủ dài 2026"
DAY = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi, a Friday
COORD_CHAT = "gcoordinators"
PEOPLE = [  # member id (= private chat id), name, role, enterprise
    ("c1", "Phạm Minh Quân", "coordinator", None),
    ("c2", "Trần Thị Bình", "coordinator", None),
    ("p1", "Lê Văn Công An", "member", None),
    ("u1", "Nguyễn Văn An", "member", "Cty May Việt"),
    ("u2", "Hoàng Thị Em", "member", "Cty Điện Quang"),
]
# Machine words that must never reach a person reading a page (issue 16.3).
ENGLISH = re.compile(
    r"\b(reported|acknowledged|handling|resolved|false_alarm|noted|fire|theft|fight|"
    r"confirmed|unconfirmed|pending|sent|failed|cancelled|open|done|alert|escalation|"
    r"reminder|merged|photo|coordinator|member|high|medium|low|None)\b|\d{4}-W\d{2}"
)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def visible_text(page: str) -> str:
    """What a reader sees: tags, attribute values and the stylesheet link dropped."""
    return htmllib.unescape(re.sub(r"<[^>]*>", " ", page))


def assert_vietnamese(page: str) -> None:
    found = ENGLISH.findall(visible_text(page))
    assert not found, f"English left on the page: {found}"


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(
        db=db_url,
        coordinators=[COORD_CHAT],
        groups=[{"chat_id": COORD_CHAT, "name": "Ban điều phối", "kind": "council"}],
        alerts={"ack_timeout_minutes": 10, "escalation_chain": ["p1"], "max_escalations": 2},
        dashboard={"password": PASSWORD},
    )
    b: Bot = await make_bot(settings, clock=FixedClock(DAY))
    async with b.sessions() as s, s.begin():
        for member_id, name, role, enterprise in PEOPLE:
            s.add(
                Member(
                    member_id=member_id,
                    name=name,
                    name_folded=name.lower(),
                    display_name=name,
                    role=role,
                    enterprise=enterprise,
                    status="member",
                    private_chat_id=member_id,
                    created_at=DAY - timedelta(days=30),
                    expected_since=DAY - timedelta(days=30),
                )
            )
    return b


async def say(bot: Bot, text: str, sender: str) -> None:
    name = next(n for m, n, _r, _e in PEOPLE if m == sender)
    status, _ = await bot.deliver(text_event(text, sender=sender, name=name, at=bot.clock.now()))
    assert status == 200
    await bot.drain()


async def fire_story(bot: Bot) -> None:
    """Two reports of one fire, an alert, one escalation, taken, resolved; a photo kept."""
    await say(bot, "Cháy ở xưởng 4", "u1")
    bot.clock.advance(timedelta(minutes=2))
    await say(bot, "Cháy ở xưởng 4 khói nhiều lắm", "u2")
    bot.clock.advance(timedelta(minutes=9))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 1
    await bot.drain()
    bot.clock.advance(timedelta(minutes=3))
    await say(bot, "/xuly SV1", "c1")
    bot.clock.advance(timedelta(minutes=40))
    await say(bot, "/xong SV1 đã dập tắt", "c1")
    async with bot.sessions() as s, s.begin():
        first = (await s.execute(select(Report).order_by(Report.id))).scalars().first()
        assert first is not None and first.incident_pk == 1
        s.add(
            Attachment(
                report_pk=first.id,
                url="https://zalo.example/p.png",
                status="fetched",
                content_type="image/png",
                data=PNG,
                created_at=DAY,
            )
        )


async def tasks_and_directive(bot: Bot) -> None:
    """A directive owed by three people (one on time, one late, one not yet) and two tasks."""
    async with bot.sessions() as s, s.begin():
        f = Factory(s)
        g = await f.group("gkcn", "Tổ bảo vệ KCN", "enterprise")
        boss = (await s.execute(select(Member).where(Member.member_id == "c1"))).scalar_one()
        a = await f.member("e1", "Đỗ Văn Phúc", enterprise="Cty May Việt", groups=(g,))
        b = await f.member("e2", "Vũ Thị Hoa", enterprise="Cty May Việt", groups=(g,))
        c = await f.member("e3", "Lý Văn Kim", enterprise="Cty Điện Quang", groups=(g,))
        d = await f.directive(boss, day(0), (g,), text="Kiểm tra bình chữa cháy trước thứ Sáu")
        await f.ack(d, a, day(0, 10))
        await f.ack(d, b, day(2, 10))  # after the one-day deadline: late, still acknowledged
        assert c.id
        await f.task(a, day(1), status="done", done_at=day(2), created=day(0))
        await f.task(c, day(2), created=day(0))


async def login(bot: Bot, username: str = "c1") -> None:
    async with bot.http.get("/dashboard/login") as resp:
        token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert token is not None
    async with bot.http.post(
        "/dashboard/login",
        allow_redirects=False,
        data={"username": username, "password": PASSWORD, "csrf": token[1], "next": "/dashboard/"},
    ) as resp:
        assert resp.status == 303


async def get(bot: Bot, path: str, status: int = 200) -> str:
    async with bot.http.get(path) as resp:
        body = await resp.text()
        assert resp.status == status, body
        return body


async def test_the_incident_list_and_its_timeline_tell_what_happened(bot: Bot) -> None:
    await fire_story(bot)
    await login(bot)
    listing = await get(bot, "/dashboard/incidents")
    assert_vietnamese(listing)
    row = visible_text(re.search(r"<tbody>.*?</tbody>", listing, re.S)[0])  # type: ignore[index]
    for expected in (
        "SV1",
        "cháy/nổ",
        "xưởng 4",
        "Nguyễn Văn An",
        "và 1 người báo khác",
        "Phạm Minh Quân",
        "đã xử lý xong",
        "14 phút",  # to acknowledge: 2 + 9 + 3 minutes
        "54 phút",  # to resolve
    ):
        assert expected in row, expected
    page = await get(bot, "/dashboard/incidents/1")
    assert_vietnamese(page)
    steps = [
        " ".join(visible_text(li).split())
        for li in re.findall(r"<li>.*?</li>", page.split('id="timeline"')[1], re.S)
    ]
    assert steps[0].startswith("27/11/2026 10:00 Báo cáo số 1 của Nguyễn Văn An (Cty May Việt)")
    assert "Cháy ở xưởng 4" in steps[0]
    alert = next(s for s in steps if "Bot gửi cảnh báo" in s)
    assert "Phạm Minh Quân" in alert and "Trần Thị Bình" in alert and "Ban điều phối" in alert
    assert "(đã gửi)" in alert
    assert not any("Cảnh báo điều phối viên" in s for s in steps)  # one step per alert
    assert any(s.startswith("27/11/2026 10:02 Báo cáo số 2 của Hoàng Thị Em") for s in steps)
    escalation = next(s for s in steps if "Chuyển cấp" in s)
    assert "lần 1: anh/chị Lê Văn Công An" in escalation
    assert any("Lê Văn Công An" in s and "Bot gửi cảnh báo" in s for s in steps)
    taken = next(s for s in steps if "Chuyển trạng thái: đang xử lý" in s)
    assert "10:14" in taken and "Phạm Minh Quân" in taken
    done = next(s for s in steps if "Chuyển trạng thái: đã xử lý xong" in s)
    assert "đã dập tắt" in done and "10:54" in done
    assert 'src="/dashboard/photos/1"' in page
    times = [s[:16] for s in steps]
    assert times == sorted(times, key=lambda t: datetime.strptime(t, "%d/%m/%Y %H:%M"))
    # Filters take only known statuses; a missing incident is a page saying so.
    assert "SV1" not in visible_text(await get(bot, "/dashboard/incidents?status=handling"))
    assert "Trạng thái" in await get(bot, "/dashboard/incidents?status=x", 400)
    assert "Không tìm thấy sự việc này" in await get(bot, "/dashboard/incidents/99", 404)


async def test_tasks_and_a_directive_by_enterprise(bot: Bot) -> None:
    bot.clock.set(day(3))
    await tasks_and_directive(bot)
    await login(bot)
    tasks = await get(bot, "/dashboard/tasks")
    assert_vietnamese(tasks)
    text = " ".join(visible_text(tasks).split())
    assert "Đỗ Văn Phúc (Cty May Việt)" in text and "đã xong" in text
    assert "Lý Văn Kim (Cty Điện Quang)" in text and "chưa xong trễ hạn" in text
    listing = await get(bot, "/dashboard/directives")
    (link,) = re.findall(r'href="(/dashboard/directives/\d+)"', listing)
    page = await get(bot, link)
    assert_vietnamese(page)
    sections = [
        " ".join(visible_text(s).split()) for s in re.findall(r"<section.*?</section>", page, re.S)
    ][1:]
    assert sections[0].startswith("Cty Điện Quang 0/1") and "Lý Văn Kim" in sections[0]
    assert "chưa xác nhận" in sections[0]
    assert sections[1].startswith("Cty May Việt 2/2")
    assert (
        "Đỗ Văn Phúc 23/11/2026 10:00 đúng hạn Vũ Thị Hoa 25/11/2026 10:00 trễ hạn" in (sections[1])
    )
    assert "đã xác nhận 2/3" in visible_text(page)
    assert "Không tìm thấy thông báo này" in await get(bot, "/dashboard/directives/99", 404)


async def test_downloads_are_in_vietnamese(bot: Bot) -> None:
    await fire_story(bot)
    await login(bot)
    async with bot.http.get("/dashboard/downloads/reports.xlsx") as resp:
        assert resp.status == 200
        book = openpyxl.load_workbook(io.BytesIO(await resp.read()))
    sheet = book.active
    assert sheet is not None and sheet.title == "Báo cáo sự việc"
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Số", "Mã sự việc", "Mã tin nhắn"]
    assert {"Loại sự việc", "Mức độ", "Trạng thái", "Nơi", "Nội dung"} <= set(header)
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert first["Loại sự việc"] == "cháy/nổ" and first["Trạng thái"] == "đã xác nhận"
    assert first["Nơi"] == "xưởng 4"
    async with bot.http.get("/dashboard/downloads/outbox.csv") as resp:
        raw = await resp.read()
    assert raw.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][:5] == ["Số", "Gửi tới", "Loại tin", "Nội dung", "Trạng thái"]
    assert ["cảnh báo", "đã gửi"] in [[r[2], r[4]] for r in table[1:]]
    assert_vietnamese(await get(bot, "/dashboard/downloads"))


@pytest.mark.browser
async def test_in_chromium_the_story_pages_have_no_english(bot: Bot) -> None:
    if not HAVE_CHROMIUM:
        pytest.skip(f"Debian chromium not installed at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    await fire_story(bot)
    await tasks_and_directive(bot)
    base = str(bot.http.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        page = await context.new_page()
        try:
            await page.goto(f"{base}/dashboard/login")
            await page.fill("input[name=username]", "c1")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/dashboard/")
            await page.click("header nav a[href='/dashboard/incidents']")
            await page.click("#incidents a[href='/dashboard/incidents/1']")
            await page.wait_for_url(f"{base}/dashboard/incidents/1")
            assert "SV1: cháy/nổ" in await page.inner_text("h1")
            assert await page.locator("#timeline li").count() == 7
            img = page.locator("#timeline a.photo img")
            await img.scroll_into_view_if_needed()
            await page.wait_for_function(
                "() => { const i = document.querySelector('#timeline a.photo img');"
                " return i !== null && i.complete && i.naturalWidth === 1; }",
                timeout=10_000,
            )
            for path in (
                "/dashboard/",
                "/dashboard/incidents",
                "/dashboard/incidents/1",
                "/dashboard/tasks",
                "/dashboard/directives",
                "/dashboard/directives/1",
                "/dashboard/reports",
                "/dashboard/members",
                "/dashboard/digest/",
                "/dashboard/digest/2026-W48",
                "/dashboard/downloads",
            ):
                await page.goto(f"{base}{path}")
                text = await page.inner_text("body")
                found = ENGLISH.findall(text)
                assert not found, f"{path}: {found}"
            await page.goto(f"{base}/dashboard/")
            chart = page.locator("figure.chart img")
            await chart.scroll_into_view_if_needed()
            await page.wait_for_function(
                "() => document.querySelector('figure.chart img').naturalWidth > 0",
                timeout=10_000,
            )
            # A phone gets the chart drawn for it (tests/test_dashboard_phone_pages.py).
            assert await chart.evaluate("i => i.naturalWidth") == 540
            # At phone width the chart fits the screen without sideways scrolling.
            assert await chart.evaluate("i => i.getBoundingClientRect().right") <= 390
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "dashboard-story.png"), full_page=True)
            raise
        finally:
            await browser.close()
