"""A council that reads its week on Sunday (digest.weekday: sun): which week, and when it comes.

The fire-safety cluster of tests/test_week_firesafety.py, anh Quân its coordinator; Sunday is
its rest day (engagement.rest_days), and the council chose it for the digest all the same.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from handlers.clock import FixedClock
from tests import test_council_week
from tests.conftest import Bot
from tests.fake_zalo import FakeZalo
from tests.test_week_firesafety import DRILL, FireWeek, at, cluster_settings, start_week

zalo = test_council_week.zalo  # the fake Zalo server on a real port, as the council week uses


async def cluster(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, time: str
) -> FireWeek:
    """The cluster with its digest set for Sunday at `time`; the drill notice of Monday 30/11."""
    settings = cluster_settings(
        make_settings, db_url, zalo, digest={"weekday": "sun", "time": time}
    )
    bot: Bot = await make_bot(settings, clock=FixedClock(at("Mon", "08:00") - timedelta(days=7)))
    w = await start_week(bot, zalo, tmp_path, db_url)
    await w.says("quan", "chào bot", at("Mon", "07:30"))
    await w.says("quan", f"/thongbao {DRILL}", at("Mon", "08:00"))
    await w.says("lan", "e nhận r a", at("Mon", "08:12"))
    w.received("quan")
    return w


def digests(texts: list[str]) -> list[str]:
    return [t.split("\n")[0] for t in texts if t.startswith("📊")]


async def test_sunday_evening_reports_the_week_ending_and_goes_out_that_evening(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await cluster(make_bot, make_settings, db_url, zalo, tmp_path, "19:00")
    await w.runs("weekly_digest", at("Sun", "18:45"))
    assert digests(w.received("quan")) == []  # not before the time the council chose
    # 19:15: this week, up to now, on the rest day itself (the council asked for Sunday).
    await w.runs("weekly_digest", at("Sun", "19:15"))
    [digest] = w.received("quan")
    assert digest.startswith("📊 Tổng kết tuần 49 (30/11–06/12/2026), tính đến 19:15 06/12\n")
    assert "📣 1 thông báo · đã xác nhận 1/9 (11%)" in digest
    # Monday morning: the week was told; nothing again, and not last week's either.
    await w.runs("weekly_digest", at("Sun", "08:05") + timedelta(days=1))
    assert w.received("quan") == []


async def test_a_sunday_evening_digest_missed_by_an_outage_comes_on_monday(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await cluster(make_bot, make_settings, db_url, zalo, tmp_path, "19:00")
    # The bot was down from Sunday noon; it is back on Monday 7/12 at 07:30.
    await w.runs("weekly_digest", at("Sun", "07:30") + timedelta(days=1))
    [digest] = w.received("quan")
    assert digest.startswith("📊 Tổng kết tuần 49 (30/11–06/12/2026)\n")


async def test_a_sunday_morning_digest_reports_last_week_on_sunday(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """Before the working day ends the week is not over: Sunday 09:00 tells the week before."""
    w = await cluster(make_bot, make_settings, db_url, zalo, tmp_path, "09:00")
    await w.runs("weekly_digest", at("Sun", "09:00"))
    assert digests(w.received("quan")) == ["📊 Tổng kết tuần 48 (23/11–29/11/2026)"]


async def test_a_sunday_digest_past_the_quiet_hour_waits_for_the_morning(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """Sunday 22:00 is in the quiet hours (21:30-07:00): the choice of Sunday is no licence
    to wake anyone; it comes at 07:00 on Monday."""
    w = await cluster(make_bot, make_settings, db_url, zalo, tmp_path, "22:00")
    await w.runs("weekly_digest", at("Sun", "22:00"))
    assert w.received("quan") == []
    await w.wakes(at("Sun", "07:00") + timedelta(days=1))
    assert digests(w.received("quan")) == [
        "📊 Tổng kết tuần 49 (30/11–06/12/2026), tính đến 22:00 06/12"
    ]


async def test_a_monday_digest_queued_on_sunday_still_waits_for_monday(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """The rest day holds a digest set for another day (queued late by a backlog)."""
    settings = cluster_settings(
        make_settings, db_url, zalo, digest={"weekday": "sat", "time": "10:00"}
    )
    bot: Bot = await make_bot(settings, clock=FixedClock(at("Mon", "08:00") - timedelta(days=7)))
    w = await start_week(bot, zalo, tmp_path, db_url)
    await w.says("quan", "chào bot", at("Mon", "07:30"))
    w.received("quan")
    await w.runs("weekly_digest", at("Sun", "10:00"))  # Saturday's run was missed
    assert w.received("quan") == []
    await w.wakes(at("Sun", "07:00") + timedelta(days=1))
    assert digests(w.received("quan")) == ["📊 Tổng kết tuần 48 (23/11–29/11/2026)"]
