"""Perspective's attribute names, each derived only from what the service knows, and measured.

Perspective scores a comment for TOXICITY and for kinds of toxicity (SEVERE_TOXICITY, INSULT,
PROFANITY, THREAT, IDENTITY_ATTACK). This service has one abuse model, a hand-written lexicon with
categories, identity masking and a threat rule; each attribute below is built from those alone:

- TOXICITY: the model's calibrated abuse probability.
- INSULT: the abuse probability when the comment holds a lexicon insult, slur or dehumanising word.
- PROFANITY: the abuse probability when the comment holds a lexicon profanity (masked ones too).
- IDENTITY_ATTACK: the abuse probability when the comment names an identity (the words the model
  masks) or holds a slur.
- SEVERE_TOXICITY: the abuse probability when the comment names an identity or holds a slur or a
  dehumanising word; 1 when a threat phrase matches.
- THREAT: 1 when a threat phrase matches (`moderation.threats`), else 0: a rule's verdict.
- SPAM: the model's calibrated spam probability (this service's own; Perspective had an experimental one).

A gate (a word of the kind, or a phrase) says *what kind* the abuse is; the model says *how
likely* it is abuse at all. Without the gate the attribute is 0: the service found none of the
words that make that kind. `measure_attributes` measures each on the written sets and the
public sets; `SERVING_BAR` is what an attribute must measure to be served (the API answers any
other attribute name as Perspective answers an unknown one).

Spans (Perspective's `spanScores`) are the character spans that back each value: the model's
evidence words for TOXICITY and SPAM (the rule the model card's span F1 measures), the words or
phrases that opened the gate for the others. Each span carries its attribute's value: the model
gives no calibrated probability per word.

Languages (`BACKED_LANGUAGES`): an attribute has backing in a language only where everything it is
made of reads that language. The abuse head scores the seven languages of
`moderation.model.languages.SUPPORTED_LANGUAGES`, so TOXICITY is backed in those; the lexicon, the
identity words and the threat rule are English word lists and patterns, so the attributes they gate
(INSULT, PROFANITY, IDENTITY_ATTACK, SEVERE_TOXICITY, THREAT) are English only: in another language
their gate never opens and they would be a silent 0. SPAM outside English is the spam head's
language-neutral signals (links, phones, messaging apps, the form's fields), which read any language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from moderation.model import evalsets
from moderation.model.classifier import tokenize
from moderation.model.languages import ENGLISH, SUPPORTED_LANGUAGES
from moderation.model.lexicon import IDENTITY_TOKEN, category
from moderation.threats import find_threats

TOXICITY, SEVERE_TOXICITY, INSULT, PROFANITY = "TOXICITY", "SEVERE_TOXICITY", "INSULT", "PROFANITY"
THREAT, IDENTITY_ATTACK, SPAM = "THREAT", "IDENTITY_ATTACK", "SPAM"
ATTRIBUTES: tuple[str, ...] = (TOXICITY, SEVERE_TOXICITY, INSULT, PROFANITY, THREAT, IDENTITY_ATTACK, SPAM)
# The attributes whose value is a model probability (or 0); THREAT's is a rule's 0 or 1.
THRESHOLD = 0.5

_INSULTING = frozenset({"insult", "slur", "dehumanising"})

# The languages (ISO 639-1) in which each attribute has backing; None: any language. See the module's docstring:
# the abuse head's languages for TOXICITY, English for what an English lexicon or rule gates, any for SPAM.
_ENGLISH_ONLY = frozenset({ENGLISH})
BACKED_LANGUAGES: dict[str, frozenset[str] | None] = {
    TOXICITY: frozenset(SUPPORTED_LANGUAGES),
    SEVERE_TOXICITY: _ENGLISH_ONLY,
    INSULT: _ENGLISH_ONLY,
    PROFANITY: _ENGLISH_ONLY,
    THREAT: _ENGLISH_ONLY,
    IDENTITY_ATTACK: _ENGLISH_ONLY,
    SPAM: None,
}


def backed_in(name: str, language: str | None) -> bool:
    """Whether attribute `name` has backing in `language` (an ISO 639-1 code; None, no readable language, has none)."""
    if language is None:
        return False
    languages = BACKED_LANGUAGES[name]
    return languages is None or language in languages


def format_languages_table() -> str:
    """Which attribute is backed in which language, as a Markdown table (docs/MIGRATING.md and the model card)."""
    lines = ["| attribute | " + " | ".join(SUPPORTED_LANGUAGES) + " | any other language |",
             "|---|" + "---|" * (len(SUPPORTED_LANGUAGES) + 1)]
    for name in ATTRIBUTES:
        cells = ["yes" if backed_in(name, code) else "no" for code in SUPPORTED_LANGUAGES]
        other = "yes (the signals alone)" if BACKED_LANGUAGES[name] is None else "refused"
        lines.append(f"| `{name}` | " + " | ".join(cells) + f" | {other} |")
    return "\n".join(lines)

Span = tuple[int, int]


class _Evidence(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def weight(self) -> float: ...


class ScoresLike(Protocol):
    """What the derivation reads of a model's scores (classifier.Scores has it)."""

    @property
    def spam(self) -> float: ...
    @property
    def abuse(self) -> float: ...
    @property
    def spam_words(self) -> Sequence[_Evidence]: ...
    @property
    def abuse_words(self) -> Sequence[_Evidence]: ...


