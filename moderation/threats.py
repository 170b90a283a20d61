"""Threats of violence against a person: phrases a newsroom wants a moderator to read, whatever the model says.

The model scores abuse from words; a threat can be written in plain ones ("I know where you live",
"someone should put a bullet in this reporter") that no public training set teaches it.  These
patterns were written from general knowledge of threatening language, not read off the data.  They
ask for a person as the target (you, your family, this reporter, people like you) or a speaker who
means it (I will, we are going to), so that crime and war reporting ("he was shot", "the invasion
killed thousands") does not match.  A match holds a comment for review; it never rejects one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_HARM = (
    r"(?:kill|shoot|stab|hurt|beat|hunt(?:\s+down)?|burn|rape|strangle|murder|slit|cut|gut|bury|end|smash)"
)
_HARMED = r"(?:shot|hanged|hung|killed|raped|executed|lynched|beaten|stabbed|gassed|burned|burnt|murdered|strung\s+up)"
_TARGET = (
    r"(?:you|u|ya|yourself|your\s+(?:\w+\s+){0,2}?(?:family|kids|children|wife|husband|mother|mom|mum|daughter|son)"
    r"|this\s+(?:reporter|journalist|writer|author|editor|moderator|commenter))\b"
)

_PATTERNS = (
    # A speaker's intent: "I will kill you", "we're going to hunt you down", "I'll burn your family".
    rf"\b(?:i|we)\s*(?:'ll|'m\s+going\s+to|'m\s+gonna|'re\s+going\s+to|'re\s+gonna|\s+will|\s+am\s+going\s+to"
    rf"|\s+are\s+going\s+to|\s+gonna|\s+shall)\s+(?:\w+\s+)?{_HARM}\s+{_TARGET}",
    r"\b(?:i|we)\s*(?:'m|\s+am|'re|\s+are)\s+coming\s+for\s+(?:you|u|ya)\b",
    r"\b(?:i|we)\s*(?:'ll|\s+will)\s+find\s+(?:you|u|ya)(?:\s+and\b|\s*[.!]|$)",
    r"\bi\s+know\s+where\s+(?:you|u|ya|your\s+\w+)\s+lives?\b",
    r"\bwatch\s+your\s+back\b",
    r"\b(?:break|snap)\s+your\s+(?:legs?|neck|arms?|face|skull)\b",
    r"\bput\s+a\s+bullet\s+(?:in|into|through)\b",
    r"\bbullet\s+(?:in|into|through)\s+(?:your|his|her|their)\s+(?:head|brain|skull|face)\b",
    r"\b(?:kill|hang|shoot)\s+yourself\b",
    # Wishing or calling for harm on a person.
    rf"\b(?:you|u|people\s+like\s+you)\s+(?:should|deserve\s+to|need\s+to|ought\s+to)\s+(?:be\s+)?(?:die|{_HARMED})\b",
    rf"\b(?:someone|somebody)\s+(?:should|needs\s+to|ought\s+to)\s+(?:{_HARM}|put\s+a\s+bullet)\b",
    rf"\b(?:hope|wish)\s+(?:that\s+)?(?:you|u|your\s+(?:\w+\s+){{0,2}}?\w+)\s+(?:\w+\s+)?"
    rf"(?:die|dies|gets?\s+{_HARMED}|burns?|rots?\s+in\s+hell)\b",
)
_THREAT = re.compile("|".join(f"(?:{pattern})" for pattern in _PATTERNS), re.IGNORECASE)
# Every pattern holds one of these; comments without any skip the full scan (a substring test is
# far cheaper than a regex, and the scan costs about 20 us for a 200-character comment).
_CUES: tuple[str, ...] = ("you", " u ", " ya ", "bullet", "someone", "somebody", "this ")
_PUNCTUATION_TO_SPACE = str.maketrans(dict.fromkeys(".,;:!?\"()[]", " "))


def find_threats(text: str) -> Iterator[tuple[int, int]]:
    """Yield the (start, end) character span of each threatening phrase in `text`."""
    normal = text.replace("\u2019", "'")  # same length: spans stay offsets into `text`
    words = f" {normal.lower().translate(_PUNCTUATION_TO_SPACE)} "
    if not any(cue in words for cue in _CUES):
        return
    for match in _THREAT.finditer(normal):
        yield match.span()
