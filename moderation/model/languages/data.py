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
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
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
    text = clean_tweet(text)
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
    """Load one set, cleaned, each text with its part; texts that clean to nothing are left out."""
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


def load_languages(data_dir: Path, folders: tuple[str, ...] | None = None) -> list[LabelledText]:
    """Load every language set present under data_dir (or the named folders), in LANGUAGE_SETS' order."""
    examples: list[LabelledText] = []
    for entry in LANGUAGE_SETS:
        if folders is not None and entry.folder not in folders:
            continue
        examples.extend(load_language_set(data_dir, entry))
    return examples


def missing_language_sets(data_dir: Path) -> list[PublicSet]:
    """The language sets whose file is absent from data_dir."""
    return [entry.public for entry in LANGUAGE_SETS if not (data_dir / entry.file).is_file()]
