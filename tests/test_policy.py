"""Unit tests of the policy: scores and rules to a decision, with reasons."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from moderation.policy import (
    Assessment,
    AuthorContext,
    Policy,
    Thresholds,
    Word,
    count_links,
    decide,
    find_terms,
)
from moderation.schemas import field_errors

CLEAN = Assessment(spam=0.01, abuse=0.02)


def verdict(policy: Policy, assessment: Assessment = CLEAN, text: str = "A fair point.", **kw: object):  # type: ignore[no-untyped-def]
    options = {"article_mode": "open", "author_approved": 1, **kw}
    return decide(policy, assessment, text, **options)  # type: ignore[arg-type]


def test_clean_comment_from_known_author_is_published() -> None:
    assert verdict(Policy()).status == "published"
    assert verdict(Policy()).reasons == ()


def test_new_author_is_held_unless_policy_says_otherwise() -> None:
    held = verdict(Policy(), author_approved=0)
    assert (held.status, held.codes) == ("pending", ("new_author",))
    assert verdict(Policy(hold_new_authors=False), author_approved=0).status == "published"


def test_scores_hold_then_reject_at_thresholds() -> None:
    words = (Word(0, 4, "free", 0.9),)
    held = verdict(Policy(), Assessment(0.6, 0.1, spam_words=words))
    assert held.status == "pending"
    assert held.reasons[0].code == "spam" and held.reasons[0].words == words
    rejected = verdict(Policy(), Assessment(0.99, 0.1))
    assert (rejected.status, rejected.codes) == ("rejected", ("spam",))
    assert verdict(Policy(), Assessment(0.1, 0.7)).codes == ("abuse",)


def test_links_over_the_limit_hold() -> None:
    text = "see http://a.example/x and www.b.example and cheap-pills.ru"
    assert count_links(text) == 3
    assert verdict(Policy(max_links=2), text=text).codes == ("links",)
    assert verdict(Policy(max_links=3), text=text).status == "published"


def test_blocked_terms_reject_and_suspect_terms_hold_as_whole_words() -> None:
    policy = Policy(blocked_terms=("buy viagra",), suspect_terms=("idiot",))
    assert verdict(policy, text="Buy   VIAGRA today").status == "rejected"
    held = verdict(policy, text="What an Idiot.")
    assert held.codes == ("suspect_term",)
    assert held.reasons[0].words[0].text == "Idiot"
    assert verdict(policy, text="idiotic but fine").status == "published"


def test_full_width_letters_do_not_dodge_terms() -> None:
    found = find_terms("\uff49\uff44\uff49\uff4f\uff54", ("idiot",))  # full-width "idiot"
    assert [(w.start, w.end) for w in found] == [(0, 5)]


def test_premoderated_article_holds_everything() -> None:
    assert verdict(Policy(), article_mode="premoderated").codes == ("premoderated_article",)


def test_every_fired_rule_is_a_reason() -> None:
    decision = verdict(Policy(), Assessment(0.99, 0.6), author_approved=0, article_mode="premoderated")
    assert decision.status == "rejected"
    assert decision.codes == ("spam", "abuse", "premoderated_article", "new_author")


def test_policy_refuses_hold_above_reject() -> None:
    with pytest.raises(ValidationError):
        Policy(spam_hold=0.9, spam_reject=0.5)
    with pytest.raises(ValidationError):
        Policy(abuse_hold=1.5)


THREATS = [
    ("I know where you live and I'm coming for you.", ["I know where you live", "I'm coming for you"]),
    ("Someone should put a bullet in this reporter.", ["Someone should put a bullet"]),
    ("I hope your whole family dies in a fire.", ["hope your whole family dies"]),
    ("People like you should be shot.", ["People like you should be shot"]),
    ("We\u2019re going to hunt you down.", ["We\u2019re going to hunt you"]),
    ("keep it up and i will kill u", ["i will kill u"]),
]


@pytest.mark.parametrize(("text", "phrases"), THREATS)
def test_threats_are_held_with_their_phrases(text: str, phrases: list[str]) -> None:
    held = verdict(Policy(), text=text)
    assert (held.status, held.codes) == ("pending", ("threat",))
    assert [w.text for w in held.reasons[0].words] == phrases
    assert all(text[w.start:w.end] == w.text for w in held.reasons[0].words)


@pytest.mark.parametrize("text", [
    "The suspect was shot by police after he threatened to kill his neighbour.",
    "Russia's invasion has killed thousands of Ukrainian civilians.",
    "We are going to beat them on Saturday, mark my words.",
    "I will find you a better source than this one.",
    "Gun owners should keep a bullet in the chamber only at the range.",
    "You should be proud of this town. I hope you enjoy the festival.",
    "The death penalty debate: should the killer be executed?",
])
def test_crime_reporting_sport_and_ordinary_talk_are_not_threats(text: str) -> None:
    assert verdict(Policy(), text=text).status == "published"


def test_the_threat_rule_can_be_turned_off() -> None:
    assert verdict(Policy(hold_threats=False), text="People like you should be shot.").status == "published"


def test_many_articles_within_the_window_hold_as_a_burst() -> None:
    policy = Policy(hold_new_authors=False, burst_articles=4)
    calm = decide(policy, Assessment(0.1, 0.1), "Fair point.", article_mode="open", author_approved=0,
                  recent_articles=3)
    burst = decide(policy, Assessment(0.1, 0.1), "Fair point.", article_mode="open", author_approved=0,
                   recent_articles=4)
    assert calm.status == "published"
    assert burst.status == "pending" and burst.reasons[0].code == "burst" and burst.reasons[0].score == 4.0


def test_a_languages_thresholds_override_the_policys_for_its_comments_only() -> None:
    policy = Policy(language_thresholds={"de-DE": {"spam_hold": 0.3, "abuse_reject": 0.9}})
    assert list(policy.language_thresholds) == ["de"]
    assert policy.thresholds("de") == Thresholds(0.3, 0.98, 0.5, 0.9)
    assert policy.thresholds("en") == Thresholds(0.5, 0.98, 0.5, 0.98)
    assert verdict(policy, Assessment(0.4, 0.1, language="de")).codes == ("spam",)
    assert verdict(policy, Assessment(0.4, 0.1)).status == "published"
    assert verdict(policy, Assessment(0.1, 0.92, language="de")).status == "rejected"


def test_the_abuse_score_of_an_unknown_language_decides_nothing() -> None:
    spanish = Assessment(0.1, 0.99, language="es", language_supported=False)
    assert verdict(Policy(), spanish).status == "published"
    assert verdict(Policy(abuse_hold=0.0, abuse_reject=0.0), spanish).status == "published"
    held = verdict(Policy(unsupported_language="hold"), spanish)
    assert (held.status, held.codes, held.reasons[0].detail) == ("pending", ("unsupported_language",), "es")
    # The other rules still decide: spam, terms, the article's mode.
    assert verdict(Policy(), Assessment(0.99, 0.1, language="es", language_supported=False)).codes == ("spam",)
    assert verdict(Policy(blocked_terms=("estafa",)), spanish, text="Una estafa.").status == "rejected"
    assert verdict(Policy(), spanish, article_mode="premoderated").codes == ("premoderated_article",)
    # A trusted author skips the hold, as they skip the holds of doubtful scores.
    trusted = decide(Policy(unsupported_language="hold"), spanish, "Hola.", article_mode="open", author_approved=0,
                     author=AuthorContext(trusted=True))
    assert trusted.status == "published"


@pytest.mark.parametrize(("settings", "field"), [
    ({"language": "gr"}, "language"),
    ({"language": "english"}, "language"),
    ({"language_thresholds": {"xx": {}}}, "language_thresholds.xx"),
    ({"language_thresholds": {"de": {"abuse_hold": -0.1}}}, "language_thresholds.de.abuse_hold"),
    ({"language_thresholds": {"de": {"abuse_hold": 0.99}}}, "language_thresholds"),
    ({"spam_reject": 0.6, "language_thresholds": {"fr": {"spam_hold": 0.7}}}, "language_thresholds"),
    ({"language_thresholds": {"pt": {}, "pt-BR": {}}}, "language_thresholds"),
    ({"unsupported_language": "reject"}, "unsupported_language"),
])
def test_language_settings_are_validated(settings: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Policy.model_validate(settings)
    assert [entry.field for entry in field_errors(raised.value)] == [field]


def test_language_codes_are_normalised() -> None:
    assert Policy(language="pt-BR").language == "pt"
    assert Policy(language="ZH_Hant").language == "zh"
    assert Policy(language="und").language == "und"
    assert Policy().language == "en" and Policy().unsupported_language == "publish"
