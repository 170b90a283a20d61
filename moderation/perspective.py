"""Perspective API's protocol (comments:analyze, comments:suggestscore), without the web framework.

Matched against Perspective's own documentation (conversationai/perspectiveapi: 2-api/methods.md,
2-api/limits.md), Google's discovery document for commentanalyzer v1alpha1 (revision 20200301, as
google-api-go-client ships it), the errors real clients quote in their issues and tests, and what
Coral Talk sends (server/src/core/server/services/perspective/perspective.ts):

- analyze: `comment.text` (required; `comment.type` PLAIN_TEXT, HTML or TEXT_TYPE_UNSPECIFIED),
  `requestedAttributes` (required; each may carry `scoreType` and `scoreThreshold`), `languages`,
  `doNotStore`, `spanAnnotations`, `clientToken`, `sessionId`, `communityId`, `context` (accepted,
  unused, as Perspective documents it), `dropUnsupportedAttributes`. Fields this protocol does not
  name are ignored.
- The answer: `attributeScores.<ATTR>.summaryScore {value, type}` (an attribute whose value is under
  its `scoreThreshold` is left out, and `attributeScores` with it when none is left, as proto3 JSON
  omits an empty map), `spanScores` when `spanAnnotations` is true, `languages` (the request's, or
  the detected one), `detectedLanguages`, `clientToken`.
- Span offsets are UTF-16 code units of `comment.text` as sent (the discovery document: "The values
  are the UTF-16 codepoint range"). For HTML, the markup is stripped before scoring and the spans
  are mapped back onto the HTML as sent. (Perspective's documentation says only PLAIN_TEXT is
  supported; clients send HTML all the same, and Coral strips it before it sends.)
- Errors: `{"error": {"code", "message", "status", "details"}}`, the messages and `errorType`s of
  Perspective's documented errors (COMMENT_EMPTY, COMMENT_TOO_LONG, NO_REQUESTED_ATTRIBUTES,
  LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE, LANGUAGE_DETECTION_FAILED, INVALID_REQUEST otherwise).
- Languages: `languages` holds ISO 639-1 or BCP-47 tags, several when the text mixes languages; without
  it the language is detected, and a text whose language cannot be detected is refused (methods.md;
  the discovery document: "The server also returns an error if the languages (either specified by the
  caller, or auto-detected) are not *all* supported"). Support is per attribute, as Perspective's was:
  an attribute with no backing in one of the comment's languages (moderation.model.attributes.
  BACKED_LANGUAGES) is answered "Attribute X does not support request languages: ..." with the detail
  `languageNotSupportedByAttributeError {requestedLanguages | detectedLanguages, attribute}` that
  clients quote (for example "Attribute SEXUALLY_EXPLICIT does not support request languages: om",
  detectedLanguages ["om"]), or dropped with `dropUnsupportedAttributes`. The comment is scored in its
  first language; the answer's `languages` mirrors the request's, else gives the detected one.
"""

from __future__ import annotations

import functools
import html
import json
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from moderation.comments import now_iso
from moderation.decisions import Decision
from moderation.keys import Keys
from moderation.model.attributes import (
    ATTRIBUTES,
    BACKED_LANGUAGES,
    IDENTITY_ATTACK,
    INSULT,
    SEVERE_TOXICITY,
    SPAM,
    THREAT,
    TOXICITY,
    AttributeScore,
    backed_in,
)
from moderation.model.languages import LANGUAGE_NAMES, SUPPORTED_LANGUAGES, detect_language, normalise_language

# Perspective counts the limit in bytes of UTF-8, not characters: its answer to a longer text is
# "Comment text was too many bytes. Value (23368) exceeded limit (20480)." (20 KB in its limits page).
MAX_TEXT_BYTES = 20 * 1024
PROBABILITY = "PROBABILITY"
SCORE_TYPES = ("SCORE_TYPE_UNSPECIFIED", "PROBABILITY", "STD_DEV_SCORE", "PERCENTILE", "RAW")
TEXT_TYPES = ("TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML")
ERROR_DETAIL_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
# Google's canonical status names for the HTTP codes these routes answer with.
STATUS_NAMES: dict[int, str] = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    405: "NOT_FOUND", 409: "ABORTED", 413: "INVALID_ARGUMENT", 415: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}
# Attributes whose suggested score of 0.5 or more says the comment is abusive (each is a kind of
# toxicity); below 0.5 they say nothing about abuse as a whole. PROFANITY says nothing either way:
# swearing is not abuse by itself.
_ABUSIVE_KINDS = (SEVERE_TOXICITY, INSULT, THREAT, IDENTITY_ATTACK)
# The attributes served: each clears its bar in moderation.model.attributes.SERVING_BAR on the written sets
# (tests/test_attributes.py holds them to it). Any other name is answered as Perspective answers an unknown one.
SERVED: tuple[str, ...] = ATTRIBUTES
# Examples kept from `doNotStore: false` requests: the newest, about this many.
EXAMPLES_MAXLEN = 100_000


