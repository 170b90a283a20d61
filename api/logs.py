"""Structured logs: a request id on every line, one access line per request, no personal data."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

access_log = logging.getLogger("moderation.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was logged in ('-' outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonLines(JsonFormatter):
    """python-json-logger's JsonFormatter with the same output and less work per line (one per request).

    The stock formatter builds a new JSON encoder for every line and formats the same second's
    timestamp again for every line; this one keeps one encoder, and the last second's text. A plain
    record (a text message, no exception or stack, the options LOGGING uses) has its fields gathered
    in one pass, in the stock formatter's order; any other record goes the stock way.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._second: tuple[int, str] = (-1, "")
        self._encoder: json.JSONEncoder | None = None
        if self.json_serializer is json.dumps and self.json_encoder is not None and self.json_default is None:
            # What json.dumps(data, cls=..., indent=..., ensure_ascii=...) builds on each call.
            self._encoder = self.json_encoder(indent=self.json_indent, ensure_ascii=self.json_ensure_ascii)
        stock = type(self).process_log_record is JsonFormatter.process_log_record and (
            type(self).add_fields is JsonFormatter.add_fields
        )
        self._plain = bool(
            stock and self._encoder is not None and not self.defaults and not self.static_fields
            and not self.timestamp and not self.rename_fields_keep_missing
        )

    def format(self, record: logging.LogRecord) -> str:
        if not self._plain or isinstance(record.msg, dict) or record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)
        record.message = record.getMessage()
        fields = self._required_fields
        if "asctime" in fields:
            record.asctime = self.formatTime(record, self.datefmt)
        values = record.__dict__
        rename = self.rename_fields
        data = {rename.get(field, field): values.get(field) for field in fields}
        skip = self._skip_fields
        for key, value in values.items():
            if key not in skip and not (hasattr(key, "startswith") and key.startswith("_")):
                data[rename.get(key, key)] = value
        assert self._encoder is not None
        return self.prefix + self._encoder.encode(data)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        cached = self._second
        if cached[0] != second:
            cached = self._second = (second, time.strftime(self.default_time_format, self.converter(second)))
        msec_format = self.default_msec_format
        return msec_format % (cached[1], record.msecs) if msec_format else cached[1]

    def jsonify_log_record(self, log_data: Any) -> str:
        if self._encoder is None:
            return super().jsonify_log_record(log_data)
        return self._encoder.encode(log_data)


# For gunicorn's logconfig_dict: JSON lines on standard error, request ids included.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": RequestIdFilter}},
    "formatters": {
        "json": {
            "()": "api.logs.JsonLines",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        # gunicorn's own access log would record client addresses; ours does not.
        "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
    },
}


def init_app(app: Flask) -> None:
    @app.before_request
    def _request_id() -> None:
        given = request.environ.get("HTTP_X_REQUEST_ID", "")
        # 32 random hex digits, as uuid4().hex gave, without building a UUID.
        g.request_id = given if given and _SAFE_ID.match(given) else os.urandom(16).hex()
        g.log_started = time.perf_counter()

    @app.after_request
    def _access(response: Response) -> Response:
        now = time.perf_counter()
        context = g._get_current_object()  # one proxy lookup, not four
        response.headers["X-Request-ID"] = getattr(context, "request_id", "")
        req = request._get_current_object()  # type: ignore[attr-defined]
        rule = req.url_rule
        if access_log.isEnabledFor(logging.INFO):
            # What access_log.info("request", extra=...) does, but with the caller's file, line and
            # function given rather than found by walking the stack (Logger.findCaller).
            frame = sys._getframe()
            access_log.handle(access_log.makeRecord(
                access_log.name, logging.INFO, frame.f_code.co_filename, frame.f_lineno, "request", (), None,
                "_access",
                {
                    "method": req.method,
                    "route": rule.rule if rule else "unmatched",
                    "status": response.status_code,
                    "duration_ms": round((now - getattr(context, "log_started", now)) * 1000, 2),
                },
            ))
        return response
