"""Runtime spam/abuse model: loads the shipped skops artifact and scores comments with evidence.

The artifact is a dict holding the tf-idf vocabulary (feature names in column
order) and idf weights as plain arrays, from which the `TfidfVectorizer`
(analyzer: `analyze` below) is rebuilt, and one calibrated logistic regression
per head.  Arrays rather than a pickled vectorizer keep loading fast (a
200k-entry dict costs seconds in skops) and keep code out of the file.  Both heads are linear
in the tf-idf features after Platt scaling, so each feature's share of the
calibrated log-odds is exactly `tfidf value * weight`; `score()` hands those
shares to the words they came from, which is the evidence it returns.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

DEFAULT_MODEL_PATH: Path = Path(__file__).resolve().parents[1] / "models" / "comment-model.skops"
ARTIFACT_FORMAT = 2
HEADS: tuple[str, ...] = ("spam", "abuse")
MAX_EVIDENCE = 5
CHAR_NGRAMS: tuple[int, int] = (3, 5)

# Exactly the types a model written by moderation.training contains; skops
# refuses to load a file holding anything else.
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.linear_model._logistic.LogisticRegression",
)

# One alternation, so a single finditer pass yields every token with its offsets.
# URLs, e-mail addresses, sums of money and runs of !/? become shape tokens;
# @handles are dropped because in the training data they only mark tweets.
# Inside a word, apostrophes and the symbols people use to dodge filters
# (f*ck, sh!t, a$$hole) are kept so the word stays whole.
_TOKEN = re.compile(
    r"(?P<url>(?:https?://|www\.)[^\s<>\"']+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|info|biz|ly|co|uk|io|me|tv|us|ru)\b(?:/[^\s<>\"']*)?)"
    r"|(?P<email>[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+)"
    r"|(?P<handle>(?<!\w)@\w+)"
    r"|(?P<money>[£$€]\s?\d[\d,.]*)"
    r"|(?P<bang>[!?]{2,})"
    r"|(?P<word>[^\W_](?:[^\W_]|['\u2019](?=[^\W_])|[*$@!]+(?=[^\W_]))*)",
    re.IGNORECASE,
)
_SHAPES = {"url": "<url>", "email": "<email>", "money": "<money>", "bang": "<bang>"}
_ELONGATION = re.compile(r"(.)\1{2,}")
_LEET_RUN = re.compile(r"(?<=[a-z])[0134579$@!]+(?=[a-z])")
_LEET = str.maketrans("0134579$@!", "oieastgsai")
_LONG_NUMBER = re.compile(r"\d{5,}")
NUMBER_TOKEN = "<num>"
LONG_NUMBER_TOKEN = "<longnum>"
# Character n-gram features carry this prefix, so "#ab" never collides with the word "ab".
CHAR_PREFIX = "#"
_CACHE_LIMIT = 100_000


class ModelIntegrityError(RuntimeError):
    """The artifact does not match its metadata, or is not a model this code can run."""


# Comments reuse a small vocabulary; caching saves most of tokenize()'s time.
@functools.lru_cache(maxsize=1 << 16)
def normalise_word(word: str) -> str:
    """Return the feature form of one word: lower-case, de-elongated, de-leeted, numbers as shapes."""
    word = word.lower().replace("\u2019", "'")
    if _LONG_NUMBER.search(word):
        return LONG_NUMBER_TOKEN
    if word.isdigit():
        return NUMBER_TOKEN
    word = _ELONGATION.sub(r"\1\1", word)
    return _LEET_RUN.sub(lambda match: match.group().translate(_LEET), word)


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Return (feature form, start, end) for each token of text, offsets into text."""
    tokens: list[tuple[str, int, int]] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "word":
            tokens.append((normalise_word(match.group()), match.start(), match.end()))
        elif kind is not None and kind in _SHAPES:
            tokens.append((_SHAPES[kind], match.start(), match.end()))
    return tokens


def char_grams(word: str) -> list[str]:
    """Return the prefixed character n-grams of one word form (none for shape tokens)."""
    if word.startswith("<"):
        return []
    padded = f" {word} "
    low, high = CHAR_NGRAMS
    return [
        CHAR_PREFIX + padded[i : i + n]
        for n in range(low, high + 1)
        for i in range(len(padded) - n + 1)
    ]


