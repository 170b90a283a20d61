"""The learning loop: adapt the shipped model to the site's decisions, judge it, promote only a better one."""

from __future__ import annotations

from moderation.policy import Policy
from moderation.store import SCORE_UNIT, millionths


def uncertainty(spam: float, abuse: float, policy: Policy) -> float:
    """How near a comment's nearer score lies to its hold threshold: 1.0 on a threshold, less further off.

    1 minus min(|spam - spam_hold|, |abuse - abuse_hold|), counted in the whole millionths the store
    keeps scores in. `sort=uncertain` serves a queue in descending order of it (ties oldest first): a
    moderator's decision on such a comment is the one the model was least sure of, so it teaches most.
    """
    distance = min(abs(millionths(spam) - millionths(policy.spam_hold)),
                   abs(millionths(abuse) - millionths(policy.abuse_hold)))
    return 1.0 - distance / SCORE_UNIT
