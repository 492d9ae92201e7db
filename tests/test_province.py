"""The provincial overview (issue 20): a two-park week through the webhook, then what the
province's board reads: `antt-bot digest --province` in every format, the weekly job that
writes to them privately, and their dashboard page, which a park's coordinator cannot open.

Week 49 of 2026 (Mon 30/11 - Sun 6/12). In Bình Xuyên chị Lan reports a fire on Monday that
anh Tuấn takes within half an hour and nobody closes; anh Hùng asks a question nobody
answers. In Khai Quang chị Mai sends a directive that anh Nam and chị Thu acknowledge, gives
anh Nam and anh Hải (on both parks' councils) tasks due Tuesday that they never finish; chị Thu
patrols at night and reports a stolen motorbike that chị Mai takes and settles. Anh Quốc
(u_ban_quan_ly) works for the province's industrial-parks board."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from handlers.digest import build_digest
from handlers.jobs import JOBS, load_all, run_body
from handlers.jobs import province as province_job
from handlers.jobs.province import province_png
from handlers.province import build_province_digest
from models.tables import Member, Nudge, Outbox
from tests.browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM
from tests.conftest import PG_URL, Bot, text_event
from tests.test_backup import cli
from tests.test_councils_e2e import said, say, two_parks, two_parks_file

PASSWORD = "mật khẩu đủ dài 2026"
WEEK = "2026-W49"
MON = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)  # Monday 30/11 00:00 in Hanoi
AFTER = "2026-12-07T09:00"  # next Monday morning: the week is complete


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return MON + timedelta(days=day, hours=hour, minutes=minute)


# (local day and time, who, what they type, group chat or None for a private chat)
WEEK_SCRIPT: list[tuple[datetime, str, str, str | None]] = [
    (at(0, 7), "u_bx_chu_tich", "chào bot", None),
    (at(0, 7, 5), "u_kq_chu_tich", "chao bot", None),
    (at(0, 7, 10), "u_ban_quan_ly", "chào bot", None),
    (at(0, 7, 30), "u_kq_nam", "có mặt", "g_kq_council"),
    (at(0, 8), "u_kq_chu_tich", "/thongbao Kiểm tra bình chữa cháy tại các xưởng", None),
    (at(0, 9), "u_kq_nam", "đã nhận", None),
    (at(0, 9, 30), "u_kq_thu", "da nhan", None),
    (
        at(0, 9, 45),
        "u_kq_chu_tich",
        "/giaoviec @Nam kiểm tra camera cổng 3 han 1/12 17h",
        "g_kq_council",
    ),
    (
        at(0, 9, 50),
        "u_kq_chu_tich",
        "/giaoviec @Hải thay bóng đèn nhà xe han 1/12 17h",
        "g_kq_council",
    ),
    (at(0, 10), "u_bx_lan", "Cháy lớn ở kho vải xưởng 2, cần hỗ trợ gấp!!!", "g_bx_council"),
    (at(0, 10, 30), "u_bx_chu_tich", "/xuly SV1", None),
    (at(0, 23), "u_kq_thu", "Tuần tra khu B, không phát hiện gì bất thường", "g_kq_dienco"),
    (at(1, 9), "u_kq_thu", "Mat trom xe may o nha xe cong 3", "g_kq_dienco"),
    (at(1, 9, 10), "u_kq_chu_tich", "/xuly SV2", None),
    (at(1, 10), "u_bx_hung", "Cho hỏi thủ tục đăng ký tạm trú cho công nhân mới thế nào ạ?", None),
    (at(1, 11, 10), "u_kq_chu_tich", "/xong SV2 đã tìm lại được, bàn giao công an", None),
]


async def play_week(bot: Bot) -> None:
    for when, who, text, group in WEEK_SCRIPT:
        bot.clock.set(when)
        await say(bot, who, text, group)


@pytest.fixture
async def week(make_bot: Any, db_url: str) -> Bot:
    settings = two_parks(db_url, dashboard={"password": PASSWORD})
    bot: Bot = await make_bot(settings, clock=FixedClock(at(0, 6)))
    await play_week(bot)
    return bot


def park(data: dict[str, Any], council: str) -> dict[str, Any]:
    (found,) = [p for p in data["councils"] if p["id"] == council]
    return found


# SPEC.md 2: `councils`, each with these keys; `totals` is the weekly digest's.
CONTRACT_COUNCIL = {"id", "name", "totals", "incidents_open", "median_minutes_to_ack", "attention"}
CONTRACT_TOTALS = {
    "members", "active", "inactive", "reengaged", "messages", "checkins", "reports",
    "reports_by_category", "directives", "acks", "ack_rate", "tasks_done", "tasks_overdue",
    "nudges_sent", "messages_sent", "acks_late",
}  # fmt: skip


async def test_the_province_digest_json_tells_each_parks_week(
    week: Bot, tmp_path: Path, db_url: str
) -> None:
    config = str(two_parks_file(tmp_path, db_url))
    status, out, err = await cli(
        "digest", "--province", "--week", WEEK, "--at", AFTER, "--format", "json", "-c", config
    )
    assert status == 0, err
    data = json.loads(out)
    assert {"week", "start", "end", "councils"} <= data.keys() and "parks" not in data
    assert data["week"] == WEEK and data["complete"] is True
    assert data["start"] == "2026-11-30T00:00:00+07:00"
    assert data["end"] == "2026-12-07T00:00:00+07:00"
    assert [p["name"] for p in data["councils"]] == ["KCN Bình Xuyên", "KCN Khai Quang"]
    for entry in data["councils"]:
        assert entry.keys() >= CONTRACT_COUNCIL, entry["id"]
        assert entry["totals"].keys() >= CONTRACT_TOTALS, entry["id"]

    bx = park(data, "binh-xuyen")
    t = bx["totals"]
    # Members only: the chair coordinates and is not counted (docs/digest.md).
    assert (t["members"], t["active"], t["inactive"], bx["participation"]) == (3, 2, 1, 0.6667)
    assert (t["checkins"], t["patrols"], t["reports"]) == (0, 0, 1)
    assert t["reports_by_category"] == {"fire": 1}
    assert (bx["incidents_new"], bx["incidents_open"]) == (1, 1)
    assert bx["oldest_open"]["code"] == "SV1" and bx["oldest_open"]["days"] == 6
    assert bx["median_minutes_to_ack"] == 30.0 and bx["median_minutes_to_resolve"] is None
    assert (t["directives"], t["ack_rate"]) == (0, None)
    assert (bx["requests"], bx["requests_answered"]) == (1, 0)
    assert bx["attention"] == "Sự việc SV1 (cháy/nổ) còn mở đã 6 ngày."
    assert [r["rule"] for r in bx["reasons"]] == ["open_incident"]

    kq = park(data, "khai-quang")
    t = kq["totals"]
    assert (t["members"], t["active"]) == (3, 2)  # Nam, Thu and Hải; chị Mai coordinates
    assert (t["checkins"], t["checkins_night"], t["patrols"]) == (2, 1, 1)
    assert t["reports_by_category"] == {"theft": 1} and kq["incidents_open"] == 0
    assert kq["median_minutes_to_ack"] == 10.0 and kq["median_minutes_to_resolve"] == 130.0
    assert t["directives"] == 1 and (t["acks"], t["expected_acks"]) == (2, 3)  # anh Hải owes
    assert (t["ack_rate"], t["acks_late"]) == (0.6667, 0)
    # Anh Hải sits on both parks' councils: his Khai Quang task is late in Khai Quang only.
    assert (t["tasks_overdue"], park(data, "binh-xuyen")["totals"]["tasks_overdue"]) == (2, 0)
    # Chị Mai's directive went to Khai Quang's groups only, never to Bình Xuyên's.
    assert any("bình chữa cháy" in line for line in said(week, "g_kq_council"))
    assert not any("bình chữa cháy" in line for line in said(week, "g_bx_council"))
    assert kq["attention"] is None and kq["reasons"] == []

    province = data["province"]
    assert (province["members"], province["active"], province["reports"]) == (6, 4, 2)
    assert province["incidents_open"] == 1 and province["checkins"] == 2
    assert data["attention"] == [
        {
            "council": "binh-xuyen",
            "name": "KCN Bình Xuyên",
            "text": "Sự việc SV1 (cháy/nổ) còn mở đã 6 ngày.",
        }
    ]
    # The trend: six weeks, this one last; the parks had nothing before it.
    assert [t["week"] for t in data["trend"]][-2:] == ["2026-W48", WEEK]
    assert len(data["trend"]) == 6 and data["trend"][-2]["province"]["active"] == 0
    assert data["trend"][-1]["councils"]["khai-quang"]["patrols"] == 1

    # Each council's `totals` is its own digest's, field by field, as the CLI prints both.
    for council in ("binh-xuyen", "khai-quang"):
        status, out, err = await cli(
            "digest", "--council", council, "--week", WEEK, "--at", AFTER,
            "--format", "json", "-c", config,
        )  # fmt: skip
        assert status == 0, err
        own = json.loads(out)["totals"]
        shown = park(data, council)["totals"]
        assert shown.keys() == own.keys(), council
        for key, value in own.items():
            assert shown[key] == value, (council, key)
    async with week.sessions() as s:
        d = await build_digest(
            s, week.runtime.settings, WEEK, datetime(2026, 12, 7, 2, 0, tzinfo=UTC),
            council_id="binh-xuyen",
        )  # fmt: skip
    assert sum(d.open_incidents.values()) == bx["incidents_open"]


async def test_the_province_digest_in_text_html_xlsx_and_png(
    week: Bot, tmp_path: Path, db_url: str
) -> None:
    config = str(two_parks_file(tmp_path, db_url))
    base = ("digest", "--province", "--week", WEEK, "--at", AFTER, "-c", config)
    status, text, err = await cli(*base)
    assert status == 0, err
    assert text.startswith("🏛 Toàn tỉnh: tổng kết tuần 49 (30/11–06/12/2026)")
    assert "• KCN Bình Xuyên: 2/3 tham gia (67%)" in text
    assert "⚠️ Cần quan tâm:\n• KCN Bình Xuyên: Sự việc SV1 (cháy/nổ) còn mở đã 6 ngày." in text
    assert "xác nhận 67%" in text  # Khai Quang: 2 of 3

    html_path, xlsx_path, png_path = (tmp_path / f"p.{x}" for x in ("html", "xlsx", "png"))
    for fmt, path in (("html", html_path), ("xlsx", xlsx_path), ("png", png_path)):
        status, _out, err = await cli(*base, "--format", fmt, "-o", str(path))
        assert status == 0 and "written to" in err, err
    html = html_path.read_text(encoding="utf-8")
    assert "Cần quan tâm" in html and "KCN Khai Quang" in html and "<script" not in html
    assert "data:image/png;base64," in html
    book = openpyxl.load_workbook(io.BytesIO(xlsx_path.read_bytes()))
    sheet = book["Toàn tỉnh"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("KCN", "Thành viên", "Tham gia")
    assert [r[0] for r in rows[1:]] == ["KCN Bình Xuyên", "KCN Khai Quang", "Toàn tỉnh"]
    assert book["Cần quan tâm"]["A2"].value == "KCN Bình Xuyên"
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # --province covers every park: naming one as well is a usage error, said plainly.
    status, _out, err = await cli(*base, "--council", "khai-quang")
    assert status == 2 and "--province" in err


async def test_the_weekly_job_writes_to_the_province_privately_and_once(week: Bot) -> None:
    load_all()
    spec = JOBS["province_digest"]
    settings = week.runtime.settings
    # Before Monday 08:00 (digest.time) nothing is due.
    assert await run_body(spec, week.sessions, settings, FixedClock(at(7, 7, 59))) == 0
    monday = FixedClock(at(7, 8, 15))
    queued = await run_body(spec, week.sessions, settings, monday)
    assert queued >= 1
    assert await run_body(spec, week.sessions, settings, monday) == 0  # a second run: nothing
    async with week.sessions() as s:
        rows = list(
            (
                await s.execute(select(Outbox).where(Outbox.idempotency_key.like("province-%")))
            ).scalars()
        )
    assert {r.chat_id for r in rows} == {"u_ban_quan_ly"}  # his private chat only
    assert all(r.kind == "digest" for r in rows)  # held in quiet hours, counted in the budget
    (text,) = [r.text for r in rows if r.photo_url is None]
    assert text.startswith("🏛 Toàn tỉnh: tổng kết tuần 49")
    assert "KCN Bình Xuyên: Sự việc SV1" in text


async def test_the_overview_chart_is_drawn_without_the_write_lock(
    week: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Intake kept waiting while the province chart was drawn inside the job's write."""
    url = week.runtime.settings.database.url
    if not url.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    db = url.split(":///", 1)[1]
    locked: list[bool] = []

    def draw_and_probe(digest: Any) -> bytes:
        other = sqlite3.connect(db, isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            locked.append(False)
        except sqlite3.OperationalError:
            locked.append(True)
        finally:
            other.close()
        return province_png(digest)

    monkeypatch.setattr(province_job, "province_png", draw_and_probe)
    load_all()
    monday = FixedClock(at(7, 8, 15))
    assert (
        await run_body(JOBS["province_digest"], week.sessions, week.runtime.settings, monday) == 2
    )
    assert locked == [False]


async def test_an_overview_due_at_night_reaches_the_board_after_quiet_hours(week: Bot) -> None:
    """The server was down on Monday morning: the job catches up at 23:00, the sender holds
    the message until quiet hours (21:30-07:00) end, then anh Quốc gets it."""
    load_all()
    settings = week.runtime.settings
    week.clock.set(at(7, 23))
    assert await run_body(JOBS["province_digest"], week.sessions, settings, week.clock) >= 1
    await week.drain()
    overview = "🏛 Toàn tỉnh: tổng kết tuần 49"
    assert not any(line.startswith(overview) for line in said(week, "u_ban_quan_ly"))
    week.clock.set(at(8, 7, 5))
    await week.drain()
    got = [line for line in said(week, "u_ban_quan_ly") if line.startswith(overview)]
    assert len(got) == 1
    # Nobody else heard of it: not the parks' chairs, not their groups.
    for chat in ("u_bx_chu_tich", "u_kq_chu_tich", "g_bx_council", "g_kq_council"):
        assert not any(overview in line for line in said(week, chat)), chat


async def test_without_province_staff_the_job_sends_nothing(make_bot: Any, db_url: str) -> None:
    load_all()
    settings = two_parks(db_url, province={"coordinators": []})
    bot: Bot = await make_bot(settings, clock=FixedClock(at(7, 9)))
    assert await run_body(JOBS["province_digest"], bot.sessions, settings, bot.clock) == 0


# --- the dashboard ------------------------------------------------------------------------


async def login(bot: Bot, username: str, next_url: str = "/dashboard/") -> Any:
    async with bot.http.get("/dashboard/login") as resp:
        match = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert match is not None
    return await bot.http.post(
        "/dashboard/login",
        allow_redirects=False,
        data={"username": username, "password": PASSWORD, "csrf": match[1], "next": next_url},
    )


async def test_the_province_page_for_the_board_and_403_for_a_parks_coordinator(week: Bot) -> None:
    week.clock.set(at(7, 9))
    resp = await login(week, "u_bx_chu_tich")
    assert resp.status == 303
    for path in (
        "/dashboard/province",
        f"/dashboard/province/khai-quang/digest/{WEEK}",
        f"/dashboard/province/binh-xuyen/digest/{WEEK}",
        f"/dashboard/province/{WEEK}.xlsx",
        f"/dashboard/province/chart/{WEEK}.png",
    ):
        async with week.http.get(path) as page:
            assert page.status == 403, path
            assert "Ban Quản lý các KCN tỉnh" in await page.text()
    week.http.session.cookie_jar.clear()

    resp = await login(week, "u_ban_quan_ly")
    assert resp.status == 303
    async with week.http.get("/dashboard/", allow_redirects=False) as start:
        assert start.status == 303 and start.headers["Location"] == "/dashboard/province"
    async with week.http.get("/dashboard/province") as page:
        html = await page.text()
    assert page.status == 200 and "Toàn tỉnh · tuần 49" in html
    assert "Sự việc SV1 (cháy/nổ) còn mở đã 6 ngày." in html
    assert f'href="/dashboard/province/khai-quang/digest/{WEEK}"' in html
    async with week.http.get(f"/dashboard/province/khai-quang/digest/{WEEK}") as page:
        html = await page.text()
    assert page.status == 200 and "KCN Khai Quang" in html
    assert "xưởng 2" not in html and "Trần Thị Lan" not in html  # nothing of Bình Xuyên
    async with week.http.get(f"/dashboard/province/nowhere/digest/{WEEK}") as page:
        assert page.status == 404
    async with week.http.get(f"/dashboard/province/{WEEK}.xlsx") as xlsx:
        assert xlsx.status == 200 and (await xlsx.read())[:2] == b"PK"


async def test_the_overview_is_built_in_a_few_queries_whatever_the_number_of_parks(
    week: Bot,
) -> None:
    """Grouped by council: the statement count does not grow with the parks."""
    from sqlalchemy import event

    engine = week.sessions.kw["bind"]
    statements: list[str] = []

    def count(*_args: Any) -> None:
        statements.append("x")

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with week.sessions() as s:
            await build_province_digest(
                s, week.runtime.settings, WEEK, datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
            )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    # 9 for the week and 5 for each of the 5 weeks before, one more each when someone owing
    # an ack had announced leave (and the transaction's own): a fixed number, never one per
    # park (bench/province.py measures 30 parks).
    assert len(statements) <= 10 + 6 * 5 + 2, len(statements)


# --- in a real browser --------------------------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.mark.browser
async def test_in_chromium_the_board_signs_in_sees_every_park_opens_one_and_switches(
    make_bot: Any, tmp_path: Path
) -> None:
    if not HAVE_CHROMIUM:
        pytest.skip(f"Debian chromium not installed at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    settings = two_parks(
        f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}", dashboard={"password": PASSWORD}
    )
    bot: Bot = await make_bot(settings, clock=FixedClock(at(0, 6)))
    await play_week(bot)
    bot.clock.set(at(7, 9))
    base = str(bot.http.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: dialogs.append(d.message))
        try:
            await page.goto(f"{base}/dashboard/")
            await page.fill("input[name=username]", "u_ban_quan_ly")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/dashboard/province")
            assert "Toàn tỉnh · tuần 49" in await page.inner_text("h1")
            assert await page.locator("#parks tbody tr").count() == 2
            attention = await page.inner_text("#attention")
            assert "KCN Bình Xuyên" in attention and "SV1 (cháy/nổ) còn mở đã 6 ngày" in attention
            assert "KCN Khai Quang" not in attention
            row = await page.inner_text("#parks tr[data-council=khai-quang]")
            assert "2/3 (67%)" in row and "67%" in row and "10 phút" in row and "2 giờ" in row
            assert await page.locator("figure.chart img").evaluate("i => i.naturalWidth") > 0
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "province.png"), full_page=True)

            await page.click("#parks a:has-text('KCN Khai Quang')")
            await page.wait_for_url(f"{base}/dashboard/province/khai-quang/digest/{WEEK}")
            body = await page.inner_text("main")
            assert "KCN Khai Quang" in body and "Trần Thị Lan" not in body
            assert await page.locator("figure.chart img").evaluate("i => i.naturalWidth") > 0
            await page.click("p.pager a:has-text('Toàn tỉnh')")
            await page.wait_for_url(re.compile(r".*/dashboard/province\?week=2026-W49"))

            # The header's park switch: Bình Xuyên's own pages, then the overview again.
            await page.select_option("form.park select", "binh-xuyen")
            await page.click("form.park button")
            await page.wait_for_url(f"{base}/dashboard/")
            assert "KCN Bình Xuyên" in await page.inner_text("header")
            await page.click("header nav a:has-text('Báo cáo')")
            await page.wait_for_url(f"{base}/dashboard/reports")
            body = await page.inner_text("main")
            assert "kho vải xưởng 2" in body and "xe may" not in body.lower()
            assert await page.locator("form.park select").input_value() == "binh-xuyen"
            await page.screenshot(path=str(ARTIFACTS / "province-park.png"), full_page=True)
            await page.select_option("form.park select", "")
            await page.click("form.park button")
            await page.wait_for_url(f"{base}/dashboard/province")
            assert dialogs == []
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "province-failure.png"), full_page=True)
            raise
        finally:
            await browser.close()


