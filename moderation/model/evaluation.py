"""Evaluating a comment model the way a newsroom would judge it, beside a public reference model.

What `moderation evaluate` reports, most trustworthy first:

1. the sets written for this project (`moderation.model.evalsets`), which no model here was trained on:
   abuse and spam ranking, and the share of civil news comments the default policy would hold;
2. identity-term templates (Dixon et al. 2018): false-positive rate per identity term, subgroup AUCs;
3. leave-one-source-out numbers on the public sets (from the model's metadata) beside
   alt-profanity-check on the same examples;
4. evidence spans against the SemEval-2021 Task 5 toxic spans (character F1);
5. per public source at the policy thresholds: these are the shipped model's own training sources,
   so they show fit and thresholds, not generalisation.

alt-profanity-check (a linear SVM on word n-grams, trained on Davidson et al.'s tweets and
Wikipedia comments) is the reference because it is the common off-the-shelf answer to "is this
offensive?"; it has no spam head, so only abuse tables compare.
"""

from __future__ import annotations

import contextlib
import random
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, roc_auc_score

from moderation.model import evalsets, written
from moderation.model.attributes import SpanRule, evidence_spans
from moderation.model.classifier import HEADS, Classifier, Scores, tokenize
from moderation.model.datasets import (
    ABUSE_SOURCES,
    CIVIL_SPAN_FILES,
    SOURCES,
    SPAM_SOURCES,
    Example,
    SpanExample,
    load_all,
    load_civil_spans,
    source_files,
)
from moderation.model.languages.evaluation import language_lines, language_report
from moderation.model.lexicon import in_lexicon
from moderation.model.signals import NO_AUTHOR
from moderation.policy import Assessment, Policy, Word, decide

REFERENCE_NAME = "alt-profanity-check"
NOT_INSTALLED = "not installed"
SPAN_TRAIN_FILE, SPAN_TRIAL_FILE = CIVIL_SPAN_FILES
# Candidate evidence weights (share of the abuse log-odds) and abuse scores for span selection.
SPAN_MIN_WEIGHTS: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5)
SPAN_MIN_SHARES: tuple[float, ...] = (0.0, 0.3, 0.5, 0.7, 0.85, 1.0)
SPAN_MIN_ABUSE: tuple[float, ...] = (0.0, 0.5)
SPAN_SAMPLE = 2000
# Words most often marked toxic in SemEval-2021 Task 5: the trivial span baseline.
IN_SAMPLE_NOTE = ("alt-profanity-check was trained on Davidson et al.'s tweets (among others), "
                  "so its davidson number is in-sample; ours are leave-one-source-out")
SOURCE_NOTE = ("rows of the public sets the model was trained on: fit and thresholds, not generalisation "
               "(the written sets and the leave-one-source-out numbers are the honest ones)")


class Scorer(Protocol):
    """Anything that scores texts as (n, 2) probabilities, columns spam and abuse (NaN where it has none)."""

    def probabilities(self, texts: Sequence[str], *,
                      languages: Sequence[str] | None = None) -> NDArray[np.float64]: ...


class ProfanityCheck:
    """alt-profanity-check as a Scorer: its probability is the abuse column, spam is NaN."""

    name = REFERENCE_NAME

    def __init__(self) -> None:
        """Defer the import: the package is an optional extra and loads two joblib files."""
        self._predict: Callable[[list[str]], Any] | None = None
        self._missing = False

    @property
    def available(self) -> bool:
        """Whether the package can be imported here."""
        return self._load() is not None

    def _load(self) -> Callable[[list[str]], Any] | None:
        if self._predict is None and not self._missing:
            try:
                with _quiet_sklearn():
                    from profanity_check import predict_prob
            except ImportError:
                self._missing = True
                return None
            self._predict = predict_prob
        return self._predict

    def probabilities(self, texts: Sequence[str], *,
                      languages: Sequence[str] | None = None) -> NDArray[np.float64]:
        """Return (n, 2): NaN spam, alt-profanity-check's probability as abuse (English whatever `languages` say)."""
        predict = self._load()
        if predict is None:
            raise RuntimeError(f"{REFERENCE_NAME} is {NOT_INSTALLED}: pip install -e '.[eval]'")
        result = np.full((len(texts), 2), np.nan)
        if len(texts):
            with _quiet_sklearn():
                result[:, 1] = np.asarray(predict(list(texts)), dtype=np.float64)
        return result


@contextlib.contextmanager
def _quiet_sklearn() -> Iterator[None]:
    """Silence, here only, the version warning of a joblib model saved by another scikit-learn."""
    with warnings.catch_warnings():
        try:
            from sklearn.exceptions import InconsistentVersionWarning
        except ImportError:  # older scikit-learn warned with a plain UserWarning
            warnings.filterwarnings("ignore", message="Trying to unpickle estimator")
        else:
            warnings.simplefilter("ignore", InconsistentVersionWarning)
        yield


# Lazy: nothing is imported until the first evaluation asks for its scores.
DEFAULT_REFERENCE = ProfanityCheck()


def _reference_scores(reference: Scorer | None, texts: Sequence[str]) -> NDArray[np.float64] | None:
    """Return the reference's probabilities, or None where it is missing or not installed."""
    if reference is None or (isinstance(reference, ProfanityCheck) and not reference.available):
        return None
    return reference.probabilities(texts)


def _reference_status(reference: Scorer | None) -> str:
    if reference is None:
        return "not run"
    if isinstance(reference, ProfanityCheck) and not reference.available:
        return NOT_INSTALLED
    return "ok"


