"""Adapting the shipped model to one site: its moderators' decisions as the strongest evidence.

The base model learned from public sets; a site's decisions say what this site holds and publishes.
Retraining on both drowns a few hundred decisions in sixty thousand public rows, and a model fitted
on the decisions alone knows nothing of the words they do not hold. So each head is refitted on the
site's decisions as a correction to the base head, whose fitted weights serve as the prior:

    log-odds = scale * base log-odds + (correction weights) . features + shift

over the base's features (each word's character n-grams, tf-idf, and the signals) and the site's own
words and word pairs as a block of their own (its slang, its spammers' domains), which start at weight
zero. The correction weights are pulled towards zero by an L2 penalty whose strength is chosen by
cross-validation on the decisions themselves, so a handful of decisions moves the model a little and a
thousand move it far; the scale and shift are nearly free, which lets the site recalibrate the base
score and re-weigh it against its own words. The penalty is the one whose out-of-fold scores rank the
decisions best. The result is again one linear head per head: the artifact keeps its format, scoring
costs the same, and every word's and signal's share of the log-odds (the evidence moderators see) stays exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from moderation.model import signals as signal_detectors
from moderation.model.classifier import ARTIFACT_FORMAT, HEADS, Classifier, linear_head
from moderation.model.datasets import Example
from moderation.model.languages import ENGLISH
from moderation.model.lexicon import IDENTITY_TOKEN
from moderation.model.site import site_terms

# A head is adapted only from this many decisions holding both of its classes, at least
# MIN_PER_CLASS of each: below that a correction is noise, and the base head is kept as it is.
MIN_DECISIONS = 20
MIN_PER_CLASS = 5
# Penalty strengths (inverse, as sklearn's C) tried for the correction weights.
CORRECTION_C: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
# A word or word pair of the site's decisions becomes a feature of the adapted model's site block when this
# many decisions hold it.
SITE_MIN_DF = 1
# The scale and shift are pulled gently towards the base's (1, 0): they are two numbers, well
# determined by a few dozen decisions.
PRIOR_STRENGTH = 0.1
FOLDS = 5
REPEATS = 3


@dataclass(frozen=True, slots=True)
class HeadReport:
    """How one head was adapted: from how many decisions, with what penalty, and what it came to."""

    head: str
    decisions: int
    positives: int
    adapted: bool
    why: str
    c: float | None = None
    scale: float | None = None
    shift: float | None = None
    cv_log_loss: float | None = None
    base_cv_log_loss: float | None = None


def _logistic_loss(z: NDArray[np.float64], y: NDArray[np.float64],
                   w: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
    """Weighted logistic loss of log-odds z for labels y (0/1), and its gradient in z."""
    signs = 2.0 * y - 1.0
    margins = signs * z
    loss = float(np.sum(w * np.logaddexp(0.0, -margins)))
    grad = -w * signs * (0.5 * (1.0 - np.tanh(0.5 * margins)))  # -w * s * sigmoid(-margin)
    return loss, grad


@dataclass(frozen=True, slots=True)
class _Basis:
    """Coordinates of the decisions' feature rows in an orthonormal basis of their span.

    The correction weights are penalised by their squared norm and the loss sees them only through
    the decisions' features, so the best ones lie in the span of those rows: delta = V @ w with V an
    orthonormal basis of the span, |delta| = |w|, and the fit over w (a few hundred unknowns, one per
    decision at most) equals the fit over every column (tens of thousands). With the rows' Gram
    matrix K = U S^2 U', the rows' coordinates are U S, any other row's are its Gram products with
    the decisions times U / S, and delta = X' U w / S.
    """

    vectors: NDArray[np.float64]  # U, one column per kept direction
    values: NDArray[np.float64]  # S

    @classmethod
    def of(cls, gram: NDArray[np.float64]) -> _Basis:
        eigenvalues, eigenvectors = np.linalg.eigh(gram)
        # Directions the rows barely span carry rounding noise, not information.
        keep = eigenvalues > max(float(eigenvalues.max(initial=0.0)), 1.0) * 1e-9
        return cls(eigenvectors[:, keep], np.sqrt(eigenvalues[keep]))

    def rows(self) -> NDArray[np.float64]:
        return self.vectors * self.values

    def project(self, cross_gram: NDArray[np.float64]) -> NDArray[np.float64]:
        """Coordinates of other rows, from their Gram products with the decisions."""
        return np.asarray(cross_gram @ self.vectors / self.values, dtype=np.float64)

    def row_weights(self, w: NDArray[np.float64]) -> NDArray[np.float64]:
        """The weight of each decision's row in delta = X' (U w / S)."""
        return np.asarray(self.vectors @ (w / self.values), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _Correction:
    scale: float
    shift: float
    w: NDArray[np.float64]


def _fit_correction(coordinates: NDArray[np.float64], base: NDArray[np.float64], y: NDArray[np.float64],
                    weights: NDArray[np.float64], c: float | None, with_base: bool = True) -> _Correction:
    """Fit scale, shift and (unless c is None) the correction by penalised maximum likelihood.

    Without the base (with_base False) the scale is 0: the site's decisions alone, as a model fitted
    on them would do, for a site whose standard the base does not share.
    """
    width = coordinates.shape[1] if c is not None else 0
    if not with_base:
        base = np.zeros_like(base)
    # Weights normalised to sum to the row count, so C means the same whatever the weighting.
    weights = weights * (len(y) / weights.sum())

    def objective(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        scale, shift, w = theta[0], theta[1], theta[2:]
        z = scale * base + shift + (coordinates @ w if width else 0.0)
        loss, grad_z = _logistic_loss(z, y, weights)
        grad = np.empty_like(theta)
        grad[0] = grad_z @ base + PRIOR_STRENGTH * (scale - 1.0)
        grad[1] = grad_z.sum() + PRIOR_STRENGTH * shift
        loss += 0.5 * PRIOR_STRENGTH * ((scale - 1.0) ** 2 + shift**2)
        if width:
            assert c is not None
            grad[2:] = coordinates.T @ grad_z + w / c
            loss += 0.5 * float(w @ w) / c
        return loss, grad

    start = np.zeros(2 + width)
    start[0] = 1.0
    found = minimize(objective, start, jac=True, method="L-BFGS-B", options={"maxiter": 1000})
    theta = found.x
    return _Correction(float(theta[0]) if with_base else 0.0, float(theta[1]), np.asarray(theta[2:], dtype=np.float64))


def _predict(correction: _Correction, coordinates: NDArray[np.float64],
             base: NDArray[np.float64]) -> NDArray[np.float64]:
    z = correction.scale * base + correction.shift
    if len(correction.w):
        z = z + coordinates @ correction.w
    return np.asarray(z, dtype=np.float64)


def _choose(gram: NDArray[np.float64], base: NDArray[np.float64], y: NDArray[np.float64],
            weights: NDArray[np.float64], seed: int) -> tuple[float | None, bool, float, float]:
    """Return the penalty (None: scale and shift only) and whether to keep the base that rank held-out
    decisions best, its cross-validated log-loss, and the base head's own.

    Ranking is judged within each fold (ROC AUC over the folds that hold both classes, over REPEATS
    shuffles): pooled out-of-fold scores would also judge how alike the folds' calibrations are, which
    favours keeping the base whatever it is worth. A correction is chosen only when its fold AUCs beat
    the base's by more than one standard error of their paired differences, corrected for the folds'
    overlapping training sets (Nadeau and Bengio 2003: the variance times 1/J + n_test/n_train, not
    1/J): with a few dozen decisions the best of nineteen candidates wins by chance as often as by
    merit, and a chance winner costs the site the base's ranking. Nor may its cross-validated log-loss be
    worse than the recalibrated base's (scale and shift alone): a correction that ranks a little better in
    folds while its probabilities grow worse is fitting noise (on Civil Comments at 300 decisions the
    weakest penalty won the folds' AUC with a log-loss of 0.74 against 0.68, and lost 0.005 of AUC on the
    site's other comments). Where the base already ranks the decisions almost perfectly, the folds' AUC
    has no room to show a gain, so a correction that keeps the base may also win with fold AUCs no worse
    on average and fold log-losses better by more than the same corrected standard error: on SMS at 100
    decisions (13 spam) the base's fold AUC was 0.987 and a correction's 0.995, within one error, while
    its log-loss was 0.068 against 0.177; kept out, it left the site's other comments ranked at 0.916 (0.957
    with it), where the decisions alone reached 0.958. The scale and shift refitted on all the decisions then calibrate
    the choice. Ties go to the lower log-loss.
    """
    folds = min(FOLDS, int(min(y.sum(), len(y) - y.sum())))
    overlap = 1.0 / (folds - 1)  # n_test / n_train of one fold
    splits = []
    for repeat in range(REPEATS):
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed + repeat).split(base, y):
            basis = _Basis.of(gram[np.ix_(train, train)])
            splits.append((train, test, basis.rows(), basis.project(gram[np.ix_(test, train)])))
    base_loss = float(log_loss(y, 1.0 / (1.0 + np.exp(-base)), sample_weight=weights, labels=[0, 1]))
    scored: list[tuple[float | None, bool, NDArray[np.float64], NDArray[np.float64], float]] = []
    for c, with_base in [(None, True), *((c, with_base) for c in CORRECTION_C for with_base in (True, False))]:
        fold_aucs, fold_losses, sizes = [], [], []
        for train, test, train_coordinates, test_coordinates in splits:
            correction = _fit_correction(train_coordinates, base[train], y[train], weights[train], c, with_base)
            z = _predict(correction, test_coordinates, base[test])
            fold_losses.append(float(log_loss(y[test], 1.0 / (1.0 + np.exp(-z)), sample_weight=weights[test],
                                              labels=[0, 1])))
            sizes.append(len(test))
            if 0 < y[test].sum() < len(test):
                fold_aucs.append(float(roc_auc_score(y[test], z, sample_weight=weights[test])))
        losses = np.array(fold_losses)
        scored.append((c, with_base, np.array(fold_aucs), losses, float(losses @ sizes) / (len(y) * REPEATS)))

    def beats(differences: NDArray[np.float64]) -> bool:
        """Whether paired fold differences are positive by more than their corrected standard error."""
        if len(differences) < 2:
            return len(differences) == 1 and float(differences[0]) > 0
        return float(differences.mean()) > float(differences.std(ddof=1)) * np.sqrt(1.0 / len(differences) + overlap)

    _, _, reference, reference_losses, reference_loss = scored[0]
    best: tuple[float | None, bool, float, float] = (None, True, round(float(reference.mean()), 4), reference_loss)
    for c, with_base, aucs, losses, loss in scored[1:]:
        differences = aucs - reference
        auc = round(float(aucs.mean()), 4)
        # Better ranking, or, for a correction on top of the base, ranking no worse and a clearly better
        # log-loss. Not for one without the base: on decisions that say nothing, a nearly constant model
        # beats a rescaled base's log-loss every fold, and would throw the base away.
        better = beats(differences) or (with_base and float(differences.mean()) >= 0
                                        and beats(reference_losses - losses))
        if better and loss <= reference_loss and (auc > best[2] or (auc == best[2] and loss < best[3])):
            best = (c, with_base, auc, loss)
    return best[0], best[1], best[3], base_loss


def site_vocabulary(texts: Sequence[str]) -> tuple[list[str], NDArray[np.float64]]:
    """The site block's features (terms held by SITE_MIN_DF texts, see classifier.site_terms) and their smooth idf."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({term for term, _, _ in site_terms(text)})
    # No feature holds an identity word, on the site's side as on the base's (lexicon.IDENTITY_TERMS).
    features = sorted(f for f, df in counts.items() if df >= SITE_MIN_DF and IDENTITY_TOKEN not in f)
    df = np.array([counts[f] for f in features], dtype=np.float64)
    return features, np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0


