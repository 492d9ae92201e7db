"""The programme's dashboard forms as a council uses them (issue 18): coordinators keep the
propaganda calendar on the dashboard (same rules as `posts import`), an admin erases a member's
personal data after typing their name, and commendations export like every other kind. Through
the real HTTP server, a real SQLite file the CLI opens too, the posts job and the webhook."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from handlers.clock import FixedClock
from models.roster import import_roster_csv
from models.tables import AuditLog, Member, Post
from tests.browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM
from tests.conftest import Bot, text_event
from tests.engagement_helpers import COUNCIL, GROUPS, HANSOL, MAY, NAMES, import_roster
from tests.test_privacy import assert_no_trace, cli

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TUE = datetime(2026, 12, 1, 10, 0, tzinfo=VN)
PASSWORD = "mật khẩu đủ dài 2026"
QUAN, BINH, CUONG = "u1", "u2", "u3"  # the coordinator, two members of May Việt
ADMIN = "u11"  # Nguyễn Thu Hằng, the park's admin
NAMES = {**NAMES, ADMIN: "Nguyễn Thu Hằng"}
BINH_NAME, BINH_PHONE = NAMES[BINH], "0901000002"
QUIZ = {
    "date": "2026-12-02",
    "time": "09:00",
    "groups": MAY,
    "text": "Khi thấy cháy hãy hô to và gọi ngay số báo cháy.",
    "ack": "x",
    "question": "Số điện thoại báo cháy là?",
    "answers": "114; một trăm mười bốn",
}


@pytest.fixture
async def park(make_bot: Any, make_settings: Any, tmp_path: Path) -> Bot:
    """A council with an admin on a SQLite file that `antt-bot` opens too."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}"
    config = {"database": {"url": url}, "groups": GROUPS}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    settings = make_settings(db=url, groups=GROUPS, dashboard={"password": PASSWORD})
    bot: Bot = await make_bot(settings, clock=FixedClock(TUE))
    await import_roster(bot, TUE)
    admin = "member_id,name,phone,enterprise,role,groups\n"
    admin += f"{ADMIN},{NAMES[ADMIN]},0901000011,Ban quản lý KCN,admin,{COUNCIL}\n"
    async with bot.sessions() as s, s.begin():
        assert (await import_roster_csv(s, admin, TUE)).created == 1
    return bot


async def say(bot: Bot, member: str, text: str, chat: str | None = None, quote: str = "") -> None:
    """A member's message through the webhook: privately, or in a group by @mention/quote."""
    in_group = chat is not None
    body = text_event(
        f"@Bot ANTT {text}" if in_group and not quote else text,
        sender=member,
        name=NAMES[member],
        chat=chat or member,
        group=in_group,
        at=bot.clock.now(),
        quote=quote or None,
    )
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def login(bot: Bot, member: str) -> None:
    bot.http.session.cookie_jar.clear()
    async with bot.http.get("/dashboard/login") as resp:
        token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert token is not None
    phone = f"09010000{member[1:]:0>2}"
    data = {"username": phone, "password": PASSWORD, "csrf": token[1], "next": "/dashboard/"}
    async with bot.http.post("/dashboard/login", data=data, allow_redirects=False) as resp:
        assert resp.status == 303


async def csrf_of(bot: Bot, path: str) -> str:
    async with bot.http.get(path) as resp:
        assert resp.status == 200, path
        token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert token is not None
    return token[1]


async def post_form(bot: Bot, path: str, form: dict[str, str]) -> tuple[int, str, str]:
    """POST the form with the session's token: (status, page text, redirect target)."""
    data = {**form, "csrf": await csrf_of(bot, "/dashboard/posts")}
    async with bot.http.post(path, data=data, allow_redirects=False) as resp:
        return resp.status, await resp.text(), resp.headers.get("Location", "")


async def audit(bot: Bot, action: str) -> list[AuditLog]:
    async with bot.sessions() as s:
        rows = await s.scalars(select(AuditLog).where(AuditLog.action == action))
        return list(rows)


# --- the calendar form ----------------------------------------------------------------------


