"""Runtime spam/abuse model: loads the shipped skops artifact and scores comments with evidence.

The artifact is a dict holding the tf-idf vocabulary (feature names in column
order) and idf weights as plain arrays, from which the `TfidfVectorizer`
(analyzer: `analyze` below) is rebuilt, and one calibrated logistic regression
per head.  Arrays rather than a pickled vectorizer keep loading fast (a
200k-entry dict costs seconds in skops) and keep code out of the file.  Both heads are linear
in the tf-idf features after Platt scaling, so each feature's share of the
calibrated log-odds is exactly `tfidf value * weight`; `score()` hands those
shares to the words they came from, which is the evidence it returns.

Scoring does not go through the vectorizer, whose `analyze()` rebuilds every word's
character n-grams in Python: each word form's feature ids are cached, bigrams are looked
up in numpy, and counts are summed in C.  The numbers equal the vectorizer's (tests hold
them to 1e-9); the vectorizer stays as the reference and for training.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import multiprocessing
import operator
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from moderation.model import signals as signal_detectors
from moderation.model.languages.detection import ENGLISH, SUPPORTED_LANGUAGES
from moderation.model.languages.heads import POOLED, LanguageHead, WordShare
from moderation.model.lexicon import (
    IDENTITY_TOKEN,
    LEXICON_FEATURE,
    PROMO_FEATURE,
    PROMO_TERMS,
    in_lexicon,
    is_identity,
)
from moderation.model.signals import NO_AUTHOR, Author, Found, Signal

if TYPE_CHECKING:
    from moderation.model.site import SiteBlock

DEFAULT_MODEL_PATH: Path = Path(__file__).resolve().parents[2] / "models" / "comment-model.skops"
# 3: the heads also weigh the spam signals (moderation.model.signals), listed under "signals".
ARTIFACT_FORMAT = 3
READABLE_FORMATS = (2, 3)
HEADS: tuple[str, ...] = ("spam", "abuse")
MAX_EVIDENCE = 5
# Evidence words weigh at least this share of the strongest one: below it come the function words
# every comment holds ("a", "the", "to"), which explain nothing to a moderator.  The toxic-span
# check keeps words at 0.7 of the strongest, so nothing it uses is cut here.
EVIDENCE_FLOOR = 0.3
CHAR_NGRAMS: tuple[int, int] = (3, 5)

# Exactly the types a model written by moderation.model.training contains; skops
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
# Possessive runs (++) stop a word from being rescanned when it is not a URL or address: the next
# character must be one the run cannot hold, so giving characters back could never help.
_TLD = r"(?:com|net|org|info|biz|ly|co|uk|io|me|tv|us|ru)"
_BANG = r"[!?]{2,}"
_WORD = r"[^\W_]+(?:(?:['\u2019]|[*$@!]+)[^\W_]+)*"
_TOKEN = re.compile(
    r"(?P<url>(?:https?://|www\.)[^\s<>\"']+"
    rf"|\b[a-z0-9-]++(?:\.[a-z0-9-]++)*\.{_TLD}\b(?:/[^\s<>\"']*)?)"
    r"|(?P<email>[\w.+-]++@[a-z0-9-]++(?:\.[a-z0-9-]++)+)"
    r"|(?P<handle>(?<!\w)@\w+)"
    r"|(?P<money>[£$€]\s?\d[\d,.]*)"
    rf"|(?P<bang>{_BANG})"
    rf"|(?P<word>{_WORD})",
    re.IGNORECASE,
)
# Most comments hold no URL, address, handle or sum.  In a text where none of those can match
# anywhere, _TOKEN finds exactly what its last two branches alone find, and those are three times
# faster to scan; the groups stay the same so callers need not know which pattern ran.
_PLAIN_TOKEN = re.compile(
    rf"(?P<url>(?!))|(?P<email>(?!))|(?P<handle>(?!))|(?P<money>(?!))|(?P<bang>{_BANG})|(?P<word>{_WORD})",
    re.IGNORECASE,
)
# The same without groups: findall then returns bare strings, and only a bang starts with ! or ?.
_PLAIN_TOKEN_TEXT = re.compile(rf"{_BANG}|{_WORD}", re.IGNORECASE)
# What every URL, money match needs somewhere in the text; e-mails and handles need an "@".
_SPECIAL = re.compile(rf"://|www\.|\.{_TLD}\b|[£$€]\s?\d", re.IGNORECASE)
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
# Below this many texts a process pool costs more to start than it saves.
PARALLEL_MIN_TEXTS = 20_000


class ModelIntegrityError(RuntimeError):
    """The artifact does not match its metadata, or is not a model this code can run."""


# Comments reuse a small vocabulary; caching saves most of tokenize()'s time.
@functools.lru_cache(maxsize=1 << 16)
def normalise_word(word: str) -> str:
    """Return the feature form of one word: lower-case, de-elongated, de-leeted, numbers and identities as shapes."""
    word = word.lower().replace("\u2019", "'")
    if _LONG_NUMBER.search(word):
        return LONG_NUMBER_TOKEN
    if word.isdigit():
        return NUMBER_TOKEN
    word = _ELONGATION.sub(r"\1\1", word)
    word = _LEET_RUN.sub(lambda match: match.group().translate(_LEET), word)
    # No feature holds IDENTITY_TOKEN (training leaves them out), so naming who you are weighs nothing.
    return IDENTITY_TOKEN if is_identity(word) else word


def _pattern_for(text: str) -> re.Pattern[str]:
    """Return _PLAIN_TOKEN if text cannot hold a URL, e-mail, handle or sum, else _TOKEN."""
    if "@" in text or _SPECIAL.search(text) is not None:
        return _TOKEN
    return _PLAIN_TOKEN


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Return (feature form, start, end) for each token of text, offsets into text."""
    tokens: list[tuple[str, int, int]] = []
    append = tokens.append
    for match in _pattern_for(text).finditer(text):
        kind = match.lastgroup
        if kind == "word":
            start, end = match.span()
            append((_plain_form_of(match.group()), start, end))
        elif kind is not None and kind in _SHAPES:
            start, end = match.span()
            append((_SHAPES[kind], start, end))
    return tokens


