"""Comments in other languages: detection, the per-language abuse heads, and spam scored without English words."""

from __future__ import annotations

import numpy as np
import pytest

from moderation.model.classifier import Classifier
from moderation.model.languages import (
    SUPPORTED_LANGUAGES,
    UNDETERMINED,
    detect_language,
    is_supported,
    normalise_language,
)
from moderation.model.languages.heads import N_FEATURES, LanguageHead, text_features, tokens
from moderation.model.languages.training import train_head
from moderation.model.signals import Author


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier.load()


# -- detection -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "code"), [
    ("Das ist ein guter Artikel, danke für die gründliche Recherche.", "de"),
    ("Obrigado pela matéria, muito bem explicada.", "pt"),
    ("Merci pour cet article, il explique bien la situation.", "fr"),
    ("شكرا جزيلا على هذا المقال المفيد", "ar"),
    ("좋은 기사 감사합니다", "ko"),
    ("Muy buen artículo, gracias por compartir la información.", "es"),
])
def test_a_sentence_is_found_in_its_language(text: str, code: str) -> None:
    found = detect_language(text, "en")
    assert (found.code, found.source) == (code, "detected")
    assert found.supported == (code in SUPPORTED_LANGUAGES)


def test_a_short_text_takes_the_site_language_as_hint_and_fallback() -> None:
    # CLD2 alone reads "Du bist ein Idiot" as Norwegian; the German site's hint settles it.
    assert detect_language("Du bist ein Idiot", "de").code == "de"
    assert detect_language("ok", "de") == detect_language("ok", "de-AT")
    assert detect_language("ok", "de").source == "fallback"
    assert detect_language("ok", None).code == UNDETERMINED


def test_a_short_text_in_a_script_one_language_writes_takes_that_language() -> None:
    assert detect_language("谢谢", "en").code == "zh"
    assert detect_language("谢谢", "en").source == "script"
    assert detect_language("ㅋㅋㅋ", "en").code == "ko"
    assert detect_language("ありがとう", "en").code == "ja"


def test_control_characters_and_empty_texts_do_not_break_detection() -> None:
    assert detect_language("\x00\x07\x1b", "fr").code == "fr"
    assert detect_language("", "pt").code == "pt"


def test_language_codes_are_normalised() -> None:
    assert [normalise_language(c) for c in ("de-AT", "PT_br", "zh-Hant", "EN", " ko ", "", "123", None)] == [
        "de", "pt", "zh", "en", "ko", None, None, None]
    assert is_supported("pt-BR") and not is_supported("es")


# -- the heads -------------------------------------------------------------------------------------


def test_chinese_is_read_character_by_character_and_latin_words_whole() -> None:
    assert [form for form, _, _ in tokens("你好World!  Straße")] == ["你", "好", "world", "straße"]
    assert [form for form, _, _ in tokens("soooooo gut")] == ["sooo", "gut"]
    features = text_features("你好吗")
    assert {"你", "你 好", "好 吗", "你 好 吗"} <= set(features)


def _toy_head() -> LanguageHead:
    civil = ["danke für den artikel", "gute recherche", "ich sehe das anders", "interessanter bericht"] * 10
    abusive = ["du bist ein idiot", "halt die klappe du idiot", "so ein dummer idiot", "idiot und lügner"] * 10
    return train_head("de", civil + abusive, [0] * len(civil) + [1] * len(abusive))


def test_a_head_ranks_what_it_was_taught_and_its_word_shares_add_up() -> None:
    head = _toy_head()
    assert head.weights.shape == (N_FEATURES,) and head.weights.dtype == np.float32
    civil, abusive = head.log_odds(["danke für die gute recherche", "du idiot"])
    assert abusive > civil
    log_odds, shares = head.shares("Du Idiot, danke")
    assert log_odds == pytest.approx(float(head.log_odds(["Du Idiot, danke"])[0]), abs=1e-5)
    assert sum(weight for _, _, weight in shares) + head.intercept == pytest.approx(log_odds, abs=1e-5)
    start, end, _ = max(shares, key=lambda share: share[2])
    assert "Du Idiot, danke"[start:end] == "Idiot"


def test_a_head_survives_the_artifact_round_trip() -> None:
    head = _toy_head()
    again = LanguageHead.from_artifact("de", head.to_artifact())
    assert again.grams == head.grams
    assert again.log_odds(["du idiot"])[0] == head.log_odds(["du idiot"])[0]