async def test_coordinator_plans_a_quiz_on_the_dashboard_and_members_answer_it(
    park: Bot, tmp_path: Path
) -> None:
    await login(park, QUAN)
    async with park.http.get("/dashboard/posts") as resp:
        assert "Chưa có bài nào trong lịch." in await resp.text()
    async with park.http.post("/dashboard/posts/new", data=QUIZ) as resp:
        assert resp.status == 403  # no CSRF token

    # Each mistake is named by its box, in Vietnamese, and what was typed stays on the form.
    status, html, _ = await post_form(park, "/dashboard/posts/new", {**QUIZ, "time": "9h"})
    assert status == 400
    assert "Ngày giờ đăng: &#39;2026-12-02 9h&#39; không đúng dạng YYYY-MM-DD HH:MM." in html
    assert "Khi thấy cháy hãy hô to" in html
    status, html, _ = await post_form(park, "/dashboard/posts/new", {**QUIZ, "answers": " ; "})
    assert status == 400
    assert "Đáp án chấp nhận: câu hỏi cần ít nhất một đáp án được chấp nhận." in html
    status, html, _ = await post_form(park, "/dashboard/posts/new", {**QUIZ, "groups": "gkhac"})
    assert status == 400 and "Nhóm nhận: gkhac không có trong các nhóm đã cấu hình." in html
    status, html, _ = await post_form(park, "/dashboard/posts/new", {**QUIZ, "text": "  "})
    assert status == 400 and "Nội dung: chưa có nội dung bài đăng." in html
    status, html, _ = await post_form(park, "/dashboard/posts/new", {**QUIZ, "question": "a\x00"})
    assert status == 400 and "Câu hỏi: có ký tự điều khiển không hợp lệ" in html
    # The CSV import says the same thing about the same mistake: one validator.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "at,groups,text,question,answers\n2026-12-02 9h,gmayviet,Bài,,\n", encoding="utf-8"
    )
    proc = cli("posts", "import", str(bad), cwd=tmp_path)
    assert proc.returncode == 1
    assert "line 2: at: '2026-12-02 9h' không đúng dạng YYYY-MM-DD HH:MM" in proc.stderr

    two_lines = {**QUIZ, "text": f"{QUIZ['text']}\r\nGọi 114 ngay."}  # a textarea sends CRLF
    status, _, where = await post_form(park, "/dashboard/posts/new", two_lines)
    assert (status, where) == (303, "/dashboard/posts?done=added")
    status, html, _ = await post_form(park, "/dashboard/posts/new", QUIZ)
    assert status == 400 and "đã có bài khác đăng vào giờ này cho các nhóm này" in html
    async with park.sessions() as s:
        (post,) = (await s.scalars(select(Post))).all()
    assert (post.groups, post.ack, post.answers) == ([MAY], True, ["114", "một trăm mười bốn"])
    assert post.text == f"{QUIZ['text']}\nGọi 114 ngay."

    # Moved to 10:00 on the edit form; a second post is added and cancelled.
    status, _, where = await post_form(
        park, f"/dashboard/posts/{post.id}", {**two_lines, "time": "10:00"}
    )
    assert (status, where) == (303, "/dashboard/posts?done=saved")
    spare = {**QUIZ, "date": "2026-12-04", "groups": HANSOL, "question": "", "answers": ""}
    assert (await post_form(park, "/dashboard/posts/new", spare))[0] == 303
    async with park.sessions() as s:
        spare_pk = await s.scalar(select(Post.id).where(Post.groups == [HANSOL]))
    status, _, where = await post_form(park, f"/dashboard/posts/{spare_pk}/cancel", {})
    assert (status, where) == (303, "/dashboard/posts?done=cancelled")
    async with park.http.get("/dashboard/posts?done=cancelled") as resp:
        html = await resp.text()
    assert "Đã huỷ bài." in html and "02/12/2026 10:00" in html and "Tổ bảo vệ May Việt" in html
    assert "04/12/2026" not in html
    (update,) = await audit(park, "post.update")
    assert update.actor.startswith(NAMES[QUAN]) and list(update.detail["changes"]) == ["slot", "at"]
    assert len(await audit(park, "post.create")) == 2 and len(await audit(park, "post.cancel")) == 1

    # The posts job publishes it once at its time; the members answer by quote-reply.
    for minutes in (0, 5):
        park.clock.set(datetime(2026, 12, 2, 10, minutes, tzinfo=VN))
        await park.runtime.run_job("posts")
        await park.drain()
    [published] = park.store.bot_lines(MAY)
    assert published.text.startswith("Khi thấy cháy hãy hô to")
    assert "❓ Câu hỏi: Số điện thoại báo cháy là?" in published.text
    await say(park, BINH, "114 ạ", MAY, quote=published.message_id)
    assert said(park, MAY)[-1] == "Đúng rồi, cảm ơn anh/chị Bình! 👏"
    await say(park, CUONG, "mot tram muoi bon", MAY, quote=published.message_id)
    assert said(park, MAY)[-1] == "Đúng rồi, cảm ơn anh/chị Cường! 👏"

    # What members saw is not rewritten: no edit link, and a forged edit or cancel is refused.
    await login(park, QUAN)  # the next day: yesterday's session has expired
    async with park.http.get("/dashboard/posts") as resp:
        html = await resp.text()
    assert f'href="/dashboard/posts/{post.id}"' not in html and "đã đăng 02/12/2026" in html
    status, html, _ = await post_form(park, f"/dashboard/posts/{post.id}", QUIZ)
    assert status == 400 and "bài đã đăng, không sửa được nữa" in html
    status, html, _ = await post_form(park, f"/dashboard/posts/{post.id}/cancel", {})
    assert status == 409 and "bài đã đăng, không huỷ được nữa" in html
    async with park.http.get("/dashboard/posts/999999") as resp:
        assert resp.status == 404


