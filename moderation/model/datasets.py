"""Loaders for the public labelled data sets the comment model is trained on.

Every loader returns `Example`s with a spam label and an abuse label, either of
which is None where that source says nothing about it.  Labelling decisions:

* youtube, sms: spam from the data set.  Their ham is abuse=0 (ordinary chat);
  their spam is abuse=None (nobody judged it for abuse).
* instagram: scam 1/0 is spam; abuse is None (comments under finance accounts,
  some hostile, none judged for abuse).
* wordpress: all spam, with the author's name, email and website as the comment
  form sent them; abuse None.
* readers: legitimate reader comments written for this project (moderation/model/readers),
  with every form field: spam 0 and abuse 0.
* sitespam: spam as it lands under news articles, written for this project
  (moderation/model/sitespam), with every form field: spam 1, abuse None.
* davidson, stormfront, civil: abuse from the data set.  All get spam=0: they
  are tweets, forum posts and news comments written by people, not ads, so they
  are the spam head's in-register negatives (news comments in particular).
* davidson: hate speech or offensive language => abuse 1, neither => 0.
* stormfront: hate => 1, noHate => 0; `relation` (hate only with its
  neighbours) and `idk/skip` are dropped.
* civil: the comments of semeval2021/tsd_train.csv, sentence by sentence: a
  sentence holding a rater-agreed toxic span => 1, any other sentence of a
  comment with spans => 0 (see load_civil).  tsd_trial.csv is kept out, to
  check evidence spans on.  (Per-comment labels from annotations.csv's "not
  toxic" majority were tried first: they separate toxic from milder posts, not
  from civil ones, and no model learnt them.)

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from moderation.model import readers, sitespam
from moderation.model.signals import NO_AUTHOR, Author

SOURCES: tuple[str, ...] = ("youtube", "sms", "instagram", "wordpress", "sitespam", "readers", "davidson", "stormfront",
                            "civil")
SPAM_SOURCES: tuple[str, ...] = ("youtube", "sms", "instagram", "wordpress", "sitespam")
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
CIVIL_SPAN_FILES: tuple[str, ...] = (
    "civil-comments-toxic-spans/semeval2021/tsd_train.csv",
    "civil-comments-toxic-spans/semeval2021/tsd_trial.csv",
)

INSTAGRAM_FILE = "instagram-scam/comments-rating.csv"
WORDPRESS_FILE = "wordpress-spam/spam_comments.csv"

SOURCE_FILES: dict[str, tuple[str, ...]] = {
    "youtube": YOUTUBE_FILES,
    "sms": (SMS_FILE,),
    "instagram": (INSTAGRAM_FILE,),
    "wordpress": (WORDPRESS_FILE,),
    # Package data, not files of the data folder: see load_sitespam and load_readers.
    "sitespam": (),
    "readers": (),
    "davidson": (DAVIDSON_FILE,),
    "stormfront": (STORMFRONT_FILE,),
    "civil": CIVIL_SPAN_FILES,
}


@dataclass(frozen=True, slots=True)
class PublicSet:
    """A public source as its authors publish it: enough for someone without our copy to fetch and place it."""

    source: str
    title: str
    citation: str
    licence: str
    url: str
    # From what the authors publish to the files under the data folder (the loaders read only the columns named).
    placing: str

    @property
    def files(self) -> tuple[str, ...]:
        return SOURCE_FILES[self.source]

    @property
    def folder(self) -> str:
        return self.files[0].split("/", 1)[0]


PUBLIC_SETS: dict[str, PublicSet] = {entry.source: entry for entry in (
    PublicSet("youtube", "YouTube Spam Collection v1", "Alberto, Lochter, Almeida: TubeSpam (ICMLA 2015); UCI ML "
              "Repository 380", "CC BY 4.0", "https://archive.ics.uci.edu/dataset/380/youtube+spam+collection",
              "four of the five CSV files in the published zip, unchanged (Youtube05-Shakira.csv is not used)"),
    PublicSet("sms", "SMS Spam Collection v1", "Almeida, Gómez Hidalgo, Yamakami: Contributions to the study of SMS "
              "spam filtering (DocEng 2011); UCI ML Repository 228", "free for research, cite the authors",
              "https://archive.ics.uci.edu/dataset/228/sms+spam+collection",
              "the file SMSSpamCollection from the published zip, unchanged (label TAB text, no header)"),
    PublicSet("instagram", "ScamSpot Instagram comments rated scam or not", "ScamSpot (Stefan Erben, 2023), "
              "ScamSpot/scamspot_ml-models `dataset/comments-rating.csv`", "MIT",
              "https://github.com/ScamSpot/scamspot_ml-models",
              "the repository's dataset/comments-rating.csv, unchanged (columns scam, msg)"),
    PublicSet("wordpress", "a WordPress blog's spam folder, 2015-2017", "sidtuli/spam-analysis "
              "`previous_ipython_version/data/spam_data.csv`", "WTFPL", "https://github.com/sidtuli/spam-analysis",
              "the repository's spam_data.csv with its columns Author, Website, Email, Comment renamed author, "
              "website, email, comment (our copy also drops the IP addresses and the grammar check)"),
    PublicSet("davidson", "tweets labelled for hate speech and offensive language", "Davidson, Warmsley, Macy, "
              "Weber: Automated Hate Speech Detection and the Problem of Offensive Language (ICWSM 2017)",
              "MIT (repository); tweets under Twitter's terms",
              "https://github.com/t-davidson/hate-speech-and-offensive-language",
              "the repository's data/labeled_data.csv, unchanged (columns class, tweet)"),
    PublicSet("stormfront", "Hate Speech Dataset from a White Supremacy Forum", "de Gibert, Pérez, García-Pablos, "
              "Cuadros: Hate Speech Dataset from a White Supremacy Forum (ALW 2018)", "CC BY-SA 3.0 ES",
              "https://github.com/Vicomtech/hate-speech-dataset",
              "annotations_metadata.csv with a column text holding each row's all_files/<file_id>.txt "
              "(columns label, text)"),
    PublicSet("civil", "Civil Comments toxic spans (SemEval-2021 Task 5)", "Pavlopoulos et al.: SemEval-2021 Task 5: "
              "Toxic Spans Detection; From the Detection of Toxic Spans in Online Discussions to the Analysis of "
              "Toxic-to-Civil Transfer (ACL 2022)", "CC0", "https://github.com/ipavlopoulos/toxic_spans",
              "the repository's tsd_train.csv and tsd_trial.csv, unchanged (columns spans, text)"),
)}


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled comment; a label is None where its source does not judge it.

    `author` holds what the comment form sent beside the text, where the source has it (wordpress-spam
    and a site's own decisions); the other sources are text alone.
    """

    text: str
    source: str
    spam: int | None
    abuse: int | None
    author: Author = NO_AUTHOR
    # ISO 639-1: the public sets here are English; a site's decisions carry their comments' language.
    language: str = "en"


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
# Twitter wraps every link in t.co: in a tweet a link says "Twitter", not "advert".
_TWITTER_LINK = re.compile(r"https?://t\.co/\S*")
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
    """Return a tweet without t.co links, retweet markers and @handles, which only say 'Twitter'."""
    text = clean_text(text)
    text = _TWITTER_LINK.sub(" ", text)
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


