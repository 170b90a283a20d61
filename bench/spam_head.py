"""Changes to the spam head's design, each against the shipped design, on the training data's own hold-out.

Usage: .venv/bin/python bench/spam_head.py [--variants shipped,C=1,...] [--data ../shared/data] [--seeds 0,1]
       [--loso] [--max-per-source N]

Each variant changes one thing in how the spam head is fitted (the data are the same):

- `shipped`: the head as `moderation train` fits it;
- `C=1`, `C=4`: weaker or stronger L2 regularisation than the shipped C=2;
- `international-phone`: a phone number written in international form (+234..., 0044...) gets a column
  of its own beside `phone`, so that a helpline's national number could weigh less than a scammer's;
- `gated`: every signal gets a second column, its value times the text-only spam probability (a
  text-only head's, out of fold on the training rows), so that a phone number or a link could count
  more in a text that already reads as a pitch and less in a helpful reader's;
- `no-throwaway`: the throwaway-address signal left out (the public WordPress spam folder shows it
  in 2 of 2,724 comments, the written training spam in 45 of 806);
- `embeddings` (only with --embeddings FILE.npy): a sentence encoder's vector of each comment beside
  the words. `--texts-out FILE.json` writes the training comments' texts in the bench's order (with
  the same --data and --max-per-source); embed them with any encoder and save one row per text
  (numpy.save). The encoder is not a dependency of this project: it runs in an environment of its own.

Printed per variant and seed: the held-out figures of `bench/source_weights.py` (reader comments held
at the default hold threshold or --hold, recall there on news-site and WordPress spam, ROC AUC of readers against
spam with form fields, pooled ROC AUC); with --loso, each variant's leave-one-source-out ROC AUC for
YouTube, SMS and Instagram (the model card's measure; about a minute each). Measured on 2026-12-02
(seeds 0 and 1, 20 minutes with --loso): readers held 0.041-0.049 against the shipped 0.043, ROC AUC
with form fields 0.9773-0.9796 against 0.9787, and no variant as good as the shipped head on all three
held-out sources: `international-phone` took SMS from 0.924 to 0.866 (the SMS spam gives national
numbers; only the written spam gives international ones), `gated` Instagram from 0.905 to 0.902, `C=4`
YouTube from 0.885 to 0.875, `no-throwaway` Instagram to 0.904. With all-MiniLM-L6-v2's vectors
(sentence-transformers, normalised, 128 tokens; PyTorch on the CPU), `embeddings` gave readers held
0.039, ROC AUC with form fields 0.9824, YouTube 0.885, SMS 0.937, Instagram 0.908: the most any change
moved, for 9 ms of encoder a comment (median, 2 cores) where the whole scoring path takes 0.27 ms.
Last line: `spam_head: shipped_held=H shipped_form_auc=F best=NAME best_form_auc=F`, means over the seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scipy.special import expit  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from bench.heldout import FORM_SPAM, LOSO, TrainingData, auc, hold_out_figures  # noqa: E402
from moderation.model import signals, training  # noqa: E402
from moderation.policy import Policy  # noqa: E402

SHIPPED_C = training.REGULARISATION["spam"]
SIGNALS = len(signals.SIGNALS)


@dataclass(frozen=True, slots=True)
class Design:
    """What a variant fits: the training and test matrices, how many last columns are signals, and C."""

    train: sp.csr_matrix
    test: sp.csr_matrix
    signal_columns: int = SIGNALS
    c: float = SHIPPED_C


@dataclass(frozen=True, slots=True)
class Fold:
    """One division of the rows, with the shipped design's matrices (tf-idf fitted on the training rows)."""

    data: TrainingData
    train_rows: NDArray[np.int64]
    test_rows: NDArray[np.int64]
    train: sp.csr_matrix
    test: sp.csr_matrix
    weights: NDArray[np.float64]

    @classmethod
    def of(cls, data: TrainingData, train: NDArray[np.int64], test: NDArray[np.int64]) -> Fold:
        fold = training.make_fold(data.counts, data.names, train, test, data.found)
        labelled = np.flatnonzero(data.y[train] >= 0)
        rows = train[labelled]
        return cls(data, rows, test, fold.train_rows(labelled, "spam"), fold.test,
                   training.sample_weights(list(data.sources[rows]), data.y[rows], "spam"))

    def with_columns(self, train: NDArray[np.float64], test: NDArray[np.float64]) -> Design:
        """The shipped design with more signal columns after the shipped ones."""
        return Design(sp.hstack([self.train, sp.csr_matrix(train)]).tocsr(),
                      sp.hstack([self.test, sp.csr_matrix(test)]).tocsr(), SIGNALS + train.shape[1])


