#!/usr/bin/env python3
"""The drop-in surfaces under load: latency at a steady request rate, against the service as production runs it.

One command (from the project folder, with the project's virtualenv; needs wrk, installed from Debian's
packages when missing, as bench/intake.py does):

    .venv/bin/python bench/dropin.py                  # 200 requests/s, 3 rounds of 30 s per route
    .venv/bin/python bench/dropin.py --nice -10      # on a machine shared with other work (as root)
    .venv/bin/python bench/dropin.py --rate 400 --rounds 1
    .venv/bin/python bench/dropin.py --smoke          # ~20 s: every step once, briefly (tests/test_bench_smoke.py)

It starts its own redis-server on a free loopback port, the service as `moderation serve` runs it (gunicorn,
2 sync workers, the model loaded before the fork) with MODERATION_RATE_LIMITS=off and
MODERATION_API_KEY_RATE_LIMITS=off, makes an API key, and then, for each entry of ROUTES:

1. a warm-up, then the steady rate: an open-loop generator (asyncio over loopback, one new connection per
   request, latency counted from each request's scheduled time, so a stalled server cannot hide its queue),
   sending realistic reader comments (bench/wrk/phrases.txt, as bench/intake.py posts them) in the shape the
   route's client sends; the median round's figures count;
2. the most the service answers on that route: wrk, closed loop, replaying the same requests;
3. the service's CPU per request, sent one at a time, beside a comment post's and a probe's in the same run:
   other work on a shared machine slows every route alike, so that ratio holds where the figures drift.

It prints one table, and last `dropin: analyze_p50_ms=X analyze_p99_ms=Y` (the steady-rate median round).
A route is one more entry in ROUTES: its path, how its client shapes the request, and any settings it needs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.intake import (  # noqa: E402  (re-executes with the project's virtualenv when run by another Python)
    App,
    Comments,
    background_busy,
    cpu_model,
    cpu_seconds,
    ensure_wrk,
    open_loop,
    percentile,
    run_wrk,
    say,
    service_launch,
    started,
)
from moderation.api_keys import ApiKeys  # noqa: E402
from moderation.keys import Keys  # noqa: E402
from moderation.redis_server import EmbeddedRedis  # noqa: E402

TARGET_P99_MS = 10.0


@dataclass(frozen=True)
class Request:
    """One HTTP request as a route's client sends it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Route:
    """A drop-in route under test: how its client shapes a request from a reader's comment, and what it needs.

    `build(body_text, api_key)` returns the request; `env` holds the service settings the route needs
    (a signing secret, say); `ok` the statuses that count as answered.
    """

    name: str
    build: Callable[[str, str], Request]
    ok: tuple[int, ...] = (200,)
    env: dict[str, str] = field(default_factory=dict)


def perspective_analyze(text: str, api_key: str) -> Request:
    """What Coral Talk sends to Perspective (server/src/core/server/services/perspective/perspective.ts)."""
    body = {"comment": {"text": text}, "doNotStore": True, "requestedAttributes": {"TOXICITY": {}},
            "languages": ["en"]}
    return Request("POST", f"/v1alpha1/comments:analyze?key={api_key}", {"Content-Type": "application/json"},
                   json.dumps(body).encode())


ROUTES: tuple[Route, ...] = (
    Route("analyze", perspective_analyze),
)


def raw_request(request: Request, host: str, port: int) -> bytes:
    head = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}:{port}",
            *(f"{name}: {value}" for name, value in request.headers.items()),
            f"Content-Length: {len(request.body)}", "Connection: close", "", ""]
    return "\r\n".join(head).encode() + request.body


# -- steady rate, open loop ------------------------------------------------------------------------------------


@dataclass
class Steady:
    route: str
    round: int
    rate: float
    seconds: float
    sent: int
    ok: int
    statuses: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    send_lag_p99_ms: float
    cpu_ms_per_request: float
    other_load: float


def steady(app: App, route: Route, payloads: list[bytes], rate: float, seconds: float, round_number: int) -> Steady:
    load = background_busy(0.5)
    pids = app.pids()
    cpu0 = cpu_seconds(pids)
    results, lags = asyncio.run(open_loop("127.0.0.1", app.port, payloads, rate, seconds))
    cpu = cpu_seconds(pids) - cpu0
    latencies = [elapsed * 1000 for status, elapsed, _ in results if status in route.ok]
    return Steady(
        route=route.name, round=round_number, rate=rate, seconds=seconds, sent=len(results), ok=len(latencies),
        statuses=dict(Counter(str(status) for status, _, _ in results)),
        p50_ms=round(percentile(latencies, 50), 2), p90_ms=round(percentile(latencies, 90), 2),
        p99_ms=round(percentile(latencies, 99), 2), p999_ms=round(percentile(latencies, 99.9), 2),
        max_ms=round(max(latencies, default=float("nan")), 2),
        send_lag_p99_ms=round(percentile([lag * 1000 for lag in lags], 99), 2),
        cpu_ms_per_request=round(1000 * cpu / max(1, len(results)), 3), other_load=round(load, 3),
    )


