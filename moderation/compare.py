"""Comparing two model versions on what matters: this site's own moderators' decisions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from sklearn.metrics import roc_auc_score

from moderation.decisions import Decision, all_decisions, label_of
from moderation.model.languages import ENGLISH, detect_language
from moderation.model.signals import Author
from moderation.store import CommentStore


class BatchModel(Protocol):
    version: str

    def probabilities(self, texts: Sequence[str], workers: int = ...,
                      authors: Sequence[Author] | None = ...,
                      languages: Sequence[str] | None = ...) -> np.ndarray: ...


def _auc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """ROC AUC, or None where the labels have one class only (no ranking to judge)."""
    if len(set(labels)) < 2:
        return None
    return round(float(roc_auc_score(labels, scores)), 4)


def on_decisions(models: Sequence[BatchModel], decisions: Sequence[Decision],
                 site_language: str = ENGLISH) -> dict[str, Any]:
    """Each model's ROC AUC per label on labelled decisions, each comment scored in its language."""
    usable = [d for d in decisions if d.trainable]
    result: dict[str, Any] = {"decisions": len(usable)}
    if not usable:
        return result
    texts = [d.text for d in usable]
    authors = [d.author for d in usable]
    languages = [detect_language(text, site_language).code for text in texts]
    for model in models:
        scores = model.probabilities(texts, authors=authors, languages=languages)
        result[model.version] = {}
        for column, head in enumerate(("spam", "abuse")):
            # A decision that says nothing about a head (off-topic, one Perspective attribute) is left out of it.
            judged = [(label, float(scores[i, column])) for i, d in enumerate(usable)
                      if (label := getattr(d, head)) is not None]
            result[model.version][f"{head}_auc"] = _auc([y for y, _ in judged], [p for _, p in judged])
    return result


def held_out(store: CommentStore) -> list[Decision]:
    """The site's decisions that training leaves out, kept for judging models."""
    return [d for d in all_decisions(store) if d.held_out]


def shadow_period(store: CommentStore, candidate: str) -> dict[str, Any]:
    """On comments scored by both models and then decided by a moderator: each model's AUC."""
    labels: dict[str, list[int]] = {"spam": [], "abuse": []}
    live: dict[str, list[float]] = {"spam": [], "abuse": []}
    shadow: dict[str, list[float]] = {"spam": [], "abuse": []}
    for queue in ("approved", "rejected"):
        ids = store.redis.zrange(store.keys.queue(queue), 0, -1)
        for record in store.get_many(list(ids)):  # type: ignore[arg-type]
            if record.get("shadow_version") != candidate or not record.get("decided_by"):
                continue
            label = label_of(record.get("decision", ""), record.get("decision_reason", ""))
            if label == "other":
                continue
            for kind in ("spam", "abuse"):
                labels[kind].append(int(label == kind))
                live[kind].append(float(record.get(kind, 0)))
                shadow[kind].append(float(record.get(f"shadow_{kind}", 0)))
    return {
        "decided_comments": len(labels["spam"]),
        "live": {f"{k}_auc": _auc(labels[k], live[k]) for k in labels},
        candidate: {f"{k}_auc": _auc(labels[k], shadow[k]) for k in labels},
    }
