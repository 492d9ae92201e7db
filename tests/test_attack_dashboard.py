"""Issue 13 ("Found under attack"): the dashboard's sign-in limits under concurrent guesses and
behind a proxy, hostile parameters, XLSX with characters XML forbids, `$` in chart labels."""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import openpyxl
import pytest
from sqlalchemy import select

from bot.dashboard.auth import HASH_THREADS, MAX_WAITING, STATE, DashboardState
from handlers.clock import FixedClock
from handlers.config import ConfigError
from models.tables import Member, Outbox
from tests.conftest import Bot, text_event
from tests.digest_factory import HCM, Factory, day, scenario
from tests.test_dashboard import PASSWORD, login, login_token, page_csrf, seed

LIMIT = 10
COORDINATOR = "0912345678"  # Dung, a coordinator in the seeded roster


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(
        db=db_url,
        dashboard={"password": PASSWORD, "login_attempts_per_15_minutes": LIMIT},
        server={"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]},
    )
    b = await make_bot(settings, FixedClock(day(4, 9)))
    await seed(b)
    return b


async def guess(
    http: aiohttp.ClientSession,
    bot: Bot,
    token: str,
    *,
    username: str = COORDINATOR,
    password: str = "đoán bừa",
    via: str | None = None,
    device: str | None = None,
) -> int:
    """One sign-in attempt with its own cookies (no shared jar), optionally through the proxy."""
    cookies = f"antt_login={token}" + (f"; antt_device={device}" if device else "")
    headers = {"Cookie": cookies}
    if via is not None:
        headers["X-Forwarded-For"] = via
    form = {"username": username, "password": password, "csrf": token, "next": "/dashboard/"}
    async with http.post(
        bot.http.make_url("/dashboard/login"), data=form, headers=headers, allow_redirects=False
    ) as resp:
        await resp.read()
        return resp.status


@pytest.fixture
async def jarless() -> Any:
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar(), connector=aiohttp.TCPConnector(limit=400)
    ) as http:
        yield http


# --- item 3: concurrent guesses, the event loop, proxies -------------------------------------


def count_checks(monkeypatch: pytest.MonkeyPatch, state: DashboardState) -> list[str]:
    """The passwords handed to the check (scrypt, or Busy past its queue), in order: the work
    the guesses caused, counted instead of timed."""
    reached: list[str] = []
    check = state.password_ok

    async def counting(given: str) -> bool:
        reached.append(given)
        return await check(given)

    monkeypatch.setattr(state, "password_ok", counting)
    return reached


async def settle(tasks: list[asyncio.Task[int]], state: DashboardState) -> None:
    """Until every guess is answered or waiting for a hashing slot (held by the test). A guess
    is admitted and queued in one step, so any other is on its way to an answer: each answer
    wakes this loop, and no clock decides when the guesses have been seen to."""
    while sum(t.done() for t in tasks) + state.waiting < len(tasks):
        await asyncio.wait([t for t in tasks if not t.done()], return_when=asyncio.FIRST_COMPLETED)