# -- metrics ---------------------------------------------------------------------------------------


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def threshold_metrics(y: Sequence[int] | NDArray[Any], p: Sequence[float] | NDArray[Any],
                      threshold: float) -> dict[str, Any]:
    """Return n, positives, ROC AUC, PR AUC, and precision, recall and FPR at threshold; None where undefined."""
    labels = np.asarray(y, dtype=np.int64)
    scores = np.asarray(p, dtype=np.float64)
    both = 0 < int(labels.sum()) < len(labels)
    flagged = scores >= threshold
    positives = int(labels.sum())
    true_positives = int((flagged & (labels == 1)).sum())
    return {
        "n": len(labels),
        "positives": positives,
        "roc_auc": _round(roc_auc_score(labels, scores)) if both else None,
        "pr_auc": _round(average_precision_score(labels, scores)) if both else None,
        "threshold": threshold,
        # Precision is undefined when nothing is flagged; with no positives it says nothing either.
        "precision": _ratio(true_positives, int(flagged.sum())) if positives else None,
        "recall": _ratio(true_positives, positives),
        "fpr": _ratio(int((flagged & (labels == 0)).sum()), len(labels) - positives),
    }


def _auc(y: Sequence[int] | NDArray[Any], p: Sequence[float] | NDArray[Any]) -> float | None:
    labels = np.asarray(y)
    return _round(roc_auc_score(labels, p)) if 0 < labels.sum() < len(labels) else None


def ranking(y: Sequence[int] | NDArray[Any], p: Sequence[float] | NDArray[Any]) -> dict[str, float | None]:
    """Return ROC AUC and PR AUC (average precision); None with one class only."""
    labels = np.asarray(y)
    both = 0 < labels.sum() < len(labels)
    return {"roc_auc": _auc(labels, p),
            "pr_auc": _round(average_precision_score(labels, p)) if both else None}


def policy_thresholds(policy: Policy, head: str) -> dict[str, float]:
    """Return a head's hold and reject thresholds."""
    return {"hold": getattr(policy, f"{head}_hold"), "reject": getattr(policy, f"{head}_reject")}


# -- written sets ----------------------------------------------------------------------------------


def _assessment(scores: Scores) -> Assessment:
    def words(evidence: Iterable[Any]) -> tuple[Word, ...]:
        return tuple(Word(e.start, e.end, e.text, e.weight) for e in evidence)

    return Assessment(scores.spam, scores.abuse, words(scores.spam_words), words(scores.abuse_words),
                      tuple(getattr(scores, "spam_signals", ())))


def _decisions(scorer: Scorer, texts: Sequence[str], p: NDArray[np.float64], policy: Policy) -> list[dict[str, Any]]:
    """Return the policy's decision on each text as a known author on an open article (model rules only)."""
    score_one = getattr(scorer, "score", None)
    results = []
    for text, (spam, abuse) in zip(texts, p.tolist(), strict=True):
        if callable(score_one):
            assessment = _assessment(score_one(text))
        else:
            # A scorer without evidence: its scores alone, NaN (no head) never fires.
            assessment = Assessment(0.0 if np.isnan(spam) else spam, 0.0 if np.isnan(abuse) else abuse)
        # author_approved=1 and no duplicates: judge the text, not who posted it or when.
        decision = decide(policy, assessment, text, article_mode="open", author_approved=1)
        results.append({
            "text": text,
            "status": decision.status,
            "reasons": list(decision.codes),
            "spam": _round(assessment.spam),
            "abuse": _round(assessment.abuse),
            "words": [w.text for r in decision.reasons for w in r.words],
        })
    return results


def written_set_report(scorer: Scorer, policy: Policy | None = None,
                       reference: Scorer | None = DEFAULT_REFERENCE) -> dict[str, Any]:
    """Return abuse and spam ranking on the written sets and the default policy's hold rate on news comments.

    reference (default alt-profanity-check; None for none) is scored beside the model on the abuse head.
    """
    policy = policy or Policy()
    news, abusive, spam = evalsets.NEWS_COMMENTS, evalsets.ABUSIVE_COMMENTS, evalsets.SPAM_COMMENTS
    texts = [*news, *abusive, *spam]
    ours = scorer.probabilities(texts)
    theirs = _reference_scores(reference, texts)
    n_news, n_abusive = len(news), len(abusive)
    news_rows = slice(0, n_news)
    abuse_rows = np.r_[0:n_news, n_news:n_news + n_abusive]
    spam_rows = np.r_[0:n_news, n_news + n_abusive:len(texts)]
    y_abuse = np.r_[np.zeros(n_news, dtype=np.int64), np.ones(n_abusive, dtype=np.int64)]
    y_spam = np.r_[np.zeros(n_news, dtype=np.int64), np.ones(len(spam), dtype=np.int64)]

    def head_report(column: int, rows: NDArray[np.int64], y: NDArray[np.int64], head: str,
                    scores: NDArray[np.float64]) -> dict[str, Any]:
        limits = policy_thresholds(policy, head)
        p = scores[rows, column]
        return {**ranking(y, p), **{name: threshold_metrics(y, p, t) for name, t in limits.items()}}

    decisions = _decisions(scorer, news, ours[news_rows], policy)
    held = [d for d in decisions if d["status"] != "published"]
    result: dict[str, Any] = {
        "sizes": {"news_comments": n_news, "abusive_comments": n_abusive, "spam_comments": len(spam)},
        "abuse": {"ours": head_report(1, abuse_rows, y_abuse, "abuse", ours)},
        "spam": {"ours": head_report(0, spam_rows, y_spam, "spam", ours)},
        "news_hold": {
            "rule": "policy.decide as a known author on an open article (model scores, links and terms)",
            "n": n_news,
            "held": len(held),
            "hold_rate": _ratio(len(held), n_news),
            "rejected": sum(d["status"] == "rejected" for d in held),
            "held_comments": held,
        },
    }
    if theirs is not None:
        result["abuse"][REFERENCE_NAME] = head_report(1, abuse_rows, y_abuse, "abuse", theirs)
        flagged = theirs[news_rows, 1] >= policy.abuse_hold
        result["news_hold"][REFERENCE_NAME] = {
            "held": int(flagged.sum()), "hold_rate": _ratio(int(flagged.sum()), n_news),
            "held_comments": [text for text, f in zip(news, flagged.tolist(), strict=True) if f],
        }
    result["reference"] = _reference_status(reference)
    return result


