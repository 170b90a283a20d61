"""The shipped comment model, its evidence, its loader's checks, and training on a sample of the public data."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from moderation.classifier import (
    DEFAULT_MODEL_PATH,
    MAX_EVIDENCE,
    Classifier,
    ModelIntegrityError,
    Scores,
    analyze,
    linear_head,
    tokenize,
)
from moderation.datasets import Example, clean_text, clean_tweet, detokenise
from tests.conftest import DATA_DIR as TRAINING_DATA

DATA_DIR = TRAINING_DATA
needs_training_data = pytest.mark.skipif(
    not DATA_DIR.is_dir(), reason="needs ../shared/data (public training sets)"
)

SPAM = "WIN a FREE iPhone!!! click http://bit.ly/x now"
CIVIL = "Thanks for the thoughtful article, I learned a lot about the city budget."
INSULT = "You are a fucking idiot."
TRICKY = [
    SPAM,
    CIVIL,
    INSULT,
    "İstanbul’s mayor is an id10t and a$$hole!!! 😂 see www.example.com/x or mail me@example.org",
    "  Shut up,\nmoron.  Stuuuupid @someone RT: call 08452810075 for £1,000  ",
    "",
    "?!",
    "ﬁne words, ǅ and ß: WHAT A JOKE",
]


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier.load(DEFAULT_MODEL_PATH)


def test_shipped_artifact_loads_with_matching_metadata(shipped: Classifier) -> None:
    assert re.fullmatch(r"\d{4}\.\d{2}\.\d{2}-[0-9a-f]{8}", shipped.version)
    assert shipped.metadata["sha256"].startswith(shipped.version[-8:])
    assert DEFAULT_MODEL_PATH.stat().st_size < 20_000_000
    assert (DEFAULT_MODEL_PATH.parent / "MODEL_CARD.md").is_file()


def test_obvious_spam_scores_high_on_spam(shipped: Classifier) -> None:
    scores = shipped.score(SPAM)
    assert scores.spam > 0.8
    assert scores.abuse < 0.5
    assert {"FREE", "click"} & {e.text for e in scores.spam_words}


def test_civil_comment_scores_low_on_both(shipped: Classifier) -> None:
    scores = shipped.score(CIVIL)
    assert scores.spam < 0.2
    assert scores.abuse < 0.2


def test_insult_scores_high_on_abuse_with_the_insult_as_evidence(shipped: Classifier) -> None:
    scores = shipped.score(INSULT)
    assert scores.abuse > 0.9
    assert scores.spam < 0.5
    assert scores.abuse_words[0].text in {"idiot", "fucking"}


@pytest.mark.parametrize("text", TRICKY)
def test_evidence_indexes_the_original_text(shipped: Classifier, text: str) -> None:
    scores = shipped.score(text)
    for words in (scores.spam_words, scores.abuse_words):
        assert len(words) <= MAX_EVIDENCE
        assert [e.weight for e in words] == sorted((e.weight for e in words), reverse=True)
        for evidence in words:
            assert text[evidence.start : evidence.end] == evidence.text
            assert evidence.weight > 0


def test_obfuscated_words_are_found_at_their_original_spelling(shipped: Classifier) -> None:
    text = TRICKY[3]
    assert {"id10t", "a$$hole"} <= {e.text for e in shipped.score(text).abuse_words}


def test_probabilities_match_score_and_the_stored_heads(shipped: Classifier) -> None:
    fast = shipped.probabilities(TRICKY)
    assert fast.shape == (len(TRICKY), 2)
    slow = np.array([[s.spam, s.abuse] for s in shipped.score_many(TRICKY)])
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-12)
    matrix = shipped.vectorizer.transform(TRICKY)
    for column, head in enumerate(("spam", "abuse")):
        np.testing.assert_allclose(fast[:, column], shipped.model[head].predict_proba(matrix)[:, 1], atol=1e-9)
    assert shipped.probabilities([]).shape == (0, 2)


def test_evidence_weights_are_exact_shares_of_the_log_odds(shipped: Classifier) -> None:
    # One word, so the evidence is the whole score less the intercept.
    scores = shipped.score("idiot")
    _, intercept = linear_head(shipped.model["abuse"])
    logit = math.log(scores.abuse / (1 - scores.abuse))
    assert scores.abuse_words[0].weight == pytest.approx(logit - intercept, rel=1e-6)


def test_empty_text_scores_without_evidence(shipped: Classifier) -> None:
    scores = shipped.score("")
    assert isinstance(scores, Scores)
    assert scores.spam_words == () and scores.abuse_words == ()
    assert 0 <= scores.spam <= 1 and 0 <= scores.abuse <= 1


def test_load_refuses_an_artifact_that_does_not_match_its_metadata(tmp_path: Path) -> None:
    artifact = tmp_path / "comment-model.skops"
    shutil.copy(DEFAULT_MODEL_PATH, artifact)
    shutil.copy(DEFAULT_MODEL_PATH.with_suffix(".json"), artifact.with_suffix(".json"))
    Classifier.load(artifact)
    with artifact.open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        Classifier.load(artifact)


def test_load_refuses_types_outside_the_trusted_list(tmp_path: Path) -> None:
    import hashlib

    import skops.io
    from sklearn.preprocessing import FunctionTransformer

    artifact = tmp_path / "evil.skops"
    data = skops.io.dumps({"format": 2, "spam": FunctionTransformer(func=shutil.rmtree)})
    artifact.write_bytes(data)
    artifact.with_suffix(".json").write_text(json.dumps({"sha256": hashlib.sha256(data).hexdigest()}))
    with pytest.raises(ModelIntegrityError, match="trusted"):
        Classifier.load(artifact)


def test_tokenize_keeps_offsets_and_normalises_words() -> None:
    text = "You're an ID10T!!! see https://x.co/a, £5 or 0800123456 @bob"
    tokens = tokenize(text)
    assert [t[0] for t in tokens] == ["you're", "an", "idiot", "<bang>", "see", "<url>", "<money>", "or", "<longnum>"]
    assert [text[s:e] for _, s, e in tokens] == ["You're", "an", "ID10T", "!!!", "see", "https://x.co/a,", "£5", "or",
                                                 "0800123456"]
    assert "you're an" in analyze(text)


def test_cleaning_removes_source_artefacts() -> None:
    assert clean_tweet("!!! RT @mayasolovely: As a woman &amp; a man") == "!!! As a woman & a man"
    assert clean_text("Hey<br />you&#39;re <a href=\"http://x\">here</a>\ufeff") == "Hey\nyou're here"
    assert detokenise("He said `` no '' , and it 's over .") == 'He said "no", and it\'s over.'


@needs_training_data
def test_training_on_a_sample_generalises_within_sources(tmp_path: Path) -> None:
    from moderation.training import train_model

    out = tmp_path / "comment-model.skops"
    site = [Example(f"reader comment {i} about the council vote", "site", 0, 0) for i in range(10)]
    site += [Example(f"you worthless clown number {i}", "site", 0, 1) for i in range(10)]
    metrics = train_model(DATA_DIR, out, seed=0, extra=site, max_per_source=400)
    holdout = metrics["holdout"]
    assert holdout["spam"]["youtube"]["auc"] > 0.9
    assert holdout["spam"]["sms"]["auc"] > 0.9
    assert holdout["abuse"]["davidson"]["auc"] > 0.85
    assert holdout["abuse"]["stormfront"]["auc"] > 0.65
    assert set(metrics["cross_source"]["abuse"]) == {"davidson", "stormfront", "civil"}
    assert set(metrics["cross_source"]["spam"]) == {"youtube", "sms"}
    assert metrics["civil_sentences"]["spam"]["fpr"] <= 0.1

    model = Classifier.load(out)
    metadata = json.loads(out.with_suffix(".json").read_text())
    assert metadata["rows"]["davidson"]["rows"] == 400
    assert metadata["rows"]["site"] == {"rows": 20, "spam": 0, "not_spam": 20, "abusive": 10, "not_abusive": 10}
    assert metadata["extra_rows"] == 20
    assert len(metadata["training_files"]) >= 8
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "CC BY-SA 3.0 ES" in card and "Davidson" in card
    assert model.score(INSULT).abuse > model.score(CIVIL).abuse


@needs_training_data
def test_training_is_deterministic_given_the_seed() -> None:
    from moderation.datasets import load_all
    from moderation.training import fit_model, subsample

    sample = subsample(load_all(DATA_DIR, ("sms", "davidson")), 150, seed=1)
    sample.append(Example("a site moderator's call", "site", 0, 1))
    first = Classifier(fit_model(sample)).probabilities(TRICKY)
    second = Classifier(fit_model(sample)).probabilities(TRICKY)
    np.testing.assert_array_equal(first, second)
