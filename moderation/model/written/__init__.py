"""Comments written by hand to measure the spam filter, never to train it.

Each file of this folder is JSON Lines, one comment a line, with every field a
newsroom's comment form sends (`name`, `email`, `website`, `body`) and a `kind`
tag saying what sort of comment it is:

* news_site_spam.jsonl: spam as it lands under news articles.
* reader_comments.jsonl: legitimate reader comments, hard negatives included.

They were written without looking at the model or at its training data, so that
scores on them say how the filter does on comments it was not shaped around
(README.md beside them says who wrote them and what kinds they hold).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from moderation.model.signals import Author

SETS: tuple[str, ...] = ("news_site_spam", "reader_comments")
SPAM = "news_site_spam"
HAM = "reader_comments"
FIELDS: tuple[str, ...] = ("name", "email", "website", "body", "kind")


@dataclass(frozen=True, slots=True)
class WrittenComment:
    """One comment as the site's form sends it, with the kind of comment it is."""

    name: str
    email: str
    website: str
    body: str
    kind: str

    @property
    def author(self) -> Author:
        return Author(self.name, self.email, self.website)


def load(name: str) -> list[WrittenComment]:
    """Return the comments of one file of this folder, named with or without `.jsonl`, in file order."""
    stem = name.removesuffix(".jsonl")
    if stem not in SETS:
        raise ValueError(f"no written set {name!r}; the sets are {', '.join(SETS)}")
    text = resources.files(__package__).joinpath(f"{stem}.jsonl").read_text(encoding="utf-8")
    comments: list[WrittenComment] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        # A missing, extra or non-text field is a mistake in the file, not something to guess around.
        if not isinstance(row, dict) or set(row) != set(FIELDS) or not all(isinstance(row[f], str) for f in FIELDS):
            raise ValueError(f"{stem}.jsonl line {number}: expected text fields {', '.join(FIELDS)}")
        comments.append(WrittenComment(**row))
    return comments