# --- forgetting a member from the dashboard -------------------------------------------------


async def test_a_post_dated_too_far_back_to_ever_go_out_is_refused(park: Bot) -> None:
    """Typed 2020 for 2026: the form said "chờ đăng" but the job never posts it (LATE_LIMIT)."""
    await login(park, QUAN)
    old = {**QUIZ, "date": "2020-12-02"}
    status, html, _ = await post_form(park, "/dashboard/posts/new", old)
    assert status == 400
    assert "Ngày giờ đăng: đã qua hơn 10 ngày, bot sẽ không đăng bài này nữa." in html
    recent = {**QUIZ, "date": "2026-11-30"}  # a day ago: it goes out at the next run
    assert (await post_form(park, "/dashboard/posts/new", recent))[0] == 303


async def test_admin_erases_a_member_after_typing_her_name_and_no_trace_is_left(
    park: Bot, tmp_path: Path
) -> None:
    await say(park, BINH, f"Cháy ở kho 3, gọi em số {BINH_PHONE}")
    await say(park, CUONG, f"điểm danh ca 1, cùng chị {BINH_NAME}", MAY)
    await say(park, QUAN, f"/khen @Bình chị {BINH_NAME} báo cháy kho 3 kịp thời", COUNCIL)
    assert any("Gương người tốt" in t for t in said(park, COUNCIL))
    held = yaml.safe_load(cli("members", "export-data", BINH, cwd=tmp_path).stdout)
    assert held["commendations"][0]["reason"].endswith("báo cháy kho 3 kịp thời")
    async with park.sessions() as s:
        binh = await s.scalar(select(Member).where(Member.member_id == BINH))
    assert binh is not None
    forget_url = f"/dashboard/members/{binh.id}/forget"

    await login(park, QUAN)  # a coordinator cannot erase anyone
    async with park.http.get(forget_url) as resp:
        assert resp.status == 403
    token = await csrf_of(park, "/dashboard/members")
    async with park.http.post(forget_url, data={"csrf": token, "confirm": BINH_NAME}) as resp:
        assert resp.status == 403

    await login(park, ADMIN)
    async with park.http.get(f"/dashboard/members/{binh.id}") as resp:
        assert f'href="{forget_url}">Xoá dữ liệu cá nhân' in await resp.text()
    token = await csrf_of(park, forget_url)
    async with park.http.post(forget_url, data={"confirm": BINH_NAME}) as resp:
        assert resp.status == 403  # no CSRF token
    async with park.http.post(forget_url, data={"csrf": token, "confirm": "Trần Thị"}) as resp:
        assert resp.status == 400
        assert "không khớp với thành viên này; chưa xoá gì" in await resp.text()
    assert await audit(park, "member.forget") == []
    async with park.http.post(
        forget_url, data={"csrf": token, "confirm": " trần thị  BÌNH "}, allow_redirects=False
    ) as resp:
        assert (resp.status, resp.headers["Location"]) == (
            303,
            f"/dashboard/members?forgotten={binh.id}",
        )
    (row,) = await audit(park, "member.forget")
    assert row.actor.startswith(NAMES[ADMIN]) and row.detail["member_pk"] == binh.id
    await assert_no_trace(park, tmp_path, BINH_NAME, BINH_PHONE)
    async with park.http.get("/dashboard/honour?month=2026-12") as resp:
        html = await resp.text()
    assert f"Thành viên đã xoá #{binh.id}" in html and "báo cháy kho 3 kịp thời" in html


