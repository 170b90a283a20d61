"""What `sort=uncertain` costs on a large queue, beside arrival order and beside scanning the whole queue.

Usage: .venv/bin/python bench/queue_order.py [--sizes 1000,10000,100000] [--repeat 200]

For each size N, N pending comments with random scores go into a Redis this script starts, through
the store's own submit script (which keeps the score indexes). Then, each repeated and timed:

- `read arrival`, `read uncertain`: the first page of 25 (`CommentStore.queue_page`, what
  `GET /v1/review/queue` runs), oldest first and nearest the hold thresholds first;
- `claim arrival`, `claim uncertain`: a claim of 10 (`CommentStore.claim`, one Lua script), the
  claims undone between rounds so that every round finds the same queue;
- `scan uncertain`: what the order would cost without the indexes, one read-only script that reads
  every pending comment's scores and picks the 10 nearest (the same figure a claim would have to find).

Printed: median milliseconds per call for each, the index's memory per comment, and the ratio of the
scan to the indexed claim. Last line: `queue_order: N=... claim_uncertain_ms=... scan_ms=... ratio=...`
for the largest N.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moderation.comments import NewComment, Origin, new_comment_id  # noqa: E402
from moderation.keys import Keys  # noqa: E402
from moderation.policy import Assessment, Decision, Policy, Reason  # noqa: E402
from moderation.redis_client import connect  # noqa: E402
from moderation.redis_server import EmbeddedRedis  # noqa: E402
from moderation.store import CommentStore, millionths  # noqa: E402

POLICY = Policy()
HELD = Decision("pending", (Reason("new_author"),))
# Without an index: read every pending comment's scores and keep the `limit` nearest the thresholds.
SCAN = """
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local spam_hold, abuse_hold, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local found = {}
for _, id in ipairs(ids) do
  local s = redis.call('HMGET', ARGV[1] .. 'comment:' .. id, 'spam', 'abuse')
  local d = math.min(math.abs(math.floor(tonumber(s[1]) * 1000000 + 0.5) - spam_hold),
                     math.abs(math.floor(tonumber(s[2]) * 1000000 + 0.5) - abuse_hold))
  found[#found + 1] = {d, id}
end
table.sort(found, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
local nearest = {}
for i = 1, math.min(limit, #found) do nearest[i] = found[i][2] end
return nearest
"""


def fill(store: CommentStore, count: int, rng: random.Random) -> None:
    for _ in range(count):
        comment_id, created_at = new_comment_id()
        comment = NewComment(comment_id, created_at, "a1", None, "Reader", "reader@example.com", "k1",
                             "A comment waiting for review.", Origin())
        store.submit(comment, Assessment(rng.random(), rng.random() ** 3), HELD, "bench")


def median_ms(call: Callable[[], object], repeat: int, after: Callable[[object], None] | None = None) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
        if after:
            after(result)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    rng = random.Random(0)
    holds = [millionths(POLICY.spam_hold), millionths(POLICY.abuse_hold)]
    print(f"{'pending':>9} {'read arr':>9} {'read unc':>9} {'claim arr':>10} {'claim unc':>10} {'scan':>9} "
          f"{'scan/claim':>11} {'index B/item':>13}")
    with EmbeddedRedis(Path(tempfile.mkdtemp(prefix="bench-queue-")), persistent=False) as server:
        # A long timeout: the scan of a large queue holds Redis for seconds (which is the point).
        redis = connect(server.url, decode_responses=True, socket_timeout=120)
        store = CommentStore(redis, Keys())
        scan = redis.register_script(SCAN)
        queued = 0
        line = ""
        for size in sizes:
            fill(store, size - queued, rng)
            queued = size

            def release(ids: object) -> None:
                pipe = redis.pipeline(transaction=False)
                for comment_id in ids:  # type: ignore[attr-defined]
                    pipe.hset(store.keys.comment(comment_id), mapping={"claimed_by": "", "claim_expires": "0"})
                pipe.execute()

            figures = {
                "read_arrival": median_ms(lambda: store.queue_page("pending", None, 25), args.repeat),
                "read_uncertain": median_ms(
                    lambda: store.queue_page("pending", None, 25, sort="uncertain", policy=POLICY), args.repeat),
                "claim_arrival": median_ms(lambda: store.claim("bench", "pending", 10, 60), args.repeat, release),
                "claim_uncertain": median_ms(
                    lambda: store.claim("bench", "pending", 10, 60, sort="uncertain", policy=POLICY), args.repeat,
                    release),
                "scan": median_ms(lambda: scan(keys=[store.keys.queue("pending")],
                                               args=[store.keys.prefix, *holds, 10]), max(3, args.repeat // 20)),
            }
            memory = sum(int(redis.memory_usage(key) or 0) for key in store.keys.scored_queue_keys("pending"))
            ratio = figures["scan"] / figures["claim_uncertain"]
            print(f"{size:>9,} {figures['read_arrival']:>9.3f} {figures['read_uncertain']:>9.3f} "
                  f"{figures['claim_arrival']:>10.3f} {figures['claim_uncertain']:>10.3f} {figures['scan']:>9.2f} "
                  f"{ratio:>11.0f} {memory / size:>13.0f}", flush=True)
            line = (f"queue_order: N={size} claim_uncertain_ms={figures['claim_uncertain']:.3f} "
                    f"claim_arrival_ms={figures['claim_arrival']:.3f} scan_ms={figures['scan']:.2f} ratio={ratio:.0f}")
        redis.close()
    print("(median milliseconds per call; the scan is what sort=uncertain would cost without the score indexes)")
    print(line)


if __name__ == "__main__":
    main()
