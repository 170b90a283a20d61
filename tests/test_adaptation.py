"""Adapting the shipped model to a site's decisions: the site's own words count, scores and evidence stay exact."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from moderation.model.adaptation import adapt
from moderation.model.classifier import DEFAULT_MODEL_PATH, Classifier
from moderation.model.datasets import Example
from moderation.model.signals import Author
from moderation.model.site import site_terms
from moderation.model.training import write_artifact

# A site whose spammers push one made-up app, and whose readers argue about the ferry timetable. The
# pitches read like the readers' own comments, so the shipped model ranks them among the readers' and only
# the site's decisions can tell them apart (a pitch it already knows for spam would leave nothing to learn).
SPAMMY = ["The Zorblax app has the real ferry times, works for me",
          "Use zorblax for the ferry times, my aunt swears by it",
          "zorblax has the island timetable, I check it every day",
          "Ferry late again? Zorblax knows."]
CIVIL = ["The ferry timetable change hurts commuters from the island.",
         "Why does the council never consult on the ferry times?",
         "I take the 7:10 ferry and it has been late all month.",
         "The new timetable is fine for tourists, not for workers."]


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier.load(DEFAULT_MODEL_PATH)


@pytest.fixture(scope="module")
def site_decisions() -> list[Example]:
    rng = random.Random(3)
    rows = [Example(f"{rng.choice(SPAMMY)} ({n})", "site", 1, 0) for n in range(30)]
    rows += [Example(f"{rng.choice(CIVIL)} Point {n}.", "site", 0, 0, Author("Ann", "ann@example.org"))
             for n in range(40)]
    rng.shuffle(rows)
    return rows


@pytest.fixture(scope="module")
def adapted(shipped: Classifier, site_decisions: list[Example]) -> Classifier:
    model, reports = adapt(shipped, site_decisions)
    assert {r.head: r.adapted for r in reports} == {"spam": True, "abuse": False}
    return Classifier(model)


def test_the_sites_own_spam_is_learnt(shipped: Classifier, adapted: Classifier) -> None:
    text = "Zorblax has the winter timetable already"
    # Held (the default hold threshold is 0.5) after the decisions, published before them.
    assert adapted.score(text).spam > 0.8 > 0.5 > shipped.score(text).spam
    assert adapted.score(CIVIL[0]).spam < 0.5
    assert "Zorblax" in {e.text for e in adapted.score(text).spam_words}


def test_a_form_of_the_sites_spam_word_that_no_decision_held_is_learnt_too(shipped: Classifier,
                                                                             adapted: Classifier) -> None:
    # No decision says "Zorblaxx": the correction reaches the base's character n-grams, not only the site's words.
    assert not any("zorblaxx" in term for text in SPAMMY for term, _, _ in site_terms(text))
    assert shipped.score("Zorblaxx!").spam < 0.05
    assert adapted.score("Zorblaxx!").spam > 0.3
    assert adapted.score("The timetables changed again").spam < 0.5


def test_an_adapted_model_scores_the_same_every_way_with_exact_evidence(adapted: Classifier) -> None:
    texts = [*SPAMMY, *CIVIL, "", "zorblax", "www.zorblax-direct.example/buy 0800 555 0199 £40"]
    batch = adapted.probabilities(texts)
    single = np.array([[s.spam, s.abuse] for s in adapted.score_many(texts)])
    np.testing.assert_allclose(batch, single, rtol=1e-9, atol=1e-12)
    # One word: its evidence is the whole spam log-odds less the intercept.
    only = adapted.score("zorblax")
    logit = math.log(only.spam / (1 - only.spam))
    assert only.spam_words[0].weight == pytest.approx(logit - adapted.log_odds([""])[0, 0], rel=1e-6)


def test_a_head_with_too_few_decisions_keeps_the_base(shipped: Classifier, adapted: Classifier) -> None:
    for text in ["You are a complete idiot.", CIVIL[1], "Shut up, moron"]:
        assert adapted.score(text).abuse == pytest.approx(shipped.score(text).abuse, rel=1e-9)


def test_spam_the_base_already_ranks_first_is_still_learnt(shipped: Classifier) -> None:
    # Pitches the shipped model already ranks above every reader ("order ... now", a shop's address): the
    # folds' AUC cannot improve on the base's, but the correction's log-loss does, and it is kept.
    pitches = ["Zorblax tonic cures everything, order at zorblax-direct.example now",
               "zorblax works, zorblax-direct.example has it cheap this week"]
    rows = [Example(f"{pitches[n % 2]} ({n})", "site", 1, 0) for n in range(30)]
    rows += [Example(f"{CIVIL[n % 4]} Point {n}.", "site", 0, 0) for n in range(40)]
    texts = [row.text for row in rows]
    base = shipped.probabilities(texts)[:, 0]
    assert base[:30].min() > base[30:].max()  # the base ranks them perfectly already
    model, reports = adapt(shipped, rows)
    (spam,) = [r for r in reports if r.head == "spam"]
    assert spam.c is not None and spam.scale and spam.scale > 0.5  # a correction, on top of the base
    assert Classifier(model).score("zorblax").spam > 0.5 > shipped.score("zorblax").spam


def test_decisions_that_say_nothing_leave_the_base_ranking_alone(shipped: Classifier) -> None:
    # Labels drawn at random, whatever the text: any correction would be fitted to noise.
    rng = random.Random(7)
    texts = [f"{rng.choice(CIVIL + SPAMMY)} Point {n}." for n in range(80)]
    noise = [Example(text, "site", rng.randint(0, 1), None) for text in texts]
    model, reports = adapt(shipped, noise)
    (spam,) = [r for r in reports if r.head == "spam"]
    assert spam.adapted and spam.c is None  # scale and shift only
    before, after = shipped.probabilities(texts)[:, 0], Classifier(model).probabilities(texts)[:, 0]
    order = np.argsort(before, kind="stable")
    assert np.all(np.diff(after[order]) >= -1e-12) or np.all(np.diff(after[order]) <= 1e-12)

def test_the_site_block_keeps_the_text_of_links_and_numbers_and_no_identity_word() -> None:
    terms = {term for term, _, _ in site_terms("Visit www.Zorblax.example/x or call 0800 555 0199, gay or not")}
    assert {"=zorblax.example", "=0800", "=555", "=0199", "visit", "visit <url>"} <= terms
    assert not any("gay" in term for term in terms)


def test_an_adapted_artifact_round_trips_and_cannot_be_adapted_again(tmp_path: Path, adapted: Classifier,
                                                                     site_decisions: list[Example]) -> None:
    model = {**adapted.model, "features": adapted.feature_names()}
    write_artifact(model, tmp_path / "site.skops", {"base": "test"})
    loaded = Classifier.load(tmp_path / "site.skops")
    np.testing.assert_allclose(loaded.probabilities(SPAMMY + CIVIL), adapted.probabilities(SPAMMY + CIVIL), atol=1e-12)
    with pytest.raises(ValueError, match="not one already adapted"):
        adapt(loaded, site_decisions)
