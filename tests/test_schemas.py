"""Unit tests of request validation and normalisation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from moderation.schemas import CommentIn, DecisionIn, field_errors

GOOD = {"article_id": "politics-2026", "name": "Ann", "email": "ann@example.com", "body": "Hello"}


def errors(data: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        CommentIn.model_validate(data)
    return {e.field: e.detail for e in field_errors(caught.value)}


def test_text_is_trimmed_and_nfc_normalised() -> None:
    comment = CommentIn.model_validate({**GOOD, "article_id": "a-1", "name": "  Zoe\u0301 ", "body": " x\r\ny "})
    assert comment.name == "Zoé"
    assert comment.body == "x\ny"


def test_each_bad_field_gets_one_entry() -> None:
    found = errors({"article_id": "has space", "name": "n" * 81, "email": "nope", "body": "   "})
    assert set(found) == {"article_id", "name", "email", "body"}
    assert found["body"] == "must not be empty"
    assert found["name"] == "must be at most 80 characters"


def test_missing_fields_are_named() -> None:
    assert errors({}) == dict.fromkeys(("article_id", "name", "email", "body"), "is required")


def test_body_limit_counts_after_trimming() -> None:
    CommentIn.model_validate({**GOOD, "article_id": "a", "body": " " * 100 + "b" * 5000})
    assert "body" in errors({**GOOD, "article_id": "a", "body": "b" * 5001})


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85"])
def test_control_characters_are_refused(char: str) -> None:
    assert "control" in errors({**GOOD, "article_id": "a", "body": f"bad{char}body"})["body"]


def test_newlines_allowed_in_body_not_in_name() -> None:
    CommentIn.model_validate({**GOOD, "article_id": "a", "body": "one\n\ttwo"})
    assert "name" in errors({**GOOD, "article_id": "a", "name": "A\nB"})


def test_email_syntax_checked_without_dns() -> None:
    CommentIn.model_validate({**GOOD, "article_id": "a", "email": "reader@no-such-domain-4f1c9e.com"})
    assert "email" in errors({**GOOD, "article_id": "a", "email": "two@@signs.example"})


def test_parent_id_must_look_like_a_comment_id() -> None:
    assert "parent_id" in errors({**GOOD, "article_id": "a", "parent_id": "nope"})


def test_numbers_are_not_coerced_to_text() -> None:
    assert "name" in errors({**GOOD, "article_id": "a", "name": 42})


def test_reject_needs_a_reason() -> None:
    with pytest.raises(ValidationError) as caught:
        DecisionIn.model_validate({"action": "reject"})
    assert [e.field for e in field_errors(caught.value)] == ["reason"]
    assert DecisionIn.model_validate({"action": "approve"}).reason is None
