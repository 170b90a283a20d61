"""Redis going away mid-stream: 503 with Retry-After, recovery by itself, and nothing acknowledged lost."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from flask import Flask
from redis import Redis

from api import create_app
from moderation.keys import Keys
from moderation.redis_server import EmbeddedRedis


def _app(url: str, model) -> Flask:  # type: ignore[no-untyped-def]
    return create_app({"TESTING": True, "REDIS_URL": url, "SECRET_KEY": "k", "MODEL": model,
                       "RATE_LIMITS": "off", "API_KEY_RATE_LIMITS": "off", "REDIS_TIMEOUT_SECONDS": 0.5})


def _body(n: int) -> dict[str, str]:
    return {"article_id": "a1", "name": "Reader", "email": f"reader{n}@example.com",
            "body": f"Comment number {n}: " + " ".join(["plain"] * (n % 7 + 1)) + f" words {n * 7919}"}


def _stored(url: str, ids: list[str]) -> set[str]:
    client = Redis.from_url(url, decode_responses=True)
    try:
        return {i for i in ids if client.exists(Keys().comment(i))}
    finally:
        client.close()


def test_redis_stop_gives_503_then_recovers_and_loses_nothing(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    server = EmbeddedRedis(tmp_path, persistent=True).start()
    app = _app(server.url, model)
    acknowledged: list[str] = []
    outcomes: list[tuple[int, float, str | None]] = []
    stop = threading.Event()

    def stream() -> None:
        client = app.test_client()
        n = 0
        while not stop.is_set() and n < 2000:
            started = time.monotonic()
            response = client.post("/v1/comments", json=_body(n))
            elapsed = time.monotonic() - started
            if response.status_code == 201:
                acknowledged.append(response.get_json()["id"])
            outcomes.append((response.status_code, elapsed, response.headers.get("Retry-After")))
            n += 1
            time.sleep(0.005)

    worker = threading.Thread(target=stream)
    worker.start()
    try:
        time.sleep(0.5)
        server.stop()  # SIGTERM: Redis flushes its append-only file and exits
        time.sleep(1.0)
        server.start()
        time.sleep(1.0)
    finally:
        stop.set()
        worker.join(timeout=30)
        try:
            statuses = [status for status, _, _ in outcomes]
            assert set(statuses) <= {201, 503}, f"unexpected statuses {set(statuses)}"
            down = [(elapsed, retry) for status, elapsed, retry in outcomes if status == 503]
            assert down, "the outage was not seen"
            assert all(retry and int(retry) > 0 for _, retry in down)
            assert max(elapsed for elapsed, _ in down) < 3.0, "a request hung while Redis was down"
            assert statuses[-1] == 201, "the service did not recover by itself"
            assert _stored(server.url, acknowledged) == set(acknowledged)
            print(f"redis stop/start: {len(outcomes)} posts, {statuses.count(201)} accepted, {len(down)} answered 503 "
                  f"(slowest {max(e for e, _ in down) * 1000:.0f} ms), 0 of {len(acknowledged)} accepted lost")
        finally:
            server.stop()


def test_sigkill_loses_nothing_acknowledged_a_second_before(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    server = EmbeddedRedis(tmp_path, persistent=True).start()
    try:
        client = _app(server.url, model).test_client()
        early = [client.post("/v1/comments", json=_body(n)).get_json()["id"] for n in range(200)]
        time.sleep(1.5)  # appendfsync everysec: what was acknowledged a second ago is on disk
        late = [client.post("/v1/comments", json=_body(1000 + n)).get_json()["id"] for n in range(50)]
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        server.start()
        assert _stored(server.url, early) == set(early)
        # Not promised, but reported: how many of the last instant's comments survived.
        print(f"after SIGKILL: {len(_stored(server.url, late))}/{len(late)} of the last comments kept")
    finally:
        server.stop()
