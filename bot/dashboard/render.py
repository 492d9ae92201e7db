"""Jinja2 for the dashboard and the printable digest: autoescape on, Vietnamese labels."""

from __future__ import annotations

import base64
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from handlers.digest import Digest, percent
from handlers.texts import digest as texts


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
    env.filters["cat"] = lambda k: texts.CATEGORY.get(k, k) if k else "–"
    env.filters["sev"] = lambda k: texts.SEVERITY.get(k, k) if k else "–"
    env.filters["state"] = lambda k: texts.STATUS.get(k, k) if k else "–"
    env.filters["role"] = lambda k: texts.ROLE.get(k, k)
    env.globals["pct"] = percent
    return env


def stylesheet() -> str:
    return resources.files("bot.dashboard").joinpath("static/style.css").read_text("utf-8")


def local_time(tz: ZoneInfo) -> Any:
    """A filter showing aware datetimes in the configured zone; None shows as a dash."""

    def fmt(value: datetime | None, pattern: str = "%d/%m/%Y %H:%M") -> str:
        return value.astimezone(tz).strftime(pattern) if value is not None else "–"

    return fmt


def render(name: str, tz: ZoneInfo, **context: Any) -> str:
    template = environment().get_template(name)
    return template.render(dt=local_time(tz), **context)


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