# -- the comment form: name, email, website and text ----------------------------------------------


def comment_form_report(classifier: Classifier, policy: Policy | None = None) -> dict[str, Any]:
    """Return how the written spam and reader comments fare with every field the form sends.

    The policy runs with the new-author hold off and every author new (`author_approved=0`): what a
    site that turns the hold off gets from the model and rules alone. The reader comments are also
    scored without their name, email and website, to show whether filling in a field costs a reader
    anything (the model must not have learnt that a field's presence is spam).
    """
    policy = (policy or Policy()).model_copy(update={"hold_new_authors": False})
    spam, readers = written.load(written.SPAM), written.load(written.HAM)

    def judged(rows: Sequence[written.WrittenComment], fields: bool) -> list[tuple[Assessment, Any]]:
        out = []
        for row in rows:
            assessment = _assessment(classifier.score(row.body, row.author if fields else NO_AUTHOR))
            out.append((assessment, decide(policy, assessment, row.body, article_mode="open", author_approved=0)))
        return out

    on_spam, on_readers, bare_readers = judged(spam, True), judged(readers, True), judged(readers, False)
    bare_spam = judged(spam, False)
    p_spam = np.array([a.spam for a, _ in on_spam])
    p_readers = np.array([a.spam for a, _ in on_readers])
    p_bare = np.array([a.spam for a, _ in bare_readers])
    y = np.r_[np.ones(len(spam), dtype=np.int64), np.zeros(len(readers), dtype=np.int64)]

    def for_spam(decision: Any) -> bool:
        return any(reason.code == "spam" for reason in decision.reasons)

    kinds: dict[str, list[bool]] = {}
    for row, (_, decision) in zip(spam, on_spam, strict=True):
        kinds.setdefault(row.kind, []).append(decision.status != "published")
    missed = [{"kind": row.kind, "spam": _round(a.spam), "name": row.name, "website": row.website, "text": row.body}
              for row, (a, d) in zip(spam, on_spam, strict=True) if d.status == "published"]
    held = [{"kind": row.kind, "spam": _round(a.spam), "reasons": list(d.codes), "name": row.name,
             "signals": [s.code for r in d.reasons for s in r.signals], "text": row.body}
            for row, (a, d) in zip(readers, on_readers, strict=True) if for_spam(d)]
    return {
        "sizes": {"spam": len(spam), "readers": len(readers),
                  "readers_with_website": sum(bool(r.website) for r in readers)},
        "policy": {**policy_thresholds(policy, "spam"), "hold_new_authors": False},
        "spam_auc": _auc(y, np.r_[p_spam, p_readers]),
        "spam_auc_text_only": _auc(y, np.r_[np.array([a.spam for a, _ in bare_spam]), p_bare]),
        "spam_caught": _ratio(sum(d.status != "published" for _, d in on_spam), len(spam)),
        "spam_caught_text_only": _ratio(sum(d.status != "published" for _, d in bare_spam), len(spam)),
        "spam_rejected": _ratio(sum(d.status == "rejected" for _, d in on_spam), len(spam)),
        "readers_held_for_spam": _ratio(sum(for_spam(d) for _, d in on_readers), len(readers)),
        "readers_held_any": _ratio(sum(d.status != "published" for _, d in on_readers), len(readers)),
        "readers_rejected": _ratio(sum(d.status == "rejected" for _, d in on_readers), len(readers)),
        "readers_held_for_spam_without_fields": _ratio(sum(for_spam(d) for _, d in bare_readers), len(readers)),
        "readers_mean_spam": {"with_fields": _round(float(p_readers.mean())),
                              "without_fields": _round(float(p_bare.mean())),
                              "largest_rise": _round(float((p_readers - p_bare).max()))},
        "caught_by_kind": {kind: _ratio(sum(flags), len(flags)) for kind, flags in sorted(kinds.items())},
        "missed": missed,
        "readers_held": held,
    }


# -- identity terms --------------------------------------------------------------------------------


def identity_texts() -> tuple[list[str], list[str], list[int]]:
    """Return (texts, their terms, labels) for every identity term in every template; 1 = abusive."""
    texts: list[str] = []
    terms: list[str] = []
    y: list[int] = []
    for label, templates in ((0, evalsets.NEUTRAL_TEMPLATES), (1, evalsets.ABUSIVE_TEMPLATES)):
        for term in evalsets.IDENTITY_TERMS:
            for template in templates:
                texts.append(evalsets.fill(template, term))
                terms.append(term)
                y.append(label)
    return texts, terms, y


