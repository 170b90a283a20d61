"""How fast a new site's decisions move the model: ROC AUC after 0, 100, 300 and 1,000 of them.

Usage: .venv/bin/python bench/learning_curve.py [--data ../shared/data] [--sources davidson,sms]
       [--points 0,100,300,1000] [--seeds 3] [--order arrival|uncertain|both] [--cache var/learning-curve]

Each public source with both classes of a head takes its turn as "the new site". The base model is
trained on every other source (`moderation.model.training.fit_model`; cached under --cache, keyed by
the training code and data). Half the site's rows (at most 3,000) are its traffic, from which
decisions are taken; the other half is the test set, scored after each step.

For each number N of decisions: N rows of the traffic, in arrival order (shuffled with the seed) or
nearest the hold threshold first (`--order uncertain`, the console's `sort=uncertain`), go into a
Redis this script starts through the same code path as `moderation import-decisions`, then are read
back and adapted to as `moderation train --decisions` and `moderation learn` do
(`decisions.all_decisions`, `decisions.training_examples`, which leaves the held-out fifth aside, and
`adaptation.adapt`). Beside the adapted model: the base model, and a tf-idf logistic regression
trained on the same decisions alone (regularisation chosen by cross-validation).

Printed per source and N: ROC AUC of base, site-only and adapted, and the share of all test comments
a moderator reads, highest score first, to find 90% of the positives, and the share of its legitimate
comments the default hold threshold holds (base and adapted). `--sources newsroom` plays the reader
comments and news-site spam written for training as one news site, its base trained without either;
`--sources germeval2018-de` plays a German site: GermEval 2018's test part, which the shipped model's
German head never saw, with the shipped model as the base, each comment in the language intake finds.
Last line:
`learning: mean_gain_1000=X min_margin=Y` with the gain the adapted model's AUC over the base's at
1,000 decisions, averaged over sources and seeds, and the margin its AUC over the better of base and
site-only, averaged over seeds, at the worst source and N > 0.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegressionCV  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from moderation.decisions import all_decisions, read_import, store_imported, training_examples  # noqa: E402
from moderation.keys import Keys  # noqa: E402
from moderation.learn import uncertainty  # noqa: E402
from moderation.model.adaptation import adapt  # noqa: E402
from moderation.model.classifier import HEADS, Classifier  # noqa: E402
from moderation.model.datasets import SOURCES, Example, load_all, source_files  # noqa: E402
from moderation.model.training import fit_model, subsample, write_artifact  # noqa: E402
from moderation.policy import Policy  # noqa: E402
from moderation.redis_client import connect  # noqa: E402
from moderation.redis_server import EmbeddedRedis  # noqa: E402
from moderation.store import CommentStore  # noqa: E402

# A news site's own comments: the reader comments and news-site spam written for training, played as one
# site (only when --sources names it). Its base has seen neither, as a public source's base has not seen it.
COMPOSITE_SITES: dict[str, tuple[str, ...]] = {"newsroom": ("readers", "sitespam")}
# Sites in another language: a language set's held-out part, which the shipped model's head for that
# language never saw, with the shipped model as the base (named in --sources; the default list too).
LANGUAGE_SITES: dict[str, str] = {"germeval2018-de": "de"}
TRAFFIC_SHARE = 0.5
MAX_TRAFFIC = 3000
RECALL_TARGET = 0.9


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    head: str
    traffic: list[Example]
    test: list[Example]
    language: str = "en"


def site_head(rows: Sequence[Example]) -> str | None:
    """The head a source judges with both classes (abuse first), or None."""
    for head in ("abuse", "spam"):
        values = {getattr(row, head) for row in rows} - {None}
        if values == {0, 1}:
            return head
    return None


# What a base model is made of: the code and data of training, not adaptation's or evaluation's.
BASE_INPUTS = ("classifier.py", "datasets.py", "lexicon.py", "signals.py", "training.py", "readers/*.jsonl",
               "sitespam/*.jsonl")
# (site.py and adaptation.py, the adapted model's own code, are left out: they do not change a base model.)


def base_key(data: Path, held: str, seed: int, per_source: int | None) -> str:
    """A key that changes when anything a base model is trained from changes."""
    model = ROOT / "moderation" / "model"
    code = b"".join(p.read_bytes() for pattern in BASE_INPUTS for p in sorted(model.glob(pattern)))
    files = b"".join(hashlib.sha256(p.read_bytes()).digest() for p in source_files(data))
    return hashlib.sha256(code + files + f"{held}:{seed}:{per_source}".encode()).hexdigest()[:16]


def base_model(data: Path, held: str, cache: Path, seed: int, per_source: int | None) -> Classifier:
    """The model trained on every source but `held` (a composite site's members), from the cache when unchanged."""
    key = base_key(data, held, seed, per_source)
    path = cache / f"base-without-{held}-{key}.skops"
    if not path.exists():
        started = time.monotonic()
        rows = load_all(data, [s for s in SOURCES if s not in COMPOSITE_SITES.get(held, (held,))])
        if per_source is not None:
            rows = subsample(rows, per_source, seed)
        random.Random(seed).shuffle(rows)
        write_artifact(fit_model(rows), path, {"held_out_source": held})
        print(f"  trained the base without {held} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return Classifier.load(path)


def read_share(labels: Sequence[int], scores: Sequence[float] | np.ndarray) -> float:
    """The share of all comments read, highest score first, until RECALL_TARGET of the positives are found."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    found = np.cumsum(np.asarray(labels)[order])
    needed = int(np.ceil(RECALL_TARGET * found[-1]))
    return float((np.searchsorted(found, needed) + 1) / len(order))


def held_share(labels: Sequence[int], scores: Sequence[float] | np.ndarray, hold: float) -> float:
    """The share of the legitimate comments (label 0) that the policy's hold threshold would hold."""
    negatives = np.asarray(scores)[np.asarray(labels) == 0]
    return float((negatives >= hold).mean()) if len(negatives) else float("nan")


def probabilities(model: Classifier, rows: Sequence[Example]) -> np.ndarray:
    """Each row's spam and abuse probabilities, in the row's language."""
    return model.probabilities([r.text for r in rows], authors=[r.author for r in rows],
                               languages=[r.language for r in rows])


def language_site_rows(data: Path, name: str) -> list[Example]:
    """A language set's held-out part as a site's comments, each in the language intake would find."""
    from moderation.model.languages import detect_language
    from moderation.model.languages.data import SETS_BY_FOLDER, load_language_set

    language = LANGUAGE_SITES[name]
    return [Example(e.text, name, 0, e.abuse, language=detect_language(e.text, language).code)
            for e in load_language_set(data, SETS_BY_FOLDER[name]) if e.part == "test"]


def uncertainty_order(model: Classifier, rows: Sequence[Example], policy: Policy) -> list[int]:
    """Indices of rows in the console's `sort=uncertain` order (`moderation.learn.uncertainty`), ties by arrival."""
    scores = probabilities(model, rows)
    nearness = [uncertainty(float(spam), float(abuse), policy) for spam, abuse in scores]
    return sorted(range(len(rows)), key=lambda i: -nearness[i])


def through_the_store(url: str, rows: Sequence[Example], scratch: Path, language: str = "en") -> list[Example]:
    """Import rows as decisions (as `moderation import-decisions` does) and read back what training uses."""
    redis = connect(url, decode_responses=True)
    redis.flushdb()
    path = scratch / "decisions.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label", "name", "email", "website"])
        writer.writeheader()
        for row in rows:
            label = "abuse" if row.abuse else "spam" if row.spam else "ok"
            writer.writerow({"text": row.text, "label": label, "name": row.author.name,
                             "email": row.author.email, "website": row.author.website})
    store = CommentStore(redis, Keys())
    store_imported(store, read_import(path))
    examples = training_examples(all_decisions(store), language)
    redis.close()
    return examples


