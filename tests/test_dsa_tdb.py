"""Statements of reasons in the EU DSA Transparency Database's fields: export, and submission to a local receiver.

Every statement we write is checked against tests/dsa_tdb_schema.py, the schema transcribed from the
Database's API documentation; submission is tested against a real HTTP server on loopback that checks
the Bearer token and the batch's shape as the documentation describes them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from moderation.comments import NewComment, Origin, id_prefix, iso_of_ms, new_comment_id
from moderation.dsa import tdb
from moderation.dsa.statement import statement_for
from moderation.keys import Keys
from moderation.policy import Assessment, Decision, Reason
from moderation.policy_store import PolicyStore
from moderation.store import CommentStore
from moderation_cli import main as cli
from tests.dsa_tdb_schema import BATCH_MAX, CATEGORY, validate, validate_batch
from tests.loopback import serving_posts

TOKEN = "X|ybqkCFX7ZkIFoLxtI0VAk1JBzMR9jVk4c4EU"  # the documentation's example token, as a token looks
CIVIL = "I disagree with the mayor, but the article explains the housing plan fairly."
TERMS = [{"code": "civility", "title": "Be civil to one another", "url": "https://news.example/terms#civility"},
         {"code": "privacy", "title": "No one's private details", "url": "https://news.example/terms#privacy"}]
EVERYTHING = (0, 2**47)


# -- a local stand-in for the Database's multiple endpoint ------------------------------------------


@dataclass
class Database:
    """Answers like the documentation says the Database does; records what it created."""

    base: str
    answers: list[int] = field(default_factory=list)  # statuses to give first (500, 401...), then 201
    requests: list[dict[str, Any]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # puids, in the order they were created
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"{self.base}/api/v1/statements"

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if path != "/api/v1/statements" or headers.get("Content-Type") != "application/json" \
                    or headers.get("Accept") != "application/json":
                self.problems.append(f"{path} {headers}")
                return 404, {"message": "not found"}
            if headers.get("Authorization") != f"Bearer {TOKEN}":
                return 401, {"message": "Unauthenticated."}
            body = json.loads(raw)
            self.requests.append(body)
            if self.answers:
                status = self.answers.pop(0)
                return status, {"message": "Server Error"}
            shape = validate_batch(body)
            if shape:
                self.problems.extend(shape)
                errors = {p.split(":")[0]: [p] for p in shape}
                return 422, {"message": shape[0], "errors": errors}
            puids = [s["puid"] for s in body["statements"]]
            existing = [p for p in puids if p in self.created]
            if existing:
                message = "The platform identifier(s) are not all unique within this call."
                return 422, {"message": message, "errors": {"puid": [message], "existing_puids": existing}}
            self.created.extend(puids)
            return 201, {"statements": [{**s, "uuid": f"u-{s['puid']}"} for s in body["statements"]]}


@pytest.fixture
def database() -> Iterator[Database]:
    holder: list[Database] = []

    def answer(path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
        status, payload = holder[0].answer(path, headers, raw)
        return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()

    with serving_posts(answer) as base:
        holder.append(Database(base))
        yield holder[0]


# -- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def store(redis: Redis) -> CommentStore:
    PolicyStore(redis, Keys()).update({"terms": TERMS, "reason_terms": {"abuse": "civility"}}, "test")
    return CommentStore(redis, Keys())


def add(store: CommentStore, decision: Decision, body: str = "Ein ganz gewöhnlicher Kommentar zum Artikel über "
        "die Wohnungspolitik der Stadt, den die Redaktion lesen soll.", at_ms: int | None = None) -> str:
    comment_id, created_at = new_comment_id()
    if at_ms is not None:
        # A comment posted at a chosen moment: that moment's id prefix, this id's random part.
        comment_id, created_at = id_prefix(at_ms) + comment_id[10:], iso_of_ms(at_ms)
    comment = NewComment(comment_id, created_at, "a1", None, "Ann Private", "ann@example.com", "k1", body,
                         Origin("192.0.2.1", "UA", ""))
    return store.submit(comment, Assessment(0.1, 0.9), decision, "test-model").id


def policy(redis: Redis) -> Any:
    return PolicyStore(redis, Keys()).load()


def exported(redis: Redis, start: int = EVERYTHING[0], end: int = EVERYTHING[1], **options: Any) -> list[dict]:
    return list(tdb.database_statements(redis, Keys(), policy(redis), start, end, **options))


def submitter(redis: Redis, database: Database, **options: Any) -> tdb.Submitter:
    return tdb.Submitter(redis, Keys(), database.url, TOKEN, sleep=lambda _: None, **options)


# -- the schema itself -----------------------------------------------------------------------------


def test_the_transcribed_schema_refuses_what_the_documentation_refuses() -> None:
    good = {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"], "decision_facts": "facts",
            "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT", "illegal_content_legal_ground": "a law",
            "illegal_content_explanation": "why", "content_type": ["CONTENT_TYPE_TEXT"],
            "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "territorial_scope": ["DE"],
            "content_date": "2026-01-02", "application_date": "2026-01-03", "source_type": "SOURCE_ARTICLE_16",
            "automated_detection": "No", "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED", "puid": "TK421"}
    assert validate(good) == []
    broken = [
        {k: v for k, v in good.items() if k != "illegal_content_legal_ground"},
        {**good, "category": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"},  # v1's, gone in v2
        {**good, "automated_decision": "No"},  # v1's Yes/No
        {**good, "puid": "has space"},
        {**good, "application_date": "2019-12-31"},
        {**good, "content_date": "2026-1-2"},
        {**good, "territorial_scope": ["US"]},
        {**good, "decision_facts": "x" * 5001},
        {k: v for k, v in good.items() if k != "decision_visibility"},
        {**good, "source_identity_typo": "x"},
    ]
    for statement in broken:
        assert validate(statement), statement
    assert validate_batch({"statements": [good] * 2})  # one puid twice
    assert validate_batch({"statements": [{**good, "puid": f"p{i}"} for i in range(BATCH_MAX + 1)]})
    assert not validate_batch({"statements": [{**good, "puid": f"p{i}"} for i in range(BATCH_MAX)]})


def test_categories_are_the_current_schema_s() -> None:
    assert tdb.CATEGORIES == CATEGORY
    assert tdb.database_category("illegal_or_harmful_speech") == "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    assert tdb.database_category("data_protection_and_privacy_violations") in CATEGORY
    # The first schema's name for a breach of the terms went out with v2; what replaced it goes instead.
    assert tdb.database_category("scope_of_platform_service") == "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    assert tdb.database_category("no_such_category") == "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"


# -- the fields of each kind of statement ----------------------------------------------------------


def test_every_kind_of_restriction_exports_in_the_database_s_fields(
    client: FlaskClient, moderator: dict[str, str], redis: Redis, store: CommentStore,
) -> None:
    PolicyStore(redis, Keys()).update({"hold_new_authors": False}, "test")
    # A moderator removes a published comment (abuse, the site's civility term).
    posted = client.post("/v1/comments", json={"article_id": "a1", "name": "Reader", "email": "r@example.com",
                                               "body": CIVIL})
    assert posted.status_code == 201 and posted.get_json()["status"] == "published"
    removed = posted.get_json()["id"]
    answer = client.post(f"/v1/review/{removed}/decision", json={"action": "reject", "reason": "abuse"},
                         headers=moderator)
    assert answer.status_code == 200, answer.get_json()
    # The automatic check rejects one when it is posted (a blocked term): never published.
    automatic = add(store, Decision("rejected", (Reason("blocked_term"),)))
    # Spam is exempt from statements (Art. 17(2)): none, so nothing to export.
    add(store, Decision("rejected", (Reason("spam", 0.99),)))
    # A reader reports one, a moderator rejects it: a notification other than an Art. 16 notice.
    reported = add(store, Decision("published"))
    store.report(reported, "abuse", "")
    store.decide(reported, "alice", "reject", "personal_data", None, None)
    # A trusted flagger's notice, decided illegal (the fields the notices routes write).
    noticed = add(store, Decision("published"))
    store.decide(noticed, "alice", "reject", "other", None, None)
    redis.hset(Keys().comment(noticed), mapping={
        "notice_id": "n1", "notice_trusted": "1", "notice_legality": "illegal",
        "notice_ground": "§ 130 StGB (Volksverhetzung)", "notice_explanation": "Incites hatred against a group.",
        "notice_category": "illegal_or_harmful_speech"})
    # One not rejected at all: no statement.
    add(store, Decision("published"))

    rows = {row["puid"].split("-")[0]: row for row in exported(redis)}
    assert set(rows) == {removed, automatic, reported, noticed}
    for row in rows.values():
        assert validate(row) == [], row

    row = rows[removed]
    assert row["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert row["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert row["incompatible_content_ground"] == "civility: Be civil to one another"
    assert row["decision_ground_reference_url"] == "https://news.example/terms#civility"
    assert row["category"] == "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    assert (row["automated_detection"], row["automated_decision"]) == ("No", "AUTOMATED_DECISION_NOT_AUTOMATED")
    assert row["source_type"] == "SOURCE_VOLUNTARY"
    assert row["content_type"] == ["CONTENT_TYPE_TEXT"]
    assert row["content_language"] == "EN"
    assert len(row["territorial_scope"]) == 30 and {"DE", "NO", "IS", "LI"} <= set(row["territorial_scope"])
    record = store.get(removed) or {}
    assert row["content_date"] == record["created_at"][:10]
    assert row["application_date"] == record["decided_at"][:10]
    assert row["puid"] == f"{removed}-" + "".join(c for c in record["decided_at"] if c.isdigit())

    row = rows[automatic]
    assert row["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert (row["automated_detection"], row["automated_decision"]) == ("Yes", "AUTOMATED_DECISION_FULLY")
    assert row["content_language"] == "DE"

    row = rows[reported]
    assert row["source_type"] == "SOURCE_TYPE_OTHER_NOTIFICATION"
    assert row["category"] == "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"

    row = rows[noticed]
    assert row["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert row["illegal_content_legal_ground"] == "§ 130 StGB (Volksverhetzung)"
    assert row["illegal_content_explanation"] == "Incites hatred against a group."
    assert row["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    assert "incompatible_content_ground" not in row

    # No personal data goes to the Database (Art. 24(5)): not the name, the email, the text, the address.
    text = json.dumps(list(rows.values()), ensure_ascii=False)
    for private in ("Ann Private", "ann@example.com", "r@example.com", "Reader", "192.0.2.1", "Wohnungspolitik",
                    "housing plan"):
        assert private not in text


def test_long_texts_are_cut_to_the_documented_limits_and_a_missing_explanation_is_filled(
    redis: Redis, store: CommentStore,
) -> None:
    noticed = add(store, Decision("published"))
    store.decide(noticed, "alice", "reject", "other", None, None)
    redis.hset(Keys().comment(noticed), mapping={"notice_id": "n1", "notice_legality": "illegal",
                                                 "notice_ground": "L" * 900, "notice_explanation": ""})
    [row] = exported(redis)
    assert validate(row) == []
    assert len(row["illegal_content_legal_ground"]) == 500
    assert row["illegal_content_explanation"]  # required: the facts stand in for an empty explanation
    assert row["source_type"] == "SOURCE_ARTICLE_16"


def test_a_second_decision_on_one_comment_gets_its_own_puid(redis: Redis, store: CommentStore) -> None:
    comment = add(store, Decision("published"))
    store.decide(comment, "alice", "reject", "abuse", None, None)
    first = exported(redis)[0]["puid"]
    # Reversed on appeal, removed again later: a new statement, which must not re-use the first's puid.
    redis.hset(Keys().comment(comment), "decided_at", "2027-01-02T03:04:05.006Z")
    second = exported(redis)[0]["puid"]
    assert first != second and second == f"{comment}-20270102030405006"
    statement = statement_for(store.get(comment) or {}, policy(redis))
    assert statement is not None
    assert tdb.puid_for(statement, "site_") == f"site_{second}"
    with pytest.raises(ValueError, match="puid"):
        tdb.puid_for(statement, "site one/")


def test_the_range_takes_the_comments_posted_in_it_oldest_first_across_read_batches(
    redis: Redis, store: CommentStore,
) -> None:
    day = 86_400_000
    start = 1_796_000_000_000  # 2026-11-29
    ids = [add(store, Decision("rejected", (Reason("blocked_term"),)), at_ms=start + i * day) for i in range(7)]
    add(store, Decision("published"), at_ms=start + 3 * day)  # not restricted: never read out
    records = list(tdb.restricted_records(redis, Keys(), *EVERYTHING, batch=3))
    assert [r["id"] for r in records] == ids
    # [from, to): the comment posted at `to` belongs to the next range.
    inside = list(tdb.restricted_records(redis, Keys(), start + 2 * day, start + 5 * day, batch=2))
    assert [r["id"] for r in inside] == ids[2:5]
    assert list(tdb.restricted_records(redis, Keys(), 0, start)) == []
    assert [r["content_date"] for r in exported(redis, start + 6 * day, start + 7 * day)] == ["2026-12-06"]


# -- the command line --------------------------------------------------------------------------------


def test_cli_export_writes_json_lines_that_validate(
    redis: Redis, redis_url: str, store: CommentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    for _ in range(3):
        add(store, Decision("rejected", (Reason("blocked_term"),)))
    out = tmp_path / "sor.jsonl"
    cli(["dsa", "export", "--from", "2000-01-01", "--to", "2099-12-31", "-o", str(out)])
    assert capsys.readouterr().out.strip() == f"3 statements of reasons written to {out}"
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 3 and all(validate(line) == [] for line in lines)
    with pytest.raises(SystemExit, match="exists"):
        cli(["dsa", "export", "-o", str(out)])
    cli(["dsa", "export", "--to", "2001-01-01", "-o", str(out), "--force"])
    assert out.read_text() == ""


def test_cli_submit_sends_nothing_unless_both_endpoint_and_token_are_set(
    redis: Redis, redis_url: str, store: CommentStore, database: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    add(store, Decision("rejected", (Reason("blocked_term"),)))
    for url, token in (("", ""), (database.url, ""), ("", TOKEN)):
        monkeypatch.setenv("MODERATION_DSA_TDB_URL", url)
        monkeypatch.setenv("MODERATION_DSA_TDB_TOKEN", token)
        with pytest.raises(SystemExit, match="nothing sent: set MODERATION_DSA_TDB_URL"):
            cli(["dsa", "submit"])
    with pytest.raises(SystemExit, match="1 to 100"):
        cli(["dsa", "submit", "--batch", "101"])
    assert database.requests == [] and redis.scard(Keys().dsa_tdb_sent) == 0


def test_cli_submit_sends_in_batches_of_100_and_a_rerun_sends_none_twice(
    redis: Redis, redis_url: str, store: CommentStore, database: Database, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("MODERATION_DSA_TDB_URL", database.url)
    monkeypatch.setenv("MODERATION_DSA_TDB_TOKEN", TOKEN)
    ids = [add(store, Decision("rejected", (Reason("blocked_term"),)), body=f"comment {i}") for i in range(205)]
    cli(["dsa", "submit"])
    report = json.loads(capsys.readouterr().out)
    assert report == {"sent": 205, "already_sent": 0, "invalid": {}, "failed_batches": 0, "requests": 3}
    assert [len(body["statements"]) for body in database.requests] == [100, 100, 5]
    assert database.problems == []
    assert [p.split("-")[0] for p in database.created] == ids
    cli(["dsa", "submit"])
    assert json.loads(capsys.readouterr().out)["already_sent"] == 205
    assert len(database.requests) == 3  # nothing new: no request at all
    add(store, Decision("rejected", (Reason("blocked_term"),)))
    cli(["dsa", "submit", "--batch", "50"])
    assert json.loads(capsys.readouterr().out)["sent"] == 1
    assert len(database.created) == len(set(database.created)) == 206
    # The token never shows in what the command prints.
    assert TOKEN not in capsys.readouterr().out


def test_cli_submit_with_a_wrong_token_stops_non_zero(
    redis: Redis, redis_url: str, store: CommentStore, database: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("MODERATION_DSA_TDB_URL", database.url)
    monkeypatch.setenv("MODERATION_DSA_TDB_TOKEN", "X|not-the-token")
    add(store, Decision("rejected", (Reason("blocked_term"),)))
    with pytest.raises(SystemExit, match="refused the token") as stopped:
        cli(["dsa", "submit"])
    assert "not-the-token" not in str(stopped.value)
    assert database.created == [] and redis.scard(Keys().dsa_tdb_sent) == 0


# -- failures and resumption -------------------------------------------------------------------------


def test_a_batch_answered_500_is_sent_again_and_each_statement_is_created_once(
    redis: Redis, store: CommentStore, database: Database,
) -> None:
    for _ in range(150):
        add(store, Decision("rejected", (Reason("blocked_term"),)))
    database.answers = [500]
    report = submitter(redis, database).submit(exported(redis))
    assert report.complete and report.sent == 150 and report.attempts == 3
    assert len(database.created) == len(set(database.created)) == 150
    assert [len(b["statements"]) for b in database.requests] == [100, 100, 50]  # the first one twice


def test_a_batch_that_keeps_failing_stops_the_run_and_is_left_for_the_next(
    redis: Redis, store: CommentStore, database: Database,
) -> None:
    for _ in range(5):
        add(store, Decision("rejected", (Reason("blocked_term"),)))
    database.answers = [500, 503, 502]
    first = submitter(redis, database, attempts=3, batch=2).submit(exported(redis))
    # Three tries of the first batch, then no more requests while the Database is failing.
    assert (first.sent, first.failed_batches, first.complete, first.attempts) == (0, 1, False, 3)
    assert not redis.exists(Keys().dsa_tdb_lock)
    second = submitter(redis, database, batch=2).submit(exported(redis))
    assert (second.sent, second.already_sent, second.complete) == (5, 0, True)
    assert len(database.created) == len(set(database.created)) == 5


def test_a_batch_the_database_already_holds_is_taken_as_sent(
    redis: Redis, store: CommentStore, database: Database,
) -> None:
    for _ in range(4):
        add(store, Decision("rejected", (Reason("blocked_term"),)))
    rows = exported(redis)
    # A run that died after the Database's 201 and before remembering it: the Database holds two already.
    database.created.extend(r["puid"] for r in rows[:2])
    report = submitter(redis, database).submit(rows)
    assert (report.sent, report.already_sent) == (2, 2)
    assert len(database.created) == len(set(database.created)) == 4
    assert redis.scard(Keys().dsa_tdb_sent) == 4


def test_statements_the_database_calls_invalid_are_reported_and_the_rest_sent(
    redis: Redis, store: CommentStore, database: Database,
) -> None:
    for _ in range(3):
        add(store, Decision("rejected", (Reason("blocked_term"),)))
    rows = exported(redis)
    rows[1] = {**rows[1], "category": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"}
    report = submitter(redis, database).submit(rows)
    assert report.sent == 2 and list(report.invalid) == [rows[1]["puid"]] and not report.complete
    assert rows[1]["puid"] not in database.created
    database.problems.clear()


def test_two_runs_at_once_cannot_both_send(redis: Redis, store: CommentStore, database: Database) -> None:
    add(store, Decision("rejected", (Reason("blocked_term"),)))
    redis.set(Keys().dsa_tdb_lock, "another-run", ex=60)
    with pytest.raises(tdb.SubmitBusy):
        submitter(redis, database).submit(exported(redis))
    assert database.requests == []


def test_notices_take_every_category_the_database_takes() -> None:
    from typing import get_args

    from moderation.schemas import NoticeCategory

    taken = {f"STATEMENT_CATEGORY_{name.upper()}" for name in get_args(NoticeCategory)}
    assert taken >= tdb.CATEGORIES
    assert taken - tdb.CATEGORIES == set(tdb.RENAMED_CATEGORIES)
