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
from datetime import UTC, datetime
from typing import Any


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
        return json.dumps(entry, ensure_ascii=False, default=str)


def json_handler(stream: Any = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    return handler


def configure(level: str = "INFO") -> None:
    """Send the root logger's records, as JSON lines, to stderr (replacing earlier handlers)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler.formatter, JsonFormatter):
            root.removeHandler(handler)
    root.addHandler(json_handler())
    root.setLevel(level.upper())


def log(logger: logging.Logger, message: str, severity: int = logging.INFO, /, **fields: Any) -> None:
    logger.log(severity, message, extra={"fields": fields})
