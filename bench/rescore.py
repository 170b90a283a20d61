"""Rescoring throughput: load N comments into a Redis this script starts, rescore them all.

Usage: .venv/bin/python bench/rescore.py [--comments 200000] [--batch 2000] [--workers 2]

Comments are written straight into the store (the same Lua submit as the API) from a mix of texts,
then `Rescorer` (what `moderation rescore` runs) rescores every one with the shipped model. Printed:
the load time, a reference (the same model's plain `probabilities` over the same texts, no Redis),
and the rescore rate. Last line: `rescore: N comments/s`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moderation.comments import NewComment, Origin, author_key  # noqa: E402
from moderation.keys import Keys  # noqa: E402
from moderation.model.classifier import Classifier  # noqa: E402
from moderation.policy import Assessment, Decision, Policy, Reason  # noqa: E402
from moderation.redis_client import connect  # noqa: E402
from moderation.redis_server import EmbeddedRedis  # noqa: E402
from moderation.rescore import Rescorer  # noqa: E402
from moderation.store import CommentStore  # noqa: E402

TEXTS = [
    "I disagree with the council's decision, but the article explains it fairly.",
    "Thanks for covering the flood response; the volunteers deserve the credit.",
    "WIN a FREE iPhone!!! Click http://bit.ly/prize now to claim your cash prize",
    "The minister's figures don't add up, and the opposition is right to say so.",
    "You people are idiots and should be ashamed of yourselves.",
    "Check out my channel for great music videos, subscribe please!",
    "As a teacher I can say the new curriculum is a step backwards.",
    "The war reporting here has been careful and humane. Thank you.",
]


def load(url: str, count: int) -> float:
    store = CommentStore(connect(url, decode_responses=True), Keys())
    rng = random.Random(0)
    started = time.perf_counter()
    base_ms = int(time.time() * 1000) - count
    from ulid import ULID

    for n in range(count):
        text = f"{rng.choice(TEXTS)} ({n})"
        status = rng.choice(["published", "published", "published", "pending", "rejected"])
        decision = Decision(status, () if status == "published" else (Reason("spam", 0.7),))  # type: ignore[arg-type]
        comment_id = str(ULID.from_timestamp((base_ms + n) / 1000))
        email = f"reader{n % 5000}@example.com"
        store.submit(
            NewComment(comment_id, "2026-11-26T00:00:00.000Z", f"article-{n % 500}", None, "Reader", email,
                       author_key(b"bench", email), text, Origin()),
            Assessment(0.3, 0.1), decision, "bench-load", text_fingerprint=f"{n}", duplicate_window=10,
        )
    return time.perf_counter() - started


# Set before the pool forks, so worker processes share the loaded model instead of timing its load.
_MODEL: Classifier | None = None


def work(url: str, batch: int) -> int:
    store = CommentStore(connect(url, decode_responses=True), Keys())
    report = Rescorer(store, _MODEL or Classifier.load(), Policy(), job="bench", batch=batch).run()
    return report.rescored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="rescore processes sharing the job (one per core)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, EmbeddedRedis(Path(scratch), persistent=False) as server:
        seconds = load(server.url, args.comments)
        print(f"loaded {args.comments} comments in {seconds:.1f} s", flush=True)

        global _MODEL
        model = _MODEL = Classifier.load()
        texts = [f"{TEXTS[n % len(TEXTS)]} ({n})" for n in range(min(args.comments, 50_000))]
        started = time.perf_counter()
        model.probabilities(texts)
        reference = len(texts) / (time.perf_counter() - started)
        print(f"reference: model.probabilities alone, {reference:,.0f} texts/s", flush=True)

        started = time.perf_counter()
        if args.workers == 1:
            done = work(server.url, args.batch)  # the model was loaded above, outside the timing
        else:
            with multiprocessing.get_context("fork").Pool(args.workers) as pool:
                done = sum(pool.starmap(work, [(server.url, args.batch)] * args.workers))
        elapsed = time.perf_counter() - started
        assert done == args.comments, f"rescored {done} of {args.comments}"
        rate = done / elapsed
        print(f"rescored {done} comments in {elapsed:.1f} s with {args.workers} worker(s); "
              f"{rate / reference:.2f} of the reference rate")
        print(f"rescore: {rate:.0f} comments/s")


if __name__ == "__main__":
    main()
