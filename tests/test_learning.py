"""Learning from moderators: decisions as labels, model versions, shadow, promotion, rescoring."""

from __future__ import annotations

import csv
import io
import json
import shutil
import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from moderation.decisions import all_decisions, training_examples
from moderation.keys import Keys
from moderation.model.classifier import DEFAULT_MODEL_PATH
from moderation.policy import Policy
from moderation.policy_store import PolicyStore
from moderation.registry import LiveModels, ModelRegistry
from moderation.rescore import Rescorer
from moderation.store import CommentStore
from moderation_cli import main

SPAM = "WIN a FREE iPhone!!! Click http://bit.ly/free-prize now to claim your cash prize, text WIN to 80086"


def post(client: FlaskClient, body: str, n: int, article: str = "a1") -> str:
    response = client.post("/v1/comments", json={"article_id": article, "name": "R", "email": f"r{n}@example.com",
                                                 "body": body})
    assert response.status_code == 201
    comment_id: str = response.get_json()["id"]
    return comment_id


def decide(client: FlaskClient, headers: dict[str, str], comment_id: str, action: str, reason: str = "") -> None:
    body = {"action": action, **({"reason": reason} if reason else {})}
    assert client.post(f"/v1/review/{comment_id}/decision", json=body, headers=headers).status_code == 200


