"""What the comment form sends beside the text, and the spam signals read from the whole comment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Author:
    """The comment form's other fields: the name, email and website (any may be empty) the poster typed."""

    name: str = ""
    email: str = ""
    website: str = ""


NO_AUTHOR = Author()


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of spam evidence outside the words: what fired, where, and its share of the log-odds.

    `field` is the form field it was read from (body, name, email, website); a signal read from the
    body also has the span it covers, others have start == end == 0.
    """

    code: str
    field: str
    text: str
    weight: float
    start: int = 0
    end: int = 0
