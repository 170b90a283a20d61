"""The training data's own hold-out, for the benches that weigh a change to the spam head.

The model card's split: the public sets and the comments written for training, shuffled with seed 0,
a fifth of every source/label cell held out. The written evaluation sets (`moderation/model/written`)
are never read here: a change chosen on these figures has not seen them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from moderation.model import training
from moderation.model.datasets import Example, load_all

# The spam that comes with every field of the comment form, as the reader comments do.
FORM_SPAM = ("sitespam", "wordpress")
# The public sources holding spam and legitimate comments alike, each held out of training in turn.
LOSO = ("youtube", "sms", "instagram")


@dataclass(frozen=True, slots=True)
class TrainingData:
    """Every training comment with its raw feature counts, spam signals, source and spam label (-1: none)."""

    examples: list[Example]
    counts: sp.csc_matrix
    names: list[str]
    found: NDArray[np.float64]
    sources: NDArray[np.str_]
    y: NDArray[np.int64]

    @classmethod
    def load(cls, data_dir: Path, max_per_source: int | None = None) -> TrainingData:
        """Read the training data (a sample of each source when max_per_source is given), shuffled as the card's."""
        examples = load_all(data_dir)
        if max_per_source is not None:
            examples = training.subsample(examples, max_per_source, 0)
        random.Random(0).shuffle(examples)
        counts, names = training.count_matrix([e.text for e in examples])
        return cls(examples, counts, names, training.signal_matrix(examples),
                   np.array([e.source for e in examples]), training.labels(examples, "spam"))

    def split(self, seed: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The training and held-out rows of one seed, each sorted."""
        strata = [f"{e.source}/{e.spam}/{e.abuse}" for e in self.examples]
        train, test = train_test_split(np.arange(len(self.examples)), test_size=training.HOLDOUT_FRACTION,
                                       random_state=seed, stratify=strata)
        return np.sort(train), np.sort(test)

    def leave_out(self, source: str) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Every other source's rows, and the source's own labelled rows (the model card's cross-source fold)."""
        return (np.flatnonzero(self.sources != source),
                np.flatnonzero((self.sources == source) & (self.y >= 0)))


def auc(y: NDArray[np.int64], p: NDArray[np.float64]) -> float:
    """ROC AUC, or nan where one class is missing (a small sample)."""
    return float(roc_auc_score(y, p)) if len(set(y.tolist())) == 2 else float("nan")


def hold_out_figures(p: NDArray[np.float64], sources: NDArray[np.str_], y: NDArray[np.int64],
                     hold: float) -> dict[str, float]:
    """Held-out readers held at the hold threshold, recall there on spam with form fields, and two ROC AUCs."""
    form = np.isin(sources, ("readers", *FORM_SPAM))
    labelled = y >= 0
    figures = {"readers_held": float((p[sources == "readers"] >= hold).mean())}
    figures.update({source: float((p[sources == source] >= hold).mean()) for source in FORM_SPAM})
    figures["form_auc"] = auc(y[form], p[form])
    figures["pooled_auc"] = auc(y[labelled], p[labelled])
    return figures