def _fairness(p: NDArray[np.float64], terms: NDArray[np.str_], y: NDArray[np.int64],
              threshold: float) -> dict[str, Any]:
    """Return Dixon et al.'s per-term FPR/FNR and Borkan et al.'s subgroup, BPSN and BNSP AUCs."""
    overall_fpr = float((p[y == 0] >= threshold).mean())
    overall_fnr = float((p[y == 1] < threshold).mean())
    per_term: dict[str, Any] = {}
    for term in dict.fromkeys(terms.tolist()):
        mine = terms == term
        neutral, abusive = p[mine & (y == 0)], p[mine & (y == 1)]
        fpr, fnr = float((neutral >= threshold).mean()), float((abusive < threshold).mean())
        # BPSN: this term's neutral texts against the other terms' abusive ones, so a term whose
        # civil mentions score like abuse shows up even when it ranks well within itself.
        bpsn = (mine & (y == 0)) | (~mine & (y == 1))
        bnsp = (mine & (y == 1)) | (~mine & (y == 0))
        per_term[term] = {
            "fpr": round(fpr, 4),
            "fnr": round(fnr, 4),
            "mean_neutral": round(float(neutral.mean()), 4),
            "max_neutral": round(float(neutral.max()), 4),
            "mean_abusive": round(float(abusive.mean()), 4),
            "subgroup_auc": _auc(y[mine], p[mine]),
            "bpsn_auc": _auc(y[bpsn], p[bpsn]),
            "bnsp_auc": _auc(y[bnsp], p[bnsp]),
        }
    worst = sorted(per_term, key=lambda t: (-per_term[t]["fpr"], -per_term[t]["mean_neutral"]))
    return {
        "threshold": threshold,
        "auc": _auc(y, p),
        "fpr": round(overall_fpr, 4),
        "fnr": round(overall_fnr, 4),
        "mean_neutral": round(float(p[y == 0].mean()), 4),
        "mean_abusive": round(float(p[y == 1].mean()), 4),
        # Dixon et al.'s equality differences: how far each term's error rates stray from the overall.
        "fped": round(sum(abs(overall_fpr - v["fpr"]) for v in per_term.values()), 4),
        "fned": round(sum(abs(overall_fnr - v["fnr"]) for v in per_term.values()), 4),
        "worst_terms": worst[:10],
        "terms": per_term,
    }


def identity_fairness(scorer: Scorer, threshold: float = 0.5,
                      reference: Scorer | None = DEFAULT_REFERENCE) -> dict[str, Any]:
    """Return per-term FPR and mean neutral score, overall and per-term AUCs on the identity templates."""
    texts, terms, y = identity_texts()
    term_array, labels = np.array(terms), np.array(y, dtype=np.int64)
    result: dict[str, Any] = {
        "terms": len(evalsets.IDENTITY_TERMS),
        "neutral_templates": len(evalsets.NEUTRAL_TEMPLATES),
        "abusive_templates": len(evalsets.ABUSIVE_TEMPLATES),
        "ours": _fairness(scorer.probabilities(texts)[:, 1], term_array, labels, threshold),
        "reference": _reference_status(reference),
    }
    theirs = _reference_scores(reference, texts)
    if theirs is not None:
        result[REFERENCE_NAME] = _fairness(theirs[:, 1], term_array, labels, threshold)
    return result


# -- public sets -----------------------------------------------------------------------------------


def available_sources(data_dir: Path) -> list[str]:
    """Return the sources whose files are all present under data_dir."""
    return [s for s in SOURCES if all(path.is_file() for path in source_files(data_dir, [s]))]


def _head_labels(examples: Sequence[Example], head: str) -> NDArray[np.int64]:
    return np.array([-1 if getattr(e, head) is None else getattr(e, head) for e in examples], dtype=np.int64)


def public_set_comparison(data_dir: Path, ours_loso: dict[str, Any] | None,
                          reference: Scorer | None = DEFAULT_REFERENCE,
                          examples: Sequence[Example] | None = None) -> dict[str, Any]:
    """Return per held-out source our leave-one-source-out AUC beside the reference's on the same examples.

    ours_loso is training.cross_source_metrics' result (also the model metadata's
    metrics.cross_source): {"abuse": {source: {"auc", ...}}, "spam": {...}}; a bare
    {source: {...}} is read as the abuse head.
    """
    data_dir = Path(data_dir)
    ours_loso = ours_loso or {}
    if ours_loso and not {"abuse", "spam"} & set(ours_loso):
        ours_loso = {"abuse": ours_loso}
    present = available_sources(data_dir)
    if examples is None:
        examples = load_all(data_dir, [s for s in present if s in ABUSE_SOURCES]) if present else []
    sources = np.array([e.source for e in examples])
    result: dict[str, Any] = {"note": IN_SAMPLE_NOTE, "reference": _reference_status(reference),
                              "abuse": {}, "spam": {}}
    y_all = _head_labels(examples, "abuse")
    for source in ABUSE_SOURCES:
        # The same rows cross_source_metrics holds out: this source's abuse-labelled examples.
        mask = (sources == source) & (y_all >= 0)
        ours = dict(ours_loso.get("abuse", {}).get(source) or {})
        if not mask.any() and not ours:
            continue
        n, positives = int(mask.sum()), int(y_all[mask].sum())
        entry: dict[str, Any] = {
            "n": n or ours.get("n"),
            "positives": positives if mask.any() else ours.get("positives"),
            "ours": {"roc_auc": ours.get("roc_auc", ours.get("auc")), "pr_auc": ours.get("pr_auc"),
                     "trained_on": ours.get("trained_on"), "n": ours.get("n"), "positives": ours.get("positives")},
        }
        # Our numbers come from training time; if the loader has changed since, the rows differ.
        entry["same_rows"] = bool(ours) and mask.any() and (ours.get("n"), ours.get("positives")) == (n, positives)
        if mask.any():
            texts = [examples[int(i)].text for i in np.flatnonzero(mask)]
            theirs = _reference_scores(reference, texts)
            if theirs is not None:
                entry[REFERENCE_NAME] = {**ranking(y_all[mask], theirs[:, 1]),
                                         "in_sample": source == "davidson"}
        result["abuse"][source] = entry
    for source in SPAM_SOURCES:
        ours = ours_loso.get("spam", {}).get(source)
        if ours:
            result["spam"][source] = {"n": ours.get("n"), "positives": ours.get("positives"),
                                      "ours": {"roc_auc": ours.get("roc_auc", ours.get("auc")),
                                               "pr_auc": ours.get("pr_auc"), "trained_on": ours.get("trained_on"),
                                               "negatives": ours.get("negatives")}}
    return result


