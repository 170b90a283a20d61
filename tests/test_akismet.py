"""The Akismet routes, driven by Akismet's own Python client (`akismet` on PyPI) against the real app, model and Redis.

The client posts to https://rest.akismet.com/1.1/<method> (akismet/_common.py, `_API_URL`); its HTTP client
sends that origin to the app in-process and refuses anything else, so no request leaves the test. Requests the
client cannot make (missing fields, other clients' ways of sending the key) go through Flask's test client.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlencode

import akismet
import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from redis import Redis

from api import create_app
from api.limits import limiter
from moderation.api_keys import ApiKeys
from moderation.decisions import imported_decisions
from moderation.intake import Scorer, assess
from moderation.keys import Keys
from moderation.model.signals import Author
from moderation.policy_store import PolicyStore
from moderation.store import CommentStore
from tests.conftest import serving

BLOG = "https://news.example/"
IP = "203.0.113.7"
CIVIL = "Thanks for the clear reporting on the council budget; I hope they publish the full figures."
SPAM = "Subscribe to my channel!!! Check out my channel for free giveaways http://youtube.com/xyz"
DOUBTFUL = "I earn $200 a week from home now."


class Elsewhere(httpx.BaseTransport):
    """Every request not meant for Akismet's origin: it must not leave the test."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"request left the test: {request.url}")


def http_client(app: Flask) -> httpx.Client:
    return httpx.Client(
        mounts={"https://rest.akismet.com": httpx.WSGITransport(app=app)},
        transport=Elsewhere(),
        headers={"User-Agent": akismet.USER_AGENT},
    )


@pytest.fixture
def keys(redis: Redis) -> ApiKeys:
    return ApiKeys(redis, Keys())


@pytest.fixture
def key(keys: ApiKeys) -> str:
    return keys.add("news-site")


@pytest.fixture
def client_for(app: Flask) -> Iterator[object]:
    made: list[akismet.SyncClient] = []

    def make(api_key: str, blog: str = BLOG) -> akismet.SyncClient:
        made.append(akismet.SyncClient(config=akismet.Config(key=api_key, url=blog), http_client=http_client(app)))
        return made[-1]

    yield make
    for client in made:
        client._http_client.close()


@pytest.fixture
def site(client_for, key: str) -> akismet.SyncClient:  # type: ignore[no-untyped-def]
    return client_for(key)


def stored_keys(redis: Redis) -> list[str]:
    return sorted(redis.scan_iter())


def spam_score(model: Scorer, text: str, author: Author | None = None) -> float:
    return assess(model, text, author or Author()).spam


# -- verify-key ------------------------------------------------------------------------------------------------


def test_verify_key_valid_invalid_and_revoked(client_for, key: str, keys: ApiKeys) -> None:  # type: ignore[no-untyped-def]
    assert client_for(key).verify_key() is True
    assert client_for("mk_not-a-key").verify_key() is False
    with pytest.raises(akismet.APIKeyError):
        akismet.SyncClient.validated_client(
            config=akismet.Config(key="mk_not-a-key", url=BLOG), http_client=client_for(key)._http_client
        )
    keys.revoke("news-site")
    assert client_for(key).verify_key() is False


def test_verify_key_says_why_it_is_invalid(client: FlaskClient, key: str) -> None:
    cases = {
        (("blog", BLOG),): 'Empty "api_key" value',
        (("key", key),): 'Empty "blog" value',
        (("key", key), ("blog", "news.example")): "We were unable to parse your blog URI",
        (("key", "mk_wrong"), ("blog", BLOG)): "Invalid key",
    }
    for fields, help_text in cases.items():
        response = client.post("/1.1/verify-key", data=dict(fields))
        assert response.status_code == 200 and response.mimetype == "text/plain"
        assert response.get_data(as_text=True) == "invalid"
        assert response.headers["X-akismet-debug-help"] == help_text
    # WordPress's plugin sends the key to verify as `key` and the stored one as `api_key`: `key` is the question.
    wordpress = client.post("/1.1/verify-key", data={"key": key, "blog": BLOG, "api_key": "mk_an-older-key"})
    assert wordpress.get_data(as_text=True) == "valid" and "X-akismet-debug-help" not in wordpress.headers


# -- comment-check ---------------------------------------------------------------------------------------------


