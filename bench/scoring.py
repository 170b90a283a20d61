"""Scoring speed of the shipped model: one comment with evidence, and batches, against plain scikit-learn.

Usage: .venv/bin/python bench/scoring.py [--comments 30000] [--single 3000] [--repeats 3] [--workers 2]
                                         [--synthetic] [--smoke]

The corpus is the public training texts of 50-400 characters (`moderation.model.datasets.load_all` over
../shared/data) when present, else news comments synthesised from a built-in list with variation.
Printed: the reference, i.e. the same model through scikit-learn (`clf.vectorizer.transform` then each
head's `predict_proba`), one comment at a time (median) and as one batch (comments/s); then ours:
`Classifier.score()` per comment (p50, p99, evidence included) and `Classifier.probabilities()` as one
batch, in one process and (for batches of at least PARALLEL_MIN_TEXTS) over forked workers; ratios
against the reference.  Batch rates are the best of --repeats runs, wall clock, with the process CPU
time beside them because the machine may be shared (the load average is printed first and last).
Last line: `scoring: single_p50_ms=X batch_per_s=Y` (score() median; one-process probabilities()).
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moderation.model import signals  # noqa: E402
from moderation.model.classifier import HEADS, PARALLEL_MIN_TEXTS, Classifier  # noqa: E402

DATA_DIR = ROOT.parent / "shared" / "data"
MIN_CHARS, MAX_CHARS = 50, 400

SENTENCES = [
    "I disagree with the council's decision, but the article explains it fairly.",
    "Thanks for covering the flood response; the volunteers deserve the credit.",
    "The minister's figures don't add up, and the opposition is right to say so.",
    "As a teacher I can say the new curriculum is a step backwards.",
    "The war reporting here has been careful and humane. Thank you.",
    "Nobody asked the residents before they closed the library on Elm Street.",
    "My rates went up 12% this year and the bins are still collected once a fortnight.",
    "Great piece. More of this and less celebrity gossip please!",
    "This is exactly why nobody trusts the press any more.",
    "You people are idiots and should be ashamed of yourselves.",
    "What a load of rubbish, the writer clearly never set foot in the town.",
    "Shut up and do your job, you useless clown.",
    "WIN a FREE iPhone!!! Click http://bit.ly/prize now to claim your cash prize",
    "Check out my channel for great music videos, subscribe please!",
    "Earn $500 a day from home, message me at cash.deals@example.com",
    "Does anyone know when the consultation closes? The link in the article is broken.",
    "The hospital waiting lists were worse under the last lot, let's be honest.",
    "I've lived here 40 years and the traffic has never been this bad.",
    "Typical. Spend millions on consultants and nothing changes for ordinary people.",
    "Well said @jenny, the cycle lanes have made the high street safer for kids.",
    "Correction: the vote was 7-5, not 8-4 as the article says.",
    "Interesting that the company declined to comment. Says it all really.",
    "Sooooo the mayor gets a pay rise while the pool closes?? Unbelievable!!!",
    "The police did a great job at the match on Saturday, credit where it's due.",
    "Can we stop pretending this is about the environment, it's about money.",
    "What a disgrace, these morons wouldn't know democracy if it bit them.",
    "Brilliant photos of the harvest festival, my grandmother is in the third one!",
    "Read the full report before commenting, it's on the council website www.example.gov.uk",
    "Housing is the issue nobody wants to talk about, rents are up £200 a month.",
    "The reporter should declare that her husband works for the developer.",
]
OPENERS = ["", "", "", "Honestly, ", "Sorry but ", "Agreed. ", "Hmm. ", "As usual, ", "LOL ", "Re the vote: "]
CLOSERS = ["", "", "", " Just my opinion.", " Shame on them.", " 👏", " :)", " !!!", " Thanks.", " #localnews"]


def synthetic_comments(count: int, seed: int = 0) -> list[str]:
    """Return count varied news comments of MIN_CHARS-MAX_CHARS characters built from SENTENCES."""
    rng = random.Random(seed)
    comments: list[str] = []
    while len(comments) < count:
        parts = rng.sample(SENTENCES, rng.randint(1, 4))
        text = rng.choice(OPENERS) + " ".join(parts) + rng.choice(CLOSERS)
        if rng.random() < 0.2:
            text = text.replace("the ", f"the {rng.randint(2, 999)} ", 1)
        if rng.random() < 0.1:
            text = text.upper()
        if rng.random() < 0.1:
            words = text.split()
            words[rng.randrange(len(words))] += rng.choice(["eee", "!!", "?"])
            text = " ".join(words)
        if MIN_CHARS <= len(text) <= MAX_CHARS:
            comments.append(text)
    return comments


def corpus(count: int, synthetic: bool) -> tuple[list[str], str]:
    """Return count realistic comments and where they came from."""
    if not synthetic and DATA_DIR.is_dir():
        try:
            from moderation.model.datasets import load_all

            texts = [e.text for e in load_all(DATA_DIR) if MIN_CHARS <= len(e.text) <= MAX_CHARS]
        except Exception as error:  # the data or its loader may be mid-change: the bench still runs
            print(f"corpus: could not read {DATA_DIR} ({error!r}); synthesising")
        else:
            random.Random(0).shuffle(texts)
            if len(texts) >= count:
                return texts[:count], f"{DATA_DIR} (public sets, {MIN_CHARS}-{MAX_CHARS} chars)"
            return texts + synthetic_comments(count - len(texts)), f"{DATA_DIR} topped up with synthetic"
    return synthetic_comments(count), "synthetic news comments"


def best_rate(run: Callable[[], object], count: int, repeats: int) -> tuple[float, float]:
    """Return the best wall-clock and CPU-time rates (items/s) over repeats runs of run()."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return count / wall, count / max(cpu, 1e-9)


