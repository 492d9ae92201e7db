"""Every coordinator's page on a phone (390 x 844) and on a desk (1280), in chromium.

A week in Bình Xuyên: chị Lan reports a fire at night, anh Hùng, without diacritics, a
stranger at the fence, anh Tuấn (the chair) sends a directive and assigns a task; anh Hải
acknowledges, chị Lan checks in. Next morning anh Tuấn reads the week on his phone: the chart's
words are as big as the page's (>= 12 CSS px), the per-group table keeps each group's name
readable (never one word per line) without the page sliding sideways, and every page the menu
lists, with the incident and directive they lead to, fits the screen with no text under 12 px.
"""

from __future__ import annotations

import math
import struct
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from bot import keys
from handlers.chart_style import clip
from handlers.clock import FixedClock
from handlers.digest import build_digest
from handlers.digest_chart import PHONE_NAME, build_figure, render_png
from handlers.province import build_province_digest
from handlers.province_chart import build_province_figure, render_province_png
from models.db import make_engine, make_sessionmaker, upgrade
from tests.browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM
from tests.conftest import Bot
from tests.digest_factory import END as FACTORY_END
from tests.digest_factory import WEEK as FACTORY_WEEK
from tests.digest_factory import Factory, day, scenario
from tests.test_councils_e2e import PASSWORD, say, two_parks
from tests.test_dashboard import ARTIFACTS, login
from tests.test_dashboard_phone import DESK, NIGHT, PHONE, night, sign_in

WEEK = "2026-W49"
CHAIR = "0901000101"  # anh Tuấn, Bình Xuyên's chair, signs in with his phone number

# The page slides sideways, or some text is smaller than 12 CSS px (hidden elements aside).
PAGE_PROBLEMS = """() => {
  const problems = [];
  const wide = document.scrollingElement.scrollWidth;
  if (wide > window.innerWidth) problems.push(`page is ${wide}px wide in ${window.innerWidth}px`);
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    const text = node.data.trim();
    const el = node.parentElement;
    if (!text || !el || el.getClientRects().length === 0) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 12) problems.push(`${size}px: ${text.slice(0, 40)}`);
  }
  return problems;
}"""

# A page too wide with words too small, to show PAGE_PROBLEMS sees them (CSSOM: the CSP
# forbids style attributes, not scripts setting styles).
PLANT = """() => {
  const div = document.createElement('div');
  div.textContent = 'chữ nhỏ';
  div.style.width = '2000px';
  div.style.fontSize = '10px';
  document.body.append(div);
}"""

# The chart as shown: which image the browser chose, its own width and its width on screen.
CHART = """async () => {
  const img = document.querySelector('figure.chart img');
  await img.decode();
  return {src: img.currentSrc, natural: img.naturalWidth,
          shown: img.getBoundingClientRect().width};
}"""

# Each group's name in the per-group table: its words and the lines it takes on screen.
NAME_LINES = """(id) => [...document.querySelectorAll(`#${id} tbody tr`)].map((row) => {
  const cell = row.cells[0];
  const range = document.createRange();
  range.selectNodeContents(cell);
  const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
  return [cell.textContent.trim(), tops.size, Math.round(cell.getBoundingClientRect().width)];
})"""


async def week_in_binh_xuyen(bot: Bot) -> None:
    """The night of tests/test_dashboard_phone.py, then a directive, an ack and a check-in."""
    await night(bot)
    await say(bot, "u_bx_chu_tich", "/thongbao Kiểm tra bình chữa cháy trước thứ 6", "g_bx_council")
    await say(bot, "u_hai", "da nhan", "g_bx_council")
    await say(bot, "u_bx_lan", "có mặt", "g_bx_mayviet")
    bot.clock.advance(timedelta(hours=9))  # anh Tuấn reads it next morning


def png_width(data: bytes) -> int:
    """The width in a PNG's IHDR chunk."""
    assert data.startswith(b"\x89PNG")
    return int(struct.unpack(">I", data[16:20])[0])


def smallest_text_px(fig: Any) -> float:
    """The smallest type drawn in a matplotlib figure, in the image's own pixels."""
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_fontsize"))
        if t.get_visible() and t.get_text().strip()
    ]
    return float(min(sizes)) * fig.dpi / 72