def test_a_civil_comment_is_ham(site: akismet.SyncClient) -> None:
    result = site.comment_check(IP, comment_content=CIVIL, comment_type="comment", comment_author="Ann Reader",
                                comment_author_email="ann@example.com", user_agent="Mozilla/5.0",
                                permalink="https://news.example/budget-2026")
    assert result == akismet.CheckResponse.HAM


def test_confident_spam_is_discardable(site: akismet.SyncClient, model: Scorer) -> None:
    assert spam_score(model, SPAM) >= 0.98  # the default spam_reject
    assert site.comment_check(IP, comment_content=SPAM, comment_type="comment") == akismet.CheckResponse.DISCARD


def test_doubtful_spam_is_spam_without_the_discard_tip(site: akismet.SyncClient, redis: Redis, model: Scorer,
                                                       client: FlaskClient, key: str) -> None:
    score = spam_score(model, DOUBTFUL, Author("Sam", "sam@example.com", "http://sam.example.org"))
    assert 0.05 < score < 0.95, f"the example needs a middling score, not {score}"
    PolicyStore(redis, Keys()).update({"spam_hold": score - 0.04, "spam_reject": score + 0.04}, "test")
    fields = {"comment_content": DOUBTFUL, "comment_author": "Sam", "comment_author_email": "sam@example.com",
              "comment_author_url": "http://sam.example.org"}
    assert site.comment_check(IP, **fields) == akismet.CheckResponse.SPAM  # type: ignore[arg-type]
    response = client.post("/1.1/comment-check", data={"api_key": key, "blog": BLOG, "user_ip": IP, **fields})
    assert response.get_data(as_text=True) == "true" and "X-akismet-pro-tip" not in response.headers
    # With the bar above the score, the same comment is not spam.
    PolicyStore(redis, Keys()).update({"spam_reject": 1.0, "spam_hold": min(1.0, score + 0.04)}, "test")
    assert site.comment_check(IP, **fields) == akismet.CheckResponse.HAM  # type: ignore[arg-type]


def test_a_blocked_term_is_spam(site: akismet.SyncClient, redis: Redis) -> None:
    PolicyStore(redis, Keys()).update({"blocked_terms": ["budget"]}, "test")
    assert site.comment_check(IP, comment_content=CIVIL) == akismet.CheckResponse.SPAM


def test_an_administrator_is_never_spam_and_akismets_test_author_always_is(site: akismet.SyncClient) -> None:
    assert site.comment_check(IP, comment_content=SPAM, user_role="administrator") == akismet.CheckResponse.HAM
    assert site.comment_check(IP, comment_content=CIVIL, comment_author="viagra-test-123") == akismet.CheckResponse.SPAM
    assert site.comment_check(IP, comment_content=CIVIL,
                              comment_author_email="akismet-guaranteed-spam@example.com") == akismet.CheckResponse.SPAM


def test_every_documented_field_is_accepted(site: akismet.SyncClient) -> None:
    result = site.comment_check(
        IP, user_agent="Mozilla/5.0", referrer="https://news.example/", permalink="https://news.example/a",
        comment_type="reply", comment_author="Ann", comment_author_email="ann@example.com",
        comment_author_url="https://ann.example", comment_content=CIVIL, comment_context="budget",
        comment_date_gmt="2026-11-27T10:00:00Z", comment_post_modified_gmt="2026-11-26T10:00:00Z",
        blog_lang="en_gb", blog_charset="UTF-8", user_role="subscriber", is_test=True, recheck_reason="edit",
        honeypot_field_name="hp",
    )
    assert result == akismet.CheckResponse.HAM


def test_comment_check_stores_nothing(site: akismet.SyncClient, redis: Redis) -> None:
    before = stored_keys(redis)
    checks = REGISTRY.get_sample_value("moderation_decisions_total",
                                       {"kind": "akismet", "outcome": "discard", "reason": "spam"}) or 0
    for text in (CIVIL, SPAM):
        site.comment_check(IP, comment_content=text, comment_author="Ann", comment_author_email="ann@example.com")
    assert stored_keys(redis) == before
    # Only the metrics count it.
    assert REGISTRY.get_sample_value("moderation_decisions_total",
                                     {"kind": "akismet", "outcome": "discard", "reason": "spam"}) == checks + 1


