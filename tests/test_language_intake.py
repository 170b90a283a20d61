"""A comment's language through the service: detected at intake, stored, shown, filtered, counted, and decided on."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from redis import Redis

from moderation.api_keys import ApiKeys
from moderation.keys import Keys
from moderation.model.languages import SUPPORTED_LANGUAGES
from moderation.policy import Policy
from moderation.policy_store import PolicyStore
from moderation.rescore import Rescorer
from moderation.store import CommentStore

GERMAN = ("Ich finde, der Stadtrat hat mit dem neuen Haushalt die richtige Entscheidung getroffen, auch wenn die "
          "Schulen zu kurz kommen.")
SPANISH = ("Creo que el ayuntamiento ha tomado la decisión correcta con el nuevo presupuesto, aunque las escuelas "
           "salen perdiendo.")
ENGLISH = "Thanks, a thoughtful article about the budget."
SHORT = "Gut gemacht!"  # too short for the detector: it takes the article's or the site's language


@pytest.fixture
def policies(redis: Redis) -> PolicyStore:
    policies = PolicyStore(redis, Keys())
    policies.update({"hold_new_authors": False}, "test")
    return policies


def post(client: FlaskClient, body: str, *, article: str = "a1", email: str = "reader@example.com",
         headers: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/comments", json={"article_id": article, "name": "Reader", "email": email,
                                                 "body": body, **fields}, headers=headers or {})
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def stored_language(redis: Redis, comment_id: str) -> str:
    return str(redis.hget(Keys().comment(comment_id), "language"))


def errors(response: Any) -> list[str]:
    assert response.status_code == 422 and response.mimetype == "application/problem+json", response.get_data()
    return [entry["field"] for entry in response.get_json()["errors"]]


def received(language: str, status: str) -> float:
    return REGISTRY.get_sample_value("moderation_comments_received_total",
                                     {"language": language, "status": status}) or 0.0


def test_a_german_comment_is_stored_shown_and_filtered_as_german(
    client: FlaskClient, redis: Redis, moderator: dict[str, str], policies: PolicyStore,
) -> None:
    policies.update({"hold_new_authors": True}, "test")  # everything waits, so the queue shows both
    german = post(client, GERMAN, email="de@example.com")["id"]
    english = post(client, ENGLISH, email="en@example.com")["id"]
    assert (stored_language(redis, german), stored_language(redis, english)) == ("de", "en")

    def queue(query: str) -> list[dict[str, Any]]:
        response = client.get(f"/v1/review/queue?{query}", headers=moderator)
        assert response.status_code == 200
        return list(response.get_json()["items"])

    (item,) = queue("language=de")
    assert (item["id"], item["language"], item["language_supported"]) == (german, "de", True)
    assert [i["id"] for i in queue("language=de-AT&reason=new_author")] == [german]  # a tag is taken as its language
    assert [i["id"] for i in queue("language=en")] == [english]
    assert queue("language=fr") == []
    assert [i["id"] for i in queue("language=de&sort=uncertain")] == [german]
    assert errors(client.get("/v1/review/queue?language=qq", headers=moderator)) == ["language"]

    one = client.get(f"/v1/comments/{german}", headers=moderator).get_json()
    assert one["language"] == "de"
    (submitted,) = client.get(f"/v1/review/comments/{german}/history", headers=moderator).get_json()["events"]
    assert submitted["details"]["language"] == "de"
    author = client.get(f"/v1/review/authors/{one['author']['author_key']}", headers=moderator).get_json()
    assert [c["language"] for c in author["items"]] == ["de"]


def test_a_comment_stored_before_languages_reads_as_english(
    client: FlaskClient, redis: Redis, moderator: dict[str, str], policies: PolicyStore,
) -> None:
    policies.update({"hold_new_authors": True}, "test")
    comment_id = post(client, ENGLISH)["id"]
    redis.hdel(Keys().comment(comment_id), "language")  # as a comment of the version before
    (item,) = client.get("/v1/review/queue?language=en", headers=moderator).get_json()["items"]
    assert (item["id"], item["language"], item["language_supported"]) == (comment_id, "en", True)


def test_a_short_comment_takes_the_articles_then_the_sites_language(
    client: FlaskClient, redis: Redis, admin: dict[str, str], policies: PolicyStore,
) -> None:
    assert stored_language(redis, post(client, SHORT)["id"]) == "en"  # the site's default

    response = client.put("/v1/articles/berlin-story/language", json={"language": "de-DE"}, headers=admin)
    assert response.status_code == 200 and response.get_json() == {"article_id": "berlin-story", "language": "de"}
    assert stored_language(redis, post(client, SHORT, article="berlin-story", email="b@example.com")["id"]) == "de"
    # A text the detector can tell keeps its own language on that article.
    assert stored_language(redis, post(client, ENGLISH, article="berlin-story", email="c@example.com")["id"]) == "en"
    policy_view = client.get("/v1/policy", headers=admin).get_json()
    assert policy_view["article_languages"] == {"berlin-story": "de"}

    assert client.patch("/v1/policy", json={"language": "fr"}, headers=admin).status_code == 200
    assert stored_language(redis, post(client, "Bravo !", article="paris-story", email="d@example.com")["id"]) == "fr"
    assert stored_language(redis, post(client, SHORT, article="berlin-story", email="e@example.com")["id"]) == "de"

    assert client.put("/v1/articles/berlin-story/language", json={"language": None}, headers=admin).status_code == 200
    assert stored_language(redis, post(client, SHORT, article="berlin-story", email="f@example.com")["id"]) == "fr"
    assert client.get("/v1/policy", headers=admin).get_json()["article_languages"] == {}


def test_a_sites_server_may_give_the_pages_language(client: FlaskClient, redis: Redis, admin: dict[str, str],
                                                    policies: PolicyStore) -> None:
    keyed = {"X-Api-Key": ApiKeys(redis, Keys()).add("wordpress")}
    receipt = post(client, SHORT, headers=keyed, language="pt-BR")
    assert (receipt["language"], stored_language(redis, receipt["id"])) == ("pt", "pt")
    assert "language" not in post(client, SHORT, email="r2@example.com")  # a reader's answer does not say
    # The article's own language comes before the page's.
    client.put("/v1/articles/a1/language", json={"language": "de"}, headers=admin)
    assert post(client, SHORT, headers=keyed, language="pt", email="r3@example.com")["language"] == "de"

    before = redis.zcard(Keys().all_comments)
    unkeyed = client.post("/v1/comments", json={"article_id": "a1", "name": "R", "email": "r@example.com",
                                                "body": SHORT, "language": "pt"})
    assert errors(unkeyed) == ["language"]
    for bad in ("klingonish", "xx", 7):
        response = client.post("/v1/comments", json={"article_id": "a1", "name": "R", "email": "r@example.com",
                                                     "body": SHORT, "language": bad}, headers=keyed)
        assert errors(response) == ["language"]
    assert redis.zcard(Keys().all_comments) == before


def test_a_language_the_model_does_not_know_is_held_or_published_as_the_policy_says(
    client: FlaskClient, redis: Redis, admin: dict[str, str], moderator: dict[str, str], policies: PolicyStore,
) -> None:
    published = post(client, SPANISH)
    assert published["status"] == "published" and stored_language(redis, published["id"]) == "es"

    assert client.patch("/v1/policy", json={"unsupported_language": "hold"}, headers=admin).status_code == 200
    held = post(client, SPANISH + " Gracias.", email="two@example.com")
    assert held["status"] == "pending"
    (item,) = client.get("/v1/review/queue?language=es", headers=moderator).get_json()["items"]
    assert (item["id"], item["language_supported"]) == (held["id"], False)
    assert [(r["code"], r.get("detail")) for r in item["reasons"]] == [("unsupported_language", "es")]
    assert post(client, GERMAN, email="three@example.com")["status"] == "published"  # a known language goes on

    # Its abuse score is no verdict: even a policy that holds every abuse score lets it through.
    client.patch("/v1/policy", json={"unsupported_language": "publish", "abuse_hold": 0.0}, headers=admin)
    assert post(client, SPANISH + " Saludos.", email="four@example.com")["status"] == "published"
    assert post(client, ENGLISH, email="five@example.com")["status"] == "pending"


def test_a_languages_thresholds_apply_to_its_comments_only(client: FlaskClient, admin: dict[str, str],
                                                            moderator: dict[str, str], policies: PolicyStore) -> None:
    change = {"language_thresholds": {"de": {"spam_hold": 0.0}, "en": {"abuse_hold": 0.9}}}
    response = client.patch("/v1/policy", json=change, headers=admin)
    assert response.status_code == 200
    assert response.get_json()["policy"]["language_thresholds"]["de"]["spam_hold"] == 0.0
    german = post(client, GERMAN, email="de@example.com")
    assert german["status"] == "pending"
    (item,) = client.get("/v1/review/queue?language=de", headers=moderator).get_json()["items"]
    assert [r["code"] for r in item["reasons"]] == ["spam"]
    assert post(client, ENGLISH, email="en@example.com")["status"] == "published"


@pytest.mark.parametrize(("change", "fields"), [
    ({"language": "gr"}, ["language"]),
    ({"language": ""}, ["language"]),
    ({"language_thresholds": {"de": {"spam_hold": 0.99}}}, ["language_thresholds"]),  # above spam_reject 0.98
    ({"language_thresholds": {"de": {"spam_hold": 1.5}}}, ["language_thresholds.de.spam_hold"]),
    ({"language_thresholds": {"xx": {"spam_hold": 0.5}}}, ["language_thresholds.xx"]),
    ({"language_thresholds": {"de": {"colour": 0.5}}}, ["language_thresholds.de.colour"]),
    ({"language_thresholds": {"de": {}, "DE-at": {}}}, ["language_thresholds"]),
    ({"language_thresholds": ["de"]}, ["language_thresholds"]),
    ({"unsupported_language": "reject"}, ["unsupported_language"]),
])
def test_bad_language_settings_are_refused_and_change_nothing(
    client: FlaskClient, redis: Redis, admin: dict[str, str], change: dict[str, Any], fields: list[str],
) -> None:
    before = client.get("/v1/policy", headers=admin).get_json()
    audit = redis.xlen(Keys().policy_audit)
    assert errors(client.patch("/v1/policy", json=change, headers=admin)) == fields
    assert client.get("/v1/policy", headers=admin).get_json() == before
    assert redis.xlen(Keys().policy_audit) == audit


def test_a_bad_article_language_is_refused_and_changes_nothing(client: FlaskClient, redis: Redis,
                                                                admin: dict[str, str],
                                                                moderator: dict[str, str]) -> None:
    for body in ({"language": "xx"}, {"language": 5}, {}, {"language": ""}):
        assert errors(client.put("/v1/articles/a1/language", json=body, headers=admin)) == ["language"]
    assert client.put("/v1/articles/a1/language", json={"language": "de"}, headers=moderator).status_code == 403
    assert client.put("/v1/articles/%00/language", json={"language": "de"}, headers=admin).status_code == 404
    assert not redis.exists(Keys().article_languages)


def test_stats_and_metrics_count_comments_by_language(client: FlaskClient, redis: Redis, admin: dict[str, str],
                                                      moderator: dict[str, str], policies: PolicyStore) -> None:
    client.patch("/v1/policy", json={"unsupported_language": "hold"}, headers=admin)
    counted = {(language, status): received(language, status)
               for language, status in (("de", "published"), ("en", "published"), ("other", "pending"))}
    post(client, GERMAN, email="a@example.com")
    post(client, GERMAN + " Danke.", email="b@example.com")
    post(client, ENGLISH, email="c@example.com")
    post(client, SPANISH, email="d@example.com")

    stats = client.get("/v1/review/stats", headers=moderator).get_json()
    assert list(stats["languages"]) == ["de", "en", "es"]  # most received first
    assert stats["languages"]["de"] == {"supported": True, "received": 2, "pending": 0,
                                        "automatic": {"published": 2, "pending": 0, "rejected": 0}}
    assert stats["languages"]["es"] == {"supported": False, "received": 1, "pending": 1,
                                        "automatic": {"published": 0, "pending": 1, "rejected": 0}}
    assert stats["languages_pending_counted"] == stats["queues"]["pending"] == 1
    assert stats["decisions"]["automatic"]["pending:unsupported_language"] == 1

    # The label stays bounded: the model's languages by code, any other as `other`.
    assert received("de", "published") - counted["de", "published"] == 2
    assert received("en", "published") - counted["en", "published"] == 1
    assert received("other", "pending") - counted["other", "pending"] == 1
    text = client.get("/metrics").get_data(as_text=True)
    assert 'moderation_comments_received_total{language="de",status="published"}' in text
    assert 'language="es"' not in text


class Spy:
    """A model giving set scores, noting the language each comment was scored in; `probabilities` may take
    the languages (as the per-language heads will) or not (as today's model)."""

    version = "spy"

    def __init__(self, scores: dict[str, tuple[float, float]], takes_languages: bool) -> None:
        self.scores = scores
        self.seen: list[tuple[str, str]] = []
        if takes_languages:
            self.probabilities = self._with_languages  # type: ignore[method-assign]

    def _score(self, text: str, language: str) -> tuple[float, float]:
        self.seen.append((text[:12], language))
        return self.scores[text]

    def probabilities(self, texts: list[str], workers: int = 1, authors: Any = None) -> np.ndarray:
        return np.array([self._score(text, "en") for text in texts])

    def _with_languages(self, texts: list[str], workers: int = 1, authors: Any = None,
                        languages: list[str] | None = None) -> np.ndarray:
        return np.array([self._score(text, language) for text, language in zip(texts, languages or [], strict=True)])

    def score_many(self, texts: list[str], authors: Any = None, languages: list[str] | None = None) -> list[Any]:
        found = []
        for text, language in zip(texts, languages or ["en"] * len(texts), strict=True):
            spam, abuse = self._score(text, language)
            found.append(SimpleNamespace(spam=spam, abuse=abuse, spam_words=(), abuse_words=(), spam_signals=(),
                                         language_supported=language in SUPPORTED_LANGUAGES))
        return found


@pytest.mark.parametrize("takes_languages", [False, True])
def test_a_rescore_scores_each_comment_in_its_stored_language_and_decides_as_intake_does(
    client: FlaskClient, redis: Redis, admin: dict[str, str], policies: PolicyStore, takes_languages: bool,
) -> None:
    texts = (GERMAN, SPANISH, ENGLISH)
    ids = {text: post(client, text, email=f"{n}@example.com")["id"] for n, text in enumerate(texts)}
    old = post(client, ENGLISH + " Again.", email="old@example.com")["id"]
    redis.hdel(Keys().comment(old), "language")  # stored before languages: English
    store = CommentStore(redis, Keys())
    # High abuse everywhere: English and German are held for it, Spanish (no head) is held as a language
    # the model does not know; German's own spam threshold holds it for spam too.
    scores = {GERMAN: (0.4, 0.7), SPANISH: (0.1, 0.99), ENGLISH: (0.1, 0.7), ENGLISH + " Again.": (0.1, 0.7)}
    policy = Policy(unsupported_language="hold", language_thresholds={"de": {"spam_hold": 0.3}}, rescore_unpublish=True)
    spy = Spy(scores, takes_languages)
    Rescorer(store, spy, policy, job="languages").run()  # type: ignore[arg-type]

    languages = dict(spy.seen)
    assert (languages[GERMAN[:12]], languages[SPANISH[:12]], languages[ENGLISH[:12]]) == ("de", "es", "en")
    reasons = {text: [r["code"] for r in json.loads(store.get(comment_id)["reasons"])]  # type: ignore[index]
               for text, comment_id in ids.items()}
    assert reasons == {GERMAN: ["spam", "abuse"], SPANISH: ["unsupported_language"], ENGLISH: ["abuse"]}
    assert [r["code"] for r in json.loads(store.get(old)["reasons"])] == ["abuse"]  # type: ignore[index]
    assert {store.get(i)["status"] for i in (*ids.values(), old)} == {"pending"}  # type: ignore[index]
