"""Open the listening socket before the app starts, so a busy port is a clear usage error."""

from __future__ import annotations

import errno
import socket

from bot.cli import UsageError


def bind(host: str, port: int, *, config_key: str | None = None) -> socket.socket:
    """A listening socket on host:port; a busy or forbidden port says which option to change."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family = infos[0][0]
        return socket.create_server((host, port), family=family, reuse_port=False)
    except OSError as exc:
        also = f" (or {config_key} in the config file)" if config_key else ""
        if exc.errno == errno.EADDRINUSE:
            reason = "the port is already in use (another antt-bot, or another program)"
        elif exc.errno == errno.EACCES:
            reason = "permission denied (ports below 1024 need administrator rights)"
        else:  # an address this machine does not have, or a name that does not resolve
            raise UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; check --host"
            ) from None
        raise UsageError(
            f"cannot listen on {host}:{port}: {reason}; choose another port with --port{also}"
        ) from None
