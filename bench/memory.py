"""Redis memory per stored comment: N comments through the intake path into a Redis this script starts.

Usage: .venv/bin/python bench/memory.py [--comments 20000] [--seed 0] [--redis-server PATH] [--smoke]

The comments (bench/intake.py's generator: many authors, 2-6 sentences, hot stories, a little spam
and abuse) are posted to `POST /v1/comments` of the real app (create_app, the shipped model, the
default policy with the new-author hold on, so most are held; rate limits counting but set high
enough to refuse none) with the Flask test client, each from its own reader IP and user agent, into
the embedded Redis with the settings the store is sized for (redis_client.STORE_CONFIG).

Three figures, each used_memory's growth over N: at intake, while the keys of the duplicate, burst
and rate-limit rules live (the policy's shortest windows, so they expire within the run); stored,
once they have expired (what a comment costs for as long as it is kept); and after a retention pass
(moderation.retention: the events stream trimmed to its tail). A table per structure (keys grouped
by pattern, MEMORY USAGE summed) at intake and after the pass. Last line:
`memory: bytes_per_comment=S after_retention=R at_intake=I`.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api import create_app  # noqa: E402
from bench.intake import Comments  # noqa: E402
from moderation.redis_client import connect  # noqa: E402
from moderation.redis_server import EmbeddedRedis  # noqa: E402
from moderation.retention import Retention  # noqa: E402

# Parts of a key that name one comment, author, text or client: folded so keys group by structure.
_ID_PARTS = [
    (re.compile(r"[0-9A-HJKMNP-TV-Z]{26}"), "<id>"),  # ULIDs
    (re.compile(r"\b[0-9a-f]{16,64}\b"), "<hash>"),
    (re.compile(r"story-[\w-]+"), "<article>"),
    (re.compile(r"\d+\.\d+\.\d+\.\d+"), "<ip>"),
    (re.compile(r"[\w.+-]+@[\w.-]+"), "<email>"),
]


def pattern(key: str) -> str:
    for regex, replacement in _ID_PARTS:
        key = regex.sub(replacement, key)
    return key


def structures(redis) -> dict[str, tuple[int, int, bool]]:  # type: ignore[no-untyped-def]
    """(keys, bytes, expires) per key pattern, by MEMORY USAGE with every element sampled."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for key in redis.scan_iter(count=1000):
        entry = found[pattern(key)]
        entry[0] += 1
        entry[1] += int(redis.memory_usage(key, samples=0) or 0)
        entry[2] += redis.pttl(key) > 0
    return {name: (count, size, expiring > 0) for name, (count, size, expiring) in found.items()}


def used_memory(redis) -> int:  # type: ignore[no-untyped-def]
    redis.execute_command("MEMORY", "PURGE")
    return int(redis.info("memory")["used_memory"])


def print_table(table: dict[str, tuple[int, int, bool]], comments: int) -> None:
    print("| structure | keys | bytes | bytes per comment | expires on its own |")
    print("|---|---|---|---|---|")
    for name, (count, size, expires) in sorted(table.items(), key=lambda item: -item[1][1]):
        if size >= comments:  # a byte a comment or more
            print(f"| `{name}` | {count:,} | {size:,} | {size / comments:,.0f} | {'yes' if expires else ''} |")


def wait_for_expiry(redis, within: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    """Until the keys that expire within `within` seconds (the rules' windows) are gone."""
    short = [key for key in redis.scan_iter(count=1000) if 0 < redis.pttl(key) <= within * 1000]
    deadline = time.monotonic() + within + 30
    while short and time.monotonic() < deadline:
        time.sleep(1)
        short = [key for key in short if redis.exists(key)]
    if short:
        raise SystemExit(f"{len(short)} keys did not expire in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--redis-server", help="the redis-server binary to start (default: the embedded one)")
    parser.add_argument("--smoke", action="store_true",
                        help="50 comments, no waiting for the rules' keys to expire: keeps the harness from rotting")
    args = parser.parse_args()
    if args.smoke:
        args.comments = 50
    generator = Comments(args.seed)
    n = args.comments
    with (tempfile.TemporaryDirectory() as scratch,
          EmbeddedRedis(Path(scratch) / "redis", persistent=False, executable=args.redis_server) as server):
        redis = connect(server.url, decode_responses=True)
        app = create_app({"REDIS_URL": server.url, "SECRET_KEY": "bench", "RATE_LIMITS": "1000000/second",
                          "TRUSTED_PROXIES": 1})
        services = app.extensions["moderation"]
        # The shortest windows the policy allows, so the keys of the duplicate and burst rules expire
        # within the run: what stays after them is what a stored comment costs.
        services.policies.update({"duplicate_window_seconds": 10, "burst_window_seconds": 60}, "bench")
        client = app.test_client()
        client.get("/readyz")  # whatever the app writes once, before the baseline
        before = used_memory(redis)
        statuses: dict[str, int] = defaultdict(int)
        started = time.monotonic()
        for i in range(n):
            reader = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
            answer = client.post("/v1/comments", json=generator.comment(),
                                 headers={"User-Agent": generator.user_agent(), "X-Forwarded-For": reader})
            if answer.status_code != 201:
                raise SystemExit(f"comment {i}: {answer.status_code} {answer.get_data(as_text=True)[:200]}")
            statuses[answer.get_json()["status"]] += 1
        posted = time.monotonic() - started
        at_intake = used_memory(redis)
        print(f"{n} comments through POST /v1/comments in {posted:.0f} s ({dict(statuses)}); redis-server "
              f"{redis.info('server')['redis_version']} ({redis.info('memory')['mem_allocator']}), "
              f"{redis.config_get('hash-max-ziplist-value')}")
        print(f"\nAt intake, with the keys of the duplicate, burst and rate-limit rules still alive "
              f"(used_memory {before:,} -> {at_intake:,}: {(at_intake - before) / n:,.0f} bytes per comment):\n")
        print_table(structures(redis), n)
        if not args.smoke:
            wait_for_expiry(redis)
        stored = used_memory(redis)
        print(f"\nStored, once those keys expired: {(stored - before) / n:,.0f} bytes per comment")
        report = Retention(services.store).run()
        after = used_memory(redis)
        print(f"After a retention pass ({report}): {(after - before) / n:,.0f} bytes per comment\n")
        print_table(structures(redis), n)
    print(f"memory: bytes_per_comment={(stored - before) / n:.0f} after_retention={(after - before) / n:.0f} "
          f"at_intake={(at_intake - before) / n:.0f}")


if __name__ == "__main__":
    main()
