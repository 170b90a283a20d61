"""The `moderation` command: serve the API, manage moderators, score, train and evaluate models."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import secrets
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TextIO, cast

from moderation.keys import keys_from_environment
from moderation.moderators import ROLES, ModeratorExists, Moderators
from moderation.redis_client import from_environment


def _data_dir() -> Path:
    return Path(os.environ.get("MODERATION_DATA_DIR", "var"))


_redis = from_environment
_keys = keys_from_environment


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

            for name in ("preload_app", "timeout", "graceful_timeout", "keepalive", "limit_request_line",
                         "logconfig_dict", "accesslog", "child_exit"):
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


# -- authors -----------------------------------------------------------------------------------------

_STANDING_OF = {"ban": "banned", "suspend": "suspended", "premoderate": "premoderated", "trust": "trusted",
                "clear": "normal"}


def _secret() -> bytes:
    """The secret author keys are made with: MODERATION_SECRET_KEY, else the one `moderation serve` keeps."""
    secret = os.environ.get("MODERATION_SECRET_KEY")
    if not secret:
        path = _data_dir() / "secret_key"
        if not path.exists():
            sys.exit("MODERATION_SECRET_KEY is not set: set it to the service's, so author keys match its own")
        secret = path.read_text().strip()
    return secret.encode()


def _until(args: argparse.Namespace) -> Any:
    """--until as a time, or --for (7d, 12h, 30m) from now."""
    from datetime import UTC, datetime, timedelta

    from moderation.schemas import parse_time

    if args.until:
        try:
            moment = parse_time(args.until)
        except ValueError as error:
            sys.exit(f"--until {error}")
    elif args.duration:
        match = re.fullmatch(r"(\d+)([dhm])", args.duration.strip())
        if not match:
            sys.exit("--for takes a number and d, h or m: 7d, 12h, 30m")
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
        moment = datetime.now(UTC) + timedelta(**{unit: int(match.group(1))})
    else:
        sys.exit("suspend needs --until TIME or --for 7d")
    if moment <= datetime.now(UTC):
        sys.exit("--until must be in the future")
    return moment


def authors(args: argparse.Namespace) -> None:
    """Set an author's standing, list the authors in one, or note something about one."""
    from moderation.authors.identity import identity_key
    from moderation.authors.notes import Notes
    from moderation.authors.standing import REFUSING, StandingChange, StandingConflict, Standings
    from moderation.policy_store import PolicyStore

    redis, keys = _redis(), _keys()
    standings = Standings(redis, keys)
    actor = "cli:" + (os.environ.get("USER") or "admin")
    if args.action == "list":
        cursor = None
        while True:
            rows, cursor = standings.page(args.standing, cursor, 200)
            for row in rows:
                s = row["standing"]
                print("\t".join([row["author_key"], s["state"], s["until"] or "-", s["set_by"] or "-",
                                 s["set_at"] or "-", s["reason"] or ""]))
            if cursor is None:
                return
    secret = _secret()
    # `coral:<user id>` names a Coral commenter, whom Coral's phase identifies by id alone (no address).
    # The canonical address's key: the one every alias of it leads to.
    identity = key = identity_key(secret, args.email)
    if args.action == "note":
        note = Notes(redis, keys).add(identity, args.text, actor)
        print(f"noted {note['id']} on {key}")
        return
    state = _STANDING_OF[args.action]
    if state != "normal" and not args.reason:
        sys.exit(f"{args.action} needs --reason")
    change = StandingChange(
        state=state,  # type: ignore[arg-type]
        reason=args.reason or "", until=_until(args) if state == "suspended" else None,
        message=args.message or "", reject_pending=args.reject_pending,
    )
    networks = standings.networks_used(identity, key, secret) if state in REFUSING else ()
    try:
        changed = standings.change(identity, key, change, actor, networks=networks, reject_reason=(
            args.reason if args.reason in ("spam", "abuse", "off_topic", "personal_data") else "other"))
    except StandingConflict:
        sys.exit(f"{args.email} is {state} already")
    now = standings.read(identity, PolicyStore(redis, keys).load())
    print(f"{key}\t{now.state}\t{now.until or '-'}\trejected pending: {changed.rejected_pending}")


# -- API keys --------------------------------------------------------------------------------------


