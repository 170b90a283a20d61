"""Data hygiene of the public sets in other languages: near copies kept apart as the spam sets' are.

A near copy (moderation.model.languages.data): equal normal forms (width, case, digits, punctuation, marks
and spacing folded), or one text holding the other's whole normal form of CONTAIN_MIN letters or more.
The unit tests run everywhere; the `data` ones read ../shared/data and skip where it is absent.
"""

from __future__ import annotations

import csv
import inspect
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import fields
from itertools import product

import pytest

from moderation.model.languages.data import (
    CONTAIN_MIN,
    CROSS_SOURCE,
    LANGUAGE_SETS,
    LabelledText,
    Part,
    containments,
    drop_near_copies,
    hygiene_report,
    is_near_copy,
    load_language_set,
    load_languages,
    near_copy_form,
    read_rows,
)
from tests.public_data import DATA_DIR
from tests.test_reader_training_set import evaluation_texts
from tests.test_sitespam_training_set import NEAR_COPY, five_grams

# MLMA's tweets are often cut short with "…" and posted again whole, so its two sets lose the most (3%).
MAX_DROPPED_PER_SET = 0.04
MAX_DROPPED = 0.02


def example(text: str, part: Part = "train", source: str = "told-br-pt", language: str = "pt",
            abuse: int = 0) -> LabelledText:
    return LabelledText(text, abuse, source, language, part)


def near_copy_pairs(first: list[str], second: list[str]) -> list[tuple[str, str]]:
    """Every (a, b) of a text of `first` and one of `second` that are near copies, through dicts and an index."""
    first_forms = [near_copy_form(text) for text in first]
    second_forms = [near_copy_form(text) for text in second]
    by_form: dict[str, list[int]] = defaultdict(list)
    for j, form in enumerate(second_forms):
        by_form[form].append(j)
    pairs = {(i, j) for i, form in enumerate(first_forms) for j in by_form.get(form, ())}
    pairs |= set(containments(first_forms, second_forms))
    pairs |= {(i, j) for j, i in containments(second_forms, first_forms)}
    return sorted((first[i][:60], second[j][:60]) for i, j in pairs)


# -- the rule ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [
    ("ＨＥＬＬＯ, World 123!", "hello   world"),
    ("olha quem fala", "Olha quem fala!!!"),
    ("Du bist jung und schön", "Du bist jung und schön."),
    ("كَتَبَ الوَلَدُ", "كتب الولد"),  # harakat
    ("جميـــل جدا", "جميل جدا"),  # tatweel
    ("你是河南人吗？", "你是河南人吗?"),  # full- and half-width question marks
    ("삼가 고인의 명복을 빕니다.", "삼가  고인의 명복을 빕니다"),
    ("zero\u200bwidth", "zerowidth"),
    ("😂😂", "😂😂"),
])
def test_texts_differing_in_case_width_digits_punctuation_or_marks_are_near_copies(first: str, second: str) -> None:
    assert near_copy_form(first) == near_copy_form(second)
    assert is_near_copy(first, second)


@pytest.mark.parametrize(("first", "second"), [
    ("mongol", "dois mongol"),
    ("meu deus", "meu deus do céu, que dia"),
    ("😂😂", "😂😂😂"),
    ("삼가 고인의 명복을 빕니다", "삼가 고인의 명복을 빕니다 그리고 힘내세요"),  # 11 letters: a set phrase, not a text
])
def test_short_texts_inside_others_and_different_texts_are_not(first: str, second: str) -> None:
    assert not is_near_copy(first, second)


@pytest.mark.parametrize(("whole", "cut"), [
    # MLMA: a tweet cut short with "…"
    ("être renois dans une musique fond vapotes à gogo et oublier les papiers de la voiture",
     "être renois dans une musique fond vapotes à gogo et oublier les papiers de…"),
    # a headline tweeted with a prefix
    ("Europe/France: Grèce : les transferts de réfugiés vers le continent s'accélèrent",
     "Grèce: les transferts de réfugiés vers le continent s’accélèrent"),
    # COLD: a reply quoting a post whole
    ("程墨morgan：公知说：呜呜呜，我美国爹的白人警察是最正义的，不存在暴力执法。惊喜",
     "公知说：呜呜呜，我美国爹的白人警察是最正义的，不存在暴力执法！惊喜"),
    ("خارجية فرنسا تدعو لإنشاء مراكز لعبور اللاجئين الأفارقة في ليبيا",
     "فرنسا تدعو لإنشاء مراكز لعبور اللاجئين الأفارقة في ليبيا"),
])
def test_a_text_holding_another_whole_is_a_near_copy_of_it(whole: str, cut: str) -> None:
    assert is_near_copy(whole, cut) and is_near_copy(cut, whole)