def test_comment_check_answers_as_akismet(client: FlaskClient, key: str) -> None:
    response = client.post("/1.1/comment-check", data={"api_key": key, "blog": BLOG, "user_ip": IP,
                                                        "comment_content": SPAM})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.get_data(as_text=True) == "true"
    assert response.headers["X-akismet-pro-tip"] == "discard"
    assert len(response.headers["X-akismet-guid"]) == 32


def test_html_in_the_comment_is_read_as_text_and_links(client: FlaskClient, key: str) -> None:
    body = '<p>Subscribe to my channel!!! <a href="http://youtube.com/xyz">free giveaways</a></p>'
    response = client.post("/1.1/comment-check", data={"api_key": key, "blog": BLOG, "user_ip": IP,
                                                        "comment_content": body})
    assert response.get_data(as_text=True) == "true"


# -- submit-spam, submit-ham --------------------------------------------------------------------------------------


def test_submissions_become_decisions_for_learning(site: akismet.SyncClient, redis: Redis) -> None:
    author = {"comment_author": "Best SEO Agency", "comment_author_email": "deals@seo-agency.example",
              "comment_author_url": "https://seo-agency.example"}
    assert site.submit_spam(IP, comment_content=DOUBTFUL, permalink="https://news.example/a", **author) is True
    assert site.submit_ham(IP, comment_content=CIVIL, comment_author="Ann Reader",
                           comment_author_email="ann@example.com") is True
    spam, ham = list(imported_decisions(CommentStore(redis, Keys())))
    assert (spam.text, spam.label, spam.spam, spam.abuse, spam.source) == (DOUBTFUL, "spam", 1, 0, "akismet")
    assert (spam.name, spam.email_domain, spam.website) == ("Best SEO Agency", "seo-agency.example",
                                                            "https://seo-agency.example")
    assert spam.article_id == "https://news.example/a" and spam.decided_at
    assert (ham.text, ham.label, ham.spam, ham.abuse, ham.source) == (CIVIL, "not_spam", 0, None, "akismet")
    assert ham.email_domain == "example.com"
    assert "ann@example.com" not in str(redis.xrange(Keys().imported_decisions))  # the domain only


def test_test_and_empty_submissions_teach_nothing(site: akismet.SyncClient, redis: Redis) -> None:
    assert site.submit_spam(IP, comment_content=SPAM, is_test=True) is True
    assert site.submit_ham(IP, comment_content="  ") is True
    assert list(imported_decisions(CommentStore(redis, Keys()))) == []


# -- keys, fields and limits --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["comment-check", "submit-spam", "submit-ham"])
def test_missing_and_bad_fields_get_akismets_answers(client: FlaskClient, key: str, keys: ApiKeys,
                                                     redis: Redis, method: str) -> None:
    full = {"api_key": key, "blog": BLOG, "user_ip": IP, "comment_content": SPAM}
    revoked = keys.add("old-site")
    keys.revoke("old-site")
    cases = [
        ({k: v for k, v in full.items() if k != "api_key"}, "invalid", 'Empty "api_key" value'),
        ({**full, "api_key": "  "}, "invalid", 'Empty "api_key" value'),
        ({**full, "api_key": "mk_wrong"}, "invalid", "Invalid key"),
        ({**full, "api_key": revoked}, "invalid", "Invalid key"),
        ({k: v for k, v in full.items() if k != "blog"}, "Missing required field: blog.", 'Empty "blog" value'),
        ({**full, "blog": "news.example"}, "invalid", "We were unable to parse your blog URI"),
        ({k: v for k, v in full.items() if k != "user_ip"}, "Missing required field: user_ip.",
         'Empty "user_ip" value'),
        ({**full, "user_ip": ""}, "Missing required field: user_ip.", 'Empty "user_ip" value'),
    ]
    before = stored_keys(redis)
    for fields, body, help_text in cases:
        response = client.post(f"/1.1/{method}", data=fields)
        assert (response.status_code, response.mimetype) == (200, "text/plain"), fields
        assert response.get_data(as_text=True) == body, fields
        assert response.headers["X-akismet-debug-help"] == help_text, fields
    assert [k for k in stored_keys(redis) if k not in before] == []  # nothing stored for a refused submission


def test_the_client_reports_a_bad_key_as_a_key_error(client_for) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(akismet.APIKeyError):
        client_for("mk_wrong").comment_check(IP, comment_content=CIVIL)
    with pytest.raises(akismet.APIKeyError):
        client_for("mk_wrong").submit_spam(IP, comment_content=SPAM)