def load_instagram(data_dir: Path) -> list[Example]:
    """Load the ScamSpot Instagram comments: scam 1/0 is spam; abuse is left open (finance-account banter)."""
    return [
        Example(clean_text(row["msg"]), "instagram", int(row["scam"]), None)
        for row in _read_csv(data_dir / INSTAGRAM_FILE)
        if row["scam"] in ("0", "1")
    ]


# Mis-decoded punctuation in the WordPress export ("I¡¦m", "Good ¡V I"): the source's, not the spammers'.
_MOJIBAKE = str.maketrans({"\u00a1": None, "\u00a6": "'"})


def load_wordpress(data_dir: Path) -> list[Example]:
    """Load a WordPress blog's spam folder: every row spam, with the author's name, email and website."""
    return [
        Example(
            clean_text(row["comment"].replace("\u00a1\u00a6", "'").replace("\u00a1V", "-").translate(_MOJIBAKE)),
            "wordpress", 1, None,
            Author(row["author"].strip(), row["email"].strip(), row["website"].strip()),
        )
        for row in _read_csv(data_dir / WORDPRESS_FILE)
    ]


def load_sitespam(data_dir: Path) -> list[Example]:
    """Load the hand-written news-site spam (moderation/model/sitespam): all spam, abuse unjudged, with every field.

    Beside wordpress-spam it is the only spam with a name, email and website, and the only one in the
    kinds news sites get that the public sets lack. It ships with the project, so data_dir is not read.
    """
    return [Example(clean_text(row.body), "sitespam", 1, None, row.author) for row in sitespam.load()]