def per_source_metrics(scorer: Scorer, examples: Sequence[Example], policy: Policy,
                       trained_on: Iterable[str] = (), reference: Scorer | None = DEFAULT_REFERENCE) -> dict[str, Any]:
    """Return per source and head: ROC AUC, PR AUC and precision/recall/FPR at the hold and reject thresholds."""
    texts = [e.text for e in examples]
    ours = scorer.probabilities(texts, languages=[e.language for e in examples])
    theirs = _reference_scores(reference, texts)
    sources = np.array([e.source for e in examples])
    seen = set(trained_on)
    result: dict[str, Any] = {}
    for source in dict.fromkeys(sources.tolist()):
        per_source: dict[str, Any] = {"trained_on": source in seen}
        for column, head in enumerate(HEADS):
            y = _head_labels(examples, head)
            mask = (sources == source) & (y >= 0)
            if not mask.any():
                continue
            limits = policy_thresholds(policy, head)
            entry: dict[str, Any] = {"ours": {**ranking(y[mask], ours[mask, column]),
                                              **{k: threshold_metrics(y[mask], ours[mask, column], t)
                                                 for k, t in limits.items()}}}
            if theirs is not None and not np.isnan(theirs[mask, column]).all():
                entry[REFERENCE_NAME] = {**ranking(y[mask], theirs[mask, column]),
                                         **{k: threshold_metrics(y[mask], theirs[mask, column], t)
                                            for k, t in limits.items()}}
            per_source[head] = entry
        result[source] = per_source
    return result


# -- evidence spans --------------------------------------------------------------------------------


def character_f1(predicted: Iterable[int], gold: Iterable[int]) -> float:
    """Return SemEval-2021 Task 5 F1 of one text's predicted vs gold character offsets."""
    predicted, gold = set(predicted), set(gold)
    if not gold and not predicted:
        return 1.0
    if not gold or not predicted:
        return 0.0
    overlap = len(predicted & gold)
    precision, recall = overlap / len(predicted), overlap / len(gold)
    return 0.0 if overlap == 0 else 2 * precision * recall / (precision + recall)


def mean_f1(predictions: Sequence[set[int]], golds: Sequence[set[int]]) -> float:
    """Return the mean per-text character F1, as the task's scorer does."""
    if not golds:
        return 0.0
    return round(sum(character_f1(p, g) for p, g in zip(predictions, golds, strict=True)) / len(golds), 4)


def offsets(spans: Iterable[tuple[int, int]]) -> set[int]:
    """Return the character offsets covered by (start, end) spans."""
    return {offset for start, end in spans for offset in range(start, end)}


def predicted_spans(scores: Scores, min_weight: float, *, min_share: float = 0.0, min_abuse: float = 0.0,
                    text: str | None = None) -> set[int]:
    """Return the offsets of abuse evidence words weighing >= min_weight and >= min_share of the top word's weight.

    Nothing when the abuse score is below min_abuse.  Evidence names a word at its
    first occurrence; given the text, every later occurrence of the same word form
    is marked too, as the raters mark each one.  The API's spanScores are the same
    spans (attributes.evidence_spans), so this F1 is what it serves.
    """
    rule = SpanRule(min_weight, min_share, min_abuse)
    return offsets(evidence_spans(scores.abuse, scores.abuse_words, text, rule))


def _word_spans(text: str) -> list[tuple[str, int, int]]:
    return [(m.group().lower(), m.start(), m.end()) for m in re.finditer(r"[\w'*$@!]+", text)]


def lexicon_spans(text: str) -> set[int]:
    """Return the offsets of every word of the project's lexicon (moderation.model.lexicon): the trivial baseline."""
    return offsets((start, end) for form, start, end in tokenize(text) if in_lexicon(form))


def reference_word_spans(reference: Scorer, texts: Sequence[str], threshold: float = 0.5) -> list[set[int]]:
    """Return, per text, the offsets of the words the reference alone scores >= threshold."""
    words = [_word_spans(text) for text in texts]
    vocabulary = sorted({word for spans in words for word, _, _ in spans})
    p = reference.probabilities(vocabulary)[:, 1] if vocabulary else np.zeros(0)
    profane = {word for word, value in zip(vocabulary, p.tolist(), strict=True) if value >= threshold}
    return [offsets((s, e) for word, s, e in spans if word in profane) for spans in words]


