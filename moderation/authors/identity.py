"""Who an author is across the addresses they write from: the normalised email, and the networks they post from.

A standing follows the person, not one spelling of their address: Gmail delivers `j.o.e+news@gmail.com`
and `JOE@googlemail.com` to the same inbox, so a ban on one must refuse the others. Only providers
known to ignore dots or `+tags` are folded; anywhere else `a.b@example.com` and `ab@example.com` may
be two people, and folding them would punish one for the other.
"""

from __future__ import annotations

import hashlib
import hmac
import socket

from moderation.comments import author_key

# Providers whose mailboxes ignore a `+tag` after the local part (their own help pages say so).
_PLUS_TAGS = frozenset({
    "gmail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com",
    "fastmail.com", "fastmail.fm", "proton.me", "protonmail.com", "pm.me", "yandex.com", "yandex.ru",
    "zoho.com", "gmx.com", "gmx.de", "web.de", "posteo.de", "mailbox.org", "hey.com",
})
# Providers that also ignore dots in the local part: Gmail alone among the large ones.
_NO_DOTS = frozenset({"gmail.com"})
_SAME_MAILBOX = {"googlemail.com": "gmail.com"}

# A network is what one household, office or phone carrier's customer shares: an IPv4 /24, an IPv6 /64
# (the prefix a provider gives one subscriber). Wider would link strangers; narrower misses a new lease.
IPV4_PREFIX = 24
IPV6_PREFIX = 64


def canonical_email(email: str) -> str:
    """The address as its mailbox knows it: case folded, dots and `+tags` dropped where the provider ignores them."""
    folded = email.strip().casefold()
    local, at, domain = folded.rpartition("@")
    if not at or not local:
        return folded
    domain = _SAME_MAILBOX.get(domain.rstrip("."), domain.rstrip("."))
    if domain in _PLUS_TAGS:
        local = local.split("+", 1)[0] or local
    if domain in _NO_DOTS:
        local = local.replace(".", "") or local
    return f"{local}@{domain}"


def identity_key(secret: bytes, email: str) -> str:
    """The key a standing, a record and notes are kept under: the author key of the canonical address.

    For every address that is already canonical (most of them) it equals the comment's author key.
    """
    return author_key(secret, canonical_email(email))


def email_domain(email: str) -> str:
    """The domain after the last @, lower case, without a trailing dot ('' for none)."""
    return email.strip().rpartition("@")[2].casefold().rstrip(".")


def network_of(ip: str) -> str:
    """The network an address belongs to (see IPV4_PREFIX) as `v4:<first address as a number>/24`; '' for none.

    Only ever hashed (network_key), so it is built for speed, not for reading: it runs on every post."""
    address = address_number(ip.strip())
    if address is None:
        return ""
    version, number = address
    bits, prefix = (32, IPV4_PREFIX) if version == 4 else (128, IPV6_PREFIX)
    base = number >> (bits - prefix) << (bits - prefix)
    return f"v{version}:{base}/{prefix}"


_V4_MAPPED = 0xFFFF << 32


def address_number(ip: str) -> tuple[int, int] | None:
    """(IP version, the address as an integer), an IPv4-mapped IPv6 address read as IPv4; None if unreadable."""
    try:
        if ":" not in ip:
            return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")
        number = int.from_bytes(socket.inet_pton(socket.AF_INET6, ip.split("%", 1)[0]), "big")
    except (OSError, ValueError):
        return None
    if number >> 32 == 0xFFFF:
        return 4, number - _V4_MAPPED
    return 6, number


def network_key(secret: bytes, network: str) -> str:
    """A keyed hash of a network: Redis key names never show an address."""
    return hmac.new(secret, b"network:" + network.encode(), hashlib.sha256).hexdigest()[:24]