class PerspectiveError(Exception):
    """An error answer in Google's shape: HTTP code, canonical status, message and optional details."""

    def __init__(self, code: int, message: str, details: list[dict[str, Any]] | None = None,
                 status: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def error_body(code: int, message: str) -> dict[str, Any]:
    """Google's error shape for an HTTP error with nothing more to say."""
    return PerspectiveError(code, message).body()


def invalid(message: str, error_type: str = "INVALID_REQUEST", **extra: Any) -> PerspectiveError:
    """A 400 INVALID_ARGUMENT with Perspective's error detail."""
    return PerspectiveError(400, message, [{"@type": ERROR_DETAIL_TYPE, "errorType": error_type, **extra}])


def bad_field(path: str, kind: str, value: Any) -> PerspectiveError:
    """A 400 for a field of the wrong type, worded as Google's JSON parser words it."""
    shown = json.dumps(value, ensure_ascii=False)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    message = f"Invalid value at '{path}' ({kind}), {shown}"
    return PerspectiveError(400, message, [
        {"@type": BAD_REQUEST_TYPE, "fieldViolations": [{"field": path, "description": message}]}])


def malformed(reason: str) -> PerspectiveError:
    """A 400 for a body that is not a JSON object."""
    message = f"Invalid JSON payload received. {reason}"
    return PerspectiveError(400, message, [{"@type": BAD_REQUEST_TYPE, "fieldViolations": [{"description": message}]}])


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; 400 in Google's words for anything else."""
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
    except UnicodeDecodeError:
        raise malformed("The body is not UTF-8.") from None
    except RecursionError:
        raise malformed("The body is nested too deeply.") from None
    except ValueError as error:
        raise malformed(f"{error}.") from None
    if not isinstance(data, dict):
        raise malformed("Expected a JSON object.")
    return data


# -- reading fields the way proto3 JSON does: null is the default ---------------------------------


def _object(data: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_field(path, "TYPE_MESSAGE", value)
    return value


def _string(data: dict[str, Any], key: str, path: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_field(path, "TYPE_STRING", value)
    if _has_lone_surrogate(value):
        raise bad_field(path, "TYPE_STRING", "a lone UTF-16 surrogate, which UTF-8 cannot encode")
    return value


def _bool(data: dict[str, Any], key: str, path: str) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_field(path, "TYPE_BOOL", value)
    return value


def _strings(data: dict[str, Any], key: str, path: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_field(path, "TYPE_STRING", value)
    return [_string({key: item}, key, f"{path}[{index}]") for index, item in enumerate(value)]


def _number(data: dict[str, Any], key: str, path: str) -> float | None:
    """A float field: a JSON number, or a numeric string as proto3 JSON allows; never NaN or infinite."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad_field(path, "TYPE_FLOAT", value)
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise bad_field(path, "TYPE_FLOAT", value) from None
    if not math.isfinite(number):
        raise bad_field(path, "TYPE_FLOAT", value)
    return number


def _integer(data: dict[str, Any], key: str, path: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    # proto3 JSON takes an integer as a number with no fraction (1, 1.0, 1e2) or as a string ("1").
    text = isinstance(value, str) and re.fullmatch(r"-?\d{1,10}", value) is not None
    if text or (isinstance(value, float) and value.is_integer() and abs(value) < 2**31):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value < 2**31:
        raise bad_field(path, "TYPE_INT32", value)
    return value


def _enum(data: dict[str, Any], key: str, path: str, allowed: Sequence[str], kind: str) -> str:
    value = data.get(key)
    if value is None:
        return allowed[0]
    if not isinstance(value, str) or value not in allowed:
        raise bad_field(path, kind, value)
    return value


def _has_lone_surrogate(text: str) -> bool:
    # JSON "\ud800" decodes to a lone surrogate: no UTF-8 encoding exists for it.
    return any("\ud800" <= char <= "\udfff" for char in text) if not text.isascii() else False


# -- the comment text ------------------------------------------------------------------------------


# A tag's inside stops at the next "<" as well as at ">": "<a<a<a..." is then scanned once, not once per "<".
_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style)\b[^<>]*>.*?(?:</\1\s*>|\Z)"
    r"|<(/?)([A-Za-z][A-Za-z0-9]*)\b[^<>]*>"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?",
    re.DOTALL | re.IGNORECASE,
)
# Tags that break a line or a block: stripped, they leave a space so the words either side stay apart.
_BREAKING_TAGS = """
    address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr
    li main nav ol p pre section table td th tr ul
"""
_BREAKING = frozenset(_BREAKING_TAGS.split())


_unescape = functools.lru_cache(maxsize=4096)(html.unescape)  # the same few entities, again and again


@dataclass(frozen=True, slots=True)
class CommentText:
    """A comment as sent and the plain text the model scores, with each plain character's source span."""

    sent: str
    plain: str
    # starts[i], ends[i]: the characters of `sent` that plain[i] came from; None when plain is sent.
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def to_sent(self, span: tuple[int, int]) -> tuple[int, int]:
        """A span of the plain text as the span of the text as sent that it came from (code points)."""
        start, end = span
        if self.starts is None or self.ends is None or start >= end:
            return span
        return self.starts[start], self.ends[end - 1]


def plain_text(sent: str, kind: str) -> CommentText:
    """The text the model scores: HTML loses its markup (entities decoded), plain text stays as it is."""
    if kind != "HTML" or ("<" not in sent and "&" not in sent):
        return CommentText(sent, sent)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def emit(chars: str, start: int, end: int) -> None:
        """Characters that all came from sent[start:end] (a decoded entity, a tag's space)."""
        out.append(chars)
        starts.extend([start] * len(chars))
        ends.extend([end] * len(chars))

    def copy(start: int, end: int) -> None:
        """Text between markup, each character from itself."""
        out.append(sent[start:end])
        starts.extend(range(start, end))
        ends.extend(range(start + 1, end + 1))

    position = 0
    for match in _MARKUP.finditer(sent):
        begin, finish = match.span()
        copy(position, begin)
        position = finish
        token = match.group()
        if token.startswith("&"):
            emit(_unescape(token), begin, finish)
        elif match.group(3) and match.group(3).lower() in _BREAKING:
            emit(" ", begin, finish)
    copy(position, len(sent))
    return CommentText(sent, "".join(out), tuple(starts), tuple(ends))


def utf16_offsets(text: str) -> list[int] | None:
    """For each code point index of text (and its end), the UTF-16 offset; None when they are the same."""
    if text.isascii() or not any(ord(char) > 0xFFFF for char in text):
        return None
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + (2 if ord(char) > 0xFFFF else 1))
    return offsets


def _comment_fields(data: dict[str, Any]) -> tuple[str, str]:
    """The comment's text and type, type-checked (with the context's shape)."""
    comment = _object(data, "comment", "comment")
    text = _string(comment, "text", "comment.text")
    kind = _enum(comment, "type", "comment.type", TEXT_TYPES, "TYPE_ENUM")
    _context(data)
    return text, kind


def _checked_comment(text: str, kind: str) -> CommentText:
    if not text:
        raise invalid("Comment must be non-empty.", "COMMENT_EMPTY")
    size = len(text.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise invalid(f"Comment text was too many bytes. Value ({size}) exceeded limit ({MAX_TEXT_BYTES}).",
                      "COMMENT_TOO_LONG")
    return plain_text(text, kind)


def _context(data: dict[str, Any]) -> None:
    """Check the context's shape; Perspective documents it as accepted and not used, and so it is here."""
    context = _object(data, "context", "context")
    entries = context.get("entries")
    if entries is not None and not isinstance(entries, list):
        raise bad_field("context.entries", "TYPE_MESSAGE", entries)
    for index, entry in enumerate(entries or []):
        if not isinstance(entry, dict):
            raise bad_field(f"context.entries[{index}]", "TYPE_MESSAGE", entry)
        _string(entry, "text", f"context.entries[{index}].text")
    parent = _object(context, "articleAndParentComment", "context.articleAndParentComment")
    if entries and parent:
        raise invalid("Context can have either entries or article_and_parent_comment, but both fields were "
                      "populated.")


# -- languages -------------------------------------------------------------------------------------


_CONTROLS = {code: " " for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))}


def detect_languages(text: str) -> list[str]:
    """The languages CLD2 reliably finds in text, most likely first; else the one its script alone names; else []."""
    import pycld2

    try:
        # CLD2 refuses control characters (C0, DEL, C1) as invalid UTF-8; they say nothing of the language.
        reliable, _, found = pycld2.detect(text.translate(_CONTROLS))
    except pycld2.error:
        reliable, found = False, ()
    if reliable:
        codes = [code for _, code, percent, _ in found if code not in ("un", "xxx") and percent > 0]
        if codes:
            return codes
    # CLD2 is unsure of short texts; a short one in Hangul, Han or Arabic script still says its language.
    by_script = detect_language(text, fallback=None)
    return [by_script.code] if by_script.source == "script" else []


@dataclass(frozen=True, slots=True)
class Languages:
    """The request's languages as sent, CLD2's, and the ISO 639-1 codes the comment is taken to be in."""

    requested: list[str]
    detected: list[str]
    # The requested languages, else the most likely detected one, each as ISO 639-1 (None where a tag has no
    # readable language); empty when none was given and none detected.
    codes: tuple[str | None, ...]

    @property
    def effective(self) -> list[str]:
        """What the answer's `languages` says: the request's, else the most likely detected one."""
        return self.requested or self.detected[:1]

    @property
    def scoring(self) -> str | None:
        """The language the model scores the comment in: the first of the request's, else the detected one."""
        return self.codes[0] if self.codes else None

    def backs(self, attribute: str) -> bool:
        """Whether `attribute` has backing in every language of the comment (Google's discovery document: the
        server refuses languages that are not *all* supported)."""
        return bool(self.codes) and all(backed_in(attribute, code) for code in self.codes)

    def not_supported(self, attribute: str) -> PerspectiveError:
        """Perspective's LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE error for `attribute` in these languages."""
        shown, key = (self.requested, "requestedLanguages") if self.requested else (self.detected[:1],
                                                                                   "detectedLanguages")
        return invalid(f"Attribute {attribute} does not support request languages: {', '.join(shown)}",
                       "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
                       languageNotSupportedByAttributeError={key: shown, "attribute": attribute})


def languages_of(requested: list[str], text: str, *, drop_unsupported: bool) -> Languages:
    """The comment's languages: the request's (BCP-47 in any case or region), else the one CLD2 detects.

    With no languages given and none detected, Perspective answers "Unable to detect language" (send
    `languages`, as Coral does, to skip detection); with drop_unsupported (dropUnsupportedAttributes) the
    comment has no language instead, and every attribute is dropped.
    """
    detected = detect_languages(text)
    if requested:
        return Languages(requested, detected, tuple(normalise_language(tag) for tag in requested))
    if detected:
        return Languages(requested, detected, (normalise_language(detected[0]),))
    if not drop_unsupported:
        raise invalid("Unable to detect language.", "LANGUAGE_DETECTION_FAILED")
    return Languages(requested, detected, ())


# -- analyze ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Requested:
    name: str
    threshold: float | None


@dataclass(frozen=True, slots=True)
class AnalyzeRequest:
    comment: CommentText
    # The requested attributes with backing in the comment's languages (dropUnsupportedAttributes drops the others).
    attributes: list[Requested]
    languages: Languages
    do_not_store: bool
    span_annotations: bool
    client_token: str = ""
    session_id: str = ""
    community_id: str = ""


def _attribute_fields(data: dict[str, Any]) -> list[tuple[str, str, float | None]]:
    """Each requested attribute's name, score type and threshold, type-checked."""
    attributes = _object(data, "requestedAttributes", "requestedAttributes")
    found = []
    for name, parameters in attributes.items():
        path = f"requestedAttributes[{name}]"
        if parameters is not None and not isinstance(parameters, dict):
            raise bad_field(path, "TYPE_MESSAGE", parameters)
        parameters = parameters or {}
        found.append((name, _enum(parameters, "scoreType", f"{path}.scoreType", SCORE_TYPES, "TYPE_ENUM"),
                      _number(parameters, "scoreThreshold", f"{path}.scoreThreshold")))
    return found


def _checked_attributes(wanted: list[tuple[str, str, float | None]], served: Collection[str]) -> list[Requested]:
    if not wanted:
        raise invalid("Missing requested_attributes.", "NO_REQUESTED_ATTRIBUTES")
    for name, score_type, _ in wanted:
        if name not in served:
            raise invalid(f"Unknown requested attribute: {name}")
        if score_type not in ("SCORE_TYPE_UNSPECIFIED", PROBABILITY):
            raise invalid(f"Requested score type {score_type} is not supported by attribute {name}")
    return [Requested(name, threshold) for name, _, threshold in wanted]


def parse_analyze(data: dict[str, Any], served: Collection[str] = ATTRIBUTES) -> AnalyzeRequest:
    """Check an AnalyzeComment request; PerspectiveError (400) for anything Perspective would refuse."""
    # Every field's type first, as Google's JSON parser reads the whole message before any check of meaning.
    text, kind = _comment_fields(data)
    wanted = _attribute_fields(data)
    languages = _strings(data, "languages", "languages")
    drop = _bool(data, "dropUnsupportedAttributes", "dropUnsupportedAttributes")
    do_not_store = _bool(data, "doNotStore", "doNotStore")
    span_annotations = _bool(data, "spanAnnotations", "spanAnnotations")
    client_token = _string(data, "clientToken", "clientToken")
    session_id = _string(data, "sessionId", "sessionId")
    community_id = _string(data, "communityId", "communityId")
    comment = _checked_comment(text, kind)
    attributes = _checked_attributes(wanted, served)
    found = languages_of(languages, comment.plain, drop_unsupported=drop)
    unbacked = [wanted.name for wanted in attributes if not found.backs(wanted.name)]
    if unbacked and not drop:
        # The first attribute without backing is named, as Perspective names one; clients drop it and retry.
        raise found.not_supported(unbacked[0])
    return AnalyzeRequest(
        comment=comment,
        attributes=[wanted for wanted in attributes if wanted.name not in unbacked],
        languages=found,
        do_not_store=do_not_store,
        span_annotations=span_annotations,
        client_token=client_token,
        session_id=session_id,
        community_id=community_id,
    )


def _score(value: float) -> dict[str, Any]:
    # The protocol's values are 32-bit floats: seven significant digits are all a client can read.
    return {"value": round(float(value), 7), "type": PROBABILITY}


def analyze_answer(request: AnalyzeRequest, scores: dict[str, AttributeScore]) -> dict[str, Any]:
    """The AnalyzeComment response for a checked request and its attribute scores (of the plain text)."""
    answer: dict[str, Any] = {}
    attribute_scores: dict[str, Any] = {}
    utf16 = utf16_offsets(request.comment.sent) if request.span_annotations else None
    for wanted in request.attributes:
        found = scores[wanted.name]
        if wanted.threshold is not None and found.value < wanted.threshold:
            continue
        entry: dict[str, Any] = {"summaryScore": _score(found.value)}
        if request.span_annotations and found.spans:
            spans = []
            for span in found.spans:
                begin, end = request.comment.to_sent(span)
                if utf16 is not None:
                    begin, end = utf16[begin], utf16[end]
                spans.append({"begin": begin, "end": end, "score": _score(found.value)})
            entry["spanScores"] = spans
        attribute_scores[wanted.name] = entry
    if attribute_scores:
        answer["attributeScores"] = attribute_scores
    if request.languages.effective:
        answer["languages"] = request.languages.effective
    if request.languages.detected:
        answer["detectedLanguages"] = request.languages.detected
    if request.client_token:
        answer["clientToken"] = request.client_token
    return answer


def record_example(redis: Redis, keys: Keys, request: AnalyzeRequest, spam: float, abuse: float, model_version: str,
                   api_key: str) -> None:
    """Keep an analyzed comment and its scores as an unlabelled example (doNotStore false), newest kept."""
    redis.xadd(
        keys.perspective_examples,
        {"text": request.comment.plain, "spam": f"{spam:.6f}", "abuse": f"{abuse:.6f}", "model_version": model_version,
         "language": request.languages.scoring or "", "community_id": request.community_id, "api_key": api_key,
         "received_at": now_iso()},
        maxlen=EXAMPLES_MAXLEN, approximate=True,
    )


# -- suggestscore ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SuggestRequest:
    comment: CommentText
    suggested: dict[str, float]
    languages: Languages
    client_token: str = ""
    community_id: str = ""
    spam: int | None = None
    abuse: int | None = None
    ignored: list[str] = field(default_factory=list)


def _suggested_value(scores: dict[str, Any], name: str) -> float:
    """An attribute's suggested score: its summary, else its highest span score; 400 when it has neither."""
    path = f"attributeScores[{name}]"
    summary = _object(scores, "summaryScore", f"{path}.summaryScore")
    spans = scores.get("spanScores")
    if spans is not None and not isinstance(spans, list):
        raise bad_field(f"{path}.spanScores", "TYPE_MESSAGE", spans)
    values: list[float] = []
    if summary:
        values.append(_probability(summary, f"{path}.summaryScore"))
    for index, span in enumerate(spans or []):
        span_path = f"{path}.spanScores[{index}]"
        if not isinstance(span, dict):
            raise bad_field(span_path, "TYPE_MESSAGE", span)
        begin, end = _integer(span, "begin", f"{span_path}.begin"), _integer(span, "end", f"{span_path}.end")
        if begin is None or end is None or not 0 <= begin <= end:
            raise invalid(f"{span_path} must set begin and end, with 0 <= begin <= end.")
        score = _object(span, "score", f"{span_path}.score")
        if not score:
            raise invalid(f"{span_path}.score must be set.")
        values.append(_probability(score, f"{span_path}.score"))
    if not values:
        raise invalid(f"{path} must hold a summaryScore or spanScores.")
    return values[0] if summary else max(values)


def _probability(score: dict[str, Any], path: str) -> float:
    kind = _enum(score, "type", f"{path}.type", SCORE_TYPES, "TYPE_ENUM")
    if kind not in ("SCORE_TYPE_UNSPECIFIED", PROBABILITY):
        raise invalid(f"{path}.type: only PROBABILITY scores are accepted, not {kind}.")
    value = _number(score, "value", f"{path}.value")
    if value is None:
        raise invalid(f"{path}.value must be set (for binary classification, use 0 and 1).")
    if not 0.0 <= value <= 1.0:
        raise invalid(f"{path}.value must be a probability in [0, 1], not {value}.")
    return value


def labels_of(suggested: dict[str, float]) -> tuple[int | None, int | None]:
    """(spam, abuse) labels from suggested scores: 0.5 or more is 1, below is 0, an attribute not given is None.

    TOXICITY judges abuse both ways; SEVERE_TOXICITY, INSULT, THREAT or IDENTITY_ATTACK at 0.5 or more
    say abusive (each is a kind of toxicity), below it nothing; SPAM judges spam both ways.
    """
    spam = None if SPAM not in suggested else int(suggested[SPAM] >= 0.5)
    if TOXICITY in suggested:
        abuse: int | None = int(suggested[TOXICITY] >= 0.5)
    else:
        abuse = 1 if any(suggested.get(name, 0.0) >= 0.5 for name in _ABUSIVE_KINDS) else None
    return spam, abuse


def _learnt_in(name: str, language: str | None) -> bool:
    """Whether a suggested score of `name` in `language` can teach the head it labels.

    TOXICITY and its kinds label abuse, which the abuse head learns in its languages (an INSULT suggestion
    teaches the head even where INSULT's English lexicon gate cannot score); SPAM labels the spam head, whose
    signals read any language; PROFANITY labels nothing, so any language will do.
    """
    if language is None:
        return False
    if name in (TOXICITY, *_ABUSIVE_KINDS):
        return language in SUPPORTED_LANGUAGES
    return True


def parse_suggest(data: dict[str, Any], served: Collection[str] = ATTRIBUTES) -> SuggestRequest:
    """Check a SuggestCommentScore request and read its labels; PerspectiveError (400) when malformed."""
    text, kind = _comment_fields(data)
    scores = _object(data, "attributeScores", "attributeScores")
    for name, value in scores.items():
        if value is not None and not isinstance(value, dict):
            raise bad_field(f"attributeScores[{name}]", "TYPE_MESSAGE", value)
    languages = _strings(data, "languages", "languages")
    client_token = _string(data, "clientToken", "clientToken")
    community_id = _string(data, "communityId", "communityId")
    _string(data, "sessionId", "sessionId")
    comment = _checked_comment(text, kind)
    if not scores:
        raise invalid("attribute_scores must not be empty.", "NO_REQUESTED_ATTRIBUTES")
    suggested: dict[str, float] = {}
    for name, value in scores.items():
        if name not in served:
            raise invalid(f"Unknown attribute: {name}")
        if not value:
            raise invalid(f"attributeScores[{name}] must not be empty.")
        suggested[name] = _suggested_value(value, name)
    spam, abuse = labels_of(suggested)
    found = languages_of(languages, comment.plain, drop_unsupported=False)
    for name in suggested:
        if not all(_learnt_in(name, code) for code in found.codes):
            raise found.not_supported(name)
    return SuggestRequest(
        comment=comment,
        suggested=suggested,
        languages=found,
        client_token=client_token,
        community_id=community_id,
        spam=spam,
        abuse=abuse,
        ignored=[name for name in suggested if name not in (TOXICITY, SPAM, *_ABUSIVE_KINDS)],
    )


def suggestion_decision(request: SuggestRequest) -> Decision | None:
    """The labelled example a suggestion makes, for `moderation train --decisions`; None when it labels nothing."""
    if request.spam is None and request.abuse is None:
        return None
    return Decision(request.comment.plain, request.spam, request.abuse, reason="perspective suggestscore",
                    decided_at=now_iso(), source="perspective")


def suggest_answer(request: SuggestRequest) -> dict[str, Any]:
    """The SuggestCommentScore response: the token, the detected and the requested languages."""
    answer: dict[str, Any] = {}
    if request.client_token:
        answer["clientToken"] = request.client_token
    if request.languages.detected:
        answer["detectedLanguages"] = request.languages.detected
    if request.languages.requested:
        answer["requestedLanguages"] = request.languages.requested
    return answer


# -- discovery -------------------------------------------------------------------------------------


def _schema(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"id": name, "type": "object", "description": description, "properties": properties}


def _string_enum(values: Sequence[str], description: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), "description": description}


def _languages_description() -> str:
    """Which attribute is backed in which language, in words, for the discovery document."""
    by_languages: dict[frozenset[str] | None, list[str]] = {}
    for name in ATTRIBUTES:
        by_languages.setdefault(BACKED_LANGUAGES[name], []).append(name)
    parts = []
    for languages, names in by_languages.items():
        where = "any language" if languages is None else ", ".join(
            f"{code} ({LANGUAGE_NAMES[code]})" for code in SUPPORTED_LANGUAGES if code in languages)
        parts.append(f"{', '.join(names)}: {where}")
    return ("Attributes are backed by language (others answer LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE): "
            + "; ".join(parts) + ".")


def discovery_document(root_url: str) -> dict[str, Any]:
    """Google's discovery document for commentanalyzer v1alpha1, trimmed to what this service serves.

    Based on Google's own (revision 20200301): the same names, methods, paths and schemas, so its
    client libraries build the same `comments().analyze()` and `comments().suggestscore()`; with
    this service as rootUrl, API-key access only (no OAuth scopes), and no batch endpoint.
    """
    text_entry = {"$ref": "TextEntry"}
    score_types = _string_enum(SCORE_TYPES, "Only PROBABILITY (or unspecified) is served.")
    method = {"httpMethod": "POST", "parameterOrder": [], "parameters": {}}
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "commentanalyzer:v1alpha1",
        "name": "commentanalyzer",
        "canonicalName": "Comment Analyzer",
        "version": "v1alpha1",
        "revision": "20261201",
        "title": "Perspective Comment Analyzer API (served by the newsroom moderation service)",
        "description": "Perspective's AnalyzeComment and SuggestCommentScore, answered by this service's own "
                       "model: attributes " + ", ".join(ATTRIBUTES) + ". " + _languages_description(),
        "ownerDomain": "newsroom-moderation",
        "ownerName": "newsroom-moderation",
        "documentationLink": root_url + "openapi.json",
        "protocol": "rest",
        "rootUrl": root_url,
        "baseUrl": root_url,
        "servicePath": "",
        "basePath": "",
        "version_module": True,
        "parameters": {
            "key": {"type": "string", "location": "query",
                    "description": "API key, from `moderation api-keys add NAME`."},
            "alt": {"type": "string", "location": "query", "default": "json", "enum": ["json"],
                    "enumDescriptions": ["Responses with Content-Type of application/json"],
                    "description": "Data format for response."},
            "$.xgafv": {"type": "string", "location": "query", "enum": ["1", "2"],
                        "enumDescriptions": ["v1 error format", "v2 error format"],
                        "description": "Error format (both are Google's JSON error shape here)."},
        },
        "resources": {"comments": {"methods": {
            "analyze": {**method, "id": "commentanalyzer.comments.analyze", "path": "v1alpha1/comments:analyze",
                        "flatPath": "v1alpha1/comments:analyze",
                        "description": "Analyzes the provided text and returns scores for requested attributes.",
                        "request": {"$ref": "AnalyzeCommentRequest"}, "response": {"$ref": "AnalyzeCommentResponse"}},
            "suggestscore": {**method, "id": "commentanalyzer.comments.suggestscore",
                             "path": "v1alpha1/comments:suggestscore", "flatPath": "v1alpha1/comments:suggestscore",
                             "description": "Suggest comment scores as training data.",
                             "request": {"$ref": "SuggestCommentScoreRequest"},
                             "response": {"$ref": "SuggestCommentScoreResponse"}},
        }}},
        "schemas": {
            "AnalyzeCommentRequest": _schema("AnalyzeCommentRequest", "The comment analysis request message.", {
                "comment": {**text_entry, "description": "The comment to analyze."},
                "context": {"$ref": "Context", "description": "The context of the comment (accepted, not used)."},
                "requestedAttributes": {"type": "object", "additionalProperties": {"$ref": "AttributeParameters"},
                                        "description": "Attributes to score: " + ", ".join(ATTRIBUTES) + "."},
                "languages": {"type": "array", "items": {"type": "string"},
                              "description": "The comment's languages (ISO 639-1 or BCP-47 tags; detected when "
                                             "none is given). " + _languages_description()},
                "doNotStore": {"type": "boolean", "description": "Keep nothing of the comment."},
                "spanAnnotations": {"type": "boolean", "description": "Return the spans behind each score."},
                "clientToken": {"type": "string", "description": "Echoed in the response."},
                "sessionId": {"type": "string", "description": "Accepted, not used."},
                "communityId": {"type": "string", "description": "Kept with a stored example."},
                "dropUnsupportedAttributes": {"type": "boolean", "description": "Leave out the requested "
                                              "attributes with no backing in the comment's language instead of "
                                              "an error."},
            }),
            "AnalyzeCommentResponse": _schema("AnalyzeCommentResponse", "The comment analysis response message.", {
                "attributeScores": {"type": "object", "additionalProperties": {"$ref": "AttributeScores"}},
                "languages": {"type": "array", "items": {"type": "string"}},
                "detectedLanguages": {"type": "array", "items": {"type": "string"}},
                "clientToken": {"type": "string"},
            }),
            "ArticleAndParentComment": _schema("ArticleAndParentComment", "An article and a parent comment.", {
                "article": text_entry, "parentComment": text_entry}),
            "AttributeParameters": _schema("AttributeParameters", "Configurable parameters for attribute scoring.", {
                "scoreThreshold": {"type": "number", "format": "float",
                                   "description": "Don't return scores for this attribute below this threshold."},
                "scoreType": score_types,
            }),
            "AttributeScores": _schema("AttributeScores", "One attribute's summary and span scores.", {
                "summaryScore": {"$ref": "Score"},
                "spanScores": {"type": "array", "items": {"$ref": "SpanScore"}},
            }),
            "Context": _schema("Context", "What the comment replies to.", {
                "entries": {"type": "array", "items": text_entry},
                "articleAndParentComment": {"$ref": "ArticleAndParentComment"},
            }),
            "Score": _schema("Score", "A value and its type.", {
                "value": {"type": "number", "format": "float"}, "type": score_types}),
            "SpanScore": _schema("SpanScore", "A score for a span of the text: UTF-16 offsets, end exclusive.", {
                "begin": {"type": "integer", "format": "int32"}, "end": {"type": "integer", "format": "int32"},
                "score": {"$ref": "Score"}}),
            "SuggestCommentScoreRequest": _schema("SuggestCommentScoreRequest", "A suggested score, learnt from.", {
                "comment": text_entry,
                "context": {"$ref": "Context"},
                "attributeScores": {"type": "object", "additionalProperties": {"$ref": "AttributeScores"}},
                "languages": {"type": "array", "items": {"type": "string"},
                              "description": "The comment's languages, as in AnalyzeCommentRequest: a suggestion "
                                             "of SPAM or PROFANITY in any, of another attribute in those "
                                             "TOXICITY is backed in."},
                "communityId": {"type": "string"},
                "clientToken": {"type": "string"},
                "sessionId": {"type": "string"},
            }),
            "SuggestCommentScoreResponse": _schema("SuggestCommentScoreResponse", "The suggestion's receipt.", {
                "clientToken": {"type": "string"},
                "detectedLanguages": {"type": "array", "items": {"type": "string"}},
                "requestedLanguages": {"type": "array", "items": {"type": "string"}},
            }),
            "TextEntry": _schema("TextEntry", "Represents a body of text.", {
                "text": {"type": "string", "description": f"UTF-8 text, at most {MAX_TEXT_BYTES} bytes."},
                "type": _string_enum(TEXT_TYPES, "HTML is stripped of its markup before scoring."),
            }),
        },
    }
