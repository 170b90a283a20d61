"""The EU DSA Transparency Database's statement schema, transcribed for the tests from its documentation.

Source: "API Documentation", https://transparency.dsa.ec.europa.eu/page/api-documentation (the API v2
page, /page/api-documentation-two, and "Migration to API v2": the schema in force since 1 July 2025),
read with the Commission's source of that page and of its validation
(github.com/digital-services-act/transparency-database: resources/markdown/api-documentation-two.md,
app/Models/Statement.php, app/Http/Requests/StatementsStoreRequest.php,
app/Http/Controllers/Api/v1/StatementMultipleAPIController.php). Written here by hand, independently
of moderation/dsa/tdb.py, so the test compares our export with the documentation and not with itself.

What the documentation says, field by field:
* decision_visibility: an array of at least one value, required unless decision_monetary,
  decision_provision or decision_account is given; decision_visibility_other (500) if OTHER.
* decision_facts: required, at most 5000 characters.
* decision_ground: required; with ILLEGAL_CONTENT, illegal_content_legal_ground (500) and
  illegal_content_explanation (2000) are required; with INCOMPATIBLE_CONTENT,
  incompatible_content_ground (500) and incompatible_content_explanation (2000) are, and
  incompatible_content_illegal ("Yes"/"No") may be given.
* decision_ground_reference_url: optional, a URL (at most 500).
* content_type: required, an array of at least one value; content_type_other (500) if OTHER.
* category: required, one value; category_addition, category_specification optional arrays.
* territorial_scope: "a required attribute", an array of EU/EEA two-letter country codes.
* content_language: optional, an upper-case two-letter ISO 639-1 code.
* content_date: required, YYYY-MM-DD, on or after 2000-01-01; application_date: required, YYYY-MM-DD,
  on or after 2020-01-01 (the validation also caps both at 2038-01-01).
* source_type: required, one value; source_identity optional (500), ignored for SOURCE_VOLUNTARY.
* automated_detection: required, "Yes" or "No"; automated_decision: required, one value.
* puid: required, at most 500 characters of a-z, A-Z, 0-9, "-" and "_" only, unique within the platform.
* The multiple endpoint, POST /api/v1/statements: {"statements": [...]}, 1 to 100 statements a call;
  headers Authorization: Bearer TOKEN, Accept and Content-Type application/json; 201 Created with
  {"statements": [...]}; a 422 creates none of them, its errors indexed "statement_<i>", or, for puids
  the platform used before, errors.puid and errors.existing_puids; a bad token is 401.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

BATCH_MAX = 100

DECISION_VISIBILITY = {
    "DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
}
DECISION_MONETARY = {"DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER"}
DECISION_PROVISION = {"DECISION_PROVISION_PARTIAL_SUSPENSION", "DECISION_PROVISION_TOTAL_SUSPENSION",
                      "DECISION_PROVISION_PARTIAL_TERMINATION", "DECISION_PROVISION_TOTAL_TERMINATION"}
DECISION_ACCOUNT = {"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"}
ACCOUNT_TYPE = {"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"}
DECISION_GROUND = {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
CONTENT_TYPE = {"CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_PRODUCT",
                "CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO", "CONTENT_TYPE_OTHER"}
# API v2's list, as the documentation page prints it (v1's SCOPE_OF_PLATFORM_SERVICE, PORNOGRAPHY_OR_
# SEXUALIZED_CONTENT, NON_CONSENSUAL_BEHAVIOUR and UNSAFE_AND_ILLEGAL_PRODUCTS are gone).
CATEGORY = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE", "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "STATEMENT_CATEGORY_VIOLENCE",
}
SOURCE_TYPE = {"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY"}
AUTOMATED_DETECTION = {"Yes", "No"}
AUTOMATED_DECISION = {"AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"}
YES_NO = {"Yes", "No"}
# EU and EEA members (the database's EUROPEAN_COUNTRY_CODES).
COUNTRIES = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT",
             "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}
PUID = re.compile(r"[A-Za-z0-9_-]+")
LANGUAGE = re.compile(r"[A-Z]{2}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

FIELDS = {
    "decision_visibility", "decision_visibility_other", "end_date_visibility_restriction",
    "decision_monetary", "decision_monetary_other", "end_date_monetary_restriction",
    "decision_provision", "end_date_service_restriction", "decision_account", "end_date_account_restriction",
    "account_type", "decision_ground", "decision_ground_reference_url", "illegal_content_legal_ground",
    "illegal_content_explanation", "incompatible_content_ground", "incompatible_content_explanation",
    "incompatible_content_illegal", "content_type", "content_type_other", "category", "category_addition",
    "category_specification", "category_specification_other", "content_id", "territorial_scope",
    "content_language", "content_date", "application_date", "decision_facts", "source_type", "source_identity",
    "automated_detection", "automated_decision", "puid",
}
REQUIRED = {"decision_facts", "decision_ground", "content_type", "category", "territorial_scope", "content_date",
            "application_date", "source_type", "automated_detection", "automated_decision", "puid"}
MAX_LENGTH = {"decision_visibility_other": 500, "decision_monetary_other": 500, "decision_facts": 5000,
              "decision_ground_reference_url": 500, "illegal_content_legal_ground": 500,
              "illegal_content_explanation": 2000, "incompatible_content_ground": 500,
              "incompatible_content_explanation": 2000, "content_type_other": 500,
              "category_specification_other": 500, "source_identity": 500, "puid": 500}


def _date_problem(name: str, value: Any, earliest: str) -> str | None:
    if not isinstance(value, str) or not DATE.fullmatch(value):
        return f"{name}: not YYYY-MM-DD: {value!r}"
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return f"{name}: no such day: {value!r}"
    if not date.fromisoformat(earliest) <= day <= date(2038, 1, 1):
        return f"{name}: {value} is outside {earliest} .. 2038-01-01"
    return None


def validate(statement: dict[str, Any]) -> list[str]:
    """What the database would refuse in one statement; [] when it takes it."""
    problems = [f"{name}: not a field of the schema" for name in sorted(set(statement) - FIELDS)]
    problems += [f"{name}: required" for name in sorted(REQUIRED)
                 if statement.get(name) in (None, "", [])]
    for name, limit in MAX_LENGTH.items():
        value = statement.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            problems.append(f"{name}: must be text of at most {limit} characters")

    decisions = [statement.get(n) for n in ("decision_visibility", "decision_monetary", "decision_provision",
                                            "decision_account")]
    if all(value in (None, []) for value in decisions):
        problems.append("decision_visibility: required when there is no monetary, provision or account decision")
    visibility = statement.get("decision_visibility")
    if visibility is not None:
        if not isinstance(visibility, list) or not set(visibility) <= DECISION_VISIBILITY:
            problems.append(f"decision_visibility: invalid {visibility!r}")
        elif "DECISION_VISIBILITY_OTHER" in visibility and not statement.get("decision_visibility_other"):
            problems.append("decision_visibility_other: required with DECISION_VISIBILITY_OTHER")
    for name, allowed in (("decision_monetary", DECISION_MONETARY), ("decision_provision", DECISION_PROVISION),
                          ("decision_account", DECISION_ACCOUNT), ("account_type", ACCOUNT_TYPE),
                          ("decision_ground", DECISION_GROUND), ("category", CATEGORY),
                          ("source_type", SOURCE_TYPE), ("automated_detection", AUTOMATED_DETECTION),
                          ("automated_decision", AUTOMATED_DECISION), ("incompatible_content_illegal", YES_NO)):
        value = statement.get(name)
        if value is not None and value not in allowed:
            problems.append(f"{name}: {value!r} is not one of the allowed values")

    ground = statement.get("decision_ground")
    needed = {"DECISION_GROUND_ILLEGAL_CONTENT": ("illegal_content_legal_ground", "illegal_content_explanation"),
              "DECISION_GROUND_INCOMPATIBLE_CONTENT": ("incompatible_content_ground",
                                                       "incompatible_content_explanation")}.get(str(ground), ())
    problems += [f"{name}: required with {ground}" for name in needed if not statement.get(name)]

    content = statement.get("content_type")
    if not isinstance(content, list) or not content or not set(content) <= CONTENT_TYPE:
        problems.append(f"content_type: invalid {content!r}")
    elif "CONTENT_TYPE_OTHER" in content and not statement.get("content_type_other"):
        problems.append("content_type_other: required with CONTENT_TYPE_OTHER")
    for name in ("category_addition",):
        value = statement.get(name)
        if value is not None and (not isinstance(value, list) or not set(value) <= CATEGORY):
            problems.append(f"{name}: invalid {value!r}")

    scope = statement.get("territorial_scope")
    if not isinstance(scope, list) or not set(scope) <= COUNTRIES:
        problems.append(f"territorial_scope: invalid {scope!r}")
    language = statement.get("content_language")
    if language is not None and (not isinstance(language, str) or not LANGUAGE.fullmatch(language)):
        problems.append(f"content_language: invalid {language!r}")
    url = statement.get("decision_ground_reference_url")
    if url is not None and not re.fullmatch(r"https?://\S+", str(url)):
        problems.append(f"decision_ground_reference_url: not a URL: {url!r}")
    for name, earliest in (("content_date", "2000-01-01"), ("application_date", "2020-01-01")):
        if name in statement:
            problem = _date_problem(name, statement[name], earliest)
            if problem:
                problems.append(problem)
    puid = statement.get("puid")
    if puid is not None and (not isinstance(puid, str) or not PUID.fullmatch(puid)):
        problems.append(f"puid: only a-z, A-Z, 0-9, '-' and '_': {puid!r}")
    return problems


def validate_batch(body: dict[str, Any]) -> list[str]:
    """What the multiple endpoint would refuse in a request body."""
    statements = body.get("statements")
    if set(body) != {"statements"} or not isinstance(statements, list):
        return ["the body must be {\"statements\": [...]}"]
    if not 1 <= len(statements) <= BATCH_MAX:
        return [f"statements: 1 to {BATCH_MAX} a call, not {len(statements)}"]
    problems = [f"statement_{i}: {p}" for i, s in enumerate(statements) for p in validate(s)]
    puids = [s.get("puid") for s in statements]
    if len(set(puids)) != len(puids):
        problems.append("puid: the platform identifier(s) are not all unique within this call")
    return problems
