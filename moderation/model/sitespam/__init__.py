"""Hand-written spam as it lands under news articles: training positives for the spam head (see README.md).

The public spam sets are YouTube, SMS, Instagram and one WordPress blog's folder; the pitches a news
site's comment form receives (herbal doctors, replica shops, local trades, fake support lines, betting
sites, testimonials in conversation) are thin in them or absent. Training data only, never evaluation
data: the sets that measure the filter are in moderation/model/written.
"""

from __future__ import annotations

from importlib import resources

from moderation.model import readers
from moderation.model.written import WrittenComment

FILE = "spam_comments_train.jsonl"
FIELDS: tuple[str, ...] = (*readers.FIELDS, "kind")


def load() -> list[WrittenComment]:
    """Every comment of the shipped file, in file order; a malformed line raises readers.MalformedLine.

    Each is a WrittenComment, the evaluation sets' record (the same form fields and kind): only the
    record is shared, never a comment.
    """
    text = resources.files(__name__).joinpath(FILE).read_text(encoding="utf-8")
    return [WrittenComment(**row) for row in readers.parse_rows(text.splitlines(), FILE, FIELDS)]
