"""The hand-written reader comments the spam head trains on: well formed, accepted by the API, apart from evaluation."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from moderation.model import evalsets, readers, written
from moderation.model.readers import FIELDS, MalformedLine, ReaderComment
from moderation.schemas import CommentIn
from tests.conftest import ROOT

FILE = ROOT / "moderation" / "model" / "readers" / readers.FILE
MINIMUM = 600


def normal_form(text: str) -> str:
    """Case-folded text with every run of whitespace made one space."""
    return " ".join(text.casefold().split())


@pytest.fixture(scope="module")
def comments() -> list[ReaderComment]:
    return readers.load()


def evaluation_texts() -> Iterator[str]:
    """Every text the evaluation sets hold: the written sets' bodies and evalsets' texts, templates filled."""
    for name in written.SETS:
        yield from (comment.body for comment in written.load(name))
    yield from evalsets.NEWS_COMMENTS
    yield from evalsets.SPAM_COMMENTS
    yield from evalsets.ABUSIVE_COMMENTS
    for template in (*evalsets.NEUTRAL_TEMPLATES, *evalsets.ABUSIVE_TEMPLATES):
        yield template
        yield from (evalsets.fill(template, term) for term in evalsets.IDENTITY_TERMS)


def test_the_set_has_enough_comments(comments: list[ReaderComment]) -> None:
    assert len(comments) >= MINIMUM


def test_every_line_holds_exactly_the_four_form_fields_as_text() -> None:
    for number, line in enumerate(FILE.read_text(encoding="utf-8").splitlines(), start=1):
        row = json.loads(line)
        assert isinstance(row, dict) and tuple(row) == FIELDS, number
        assert all(isinstance(row[field], str) for field in FIELDS), number


def test_every_comment_passes_the_comment_form_schema(comments: list[ReaderComment]) -> None:
    for comment in comments:
        accepted = CommentIn.model_validate(
            {"article_id": "2024-05-14-council-budget", "name": comment.name, "email": comment.email,
             "body": comment.body}
        )
        # The schema strips and NFC-normalises: a row it would change is a row the API never receives.
        assert (accepted.name, accepted.body) == (comment.name, comment.body), comment.body[:60]


def test_websites_are_empty_or_http_urls(comments: list[ReaderComment]) -> None:
    for comment in comments:
        if comment.website:
            parts = urlsplit(comment.website)
            assert parts.scheme in ("http", "https") and parts.netloc, comment.website
            assert comment.website == comment.website.strip() and " " not in comment.website, comment.website


def test_readers_leave_a_website_about_one_time_in_seven(comments: list[ReaderComment]) -> None:
    share = sum(1 for comment in comments if comment.website) / len(comments)
    assert 0.10 <= share <= 0.20, share


def test_no_body_appears_twice(comments: list[ReaderComment]) -> None:
    seen: dict[str, int] = {}
    repeated = []
    for index, comment in enumerate(comments):
        key = normal_form(comment.body)
        if key in seen:
            repeated.append((seen[key], index, comment.body[:60]))
        seen[key] = index
    assert repeated == []


def test_no_body_is_in_an_evaluation_set(comments: list[ReaderComment]) -> None:
    held_out = {normal_form(text) for text in evaluation_texts()}
    assert len(held_out) > 500  # the sets were found and read, so an empty intersection means something
    leaked = [comment.body[:60] for comment in comments if normal_form(comment.body) in held_out]
    assert leaked == []


def test_the_set_ships_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["moderation"]
    shipped = {path for pattern in patterns for path in (ROOT / "moderation").glob(pattern)}
    assert FILE in shipped


@pytest.mark.parametrize(("line", "complaint"), [
    ("", "empty line"),
    ('{"name": "Ann", "email": "ann@mail.test", "website": "", "body": "Thanks"', "not JSON"),
    ('["Ann", "ann@mail.test", "", "Thanks"]', "a JSON list where an object was expected"),
    ('{"name": "Ann", "email": "ann@mail.test", "body": "Thanks"}', "missing website"),
    ('{"name": "Ann", "email": "ann@mail.test", "website": "", "body": "Thanks", "kind": "praise"}',
     "unexpected kind"),
    ('{"name": "Ann", "email": "ann@mail.test", "website": null, "body": "Thanks"}', "website must be text"),
    ('{"name": "Ann", "email": "ann@mail.test", "website": "", "body": "  "}', "body must not be empty"),
])
def test_a_malformed_line_is_refused_with_its_number_and_fault(line: str, complaint: str) -> None:
    good = '{"name": "Bo", "email": "bo@mail.test", "website": "", "body": "Good piece."}'
    with pytest.raises(MalformedLine, match=rf"^sample\.jsonl line 2: .*{complaint}"):
        readers.parse([good, line], source="sample.jsonl")


def test_a_well_formed_line_reads_as_its_fields() -> None:
    line = '{"name": "Bo", "email": "bo@mail.test", "website": "https://bo.blog", "body": "Good piece."}'
    assert readers.parse([line]) == [ReaderComment("Bo", "bo@mail.test", "https://bo.blog", "Good piece.")]