def test_containment_counts_letters_from_contain_min() -> None:
    short = "a" * (CONTAIN_MIN - 1)
    assert not is_near_copy(short, f"x {short} y")
    assert is_near_copy(short + "b", f"x {short}b y")
    # Spaces are not letters: twenty letters in five words count as twenty.
    spaced = "abcd efgh ijkl mnop qrst"
    assert is_near_copy(spaced, f"so {spaced}.") and not is_near_copy(spaced[:-1], f"so {spaced[:-1]}.")


def test_containments_finds_what_a_scan_of_every_pair_finds() -> None:
    words = ["vai", "trabalhar", "vagabundo", "你是河南人吗", "물론", "ليبيا", "abc"]
    texts = sorted({" ".join(combo) for n in (1, 2, 3, 4) for combo in product(words[:4] if n == 4 else words,
                                                                               repeat=n)})
    forms = [near_copy_form(text) for text in texts]
    expected = {(i, j) for i, hay in enumerate(forms) for j, needle in enumerate(forms)
                if len(needle) < len(hay) and needle in hay and len(needle.replace(" ", "")) >= CONTAIN_MIN}
    found = set(containments(forms, forms))
    assert found == expected and len(expected) > 100


def test_the_loader_keeps_its_signature_and_rows() -> None:
    assert list(inspect.signature(load_languages).parameters) == ["data_dir", "folders"]
    assert [field.name for field in fields(LabelledText)] == ["text", "abuse", "source", "language", "part"]


# -- dropping them ----------------------------------------------------------------------------------

LONG = "o povão não precisa de lei rouanet para sobreviver"


def test_a_train_text_equal_to_a_test_text_is_dropped_whichever_comes_first() -> None:
    rows = [example("Olha quem fala!"), example("olha quem fala", "test"), example("OLHA QUEM FALA")]
    kept, counts = drop_near_copies(rows)
    assert kept == [rows[1]]
    assert counts["told-br-pt"] == Counter(copies=2)


def test_a_train_text_holding_a_test_text_or_held_in_one_is_dropped() -> None:
    rows = [example(f"ai ai {LONG}, vai trabalhar"), example(LONG, "test"), example(LONG[:-4]),
            example("lei rouanet"), example(f"{LONG} e mais")]
    kept, counts = drop_near_copies(rows)
    assert kept == [rows[1], rows[3]]
    assert counts["told-br-pt"] == Counter(contained=3)


def test_train_repeats_are_kept_once_and_test_parts_are_never_cut() -> None:
    rows = [example("lindo"), example("Lindo!"), example("infelizmente", "test"), example("Infelizmente.", "test"),
            example(LONG, "test"), example(LONG + " hoje", "test")]
    kept, counts = drop_near_copies(rows)
    assert kept == [rows[0], *rows[2:]]
    assert counts["told-br-pt"] == Counter(repeats=1)


def test_the_same_text_in_two_languages_is_two_texts() -> None:
    rows = [example("ok merci"), example("ok merci", "test", "mlma-fr", "fr")]
    assert drop_near_copies(rows) == (rows, {})


def test_across_sets_the_held_out_copy_stays() -> None:
    cross = next(iter(CROSS_SOURCE))  # held out of its language's other source's training whole
    other = CROSS_SOURCE[cross]
    text = "والله لو بس تتركون بول البعير راح تصحون على نفسكم"
    mlma_train = example(text, "train", other, "ar")
    cross_train = example(text + "!", "train", cross, "ar")
    kept, counts = drop_near_copies([mlma_train, cross_train])
    assert kept == [cross_train]
    assert counts == {other: Counter(copies=1, across_sets=1)}
    # The cross-source set's train part gives way to the other set's test part.
    mlma_test = example(text, "test", other, "ar")
    kept, counts = drop_near_copies([mlma_test, cross_train, example(f"قال {text}", "train", other, "ar")])
    assert kept == [mlma_test]
    assert counts == {cross: Counter(copies=1, across_sets=1), other: Counter(contained=1)}


# -- the real folders -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded() -> list[LabelledText]:
    return load_languages(DATA_DIR)


@pytest.fixture(scope="module")
def each_set() -> dict[str, list[LabelledText]]:
    """Each set as load_language_set gives it, before the hygiene."""
    return {entry.folder: load_language_set(DATA_DIR, entry) for entry in LANGUAGE_SETS}


@pytest.fixture(scope="module")
def report() -> dict[str, dict[str, int]]:
    return hygiene_report(DATA_DIR)


def _by_language(rows: Iterable[LabelledText]) -> dict[str, list[LabelledText]]:
    grouped: dict[str, list[LabelledText]] = defaultdict(list)
    for row in rows:
        grouped[row.language].append(row)
    return grouped


