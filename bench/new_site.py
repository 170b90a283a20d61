"""A new site bootstraps from its own decisions: ROC AUC before and after retraining.

Usage: .venv/bin/python bench/new_site.py [--data ../shared/data] [--site stormfront] [--decisions 1000]

The base model is trained on every public set except `--site`; 1,000 of that set's labelled rows are
imported as the site's decisions (`moderation import-decisions`, into a Redis this script starts),
the model is retrained on the public sets plus those decisions (as `moderation train --decisions`
does), and both are scored on the rest of the site's rows. Last line:
`new_site: site=S decisions=N abuse_auc_before=X abuse_auc_after=Y spam_auc_before=... spam_auc_after=...`
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.metrics import roc_auc_score  # noqa: E402

from moderation.decisions import all_decisions, read_import, store_imported  # noqa: E402
from moderation.keys import Keys  # noqa: E402
from moderation.model.classifier import Classifier  # noqa: E402
from moderation.model.datasets import SOURCES, Example, load_all  # noqa: E402
from moderation.model.training import SITE_SOURCE, fit_model  # noqa: E402
from moderation.redis_client import connect  # noqa: E402
from moderation.redis_server import EmbeddedRedis  # noqa: E402
from moderation.store import CommentStore  # noqa: E402


def auc(labels: list[int], scores: list[float]) -> float | None:
    return round(float(roc_auc_score(labels, scores)), 4) if len(set(labels)) == 2 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--site", default="stormfront", choices=SOURCES)
    parser.add_argument("--decisions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = Path(args.data)

    public = load_all(data, [s for s in SOURCES if s != args.site])
    site_rows = load_all(data, [args.site])
    random.Random(args.seed).shuffle(site_rows)
    imported, rest = site_rows[: args.decisions], site_rows[args.decisions:]
    head = "abuse" if any(r.abuse for r in site_rows) else "spam"
    print(f"base model: {len(public)} public rows without {args.site}", file=sys.stderr)
    base = Classifier(fit_model(public), version="base")

    with tempfile.TemporaryDirectory() as scratch, EmbeddedRedis(Path(scratch) / "redis", persistent=False) as server:
        export = Path(scratch) / "decisions.csv"
        with export.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["text", "label"])
            writer.writeheader()
            for row in imported:
                label = "abuse" if row.abuse else "spam" if row.spam else "ok"
                writer.writerow({"text": row.text, "label": label})
        store = CommentStore(connect(server.url, decode_responses=True), Keys())
        store_imported(store, read_import(export))
        decisions = all_decisions(store)
        # As `moderation train --decisions`: the site is one more source; all of an import trains.
        site = [Example(d.text, SITE_SOURCE, d.spam, d.abuse) for d in decisions if d.label != "other"]
        print(f"retraining with {len(site)} imported decisions", file=sys.stderr)
        retrained = Classifier(fit_model([*public, *site]), version="retrained")

    texts = [r.text for r in rest]
    figures: dict[str, float | None] = {}
    for name, model in (("before", base), ("after", retrained)):
        scores = model.probabilities(texts)
        for column, label in ((0, "spam"), (1, "abuse")):
            labels = [int(getattr(r, label) or 0) for r in rest]
            figures[f"{label}_auc_{name}"] = auc(labels, scores[:, column].tolist())
    print(f"evaluated on the other {len(rest)} rows of {args.site} ({head} is its label)", file=sys.stderr)
    print(f"new_site: site={args.site} decisions={len(site)} " + " ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
