"""The dashboard over HTTP (login, limits, CSRF, cookies, escaping, roles) and in chromium."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from models.tables import Attachment, AuditLog, Commendation, Incident, Member, Post, Report
from tests.browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM
from tests.conftest import Bot
from tests.digest_factory import Factory, day, scenario

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "mật khẩu đủ dài 2026"
XSS = "<script>alert(1)</script>"
REPORT_ROW = '<tr><td class="lead">'  # a report's row on /dashboard/reports starts so


async def seed(bot: Bot) -> dict[str, Any]:
    async with bot.sessions() as s, s.begin():
        rows = await scenario(s)
        rows["d"].phone = "0912345678"
        f = Factory(s)
        rows["admin"] = await f.member("uAdmin", "Quản Trị", role="admin", phone="0987654321")
        rows["xss"] = await f.member("uX", XSS, enterprise="<b>Cty</b>", groups=(rows["g1"],))
        await f.report(rows["xss"], day(3), "fire", "high", text=f"cháy {XSS}")
    return rows


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(
        db=db_url, dashboard={"password": PASSWORD, "login_attempts_per_15_minutes": 3}
    )
    b = await make_bot(settings, FixedClock(day(4, 9)))
    await seed(b)
    return b


async def login_token(bot: Bot) -> str:
    async with bot.http.get("/dashboard/login") as resp:
        html = await resp.text()
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match[1]


async def login(
    bot: Bot, username: str = "0912 345 678", password: str = PASSWORD, **headers: str
) -> Any:
    token = await login_token(bot)
    return await bot.http.post(
        "/dashboard/login",
        allow_redirects=False,
        headers=headers,
        data={
            "username": username,
            "password": password,
            "csrf": token,
            "next": "/dashboard/members",
        },
    )


async def page_csrf(bot: Bot, path: str = "/dashboard/") -> str:
    async with bot.http.get(path) as resp:
        assert resp.status == 200
        html = await resp.text()
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match[1]


async def test_login_sets_a_strict_session_cookie_and_logout_ends_it(bot: Bot) -> None:
    async with bot.http.get("/dashboard/", allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"].startswith("/dashboard/login")
    resp = await login(bot)
    assert resp.status == 303 and resp.headers["Location"] == "/dashboard/members"
    cookie = resp.cookies["antt_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/dashboard"
    assert not cookie["secure"]  # plain http: a Secure cookie would never come back
    async with bot.http.get("/dashboard/") as page:
        html = await page.text()
        assert page.status == 200 and "Tuần 48" in html
        assert "script-src" not in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"
    csrf = await page_csrf(bot)
    async with bot.http.post("/dashboard/logout", data={}, allow_redirects=False) as out:
        assert out.status == 403  # no CSRF token
    async with bot.http.post(
        "/dashboard/logout", data={"csrf": csrf}, allow_redirects=False
    ) as out:
        assert out.status == 303
    async with bot.http.get("/dashboard/", allow_redirects=False) as resp:
        assert resp.status == 303


async def test_cookie_is_secure_behind_https(bot: Bot) -> None:
    resp = await login(bot, **{"X-Forwarded-Proto": "https"})
    assert resp.status == 303 and resp.cookies["antt_session"]["secure"]


async def test_wrong_password_unknown_user_and_members_are_refused(bot: Bot) -> None:
    for username, password in (
        ("0912345678", "sai"),
        ("0999999999", PASSWORD),
        ("uB", PASSWORD),
    ):  # uB is a plain member
        resp = await login(bot, username, password)
        assert resp.status == 401, username
        assert "antt_session" not in resp.cookies
        assert "Sai tên đăng nhập hoặc mật khẩu" in await resp.text()


async def test_login_attempts_are_rate_limited(bot: Bot) -> None:
    for _ in range(3):
        assert (await login(bot, password="sai")).status == 401
    resp = await login(bot)  # even the right password waits now
    assert resp.status == 429
    bot.clock.advance(timedelta(minutes=16))
    assert (await login(bot)).status == 303


async def test_login_without_the_form_token_is_rejected(bot: Bot) -> None:
    await login_token(bot)
    async with bot.http.post(
        "/dashboard/login",
        allow_redirects=False,
        data={"username": "0912345678", "password": PASSWORD},
    ) as resp:
        assert resp.status == 403


async def test_sessions_expire(bot: Bot) -> None:
    assert (await login(bot)).status == 303
    bot.clock.advance(timedelta(hours=13))
    async with bot.http.get("/dashboard/", allow_redirects=False) as resp:
        assert resp.status == 303


async def test_user_text_is_escaped_everywhere(bot: Bot) -> None:
    assert (await login(bot)).status == 303
    for path in (
        "/dashboard/members",
        "/dashboard/reports",
        "/dashboard/",
        "/dashboard/digest/2026-W48",
    ):
        async with bot.http.get(path) as resp:
            html = await resp.text()
        assert resp.status == 200, path
        assert "<script>alert" not in html, path
    async with bot.http.get("/dashboard/members") as resp:
        html = await resp.text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;Cty&lt;/b&gt;" in html


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)


async def test_report_photos_are_shown_to_signed_in_users_and_only_images(bot: Bot) -> None:
    async with bot.sessions() as s, s.begin():
        reporter = (await s.execute(select(Member).where(Member.member_id == "uX"))).scalar_one()
        report = (
            await s.execute(select(Report).where(Report.member_pk == reporter.id))
        ).scalar_one()

        def attach(status: str, kind: str | None, data: bytes | None) -> Attachment:
            return Attachment(
                report_pk=report.id,
                member_pk=reporter.id,
                url="https://zalo.example/p.jpg",
                status=status,
                content_type=kind,
                data=data,
                created_at=day(3),
            )

        shown = attach("fetched", "image/png", PNG)
        html_page = attach("fetched", "text/html", XSS.encode())  # not an image: never served
        svg = attach("fetched", "image/svg+xml", b"<svg onload=alert(1)/>")
        pending = attach("pending", None, None)
        s.add_all([shown, html_page, svg, pending])
    async with bot.http.get(f"/dashboard/photos/{shown.id}", allow_redirects=False) as resp:
        assert resp.status == 303 and "/dashboard/login" in resp.headers["Location"]
    assert (await login(bot)).status == 303
    async with bot.http.get("/dashboard/reports") as resp:
        html = await resp.text()
    assert f'src="/dashboard/photos/{shown.id}"' in html
    for other in (html_page, svg, pending):
        assert f"/dashboard/photos/{other.id}" not in html
    async with bot.http.get(f"/dashboard/photos/{shown.id}") as resp:
        assert resp.status == 200 and resp.content_type == "image/png"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert await resp.read() == PNG
    for missing in (html_page.id, svg.id, pending.id, 999999):
        async with bot.http.get(f"/dashboard/photos/{missing}") as resp:
            assert resp.status == 404, missing
            assert "<script>alert" not in await resp.text()


async def test_reports_filter_and_downloads(bot: Bot) -> None:
    assert (await login(bot)).status == 303
    async with bot.http.get("/dashboard/reports", params={"category": "theft"}) as resp:
        html = await resp.text()
    assert html.count(REPORT_ROW) == 2 and "trộm cắp" in html and "cháy/nổ</td>" not in html
    async with bot.http.get(
        "/dashboard/reports", params={"since": "2026-11-26", "until": "2026-11-26"}
    ) as resp:
        assert (await resp.text()).count(REPORT_ROW) == 2  # day 3: Cường's theft and the fire
    async with bot.http.get("/dashboard/downloads/reports.xlsx") as resp:
        assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
        book = openpyxl.load_workbook(io.BytesIO(await resp.read()))
    assert book.active is not None and book.active.max_row == 5
    async with bot.http.get("/dashboard/downloads/members.csv") as resp:
        assert (await resp.read()).startswith("\ufeff".encode())
    async with bot.http.get("/dashboard/digest/2026-W48.xlsx") as resp:
        assert resp.status == 200
    async with bot.http.get("/dashboard/chart/2026-W48.png") as resp:
        assert (await resp.read()).startswith(b"\x89PNG")
    async with bot.http.get("/dashboard/directives") as resp:
        html = await resp.text()
    assert "Họp giao ban thứ Sáu" in html and "Bình, Cường" in html


async def test_a_date_range_typed_backwards_is_read_forwards(bot: Bot) -> None:
    """From 27/11 to 25/11 showed "0 báo cáo" and downloaded empty files: it means 25 to 27."""
    assert (await login(bot)).status == 303
    backwards = {"since": "2026-11-27", "until": "2026-11-25"}
    async with bot.http.get("/dashboard/reports", params=backwards) as resp:
        html = await resp.text()
    assert html.count(REPORT_ROW) == 4  # the fire (day 2), two reports on day 3, a theft (day 4)
    assert 'name="since" value="2026-11-25"' in html and 'name="until" value="2026-11-27"' in html
    async with bot.http.get("/dashboard/downloads/reports.csv", params=backwards) as resp:
        assert len((await resp.text()).strip().splitlines()) == 1 + 4
    async with bot.http.get("/dashboard/downloads", params=backwards) as resp:
        assert "reports.csv?since=2026-11-25&amp;until=2026-11-27" in await resp.text()


async def test_a_csv_for_excel_set_to_vietnamese_is_one_click_away(bot: Bot) -> None:
    """Chị Dung opens the comma CSV in her Excel (Windows set to Vietnam) and sees one
    column; the page now says so and offers "CSV dấu ;", split where her Excel splits."""
    assert (await login(bot)).status == 303
    async with bot.http.get("/dashboard/downloads", params={"since": "2026-11-25"}) as resp:
        html = await resp.text()
    assert 'href="/dashboard/downloads/members.csv?since=2026-11-25&amp;sep=semicolon"' in html
    assert "CSV dấu ;" in html and "vùng Việt Nam" in html, html
    async with bot.http.get("/dashboard/downloads/members.csv?sep=semicolon") as resp:
        assert resp.status == 200
        raw = (await resp.read()).decode("utf-8")
    assert raw.startswith("\ufeffMã thành viên;Họ tên;"), raw[:60]
    rows = list(csv.reader(io.StringIO(raw.removeprefix("\ufeff")), delimiter=";"))
    assert len(rows) > 2 and {len(r) for r in rows} == {len(rows[0])}, rows
    async with bot.http.get("/dashboard/downloads/members.csv") as resp:
        assert (await resp.read()).decode("utf-8").startswith("\ufeffMã thành viên,Họ tên,")
    async with bot.http.get("/dashboard/downloads/members.csv?sep=tab") as resp:
        said = await resp.text()
        assert resp.status == 400 and "“sep”" in said and "semicolon" in said, said
    async with bot.sessions() as s:
        audits = (await s.execute(select(AuditLog.detail))).scalars().all()
    assert any(isinstance(d, dict) and d.get("sep") == "semicolon" for d in audits), audits


async def test_only_admins_edit_the_roster_and_each_edit_is_audited(bot: Bot) -> None:
    assert (await login(bot)).status == 303  # Dung, a coordinator
    async with bot.sessions() as s:
        b = (await s.execute(select(Member).where(Member.member_id == "uB"))).scalar_one()
    async with bot.http.get(f"/dashboard/members/{b.id}") as resp:
        assert resp.status == 403
    csrf = await page_csrf(bot)
    async with bot.http.post(
        f"/dashboard/members/{b.id}", data={"csrf": csrf, "name": "X", "role": "admin"}
    ) as resp:
        assert resp.status == 403
    bot.http.session.cookie_jar.clear()
    assert (await login(bot, "uAdmin")).status == 303
    csrf = await page_csrf(bot, f"/dashboard/members/{b.id}")
    form = {
        "name": "Bình Mới",
        "phone": "+84 912 000 111",
        "enterprise": "May Việt",
        "role": "coordinator",
    }
    async with bot.http.post(
        f"/dashboard/members/{b.id}", data=form, allow_redirects=False
    ) as resp:
        assert resp.status == 403  # CSRF token missing
    async with bot.http.post(
        f"/dashboard/members/{b.id}", data={**form, "csrf": csrf}, allow_redirects=False
    ) as resp:
        assert resp.status == 303
    async with bot.sessions() as s:
        b2 = await s.get(Member, b.id)
        audit = (await s.execute(select(AuditLog))).scalars().one()
    assert b2 is not None and (b2.name, b2.phone, b2.role) == (
        "Bình Mới",
        "0912000111",
        "coordinator",
    )
    assert b2.name_folded == "binh moi"
    assert audit.action == "member.update" and audit.actor.startswith("Quản Trị")
    assert audit.detail["changes"]["name"] == ["Bình", "Bình Mới"]


async def test_without_a_password_the_dashboard_says_how_to_set_one(
    make_bot: Any, make_settings: Any
) -> None:
    bot = await make_bot(make_settings())
    async with bot.http.get("/dashboard/") as resp:
        assert resp.status == 503
        assert "ANTT_DASHBOARD__PASSWORD" in await resp.text()


# --- in a real browser ----------------------------------------------------------------------


@pytest.mark.browser
async def test_in_chromium_log_in_see_the_week_filter_download_and_no_script_runs(
    make_bot: Any, make_settings: Any, tmp_path: Path
) -> None:
    if not HAVE_CHROMIUM:
        pytest.skip(f"Debian chromium not installed at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    settings = make_settings(dashboard={"password": PASSWORD})
    bot = await make_bot(settings, FixedClock(day(4, 9)))
    rows = await seed(bot)
    async with bot.sessions() as s, s.begin():
        report = (
            await s.execute(select(Report).where(Report.member_pk == rows["xss"].id))
        ).scalar_one()
        s.add(
            Attachment(
                report_pk=report.id,
                url="https://zalo.example/p.png",
                status="fetched",
                content_type="image/png",
                data=PNG,
                created_at=day(3),
            )
        )
    base = str(bot.http.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(
            accept_downloads=True, viewport={"width": 390, "height": 844}
        )
        page = await context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: dialogs.append(d.message))
        try:
            await page.goto(f"{base}/dashboard/")
            await page.fill("input[name=username]", "0912345678")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/dashboard/")
            assert "Tuần 48" in await page.inner_text("h1")
            assert await page.locator("figure.chart img").evaluate("i => i.naturalWidth") > 0

            await page.goto(f"{base}/dashboard/reports")
            await page.select_option("select[name=category]", "theft")
            await page.click("form.filters button")
            await page.wait_for_url(re.compile(r".*category=theft.*"))
            assert await page.locator("#reports tbody tr").count() == 2
            await page.goto(f"{base}/dashboard/reports")
            await page.locator("#reports a.photo img").scroll_into_view_if_needed()
            # Loaded under the page's CSP, as a picture (a broken image has no width).
            await page.wait_for_function(
                "() => { const i = document.querySelector('#reports a.photo img');"
                " return i !== null && i.complete && i.naturalWidth === 1; }",
                timeout=10_000,
            )

            await page.goto(f"{base}/dashboard/downloads")
            async with page.expect_download() as info:
                await page.click("a[href='/dashboard/downloads/reports.xlsx']")
            download = await info.value
            target = tmp_path / "reports.xlsx"
            await download.save_as(target)
            book = openpyxl.load_workbook(target)
            assert book.active is not None and book.active.max_row == 5

            await page.goto(f"{base}/dashboard/members")
            cell = page.locator("#members td", has_text="alert(1)")
            assert await cell.first.inner_text() == XSS
            assert dialogs == []
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "dashboard-failure.png"), full_page=True)
            raise
        finally:
            await browser.close()


# What a phone must not show: the page sliding sideways, a table not in its own scrolling box,
# a header cut or on two lines, a short word (a name, a date, "47/2026") broken inside.
PHONE_PROBLEMS = """() => {
  const problems = [];
  const page = document.documentElement.scrollWidth;
  if (page > window.innerWidth) problems.push(`page is ${page}px wide`);
  const scrolls = (e) => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
  const lines = (range) => new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  for (const table of document.querySelectorAll('table')) {
    const box = table.parentElement;
    if (table.offsetWidth > box.clientWidth + 1 && !scrolls(box))
      problems.push(`table ${table.id || table.className} overflows its box`);
  }
  for (const th of document.querySelectorAll('th')) {
    const range = document.createRange();
    range.selectNodeContents(th);
    if (th.scrollWidth > th.clientWidth + 1) problems.push(`header clipped: ${th.textContent}`);
    else if (th.textContent.trim() && lines(range) > 1)
      problems.push(`header on two lines: ${th.textContent}`);
  }
  for (const cell of document.querySelectorAll('td, th')) {
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      for (const word of node.data.matchAll(/\\S{2,16}/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        if (lines(range) > 1) problems.push(`word broken: ${word[0]}`);
      }
    }
  }
  return problems;
}"""


@pytest.mark.browser
async def test_in_chromium_every_page_reads_on_a_phone(make_bot: Any, make_settings: Any) -> None:
    """At 390 px the page never slides sideways; a wide table scrolls inside its own box."""
    if not HAVE_CHROMIUM:
        pytest.skip(f"Debian chromium not installed at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    bot = await make_bot(make_settings(dashboard={"password": PASSWORD}), FixedClock(day(4, 9)))
    rows = await seed(bot)
    async with bot.sessions() as s, s.begin():
        s.add(
            Commendation(
                member_pk=rows["a"].id,
                by_pk=rows["d"].id,
                chat_id="g1",
                reason="phát hiện người lạ trèo rào kho B lúc 2 giờ sáng và báo ngay",
                created_at=day(3),
            )
        )
        s.add(
            Post(
                slot="phone-1",
                at=day(5),
                groups=[],
                text="Phòng chống cháy nổ trong mùa khô: kiểm tra bình chữa cháy mỗi tuần",
                question="Số điện thoại báo cháy là số nào?",
                created_at=day(3),
                updated_at=day(3),
            )
        )
        incident = await s.scalar(select(Incident.id).order_by(Incident.id).limit(1))
    pages = [
        "/dashboard/",
        "/dashboard/incidents",
        f"/dashboard/incidents/{incident}",
        "/dashboard/reports",
        "/dashboard/directives",
        f"/dashboard/directives/{rows['d1'].id}",
        "/dashboard/tasks",
        "/dashboard/members",
        "/dashboard/digest/",
        "/dashboard/digest/2026-W48",
        "/dashboard/honour",
        "/dashboard/posts",
        "/dashboard/downloads",
    ]
    base = str(bot.http.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        found: dict[str, list[str]] = {}
        try:
            await page.goto(f"{base}/dashboard/")  # the sign-in form
            found["/dashboard/login"] = await page.evaluate(PHONE_PROBLEMS)
            await page.fill("input[name=username]", "0912345678")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/dashboard/")
            for path in pages:
                response = await page.goto(base + path)
                assert response is not None and response.status == 200, path
                found[path] = await page.evaluate(PHONE_PROBLEMS)
            bad = [f"{path}: {p}" for path, problems in found.items() for p in problems]
            assert not bad, "\n".join(bad)
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
            raise
        finally:
            await browser.close()