def site_matrix(features: Sequence[str], idf: NDArray[np.float64], texts: Sequence[str]) -> sp.csr_matrix:
    """The site block's tf-idf of texts: sublinear, each row normalised on its own (as the classifier scores it)."""
    vocabulary = {feature: column for column, feature in enumerate(features)}
    rows, columns = [], []
    for row, text in enumerate(texts):
        for term, _, _ in site_terms(text):
            column = vocabulary.get(term)
            if column is not None:
                rows.append(row)
                columns.append(column)
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(texts), len(features)))
    matrix.sum_duplicates()
    matrix.data = (1.0 + np.log(matrix.data)) * idf[matrix.indices]
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix)


def adapt(base: Classifier, examples: Sequence[Example], weights: Sequence[float] | None = None,
          seed: int = 0) -> tuple[dict[str, Any], list[HeadReport]]:
    """Return the artifact contents of `base` adapted to a site's labelled examples, and a report per head.

    `weights` (one per example, default 1) lets newer decisions count more. The adapted heads weigh
    the base's features (scaled), the site's own words and pairs (a block of their own) and the
    signals (reweighed). A head with too few decisions of both classes keeps the base's weights.
    """
    if base.site is not None:
        raise ValueError("adapt the shipped (base) model, not one already adapted to a site")
    texts = [example.text for example in examples]
    authors = [example.author for example in examples]
    site_features, site_idf = site_vocabulary(texts)
    found = signal_detectors.matrix(texts, authors, base.signals)
    # The correction reaches the base's own features too (each word's character n-grams), not only the
    # site block: measured on the learning-curve bench it lifts every source, most where the site's words
    # are the base's words used to another standard (Stormfront's forum +0.02, Civil Comments +0.01 AUC
    # at 1,000 decisions), since a word's n-grams also correct its misspellings and inflections.
    languages = [example.language for example in examples]
    # A comment in another language is scored by its own head, its spam without words, plus the site's
    # block and the signals (Classifier._score_other): the base's English words must learn nothing from it.
    english = sp.diags(np.array([language == ENGLISH for language in languages], dtype=np.float64))
    correctable = sp.hstack([english @ base.tfidf(texts), site_matrix(site_features, site_idf, texts),
                             sp.csr_matrix(found)]).tocsr()
    base_log_odds = base.log_odds(texts, authors, languages)
    row_weights = np.ones(len(examples)) if weights is None else np.asarray(weights, dtype=np.float64)
    model: dict[str, Any] = {
        "format": ARTIFACT_FORMAT,
        "features": base.feature_names(),
        "idf": np.asarray(base.model["idf"], dtype=np.float64),
        "site_features": np.array(site_features, dtype=np.str_),
        "site_idf": site_idf,
        "signals": np.array(base.signals, dtype=np.str_),
        # The other languages' heads stay as the base has them; the site block corrects them.
        "languages": base.model.get("languages") or {},
    }
    words, site = len(model["idf"]), len(site_features)
    reports: list[HeadReport] = []
    for column, head in enumerate(HEADS):
        coef, intercept = linear_head(base.model[head])
        rows = np.array([i for i, example in enumerate(examples) if getattr(example, head) is not None], dtype=int)
        y = np.array([getattr(examples[i], head) for i in rows], dtype=np.float64)
        positives = int(y.sum())
        if len(rows) < MIN_DECISIONS or min(positives, len(rows) - positives) < MIN_PER_CLASS:
            model[head] = _linear(np.concatenate([coef[:words], np.zeros(site), coef[words:]]), intercept)
            reports.append(HeadReport(head, len(rows), positives, False,
                                      f"needs {MIN_DECISIONS} decisions with {MIN_PER_CLASS} of each class"))
            continue
        x = correctable[rows]
        base_logit = base_log_odds[rows, column]
        gram = np.asarray((x @ x.T).toarray(), dtype=np.float64)
        c, with_base, loss, base_loss = _choose(gram, base_logit, y, row_weights[rows], seed)
        basis = _Basis.of(gram)
        correction = _fit_correction(basis.rows(), base_logit, y, row_weights[rows], c, with_base)
        delta = (np.asarray(x.T @ basis.row_weights(correction.w), dtype=np.float64) if len(correction.w)
                 else np.zeros(x.shape[1]))
        scale = correction.scale
        model[head] = _linear(np.concatenate([scale * coef[:words] + delta[:words], delta[words:words + site],
                                              scale * coef[words:] + delta[words + site:]]),
                              scale * intercept + correction.shift)
        reports.append(HeadReport(head, len(rows), positives, True, "adapted", c, round(scale, 4),
                                  round(correction.shift, 4), round(loss, 4), round(base_loss, 4)))
    return model, reports


def _linear(coef: NDArray[np.float64], intercept: float) -> LogisticRegression:
    """A fitted-looking LogisticRegression holding given log-odds weights (what the artifact stores)."""
    head = LogisticRegression()
    head.coef_ = np.asarray(coef, dtype=np.float64).reshape(1, -1)
    head.intercept_ = np.array([float(intercept)])
    head.classes_ = np.array([0, 1])
    head.n_features_in_ = head.coef_.shape[1]
    return head