# --- two instances ------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.skipif(not PG_URL, reason="ANTT_TEST_POSTGRES_URL not set")
async def test_two_instances_take_every_parks_events_once_and_in_order() -> None:
    """bench/province.py's load, small: 3 parks' groups, each chat's events sent in order to
    either instance (every 4th to both, as a balancer's redelivery would)."""
    import contextlib

    from bench.province import two_instances
    from tests.conftest import _fresh_pg

    gen = _fresh_pg()
    url = await gen.__anext__()
    try:
        load = await two_instances(url, councils=3, groups_per=2, per_chat=8, seconds=120)
    finally:
        with contextlib.suppress(StopAsyncIteration):
            await gen.__anext__()
    assert load.statuses == {200: load.posts}
    assert load.stored == load.deliveries == 48, load
    assert (load.twice, load.out_of_order, load.wrong_park) == (0, 0, 0), load


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.skipif(not PG_URL, reason="ANTT_TEST_POSTGRES_URL not set")
async def test_two_serve_processes_take_every_parks_events_once_in_order_and_in_their_park() -> (
    None
):
    """The bench's load, small, on two real `antt-bot serve` processes (each its own port and
    pool) sharing one PostgreSQL database: 3 parks' groups, each chat's events in order to
    either process, every 4th to both."""
    import contextlib
    import os

    from bench.province import two_serve_processes
    from tests.conftest import _fresh_pg

    gen = _fresh_pg()
    url = await gen.__anext__()
    try:
        load = await two_serve_processes(url, councils=3, groups_per=2, per_chat=6, seconds=120)
    finally:
        with contextlib.suppress(StopAsyncIteration):
            await gen.__anext__()
    assert load.statuses == {200: load.posts} and load.posts > load.deliveries
    assert load.stored == load.deliveries == 36, load
    assert (load.twice, load.out_of_order, load.wrong_park) == (0, 0, 0), load
    # Every event was claimed by a worker of the serve processes, none of this one.
    assert sum(load.by_instance.values()) == 36, load.by_instance
    pids = {worker.split(":")[1] for worker in load.by_instance}
    assert 1 <= len(pids) <= 2 and str(os.getpid()) not in pids, pids


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="ANTT_TEST_POSTGRES_URL not set")
async def test_two_instances_starting_at_once_both_get_the_configured_groups() -> None:
    """The second `serve` adds the parks' groups while the first has not committed its own:
    it waits for them and starts, instead of stopping on the unique chat id (found by the
    two-process bench)."""
    import asyncio
    import contextlib

    from sqlalchemy import func, text

    from handlers.councils import group_councils
    from models.db import make_engine, make_sessionmaker
    from models.people import sync_configured_groups
    from models.tables import Group
    from tests.conftest import _fresh_pg

    gen = _fresh_pg()
    url = await gen.__anext__()
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    settings = two_parks(url)
    parks, now = group_councils(settings), at(0, 6)

    async def start_up() -> None:
        async with sessions() as s, s.begin():
            await sync_configured_groups(s, settings.groups, now, parks)

    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    try:
        async with sessions() as first, first.begin():
            await sync_configured_groups(first, settings.groups, now, parks)
            second = asyncio.create_task(start_up())
            for _ in range(500):  # until the second instance waits on the first's rows
                async with engine.connect() as conn:
                    if (await conn.execute(waiting)).scalar_one():
                        break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the second start-up never waited for the first")
        await second  # raised IntegrityError before the fix
        async with sessions() as s:
            rows = (await s.execute(select(Group.chat_id, Group.council_id))).all()
            assert (await s.execute(select(func.count()).select_from(Group))).scalar_one() == 4
        assert dict(rows) == parks
    finally:
        await engine.dispose()
        with contextlib.suppress(StopAsyncIteration):
            await gen.__anext__()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="ANTT_TEST_POSTGRES_URL not set")
