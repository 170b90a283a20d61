"""Abuse heads for the languages other than English: hashed word and character n-grams, one linear head each.

English has the vocabulary model of moderation.model.classifier, with its lexicons. Each other language
has one head trained on its public sets (moderation.model.languages.data): the words of a comment, each
word's character 2-5-grams (Korean and German build words from parts; Arabic and Portuguese inflect),
and pairs of neighbouring words, hashed into N_FEATURES columns, sublinear tf-idf, and an L2 logistic
regression Platt-scaled on out-of-fold scores with classes weighted equally. Chinese is written without
spaces, so there each Han character is a word and neighbouring characters pair up and run in threes.

Hashing keeps a head to two float32 arrays (weights and idf, 1 MB each) with no vocabulary to load or
keep in memory. Calibration is folded into the weights, so a word's evidence is its exact share of the
calibrated log-odds, as in the English model. Equal class weights mean 0.5 is even odds on a stream where
abuse and civility are equally common, whatever the share of positives in the training set (80% in MLMA's
French tweets, 18% in the Al Jazeera comments): a site's stream is far more civil, so 0.5 is a review
threshold, not odds.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction import FeatureHasher
from sklearn.utils import murmurhash3_32

N_FEATURES = 2**18
CHAR_NGRAMS: tuple[int, int] = (2, 5)
CHAR_PREFIX = "#"
# The pooled head, trained on every language's sets together: the rough score a comment in a language
# without its own head gets, shown to moderators but never deciding (policy `unsupported_language`).
POOLED = "*"

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_ELONGATION = re.compile(r"(.)\1{3,}")
_CACHE_LIMIT = 100_000
_HASHER = FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False)


def tokens(text: str) -> list[tuple[str, int, int]]:
    """Return (form, start, end) per word: lower-cased, long letter runs cut to three, each Han character alone."""
    found: list[tuple[str, int, int]] = []
    # Most comments hold neither Han characters nor letter runs: one search each spares a test per word.
    han = _HAN.search(text) is not None
    elongated = _ELONGATION.search(text) is not None
    for match in _WORD.finditer(text):
        word, start = match.group(), match.start()
        if han and _HAN.search(word):
            for offset, char in enumerate(word):
                if _HAN.match(char):
                    found.append((char, start + offset, start + offset + 1))
                else:
                    # Latin letters or digits inside a run of Han characters stay one word.
                    if found and found[-1][2] == start + offset and not _HAN.match(found[-1][0]):
                        form, first, _ = found.pop()
                        found.append((form + char.lower(), first, start + offset + 1))
                    else:
                        found.append((char.lower(), start + offset, start + offset + 1))
            continue
        form = word.lower()
        found.append((_ELONGATION.sub(r"\1\1\1", form) if elongated else form, start, match.end()))
    return found


def word_features(form: str, grams: tuple[int, int] = CHAR_NGRAMS) -> list[str]:
    """Return a word's own feature and its character n-grams (padded with a space each side)."""
    if len(form) == 1 and _HAN.match(form):
        return [form]
    padded = f" {form} "
    found = [
        CHAR_PREFIX + padded[i : i + n]
        for n in range(grams[0], grams[1] + 1)
        for i in range(len(padded) - n + 1)
    ]
    return [form, *found]


def pair_features(forms: Sequence[str]) -> list[tuple[int, int, str]]:
    """Return (first, last, feature) for each pair of neighbouring words, and each run of three Han characters."""
    pairs = [(i, i + 1, f"{a} {b}") for i, (a, b) in enumerate(itertools.pairwise(forms))]
    if not any(len(form) == 1 and _HAN.match(form) for form in forms):
        return pairs
    for i in range(len(forms) - 2):
        if all(len(form) == 1 and _HAN.match(form) for form in forms[i : i + 3]):
            pairs.append((i, i + 2, " ".join(forms[i : i + 3])))
    return pairs


def text_features(text: str, grams: tuple[int, int] = CHAR_NGRAMS) -> list[str]:
    """Return every feature of a text, as the heads count them."""
    forms = [form for form, _, _ in tokens(text)]
    features: list[str] = []
    for form in forms:
        features.extend(word_features(form, grams))
    features.extend(feature for _, _, feature in pair_features(forms))
    return features


def counts(texts: Sequence[str], grams: tuple[int, int] = CHAR_NGRAMS) -> Any:
    """Return the hashed feature counts of texts (CSR, one row per text)."""
    if not texts:
        return sp.csr_matrix((0, N_FEATURES))
    return _HASHER.transform(text_features(text, grams) for text in texts)


def sublinear_tfidf(matrix: Any, idf: NDArray[np.floating[Any]]) -> Any:
    """Return l2-normalised (1 + log tf) * idf of a count matrix, in place."""
    matrix = matrix.tocsr().astype(np.float64)
    np.log(matrix.data, out=matrix.data)
    matrix.data += 1.0
    matrix.data *= idf[matrix.indices]
    squares = np.bincount(np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr)),
                          weights=matrix.data * matrix.data, minlength=matrix.shape[0])
    norms = np.sqrt(squares)
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    matrix.data *= np.repeat(scale, np.diff(matrix.indptr))
    return matrix


