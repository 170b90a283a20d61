"""The per-language table of `moderation evaluate`: each language set's held-out part, as its language's site gets it.

Each text's language is detected as intake does, with the set's language as the site's (the hint and
the fallback), and the text is scored in the language found. So a German site's comment that CLD2
reads as Dutch gets the pooled head, as it would in the service. Reported per set: how often the
language is found, abuse ROC AUC and what the policy's thresholds hold, and the share of civil texts
held for spam, on every civil row (the spam head never sees these sets) with the texts as posted (links
in) but for Twitter's t.co links and @handles, which the English sets drop too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from moderation.model.classifier import Classifier
from moderation.model.datasets import clean_tweet
from moderation.model.languages import detect_language
from moderation.model.languages.data import LANGUAGE_SETS, LanguageSet, load_language_set, read_rows
from moderation.policy import Policy

HEADER = ("language", "source", "register", "n (held-out)", "abusive", "language found", "abuse ROC AUC",
          "civil held for abuse", "abusive held", "civil texts", "civil held for spam")


def _share(flags: Sequence[bool]) -> float | None:
    return round(float(np.mean(flags)), 4) if len(flags) else None


def set_report(classifier: Classifier, data_dir: Path, entry: LanguageSet, policy: Policy) -> dict[str, Any]:
    """Measure one set: its test part for abuse, all its civil rows (as posted) for spam."""
    thresholds = policy.thresholds(entry.language)
    test = [e for e in load_language_set(data_dir, entry) if e.part == "test"]
    texts = [e.text for e in test]
    labels = [e.abuse for e in test]
    found = [detect_language(text, entry.language).code for text in texts]
    p = classifier.probabilities(texts, languages=found)
    abuse = p[:, 1]
    # As posted, but for Twitter's t.co wrapping of every link, which says "tweet", not "advert".
    civil_rows = [text for row in read_rows(data_dir / entry.file) if row["label"] == "0"
                  and (text := clean_tweet(row["text"]))]
    civil_languages = [detect_language(text, entry.language).code for text in civil_rows]
    spam = classifier.probabilities(civil_rows, languages=civil_languages)[:, 0] if civil_rows else np.zeros(0)
    return {
        "language": entry.language, "source": entry.folder, "register": entry.register, "n": len(test),
        "positives": sum(labels),
        "language_found": _share([code == entry.language for code in found]),
        "roc_auc": round(float(roc_auc_score(labels, abuse)), 4) if len(set(labels)) == 2 else None,
        "civil_held_abuse": _share([a >= thresholds.abuse_hold for a, y in zip(abuse, labels, strict=True) if y == 0]),
        "abusive_held": _share([a >= thresholds.abuse_hold for a, y in zip(abuse, labels, strict=True) if y == 1]),
        "civil_texts": len(civil_rows),
        "civil_held_spam": _share([s >= thresholds.spam_hold for s in spam]),
    }


def language_report(classifier: Classifier, data_dir: Path, policy: Policy | None = None) -> list[dict[str, Any]]:
    """One row per language set present under data_dir."""
    policy = policy or Policy()
    return [set_report(classifier, data_dir, entry, policy) for entry in LANGUAGE_SETS
            if (data_dir / entry.file).is_file()]


def language_lines(rows: Sequence[dict[str, Any]], cell: Any) -> list[str]:
    """The report as a Markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        values = (row["language"], row["source"], row["register"], row["n"], row["positives"], row["language_found"],
                  row["roc_auc"], row["civil_held_abuse"], row["abusive_held"], row["civil_texts"],
                  row["civil_held_spam"])
        lines.append("| " + " | ".join(cell(value) for value in values) + " |")
    return lines
