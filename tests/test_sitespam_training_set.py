"""The hand-written news-site spam the spam head trains on: well formed, accepted by the API, apart from evaluation."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from urllib.parse import urlsplit

import pytest

from moderation.model import readers, sitespam, written
from moderation.model.readers import MalformedLine
from moderation.model.written import WrittenComment
from moderation.schemas import CommentIn
from tests.conftest import ROOT
from tests.test_reader_training_set import evaluation_texts, normal_form

FILE = ROOT / "moderation" / "model" / "sitespam" / sitespam.FILE
MINIMUM = 600
# A training text sharing this share of its word 5-grams (and more than one) with an evaluation text is a
# near-copy of it: writers working apart still reach for the same sentences ("Please check on elderly
# neighbours in this heat").
NEAR_COPY = 0.15
_WORD = re.compile(r"\w+")


@pytest.fixture(scope="module")
def comments() -> list[WrittenComment]:
    return sitespam.load()


def five_grams(text: str) -> set[tuple[str, ...]]:
    """The text's case-folded word 5-grams."""
    words = _WORD.findall(text.casefold())
    return {tuple(words[i:i + 5]) for i in range(len(words) - 4)}


def test_the_set_has_enough_comments_of_many_kinds(comments: list[WrittenComment]) -> None:
    kinds = Counter(comment.kind for comment in comments)
    assert len(comments) >= MINIMUM
    assert len(kinds) >= 10 and max(kinds.values()) <= len(comments) / 5, kinds


def test_every_comment_passes_the_comment_form_schema(comments: list[WrittenComment]) -> None:
    for comment in comments:
        accepted = CommentIn.model_validate(
            {"article_id": "2024-05-14-council-budget", "name": comment.name, "email": comment.email,
             "website": comment.website or None, "body": comment.body}
        )
        # The schema strips and NFC-normalises: a row it would change is a row the API never receives.
        assert (accepted.name, accepted.body) == (comment.name, comment.body), comment.body[:60]


def test_websites_are_empty_or_http_urls(comments: list[WrittenComment]) -> None:
    for comment in comments:
        if comment.website:
            parts = urlsplit(comment.website)
            assert parts.scheme in ("http", "https") and parts.netloc, comment.website


def test_no_body_appears_twice(comments: list[WrittenComment]) -> None:
    counts = Counter(normal_form(comment.body) for comment in comments)
    assert [body[:60] for body, n in counts.items() if n > 1] == []


def test_no_body_is_in_an_evaluation_set(comments: list[WrittenComment]) -> None:
    held_out = {normal_form(text) for text in evaluation_texts()}
    assert len(held_out) > 500  # the sets were found and read, so an empty intersection means something
    assert [comment.body[:60] for comment in comments if normal_form(comment.body) in held_out] == []


@pytest.mark.parametrize("training", ["sitespam", "readers"])
def test_no_training_comment_is_a_near_copy_of_a_written_one(training: str) -> None:
    bodies = [c.body for c in (sitespam.load() if training == "sitespam" else readers.load())]
    held_out = [(c.body, five_grams(c.body)) for name in written.SETS for c in written.load(name)]
    near = []
    for body in bodies:
        grams = five_grams(body)
        for text, theirs in held_out:
            shared = len(grams & theirs)
            if shared >= 2 and shared >= NEAR_COPY * len(grams):
                near.append((body[:50], text[:50]))
    assert near == []


def test_the_set_ships_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["moderation"]
    assert FILE in {path for pattern in patterns for path in (ROOT / "moderation").glob(pattern)}


def test_a_line_without_its_kind_is_refused() -> None:
    line = '{"name": "Bo", "email": "bo@mail.test", "website": "", "body": "Cheap pills"}'
    with pytest.raises(MalformedLine, match=r"^x\.jsonl line 1: .*missing kind"):
        readers.parse_rows([line], "x.jsonl", sitespam.FIELDS)