def analyze(text: str) -> list[str]:
    """Return text's features: word unigrams, word bigrams and per-word character n-grams."""
    words = [token[0] for token in tokenize(text)]
    features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    for word in words:
        features.extend(char_grams(word))
    return features


@dataclass(frozen=True, slots=True)
class Evidence:
    """A word that raised a score: its span in the scored text and its share of the log-odds."""

    start: int
    end: int
    text: str
    weight: float


@dataclass(frozen=True, slots=True)
class Scores:
    """Calibrated spam and abuse probabilities with the words that raised each."""

    spam: float
    abuse: float
    spam_words: tuple[Evidence, ...]
    abuse_words: tuple[Evidence, ...]


def build_vectorizer(features: Sequence[str] | NDArray[np.str_], idf: NDArray[np.float64]) -> Any:
    """Return a TfidfVectorizer over analyze() with the given column names and idf weights."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vocabulary = {str(feature): column for column, feature in enumerate(features)}
    if len(vocabulary) != len(idf):
        raise ModelIntegrityError("feature names and idf weights differ in length")
    vectorizer = TfidfVectorizer(analyzer=analyze, sublinear_tf=True, vocabulary=vocabulary)
    # Setting idf_ is sklearn's supported way to move a fitted idf into a vectorizer.
    vectorizer.idf_ = np.asarray(idf, dtype=np.float64)
    return vectorizer


def linear_head(head: Any) -> tuple[NDArray[np.float64], float]:
    """Return (weights, intercept) giving a fitted head's calibrated log-odds of the positive class."""
    if hasattr(head, "calibrated_classifiers_"):
        if len(head.calibrated_classifiers_) != 1:
            raise ModelIntegrityError("calibrated head must be fitted with ensemble=False")
        fold = head.calibrated_classifiers_[0]
        estimator, calibrator = fold.estimator, fold.calibrators[0]
        if not hasattr(calibrator, "a_"):
            raise ModelIntegrityError("calibrated head must use sigmoid calibration")
        # _SigmoidCalibration predicts expit(-(a * f + b)) from the decision function f.
        a, b = float(calibrator.a_), float(calibrator.b_)
        coef = np.asarray(estimator.coef_, dtype=np.float64).ravel()
        return -a * coef, -(a * float(estimator.intercept_[0]) + b)
    coef = np.asarray(head.coef_, dtype=np.float64).ravel()
    return coef, float(head.intercept_[0])


def _expit(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)), dtype=np.float64)