def site_only(rows: Sequence[Example], head: str, test: Sequence[Example]) -> list[float] | None:
    """Scores of a tf-idf logistic regression trained on the decisions alone, or None without both classes."""
    labels = [getattr(r, head) for r in rows]
    if len(set(labels)) < 2 or min(labels.count(0), labels.count(1)) < 3:
        return None
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    matrix = vectorizer.fit_transform([r.text for r in rows])
    folds = min(5, labels.count(0), labels.count(1))
    model = LogisticRegressionCV(Cs=[0.1, 1, 10, 100], cv=folds, scoring="roc_auc", max_iter=2000,
                                 l1_ratios=(0.0,), use_legacy_attributes=False)
    model.fit(matrix, labels)
    return [float(p) for p in model.predict_proba(vectorizer.transform([r.text for r in test]))[:, 1]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--sources", help="comma-separated (default: every source with both classes of a head; "
                        f"also: {', '.join(COMPOSITE_SITES)})")
    parser.add_argument("--points", default="0,100,300,1000")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--order", choices=("arrival", "uncertain", "both"), default="arrival")
    parser.add_argument("--cache", default=str(ROOT / "var" / "learning-curve"))
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--max-per-source", type=int, help="train the base models on a sample (quick runs, tests)")
    args = parser.parse_args()
    data, cache = Path(args.data), Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    points = [int(p) for p in args.points.split(",")]
    orders = ("arrival", "uncertain") if args.order == "both" else (args.order,)
    names = args.sources.split(",") if args.sources else [*SOURCES, *LANGUAGE_SITES]
    policy = Policy()
    results: list[dict[str, object]] = []

    with tempfile.TemporaryDirectory() as scratch, EmbeddedRedis(Path(scratch) / "redis", persistent=False) as server:
        for name in names:
            language = LANGUAGE_SITES.get(name, "en")
            if name in LANGUAGE_SITES:
                rows = language_site_rows(data, name)
            else:
                rows = load_all(data, list(COMPOSITE_SITES.get(name, (name,))))
            head = site_head(rows)
            if head is None:
                print(f"{name}: one class only, no learning curve", file=sys.stderr)
                continue
            base = (Classifier.load() if name in LANGUAGE_SITES
                    else base_model(data, name, cache, seed=0, per_source=args.max_per_source))
            column = HEADS.index(head)
            for seed in range(args.seeds):
                shuffled = rows[:]
                random.Random(seed).shuffle(shuffled)
                cut = min(MAX_TRAFFIC, int(len(shuffled) * TRAFFIC_SHARE))
                site = Site(name, head, shuffled[:cut], shuffled[cut:], language)
                labels = [getattr(r, head) for r in site.test]
                base_scores = probabilities(base, site.test)[:, column]
                base_auc = float(roc_auc_score(labels, base_scores))
                hold = getattr(policy, f"{head}_hold")
                for order in orders:
                    ranked = (list(range(len(site.traffic))) if order == "arrival"
                              else uncertainty_order(base, site.traffic, policy))
                    for n in points:
                        if n > len(site.traffic):
                            continue
                        entry: dict[str, object] = {
                            "source": name, "head": head, "seed": seed, "order": order, "n": n,
                            "base": base_auc, "base_read": read_share(labels, base_scores),
                            "base_held": held_share(labels, base_scores, hold),
                        }
                        if n == 0:
                            entry.update(adapted=base_auc, adapted_read=entry["base_read"],
                                         adapted_held=entry["base_held"], site_only=None, trained=0)
                        else:
                            chosen = [site.traffic[i] for i in ranked[:n]]
                            examples = through_the_store(server.url, chosen, Path(scratch), site.language)
                            model, _ = adapt(base, examples, seed=seed)
                            adapted = probabilities(Classifier(model), site.test)[:, column]
                            alone = site_only(examples, head, site.test)
                            entry.update(adapted=float(roc_auc_score(labels, adapted)),
                                         adapted_read=read_share(labels, adapted),
                                         adapted_held=held_share(labels, adapted, hold), trained=len(examples),
                                         site_only=float(roc_auc_score(labels, alone)) if alone else None)
                        results.append(entry)
                        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in entry.items()}),
                              file=sys.stderr, flush=True)

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    report(results, points, orders)


