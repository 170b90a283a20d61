#!/usr/bin/env python3
"""Where one comment's time goes, in one process: the service and the reference app called through WSGI.

    .venv/bin/python bench/profile_intake.py                # stage timings, then cProfile's top functions
    .venv/bin/python bench/profile_intake.py --requests 3000 --no-cprofile

No gunicorn and no network client: each app is called as gunicorn's worker calls it (a WSGI environ in,
the body iterated out), against a redis-server started here, with the service's JSON access log and
multiprocess metrics on as under `moderation serve`. Then the stages of an intake are timed on their own
(validation, scoring, the policy, each Redis round trip), so the sum can be held against the whole.
Timings are per request, median of 5 batches, on one core; other work on the machine inflates them all.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import io
import json
import logging
import logging.config
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.intake import BENCH_POSTING_LIMITS, READ_ARTICLE, Comments  # noqa: E402
from moderation.redis_server import EmbeddedRedis  # noqa: E402


@contextlib.contextmanager
def _set(owner: object, name: str, value: object) -> Iterator[None]:
    """owner.name is value while the block runs, then what it was."""
    saved = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, saved)


@contextlib.contextmanager
def _metrics_off() -> Iterator[None]:
    """Every Prometheus update of a post made a no-op, for as long as the block runs."""
    from api import metrics

    class Nothing:
        def inc(self, *args: object) -> None: ...
        def observe(self, *args: object) -> None: ...

    saved = metrics._child, metrics.SCORING, metrics.record_decision
    metrics._child = lambda *args: Nothing()  # type: ignore[assignment]
    metrics.SCORING = Nothing()  # type: ignore[assignment]
    metrics.record_decision = lambda *args: None  # type: ignore[assignment]
    try:
        yield
    finally:
        metrics._child, metrics.SCORING, metrics.record_decision = saved  # type: ignore[assignment]


def per_call_us(action: Callable[[], object], count: int, batches: int = 5) -> tuple[float, float]:
    """(CPU, wall) microseconds per call: medians over `batches` of the mean of `count` calls.

    CPU is this process's own time: what a worker spends, whatever else keeps the machine busy.
    Wall adds the waits (Redis answering, the scheduler running other work).
    """
    cpu, wall = [], []
    for _ in range(batches):
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            action()
        cpu.append((time.process_time() - started_cpu) / count * 1e6)
        wall.append((time.perf_counter() - started) / count * 1e6)
    return statistics.median(cpu), statistics.median(wall)


def wsgi_call(app: Any, environ_of: Callable[[], dict[str, Any]]) -> Callable[[], int]:
    status: list[str] = []

    def start_response(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        status.append(code)
        return lambda data: None

    def call() -> int:
        body: Iterable[bytes] = app(environ_of(), start_response)
        size = sum(len(chunk) for chunk in body)
        close = getattr(body, "close", None)
        if close:
            close()
        if not status[-1].startswith(("200", "201")):
            raise RuntimeError(f"{status[-1]}")
        return size

    return call


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    top.add_argument("--requests", type=int, default=1000, help="calls per timed batch (default 1000)")
    top.add_argument("--no-cprofile", action="store_true")
    top.add_argument("--top", type=int, default=30, help="functions to list from cProfile")
    top.add_argument("--loop", type=float, default=0.0, metavar="SECONDS",
                     help="only POST through the service for this long (for a sampling profiler: "
                          "py-spy record --gil -- .venv/bin/python bench/profile_intake.py --loop 20)")
    top.add_argument("--rate-limits", default=BENCH_POSTING_LIMITS,
                     help=f"the service's posting limits (default {BENCH_POSTING_LIMITS}, as bench/intake.py "
                          "runs it: counting, never refusing; `off` to leave their cost out)")
    args = top.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    # As `moderation serve` sets them, before prometheus_client and the app are imported.
    (tmp / "metrics").mkdir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(tmp / "metrics")
    from werkzeug.test import EnvironBuilder

    from api import create_app, load_model
    from api.logs import LOGGING
    from bench.reference_app import create_app as create_reference
    from moderation.comments import NewComment, Origin, new_comment_id
    from moderation.intake import assess
    from moderation.keys import Keys
    from moderation.policy import decide, text_fingerprint
    from moderation.policy_store import PolicyStore
    from moderation.schemas import CommentIn

    log_file = (tmp / "access.log").open("w")
    logging.config.dictConfig(LOGGING)
    for handler in logging.getLogger().handlers + logging.getLogger("gunicorn.error").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(log_file)

    with EmbeddedRedis(tmp / "redis", persistent=False) as server:
        from redis import Redis

        redis = Redis.from_url(server.url, decode_responses=True)
        keys = Keys()
        PolicyStore(redis, keys).update({"hold_new_authors": False}, "bench")
        started = time.perf_counter()
        model = load_model(os.environ.get("MODERATION_MODEL_PATH"))
        print(f"model {model.version} loaded in {time.perf_counter() - started:.2f} s", flush=True)
        config = {"REDIS_URL": server.url, "SECRET_KEY": "bench", "RATE_LIMITS": args.rate_limits,
                  "ENV": "production", "MODEL": model}
        service = create_app(config)
        reference = create_reference(server.url, keys.prefix)
        comments = Comments(seed=1)

        def post_environ() -> dict[str, Any]:
            data = comments.comment()
            headers = [("User-Agent", comments.user_agent()),
                       ("Referer", f"https://news.example/articles/{data['article_id']}")]
            builder = EnvironBuilder(path="/v1/comments", method="POST", json=data, headers=headers,
                                     environ_base={"REMOTE_ADDR": "127.0.0.1"})
            return builder.get_environ()

        # Building the environ is the test's own cost: measured alone, and taken off the totals.
        build_us = per_call_us(post_environ, args.requests // 2)
        post_service = wsgi_call(service, post_environ)
        post_reference = wsgi_call(reference, post_environ)
        for _ in range(200):  # warm caches, connections and the model's word cache
            post_service()
            post_reference()

        if args.loop:
            deadline, count = time.monotonic() + args.loop, 0
            while time.monotonic() < deadline:
                post_service()
                count += 1
            print(f"{count} POSTs in {args.loop:.0f} s")
            return 0

        # An article of 50 published comments, as bench/intake.py reads.
        published: Any = redis.zcard(keys.article_published(READ_ARTICLE))
        while int(published) < 50:
            seed = EnvironBuilder(path="/v1/comments", method="POST",
                                  json=comments.comment(READ_ARTICLE, clean=True)).get_environ()
            wsgi_call(service, seed.copy)()
            published = redis.zcard(keys.article_published(READ_ARTICLE))
        read_environ = EnvironBuilder(path=f"/v1/articles/{READ_ARTICLE}/comments").get_environ()
        read_service = wsgi_call(service, lambda: dict(read_environ))
        read_reference = wsgi_call(reference, lambda: dict(read_environ))

        rows: list[tuple[str, tuple[float, float]]] = []
        n = args.requests

        def minus_build(value: tuple[float, float]) -> tuple[float, float]:
            return value[0] - build_us[0], value[1] - build_us[1]

        rows.append(("POST service (WSGI, no HTTP)", minus_build(per_call_us(post_service, n))))
        rows.append(("POST reference (WSGI, no HTTP)", minus_build(per_call_us(post_reference, n))))
        rows.append(("GET 50 comments service", per_call_us(read_service, n // 2)))
        rows.append(("GET 50 comments reference", per_call_us(read_reference, n // 2)))

        # The stages of one intake, each alone.
        samples = [comments.comment() for _ in range(500)]
        parsed = [CommentIn.model_validate(s, strict=True) for s in samples]
        bodies = [p.body for p in parsed]
        cycle = {"i": 0}

        def nxt() -> int:
            cycle["i"] = (cycle["i"] + 1) % len(samples)
            return cycle["i"]

        intake = service.extensions["moderation"].intake
        store = service.extensions["moderation"].store
        policies = service.extensions["moderation"].policies
        policy, _ = policies.for_article("story-1")
        assessment = assess(model, bodies[0])
        rows.append(("  json.loads of the body", per_call_us(lambda: json.loads(json.dumps(samples[nxt()])), n)))
        rows.append(("  CommentIn validation (pydantic, email)", per_call_us(
            lambda: CommentIn.model_validate(samples[nxt()], strict=True), n)))
        rows.append(("  model score (assess)", per_call_us(lambda: assess(model, bodies[nxt()]), n)))
        rows.append(("  text_fingerprint", per_call_us(lambda: text_fingerprint(bodies[nxt()]), n)))
        rows.append(("  decide (policy rules)", per_call_us(
            lambda: decide(policy, assessment, bodies[nxt()], article_mode="open", author_approved=1), n)))
        rows.append(("  Redis: policy + article mode (1 round trip)", per_call_us(
            lambda: policies.for_article("story-1"), n)))
        rows.append(("  Redis: author and duplicate check (1 round trip)", per_call_us(
            lambda: store.author_context("a" * 32, "b" * 24), n)))
        rows.append(("  Redis: PING (1 round trip, the floor)", per_call_us(redis.ping, n)))
        origin = Origin("127.0.0.1", "bench", "https://news.example/")
        prepared = [(NewComment(id="", created_at="", article_id=c.article_id, parent_id=None, name=c.name,
                                email=c.email, author_key="a" * 32, body=c.body, origin=origin, website=""),
                     assess(model, c.body)) for c in parsed]

        def store_submit(i: int) -> object:
            comment, scored = prepared[i]
            comment_id, created_at = new_comment_id()
            record = dataclasses.replace(comment, id=comment_id, created_at=created_at)
            verdict = decide(policy, scored, comment.body, article_mode="open", author_approved=1)
            return store.submit(record, scored, verdict, model.version, text_fingerprint=text_fingerprint(comment.body))
        rows.append(("  Intake.submit (all of the above but parsing)", per_call_us(
            lambda: intake.submit(parsed[nxt()], origin), n)))

        # The parts of a post that the floor does not do, each measured as what the whole POST saves
        # without it (logging, metrics, the limits' counters). The store grows as the run posts, and
        # a post costs more as it does, so the variants take turns batch by batch.
        rows.append(("", (float("nan"), float("nan"))))
        rows.append(("Where the service's CPU per post goes (the POST without each part, in turns):",
                     (float("nan"), float("nan"))))
        access = logging.getLogger("moderation.access")
        variants: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
            "  POST service, all of it": contextlib.nullcontext,
            "  ... without the access log line": lambda: _set(access, "disabled", True),
            "  ... without Prometheus metrics": _metrics_off,
            "  ... without the posting limits' counters": lambda: _set(intake, "limits", None),
        }
        taken: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(7):
            for name, variant in variants.items():
                with variant():
                    taken[name].append(minus_build(per_call_us(post_service, n // 2, batches=1)))
        for name, values in taken.items():
            rows.append((name, (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))))
        stored = [intake.submit(parsed[nxt()], origin) for _ in range(3)]
        del stored
        rows.append(("  store.submit alone (the atomic script: hash, queue, lists, audit, stats)", per_call_us(
            lambda: store_submit(nxt()), n)))

        width = max(len(name) for name, _ in rows)
        print(f"\nper request, microseconds (median of 5 batches; building the environ, {build_us[0]:.0f} us, "
              "taken off the POST rows):")
        print(f"  {'':<{width}}  {'cpu':>8}  {'wall':>8}")
        for name, (cpu, wall) in rows:
            print(f"  {name:<{width}}  {cpu:8.0f}  {wall:8.0f}" if cpu == cpu else f"  {name}")

        if not args.no_cprofile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(n):
                post_service()
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)
            print(f"\ncProfile of {n} POSTs through the service (cProfile slows calls; read shares, not times):")
            print(out.getvalue())
        redis.close()
    log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