def test_the_key_as_other_clients_send_it(client: FlaskClient, keys: ApiKeys) -> None:
    key = keys.add("wordpress", akismet=True)
    assert len(key) == 12 and key.isalnum() and key == key.lower()
    fields = {"blog": BLOG, "user_ip": IP, "comment_content": SPAM}
    # `key` in the form (old clients), `?key=` as on the other drop-in routes, and the host's first label
    # (WordPress's plugin posts to KEY.rest.akismet.com).
    for response in (
        client.post("/1.1/comment-check", data={**fields, "key": key}),
        client.post(f"/1.1/comment-check?key={key}", data=fields),
        client.post("/1.1/comment-check", data=fields, base_url=f"http://{key}.rest.akismet.com"),
        client.post("/1.1/comment-check", data=fields, base_url=f"https://{key}.moderation.news.example"),
    ):
        assert response.get_data(as_text=True) == "true", response.headers.get("X-akismet-debug-help")
    # A host label only counts when it has a key's shape and the host has a domain beyond it.
    for base_url in ("http://moderation.news.example", f"http://{key}.example", "http://localhost"):
        response = client.post("/1.1/comment-check", data=fields, base_url=base_url)
        assert response.headers["X-akismet-debug-help"] == 'Empty "api_key" value'


def test_wordpress_shaped_request(client: FlaskClient, keys: ApiKeys) -> None:
    """A comment-check as WordPress's plugin sends it: its own fields and server variables, the key appended
    by http_post, the blog's charset in the Content-Type."""
    key = keys.add("wordpress", akismet=True)
    body = urlencode({
        "comment_post_ID": "273568", "comment_parent": "0", "akismet_comment_nonce": "passed", "ak_js": "1443812159769",
        "user_id": "0", "comment_author": "peter", "comment_author_email": "peter@example.com",
        "comment_author_url": "", "comment_content": SPAM, "comment_author_IP": IP, "comment_type": "",
        "comment_date": "2015-10-02 18:56:05", "comment_date_gmt": "2015-10-02 18:56:05", "user_ip": IP,
        "user_agent": "Mozilla/5.0", "referrer": "http://srpantheon.dev/blog/double-trouble/", "blog": BLOG,
        "blog_lang": "en_US", "blog_charset": "UTF-8", "permalink": "http://srpantheon.dev/blog/double-trouble/",
        "POST_author": "peter", "POST_comment": SPAM, "SERVER_SOFTWARE": "nginx", "api_key": key,
    })
    response = client.post("/1.1/comment-check", data=body, base_url=f"http://{key}.rest.akismet.com",
                           headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                                    "User-Agent": "WordPress/6.7 | Akismet/5.3"})
    assert response.get_data(as_text=True) == "true"
    assert response.headers["X-akismet-pro-tip"] == "discard"


def test_the_blog_charset_decodes_the_form(client: FlaskClient, key: str, redis: Redis) -> None:
    text = "Très bien écrit, merci à la rédaction."
    body = urlencode({"api_key": key, "blog": BLOG, "user_ip": IP, "comment_content": text,
                      "comment_author": "Zoë"}, encoding="iso-8859-1")
    response = client.post("/1.1/submit-ham", data=body,
                           headers={"Content-Type": "application/x-www-form-urlencoded; charset=ISO-8859-1"})
    assert response.get_data(as_text=True) == "Thanks for making the web a better place."
    (decision,) = imported_decisions(CommentStore(redis, Keys()))
    assert (decision.text, decision.name) == (text, "Zoë")


def test_other_bodies_are_refused(client: FlaskClient, key: str) -> None:
    response = client.post("/1.1/comment-check", json={"api_key": key, "blog": BLOG, "user_ip": IP})
    assert response.status_code == 415 and response.mimetype == "application/problem+json"
    assert client.get("/1.1/comment-check").status_code == 405


@pytest.fixture
def limited_app(redis: Redis, redis_url: str, model: Scorer) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "REDIS_URL": redis_url, "SECRET_KEY": "test-secret-key", "MODEL": model,
                      "RATE_LIMITS": "5/minute", "API_KEY_RATE_LIMITS": "3/minute"})
    yield app
    app.extensions["moderation"].redis.close()
    # The limiter's counters have a Redis client of their own; left open, it would close during a later test.
    storage = getattr(limiter, "_storage", None)
    if getattr(storage, "storage", None) is not None:
        storage.storage.close()  # type: ignore[union-attr]


