"""The EU Digital Services Act's walk through the API on a real Redis: a notice (Art. 16), its decision, the
author's statement of reasons (Art. 17), an appeal decided by another moderator (Art. 20), and the
transparency counts (Art. 15, 24). Regulation (EU) 2022/2065; docs/DSA.md says which article asks what."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from moderation.api_keys import ApiKeys
from moderation.keys import Keys

TERMS = {"terms": [{"code": "civility", "title": "Be civil to other readers",
                    "url": "https://news.example/rules#civility"}],
         "reason_terms": {"abuse": "civility", "threat": "civility"}, "hold_new_authors": False}
NOTICE = {"explanation": "This comment incites hatred against a group of people.",
          "category": "illegal_or_harmful_speech", "notifier_name": "Nora Notifier",
          "notifier_email": "nora@example.org", "good_faith": True}
CIVIL = "The council should publish the full budget figures before the vote."


@pytest.fixture(autouse=True)
def terms(client: FlaskClient, admin: dict[str, str]) -> None:
    assert client.patch("/v1/policy", json=TERMS, headers=admin).status_code == 200


def post(client: FlaskClient, body: str = CIVIL, email: str = "ann@example.com") -> dict[str, Any]:
    answer = client.post("/v1/comments", json={"article_id": "budget", "name": "Ann", "email": email, "body": body})
    assert answer.status_code == 201, answer.get_json()
    found: dict[str, Any] = answer.get_json()
    return found


def status(client: FlaskClient, comment: dict[str, Any], token: str | None = None) -> Any:
    return client.get(f"/v1/comments/{comment['id']}/status?token={token or comment['status_token']}")


def test_the_walk_from_notice_to_reversed_appeal(client: FlaskClient, moderator: dict[str, str],
                                                  other_moderator: dict[str, str], admin: dict[str, str]) -> None:
    comment = post(client)
    assert comment["status"] == "published" and len(comment["status_token"]) >= 32
    filed = client.post(f"/v1/comments/{comment['id']}/notices", json=NOTICE)
    assert filed.status_code == 201, filed.get_json()
    notice = filed.get_json()
    assert notice["notice_id"] and notice["notice_token"] and notice["trusted_flagger"] is False
    queue = client.get("/v1/review/queue?queue=notices", headers=moderator).get_json()
    assert [i["id"] for i in queue["items"]] == [notice["notice_id"]]
    assert queue["items"][0]["comment"]["id"] == comment["id"]
    assert queue["items"][0]["notifier_email"] == "nora@example.org"

    decided = client.post(f"/v1/review/notices/{notice['notice_id']}/decision", headers=moderator, json={
        "legality": "illegal", "ground": "Section 130 of the German Criminal Code (incitement to hatred)",
        "explanation": "The comment calls for hatred against a national group.", "action": "remove"})
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["legality"] == "illegal" and decided.get_json()["decided_by"] == "alice"
    again = client.post(f"/v1/review/notices/{notice['notice_id']}/decision", headers=other_moderator, json={
        "legality": "neither", "explanation": "Fine.", "action": "keep"})
    assert again.status_code == 409 and again.get_json()["current"]["action"] == "remove"
    assert client.get("/v1/articles/budget/comments").get_json()["comments"] == []

    seen = status(client, comment).get_json()
    assert seen["status"] == "rejected"
    statement = seen["statement"]
    assert statement["restriction"] == "removal" and statement["source"] == "notice"
    assert statement["ground"]["kind"] == "illegal_content"
    assert statement["ground"]["title"].startswith("Section 130")
    assert statement["automated_detection"] is False and statement["automated_decision"] == "not_automated"
    assert statement["decided_by"] == "moderator" and "alice" not in str(statement)
    assert statement["redress"]["appeal"]["until"] > statement["decided_at"]
    assert status(client, comment, "0" * 40).status_code == 403

    appealed = client.post(f"/v1/comments/{comment['id']}/appeals?token={comment['status_token']}",
                           json={"text": "I quoted the speech in order to criticise it."})
    assert appealed.status_code == 201, appealed.get_json()
    appeal_id = appealed.get_json()["appeal_id"]
    twice = client.post(f"/v1/comments/{comment['id']}/appeals?token={comment['status_token']}",
                        json={"text": "Again."})
    assert twice.status_code == 409 and twice.get_json()["appeal_id"] == appeal_id
    same = client.post(f"/v1/review/appeals/{appeal_id}/decision", headers=moderator,
                       json={"outcome": "upheld", "explanation": "I stand by it."})
    assert same.status_code == 403  # the moderator who decided may not decide the appeal
    reversed_ = client.post(f"/v1/review/appeals/{appeal_id}/decision", headers=other_moderator,
                            json={"outcome": "reversed", "explanation": "Read in full, it criticises the speech."})
    assert reversed_.status_code == 200, reversed_.get_json()
    assert reversed_.get_json()["outcome"] == "reversed" and reversed_.get_json()["decided_by"] == "bob"
    assert [c["id"] for c in client.get("/v1/articles/budget/comments").get_json()["comments"]] == [comment["id"]]
    after = status(client, comment).get_json()
    assert after["status"] == "published" and after["statement"] is None
    assert after["appeal"]["outcome"] == "reversed"
    history = client.get(f"/v1/review/comments/{comment['id']}/history", headers=moderator).get_json()["events"]
    assert [e["event"] for e in history] == ["submitted", "notice", "notice_decided", "decided", "decided"]

    today = datetime.now(UTC).date().isoformat()
    report = client.get(f"/v1/review/transparency?from={today}&to={today}", headers=admin).get_json()
    assert report["notices"]["received"] == 1 and report["notices"]["by_category"] == {"illegal_or_harmful_speech": 1}
    assert report["notices"]["decisions"] == {"illegal:remove": 1} and report["notices"]["acted_on"] == 1
    assert report["notices"]["median_hours_to_decision"] is not None
    assert report["appeals"] == {"received": 1, "upheld": 0, "reversed": 1,
                                 "median_hours_to_decision": report["appeals"]["median_hours_to_decision"]}
    assert report["actions"]["by_moderators"] == {"abuse": 1} and report["actions"]["reversed"] == 1
    assert client.get(f"/v1/review/transparency?from={today}", headers=moderator).status_code == 403


def test_notices_need_what_article_16_names(client: FlaskClient) -> None:
    comment = post(client)
    url = f"/v1/comments/{comment['id']}/notices"
    for missing in ("explanation", "category", "notifier_name", "notifier_email", "good_faith"):
        answer = client.post(url, json={k: v for k, v in NOTICE.items() if k != missing})
        assert answer.status_code == 422, missing
        assert [e["field"] for e in answer.get_json()["errors"]] == [missing]
    assert client.post(url, json={**NOTICE, "good_faith": False}).status_code == 422
    assert client.post(url, json={**NOTICE, "category": "rudeness"}).status_code == 422
    minors = {k: v for k, v in NOTICE.items() if not k.startswith("notifier")}
    assert client.post(url, json={**minors, "category": "protection_of_minors"}).status_code == 201
    assert client.post("/v1/comments/01JAAAAAAAAAAAAAAAAAAAAAAA/notices", json=NOTICE).status_code == 404


def test_trusted_flaggers_notices_come_first(client: FlaskClient, moderator: dict[str, str], redis: Redis) -> None:
    comment = post(client)
    first = client.post(f"/v1/comments/{comment['id']}/notices", json=NOTICE).get_json()
    key = ApiKeys(redis, Keys()).add("hate-aid")
    trusted = client.post(f"/v1/comments/{comment['id']}/notices", json=NOTICE, headers={"X-Api-Key": key})
    assert trusted.get_json()["trusted_flagger"] is True
    assert client.post(f"/v1/comments/{comment['id']}/notices", json=NOTICE,
                       headers={"X-Api-Key": "wrong"}).status_code == 401
    queue = client.get("/v1/review/queue?queue=notices", headers=moderator).get_json()["items"]
    assert [i["id"] for i in queue] == [trusted.get_json()["notice_id"], first["notice_id"]]
    assert queue[0]["trusted"] == "hate-aid"


def test_a_notifier_appeals_a_kept_comment(client: FlaskClient, moderator: dict[str, str],
                                           other_moderator: dict[str, str], admin: dict[str, str]) -> None:
    comment = post(client)
    notice = client.post(f"/v1/comments/{comment['id']}/notices", json=NOTICE).get_json()
    early = client.post(f"/v1/comments/{comment['id']}/appeals?token={notice['notice_token']}", json={"text": "x"})
    assert early.status_code == 409  # not decided yet
    unknown_term = client.post(f"/v1/review/notices/{notice['notice_id']}/decision", headers=moderator, json={
        "legality": "incompatible_with_terms", "ground": "no-such-term", "explanation": "x", "action": "remove"})
    assert unknown_term.status_code == 422 and unknown_term.get_json()["errors"][0]["field"] == "ground"
    kept = client.post(f"/v1/review/notices/{notice['notice_id']}/decision", headers=moderator, json={
        "legality": "neither", "explanation": "Sharp, but legal and within the rules.", "action": "keep"})
    assert kept.status_code == 200
    # The author has nothing to appeal; the notifier has.
    assert client.post(f"/v1/comments/{comment['id']}/appeals?token={comment['status_token']}",
                       json={"text": "x"}).status_code == 409
    appeal = client.post(f"/v1/comments/{comment['id']}/appeals?token={notice['notice_token']}",
                         json={"text": "It is hate speech; please look again."})
    assert appeal.status_code == 201
    appeal_id = appeal.get_json()["appeal_id"]
    queue = client.get("/v1/review/queue?queue=appeals", headers=other_moderator).get_json()["items"]
    assert [i["id"] for i in queue] == [appeal_id] and queue[0]["appellant"] == "notifier"
    done = client.post(f"/v1/review/appeals/{appeal_id}/decision", headers=other_moderator,
                       json={"outcome": "reversed", "explanation": "On a second reading it is against the rules."})
    assert done.status_code == 200
    seen = status(client, comment).get_json()
    assert seen["status"] == "rejected" and seen["statement"]["source"] == "notice"
    late = client.post(f"/v1/review/appeals/{appeal_id}/decision", headers=admin,
                       json={"outcome": "upheld", "explanation": "x"})
    assert late.status_code == 409 and late.get_json()["current"]["outcome"] == "reversed"


def test_automatic_decisions_state_their_reasons_but_spam_learns_nothing(
    client: FlaskClient, admin: dict[str, str], moderator: dict[str, str]
) -> None:
    client.patch("/v1/policy", json={"abuse_reject": 0.5, "abuse_hold": 0.4}, headers=admin)
    rude = post(client, "You are a pathetic idiot and a disgusting liar, shut up.", email="rude@example.com")
    assert rude["status"] == "pending"  # the poster's answer never says more
    seen = status(client, rude).get_json()
    assert seen["status"] == "rejected"
    statement = seen["statement"]
    assert statement["automated_detection"] is True and statement["automated_decision"] == "fully"
    assert statement["restriction"] == "not_published" and statement["decided_by"] == "automated"
    assert statement["ground"] == {"kind": "incompatible_with_terms", "code": "civility",
                                   "title": "Be civil to other readers", "url": "https://news.example/rules#civility",
                                   "explanation": "The comment contains abusive or insulting language."}
    spam = post(client, "WIN a FREE iPhone!!! Click http://bit.ly/x now, text WIN to 80086 for cash prizes",
                email="winner@spam.example")
    found = client.get(f"/v1/comments/{spam['id']}", headers=moderator).get_json()
    assert found["status"] in ("rejected", "pending")
    client.post(f"/v1/review/{spam['id']}/decision", json={"action": "reject", "reason": "spam"}, headers=moderator)
    assert status(client, spam).get_json() == {"id": spam["id"], "article_id": "budget", "status": "pending",
                                                "statement": None, "appeal": None}


def test_a_moderators_rejection_names_its_ground(client: FlaskClient, moderator: dict[str, str],
                                                 admin: dict[str, str]) -> None:
    comment = post(client)
    bad = client.post(f"/v1/review/{comment['id']}/decision", headers=moderator,
                      json={"action": "reject", "reason": "other", "ground": "no-such-term"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "ground"
    assert client.get(f"/v1/comments/{comment['id']}", headers=moderator).get_json()["status"] == "published"
    done = client.post(f"/v1/review/{comment['id']}/decision", headers=moderator,
                       json={"action": "reject", "reason": "other", "ground": "civility"})
    assert done.status_code == 200
    statement = status(client, comment).get_json()["statement"]
    assert statement["ground"]["code"] == "civility" and statement["automated_detection"] is False
    today = datetime.now(UTC).date().isoformat()
    exported = client.get(f"/v1/review/transparency?from={today}&to={today}&format=csv", headers=admin)
    assert exported.mimetype == "text/csv"
    table = dict(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert table["actions.by_moderators.other"] == "1" and table["measure"] == "value"
    bad_range = client.get("/v1/review/transparency?from=2026-02-01&to=2026-01-01", headers=admin)
    assert bad_range.status_code == 422


def test_a_ban_states_its_reasons_and_a_reversed_appeal_lifts_it(
    client: FlaskClient, moderator: dict[str, str], other_moderator: dict[str, str], admin: dict[str, str]
) -> None:
    client.patch("/v1/policy", json={"hold_new_authors": True}, headers=admin)
    held = post(client, "A first comment from a new reader.", email="kim@example.com")
    item = client.get(f"/v1/comments/{held['id']}", headers=moderator).get_json()
    banned = client.put(f"/v1/review/authors/{item['author']['author_key']}/standing", headers=admin, json={
        "state": "banned", "reason": "abuse", "message": "Repeated insults.", "reject_pending": True})
    assert banned.status_code == 200 and banned.get_json()["rejected_pending"] == 1
    refused = client.post("/v1/comments", json={"article_id": "budget", "name": "Kim", "email": "kim@example.com",
                                                "body": "Let me back in."})
    statement = refused.get_json()["statement"]
    assert statement["restriction"] == "account_termination" and statement["automated_decision"] == "not_automated"
    assert statement["ground"]["code"] == "civility" and statement["ground"]["explanation"] == "Repeated insults."
    appeal = client.post(f"/v1/comments/{held['id']}/appeals?token={held['status_token']}",
                         json={"text": "That was my brother on my laptop."}).get_json()
    decided = client.post(f"/v1/review/appeals/{appeal['appeal_id']}/decision", headers=other_moderator,
                          json={"outcome": "reversed", "explanation": "The account's other comments are civil."})
    assert decided.status_code == 200
    author = client.get(f"/v1/review/authors/{item['author']['author_key']}", headers=moderator).get_json()
    assert author["standing"]["state"] == "normal" and author["standing_history"][-1]["state"] == "normal"
    assert client.post("/v1/comments", json={"article_id": "budget", "name": "Kim", "email": "kim@example.com",
                                             "body": "Thank you for looking again."}).status_code == 201


def test_a_suspended_author_appeals_the_suspension_with_any_comments_token(
    client: FlaskClient, moderator: dict[str, str], other_moderator: dict[str, str]
) -> None:
    published = post(client, email="sam@example.com")
    key = client.get(f"/v1/comments/{published['id']}", headers=moderator).get_json()["author"]["author_key"]
    assert client.post(f"/v1/comments/{published['id']}/appeals?token={published['status_token']}",
                       json={"text": "x"}).status_code == 409  # nothing to appeal yet
    until = "2099-01-01T00:00:00Z"
    assert client.put(f"/v1/review/authors/{key}/standing", headers=moderator, json={
        "state": "suspended", "reason": "abuse", "until": until, "message": "A week off."}).status_code == 200
    appeal = client.post(f"/v1/comments/{published['id']}/appeals?token={published['status_token']}",
                         json={"text": "I was quoting someone."})
    assert appeal.status_code == 201
    appeal_id = appeal.get_json()["appeal_id"]
    assert client.post(f"/v1/review/appeals/{appeal_id}/decision", headers=moderator,
                       json={"outcome": "reversed", "explanation": "x"}).status_code == 403
    assert client.post(f"/v1/review/appeals/{appeal_id}/decision", headers=other_moderator,
                       json={"outcome": "reversed", "explanation": "Quoting is fine."}).status_code == 200
    author = client.get(f"/v1/review/authors/{key}", headers=moderator).get_json()
    assert author["standing"]["state"] == "normal"
    assert post(client, "Back, and civil as ever.", email="sam@example.com")["status"] == "published"
