"""Structured logs: one JSON object per line on stderr.

Log calls pass their data as ``extra={"fields": {...}}``; only those fields, the message and the
standard attributes are written. Never pass a password, token, PIN or key: nothing here could tell.
Requests are logged with their route pattern (``/verify/<token>``), never the concrete path, so that
link tokens do not end up in logs.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import g


# One encoder for all lines (json.dumps with these options would build a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({key: value for key, value in fields.items() if key not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)


def json_handler(stream: Any = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    return handler


def configure(level: str = "INFO") -> None:
    """Send the root logger's records, as JSON lines, to stderr (replacing earlier handlers).

    The lines carry none of the caller's file, line, thread or process, so records do not look them up
    (the logging HOWTO's "Optimization": every request writes a line or two)."""
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.logAsyncioTasks = False
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler.formatter, JsonFormatter):
            root.removeHandler(handler)
    root.addHandler(json_handler())
    root.setLevel(level.upper())


def log(logger: logging.Logger, message: str, severity: int = logging.INFO, /, **fields: Any) -> None:
    logger.log(severity, message, extra={"fields": fields})


REQUEST_EVENT = "log_request_event"


@dataclass(frozen=True)
class RequestEvent:
    logger: logging.Logger
    message: str
    severity: int
    fields: dict[str, Any]

    def write(self, request_fields: dict[str, Any]) -> None:
        log(self.logger, self.message, self.severity, **{**request_fields, **self.fields})


def request_event(logger: logging.Logger, message: str, severity: int = logging.INFO, /, **fields: Any) -> None:
    """Log ``message`` as the current request's one line: the access log writes it when the response is
    done, with the request's method, route, status, duration and client beside ``fields``. For the events
    that are a request's whole point (a login): one line instead of an event line and a request line."""
    setattr(g, REQUEST_EVENT, RequestEvent(logger, message, severity, fields))