def load_readers(data_dir: Path) -> list[Example]:
    """Load the hand-written reader comments (moderation/model/readers): not spam, not abuse, with every field.

    They are the legitimate side the spam sets lack: praise and thanks to the writer, phone numbers of
    helplines, money and scams discussed in earnest, readers with websites. They ship with the project,
    so data_dir is not read.
    """
    return [Example(clean_text(row.body), "readers", 0, 0, Author(row.name, row.email, row.website))
            for row in readers.load()]


def load_davidson(data_dir: Path) -> list[Example]:
    """Load Davidson et al.'s tweets: hate or offensive => abuse 1, neither => 0."""
    return [
        Example(clean_tweet(row["tweet"]), "davidson", 0, int(row["class"] in ("0", "1")))
        for row in _read_csv(data_dir / DAVIDSON_FILE)
    ]


def load_davidson_classes(data_dir: Path) -> tuple[list[str], list[str], list[str]]:
    """Load Davidson et al.'s tweets as three lists of cleaned texts: hate speech, offensive language, neither."""
    classes: dict[str, list[str]] = {"0": [], "1": [], "2": []}
    for row in _read_csv(data_dir / DAVIDSON_FILE):
        text = clean_tweet(row["tweet"])
        if text and row["class"] in classes:
            classes[row["class"]].append(text)
    return classes["0"], classes["1"], classes["2"]


def load_stormfront(data_dir: Path) -> list[Example]:
    """Load the Stormfront sentences: hate => 1, noHate => 0, others dropped."""
    labels = {"hate": 1, "noHate": 0}
    return [
        Example(detokenise(row["text"]), "stormfront", 0, labels[row["label"]])
        for row in _read_csv(data_dir / STORMFRONT_FILE)
        if row["label"] in labels
    ]


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


# A sentence runs to its closing punctuation (or the end of a line); offsets are kept so
# that a sentence can be matched against the raters' character spans.
_SENTENCE = re.compile(r"(?=[^\s.!?])[^.!?\n]+(?:[.!?]+[\"')\]]*|$)", re.MULTILINE)
MIN_SENTENCE_WORDS = 3


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return (start, end) of each sentence of text with at least MIN_SENTENCE_WORDS words."""
    return [
        (match.start(), match.end())
        for match in _SENTENCE.finditer(text)
        if len(match.group().split()) >= MIN_SENTENCE_WORDS
    ]


def _normal_form(text: str) -> str:
    return " ".join(text.casefold().split())


def load_civil(data_dir: Path) -> list[Example]:
    """Load SemEval-2021 training comments as sentences: toxic where a rater-agreed span falls in them.

    The comments were all picked as toxic, so a comment-level label says little;
    within a comment with toxic spans, the sentences outside every span are the
    ordinary news-comment register the model must leave alone.  Comments without
    spans are dropped (toxic as a whole, or not at all: the raters do not say),
    and so is every comment of the trial file, kept out for checking evidence.
    """
    held_out = {_normal_form(item.text) for item in load_civil_spans(data_dir, CIVIL_SPAN_FILES[1])}
    rows: list[Example] = []
    for item in load_civil_spans(data_dir, CIVIL_SPAN_FILES[0]):
        if not item.spans or _normal_form(item.text) in held_out:
            continue
        for start, end in split_sentences(item.text):
            toxic = any(s < end and start < e for s, e in item.spans)
            rows.append(Example(clean_text(item.text[start:end]), "civil", 0, int(toxic)))
    return rows


LOADERS = {
    "youtube": load_youtube,
    "sms": load_sms,
    "instagram": load_instagram,
    "wordpress": load_wordpress,
    "sitespam": load_sitespam,
    "readers": load_readers,
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
        key = (example.source, _normal_form(example.text))
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


def missing_sets(data_dir: Path, sources: Iterable[str] = SOURCES) -> list[PublicSet]:
    """The public sets among sources with a file absent from data_dir (the sets shipped with the project never are)."""
    return [PUBLIC_SETS[source] for source in sources
            if source in PUBLIC_SETS and not all((data_dir / name).is_file() for name in SOURCE_FILES[source])]


def describe_sets(sets: Iterable[PublicSet], data_dir: Path) -> list[str]:
    """Lines naming each set, where its authors publish it, its licence and citation, and where its files go."""
    lines: list[str] = []
    for entry in sets:
        names = [name.split("/", 1)[1] for name in entry.files]
        lines += [
            f"{entry.source}: {entry.title}; licence {entry.licence}",
            f"  published at {entry.url}",
            f"  cite: {entry.citation}",
            f"  place: {data_dir / entry.folder}/" + (names[0] if len(names) == 1 else "{" + ", ".join(names) + "}"),
            f"         {entry.placing}",
        ]
    return lines
