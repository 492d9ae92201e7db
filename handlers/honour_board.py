"""The monthly honour board: one text built from the month's commendations."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.texts import honour as texts
from models.honour import HonourLine


def previous_month(day: date) -> date:
    """The first day of the month before `day`'s."""
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def parse_month(value: str) -> date:
    """'2026-12' -> date(2026, 12, 1); ValueError with a readable reason otherwise."""
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"{value!r} is not a month like 2026-12") from None


def board_text(month: date, lines: list[HonourLine], tz: ZoneInfo) -> str:
    """The chat message: a title, one line per commendation, thanks."""
    out = [texts.BOARD_TITLE.format(month=month.strftime("%m/%Y"))]
    for c in lines:
        out.append(
            texts.BOARD_LINE.format(
                name=c.name,
                enterprise=c.enterprise or "-",
                reason=c.reason.rstrip("."),
                reports=c.reports,
                patrols=c.patrols,
            )
        )
    out.append(texts.BOARD_THANKS)
    return "\n".join(out)
