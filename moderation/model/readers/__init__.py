"""Hand-written legitimate reader comments: training negatives for the spam head (see README.md).

They are the register the public spam sets lack on their legitimate side: ordinary readers under
news stories, including the ones who praise an article, thank its reporter, or say they will share
or bookmark it. Training data only, never evaluation data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

FILE = "reader_comments_train.jsonl"
FIELDS: tuple[str, ...] = ("name", "email", "website", "body")


@dataclass(frozen=True, slots=True)
class ReaderComment:
    """One legitimate reader comment as the site's comment form sends it (website "" when left empty)."""

    name: str
    email: str
    website: str
    body: str


class MalformedLine(ValueError):
    """A line of the file that is not one JSON object holding exactly the four form fields as text."""


def load() -> list[ReaderComment]:
    """Every comment of the shipped file, in file order; a malformed line raises MalformedLine."""
    text = resources.files(__name__).joinpath(FILE).read_text(encoding="utf-8")
    return parse(text.splitlines(), source=FILE)


def parse(lines: Iterable[str], source: str = FILE) -> list[ReaderComment]:
    """Comments from JSON Lines text; the first malformed line raises MalformedLine naming its number."""
    return [ReaderComment(**row) for row in parse_rows(lines, source, FIELDS)]


def parse_rows(lines: Iterable[str], source: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of JSON Lines text holding exactly `fields`, all text, none blank but the website."""
    return [_row(line, source, number, fields) for number, line in enumerate(lines, start=1)]


def _row(line: str, source: str, number: int, fields: tuple[str, ...]) -> dict[str, str]:
    where = f"{source} line {number}"
    if not line.strip():
        raise MalformedLine(f"{where}: empty line (each line must hold one comment)")
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise MalformedLine(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(row, dict):
        raise MalformedLine(f"{where}: a JSON {type(row).__name__} where an object was expected")
    missing = [field for field in fields if field not in row]
    extra = sorted(set(row) - set(fields))
    if missing or extra:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unexpected {', '.join(extra)}"] if extra else []
        )
        raise MalformedLine(f"{where}: must hold exactly {', '.join(fields)} ({'; '.join(problems)})")
    for field in fields:
        if not isinstance(row[field], str):
            raise MalformedLine(f"{where}: {field} must be text, not {type(row[field]).__name__}")
    for field in fields:
        if field != "website" and not row[field].strip():
            raise MalformedLine(f"{where}: {field} must not be empty")
    return {field: row[field] for field in fields}
