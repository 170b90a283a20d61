"""Hand-written spam as it lands under news articles: training positives for the spam head (see README.md).

The public spam sets are YouTube, SMS, Instagram and one WordPress blog's folder; the pitches a news
site's comment form receives (herbal doctors, replica shops, local trades, fake support lines, betting
sites, testimonials in conversation) are thin in them or absent. Training data only, never evaluation
data: the sets that measure the filter are in moderation/model/written.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from moderation.model import readers
from moderation.model.signals import Author

FILE = "spam_comments_train.jsonl"
FIELDS: tuple[str, ...] = (*readers.FIELDS, "kind")


@dataclass(frozen=True, slots=True)
class SpamComment:
    """One spam comment as the site's comment form sends it, with the kind of pitch it is."""

    name: str
    email: str
    website: str
    body: str
    kind: str

    @property
    def author(self) -> Author:
        return Author(self.name, self.email, self.website)


def load() -> list[SpamComment]:
    """Every comment of the shipped file, in file order; a malformed line raises readers.MalformedLine."""
    text = resources.files(__name__).joinpath(FILE).read_text(encoding="utf-8")
    return [SpamComment(**row) for row in readers.parse_rows(text.splitlines(), FILE, FIELDS)]
