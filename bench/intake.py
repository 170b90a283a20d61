#!/usr/bin/env python3
"""Comment intake, side by side: the service against a minimal Flask app, under the same gunicorn and load.

One command (from the project folder, with the project's virtualenv):

    .venv/bin/python bench/intake.py                 # sync workers, 2 of them, as `moderation serve` runs
    .venv/bin/python bench/intake.py --worker-class gthread --threads 4
    .venv/bin/python bench/intake.py --workers 4
    .venv/bin/python bench/intake.py --smoke         # ~15 s: every step once, 1 s each (tests/test_bench_smoke.py)

It starts its own redis-server on a free loopback port (never the machine's 6379), the service as production
runs it (`moderation serve`, or gunicorn with the service's own `api/gunicorn_conf.py` where serve has no option
for the worker class) with its posting limits counting (set too high to refuse a bench post, so that their
cost is measured, not their refusals), `bench/reference_app.py` under the same gunicorn settings, the floor
(the reference scoring each post with the service's model: the most a service that scores before it answers
can do), and Isso (ISSO_VERSION, the comment server a newsroom would run instead, installed into a virtualenv
of its own under var/bench/, moderation on, its guard's rate limit counting, under the same gunicorn
settings); then it measures

1. POST /v1/comments throughput and latency with wrk (installed from Debian's packages if missing) and
   `bench/wrk/post_comments.lua` (varied authors, bodies, articles and replies; the same comments to Isso's
   own route), all four apps interleaved round by round, each run after a warm-up;
2. GET /v1/articles/<id>/comments for an article of 50 published comments, the same way;
3. latency at a steady rate (default 200 posts/s) with an open-loop generator written here (asyncio over
   loopback, one new connection per request, latency counted from each request's scheduled time, so a
   stalled server cannot hide its queue: no coordinated omission); then the same for the drop-in routes
   at the same rate: Perspective's `comments:analyze` as Coral sends it, and Coral's moderation phase;
4. resident memory of the gunicorn master and each worker from /proc/<pid>/smaps_rollup, and what
   preloading shares (a second service started with preload_app off, for comparison);
5. with --profile, where the workers spend their time (py-spy, sampling every worker during a POST run).

It prints every figure, the machine and how busy it was with other work, and last:
`intake: ratio=R floor_ratio=F isso_ratio=I service_rps=S p99_ms=P`: the service's POST throughput over the
reference's (R), the floor's (F) and Isso's (I), its own rate (S), and its p99 at the steady rate (P).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WRK_DIR = ROOT / "bench" / "wrk"
PHRASES = WRK_DIR / "phrases.txt"
# The Isso release the service is measured against, and where its virtualenv is kept between runs.
ISSO_VERSION = "0.14.0"
ISSO_VENVS = ROOT / "var" / "bench"
# Posting limits high enough that no bench post is refused: the counters' cost is measured, never a refusal.
BENCH_POSTING_LIMITS = "1000000/minute;100000000/day"
READ_ARTICLE = "bench-read-50"
READ_COMMENTS = 50
CLK_TCK = os.sysconf("SC_CLK_TCK")

try:
    from redis import Redis
except ImportError:  # run with a Python that lacks the project: use the project's virtualenv instead
    venv_python = ROOT / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.executable).resolve() != venv_python.resolve():
        os.execv(str(venv_python), [str(venv_python), *sys.argv])
    raise

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import bench.authors_seed as authors_seed  # noqa: E402
from moderation.api_keys import ApiKeys  # noqa: E402
from moderation.keys import Keys  # noqa: E402
from moderation.moderators import Moderators  # noqa: E402
from moderation.policy_store import PolicyStore  # noqa: E402
from moderation.redis_server import EmbeddedRedis, free_port  # noqa: E402


def say(message: str = "") -> None:
    print(message, flush=True)


# -- the machine ---------------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _cpu_ticks() -> list[int]:
    """All CPUs' ticks since boot, from /proc/stat: user, nice, system, idle, iowait, irq, softirq, steal."""
    return [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]


def _cpu_times() -> tuple[int, int]:
    fields = _cpu_ticks()
    return sum(fields), fields[3] + fields[4]


def _steal_times() -> tuple[int, int]:
    """(all CPU ticks, ticks the hypervisor gave to other guests) since boot."""
    fields = _cpu_ticks()
    return sum(fields), fields[7]


def background_busy(seconds: float = 1.0) -> float:
    """The share of all CPUs busy with other work while this benchmark is idle (0..1)."""
    total0, idle0 = _cpu_times()
    time.sleep(seconds)
    total1, idle1 = _cpu_times()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


# -- processes -----------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return sorted(found)


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(parts[11]) + int(parts[12])  # utime, stime
    return total / CLK_TCK


def smaps_rollup(pid: int) -> dict[str, int]:
    """Rss, Pss, Shared and Private memory of one process, in kB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name.strip()] = int(parts[0])
    return {
        "rss_kb": values.get("Rss", 0),
        "pss_kb": values.get("Pss", 0),
        "shared_kb": values.get("Shared_Clean", 0) + values.get("Shared_Dirty", 0),
        "private_kb": values.get("Private_Clean", 0) + values.get("Private_Dirty", 0),
        "swap_kb": values.get("Swap", 0),
    }


@dataclass
class Launch:
    """How to start one app under gunicorn."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    ready_path: str
    log: Path
    how: str


class App:
    """A gunicorn master we started, its workers, and its log."""

    def __init__(self, launch: Launch) -> None:
        self.launch = launch
        self.name = launch.name
        self.port = launch.port
        self.url = f"http://127.0.0.1:{launch.port}"
        self.log_handle = launch.log.open("wb")
        self.process = subprocess.Popen(
            launch.command, cwd=ROOT, env=launch.env, stdout=self.log_handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + self.launch.ready_path, timeout=2) as response:
                    if response.status == 200 and len(self.workers()) >= 1:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.2)
        tail = self.launch.log.read_text(errors="replace")[-3000:] if self.launch.log.exists() else ""
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready ({self.launch.how}); its log ends:\n{tail}")

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def pids(self) -> list[int]:
        return [self.process.pid, *self.workers()]

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # Workers left behind by a master that died would still hold the port: end our own group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log_handle.close()


