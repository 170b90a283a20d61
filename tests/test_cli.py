"""The `moderation` command: moderators and scoring files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from redis import Redis

from moderation.keys import Keys
from moderation.moderators import Moderators
from moderation_cli import main


def test_moderators_add_list_revoke(redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    main(["moderators", "add", "dana", "--role", "admin"])
    token = capsys.readouterr().out.strip()
    assert token.startswith("mod_")
    assert token not in str(redis.hgetall(Keys().moderators))  # only the hash is stored
    who = Moderators(redis).authenticate(token)
    assert who is not None and (who.name, who.role) == ("dana", "admin")
    main(["moderators", "list"])
    assert capsys.readouterr().out.startswith("dana\tadmin\t")
    with pytest.raises(SystemExit):
        main(["moderators", "add", "dana"])
    main(["moderators", "revoke", "dana"])
    assert Moderators(redis).authenticate(token) is None


def test_score_csv_keeps_columns_and_adds_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "comments.csv"
    source.write_text('id,text\n1,"Thanks, a thoughtful article about the budget."\n'
                      '2,"WIN a FREE iPhone!!! Click http://bit.ly/x now, text WIN to 80086"\n')
    main(["score", str(source)])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert set(rows[0]) == {"id", "text", "language", "spam", "abuse", "decision", "reasons"}
    assert [r["language"] for r in rows] == ["en", "en"]
    assert rows[0]["decision"] == "published"
    assert float(rows[1]["spam"]) > float(rows[0]["spam"]) and rows[1]["decision"] != "published"
    assert "spam" in rows[1]["reasons"]


def test_score_gives_each_rows_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "comments.jsonl"
    german = "Ich finde, der Stadtrat hat mit dem neuen Haushalt die richtige Entscheidung getroffen."
    rows = [{"text": german}, {"text": "Gut gemacht!"}, {"text": "Bravo !", "language": "fr-CA"},
            {"text": "Obrigado", "language": "not a language"}]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    main(["score", str(source), "--language", "de"])
    out = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(out[0]) == ["text", "language", "spam", "abuse", "decision", "reasons"]
    # Detected, else the row's own language, else --language.
    assert [row["language"] for row in out] == ["de", "de", "fr", "de"]
    with pytest.raises(SystemExit, match="--language"):
        main(["score", str(source), "--language", "xx"])


def test_score_jsonl_to_file(tmp_path: Path) -> None:
    source = tmp_path / "comments.jsonl"
    source.write_text(json.dumps({"body": "Good piece.", "n": 1}) + "\n")
    out = tmp_path / "scored.csv"
    main(["score", str(source), "--text-column", "body", "-o", str(out)])
    with out.open() as handle:
        (row,) = csv.DictReader(handle)
    assert row["n"] == "1" and 0 <= float(row["abuse"]) <= 1


def test_score_names_a_missing_column(tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    source.write_text("comment\nhello\n")
    with pytest.raises(SystemExit, match="text-column"):
        main(["score", str(source)])


def test_the_api_and_the_score_command_give_the_same_scores(client: FlaskClient, redis: Redis, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    texts = ["Thanks, a thoughtful article about the budget.", "You are a nitwit and a f*cking disgrace.",
             "Check out my channel http://bit.ly/x and subscribe!!"]
    ids = []
    for n, text in enumerate(texts):
        response = client.post("/v1/comments", json={"article_id": "a1", "name": "R", "email": f"r{n}@example.com",
                                                      "body": text})
        assert response.status_code == 201
        ids.append(response.get_json()["id"])
    source = tmp_path / "comments.csv"
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows([["text"], *([text] for text in texts)])
    main(["score", str(source)])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    for comment_id, row in zip(ids, rows, strict=True):
        spam, abuse = redis.hmget(Keys().comment(comment_id), "spam", "abuse")
        assert float(spam) == pytest.approx(float(row["spam"]), abs=1e-4)
        assert float(abuse) == pytest.approx(float(row["abuse"]), abs=1e-4)


def test_api_keys_add_list_revoke(redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    from moderation.api_keys import ApiKeys

    monkeypatch.setenv("REDIS_URL", redis_url)
    main(["api-keys", "add", "coral-prod"])
    key = capsys.readouterr().out.strip()
    assert key.startswith("mk_")
    assert key not in str(redis.hgetall(Keys().api_keys))  # only the hash is stored
    found = ApiKeys(redis).authenticate(key)
    assert found is not None and found.name == "coral-prod"
    main(["api-keys", "list"])
    assert capsys.readouterr().out.startswith("coral-prod\t")
    with pytest.raises(SystemExit, match="exists"):
        main(["api-keys", "add", "coral-prod"])
    with pytest.raises(SystemExit, match="letters"):
        main(["api-keys", "add", "bad name!"])
    main(["api-keys", "revoke", "coral-prod"])
    assert ApiKeys(redis).authenticate(key) is None
    assert redis.hlen(Keys().api_keys) == 0 and redis.hlen(Keys().api_key_names) == 0
    with pytest.raises(SystemExit, match="no API key"):
        main(["api-keys", "revoke", "coral-prod"])


def test_api_keys_add_akismet_shaped_key(redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """WordPress's Akismet plugin refuses any key that is not 12 characters long, before sending it anywhere."""
    from moderation.api_keys import ApiKeys

    monkeypatch.setenv("REDIS_URL", redis_url)
    main(["api-keys", "add", "wordpress", "--akismet"])
    key = capsys.readouterr().out.strip()
    assert len(key) == 12 and key.isalnum() and key == key.lower()
    found = ApiKeys(redis).authenticate(key)
    assert found is not None and found.name == "wordpress"
