"""Coral's external moderation phase: Coral signs each new or edited comment and asks us what to do with it.

Coral is the store of record for its comments: nothing here is stored, only counted in metrics
(docs/MIGRATING.md says why). The request and answer follow Coral's source; see moderation/coral.py.
"""

from __future__ import annotations

import json
import time

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import ValidationError

from api import metrics
from api.inputs import is_json
from api.problems import ProblemError
from api.services import services
from moderation.authors.identity import identity_key
from moderation.coral import STAFF_ROLES, CoralPhaseRequest, coral_author, moderate, phase_language, signature_matches
from moderation.intake import assess
from moderation.markup import plain_text
from moderation.schemas import field_errors

bp = Blueprint("coral", __name__, url_prefix="/v1/coral")
POLICY_FRESH_SECONDS = 1.0


def _nothing_to_do(reason: str) -> Response:
    metrics.record_decision("coral", "skipped", (reason,))
    return Response(status=204)


@bp.post("/moderation-phase")
def moderation_phase() -> Response:
    secrets = current_app.config["CORAL_SIGNING_SECRETS"]
    if not secrets:
        # Never accept unsigned requests: without a secret there is nothing to check a signature against.
        raise ProblemError(503, "Service Unavailable", "The Coral moderation phase is not configured here: set "
                           "MODERATION_CORAL_SIGNING_SECRETS to the phase's signing secret from Coral's admin.")
    body = request.get_data(cache=True)
    # Checked before anything else is read, so an unsigned request learns nothing and costs one HMAC per secret.
    if not signature_matches(request.environ.get("HTTP_X_CORAL_SIGNATURE", ""), body, secrets):
        raise ProblemError(
            401, "Unauthorized",
            "X-Coral-Signature is missing or matches none of the signing secrets this service has.",
            headers={"WWW-Authenticate": 'Coral-Signature realm="coral"'},
        )
    if not is_json():
        raise ProblemError(415, "Unsupported Media Type", "Send application/json, as Coral does.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ProblemError(400, "Bad Request", f"The body is not valid JSON: {error}") from None
    try:
        phase = CoralPhaseRequest.model_validate(data, strict=True)
    except ValidationError as error:
        raise ProblemError(400, "Bad Request", "The body is not an external moderation request as Coral sends "
                           "them; see errors.", errors=field_errors(error)) from None

    if phase.author.role in STAFF_ROLES:
        return _nothing_to_do("staff")
    text = plain_text(phase.comment.body).strip()
    if not text:
        return _nothing_to_do("empty")  # an image or an embed alone: no words to judge
    models = services().models.current()
    started = time.perf_counter()
    language = phase_language(text, request.args.get("language"))
    assessment = assess(models.live, text, language=language.code)
    metrics.SCORING.observe(time.perf_counter() - started)
    # Coral's timeout is the budget: no Redis round trip for the policy on most requests; a change reaches this
    # route within POLICY_FRESH_SECONDS.
    policy = services().policies.current(POLICY_FRESH_SECONDS)
    found = services()
    standing = found.standings.read(identity_key(found.intake.secret, coral_author(phase.author.id)), policy)
    result = moderate(policy, assessment, text, models.live.version, standing, language)
    metrics.record_decision("coral", result.decision.status, result.decision.codes)
    if result.body is None:
        return Response(status=204)
    return jsonify(result.body)