class Classifier:
    """Scores comments for spam and abuse with one shared vectorizer and two linear heads."""

    version: str
    metadata: dict[str, Any]

    def __init__(self, model: dict[str, Any], metadata: dict[str, Any] | None = None, version: str = "dev") -> None:
        """Wrap a model dict as written by moderation.training: features, idf and one head per name in HEADS."""
        if model.get("format") != ARTIFACT_FORMAT:
            raise ModelIntegrityError(f"unsupported artifact format {model.get('format')!r}")
        self.metadata = dict(metadata or {})
        self.version = version
        self.vectorizer = build_vectorizer(model["features"], model["idf"])
        # The feature names live on in the vocabulary; the array of them (tens of MB) need not.
        self.model = {key: value for key, value in model.items() if key != "features"}
        self._vocabulary: dict[str, int] = self.vectorizer.vocabulary_
        self._idf = np.asarray(model["idf"], dtype=np.float64)
        columns = [linear_head(model[name]) for name in HEADS]
        # One (features x heads) matrix, so a single product scores both heads.
        self._weights = np.column_stack([coef for coef, _ in columns])
        self._intercepts = np.array([intercept for _, intercept in columns])
        if self._weights.shape[0] != len(self._idf):
            raise ModelIntegrityError("head and vectorizer sizes differ")
        # Word form -> feature ids of its unigram and character n-grams: comments reuse words.
        self._word_features: dict[str, list[int]] = {}

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL_PATH) -> Classifier:
        """Load an artifact after checking its sha256 against the metadata JSON beside it."""
        import skops.io

        data = path.read_bytes()
        metadata = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        digest = hashlib.sha256(data).hexdigest()
        if metadata.get("sha256") != digest:
            raise ModelIntegrityError(f"{path}: sha256 {digest} does not match its metadata")
        untrusted = set(skops.io.get_untrusted_types(data=data)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ModelIntegrityError(f"{path}: holds types outside the trusted list: {sorted(untrusted)}")
        model = skops.io.loads(data, trusted=list(TRUSTED_TYPES))
        return cls(model, metadata, version=model_version(metadata.get("trained_at", ""), digest))

    def probabilities(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Return calibrated probabilities, shape (len(texts), 2): columns spam, abuse."""
        if len(texts) == 0:
            return np.zeros((0, len(HEADS)))
        matrix = self.vectorizer.transform(list(texts))
        return _expit(np.asarray(matrix @ self._weights) + self._intercepts)

    def score(self, text: str) -> Scores:
        """Score one comment, with up to MAX_EVIDENCE words per head that raised its score."""
        tokens = tokenize(text)
        vocabulary = self._vocabulary
        features: list[int] = []
        owners: list[int] = []
        shares: list[float] = []
        owner_of: dict[str, int] = {}
        first_span: list[tuple[int, int]] = []
        token_owner: list[int] = []
        for word, start, end in tokens:
            owner = owner_of.get(word)
            if owner is None:
                owner = owner_of[word] = len(first_span)
                first_span.append((start, end))
            token_owner.append(owner)
            ids = self._features_of(word)
            features.extend(ids)
            owners.extend([owner] * len(ids))
            shares.extend([1.0] * len(ids))
        for i in range(len(tokens) - 1):
            feature = vocabulary.get(f"{tokens[i][0]} {tokens[i + 1][0]}")
            if feature is not None:
                # A bigram's share of the score is split evenly between its two words.
                features.extend((feature, feature))
                owners.extend((token_owner[i], token_owner[i + 1]))
                shares.extend((0.5, 0.5))
        if not features:
            probabilities = _expit(self._intercepts)
            return Scores(float(probabilities[0]), float(probabilities[1]), (), ())
        feature_ids, inverse = np.unique(np.asarray(features), return_inverse=True)
        share = np.asarray(shares)
        counts = np.bincount(inverse, weights=share)
        values = (1.0 + np.log(counts)) * self._idf[feature_ids]
        values /= math.sqrt(float(values @ values))
        contributions = values[:, None] * self._weights[feature_ids]
        logits = contributions.sum(axis=0) + self._intercepts
        probabilities = _expit(logits)
        # Each occurrence takes its share of its feature's contribution; owners sum them.
        per_occurrence = contributions[inverse] * (share / counts[inverse])[:, None]
        owner_ids = np.asarray(owners)
        evidence = [
            self._evidence(text, first_span, np.bincount(owner_ids, weights=per_occurrence[:, head],
                                                        minlength=len(first_span)).astype(np.float64))
            for head in range(len(HEADS))
        ]
        return Scores(float(probabilities[0]), float(probabilities[1]), evidence[0], evidence[1])

    def score_many(self, texts: Sequence[str]) -> list[Scores]:
        """Score each comment with evidence, as score() does."""
        return [self.score(text) for text in texts]

    def _features_of(self, word: str) -> list[int]:
        """Return the vocabulary ids of a word's unigram and character n-grams, cached."""
        cached = self._word_features.get(word)
        if cached is None:
            vocabulary = self._vocabulary
            candidates = [word, *char_grams(word)]
            cached = [vocabulary[f] for f in candidates if f in vocabulary]
            if len(self._word_features) >= _CACHE_LIMIT:
                self._word_features.clear()
            self._word_features[word] = cached
        return cached

    @staticmethod
    def _evidence(text: str, spans: list[tuple[int, int]], weights: NDArray[np.float64]) -> tuple[Evidence, ...]:
        """Return the strongest positive word weights as Evidence at each word's first occurrence."""
        order = np.argsort(-weights, kind="stable")[:MAX_EVIDENCE]
        return tuple(
            Evidence(spans[i][0], spans[i][1], text[spans[i][0] : spans[i][1]], float(weights[i]))
            for i in order
            if weights[i] > 0
        )


def model_version(trained_at: str, sha256: str) -> str:
    """Return a version string like 2026.11.26-1a2b3c4d from the training time and artifact hash."""
    try:
        day = datetime.fromisoformat(trained_at).strftime("%Y.%m.%d")
    except ValueError:
        day = "0000.00.00"
    return f"{day}-{sha256[:8]}"