def gunicorn_conf(path: Path, *, bind: str, workers: int, worker_class: str, threads: int, preload: bool) -> Path:
    """The service's gunicorn settings (api/gunicorn_conf.py) with this run's workers and bind."""
    path.write_text(
        "from api.gunicorn_conf import *  # noqa: F403\n"
        f"bind = [{bind!r}]\n"
        f"workers = {workers}\n"
        f"worker_class = {worker_class!r}\n"
        f"threads = {threads}\n"
        f"preload_app = {preload!r}\n"
    )
    return path


def base_env(redis_url: str, data_dir: Path, port: int, workers: int) -> dict[str, str]:
    # This run's settings only: none of the caller's, but the model to benchmark (MODERATION_MODEL_PATH, --model).
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MODERATION_", "GUNICORN_")) or k == "MODERATION_MODEL_PATH"}
    env.update(
        REDIS_URL=redis_url,
        MODERATION_ENV="production",
        MODERATION_SECRET_KEY="bench-" + os.urandom(16).hex(),
        MODERATION_KEY_PREFIX=os.environ.get("MODERATION_KEY_PREFIX") or Keys().prefix,
        MODERATION_RATE_LIMITS="off",
        MODERATION_API_KEY_RATE_LIMITS="off",
        MODERATION_DATA_DIR=str(data_dir),
        MODERATION_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(workers),
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    return env


def service_launch(
    tmp: Path, redis_url: str, *, workers: int, worker_class: str, threads: int, preload: bool = True,
    tag: str = "service", limits: bool = False,
) -> Launch:
    """The service as `moderation serve` runs it; with `limits`, its rate limits on at BENCH_POSTING_LIMITS."""
    port = free_port()
    data_dir = tmp / f"{tag}-data"
    env = base_env(redis_url, data_dir, port, workers)
    if limits:
        env["MODERATION_RATE_LIMITS"] = BENCH_POSTING_LIMITS
        env["MODERATION_API_KEY_RATE_LIMITS"] = BENCH_POSTING_LIMITS
    log = tmp / f"{tag}.log"
    if worker_class == "sync" and preload:
        command = [sys.executable, "-m", "moderation_cli", "serve", "--bind", f"127.0.0.1:{port}",
                   "--workers", str(workers)]
        how = f"moderation serve --workers {workers} (sync)"
    else:
        # `moderation serve` sets no worker class and always preloads: the same settings file, through gunicorn.
        metrics_dir = data_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        conf = gunicorn_conf(tmp / f"{tag}-gunicorn.py", bind=f"127.0.0.1:{port}", workers=workers,
                             worker_class=worker_class, threads=threads, preload=preload)
        command = [sys.executable, "-m", "gunicorn", "-c", str(conf), "api:create_app()"]
        how = f"gunicorn -c api/gunicorn_conf.py -w {workers} -k {worker_class}" + (
            f" --threads {threads}" if worker_class == "gthread" else "") + ("" if preload else " (no preload)")
    return Launch(tag, command, env, port, "/readyz", log, how)


def reference_launch(tmp: Path, redis_url: str, *, workers: int, worker_class: str, threads: int,
                     scores: bool = False) -> Launch:
    """The reference app; with `scores`, the floor: the reference plus the model scoring every post."""
    name = "floor" if scores else "reference"
    port = free_port()
    env = base_env(redis_url, tmp / f"{name}-data", port, workers)
    if scores:
        env["REFERENCE_SCORES"] = "1"
    conf = gunicorn_conf(tmp / f"{name}-gunicorn.py", bind=f"127.0.0.1:{port}", workers=workers,
                         worker_class=worker_class, threads=threads, preload=True)
    command = [sys.executable, "-m", "gunicorn", "-c", str(conf), "bench.reference_app:create_app()"]
    how = f"gunicorn -c api/gunicorn_conf.py -w {workers} -k {worker_class}" + (
        f" --threads {threads}" if worker_class == "gthread" else "") + (" (REFERENCE_SCORES=1)" if scores else "")
    return Launch(name, command, env, port, "/readyz", tmp / f"{name}.log", how)


def ensure_isso(folder: Path = ISSO_VENVS) -> Path:
    """A virtualenv with Isso ISSO_VERSION and this gunicorn, made once (from PyPI) and kept for later runs."""
    import gunicorn

    venv = folder / f"isso-{ISSO_VERSION}-gunicorn-{gunicorn.__version__}"
    if not (venv / "bin" / "gunicorn").exists():
        say(f"installing Isso {ISSO_VERSION} into {venv} (once)")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                               "--disable-pip-version-check", f"isso=={ISSO_VERSION}",
                               f"gunicorn=={gunicorn.__version__}"], capture_output=True, text=True)
        if done.returncode:
            shutil.rmtree(venv, ignore_errors=True)
            raise SystemExit(f"could not install Isso {ISSO_VERSION} (or --skip isso):\n{done.stderr[-3000:]}")
    return venv


def isso_launch(tmp: Path, venv: Path, *, workers: int, worker_class: str, threads: int) -> Launch:
    """Isso under the service's gunicorn settings, moderation on, its guard counting (never refusing a bench post)."""
    from api import gunicorn_conf

    port = free_port()
    data = tmp / "isso-data"
    data.mkdir(parents=True, exist_ok=True)
    settings = data / "isso.cfg"
    settings.write_text(
        "[general]\n"
        f"dbpath = {data / 'comments.db'}\n"
        "host = https://news.example/\n"
        "notify = stdout\n"
        "[moderation]\n"
        "enabled = true\n"
        "[guard]\n"
        "enabled = true\n"
        "ratelimit = 1000000\n"
        "direct-reply = 1000000\n"
        "reply-to-self = true\n"
        "require-author = false\n"
        "require-email = false\n"
        "[server]\n"
        f"listen = http://127.0.0.1:{port}\n"
    )
    # The service's settings file imports the project; Isso's virtualenv has only Isso, so its values are copied.
    conf = tmp / "isso-gunicorn.py"
    conf.write_text(
        f"bind = ['127.0.0.1:{port}']\nworkers = {workers}\nworker_class = {worker_class!r}\nthreads = {threads}\n"
        f"preload_app = True\ntimeout = {gunicorn_conf.timeout}\ngraceful_timeout = {gunicorn_conf.graceful_timeout}\n"
        f"keepalive = {gunicorn_conf.keepalive}\nlimit_request_line = {gunicorn_conf.limit_request_line}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODERATION_", "GUNICORN_", "PYTHON"))}
    env["ISSO_SETTINGS"] = str(settings)
    command = [str(venv / "bin" / "gunicorn"), "-c", str(conf), "isso.run:application"]
    how = (f"Isso {ISSO_VERSION}, gunicorn -w {workers} -k {worker_class}"
           + (f" --threads {threads}" if worker_class == "gthread" else "") + ", moderation on, guard on")
    return Launch("isso", command, env, port, "/info", tmp / "isso.log", how)


