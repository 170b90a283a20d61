"""The spam signals read from the whole comment: what fires, where, and what never does."""

from __future__ import annotations

import pytest

from moderation.model import signals
from moderation.model.signals import Author, findings, name_as_keywords


def codes(text: str, author: Author = signals.NO_AUTHOR) -> set[str]:
    return {found.code for found in findings(text, author)}


@pytest.mark.parametrize(("text", "expected"), [
    ("Earn $500/day from home, visit www.easy-cash-now.biz", {"links", "earnings"}),
    ("I make $92 an hour from home, see http://bit.ly/x", {"links", "shortener", "earnings"}),
    ("Contact Dr. Okoro on WhatsApp +2348012345678 for a love spell", {"messaging", "phone"}),
    ("i earned 45k with @createwealthwithluna1", {"earnings", "handle_pitch"}),
    ("reach her on telegram https://t.me/annafx", {"links", "messaging"}),
    ("email me at loans4all@example.com", {"contact_email"}),
    ("sign up at moneymatrix [dot] online", {"hidden_link"}),
    ("hot pics, link in my bio", {"hidden_link"}),
    ("Call (555) 013-5571 for QuickBooks support", {"phone"}),
    ("who wants to earn like me? tap my avatar", {"hidden_link"}),
    ("the whole story is on my profile page", {"hidden_link"}),
    ("the proof they hide is at w-w-w-realnews-net", {"hidden_link"}),
    ("Call our support desk at +1 (555) 010-2209", {"phone", "call_to_action"}),
])
def test_body_signals_fire_on_what_sells(text: str, expected: set[str]) -> None:
    assert expected <= codes(text)


@pytest.mark.parametrize("text", [
    "The council voted 7-5 on the budget in 2019, and again in 2020.",
    "The deficit grew by 1,234,567 dollars last year.",
    "@Mark you are wrong about the turnout figures.",
    "WhatsApp groups spread the rumour faster than any newspaper.",
    "I read the full report at the library.",
    "I put the photos on my page last week.",
    "In my account of the meeting I left that out.",
    "Call our councillor at the surgery on Friday.",
    "On top of that, the bins were not collected.",
])
def test_body_signals_stay_quiet_on_ordinary_comments(text: str) -> None:
    assert codes(text) == set()


def test_digits_inside_a_link_are_not_a_phone_number() -> None:
    text = "The inspection report is at https://www.cqc.org.uk/location/1-2345678901 for anyone who wants it."
    assert codes(text) == {"links"}
    assert "phone" in codes(text + " Or call 0800 111 999.")


def test_a_body_signal_marks_its_span() -> None:
    text = "Questions? Call +1 (555) 013-5571 today"
    (phone,) = [f for f in findings(text) if f.code == "phone"]
    assert text[phone.start:phone.end] == "+1 (555) 013-5571" and phone.field == "body"


@pytest.mark.parametrize("name", ["Best SEO Agency", "cheap viagra online", "adjustable mattresses",
                                  "Home Improvement", "Health & Fitness", "travel booking sites",
                                  "Smith Plumbing", "kitchen remodel ideas", "Casino"])
def test_names_that_read_as_adverts_or_categories(name: str) -> None:
    assert name_as_keywords(name)


@pytest.mark.parametrize("name", ["Ann Best", "Loan Nguyen", "Tom Price", "Concerned Citizen", "Sports Fan",
                                  "Maria", "skeptic42", "RetiredTeacher", "J. Smith", "Business Owner",
                                  "News Junkie", "Dr. Amaka Obi", "maría josé garcía", "李明", ""])
def test_names_people_use_are_not_adverts(name: str) -> None:
    assert not name_as_keywords(name)


def test_author_signals_fire_on_throwaway_addresses_and_selling_websites() -> None:
    spammy = Author("cheap airline flights", "x7781@mailinator.com", "https://cheap-flights-deals.example.com/")
    assert codes("I like your post", spammy) == {"name_keywords", "disposable_email", "website_keywords"}
    assert codes("Nice", Author("Jo", "jo@example.org", "https://bit.ly/abc")) == {"website_shortener"}
    assert "name_link" in codes("Nice", Author("www.royal-example.com", "", ""))
    # The domain alone is enough: decisions keep no more of an address than that.
    assert codes("Nice", Author("Jo", "mailinator.com", "")) == {"disposable_email"}


@pytest.mark.parametrize("author", [
    Author("Kate Lindqvist", "kate.lindqvist@gmail.com", ""),
    Author("skeptic42", "skeptic42@outlook.com", "https://skeptic42.substack.com/"),
    Author("Dr. Priya Raman", "p.raman@uni.example.ac.uk", "https://www.uni.example.ac.uk/people/raman"),
    Author("Aisha (Sunrise Nursery)", "aisha@sunrise-nursery.example.co.uk", "https://sunrise-nursery.example.co.uk"),
    Author("tom", "tom1987@yahoo.com", "https://www.linkedin.com/in/tom-h"),
])
def test_filling_in_the_form_is_never_a_signal_in_itself(author: Author) -> None:
    # No signal says "a name, an email or a website is present": a reader who fills the form in is not spam.
    assert codes("A fair point about the budget.", author) == set()


def test_vector_follows_the_signal_order_and_keeps_the_largest_value() -> None:
    text = "see a.example.com b.example.com c.example.com d.example.com, or http://bit.ly/x"
    row = signals.vector(findings(text))
    assert row[signals.SIGNALS.index("links")] == 1.0
    assert row[signals.SIGNALS.index("shortener")] == 1.0
    assert signals.vector(findings(text), ("shortener",)).tolist() == [1.0]
    assert signals.matrix([text, "plain words"]).shape == (2, len(signals.SIGNALS))


def test_the_word_gates_change_no_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    from moderation.model import evalsets, written

    texts = [*evalsets.NEWS_COMMENTS, *evalsets.SPAM_COMMENTS, *(c.body for c in written.load(written.SPAM))]
    gated = [findings(text) for text in texts]
    monkeypatch.setattr(signals, "_has", lambda lowered, needles: True)
    assert [findings(text) for text in texts] == gated
    assert sum(bool(found) for found in gated) > len(evalsets.SPAM_COMMENTS)