@dataclass(frozen=True, slots=True)
class SpanRule:
    """Which evidence words count as spans: as the model card's toxic-span F1 chose them on training spans.

    A word counts when its weight is at least `min_weight` and at least `min_share` of the strongest
    word's, and the score is at least `min_abuse`; every later occurrence of a counted word counts too.
    """

    min_weight: float = 0.25
    min_share: float = 0.7
    min_abuse: float = 0.0

    @classmethod
    def of(cls, metadata: dict[str, Any]) -> SpanRule:
        """The rule recorded in a model's metadata (`metrics.evaluation.spans`), else the defaults."""
        chosen = ((metadata.get("metrics") or {}).get("evaluation") or {}).get("spans") or {}
        default = cls()
        return cls(float(chosen.get("min_weight", default.min_weight)),
                   float(chosen.get("min_share", default.min_share)),
                   float(chosen.get("min_abuse", default.min_abuse)))


DEFAULT_SPAN_RULE = SpanRule()


def evidence_spans(score: float, evidence: Sequence[_Evidence], text: str | None,
                   rule: SpanRule = DEFAULT_SPAN_RULE) -> list[Span]:
    """The spans of the evidence words `rule` keeps and, given the text, every later occurrence of their word forms."""
    if score < rule.min_abuse or not evidence:
        return []
    # Relative to the strongest word: the weak tail of a clearly abusive comment is function words.
    floor = max(rule.min_weight, rule.min_share * evidence[0].weight)
    kept = {(e.start, e.end) for e in evidence if e.weight >= floor}
    if text is None or not kept:
        return sorted(kept)
    tokens = tokenize(text)
    # Only evidence that is a whole token has later occurrences: a head that weighs characters (Chinese is
    # written without spaces, so a "word" token is a whole clause) would otherwise mark the whole clause.
    forms = {form for form, start, end in tokens if (start, end) in kept}
    return sorted(kept | {(start, end) for form, start, end in tokens if form in forms})


@dataclass(frozen=True, slots=True)
class Signals:
    """What a comment's words say beside the model: lexicon words by category, identity words, threat phrases."""

    words: dict[str, tuple[Span, ...]]
    identity: tuple[Span, ...]
    threats: tuple[Span, ...]

    def of(self, *categories: str) -> tuple[Span, ...]:
        """The spans of the lexicon words in any of `categories`, in text order."""
        return tuple(sorted(span for name in categories for span in self.words.get(name, ())))


