"""The policy's lists beyond one address: email domains, IP networks and website hosts, rejected or held.

They are WordPress's "Disallowed Comment Keys" and "Comment Moderation" keys made precise: a domain
matches itself and every subdomain (`spam.example` matches `mail.spam.example`), a network matches
every address inside it (CIDR, IPv4 and IPv6), and a website host is looked for in the author's
website and in the links of the comment. Each list is compiled once per policy into sets, so a list
of ten thousand entries costs a comment a few set look-ups, as a list of three does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from moderation.authors.identity import email_domain
from moderation.policy import LINK, Reason

# Reason code -> (policy list, kind): what each list does and the code a comment it catches is given.
LISTS = (
    ("blocked_email_domain", "blocked_email_domains", "reject"),
    ("held_email_domain", "held_email_domains", "hold"),
    ("blocked_network", "blocked_networks", "reject"),
    ("held_network", "held_networks", "hold"),
    ("blocked_website", "blocked_website_hosts", "reject"),
    ("held_website", "held_website_hosts", "hold"),
)


def _suffixes(host: str) -> Iterable[str]:
    """`a.b.c`, `b.c`, `c`: the host and every domain above it."""
    parts = host.split(".")
    for i in range(len(parts)):
        yield ".".join(parts[i:])


class HostList:
    """Domains, each matching itself and its subdomains."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.hosts = frozenset(entries)

    def match(self, host: str) -> str | None:
        if not self.hosts or not host:
            return None
        return next((suffix for suffix in _suffixes(host) if suffix in self.hosts), None)


class NetworkList:
    """CIDR networks, grouped by prefix length: an address costs one set look-up per length in use."""

    def __init__(self, entries: Iterable[str]) -> None:
        groups: dict[tuple[int, int], dict[int, str]] = {}
        for entry in entries:
            network = ipaddress.ip_network(entry, strict=False)
            shift = network.max_prefixlen - network.prefixlen
            groups.setdefault((network.version, shift), {})[int(network.network_address) >> shift] = str(network)
        self.groups = tuple((version, shift, found) for (version, shift), found in groups.items())

    def match(self, ip: str) -> str | None:
        if not self.groups or not ip:
            return None
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        number = int(address)
        for version, shift, found in self.groups:
            if version == address.version:
                hit = found.get(number >> shift)
                if hit is not None:
                    return hit
        return None


def url_host(url: str) -> str:
    """A URL's host name, lower case ('' when it has none); a bare `example.com/x` is read as a host."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".")


@dataclass(frozen=True, slots=True)
class CompiledLists:
    """The policy's six lists, ready to match."""

    lists: tuple[tuple[str, str, HostList | NetworkList], ...]

    @classmethod
    def of(cls, policy: object) -> CompiledLists:
        compiled = []
        for code, field, kind in LISTS:
            entries: tuple[str, ...] = getattr(policy, field)
            if entries:
                matcher = NetworkList(entries) if field.endswith("networks") else HostList(entries)
                compiled.append((code, kind, matcher))
        return cls(tuple(compiled))

    def reasons(self, email: str, ip: str, website: str, text: str) -> tuple[tuple[Reason, ...], tuple[Reason, ...]]:
        """The rules these fields break: (rejections, holds), each reason naming the entry that matched."""
        if not self.lists:
            return (), ()
        rejects: list[Reason] = []
        holds: list[Reason] = []
        hosts: list[str] | None = None
        for code, kind, matcher in self.lists:
            hit: str | None = None
            if isinstance(matcher, NetworkList):
                hit = matcher.match(ip)
            elif code.endswith("email_domain"):
                hit = matcher.match(email_domain(email))
            else:
                if hosts is None:
                    # The website field first, then every link in the text, as WordPress's keys look at both.
                    hosts = [url_host(website)] if website else []
                    hosts += [url_host(link) for link in LINK.findall(text)]
                hit = next((found for found in map(matcher.match, hosts) if found), None)
            if hit:
                (rejects if kind == "reject" else holds).append(Reason(code, detail=hit))
        return tuple(rejects), tuple(holds)
