"""The optional `website` field: validated http(s), stored, scored, shown to moderators, listed for nofollow links."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from redis import Redis

from api import create_app
from moderation.intake import Scorer
from moderation.keys import Keys
from moderation.model.signals import NO_AUTHOR, Author
from moderation.policy_store import PolicyStore

from .conftest import ALLOWED_ORIGIN, PrivacyCheckingClient

CIVIL = "Thanks for the clear reporting on the council budget; I hope they publish the full figures."
SITE = "https://ann.example/blog?tag=council&page=2"


def comment(**fields: str) -> dict[str, str]:
    return {"article_id": "budget-2026", "name": "Ann Reader", "email": "ann@example.com", "body": CIVIL, **fields}


@pytest.fixture
def open_policy(redis: Redis) -> PolicyStore:
    policies = PolicyStore(redis, Keys())
    policies.update({"hold_new_authors": False}, "test")
    return policies


def test_a_website_is_stored_listed_and_shown_to_moderators(
    client: FlaskClient, redis: Redis, moderator: dict[str, str], open_policy: PolicyStore,
) -> None:
    receipt = client.post("/v1/comments", json=comment(website=SITE)).get_json()
    assert receipt["status"] == "published"
    assert redis.hget(Keys().comment(receipt["id"]), "website") == SITE
    listed = client.get("/v1/articles/budget-2026/comments").get_json()["comments"]
    assert [(c["id"], c["website"]) for c in listed] == [(receipt["id"], SITE)]
    assert client.get(f"/v1/comments/{receipt['id']}").get_json()["website"] == SITE
    item = client.get(f"/v1/comments/{receipt['id']}", headers=moderator).get_json()
    assert (item["website"], item["email"]) == (SITE, "ann@example.com")

    open_policy.update({"hold_new_authors": True}, "test")
    held = client.post("/v1/comments",
                       json=comment(email="new@example.com", website="www.new-reader.example")).get_json()
    queue = client.get("/v1/review/queue", headers=moderator).get_json()["items"]
    # No scheme: http:// goes in front, as WordPress does with the same field.
    assert [(i["id"], i["website"]) for i in queue] == [(held["id"], "http://www.new-reader.example")]


def test_without_a_website_the_field_is_null(client: FlaskClient, open_policy: PolicyStore) -> None:
    receipt = client.post("/v1/comments", json=comment()).get_json()
    assert client.get(f"/v1/comments/{receipt['id']}").get_json()["website"] is None
    blank = client.post("/v1/comments", json=comment(body="The fares matter more.", website="  ")).get_json()
    assert client.get(f"/v1/comments/{blank['id']}").get_json()["website"] is None


def test_a_wordpress_comment_form_posts_author_email_url_comment(
    client: FlaskClient, redis: Redis, open_policy: PolicyStore,
) -> None:
    form = {"article_id": "budget-2026", "author": "Ann Reader", "email": "ann@example.com", "url": SITE,
            "comment": CIVIL, "comment_post_ID": "42", "comment_parent": "0", "submit": "Post Comment"}
    response = client.post("/v1/comments", data=form, headers={"Accept": "application/json"})
    assert response.status_code == 201
    record = redis.hgetall(Keys().comment(response.get_json()["id"]))
    assert (record["name"], record["website"], record["body"]) == ("Ann Reader", SITE, CIVIL)

    # A reader who leaves the field blank sends url= : no website.
    blank = client.post("/v1/comments", data={**form, "url": "", "comment": "The fares matter more.",
                                              "return_to": ALLOWED_ORIGIN + "/budget"},
                        headers={"Accept": "text/html"})
    assert blank.status_code == 303 and blank.headers["Location"].startswith(ALLOWED_ORIGIN + "/budget?")
    assert redis.hget(Keys().comment(blank.headers["Location"].split("comment_id=")[1].split("&")[0]), "website") == ""


BAD_WEBSITES = [
    "javascript:alert(document.cookie)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,<script>",
    "vbscript:msgbox(1)", "https://example.com/" + "a" * 10_000, "not a url", "http://", "ftp://files.example.com/",
    "mailto:ann@example.com", "http://user:secret@example.com/", "https://exa mple.com/", "http://localhost:8000/",
    'https://example.com/"><script>alert(1)</script>', "https://example.com/\u202egnp.exe", "http://example.com:99999/",
    "https://example.com/a\\b",
]


@pytest.mark.parametrize("website", BAD_WEBSITES)
def test_a_bad_website_is_refused_naming_the_field_and_nothing_is_stored(
    client: FlaskClient, redis: Redis, website: str,
) -> None:
    response = client.post("/v1/comments", json=comment(website=website))
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert [(e["field"], e["pointer"]) for e in response.get_json()["errors"]] == [("website", "#/website")]
    # The same value from a WordPress form is named as the form named it.
    form = {"article_id": "budget-2026", "author": "Ann", "email": "ann@example.com", "url": website, "comment": CIVIL}
    response = client.post("/v1/comments", data=form, headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert [(e["field"], e["pointer"]) for e in response.get_json()["errors"]] == [("url", "#/url")]
    assert redis.dbsize() == 0


def test_a_website_that_is_not_text_is_refused(client: FlaskClient, redis: Redis) -> None:
    response = client.post("/v1/comments", json=comment(website=42))  # type: ignore[arg-type]
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "website"
    assert redis.dbsize() == 0


class RecordingModel:
    """The shipped model, noting what each call was given (the scores are the model's own)."""

    def __init__(self, model: Scorer) -> None:
        self.model = model
        self.authors: list[Author] = []

    @property
    def version(self) -> str:
        return self.model.version

    def score(self, text: str, author: Author = NO_AUTHOR, language: str = "en") -> Any:
        self.authors.append(author)
        return self.model.score(text, author, language)


@pytest.fixture
def recording(redis: Redis, redis_url: str, model: Scorer) -> Iterator[tuple[FlaskClient, RecordingModel]]:
    spy = RecordingModel(model)
    app: Flask = create_app({"TESTING": True, "REDIS_URL": redis_url, "SECRET_KEY": "test-secret-key",
                             "MODEL": spy, "RATE_LIMITS": "off"})
    app.test_client_class = PrivacyCheckingClient
    yield app.test_client(), spy
    app.extensions["moderation"].redis.close()


def test_the_model_scores_the_name_email_and_website(recording: tuple[FlaskClient, RecordingModel]) -> None:
    client, spy = recording
    assert client.post("/v1/comments", json=comment(website=SITE)).status_code == 201
    form = {"article_id": "budget-2026", "author": "Bo", "email": "bo@example.com", "url": "bo.example",
            "comment": "The fares matter more."}
    assert client.post("/v1/comments", data=form, headers={"Accept": "application/json"}).status_code == 201
    assert spy.authors == [Author("Ann Reader", "ann@example.com", SITE),
                           Author("Bo", "bo@example.com", "http://bo.example")]


def test_a_website_is_part_of_the_idempotent_request(client: FlaskClient, redis: Redis) -> None:
    headers = {"Idempotency-Key": "form-5e1"}
    first = client.post("/v1/comments", json=comment(website=SITE), headers=headers)
    assert client.post("/v1/comments", json=comment(website=SITE), headers=headers).get_json() == first.get_json()
    other = client.post("/v1/comments", json=comment(website="https://other.example/"), headers=headers)
    assert other.status_code == 409
    assert redis.zcard(Keys().queue("pending")) == 1


def test_the_demo_page_renders_a_website_only_as_a_nofollow_ugc_link(
    client: FlaskClient, open_policy: PolicyStore,
) -> None:
    tricky = "https://ann.example/?q='onmouseover='alert(1)&x=1"
    client.post("/v1/comments", json=comment(website=tricky))
    client.post("/v1/comments", json=comment(name="Bo", email="bo@example.com", body="The fares matter more."))
    page = client.get("/demo/articles/budget-2026").get_data(as_text=True)
    anchor = '<a class="mc-name" id="comment-'
    assert page.count(anchor) == 1
    link = page[page.index(anchor):page.index("</a>", page.index(anchor))]
    assert f'href="{escape(tricky)}" rel="nofollow ugc">Ann Reader' in link
    assert '<span class="mc-name"' in page  # Bo, with no website, is plain text


def test_openapi_describes_the_website_field(client: FlaskClient) -> None:
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    assert "website" in schemas["CommentIn"]["properties"] and "website" not in schemas["CommentIn"]["required"]
    assert "nofollow ugc" in str(schemas["PublicComment"]["properties"]["website"])
    assert {"website", "email"} <= set(schemas["ReviewItem"]["properties"])
