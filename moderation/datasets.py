"""Loaders for the public labelled data sets the comment model is trained on.

Every loader returns `Example`s with a spam label and an abuse label, either of
which is None where that source says nothing about it.  Labelling decisions:

* youtube, sms: spam from the data set.  Their ham is abuse=0 (ordinary chat);
  their spam is abuse=None (nobody judged it for abuse).
* davidson, stormfront, civil: abuse from the data set.  All get spam=0: they
  are tweets, forum posts and news comments written by people, not ads, so they
  are the spam head's in-register negatives (news comments in particular).
* davidson: hate speech or offensive language => abuse 1, neither => 0.
* stormfront: hate => 1, noHate => 0; `relation` (hate only with its
  neighbours) and `idk/skip` are dropped.
* civil: per comment, the share of span raters who ticked "not toxic": more
  than half => 0, less than half => 1 (they marked spans or the whole post),
  exactly half => dropped.  The semeval2021 files hold the same texts with
  toxic character spans; they are used to check evidence, not as extra rows.

Texts are cleaned of artefacts that identify the *source* rather than the label
(HTML, entities, retweet markers, @handles, the SMS corpus' placeholders,
Stormfront's whitespace tokenisation), so a model cannot as easily learn
"looks like a tweet" in place of "is abusive".
"""

from __future__ import annotations

import ast
import csv
import html
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SOURCES: tuple[str, ...] = ("youtube", "sms", "davidson", "stormfront", "civil")
SPAM_SOURCES: tuple[str, ...] = ("youtube", "sms")
ABUSE_SOURCES: tuple[str, ...] = ("davidson", "stormfront", "civil")

# Paths relative to the data folder (../shared/data from the project root).
YOUTUBE_FILES: tuple[str, ...] = (
    "youtube-spam/Youtube01-Psy.csv",
    "youtube-spam/Youtube02-KatyPerry.csv",
    "youtube-spam/Youtube03-LMFAO.csv",
    "youtube-spam/Youtube04-Eminem.csv",
)
SMS_FILE = "sms-spam/SMSSpamCollection"
DAVIDSON_FILE = "davidson/labeled_data.csv"
STORMFRONT_FILE = "stormfront/sentences.csv"
CIVIL_COMMENTS_FILE = "civil-comments-toxic-spans/comments.csv"
CIVIL_ANNOTATIONS_FILE = "civil-comments-toxic-spans/annotations.csv"
CIVIL_SPAN_FILES: tuple[str, ...] = (
    "civil-comments-toxic-spans/semeval2021/tsd_train.csv",
    "civil-comments-toxic-spans/semeval2021/tsd_trial.csv",
)

SOURCE_FILES: dict[str, tuple[str, ...]] = {
    "youtube": YOUTUBE_FILES,
    "sms": (SMS_FILE,),
    "davidson": (DAVIDSON_FILE,),
    "stormfront": (STORMFRONT_FILE,),
    "civil": (CIVIL_COMMENTS_FILE, CIVIL_ANNOTATIONS_FILE),
}


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text; a label is None where its source does not judge it."""

    text: str
    source: str
    spam: int | None
    abuse: int | None


@dataclass(frozen=True, slots=True)
class SpanExample:
    """A civil comment with the character spans its raters agreed were toxic."""

    text: str
    spans: tuple[tuple[int, int], ...]


_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_NEWLINES = re.compile(r"\s*\n\s*")
_RETWEET = re.compile(r"(?<!\w)RT\b:?")
_HANDLE = re.compile(r"(?<![\w@])@\w+:?")
_SMS_PLACEHOLDER = re.compile(r"<(?:#|DECIMAL|TIME|URL|EMAIL)>")
# Stormfront sentences come whitespace-tokenised ("word , word ." and PTB quotes).
_DETOK_BEFORE = re.compile(r" ([,.;:!?%)\]}]|'s\b|'re\b|'ve\b|'ll\b|'d\b|'m\b|n't\b)")
_DETOK_AFTER = re.compile(r"([(\[{$]) ")
_PTB_QUOTES = re.compile(r"``\s*|\s*''")


def clean_text(text: str) -> str:
    """Return text with BOMs, HTML markup and entities removed and spaces collapsed."""
    text = text.replace("\ufeff", "")
    # Some sources escape twice ("&amp;#39;"); two passes decode both layers.
    text = html.unescape(html.unescape(text))
    text = _BR.sub("\n", text)
    text = _TAG.sub(" ", text)
    text = _SPACE.sub(" ", text)
    text = _NEWLINES.sub("\n", text)
    return text.strip()


def clean_tweet(text: str) -> str:
    """Return a tweet without retweet markers and @handles, which only say 'Twitter'."""
    text = clean_text(text)
    text = _RETWEET.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    return _SPACE.sub(" ", text).strip(" :\n")


def clean_sms(text: str) -> str:
    """Return an SMS without the corpus' anonymisation placeholders."""
    return _SPACE.sub(" ", _SMS_PLACEHOLDER.sub(" ", clean_text(text))).strip()


