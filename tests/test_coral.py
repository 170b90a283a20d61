"""Coral's external moderation phase, against the real app, model and Redis.

Requests are built as Coral builds them: by tests/coral_send.mjs, a transcription of Coral's request, signing and
fetch code run in Node against a real HTTP server (skipped, saying so, without Node), and in Python with the same
serialisation (`JSON.stringify(request, null, 2)` is `json.dumps(request, indent=2, ensure_ascii=False)`) for the
cases Coral would never send. Every answer is read as Coral reads it: `coral_reads` below transcribes
`processPhase` and `validateResponse` from coralproject/talk's
server/src/core/server/services/comments/pipeline/phases/external.ts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from redis import Redis

import api.coral as api_coral
from moderation.coral import moderate, signature_matches, signing_secrets
from moderation.intake import Scorer, assess
from moderation.keys import Keys
from moderation.policy import Assessment, Policy, Word
from moderation.policy_store import PolicyStore
from moderation_cli import main as cli
from tests.conftest import serving

SECRET = "ems_6a1f0c2d9b8e7f3a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3"
OLD_SECRET = "ems_0011223344556677889900aabbccddeeff00112233445566778899aabbccddee"
CIVIL = "Thanks for the clear reporting on the council budget; I hope they publish the full figures."
SPAM = "Subscribe to my channel!!! Check out my channel for free giveaways http://youtube.com/xyz"
DOUBTFUL = "I earn $200 a week from home now."
TOXIC = "You are a complete idiot and a moron, shut up"
THREAT = "I know where you live, and people like you should be shot."
NODE = shutil.which("node")
SEND = Path(__file__).with_name("coral_send.mjs")
needs_node = pytest.mark.skipif(NODE is None, reason="needs Node (node) to send requests as Coral's code does")


# -- how Coral reads our answer ---------------------------------------------------------------------------------

# ExternalModerationResponseSchema's allowed values: GQLCOMMENT_STATUS, ACTION_TYPE.FLAG, the two flag reasons
# it lists, GQLTAG.FEATURED and STAFF.
STATUSES = {"APPROVED", "NONE", "PREMOD", "REJECTED", "SYSTEM_WITHHELD"}
REASONS = {"COMMENT_DETECTED_TOXIC", "COMMENT_DETECTED_SPAM"}
TAGS = {"FEATURED", "STAFF"}


class CoralRejects(Exception):
    """validateResponse threw: Coral logs "failed to process custom moderation phase" and ignores the answer."""


def validate_response(body: Any) -> dict[str, Any]:
    """Joi's validate(body, {stripUnknown: true, presence: "optional", abortEarly: false}) with the schema above:
    unknown keys dropped, unknown values of the listed keys an error."""
    if not isinstance(body, dict):
        raise CoralRejects(f"value must be of type object, not {body!r}")
    value: dict[str, Any] = {}
    if "actions" in body:
        if not isinstance(body["actions"], list):
            raise CoralRejects("actions must be an array")
        value["actions"] = []
        for action in body["actions"]:
            if not isinstance(action, dict):
                raise CoralRejects("actions[] must be objects")
            if action.get("actionType") != "FLAG":
                raise CoralRejects(f"actionType must be FLAG, not {action.get('actionType')!r}")
            if action.get("reason") not in REASONS:
                raise CoralRejects(f"reason must be one of {sorted(REASONS)}, not {action.get('reason')!r}")
            value["actions"].append({"actionType": action["actionType"], "reason": action["reason"]})
    if "status" in body:
        if body["status"] not in STATUSES:
            raise CoralRejects(f"status must be one of {sorted(STATUSES)}, not {body['status']!r}")
        value["status"] = body["status"]
    if "tags" in body:
        if not isinstance(body["tags"], list) or any(tag not in TAGS for tag in body["tags"]):
            raise CoralRejects(f"tags must be from {sorted(TAGS)}")
        value["tags"] = body["tags"]
    return value


def coral_reads(status: int, text: str) -> dict[str, Any] | None:
    """processPhase: a non-2xx answer or an empty one (204, "" or "{}") leaves the comment to the next phase;
    anything else must parse as JSON and pass validateResponse."""
    if not 200 <= status < 300:
        return None
    if status == 204 or text in ("", "{}"):
        return None
    return validate_response(json.loads(text))


# -- requests as Coral sends them ---------------------------------------------------------------------------------


def coral_request(body: str, role: str = "COMMENTER", *, parent_id: str | None = None, action: str = "NEW",
                  shape: str = "current") -> dict[str, Any]:
    """The request object processPhase builds, in its key order."""
    comment = {"body": body, "parentID": parent_id}
    author = {"id": "baf4e943-3594-4fcc-b2ba-3e8de7a76352", "role": role}
    story = {"id": "245b3856-b0a0-4d2f-a6bb-58c71f18d6a6", "url": "https://news.example/world/korea-pact"}
    site = {"id": "a4bede88-2d2c-4424-bc18-4322a9e285a6"}
    if shape == "first":
        return {"tenant": {"id": "19ba5794-7eeb-4d46-a81b-c00c61672501", "domain": "comments.news.example"},
                "action": action, "comment": comment, "author": author, "story": story, "site": site}
    return {"action": action, "comment": comment, "author": author, "story": story, "site": site,
            "tenantID": "19ba5794-7eeb-4d46-a81b-c00c61672501", "tenantDomain": "comments.news.example"}


def serialise(request: dict[str, Any]) -> bytes:
    """JSON.stringify(request, null, 2), as generateFetchOptions sends it."""
    return json.dumps(request, indent=2, ensure_ascii=False).encode()


def signatures(body: bytes, *secrets: str) -> str:
    """generateSignatures: sha256=<hex HMAC-SHA256(secret, body)> per active secret, comma-joined."""
    return ",".join("sha256=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest() for s in secrets)


def post(client: FlaskClient, request: dict[str, Any] | bytes, *secrets: str,
         headers: dict[str, str] | None = None) -> Any:
    body = request if isinstance(request, bytes) else serialise(request)
    sent = {"Content-Type": "application/json", "User-Agent": "Coral Moderation/9.0.0"}
    if secrets:
        sent["X-Coral-Signature"] = signatures(body, *secrets)
    sent.update(headers or {})
    return client.post("/v1/coral/moderation-phase", data=body, headers=sent)


@pytest.fixture
def coral(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    app.config["CORAL_SIGNING_SECRETS"] = signing_secrets(SECRET)
    # Tests change the policy between requests: every request reads it (test_a_policy_change_... checks the window).
    monkeypatch.setattr(api_coral, "POLICY_FRESH_SECONDS", 0.0)
    return app


@pytest.fixture
def client(coral: Flask) -> FlaskClient:
    return coral.test_client()


@pytest.fixture
def policies(redis: Redis) -> PolicyStore:
    return PolicyStore(redis, Keys())


def answer(response: Any) -> dict[str, Any] | None:
    read = coral_reads(response.status_code, response.get_data(as_text=True))
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    return read


def decisions(outcome: str, reason: str) -> float:
    return REGISTRY.get_sample_value("moderation_decisions_total",
                                     {"kind": "coral", "outcome": outcome, "reason": reason}) or 0.0


def scored() -> float:
    return REGISTRY.get_sample_value("moderation_scoring_seconds_count") or 0.0


# -- answers ------------------------------------------------------------------------------------------------------


def test_a_civil_comment_is_left_alone(client: FlaskClient) -> None:
    response = post(client, coral_request(CIVIL), SECRET)
    assert response.status_code == 204 and response.get_data() == b""


def test_confident_spam_is_rejected_and_flagged(client: FlaskClient) -> None:
    response = post(client, coral_request(SPAM), SECRET)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert answer(response) == {"status": "REJECTED",
                                "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_SPAM"}]}
    metadata = response.get_json()["metadata"]
    assert metadata["decision"] == "rejected" and metadata["scores"]["spam"] >= 0.98
    assert metadata["model_version"] and metadata["reasons"][0]["code"] == "spam"


def test_doubtful_spam_is_withheld_for_review(client: FlaskClient, policies: PolicyStore, model: Scorer) -> None:
    score = assess(model, DOUBTFUL).spam
    assert 0.05 < score < 0.95, f"the example needs a middling score, not {score}"
    policies.update({"spam_hold": score - 0.04, "spam_reject": score + 0.04}, "test")
    assert answer(post(client, coral_request(DOUBTFUL), SECRET)) == {
        "status": "SYSTEM_WITHHELD", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_SPAM"}]}


def test_abuse_is_rejected_or_withheld_as_toxic(client: FlaskClient, policies: PolicyStore) -> None:
    toxic = [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]
    assert answer(post(client, coral_request(TOXIC), SECRET)) == {"status": "REJECTED", "actions": toxic}
    policies.update({"abuse_reject": 1.0}, "test")
    response = post(client, coral_request(TOXIC), SECRET)
    assert answer(response) == {"status": "SYSTEM_WITHHELD", "actions": toxic}
    words = response.get_json()["metadata"]["reasons"][0]["words"]
    assert {w["text"] for w in words} >= {"idiot", "moron"}
    assert all(TOXIC[w["start"]:w["end"]] == w["text"] for w in words)


def test_a_threat_is_withheld_as_toxic(client: FlaskClient) -> None:
    body = answer(post(client, coral_request(THREAT), SECRET))
    assert body is not None and body["status"] in ("SYSTEM_WITHHELD", "REJECTED")
    assert {"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"} in body["actions"]


def test_word_lists_decide_the_status_without_a_flag_coral_would_refuse(client: FlaskClient,
                                                                       policies: PolicyStore) -> None:
    policies.update({"blocked_terms": ["council budget"], "suspect_terms": ["figures"]}, "test")
    response = post(client, coral_request(CIVIL), SECRET)
    assert answer(response) == {"status": "REJECTED", "actions": []}
    assert [r["code"] for r in response.get_json()["metadata"]["reasons"]] == ["blocked_term", "suspect_term"]
    policies.update({"blocked_terms": []}, "test")
    assert answer(post(client, coral_request(CIVIL), SECRET)) == {"status": "SYSTEM_WITHHELD", "actions": []}


def test_too_many_links_are_withheld_as_spam(client: FlaskClient, policies: PolicyStore) -> None:
    policies.update({"spam_hold": 1.0, "spam_reject": 1.0}, "test")  # the link rule alone
    text = "Sources: https://a.example/1 https://b.example/2 https://c.example/3 for the budget figures."
    assert answer(post(client, coral_request(text), SECRET)) == {
        "status": "SYSTEM_WITHHELD", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_SPAM"}]}


@pytest.mark.parametrize("role", ["ADMIN", "MODERATOR", "STAFF"])
def test_staff_are_left_alone(client: FlaskClient, role: str) -> None:
    before = scored()
    response = post(client, coral_request(SPAM, role), SECRET)
    assert response.status_code == 204 and scored() == before


@pytest.mark.parametrize("role", ["COMMENTER", "MEMBER", "A_ROLE_CORAL_ADDS_LATER"])
def test_other_roles_are_moderated(client: FlaskClient, role: str) -> None:
    assert answer(post(client, coral_request(SPAM, role), SECRET))["status"] == "REJECTED"  # type: ignore[index]


def test_html_bodies_are_scored_as_the_text_readers_see(client: FlaskClient) -> None:
    html = ("<p>You are a complete <b>idiot</b>,<br>and a <i>moron</i>.</p>"
            "<blockquote>shut up</blockquote><script>var x = 'kind words';</script>")
    response = post(client, coral_request(html), SECRET)
    assert answer(response)["actions"] == [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]  # type: ignore[index]
    # A link's target counts, though readers only see its words.
    hidden = '<p>Subscribe to my channel!!! <a href="http://youtube.com/xyz">free giveaways</a></p>'
    assert answer(post(client, coral_request(hidden), SECRET))["status"] == "REJECTED"  # type: ignore[index]
    for empty in ("", "<p><br></p>", '<p><img src="https://giphy.example/cat.gif"></p>'):
        assert post(client, coral_request(empty), SECRET).status_code == 204


def test_edits_replies_and_the_first_releases_shape_are_moderated(client: FlaskClient) -> None:
    for request in (coral_request(SPAM, action="EDIT"), coral_request(SPAM, parent_id="d79b787f-f406"),
                    coral_request(SPAM, shape="first")):
        assert answer(post(client, request, SECRET))["status"] == "REJECTED"  # type: ignore[index]


def test_fields_coral_may_add_are_ignored(client: FlaskClient) -> None:
    request = coral_request(SPAM)
    request["comment"]["revision"] = {"id": "r1"}
    request["author"]["username"] = "someone"
    request["newField"] = [1, 2, 3]
    assert answer(post(client, request, SECRET))["status"] == "REJECTED"  # type: ignore[index]


def test_nothing_is_stored_and_decisions_are_counted(client: FlaskClient, redis: Redis) -> None:
    before = sorted(redis.scan_iter())
    rejected, skipped = decisions("rejected", "spam"), decisions("skipped", "staff")
    post(client, coral_request(SPAM), SECRET)
    post(client, coral_request(SPAM, "STAFF"), SECRET)
    post(client, coral_request(CIVIL), SECRET)
    assert sorted(redis.scan_iter()) == before
    assert decisions("rejected", "spam") == rejected + 1 and decisions("skipped", "staff") == skipped + 1


def test_a_policy_change_reaches_the_phase_within_its_window(client: FlaskClient, policies: PolicyStore,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_coral, "POLICY_FRESH_SECONDS", 0.3)
    assert post(client, coral_request(CIVIL), SECRET).status_code == 204
    policies.update({"blocked_terms": ["council budget"]}, "test")
    assert post(client, coral_request(CIVIL), SECRET).status_code == 204  # the copy checked a moment ago
    time.sleep(0.35)
    assert answer(post(client, coral_request(CIVIL), SECRET)) == {"status": "REJECTED", "actions": []}


# -- signatures ---------------------------------------------------------------------------------------------------


def test_unsigned_or_wrongly_signed_requests_are_refused_unscored(client: FlaskClient, redis: Redis) -> None:
    body = serialise(coral_request(SPAM))
    before, keys_before = scored(), sorted(redis.scan_iter())
    refused = [
        post(client, body),
        post(client, body, headers={"X-Coral-Signature": ""}),
        post(client, body, headers={"X-Coral-Signature": "sha256=" + "0" * 64}),
        post(client, body, headers={"X-Coral-Signature": signatures(body, SECRET).removeprefix("sha256=")}),
        post(client, body, headers={"X-Coral-Signature": signatures(body, SECRET).replace("sha256", "sha1")}),
        post(client, body, headers={"X-Coral-Signature": "sha256=é" + "0" * 63}),
        post(client, body, "another-phase's-secret"),
        post(client, body.replace(b"Subscribe", b"Subscribed"),
             headers={"X-Coral-Signature": signatures(body, SECRET)}),
        post(client, body, headers={"X-Coral-Signature": signatures(body + b"\n", SECRET)}),
    ]
    for response in refused:
        assert response.status_code == 401 and response.mimetype == "application/problem+json"
        assert "X-Coral-Signature" in response.get_json()["detail"]
    assert scored() == before and sorted(redis.scan_iter()) == keys_before


def test_a_rotated_secret_keeps_working_through_the_overlap(coral: Flask) -> None:
    client = coral.test_client()
    request = coral_request(SPAM)
    # Coral signs with both while the old secret has not expired; either one configured here is enough.
    coral.config["CORAL_SIGNING_SECRETS"] = signing_secrets(SECRET)
    assert post(client, request, OLD_SECRET, SECRET).status_code == 200
    assert post(client, request, OLD_SECRET).status_code == 401
    coral.config["CORAL_SIGNING_SECRETS"] = signing_secrets(f" {OLD_SECRET} , {SECRET} ")
    assert post(client, request, OLD_SECRET).status_code == 200
    assert post(client, request, SECRET).status_code == 200
    assert post(client, request, SECRET, OLD_SECRET).status_code == 200
    assert post(client, request, "yet-another").status_code == 401


def test_without_secrets_the_phase_says_it_is_not_configured(app: Flask) -> None:
    assert app.config["CORAL_SIGNING_SECRETS"] == ()
    client = app.test_client()
    for response in (post(client, coral_request(SPAM)), post(client, coral_request(SPAM), "")):
        assert response.status_code == 503 and response.mimetype == "application/problem+json"
        assert "MODERATION_CORAL_SIGNING_SECRETS" in response.get_json()["detail"]


def test_signature_matching() -> None:
    body = b'{\n  "action": "NEW"\n}'
    assert signature_matches(signatures(body, SECRET), body, [SECRET])
    assert signature_matches(signatures(body, SECRET).upper().replace("SHA256", "sha256"), body, [SECRET])
    assert signature_matches(" " + signatures(body, "x", SECRET).replace(",", " , "), body, [SECRET])
    assert not signature_matches(signatures(body, SECRET), body, [])
    assert not signature_matches(",".join([signatures(body, "x")] * 8 + [signatures(body, SECRET)]), body, [SECRET])
    assert signing_secrets(" a, ,b ,") == ("a", "b")
    assert signing_secrets(None) == () and signing_secrets(["a"]) == ("a",)


# -- bad requests -------------------------------------------------------------------------------------------------


def test_bad_requests_get_a_clear_400(client: FlaskClient) -> None:
    good = coral_request(SPAM)
    bad: dict[bytes, str] = {
        b'{"action": "NEW", "comment": ': "not valid JSON",
        b"\xff\xfe not utf-8": "not valid JSON",
        b"[]": "not an external moderation request",
        b'"NEW"': "not an external moderation request",
        serialise({k: v for k, v in good.items() if k != "author"}): "author",
        serialise({**good, "comment": {"parentID": None}}): "comment.body",
        serialise({**good, "comment": {"body": 42, "parentID": None}}): "comment.body",
        serialise({**good, "action": "DELETE"}): "action",
        serialise({**good, "author": {"id": "u1"}}): "author.role",
        serialise({**good, "story": "https://news.example/a"}): "story",
    }
    for body, expected in bad.items():
        response = post(client, body, SECRET)
        assert response.status_code == 400, (body, response.get_data(as_text=True))
        problem = response.get_json()
        assert response.mimetype == "application/problem+json" and problem["status"] == 400
        found = problem["detail"] + " " + " ".join(error["field"] for error in problem.get("errors") or [])
        assert expected in found, (body, problem)
    form = post(client, serialise(good), SECRET, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    assert client.get("/v1/coral/moderation-phase").status_code == 405


# -- every answer we give is one Coral takes ----------------------------------------------------------------------

_WORDS = ["budget", "council", "figures", "idiot", "I know where you live", "https://a.example/1", "www.b.biz",
          "free", "subscribe", "the", "and", "moron", "http://bit.ly/x"]


@settings(max_examples=300, deadline=None)
@given(
    spam=st.floats(0, 1), abuse=st.floats(0, 1),
    holds=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)),
    words=st.lists(st.sampled_from(_WORDS), max_size=12),
    blocked=st.lists(st.sampled_from(_WORDS), max_size=2), suspect=st.lists(st.sampled_from(_WORDS), max_size=2),
    max_links=st.integers(0, 3), threats=st.booleans(),
)
def test_every_answer_validates_against_corals_schema(spam: float, abuse: float,
                                                      holds: tuple[float, float, float, float], words: list[str],
                                                      blocked: list[str], suspect: list[str], max_links: int,
                                                      threats: bool) -> None:
    spam_hold, spam_reject = sorted(holds[:2])
    abuse_hold, abuse_reject = sorted(holds[2:])
    policy = Policy(spam_hold=spam_hold, spam_reject=spam_reject, abuse_hold=abuse_hold, abuse_reject=abuse_reject,
                    blocked_terms=tuple(blocked), suspect_terms=tuple(suspect), max_links=max_links,
                    hold_threats=threats)
    text = " ".join(words) or "a comment"
    assessment = Assessment(spam, abuse, (Word(0, 1, text[:1], 0.5),), (Word(0, 1, text[:1], 0.7),))
    result = moderate(policy, assessment, text, "2026.11.27-test")
    if result.body is None:
        assert result.decision.status == "published"
        return
    read = validate_response(json.loads(json.dumps(result.body)))
    assert read["status"] == {"rejected": "REJECTED", "pending": "SYSTEM_WITHHELD"}[result.decision.status]
    assert len(read["actions"]) == len({a["reason"] for a in read["actions"]})
    assert isinstance(result.body["metadata"], dict)  # Coral's first release takes metadata as an object


# -- as Coral's own code sends it ---------------------------------------------------------------------------------


@pytest.fixture
def server(coral: Flask) -> Iterator[str]:
    with serving(coral) as url:
        yield url + "/v1/coral/moderation-phase"


def send_as_coral(url: str, *, html: str, text: str, role: str = "COMMENTER", secrets: tuple[str, ...] = (SECRET,),
                  fmt: str = "HTML", shape: str = "current", parent_id: str | None = None) -> dict[str, Any]:
    assert NODE is not None
    given = {
        "url": url, "secrets": list(secrets), "format": fmt, "shape": shape, "action": "NEW",
        # Coral's largest timeout: this checks the exchange, not its speed (bench/coral_phase.py measures that).
        "timeout": 10_000,
        "comment": {"html": html, "text": text, "parentID": parent_id},
        "author": {"id": "baf4e943-3594-4fcc-b2ba-3e8de7a76352", "role": role},
        "story": {"id": "245b3856-b0a0-4d2f-a6bb-58c71f18d6a6", "url": "https://news.example/world/korea-pact",
                  "siteID": "a4bede88-2d2c-4424-bc18-4322a9e285a6"},
        "tenant": {"id": "19ba5794-7eeb-4d46-a81b-c00c61672501", "domain": "comments.news.example"},
    }
    done = subprocess.run([NODE, str(SEND)], input=json.dumps(given), capture_output=True, text=True, timeout=60,
                          check=True)
    sent: dict[str, Any] = json.loads(done.stdout)
    assert "error" not in sent, sent
    return sent


@needs_node
def test_requests_from_corals_code(server: str) -> None:
    html = "<p>You are a complete <b>idiot</b> and a moron, shut up</p>"
    cases = [
        ({"html": f"<p>{CIVIL}</p>", "text": CIVIL}, None),
        ({"html": f"<p>{SPAM}</p>", "text": SPAM}, {
            "status": "REJECTED", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_SPAM"}]}),
        ({"html": html, "text": TOXIC, "fmt": "HTML"}, {
            "status": "REJECTED", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]}),
        ({"html": html, "text": TOXIC, "fmt": "PLAIN_TEXT", "shape": "first", "parent_id": "d79b787f"}, {
            "status": "REJECTED", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]}),
        ({"html": f"<p>{SPAM}</p>", "text": SPAM, "role": "MODERATOR"}, None),
        # Coral mid-rotation: both secrets sign; this service knows the new one.
        ({"html": f"<p>{SPAM}</p>", "text": SPAM, "secrets": (OLD_SECRET, SECRET)}, {
            "status": "REJECTED", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_SPAM"}]}),
    ]
    for options, expected in cases:
        sent = send_as_coral(server, **options)  # type: ignore[arg-type]
        assert sent["ok"] and coral_reads(sent["status"], sent["text"]) == expected, (options, sent)
        # Python's serialisation and signature are byte for byte Node's, so the Python-built tests hold too.
        request = json.loads(sent["body"])
        assert serialise(request).decode() == sent["body"]
        assert signatures(sent["body"].encode(), *options.get("secrets", (SECRET,))) == sent["signature"]


@needs_node
def test_a_request_signed_with_an_unknown_secret_is_ignored_by_coral(server: str) -> None:
    sent = send_as_coral(server, html=f"<p>{SPAM}</p>", text=SPAM, secrets=(OLD_SECRET,))
    assert sent["status"] == 401 and not sent["ok"] and coral_reads(sent["status"], sent["text"]) is None


@needs_node
def test_corals_serialisation_of_awkward_text_is_pythons(server: str) -> None:
    awkward = 'Quotes " and \\ slashes / tabs\t new\nlines \u2028 \x7f \x01 émoji 🗳️ </script> <b>&amp;</b>'
    sent = send_as_coral(server, html=awkward, text=awkward)
    assert serialise(json.loads(sent["body"])).decode() == sent["body"]
    assert sent["status"] in (200, 204)


def test_a_banned_coral_commenter_is_rejected_and_a_premoderated_one_held(
    client: FlaskClient, redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("MODERATION_SECRET_KEY", "test-secret-key")  # the app's, so the keys match
    author = coral_request(CIVIL)["author"]["id"]
    cli(["authors", "premoderate", f"coral:{author}", "--reason", "new account, watch"])
    held = answer(post(client, coral_request(CIVIL), SECRET))
    assert held == {"actions": [], "status": "PREMOD"}  # Coral's own queue for premoderated users
    cli(["authors", "ban", f"coral:{author}", "--reason", "abuse"])
    assert answer(post(client, coral_request(CIVIL), SECRET)) == {"actions": [], "status": "REJECTED"}
    # Coral's staff are still left alone, whatever their standing here.
    assert post(client, coral_request(CIVIL, role="MODERATOR"), SECRET).status_code == 204
    other = coral_request(CIVIL)
    other["author"]["id"] = "another-user"
    assert post(client, other, SECRET).status_code == 204
