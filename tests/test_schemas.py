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
    found = errors({"article_id": "has\ttab", "name": "n" * 81, "email": "nope", "body": "   "})
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


def test_control_character_check_matches_unicode_cc() -> None:
    """The regex stands in for unicodedata.category(char) == 'Cc' over every code point."""
    import sys
    import unicodedata

    from moderation.schemas import _CONTROLS, _CONTROLS_BUT_NEWLINES

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        control = unicodedata.category(char) == "Cc"
        assert bool(_CONTROLS.match(char)) == control, hex(code)
        assert bool(_CONTROLS_BUT_NEWLINES.match(char)) == (control and char not in "\n\t"), hex(code)


@pytest.mark.parametrize("email", [
    "Ann@Example.COM", "reader+tag@news.example.org", "postmaster@xn--bcher-kva.example", "jörg@bücher.example",
    "a@b", "a@localhost", "x@test.test", "a@@b.com", "a@-b.com", "a@b.local", "a..b@example.com", "a@" + "x" * 250,
    "a@[127.0.0.1]", "@example.com", "Ann <ann@example.com>",
])
def test_cached_email_checks_answer_as_email_validator_does(email: str) -> None:
    """Domain checks and whole addresses are cached: same normalised address, same error, twice over."""
    import sys

    from email_validator import EmailNotValidError, validate_email
    from email_validator.syntax import validate_email_domain_name

    from moderation import schemas

    module = sys.modules["email_validator.validate_email"]
    patched = module.validate_email_domain_name
    assert patched is schemas._domain_name
    module.validate_email_domain_name = validate_email_domain_name  # the library's own, uncached
    try:
        expected: str = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        expected = f"error: {error}"
    finally:
        module.validate_email_domain_name = patched
    for _ in range(2):
        try:
            got = schemas._email(email)
        except ValueError as error:
            got = f"error: {error}"
        assert got == expected
