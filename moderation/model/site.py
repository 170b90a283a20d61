"""A site's own block of features in an adapted model: its words, word pairs and the text of its links.

moderation.model.adaptation builds the block from the site's decisions; the classifier scores it beside
the base vocabulary. It lives apart from the base model's code so that the two change independently.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from moderation.model.classifier import (
    _SHAPES,
    LONG_NUMBER_TOKEN,
    NUMBER_TOKEN,
    ModelIntegrityError,
    tokenize,
)

# Shape tokens whose own text the site block keeps too: a campaign repeats its domain, address and numbers.
_RAW_SHAPES = frozenset({_SHAPES["url"], _SHAPES["email"], _SHAPES["money"], NUMBER_TOKEN, LONG_NUMBER_TOKEN})
_NOT_DIGIT = re.compile(r"[^0-9]")
SITE_RAW_PREFIX = "="


def _raw_term(form: str, raw: str) -> str:
    """A shape token's own text as a site term: a link's host, an address, a sum's or number's digits."""
    if form == _SHAPES["url"]:
        host = re.sub(r"^(?:https?://)?(?:www\.)?", "", raw.lower()).split("/", 1)[0]
        return SITE_RAW_PREFIX + host
    if form == _SHAPES["email"]:
        return SITE_RAW_PREFIX + raw.lower()
    return SITE_RAW_PREFIX + _NOT_DIGIT.sub("", raw)


def site_terms(text: str) -> list[tuple[str, int, int]]:
    """The site block's terms of a text, each with its first and last token: its word forms, adjacent word
    pairs, and the text of its links, addresses, sums and numbers (which the word forms keep only as shapes)."""
    tokens = tokenize(text)
    forms = [form for form, _, _ in tokens]
    terms = [(form, i, i) for i, form in enumerate(forms)]
    terms += [(f"{a} {b}", i, i + 1) for i, (a, b) in enumerate(itertools.pairwise(forms))]
    terms += [(_raw_term(form, text[start:end]), i, i) for i, (form, start, end) in enumerate(tokens)
              if form in _RAW_SHAPES]
    return terms


class SiteBlock:
    """A site's own words and word pairs (moderation.model.adaptation), weighed beside the base vocabulary.

    Its tf-idf is sublinear and normalised on its own, as a model fitted on the site's decisions alone
    would see it: a handful of the site's words is then heard beside the base's many character n-grams.
    """

    def __init__(self, features: Sequence[str] | NDArray[np.str_], idf: NDArray[np.float64],
                 weights: NDArray[np.float64]) -> None:
        self.vocabulary = {str(feature): column for column, feature in enumerate(features)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.weights = weights
        if len(self.vocabulary) != len(self.idf) or len(self.idf) != len(weights):
            raise ModelIntegrityError("site features, idf and weights differ in length")

    def occurrences(self, text: str) -> list[tuple[int, int, int]]:
        """(first token, last token, column) of each occurrence of a block feature in a text."""
        vocabulary = self.vocabulary
        return [(first, last, column) for term, first, last in site_terms(text)
                if (column := vocabulary.get(term)) is not None]

    def contributions(self, occurrences: list[tuple[int, int, int]]) -> tuple[NDArray[np.float64],
                                                                              NDArray[np.float64]]:
        """Return each occurrence's share of the log-odds (rows, a column per head), and their sum per head."""
        heads = self.weights.shape[1]
        if not occurrences:
            return np.zeros((0, heads)), np.zeros(heads)
        columns, inverse, counts = np.unique([c for _, _, c in occurrences], return_inverse=True,
                                             return_counts=True)
        values = (1.0 + np.log(counts)) * self.idf[columns]
        values /= math.sqrt(float(values @ values))
        per_feature = values[:, None] * self.weights[columns]
        return per_feature[inverse] / counts[inverse, None], per_feature.sum(axis=0)

    def logits(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """The block's log-odds for each text, shape (len(texts), heads)."""
        return np.array([self.contributions(self.occurrences(text))[1] for text in texts],
                        dtype=np.float64).reshape(len(texts), self.weights.shape[1])