def median_round(rounds: list[Steady]) -> Steady:
    """The round with the median p99 (the lower middle one for an even count)."""
    ordered = sorted(rounds, key=lambda r: r.p99_ms)
    return ordered[(len(ordered) - 1) // 2]


# -- cost, one request at a time -------------------------------------------------------------------------------


def cpu_per_request(app: App, payloads: list[bytes], count: int) -> float:
    """The service's CPU (ms) per request, sent one at a time: no queue, only the request's own work.

    Other work on the machine slows every route alike, so ratios between routes measured in the same
    run hold where absolute figures drift.
    """
    def send(payload: bytes) -> None:
        with socket.create_connection(("127.0.0.1", app.port), timeout=10) as connection:
            connection.sendall(payload)
            while connection.recv(65536):
                pass

    for payload in payloads[:count // 5]:  # warm the worker's caches
        send(payload)
    pids = app.pids()
    before = cpu_seconds(pids)
    for index in range(count):
        send(payloads[index % len(payloads)])
    return 1000 * (cpu_seconds(pids) - before) / count


def reference_payloads(host: str, port: int, count: int) -> dict[str, list[bytes]]:
    """Requests of the service's own routes to compare costs with: a probe, and a reader's comment post."""
    comments = Comments(seed=61)
    health = raw_request(Request("GET", "/healthz", {}, b""), host, port)
    posts = [raw_request(Request("POST", "/v1/comments", {"Content-Type": "application/json"},
                                 json.dumps(comments.comment()).encode()), host, port) for _ in range(count)]
    return {"GET /healthz": [health], "POST /v1/comments": posts}


# -- most throughput, closed loop ------------------------------------------------------------------------------


def write_replay(path: Path, requests: list[Request]) -> Path:
    """The requests for bench/wrk/replay.lua: one a line, method, path, headers and body separated by tabs."""
    lines = []
    for request in requests:
        headers = "\x1f".join(f"{name}: {value}" for name, value in request.headers.items())
        body = request.body.decode()
        if "\t" in body or "\n" in body or "\t" in headers:
            raise ValueError("a replayed request holds a tab or a newline")
        lines.append(f"{request.method}\t{request.path}\t{headers}\t{body}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- the run ---------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    top = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--smoke", action="store_true", help="every step once, briefly: checks the harness works")
    top.add_argument("--rate", type=float, default=200.0, help="requests/s of the steady run (default 200)")
    top.add_argument("--seconds", type=float, default=30.0, help="length of each steady round (default 30)")
    top.add_argument("--rounds", type=int, default=3, help="steady rounds per route; the median p99 counts")
    top.add_argument("--warmup", type=float, default=5.0, help="seconds of steady warm-up before the rounds")
    top.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as `moderation serve`)")
    top.add_argument("--wrk-seconds", type=int, default=10, help="seconds of the closed-loop wrk run (0: skip)")
    top.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    top.add_argument("--cost-requests", type=int, default=500,
                     help="requests sent one at a time per route for its CPU cost (default 500)")
    top.add_argument("--routes", nargs="*", choices=[route.name for route in ROUTES],
                     default=[route.name for route in ROUTES], help="the routes to measure (default all)")
    top.add_argument("--out", help="folder for logs and the JSON results (default: a temporary one)")
    top.add_argument("--nice", type=int, default=0,
                     help="run the benchmark and everything it starts at this niceness; on a machine shared with "
                          "other work, -10 (as root) gives it the CPUs first")
    args = top.parse_args(argv)
    if args.smoke:
        args.rate, args.seconds, args.rounds, args.warmup, args.wrk_seconds = 50.0, 1.0, 1, 0.5, 1
        args.cost_requests = 20
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.nice:
        os.nice(args.nice)  # inherited by redis-server, gunicorn and wrk
    wrk = ensure_wrk() if args.wrk_seconds else ""
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-dropin-"))
    out.mkdir(parents=True, exist_ok=True)
    routes = [route for route in ROUTES if route.name in args.routes]
    say(f"machine: {os.cpu_count()} x {cpu_model()}; load average {os.getloadavg()[0]:.2f}; other work busy "
        f"{background_busy(1.0):.0%} of all CPUs before start")
    say(f"results and logs in {out}")
    results: dict[str, Any] = {}
    with EmbeddedRedis(out / "redis", persistent=False) as redis_server:
        launch = service_launch(out, redis_server.url, workers=args.workers, worker_class="sync", threads=1)
        for route in routes:
            launch.env.update(route.env)
        from redis import Redis

        redis = Redis.from_url(redis_server.url, decode_responses=True)
        api_key = ApiKeys(redis, Keys(launch.env["MODERATION_KEY_PREFIX"])).add(f"bench-{os.urandom(4).hex()}")
        with started([launch]) as (service,):
            say(f"service: {launch.how} on {service.url}, workers {service.workers()}; rate limits off")
            comments = Comments(seed=16)
            texts = [comments.body() for _ in range(2000)]
            for route in routes:
                requests = [route.build(text, api_key) for text in texts]
                payloads = [raw_request(request, "127.0.0.1", service.port) for request in requests]
                say(f"\n{route.name}: {requests[0].method} {requests[0].path.split('?')[0]}, steady {args.rate:.0f}/s, "
                    f"{args.rounds} round(s) of {args.seconds:.0f} s after {args.warmup:.0f} s warm-up")
                steady(service, route, payloads, args.rate, args.warmup, 0)
                rounds = []
                for number in range(1, args.rounds + 1):
                    result = steady(service, route, payloads, args.rate, args.seconds, number)
                    rounds.append(result)
                    say(f"  round {number}: sent {result.sent} ok {result.ok} statuses {result.statuses} "
                        f"p50 {result.p50_ms:.2f} ms p90 {result.p90_ms:.2f} ms p99 {result.p99_ms:.2f} ms "
                        f"p99.9 {result.p999_ms:.2f} ms max {result.max_ms:.2f} ms "
                        f"(cpu {result.cpu_ms_per_request:.2f} ms/request, "
                        f"generator lag p99 {result.send_lag_p99_ms:.2f} ms, other load {result.other_load:.0%})")
                closed: dict[str, float] = {}
                if args.wrk_seconds:
                    replay = write_replay(out / f"{route.name}.requests", requests)
                    closed = run_wrk(wrk, service.url, "replay.lua", args.wrk_seconds, connections=args.connections,
                                     threads=1, script_args=[str(replay)])
                    say(f"  wrk -c{args.connections} -d{args.wrk_seconds}s: "
                        f"{closed['requests'] / (closed['duration_us'] / 1e6):.0f} requests/s, "
                        f"non-2xx {closed['errors_status']}")
                cost = cpu_per_request(service, payloads, args.cost_requests)
                say(f"  one request at a time: {cost:.2f} ms of service CPU per request")
                results[route.name] = {"median": median_round(rounds).__dict__,
                                       "rounds": [r.__dict__ for r in rounds], "wrk": closed, "cpu_ms": cost}
            references = {name: cpu_per_request(service, payloads, args.cost_requests)
                          for name, payloads in reference_payloads("127.0.0.1", service.port,
                                                                   args.cost_requests).items()}
            say("\nthe service's own routes, one request at a time: " + ", ".join(
                f"{name} {cost:.2f} ms of CPU per request" for name, cost in references.items()))
            results["references_cpu_ms"] = references
    (out / "results.json").write_text(json.dumps(results, indent=2))

    say(f"\nsteady {args.rate:.0f} requests/s, the median of {args.rounds} round(s) (target p99 <= "
        f"{TARGET_P99_MS:.0f} ms):")
    say(f"{'route':<10} {'sent':>6} {'ok':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} "
        f"{'max ms':>8} {'cpu ms/req':>10} {'wrk req/s':>10}")
    references = results.pop("references_cpu_ms")
    post = references["POST /v1/comments"]
    for name, entry in results.items():
        m = entry["median"]
        wrk_rate = (f"{entry['wrk']['requests'] / (entry['wrk']['duration_us'] / 1e6):.0f}"
                    if entry["wrk"] else "-")
        say(f"{name:<10} {m['sent']:>6} {m['ok']:>6} {m['p50_ms']:>8.2f} {m['p90_ms']:>8.2f} {m['p99_ms']:>8.2f} "
            f"{m['p999_ms']:>9.2f} {m['max_ms']:>8.2f} {m['cpu_ms_per_request']:>10.2f} {wrk_rate:>10}")
        say(f"  {name}: {entry['cpu_ms']:.2f} ms of CPU one at a time, {entry['cpu_ms'] / post:.2f} of a comment "
            f"post's ({post:.2f} ms) in the same run")
    if "analyze" in results:
        m = results["analyze"]["median"]
        p99s = [r["p99_ms"] for r in results["analyze"]["rounds"]]
        say(f"analyze p99 by round: {', '.join(f'{p:.2f}' for p in p99s)} ms (median {statistics.median(p99s):.2f})")
        say(f"dropin: analyze_p50_ms={m['p50_ms']:.2f} analyze_p99_ms={m['p99_ms']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
