"""The HTTP server's guard against slow and idle clients (issue 13 item 8), and `serve`'s loop.

aiohttp bounds neither the time to send a request's headers nor its body, so a client that
sends nothing, or a byte now and then, holds a descriptor for as long as it likes; about a
thousand of them exhaust a process. The guard cuts a connection that is slow with its
headers or body, and keeps at most `max_waiting_connections` connections waiting for a
whole request: a newcomer over the cap closes the longest-waiting one. A connection
whose request is in hand (being handled) is never cut, so a delivery that arrives in
one piece, as Zalo's do, is answered however many idle connections there are.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import sys
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from bot import keys
from bot.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")


KEEPALIVE_SECONDS = 75.0  # as web.run_app: an idle keep-alive connection is kept this long
_REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


@dataclass(eq=False, slots=True)
class _Connection:
    protocol: RequestHandler
    timer: asyncio.TimerHandle | None = None
    request: web.BaseRequest | None = None  # the request in hand, once its headers are in


class ConnectionGuard:
    """Timeouts for a request's headers and body, and a cap on connections waiting for one."""

    def __init__(
        self,
        header_seconds: float,
        body_seconds: float,
        max_waiting: int,
        metrics: Metrics | None = None,
    ) -> None:
        self._header_seconds = header_seconds
        self._body_seconds = body_seconds
        self._max_waiting = max_waiting
        self._metrics = metrics
        self._open: dict[RequestHandler, _Connection] = {}
        # Connections waiting for (the rest of) a request, the longest-waiting first.
        self._waiting: OrderedDict[RequestHandler, _Connection] = OrderedDict()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def install(self, server: web.Server) -> None:
        """Watch every connection `server` makes from now on.

        aiohttp has no hook for a connection's start: the server's own callbacks are
        wrapped (its request handlers call them for each connection and request).
        """
        made, lost, handle = server.connection_made, server.connection_lost, server.request_handler

        def connection_made(protocol: RequestHandler, transport: asyncio.Transport) -> None:
            made(protocol, transport)
            self._opened(protocol)

        def connection_lost(protocol: RequestHandler, exc: BaseException | None = None) -> None:
            self._closed(protocol)
            lost(protocol, exc)

        async def request_handler(request: web.BaseRequest) -> web.StreamResponse:
            conn = self._open.get(request.protocol)
            if conn is None:
                return await handle(request)
            self._headers_in(conn, request)
            # This task also writes the response: only when it ends is the connection idle.
            task = asyncio.current_task()
            if task is not None:
                task.add_done_callback(lambda _: self._answered(conn, request))
            return await handle(request)

        server.connection_made = connection_made  # type: ignore[method-assign,assignment]
        server.connection_lost = connection_lost  # type: ignore[method-assign,assignment]
        server.request_handler = request_handler

    def _opened(self, protocol: RequestHandler) -> None:
        conn = _Connection(protocol)
        self._open[protocol] = conn
        self._wait(conn, self._header_seconds, "header")
        while len(self._waiting) > self._max_waiting:
            _, oldest = self._waiting.popitem(last=False)
            self._cut(oldest, "evicted")

    def _closed(self, protocol: RequestHandler) -> None:
        conn = self._open.pop(protocol, None)
        if conn is not None:
            self._waiting.pop(protocol, None)
            _cancel(conn)

    def _headers_in(self, conn: _Connection, request: web.BaseRequest) -> None:
        conn.request = request
        if request.content.is_eof():
            self._in_hand(conn, request)
            return
        self._wait(conn, self._body_seconds, "body")
        request.content.on_eof(lambda: self._in_hand(conn, request))

    def _in_hand(self, conn: _Connection, request: web.BaseRequest) -> None:
        """The whole request has arrived: the connection is no longer the client's to hold."""
        if conn.request is request and conn.protocol in self._open:
            _cancel(conn)
            self._waiting.pop(conn.protocol, None)

    def _answered(self, conn: _Connection, request: web.BaseRequest) -> None:
        """Idle (keep-alive) again: it may be closed for a newcomer. No timer of ours: aiohttp
        closes an idle connection, or one with only part of its next request, after
        keepalive_timeout, and a timer per request would cost on the hot path."""
        if conn.request is request and conn.protocol in self._open:
            conn.request = None
            self._waiting[conn.protocol] = conn
            self._waiting.move_to_end(conn.protocol)

    def _wait(self, conn: _Connection, seconds: float, phase: str) -> None:
        _cancel(conn)
        self._waiting[conn.protocol] = conn
        self._waiting.move_to_end(conn.protocol)
        loop = asyncio.get_running_loop()
        conn.timer = loop.call_later(seconds, self._too_slow, conn, phase)

    def _too_slow(self, conn: _Connection, phase: str) -> None:
        conn.timer = None
        if self._open.get(conn.protocol) is conn:
            self._waiting.pop(conn.protocol, None)
            self._cut(conn, f"{phase}_timeout")

    def _cut(self, conn: _Connection, reason: str) -> None:
        _cancel(conn)
        transport = conn.protocol.transport
        if conn.request is None and transport is not None:
            # No response is under way: say why before closing.
            with contextlib.suppress(Exception):
                transport.write(_REQUEST_TIMEOUT)
        if self._metrics is not None:
            self._metrics.connections_cut.labels(reason).inc()
        conn.protocol.force_close()