async def test_two_instances_starting_at_once_import_each_roster_once() -> None:
    """Both `serve` processes import the parks' rosters at start-up: the second waits for the
    first's import and finds its people, instead of stopping on a duplicate member id."""
    import asyncio
    import contextlib

    from sqlalchemy import func, text

    from models.db import make_engine, make_sessionmaker
    from models.roster import import_roster_csv
    from models.tables import CouncilMember
    from tests.conftest import _fresh_pg
    from tests.test_councils_e2e import TWO_PARKS

    rosters = {
        council: (TWO_PARKS.parent / "two_parks" / f"{council.replace('-', '_')}.csv").read_text(
            encoding="utf-8"
        )
        for council in ("binh-xuyen", "khai-quang")
    }
    gen = _fresh_pg()
    url = await gen.__anext__()
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)

    async def import_all(s: Any) -> None:
        for council, roster in rosters.items():
            result = await import_roster_csv(s, roster, at(0, 6), council)
            assert result.errors == [], result.errors

    async def start_up() -> None:
        async with sessions() as s, s.begin():
            await import_all(s)

    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    try:
        async with sessions() as first, first.begin():
            await import_all(first)
            second = asyncio.create_task(start_up())
            for _ in range(500):  # until the second instance waits on the first's import
                async with engine.connect() as conn:
                    if (await conn.execute(waiting)).scalar_one():
                        break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the second start-up never waited for the first")
        await second  # raised IntegrityError (a duplicate member id) before the fix
        async with sessions() as s:
            people = (await s.execute(select(func.count()).select_from(Member))).scalar_one()
            seats = (await s.execute(select(func.count()).select_from(CouncilMember))).scalar_one()
        assert (people, seats) == (7, 8)  # anh Hải once, on both parks' councils
    finally:
        await engine.dispose()
        with contextlib.suppress(StopAsyncIteration):
            await gen.__anext__()


