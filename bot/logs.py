"""Structured logs: one JSON object per line, with the event or outbox id when there is one."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

from aiohttp.http_exceptions import HttpProcessingError

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


class ClientFaults(logging.Filter):
    """aiohttp's own parser refusing a request (a bad chunk size, `Content-Encoding: br`)
    answers 400 and logs it at ERROR with a traceback, as if the bot had failed. It is the
    client's fault: one INFO line with the reason. Anything else (a 500) stays as it is."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError) or exc.code >= 500:
            return True
        reason = exc.message.strip().splitlines()[0].rstrip(":") if exc.message else "malformed"
        client = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.msg, record.args = "bad request from %s, answered %s: %s", (client, exc.code, reason)
        record.exc_info = record.exc_text = None
        return logging.getLogger(record.name).isEnabledFor(logging.INFO)


CLIENT_FAULTS = ClientFaults()


class AtDebug(logging.Filter):
    """A library's step-by-step INFO lines, written at DEBUG: at start-up the operator reads
    one line per stage (the bot's own), and sees the steps with log_level DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True  # warnings and errors (a missed job run) stay as they are
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


AT_DEBUG = AtDebug()
# Each migration step and "Context impl SQLiteImpl."; each job added, started, run, done:
# the bot says "database schema at revision X", "N jobs scheduled", "job X queued N messages".
STEP_BY_STEP = (
    "alembic.runtime.migration",
    "apscheduler.scheduler",
    "apscheduler.executors.default",
)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log line per request is noise at webhook rates.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.server").addFilter(CLIENT_FAULTS)  # the same one: added once
    for name in STEP_BY_STEP:
        logging.getLogger(name).addFilter(AT_DEBUG)
