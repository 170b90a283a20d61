"""The `moderation` command: serve the API, manage moderators, score, train and evaluate models."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from redis import Redis

from moderation.keys import Keys
from moderation.moderators import ROLES, ModeratorExists, Moderators


def _data_dir() -> Path:
    return Path(os.environ.get("MODERATION_DATA_DIR", "var"))


def _redis() -> Redis:
    url = os.environ.get("REDIS_URL")
    if not url:
        sys.exit("REDIS_URL is not set: point it at the Redis server that `moderation serve` uses")
    return Redis.from_url(url, decode_responses=True)


def _keys() -> Keys:
    return Keys(os.environ.get("MODERATION_KEY_PREFIX", "mod:"))


# -- serve -----------------------------------------------------------------------------------------


def _dev_secret(data_dir: Path) -> str:
    """A secret kept in the data folder, so author keys stay the same across restarts."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def serve(args: argparse.Namespace) -> None:
    """Run the API under gunicorn, with an embedded Redis when REDIS_URL is unset."""
    from gunicorn.app.base import BaseApplication

    from moderation.redis_server import EmbeddedRedis

    data_dir = _data_dir()
    embedded = None
    if not os.environ.get("REDIS_URL"):
        embedded = EmbeddedRedis(data_dir / "redis", persistent=True, port=args.redis_port).start()
        os.environ["REDIS_URL"] = embedded.url
        print(f"embedded Redis at {embedded.url}, data in {embedded.data_dir}/ (append-only)", flush=True)
    if not os.environ.get("MODERATION_SECRET_KEY") and os.environ.get("MODERATION_ENV") != "production":
        os.environ["MODERATION_SECRET_KEY"] = _dev_secret(data_dir)

    metrics_dir = data_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir.resolve()))

    class Server(BaseApplication):
        def load_config(self) -> None:
            from api import gunicorn_conf

            for name in ("preload_app", "timeout", "graceful_timeout", "keepalive", "logconfig_dict",
                         "accesslog", "child_exit"):
                self.cfg.set(name, getattr(gunicorn_conf, name))
            self.cfg.set("bind", [args.bind])
            self.cfg.set("workers", args.workers)

        def load(self) -> Any:
            from api import create_app

            return create_app()

    try:
        Server().run()
    finally:
        if embedded:
            embedded.stop()


# -- moderators ------------------------------------------------------------------------------------


def moderators(args: argparse.Namespace) -> None:
    accounts = Moderators(_redis(), _keys())
    if args.action == "add":
        try:
            print(accounts.add(args.name, args.role))
        except ModeratorExists:
            sys.exit(f"moderator {args.name!r} exists; revoke it first")
    elif args.action == "list":
        for moderator in accounts.list():
            print(f"{moderator.name}\t{moderator.role}\t{moderator.created_at}")
    elif args.action == "revoke":
        if not accounts.revoke(args.name):
            sys.exit(f"no moderator {args.name!r}")
        print(f"revoked {args.name}")


# -- score -----------------------------------------------------------------------------------------


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8") as handle:
        if path.suffix in (".jsonl", ".ndjson"):
            for number, line in enumerate(handle, 1):
                if line.strip():
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        sys.exit(f"{path}:{number}: each line must be a JSON object")
                    yield row
        else:
            yield from csv.DictReader(handle)


def score(args: argparse.Namespace) -> None:
    """Score a CSV or JSON Lines file and write every input column plus the verdict."""
    from moderation.classifier import DEFAULT_MODEL_PATH, Classifier
    from moderation.intake import assess
    from moderation.policy import Policy, decide

    classifier = Classifier.load(Path(args.model) if args.model else DEFAULT_MODEL_PATH)
    policy = Policy(hold_new_authors=False)
    rows = list(_rows(Path(args.file)))
    if rows and args.text_column not in rows[0]:
        sys.exit(f"{args.file}: no column {args.text_column!r} (use --text-column)")
    columns = list(rows[0]) if rows else [args.text_column]
    with contextlib.ExitStack() as stack:
        out: TextIO = (
            stack.enter_context(open(args.output, "w", newline="", encoding="utf-8")) if args.output else sys.stdout
        )
        writer = csv.DictWriter(out, fieldnames=[*columns, "spam", "abuse", "decision", "reasons"],
                                extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            text = str(row.get(args.text_column) or "")
            assessment = assess(classifier, text)
            verdict = decide(policy, assessment, text, article_mode="open", author_approved=1)
            writer.writerow({
                **row,
                "spam": f"{assessment.spam:.4f}",
                "abuse": f"{assessment.abuse:.4f}",
                "decision": verdict.status,
                "reasons": ";".join(verdict.codes),
            })


# -- train and evaluate ----------------------------------------------------------------------------


def _default_data() -> Path:
    return Path(os.environ.get("MODERATION_TRAINING_DATA", "../shared/data"))


def train(args: argparse.Namespace) -> None:
    from moderation.classifier import DEFAULT_MODEL_PATH
    from moderation.training import train_model

    metrics = train_model(Path(args.data), Path(args.out) if args.out else DEFAULT_MODEL_PATH, seed=args.seed)
    print(json.dumps(metrics, indent=2))


def evaluate(args: argparse.Namespace) -> None:
    from moderation.classifier import DEFAULT_MODEL_PATH
    from moderation.training import evaluate_model

    metrics = evaluate_model(Path(args.model) if args.model else DEFAULT_MODEL_PATH, Path(args.data))
    print(json.dumps(metrics, indent=2))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="moderation", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="run the API under gunicorn")
    p.add_argument("--bind", default=os.environ.get("MODERATION_BIND", "127.0.0.1:8000"))
    p.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    p.add_argument("--redis-port", type=int, default=None, help="port of the embedded Redis (default: any free)")
    p.set_defaults(run=serve)

    p = commands.add_parser("moderators", help="add, list or revoke moderators")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create a moderator and print their token")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="moderator")
    actions.add_parser("list", help="list moderators")
    revoke = actions.add_parser("revoke", help="revoke a moderator's token at once")
    revoke.add_argument("name")
    p.set_defaults(run=moderators)

    p = commands.add_parser("score", help="score a CSV or JSON Lines file of comments")
    p.add_argument("file")
    p.add_argument("--text-column", default="text")
    p.add_argument("--model", help="model artifact (default: the shipped one)")
    p.add_argument("-o", "--output", help="output CSV (default: standard output)")
    p.set_defaults(run=score)

    p = commands.add_parser("train", help="train a model on labelled data")
    p.add_argument("--data", default=str(_default_data()), help="folder of the public data sets")
    p.add_argument("--out", help="artifact path (default: the shipped model's)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=train)

    p = commands.add_parser("evaluate", help="evaluate a model on the labelled data sets")
    p.add_argument("--model", help="model artifact (default: the shipped one)")
    p.add_argument("--data", default=str(_default_data()))
    p.set_defaults(run=evaluate)
    return top


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