def signals(text: str) -> Signals:
    """Read the lexicon categories, identity words and threat phrases of `text` (spans into it)."""
    words: dict[str, list[Span]] = {}
    identity: list[Span] = []
    for form, start, end in tokenize(text):
        if form == IDENTITY_TOKEN:
            identity.append((start, end))
        elif not form.startswith("<"):
            found = category(form)
            if found is not None:
                words.setdefault(found, []).append((start, end))
    return Signals({name: tuple(spans) for name, spans in words.items()}, tuple(identity), tuple(find_threats(text)))


@dataclass(frozen=True, slots=True)
class AttributeScore:
    """One attribute's value for a comment and the character spans (into the scored text) that back it."""

    value: float
    spans: tuple[Span, ...] = ()


def _gated(abuse: float, gate: tuple[Span, ...]) -> AttributeScore:
    return AttributeScore(abuse, gate) if gate else AttributeScore(0.0)


def _derive(name: str, text: str, scores: ScoresLike, found: Signals, rule: SpanRule | None) -> AttributeScore:
    abuse = scores.abuse
    if name in (TOXICITY, SPAM):
        value, evidence = (abuse, scores.abuse_words) if name == TOXICITY else (scores.spam, scores.spam_words)
        return AttributeScore(value, () if rule is None else tuple(evidence_spans(value, evidence, text, rule)))
    if name == INSULT:
        return _gated(abuse, found.of(*_INSULTING))
    if name == PROFANITY:
        return _gated(abuse, found.of("profanity"))
    if name == IDENTITY_ATTACK:
        return _gated(abuse, tuple(sorted(found.identity + found.of("slur"))))
    if name == THREAT:
        return AttributeScore(1.0, found.threats) if found.threats else AttributeScore(0.0)
    if name == SEVERE_TOXICITY:
        if found.threats:
            return AttributeScore(1.0, found.threats)
        return _gated(abuse, tuple(sorted(found.identity + found.of("slur", "dehumanising"))))
    raise KeyError(name)


def attribute_scores(text: str, scores: ScoresLike, names: Iterable[str] = ATTRIBUTES,
                     rule: SpanRule | None = DEFAULT_SPAN_RULE) -> dict[str, AttributeScore]:
    """Each named attribute of `text`, given the model's scores of it; KeyError for a name not in ATTRIBUTES.

    With rule None the model's evidence is not turned into spans (TOXICITY's and SPAM's come back empty):
    a request that asks for no spans does not pay for them.
    """
    wanted = list(names)
    unknown = [name for name in wanted if name not in ATTRIBUTES]
    if unknown:
        raise KeyError(unknown[0])
    # The lexicon and threat scan only when an attribute reads them (TOXICITY and SPAM alone do not).
    found = signals(text) if any(name not in (TOXICITY, SPAM) for name in wanted) else Signals({}, (), ())
    return {name: _derive(name, text, scores, found, rule) for name in wanted}


# -- measuring -------------------------------------------------------------------------------------


