"""Structured JSON logs with request ids; user input cannot forge lines.

Every record is one JSON object per line, so CR/LF in a value stays escaped inside its
string. SQLAlchemy is told to hide bound parameters from its error messages
(``hide_parameters``), so an identity can never reach a log through a failed statement.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from typing import Any

from flask import Flask, g, has_request_context, request

_HANDLER_NAME = "cohort-json"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            entry["method"] = request.method
            entry["path"] = request.path
        if record.exc_info:
            entry["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        for key in ("status", "duration_ms", "event"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        return json.dumps(entry, ensure_ascii=True, default=str)


def init_app(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.set_name(_HANDLER_NAME)
    for logger in (logging.getLogger("cohort"), app.logger):
        # Replace only our own handler (a second app in one process must not stack them).
        logger.handlers[:] = [h for h in logger.handlers if h.get_name() != _HANDLER_NAME]
        logger.addHandler(handler)
        logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
        logger.propagate = False

    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        try:
            g.request_id = str(uuid.UUID(incoming))
        except ValueError:
            g.request_id = str(uuid.uuid4())

    @app.after_request
    def _echo_request_id(response: Any) -> Any:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response
