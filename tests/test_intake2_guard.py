"""The webhook's own error boundary: the same answers as the middleware gave, which the app
now adds only when some webhook route lacks it."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot import keys
from bot.app import error_boundary, webhooks_guarded
from bot.intake import GUARDED, bot_platform_webhook, local_parser
from tests.conftest import Bot, text_event


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, sqlite_url: str) -> Bot:
    started: Bot = await make_bot(make_settings(sqlite_url))
    return started


def _explode(*_args: Any, **_kw: Any) -> Any:
    raise RuntimeError("boom")


async def test_the_app_runs_no_middleware_when_every_webhook_is_guarded(bot: Bot) -> None:
    assert webhooks_guarded(bot.app)
    assert error_boundary not in bot.app.middlewares
    assert len(bot.app.middlewares) == 0


@pytest.mark.parametrize("path", ["/webhook/zalo-bot", "/webhook/local"])
async def test_an_unexpected_error_asks_for_a_redelivery(
    bot: Bot, path: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(bot.app[keys.INBOX], "submit", _explode)
    status, body = await bot.deliver(text_event("xin chào"), path=path)
    assert (status, body) == (503, {"ok": False, "error": "temporarily unavailable"})
    assert f"unhandled error on {path}" in caplog.text


async def test_http_errors_and_unknown_webhooks_keep_their_answers(bot: Bot) -> None:
    async with bot.http.get("/webhook/zalo-bot") as resp:
        assert resp.status == 405 and resp.headers["Allow"] == "POST"
    status, _ = await bot.deliver(text_event("x"), path="/webhook/nothing-here")
    assert status == 404
    status, body = await bot.deliver(text_event("x"), secret="wrong")
    assert status == 401 and body["ok"] is False


def test_an_unguarded_webhook_route_needs_the_middleware() -> None:
    app = web.Application()
    guarded = bot_platform_webhook("local", local_parser, check_secret=False)
    assert guarded in GUARDED
    app.router.add_route("*", "/webhook/local", guarded)
    app.router.add_get("/other", _plain)
    assert webhooks_guarded(app)
    app.router.add_route("*", "/webhook/other", _plain)
    assert not webhooks_guarded(app)


async def _plain(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def test_the_middleware_still_answers_for_an_unguarded_webhook() -> None:
    async def broken(_request: web.Request) -> web.Response:
        raise RuntimeError("boom")

    app = web.Application(middlewares=[error_boundary])
    app.router.add_route("*", "/webhook/other", broken)
    app.router.add_get("/other", broken)
    async with TestClient(TestServer(app)) as client:
        async with client.post("/webhook/other") as resp:
            assert resp.status == 503
            assert await resp.json() == {"ok": False, "error": "temporarily unavailable"}
        async with client.get("/other") as resp:
            assert resp.status == 500