def report(results: list[dict[str, object]], points: Sequence[int], orders: Sequence[str]) -> None:
    """Print the table (means over seeds) and the last line."""

    def mean(values: Sequence[object]) -> float | None:
        numbers = [float(v) for v in values if isinstance(v, (int, float))]
        return sum(numbers) / len(numbers) if numbers else None

    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    print("| source (head) | order | decisions | trained on | base AUC | site-only AUC | adapted AUC | margin | "
          "read for 90%: base | adapted | legitimate held: base | adapted |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    gains: list[float] = []
    margins: list[float] = []
    sources = list(dict.fromkeys(str(r["source"]) for r in results))
    for source in sources:
        for order in orders:
            for n in points:
                rows = [r for r in results if r["source"] == source and r["order"] == order and r["n"] == n]
                if not rows:
                    continue
                base, adapted = mean([r["base"] for r in rows]), mean([r["adapted"] for r in rows])
                alone = mean([r["site_only"] for r in rows])
                margin = None
                if n > 0 and base is not None and adapted is not None:
                    margin = adapted - max(base, alone if alone is not None else 0.0)
                    if order == "arrival":
                        margins.append(margin)
                if n == 1000 and order == "arrival" and base is not None and adapted is not None:
                    gains.append(adapted - base)
                trained, base_read = mean([r["trained"] for r in rows]), mean([r["base_read"] for r in rows])
                held = [cell(mean([r[key] for r in rows])) for key in ("base_held", "adapted_held")]
                print(f"| {source} ({rows[0]['head']}) | {order} | {n} | {cell(trained)} | {cell(base)} | "
                      f"{cell(alone)} | {cell(adapted)} | {cell(margin)} | {cell(base_read)} | "
                      f"{cell(mean([r['adapted_read'] for r in rows]))} | {held[0]} | {held[1]} |")
    gain = sum(gains) / len(gains) if gains else float("nan")
    worst = min(margins) if margins else float("nan")
    print(f"learning: mean_gain_1000={gain:.4f} min_margin={worst:.4f}")


if __name__ == "__main__":
    main()
