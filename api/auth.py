"""Bearer tokens for moderators and admins: 401 without a valid one, 403 for too small a role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from api.problems import ProblemError
from api.services import services
from moderation.moderators import Moderator, Role


def bearer_moderator() -> Moderator | None:
    """The moderator whose token this request carries, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return services().moderators.authenticate(token.strip())


def require(role: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only moderators (or admins, for role 'admin') may call the view."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            moderator = bearer_moderator()
            if moderator is None:
                raise ProblemError(
                    401,
                    "Unauthorized",
                    "Send a moderator token as 'Authorization: Bearer <token>'.",
                    headers={"WWW-Authenticate": 'Bearer realm="moderation"'},
                )
            if role == "admin" and not moderator.is_admin:
                raise ProblemError(403, "Forbidden", "This needs the admin role.")
            g.moderator = moderator
            return view(*args, **kwargs)

        guarded.required_role = role  # type: ignore[attr-defined]
        return guarded

    return decorate