class Scorer(Protocol):
    """A model as measuring needs it: batch probabilities (columns spam, abuse) and single scores with evidence."""

    metadata: dict[str, Any]

    def probabilities(self, texts: Sequence[str]) -> NDArray[np.float64]: ...

    def score(self, text: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Summary:
    spam: float
    abuse: float
    spam_words: tuple[()] = ()
    abuse_words: tuple[()] = ()


def summary_values(scorer: Scorer, texts: Sequence[str], name: str) -> NDArray[np.float64]:
    """Each text's summary value of one attribute, from batch probabilities (no evidence needed for values)."""
    if not texts:
        return np.zeros(0)
    p = scorer.probabilities(texts)
    return np.array([attribute_scores(text, _Summary(spam, abuse), (name,), None)[name].value
                     for text, (spam, abuse) in zip(texts, p.tolist(), strict=True)])


@dataclass(frozen=True, slots=True)
class Comparison:
    """One labelled comparison an attribute is measured on: texts of its kind against texts that are not."""

    name: str
    positives: tuple[str, ...]
    negatives: tuple[str, ...]
    note: str = ""


_WRITTEN = "written for this project, never trained on"
_IN_SAMPLE = "the abuse head trained on these rows as abusive vs not; "


def _insults() -> tuple[str, ...]:
    kinds = evalsets.ABUSIVE_KINDS
    return (*kinds["insults_at_readers"], *kinds["insults_at_writer"], *kinds["insults_at_people"],
            *kinds["obfuscated_abuse"], *kinds["longer_abuse"])


def written_comparisons() -> dict[str, list[Comparison]]:
    """Per attribute, the comparisons on the written sets (evalsets): against civil news comments, and by kind."""
    kinds, news = evalsets.ABUSIVE_KINDS, evalsets.NEWS_COMMENTS
    insults, hate, threats = _insults(), kinds["group_hate"], kinds["threats"]
    other_than_threats = tuple(t for t in evalsets.ABUSIVE_COMMENTS if t not in set(threats))
    templates = _identity_templates()
    return {
        TOXICITY: [Comparison("written abusive vs civil news comments", evalsets.ABUSIVE_COMMENTS, news, _WRITTEN)],
        INSULT: [
            Comparison("written insults vs civil news comments", insults, news, _WRITTEN),
            Comparison("written insults vs written threats (kind)", insults, threats, _WRITTEN),
        ],
        PROFANITY: [Comparison("civil news comments (any flag is a false positive)", (), news, _WRITTEN)],
        IDENTITY_ATTACK: [
            Comparison("written group hate vs civil news comments", hate, news, _WRITTEN),
            Comparison("written group hate vs written insults (kind)", hate, insults, _WRITTEN),
            Comparison("identity templates: abusive vs neutral", templates[1], templates[0],
                       "Dixon et al. (2018) style templates, every text names an identity"),
        ],
        SEVERE_TOXICITY: [
            Comparison("written group hate and threats vs civil news comments", (*hate, *threats), news, _WRITTEN),
            Comparison("written group hate and threats vs written insults (kind)", (*hate, *threats), insults,
                       _WRITTEN),
        ],
        THREAT: [
            Comparison("written threats vs civil news comments", threats, news, _WRITTEN),
            Comparison("written threats vs other written abuse (kind)", threats, other_than_threats, _WRITTEN),
        ],
        SPAM: [Comparison("written spam vs civil news comments", evalsets.SPAM_COMMENTS, news, _WRITTEN)],
    }


def _identity_templates() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(neutral, abusive) identity-template sentences."""
    fill = evalsets.fill
    neutral = tuple(fill(t, term) for term in evalsets.IDENTITY_TERMS for t in evalsets.NEUTRAL_TEMPLATES)
    abusive = tuple(fill(t, term) for term in evalsets.IDENTITY_TERMS for t in evalsets.ABUSIVE_TEMPLATES)
    return neutral, abusive


def public_comparisons(data_dir: Path) -> dict[str, list[Comparison]]:
    """Per attribute, the comparisons the public sets present under data_dir allow (see datasets.py)."""
    from moderation.model import datasets

    found: dict[str, list[Comparison]] = {}
    if (data_dir / datasets.DAVIDSON_FILE).is_file():
        hate, offensive, neither = (tuple(texts) for texts in datasets.load_davidson_classes(data_dir))
        split = ("hate and offensive are both abusive to the model: it was never taught this split "
                 "(Davidson et al.'s hate is mostly slurs and attacks on groups)")
        found.setdefault(IDENTITY_ATTACK, []).append(
            Comparison("Davidson tweets: hate vs offensive (kind)", hate, offensive, split))
        found.setdefault(SEVERE_TOXICITY, []).append(
            Comparison("Davidson tweets: hate vs offensive (kind)", hate, offensive, split))
        found.setdefault(PROFANITY, []).append(
            Comparison("Davidson tweets: offensive language vs neither", offensive, neither,
                       _IN_SAMPLE + "'offensive language' here is mostly profanity and slurs"))
    stormfront = data_dir / datasets.STORMFRONT_FILE
    if stormfront.is_file():
        rows = datasets.load_stormfront(data_dir)
        found.setdefault(IDENTITY_ATTACK, []).append(Comparison(
            "Stormfront sentences: hate vs noHate", tuple(e.text for e in rows if e.abuse),
            tuple(e.text for e in rows if not e.abuse), _IN_SAMPLE + "hate there is about groups"))
    spam_rows = [e for source in datasets.SPAM_SOURCES if all(p.is_file() for p in datasets.source_files(
        data_dir, [source])) for e in datasets.LOADERS[source](data_dir)]
    if spam_rows:
        found.setdefault(SPAM, []).append(Comparison(
            "the spam head's training sets: spam vs not", tuple(e.text for e in spam_rows if e.spam),
            tuple(e.text for e in spam_rows if not e.spam), "the spam head trained on these rows"))
    return found


def _metrics(scorer: Scorer, name: str, comparison: Comparison) -> dict[str, Any]:
    from moderation.model.evaluation import threshold_metrics

    texts = [*comparison.positives, *comparison.negatives]
    y = np.r_[np.ones(len(comparison.positives)), np.zeros(len(comparison.negatives))].astype(np.int64)
    result = {"set": comparison.name, "note": comparison.note,
              **threshold_metrics(y, summary_values(scorer, texts, name), THRESHOLD)}
    if name not in (TOXICITY, SPAM):
        # TOXICITY on the same texts: what the attribute adds over the abuse score alone.
        result["toxicity_roc_auc"] = threshold_metrics(y, summary_values(scorer, texts, TOXICITY), THRESHOLD)["roc_auc"]
    return result


def _span_f1(scorer: Scorer, data_dir: Path, rule: SpanRule) -> dict[str, Any] | None:
    from moderation.model.datasets import CIVIL_SPAN_FILES, load_civil_spans
    from moderation.model.evaluation import mean_f1, offsets

    if not (data_dir / CIVIL_SPAN_FILES[1]).is_file():
        return None
    items = load_civil_spans(data_dir, CIVIL_SPAN_FILES[1])
    served = [offsets(attribute_scores(item.text, scorer.score(item.text), (TOXICITY,), rule)[TOXICITY].spans)
              for item in items]
    return {"set": f"{CIVIL_SPAN_FILES[1]} ({len(items)} comments)", "f1": mean_f1(served, [offsets(i.spans)
                                                                                       for i in items]),
            "rule": {"min_weight": rule.min_weight, "min_share": rule.min_share, "min_abuse": rule.min_abuse}}


# What each attribute's value is made of, for the table.
BACKED_BY: dict[str, str] = {
    TOXICITY: "the model's abuse probability",
    SEVERE_TOXICITY: "abuse probability gated by identity words, slurs or dehumanising words (lexicon); 1 on a "
                     "threat phrase (threat rule)",
    INSULT: "abuse probability gated by lexicon insult, slur or dehumanising words",
    PROFANITY: "abuse probability gated by lexicon profanity (masked words too)",
    THREAT: "the threat rule (moderation/threats.py): 1 or 0",
    IDENTITY_ATTACK: "abuse probability gated by identity words (the model's masked words) or slurs",
    SPAM: "the model's spam probability",
}

# What an attribute must measure on its written comparisons to be served, at the 0.5 threshold: the
# share of its flags that are right against civil comments (precision, or for PROFANITY, which has no
# written positives, at most this share of civil comments flagged), and how well its value tells its
# kind from other abuse (ROC AUC), which is what it adds to TOXICITY.
SERVING_BAR: dict[str, dict[str, tuple[str, str, float]]] = {
    TOXICITY: {"civil": ("written abusive vs civil news comments", "roc_auc", 0.85)},
    INSULT: {"civil": ("written insults vs civil news comments", "precision", 0.75),
             "kind": ("written insults vs written threats (kind)", "roc_auc", 0.75)},
    PROFANITY: {"civil": ("civil news comments (any flag is a false positive)", "fpr_max", 0.05)},
    IDENTITY_ATTACK: {"civil": ("written group hate vs civil news comments", "precision", 0.75),
                      "kind": ("written group hate vs written insults (kind)", "roc_auc", 0.75)},
    SEVERE_TOXICITY: {"civil": ("written group hate and threats vs civil news comments", "precision", 0.75),
                      "kind": ("written group hate and threats vs written insults (kind)", "roc_auc", 0.75)},
    THREAT: {"civil": ("written threats vs civil news comments", "precision", 0.75),
             "kind": ("written threats vs other written abuse (kind)", "roc_auc", 0.75)},
    SPAM: {"civil": ("written spam vs civil news comments", "roc_auc", 0.85)},
}


def meets_bar(name: str, measured: list[dict[str, Any]]) -> bool:
    """Whether an attribute's written measurements clear SERVING_BAR."""
    by_set = {entry["set"]: entry for entry in measured}
    for set_name, metric, minimum in SERVING_BAR[name].values():
        entry = by_set.get(set_name)
        if entry is None:
            return False
        if metric == "fpr_max":
            if entry["fpr"] is None or entry["fpr"] > minimum:
                return False
        elif entry.get(metric) is None or entry[metric] < minimum:
            return False
    return True


def measure_attributes(classifier: Scorer, data_dir: Path | None) -> dict[str, Any]:
    """Measure every attribute on the written sets and, where data_dir holds them, the public sets.

    Returns {attribute: {"backed_by", "meets_bar", "sets": [metrics per comparison]}} plus, under
    "spans", the character F1 of the TOXICITY spans the API serves on the SemEval-2021 trial file.
    """
    rule = SpanRule.of(classifier.metadata)
    written = written_comparisons()
    public = public_comparisons(Path(data_dir)) if data_dir is not None and Path(data_dir).is_dir() else {}
    result: dict[str, Any] = {"threshold": THRESHOLD, "attributes": {}}
    for name in ATTRIBUTES:
        own = [_metrics(classifier, name, comparison) for comparison in written[name]]
        result["attributes"][name] = {
            "backed_by": BACKED_BY[name],
            "meets_bar": meets_bar(name, own),
            "sets": own + [_metrics(classifier, name, comparison) for comparison in public.get(name, [])],
        }
    if data_dir is not None:
        spans = _span_f1(classifier, Path(data_dir), rule)
        if spans is not None:
            result["spans"] = spans
    return result


def format_table(measured: dict[str, Any]) -> str:
    """The measurements as a Markdown table: one row per attribute and set."""
    from moderation.model.evaluation import cell

    lines = ["| attribute | backed by | set | n (of its kind) | ROC AUC | TOXICITY's ROC AUC | precision@0.5 | "
             "recall@0.5 | FPR@0.5 |", "|---|---|---|---|---|---|---|---|---|"]
    for name, entry in measured["attributes"].items():
        for index, row in enumerate(entry["sets"]):
            label = f"**{name}**" if index == 0 else ""
            backed = entry["backed_by"] if index == 0 else ""
            lines.append(f"| {label} | {backed} | {row['set']} | {row['n']} ({row['positives']}) | "
                         f"{cell(row['roc_auc'])} | {cell(row.get('toxicity_roc_auc'))} | {cell(row['precision'])} | "
                         f"{cell(row['recall'])} | {cell(row['fpr'])} |")
    spans = measured.get("spans")
    if spans:
        lines += ["", f"TOXICITY `spanScores`: character F1 {cell(spans['f1'])} on {spans['set']} "
                      f"(SemEval-2021 Task 5 scoring), with the span rule {spans['rule']}."]
    return "\n".join(lines)