@pytest.mark.data
def test_no_train_text_is_a_near_copy_of_a_held_out_text_of_its_language(loaded: list[LabelledText]) -> None:
    checked = 0
    for language, rows in _by_language(loaded).items():
        train = [row for row in rows if row.part == "train"]
        for source in dict.fromkeys(row.source for row in train):
            # Held out: every test part of the language, and every set held out whole from this one's training.
            held = [row.text for row in rows if row.part == "test" or (row.source in CROSS_SOURCE
                                                                        and row.source != source)]
            texts = [row.text for row in train if row.source == source]
            assert near_copy_pairs(texts, held) == [], (language, source)
            checked += len(texts)
    assert checked > 60_000


@pytest.mark.data
def test_a_language_trains_on_each_text_once(loaded: list[LabelledText]) -> None:
    for language, rows in _by_language(loaded).items():
        counts = Counter(near_copy_form(row.text) for row in rows if row.part == "train")
        assert [form[:60] for form, n in counts.items() if n > 1] == [], language


@pytest.mark.data
def test_no_language_set_text_is_a_near_copy_of_an_evaluation_text(each_set: dict[str, list[LabelledText]]) -> None:
    texts = [row.text for rows in each_set.values() for row in rows]
    held_out = list(dict.fromkeys(evaluation_texts()))
    assert len(held_out) > 500  # the sets were found and read, so no pair found means something
    assert near_copy_pairs(texts, held_out) == []
    # And the spam sets' word 5-gram rule, through an index of the evaluation texts' 5-grams.
    index: dict[tuple[str, ...], set[int]] = defaultdict(set)
    for j, text in enumerate(held_out):
        for gram in five_grams(text):
            index[gram].add(j)
    near = []
    for text in texts:
        grams = five_grams(text)
        shared = Counter(j for gram in grams for j in index.get(gram, ()))
        near += [(text[:50], held_out[j][:50]) for j, n in shared.items() if n >= 2 and n >= NEAR_COPY * len(grams)]
    assert near == []


@pytest.mark.data
def test_no_language_set_text_is_a_near_copy_of_a_reserved_one(loaded: list[LabelledText]) -> None:
    # README-languages.md keeps COLD's test.csv and the other 40% of the Al Jazeera comments out of the folders;
    # any other CSV beside a set's data.csv is such a reserved file.
    reserved = {entry.language: [row["text"] for path in sorted((DATA_DIR / entry.folder).glob("*.csv"))
                                 if path.name != "data.csv" for row in read_rows(path) if row.get("text")]
                for entry in LANGUAGE_SETS}
    if not any(reserved.values()):
        pytest.skip(f"no reserved texts beside the language sets in {DATA_DIR} (README-languages.md holds them out)")
    for language, rows in _by_language(loaded).items():
        assert near_copy_pairs([row.text for row in rows], reserved.get(language, [])) == [], language


def _readme_counts() -> dict[str, tuple[int, int]]:
    """README-languages.md's table: folder -> (rows, positives)."""
    counts = {}
    for line in (DATA_DIR / "README-languages.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) > 4 and re.fullmatch(r"[\w-]+/", cells[0]) and re.fullmatch(r"[\d,]+", cells[3]):
            counts[cells[0].rstrip("/")] = (int(cells[3].replace(",", "")), int(cells[4].replace(",", "")))
    return counts


@pytest.mark.data
def test_the_rows_are_the_readmes_less_a_few_near_copies(loaded: list[LabelledText],
                                                         report: dict[str, dict[str, int]]) -> None:
    readme = _readme_counts()
    assert set(readme) == {entry.folder for entry in LANGUAGE_SETS}
    parts = Counter((row.source, row.part) for row in loaded)
    for entry in LANGUAGE_SETS:
        with (DATA_DIR / entry.file).open(newline="", encoding="utf-8") as handle:
            labels = [row["label"] for row in csv.DictReader(handle)]
        assert (len(labels), labels.count("1")) == readme[entry.folder], entry.folder
        counts = report[entry.folder]
        dropped = counts["cleaned_away"] + counts["repeats"] + counts["copies"] + counts["contained"]
        assert counts["rows"] - dropped == counts["train"] + counts["test"], entry.folder
        assert (counts["train"], counts["test"]) == (parts[(entry.folder, "train")], parts[(entry.folder, "test")])
        assert dropped <= MAX_DROPPED_PER_SET * counts["rows"], (entry.folder, counts)
    total = sum(counts["rows"] for counts in report.values())
    assert total - len(loaded) <= MAX_DROPPED * total


@pytest.mark.data
def test_the_test_parts_are_the_sets_own(loaded: list[LabelledText], each_set: dict[str, list[LabelledText]]) -> None:
    for folder, rows in each_set.items():
        own = [row for row in rows if row.part == "test"]
        assert [row for row in loaded if row.source == folder and row.part == "test"] == own, folder