# -- wrk -----------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk from PATH, else installed from Debian's packages (as root, or with password-less sudo)."""
    found = shutil.which("wrk")
    if found:
        return found
    if not shutil.which("apt-get"):
        raise SystemExit("wrk is missing and there is no apt-get to install it: install wrk and run again")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    say("wrk is missing: installing it from Debian's packages (apt-get install -y wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("apt-get installed wrk but it is not on PATH")
    return found


@dataclass
class Run:
    """One measured load run against one app."""

    app: str
    kind: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    errors: int
    status_errors: int
    app_cpu_s: float
    redis_cpu_s: float
    load_before: float
    # The share of CPU time the hypervisor gave other guests during the run: on a shared host, rounds with
    # steal run slower and cost more CPU per request, whatever the app.
    steal: float = 0.0
    # The busiest worker's share of the workers' CPU: 1/workers when the kernel spreads connections
    # evenly; near 1 when one sync worker wins every accept() and the others idle.
    top_worker_share: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.app_cpu_s / max(1, self.requests)

    @property
    def all_cpu_ms_per_request(self) -> float:
        """The app's and Redis's CPU per request."""
        return 1000 * (self.app_cpu_s + self.redis_cpu_s) / max(1, self.requests)


def run_wrk(
    wrk: str, url: str, script: str, seconds: int, *, connections: int, threads: int, script_args: list[str],
) -> dict[str, Any]:
    command = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", str(WRK_DIR / script), url, "--", *script_args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
            return result
    raise RuntimeError(f"wrk gave no summary (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def measure(
    wrk: str, app: App, redis_pid: int, kind: str, script: str, args: argparse.Namespace, script_args: list[str],
) -> Run:
    if args.warmup:
        run_wrk(wrk, app.url, script, args.warmup, connections=args.connections, threads=args.wrk_threads,
                script_args=script_args)
    load = background_busy(args.idle_probe)
    pids, workers = app.pids(), app.workers()
    cpu0, redis0, steal0 = cpu_seconds(pids), cpu_seconds([redis_pid]), _steal_times()
    per_worker0 = [cpu_seconds([pid]) for pid in workers]
    result = run_wrk(wrk, app.url, script, args.duration, connections=args.connections, threads=args.wrk_threads,
                     script_args=script_args)
    cpu1, redis1, steal1 = cpu_seconds(pids), cpu_seconds([redis_pid]), _steal_times()
    per_worker = [cpu_seconds([pid]) - before for pid, before in zip(workers, per_worker0, strict=True)]
    seconds = result["duration_us"] / 1e6
    errors = sum(result[k] for k in ("errors_connect", "errors_read", "errors_write", "errors_timeout"))
    return Run(
        app=app.name, kind=kind, requests=result["requests"], seconds=round(seconds, 3),
        rps=round(result["requests"] / seconds, 1),
        p50_ms=result["lat_p50_us"] / 1000, p90_ms=result["lat_p90_us"] / 1000, p99_ms=result["lat_p99_us"] / 1000,
        p999_ms=result["lat_p999_us"] / 1000, max_ms=result["lat_max_us"] / 1000,
        errors=errors, status_errors=result["errors_status"],
        app_cpu_s=round(cpu1 - cpu0, 2), redis_cpu_s=round(redis1 - redis0, 2), load_before=round(load, 3),
        steal=round((steal1[1] - steal0[1]) / max(1, steal1[0] - steal0[0]), 3),
        top_worker_share=round(max(per_worker, default=0.0) / max(1e-9, sum(per_worker)), 3),
    )


# -- realistic comments, the same recipe as bench/wrk/post_comments.lua ----------------------------------


def load_pools(path: Path = PHRASES) -> dict[str, list[str]]:
    pools: dict[str, list[str]] = {}
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        heading = re.fullmatch(r"\[(.+)\]", line)
        if heading:
            section = heading.group(1)
            pools[section] = []
        elif section and line and not line.startswith("#"):
            pools[section].append(line)
    return pools


class Comments:
    """Varied reader comments: many authors, 2-6 sentences, a few spam and abusive ones, hot stories."""

    def __init__(self, seed: int, pools: dict[str, list[str]] | None = None) -> None:
        self.rng = random.Random(seed)
        self.pools = pools or load_pools()

    def _fill(self, sentence: str) -> str:
        rng, pools = self.rng, self.pools
        slots: dict[str, Callable[[], str]] = {
            "topic": lambda: rng.choice(pools["topics"]),
            "person": lambda: rng.choice(pools["people"]),
            "place": lambda: rng.choice(pools["places"]),
            "number": lambda: str(rng.randint(2, 95)),
            "year": lambda: str(rng.randint(2009, 2025)),
        }
        return re.sub(r"\{(\w+)\}", lambda m: slots[m.group(1)]() if m.group(1) in slots else m.group(1), sentence)

    def body(self, clean: bool = False) -> str:
        rng, pools = self.rng, self.pools
        roll = 1.0 if clean else rng.random()
        if roll < 0.03:
            return self._fill(rng.choice(pools["spam"]))
        parts: list[str] = []
        if roll < 0.05:
            parts.append(self._fill(rng.choice(pools["abuse"])))
        elif rng.random() < 0.6:
            parts.append(rng.choice(pools["openers"]))
        size = rng.random()
        claims = 1 + (size > 0.3) + (size > 0.7) + (size > 0.9)
        if not parts and claims == 1:
            claims = 2
        for _ in range(claims):
            sentence = self._fill(rng.choice(pools["claims"]))
            parts.append(sentence[:1].upper() + sentence[1:])
        if rng.random() < 0.4:
            parts.append(rng.choice(pools["closers"]))
        return " ".join(parts)

    def article(self) -> str:
        if self.rng.random() < 0.3:
            return f"story-hot-{self.rng.randint(1, 5)}"
        return f"story-{self.rng.randint(1, 2000)}"

    def comment(self, article_id: str | None = None, parent_id: str | None = None, clean: bool = False
                ) -> dict[str, str]:
        rng, pools = self.rng, self.pools
        first, first_ascii = rng.choice(pools["first_names"]).split("|")
        last, last_ascii = rng.choice(pools["last_names"]).split("|")
        data = {
            "article_id": article_id or self.article(),
            "name": f"{first} {last}",
            "email": f"{first_ascii}.{last_ascii}{rng.randint(1, 99999)}@{rng.choice(pools['domains'])}",
            "body": self.body(clean),
        }
        if parent_id:
            data["parent_id"] = parent_id
        return data

    def user_agent(self) -> str:
        return self.rng.choice(self.pools["user_agents"])


def post_json(url: str, data: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def seed_read_article(service: App, redis: Redis, keys: Keys) -> None:
    """Post comments to one article through the service until exactly 50 are published."""
    comments = Comments(seed=50)
    published_key = keys.article_published(READ_ARTICLE)
    ids: list[str] = []
    for _ in range(4 * READ_COMMENTS):
        have = int(redis.zcard(published_key))
        if have >= READ_COMMENTS:
            break
        parent = comments.rng.choice(ids) if ids and comments.rng.random() < 0.2 else None
        status, body = post_json(service.url + "/v1/comments", comments.comment(READ_ARTICLE, parent, clean=True))
        if status != 201:
            raise RuntimeError(f"seeding the read article: {status} {body}")
        if body["status"] == "published":
            ids.append(body["id"])
    missing = READ_COMMENTS - int(redis.zcard(published_key))
    if missing > 0:  # new authors held for review (the default policy): a moderator approves enough of them
        token = Moderators(redis, keys).add(f"bench-{os.urandom(4).hex()}", "moderator")
        queued: Any = redis.zrangebylex(keys.queue("pending"), "-", "+")
        pending = [str(cid) for cid in queued if redis.hget(keys.comment(str(cid)), "article_id") == READ_ARTICLE]
        for comment_id in pending[:missing]:
            status, body = post_json(f"{service.url}/v1/review/{comment_id}/decision", {"action": "approve"},
                                     {"Authorization": f"Bearer {token}"})
            if status != 200:
                raise RuntimeError(f"approving a seeded comment: {status} {body}")
    have = int(redis.zcard(published_key))
    if have != READ_COMMENTS:
        raise RuntimeError(f"the read article has {have} published comments, not {READ_COMMENTS}")


# -- steady rate, open loop ----------------------------------------------------------------------------


@dataclass
class SteadyResult:
    app: str
    rate: float
    seconds: float
    sent: int
    ok: int
    errors: int
    statuses: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    send_lag_p99_ms: float
    load_before: float


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def exchange(host: str, port: int, payload: bytes, due: float) -> tuple[int, float, bytes]:
    """Send one request on a new connection: its status (0 when none came), seconds since `due`, and its body."""
    loop = asyncio.get_running_loop()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        writer.write(payload)
        data = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    except (OSError, TimeoutError):
        return 0, loop.time() - due, b""
    elapsed = loop.time() - due
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        return int(head.split(b" ", 2)[1]), elapsed, body
    except (IndexError, ValueError):
        return 0, elapsed, b""


async def open_loop(host: str, port: int, payloads: list[bytes], rate: float, seconds: float
                    ) -> tuple[list[tuple[int, float, bytes]], list[float]]:
    """Send the payloads in turn at a steady rate whatever the answers: every answer, and the sender's lags."""
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    tasks = []
    start = loop.time() + 0.05
    for i in range(max(1, int(rate * seconds))):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lags.append(loop.time() - due)
        tasks.append(asyncio.create_task(exchange(host, port, payloads[i % len(payloads)], due)))
    return list(await asyncio.gather(*tasks)), lags


async def _steady(host: str, port: int, rate: float, seconds: float, seed: int) -> tuple[list[Any], list[float]]:
    comments = Comments(seed)
    loop = asyncio.get_running_loop()
    posted: list[tuple[str, str]] = []
    lags: list[float] = []

    async def one(due: float, payload: bytes) -> tuple[int, float]:
        # Replies need the ids of comments posted earlier in the run, so payloads are made as it goes.
        status, elapsed, body = await exchange(host, port, payload, due)
        if status == 201:
            with contextlib.suppress(ValueError, KeyError):
                answer = json.loads(body)
                posted.append((answer["id"], answer["article_id"]))
        return status, elapsed

    tasks = []
    total = max(1, int(rate * seconds))
    start = loop.time() + 0.05
    for i in range(total):
        if posted and comments.rng.random() < 0.1:
            parent_id, article_id = comments.rng.choice(posted[-256:])
            data = comments.comment(article_id, parent_id)
        else:
            data = comments.comment()
        body = json.dumps(data).encode()
        head = (
            f"POST /v1/comments HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nUser-Agent: {comments.user_agent()}\r\n"
            f"Referer: https://news.example/articles/{data['article_id']}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        payload = head.encode() + body
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lags.append(loop.time() - due)
        tasks.append(asyncio.create_task(one(due, payload)))
    return list(await asyncio.gather(*tasks)), lags


def steady_rate(app: App, rate: float, seconds: float, seed: int, idle_probe: float = 0.5) -> SteadyResult:
    load = background_busy(idle_probe)
    results, lags = asyncio.run(_steady("127.0.0.1", app.port, rate, seconds, seed))
    latencies = [elapsed * 1000 for status, elapsed in results if status in (200, 201)]
    statuses = Counter(str(status) for status, _ in results)
    return SteadyResult(
        app=app.name, rate=rate, seconds=seconds, sent=len(results), ok=len(latencies),
        errors=len(results) - len(latencies), statuses=dict(statuses),
        p50_ms=round(percentile(latencies, 50), 2), p90_ms=round(percentile(latencies, 90), 2),
        p99_ms=round(percentile(latencies, 99), 2), p999_ms=round(percentile(latencies, 99.9), 2),
        max_ms=round(max(latencies, default=float("nan")), 2),
        send_lag_p99_ms=round(percentile([lag * 1000 for lag in lags], 99), 2), load_before=round(load, 3),
    )


def steady_requests(app: App, name: str, payloads: list[bytes], rate: float, seconds: float, ok: tuple[int, ...],
                    idle_probe: float = 0.5) -> SteadyResult:
    """A steady open-loop run of ready-made requests (sent in turn) against one app."""
    load = background_busy(idle_probe)
    results, lags = asyncio.run(open_loop("127.0.0.1", app.port, payloads, rate, seconds))
    latencies = [elapsed * 1000 for status, elapsed, _ in results if status in ok]
    return SteadyResult(
        app=name, rate=rate, seconds=seconds, sent=len(results), ok=len(latencies),
        errors=len(results) - len(latencies), statuses=dict(Counter(str(status) for status, _, _ in results)),
        p50_ms=round(percentile(latencies, 50), 2), p90_ms=round(percentile(latencies, 90), 2),
        p99_ms=round(percentile(latencies, 99), 2), p999_ms=round(percentile(latencies, 99.9), 2),
        max_ms=round(max(latencies, default=float("nan")), 2),
        send_lag_p99_ms=round(percentile([lag * 1000 for lag in lags], 99), 2), load_before=round(load, 3),
    )


def dropin_payloads(service: App, api_key: str, coral_secret: str, seed: int, count: int = 2000
                    ) -> list[tuple[str, list[bytes], tuple[int, ...]]]:
    """(route, raw requests, statuses that count as answered) for Perspective's analyze and Coral's phase.

    Each request is what the route's real client sends (bench/dropin.py and bench/coral_phase.py build them).
    """
    # Imported here: both modules import this one.
    from bench.coral_phase import coral_requests, http_request
    from bench.dropin import perspective_analyze, raw_request

    comments = Comments(seed)
    analyze = [raw_request(perspective_analyze(comments.body(), api_key), "127.0.0.1", service.port)
               for _ in range(count)]
    coral = [http_request("127.0.0.1", service.port, signature, body)
             for signature, body in coral_requests(count, coral_secret, seed)]
    return [("analyze", analyze, (200,)), ("coral", coral, (200, 204))]


# -- memory ----------------------------------------------------------------------------------------------


@dataclass
class Memory:
    app: str
    how: str
    master: dict[str, int]
    workers: list[dict[str, int]] = field(default_factory=list)

    @property
    def total_pss_kb(self) -> int:
        return self.master["pss_kb"] + sum(w["pss_kb"] for w in self.workers)

    def summary(self) -> str:
        def mb(kb: float) -> str:
            return f"{kb / 1024:.0f}"

        def avg(name: str) -> float:
            return statistics.mean(w[name] for w in self.workers) if self.workers else 0.0

        return (f"{self.app:<22} master rss {mb(self.master['rss_kb'])} MB; per worker (mean of {len(self.workers)}): "
                f"rss {mb(avg('rss_kb'))} MB, pss {mb(avg('pss_kb'))} MB, shared {mb(avg('shared_kb'))} MB, "
                f"private {mb(avg('private_kb'))} MB; all processes pss {mb(self.total_pss_kb)} MB")


def memory_of(app: App, label: str | None = None) -> Memory:
    return Memory(label or app.name, app.launch.how, smaps_rollup(app.process.pid),
                  [smaps_rollup(pid) for pid in app.workers()])


def warm_posts(app: App, count: int, seed: int) -> None:
    comments = Comments(seed)
    for _ in range(count):
        post_json(app.url + "/v1/comments", comments.comment())
        with contextlib.suppress(OSError):
            get_json(f"{app.url}/v1/articles/{READ_ARTICLE}/comments")


# -- profile ---------------------------------------------------------------------------------------------


def find_py_spy(given: str | None) -> str | None:
    for candidate in (given, shutil.which("py-spy"), str(Path(sys.executable).parent / "py-spy")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def profile(py_spy: str, wrk: str, app: App, args: argparse.Namespace, out: Path) -> list[str]:
    """Sample every worker with py-spy during a POST run; return a report of the top functions."""
    raw = out / "service-post.collapsed"
    seconds = max(3, args.duration)
    # --gil: only samples that hold the GIL, i.e. Python running on a CPU, not waiting on a socket.
    spy = subprocess.Popen([py_spy, "record", "--pid", str(app.process.pid), "--subprocesses", "--rate", "250",
                            "--gil", "--nonblocking", "--format", "raw", "--duration", str(seconds + 2),
                            "--output", str(raw)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.5)
    run_wrk(wrk, app.url, "post_comments.lua", seconds, connections=args.connections, threads=args.wrk_threads,
            script_args=[str(int(time.time()))])
    _, err = spy.communicate(timeout=seconds + 60)
    if not raw.exists():
        return [f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}"]
    return top_functions(raw)


def top_functions(raw: Path, count: int = 25) -> list[str]:
    """Shares of py-spy's samples: the heaviest functions below the worker loop, then what a POST calls."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    children: dict[str, Counter[str]] = {}
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        n = int(samples)
        total += n
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        frames = [frame for frame in frames if not frame.startswith(("process ", "<module>"))]
        for frame in set(frames):
            inclusive[frame] += n
        if not frames:
            continue
        own[frames[-1]] += n
        for parent, child in zip(frames, [*frames[1:], "(self)"], strict=True):
            children.setdefault(parent, Counter())[child] += n

    def share(n: int) -> str:
        return f"{100 * n / max(1, total):5.1f}%"

    # The chain from the interpreter down to gunicorn's request loop is in every sample: leave it out.
    heavy = [(frame, n) for frame, n in inclusive.most_common() if n < 0.9 * total][:count]
    lines = [f"{total} samples over all workers; inclusive and self share of the heaviest functions:"]
    lines += [f"  {share(n)} {share(own[frame])}  {frame}" for frame, n in heavy]
    for parent in ("post_comment (api/public.py)", "Intake.submit (moderation/intake.py)"):
        if parent in children:
            lines.append(f"what {parent.split(' ')[0]} spends ({share(inclusive[parent])} in all):")
            lines += [f"  {share(n)}  {child}" for child, n in children[parent].most_common(10)]
    lines.append("heaviest by self time:")
    lines += [f"  {share(n)}  {frame}" for frame, n in own.most_common(15)]
    return lines


# -- the run -----------------------------------------------------------------------------------------------


# A round whose busiest worker did more than this share of the work ran on one worker (see Run).
ONE_WORKER_SHARE = 0.8


def median_run(runs: list[Run]) -> Run:
    """The median round by throughput, among the rounds where every worker served (all, if none did).

    With fast requests, one sync worker can win every accept() for a whole round while the others
    sleep: that round measures one CPU, not the app, and runs at about half speed. Seen on the
    reference and the floor, never on the service, so counting those rounds would flatter the service.
    """
    spread = [run for run in runs if run.top_worker_share <= ONE_WORKER_SHARE]
    ordered = sorted(spread or runs, key=lambda run: run.rps)
    return ordered[len(ordered) // 2] if len(ordered) % 2 else ordered[len(ordered) // 2 - 1]


def describe(run: Run) -> str:
    return (f"{run.app:<10} {run.rps:8.0f} req/s  p50 {run.p50_ms:6.2f} ms  p90 {run.p90_ms:6.2f} ms  "
            f"p99 {run.p99_ms:6.2f} ms  max {run.max_ms:7.2f} ms  {run.requests} req in {run.seconds:.1f} s  "
            f"errors {run.errors}+{run.status_errors} non-2xx  app cpu {run.cpu_ms_per_request:.3f} ms/req  "
            f"redis cpu {1000 * run.redis_cpu_s / max(1, run.requests):.3f} ms/req  other load {run.load_before:.0%}  "
            f"steal {run.steal:.0%}  busiest worker {run.top_worker_share:.0%} of worker CPU")


def interleaved(wrk: str, apps: list[App], redis_pid: int, kind: str, script: str, args: argparse.Namespace,
                script_args: Callable[[int, str], list[str]]) -> dict[str, list[Run]]:
    """Each app in turn, round after round (every other round in reverse); script_args(round, app name)."""
    runs: dict[str, list[Run]] = {app.name: [] for app in apps}
    for round_number in range(args.rounds):
        for app in apps if round_number % 2 == 0 else reversed(apps):
            run = measure(wrk, app, redis_pid, kind, script, args, script_args(round_number, app.name))
            runs[app.name].append(run)
            say(f"  round {round_number + 1} {describe(run)}")
    return runs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    top = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--smoke", action="store_true", help="every step once, 1 s each: checks the harness works")
    top.add_argument("--workers", type=int, default=2, help="gunicorn workers for both apps (default 2)")
    top.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    top.add_argument("--threads", type=int, default=4, help="threads per worker with gthread (default 4)")
    top.add_argument("--duration", type=int, default=12, help="seconds of each measured wrk run (default 12)")
    top.add_argument("--warmup", type=int, default=3, help="seconds of warm-up before each run (default 3)")
    top.add_argument("--rounds", type=int, default=3, help="runs per app and route, interleaved; the median counts")
    top.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    top.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1)")
    top.add_argument("--rate", type=float, default=200.0, help="posts/s of the steady-rate run (default 200)")
    top.add_argument("--steady-seconds", type=float, default=30.0, help="length of the steady-rate run")
    top.add_argument("--policy", choices=("open", "default"), default="open",
                     help="open: hold_new_authors off (returning readers), default: the shipped policy")
    top.add_argument("--skip", action="append", default=[],
                     choices=("post", "read", "steady", "dropin", "memory", "floor", "isso", "authors"),
                     help="leave a step (post, read, steady, dropin: the drop-in routes' steady runs, memory) or an "
                          "app (floor, isso, authors: the service on long lists and many standings) out; repeatable")
    top.add_argument("--list-entries", type=int, default=10_000,
                     help="domains and networks in the authors service's policy (default 10,000)")
    top.add_argument("--standings", type=int, default=100_000,
                     help="authors with a standing in the authors service's data (default 100,000)")
    top.add_argument("--model", help="the service's model artifact (default: MODERATION_MODEL_PATH, else the shipped)")
    top.add_argument("--profile", action="store_true", help="sample the service's workers with py-spy")
    top.add_argument("--floor", action="store_true",
                     help="kept for older command lines: the floor (the reference with the model scoring each "
                          "post, REFERENCE_SCORES=1) is always measured unless --skip floor")
    top.add_argument("--py-spy", help="path of py-spy (default: on PATH or beside this Python)")
    top.add_argument("--out", help="folder for logs, the JSON results and the profile (default: a temporary one)")
    top.add_argument("--nice", type=int, default=0,
                     help="run the benchmark and everything it starts at this niceness; on a machine shared with "
                          "other work, -10 (as root) gives it the CPUs first")
    top.add_argument("--idle-probe", type=float, default=0.5,
                     help="seconds spent before each run measuring how busy other work keeps the CPUs")
    args = top.parse_args(argv)
    if args.smoke:
        args.duration, args.warmup, args.rounds = 1, 0, 1
        args.rate, args.steady_seconds = min(args.rate, 50.0), 1.0
        args.skip = [*args.skip, "memory-preload"]
        args.idle_probe = 0.1
        args.standings = min(args.standings, 2000)
    return args


@contextlib.contextmanager
def started(launches: list[Launch]) -> Iterator[list[App]]:
    apps: list[App] = []
    try:
        for launch in launches:
            apps.append(App(launch))
        for app in apps:
            app.wait_ready()
        yield apps
    finally:
        for app in apps:
            app.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.nice:
        os.nice(args.nice)  # inherited by redis-server, both gunicorns, wrk
    if args.model:
        os.environ["MODERATION_MODEL_PATH"] = str(Path(args.model).resolve())
    wrk = ensure_wrk()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-intake-"))
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "wrk": subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout.split("\n")[0].strip(),
        "settings": {k: v for k, v in vars(args).items() if k not in ("py_spy",)},
    }
    say(f"machine: {results['nproc']} x {results['cpu']}; Python {results['python']}; {results['wrk']}"
        + (f"; niceness {os.getpriority(os.PRIO_PROCESS, 0)}" if args.nice else ""))
    say(f"load average {os.getloadavg()[0]:.2f}; other work busy {background_busy(2 * args.idle_probe):.0%} "
        "of all CPUs before start")
    say(f"results and logs in {out}")

    with EmbeddedRedis(out / "redis", persistent=False) as redis_server:
        assert redis_server.process is not None
        redis_pid = redis_server.process.pid
        redis = Redis.from_url(redis_server.url, decode_responses=True)
        keys = Keys(os.environ.get("MODERATION_KEY_PREFIX") or Keys().prefix)
        if args.policy == "open":
            PolicyStore(redis, keys).update({"hold_new_authors": False}, "bench")
        say(f"redis-server on {redis_server.url} (no persistence); policy: {args.policy}")
        common: dict[str, Any] = dict(workers=args.workers, worker_class=args.worker_class, threads=args.threads)
        coral_secret = "ems_" + os.urandom(32).hex()
        service_start = service_launch(out, redis_server.url, **common, limits=True)
        service_start.env["MODERATION_CORAL_SIGNING_SECRETS"] = coral_secret
        api_key = ApiKeys(redis, keys).add(f"bench-{os.urandom(4).hex()}")
        launches = [reference_launch(out, redis_server.url, **common), service_start]
        if "floor" not in args.skip:
            launches.append(reference_launch(out, redis_server.url, scores=True, **common))
        if "isso" not in args.skip and "post" not in args.skip:
            launches.append(isso_launch(out, ensure_isso(), **common))
        if "authors" not in args.skip and "post" not in args.skip:
            # The same service on a site with long lists and many standings, under a key prefix of its own.
            seeded = authors_seed.seed(redis, Keys(authors_seed.PREFIX), list_entries=args.list_entries,
                                       standings=args.standings, open_policy=args.policy == "open")
            say("service-authors: the service on a policy of {domains} email domains, {networks} networks and "
                "{hosts} website hosts, with {standings} authors in a standing".format(**seeded))
            authors_start = service_launch(out, redis_server.url, **common, limits=True, tag="service-authors")
            authors_start.env["MODERATION_KEY_PREFIX"] = authors_seed.PREFIX
            launches.append(authors_start)
        with started(launches) as all_apps:
            reference, service = apps = all_apps[:2]
            for app in all_apps:
                say(f"{app.name}: {app.launch.how} on {app.url}, workers {app.workers()}")
            say(f"service posting limits: {BENCH_POSTING_LIMITS} per IP address and per email (counting, never "
                "refusing a bench post)")
            ratio = floor_ratio = isso_ratio = service_rps = steady_p99 = float("nan")

            if "post" not in args.skip:
                say(f"\nPOST /v1/comments: wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s "
                    f"-s bench/wrk/post_comments.lua, {args.rounds} round(s) after {args.warmup} s warm-up each")
                runs = interleaved(wrk, all_apps, redis_pid, "post", "post_comments.lua", args,
                                   lambda n, name: [str(int(time.time()) + n), *(["isso"] if name == "isso" else [])])
                ref_run, svc_run = median_run(runs["reference"]), median_run(runs["service"])
                ratio = svc_run.rps / ref_run.rps
                one_worker = {name: sum(run.top_worker_share > ONE_WORKER_SHARE for run in app_runs)
                              for name, app_runs in runs.items()}
                if args.workers > 1 and any(one_worker.values()):
                    say("rounds served by one worker, left out of the medians: "
                        + ", ".join(f"{name} {count}" for name, count in one_worker.items()))
                service_rps = svc_run.rps
                say("median:")
                say("  " + describe(ref_run))
                say("  " + describe(svc_run))
                cpu_ratio = ref_run.cpu_ms_per_request / max(1e-9, svc_run.cpu_ms_per_request)
                say(f"post: ratio={ratio:.2f} (target >= 0.6) service_rps={svc_run.rps:.0f} "
                    f"p50_ms={svc_run.p50_ms:.2f} p99_ms={svc_run.p99_ms:.2f}; "
                    f"cpu_ratio={cpu_ratio:.2f} (reference/service CPU per request)")
                results["post"] = {"runs": {k: [asdict(r) for r in v] for k, v in runs.items()},
                                   "ratio": round(ratio, 3)}
                if "floor" in runs:
                    floor_run = median_run(runs["floor"])
                    floor_ratio = svc_run.rps / floor_run.rps
                    say("  " + describe(floor_run))
                    floor_cpu = ref_run.cpu_ms_per_request / max(1e-9, floor_run.cpu_ms_per_request)
                    say(f"floor (the reference plus scoring each post): {floor_run.rps / ref_run.rps:.2f} of the "
                        f"reference, cpu_ratio={floor_cpu:.2f}: the most any service that scores before answering "
                        "can reach here")
                    say(f"floor: floor_ratio={floor_ratio:.2f} (target >= 0.8: the service's throughput over the "
                        f"floor's); CPU per post, app and Redis: service {svc_run.all_cpu_ms_per_request:.2f} ms, "
                        f"floor {floor_run.all_cpu_ms_per_request:.2f} ms")
                    results["post"]["floor_ratio"] = round(floor_ratio, 3)
                if "service-authors" in runs:
                    authors_run = median_run(runs["service-authors"])
                    lists_ratio = authors_run.rps / svc_run.rps
                    say("  " + describe(authors_run))
                    say(f"authors: lists_ratio={lists_ratio:.3f} (target >= 0.95: throughput on "
                        f"{args.list_entries} listed domains and networks and {args.standings} standings over "
                        "today's empty lists); CPU per post "
                        f"{authors_run.cpu_ms_per_request:.3f} ms vs {svc_run.cpu_ms_per_request:.3f} ms")
                    results["post"]["lists_ratio"] = round(lists_ratio, 3)
                if "isso" in runs:
                    isso_run = median_run(runs["isso"])
                    isso_ratio = svc_run.rps / isso_run.rps
                    say("  " + describe(isso_run))
                    say(f"isso: isso_ratio={isso_ratio:.2f} (target >= 3: the service's throughput over Isso "
                        f"{ISSO_VERSION}'s, moderation on)")
                    results["post"]["isso_ratio"] = round(isso_ratio, 3)

            if "read" not in args.skip:
                seed_read_article(service, redis, keys)
                ours = get_json(f"{service.url}/v1/articles/{READ_ARTICLE}/comments")
                theirs = get_json(f"{reference.url}/v1/articles/{READ_ARTICLE}/comments")
                if ours != theirs or len(ours["comments"]) != READ_COMMENTS:
                    raise RuntimeError("the reference does not read the same 50 comments as the service")
                say(f"\nGET /v1/articles/{READ_ARTICLE}/comments ({READ_COMMENTS} comments, "
                    f"{len(json.dumps(ours))} bytes, both apps answer the same): wrk -t{args.wrk_threads} "
                    f"-c{args.connections} -d{args.duration}s -s bench/wrk/get_comments.lua")
                runs = interleaved(wrk, apps, redis_pid, "read", "get_comments.lua", args,
                                   lambda n, name: [READ_ARTICLE])
                ref_run, svc_run = median_run(runs["reference"]), median_run(runs["service"])
                say("median:")
                say("  " + describe(ref_run))
                say("  " + describe(svc_run))
                read_ratio = svc_run.rps / ref_run.rps
                read_cpu_ratio = ref_run.cpu_ms_per_request / max(1e-9, svc_run.cpu_ms_per_request)
                say(f"read: ratio={read_ratio:.2f} (target >= 0.6) service_rps={svc_run.rps:.0f} "
                    f"p50_ms={svc_run.p50_ms:.2f} p99_ms={svc_run.p99_ms:.2f}; cpu_ratio={read_cpu_ratio:.2f}")
                results["read"] = {"runs": {k: [asdict(r) for r in v] for k, v in runs.items()},
                                   "ratio": round(read_ratio, 3)}

            if "steady" not in args.skip:
                say(f"\nsteady {args.rate:.0f} posts/s for {args.steady_seconds:.0f} s: open loop (asyncio, a new "
                    "connection per post, latency from each post's scheduled time)")
                results["steady"] = {}
                for app in (service,) if args.smoke else (service, reference):
                    steady = steady_rate(app, args.rate, args.steady_seconds, seed=int(time.time()),
                                         idle_probe=args.idle_probe)
                    results["steady"][app.name] = asdict(steady)
                    say(f"  {app.name:<10} sent {steady.sent} ok {steady.ok} errors {steady.errors} "
                        f"p50 {steady.p50_ms:.2f} ms p90 {steady.p90_ms:.2f} ms p99 {steady.p99_ms:.2f} ms "
                        f"p99.9 {steady.p999_ms:.2f} ms max {steady.max_ms:.2f} ms (generator lag p99 "
                        f"{steady.send_lag_p99_ms:.2f} ms, other load {steady.load_before:.0%})")
                steady_p99 = results["steady"]["service"]["p99_ms"]
                say(f"steady: rate={args.rate:.0f} p99_ms={steady_p99:.2f} (target <= 15)")

            if "dropin" not in args.skip:
                say(f"\ndrop-in routes, steady {args.rate:.0f} requests/s for {args.steady_seconds:.0f} s each (the "
                    "same open loop)")
                results["dropin"] = {}
                for route, payloads, ok in dropin_payloads(service, api_key, coral_secret, seed=int(time.time())):
                    steady = steady_requests(service, route, payloads, args.rate, args.steady_seconds, ok,
                                             idle_probe=args.idle_probe)
                    results["dropin"][route] = asdict(steady)
                    say(f"  {route:<10} sent {steady.sent} ok {steady.ok} statuses {steady.statuses} "
                        f"p50 {steady.p50_ms:.2f} ms p90 {steady.p90_ms:.2f} ms p99 {steady.p99_ms:.2f} ms "
                        f"max {steady.max_ms:.2f} ms")
                say("dropin: " + " ".join(f"{route}_p99_ms={entry['p99_ms']:.2f}"
                                          for route, entry in results["dropin"].items()) + " (target <= 10)")

            if "memory" not in args.skip:
                say("\nmemory (/proc/<pid>/smaps_rollup, after the load above):")
                memories = [memory_of(service, "service (preload)"), memory_of(reference)]
                if "memory-preload" not in args.skip:
                    launch = service_launch(out, redis_server.url, **common, preload=False, tag="service-nopreload")
                    with started([launch]) as (nopreload,):
                        warm_posts(nopreload, 200, seed=7)
                        memories.insert(1, memory_of(nopreload, "service (no preload)"))
                for memory in memories:
                    say("  " + memory.summary())
                results["memory"] = [
                    {"app": m.app, "how": m.how, "master": m.master, "workers": m.workers,
                     "total_pss_kb": m.total_pss_kb}
                    for m in memories
                ]
                worker_rss = max((w["rss_kb"] for w in memories[0].workers), default=0) / 1024
                say(f"memory: worker_rss_mb={worker_rss:.0f} (target <= 200)")

            if args.profile:
                py_spy = find_py_spy(args.py_spy)
                if not py_spy:
                    say("\nprofile: py-spy not found (pip install py-spy, or --py-spy PATH); skipped")
                else:
                    say(f"\nprofile of the service's workers during {max(3, args.duration)} s of POSTs (py-spy):")
                    report = profile(py_spy, wrk, service, args, out)
                    for line in report:
                        say("  " + line)
                    results["profile"] = report

    (out / "results.json").write_text(json.dumps(results, indent=2))
    say(f"\nraw results: {out / 'results.json'}")
    say(f"intake: ratio={ratio:.2f} floor_ratio={floor_ratio:.2f} isso_ratio={isso_ratio:.2f} "
        f"service_rps={service_rps:.0f} p99_ms={steady_p99:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