async def park_figure(bot: Bot, layout: str) -> tuple[bytes, Any]:
    """Bình Xuyên's week chart as the server draws it: the PNG and its figure."""
    async with bot.sessions() as s:
        d = await build_digest(
            s, bot.app[keys.SETTINGS], WEEK, bot.clock.now(), council_id="binh-xuyen"
        )
    return render_png(d, layout=layout), build_figure(d, layout=layout)


async def province_figure(bot: Bot, layout: str) -> tuple[bytes, Any]:
    """The province's overview chart as the server draws it: the PNG and its figure."""
    async with bot.sessions() as s:
        p = await build_province_digest(s, bot.app[keys.SETTINGS], WEEK, bot.clock.now())
    return render_province_png(p, layout=layout), build_province_figure(p, layout=layout)


async def chart_as_shown(page: Any, bot: Bot, drawn: Any = park_figure) -> tuple[float, str]:
    """The chart's smallest text in CSS px as this browser shows it, and the layout asked for.
    The PNG the browser got is compared byte for byte with the figure measured."""
    shown = await page.evaluate(CHART)
    layout = parse_qs(urlparse(shown["src"]).query).get("layout", ["wide"])[0]
    got = await page.request.get(shown["src"])
    assert got.status == 200, shown
    body = await got.body()
    assert png_width(body) == shown["natural"]
    png, fig = await drawn(bot, layout)
    assert png == body  # the figure measured is the one shown
    return smallest_text_px(fig) * shown["shown"] / shown["natural"], layout


