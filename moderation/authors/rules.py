"""The policy's lists beyond one address: email domains, IP networks and website hosts, rejected or held.

They are WordPress's "Disallowed Comment Keys" and "Comment Moderation" keys made precise: a domain
matches itself and every subdomain (`spam.example` matches `mail.spam.example`), a network matches
every address inside it (CIDR, IPv4 and IPv6), and a website host is looked for in the author's
website and in the links of the comment. Each list is compiled once per policy into sets, so a list
of ten thousand entries costs a comment a few set look-ups, as a list of three does.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from moderation.authors.identity import address_number, email_domain
from moderation.model.signals import host_of
from moderation.policy import LINK, Reason


def _suffixes(host: str) -> list[str]:
    """`a.b.c`, `b.c`, `c`: the host and every domain above it."""
    parts = host.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def url_host(url: str) -> str:
    """A link's host as the spam signals read it (scheme optional, lower case), without a trailing dot."""
    return host_of(url).rstrip(".")


# One comment's findings: (reason code, the entry that matched).
Found = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class CompiledLists:
    """The policy's six lists, merged by what they are matched against, ready to match.

    Blocked and held entries of one kind share a dictionary (entry -> reason code, blocked winning where
    an entry is in both), so each domain above a host costs one look-up, and each prefix length of the
    networks in use one more: a list of ten thousand entries costs what a list of ten does.
    """

    email_domains: dict[str, str]
    website_hosts: dict[str, str]
    # (IP version, bits below the prefix, {network number: (code, entry)}), one per prefix length in use.
    networks: tuple[tuple[int, int, dict[int, tuple[str, str]]], ...]

    @classmethod
    def of(cls, policy: object) -> CompiledLists:
        def merged(blocked: str, held: str, field: str) -> dict[str, str]:
            found = dict.fromkeys(getattr(policy, f"held_{field}"), held)
            found.update(dict.fromkeys(getattr(policy, f"blocked_{field}"), blocked))
            return found

        groups: dict[tuple[int, int], dict[int, tuple[str, str]]] = {}
        for code, field in (("held_network", "held_networks"), ("blocked_network", "blocked_networks")):
            for entry in getattr(policy, field):
                network = ipaddress.ip_network(entry, strict=False)
                shift = network.max_prefixlen - network.prefixlen
                groups.setdefault((network.version, shift), {})[int(network.network_address) >> shift] = (code, entry)
        return cls(
            email_domains=merged("blocked_email_domain", "held_email_domain", "email_domains"),
            website_hosts=merged("blocked_website", "held_website", "website_hosts"),
            networks=tuple((version, shift, found) for (version, shift), found in groups.items()),
        )

    def _network(self, ip: str) -> Found:
        address = address_number(ip) if self.networks and ip else None
        if address is None:
            return []
        version, number = address
        return [hit for v, shift, found in self.networks if v == version
                and (hit := found.get(number >> shift)) is not None]

    @staticmethod
    def _hosts(table: dict[str, str], hosts: list[str]) -> Found:
        return [(code, suffix) for host in hosts if host for suffix in _suffixes(host)
                if (code := table.get(suffix)) is not None]

    def reasons(self, email: str, ip: str, website: str, text: str) -> tuple[tuple[Reason, ...], tuple[Reason, ...]]:
        """The rules these fields break: (rejections, holds), each reason naming the entry that matched."""
        found: Found = []
        if self.email_domains:
            found += self._hosts(self.email_domains, [email_domain(email)])
        found += self._network(ip)
        if self.website_hosts:
            # The website field, then every link in the text, as WordPress's keys look at both.
            hosts = [url_host(website)] if website else []
            found += self._hosts(self.website_hosts, hosts + [url_host(link) for link in LINK.findall(text)])
        if not found:
            return (), ()
        first = dict(reversed(found))  # one reason per code, naming the first entry that matched
        rejects = tuple(Reason(code, detail=entry) for code, entry in first.items() if code.startswith("blocked_"))
        holds = tuple(Reason(code, detail=entry) for code, entry in first.items() if code.startswith("held_"))
        return rejects, holds
