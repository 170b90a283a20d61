#!/usr/bin/env python3
"""Coral's external moderation phase under load: its latency at a steady rate, as Coral's timeout sees it.

One command (from the project folder, with the project's virtualenv):

    .venv/bin/python bench/coral_phase.py                 # 200 requests/s for 30 s, 2 sync workers
    .venv/bin/python bench/coral_phase.py --rate 400 --seconds 60
    .venv/bin/python bench/coral_phase.py --smoke         # a few seconds: every step once (tests/test_bench_smoke.py)

Coral skips a phase that has not answered within the phase's timeout (200 ms unless its admin changes it; 100 ms
at least), so the figure that matters is the tail at the rate a newsroom's comments arrive. This script starts its
own redis-server on a free loopback port, then the service as production runs it (`moderation serve`: gunicorn,
sync workers, the model preloaded; rate limits off, a signing secret set), and measures

1. latency at a steady rate (default 200 requests/s) with bench/intake.py's open-loop generator: a new
   connection per request (Coral's fetch may reuse one; this is the dearer case), latency counted from each
   request's scheduled time, so a stalled server cannot hide its queue;
2. capacity: requests/s with wrk (bench/wrk/coral_phase.lua, 8 connections kept alive), and the CPU per request.

The requests are Coral's: the current request shape, serialised as `JSON.stringify(request, null, 2)` and signed
with `sha256=<hex HMAC-SHA256>` (tests/test_coral.py checks this serialisation byte for byte against a Node
transcription of Coral's code). Their comments are bench/intake.py's realistic mix (a few spam and abusive ones),
about half as Coral's HTML (paragraphs, line breaks, a link now and then), 1 in 20 from a staff role, 1 in 10 a
reply, 1 in 10 an edit.

Last line: `coral: p50_ms=X p99_ms=Y` (the steady run's service latency).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import html
import json
import os
import random
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

try:
    import redis  # noqa: F401  (the project's virtualenv has it)
except ImportError:  # run with a Python that lacks the project: use the project's virtualenv instead
    venv_python = ROOT / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.executable).resolve() != venv_python.resolve():
        os.execv(str(venv_python), [str(venv_python), *sys.argv])
    raise

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.intake import (  # noqa: E402
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
from moderation.redis_server import EmbeddedRedis  # noqa: E402

PATH = "/v1/coral/moderation-phase"
STAFF = ("ADMIN", "MODERATOR", "STAFF")
TARGET_P99_MS = 10.0


def coral_comment(comments: Comments, rng: random.Random) -> str:
    """A comment body as Coral stores it: plain text, or (about half) its rich-text editor's HTML."""
    text = comments.body()
    if rng.random() < 0.5:
        return text
    sentences = [html.escape(part.strip()) for part in text.replace("! ", "!\n").replace(". ", ".\n").split("\n")]
    if rng.random() < 0.1:
        sentences.append('<a href="https://news.example/related" target="_blank" rel="noopener noreferrer ugc">'
                         "https://news.example/related</a>")
    middle = len(sentences) // 2
    return f"<p>{'<br>'.join(sentences[:middle]) or sentences[0]}</p><p>{'<br>'.join(sentences[middle:])}</p>"


