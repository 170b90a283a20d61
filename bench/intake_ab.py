#!/usr/bin/env python3
"""A/B of POST /v1/comments under gunicorn: two or more checkouts of the service, side by side, on a busy machine.

    git archive 3ed8bee | tar -x -C /tmp/base     # any two trees of this repository
    git archive HEAD | tar -x -C /tmp/head
    .venv/bin/python bench/intake_ab.py --rounds 6 /tmp/base /tmp/head

One redis-server, the reference app and one `moderation serve` per tree (each started from its own tree), then
short wrk runs (bench/wrk/post_comments.lua, as bench/intake.py runs it) alternating between all of them, round
after round, in a rotating order. Other work on the machine then weighs on every app alike, and the minimum and
median CPU per post of each app are comparable even when the absolute figures are not. Needs wrk (installed as
bench/intake.py does).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402

import bench.intake as harness  # noqa: E402
from moderation.keys import Keys  # noqa: E402
from moderation.policy_store import PolicyStore  # noqa: E402
from moderation.redis_server import EmbeddedRedis  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    top.add_argument("trees", nargs="+", type=Path, help="checkouts of this repository (each has api/ and moderation/)")
    top.add_argument("--rounds", type=int, default=6)
    top.add_argument("--duration", type=int, default=6, help="seconds of each measured run (default 6)")
    top.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before each run (default 2)")
    top.add_argument("--nice", type=int, default=-10, help="niceness for everything started (default -10)")
    top.add_argument("--out", type=Path, default=None, help="folder for logs (default: a temporary one)")
    args = top.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    trees = [tree.resolve() for tree in args.trees]
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-ab-"))
    out.mkdir(parents=True, exist_ok=True)
    settings = argparse.Namespace(warmup=args.warmup, duration=args.duration, connections=8, wrk_threads=1,
                                  idle_probe=0.3)
    wrk = harness.ensure_wrk()
    common: dict[str, Any] = {"workers": 2, "worker_class": "sync", "threads": 4}
    with EmbeddedRedis(out / "redis", persistent=False) as server:
        assert server.process is not None
        redis = Redis.from_url(server.url, decode_responses=True)
        PolicyStore(redis, Keys()).update({"hold_new_authors": False}, "bench")
        launches = [harness.reference_launch(out, server.url, **common)]
        for index, tree in enumerate(trees):
            launch = harness.service_launch(out, server.url, **common, tag=f"service-{index}-{tree.name}")
            launch.env["PYTHONPATH"] = str(tree)  # this tree's api/ and moderation/, not the harness's
            launches.append(launch)
        names = ["reference", *(f"{tree.name} ({tree})" for tree in trees)]
        apps: list[harness.App] = []
        try:
            for launch in launches:
                # App starts its process in harness.ROOT: each service in its own tree.
                harness.ROOT = Path(launch.env["PYTHONPATH"].split(os.pathsep)[0]) if launch.name != "reference" \
                    else ROOT
                apps.append(harness.App(launch))
            harness.ROOT = ROOT
            for app in apps:
                app.wait_ready()
            runs: dict[str, list[harness.Run]] = {name: [] for name in names}
            for number in range(args.rounds):
                order = list(zip(names, apps, strict=True))
                shift = number % len(order)
                for name, app in order[shift:] + order[:shift]:
                    run = harness.measure(wrk, app, server.process.pid, "post", "post_comments.lua", settings, [])
                    runs[name].append(run)
                    harness.say(f"round {number + 1} {name}: {run.rps:.0f} posts/s, "
                                f"{run.cpu_ms_per_request:.3f} ms CPU per post, other load {run.load_before:.0%}")
            harness.say("")
            for name in names:
                cpu = sorted(run.cpu_ms_per_request for run in runs[name])
                rps = sorted(run.rps for run in runs[name])
                harness.say(f"{name}: CPU ms/post min {cpu[0]:.3f} median {statistics.median(cpu):.3f}; "
                            f"posts/s median {statistics.median(rps):.0f} max {rps[-1]:.0f}")
        finally:
            for app in apps:
                app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
