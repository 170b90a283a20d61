"""Fixtures: a real Redis (REDIS_URL's server, or one started here), the real model, the app."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from redis.cluster import RedisCluster
from werkzeug.serving import BaseWSGIServer, make_server

from api import create_app, load_model
from moderation.intake import Scorer
from moderation.keys import Keys
from moderation.moderators import Moderators
from moderation.redis_client import connect
from moderation.redis_server import EmbeddedCluster, EmbeddedRedis
from tests.public_data import DATA_DIR as DATA_DIR

ROOT = Path(__file__).resolve().parents[1]
# A database of its own on a shared server: the tests flush it before and after each test.
TEST_DB = int(os.environ.get("MODERATION_TEST_REDIS_DB", "13"))
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
ALLOWED_ORIGIN = "https://news.example"

# Tests that need the public training data say so with @pytest.mark.data: tests/public_data.py skips them where
# the data is absent and fails an unmarked test that reads it. needs_data is the old name, kept for branches using it.
pytest_plugins = ("tests.public_data",)
needs_data = pytest.mark.data


@pytest.fixture(scope="session", params=["single", "cluster"])
def redis_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis: REDIS_URL's server (or one started here), then a 3-primary cluster started here.

    Every integration test runs against both, so the cluster code path cannot rot.
    """
    if request.param == "cluster":
        with EmbeddedCluster(tmp_path_factory.mktemp("cluster")) as cluster:
            yield cluster.url
        return
    if os.environ.get("REDIS_URL"):
        url = os.environ["REDIS_URL"]
        base = url.rsplit("/", 1)[0] if re.search(r"/\d+$", url) else url.rstrip("/")
        yield f"{base}/{TEST_DB}"
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis"), persistent=False) as server:
        yield server.url


@pytest.fixture
def redis_url(redis_server: str) -> str:
    return redis_server


def close(client: Redis) -> None:
    """Close a client and every connection it made: a cluster client's close() leaves its nodes' pools open."""
    if isinstance(client, RedisCluster):
        for node in client.get_nodes():
            if node.redis_connection is not None:
                node.redis_connection.connection_pool.disconnect()
    client.close()


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    client = connect(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    close(client)


@pytest.fixture(scope="session")
def model() -> Scorer:
    """The shipped model, loaded once: the API under test scores with the real thing."""
    return load_model(None)


class PrivacyCheckingClient(FlaskClient):
    """Fails the test if any response to an anonymous request contains an email address.

    A request with a moderator's token or a site's key (its own server, which has the emails) is not anonymous.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        headers = kwargs.get("headers") or {}
        if "Authorization" not in headers and "X-Api-Key" not in headers:
            text = response.get_data(as_text=True) + " " + str(response.headers.get("Location", ""))
            leaked = EMAIL.findall(text)
            assert not leaked, f"public response leaks {leaked}: {text[:300]}"
        return response


@pytest.fixture
def app(redis: Redis, redis_url: str, model: Scorer) -> Iterator[Flask]:
    app = create_app({
        "TESTING": True,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key",
        "ALLOWED_ORIGINS": [ALLOWED_ORIGIN],
        "MODEL": model,
        "RATE_LIMITS": "off",
        "API_KEY_RATE_LIMITS": "off",
    })
    app.test_client_class = PrivacyCheckingClient
    yield app
    close(app.extensions["moderation"].redis)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def moderators(redis: Redis) -> Moderators:
    return Moderators(redis, Keys())


@pytest.fixture
def moderator(moderators: Moderators) -> dict[str, str]:
    return {"Authorization": f"Bearer {moderators.add('alice', 'moderator')}"}


@pytest.fixture
def other_moderator(moderators: Moderators) -> dict[str, str]:
    return {"Authorization": f"Bearer {moderators.add('bob', 'moderator')}"}


@pytest.fixture
def admin(moderators: Moderators) -> dict[str, str]:
    return {"Authorization": f"Bearer {moderators.add('root', 'admin')}"}


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve app on a free loopback port from a threaded WSGI server, for clients that speak real HTTP."""
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name=f"{app.name}-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