def choose_span_parameters(classifier: Classifier, items: Sequence[SpanExample]) -> dict[str, Any]:
    """Return the (min_weight, min_share, min_abuse) with the best mean F1 on items, and that F1."""
    scored = [classifier.score(item.text) for item in items]
    golds = [offsets(item.spans) for item in items]
    best: dict[str, Any] = {"f1": -1.0}
    for min_weight in SPAN_MIN_WEIGHTS:
        for min_share in SPAN_MIN_SHARES:
            for min_abuse in SPAN_MIN_ABUSE:
                f1 = mean_f1([predicted_spans(s, min_weight, min_share=min_share, min_abuse=min_abuse, text=item.text)
                              for s, item in zip(scored, items, strict=True)], golds)
                if f1 > best["f1"]:
                    best = {"min_weight": min_weight, "min_share": min_share, "min_abuse": min_abuse, "f1": f1}
    return best


def span_f1(classifier: Classifier, data_dir: Path, spans_file: str = SPAN_TRIAL_FILE, min_weight: float = 0.25,
            *, min_share: float = 0.7, min_abuse: float = 0.0,
            reference: Scorer | None = DEFAULT_REFERENCE) -> dict[str, Any]:
    """Return SemEval-2021 Task 5 character F1 of our evidence spans and of trivial baselines on spans_file."""
    items = load_civil_spans(Path(data_dir), spans_file)
    golds = [offsets(item.spans) for item in items]
    ours = [predicted_spans(classifier.score(item.text), min_weight, min_share=min_share, min_abuse=min_abuse,
                            text=item.text) for item in items]
    result: dict[str, Any] = {
        "file": spans_file,
        "texts": len(items),
        "empty_gold": sum(not gold for gold in golds),
        "min_weight": min_weight,
        "min_share": min_share,
        "min_abuse": min_abuse,
        "ours": mean_f1(ours, golds),
        "baselines": {
            "no spans": mean_f1([set() for _ in items], golds),
            "lexicon words": mean_f1([lexicon_spans(item.text) for item in items], golds),
        },
        "reference": _reference_status(reference),
    }
    if reference is not None and result["reference"] == "ok":
        words = reference_word_spans(reference, [item.text for item in items])
        result["baselines"][f"{REFERENCE_NAME} words >= 0.5"] = mean_f1(words, golds)
    return result


def span_report(classifier: Classifier, data_dir: Path, reference: Scorer | None = DEFAULT_REFERENCE,
                sample: int = SPAN_SAMPLE, seed: int = 0) -> dict[str, Any]:
    """Choose span parameters on a sample of tsd_train.csv and report F1 on tsd_trial.csv with them."""
    train = load_civil_spans(Path(data_dir), SPAN_TRAIN_FILE)
    if 0 < sample < len(train):
        train = random.Random(seed).sample(train, sample)
    chosen = choose_span_parameters(classifier, train)
    result = span_f1(classifier, data_dir, SPAN_TRIAL_FILE, chosen["min_weight"], min_share=chosen["min_share"],
                     min_abuse=chosen["min_abuse"], reference=reference)
    result["chosen_on"] = {"file": SPAN_TRAIN_FILE, "texts": len(train), "f1": chosen["f1"]}
    return result


# -- everything ------------------------------------------------------------------------------------


def evaluate(classifier: Classifier, data_dir: Path | None, policy: Policy | None = None,
             reference: Scorer | None = DEFAULT_REFERENCE, *, ours_loso: dict[str, Any] | None = None,
             span_sample: int = SPAN_SAMPLE, extra: Sequence[Example] = ()) -> dict[str, Any]:
    """Return every evaluation the data present allows: written sets, identity terms, LOSO, spans, per source.

    reference None leaves the comparison out; ours_loso defaults to the leave-one-source-out
    block of the model's metadata; extra holds labelled examples from the caller's own files
    (their own source names).
    """
    policy = policy or Policy()
    loso_from = "the leave-one-source-out folds of a training run"
    if ours_loso is None:
        ours_loso = classifier.metadata.get("metrics", {}).get("cross_source")
        loso_from = "the model's metadata, computed when it was trained"
    trained_on = list(classifier.metadata.get("rows", {}))
    result: dict[str, Any] = {
        "model": classifier.version,
        "reference": {"name": REFERENCE_NAME, "status": _reference_status(reference)},
        "policy": {head: policy_thresholds(policy, head) for head in HEADS},
        "written": written_set_report(classifier, policy, reference),
        "identity": identity_fairness(classifier, policy.abuse_hold, reference),
        "comment_form": comment_form_report(classifier, policy),
    }
    if extra:
        result["files"] = per_source_metrics(classifier, extra, policy, (), reference)
    present = available_sources(Path(data_dir)) if data_dir is not None and Path(data_dir).is_dir() else []
    examples = load_all(Path(data_dir), present) if data_dir is not None and present else []
    if ours_loso or present:
        abuse_examples = [e for e in examples if e.source in ABUSE_SOURCES]
        result["cross_source"] = public_set_comparison(Path(data_dir or "."), ours_loso, reference, abuse_examples)
        result["cross_source"]["ours_from"] = loso_from
    if data_dir is not None and all((Path(data_dir) / name).is_file() for name in CIVIL_SPAN_FILES):
        result["spans"] = span_report(classifier, Path(data_dir), reference, span_sample)
    if examples:
        result["sources"] = per_source_metrics(classifier, examples, policy, trained_on, reference)
        result["sources_note"] = SOURCE_NOTE
    if data_dir is not None and Path(data_dir).is_dir():
        languages = language_report(classifier, Path(data_dir), policy)
        if languages:
            result["languages"] = languages
    return result


# -- report ----------------------------------------------------------------------------------------