def coral_requests(count: int, secret: str, seed: int) -> list[tuple[str, bytes]]:
    """(X-Coral-Signature, body) for `count` requests, built and serialised as Coral's processPhase does."""
    comments, rng = Comments(seed), random.Random(seed)
    built = []
    for number in range(count):
        request = {
            "action": "EDIT" if rng.random() < 0.1 else "NEW",
            "comment": {"body": coral_comment(comments, rng),
                        "parentID": f"parent-{rng.randint(1, 5000)}" if rng.random() < 0.1 else None},
            "author": {"id": f"user-{rng.randint(1, 20000)}",
                       "role": rng.choice(STAFF) if rng.random() < 0.05 else "COMMENTER"},
            "story": {"id": f"story-{number % 300}", "url": f"https://news.example/world/story-{number % 300}"},
            "site": {"id": "site-1"},
            "tenantID": "tenant-1",
            "tenantDomain": "comments.news.example",
        }
        body = json.dumps(request, indent=2, ensure_ascii=False).encode()
        built.append(("sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), body))
    return built


def http_request(host: str, port: int, signature: str, body: bytes) -> bytes:
    head = (f"POST {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"User-Agent: Coral Moderation/9.0.0\r\nX-Coral-Signature: {signature}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


def steady(app: App, payloads: list[bytes], rate: float, seconds: float
           ) -> tuple[list[tuple[int, float, bytes]], list[float], float]:
    """One steady run: every answer (status, latency, body), the generator's lags, and the service's CPU seconds."""
    pids = app.pids()
    cpu0 = cpu_seconds(pids)
    results, lags = asyncio.run(open_loop("127.0.0.1", app.port, payloads, rate, seconds))
    return results, lags, cpu_seconds(pids) - cpu0


def summarise(results: list[tuple[int, float, bytes]], lags: list[float], cpu: float, loads: list[float]
            ) -> dict[str, Any]:
    latencies = [elapsed * 1000 for status, elapsed, _ in results if status in (200, 204)]
    answers: Counter[str] = Counter()
    for status, _, body in results:
        if status == 200 and body.startswith(b"{"):
            with contextlib.suppress(ValueError, KeyError):
                answers[json.loads(body)["status"]] += 1
                continue
        answers[str(status)] += 1
    return {
        "sent": len(results), "ok": len(latencies), "errors": len(results) - len(latencies), "answers": dict(answers),
        "p50_ms": round(percentile(latencies, 50), 2), "p90_ms": round(percentile(latencies, 90), 2),
        "p99_ms": round(percentile(latencies, 99), 2), "p999_ms": round(percentile(latencies, 99.9), 2),
        "max_ms": round(max(latencies, default=float("nan")), 2),
        "cpu_ms_per_request": round(1000 * cpu / max(1, len(results)), 3),
        "send_lag_p99_ms": round(percentile([lag * 1000 for lag in lags], 99), 2),
        "load_before": [round(load, 3) for load in loads],
    }


def drained(app: App, timeout: float = 120.0) -> None:
    """Wait until the service answers at once again: an overloaded steady run leaves a backlog of connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started_at = time.monotonic()
        with contextlib.suppress(OSError), urllib.request.urlopen(app.url + "/healthz", timeout=5):
            if time.monotonic() - started_at < 0.1:
                return
        time.sleep(0.5)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    top = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    top.add_argument("--rate", type=float, default=200.0, help="requests/s of the steady run (default 200)")
    top.add_argument("--seconds", type=float, default=30.0,
                     help="seconds of steady load on the Coral phase, split into rounds (default 30)")
    top.add_argument("--rounds", type=int, default=3,
                     help="rounds of the steady run, each followed by as long on GET /healthz (default 3)")
    top.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as serve runs)")
    top.add_argument("--requests", type=int, default=2000, help="distinct requests to cycle through")
    top.add_argument("--duration", type=int, default=10, help="seconds of the wrk capacity run (default 10)")
    top.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    top.add_argument("--skip", action="append", default=[], choices=("capacity",), help="leave a step out")
    top.add_argument("--idle-probe", type=float, default=0.5,
                     help="seconds spent before each run measuring how busy other work keeps the CPUs")
    top.add_argument("--nice", type=int, default=0,
                     help="niceness for this run and everything it starts: other work on the machine skews the "
                          "tail; -10 (as root) gives the run the CPUs first")
    top.add_argument("--out", help="folder for results.json and logs (default: a new temporary folder)")
    top.add_argument("--smoke", action="store_true", help="every step once, briefly: for tests")
    args = top.parse_args(argv)
    if args.smoke:
        args.rate, args.seconds, args.rounds, args.requests, args.duration, args.idle_probe = 50.0, 1.0, 1, 100, 1, 0.1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.nice:
        os.nice(args.nice)  # inherited by redis-server, gunicorn and wrk
    wrk = None if "capacity" in args.skip else ensure_wrk()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-coral-"))
    out.mkdir(parents=True, exist_ok=True)
    secret = "ems_" + os.urandom(32).hex()
    built = coral_requests(args.requests, secret, seed=int(time.time()))
    say(f"machine: {os.cpu_count()} x {cpu_model()}; niceness {os.getpriority(os.PRIO_PROCESS, 0)}; load average "
        f"{os.getloadavg()[0]:.2f}; other work busy {background_busy(2 * args.idle_probe):.0%} of all CPUs before "
        "start")
    say(f"{len(built)} Coral requests, {sum(len(b) for _, b in built) / len(built):.0f} bytes on average; "
        f"results and logs in {out}")
    results: dict[str, Any] = {"settings": vars(args)}

    with EmbeddedRedis(out / "redis", persistent=False) as redis_server:
        launch = service_launch(out, redis_server.url, workers=args.workers, worker_class="sync", threads=1)
        launch.env["MODERATION_CORAL_SIGNING_SECRETS"] = secret
        with started([launch]) as (service,):
            say(f"service: {launch.how}, rate limits off")
            payloads = [http_request("127.0.0.1", service.port, signature, body) for signature, body in built]
            # Warm-up, not measured: every worker scores and answers a few hundred before the clock starts, and
            # whatever queue that leaves is served before it does.
            warm_rate, warm_seconds = min(args.rate, 100.0), 1.0 if args.smoke else 3.0
            asyncio.run(open_loop("127.0.0.1", service.port, payloads, warm_rate, warm_seconds))
            drained(service)

            floor = [f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{service.port}\r\nConnection: close\r\n\r\n".encode()]
            say(f"\nsteady {args.rate:.0f} requests/s, {args.rounds} round(s) of {args.seconds / args.rounds:.0f} s: "
                "open loop, a new connection each; the Coral phase, then GET /healthz (the floor: the same stack and "
                "load, no work) in turn")
            runs: dict[str, list[Any]] = {"coral": [[], [], 0.0, []], "floor": [[], [], 0.0, []]}
            for _ in range(args.rounds):
                for kind, requests in (("coral", payloads), ("floor", floor)):
                    pooled = runs[kind]
                    pooled[3].append(background_busy(args.idle_probe))
                    answers, lags, cpu = steady(service, requests, args.rate, args.seconds / args.rounds)
                    pooled[0] += answers
                    pooled[1] += lags
                    pooled[2] += cpu
                    drained(service)
            results["steady"] = run = summarise(*runs["coral"])
            results["floor"] = base = summarise(*runs["floor"])
            for name, measured in (("coral phase", run), ("GET /healthz", base)):
                say(f"  {name}: sent {measured['sent']} ok {measured['ok']} errors {measured['errors']} answers "
                    f"{measured['answers']}")
                say(f"    p50 {measured['p50_ms']:.2f} ms p90 {measured['p90_ms']:.2f} ms p99 {measured['p99_ms']:.2f} "
                    f"ms p99.9 {measured['p999_ms']:.2f} ms max {measured['max_ms']:.2f} ms; service CPU "
                    f"{measured['cpu_ms_per_request']:.2f} ms a request (generator lag p99 "
                    f"{measured['send_lag_p99_ms']:.2f} ms; other work before each round "
                    f"{', '.join(f'{load:.0%}' for load in measured['load_before'])})")
            say(f"  coral/floor: p50 {run['p50_ms'] / max(0.01, base['p50_ms']):.2f}x, p99 "
                f"{run['p99_ms'] / max(0.01, base['p99_ms']):.2f}x; target p99 <= {TARGET_P99_MS:.0f} ms "
                f"({'met' if run['p99_ms'] <= TARGET_P99_MS else 'NOT met'}); Coral's default timeout 200 ms")

            if wrk is not None:
                drained(service)
                file = out / "coral-requests.txt"
                with file.open("wb") as handle:
                    for signature, body in built:
                        handle.write(f"{signature}\n{len(body)}\n".encode() + body)
                say(f"\ncapacity: wrk -c{args.connections} -d{args.duration}s -s bench/wrk/coral_phase.lua")
                pids = service.pids()
                cpu0 = cpu_seconds(pids)
                summary = run_wrk(wrk, service.url, "coral_phase.lua", args.duration, connections=args.connections,
                                  threads=1, script_args=[str(file)])
                cpu = cpu_seconds(pids) - cpu0
                seconds = summary["duration_us"] / 1e6
                results["capacity"] = capacity = {
                    "rps": round(summary["requests"] / seconds, 1), "requests": summary["requests"],
                    "status_errors": summary["errors_status"], "p50_ms": summary["lat_p50_us"] / 1000,
                    "p99_ms": summary["lat_p99_us"] / 1000,
                    "cpu_ms_per_request": round(1000 * cpu / max(1, summary["requests"]), 3),
                }
                say(f"  {capacity['rps']:.0f} requests/s, {capacity['status_errors']} errors, p50 "
                    f"{capacity['p50_ms']:.2f} ms p99 {capacity['p99_ms']:.2f} ms at saturation; service CPU "
                    f"{capacity['cpu_ms_per_request']:.2f} ms a request")

    (out / "results.json").write_text(json.dumps(results, indent=2))
    run = results["steady"]
    print(f"coral: p50_ms={run['p50_ms']:.2f} p99_ms={run['p99_ms']:.2f}", flush=True)
    return 0 if run["errors"] == 0 and results["floor"]["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
