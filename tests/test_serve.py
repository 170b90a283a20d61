"""`moderation serve` on a machine with no Redis: the embedded server keeps comments across restarts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from redis import Redis

from moderation.moderators import Moderators
from moderation.redis_server import EmbeddedRedis, PortTaken, free_port

ROOT = Path(__file__).resolve().parents[1]


def _start(data_dir: Path, port: int, redis_port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(MODERATION_DATA_DIR=str(data_dir), MODERATION_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1")
    command = [sys.executable, "-m", "moderation_cli", "serve", "--redis-port", str(redis_port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("moderation serve did not become ready")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise


def _get(port: int, path: str, token: str) -> dict[str, object]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, object] = json.load(response)
        return result


def test_serve_with_embedded_redis_keeps_comments_across_restart(tmp_path: Path) -> None:
    port, redis_port = free_port(), free_port()
    server = _start(tmp_path, port, redis_port)
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/comments",
            data=json.dumps({"article_id": "a1", "name": "Ann", "email": "ann@example.com",
                             "body": "A calm remark on the plan."}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
            receipt = json.load(response)
        token = Moderators(Redis(port=redis_port, decode_responses=True)).add("alice", "moderator")
    finally:
        _stop(server)
    assert list((tmp_path / "redis").glob("appendonly*")), "the embedded Redis keeps an append-only file"
    assert (tmp_path / "secret_key").exists()

    server = _start(tmp_path, port, redis_port)
    try:
        queue = _get(port, "/v1/review/queue", token)
        assert [item["id"] for item in queue["items"]] == [receipt["id"]]  # type: ignore[index,union-attr]
        # The author key is the same after the restart: the secret lives in the data folder.
        item = _get(port, f"/v1/comments/{receipt['id']}", token)
        author = item["author"]["author_key"]  # type: ignore[index]
        assert _get(port, f"/v1/review/authors/{author}", token)["author"]["comments"] == 1  # type: ignore[index]

        # The longest article id, a URL, fits gunicorn's request line percent-encoded (over 6,000 bytes).
        longest = ("https://news.example.com/search?" + "q=a:b/&" * 300)[:2048]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/comments",
            data=json.dumps({"article_id": longest, "name": "Ann", "email": "ann@example.com",
                             "body": "A second calm remark."}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            posted = json.load(response)
        encoded = quote(longest, safe="")
        assert len(encoded) > 4094  # gunicorn's default limit_request_line
        held = _get(port, f"/v1/review/queue?article_id={encoded}", token)["items"]
        assert [i["id"] for i in held] == [posted["id"]]  # type: ignore[index,union-attr]
        assert _get(port, f"/v1/articles/{encoded}/comments", token)["comments"] == []
        assert _get(port, f"/v1/articles/{quote(longest, safe='/:')}/comments", token)["comments"] == []
    finally:
        _stop(server)


def test_an_embedded_redis_whose_port_was_taken_starts_on_another(tmp_path: Path) -> None:
    chosen = EmbeddedRedis(tmp_path / "chosen", persistent=False)
    given = EmbeddedRedis(tmp_path / "given", persistent=False, port=chosen.port)
    with socket.socket() as squatter:
        # Another process binds the port between free_port() and redis-server's own bind.
        squatter.bind(("127.0.0.1", chosen.port))
        squatter.listen()
        taken = chosen.port
        with chosen:
            assert chosen.port != taken
            assert Redis(port=chosen.port).ping()
        with pytest.raises(PortTaken):
            given.start(timeout=5)