def outside(fig: Any) -> list[str]:
    """The words of a figure drawn partly outside its image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # titles and axis labels find their places when drawn
    renderer = canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    return [
        t.get_text()
        for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_fontsize"))
        if t.get_visible() and t.get_text().strip()
        for box in [t.get_window_extent(renderer)]
        if box.x0 < 0 or box.x1 > width or box.y0 < 0 or box.y1 > height
    ]


async def open_bot(make_bot: Any, db_url: str) -> Bot:
    bot: Bot = await make_bot(
        two_parks(db_url, dashboard={"password": PASSWORD}),
        clock=FixedClock(NIGHT),
    )
    await week_in_binh_xuyen(bot)
    return bot


async def browser_page(pw: Any, viewport: dict[str, int]) -> tuple[Any, Any]:
    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = await (await browser.new_context(viewport=viewport)).new_page()
    return browser, page


def need_chromium() -> Any:
    if not HAVE_CHROMIUM:
        pytest.skip(f"Debian chromium not installed at {CHROMIUM}")
    return pytest.importorskip("playwright.async_api")


@pytest.mark.browser
async def test_the_charts_read_at_12_px_on_a_phone_and_on_a_desk(
    make_bot: Any, db_url: str
) -> None:
    playwright_api = need_chromium()
    bot = await open_bot(make_bot, db_url)
    base = str(bot.http.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as pw:
        browser, page = await browser_page(pw, PHONE)
        try:
            await sign_in(page, base, CHAIR)
            seen: dict[str, tuple[float, str]] = {}
            for path in (f"/dashboard/?week={WEEK}", f"/dashboard/digest/{WEEK}"):
                await page.goto(base + path)
                seen[f"phone {path}"] = await chart_as_shown(page, bot)
            await page.set_viewport_size(DESK)
            for path in (f"/dashboard/?week={WEEK}", f"/dashboard/digest/{WEEK}"):
                await page.goto(base + path)
                seen[f"desk {path}"] = await chart_as_shown(page, bot)
            # Anh Quốc (the province) opens Bình Xuyên's digest on his phone.
            await page.context.clear_cookies()
            await page.set_viewport_size(PHONE)
            await sign_in(page, base, "u_ban_quan_ly")
            await page.goto(f"{base}/dashboard/province/binh-xuyen/digest/{WEEK}")
            seen["province's phone"] = await chart_as_shown(page, bot)
            await page.goto(f"{base}/dashboard/province?week={WEEK}")
            seen["province overview"] = await chart_as_shown(page, bot, province_figure)
            await page.set_viewport_size(DESK)
            await page.goto(f"{base}/dashboard/province?week={WEEK}")
            seen["province overview, desk"] = await chart_as_shown(page, bot, province_figure)
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "dashboard-phone-chart.png"
            await page.screenshot(path=str(shot), full_page=True)
            raise
        finally:
            await browser.close()
    small = {k: round(px, 1) for k, (px, _l) in seen.items() if px < 12}
    assert not small, f"chart text under 12 CSS px: {small}"
    assert {k: layout for k, (_px, layout) in seen.items()} == {
        f"phone /dashboard/?week={WEEK}": "phone",
        f"phone /dashboard/digest/{WEEK}": "phone",
        f"desk /dashboard/?week={WEEK}": "wide",
        f"desk /dashboard/digest/{WEEK}": "wide",
        "province's phone": "phone",
        "province overview": "phone",
        "province overview, desk": "wide",
    }


async def test_a_chart_layout_the_dashboard_does_not_draw_is_named_back(
    make_bot: Any, db_url: str
) -> None:
    bot = await open_bot(make_bot, db_url)
    resp = await login(bot, CHAIR, PASSWORD)
    assert resp.status == 303
    for path in (
        f"/dashboard/chart/{WEEK}.png?layout=tablet",
        f"/dashboard/chart/{WEEK}.png?layout=%00",
    ):
        async with bot.http.get(path) as got:
            assert got.status == 400, path
            assert "Tham số “layout”" in await got.text()
    async with bot.http.get(f"/dashboard/chart/{WEEK}.png?layout=phone") as got:
        assert got.status == 200 and got.content_type == "image/png"
        assert png_width(await got.read()) == 540
    async with bot.http.get(f"/dashboard/chart/{WEEK}.png") as got:
        assert png_width(await got.read()) == 900  # the chat's, unchanged


async def test_the_phone_charts_keep_every_word_inside_the_image(
    make_bot: Any, db_url: str
) -> None:
    """Nothing of the narrow charts is cut at their edges: names, figures, legends."""
    bot = await open_bot(make_bot, db_url)
    _png, park = await park_figure(bot, "phone")
    assert outside(park) == []
    texts = {t.get_text() for t in park.findobj(lambda a: hasattr(a, "get_text"))}
    assert {"May Việt", "Tuần 49", "Các tuần gần đây"} <= texts, texts
    _png, overview = await province_figure(bot, "phone")
    assert outside(overview) == []
    texts = {t.get_text() for t in overview.findobj(lambda a: hasattr(a, "get_text"))}
    assert {"KCN Bình Xuyên", "KCN Khai Quang", "Tuần 49", "Tham gia"} <= texts, texts
    assert park.bbox.width == overview.bbox.width == 540


@pytest.mark.browser
async def test_the_per_group_table_keeps_names_readable_on_a_phone(
    make_bot: Any, db_url: str
) -> None:
    playwright_api = need_chromium()
    bot = await open_bot(make_bot, db_url)
    base = str(bot.http.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as pw:
        browser, page = await browser_page(pw, PHONE)
        try:
            await sign_in(page, base, CHAIR)
            bad: list[str] = []
            for path in (f"/dashboard/digest/{WEEK}", f"/dashboard/?week={WEEK}"):
                await page.goto(base + path)
                rows = await page.evaluate(NAME_LINES, "groups")
                names = [name for name, _lines, _w in rows]
                assert "Tổ bảo vệ May Việt (Bình Xuyên)" in names, rows
                # A name of n words takes at most about n/2 lines: two words a line or more.
                bad += [
                    f"{path}: {name!r} on {lines} lines ({width}px)"
                    for name, lines, width in rows
                    if lines > max(1, math.ceil(len(name.split()) / 2))
                ]
                bad += [f"{path}: {p}" for p in await page.evaluate(PAGE_PROBLEMS)]
            assert not bad, "\n".join(bad)
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(
                path=str(ARTIFACTS / "dashboard-phone-groups.png"), full_page=True
            )
            raise
        finally:
            await browser.close()


async def test_long_enterprise_names_fit_the_phone_chart(db_url: str, make_settings: Any) -> None:
    """Eight enterprises, one with a company's full registered name: each panel's name is
    cut with "…" inside the image, never past its edge."""
    engine = make_engine(db_url)
    await upgrade(engine)
    sessions = make_sessionmaker(engine)
    long_name = "Công ty TNHH May mặc và Thương mại Việt Tiến Vĩnh Phúc"
    try:
        async with sessions() as s, s.begin():
            rows = await scenario(s)
            f = Factory(s)
            for n in range(8):
                name = long_name if n == 7 else f"Cty Cơ khí chính xác số {n}"  # busiest
                m = await f.member(f"x{n}", f"Người {n}", enterprise=name, groups=(rows["g1"],))
                for k in range(n + 1):
                    await f.checkin(m, day(k % 6))
        async with sessions() as s:
            d = await build_digest(s, make_settings(), FACTORY_WEEK, FACTORY_END + timedelta(1))
    finally:
        await engine.dispose()
    fig = build_figure(d, layout="phone")
    assert outside(fig) == []
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert clip(long_name, PHONE_NAME) in titles and clip(long_name, PHONE_NAME).endswith("…")
    assert smallest_text_px(fig) * 340 / fig.bbox.width >= 12  # a 390 px phone shows ~340 px


# Where a menu's lists lead: the fire's story, the directive, a week's digest, a park's digest.
LEADS = {
    "/dashboard/incidents": "#incidents a[href^='/dashboard/incidents/']",
    "/dashboard/directives": "a[href^='/dashboard/directives/']",
    "/dashboard/digest/": "a[href^='/dashboard/digest/2026-W']",
    "/dashboard/province": "#parks a[href^='/dashboard/province/']",
}


async def walk(page: Any, base: str) -> dict[str, list[str]]:
    """Every page the signed-in menu lists and where its lists lead, with their problems."""
    menu = await page.eval_on_selector_all(
        "header nav a", "(links) => links.map((a) => a.getAttribute('href'))"
    )
    leads = []
    for path in menu:
        if path in LEADS:
            await page.goto(base + path)
            leads.append(await page.locator(LEADS[path]).first.get_attribute("href"))
    found: dict[str, list[str]] = {}
    for path in [*menu, *leads]:
        response = await page.goto(base + path)
        assert response is not None and response.status == 200, path
        found[path] = await page.evaluate(PAGE_PROBLEMS)
    return found


@pytest.mark.browser
async def test_every_page_the_menu_lists_fits_a_phone_with_no_text_under_12_px(
    make_bot: Any, db_url: str
) -> None:
    """Anh Tuấn (the chair) and anh Quốc (the province) open every page of their menus, on
    a phone and on a desk."""
    playwright_api = need_chromium()
    bot = await open_bot(make_bot, db_url)
    base = str(bot.http.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as pw:
        browser, page = await browser_page(pw, PHONE)
        found: dict[str, list[str]] = {}
        walked: dict[str, list[str]] = {}
        try:
            for size, viewport in (("390", PHONE), ("1280", DESK)):
                await page.set_viewport_size(viewport)
                for who in (CHAIR, "u_ban_quan_ly"):
                    await page.context.clear_cookies()
                    await page.goto(f"{base}/dashboard/")
                    found[f"{size} /dashboard/login"] = await page.evaluate(PAGE_PROBLEMS)
                    await sign_in(page, base, who)
                    pages = await walk(page, base)
                    walked[f"{size} {who}"] = list(pages)
                    found |= {f"{size} {who} {path}": p for path, p in pages.items()}
            # The check itself sees a page too wide and words too small.
            await page.evaluate(PLANT)
            planted = await page.evaluate(PAGE_PROBLEMS)
            assert planted == ["page is 2000px wide in 1280px", "10px: chữ nhỏ"], planted
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "dashboard-phone-menu.png"
            await page.screenshot(path=str(shot), full_page=True)
            raise
        finally:
            await browser.close()
    bad = [f"{path}: {p}" for path, problems in found.items() for p in problems]
    assert not bad, "\n".join(bad)
    chair = walked[f"390 {CHAIR}"]
    assert len(chair) == 13, chair  # the menu's ten, the newest incident, directive, week
    assert [p.rsplit("/", 1)[0] for p in chair[10:]] == [
        "/dashboard/incidents",
        "/dashboard/directives",
        "/dashboard/digest",
    ], chair
    assert walked["390 u_ban_quan_ly"] == [
        "/dashboard/province",
        "/dashboard/province/binh-xuyen/digest/2026-W48",
    ]
    assert walked["1280 u_ban_quan_ly"] == walked["390 u_ban_quan_ly"]
