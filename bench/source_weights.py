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
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.heldout import FORM_SPAM, TrainingData, hold_out_figures  # noqa: E402
from moderation.model import training  # noqa: E402
from moderation.policy import Policy  # noqa: E402


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

    data = TrainingData.load(Path(args.data), args.max_per_source)
    y, sources = data.y, data.sources
    shipped = training.SOURCE_RELATIVE_WEIGHT.get("readers", 1.0)

    print("| readers weight | seed | readers held at the hold threshold | sitespam recall | wordpress recall "
          "| ROC AUC readers vs spam with fields | pooled ROC AUC |")
    print("|---|---|---|---|---|---|---|")
    figures: dict[float, list[tuple[float, float, float]]] = {}
    for seed in seeds:
        train, test = data.split(seed)
        fold = training.make_fold(data.counts, data.names, train, test, data.found)
        labelled = np.flatnonzero(y[train] >= 0)
        for weight in weights:
            training.SOURCE_RELATIVE_WEIGHT["readers"] = weight
            head = training.fit_head(fold.train_rows(labelled, "spam"), y[train][labelled],
                                     training.sample_weights(list(sources[train][labelled]), y[train][labelled],
                                                             "spam"), "spam")
            got = hold_out_figures(head.predict_proba(fold.test)[:, 1], sources[test], y[test], hold)
            figures.setdefault(weight, []).append((got["readers_held"], got["form_auc"], got["pooled_auc"]))
            recall = " | ".join(f"{got[source]:.3f}" for source in FORM_SPAM)
            print(f"| {weight:g} | {seed} | {got['readers_held']:.3f} | {recall} | {got['form_auc']:.4f} "
                  f"| {got['pooled_auc']:.4f} |", flush=True)
    training.SOURCE_RELATIVE_WEIGHT["readers"] = shipped
    held, form_auc, pooled = np.mean(figures.get(shipped, [(np.nan, np.nan, np.nan)]), axis=0)
    print(f"source_weights: readers={shipped:g} held={held:.3f} form_auc={form_auc:.4f} pooled_auc={pooled:.4f}")


if __name__ == "__main__":
    main()
