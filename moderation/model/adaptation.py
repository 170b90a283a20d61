"""Adapting the shipped model to one site: its moderators' decisions as the strongest evidence.

The base model learned from public sets; a site's decisions say what this site holds and publishes.
Retraining on both drowns a few hundred decisions in sixty thousand public rows, and a model fitted
on the decisions alone knows nothing of the words they do not hold. So each head is refitted on the
site's decisions as a correction to the base head, whose fitted weights serve as the prior:

    log-odds = scale * base log-odds + (correction weights) . features + shift

over the same features (tf-idf words and signals) as the base. The correction weights are pulled
towards zero by an L2 penalty whose strength is chosen by cross-validation on the decisions
themselves, so a handful of decisions moves the model a little and a thousand move it far; the
scale and shift are nearly free, which lets the site recalibrate the base score and re-weigh it
against its own words. The result is again one linear head over the same columns: the artifact keeps
its format, scoring costs the same, and every word's and signal's share of the log-odds (the
evidence moderators see) stays exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

from moderation.model import signals as signal_detectors
from moderation.model.classifier import ARTIFACT_FORMAT, HEADS, Classifier, linear_head
from moderation.model.datasets import Example

# A head is adapted only from this many decisions holding both of its classes, at least
# MIN_PER_CLASS of each: below that a correction is noise, and the base head is kept as it is.
MIN_DECISIONS = 20
MIN_PER_CLASS = 5
# Penalty strengths (inverse, as sklearn's C) tried for the correction weights.
CORRECTION_C: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
# The scale and shift are pulled gently towards the base's (1, 0): they are two numbers, well
# determined by a few dozen decisions.
PRIOR_STRENGTH = 0.1
FOLDS = 5


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
                    weights: NDArray[np.float64], c: float | None) -> _Correction:
    """Fit scale, shift and (unless c is None) the correction by penalised maximum likelihood."""
    width = coordinates.shape[1] if c is not None else 0
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
    return _Correction(float(theta[0]), float(theta[1]), np.asarray(theta[2:], dtype=np.float64))


def _predict(correction: _Correction, coordinates: NDArray[np.float64],
             base: NDArray[np.float64]) -> NDArray[np.float64]:
    z = correction.scale * base + correction.shift
    if len(correction.w):
        z = z + coordinates @ correction.w
    return np.asarray(z, dtype=np.float64)


def _choose(gram: NDArray[np.float64], base: NDArray[np.float64], y: NDArray[np.float64],
            weights: NDArray[np.float64], seed: int) -> tuple[float | None, float, float]:
    """Return the penalty (None: scale and shift only) with the lowest cross-validated log-loss, its loss,
    and the base head's own loss on the same folds."""
    folds = min(FOLDS, int(min(y.sum(), len(y) - y.sum())))
    splits = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(base, y):
        basis = _Basis.of(gram[np.ix_(train, train)])
        splits.append((train, test, basis.rows(), basis.project(gram[np.ix_(test, train)])))
    base_loss = float(log_loss(y, 1.0 / (1.0 + np.exp(-base)), sample_weight=weights, labels=[0, 1]))
    best: tuple[float | None, float] = (None, np.inf)
    for c in (None, *CORRECTION_C):
        z = np.empty_like(base)
        for train, test, train_coordinates, test_coordinates in splits:
            correction = _fit_correction(train_coordinates, base[train], y[train], weights[train], c)
            z[test] = _predict(correction, test_coordinates, base[test])
        loss = float(log_loss(y, 1.0 / (1.0 + np.exp(-z)), sample_weight=weights, labels=[0, 1]))
        if loss < best[1] - 1e-9:
            best = (c, loss)
    return best[0], best[1], base_loss


def site_features(base: Classifier, examples: Sequence[Example]) -> sp.csr_matrix:
    """The base model's columns for each example: its normalised tf-idf, then its signals."""
    texts = [example.text for example in examples]
    words = base.tfidf(texts)
    if not base.signals:
        return sp.csr_matrix(words)
    found = signal_detectors.matrix(texts, [example.author for example in examples], base.signals)
    return sp.hstack([words, sp.csr_matrix(found)]).tocsr()


def adapt(base: Classifier, examples: Sequence[Example], weights: Sequence[float] | None = None,
          seed: int = 0) -> tuple[dict[str, Any], list[HeadReport]]:
    """Return the artifact contents of `base` adapted to a site's labelled examples, and a report per head.

    `weights` (one per example, default 1) lets newer decisions count more. A head with too few
    decisions of both classes keeps the base's weights.
    """
    features = site_features(base, examples)
    row_weights = np.ones(len(examples)) if weights is None else np.asarray(weights, dtype=np.float64)
    model: dict[str, Any] = {
        "format": ARTIFACT_FORMAT,
        "features": base.feature_names(),
        "idf": np.asarray(base.model["idf"], dtype=np.float64),
        "signals": np.array(base.signals, dtype=np.str_),
    }
    reports: list[HeadReport] = []
    for head in HEADS:
        coef, intercept = linear_head(base.model[head])
        rows = np.array([i for i, example in enumerate(examples) if getattr(example, head) is not None], dtype=int)
        y = np.array([getattr(examples[i], head) for i in rows], dtype=np.float64)
        positives = int(y.sum())
        if len(rows) < MIN_DECISIONS or min(positives, len(rows) - positives) < MIN_PER_CLASS:
            model[head] = _linear(coef, intercept)
            reports.append(HeadReport(head, len(rows), positives, False,
                                      f"needs {MIN_DECISIONS} decisions with {MIN_PER_CLASS} of each class"))
            continue
        x = features[rows]
        base_logit = np.asarray(x @ coef + intercept, dtype=np.float64)
        gram = np.asarray((x @ x.T).toarray(), dtype=np.float64)
        c, loss, base_loss = _choose(gram, base_logit, y, row_weights[rows], seed)
        basis = _Basis.of(gram)
        correction = _fit_correction(basis.rows(), base_logit, y, row_weights[rows], c)
        delta = (np.asarray(x.T @ basis.row_weights(correction.w), dtype=np.float64) if len(correction.w)
                 else np.zeros_like(coef))
        model[head] = _linear(correction.scale * coef + delta, correction.scale * intercept + correction.shift)
        reports.append(HeadReport(head, len(rows), positives, True, "adapted", c, round(correction.scale, 4),
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
