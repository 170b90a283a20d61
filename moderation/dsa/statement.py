"""Statements of reasons (DSA Art. 17): what a restricted author is told, built from the comment's own record.

A statement is not stored: it is read from what the comment's hash and history already hold (who
decided, when, for which reason or ground, whether the model had held it, whether a notice led to
it), so it can never disagree with the audit trail. Art. 17(2) exempts deceptive high-volume
commercial content: a comment rejected as spam (or as the same text posted again) keeps today's
silent `pending`, so spammers still learn nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from moderation.authors.standing import Standing
from moderation.policy import Policy

# Rejected as spam: exempt from statements of reasons (Art. 17(2), "deceptive high-volume commercial content").
SPAM_REASONS = frozenset({"spam", "duplicate"})
# How long a decision may be appealed (Art. 20(1): "for a period of at least six months").
APPEAL_DAYS = 183
# What each rejection reason or rule is, in the author's words, and the DSA Transparency Database category
# (its STATEMENT_CATEGORY_ values, lower case, without the prefix) it falls under.
REASONS: dict[str, tuple[str, str]] = {
    "abuse": ("abusive or insulting language", "illegal_or_harmful_speech"),
    "threat": ("a threat of violence against a person", "violence"),
    "blocked_term": ("words the site does not publish", "illegal_or_harmful_speech"),
    "off_topic": ("a comment off the article's topic", "other_violation_tc"),
    "personal_data": ("personal data about someone", "data_protection_and_privacy_violations"),
    "other": ("a breach of the site's rules", "other_violation_tc"),
    "blocked_email_domain": ("an email domain the site does not accept comments from", "other_violation_tc"),
    "blocked_network": ("a network the site does not accept comments from", "other_violation_tc"),
    "blocked_website": ("a website the site does not link to", "other_violation_tc"),
    "links": ("more links than the site allows", "other_violation_tc"),
}
# Which model or rule findings mean automated means detected the comment (Art. 17(3)(c)).
AUTOMATED_FINDINGS = frozenset({"spam", "abuse", "threat", "blocked_term", "suspect_term", "links", "duplicate",
                                "blocked_email_domain", "blocked_network", "blocked_website", "held_email_domain",
                                "held_network", "held_website", "burst"})


def status_token(secret: bytes, comment_id: str) -> str:
    """The author's token for their comment's status and appeal: unguessable without the secret, never stored."""
    return hmac.new(secret, b"status:" + comment_id.encode(), hashlib.sha256).hexdigest()[:40]


def token_matches(secret: bytes, comment_id: str, token: str) -> bool:
    """Whether `token` is the comment's status token, compared in constant time."""
    return hmac.compare_digest(status_token(secret, comment_id), token or "")


