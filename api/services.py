"""The services one app uses, built once in the factory and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from redis import Redis

from moderation.api_keys import ApiKeys
from moderation.authors.notes import Notes
from moderation.authors.standing import Standings
from moderation.dsa.appeals import Appeals
from moderation.dsa.notices import Notices
from moderation.intake import Intake
from moderation.moderators import Moderators
from moderation.policy_store import PolicyStore
from moderation.registry import LiveModels, ModelRegistry
from moderation.store import CommentStore


@dataclass(frozen=True, slots=True)
class Services:
    redis: Redis
    store: CommentStore
    policies: PolicyStore
    moderators: Moderators
    api_keys: ApiKeys
    models: LiveModels
    registry: ModelRegistry
    intake: Intake
    standings: Standings
    notes: Notes
    notices: Notices
    appeals: Appeals

    def ping(self) -> dict[str, Any]:
        """Readiness of each dependency: Redis answers, and a model is loaded."""
        try:
            redis_ok = bool(self.redis.ping())
        except Exception:
            redis_ok = False
        return {"redis": redis_ok, "model": bool(self.models.version)}


def services() -> Services:
    found: Services = current_app.extensions["moderation"]
    return found