def _shipped(fold: Fold) -> Design:
    return Design(fold.train, fold.test)


def _regularised(c: float) -> Callable[[Fold], Design]:
    return lambda fold: Design(fold.train, fold.test, c=c)


def _international(text: str) -> float:
    # The detector's own phone spans, so that only the way a number is written differs.
    return float(any(text[start:end].lstrip().startswith(("+", "00")) for start, end in signals._phones(text)))


def _international_phone(fold: Fold) -> Design:
    column = np.array([_international(example.text) for example in fold.data.examples])[:, None]
    return fold.with_columns(column[fold.train_rows], column[fold.test_rows])


def _gated(fold: Fold) -> Design:
    words = fold.train.shape[1] - SIGNALS
    text_train, text_test = fold.train[:, :words], fold.test[:, :words]
    y, sources = fold.data.y[fold.train_rows], fold.data.sources[fold.train_rows]
    # Out of fold on the training rows, as the text score of a comment the head has not seen.
    out_of_fold = np.zeros(len(y))
    strata = [f"{source}/{label}" for source, label in zip(sources, y, strict=True)]
    for fit, score in StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(len(y)), strata):
        model = LogisticRegression(C=SHIPPED_C, max_iter=2000).fit(text_train[fit], y[fit],
                                                                    sample_weight=fold.weights[fit])
        out_of_fold[score] = model.decision_function(text_train[score])
    model = LogisticRegression(C=SHIPPED_C, max_iter=2000).fit(text_train, y, sample_weight=fold.weights)
    found = fold.data.found
    return fold.with_columns(found[fold.train_rows] * expit(out_of_fold)[:, None],
                             found[fold.test_rows] * expit(model.decision_function(text_test))[:, None])


def _without(signal: str) -> Callable[[Fold], Design]:
    # The signal columns come last, in SIGNALS' order.
    column = signals.SIGNALS.index(signal) - SIGNALS

    def design(fold: Fold) -> Design:
        keep = np.ones(fold.train.shape[1])
        keep[column] = 0.0
        return Design((fold.train @ sp.diags(keep)).tocsr(), (fold.test @ sp.diags(keep)).tocsr())

    return design


def _with_embeddings(vectors: NDArray[np.float64]) -> Callable[[Fold], Design]:
    def design(fold: Fold) -> Design:
        words = fold.train.shape[1] - SIGNALS

        def joined(matrix: sp.csr_matrix, rows: NDArray[np.int64]) -> sp.csr_matrix:
            # Between the words and the signals, which stay the last columns.
            return sp.hstack([matrix[:, :words], sp.csr_matrix(vectors[rows]), matrix[:, words:]]).tocsr()

        return Design(joined(fold.train, fold.train_rows), joined(fold.test, fold.test_rows))

    return design


VARIANTS: dict[str, Callable[[Fold], Design]] = {
    "shipped": _shipped,
    "C=1": _regularised(1.0),
    "C=4": _regularised(4.0),
    "international-phone": _international_phone,
    "gated": _gated,
    "no-throwaway": _without("disposable_email"),
}


