"""The coordinators' dashboard under /dashboard/ (SPEC.md 7; docs/dashboard.md)."""

from __future__ import annotations

from aiohttp import web

from bot import keys
from bot.dashboard import forget, honour, parks, posts, province, story, views
from bot.dashboard.auth import STATE, DashboardState


def install(app: web.Application) -> None:
    # The password is hashed once here; only the hash and its salt stay in the app.
    app[STATE] = DashboardState.from_settings(app[keys.SETTINGS])
    views.add_routes(app)
    story.add_routes(app)
    honour.add_routes(app)
    posts.add_routes(app)
    forget.add_routes(app)
    province.add_routes(app)
    parks.add_routes(app)
    views.add_fallback(app)  # last: the addresses none of the above has
