"""Loaders for the public labelled abuse sets in languages other than English (../shared/data/README-languages.md).

Each folder holds one `data.csv` (`text,label`, 1 = abusive/offensive/hateful/toxic, then the source's
finer labels). None has spam labels. Every set gets a fixed held-out part: the source's own test or
dev split where it has one (GermEval 2018's test, BEEP!'s dev, COLD's dev), else a stratified 20%
chosen by a hash of the text, so the split never moves when rows are added or reordered. Where a
language has two sources (Arabic), one of them is also held out of training whole, to measure what a
site in another register gets.

Texts are cleaned as the English tweets are (moderation.model.datasets.clean_tweet) and more: MLMA
writes links as `@url` and ToLD-Br mentions as `@user`, marks of a tweet that a model would otherwise
learn in place of the label.

Near copies (README-languages.md's "repeat or contain"): two texts are near copies when their normal forms
(near_copy_form: width, case, digits, punctuation and spacing folded) are equal, or when one contains the
other's whole normal form and that has at least CONTAIN_MIN letters. Characters, not words, so it works
alike for Chinese, Korean and Arabic. load_languages keeps each language's texts apart by it: a text that
near-copies one outranking it (the held-out part, then a set held out whole elsewhere, then the rest) is
dropped from training, and a text is trained on once per language; hygiene_report counts what that drops.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from moderation.model.datasets import PublicSet, clean_tweet

Part = Literal["train", "test"]


@dataclass(frozen=True, slots=True)
class LanguageSet:
    """One public set: its folder, language, the column naming its own split, and who to cite."""

    folder: str
    language: str
    register: str
    # The value of `split` that is the source's own held-out part, if it has one.
    test_split: str | None
    public: PublicSet

    @property
    def file(self) -> str:
        return f"{self.folder}/data.csv"


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One comment of a language set, cleaned, with its abuse label and the part it belongs to."""

    text: str
    abuse: int
    source: str
    language: str
    part: Part


def _public(source: str, title: str, citation: str, licence: str, url: str) -> PublicSet:
    return PublicSet(source, title, citation, licence, url, f"the folder {source}/ as README-languages.md builds it")


LANGUAGE_SETS: tuple[LanguageSet, ...] = (
    LanguageSet("germeval2018-de", "de", "tweets", "test", _public(
        "germeval2018-de", "GermEval 2018 (offensive language in German tweets)",
        "Wiegand, Siegel, Ruppenhofer: Overview of the GermEval 2018 Shared Task on the Identification of "
        "Offensive Language (KONVENS 2018)", "CC BY 4.0", "https://github.com/uds-lsv/GermEval-2018-Data")),
    LanguageSet("told-br-pt", "pt", "tweets", None, _public(
        "told-br-pt", "ToLD-Br (toxic language in Brazilian Portuguese tweets)",
        "Leite, Silva, Bontcheva, Scarton: Toxic Language Detection in Social Media for Brazilian Portuguese "
        "(AACL-IJCNLP 2020)", "CC BY-SA 4.0", "https://github.com/JAugusto97/ToLD-Br")),
    LanguageSet("mlma-fr", "fr", "tweets", None, _public(
        "mlma-fr", "MLMA hate speech, French tweets",
        "Ousidhoum, Lin, Zhang, Song, Yeung: Multilingual and Multi-Aspect Hate Speech Analysis (EMNLP 2019)",
        "MIT", "https://github.com/HKUST-KnowComp/MLMA_hate_speech")),
    LanguageSet("mlma-ar", "ar", "tweets", None, _public(
        "mlma-ar", "MLMA hate speech, Arabic tweets",
        "Ousidhoum, Lin, Zhang, Song, Yeung: Multilingual and Multi-Aspect Hate Speech Analysis (EMNLP 2019)",
        "MIT", "https://github.com/HKUST-KnowComp/MLMA_hate_speech")),
    LanguageSet("arabic-news-comments-ar", "ar", "news comments", None, _public(
        "arabic-news-comments-ar", "MPOLD: Arabic comments on Al Jazeera's posts (Twitter, YouTube, Facebook)",
        "Chowdhury, Mubarak, Abdelali, Jung, Jansen, Salminen: A Multi-Platform Arabic News Comment Dataset "
        "for Offensive Language Detection (LREC 2020)", "Apache-2.0",
        "https://github.com/shammur/Arabic-Offensive-Multi-Platform-SocialMedia-Comment-Dataset")),
    LanguageSet("kocohub-ko", "ko", "news comments", "dev", _public(
        "kocohub-ko", "BEEP! Korean hate speech in entertainment-news comments",
        "Moon, Cho, Lee: BEEP! Korean Corpus of Online News Comments for Toxic Speech Detection "
        "(SocialNLP @ ACL 2020)", "CC BY-SA 4.0", "https://github.com/kocohub/korean-hate-speech")),
    LanguageSet("cold-zh", "zh", "Zhihu and Weibo posts", "dev", _public(
        "cold-zh", "COLD: Chinese offensive language (race, gender, region)",
        "Deng, Zhou, Sun, Mi, Huang: COLD: A Benchmark for Chinese Offensive Language Detection (EMNLP 2022)",
        "Apache-2.0", "https://github.com/thu-coai/COLDataset")),
)
SETS_BY_FOLDER: dict[str, LanguageSet] = {entry.folder: entry for entry in LANGUAGE_SETS}
# Held out of training whole: the language's other source ranks it, as a new site's comments would be.
CROSS_SOURCE: dict[str, str] = {"arabic-news-comments-ar": "mlma-ar"}
TEST_SHARE = 0.2