def _column(feature: str) -> int:
    """The column FeatureHasher gives a feature: |signed murmurhash3_32 of its UTF-8| mod N_FEATURES."""
    hashed = murmurhash3_32(feature, seed=0)
    # abs(-2**31) overflows int32 in scikit-learn's Cython; it defines the column as this instead.
    return (2**31 - 1 - (N_FEATURES - 1)) % N_FEATURES if hashed == -(2**31) else abs(hashed) % N_FEATURES


class _ColumnCache(dict[str, NDArray[np.int64]]):
    """A word form's hashed columns (its own feature and its character n-grams), computed once."""

    def __init__(self, grams: tuple[int, int]) -> None:
        super().__init__()
        self.grams = grams

    def __missing__(self, form: str) -> NDArray[np.int64]:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        found = self[form] = np.array([_column(f) for f in word_features(form, self.grams)], dtype=np.int64)
        return found


# A word's span in the text (start, end) and its share of a head's calibrated log-odds.
WordShare = tuple[int, int, float]


class LanguageHead:
    """One language's calibrated abuse head over hashed features."""

    def __init__(self, language: str, weights: NDArray[np.float32], idf: NDArray[np.float32], intercept: float,
                 grams: tuple[int, int] = CHAR_NGRAMS) -> None:
        """Wrap the arrays a training run stored for language (calibration folded into weights and intercept)."""
        if weights.shape != (N_FEATURES,) or idf.shape != (N_FEATURES,):
            raise ValueError(f"{language}: a head needs {N_FEATURES} weights and idf values")
        self.language = language
        self.weights = weights
        self.idf = idf
        self.intercept = intercept
        self.grams = grams
        self._columns = _ColumnCache(grams)

    @classmethod
    def from_artifact(cls, language: str, stored: dict[str, Any]) -> LanguageHead:
        """Rebuild a head from its entry in the model artifact."""
        low, high = (int(n) for n in stored["char_ngrams"])
        return cls(language, np.asarray(stored["weights"], dtype=np.float32),
                   np.asarray(stored["idf"], dtype=np.float32), float(stored["intercept"]), (low, high))

    def to_artifact(self) -> dict[str, Any]:
        """The head as plain arrays and numbers, for the model artifact."""
        return {"weights": self.weights, "idf": self.idf, "intercept": self.intercept,
                "char_ngrams": list(self.grams)}

    def log_odds(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Return the calibrated log-odds of abuse for each text."""
        matrix = sublinear_tfidf(counts(texts, self.grams), self.idf)
        return np.asarray(matrix @ self.weights.astype(np.float64), dtype=np.float64) + self.intercept

    def shares(self, text: str) -> tuple[float, list[WordShare]]:
        """Return the calibrated log-odds of one text and each distinct word's share of it (first occurrence).

        Equal to log_odds() (tests hold them to 1e-9) without its sparse matrices: a word's hashed
        columns are cached, and the arithmetic runs over the text's own columns only.
        """
        found = tokens(text)
        if not found:
            return self.intercept, []
        forms = [form for form, _, _ in found]
        owner_of: dict[str, int] = {}
        owners = [owner_of.setdefault(form, len(owner_of)) for form in forms]
        first = {owner: i for i, owner in reversed(list(enumerate(owners)))}
        # Every occurrence of a feature, with the word that holds it; a pair's goes half to each word.
        word_columns = [self._columns[form] for form in forms]
        pairs = pair_features(forms)
        columns = np.concatenate([*word_columns, np.array([_column(f) for _, _, f in pairs], dtype=np.int64)])
        holders = np.concatenate([
            np.repeat(np.array(owners, dtype=np.int64), [len(c) for c in word_columns]),
            np.array([owners[a] for a, _, _ in pairs], dtype=np.int64),
        ])
        others = np.array([owners[b] for _, b, _ in pairs], dtype=np.int64)
        unique, inverse, counts = np.unique(columns, return_inverse=True, return_counts=True)
        values = (1.0 + np.log(counts)) * self.idf[unique]
        values /= math.sqrt(float(values @ values))
        contribution = values * self.weights[unique]
        per_occurrence = contribution[inverse] / counts[inverse]
        singles = len(columns) - len(pairs)
        per_occurrence[singles:] *= 0.5
        by_owner = np.bincount(np.concatenate((holders, others)), minlength=len(owner_of),
                               weights=np.concatenate((per_occurrence, per_occurrence[singles:])))
        words = [(found[first[owner]][1], found[first[owner]][2], float(by_owner[owner]))
                 for owner in range(len(owner_of))]
        return float(contribution.sum()) + self.intercept, words