def per_call_ms(call: Callable[[str], object], texts: Sequence[str]) -> list[float]:
    """Return each call's wall time in milliseconds, sorted."""
    times: list[float] = []
    for text in texts:
        started = time.perf_counter()
        call(text)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Return the value at fraction of a sorted list (nearest rank)."""
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def reference_probabilities(clf: Classifier, texts: Sequence[str]) -> np.ndarray:
    """Return (spam, abuse) probabilities the plain scikit-learn way: vectorizer and signals, then each head."""
    found = signals.matrix(list(texts), None, clf.signals)
    matrix = sp.hstack([clf.vectorizer.transform(list(texts)), sp.csr_matrix(found)]).tocsr()
    return np.column_stack([clf.model[head].predict_proba(matrix)[:, 1] for head in HEADS])


LANGUAGE_SENTENCES: dict[str, list[str]] = {
    "de": ["Danke für den Artikel, die Recherche ist gründlich.", "Der Gemeinderat hat wieder nicht zugehört.",
           "Halt die Klappe, du Idiot.", "Die Mieten steigen jedes Jahr, und niemand tut etwas dagegen."],
    "pt": ["Obrigado pela matéria, muito bem explicada.", "A prefeitura nunca escuta os moradores.",
           "Cala a boca, seu idiota.", "O preço do aluguel subiu de novo este ano."],
    "fr": ["Merci pour cet article très clair.", "Le conseil municipal n'écoute jamais les habitants.",
           "Ferme-la, espèce d'idiot.", "Les loyers augmentent chaque année sans explication."],
    "ar": ["شكرا على هذا التقرير المفيد", "البلدية لا تستمع إلى السكان أبدا", "اخرس يا غبي",
           "الإيجارات ترتفع كل عام"],
    "ko": ["좋은 기사 감사합니다", "시의회는 주민들의 말을 듣지 않는다", "이 바보야 입 닥쳐", "월세가 매년 오른다"],
    "zh": ["谢谢分享，这篇文章写得很好。", "市议会从来不听居民的意见。", "闭嘴，你这个笨蛋。", "房租每年都在涨。"],
}


def language_texts(code: str, count: int, synthetic: bool) -> tuple[list[str], str]:
    """Return count comments in a language: its public sets' held-out texts, else sentences joined at random."""
    if not synthetic and DATA_DIR.is_dir():
        try:
            from moderation.model.languages.data import LANGUAGE_SETS, load_language_set

            texts = [e.text for entry in LANGUAGE_SETS if entry.language == code and (DATA_DIR / entry.file).is_file()
                     for e in load_language_set(DATA_DIR, entry) if e.part == "test"]
        except Exception as error:  # the data or its loader may be mid-change: the bench still runs
            print(f"corpus: could not read {code} sets ({error!r}); synthesising")
        else:
            if texts:
                random.Random(0).shuffle(texts)
                return (texts * (count // len(texts) + 1))[:count], "held-out public texts"
    rng = random.Random(0)
    sentences = LANGUAGE_SENTENCES[code]
    return [" ".join(rng.sample(sentences, rng.randint(1, 3))) for _ in range(count)], "synthetic"


def language_lines(clf: Classifier, english_p50: float, args: argparse.Namespace) -> None:
    """Time score() and probabilities() per language with a head of its own, against English's score() median."""
    from moderation.model.languages.heads import POOLED

    heads = [code for code in clf.languages if code != POOLED]
    if not heads:
        print("languages: this model has no heads for other languages")
        return
    from moderation.model.languages import detect_language

    texts = [text for code in heads for text in language_texts(code, 300, args.synthetic)[0]]
    found = per_call_ms(functools.partial(detect_language, fallback="en"), texts)
    print(f"detect_language (CLD2, as intake calls it): p50 {percentile(found, 0.5):.3f} ms, "
          f"p99 {percentile(found, 0.99):.3f} ms over {len(texts)} comments in {len(heads)} languages")
    size = sum(head.weights.nbytes + head.idf.nbytes for head in clf.languages.values())
    print(f"language heads: {', '.join(heads)} and the pooled one, {size / 2**20:.1f} MiB of arrays")
    for code in heads:
        texts, source = language_texts(code, max(args.single, 100), args.synthetic)
        score = functools.partial(clf.score, language=code)
        times = per_call_ms(score, texts)
        batch = functools.partial(clf.probabilities, texts, languages=[code] * len(texts))
        rate, _ = best_rate(batch, len(texts), args.repeats)
        p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
        print(f"scoring_language: {code} p50_ms={p50:.3f} p99_ms={p99:.3f} ratio_to_english={p50 / english_p50:.2f} "
              f"batch_per_s={rate:.0f} ({len(texts)} {source})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=30_000, help="batch size (and corpus size)")
    parser.add_argument("--single", type=int, default=3000, help="comments timed one at a time")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="processes for the parallel batch")
    parser.add_argument("--synthetic", action="store_true", help="synthesise the corpus even if data exists")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: only checks the harness runs")
    args = parser.parse_args()
    if args.smoke:
        args.comments, args.single, args.repeats, args.synthetic = 600, 100, 1, True

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    started = time.perf_counter()
    clf = Classifier.load()
    print(f"model {clf.version} loaded in {time.perf_counter() - started:.2f} s")
    texts, source = corpus(args.comments, args.synthetic)
    lengths = [len(text) for text in texts]
    print(f"corpus: {len(texts)} comments from {source}; chars median {statistics.median(lengths):.0f}, "
          f"mean {statistics.mean(lengths):.0f}")
    single = texts[: args.single]

    expected = reference_probabilities(clf, texts)
    ref_rate, ref_cpu = best_rate(lambda: reference_probabilities(clf, texts), len(texts), args.repeats)
    ref_single = per_call_ms(lambda text: reference_probabilities(clf, [text]), single[: max(1, args.single // 3)])
    print(f"reference (sklearn transform + predict_proba): single p50 {percentile(ref_single, 0.5):.3f} ms, "
          f"batch {ref_rate:,.0f}/s (cpu {ref_cpu:,.0f}/s)")

    ours = clf.probabilities(texts)  # also warms the word cache, as a running service's is
    difference = float(np.abs(ours - expected).max())
    rate, cpu_rate = best_rate(lambda: clf.probabilities(texts), len(texts), args.repeats)
    times = per_call_ms(clf.score, single)
    p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
    print(f"score(): p50 {p50:.3f} ms, p99 {p99:.3f} ms "
          f"({percentile(ref_single, 0.5) / p50:.1f}x faster than the reference single)")
    print(f"probabilities(): {rate:,.0f}/s (cpu {cpu_rate:,.0f}/s), {rate / ref_rate:.1f}x the reference; "
          f"max |difference| {difference:.1e}")
    if len(texts) >= PARALLEL_MIN_TEXTS and args.workers > 1:
        parallel = clf.probabilities(texts, workers=args.workers)
        if not np.array_equal(parallel, ours):
            raise SystemExit("parallel probabilities differ from one process")
        par_rate, _ = best_rate(lambda: clf.probabilities(texts, workers=args.workers), len(texts), args.repeats)
        print(f"probabilities(workers={args.workers}): {par_rate:,.0f}/s, {par_rate / ref_rate:.1f}x the reference")
    else:
        print(f"probabilities(workers={args.workers}): skipped (batch below {PARALLEL_MIN_TEXTS} or one worker)")
    if difference >= 1e-9:
        raise SystemExit(f"probabilities() differ from the reference by {difference:.2e}")
    language_lines(clf, p50, args)
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"scoring: single_p50_ms={p50:.3f} batch_per_s={rate:.0f}")


if __name__ == "__main__":
    main()
