"""gunicorn settings for `moderation serve` and the container: one file, the same everywhere."""

from __future__ import annotations

import os
from typing import Any

from api.logs import LOGGING

bind = [os.environ.get("MODERATION_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# The model loads once in the master and its memory is shared by the forked workers.
preload_app = True
timeout = 30
graceful_timeout = 20
keepalive = 5
# GET /v1/articles/<id>/comments names an article id of up to 2,048 characters, 6,144 bytes once
# percent-encoded (moderation/schemas.py): more than gunicorn's default request line of 4,094 bytes.
# 8,190 is gunicorn's largest bounded value.
limit_request_line = 8190
logconfig_dict = LOGGING
accesslog = None


def child_exit(server: Any, worker: Any) -> None:
    """A dead worker's metric files stop counting toward live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