async def test_the_member_id_also_confirms_and_the_cli_does_the_same(
    park: Bot, tmp_path: Path
) -> None:
    await say(park, CUONG, "có mặt")
    await login(park, ADMIN)
    async with park.sessions() as s:
        cuong = await s.scalar(select(Member).where(Member.member_id == CUONG))
    assert cuong is not None
    url = f"/dashboard/members/{cuong.id}/forget"
    token = await csrf_of(park, url)
    async with park.http.post(url, data={"csrf": token, "confirm": CUONG}) as resp:
        assert "Đã xoá dữ liệu cá nhân của thành viên." in await resp.text()
    proc = cli("members", "export-data", CUONG, cwd=tmp_path)
    assert proc.returncode == 0 and NAMES[CUONG] not in proc.stdout
    assert "0901000003" not in proc.stdout


async def test_hostile_ids_and_bodies_on_the_new_forms_answer_404_or_400(park: Bot) -> None:
    await login(park, ADMIN)
    token = await csrf_of(park, "/dashboard/posts")
    huge = "9" * 25  # no BIGINT holds it
    for path in (f"/dashboard/posts/{huge}", f"/dashboard/members/{huge}/forget"):
        async with park.http.get(path) as resp:
            assert resp.status == 404, path
    for path in (f"/dashboard/posts/{huge}/cancel", f"/dashboard/members/{huge}/forget"):
        async with park.http.post(path, data={"csrf": token, "confirm": "x"}) as resp:
            assert resp.status == 404, path
    async with park.http.post(
        "/dashboard/posts/new",
        data=b"--x\r\nbroken",
        headers={"Content-Type": "multipart/form-data; boundary=y"},
    ) as resp:
        assert resp.status in (400, 403)  # unreadable: never a 500
    assert await audit(park, "post.create") == []


# --- commendations export -------------------------------------------------------------------


