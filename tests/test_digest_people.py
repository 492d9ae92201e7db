"""Who the digest calls quiet, everywhere a coordinator reads it: the Zalo digest, /thongke in a
group, /chuahoatdong, the JSON and the XLSX of `antt-bot digest`, the chart and the dashboard.

The council week's cast (tests/council_week_cast.py) in week 50 (7-13/12/2026): chị Lan said
on 1/12 she is on leave until 10/12 and writes nothing; Hùng and Tuấn check in on Monday;
anh Quân (coordinator) writes, chị Hà (admin) and đồng chí Đức (coordinator) do not. Lan is
shown on leave, apart, and counted nowhere as inactive; the coordinators and the admin run
the council: they are not members, nor chased for their own silence (docs/digest.md).
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from bot.cli import main
from handlers.clock import FixedClock
from handlers.digest import build_digest
from handlers.digest_chart import build_figure
from models.roster import import_roster_csv
from tests.conftest import Bot
from tests.council_week_cast import GROUPS, HD, MONDAY, ROSTER, SHIFTS, at
from tests.fake_zalo import TOKEN, FakeZalo
from tests.test_council_week import Week, zalo

__all__ = ["zalo"]  # the fake Zalo server fixture, shared with the council week

WEEK = "2026-W50"
PASSWORD = "mật khẩu của hội đồng 2026"
# Members (role member): Hùng, Dung, Tuấn, Lan, Giang, Tuấn (Hansol), Phương, Em, Hoa, Inh,
# Kim = 11; Hùng and Tuấn wrote; Lan was on leave: 8 inactive.
QUIET = ["dung", "giang", "tuan2", "em", "phuong", "hoa", "inh", "kim"]


def next_week(day: str, hhmm: str) -> datetime:
    return at(day, hhmm) + timedelta(days=7)


async def lan_on_leave_week(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> Week:
    settings = make_settings(
        db=db_url,
        platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN},
        groups=GROUPS,
        shifts=SHIFTS,
        engagement={"holidays": []},
        dashboard={"password": PASSWORD},
    )
    bot: Bot = await make_bot(settings, clock=FixedClock(at("Mon", "06:00")))
    async with bot.sessions() as s, s.begin():
        assert (await import_roster_csv(s, ROSTER, MONDAY)).errors == []
    w = Week(bot, zalo, tmp_path, db_url)
    await w.says("lan", "nghỉ phép đến 10/12", at("Tue", "08:00"))
    for who in ("quan", "hung", "tuan"):
        await w.says(who, "có mặt", next_week("Mon", "07:00"))
    for who in ("quan", "lan", "hung", "tuan"):
        w.received(who)
    return w


async def digest_cli(w: Week, fmt: str) -> bytes:
    """`antt-bot digest --week 2026-W50 --format FMT` as the coordinator types it."""
    config = w.tmp_path / "digest.yaml"
    config.write_text(f"database:\n  url: {w.db_url}\n", encoding="utf-8")
    out = w.tmp_path / f"digest.{fmt}"
    argv = ["digest", "--week", WEEK, "--at", "2026-12-14T09:00", "--format", fmt, "-c"]
    assert await asyncio.to_thread(main, [*argv, str(config), "-o", str(out)]) == 0
    return out.read_bytes()


async def test_lan_on_leave_and_the_coordinators_are_never_counted_as_quiet(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await lan_on_leave_week(make_bot, make_settings, db_url, zalo, tmp_path)

    # Wednesday: anh Quân asks who has gone quiet. Lan is on leave, apart; no coordinator.
    await w.says("quan", "/chuahoatdong", next_week("Wed", "09:00"))
    (answer,) = w.received("quan")
    quiet, _, away = answer.partition("\n\n")
    assert quiet.startswith("💤 Chưa hoạt động trong 7 ngày qua (8 người):")
    assert not any(name in quiet for name in ("Hà", "Đức", "Quân", "Lan"))
    assert away == "🏖 Đang nghỉ phép (1 người):\n• chị Lan (May Việt) · đến 10/12"

    # Friday, /thongke in the council group: counts only, the same figures for the group.
    await w.says("quan", "/thongke", next_week("Fri", "10:00"), group=HD)
    (stats,) = w.received(HD)
    assert "👥 Tham gia: 2/8 thành viên" in stats  # the group's members: not Quân, Hà, Đức
    assert "💤 5 thành viên chưa hoạt động; điều phối viên sẽ liên hệ riêng." in stats
    assert "🏖 1 thành viên nghỉ phép." in stats and "Lan" not in stats

    # Monday 14/12: the weekly digest to anh Quân.
    await w.runs("weekly_digest", next_week("Mon", "08:05") + timedelta(days=7))
    digest = "\n".join(w.received("quan")).splitlines()
    assert any(line.startswith("👥 Tham gia: 2/11 thành viên (18%)") for line in digest)
    (quiet_line,) = [line for line in digest if line.startswith("💤")]
    assert quiet_line.startswith("💤 Chưa hoạt động (8): ")
    assert not any(name in quiet_line for name in ("Hà", "Đức", "Lan"))
    assert "🏖 Nghỉ phép (1): Lê Thị Lan (May Việt) đến 10/12" in digest

    # The JSON: 11 members = 2 active + 8 inactive + 1 on leave, in the park, the council
    # group and May Việt (Tuấn wrote, Giang did not, Lan was on leave).
    data = json.loads(await digest_cli(w, "json"))
    totals, ents = data["totals"], {e["name"]: e for e in data["enterprises"]}
    groups = {g["chat_id"]: g for g in data["groups"]}
    people = ("members", "active", "inactive", "on_leave")
    assert [totals[k] for k in people] == [11, 2, 8, 1]
    assert [groups[HD][k] for k in people] == [8, 2, 5, 1]
    assert [ents["May Việt"][k] for k in people] == [3, 1, 1, 1]
    assert [ents["BQL KCN"][k] for k in people] == [1, 0, 1, 0]  # Dung; not Quân, Hà
    assert [m["member_id"] for m in data["on_leave"]] == ["lan"]
    assert sorted(m["member_id"] for m in data["inactive_members"]) == sorted(QUIET)

    # The spreadsheet says 8 too, and lists the same eight people.
    book = load_workbook(io.BytesIO(await digest_cli(w, "xlsx")))
    rows = {r[0]: r[1] for r in book["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert rows["Chưa hoạt động"] == 8 and rows["Thành viên"] == 11
    assert book["Chưa hoạt động"].max_row == 1 + 8
    header = [c.value for c in book["Doanh nghiệp"][1]]
    may = next(r for r in book["Doanh nghiệp"].iter_rows(values_only=True) if r[0] == "May Việt")
    assert may[header.index("Chưa hoạt động")] == 1

    # The chart's May Việt panel shows Lan apart.
    async with w.bot.sessions() as s:
        built = await build_digest(s, w.bot.runtime.settings, WEEK, next_week("Mon", "09:00"))
    figure = build_figure(built)
    labels = [ax.get_xlabel() for ax in figure.axes]
    assert "1/3 người tham gia · 1 nghỉ phép" in labels

    # The dashboard's digest page: eight quiet people.
    page = await dashboard_page(w, f"/dashboard/digest/{WEEK}")
    assert "💤 Chưa hoạt động (8)" in page and "2/11" in page


async def dashboard_page(w: Week, path: str) -> str:
    """anh Quân signs in with his phone and the council's password, and opens `path`."""
    http = w.bot.http
    login = await (await http.get("/dashboard/login")).text()
    token = re.search(r'name="csrf" value="([^"]+)"', login)
    assert token is not None
    form = {"username": "0902000001", "password": PASSWORD, "csrf": token[1], "next": "/"}
    async with http.post("/dashboard/login", data=form, allow_redirects=False) as resp:
        assert resp.status in (302, 303)
    async with http.get(path) as resp:
        assert resp.status == 200
        return html.unescape(await resp.text())