class _FormCache(dict[tuple[str, ...], str | None]):
    """Maps a `_TOKEN.findall()` tuple to its feature form (None for a dropped @handle)."""

    def __missing__(self, token: tuple[str, ...]) -> str | None:
        """Return the token's form, remembering words only: URLs and sums are mostly one-offs."""
        url, email, _handle, money, bang, word = token
        if word:
            if len(self) >= _CACHE_LIMIT:
                self.clear()
            form = self[token] = normalise_word(word)
            return form
        if url:
            return _SHAPES["url"]
        if email:
            return _SHAPES["email"]
        if money:
            return _SHAPES["money"]
        if bang:
            return _SHAPES["bang"]
        return None


if tuple(_TOKEN.groupindex) != ("url", "email", "handle", "money", "bang", "word"):
    raise AssertionError("_FormCache unpacks _TOKEN's groups in this order")


class _PlainFormCache(dict[str, str]):
    """Maps a `_PLAIN_TOKEN_TEXT.findall()` string (a word or a bang) to its feature form."""

    def __missing__(self, token: str) -> str:
        """Return the token's form, remembering it; bangs are few so they are remembered too."""
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        form = self[token] = _SHAPES["bang"] if token[0] in "!?" else normalise_word(token)
        return form


_form_of = _FormCache().__getitem__
_plain_form_of = _PlainFormCache().__getitem__


def token_forms(text: str) -> list[str]:
    """Return the feature forms of text's tokens, as tokenize() gives them but without offsets."""
    # findall and a C-level map over a cache keep the per-token work out of the interpreter loop.
    if _pattern_for(text) is _PLAIN_TOKEN:
        return list(map(_plain_form_of, _PLAIN_TOKEN_TEXT.findall(text)))
    # An @handle maps to None: drop it.
    return [form for form in map(_form_of, _TOKEN.findall(text)) if form is not None]


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


