"""Walks the app's URL map: every route outside the public list refuses anonymous callers and wrong roles."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

# Endpoints anyone may call: the site's pages and the embed script, the service probes, the console's sign-in,
# the discovery document Google's client libraries read before they have a key (Google's own is public too), and
# the DSA's notices (anyone may send one, Art. 16(1)) and the author's or notifier's status and appeals, which
# check their own token, as does the author's page for their comment (tests/test_dsa.py, browser/test_embed.py).
PUBLIC = re.compile(r"^(public\.|service\.|metrics\.|static$|demo\.|embed\.|console\.(login|sign_in|static)$"
                    r"|perspective\.discovery$|dsa\.(file_notice|comment_status|file_appeal)$|dsa_pages\.status_page$)")
# The drop-in surfaces carry their own protocol's credentials (an API key, Coral's signature) and refuse in that
# protocol's words, checked below and in tests/test_akismet.py and tests/test_coral.py.
OWN_CREDENTIALS = re.compile(r"^(akismet|coral)\.")
ADMIN_ONLY = {"admin.get_policy", "admin.change_policy", "admin.set_article_mode", "admin.erase_author",
              "admin.webhook_deliveries", "dsa.transparency"}
SAMPLE = {"comment_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "article_id": "a1", "author_key": "abc", "filename": "x"}


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:\w+:)?{name}>", SAMPLE.get(name, "x"), path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):  # type: ignore[operator]
            routes.append((rule.endpoint, method, path))
    return routes


def _refused(status: int, location: str) -> bool:
    return status in (401, 403) or (status in (302, 303) and "login" in location)


def test_every_private_route_refuses_anonymous_and_bad_tokens(app: Flask, client: FlaskClient) -> None:
    private = [(e, m, p) for e, m, p in _routes(app) if not PUBLIC.match(e) and not OWN_CREDENTIALS.match(e)]
    assert len(private) >= 11
    for endpoint, method, path in private:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = client.open(path, method=method, headers=headers)
            assert _refused(response.status_code, response.headers.get("Location", "")), (
                f"{method} {path} ({endpoint}) answered {response.status_code} to {headers or 'anonymous'}"
            )


def test_admin_routes_refuse_moderators(app: Flask, client: FlaskClient, moderator: dict[str, str]) -> None:
    admin_routes = [(e, m, p) for e, m, p in _routes(app) if e in ADMIN_ONLY]
    assert {e for e, _, _ in admin_routes} == ADMIN_ONLY
    for _, method, path in admin_routes:
        assert client.open(path, method=method, headers=moderator, json={}).status_code == 403


def test_drop_in_routes_refuse_callers_without_their_credentials(app: Flask, client: FlaskClient) -> None:
    app.config["CORAL_SIGNING_SECRETS"] = ("a-secret",)
    routes = [(e, m, p) for e, m, p in _routes(app) if OWN_CREDENTIALS.match(e)]
    assert {e for e, _, _ in routes} >= {"coral.moderation_phase", "akismet.comment_check", "akismet.submit_spam",
                                          "akismet.submit_ham", "akismet.verify_key"}
    form = {"blog": "https://news.example/", "user_ip": "192.0.2.1", "comment_content": "Hello"}
    for endpoint, method, path in routes:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            if endpoint.startswith("coral."):
                response = client.open(path, method=method, headers=headers, json={"action": "NEW"})
                assert response.status_code == 401, (path, response.status_code)
            else:
                response = client.open(path, method=method, headers=headers, data={**form, "api_key": "mk_wrong"})
                assert response.get_data(as_text=True) == "invalid", (path, response.get_data(as_text=True))
