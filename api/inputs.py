"""Reading request bodies: JSON or a form post, into a validated schema."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import g, request
from pydantic import BaseModel, ValidationError
from werkzeug.routing import BaseConverter

from api.problems import ProblemError, invalid
from moderation.schemas import FieldError, article_id_or_none, field_errors

M = TypeVar("M", bound=BaseModel)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_UNPARSED = object()


def is_json() -> bool:
    mimetype = request.mimetype
    return mimetype == "application/json" or mimetype.endswith("+json")


def is_form() -> bool:
    return request.mimetype in FORM_TYPES


def json_body() -> Any:
    """The request body parsed as JSON, once per request (the email rate limit reads it too).

    Raises ValueError (or UnicodeDecodeError) for a body that is not JSON.
    """
    cached = g.get("_json_body", _UNPARSED)
    if cached is _UNPARSED:
        cached = g._json_body = json.loads(request.get_data(cache=True))
    return cached


def raw_input(*, allow_form: bool = False, allow_empty: bool = False) -> dict[str, Any]:
    """The body as a dict: 400 for malformed JSON, 415 for another content type."""
    if allow_empty and not request.content_length and not request.mimetype:
        return {}
    if is_json():
        data = request.get_data(cache=True)
        if not data and allow_empty:
            return {}
        try:
            parsed = json_body()
        except (ValueError, UnicodeDecodeError) as error:
            raise ProblemError(400, "Bad Request", f"The body is not valid JSON: {error}") from None
        if not isinstance(parsed, dict):
            raise ProblemError(400, "Bad Request", "The body must be a JSON object.")
        return parsed
    if allow_form and is_form():
        return request.form.to_dict()
    accepted = "application/json" + (" or application/x-www-form-urlencoded" if allow_form else "")
    raise ProblemError(415, "Unsupported Media Type", f"Send {accepted}.")


def parse(model: type[M], data: dict[str, Any], *, strict: bool = True) -> M:
    """Validate `data`; 422 with one entry per bad field."""
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as error:
        raise invalid(field_errors(error)) from None


def query_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise invalid([FieldError(field=name, pointer=f"?{name}", detail=f"must be an integer {low}-{high}")])
    return value


class ArticleIdConverter(BaseConverter):
    """`<article:...>`: an article id in a path, percent-encoded or with its slashes as they are.

    Servers decode %2F before routing, so both spellings arrive the same. The match is greedy, so
    /v1/articles/a/comments/comments is the thread "a/comments"; it may start with a slash (a page
    path, as Isso keys threads). Rules using it need merge_slashes=False, or a URL id's "//" would
    be redirected away. The view validates the id (`article_id_or_none`).
    """

    regex = ".+"
    part_isolating = False
    weight = 200


def article_query(name: str) -> str | None:
    """An optional article id in the query string; 422 naming the parameter when it is not one."""
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return None
    found = article_id_or_none(raw)
    if found is None:
        raise invalid([FieldError(field=name, pointer=f"?{name}", detail="is not an article id")])
    return found
