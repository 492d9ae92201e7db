"""A real HTTP server on port 0 playing the Zalo OA API and its OAuth v4 endpoint (STYLE.md 14).

Access tokens are checked on every send; refresh tokens are single-use, as at Zalo, so a
refresh spent twice shows up as an error as well as in `refresh_calls`."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

APP_ID = "360846524940903967"
APP_SECRET = "app-secret-for-tests"


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeOA:
    """Records every call; `script` holds (status, body) answers for the next message calls."""

    app_secret: str = APP_SECRET
    access_tokens: set[str] = field(default_factory=lambda: {"A1"})
    refresh_tokens: set[str] = field(default_factory=lambda: {"R1"})
    codes: set[str] = field(default_factory=set)
    expires_in: Any = "90000"
    refresh_delay: float = 0.0
    calls: list[Call] = field(default_factory=list)
    token_calls: list[dict[str, str]] = field(default_factory=list)
    script: list[tuple[int, Any]] = field(default_factory=list)
    # Answers for one recipient (user or group id): sends to several chats run at once, so a
    # shared `script` would not say which chat gets which answer.
    script_for: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    server: TestServer | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _tokens: itertools.count[int] = field(default_factory=lambda: itertools.count(2))

    @property
    def base(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    @property
    def refresh_calls(self) -> int:
        return sum(1 for c in self.token_calls if c.get("grant_type") == "refresh_token")

    def sent(self, path: str = "/v3.0/oa/message/cs") -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.path == path]

    async def message(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        self.calls.append(Call(request.path, dict(request.headers), body))
        if request.headers.get("access_token") not in self.access_tokens:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        recipient = body.get("recipient") or {}
        for chat in recipient.values():
            if self.script_for.get(str(chat)):
                status, answer = self.script_for[str(chat)].pop(0)
                return web.json_response(answer, status=status)
        if self.script:
            status, answer = self.script.pop(0)
            return web.json_response(answer, status=status)
        data = {"message_id": f"{next(self._ids):032x}", **recipient}
        return web.json_response({"error": 0, "message": "Success", "data": data})

    async def token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_calls.append(form)
        if request.headers.get("secret_key") != self.app_secret or form.get("app_id") != APP_ID:
            return web.json_response({"error": -14002, "error_name": "Invalid app secret"})
        grant = form.get("grant_type")
        if grant == "refresh_token":
            presented = form.get("refresh_token", "")
            if presented not in self.refresh_tokens:
                return web.json_response(
                    {
                        "error": -14014,
                        "error_name": "Invalid refresh token",
                        "error_description": "refresh token is invalid",
                    }
                )
            self.refresh_tokens.discard(presented)  # single use
        elif grant == "authorization_code":
            if form.get("code") not in self.codes:
                return web.json_response({"error": -14019, "error_name": "Invalid code"})
            self.codes.discard(form["code"])
        else:
            return web.json_response({"error": -14003, "error_name": "Invalid grant type"})
        await asyncio.sleep(self.refresh_delay)  # widens the window a racing refresh would use
        n = next(self._tokens)
        access, refresh = f"A{n}", f"R{n}"
        self.access_tokens = {access}  # the old access token stops working
        self.refresh_tokens.add(refresh)
        return web.json_response(
            {"access_token": access, "refresh_token": refresh, "expires_in": self.expires_in}
        )

    def expire_access(self) -> None:
        """Zalo ends the current access token early (answers -216 until a refresh)."""
        self.access_tokens = set()

    async def start(self) -> FakeOA:
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self.message)
        app.router.add_post("/v3.0/oa/group/message", self.message)
        app.router.add_post("/v4/oa/access_token", self.token)
        self.server = TestServer(app, port=0)
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