@pytest.fixture
def registry(redis: Redis, tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(redis, Keys(), tmp_path / "cache")


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    target = tmp_path / "artifact" / DEFAULT_MODEL_PATH.name
    target.parent.mkdir()
    shutil.copy(DEFAULT_MODEL_PATH, target)
    shutil.copy(DEFAULT_MODEL_PATH.with_suffix(".json"), target.with_suffix(".json"))
    return target


def test_decisions_become_labels_and_export(client: FlaskClient, moderator: dict[str, str], redis: Redis,
                                            redis_url: str, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    spam = post(client, SPAM, 1)
    rude = post(client, "You are all idiots and I hope you rot.", 2)
    fine = post(client, "Thanks for a balanced piece on the housing plan.", 3)
    other = post(client, "Completely unrelated: my cat is orange.", 4)
    decide(client, moderator, spam, "reject", "spam")
    decide(client, moderator, rude, "reject", "abuse")
    decide(client, moderator, fine, "approve")
    decide(client, moderator, other, "reject", "off_topic")
    decisions = all_decisions(CommentStore(redis))
    labels = {d.comment_id: d.label for d in decisions}
    assert labels == {spam: "spam", rude: "abuse", fine: "ok", other: "other"}
    # What `train --decisions` learns: a rejection for spam is a spam example (and, the moderator having
    # named spam as the fault, not an abusive one); a rejection for another reason teaches neither head.
    heads = {d.comment_id: (d.spam, d.abuse) for d in decisions}
    assert heads == {spam: (1, 0), rude: (0, 1), fine: (0, 0), other: (None, None)}
    learnt = {e.text: (e.spam, e.abuse) for e in training_examples(decisions)}
    assert learnt == {d.text: heads[d.comment_id] for d in decisions if d.trainable and not d.held_out}

    monkeypatch.setenv("REDIS_URL", redis_url)
    main(["export-decisions", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["comment_id"]: r["label"] for r in rows} == labels
    assert all("@" not in value for row in rows for value in row.values())


def test_import_is_all_or_nothing(tmp_path: Path, redis: Redis, redis_url: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nfine words,ok\n,spam\nnasty,hate\n")
    with pytest.raises(SystemExit, match=r"line 3: text is empty.*line 4: label must be"):
        main(["import-decisions", str(bad)])
    assert all_decisions(CommentStore(redis)) == []
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(json.dumps({"text": f"text {n}", "label": "spam" if n % 2 else "ok",
                                         "article_id": "x"}) for n in range(10)))
    main(["import-decisions", str(good)])
    imported = all_decisions(CommentStore(redis))
    assert len(imported) == 10 and {d.source for d in imported} == {"imported"}
    assert sum(d.label == "spam" for d in imported) == 5


def test_imported_decisions_keep_one_head_and_the_email_domain_only(tmp_path: Path, redis: Redis, redis_url: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    rows = tmp_path / "rows.csv"
    rows.write_text("text,label,name,email,website\n"
                    "Heated but fair.,not_abuse,Ann,ann@example.org,\n"
                    "Visit my blog,spam,cheap flights,x123@Mailinator.com,https://cheap-flights.example/\n")
    main(["import-decisions", str(rows)])
    fair, blog = all_decisions(CommentStore(redis))
    assert (fair.spam, fair.abuse, fair.label, fair.trainable) == (None, 0, "not_abuse", True)
    assert (blog.spam, blog.abuse, blog.email_domain) == (1, 0, "mailinator.com")
    assert blog.author.name == "cheap flights" and blog.author.website == "https://cheap-flights.example/"
    assert "x123" not in str(redis.xrange(Keys().imported_decisions))  # the address itself is not kept


def test_importing_a_file_again_holds_out_the_same_decisions(tmp_path: Path, redis: Redis, redis_url: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    rows = tmp_path / "rows.csv"
    rows.write_text("text,label,comment_id\n" + "".join(f"comment number {n},ok,\n" for n in range(60))
                    + "kept under its own id,spam,coral-7f3a\n")

    def held_out() -> set[str]:
        return {d.text for d in all_decisions(CommentStore(redis)) if d.held_out}

    main(["import-decisions", str(rows)])
    first = held_out()
    redis.flushdb()
    main(["import-decisions", str(rows)])
    assert held_out() == first and 0 < len(first) < 61
    assert "coral-7f3a" in {d.comment_id for d in all_decisions(CommentStore(redis))}
    assert len(training_examples(all_decisions(CommentStore(redis)))) == 61 - len(first)


def test_register_promote_rollback_reach_live_models(registry: ModelRegistry, shipped_copy: Path, model) -> None:  # type: ignore[no-untyped-def]
    version = registry.register(shipped_copy)
    assert version == model.version
    assert [v["version"] for v in registry.versions()] == [version]
    live = LiveModels(registry, model, check_every=0)
    registry.promote(version, "tester")
    assert live.current().live.version == version and registry.pointers() == (version, None)
    registry.set_shadow(version, "tester")
    assert live.current().shadow is None  # a model does not shadow itself
    assert registry.rollback("tester") is None
    assert registry.pointers()[0] is None
    assert registry.fetch(version).read_bytes() == shipped_copy.read_bytes()


def test_rescore_moves_machine_decisions_only_and_keeps_human_ones(
    app: Flask, client: FlaskClient, moderator: dict[str, str], redis: Redis, model  # type: ignore[no-untyped-def]
) -> None:
    PolicyStore(redis, Keys()).update({"hold_new_authors": False}, "test")
    texts = [f"A calm and thoughtful remark, number {word}." for word in ("one", "two", "three", "four", "five")]
    ids = [post(client, text, n) for n, text in enumerate(texts)]
    assert {CommentStore(redis).get(i)["status"] for i in ids} == {"published"}  # type: ignore[index]
    decide(client, moderator, ids[0], "approve")  # a human decision: rescoring must never change it
    store = CommentStore(redis)
    strict = Policy(spam_hold=0.0, abuse_hold=0.0, rescore_unpublish=True)

    dry = Rescorer(store, model, strict, batch=2).run(dry_run=True)
    assert dry.moves == {"published>pending": 4}
    assert {store.get(i)["status"] for i in ids} == {"published"}  # type: ignore[index]

    report = Rescorer(store, model, strict, batch=2).run()
    assert report.rescored == 5 and report.human_kept == 1 and report.moves == {"published>pending": 4}
    assert store.get(ids[0])["status"] == "published"  # type: ignore[index]
    assert all(store.get(i)["status"] == "pending" for i in ids[1:])  # type: ignore[index]
    events = [fields["event"] for fields in store.history(ids[1])]
    assert events[-1] == "rescored"
    page = client.get("/v1/articles/a1/comments").get_json()["comments"]
    assert [c["id"] for c in page] == [ids[0]]


def test_rescore_without_unpublish_leaves_published_comments(client: FlaskClient, redis: Redis, model) -> None:  # type: ignore[no-untyped-def]
    PolicyStore(redis, Keys()).update({"hold_new_authors": False}, "test")
    comment_id = post(client, "A calm remark on the plan.", 1)
    report = Rescorer(CommentStore(redis), model, Policy(spam_hold=0.0, abuse_hold=0.0)).run()
    assert report.moves == {} and CommentStore(redis).get(comment_id)["status"] == "published"  # type: ignore[index]


def test_decision_during_rescore_wins(client: FlaskClient, moderator: dict[str, str], redis: Redis, model) -> None:  # type: ignore[no-untyped-def]
    comment_id = post(client, SPAM, 1)
    store = CommentStore(redis)
    worker = Rescorer(store, model, Policy(spam_hold=1.0, spam_reject=1.0, abuse_hold=1.0, abuse_reject=1.0,
                                           hold_new_authors=False), batch=10)
    read = worker._read  # a moderator decides between the worker's read and its write

    def read_then_moderator_decides(ids: list[str]) -> list[dict[str, str]]:
        records = read(ids)
        decide(client, moderator, comment_id, "reject", "spam")
        return records

    worker._read = read_then_moderator_decides  # type: ignore[method-assign]
    report = worker.run()
    assert report.raced == 1
    record = store.get(comment_id) or {}
    assert (record["status"], record["decision"]) == ("rejected", "reject")


def test_interrupted_rescore_resumes_and_workers_share_a_job(client: FlaskClient, redis: Redis, model) -> None:  # type: ignore[no-untyped-def]
    for n in range(40):
        post(client, f"Comment {n}: " + " ".join(["calm"] * (n % 5 + 1)) + f" on topic {n * 31}", n)
    store = CommentStore(redis)
    policy = Policy(hold_new_authors=False)

    first = Rescorer(store, model, policy, job="j", batch=5)

    def crash(*_: object) -> None:
        raise KeyboardInterrupt  # the worker dies after taking a range, before writing it

    first._write_args = crash  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        first.run()
    leases = f"{store.keys.prefix}job:j:leases"
    assert redis.zcard(leases) == 1
    # Its lease runs out; the next workers take the range back, and nothing is done twice.
    redis.zadd(leases, {member: 0 for member in redis.zrange(leases, 0, -1)})
    totals: list[int] = []

    def work() -> None:
        totals.append(Rescorer(store, model, policy, job="j", batch=5).run().rescored)

    workers = [threading.Thread(target=work) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(totals) == 40
    assert Rescorer(store, model, policy, job="j").progress()["rescored"] == 40
