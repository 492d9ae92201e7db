"""The dashboard's lists and the province's overview read on a phone (390 x 844), in chromium.

Chị Lan reports a fire at night in Bình Xuyên and anh Hùng, without diacritics, a stranger at
the fence; anh Tuấn, the chair, is woken by the alert and opens the incidents on his phone:
each incident's code, status and place are on the screen, with nothing to scroll sideways. Anh
Quốc (the province) opens his overview on his phone: each park's figures, named as the table
names them. On a desk (1280 px) both stay tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from handlers.clock import FixedClock
from tests.browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM
from tests.conftest import Bot
from tests.test_councils_e2e import PASSWORD, say, two_parks
from tests.test_dashboard import ARTIFACTS, PHONE_PROBLEMS

# Monday 30 Nov 2026, 23:40 in Hanoi.
NIGHT = datetime(2026, 11, 30, 16, 40, tzinfo=UTC)
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}

# What of a list a phone does not show: its box scrolling sideways, a wanted column's value
# outside the screen, or a value without its column's name beside it (the header is hidden).
UNREADABLE = """([id, wanted]) => {
  const table = document.getElementById(id);
  const box = table.parentElement;
  const heads = [...table.tHead.rows[0].cells].map((c) => c.textContent.trim());
  const problems = [];
  if (box.scrollWidth > box.clientWidth + 1)
    problems.push(`#${id} scrolls sideways: ${box.scrollWidth}px in ${box.clientWidth}px`);
  for (const row of table.tBodies[0].rows) {
    const title = row.cells[0].textContent.trim();
    for (const name of wanted) {
      const at = heads.indexOf(name);
      if (at < 0) { problems.push(`#${id} has no column ${name}`); continue; }
      const cell = row.cells[at];
      const range = document.createRange();
      range.selectNodeContents(cell);
      const r = range.getBoundingClientRect();
      if (r.width === 0 || r.left < 0 || r.right > window.innerWidth)
        problems.push(`${title}: ${name} at ${Math.round(r.left)}-${Math.round(r.right)}px`);
      const label = getComputedStyle(cell, '::before').content;
      if (at > 0 && label !== JSON.stringify(name))
        problems.push(`${title}: ${name} labelled ${label}`);
    }
  }
  return problems;
}"""

# On a desk the list is the table it was: its header row shown, each record one row.
A_TABLE = """(id) => {
  const table = document.getElementById(id);
  return getComputedStyle(table).display === 'table' && table.tHead.offsetHeight > 0
    && [...table.tBodies[0].rows].every((r) => r.cells[0].offsetTop === r.cells[1].offsetTop);
}"""

# The trend table scrolled to its newest week still shows which park each row is.
NAMES_STAY = """() => {
  const box = document.getElementById('trend').parentElement;
  box.scrollLeft = box.scrollWidth;
  const left = box.getBoundingClientRect().left;
  return [...document.querySelectorAll('#trend tbody tr')]
    .filter((r) => r.cells[0].getBoundingClientRect().left < left - 1)
    .map((r) => r.cells[0].textContent.trim());
}"""


async def night(bot: Bot) -> None:
    """The night as the councils live it, through the webhook."""
    for who in ("u_bx_chu_tich", "u_kq_chu_tich", "u_ban_quan_ly"):
        await say(bot, who, "chào bot")
    await say(bot, "u_bx_lan", "Cháy lớn ở kho vải xưởng 2, cần hỗ trợ gấp!!!", "g_bx_council")
    await say(bot, "u_bx_hung", "co nguoi la treo rao kho B cong 3", "g_bx_mayviet")
    await say(bot, "u_bx_chu_tich", "/giaoviec @Trần Thị Lan kiểm tra bình chữa cháy xưởng 2")
    await say(bot, "u_kq_nam", "Mất trộm dây điện ở cổng 5", "g_kq_council")


async def sign_in(page: Any, base: str, username: str) -> None:
    await page.goto(f"{base}/dashboard/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/dashboard/**")


@pytest.mark.browser
async def test_in_chromium_the_lists_and_the_province_read_on_a_phone(
    make_bot: Any, db_url: str
) -> None:
    if not HAVE_CHROMIUM:
        pytest.skip(f"Debian chromium not installed at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    bot: Bot = await make_bot(
        two_parks(db_url, dashboard={"password": PASSWORD}), clock=FixedClock(NIGHT)
    )
    await night(bot)
    base = str(bot.http.make_url("/")).rstrip("/")
    lists = {
        "/dashboard/incidents": ("incidents", ["Mã", "Loại", "Nơi", "Trạng thái", "Báo lúc"]),
        "/dashboard/reports": ("reports", ["Lúc", "Loại", "Trạng thái", "Người báo", "Nội dung"]),
        "/dashboard/tasks": ("tasks", ["Mã", "Việc", "Người nhận", "Hạn", "Trạng thái"]),
    }
    province = "/dashboard/province?week=2026-W49"
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await (await browser.new_context(viewport=PHONE)).new_page()
        try:
            # Anh Tuấn, woken by the alert.
            await sign_in(page, base, "0901000101")
            bad: list[str] = []
            for path, (table, wanted) in lists.items():
                await page.goto(base + path)
                bad += [f"{path}: {p}" for p in await page.evaluate(PHONE_PROBLEMS)]
                bad += [f"{path}: {p}" for p in await page.evaluate(UNREADABLE, [table, wanted])]
            await page.goto(f"{base}/dashboard/incidents")
            shown = await page.inner_text("#incidents")
            assert "kho vải, xưởng 2" in shown and "kho B, cổng 3" in shown, shown
            assert "cổng 5" not in shown  # Khai Quang's
            await page.set_viewport_size(DESK)
            for path, (table, _wanted) in lists.items():
                await page.goto(base + path)
                assert await page.evaluate(A_TABLE, table), path
            await page.context.clear_cookies()

            # Anh Quốc, the province, on his phone.
            await page.set_viewport_size(PHONE)
            await sign_in(page, base, "u_ban_quan_ly")
            await page.goto(base + province)
            bad += [f"province: {p}" for p in await page.evaluate(PHONE_PROBLEMS)]
            heads = await page.locator("#parks thead th").all_inner_texts()
            bad += [f"province: {p}" for p in await page.evaluate(UNREADABLE, ["parks", heads])]
            hidden = await page.evaluate(NAMES_STAY)
            assert not bad, "\n".join(bad)
            assert hidden == [], f"park names scrolled away: {hidden}"
            await page.set_viewport_size(DESK)
            await page.goto(base + province)
            assert await page.evaluate(A_TABLE, "parks")
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "dashboard-phone-lists.png"), full_page=True)
            raise
        finally:
            await browser.close()