# -- the shipped model -----------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "civil", "abusive"), [
    ("de", "Danke für den Artikel, die Recherche ist gründlich.", "Halt die Fresse, du dummer Idiot."),
    ("pt", "Obrigado pela matéria, muito bem explicada.", "Cala a boca, seu idiota imbecil."),
    ("fr", "Merci pour cet article très clair.", "Ferme ta gueule, espèce de connard."),
    ("ar", "شكرا على هذا التقرير المفيد", "اخرس يا حمار يا غبي"),
    ("ko", "좋은 기사 감사합니다", "이 미친 병신 새끼야"),
    ("zh", "谢谢分享，这篇文章写得很好。", "河南人都是骗子，滚出去"),
])
def test_each_language_head_ranks_an_insult_above_thanks(shipped: Classifier, language: str, civil: str,
                                                         abusive: str) -> None:
    nice, nasty = shipped.score(civil, language=language), shipped.score(abusive, language=language)
    assert nice.language_supported and nasty.language == language
    assert nasty.abuse > 0.5 > nice.abuse
    assert nasty.abuse_words, "a held comment shows its moderator the words behind the score"


def test_one_comments_shares_add_up_to_the_batch_log_odds_in_every_head(shipped: Classifier) -> None:
    texts = ["Danke für den Artikel, die Recherche ist gründlich. Danke!", "Cala a boca, seu idiota imbecil",
             "谢谢分享soooo，这篇文章写得很好。", "이 미친 병신 새끼야 ㅋㅋㅋㅋ", "اخرس يا حمار", "", "!!!"]
    for code, head in shipped.languages.items():
        batch = head.log_odds(texts)
        for text, expected in zip(texts, batch, strict=True):
            log_odds, shares = head.shares(text)
            assert log_odds == pytest.approx(expected, abs=1e-9), (code, text)
            assert sum(weight for _, _, weight in shares) + head.intercept == pytest.approx(log_odds, abs=1e-9)


def test_spam_outside_english_weighs_no_words(shipped: Classifier) -> None:
    # Words that the English spam head has learnt from ads, in an ordinary German comment.
    ordinary = "Gratis Parken am Bahnhof gibt es nicht mehr, der Bonus für Pendler ist weg. Schade."
    assert shipped.score(ordinary, language="de").spam < 0.2
    assert not shipped.score(ordinary, language="de").spam_words
    pitch = ("Verdiene 500€ am Tag von zu Hause! Schreib mir auf WhatsApp +49 151 23456789 "
             "oder klick hier https://bit.ly/3xYz")
    scored = shipped.score(pitch, language="de", author=Author("Geld Schnell", "x@mailinator.com", ""))
    assert scored.spam > 0.5
    assert {"messaging", "phone", "shortener"} & {signal.code for signal in scored.spam_signals}


def test_an_unsupported_language_is_said_to_be_one_and_still_gets_a_number(shipped: Classifier) -> None:
    scored = shipped.score("Muy buen artículo, gracias por compartir.", language="es")
    assert (scored.language, scored.language_supported) == ("es", False)
    assert 0.0 <= scored.abuse <= 1.0


def test_batches_score_as_single_comments_do(shipped: Classifier) -> None:
    texts = ["Du bist ein Idiot", "Great article, thanks", "좋은 기사 감사합니다 http://bit.ly/x", "Cala a boca"]
    languages = ["de", "en", "ko", "pt"]
    batch = shipped.probabilities(texts, languages=languages)
    single = [shipped.score(text, language=code) for text, code in zip(texts, languages, strict=True)]
    assert batch[:, 0] == pytest.approx([s.spam for s in single], abs=1e-6)
    assert batch[:, 1] == pytest.approx([s.abuse for s in single], abs=1e-6)


def test_a_model_without_language_heads_says_so(shipped: Classifier) -> None:
    older = Classifier({k: v for k, v in shipped.model.items() if k != "languages"}
                       | {"features": shipped.feature_names()}, shipped.metadata)
    assert not older.score("Du bist ein Idiot", language="de").language_supported
    assert not older.supports("de") and shipped.supports("de") and shipped.supports("en")


def test_a_words_cached_columns_are_the_hashers() -> None:
    from moderation.model.languages.heads import _HASHER, _column

    features = ["abc", "#ab", "你 好", "straße", "#ㅋㅋ", "x" * 40, *(f"f{i}" for i in range(3000))]
    matrix = _HASHER.transform([[feature] for feature in features]).tocsr()
    assert [int(matrix.indices[matrix.indptr[i]]) for i in range(len(features))] == [_column(f) for f in features]
