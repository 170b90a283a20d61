"""Model versions kept in Redis: registered, run in shadow, promoted and rolled back atomically."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from redis import Redis

from moderation.comments import now_iso
from moderation.keys import Keys
from moderation.model.languages import ENGLISH
from moderation.model.signals import NO_AUTHOR, Author
from moderation.store import lua_script

log = logging.getLogger(__name__)
POINTER_CHECK_SECONDS = 2.0


class Model(Protocol):
    @property
    def version(self) -> str: ...

    def score(self, text: str, author: Author = ..., language: str = ...) -> Any: ...


class UnknownModel(LookupError):
    """No model of that version is registered."""


def _load(path: Path) -> Model:
    from moderation.model.classifier import Classifier

    return cast(Model, Classifier.load(path))


class ModelRegistry:
    """The artifacts live in Redis itself, so every API machine and rescore worker finds the same bytes."""

    def __init__(self, redis: Redis, keys: Keys | None = None, cache_dir: Path | None = None) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self.cache_dir = cache_dir or Path(tempfile.gettempdir()) / "moderation-models"
        self._pointer = redis.register_script(lua_script("model_pointer.lua"))
        self._forget = redis.register_script(lua_script("model_forget.lua"))

    def _key(self, version: str) -> str:
        return f"{self.keys.prefix}model:{version}"

    def register(self, artifact: Path) -> str:
        """Store an artifact and its metadata file; returns its version. Loading it first proves it is sound."""
        model = _load(artifact)
        metadata = artifact.with_suffix(".json").read_text()
        self.redis.hset(self._key(model.version), mapping={
            "artifact": base64.b64encode(artifact.read_bytes()).decode(),
            "metadata": metadata,
            "registered_at": now_iso(),
        })
        self.redis.zadd(self.keys.prefix + "models", {model.version: time.time()})
        return model.version

    def versions(self) -> list[dict[str, Any]]:
        live, shadow = self.pointers()
        listed = []
        for version in cast(list[str], self.redis.zrange(self.keys.prefix + "models", 0, -1)):
            registered = self.redis.hget(self._key(version), "registered_at")
            listed.append({"version": version, "registered_at": registered,
                           "live": version == live, "shadow": version == shadow})
        return listed

    def metadata(self, version: str) -> dict[str, Any]:
        raw = self.redis.hget(self._key(version), "metadata")
        if raw is None:
            raise UnknownModel(version)
        return cast(dict[str, Any], json.loads(cast(str, raw)))

    def pointers(self) -> tuple[str | None, str | None]:
        """The live and shadow versions (None: the shipped model is live / no shadow)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self.keys.prefix + "model-live")
        pipe.get(self.keys.prefix + "model-shadow")
        live, shadow = pipe.execute()
        return live or None, shadow or None

    def history(self) -> list[str]:
        """The versions rollbacks would return to, most recent first."""
        return cast(list[str], self.redis.lrange(self.keys.prefix + "model-history", 0, -1))

    def forget(self, version: str, actor: str) -> bool:
        """Delete a version that is neither live nor in shadow (False if it is); rollbacks no longer return to it."""
        prefix = self.keys.prefix
        return bool(self._forget(
            keys=[self._key(version), prefix + "models", prefix + "model-live", prefix + "model-shadow",
                  prefix + "model-history", self.keys.policy_audit],
            args=[version, actor, now_iso()],
        ))

    def previous(self) -> str | None:
        """The version a rollback would make live (None: the shipped model)."""
        return cast(str | None, self.redis.lindex(self.keys.prefix + "model-history", 0))

    def _require(self, version: str) -> None:
        if not self.redis.exists(self._key(version)):
            raise UnknownModel(version)

    def _audit(self, pipe: Any, event: str, actor: str, version: str) -> None:
        pipe.xadd(self.keys.policy_audit, {"event": event, "actor": actor, "at": now_iso(), "version": version},
                  maxlen=100_000, approximate=True)

    def promote(self, version: str, actor: str) -> None:
        """Make `version` live in one atomic step; the one it replaces is remembered for rollback."""
        self._require(version)
        self._move("promote", version, actor)

    def rollback(self, actor: str) -> str | None:
        """Return to the previous live version (None: back to the shipped model)."""
        return self._move("rollback", "", actor)

    def _move(self, operation: str, version: str, actor: str) -> str | None:
        prefix = self.keys.prefix
        target = self._pointer(
            keys=[prefix + "model-live", prefix + "model-history", self.keys.policy_audit],
            args=[operation, version, actor, now_iso()],
        )
        return cast(str | None, target)

    def set_shadow(self, version: str | None, actor: str) -> None:
        with self.redis.pipeline() as pipe:
            if version:
                self._require(version)
                pipe.set(self.keys.prefix + "model-shadow", version)
            else:
                pipe.delete(self.keys.prefix + "model-shadow")
            self._audit(pipe, "model_shadow", actor, version or "none")
            pipe.execute()

    def fetch(self, version: str) -> Path:
        """The artifact as a local file (cached), checked against the sha256 in its metadata."""
        target = self.cache_dir / f"{version}.skops"
        if target.exists():
            return target
        record = cast(dict[str, str], self.redis.hgetall(self._key(version)))
        if not record:
            raise UnknownModel(version)
        data = base64.b64decode(record["artifact"])
        expected = json.loads(record["metadata"]).get("sha256")
        if expected and hashlib.sha256(data).hexdigest() != expected:
            raise ValueError(f"model {version}: artifact does not match its sha256")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_bytes(data)
        target.with_suffix(".json").write_text(record["metadata"])
        partial.replace(target)
        return target

    def load(self, version: str) -> Model:
        return _load(self.fetch(version))


@dataclass(frozen=True, slots=True)
class Models:
    """The models one request uses: the live one, and the shadow one whose scores are only recorded."""

    live: Model
    shadow: Model | None = None


class LiveModels:
    """Follows the registry's pointers: a promotion reaches every process within seconds, no restart."""

    def __init__(self, registry: ModelRegistry | None, shipped: Model, check_every: float = POINTER_CHECK_SECONDS):
        self.registry = registry
        self.shipped = shipped
        self.check_every = check_every
        self._models = Models(shipped)
        self._loaded: OrderedDict[str, Model] = OrderedDict({shipped.version: shipped})
        self._next_check = 0.0
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        return self._models.live.version

    def current(self) -> Models:
        if self.registry is not None and time.monotonic() >= self._next_check:
            self._refresh()
        return self._models

    def score(self, text: str, author: Author = NO_AUTHOR, language: str = ENGLISH) -> Any:
        """The live model's scores for a comment in `language`."""
        return self.current().live.score(text, author, language)

    def _get(self, version: str | None) -> Model | None:
        if version is None:
            return None
        if version not in self._loaded:
            assert self.registry is not None
            self._loaded[version] = self.registry.load(version)
            while len(self._loaded) > 4:
                self._loaded.popitem(last=False)
        return self._loaded[version]

    def _refresh(self) -> None:
        with self._lock:
            if time.monotonic() < self._next_check:
                return
            self._next_check = time.monotonic() + self.check_every
            assert self.registry is not None
            try:
                live_version, shadow_version = self.registry.pointers()
                live = self._get(live_version) or self.shipped
                shadow = self._get(shadow_version) if shadow_version != live.version else None
            except Exception:
                # A bad artifact or a Redis blip must not stop intake: keep scoring with what we have.
                log.exception("could not switch models; keeping %s", self._models.live.version)
                return
            self._models = Models(live, shadow)