def detokenise(text: str) -> str:
    """Return a whitespace-tokenised sentence re-joined the way people type it."""
    text = _PTB_QUOTES.sub('"', text)
    text = _DETOK_BEFORE.sub(r"\1", text)
    text = _DETOK_AFTER.sub(r"\1", text)
    return clean_text(text)


def _read_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def load_youtube(data_dir: Path) -> list[Example]:
    """Load the YouTube Spam Collection: spam 1/0, ham also abuse 0."""
    rows: list[Example] = []
    for name in YOUTUBE_FILES:
        for row in _read_csv(data_dir / name):
            spam = int(row["CLASS"])
            text = clean_text(row["CONTENT"])
            rows.append(Example(text, "youtube", spam, None if spam else 0))
    return rows


def load_sms(data_dir: Path) -> list[Example]:
    """Load the SMS Spam Collection (TSV, no header): spam 1/0, ham also abuse 0."""
    rows: list[Example] = []
    with (data_dir / SMS_FILE).open(encoding="utf-8") as handle:
        for line in handle:
            label, _, raw = line.rstrip("\n").partition("\t")
            if label not in ("ham", "spam"):
                continue
            spam = int(label == "spam")
            rows.append(Example(clean_sms(raw), "sms", spam, None if spam else 0))
    return rows


def load_davidson(data_dir: Path) -> list[Example]:
    """Load Davidson et al.'s tweets: hate or offensive => abuse 1, neither => 0."""
    return [
        Example(clean_tweet(row["tweet"]), "davidson", 0, int(row["class"] in ("0", "1")))
        for row in _read_csv(data_dir / DAVIDSON_FILE)
    ]


def load_stormfront(data_dir: Path) -> list[Example]:
    """Load the Stormfront sentences: hate => 1, noHate => 0, others dropped."""
    labels = {"hate": 1, "noHate": 0}
    return [
        Example(detokenise(row["text"]), "stormfront", 0, labels[row["label"]])
        for row in _read_csv(data_dir / STORMFRONT_FILE)
        if row["label"] in labels
    ]


def load_civil(data_dir: Path) -> list[Example]:
    """Load the ToxicSpans civil comments labelled by the raters' 'not toxic' majority."""
    votes: dict[str, list[bool]] = defaultdict(list)
    for row in _read_csv(data_dir / CIVIL_ANNOTATIONS_FILE):
        votes[row["comment_id"]].append(row["not toxic"] == "True")
    rows: list[Example] = []
    for row in _read_csv(data_dir / CIVIL_COMMENTS_FILE):
        ticks = votes.get(row["comment_id"])
        if not ticks or 2 * sum(ticks) == len(ticks):
            continue
        abuse = int(2 * sum(ticks) < len(ticks))
        rows.append(Example(clean_text(row["comment_text"]), "civil", 0, abuse))
    return rows


def load_civil_spans(data_dir: Path, name: str = CIVIL_SPAN_FILES[1]) -> list[SpanExample]:
    """Load a SemEval-2021 toxic-spans file as texts with merged (start, end) spans."""
    rows: list[SpanExample] = []
    for row in _read_csv(data_dir / name):
        offsets = sorted(set(ast.literal_eval(row["spans"])))
        spans: list[tuple[int, int]] = []
        for offset in offsets:
            if spans and spans[-1][1] == offset:
                spans[-1] = (spans[-1][0], offset + 1)
            else:
                spans.append((offset, offset + 1))
        rows.append(SpanExample(row["text"], tuple(spans)))
    return rows


LOADERS = {
    "youtube": load_youtube,
    "sms": load_sms,
    "davidson": load_davidson,
    "stormfront": load_stormfront,
    "civil": load_civil,
}


def deduplicate(examples: Iterable[Example]) -> list[Example]:
    """Return one example per (source, case-folded text); texts with conflicting labels are dropped."""
    groups: dict[tuple[str, str], list[Example]] = {}
    for example in examples:
        if not example.text:
            continue
        key = (example.source, " ".join(example.text.casefold().split()))
        groups.setdefault(key, []).append(example)
    # Exact repeats would land on both sides of a random split and inflate its scores.
    return [
        group[0]
        for group in groups.values()
        if len({(e.spam, e.abuse) for e in group}) == 1
    ]


def load_all(data_dir: Path, sources: Iterable[str] = SOURCES) -> list[Example]:
    """Load, clean and deduplicate the named sources from data_dir, in a stable order."""
    examples: list[Example] = []
    for source in sources:
        examples.extend(LOADERS[source](data_dir))
    return deduplicate(examples)


def source_files(data_dir: Path, sources: Iterable[str] = SOURCES) -> list[Path]:
    """Return the files the named sources are read from."""
    return [data_dir / name for source in sources for name in SOURCE_FILES[source]]