def fit(fold: Fold, design: Design, calibrate: bool) -> NDArray[np.float64]:
    """The variant's scores of the test rows: calibrated probabilities, or log-odds when not calibrate."""
    training.REGULARISATION["spam"] = design.c
    try:
        head = training.fit_head(design.train, fold.data.y[fold.train_rows], fold.weights, "spam",
                                 calibrate=calibrate, signal_columns=design.signal_columns)
    finally:
        training.REGULARISATION["spam"] = SHIPPED_C
    scores = head.predict_proba(design.test)[:, 1] if calibrate else head.decision_function(design.test)
    return np.asarray(scores, dtype=np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--loso", action="store_true", help="leave-one-source-out ROC AUC too")
    parser.add_argument("--hold", type=float, default=Policy().spam_hold,
                        help="the spam hold threshold the held and recall figures are read at (default: the policy's)")
    parser.add_argument("--max-per-source", type=int, help="fit on a sample of each source (quick runs, tests)")
    parser.add_argument("--texts-out", type=Path, help="write the training comments' texts (JSON) and stop")
    parser.add_argument("--embeddings", type=Path, help="one vector per text of --texts-out (.npy): variant embeddings")
    args = parser.parse_args()
    variants = dict(VARIANTS)
    names = args.variants.split(",")
    if args.embeddings is not None and args.variants == parser.get_default("variants"):
        names.append("embeddings")
    unknown = [name for name in names if name not in [*variants, "embeddings"]]
    if unknown:
        parser.error(f"unknown variant {', '.join(unknown)}; known: {', '.join(variants)}, embeddings")
    if "embeddings" in names and args.embeddings is None:
        parser.error("variant embeddings needs --embeddings FILE.npy")
    if "shipped" not in names:
        names.insert(0, "shipped")
    seeds = [int(s) for s in args.seeds.split(",")]
    hold = args.hold
    data = TrainingData.load(Path(args.data), args.max_per_source)
    if args.texts_out is not None:
        args.texts_out.write_text(json.dumps([example.text for example in data.examples]), encoding="utf-8")
        print(f"{len(data.examples)} texts written to {args.texts_out}")
        return
    if args.embeddings is not None:
        vectors = np.asarray(np.load(args.embeddings), dtype=np.float64)
        if vectors.ndim != 2 or len(vectors) != len(data.examples):
            parser.error(f"{args.embeddings} holds {vectors.shape[0] if vectors.ndim else 0} rows, not one per "
                         f"text ({len(data.examples)}): embed the texts of --texts-out with the same --data and "
                         "--max-per-source")
        variants["embeddings"] = _with_embeddings(vectors)

    print("| variant | seed | readers held | " + " | ".join(f"{source} recall" for source in FORM_SPAM)
          + " | readers vs spam with fields ROC AUC | pooled ROC AUC |")
    print("|---|---|---|---|---|---|---|")
    means: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for seed in seeds:
        fold = Fold.of(data, *data.split(seed))
        for name in names:
            got = hold_out_figures(fit(fold, variants[name](fold), calibrate=True),
                                   data.sources[fold.test_rows], data.y[fold.test_rows], hold)
            means[name].append((got["readers_held"], got["form_auc"]))
            recall = " | ".join(f"{got[source]:.3f}" for source in FORM_SPAM)
            print(f"| {name} | {seed} | {got['readers_held']:.3f} | {recall} | {got['form_auc']:.4f} "
                  f"| {got['pooled_auc']:.4f} |", flush=True)

    if args.loso:
        print("| variant | " + " | ".join(f"{source} held out" for source in LOSO) + " |")
        print("|---|" + "---|" * len(LOSO))
        for name in names:
            row = []
            for source in LOSO:
                fold = Fold.of(data, *data.leave_out(source))
                row.append(auc(data.y[fold.test_rows], fit(fold, variants[name](fold), calibrate=False)))
            print(f"| {name} | " + " | ".join(f"{value:.4f}" for value in row) + " |", flush=True)

    figures = {name: np.mean(values, axis=0) for name, values in means.items()}
    others = [name for name in names if name != "shipped"] or ["shipped"]
    best = max(others, key=lambda name: figures[name][1])
    print(f"spam_head: shipped_held={figures['shipped'][0]:.3f} shipped_form_auc={figures['shipped'][1]:.4f} "
          f"best={best} best_form_auc={figures[best][1]:.4f}")


if __name__ == "__main__":
    main()