def api_keys(args: argparse.Namespace) -> None:
    from moderation.api_keys import ApiKeyExists, ApiKeys, BadKeyName

    accounts = ApiKeys(_redis(), _keys())
    if args.action == "add":
        try:
            print(accounts.add(args.name, akismet=args.akismet))
        except ApiKeyExists:
            sys.exit(f"an API key named {args.name!r} exists; revoke it first")
        except BadKeyName:
            sys.exit(f"{args.name!r}: a key's name is 1-64 letters, digits, '.', '-' or '_'")
    elif args.action == "list":
        for key in accounts.list():
            print(f"{key.name}\t{key.created_at}")
    elif args.action == "revoke":
        if not accounts.revoke(args.name):
            sys.exit(f"no API key {args.name!r}")
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


def _row_language(value: Any, fallback: str) -> str:
    """A row's own `language` (an ISO 639-1 code or BCP 47 tag) as its fallback; `fallback` if it names none."""
    from moderation.policy import language_code

    try:
        return language_code(value) if isinstance(value, str) and value.strip() else fallback
    except ValueError:
        return fallback


def score(args: argparse.Namespace) -> None:
    """Score a CSV or JSON Lines file and write every input column plus the language and the verdict."""
    from moderation.intake import assess
    from moderation.model.classifier import DEFAULT_MODEL_PATH, Classifier
    from moderation.model.languages import detect_language
    from moderation.policy import Policy, decide, language_code

    try:
        site_language = language_code(args.language)
    except ValueError as error:
        sys.exit(f"--language: {error}")
    classifier = Classifier.load(Path(args.model) if args.model else DEFAULT_MODEL_PATH)
    policy = Policy(hold_new_authors=False, language=site_language)
    rows = list(_rows(Path(args.file)))
    if rows and args.text_column not in rows[0]:
        sys.exit(f"{args.file}: no column {args.text_column!r} (use --text-column)")
    columns = list(rows[0]) if rows else [args.text_column]
    # A `language` column in the input is each row's fallback (as an article's language is); the output's is
    # the detected one, in the same place.
    added = [name for name in ("language", "spam", "abuse", "decision", "reasons") if name not in columns]
    with contextlib.ExitStack() as stack:
        out: TextIO = (
            stack.enter_context(open(args.output, "w", newline="", encoding="utf-8")) if args.output else sys.stdout
        )
        writer = csv.DictWriter(out, fieldnames=[*columns, *added], extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            text = str(row.get(args.text_column) or "")
            language = detect_language(text, _row_language(row.get("language"), site_language)).code
            assessment = assess(classifier, text, language=language)
            verdict = decide(policy, assessment, text, article_mode="open", author_approved=1)
            writer.writerow({
                **row,
                "language": language,
                "spam": f"{assessment.spam:.4f}",
                "abuse": f"{assessment.abuse:.4f}",
                "decision": verdict.status,
                "reasons": ";".join(verdict.codes),
            })


# -- train and evaluate ----------------------------------------------------------------------------


def _default_data() -> Path:
    return Path(os.environ.get("MODERATION_TRAINING_DATA", "../shared/data"))


def _require_public_sets(command: str, data: Path) -> None:
    """Exit naming each public set missing from data, where its authors publish it and where its files go.

    The sets are never committed, so a clone of the project alone has none of them: this is the first thing its
    `train` says, in place of a traceback about a missing file.
    """
    from moderation.model.datasets import describe_sets, missing_sets

    missing = missing_sets(data)
    if not missing:
        return
    lines = [
        f"moderation {command}: {len(missing)} public data set{'s' if len(missing) > 1 else ''} missing from "
        f"{data}/ ({', '.join(entry.source for entry in missing)}).",
        "They are not part of the project: fetch each from its authors, keep its licence, and place its files as "
        "below; then point --data (or MODERATION_TRAINING_DATA) at that folder, wherever it is.",
        "",
        *describe_sets(missing, data),
    ]
    if command == "evaluate":
        lines += ["", "Or evaluate on the written sets alone: moderation evaluate --data ''"]
    sys.exit("\n".join(lines))


def train(args: argparse.Namespace) -> None:
    """Train the base model on the public data sets, or with --decisions adapt a base to the site's decisions."""
    if args.decisions:
        adapt_to_decisions(args)
        return
    from moderation.model.classifier import DEFAULT_MODEL_PATH
    from moderation.model.training import train_model

    _require_public_sets("train", Path(args.data))
    from moderation.model.languages.data import missing_language_sets

    missing = missing_language_sets(Path(args.data))
    if missing:
        # The English model trains without them; the other languages then have no heads (scored as unsupported).
        print(f"training no heads for the languages other than English: {len(missing)} language sets missing from "
              f"{args.data} ({', '.join(entry.source for entry in missing)}); see README, 'Retraining the base model'",
              file=sys.stderr)
    out = Path(args.out) if args.out else DEFAULT_MODEL_PATH
    metrics = train_model(Path(args.data), out, seed=args.seed)
    print(json.dumps(metrics, indent=2))
    print(f"wrote {out}; register it with: moderation models register {out}", file=sys.stderr)


def adapt_to_decisions(args: argparse.Namespace) -> None:
    """Adapt a base model (default: the shipped one) to the site's decisions, the held-out fifth left out."""
    from dataclasses import asdict

    from moderation.decisions import all_decisions, training_examples
    from moderation.model.adaptation import adapt
    from moderation.model.classifier import DEFAULT_MODEL_PATH, Classifier
    from moderation.model.training import write_artifact
    from moderation.policy_store import PolicyStore
    from moderation.store import CommentStore

    base = Classifier.load(Path(args.base) if args.base else DEFAULT_MODEL_PATH)
    redis = _redis()
    # Each decision in its comment's language, the site's language as the hint, as intake and `learn` have it.
    site_language = PolicyStore(redis, _keys()).load().language
    examples = training_examples(all_decisions(CommentStore(redis, _keys())), site_language)
    print(f"adapting {base.version} to {len(examples)} of the site's decisions", file=sys.stderr)
    model, reports = adapt(base, examples, seed=args.seed)
    out = Path(args.out) if args.out else _data_dir() / "models" / "site-model.skops"
    metadata = write_artifact(model, out, {"base": base.version, "decisions": len(examples),
                                           "adaptation": [asdict(report) for report in reports]})
    print(json.dumps({"version": metadata["version"], "heads": metadata["adaptation"]}, indent=2))
    print(f"wrote {out}; register it with: moderation models register {out}", file=sys.stderr)


_TRUE = {"1", "true", "yes", "y", "spam", "abuse", "abusive", "toxic", "offensive", "hate", "reject", "rejected"}
_FALSE = {"0", "false", "no", "n", "ham", "ok", "clean", "not_spam", "not_abusive", "none", "approve", "approved"}


def _label(value: Any) -> int | None:
    """A 0/1 label from a file's cell (1/0, true/false, yes/no, spam/ham ...); None where blank."""
    text = str(value).strip().casefold() if value is not None else ""
    if text in ("", "nan", "null"):
        return None
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    raise ValueError(f"not a label: {value!r}")


def labelled_file(path: Path, text_column: str, spam_column: str, abuse_column: str,
                  language: str = "en") -> list[Any]:
    """A labelled CSV or JSON Lines file as Examples (source: the file's name); a head without its column is None.

    Each text's language is found as intake finds it, with `language` (or the row's `language` cell) as the site's.
    """
    from moderation.model.datasets import Example
    from moderation.model.languages import detect_language

    rows = list(_rows(path))
    if rows and text_column not in rows[0]:
        sys.exit(f"{path}: no column {text_column!r} (use --text-column)")
    if rows and spam_column not in rows[0] and abuse_column not in rows[0]:
        sys.exit(f"{path}: no label column {spam_column!r} or {abuse_column!r} (use --spam-column/--abuse-column)")
    examples = []
    for number, row in enumerate(rows, 2):
        try:
            spam, abuse = _label(row.get(spam_column)), _label(row.get(abuse_column))
        except ValueError as error:
            sys.exit(f"{path}:{number}: {error}")
        text = str(row.get(text_column) or "")
        found = detect_language(text, str(row.get("language") or language)).code
        examples.append(Example(text, path.name, spam, abuse, language=found))
    return examples


def evaluate(args: argparse.Namespace) -> None:
    """Evaluate a model on the written sets, identity templates, public sets and labelled files; print a report."""
    from moderation.model import evaluation
    from moderation.model.classifier import DEFAULT_MODEL_PATH, Classifier
    from moderation.policy import Policy

    data = Path(args.data) if args.data else None
    if data is not None:
        _require_public_sets("evaluate", data)
    classifier = Classifier.load(Path(args.model) if args.model else DEFAULT_MODEL_PATH)
    extra = [example for name in args.file or ()
             for example in labelled_file(Path(name), args.text_column, args.spam_column, args.abuse_column,
                                          args.language)]
    reference: Any = evaluation.ProfanityCheck() if args.reference else None
    # Leave-one-source-out numbers from a training run (training.cross_source_metrics as JSON), else the model's own.
    loso = json.loads(Path(args.cross_source).read_text(encoding="utf-8")) if args.cross_source else None
    result = evaluation.evaluate(classifier, data, Policy(), reference, ours_loso=loso, span_sample=args.span_sample,
                                 extra=extra)
    print(json.dumps(result, indent=2) if args.json else evaluation.format_report(result))


# -- model versions, decisions, rescoring --------------------------------------------------------


def _registry() -> Any:
    from moderation.registry import ModelRegistry

    cache = _data_dir() / "model-cache"
    return ModelRegistry(_redis(), _keys(), cache)


def _model(spec: str | None) -> Any:
    """A model by version, by artifact path, or `live` (the promoted one, else the shipped one)."""
    from moderation.model.classifier import DEFAULT_MODEL_PATH, Classifier

    if spec and Path(spec).suffix == ".skops":
        return Classifier.load(Path(spec))
    registry = _registry()
    version = registry.pointers()[0] if spec in (None, "live") else spec
    return registry.load(version) if version else Classifier.load(DEFAULT_MODEL_PATH)


def models(args: argparse.Namespace) -> None:
    from moderation.registry import UnknownModel

    registry = _registry()
    actor = os.environ.get("USER", "cli")
    try:
        if args.action == "register":
            print(registry.register(Path(args.artifact)))
        elif args.action == "list":
            for entry in registry.versions():
                flags = " ".join(flag for flag in ("live", "shadow") if entry[flag])
                print(f"{entry['version']}\t{entry['registered_at']}\t{flags}")
        elif args.action == "promote":
            registry.promote(args.version, actor)
            print(f"{args.version} is live; every server switches within seconds")
        elif args.action == "rollback":
            print(f"{registry.rollback(actor) or 'the shipped model'} is live again")
        elif args.action == "shadow":
            registry.set_shadow(None if args.version == "off" else args.version, actor)
            print("shadow off" if args.version == "off" else f"{args.version} scores in shadow")
        elif args.action == "compare":
            compare_models(args)
    except UnknownModel as error:
        sys.exit(f"no registered model {error}")


def compare_models(args: argparse.Namespace) -> None:
    from moderation import compare
    from moderation.store import CommentStore

    store = CommentStore(_redis(), _keys())
    candidate, baseline = _model(args.version), _model(args.against)
    report = {
        "held_out_decisions": compare.on_decisions([baseline, candidate], compare.held_out(store)),
        "shadow_period": compare.shadow_period(store, candidate.version),
    }
    print(json.dumps(report, indent=2))


def export_decisions(args: argparse.Namespace) -> None:
    from moderation import decisions
    from moderation.store import CommentStore

    store = CommentStore(_redis(), _keys())
    fmt = args.format or ("jsonl" if args.output and args.output.endswith((".jsonl", ".ndjson")) else "csv")
    with contextlib.ExitStack() as stack:
        out: TextIO = stack.enter_context(open(args.output, "w", newline="", encoding="utf-8")) \
            if args.output else sys.stdout
        count = decisions.write(decisions.all_decisions(store), out, cast(Literal["csv", "jsonl"], fmt))
    print(f"{count} decisions", file=sys.stderr)


def import_decisions(args: argparse.Namespace) -> None:
    from moderation import decisions
    from moderation.store import CommentStore

    try:
        loaded = decisions.read_import(Path(args.file))
    except decisions.BadImport as error:
        sys.exit(f"{args.file}: nothing imported: {error}")
    count = decisions.store_imported(CommentStore(_redis(), _keys()), loaded)
    print(f"imported {count} decisions")


def rescore(args: argparse.Namespace) -> None:
    """Rescore stored comments; re-running the same job resumes where it stopped."""
    from tqdm import tqdm

    from moderation.policy_store import PolicyStore
    from moderation.rescore import Rescorer
    from moderation.store import CommentStore

    redis = _redis()
    store = CommentStore(redis, _keys())
    model = _model(args.model)
    worker = Rescorer(store, model, PolicyStore(redis, _keys()).load(), job=args.job, batch=args.batch)
    if args.restart:
        worker.reset()
    total = int(redis.zcard(store.keys.all_comments))
    with tqdm(total=total, unit="comment", disable=args.quiet, file=sys.stderr) as bar:
        report = worker.run(dry_run=args.dry_run, examples=args.examples, on_batch=bar.update)
    print(json.dumps({"model": model.version, "job": worker.job, **report.as_dict()}, indent=2))


# -- memory: retention, archive, migration ---------------------------------------------------------


def _days(name: str, default: float) -> float:
    """A number of days from MODERATION_<name> (as the API reads it), else the default."""
    return float(os.environ.get(f"MODERATION_{name}", default))


def retention(args: argparse.Namespace) -> None:
    """One retention pass now (the service runs one every ten minutes on its own)."""
    from moderation.retention import ORIGIN_RETENTION_DAYS, REJECTED_RETENTION_DAYS, Retention
    from moderation.store import CommentStore

    store = CommentStore(_redis(), _keys())
    report = Retention(store, origin_days=_days("ORIGIN_RETENTION_DAYS", ORIGIN_RETENTION_DAYS),
                       rejected_days=_days("REJECTED_RETENTION_DAYS", REJECTED_RETENTION_DAYS)).run()
    print(f"network data forgotten on {report.origins_purged} comments; {report.rejected_dropped} comments "
          f"the model rejected dropped; {report.events_trimmed} events trimmed")


def export(args: argparse.Namespace) -> None:
    """Write a slice of the comments to a gzip-compressed JSON Lines file; with --remove, drop what was written."""
    from tqdm import tqdm

    from moderation.archive import Archive, Slice
    from moderation.store import CommentStore

    try:
        where = Slice(args.article, args.status, args.older_than)
    except ValueError as error:
        sys.exit(f"nothing exported: {error}")
    output = Path(args.output)
    if output.exists() and not args.force:
        sys.exit(f"{output} exists: nothing exported (--force writes over it)")
    archive = Archive(CommentStore(_redis(), _keys()))
    with tqdm(total=archive.candidates(where), unit="comment", disable=args.quiet, file=sys.stderr) as bar:
        report = archive.export(where, output, remove=args.remove, progress=bar.update)
    print(f"{report.written} comments written to {output}"
          + (f"; {report.removed} removed from Redis, {report.kept} kept (waiting for a moderator, claimed, "
             "or changed while exporting)" if args.remove else ""))


def migrate(args: argparse.Namespace) -> None:
    """Bring data written by an earlier version to today's layout."""
    from tqdm import tqdm

    from moderation.migrate import migrate as migrate_store
    from moderation.redis_client import config_advice
    from moderation.store import CommentStore

    redis = _redis()
    for advice in config_advice(redis):
        print(f"warning: {advice}", file=sys.stderr)
    store = CommentStore(redis, _keys())
    with tqdm(total=int(redis.zcard(store.keys.all_comments)), unit="comment", disable=args.quiet,
              file=sys.stderr) as bar:
        report = migrate_store(store, progress=bar.update)
    print(f"{report.comments} comments: {report.histories_moved} histories moved into their comments, "
          f"{report.hashes_compacted} hashes compacted")


# -- dsa ---------------------------------------------------------------------------------------------


def dsa(args: argparse.Namespace) -> None:
    """Statements of reasons in the EU DSA Transparency Database's fields: export them, or submit them to it."""
    from datetime import UTC, datetime, timedelta

    from moderation.dsa import tdb
    from moderation.policy_store import PolicyStore

    def moment(text: str | None, default: datetime, end: bool) -> int:
        if not text:
            return int(default.timestamp() * 1000)
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            sys.exit(f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 time")
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        # A date names its whole day, so --to 2026-12-31 takes in that day's decisions too.
        return int(((when + timedelta(days=1)) if end and len(text) == 10 else when).timestamp() * 1000)

    start = moment(args.start, datetime(2000, 1, 1, tzinfo=UTC), False)
    end = moment(args.end, datetime.now(UTC) + timedelta(days=1), True)
    scope = [c.strip().upper() for c in os.environ.get("MODERATION_DSA_TERRITORIAL_SCOPE", "").split(",") if c.strip()]
    options: dict[str, Any] = {"puid_prefix": os.environ.get("MODERATION_DSA_PUID_PREFIX", ""),
                               "territorial_scope": scope or tdb.EEA}
    url, token = os.environ.get("MODERATION_DSA_TDB_URL", ""), os.environ.get("MODERATION_DSA_TDB_TOKEN", "")
    if args.action == "submit" and not 1 <= args.batch <= tdb.BATCH_LIMIT:
        sys.exit(f"--batch: the Database takes 1 to {tdb.BATCH_LIMIT} statements a request")
    if args.action == "submit" and not (url and token):
        # Checked before Redis is touched: an unconfigured site sends nothing, and hears why.
        sys.exit("nothing sent: set MODERATION_DSA_TDB_URL (the Database's statements endpoint) and "
                 "MODERATION_DSA_TDB_TOKEN (the platform's API token) to submit")
    redis, keys = _redis(), _keys()
    items = tdb.database_statements(redis, keys, PolicyStore(redis, keys).load(), start, end, **options)
    if args.action == "export":
        output = Path(args.output)
        if output.exists() and not args.force:
            sys.exit(f"{output} exists: nothing exported (--force writes over it)")
        count = 0
        with output.open("w", encoding="utf-8") as out:
            for item in items:
                out.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
        print(f"{count} statements of reasons written to {output}")
        return
    try:
        report = tdb.Submitter(redis, keys, url, token, batch=args.batch).submit(items)
    except tdb.SubmitBusy as busy:
        sys.exit(f"nothing sent: {busy}")
    except tdb.SubmitRefused as refused:
        sys.exit(f"stopped: {refused}; what was accepted before is remembered, a re-run resumes")
    print(json.dumps(report.as_dict(), indent=2))
    if not report.complete:
        sys.exit("not everything was sent: re-run `moderation dsa submit` to send the rest"
                 + (" (and fix the statements the Database called invalid)" if report.invalid else ""))


# -- learn -----------------------------------------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# `moderation learn`'s exit status when another run holds the lock: EX_TEMPFAIL, "try again later".
BUSY_EXIT = 75


def duration(text: str) -> float:
    """Seconds from '90s', '30m', '24h', '1d' or a plain number of seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 30m, 24h or 1d")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def _percent(value: Any) -> str:
    return "-" if value is None else f"{value:.1%}"


def _figure(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def describe_run(run: dict[str, Any]) -> str:
    """A learn run as the few lines an operator reads."""
    lines = [f"learn {run['at']}: {run['verdict']}"
             + (f" {run['candidate']}" if run.get("candidate") else "")
             + (f" (live was {run['live']})" if run.get("live") else "")]
    counts = run.get("decisions")
    if counts:
        def heads(part: dict[str, dict[str, int]]) -> str:
            return ", ".join(f"{h} {c['positive']}+/{c['negative']}-" for h, c in part.items())

        lines.append(f"  decisions: {run['training_decisions']} to learn from ({heads(counts['training'])}), "
                     f"{run['held_out_decisions']} held out ({heads(counts['held_out'])})")
    found = run.get("figures")
    if found:
        live, candidate = found["live"], found["candidate"]
        lines.append(f"  {'':<22}{'live':>10}{'candidate':>12}")
        for label, key, show in (("held-out spam AUC", "spam_auc", _figure),
                                 ("held-out abuse AUC", "abuse_auc", _figure),
                                 ("held-out mean AUC", "mean_auc", _figure),
                                 ("identity-term FPR", "identity_fpr", _percent),
                                 ("identity-term AUC", "identity_auc", _figure)):
            lines.append(f"  {label:<22}{show(live.get(key)):>10}{show(candidate.get(key)):>12}")
    lines += [f"  why: {reason}" for reason in run.get("why", [])]
    lines.append(f"  took {run.get('seconds', 0)} s on {run.get('worker', '?')}")
    return "\n".join(lines)


def learn(args: argparse.Namespace) -> None:
    """Adapt the shipped model to the site's decisions; promote it only when it is better (see moderation.learn)."""
    import logging
    import signal
    import threading

    from moderation import learn as learning
    from moderation.model.classifier import DEFAULT_MODEL_PATH, Classifier
    from moderation.policy_store import PolicyStore
    from moderation.store import CommentStore

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    redis, keys = _redis(), _keys()
    # Always the shipped model (or the one the API is configured with): adaptations never compound.
    base = Classifier.load(Path(os.environ.get("MODERATION_MODEL_PATH") or DEFAULT_MODEL_PATH))
    learner = learning.Learner(CommentStore(redis, keys), _registry(), base, PolicyStore(redis, keys).load,
                               actor=f"learn:{os.environ.get('USER', 'cli')}")
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stop.set()

    previous = {number: signal.signal(number, _stop) for number in (signal.SIGTERM, signal.SIGINT)}

    def show(run: dict[str, Any]) -> None:
        print(json.dumps(run) if args.json else describe_run(run), flush=True)

    try:
        if args.every is None:
            try:
                run = learning.learn_once(learner, redis, keys, stop)
            except learning.Busy:
                print("another learn run holds the lock (a `learn --every` worker, or another machine); try later",
                      file=sys.stderr)
                sys.exit(BUSY_EXIT)
            except learning.Interrupted:
                sys.exit("stopped before the run changed anything")
            show(run)
            if run["verdict"] == "failed":
                sys.exit(1)
            return
        logging.getLogger(__name__).info("learn worker %s: a run every %s s", learning.worker_name(), args.every)
        learning.run_every(args.every, learner, redis, keys, stop, on_run=show)
        logging.getLogger(__name__).info("learn worker %s stopped", learning.worker_name())
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        redis.close()


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

    p = commands.add_parser("authors", help="ban, suspend, premoderate, trust or clear an author; list; note")
    actions = p.add_subparsers(dest="action", required=True)
    for action, what in (("ban", "refuse every post"), ("suspend", "refuse posts until a time"),
                         ("premoderate", "hold every comment"), ("trust", "skip the new-author and doubt holds"),
                         ("clear", "back to normal (the record counts again from now)")):
        sp = actions.add_parser(action, help=what)
        sp.add_argument("email", help="the author's address (aliases follow), or coral:USER_ID for a Coral user")
        sp.add_argument("--reason", help="why (required but for clear); spam, abuse... or words")
        sp.add_argument("--message", help="what the author is told when a post is refused")
        sp.add_argument("--reject-pending", action="store_true", help="reject their pending comments too")
        if action == "suspend":
            sp.add_argument("--until", help="ISO 8601 time the suspension ends")
            sp.add_argument("--for", dest="duration", help="or how long: 7d, 12h, 30m")
    lister = actions.add_parser("list", help="the authors in a standing")
    lister.add_argument("--standing", default="banned", choices=("trusted", "premoderated", "suspended", "banned"))
    noter = actions.add_parser("note", help="a note on an author, for moderators")
    noter.add_argument("email")
    noter.add_argument("text")
    p.set_defaults(run=authors)

    p = commands.add_parser("api-keys", help="add, list or revoke keys for the Perspective and Akismet surfaces")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create a key and print it (shown once)")
    add.add_argument("name")
    add.add_argument("--akismet", action="store_true",
                     help="a 12-character key, the only length WordPress's Akismet plugin accepts")
    actions.add_parser("list", help="list keys by name")
    actions.add_parser("revoke", help="stop a key working at once").add_argument("name")
    p.set_defaults(run=api_keys)

    p = commands.add_parser("score", help="score a CSV or JSON Lines file of comments")
    p.add_argument("file")
    p.add_argument("--text-column", default="text")
    p.add_argument("--language", default="en",
                   help="the language of a comment too short to tell (ISO 639-1, default en); a row's own "
                        "`language` column comes first")
    p.add_argument("--model", help="model artifact (default: the shipped one)")
    p.add_argument("-o", "--output", help="output CSV (default: standard output)")
    p.set_defaults(run=score)

    p = commands.add_parser("train", help="train a model on the public data, or adapt one to the site's decisions")
    p.add_argument("--data", default=str(_default_data()), help="folder of the public data sets")
    p.add_argument("--out", help="artifact path (default: the shipped model's; with --decisions, "
                                 "$MODERATION_DATA_DIR/models/site-model.skops)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--decisions", action="store_true",
                   help="adapt --base to the site's decisions in Redis (REDIS_URL), holding a fifth out")
    p.add_argument("--base", help="with --decisions: the model to adapt (default: the shipped one)")
    p.set_defaults(run=train)

    p = commands.add_parser("models", help="register, shadow, compare, promote and roll back model versions")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("register", help="store an artifact in Redis").add_argument("artifact")
    actions.add_parser("list", help="registered versions")
    actions.add_parser("promote", help="make a version live on every server").add_argument("version")
    actions.add_parser("rollback", help="back to the previous live version")
    actions.add_parser("shadow", help="score new comments with a version too ('off' to stop)").add_argument(
        "version")
    cmp = actions.add_parser("compare", help="a version against the live one on held-out and shadow decisions")
    cmp.add_argument("version")
    cmp.add_argument("--against", default="live")
    p.set_defaults(run=models)

    p = commands.add_parser("learn", help="adapt the model to the site's decisions; promote it only when better")
    p.add_argument("--every", type=duration, metavar="INTERVAL",
                   help="run as a worker, once per INTERVAL (24h, 30m, 90s) across all workers, until SIGTERM")
    p.add_argument("--json", action="store_true", help="print each run's record as JSON")
    p.set_defaults(run=learn)

    p = commands.add_parser("export-decisions", help="moderators' decisions as labelled examples")
    p.add_argument("-o", "--output")
    p.add_argument("--format", choices=("csv", "jsonl"))
    p.set_defaults(run=export_decisions)

    p = commands.add_parser("import-decisions", help="load labelled decisions from another system (text,label)")
    p.add_argument("file")
    p.set_defaults(run=import_decisions)

    p = commands.add_parser("rescore", help="rescore stored comments with a model")
    p.add_argument("--model", default="live", help="version, artifact path, or 'live'")
    p.add_argument("--dry-run", action="store_true", help="change nothing; report what would move")
    p.add_argument("--job", help="job id shared by workers (default: rescore-<version>)")
    p.add_argument("--batch", type=int, default=2000)
    p.add_argument("--restart", action="store_true", help="start the job over instead of resuming")
    p.add_argument("--examples", type=int, default=10)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=rescore)

    p = commands.add_parser("retention", help="forget old network data, old machine rejections, delivered events")
    p.set_defaults(run=retention)

    p = commands.add_parser("export", help="write comments to compressed JSON Lines (optionally removing them)")
    p.add_argument("-o", "--output", required=True, help="the archive to write (.jsonl.gz)")
    p.add_argument("--article", help="only this article's comments")
    p.add_argument("--status", choices=("published", "pending", "rejected"), help="only comments in this status")
    p.add_argument("--older-than", type=float, metavar="DAYS", help="only comments made more than DAYS days ago")
    p.add_argument("--remove", action="store_true",
                   help="drop what was written from Redis (never a comment waiting for a moderator or claimed)")
    p.add_argument("--force", action="store_true", help="write over an existing file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=export)

    p = commands.add_parser("migrate", help="bring data written by an earlier version to today's layout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=migrate)

    p = commands.add_parser("dsa", help="statements of reasons for the EU DSA Transparency Database: export, submit")
    actions = p.add_subparsers(dest="action", required=True)
    for action, what in (("export", "write them as JSON Lines, one statement in the Database's fields a line"),
                         ("submit", "send the ones not sent yet to MODERATION_DSA_TDB_URL, in batches")):
        sp = actions.add_parser(action, help=what)
        sp.add_argument("--from", dest="start", metavar="DATE", help="comments posted from DATE (YYYY-MM-DD or ISO)")
        sp.add_argument("--to", dest="end", metavar="DATE", help="to DATE, that whole day included")
        if action == "export":
            sp.add_argument("-o", "--output", required=True, help="the JSON Lines file to write")
            sp.add_argument("--force", action="store_true", help="write over an existing file")
        else:
            sp.add_argument("--batch", type=int, default=100, help="statements a request (the API takes 100 at most)")
    p.set_defaults(run=dsa)

    from moderation.webhooks import add_cli as add_webhooks_cli

    add_webhooks_cli(commands)

    p = commands.add_parser("evaluate", help="evaluate a model on written, labelled and public data sets")
    p.add_argument("--model", help="model artifact (default: the shipped one)")
    p.add_argument("--data", default=str(_default_data()), help="folder of the public data sets ('' for none)")
    p.add_argument("--file", action="append", help="a labelled CSV or JSON Lines file to evaluate on (repeatable)")
    p.add_argument("--text-column", default="text")
    p.add_argument("--spam-column", default="spam", help="label column for the spam head (1/0, spam/ham, ...)")
    p.add_argument("--abuse-column", default="abuse", help="label column for the abuse head (1/0, true/false, ...)")
    p.add_argument("--language", default="en",
                   help="the site's language for --file rows (ISO 639-1): the hint and fallback of each row's "
                        "detected language, unless the row has a `language` cell")
    p.add_argument("--span-sample", type=int, default=2000,
                   help="tsd_train.csv texts used to choose the evidence-span parameters (0: all)")
    p.add_argument("--cross-source", metavar="JSON",
                   help="our leave-one-source-out numbers (default: the model metadata's metrics.cross_source)")
    p.add_argument("--no-reference", dest="reference", action="store_false",
                   help="skip the alt-profanity-check comparison")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of Markdown")
    p.set_defaults(run=evaluate)
    return top


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.run(args)

