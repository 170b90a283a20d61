"""Whether a batch of new training comments would help the spam head, on the training data's own hold-out.

Usage: .venv/bin/python bench/training_batch.py BATCH.jsonl [BATCH.jsonl ...] [--data ../shared/data]
       [--seeds 0,1] [--loso] [--max-per-source N]

A batch is JSON Lines in the format of `moderation/model/readers` (name, email, website, body: reader
comments, not spam) or of `moderation/model/sitespam` (the same and `kind`: spam). Read it before it is
added to the package: rows already in the training data are left out and counted.

For each seed, the shipped training data is split as the model card splits it (stratified, a fifth
held out) and each batch likewise; the spam head is fitted on the shipped four fifths alone and again
with the batches' four fifths, and both are scored on the same held-out rows (the shipped fifth and
the batches' fifth). Printed per seed: reader comments held at the default hold threshold (shipped and
batch hold-out apart), recall there on the held-out news-site spam and on the batch's own spam, ROC AUC
of held-out readers against held-out spam with form fields (sitespam, wordpress, the batch's), and the
pooled ROC AUC. With --loso, leave-one-source-out ROC AUC of YouTube, SMS and Instagram too (the model
card's measure; about a minute each). The written evaluation sets are never read.

Last line: `training_batch: held=A->B form_auc=A->B pooled_auc=A->B`, means over the seeds (held: the
shipped hold-out's reader comments, the same rows either way), without
the batches -> with them. The hold-out shares the batches' writers; the leave-one-source-out figures
show what carries to spam written by others. In December 2026 a batch of 518 reader comments and 399
spam comments written for the purpose raised the hold-out's ranking (form_auc 0.9617->0.9670, pooled
0.9883->0.9894, seeds 0 and 1) and lowered every leave-one-source-out figure (YouTube 0.885->0.883,
SMS 0.924->0.912, Instagram 0.905->0.895): it taught its writers' ways more than spam's, and was left out.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.model_selection import train_test_split  # noqa: E402

from bench.heldout import FORM_SPAM, LOSO, auc  # noqa: E402
from moderation.model import readers, sitespam, training  # noqa: E402
from moderation.model.datasets import Example, clean_text, load_all  # noqa: E402
from moderation.model.signals import Author  # noqa: E402
from moderation.policy import Policy  # noqa: E402


def read_batch(path: Path) -> list[Example]:
    """The batch's comments as training examples: spam when its rows carry a kind, reader comments otherwise."""
    lines = path.read_text(encoding="utf-8").splitlines()
    spam = bool(lines) and '"kind"' in lines[0]
    fields = sitespam.FIELDS if spam else readers.FIELDS
    return [Example(clean_text(row["body"]), "sitespam" if spam else "readers", int(spam), None if spam else 0,
                    Author(row["name"], row["email"], row["website"]))
            for row in readers.parse_rows(lines, path.name, fields)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batches", nargs="+", type=Path)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--loso", action="store_true", help="leave-one-source-out ROC AUC too")
    parser.add_argument("--max-per-source", type=int, help="fit on a sample of each source (quick runs, tests)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    hold = Policy().spam_hold

    # A malformed batch is refused before the training data is read.
    batch = [example for path in args.batches for example in read_batch(path)]
    shipped = load_all(Path(args.data))
    known = {example.text for example in shipped}
    if args.max_per_source is not None:
        shipped = training.subsample(shipped, args.max_per_source, 0)
    random.Random(0).shuffle(shipped)
    new = [example for example in batch if example.text not in known]
    print(f"batch: {len(new)} new comments ({sum(e.spam == 1 for e in new)} spam), "
          f"{len(batch) - len(new)} already in the training data left out")
    examples = shipped + new
    counts, names = training.count_matrix([e.text for e in examples])
    found = training.signal_matrix(examples)
    sources = np.array([e.source for e in examples])
    y = training.labels(examples, "spam")
    old = np.arange(len(shipped))
    added = np.arange(len(shipped), len(examples))
    old_strata = [f"{e.source}/{e.spam}/{e.abuse}" for e in shipped]

    def fit_and_score(train: NDArray[np.int64], test: NDArray[np.int64]) -> NDArray[np.float64]:
        fold = training.make_fold(counts, names, train, test, found)
        labelled = np.flatnonzero(y[train] >= 0)
        head = training.fit_head(fold.train_rows(labelled, "spam"), y[train][labelled],
                                 training.sample_weights(list(sources[train][labelled]), y[train][labelled], "spam"),
                                 "spam")
        return np.asarray(head.predict_proba(fold.test)[:, 1], dtype=np.float64)

    print("| seed | training data | readers held (shipped hold-out) | readers held (batch hold-out) "
          "| sitespam recall | batch spam recall | readers vs spam with fields ROC AUC | pooled ROC AUC |")
    print("|---|---|---|---|---|---|---|---|")
    figures: dict[str, list[tuple[float, float, float]]] = {"shipped": [], "with the batches": []}
    for seed in seeds:
        old_train, old_test = train_test_split(old, test_size=training.HOLDOUT_FRACTION, random_state=seed,
                                               stratify=old_strata)
        # Stratified by label when the batches hold enough of both, as the shipped data is by source and label.
        both = min(int(y[added].sum()), len(added) - int(y[added].sum())) >= 2
        new_train, new_test = train_test_split(added, test_size=training.HOLDOUT_FRACTION, random_state=seed,
                                               stratify=y[added] if both else None)
        test = np.sort(np.r_[old_test, new_test])
        in_batch = np.isin(test, new_test)
        y_test, s_test = y[test], sources[test]
        for label, train in (("shipped", old_train), ("with the batches", np.r_[old_train, new_train])):
            p = fit_and_score(np.sort(train), test)
            readers_mask = s_test == "readers"
            form = np.isin(s_test, ("readers", *FORM_SPAM))
            labelled = y_test >= 0
            held = float((p[readers_mask & ~in_batch] >= hold).mean())
            row = [
                held,
                float((p[readers_mask & in_batch] >= hold).mean()) if (readers_mask & in_batch).any() else np.nan,
                float((p[(s_test == "sitespam") & ~in_batch] >= hold).mean()),
                float((p[(y_test == 1) & in_batch] >= hold).mean()) if ((y_test == 1) & in_batch).any() else np.nan,
                auc(y_test[form], p[form]),
                auc(y_test[labelled], p[labelled]),
            ]
            figures[label].append((held, row[4], row[5]))
            print(f"| {seed} | {label} | " + " | ".join(f"{value:.3f}" for value in row[:4])
                  + f" | {row[4]:.4f} | {row[5]:.4f} |", flush=True)

    if args.loso:
        print("| held out of training | shipped | with the batches |")
        print("|---|---|---|")
        for source in LOSO:
            test = np.flatnonzero((sources == source) & (y >= 0))
            row = []
            for rows in (old, np.r_[old, added]):
                # As the model card's folds: tf-idf fitted on every other source's rows, the head on the labelled.
                rest = np.sort(rows[sources[rows] != source])
                fold = training.make_fold(counts, names, rest, test, found)
                labelled = np.flatnonzero(y[rest] >= 0)
                train = rest[labelled]
                model = training.fit_head(fold.train_rows(labelled, "spam"), y[train],
                                          training.sample_weights(list(sources[train]), y[train], "spam"), "spam",
                                          calibrate=False)
                row.append(auc(y[test], model.decision_function(fold.test)))
            print(f"| {source} | {row[0]:.4f} | {row[1]:.4f} |", flush=True)

    before, after = (np.mean(figures[label], axis=0) for label in ("shipped", "with the batches"))
    print(f"training_batch: held={before[0]:.3f}->{after[0]:.3f} form_auc={before[1]:.4f}->{after[1]:.4f} "
          f"pooled_auc={before[2]:.4f}->{after[2]:.4f}")


if __name__ == "__main__":
    main()