def cell(value: Any) -> str:
    """Return a value as a Markdown table cell: 3 decimals, a dash for None."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def _get(entry: dict[str, Any] | None, *keys: str) -> Any:
    for key in keys:
        if not isinstance(entry, dict):
            return None
        entry = entry.get(key)
    return entry


def _head_rows(label: str, head: dict[str, Any], reference_status: str | None) -> list[list[Any]]:
    """Rows of ours and the reference for one head: AUCs, then P/R/FPR at hold and reject.

    reference_status None leaves the reference out (the spam head, which it does not have).
    """
    rows = []
    for who in ("ours", REFERENCE_NAME):
        entry = head.get(who)
        if entry is None:
            if who == REFERENCE_NAME and reference_status is not None:
                rows.append([label, who, reference_status, *["–"] * 8])
            continue
        rows.append([label, who, entry.get("roc_auc"), entry.get("pr_auc"),
                     *[_get(entry, point, key) for point in ("hold", "reject")
                       for key in ("precision", "recall", "fpr")]])
    return rows


_HEAD_HEADER = ("set", "model", "ROC AUC", "PR AUC", "P@hold", "R@hold", "FPR@hold", "P@reject", "R@reject",
                "FPR@reject")


def _comment_form_lines(form: dict[str, Any]) -> list[str]:
    """The comment-form section of the report: spam caught and readers held, with every field."""
    sizes, policy = form["sizes"], form["policy"]
    lines = [
        "## The comment form: written spam and reader comments with name, email and website (never trained on)",
        "",
        f"{sizes['spam']} spam comments as they land under news articles against {sizes['readers']} reader "
        f"comments ({sizes['readers_with_website']} with a website), from `moderation/model/written/`. Policy: "
        f"spam hold {policy['hold']}, reject {policy['reject']}, new-author hold off, every author new.",
        "",
        "| measure | with the form's fields | text alone |",
        "|---|---|---|",
        f"| spam ROC AUC | {cell(form['spam_auc'])} | {cell(form['spam_auc_text_only'])} |",
        f"| spam held or rejected | {cell(form['spam_caught'])} | {cell(form['spam_caught_text_only'])} |",
        f"| spam rejected outright | {cell(form['spam_rejected'])} | – |",
        f"| readers held for spam | {cell(form['readers_held_for_spam'])} | "
        f"{cell(form['readers_held_for_spam_without_fields'])} |",
        f"| readers held for any reason (links, threats...) | {cell(form['readers_held_any'])} | – |",
        f"| readers' mean spam score | {cell(form['readers_mean_spam']['with_fields'])} | "
        f"{cell(form['readers_mean_spam']['without_fields'])} |",
        "",
        "Spam held or rejected, by kind: "
        + ", ".join(f"{kind} {cell(share)}" for kind, share in form["caught_by_kind"].items()) + ".",
        "",
    ]
    if form["readers_held"]:
        lines.append("Reader comments held for spam:")
        lines += [f"- spam {cell(h['spam'])} ({', '.join(h['signals']) or 'words'}): {h['text'][:160]}"
                  for h in form["readers_held"]]
        lines.append("")
    return lines


def format_report(result: dict[str, Any]) -> str:
    """Return the evaluation as Markdown, with alt-profanity-check's numbers beside ours in every abuse table."""
    status = result["reference"]["status"]
    policy = result["policy"]
    lines = [
        f"# Evaluation of model {result['model']}",
        "",
        f"Reference: {REFERENCE_NAME} ({status}). Policy: hold at {policy['abuse']['hold']} / reject at "
        f"{policy['abuse']['reject']} (abuse), {policy['spam']['hold']} / {policy['spam']['reject']} (spam).",
        "",
    ]
    written = result["written"]
    sizes = written["sizes"]
    lines += [
        "## Written sets (never trained on)",
        "",
        f"{sizes['news_comments']} civil news comments against {sizes['abusive_comments']} abusive ones "
        f"(abuse) and {sizes['spam_comments']} spam comments (spam), from `moderation.model.evalsets`.",
        "",
        *_table(_HEAD_HEADER, [*_head_rows("abuse", written["abuse"], status),
                               *_head_rows("spam", written["spam"], None)]),
        "",
    ]
    hold = written["news_hold"]
    theirs_hold = hold.get(REFERENCE_NAME)
    lines += [
        f"**Civil news comments held by the default policy**: {hold['held']} of {hold['n']} "
        f"({cell(hold['hold_rate'])}), {hold['rejected']} of them rejected"
        + (f"; {REFERENCE_NAME} at the abuse hold threshold would hold {theirs_hold['held']} "
           f"({cell(theirs_hold['hold_rate'])})." if theirs_hold else "."),
        "",
    ]
    for held in hold["held_comments"]:
        lines.append(f"- {held['status']} ({', '.join(held['reasons'])}; abuse {cell(held['abuse'])}, "
                     f"spam {cell(held['spam'])}; words: {', '.join(held['words']) or '–'}): {held['text']}")
    if hold["held_comments"]:
        lines.append("")

    form = result.get("comment_form")
    if form:
        lines += _comment_form_lines(form)

    identity = result["identity"]
    ours, theirs = identity["ours"], identity.get(REFERENCE_NAME)
    lines += [
        "## Identity terms (Dixon et al. 2018)",
        "",
        f"{identity['terms']} terms in {identity['neutral_templates']} neutral and {identity['abusive_templates']} "
        f"abusive templates; FPR = neutral sentences at or above {ours['threshold']}. Subgroup AUC: the term's "
        "abusive against its neutral sentences; BPSN AUC: its neutral sentences against other terms' abusive ones.",
        "",
        *_table(("model", "AUC", "FPR", "FNR", "mean neutral", "mean abusive", "FPED", "FNED", "worst terms (FPR)"),
                [[name, e["auc"], e["fpr"], e["fnr"], e["mean_neutral"], e["mean_abusive"], e["fped"], e["fned"],
                  ", ".join(f"{t} {e['terms'][t]['fpr']:.2f}" for t in e["worst_terms"][:5])]
                 for name, e in (("ours", ours), (REFERENCE_NAME, theirs)) if e]
                + ([] if theirs else [[REFERENCE_NAME, status, *["–"] * 7]])),
        "",
        *_table(("term", "FPR", "mean neutral", "subgroup AUC", "BPSN AUC",
                 f"{REFERENCE_NAME} FPR", f"{REFERENCE_NAME} mean neutral", f"{REFERENCE_NAME} subgroup AUC",
                 f"{REFERENCE_NAME} BPSN AUC"),
                [[term, e["fpr"], e["mean_neutral"], e["subgroup_auc"], e["bpsn_auc"],
                  _get(theirs, "terms", term, "fpr"), _get(theirs, "terms", term, "mean_neutral"),
                  _get(theirs, "terms", term, "subgroup_auc"), _get(theirs, "terms", term, "bpsn_auc")]
                 for term, e in sorted(ours["terms"].items(), key=lambda kv: (-kv[1]["fpr"], -kv[1]["mean_neutral"]))]),
        "",
    ]

    cross = result.get("cross_source")
    if cross:
        rows: list[list[Any]] = []
        mismatched: list[str] = []
        for source, entry in cross["abuse"].items():
            ref = entry.get(REFERENCE_NAME)
            ours_auc = entry["ours"]["roc_auc"]
            if ours_auc is not None and not entry.get("same_rows", True):
                mismatched.append(f"{source} (ours: n {entry['ours']['n']}, {entry['ours']['positives']} positive; "
                                  f"now: n {entry['n']}, {entry['positives']} positive)")
                ours_auc = f"{ours_auc:.3f}*"
            rows.append(["abuse", source, entry["n"], entry["positives"], ours_auc, entry["ours"]["pr_auc"],
                         _get(ref, "roc_auc") if ref else cross["reference"], _get(ref, "pr_auc"),
                         "in-sample" if _get(ref, "in_sample") else ("–" if not ref else "held out")])
        for source, entry in cross["spam"].items():
            rows.append(["spam", source, entry["n"], entry["positives"], entry["ours"]["roc_auc"],
                         entry["ours"]["pr_auc"], "no spam head", "–", "–"])
        lines += [
            "## Leave-one-source-out (public sets)",
            "",
            "Ours: the head trained on every other source, scoring the held-out one (numbers from "
            f"{cross.get('ours_from', 'the caller')}). "
            f"{REFERENCE_NAME}: the shipped package on the same examples. Note: {cross['note']}.",
            "",
            *_table(("head", "held-out source", "n", "positives", "ours ROC AUC", "ours PR AUC",
                     f"{REFERENCE_NAME} ROC AUC", f"{REFERENCE_NAME} PR AUC", f"{REFERENCE_NAME} saw it"), rows),
            "",
        ]
        if mismatched:
            lines += ["\\* Not the same rows: the data loader has changed since the model was trained, so "
                      "our number is on the rows of that time: " + "; ".join(mismatched) + ".", ""]

    spans = result.get("spans")
    if spans:
        chosen = spans["chosen_on"]
        lines += [
            "## Evidence spans (SemEval-2021 Task 5 character F1)",
            "",
            f"`{spans['file']}`: {spans['texts']} texts ({spans['empty_gold']} with no gold span). Our spans: the "
            f"abuse evidence words (every occurrence) weighing at least {spans['min_weight']} and at least "
            f"{spans['min_share']} of the strongest word's weight, when the abuse score is at least "
            f"{spans['min_abuse']}; parameters chosen on {chosen['texts']} texts of `{chosen['file']}` "
            f"(F1 there {cell(chosen['f1'])}).",
            "",
            *_table(("spans from", "F1"), [["ours (evidence words)", spans["ours"]],
                                           *[[name, value] for name, value in spans["baselines"].items()]]
                    + ([] if spans["reference"] == "ok" else [[f"{REFERENCE_NAME} words", spans["reference"]]])),
            "",
        ]

    blocks = (("Your files", "files", None), ("Per public source", "sources", result.get("sources_note")))
    for title, key, note in blocks:
        block = result.get(key)
        if not block:
            continue
        rows = []
        for source, entry in block.items():
            label = f"{source} (trained on)" if entry.get("trained_on") else source
            for head in HEADS:
                if head in entry:
                    rows.extend(_head_rows(f"{label}: {head}", entry[head], status if head == "abuse" else None))
        lines += [f"## {title}", ""] + ([f"{note[0].upper()}{note[1:]}.", ""] if note else [])
        lines += [*_table(_HEAD_HEADER, rows), ""]
    if result.get("languages"):
        lines += [
            "## Per language (held-out parts of the language sets)",
            "",
            "Each text's language detected as intake does, the set's language being the site's; scored in the "
            "language found. Abuse on the held-out part; civil held for spam on every civil row as posted "
            f"(links in; t.co links and @handles out, as in the English sets). "
            f"Thresholds: abuse hold {policy['abuse']['hold']}, spam hold "
            f"{policy['spam']['hold']}.",
            "",
            *language_lines(result["languages"], cell),
            "",
        ]
    return "\n".join(lines)
