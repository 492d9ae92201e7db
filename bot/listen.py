"""Open the listening socket before the app starts, so a busy port is a clear usage error."""

from __future__ import annotations

import errno
import socket

from bot.cli import UsageError


def bind(
    host: str, port: int, *, port_from: str = "--port", host_from: str = "--host"
) -> socket.socket:
    """A listening socket on host:port; a busy or forbidden port, or an address this machine
    lacks, says where it was set (the option, the config file's key or the variable)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family = infos[0][0]
        return socket.create_server((host, port), family=family, reuse_port=False)
    except OSError as exc:
        if port_from == "--port":
            change = "choose another port with --port"
        else:  # nobody typed it: say where it comes from, and the way out without an edit
            change = f"the port comes from {port_from}: change it there, or pass --port"
        if exc.errno == errno.EADDRINUSE:
            reason = "the port is already in use (another antt-bot, or another program)"
        elif exc.errno == errno.EACCES:
            reason = "permission denied (ports below 1024 need administrator rights)"
        else:  # an address this machine does not have, or a name that does not resolve
            where = "check --host" if host_from == "--host" else f"check {host_from}"
            raise UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; {where}"
            ) from None
        raise UsageError(f"cannot listen on {host}:{port}: {reason}; {change}") from None