def test_each_key_has_its_own_rate_limit(limited_app: Flask, keys: ApiKeys) -> None:
    first, second = keys.add("site-one"), keys.add("site-two")
    client = limited_app.test_client()

    def check(api_key: str):  # type: ignore[no-untyped-def]
        return client.post("/1.1/comment-check", data={"api_key": api_key, "blog": BLOG, "user_ip": IP,
                                                        "comment_content": CIVIL})

    assert [check(first).status_code for _ in range(3)] == [200, 200, 200]
    over = check(first)
    assert over.status_code == 429 and over.mimetype == "text/plain"
    assert "over its limit" in over.headers["X-akismet-debug-help"] and int(over.headers["Retry-After"]) > 0
    assert check(second).status_code == 200
    # An unknown key is answered, never counted against anyone.
    assert all(check("mk_wrong").get_data(as_text=True) == "invalid" for _ in range(5))
    # The limit also holds through Akismet's client, which reports it as a failed request.
    with pytest.raises(akismet.RequestError), \
            akismet.SyncClient(config=akismet.Config(key=first, url=BLOG), http_client=http_client(limited_app)) as s:
        s.comment_check(IP, comment_content=CIVIL)


def test_policy_current_follows_an_update_from_another_process(app: Flask, redis: Redis) -> None:
    here, elsewhere = app.extensions["moderation"].policies, PolicyStore(redis, Keys())
    assert here.current().spam_hold == 0.5
    elsewhere.update({"spam_hold": 0.3}, "test")
    assert here.current().spam_hold == 0.3
    # A caller that accepts a little staleness (the Coral phase) skips Redis while its copy is that fresh.
    elsewhere.update({"spam_hold": 0.2}, "test")
    assert here.current(fresh_within=60).spam_hold == 0.3
    assert here.current().spam_hold == 0.2
    elsewhere.update({"spam_hold": 0.1}, "test")
    time.sleep(0.06)
    assert here.current(fresh_within=0.05).spam_hold == 0.1


class ToModeration(httpx.HTTPTransport):
    """The transport docs/MIGRATING.md gives Python projects, as written there."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base = httpx.URL(base_url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "rest.akismet.com":
            request.url = request.url.copy_with(scheme=self.base.scheme, host=self.base.host, port=self.base.port)
            request.headers["Host"] = self.base.netloc.decode()
        return super().handle_request(request)


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


def test_the_documented_python_setup_works_over_http(server: str, key: str) -> None:
    http = httpx.Client(transport=ToModeration(server), headers={"User-Agent": akismet.USER_AGENT}, timeout=5.0)
    with akismet.SyncClient.validated_client(config=akismet.Config(key=key, url=BLOG), http_client=http) as client:
        assert client.comment_check(IP, comment_content=SPAM) == akismet.CheckResponse.DISCARD
        assert client.comment_check(IP, comment_content=CIVIL) == akismet.CheckResponse.HAM


def test_a_banned_author_and_a_blocked_network_are_spam_to_discard(
    site: akismet.SyncClient, client: FlaskClient, redis: Redis, admin: dict[str, str]
) -> None:
    sent = client.post("/v1/comments", json={"article_id": "a1", "name": "Troll", "email": "troll@gmail.com",
                                             "body": "A first comment on the budget."})
    author_key = client.get("/v1/review/queue", headers=admin).get_json()["items"][0]["author"]["author_key"]
    assert sent.status_code == 201
    banned = client.put(f"/v1/review/authors/{author_key}/standing", json={"state": "banned", "reason": "abuse"},
                        headers=admin)
    assert banned.status_code == 200
    for email in ("troll@gmail.com", "t.r.o.l.l+wp@gmail.com"):
        assert site.comment_check(IP, comment_content=CIVIL, comment_author_email=email) == \
            akismet.CheckResponse.DISCARD
    assert site.comment_check(IP, comment_content=CIVIL, comment_author_email="ann@example.com") == \
        akismet.CheckResponse.HAM
    PolicyStore(redis, Keys()).update({"blocked_networks": ["203.0.113.0/24"]}, "test")
    assert site.comment_check(IP, comment_content=CIVIL, comment_author_email="ann@example.com") == \
        akismet.CheckResponse.DISCARD
    assert site.comment_check("198.51.100.1", comment_content=CIVIL) == akismet.CheckResponse.HAM
