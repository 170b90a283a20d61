"""How the reader comments' training weight moves the spam head, on the training data's own hold-out.

Usage: .venv/bin/python bench/source_weights.py [--data ../shared/data] [--readers 1,2,3,4] [--seeds 0,1]
       [--max-per-source N]

For each relative weight of the `readers` source (`moderation.model.training.SOURCE_RELATIVE_WEIGHT`)
and each seed, the spam head is fitted on 80% of the training data (the model card's stratified split:
every source/label cell keeps a fifth out) and its calibrated scores on the held-out fifth give: the
share of held-out reader comments at or above the default hold threshold (0.5), recall there on the
held-out news-site and WordPress spam, ROC AUC of held-out readers against that spam (the comments
that carry every form field), and the pooled ROC AUC over every held-out source. The written
evaluation sets (`moderation/model/written`) are not read: this is how the weight was chosen.
Last line: `source_weights: readers=W held=H form_auc=F pooled_auc=P`, the shipped weight's means over the seeds.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from moderation.model import training  # noqa: E402
from moderation.model.datasets import load_all  # noqa: E402
from moderation.policy import Policy  # noqa: E402

FORM_SPAM = ("sitespam", "wordpress")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--readers", default="1,2,3,4")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--max-per-source", type=int, help="fit on a sample of each source (quick runs, tests)")
    args = parser.parse_args()
    weights = [float(w) for w in args.readers.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    hold = Policy().spam_hold

    examples = load_all(Path(args.data))
    if args.max_per_source is not None:
        examples = training.subsample(examples, args.max_per_source, 0)
    random.Random(0).shuffle(examples)
    counts, names = training.count_matrix([e.text for e in examples])
    found = training.signal_matrix(examples)
    strata = [f"{e.source}/{e.spam}/{e.abuse}" for e in examples]
    sources = np.array([e.source for e in examples])
    y = training.labels(examples, "spam")
    rows = np.arange(len(examples))
    shipped = training.SOURCE_RELATIVE_WEIGHT.get("readers", 1.0)

    print("| readers weight | seed | readers held at the hold threshold | sitespam recall | wordpress recall "
          "| ROC AUC readers vs spam with fields | pooled ROC AUC |")
    print("|---|---|---|---|---|---|---|")
    figures: dict[float, list[tuple[float, float, float]]] = {}
    for seed in seeds:
        train, test = train_test_split(rows, test_size=training.HOLDOUT_FRACTION, random_state=seed, stratify=strata)
        train, test = np.sort(train), np.sort(test)
        fold = training.make_fold(counts, names, train, test, found)
        labelled = np.flatnonzero(y[train] >= 0)
        for weight in weights:
            training.SOURCE_RELATIVE_WEIGHT["readers"] = weight
            head = training.fit_head(fold.train_rows(labelled, "spam"), y[train][labelled],
                                     training.sample_weights(list(sources[train][labelled]), y[train][labelled],
                                                             "spam"), "spam")
            p = head.predict_proba(fold.test)[:, 1]
            y_test, s_test = y[test], sources[test]
            form = np.isin(s_test, ("readers", *FORM_SPAM))
            form_auc = float(roc_auc_score(y_test[form], p[form]))
            pooled = float(roc_auc_score(y_test[y_test >= 0], p[y_test >= 0]))
            held = float((p[s_test == "readers"] >= hold).mean())
            figures.setdefault(weight, []).append((held, form_auc, pooled))
            recall = [float((p[s_test == source] >= hold).mean()) for source in FORM_SPAM]
            print(f"| {weight:g} | {seed} | {held:.3f} | {recall[0]:.3f} | {recall[1]:.3f} | {form_auc:.4f} "
                  f"| {pooled:.4f} |", flush=True)
    training.SOURCE_RELATIVE_WEIGHT["readers"] = shipped
    held, form_auc, pooled = np.mean(figures.get(shipped, [(np.nan, np.nan, np.nan)]), axis=0)
    print(f"source_weights: readers={shipped:g} held={held:.3f} form_auc={form_auc:.4f} pooled_auc={pooled:.4f}")


if __name__ == "__main__":
    main()
