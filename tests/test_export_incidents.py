"""The incidents export: what a council's monthly meeting goes through, one row per incident.

Friday morning at May Việt. Chị Phương reports a fire at the electrical cabinet of xưởng 2
in the enterprise group; anh Hải, without diacritics, reports the same fire minutes later.
Nobody takes it within ten minutes: the bot escalates once. Đồng chí Thảo (fire police,
coordinator) takes it with /xuly and closes it with /xong and a note. Anh Hải's smoke at kho
2 was a forklift ("báo nhầm"). Cường's stolen cable at kho 5 is still open. The coordinator
then exports the incidents with `antt-bot export incidents` (in process, on the SQLite file
or PostgreSQL the bot wrote) and downloads them from the dashboard.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from bot.cli import main
from handlers import labels
from handlers.clock import FixedClock
from models import exports
from models.roster import import_roster_csv
from models.tables import AuditLog
from tests.conftest import Bot, member_says
from tests.engagement_helpers import GROUPS, MAY

# 07:40 Friday 27 Nov 2026 in Hanoi.
MORNING = datetime(2026, 11, 27, 0, 40, tzinfo=UTC)
PASSWORD = "mật khẩu hội đồng 2026"
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Nguyễn Thị Thảo,0903000002,Cảnh sát PCCC,coordinator,gcouncil;gmayviet,đồng chí
u2,Trần Thị Phương,0901000002,May Việt,member,gcouncil;gmayviet,chị
u3,Lê Văn Cường,0901000003,May Việt,member,gmayviet,
u4,Nguyễn Văn Hải,0901000004,May Việt,member,gmayviet,anh
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
MENTION = "@Bot ANTT "
FILES = itertools.count()  # one file per export in a test
NOTE = "điện lực đã cắt điện, thay tủ điện mới"


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(db=db_url, groups=GROUPS, dashboard={"password": PASSWORD})
    b: Bot = await make_bot(settings, clock=FixedClock(MORNING))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, MORNING)).errors == []
    return b


async def say(bot: Bot, who: str, text: str, group: str | None = None) -> None:
    await member_says(bot, who, NAMES[who], text, group)


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def the_morning(bot: Bot) -> None:
    """SV1 a fire (two reporters, escalated once, taken, closed with a note), SV2 a false
    alarm, SV3 a theft nobody has taken yet."""
    await say(bot, "u1", "Chào bot")  # Thảo is reachable in private
    await say(bot, "u2", MENTION + "Cháy tủ điện xưởng 2, khói nhiều", group=MAY)
    assert "sự việc SV1" in said(bot, MAY)[-1]
    bot.clock.advance(timedelta(minutes=3))
    await say(bot, "u4", MENTION + "chay tu dien xuong 2, khoi den mu mit", group=MAY)
    assert "(SV1); bot đã ghép báo cáo số 2 vào" in said(bot, MAY)[-1]
    bot.clock.advance(timedelta(minutes=8))
    assert (await bot.runtime.run_job("incident_escalation")).queued >= 1
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u1", "/xuly SV1")
    bot.clock.advance(timedelta(minutes=40))
    await say(bot, "u1", f"/xong SV1 {NOTE}")
    assert said(bot, "u1")[-1].startswith("Đã đóng sự việc SV1")

    bot.clock.advance(timedelta(minutes=10))
    await say(bot, "u4", "Có khói bốc lên ở kho 2")
    bot.clock.advance(timedelta(minutes=4))
    await say(bot, "u4", "bao nham, khoi tu xe nang chay dau thoi")
    assert said(bot, "u4")[-1] == "Đã đánh dấu sự việc SV2 là báo nhầm."

    bot.clock.advance(timedelta(minutes=15))
    await say(bot, "u3", MENTION + "Mất trộm 2 cuộn dây điện ở kho 5", group=MAY)
    assert "sự việc SV3" in said(bot, MAY)[-1]


async def export(tmp_path: Path, db_url: str, *args: str) -> Path:
    """`antt-bot export incidents ARGS -o FILE` in process; the file it wrote."""
    config = tmp_path / "hoi-dong.yaml"
    config.write_text(f"database:\n  url: {db_url}\n", encoding="utf-8")
    fmt = args[args.index("--format") + 1] if "--format" in args else "jsonl"
    out = tmp_path / f"sv-{next(FILES)}.{fmt}"
    argv = ["export", "incidents", *args, "-c", str(config), "-o", str(out)]
    assert await asyncio.to_thread(main, argv) == 0
    return out


def table(path: Path) -> list[list[str]]:
    """A CSV the export wrote, its BOM left out."""
    return list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))


async def test_the_mornings_incidents_one_row_each_with_how_they_ended(
    bot: Bot, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await the_morning(bot)

    lines = (await export(tmp_path, db_url)).read_text("utf-8").splitlines()
    monkeypatch.setattr(exports, "INCIDENT_CHUNK", 2)  # a year of a park is read in chunks
    assert (await export(tmp_path, db_url)).read_text("utf-8").splitlines() == lines
    rows = [json.loads(line) for line in lines]
    assert list(rows[0]) == list(exports.COLUMNS["incidents"])
    fire, smoke, theft = rows
    assert [r["code"] for r in rows] == ["SV1", "SV2", "SV3"]
    assert (fire["category"], fire["severity"], fire["urgent"]) == ("fire", "medium", True)
    assert fire["status"] == "resolved" and fire["outcome"] == NOTE
    assert fire["reports"] == 2 and fire["reporters"] == ["Trần Thị Phương", "Nguyễn Văn Hải"]
    assert fire["first_reported_at"] == "2026-11-27T00:40:00+00:00"
    assert fire["last_reported_at"] == "2026-11-27T00:43:00+00:00"
    assert fire["handler"] == "Nguyễn Thị Thảo"
    assert fire["acknowledged_at"] == "2026-11-27T00:52:00+00:00"
    assert fire["resolved_at"] == "2026-11-27T01:32:00+00:00"
    assert fire["escalation_level"] == 1
    assert "xưởng 2" in json.dumps(fire["places"], ensure_ascii=False).casefold()
    # The false alarm: closed by its reporter, taken by nobody.
    assert (smoke["status"], smoke["reporters"], smoke["reports"]) == (
        "false_alarm",
        ["Nguyễn Văn Hải"],
        1,
    )
    assert smoke["handler"] is None and smoke["acknowledged_at"] is None
    assert smoke["resolved_at"] is not None and smoke["escalation_level"] == 0
    # Still open: no handler, no closing, no note.
    assert (theft["category"], theft["status"], theft["urgent"]) == ("theft", "reported", False)
    assert theft["handler"] is None and theft["resolved_at"] is None and theft["outcome"] is None

    # For people: the chat's and the pages' words, local times, the places as replies say them.
    header, *body = table(await export(tmp_path, db_url, "--format", "csv"))
    assert header == exports.headers("incidents")
    shown = [dict(zip(header, row, strict=True)) for row in body]
    assert shown[0]["Mã"] == "SV1" and shown[0]["Loại sự việc"] == labels.CATEGORY["fire"]
    assert shown[0]["Trạng thái"] == "đã xử lý xong" and shown[0]["Kết quả"] == NOTE
    assert shown[0]["Khẩn"] == "có" and shown[0]["Mức độ"] == "trung bình"
    assert shown[0]["Báo lúc"] == "2026-11-27 07:40:00"
    assert shown[0]["Xong lúc"] == "2026-11-27 08:32:00"
    assert shown[0]["Người báo"] == "Trần Thị Phương; Nguyễn Văn Hải"
    assert shown[0]["Người xử lý"] == "Nguyễn Thị Thảo" and shown[0]["Số lần chuyển cấp"] == "1"
    assert shown[0]["Nơi"].casefold().startswith("xưởng 2")
    assert [r["Trạng thái"] for r in shown] == ["đã xử lý xong", "báo nhầm", "chờ người nhận"]
    assert [r["Trạng thái"] for r in shown] == [
        labels.INCIDENT_STATUS[s] for s in ("resolved", "false_alarm", "reported")
    ]  # the incidents page's words
    assert shown[1]["Người xử lý"] == "" and shown[2]["Kết quả"] == ""

    semi = (await export(tmp_path, db_url, "--format", "csv", "--sep", "semicolon")).read_text(
        "utf-8-sig"
    )
    assert semi.startswith("Số;Mã;") and len(semi.splitlines()) == 4

    english = table(await export(tmp_path, db_url, "--format", "csv", "--lang", "en"))
    assert english[0][:3] == ["Id", "Code", "Category"]
    assert english[1][2:6] == ["fire", "medium", "True", "resolved"]

    book = openpyxl.load_workbook(await export(tmp_path, db_url, "--format", "xlsx"))
    sheet = book.active
    assert sheet is not None and sheet.title == "Sự việc"
    head, *cells = sheet.iter_rows(values_only=True)
    assert list(head) == exports.headers("incidents")
    assert [(c[1], c[head.index("Trạng thái")]) for c in cells] == [
        ("SV1", "đã xử lý xong"),
        ("SV2", "báo nhầm"),
        ("SV3", "chờ người nhận"),
    ]
    assert cells[0][head.index("Xong lúc")] == datetime(2026, 11, 27, 8, 32)

    # --since/--until bound the first report: SV2 (08:42) and SV3 (09:01) from 08:40 on.
    later = await export(tmp_path, db_url, "--since", "2026-11-27T08:40")
    assert [json.loads(x)["code"] for x in later.read_text("utf-8").splitlines()] == ["SV2", "SV3"]
    before = await export(tmp_path, db_url, "--until", "2026-11-27T08:40")
    assert [json.loads(x)["code"] for x in before.read_text("utf-8").splitlines()] == ["SV1"]


async def test_the_dashboard_offers_the_incidents_to_coordinators_only(bot: Bot) -> None:
    await the_morning(bot)
    # Signed out: the login page, and nothing leaves.
    async with bot.http.get("/dashboard/downloads/incidents.csv", allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"].startswith("/dashboard/login")

    async with bot.http.get("/dashboard/login") as resp:
        token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert token is not None
    form = {"username": "0903000002", "password": PASSWORD, "csrf": token[1], "next": "/"}
    async with bot.http.post("/dashboard/login", data=form, allow_redirects=False) as resp:
        assert resp.status == 303

    async with bot.http.get("/dashboard/downloads") as resp:
        page = await resp.text()
    menu = re.search(r'<a href="/dashboard/incidents"[^>]*>([^<]+)</a>', page)
    assert menu is not None and menu[1] == "Sự việc"
    row = re.search(r"<tr><td>([^<]+)</td><td><a href=\"/dashboard/downloads/incidents\.xlsx", page)
    assert row is not None and row[1] == menu[1]  # the export named as the page it mirrors

    async with bot.http.get("/dashboard/downloads/incidents.csv?sep=semicolon") as resp:
        assert resp.status == 200 and "antt-incidents-" in resp.headers["Content-Disposition"]
        text = (await resp.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == exports.headers("incidents")
    assert [(r[1], r[5]) for r in rows[1:]] == [
        ("SV1", "đã xử lý xong"),
        ("SV2", "báo nhầm"),
        ("SV3", "chờ người nhận"),
    ]
    async with bot.http.get(
        "/dashboard/downloads/incidents.xlsx", params={"since": "2026-11-28"}
    ) as resp:
        assert resp.status == 200
        book = openpyxl.load_workbook(io.BytesIO(await resp.read()))
    sheet = book.active
    assert sheet is not None and sheet.title == "Sự việc" and sheet.max_row == 1
    async with bot.sessions() as s:
        logged = (await s.scalars(select(AuditLog).where(AuditLog.action == "download"))).all()
    assert [(a.actor, a.detail["kind"], a.detail["format"]) for a in logged] == [
        (logged[0].actor, "incidents", "csv"),
        (logged[0].actor, "incidents", "xlsx"),
    ]


async def test_each_park_exports_its_own_incidents(
    make_bot: Any, db_url: str, tmp_path: Path
) -> None:
    """Bình Xuyên's fire and Khai Quang's theft, same morning: chị Mai, Khai Quang's chair,
    gets only her park's incident, from the command line and from the dashboard."""
    from tests import test_councils_e2e as e2e

    settings = e2e.two_parks(db_url, dashboard={"password": e2e.PASSWORD})
    parks: Bot = await make_bot(settings, clock=FixedClock(e2e.TUESDAY))
    await e2e.say(
        parks, "u_bx_lan", "Cháy lớn ở kho vải xưởng 2, cần hỗ trợ gấp!!!", "g_bx_council"
    )
    await e2e.say(parks, "u_kq_nam", "mat trom day dien o cong 5", "g_kq_council")

    config = str(e2e.two_parks_file(tmp_path, db_url))
    out = tmp_path / "kq.jsonl"
    argv = ["export", "incidents", "-c", config, "-o", str(out)]
    assert await asyncio.to_thread(main, argv) == 2  # which park's? It must be named.
    assert await asyncio.to_thread(main, [*argv, "--council", "khai-quang"]) == 0
    rows = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert [(r["category"], r["reporters"]) for r in rows] == [("theft", ["Hoàng Văn Nam"])]

    assert await e2e.login(parks, "0901000201") == 303
    async with parks.http.get("/dashboard/downloads/incidents.csv") as resp:
        assert resp.status == 200
        text = (await resp.read()).decode("utf-8-sig")
    assert "Hoàng Văn Nam" in text and f",SV2,{labels.CATEGORY['theft']}," in text
    assert "Trần Thị Lan" not in text and "xưởng 2" not in text


def test_export_help_names_the_incidents(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["export", "--help"])
    assert done.value.code == 0
    assert "messages, reports, incidents, checkins" in " ".join(capsys.readouterr().out.split())
