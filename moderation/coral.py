"""Coral's external moderation phase: the request Coral signs and sends, and our answer in the shape Coral accepts.

Matched against Coral's source (coralproject/talk):
- server/src/core/server/services/comments/pipeline/phases/external.ts: the request (`action`, `comment.body`
  and `parentID`, `author.id` and `role`, `story.id` and `url`, `site.id`; the tenant as `tenantID` and
  `tenantDomain`, or in Coral's first release as `tenant.id` and `tenant.domain`), the phase's timeout, the
  204 / empty-body "nothing to do", and `ExternalModerationResponseSchema`, which `validateResponse` applies with
  `stripUnknown: true`: unknown keys are dropped, but an unknown value of `actions[].actionType`,
  `actions[].reason`, `status` or `tags[]` fails the whole response and Coral ignores the phase.
- server/src/core/server/services/fetch/fetch.ts (`generateFetchOptions`): the body is
  `JSON.stringify(request, null, 2)`, posted as application/json with `X-Coral-Signature`.
- server/src/core/server/models/settings/signingSecret/signingSecret.ts (`generateSignatures`): one
  `sha256=<hex HMAC-SHA256(secret, body)>` per active secret, joined with commas; a rotated secret keeps signing
  until it expires, so during the overlap the header carries both.
- client/src/core/client/admin/routes/Configure/sections/ModerationPhases/ConfigureExternalModerationPhaseForm:
  the timeout is set per phase, 100-10,000 ms, 200 ms unless the admin changes it; the body format is HTML unless
  the admin picks plain text.

Languages: the phase's request carries no language. The tenant has one (`locale`, a BCP-47 tag such as en-US,
de, pt-BR: server/src/core/server/models/tenant/tenant.ts, TenantSettings), which Coral's own Perspective
integration turns into `languages` (services/perspective/perspective.ts, convertLanguage), but external.ts
sends only the fields above. So the comment's language is detected (CLD2), with the hint and fallback the
admin may put in the phase's Callback URL as `?language=<the tenant's locale>`; English without one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from moderation.authors.standing import NORMAL, Standing
from moderation.model.languages import ENGLISH, DetectedLanguage, detect_language, normalise_language
from moderation.policy import Assessment, AuthorContext, Decision, Policy, Reason, decide

# The values ExternalModerationResponseSchema allows (GQLCOMMENT_STATUS, ACTION_TYPE.FLAG, the two flag reasons
# external.ts lists, GQLTAG.FEATURED and STAFF). Coral's first release allowed every flag reason; the current
# one allows these two only, so COMMENT_DETECTED_BANNED_WORD and the like would make Coral drop our answer.
FlagReason = Literal["COMMENT_DETECTED_TOXIC", "COMMENT_DETECTED_SPAM"]
COMMENT_STATUSES = ("NONE", "APPROVED", "REJECTED", "PREMOD", "SYSTEM_WITHHELD")
ACTION_TYPES = ("FLAG",)
FLAG_REASONS: tuple[str, ...] = get_args(FlagReason)
TAGS = ("FEATURED", "STAFF")
# Coral approves its own staff's comments before any external phase would matter; we never second-guess them.
STAFF_ROLES = frozenset({"ADMIN", "MODERATOR", "STAFF"})
# More signatures than Coral ever sends (one per live secret) only cost HMAC comparisons.
MAX_SIGNATURES = 8

# Which of our reasons becomes which Coral flag. Blocked and suspect terms have no flag Coral accepts from an
# external phase; they still decide the status, and the metadata names them.
_FLAGS: dict[str, FlagReason] = {
    "spam": "COMMENT_DETECTED_SPAM",
    "links": "COMMENT_DETECTED_SPAM",
    "duplicate": "COMMENT_DETECTED_SPAM",
    "abuse": "COMMENT_DETECTED_TOXIC",
    "threat": "COMMENT_DETECTED_TOXIC",
}


# A comment held only because of who wrote it goes to Coral's premoderation queue, as Coral's own
# "always premoderate this user" does; one held for what it says is SYSTEM_WITHHELD.
_PREMOD = frozenset({"author_premoderated", "author_record"})


class _Lenient(BaseModel):
    # Coral adds fields between releases; what we do not read must not turn its requests away.
    model_config = ConfigDict(extra="ignore", frozen=True)


class CoralComment(_Lenient):
    body: str = Field(description="The comment, as HTML or as plain text per the phase's format setting")
    parentID: str | None = Field(default=None, description="The parent comment's id for a reply, else null")


class CoralAuthor(_Lenient):
    id: str
    role: str = Field(description="COMMENTER, MEMBER, STAFF, MODERATOR or ADMIN; staff roles get 204")


class CoralStory(_Lenient):
    id: str
    url: str


class CoralSite(_Lenient):
    id: str


class CoralTenant(_Lenient):
    id: str
    domain: str


class CoralPhaseRequest(_Lenient):
    """What Coral posts to an external moderation phase (fields we do not read are accepted and ignored)."""

    action: Literal["NEW", "EDIT"]
    comment: CoralComment
    author: CoralAuthor
    story: CoralStory | None = None
    site: CoralSite | None = None
    tenant: CoralTenant | None = None
    tenantID: str | None = None
    tenantDomain: str | None = None


class CoralAction(BaseModel):
    actionType: Literal["FLAG"]
    reason: FlagReason


class CoralPhaseResponse(BaseModel):
    """Our answer when there is something to do: a status, flags, and our scores and reasons as metadata
    (the current Coral keeps only status, actions and tags; `metadata` is for logs and older releases)."""

    status: Literal["SYSTEM_WITHHELD", "PREMOD", "REJECTED"]
    actions: list[CoralAction]
    metadata: dict[str, Any]


def signing_secrets(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """MODERATION_CORAL_SIGNING_SECRETS as a tuple: comma-separated, blanks dropped."""
    items = value.split(",") if isinstance(value, str) else (value or ())
    return tuple(item.strip() for item in items if item and item.strip())


def signature_matches(header: str, body: bytes, secrets: Iterable[str]) -> bool:
    """Whether one of the header's `sha256=<hex>` signatures is the HMAC-SHA256 of the raw body under one of the
    secrets. Every pair is compared in constant time, and all of them, so timing tells nothing about which."""
    offered: list[bytes] = []
    for part in header.split(",")[:MAX_SIGNATURES]:
        scheme, _, signature = part.strip().partition("=")
        if scheme == "sha256" and signature:
            offered.append(signature.strip().lower().encode())
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
        for candidate in offered:
            matched |= hmac.compare_digest(expected, candidate)
    return matched


@dataclass(frozen=True, slots=True)
class PhaseResult:
    """Our decision on a Coral comment, and the body to answer with (None: 204, nothing to do)."""

    decision: Decision
    body: dict[str, Any] | None


def coral_author(author_id: str) -> str:
    """What a standing for a Coral commenter is kept under: Coral's phase names its author by id alone
    (external.ts sends `author.id` and `role`, no address), so `moderation authors ban coral:<id>` sets it."""
    return f"coral:{author_id}"


def phase_language(text: str, hint: str | None = None) -> DetectedLanguage:
    """A Coral comment's language: CLD2's, hinted with the Callback URL's `language` (a BCP-47 tag, any case or
    region); that language (English without one) for a comment too short to tell."""
    return detect_language(text, fallback=normalise_language(hint) or ENGLISH)


def moderate(policy: Policy, assessment: Assessment, text: str, model_version: str,
             standing: Standing = NORMAL, language: DetectedLanguage | None = None) -> PhaseResult:
    """Hold (SYSTEM_WITHHELD) or reject (REJECTED) what our policy would hold or reject, flagged with Coral's
    reasons; nothing to do for what it would publish. An author's standing here applies too: a banned or
    suspended one is rejected, a premoderated one held as Coral holds its own premoderated users (PREMOD)."""
    if standing.refuses:
        decision = Decision("rejected", (Reason(f"author_{standing.state}"),))
    else:
        # The content, and the standing: Coral premoderates new commenters and stories itself.
        decision = decide(policy, assessment, text, article_mode="open", author_approved=1, author=AuthorContext(
            trusted=standing.state == "trusted", premoderated=standing.hold_reason()))
    if decision.status == "published":
        return PhaseResult(decision, None)
    flags = dict.fromkeys(_FLAGS[code] for code in decision.codes if code in _FLAGS)
    premoderated = decision.status == "pending" and bool(decision.codes) and set(decision.codes) <= _PREMOD
    body = CoralPhaseResponse(
        status="REJECTED" if decision.status == "rejected" else "PREMOD" if premoderated else "SYSTEM_WITHHELD",
        actions=[CoralAction(actionType="FLAG", reason=reason) for reason in flags],
        metadata={
            "scores": {"spam": round(assessment.spam, 4), "abuse": round(assessment.abuse, 4)},
            "model_version": model_version,
            # The language the comment was scored in, and whether it was detected or taken from the hint.
            **({"language": language.code, "language_source": language.source} if language else {}),
            "decision": decision.status,
            # Spans are offsets into the text we scored: the body with its markup removed.
            "reasons": [reason.as_dict() for reason in decision.reasons],
        },
    )
    return PhaseResult(decision, body.model_dump())
