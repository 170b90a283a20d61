"""Perspective-style attributes: each derived from the model, the lexicon, identity masking or the threat rule,
and served only while it measures up on the written sets."""

from __future__ import annotations

from typing import Any, cast

import pytest

from moderation.model import attributes as a
from moderation.model import evalsets
from moderation.model.classifier import Classifier, Evidence, Scores
from moderation.model.evaluation import offsets, predicted_spans
from moderation.model.lexicon import category
from moderation.threats import find_threats
from tests.public_data import DATA_DIR


@pytest.fixture(scope="module")
def classifier(model: Any) -> Classifier:
    return cast(Classifier, model)


def scores(abuse: float = 0.9, spam: float = 0.1, abuse_words: tuple[Evidence, ...] = ()) -> Scores:
    return Scores(spam, abuse, (), abuse_words)


def test_gated_attributes_follow_the_abuse_score_only_when_their_words_are_there() -> None:
    text = "You absolute idiot, what a load of crap."
    found = a.attribute_scores(text, scores(0.8))
    assert found["TOXICITY"].value == 0.8
    assert found["INSULT"] == a.AttributeScore(0.8, ((13, 18),))  # "idiot"
    assert found["PROFANITY"] == a.AttributeScore(0.8, ((35, 39),))  # "crap"
    assert found["IDENTITY_ATTACK"].value == 0.0 and found["IDENTITY_ATTACK"].spans == ()
    assert found["SEVERE_TOXICITY"].value == 0.0 and found["THREAT"].value == 0.0
    assert found["SPAM"].value == 0.1


def test_identity_words_and_slurs_open_identity_attack_and_severe_toxicity() -> None:
    text = "Immigrants are vermin."
    found = a.attribute_scores(text, scores(0.7), ("IDENTITY_ATTACK", "SEVERE_TOXICITY", "INSULT"))
    assert found["IDENTITY_ATTACK"] == a.AttributeScore(0.7, ((0, 10),))
    assert found["SEVERE_TOXICITY"] == a.AttributeScore(0.7, ((0, 10), (15, 21)))  # identity and dehumanising
    assert found["INSULT"] == a.AttributeScore(0.7, ((15, 21),))
    assert category("vermin") == "dehumanising"


def test_a_threat_phrase_is_a_threat_whatever_the_model_says() -> None:
    text = "I know where you live, journalist."
    [phrase] = list(find_threats(text))
    found = a.attribute_scores(text, scores(0.04), ("THREAT", "SEVERE_TOXICITY", "TOXICITY"))
    assert found["THREAT"] == a.AttributeScore(1.0, (phrase,))
    assert found["SEVERE_TOXICITY"] == a.AttributeScore(1.0, (phrase,))
    assert found["TOXICITY"].value == 0.04
    assert a.attribute_scores("The suspect was shot by police.", scores(0.3), ("THREAT",))["THREAT"].value == 0.0


def test_an_unknown_attribute_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="FLIRTATION"):
        a.attribute_scores("hello", scores(), ("TOXICITY", "FLIRTATION"))


def test_toxicity_spans_are_the_span_rule_of_the_evaluation(classifier: Classifier) -> None:
    text = "You are a moron and a liar, a total moron."
    scored = classifier.score(text)
    rule = a.SpanRule(0.25, 0.5, 0.0)
    served = a.attribute_scores(text, scored, ("TOXICITY",), rule)["TOXICITY"]
    assert served.value == scored.abuse
    assert offsets(served.spans) == predicted_spans(scored, 0.25, min_share=0.5, text=text)
    assert [text[s:e] for s, e in served.spans][:1] == ["moron"] and text[36:41] == "moron"
    assert (36, 41) in served.spans  # every occurrence, as the raters mark them


def test_span_rule_is_read_from_the_model_metadata(classifier: Classifier) -> None:
    assert a.SpanRule.of({}) == a.DEFAULT_SPAN_RULE
    chosen = {"metrics": {"evaluation": {"spans": {"min_weight": 0.1, "min_share": 0.3, "min_abuse": 0.5}}}}
    assert a.SpanRule.of(chosen) == a.SpanRule(0.1, 0.3, 0.5)
    shipped = classifier.metadata["metrics"]["evaluation"]["spans"]
    assert a.SpanRule.of(classifier.metadata).min_share == shipped["min_share"]


