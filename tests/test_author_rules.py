"""Unit tests of who an author is (normalised addresses, networks), the policy's lists and effective standings."""

from __future__ import annotations

import pytest

from moderation.authors.identity import canonical_email, identity_key, network_of
from moderation.authors.standing import FIELDS, effective
from moderation.policy import Policy

DAY = 86_400_000
NOW = 1_800_000_000_000


@pytest.mark.parametrize(("email", "canonical"), [
    ("John.Smith+news@Gmail.com", "johnsmith@gmail.com"),
    ("j.o.h.n.smith@googlemail.com", "johnsmith@gmail.com"),
    ("ann+tag@outlook.com", "ann@outlook.com"),
    ("ann.lee@outlook.com", "ann.lee@outlook.com"),  # Outlook keeps dots: another mailbox
    ("Ann.Lee+x@Example.com", "ann.lee+x@example.com"),  # an unknown provider: only the case folds
    ("+tag@gmail.com", "+tag@gmail.com"),
    ("no-at-sign", "no-at-sign"),
])
def test_addresses_fold_only_where_the_provider_ignores_the_difference(email: str, canonical: str) -> None:
    assert canonical_email(email) == canonical


def test_an_alias_has_the_identity_of_its_canonical_address() -> None:
    assert identity_key(b"s", "J.Smith+x@gmail.com") == identity_key(b"s", "jsmith@gmail.com")
    assert identity_key(b"s", "J.Smith+x@gmail.com") != identity_key(b"t", "jsmith@gmail.com")


def test_networks_are_a_households_prefix() -> None:
    assert network_of("203.0.113.77") == network_of("203.0.113.1") != network_of("203.0.114.1")
    assert network_of("::ffff:203.0.113.9") == network_of("203.0.113.77")
    assert network_of("2001:db8:1:2:aaaa::1") == network_of("2001:db8:1:2:bbbb::9") != network_of("2001:db8:1:3::1")
    assert network_of("") == network_of("not an address") == network_of("999.1.1.1") == ""


def lists(**entries: tuple[str, ...]) -> Policy:
    return Policy(**entries)  # type: ignore[arg-type]


def codes(policy: Policy, email: str = "a@example.com", ip: str = "", website: str = "", text: str = "") -> \
        tuple[list[str], list[str]]:
    rejects, holds = policy.author_lists.reasons(email, ip, website, text)
    return [f"{r.code}:{r.detail}" for r in rejects], [f"{r.code}:{r.detail}" for r in holds]


def test_domains_match_themselves_and_their_subdomains_not_lookalikes() -> None:
    policy = lists(blocked_email_domains=("Spam.Example",), held_email_domains=("*.mail.example",))
    assert codes(policy, "x@spam.example") == (["blocked_email_domain:spam.example"], [])
    assert codes(policy, "x@eu.spam.example")[0] == ["blocked_email_domain:spam.example"]
    assert codes(policy, "x@notspam.example") == ([], [])
    assert codes(policy, "x@mail.example") == ([], ["held_email_domain:mail.example"])


def test_networks_v4_v6_and_mapped() -> None:
    policy = lists(blocked_networks=("203.0.113.0/24", "2001:db8::/32"), held_networks=("198.51.100.7",))
    assert codes(policy, ip="203.0.113.200")[0] == ["blocked_network:203.0.113.0/24"]
    assert codes(policy, ip="::ffff:203.0.113.5")[0] == ["blocked_network:203.0.113.0/24"]
    assert codes(policy, ip="2001:db8:ffff::1")[0] == ["blocked_network:2001:db8::/32"]
    assert codes(policy, ip="198.51.100.7") == ([], ["held_network:198.51.100.7/32"])
    assert codes(policy, ip="198.51.100.8") == codes(policy, ip="garbage") == ([], [])


def test_a_blocked_entry_wins_over_the_same_held_one_and_links_in_the_text_count() -> None:
    policy = lists(blocked_website_hosts=("pills.example",), held_website_hosts=("pills.example", "blog.example"))
    assert codes(policy, website="https://shop.pills.example/") == (["blocked_website:pills.example"], [])
    assert codes(policy, text="see http://www.blog.example/post") == ([], ["held_website:blog.example"])
    assert codes(policy, text="no links here") == ([], [])


def values(**found: object) -> list[object]:
    return [found.get(name) for name in FIELDS]


def test_a_suspension_runs_out_and_an_explicit_standing_wins() -> None:
    policy = Policy()
    suspended = values(state="suspended", until_ms=str(NOW + DAY), version="1")
    assert effective(suspended, policy, NOW).state == "suspended"
    assert effective(suspended, policy, NOW + 2 * DAY).state == "normal"
    trusted_but_rejected = values(state="trusted", version="1", set_at_ms=str(NOW - DAY), last_rejected_ms=str(NOW))
    assert effective(trusted_but_rejected, policy, NOW).state == "trusted"


def test_the_record_premoderates_within_the_window_until_recovery() -> None:
    policy = Policy(reputation_window_days=30, reputation_recovery_approvals=3)
    rejected = values(last_rejected_ms=str(NOW - DAY), approvals_since="2")
    standing = effective(rejected, policy, NOW)
    assert (standing.state, standing.automatic) == ("premoderated", True)
    assert standing.hold_reason() is not None and standing.hold_reason().code == "author_record"  # type: ignore[union-attr]
    assert effective(values(last_rejected_ms=str(NOW - DAY), approvals_since="3"), policy, NOW).state == "normal"
    assert effective(values(last_rejected_ms=str(NOW - 31 * DAY)), policy, NOW).state == "normal"
    cleared_after = values(state="normal", set_at_ms=str(NOW - 1), last_rejected_ms=str(NOW - DAY))
    assert effective(cleared_after, policy, NOW).state == "normal"
    off = Policy(reputation_window_days=0)
    assert effective(rejected, off, NOW).state == "normal"
