"""RFC 9457 problem documents for every error under /v1, never an HTML page or a stack trace; routes that speak
another service's protocol register their own error shape (foreign_errors)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

from flask import Flask, Response, current_app, jsonify, request
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError as RedisResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import HTTPException

from moderation.schemas import FieldError, field_errors

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class ProblemError(Exception):
    """Raised by a view to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = [error.model_dump() for error in errors]
    body.update(extra or {})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    response.headers.update(headers or {})
    return response


def invalid(errors: list[FieldError]) -> ProblemError:
    return ProblemError(
        422, "Unprocessable Content", "The request has invalid fields; see errors.", errors=errors
    )


# An error renderer for routes that speak another service's protocol: (status, message, headers) -> response.
Renderer = Callable[[int, str, dict[str, str]], Response]


def foreign_errors(app: Flask, prefixes: tuple[str, ...], render: Renderer) -> None:
    """Answer every error under these path prefixes (404 and 405 included) with `render`, not problem+json."""
    app.extensions.setdefault("foreign_errors", []).append((prefixes, render))


def _foreign() -> Renderer | None:
    path = request.path
    for prefixes, render in current_app.extensions.get("foreign_errors", ()):
        if path.startswith(prefixes):
            return cast(Renderer, render)
    return None


def register(app: Flask) -> None:
    """Turn every error into problem+json (or the protocol's own shape, on routes registered with foreign_errors)."""

    @app.errorhandler(ProblemError)
    def _problem(error: ProblemError) -> Response:
        render = _foreign()
        if render is not None:
            return render(error.status, error.detail or error.title, error.headers)
        return problem(
            error.status, error.title, error.detail, errors=error.errors, headers=error.headers,
            extra=error.extra,
        )

    @app.errorhandler(ValidationError)
    def _invalid(error: ValidationError) -> Response:
        return _problem(invalid(field_errors(error)))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        detail = error.description or error.name
        headers: dict[str, str] = {}
        if status == 405:
            detail = f"{request.method} is not allowed here."
            allow = error.get_response().headers.get("Allow")
            if allow:
                headers["Allow"] = allow
        render = _foreign()
        if render is not None:
            return render(status, detail, headers)
        response = problem(status, error.name, detail)
        response.headers.update(headers)
        return response

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def _redis_down(error: Exception) -> Response:
        log.error("redis unavailable: %s", type(error).__name__)
        detail = "The comment store is unavailable; nothing was changed. Try again shortly."
        render = _foreign()
        if render is not None:
            return render(503, detail, {"Retry-After": "5"})
        return problem(503, "Service Unavailable", detail, headers={"Retry-After": "5"})

    @app.errorhandler(RedisResponseError)
    def _store_refused(error: RedisResponseError) -> Response:
        # Redis at maxmemory with noeviction refuses writes (OOM); a script is refused at its first
        # write, so nothing was half-written. Redis 7 raises OutOfMemoryError, 6 wraps it in the
        # script's error: both carry the server's words.
        if "OOM command not allowed" not in str(error):
            return _unexpected(error)
        log.error("redis is full (maxmemory reached): a write was refused and nothing was changed; "
                  "see docs/DEPLOY.md, Sizing")
        detail = "The comment store is full; nothing was changed. Try again later."
        render = _foreign()
        if render is not None:
            return render(503, detail, {"Retry-After": "60"})
        return problem(503, "Service Unavailable", detail, headers={"Retry-After": "60"})

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        detail = "The server failed; the error has been logged."
        render = _foreign()
        if render is not None:
            return render(500, detail, {})
        return problem(500, "Internal Server Error", detail)
