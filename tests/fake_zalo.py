"""A real HTTP server playing the Zalo Bot API on port 0 (STYLE.md 14), with scripted faults."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

TOKEN = "1459232241454765289:AbCdEfSecretPart"


@dataclass
class Call:
    method: str
    body: dict[str, Any]


@dataclass
class FakeZalo:
    """Records every call; `script` holds (status, body, headers) answers to give first."""

    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    script: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] | None = None
    refused: int = 0  # calls answered 401 (wrong token)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    server: TestServer | None = None

    @property
    def api_base(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.method == method]

    async def handle(self, request: web.Request) -> web.Response:
        bot = request.match_info["bot"]
        method = request.match_info["method"]
        if bot != f"bot{self.token}":
            self.refused += 1
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        try:
            body = await request.json()
        except ValueError:
            body = {}
        self.calls.append(Call(method, body))
        if self.script:
            status, answer, headers = self.script.pop(0)
            return web.json_response(answer, status=status, headers=headers)
        return self.answer(method, body)

    def answer(self, method: str, body: dict[str, Any]) -> web.Response:
        if method in ("sendMessage", "sendPhoto"):
            text = body.get("text") if method == "sendMessage" else body.get("caption", "x")
            if not text or len(text.encode("utf-16-le")) // 2 > 2000:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "text must be 1-2000 characters",
                    },
                    status=400,
                )
            return web.json_response(
                {
                    "ok": True,
                    "result": {"message_id": f"{next(self._ids):020x}", "date": 1789033572455},
                }
            )
        if method == "getMe":
            return web.json_response(
                {
                    "ok": True,
                    "result": {
                        "id": "1459232241454765289",
                        "account_name": "bot.test",
                        "account_type": "BASIC",
                        "can_join_groups": True,
                    },
                }
            )
        if method == "getUpdates":
            if self.updates:
                return web.json_response({"ok": True, "result": self.updates.pop(0)})
            return web.json_response(
                {"ok": False, "error_code": 408, "description": "Request timeout"}, status=408
            )
        if method == "setWebhook":
            self.webhook = {"url": body.get("url"), "updated_at": 1789033572455}
            return web.json_response({"ok": True, "result": self.webhook})
        if method == "getWebhookInfo":
            if self.webhook is None:
                return web.json_response(
                    {"ok": False, "error_code": 404, "description": "Not found"}, status=404
                )
            return web.json_response({"ok": True, "result": self.webhook})
        if method == "deleteWebhook":
            self.webhook = None
            return web.json_response({"ok": True, "result": {}})
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "no method"}, status=404
        )

    async def start(self) -> FakeZalo:
        app = web.Application()
        app.router.add_post("/{bot}/{method}", self.handle)
        self.server = TestServer(app, port=0)
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
