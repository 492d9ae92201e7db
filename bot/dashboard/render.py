"""Jinja2 for the dashboard and the printable digest: autoescape on, Vietnamese labels."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from functools import cache, partial
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from handlers import labels
from handlers.codes import incident_code
from handlers.digest import Digest, percent
from handlers.texts.engagement import away_label, tally_note
from handlers.texts.incidents import places_text


@cache
def environment() -> jinja2.Environment:
    """One environment per process; templates are package data next to this module."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.dashboard", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Every machine value a person sees goes through handlers/labels.py (issue 16.3).
    env.filters["cat"] = lambda k: labels.label(labels.CATEGORY, k)
    env.filters["sev"] = lambda k: labels.label(labels.SEVERITY, k)
    env.filters["state"] = lambda k: labels.label(labels.STATUS, k)
    env.filters["incident_state"] = lambda k: labels.label(labels.INCIDENT_STATUS, k)
    env.filters["outcome"] = lambda k: labels.label(labels.INCIDENT_STATE_AT, k)
    env.filters["task_state"] = lambda k: labels.label(labels.TASK_STATUS, k)
    env.filters["sent_state"] = lambda k: labels.label(labels.OUTBOX_STATUS, k)
    env.filters["role"] = lambda k: labels.label(labels.ROLE, k)
    env.filters["event"] = event_label
    env.filters["week"] = labels.week_label
    env.filters["code"] = incident_code
    env.filters["places"] = lambda p: places_text(p or []) or "–"
    env.filters["duration"] = duration
    env.globals["pct"] = percent
    env.globals["tally_note"] = tally_note  # " (62%, 1 nghỉ phép)", as the chat says it
    return env


def event_label(kind: str) -> str:
    """A timeline step's name; the bot's own messages are 'notice_<outbox kind>'."""
    if kind.startswith("notice_"):
        what = kind.removeprefix("notice_")
        return "Bot nhắc sự việc còn mở" if what == "reminder" else "Bot gửi cảnh báo"
    return labels.label(labels.EVENT, kind)


def duration(value: timedelta | None) -> str:
    """'45 phút', '3 giờ 20 phút', '2 ngày 4 giờ'; a dash when it has not happened."""
    if value is None:
        return "–"
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} ngày {hours} giờ" if hours else f"{days} ngày"
    if hours:
        return f"{hours} giờ {mins} phút" if mins else f"{hours} giờ"
    return f"{mins} phút"


def stylesheet() -> str:
    return resources.files("bot.dashboard").joinpath("static/style.css").read_text("utf-8")


def local_time(tz: ZoneInfo) -> Any:
    """A filter showing aware datetimes in the configured zone; None shows as a dash."""

    def fmt(value: datetime | None, pattern: str = "%d/%m/%Y %H:%M") -> str:
        return value.astimezone(tz).strftime(pattern) if value is not None else "–"

    return fmt


def render(name: str, tz: ZoneInfo, **context: Any) -> str:
    template = environment().get_template(name)
    return template.render(dt=local_time(tz), away=partial(away_label, tz=tz), **context)


def digest_html(digest: Digest, png: bytes | None) -> str:
    """A standalone page (CSS and chart inline) for `antt-bot digest --format html`."""
    chart = f"data:image/png;base64,{base64.b64encode(png).decode()}" if png else None
    return render(
        "digest.html",
        digest.tz,
        d=digest,
        chart_url=chart,
        standalone=True,
        css=stylesheet(),
        user=None,
        csrf="",
        nav="digest",
        text=digest.render_text(),
    )
