"""Pages reached by a hand-typed address: a bad parameter is answered in Vietnamese naming
it, and an old week's page shows that week as it was."""

from __future__ import annotations

import re
from typing import Any

import pytest

from handlers.clock import FixedClock
from tests.conftest import Bot
from tests.digest_factory import Factory, day
from tests.test_dashboard import PASSWORD, login, seed


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    """The dashboard three weeks after 2026-W48 (the seeded week)."""
    settings = make_settings(db=db_url, dashboard={"password": PASSWORD})
    b = await make_bot(settings, FixedClock(day(20, 9)))
    rows = await seed(b)
    async with b.sessions() as s, s.begin():
        bình = await s.merge(rows["b"])
        await Factory(s).message(bình, day(16), "g2")  # 09/12, after W48
    return b


async def _answer(bot: Bot, path: str) -> tuple[int, str]:
    async with bot.http.get(path, allow_redirects=False) as resp:
        return resp.status, await resp.text()


@pytest.mark.parametrize(
    ("path", "status", "said"),
    [
        ("/dashboard/?week=99", 400, ["week", "“99”", "2026-W48"]),
        ("/dashboard/?week=2026-W60", 404, ["2026-W60", "tuần 60"]),
        ("/dashboard/reports?since=abc", 400, ["since", "Từ ngày", "“abc”", "2026-11-27"]),
        ("/dashboard/reports?until=2026-02-30", 400, ["until", "Đến ngày", "2026-11-27"]),
        ("/dashboard/downloads?until=9999-12-31", 400, ["until", "9999-12-31", "1900"]),
        ("/dashboard/members?q=%00", 400, ["q", "ký tự điều khiển"]),
        ("/dashboard/honour?month=12-2026", 400, ["month", "“12-2026”", "2026-12"]),
        ("/dashboard/incidents?status=x", 400, ["status", "Trạng thái", "“x”"]),
    ],
)
async def test_a_bad_parameter_is_named_in_vietnamese(
    bot: Bot, path: str, status: int, said: list[str]
) -> None:
    """Was a plain-text English line ("week must look like 2026-W48")."""
    assert (await login(bot)).status == 303
    got, html = await _answer(bot, path)
    assert got == status, html
    message = re.search(r"<h1>(.*?)</h1>\s*<p>(.*?)</p>", html, re.S)
    assert message is not None, html
    text = message[2].replace("&#34;", '"')
    for part in said:
        assert part in text, text
    assert "must" not in text and "is not" not in text, text
    assert "Về trang chính" in html  # the dashboard's own page, with the way back


async def test_an_old_weeks_inactive_list_shows_when_each_was_last_seen_by_then(
    bot: Bot,
) -> None:
    """Bình wrote on 20/11 (before W48) and again on 09/12: W48's page listed him as
    inactive "Lần cuối 09/12", after the week it describes. Now 20/11, as of that week."""
    assert (await login(bot)).status == 303
    _status, html = await _answer(bot, "/dashboard/?week=2026-W48")
    quiet = html[html.index("Chưa hoạt động") :]
    row = re.search(r"<tr><td>Bình</td>.*?</tr>", quiet)
    assert row is not None, quiet[:2000]
    assert "20/11/2026 09:00" in row[0] and "09/12" not in row[0], row[0]
    # This week's page: the latest, as before.
    _status, html = await _answer(bot, "/dashboard/?week=2026-W51")
    assert "09/12/2026 09:00" in html or "Bình" not in html[html.index("Chưa hoạt động") :]


def _error_shown(html: str) -> tuple[str, str]:
    """The title and the sentence of the dashboard's own error page."""
    shown = re.search(r"<h1>(.*?)</h1>\s*<p>(.*?)</p>", html, re.S)
    assert shown is not None and "Về trang chính" in html, html
    return shown[1], shown[2]


ENGLISH = ("Not Found", "Not Allowed", "Forbidden", "CSRF", "session", "no such", "could not")


async def _refused(bot: Bot, method: str, path: str, **kw: Any) -> tuple[int, str, str]:
    async with bot.http.request(method, path, allow_redirects=False, **kw) as resp:
        html = await resp.text()
        assert resp.content_type == "text/html", html
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        allow = resp.headers.get("Allow", "")
    title, said = _error_shown(html)
    assert not any(word in html for word in ENGLISH), html
    return resp.status, f"{title} | {said}", allow


async def test_the_dashboards_other_errors_are_vietnamese_pages_with_their_status(
    bot: Bot,
) -> None:
    """A mistyped address, a member or post that is not there, a form sent after signing out
    or from a page left open across a sign-in, a link opened the wrong way: each was
    aiohttp's English one-liner ("404: Not Found", "405: Method Not Allowed", "CSRF token
    missing or wrong"); now the dashboard's page, in Vietnamese, with the same status."""
    # Chị Dung's session ended (she signed out in another tab): her open form is refused.
    status, said, _ = await _refused(bot, "POST", "/dashboard/logout", data={"csrf": "x"})
    assert status == 403 and "đăng nhập lại" in said, said

    assert (await login(bot)).status == 303
    cases = [
        ("GET", "/dashboard/bao-cao", 404, "Không có trang này"),
        ("GET", "/dashboard/posts/999", 404, "Không có bài đăng này"),
        ("GET", "/dashboard/downloads/nhatky.csv", 404, "“nhatky”"),
        ("GET", "/dashboard/photos/99999999999999999999", 404, "Không có trang này"),
        ("POST", "/dashboard/reports", 405, "không nhận biểu mẫu"),
        ("POST", "/dashboard", 405, "không nhận biểu mẫu"),  # the address without its slash
        ("GET", "/dashboard/logout", 405, "không mở trực tiếp"),
        # A form from the page she had open before signing in again: its token is old.
        ("POST", "/dashboard/logout", 403, "tải lại trang"),
    ]
    for method, path, expected, part in cases:
        status, said, allow = await _refused(bot, method, path, data={"csrf": "cũ"})
        assert status == expected and part in said, (path, status, said)
        assert (status == 405) == bool(allow), (path, allow)
    _, _, allow = await _refused(bot, "GET", "/dashboard/logout")
    assert allow == "POST", allow
    # A body that cannot be read (a broken multipart boundary): 400, also said in Vietnamese.
    broken = {"Content-Type": "multipart/form-data; boundary=--x"}
    status, said, _ = await _refused(
        bot, "POST", "/dashboard/logout", data=b"garbage", headers=broken
    )
    assert status == 400 and "Dữ liệu gửi lên bị hỏng" in said, said
    huge = {"csrf": "x", "content": "a" * 2_000_000}  # past any form of ours
    status, said, _ = await _refused(bot, "POST", "/dashboard/logout", data=huge)
    assert status == 413 and "rút ngắn" in said, said