def subword_features(word: str) -> list[str]:
    """Return the features one word form adds beside itself: its character n-grams and lexicon feature."""
    features = char_grams(word)
    if not word.startswith("<") and in_lexicon(word):
        features.append(LEXICON_FEATURE)
    elif word in PROMO_TERMS:
        features.append(PROMO_FEATURE)
    return features


_ID_SIZE = 4  # bytes per packed int32 in _WordCache entries


class _BigramIndex:
    """The bigram features as sorted integer keys, so a whole batch's word pairs are looked up in numpy.

    Each word that occurs in some bigram feature gets a number; the pair (a, b) is the key
    number(a) * stride + number(b).  Any other word gets `absent`, which no key holds.
    """

    def __init__(self, vocabulary: dict[str, int]) -> None:
        """Index the bigram features of vocabulary."""
        self.numbers: dict[str, int] = {}
        pairs: list[tuple[int, int, int]] = []
        for feature, column in vocabulary.items():
            first, space, second = feature.partition(" ")
            # Character n-grams hold spaces too but start with CHAR_PREFIX, which no word form does.
            if space and not first.startswith(CHAR_PREFIX) and " " not in second:
                a = self.numbers.setdefault(first, len(self.numbers))
                b = self.numbers.setdefault(second, len(self.numbers))
                pairs.append((a, b, column))
        self.absent = len(self.numbers)
        self.stride = self.absent + 1
        table = np.array(pairs, dtype=np.int64).reshape(-1, 3)
        keys = table[:, 0] * self.stride + table[:, 1]
        order = np.argsort(keys)
        self.keys: NDArray[np.int64] = keys[order]
        self.columns: NDArray[np.int64] = table[order, 2]

    def lookup(self, numbers: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Return (i, column) for each bigram feature formed by tokens i and i + 1, given word numbers."""
        keys = numbers[:-1] * self.stride + numbers[1:]
        if len(self.keys) == 0 or len(keys) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        found = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        hit = self.keys[found] == keys
        return np.flatnonzero(hit), self.columns[found[hit]]


class _WordCache(dict[str, tuple[bytes, bytes]]):
    """Maps a word form to its unigram and character n-gram ids and its bigram word number, packed int32.

    Packed entries join with one memcpy per text, and the bigrams are then looked up for the whole
    batch in numpy: dict probes into the 200k-entry vocabulary miss the CPU cache and cost far more.
    """

    def __init__(self, vocabulary: dict[str, int], bigrams: _BigramIndex) -> None:
        """Start empty over vocabulary and its bigram index."""
        super().__init__()
        self.vocabulary = vocabulary
        self.bigrams = bigrams

    def __missing__(self, word: str) -> tuple[bytes, bytes]:
        """Look the word up and remember it, starting over once the cache is full."""
        vocabulary = self.vocabulary
        ids = array("i", [vocabulary[f] for f in (word, *subword_features(word)) if f in vocabulary])
        number = array("i", [self.bigrams.numbers.get(word, self.bigrams.absent)])
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        entry = self[word] = (ids.tobytes(), number.tobytes())
        return entry


_ids_bytes = operator.itemgetter(0)
_number_bytes = operator.itemgetter(1)


def analyze(text: str) -> list[str]:
    """Return text's features: word unigrams, word bigrams, per-word character n-grams and lexicon features."""
    words = [token[0] for token in tokenize(text)]
    features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    for word in words:
        features.extend(subword_features(word))
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
    """Calibrated spam and abuse probabilities with the words, and for spam the other signals, that raised each."""

    spam: float
    abuse: float
    spam_words: tuple[Evidence, ...]
    abuse_words: tuple[Evidence, ...]
    spam_signals: tuple[Signal, ...] = ()
    # The language the text was scored as (ISO 639-1, or `und`), and whether the model has a head for it.
    language: str = ENGLISH
    language_supported: bool = True


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
        """Wrap a model dict as written by moderation.model.training: features, idf, signals, a head per HEADS.

        Each head weighs the tf-idf features, then the signals (none in format 2), in that column order.
        """
        if model.get("format") not in READABLE_FORMATS:
            raise ModelIntegrityError(f"unsupported artifact format {model.get('format')!r}")
        self.metadata = dict(metadata or {})
        self.version = version
        self.vectorizer = build_vectorizer(model["features"], model["idf"])
        # The feature names live on in the vocabulary; the array of them (tens of MB) need not.
        self.model = {key: value for key, value in model.items() if key != "features"}
        self._vocabulary: dict[str, int] = self.vectorizer.vocabulary_
        self._idf = np.asarray(model["idf"], dtype=np.float64)
        self.signals: tuple[str, ...] = tuple(str(name) for name in model.get("signals", ()))
        unknown = set(self.signals) - set(signal_detectors.SIGNALS)
        if unknown:
            raise ModelIntegrityError(f"model weighs signals this code cannot read: {sorted(unknown)}")
        columns = [linear_head(model[name]) for name in HEADS]
        # One (features x heads) matrix, so a single product scores both heads.
        weights = np.column_stack([coef for coef, _ in columns])
        self._intercepts = np.array([intercept for _, intercept in columns])
        site_features = model.get("site_features")
        site = 0 if site_features is None else len(site_features)
        if weights.shape[0] != len(self._idf) + site + len(self.signals):
            raise ModelIntegrityError("head and vectorizer sizes differ")
        words = len(self._idf)
        self._weights = weights[:words]
        # An adapted model's heads weigh the site's own words too (columns after the base vocabulary's).
        self.site: SiteBlock | None = None
        if site_features is not None and site:
            # Imported here: the block's module reads this one's tokenizer.
            from moderation.model.site import SiteBlock

            self.site = SiteBlock(site_features, model["site_idf"], weights[words:words + site])
        self._signal_weights = weights[words + site:]
        # Word form -> packed feature ids and bigram number: comments reuse words.
        self._words = _WordCache(self._vocabulary, _BigramIndex(self._vocabulary))
        # The abuse heads of the other languages, and the pooled one (moderation.model.languages.heads).
        self.languages: dict[str, LanguageHead] = {
            str(code): LanguageHead.from_artifact(str(code), stored)
            for code, stored in (model.get("languages") or {}).items()
        }

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

    def supports(self, language: str) -> bool:
        """Whether the model scores abuse in this language with a head of its own (English always)."""
        return language == ENGLISH or (language in SUPPORTED_LANGUAGES and language in self.languages)

    def log_odds(self, texts: Sequence[str], authors: Sequence[Author] | None = None,
                 languages: Sequence[str] | None = None) -> NDArray[np.float64]:
        """Return the calibrated log-odds, shape (len(texts), 2): what probabilities() passes through the logistic.

        `languages`, one per text (none: all English), pick each text's abuse head; a text in any
        language but English has its spam from the language-neutral part of the spam head alone.
        """
        other = [i for i, code in enumerate(languages or ()) if code != ENGLISH and self.languages]
        if other:
            scored = list(texts)
            for i in other:
                scored[i] = _shapes_only(texts[i])
            logits = self._logits(scored) + self._intercepts
            for code in dict.fromkeys(languages[i] for i in other):  # type: ignore[index]
                rows = [i for i in other if languages[i] == code]  # type: ignore[index]
                logits[rows, _ABUSE] = self._head_for(code).log_odds([texts[i] for i in rows])
        else:
            logits = self._logits(texts) + self._intercepts
        if self.site is not None:
            logits += self.site.logits(texts)
        if self.signals:
            found = signal_detectors.matrix(list(texts), list(authors) if authors else None, self.signals)
            weighed = found @ self._signal_weights
            # The signals are the spam head's; another language's abuse head weighs none of them.
            weighed[other, _ABUSE] = 0.0
            logits += weighed
        return np.asarray(logits, dtype=np.float64)

    def probabilities(self, texts: Sequence[str], workers: int = 1,
                      authors: Sequence[Author] | None = None,
                      languages: Sequence[str] | None = None) -> NDArray[np.float64]:
        """Return calibrated probabilities, shape (len(texts), 2): columns spam, abuse.

        `authors`, one per text, are the form fields beside each text (none: text alone). With
        workers > 1 a batch of at least PARALLEL_MIN_TEXTS is split over that many forked
        processes; the figures are the same either way.
        """
        if workers > 1 and len(texts) >= PARALLEL_MIN_TEXTS and not languages:
            return self._parallel_probabilities(texts, workers, authors)
        if len(texts) == 0:
            return np.zeros((0, len(HEADS)))
        return _expit(self.log_odds(texts, authors, languages))

    def feature_names(self) -> NDArray[np.str_]:
        """Return the tf-idf feature names in column order (as the artifact's `features`)."""
        names = [""] * len(self._vocabulary)
        for name, column in self._vocabulary.items():
            names[column] = name
        return np.array(names, dtype=np.str_)

    def tfidf(self, texts: Sequence[str]) -> Any:
        """Return the tf-idf matrix of texts (CSR), equal to `self.vectorizer.transform(texts)`."""
        words, bigrams, norms = self._sublinear_tfidf(texts)
        matrix = (words + bigrams).tocsr()
        with np.errstate(divide="ignore"):
            scale = np.where(norms > 0, 1.0 / norms, 0.0)
        matrix.data *= np.repeat(scale, np.diff(matrix.indptr))
        return matrix

    def _logits(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Return the calibrated log-odds of each text less the intercepts, shape (len(texts), 2)."""
        words, bigrams, norms = self._sublinear_tfidf(texts)
        # Normalising after the product scales 2 numbers per row instead of every feature.
        raw = np.asarray(words @ self._weights) + np.asarray(bigrams @ self._weights)
        return np.divide(raw, norms[:, None], out=np.zeros_like(raw), where=norms[:, None] > 0)

    def _sublinear_tfidf(self, texts: Sequence[str]) -> tuple[Any, Any, NDArray[np.float64]]:
        """Return texts' unnormalised sublinear tf-idf as word and bigram CSR matrices, and row l2 norms.

        Word (unigram and character n-gram) and bigram features are disjoint columns, so each part's
        counts are complete on their own and the two matrices sum to the vectorizer's.
        """
        cache = self._words
        entry_of = cache.__getitem__
        word_ids: list[bytes] = []
        token_counts: list[int] = []
        all_entries: list[tuple[bytes, bytes]] = []
        # Per text: one findall, then C-level maps over cached entries; no interpreter loop per token.
        for text in texts:
            entries = list(map(entry_of, token_forms(text)))
            word_ids.append(b"".join(map(_ids_bytes, entries)))
            token_counts.append(len(entries))
            all_entries += entries
        rows = len(texts)
        word_counts = np.fromiter(map(len, word_ids), dtype=np.int64, count=rows) // _ID_SIZE
        words = self._sublinear_part(np.frombuffer(bytearray().join(word_ids), dtype=np.int32), word_counts)
        numbers = np.frombuffer(b"".join(map(_number_bytes, all_entries)), dtype=np.int32).astype(np.int64)
        token_rows = np.repeat(np.arange(rows), token_counts)
        pairs, bigram_columns = cache.bigrams.lookup(numbers)
        # A hit between the last token of one text and the first of the next is no bigram.
        same_text = token_rows[pairs] == token_rows[pairs + 1]
        bigram_rows, bigram_columns = token_rows[pairs[same_text]], bigram_columns[same_text]
        bigrams = self._sublinear_part(bigram_columns.astype(np.int32), np.bincount(bigram_rows, minlength=rows))
        squares = _row_sums_of_squares(words) + _row_sums_of_squares(bigrams)
        return words, bigrams, np.sqrt(squares)

    def _sublinear_part(self, columns: NDArray[np.int32], counts: NDArray[np.int64]) -> Any:
        """Return the CSR matrix of (1 + log count) * idf from feature ids in row order and each row's count."""
        from scipy.sparse import csr_matrix

        # int32 indices are scipy's fast path; only a batch of some ten million comments needs more.
        index_type = np.int32 if len(columns) < np.iinfo(np.int32).max else np.int64
        indptr = np.zeros(len(counts) + 1, dtype=index_type)
        np.cumsum(counts, out=indptr[1:])
        # sklearn counts each feature's occurrences per document; summing duplicates in C does the same.
        matrix = csr_matrix((np.ones(len(columns)), columns.astype(index_type, copy=False), indptr),
                            shape=(len(counts), len(self._idf)))
        matrix.sum_duplicates()
        values = matrix.data
        np.log(values, out=values)
        values += 1.0
        values *= self._idf[matrix.indices]
        return matrix

    def _parallel_probabilities(self, texts: Sequence[str], workers: int,
                                authors: Sequence[Author] | None) -> NDArray[np.float64]:
        """Return probabilities() of texts computed in forked worker processes, in order.

        For batch jobs: forking a process that runs other threads (a server worker) is unsafe.
        """
        global _FORK_JOB
        # Forked children inherit the model and the texts copy-on-write: only row ranges and results travel.
        chunks = workers * 4
        bounds = np.linspace(0, len(texts), chunks + 1).astype(int)
        _FORK_JOB = (self, texts, authors)
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_fork_chunk, list(itertools.pairwise(bounds.tolist())), chunksize=1)
        finally:
            _FORK_JOB = None
        return np.concatenate(parts)

    def score(self, text: str, author: Author = NO_AUTHOR, language: str = ENGLISH) -> Scores:
        """Score one comment in a language, with up to MAX_EVIDENCE words per head and the spam signals behind spam."""
        if language != ENGLISH:
            return self._score_other(text, author, language)
        base, clues = self._signal_base(text, author)
        tokens = tokenize(text)
        if not tokens:
            probabilities = _expit(base)
            return Scores(float(probabilities[0]), float(probabilities[1]), (), (), clues)
        owner_of: dict[str, int] = {}
        first_span: list[tuple[int, int]] = []
        token_owner: list[int] = []
        for form, start, end in tokens:
            owner = owner_of.get(form)
            if owner is None:
                owner = owner_of[form] = len(first_span)
                first_span.append((start, end))
            token_owner.append(owner)
        by_owner, total = self._word_shares(tokens, token_owner, len(first_span))
        if self.site is not None:
            occurrences = self.site.occurrences(text)
            shares, site_total = self.site.contributions(occurrences)
            total = total + site_total
            # A word takes its own feature's share, and half of each word pair's it is part of.
            for (first, last, _), share in zip(occurrences, shares, strict=True):
                if first == last:
                    by_owner[token_owner[first]] += share
                else:
                    by_owner[token_owner[first]] += share / 2
                    by_owner[token_owner[last]] += share / 2
        probabilities = _expit(total + base)
        columns: list[list[float]] = by_owner.T.tolist()
        return Scores(float(probabilities[0]), float(probabilities[1]),
                      self._evidence(text, first_span, columns[0]), self._evidence(text, first_span, columns[1]),
                      clues)

    def _word_shares(self, tokens: list[tuple[str, int, int]], token_owner: list[int],
                     owners_count: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the base vocabulary's log-odds per owner (distinct word) and head, and their sum per head."""
        cache = self._words
        entries = list(map(cache.__getitem__, [form for form, _, _ in tokens]))
        word_ids = np.frombuffer(b"".join(map(_ids_bytes, entries)), dtype=np.int32)
        owners = np.array(token_owner)
        pairs, bigram_ids = cache.bigrams.lookup(
            np.frombuffer(b"".join(map(_number_bytes, entries)), dtype=np.int32).astype(np.int64)
        )
        features = np.concatenate((word_ids, bigram_ids))
        if len(features) == 0:
            return np.zeros((owners_count, len(HEADS))), np.zeros(len(HEADS))
        # Raw counts per feature, as the vectorizer takes them; a bigram counts once per occurrence.
        feature_ids, inverse, counts = np.unique(features, return_inverse=True, return_counts=True)
        values = (1.0 + np.log(counts)) * self._idf[feature_ids]
        values /= math.sqrt(float(values @ values))
        contributions = values[:, None] * self._weights[feature_ids]
        # Each occurrence takes an equal part of its feature's contribution, a bigram's split evenly
        # between its two words; owners (distinct words) sum their parts, both heads in one bincount.
        per_occurrence = contributions[inverse] / counts[inverse, None]
        words = len(word_ids)
        per_occurrence[words:] *= 0.5
        occurrence_owner = np.concatenate((
            np.repeat(owners, [len(ids) // _ID_SIZE for ids, _ in entries]), owners[pairs], owners[pairs + 1]
        ))
        slots = (occurrence_owner[:, None] * len(HEADS) + np.arange(len(HEADS))).ravel()
        parts = np.concatenate((per_occurrence, per_occurrence[words:])).ravel()
        sums = np.bincount(slots, weights=parts, minlength=owners_count * len(HEADS))
        return np.asarray(sums, dtype=np.float64).reshape(-1, len(HEADS)), contributions.sum(axis=0)

    def _signal_base(self, text: str, author: Author) -> tuple[NDArray[np.float64], tuple[Signal, ...]]:
        """Return the intercepts plus the log-odds of the signals found in text and the author's fields, and those
        signals that raised spam."""
        if self.signals:
            found = signal_detectors.findings(text, author)
            if found:
                return self._with_signals(found)
        return self._intercepts, ()

    def _with_signals(self, found: tuple[Found, ...]) -> tuple[NDArray[np.float64], tuple[Signal, ...]]:
        """Return the intercepts plus the signals' log-odds, and the signals that raised spam, strongest first."""
        shares = signal_detectors.vector(found, self.signals)[:, None] * self._signal_weights
        column = {name: i for i, name in enumerate(self.signals)}
        clues = sorted(
            (Signal(item.code, item.field, item.text, float(self._signal_weights[column[item.code], 0]) * item.value,
                    item.start, item.end)
             for item in found if item.code in column),
            key=lambda clue: -clue.weight,
        )
        # Only what pushed towards spam is evidence; a signal the model learnt to discount explains nothing.
        return self._intercepts + shares.sum(axis=0), tuple(clue for clue in clues if clue.weight > 0)

    def _head_for(self, language: str) -> LanguageHead:
        """The language's own abuse head, else the pooled one."""
        return self.languages.get(language) or self.languages[POOLED]

    def _score_other(self, text: str, author: Author, language: str) -> Scores:
        """Score a comment in a language other than English: its language's abuse head; spam without words.

        The spam head's words are English (and the promotion lexicon's): in another language they would
        read ordinary words as spam, so only what spam looks like in any language counts (links,
        addresses, sums, numbers, and the signals of the text and the form's fields).
        """
        if not self.languages:
            # A model trained before the language heads: English it is, and said so.
            scores = self.score(text, author)
            return Scores(scores.spam, scores.abuse, scores.spam_words, scores.abuse_words, scores.spam_signals,
                          language, False)
        base, clues = self._signal_base(text, author)
        shapes = _shapes_only(text)
        spam_logit = float(base[0]) + (float(self._logits([shapes])[0, 0]) if shapes else 0.0)
        abuse_logit, shares = self._head_for(language).shares(text)
        spam_words: list[tuple[int, int, float]] = []
        if self.site is not None:
            tokens = tokenize(text)
            occurrences = self.site.occurrences(text)
            site_shares, site_total = self.site.contributions(occurrences)
            spam_logit += float(site_total[0])
            abuse_logit += float(site_total[1])
            by_span: dict[tuple[int, int], list[float]] = {}
            for (first, last, _), share in zip(occurrences, site_shares, strict=True):
                for index in {first, last}:
                    parts = by_span.setdefault(tokens[index][1:], [0.0, 0.0])
                    parts[0] += float(share[0]) / (1 if first == last else 2)
                    parts[1] += float(share[1]) / (1 if first == last else 2)
            spam_words = [(start, end, parts[0]) for (start, end), parts in by_span.items()]
            shares = _merge_shares(shares, [(start, end, parts[1]) for (start, end), parts in by_span.items()])
        probabilities = _expit(np.array([spam_logit, abuse_logit]))
        abuse_evidence = self._evidence(text, [(start, end) for start, end, _ in shares], [w for _, _, w in shares])
        spam_evidence = self._evidence(text, [(a, b) for a, b, _ in spam_words], [w for _, _, w in spam_words])
        return Scores(float(probabilities[0]), float(probabilities[1]), spam_evidence, abuse_evidence, clues,
                      language, language in SUPPORTED_LANGUAGES and language in self.languages)

    def score_many(self, texts: Sequence[str], authors: Sequence[Author] | None = None,
                   languages: Sequence[str] | None = None) -> list[Scores]:
        """Score each comment (in its language, English without languages) with evidence, as score() does."""
        return [self.score(text, authors[i] if authors else NO_AUTHOR, languages[i] if languages else ENGLISH)
                for i, text in enumerate(texts)]

    @staticmethod
    def _evidence(text: str, spans: list[tuple[int, int]], weights: list[float]) -> tuple[Evidence, ...]:
        """Return the strongest positive word weights as Evidence at each word's first occurrence."""
        # sorted() is stable under reverse=True: equal weights keep the words' order in the text.
        order = sorted(range(len(weights)), key=weights.__getitem__, reverse=True)[:MAX_EVIDENCE]
        floor = EVIDENCE_FLOOR * weights[order[0]] if order else 0.0
        return tuple(
            Evidence(spans[i][0], spans[i][1], text[spans[i][0] : spans[i][1]], weights[i])
            for i in order
            if weights[i] > 0 and weights[i] >= floor
        )


_ABUSE = HEADS.index("abuse")
_SHAPE_FORMS = frozenset({*_SHAPES.values(), NUMBER_TOKEN, LONG_NUMBER_TOKEN})


def _shapes_only(text: str) -> str:
    """The parts of text the tokenizer reads as shapes (links, addresses, sums, numbers, !!), joined by spaces."""
    return " ".join(text[start:end] for form, start, end in tokenize(text) if form in _SHAPE_FORMS)


def _merge_shares(shares: list[WordShare], extra: list[WordShare]) -> list[WordShare]:
    """Add shares given by span to the words at the same spans (or as words of their own)."""
    merged = {(start, end): weight for start, end, weight in shares}
    for start, end, weight in extra:
        merged[(start, end)] = merged.get((start, end), 0.0) + weight
    return [(start, end, weight) for (start, end), weight in merged.items()]


def _row_sums_of_squares(matrix: Any) -> NDArray[np.float64]:
    """Return the sum of squared values in each row of a CSR matrix."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    return np.bincount(rows, weights=matrix.data * matrix.data, minlength=matrix.shape[0]).astype(np.float64)


# The classifier and texts a forked pool works on; set only while _parallel_probabilities runs.
_FORK_JOB: tuple[Classifier, Sequence[str], Sequence[Author] | None] | None = None


def _fork_chunk(bounds: tuple[int, int]) -> NDArray[np.float64]:
    """Return probabilities() of one slice of the forked job's texts (runs in a pool worker)."""
    if _FORK_JOB is None:
        raise RuntimeError("no forked job: _fork_chunk runs only in _parallel_probabilities' pool")
    classifier, texts, authors = _FORK_JOB
    start, end = bounds
    return classifier.probabilities(texts[start:end], authors=authors[start:end] if authors else None)


def model_version(trained_at: str, sha256: str) -> str:
    """Return a version string like 2026.11.26-1a2b3c4d from the training time and artifact hash."""
    try:
        day = datetime.fromisoformat(trained_at).strftime("%Y.%m.%d")
    except ValueError:
        day = "0000.00.00"
    return f"{day}-{sha256[:8]}"