async def test_commendations_export_in_every_format_and_on_the_downloads_page(
    park: Bot, tmp_path: Path
) -> None:
    await say(park, QUAN, "/khen @Cường tuần tra đêm phát hiện cửa kho mở", COUNCIL)
    park.clock.set(TUE + timedelta(days=1))
    await say(park, QUAN, "/khen @Bình báo cháy kịp thời", COUNCIL)

    proc = cli("export", "--help", cwd=tmp_path)
    assert "commendations" in proc.stdout
    proc = cli("export", "commendations", "--format", "jsonl", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [yaml.safe_load(x) for x in proc.stdout.splitlines()]
    assert [(x["member_id"], x["by_id"]) for x in lines] == [(CUONG, QUAN), (BINH, QUAN)]
    assert lines[0]["reason"] == "tuần tra đêm phát hiện cửa kho mở"
    assert lines[0]["name"] == NAMES[CUONG] and lines[0]["chat_id"] == COUNCIL
    assert set(lines[0]) == {
        "id", "member_id", "name", "enterprise", "reason", "chat_id", "by_id", "by_name",
        "created_at",
    }  # fmt: skip
    proc = cli("export", "commendations", "--format", "csv", "--since", "2026-12-02", cwd=tmp_path)
    header, *rows = proc.stdout.lstrip("\ufeff").splitlines()
    assert header.startswith("Số,Mã thành viên,Họ tên,Doanh nghiệp,Lý do,")
    assert "Người khen" in header and "Khen lúc" in header
    assert len(rows) == 1 and "báo cháy kịp thời" in rows[0] and NAMES[QUAN] in rows[0]

    await login(park, QUAN)
    async with park.http.get("/dashboard/downloads") as resp:
        assert "/dashboard/downloads/commendations.xlsx" in await resp.text()
    async with park.http.get("/dashboard/downloads/commendations.csv") as resp:
        body = await resp.text()
    assert "Lý do" in body and "tuần tra đêm phát hiện cửa kho mở" in body
    downloads = await audit(park, "download")
    assert [a.detail["kind"] for a in downloads] == ["commendations"]


# --- in a real browser ----------------------------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.mark.browser
async def test_in_chromium_plan_a_quiz_then_erase_a_member(park: Bot) -> None:
    """Quân adds a quiz post (a missing answer is named first), moves it an hour; Hằng, the
    admin, erases Bình after typing her name. Phone-sized, as coordinators use it."""
    if not HAVE_CHROMIUM:
        pytest.skip(f"Debian chromium not installed at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    await say(park, BINH, f"Cháy ở kho 3, gọi em số {BINH_PHONE}")
    base = str(park.http.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        pg = await context.new_page()
        try:
            await sign_in(pg, base, "0901000001")
            await pg.click("nav >> text=Tuyên truyền")
            await pg.click("text=+ Thêm bài")
            await pg.fill("input[name=date]", "2026-12-02")
            await pg.fill("input[name=time]", "09:00")
            await pg.check("input[name=groups][value=gmayviet]")
            await pg.fill("textarea[name=text]", QUIZ["text"])
            await pg.check("input[name=ack]")
            await pg.fill("input[name=question]", QUIZ["question"])
            await pg.click("form button[type=submit] >> text=Lưu")
            error = pg.locator("p.error")
            assert "Đáp án chấp nhận: câu hỏi cần ít nhất" in await error.inner_text()
            assert await pg.input_value("textarea[name=text]") == QUIZ["text"]
            await pg.fill("input[name=answers]", "114; một trăm mười bốn")
            await pg.click("form button[type=submit] >> text=Lưu")
            await pg.wait_for_url(f"{base}/dashboard/posts?done=added")
            row = pg.locator("#posts tbody tr", has_text="Số điện thoại báo cháy là?")
            assert "02/12/2026 09:00" in await row.inner_text()
            await row.locator("text=Sửa / huỷ").click()
            await pg.fill("input[name=time]", "10:00")
            await pg.click("form button[type=submit] >> text=Lưu")
            await pg.wait_for_url(f"{base}/dashboard/posts?done=saved")
            assert "02/12/2026 10:00" in await row.inner_text()

            await context.clear_cookies()
            await sign_in(pg, base, "0901000011")
            await pg.goto(f"{base}/dashboard/members")
            await pg.locator("#members tr", has_text=BINH_NAME).locator("text=Sửa").click()
            await pg.click("text=Xoá dữ liệu cá nhân")
            await pg.fill("input[name=confirm]", "Bình")
            await pg.click("text=Xoá vĩnh viễn")
            assert "không khớp" in await pg.locator("p.error").inner_text()
            await pg.fill("input[name=confirm]", BINH_NAME)
            await pg.click("text=Xoá vĩnh viễn")
            await pg.wait_for_url(re.compile(r".*/dashboard/members\?forgotten=\d+"))
            html = await pg.content()
            assert "Đã xoá dữ liệu cá nhân của thành viên." in html
            assert BINH_NAME not in html and BINH_PHONE not in html
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            await pg.screenshot(path=str(ARTIFACTS / "dashboard-forms-failure.png"), full_page=True)
            raise
        finally:
            await browser.close()
    (row_audit,) = await audit(park, "member.forget")
    assert row_audit.actor.startswith(NAMES[ADMIN])


async def sign_in(pg: Any, base: str, phone: str) -> None:
    await pg.goto(f"{base}/dashboard/")
    await pg.fill("input[name=username]", phone)
    await pg.fill("input[name=password]", PASSWORD)
    await pg.click("button[type=submit]")
    await pg.wait_for_url(f"{base}/dashboard/")