def _cancel(conn: _Connection) -> None:
    if conn.timer is not None:
        conn.timer.cancel()
        conn.timer = None


# the guards of the app's running servers (a list: set before the app is frozen)
GUARDS: web.AppKey[list[ConnectionGuard]] = web.AppKey("connection_guards")


def guard_for(app: web.Application) -> ConnectionGuard:
    """The guard configured by the app's settings (server.*)."""
    server = app[keys.SETTINGS].server
    return ConnectionGuard(
        header_seconds=server.header_timeout_seconds,
        body_seconds=server.body_timeout_seconds,
        max_waiting=server.max_waiting_connections,
        metrics=app[keys.METRICS],
    )


async def start_server(
    app: web.Application,
    host: str,
    port: int,
    *,
    shutdown_timeout: float = 15.0,
    sock: socket.socket | None = None,
) -> tuple[web.AppRunner, int]:
    """The app on host:port (or an already bound `sock`) behind its guard.

    Returns the runner and the bound port.
    """
    app[GUARDS] = []  # before setup: the app is frozen after it
    runner = web.AppRunner(
        app,
        handle_signals=False,
        shutdown_timeout=shutdown_timeout,
        keepalive_timeout=KEEPALIVE_SECONDS,
    )
    await runner.setup()
    assert runner.server is not None
    guard = guard_for(app)
    guard.install(runner.server)
    app[GUARDS].append(guard)
    site: web.BaseSite = (
        web.TCPSite(runner, host, port) if sock is None else web.SockSite(runner, sock)
    )
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, int(runner.addresses[0][1]) if runner.addresses else port


def keep_startup_out_of_gc() -> None:
    """What start-up built (modules, the lexicon, the engine, caches) lives as long as the
    process: moved out of the collector's sight. Why: each full collection walked it all
    and paused the loop 30-70 ms, the tail of intake under a flood (docs/performance.md)."""
    gc.collect()
    gc.freeze()


def run_server(
    app: web.Application,
    sock: socket.socket,
    shutdown_timeout: float = 15.0,
    on_listening: Callable[[], None] | None = None,
) -> None:
    """`serve`: run on the bound `sock` until SIGTERM or SIGINT, then shut down cleanly.

    `on_listening` runs once the app has started (its start-up hooks passed) and listens.
    """
    main = _serve_until_signalled(app, sock, shutdown_timeout, on_listening)
    run_loop(main, uvloop=app[keys.SETTINGS].server.uvloop, announce=True)


def loop_factory(
    uvloop: bool = True, announce: bool = False
) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop on Linux when it is installed and wanted, else None (asyncio's).

    Why: its loop and transports cost less CPU than asyncio's, most on the sender's side.
    With `announce`, the log says which loop runs, and why not uvloop's.
    """
    if not uvloop:
        _say(announce, logging.INFO, "asyncio's (server.uvloop is off)")
        return None
    if not sys.platform.startswith("linux"):
        _say(announce, logging.INFO, "asyncio's (uvloop is used on Linux only)")
        return None
    try:
        import uvloop as chosen
    except ImportError:
        # A dependency on Linux: missing, the install is not the one tested.
        _say(announce, logging.WARNING, "asyncio's (uvloop is not installed)")
        return None
    _say(announce, logging.INFO, f"uvloop {chosen.__version__}")
    return chosen.new_event_loop


def _say(announce: bool, level: int, which: str) -> None:
    if announce:
        log.log(level, "event loop: %s", which)


def run_loop(main: Coroutine[Any, Any, T], uvloop: bool = True, announce: bool = False) -> T:
    """Run `main` to its end on the loop `serve` runs (see `loop_factory`)."""
    with asyncio.Runner(loop_factory=loop_factory(uvloop, announce)) as runner:
        return runner.run(main)


async def _serve_until_signalled(
    app: web.Application,
    sock: socket.socket,
    shutdown_timeout: float,
    on_listening: Callable[[], None] | None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    host, port = sock.getsockname()[:2]
    runner, _ = await start_server(app, host, port, shutdown_timeout=shutdown_timeout, sock=sock)
    keep_startup_out_of_gc()
    if on_listening is not None:
        on_listening()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