# MLMA's `@url`, ToLD-Br's `@user` and every other @mention or link; a leading `rt`; the `#` of a hashtag
# (the word stays: "#merkelmussweg" is what the tweet says).
_MENTION = re.compile(r"(?<![\w@])@[\w.]+:?")
_LINK = re.compile(r"https?://\S+|\bwww\.\S+")
_RT = re.compile(r"^\s*rt\b:?", re.IGNORECASE)
_HASH = re.compile(r"#(?=\w)")
_SPACES = re.compile(r"[ \t]+")


def clean_language_text(text: str) -> str:
    """Return a tweet or comment without the marks of where it was posted (mentions, links, `rt`, `#`)."""
    # MLMA keeps some line breaks as the two characters backslash and n.
    text = clean_tweet(text.replace("\\n", "\n"))
    text = _RT.sub(" ", _LINK.sub(" ", _MENTION.sub(" ", text)))
    text = _HASH.sub("", text)
    return _SPACES.sub(" ", text).strip(" :\n")


def _held_out(text: str) -> bool:
    """A fixed TEST_SHARE of texts, chosen by a hash of the text so the choice never depends on row order."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < TEST_SHARE


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def load_language_set(data_dir: Path, entry: LanguageSet) -> list[LabelledText]:
    """Load one set, cleaned, each text with its part; texts that clean to nothing are left out.

    Before the near-copy hygiene, which needs the language's other sets: load_languages applies it.
    """
    examples: list[LabelledText] = []
    for row in read_rows(data_dir / entry.file):
        text = clean_language_text(row["text"])
        if not text:
            continue
        if entry.test_split is not None:
            part: Part = "test" if row.get("split") == entry.test_split else "train"
        else:
            part = "test" if _held_out(row["text"]) else "train"
        examples.append(LabelledText(text, int(row["label"]), entry.folder, entry.language, part))
    return examples


# The fewest letters (spaces aside) a text must have for containing it to make a near copy: a whole tweet or
# comment, cut short or quoted inside a longer one, not a two-word reply such as "mongol" or "meu deus".
CONTAIN_MIN = 20
_NOT_LETTERS = re.compile(r"[\W\d_]+")
# Marks that do not change what a text says: combining marks (Arabic harakat), format characters
# (zero-width joiners, emoji tags), tatweel.
_IGNORED = frozenset({"Mn", "Me", "Cf"})
_TATWEEL = 0x0640
# The planes holding such marks: the basic one, and the tags and variation selectors of plane 14.
_MARK_PLANES = (range(0x10000), range(0xE0000, 0xE1000))

# Which of two near copies stays: a test part's, then one of a set held out whole of its language's other
# source's training (CROSS_SOURCE), then any other train part's; among equals the first.
_RANK_TEST, _RANK_CROSS, _RANK_TRAIN = 2, 1, 0


@cache
def _marks() -> re.Pattern[str]:
    """A character class of the ignored marks, found once from the Unicode database."""
    spans: list[list[int]] = []
    for code in (code for plane in _MARK_PLANES for code in plane):
        if code == _TATWEEL or unicodedata.category(chr(code)) in _IGNORED:
            if spans and spans[-1][1] == code - 1:
                spans[-1][1] = code
            else:
                spans.append([code, code])
    return re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in spans) + "]+")


def near_copy_form(text: str) -> str:
    """The text with width, case, digits, punctuation, marks and spacing folded (as policy.text_fingerprint).

    A text of symbols alone (emoji) keeps them, so two of those compare by what they hold.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _marks().sub("", folded)
    form = _NOT_LETTERS.sub(" ", folded).strip()
    return form or " ".join(folded.split())


def _letters(form: str) -> int:
    return len(form) - form.count(" ")


def containments(haystacks: Sequence[str], needles: Sequence[str],
                 minimum: int = CONTAIN_MIN) -> Iterator[tuple[int, int]]:
    """(i, j) for each needle form j of at least `minimum` letters found whole inside a longer haystack form i.

    The needles are indexed by their first `minimum` characters and each haystack's windows looked up, so the
    cost follows the haystacks' length, not the number of pairs.
    """
    starts: dict[str, list[int]] = {}
    for j, needle in enumerate(needles):
        if _letters(needle) >= minimum:
            starts.setdefault(needle[:minimum], []).append(j)
    if not starts:
        return
    look_up = starts.get
    for i, haystack in enumerate(haystacks):
        found: set[int] = set()
        for at in range(len(haystack) - minimum):  # a needle as long as the haystack is equal, not inside
            candidates = look_up(haystack[at:at + minimum])
            if candidates:
                found.update(j for j in candidates
                             if len(needles[j]) < len(haystack) and haystack.startswith(needles[j], at))
        for j in sorted(found):
            yield i, j


