"""What a comment is when it arrives: its id, time, author key and the request it came with."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime


def now_iso(moment: datetime | None = None) -> str:
    """UTC timestamp with milliseconds, the one format every stored time uses."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def author_key(secret: bytes, email: str) -> str:
    """A keyed hash of the email: stable per author, useless to anyone without the secret."""
    return hmac.new(secret, email.strip().casefold().encode(), hashlib.sha256).hexdigest()[:32]


# A ULID is 26 Crockford base32 digits of 48 bits of milliseconds and 80 random bits. Python's
# base32hex codec and int(..., 32) use the digits 0-9A-V in the same order, so translating between
# the two alphabets makes both directions C calls (python-ulid's ULID() and str() take ~8 us).
_BASE32HEX = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TO_CROCKFORD = bytes.maketrans(_BASE32HEX.encode(), _CROCKFORD.encode())
_FROM_CROCKFORD = str.maketrans(_CROCKFORD, _BASE32HEX)
_second: tuple[int, str] = (-1, "")


def iso_of_ms(ms: int) -> str:
    """`now_iso`'s format for a Unix time in milliseconds (the second's text is reused within it)."""
    global _second
    second, milli = divmod(ms, 1000)
    cached = _second
    if cached[0] != second:
        cached = _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)))
    return f"{cached[1]}{milli:03d}Z"


_RANDOM_MAX = 2**80 - 1
_last_id = [-1, 0]  # the millisecond and random part of this process's latest id
_id_lock = threading.Lock()


def new_comment_id() -> tuple[str, str]:
    """A ULID and its creation time: ids sort in the order comments arrived.

    As python-ulid's ULID() does, an id made in the same millisecond as the one before takes that
    one's random part plus one, so a process's ids sort in the order it made them.
    """
    ms = time.time_ns() // 1_000_000
    with _id_lock:
        if ms == _last_id[0] and _last_id[1] < _RANDOM_MAX:
            random = _last_id[1] + 1
        else:
            random = int.from_bytes(os.urandom(10), "big")
        _last_id[0], _last_id[1] = ms, random
    value = ms << 80 | random
    # 160 bits encode as 32 digits; the first 6 hold the 30 zero bits above the ULID's 130.
    ulid = base64.b32hexencode(value.to_bytes(20, "big"))[6:].translate(_TO_CROCKFORD).decode()
    return ulid, iso_of_ms(ms)


def id_prefix(ms: int) -> str:
    """The first ten digits of every ULID made at `ms`: ids below it were made earlier."""
    digits = "".join(_CROCKFORD[(ms >> shift) & 31] for shift in range(45, -1, -5))
    return digits


def ulid_ms(ulid: str) -> int:
    """The milliseconds a ULID was made at (what ULID.from_str(ulid).timestamp gives, times 1000)."""
    return int(ulid[:10].translate(_FROM_CROCKFORD), 32)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a comment came from, kept for moderators and abuse handling only."""

    ip: str = ""
    user_agent: str = ""
    referer: str = ""


@dataclass(frozen=True, slots=True)
class NewComment:
    id: str
    created_at: str
    article_id: str
    parent_id: str | None
    name: str
    email: str
    author_key: str
    body: str
    origin: Origin
    website: str = ""  # the author's http(s) URL, or "" for none
    language: str = "en"  # ISO 639-1 (or `und`), detected at intake
