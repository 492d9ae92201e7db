"""Structured logs: one JSON object per line, with the event or outbox id when there is one."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

# The inbox row or outbox row being worked on: every log line written meanwhile carries it.
current_event: ContextVar[int | None] = ContextVar("current_event", default=None)
current_outbox: ContextVar[int | None] = ContextVar("current_outbox", default=None)

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
# Bot API URLs carry the token in the path: never let one reach a log line.
_TOKEN_IN_URL = re.compile(r"/bot[^/\s]+/")


def redact(text: str) -> str:
    return _TOKEN_IN_URL.sub("/bot***/", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        if (event_id := current_event.get()) is not None:
            data["event_id"] = event_id
        if (outbox_id := current_outbox.get()) is not None:
            data["outbox_id"] = outbox_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = (
                    value
                    if isinstance(value, (int, float, bool, type(None)))
                    else redact(str(value))
                )
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log line per request is noise at webhook rates.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