def appeal_deadline(decided_at: str) -> str:
    """The last moment a decision made at `decided_at` may be appealed (ISO 8601, UTC)."""
    moment = datetime.fromisoformat(decided_at.replace("Z", "+00:00")) + timedelta(days=APPEAL_DAYS)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Ground:
    """What the restriction rests on: a law (illegal content) or a clause of the site's terms."""

    kind: str  # "illegal_content" or "incompatible_with_terms"
    code: str
    title: str
    url: str | None
    explanation: str


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement of reasons, as Art. 17(3) lists its parts (a)-(f)."""

    comment_id: str
    restriction: str  # "removal" (it had been published) or "not_published"
    facts: str
    ground: Ground
    category: str
    source: str  # "own_initiative", "notice" or "trusted_flagger"
    automated_detection: bool
    automated_decision: str  # "fully" or "not_automated"
    decided_at: str
    decided_by: str  # "moderator" or "automated"; never the moderator's name
    redress: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _history(record: dict[str, str]) -> list[dict[str, str]]:
    return [json.loads(line) for line in (record.get("history") or "").split("\n") if line]


def _was_published(events: list[dict[str, str]]) -> bool:
    return any(event.get("status") == "published" for event in events[:-1]) or any(
        event.get("event") == "reported" for event in events)


def statement_for(record: dict[str, str], policy: Policy) -> Statement | None:
    """The statement of reasons for a restricted comment; None when it is not restricted or was spam."""
    if record.get("status") != "rejected":
        return None
    human = bool(record.get("decided_by")) and record.get("decision") == "reject"
    codes = [code for code in (record.get("reason_codes") or "").split(",") if code]
    reason = record.get("decision_reason") or "other" if human else (codes[0] if codes else "other")
    if reason in SPAM_REASONS:
        return None
    events = _history(record)
    notice = record.get("notice_id") or ""
    described, category = REASONS.get(reason, REASONS["other"])
    if record.get("notice_legality") == "illegal":
        ground = Ground("illegal_content", "law", record.get("notice_ground") or "", None,
                        record.get("notice_explanation") or "")
    else:
        term = policy.term(record.get("decision_ground")) or policy.term_for(reason)
        explanation = record.get("notice_explanation") or f"The comment contains {described}."
        if term is not None:
            ground = Ground("incompatible_with_terms", term.code, term.title, term.url, explanation)
        else:
            ground = Ground("incompatible_with_terms", reason, f"The site's rules on {described}", None, explanation)
    # A removal on a notice falls under the category the notifier named (the Database counts it so).
    category = record.get("notice_category") or category if notice else category
    detected = (not human) or any(code in AUTOMATED_FINDINGS for code in codes)
    decided_at = record.get("decided_at") or record.get("created_at", "")
    if notice:
        how = "after a notice of illegal content" + (" from a trusted flagger" if record.get("notice_trusted") else "")
    elif detected:
        how = "after the automatic check held it" if human else "by the automatic check, when it was posted"
    else:
        how = "after a reader reported it" if any(e.get("event") == "reported" for e in events) else ""
    restriction = "removal" if _was_published(events) else "not_published"
    verb = "removed" if restriction == "removal" else "not published"
    facts = f"The comment was {verb} {how}".rstrip() + f", for {described}."
    return Statement(
        comment_id=record.get("id", ""),
        restriction=restriction,
        facts=facts,
        ground=ground,
        category=category,
        source=("trusted_flagger" if record.get("notice_trusted") else "notice") if notice else "own_initiative",
        automated_detection=detected,
        automated_decision="not_automated" if human else "fully",
        decided_at=decided_at,
        decided_by="moderator" if human else "automated",
        redress={
            "appeal": {"how": f"POST /v1/comments/{record.get('id', '')}/appeals?token=<your status token>",
                       "until": appeal_deadline(decided_at) if decided_at else None, "free": True},
            "out_of_court": "a certified out-of-court dispute settlement body (DSA Art. 21)",
            "judicial": "the courts of your Member State",
        },
    )


def standing_statement(standing: Standing, policy: Policy) -> dict[str, Any] | None:
    """The statement of reasons for a suspension or ban (Art. 17(1)(d)), as a refused post is answered with it.

    The standing's `reason` is the moderators' own words and stays with them; the author reads the site's
    `message`, and the term the reason names when it is one of the policy's (or a rejection reason's).
    """
    if not standing.refuses:
        return None
    suspended = standing.state == "suspended"
    term = policy.term_for(standing.reason or "")
    described = REASONS.get(standing.reason or "", REASONS["other"])[0]
    ground = Ground("incompatible_with_terms", term.code if term else "rules",
                    term.title if term else f"The site's rules on {described}", term.url if term else None,
                    standing.message or "")
    until = f" until {standing.until}" if suspended and standing.until else ""
    return {
        "restriction": "account_suspension" if suspended else "account_termination",
        "facts": f"A moderator {'suspended' if suspended else 'ended'} your right to comment here{until}.",
        "ground": asdict(ground),
        "automated_detection": False,
        "automated_decision": "not_automated",
        "decided_at": standing.set_at,
        "decided_by": "moderator",
        "redress": {
            "appeal": {"how": "appeal the rejection of one of your comments with its status token, or write to the "
                              "site's contact point", "until": appeal_deadline(standing.set_at)
                       if standing.set_at else None, "free": True},
            "out_of_court": "a certified out-of-court dispute settlement body (DSA Art. 21)",
            "judicial": "the courts of your Member State",
        },
    }