def test_summary_values_equal_the_single_scores(classifier: Classifier) -> None:
    texts = ["You are an idiot.", "Muslims are vermin.", "A fair point about the budget."]
    for name in a.ATTRIBUTES:
        batch = a.summary_values(classifier, texts, name)
        single = [a.attribute_scores(t, classifier.score(t), (name,))[name].value for t in texts]
        assert batch.tolist() == pytest.approx(single, abs=1e-9)


def test_every_served_attribute_measures_up_on_the_written_sets(classifier: Classifier) -> None:
    """The honesty check: an attribute below its bar must not be served (the API then answers it as unknown)."""
    measured = a.measure_attributes(classifier, None)
    assert set(measured["attributes"]) == set(a.ATTRIBUTES)
    for name, entry in measured["attributes"].items():
        assert entry["meets_bar"], (name, entry["sets"])
        assert entry["backed_by"] == a.BACKED_BY[name]
    kinds = {row["set"]: row for row in measured["attributes"]["IDENTITY_ATTACK"]["sets"]}
    hate_vs_insults = kinds["written group hate vs written insults (kind)"]
    # What it adds: TOXICITY cannot tell group hate from insults; IDENTITY_ATTACK can.
    assert hate_vs_insults["roc_auc"] > hate_vs_insults["toxicity_roc_auc"] + 0.2
    table = a.format_table(measured)
    assert table.count("| **") == len(a.ATTRIBUTES) and "written threats vs civil news comments" in table


def test_the_bar_fails_an_attribute_that_flags_civil_comments() -> None:
    civil = "written insults vs civil news comments"
    kind = "written insults vs written threats (kind)"
    good = [{"set": civil, "precision": 0.9}, {"set": kind, "roc_auc": 0.8}]
    assert a.meets_bar("INSULT", good)
    assert not a.meets_bar("INSULT", [{"set": civil, "precision": 0.6}, {"set": kind, "roc_auc": 0.8}])
    assert not a.meets_bar("INSULT", [{"set": civil, "precision": None}, {"set": kind, "roc_auc": 0.8}])
    assert not a.meets_bar("INSULT", good[:1])
    assert not a.meets_bar("PROFANITY", [{"set": "civil news comments (any flag is a false positive)", "fpr": 0.2}])


def test_written_kinds_partition_the_abusive_comments() -> None:
    assert sum(len(kind) for kind in evalsets.ABUSIVE_KINDS.values()) == len(evalsets.ABUSIVE_COMMENTS)
    assert evalsets.ABUSIVE_KINDS["threats"][0] == "I know where you live and I'm coming for you."


@pytest.mark.data
def test_public_sets_and_spans_are_measured(classifier: Classifier) -> None:
    measured = a.measure_attributes(classifier, DATA_DIR)
    names = {name: [row["set"] for row in entry["sets"]] for name, entry in measured["attributes"].items()}
    assert "Davidson tweets: hate vs offensive (kind)" in names["IDENTITY_ATTACK"]
    assert "Davidson tweets: offensive language vs neither" in names["PROFANITY"]
    spans = measured["spans"]
    card = classifier.metadata["metrics"]["evaluation"]["spans"]
    assert spans["f1"] == card["ours"]  # the spans the API serves are the ones the model card measured


def test_no_span_rule_means_no_model_spans_and_the_same_values(classifier: Classifier) -> None:
    text = "You are a moron and a liar."
    with_spans = a.attribute_scores(text, classifier.score(text))
    without = a.attribute_scores(text, classifier.score(text), rule=None)
    assert {n: s.value for n, s in without.items()} == {n: s.value for n, s in with_spans.items()}
    assert without["TOXICITY"].spans == () and with_spans["TOXICITY"].spans
    assert without["INSULT"].spans == with_spans["INSULT"].spans  # a gate's words are what its value rests on