async def test_concurrent_guesses_check_at_most_the_limit_and_the_webhook_still_answers(
    bot: Bot, jarless: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await login_token(bot)
    state = bot.app[STATE]
    reached = count_checks(monkeypatch, state)
    # Hold every hashing slot, so the admitted guesses stay pending while we look.
    for _ in range(HASH_THREADS):
        await state.hashing.acquire()
    tasks = [asyncio.create_task(guess(jarless, bot, token)) for _ in range(300)]
    await settle(tasks, state)
    # Only the limit's guesses reached the password check; the others were answered while
    # the check could not run (the slots are held): none of them waited for a hash.
    assert len(reached) == LIMIT and state.waiting == LIMIT
    assert [t.result() for t in tasks if t.done()] == [429] * (300 - LIMIT)
    # A signed delivery is served while guesses wait for the password check.
    status, _ = await bot.deliver(text_event("có mặt", sender="uWebhook"))
    assert status == 200
    assert len([t for t in tasks if not t.done()]) == LIMIT
    for _ in range(HASH_THREADS):
        state.hashing.release()
    statuses = await asyncio.gather(*tasks)
    assert statuses.count(401) == LIMIT and statuses.count(429) == 300 - LIMIT
    # The limit holds afterwards too, for the right password from the same address, which
    # is refused before the check.
    assert (await guess(jarless, bot, token, password=PASSWORD)) == 429
    assert len(reached) == LIMIT


async def test_behind_the_proxy_each_client_has_its_own_limit(
    bot: Bot, jarless: aiohttp.ClientSession
) -> None:
    token = await login_token(bot)
    for _ in range(LIMIT):  # a stranger behind the proxy uses up their own window
        assert await guess(jarless, bot, token, username="uX", via="203.0.113.7") == 401
    assert await guess(jarless, bot, token, username="uX", via="203.0.113.7") == 429
    # A forged header in front of the proxy does not free the stranger: the proxy appends
    # the address it saw, and that is the one we read.
    forged = "198.51.100.20, 203.0.113.7"
    assert await guess(jarless, bot, token, username="uX", via=forged) == 429
    # The coordinator, behind the same proxy but from their own address, signs in.
    ok = await guess(jarless, bot, token, password=PASSWORD, via="198.51.100.20, 10.1.2.3")
    assert ok == 303


async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(
    make_bot: Any, make_settings: Any, jarless: aiohttp.ClientSession
) -> None:
    settings = make_settings(
        dashboard={"password": PASSWORD, "login_attempts_per_15_minutes": 2},
        server={"trusted_proxies": ["10.0.0.0/8"]},  # the test client is 127.0.0.1
    )
    bot = await make_bot(settings, FixedClock(day(4, 9)))
    await seed(bot)
    token = await login_token(bot)
    for n in range(2):
        assert await guess(jarless, bot, token, username="uX", via=f"203.0.113.{n}") == 401
    assert await guess(jarless, bot, token, username="uX", via="203.0.113.99") == 429


async def test_guesses_from_many_addresses_are_limited_per_account_but_a_known_device_gets_in(
    bot: Bot, jarless: aiohttp.ClientSession
) -> None:
    token = await login_token(bot)
    # Dung signed in from this browser last week: it holds a device cookie.
    async with jarless.post(
        bot.http.make_url("/dashboard/login"),
        data={"username": COORDINATOR, "password": PASSWORD, "csrf": token},
        headers={"Cookie": f"antt_login={token}", "X-Forwarded-For": "198.51.100.20"},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 303
        device = resp.cookies["antt_device"]
    assert device["httponly"] and device["path"] == "/dashboard"
    bot.clock.advance(timedelta(days=7))
    statuses = await asyncio.gather(
        *(guess(jarless, bot, token, via=f"203.0.113.{n}") for n in range(3 * LIMIT))
    )
    assert statuses.count(401) == LIMIT and statuses.count(429) == 2 * LIMIT
    # The account is locked for a new browser, even with the right password ...
    assert await guess(jarless, bot, token, password=PASSWORD, via="198.51.100.20") == 429
    # ... but not for the device that signed in before, from the same address.
    ok = await guess(
        jarless, bot, token, password=PASSWORD, via="198.51.100.20", device=device.value
    )
    assert ok == 303
    # A device cookie counts only for its own account: guesses with it at another
    # coordinator are limited as usual, and do not use up the device's own window.
    for _ in range(LIMIT):
        assert await guess(jarless, bot, token, username="uAdmin", device=device.value) == 401
    assert await guess(jarless, bot, token, username="uAdmin", device=device.value) == 429
    bot.http.session.cookie_jar.clear()
    again = await guess(jarless, bot, token, password=PASSWORD, device=device.value)
    assert again == 303


async def test_the_device_window_is_limited_too(bot: Bot, jarless: aiohttp.ClientSession) -> None:
    token = await login_token(bot)
    assert (await login(bot)).status == 303
    device = bot.http.session.cookie_jar.filter_cookies(bot.http.make_url("/dashboard/"))
    value = device["antt_device"].value
    for _ in range(LIMIT):
        assert await guess(jarless, bot, token, device=value) == 401
    assert await guess(jarless, bot, token, device=value, password=PASSWORD) == 429


# --- hostile parameters: 400 or 404 with a reason, never a 500 or a dropped connection ----------


async def status_of(bot: Bot, method: str, path: str, **kw: Any) -> int:
    try:
        async with bot.http.request(method, path, allow_redirects=False, **kw) as resp:
            await resp.read()
            return resp.status
    except aiohttp.ClientError:  # the server dropped the connection
        return -1


BIG = "9" * 30


async def test_hostile_login_and_logout_input_is_refused_cleanly(bot: Bot) -> None:
    token = await login_token(bot)
    form = {"username": COORDINATOR, "password": PASSWORD, "csrf": "mã-bí-mật"}
    assert await status_of(bot, "POST", "/dashboard/login", data=form) == 403
    headers = {"Cookie": "antt_login=c\u00f4okie; antt_session=ph\u00ean"}
    form["csrf"] = token
    assert await status_of(bot, "POST", "/dashboard/login", data=form, headers=headers) == 403
    bad_body = {"Content-Type": "multipart/form-data"}  # no boundary
    assert await status_of(bot, "POST", "/dashboard/login", data=b"x", headers=bad_body) == 400
    odd_charset = {"Content-Type": "application/x-www-form-urlencoded; charset=nope"}
    assert await status_of(bot, "POST", "/dashboard/login", data=b"a=b", headers=odd_charset) in (
        400,
        403,
    )
    form = {"username": "09\x0012", "password": PASSWORD, "csrf": await login_token(bot)}
    assert await status_of(bot, "POST", "/dashboard/login", data=form) == 401
    for target in ("/dashboard/\r\nSet-Cookie: x=1", "/dashboard/\u00e9", "/dashboard\\evil"):
        bot.http.session.cookie_jar.clear()
        async with bot.http.get("/dashboard/login", params={"next": target}) as resp:
            assert resp.status == 200 and "Set-Cookie: x" not in await resp.text()
        resp = await bot.http.post(
            "/dashboard/login",
            allow_redirects=False,
            data={
                "username": COORDINATOR,
                "password": PASSWORD,
                "csrf": await login_token(bot),
                "next": target,
            },
        )
        assert resp.status == 303 and resp.headers["Location"] == "/dashboard/"
    # Signed in: a non-ASCII CSRF field on logout is a plain 403.
    assert await status_of(bot, "POST", "/dashboard/logout", data={"csrf": "đăng xuất"}) == 403
    raw = {"Cookie": "antt_session=\u00ff\u00fe"}
    assert await status_of(bot, "GET", "/dashboard/", headers=raw) == 200  # the jar's session


async def test_hostile_dashboard_parameters_answer_400_or_404(bot: Bot) -> None:
    assert (await login(bot)).status == 303
    cases = {
        "/dashboard/?week=9999-W52": 404,
        "/dashboard/?week=0001-W01": 404,
        "/dashboard/?week=2026-W60": 404,
        "/dashboard/?week=%00": 400,
        "/dashboard/chart/9999-W52.png": 404,
        "/dashboard/chart/0001-W01.png": 404,
        "/dashboard/digest/9999-W52": 404,
        "/dashboard/digest/9999-W52.xlsx": 404,
        "/dashboard/reports?until=9999-12-31": 400,
        "/dashboard/reports?since=0001-01-01": 400,
        "/dashboard/reports?since=2026-02-30": 400,
        "/dashboard/reports?category=%00": 400,
        "/dashboard/reports?status=%ff%fe": 200,  # not UTF-8: read as U+FFFD, found nothing
        "/dashboard/downloads?until=9999-12-31": 400,
        "/dashboard/downloads/reports.xlsx?until=9999-12-31": 400,
        "/dashboard/downloads/reports.csv?since=0001-01-01": 400,
        "/dashboard/members?q=%00": 400,
        "/dashboard/members?q=%ed%a0%80": 200,  # an encoded surrogate: U+FFFD as well
        f"/dashboard/photos/{BIG}": 404,
        f"/dashboard/members/{BIG}": 403,  # a coordinator: admins only, whatever the id
        "/dashboard/downloads/nothing.csv": 404,
    }
    got = {path: await status_of(bot, "GET", path) for path in cases}
    assert {p: n for p, n in got.items() if n != cases[p]} == {}
    bot.http.session.cookie_jar.clear()
    assert (await login(bot, "uAdmin")).status == 303
    csrf = await page_csrf(bot)
    assert await status_of(bot, "GET", f"/dashboard/members/{BIG}") == 404
    form = {"csrf": csrf, "name": "Bình\x00", "role": "member"}
    assert await status_of(bot, "POST", f"/dashboard/members/{BIG}", data=form) == 404
    async with bot.sessions() as s:
        b = (await s.execute(select(Member).where(Member.member_id == "uB"))).scalar_one()
    assert await status_of(bot, "POST", f"/dashboard/members/{b.id}", data=form) == 400
    # Still a working dashboard afterwards.
    assert await status_of(bot, "GET", "/dashboard/?week=2026-W48") == 200


async def test_invisible_and_direction_characters_leave_a_name_on_save(bot: Bot) -> None:
    """An admin pastes a name from a chat: zero-width spaces and a right-to-left override
    (which showed "Bình" as "hnìB" in lists) are dropped; the name is saved as it reads."""
    assert (await login(bot, "uAdmin")).status == 303
    async with bot.sessions() as s:
        b = (await s.execute(select(Member).where(Member.member_id == "uB"))).scalar_one()
    form = {
        "csrf": await page_csrf(bot),
        "name": "Trần \u202eVăn\u202c Bình\u200b",
        "enterprise": "\ufeffCty ABC\u2066",
        "role": "member",
    }
    assert await status_of(bot, "POST", f"/dashboard/members/{b.id}", data=form) == 303
    async with bot.sessions() as s:
        saved = await s.get(Member, b.id)
        assert saved is not None
        assert (saved.name, saved.enterprise) == ("Trần Văn Bình", "Cty ABC")


# --- XLSX: characters XML forbids -----------------------------------------------------------

BAD = "nội\ufffedung\uffff\x1b hết"  # PostgreSQL stores no NUL, so none here


async def test_xlsx_downloads_drop_characters_xml_forbids_and_reopen(bot: Bot) -> None:
    async with bot.sessions() as s, s.begin():
        f = Factory(s)
        group = await f.group(f"g{BAD}", f"Nhóm {BAD}", enterprise=f"Cty {BAD}")
        m = await f.member(f"u{BAD}", f"Tên {BAD}", enterprise=f"Cty {BAD}", groups=(group,))
        await f.message(m, day(2), chat=group.chat_id, text=f"tin {BAD}")
        await f.report(m, day(2), "theft", text=f"báo cáo {BAD}", chat=group.chat_id)
    assert (await login(bot)).status == 303
    for path in (
        "/dashboard/downloads/messages.xlsx",
        "/dashboard/downloads/reports.xlsx",
        "/dashboard/downloads/members.xlsx",
        "/dashboard/digest/2026-W48.xlsx",
    ):
        async with bot.http.get(path) as resp:
            assert resp.status == 200, path
            book = openpyxl.load_workbook(io.BytesIO(await resp.read()))
        cells = [
            str(c)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for c in row
            if c is not None
        ]
        found = [c for c in cells if "hết" in c]
        assert found, path
        assert all("nộidung hết" in c for c in found), (path, found)


# --- the chart: names drawn literally, and its failure never stops the text -------------------

DOLLARS = ("Giá $5 và $6", "Cty $\\frac{1$ x", "$x^2$")


async def dollar_groups(bot: Bot) -> None:
    async with bot.sessions() as s, s.begin():
        f = Factory(s)
        for n, name in enumerate(DOLLARS):
            group = await f.group(f"gd{n}", name, enterprise=name)
            m = await f.member(f"ud{n}", f"Người {n}", enterprise=name, groups=(group,))
            await f.message(m, day(2), chat=group.chat_id)


async def test_names_with_dollars_chart_fine_on_the_dashboard(bot: Bot) -> None:
    await dollar_groups(bot)
    assert (await login(bot)).status == 303
    async with bot.http.get("/dashboard/chart/2026-W48.png") as resp:
        assert resp.status == 200
        assert (await resp.read()).startswith(b"\x89PNG")


MONDAY = datetime(2026, 11, 30, 8, 5, tzinfo=HCM)


async def digest_bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(
        db=db_url, coordinators=["gcoord"], server={"public_url": "https://antt.example.vn"}
    )
    bot = await make_bot(settings, FixedClock(MONDAY))
    async with bot.sessions() as s, s.begin():
        await scenario(s)
    return bot


async def queued_keys(bot: Bot) -> list[str]:
    async with bot.sessions() as s:
        rows = await s.execute(select(Outbox.idempotency_key).where(Outbox.kind == "digest"))
        return sorted(rows.scalars())


async def test_the_weekly_digest_charts_names_with_dollars(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    bot = await digest_bot(make_bot, make_settings, db_url)
    await dollar_groups(bot)
    assert (await bot.runtime.run_job("weekly_digest")).queued == 4
    assert sum(k.startswith("digest-photo:") for k in await queued_keys(bot)) == 2


async def test_a_chart_failure_still_sends_the_text_digest_and_is_logged(
    make_bot: Any,
    make_settings: Any,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await digest_bot(make_bot, make_settings, db_url)
    with monkeypatch.context() as patch, caplog.at_level(logging.ERROR):
        patch.setitem(sys.modules, "matplotlib", None)  # as if matplotlib were broken
        assert (await bot.runtime.run_job("weekly_digest")).queued == 2
    assert await queued_keys(bot) == ["digest:gcoord:2026-W48", "digest:pD:2026-W48"]
    failed = [r for r in caplog.records if "chart failed" in r.getMessage()]
    assert failed and failed[0].levelno == logging.ERROR and failed[0].exc_info is not None
    await bot.drain()
    texts = [line.text for line in bot.store.bot_lines() if line.chat_id in ("gcoord", "pD")]
    assert len(texts) == 2 and all(t.startswith("📊 Tổng kết tuần 48") for t in texts)
    # Once the chart draws again, the next run sends the photos only.
    assert (await bot.runtime.run_job("weekly_digest")).queued == 2
    assert sum(k.startswith("digest-photo:") for k in await queued_keys(bot)) == 2


async def test_an_unknown_username_locks_like_a_known_one(
    bot: Bot, jarless: aiohttp.ClientSession
) -> None:
    """Otherwise a 429 after a spread-out attack would tell which names are coordinators."""
    token = await login_token(bot)
    for username in (COORDINATOR, "0900000000"):
        spread = [
            guess(jarless, bot, token, username=username, via=f"203.0.113.{n}")
            for n in range(LIMIT + 1)
        ]
        statuses = await asyncio.gather(*spread)
        assert sorted(statuses) == [401] * LIMIT + [429], username


async def test_a_flood_beyond_the_hash_queue_is_refused_at_once_and_not_counted(
    bot: Bot, jarless: aiohttp.ClientSession
) -> None:
    token = await login_token(bot)
    state = bot.app[STATE]
    for _ in range(HASH_THREADS):
        await state.hashing.acquire()
    # Each guess from its own address and name: every one has room in its windows.
    tasks = [
        asyncio.create_task(guess(jarless, bot, token, username=f"x{n}", via=f"198.18.0.{n}"))
        for n in range(MAX_WAITING + 5)
    ]
    await settle(tasks, state)
    refused = [t for t in tasks if t.done()]
    assert [t.result() for t in refused] == [429] * 5  # answered while the queue was full
    assert state.waiting == MAX_WAITING
    for _ in range(HASH_THREADS):
        state.hashing.release()
    assert (await asyncio.gather(*tasks)).count(401) == MAX_WAITING
    # The refused ones were never checked: their windows are untouched.
    n = tasks.index(refused[0])
    for _ in range(LIMIT):
        assert await guess(jarless, bot, token, username=f"x{n}", via=f"198.18.0.{n}") == 401


def test_trusted_proxies_are_addresses_or_networks(make_settings: Any) -> None:
    settings = make_settings(server={"trusted_proxies": ["127.0.0.1", "10.0.0.0/8", "::1"]})
    assert [str(n) for n in settings.server.trusted_proxies] == [
        "127.0.0.1/32",
        "10.0.0.0/8",
        "::1/128",
    ]
    assert make_settings().server.trusted_proxies == []
    with pytest.raises(ConfigError, match=r"server\.trusted_proxies\.1"):
        make_settings(server={"trusted_proxies": ["10.0.0.1", "proxy.local"]})