def test_the_province_bench_runs_at_toy_size(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m bench province` end to end on SQLite at toy size (figures never asserted)."""
    import bench.province as bp
    from bench.__main__ import main as bench_main

    for name in ("ANTT_BENCH_POSTGRES_URL", "ANTT_TEST_POSTGRES_URL"):
        monkeypatch.delenv(name, raising=False)  # never touch the real bench database
    sizes = {
        "COUNCILS": 3, "MEMBERS": 60, "GROUPS": 9, "MESSAGES": 3_000, "PER_COUNCIL": 20,
        "GROUPS_PER": 3, "CHECKINS": 300, "INCIDENTS": 30, "REQUESTS": 20, "REPEAT": 1,
    }  # fmt: skip
    for constant, value in sizes.items():
        monkeypatch.setattr(bp, constant, value)
    assert bench_main(["province"]) == 0
    out = capsys.readouterr().out
    assert "provincial overview: 3 parks, 6-week trend" in out, out
    assert "one park's digest (kcn-01)" in out and "overview query: requests" in out


# --- the province's staff on a single park's installation ------------------------------


async def test_on_a_single_park_the_provinces_staff_are_never_its_members(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    """One park, no `councils`; anh Quốc of the province's board writes to the bot and in the
    council's group, then falls silent. He is stored as a known person (status member), yet
    the park's digest never counts him among its members, never lists him as quiet, and the
    nudges never remind him nor name him to the chair."""
    from tests.engagement_helpers import COUNCIL, council_settings, import_roster

    settings = council_settings(make_settings, db_url, province={"coordinators": ["u_tinh"]})
    bot: Bot = await make_bot(settings, clock=FixedClock(at(0, 1)))
    await import_roster(bot, at(0, 1))
    bot.clock.set(at(0, 9))
    for chat in ("u_tinh", COUNCIL):
        body = text_event(
            "@Bot ANTT chào cả nhóm" if chat == COUNCIL else "chào bot",
            sender="u_tinh", name="Bùi Quốc", chat=chat, group=chat == COUNCIL,
            at=bot.clock.now(),
        )  # fmt: skip
        assert (await bot.deliver(body))[0] == 200
        await bot.drain()
    async with bot.sessions() as s:
        quoc = (await s.execute(select(Member).where(Member.member_id == "u_tinh"))).scalar_one()
    assert (quoc.role, quoc.status) == ("province", "member")

    # Two weeks on, nobody has written since: everyone on the roster is quiet, he is not counted.
    bot.clock.set(at(14, 10))
    async with bot.sessions() as s:
        this_week = await build_digest(s, settings, WEEK, bot.clock.now())
        later = await build_digest(s, settings, "2026-W50", bot.clock.now())
    # The roster's members (u1 coordinates), not 10 with him.
    assert this_week.totals.members == later.totals.members == 9
    assert this_week.totals.active == 0  # his greeting is no park member's activity
    council_group = [f for g, f in this_week.groups if g.chat_id == COUNCIL]
    assert council_group[0].members == 2  # u2 and u5; not him, nor u1 who coordinates
    assert this_week.totals.messages == council_group[0].messages == 0  # nor his greetings
    assert "u_tinh" not in [m.member_id for m in later.inactive_members]
    assert "Quốc" not in later.render_text()

    for day in (8, 10, 14):
        bot.clock.set(at(day, 10))
        await bot.runtime.run_job("nudges")
        await bot.drain()
    async with bot.sessions() as s:
        nudged = set((await s.execute(select(Nudge.member_pk))).scalars())
    assert nudged and quoc.id not in nudged
    assert not any("tương tác" in line for line in said(bot, "u_tinh"))
    assert not any("Quốc" in line for line in said(bot, "u1"))