def is_near_copy(first: str, second: str, minimum: int = CONTAIN_MIN) -> bool:
    """Whether two texts are near copies: equal normal forms, or one holding the other's whole (minimum letters)."""
    a, b = near_copy_form(first), near_copy_form(second)
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return _letters(short) >= minimum and short in long


def _rank(example: LabelledText) -> int:
    if example.part == "test":
        return _RANK_TEST
    return _RANK_CROSS if example.source in CROSS_SOURCE else _RANK_TRAIN


HYGIENE_COUNTS = ("repeats", "copies", "contained", "across_sets")


def drop_near_copies(examples: Sequence[LabelledText]) -> tuple[list[LabelledText], dict[str, Counter[str]]]:
    """The examples kept, in order, and per set the train texts dropped, language by language:

    - repeats: a train text whose normal form an earlier train text of the same rank has (first kept);
    - copies: a train text whose normal form a higher-ranked text has (a held-out one);
    - contained: a train text containing a higher-ranked text, or contained in one (CONTAIN_MIN letters or more);
    - across_sets: of the copies and contained, those whose higher-ranked text is in another set.

    Test parts are never cut: each stays the source's own held-out part (GermEval's and BEEP!'s as published).
    """
    forms = [near_copy_form(example.text) for example in examples]
    counts: dict[str, Counter[str]] = {}
    kept_by_form: dict[tuple[str, str], int] = {}
    dropped: set[int] = set()

    def drop(index: int, reason: str, because: int) -> None:
        dropped.add(index)
        tally = counts.setdefault(examples[index].source, Counter())
        tally[reason] += 1
        if reason != "repeats" and examples[because].source != examples[index].source:
            tally["across_sets"] += 1

    for index, example in enumerate(examples):
        key = (example.language, forms[index])
        first = kept_by_form.get(key)
        if first is None:
            kept_by_form[key] = index
        elif _rank(example) > _rank(examples[first]):
            drop(first, "copies", index)
            kept_by_form[key] = index
        elif example.part == "train":
            drop(index, "repeats" if _rank(example) == _rank(examples[first]) else "copies", first)

    for language in dict.fromkeys(example.language for example in examples):
        own = [i for i in kept_by_form.values() if examples[i].language == language]
        own_forms = [forms[i] for i in own]
        for outer, inner in containments(own_forms, own_forms):
            a, b = own[outer], own[inner]
            lower, higher = sorted((a, b), key=lambda i: _rank(examples[i]))
            if _rank(examples[lower]) < _rank(examples[higher]) and lower not in dropped:
                drop(lower, "contained", higher)
    return [example for index, example in enumerate(examples) if index not in dropped], counts


def load_languages(data_dir: Path, folders: tuple[str, ...] | None = None) -> list[LabelledText]:
    """Load every language set present under data_dir (or the named folders), in LANGUAGE_SETS' order.

    Near copies are dropped across the sets loaded (drop_near_copies): no train text repeats or holds a
    test text of its language, and none of the sets held out whole elsewhere (CROSS_SOURCE).
    """
    examples: list[LabelledText] = []
    for entry in LANGUAGE_SETS:
        if folders is not None and entry.folder not in folders:
            continue
        examples.extend(load_language_set(data_dir, entry))
    return drop_near_copies(examples)[0]


def hygiene_report(data_dir: Path, folders: tuple[str, ...] | None = None) -> dict[str, dict[str, int]]:
    """Per set loaded: its file's rows, those that cleaned to nothing, the near copies dropped, what is left.

    rows - cleaned_away - repeats - copies - contained == train + test, for the model card to cite.
    """
    entries = [entry for entry in LANGUAGE_SETS if folders is None or entry.folder in folders]
    loaded = {entry.folder: load_language_set(data_dir, entry) for entry in entries}
    kept, dropped = drop_near_copies([example for examples in loaded.values() for example in examples])
    parts = Counter((example.source, example.part) for example in kept)
    report: dict[str, dict[str, int]] = {}
    for entry in entries:
        rows = sum(1 for _ in read_rows(data_dir / entry.file))
        tally = dropped.get(entry.folder, Counter())
        report[entry.folder] = {
            "rows": rows, "cleaned_away": rows - len(loaded[entry.folder]),
            **{name: tally[name] for name in HYGIENE_COUNTS},
            "train": parts[(entry.folder, "train")], "test": parts[(entry.folder, "test")],
        }
    return report


def missing_language_sets(data_dir: Path) -> list[PublicSet]:
    """The language sets whose file is absent from data_dir."""
    return [entry.public for entry in LANGUAGE_SETS if not (data_dir / entry.file).is_file()]
