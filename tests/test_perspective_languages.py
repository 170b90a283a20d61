"""Perspective's surface in the languages the model scores: by `languages` or by detection, each attribute answered
only where it has backing, in Perspective's own error otherwise; driven with Google's client library over HTTP
(google-api-python-client, built from our discovery document) and, for the request details it does not show, Flask's
test client.

Only which languages are accepted or refused, the answers' shapes and what is echoed are asserted: the scores in
other languages are the model's per-language heads', which the model card measures.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from googleapiclient import discovery
from googleapiclient.errors import HttpError
from redis import Redis

from moderation import perspective
from moderation.api_keys import ApiKeys
from moderation.decisions import imported_decisions
from moderation.keys import Keys
from moderation.model import attributes
from moderation.model.attributes import ATTRIBUTES, BACKED_LANGUAGES, backed_in
from moderation.model.languages import SUPPORTED_LANGUAGES
from tests.conftest import serving
from tests.recording import Recording, recording_app

ROOT = Path(__file__).resolve().parents[1]
ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"
GERMAN = "Der Stadtrat hat den Haushalt für das nächste Jahr endlich beschlossen, und das ist eine gute Nachricht."
GERMAN_INSULT = "Du bist ein Idiot und ein Vollpfosten, halt einfach den Mund."
KOREAN = "시의회가 내년 예산안을 드디어 통과시켰다니 정말 다행입니다. 기사 잘 읽었습니다."
SPANISH = "El ayuntamiento por fin aprobó el presupuesto del próximo año, y es una buena noticia."
PORTUGUESE = "O prefeito finalmente aprovou o orçamento do próximo ano, o que é uma ótima notícia para a cidade."
CHINESE = "市议会终于通过了明年的预算，这对我们来说是个好消息。"
ARABIC = "مجلس المدينة وافق أخيرا على ميزانية العام المقبل، وهذا خبر جيد للجميع."
ENGLISH_ONLY = tuple(name for name in ATTRIBUTES if BACKED_LANGUAGES[name] == frozenset({"en"}))


@pytest.fixture
def recording(model: Any) -> Recording:
    return Recording(model)


@pytest.fixture
def app(redis: Redis, redis_url: str, recording: Recording) -> Iterator[Flask]:
    with recording_app(redis_url, recording) as app:
        yield app


@pytest.fixture
def key(app: Flask) -> str:
    return ApiKeys(app.extensions["moderation"].redis).add("newsroom")


@pytest.fixture
def google(app: Flask, key: str) -> Iterator[Any]:
    """Google's client, built from our discovery document over real HTTP, as Perspective's quickstart builds it."""
    with serving(app) as url:
        yield discovery.build("commentanalyzer", "v1alpha1", developerKey=key,
                              discoveryServiceUrl=url + "/$discovery/rest?version=v1alpha1", static_discovery=False)


def analyze(google: Any, text: str, *names: str, **fields: Any) -> dict[str, Any]:
    body = {"comment": {"text": text}, "requestedAttributes": {name: {} for name in names or ("TOXICITY",)}, **fields}
    answer: dict[str, Any] = google.comments().analyze(body=body).execute()
    return answer


def refused(google: Any, text: str, *names: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    """The message and the Perspective error detail of a request the client gets a 400 for."""
    with pytest.raises(HttpError) as error:
        analyze(google, text, *names, **fields)
    assert error.value.resp.status == 400
    [detail] = error.value.error_details
    assert detail["@type"] == "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
    return str(error.value.reason), dict(detail)


def summary(answer: dict[str, Any], name: str = "TOXICITY") -> float:
    score = answer["attributeScores"][name]["summaryScore"]
    assert score["type"] == "PROBABILITY" and 0.0 <= score["value"] <= 1.0
    return float(score["value"])


# -- accepted ----------------------------------------------------------------------------------------------------


def test_german_and_korean_are_scored_in_their_language_and_echoed(google: Any, recording: Recording) -> None:
    for text, language in ((GERMAN, "de"), (KOREAN, "ko")):
        recording.languages.clear()
        answer = analyze(google, text, "TOXICITY", "SPAM", languages=[language], clientToken="c-1")
        summary(answer, "TOXICITY")
        summary(answer, "SPAM")
        assert answer["languages"] == [language] and answer["clientToken"] == "c-1"
        assert answer["detectedLanguages"][0] == language
        assert recording.languages == [language]  # one scoring, in the comment's language


def test_each_supported_language_is_detected_without_languages(google: Any, recording: Recording) -> None:
    texts = {"de": GERMAN, "ko": KOREAN, "pt": PORTUGUESE, "zh": CHINESE, "ar": ARABIC,
             "fr": "Le conseil municipal a enfin voté le budget de l'année prochaine, et c'est une bonne nouvelle."}
    for language, text in texts.items():
        recording.languages.clear()
        answer = analyze(google, text)
        summary(answer)
        # Perspective's `languages` is the detected one when the request names none.
        assert answer["languages"] == [language] and answer["detectedLanguages"][0] == language
        assert recording.languages == [language]


def test_a_short_comment_in_one_script_is_detected_by_its_script(google: Any, recording: Recording) -> None:
    # Too short for CLD2; Hangul and Han each say their language (moderation.model.languages).
    for text, language in (("네!", "ko"), ("谢谢", "zh")):
        recording.languages.clear()
        assert analyze(google, text)["languages"] == [language]
        assert recording.languages == [language]
    # A short Latin-script comment is still Perspective's "Unable to detect language".
    message, detail = refused(google, "Gut gemacht!")
    assert (message, detail["errorType"]) == ("Unable to detect language.", "LANGUAGE_DETECTION_FAILED")


def test_any_case_and_region_of_a_supported_language(google: Any, recording: Recording) -> None:
    variants = {"DE": "de", "de-AT": "de", "de_CH": "de", "pt-BR": "pt", "PT_pt": "pt", "zh-Hant": "zh",
                "zh-CN": "zh", "ko-KR": "ko", "AR": "ar", "fr-CA": "fr", "en-GB": "en"}
    for tag, language in variants.items():
        recording.languages.clear()
        answer = analyze(google, GERMAN, languages=[tag])
        summary(answer)
        assert answer["languages"] == [tag]  # mirrored as sent, as Perspective mirrors the request's
        assert recording.languages == [language]


def test_spam_is_backed_in_any_language(google: Any, recording: Recording) -> None:
    answer = analyze(google, SPANISH, "SPAM", languages=["es"])
    summary(answer, "SPAM")
    assert answer["languages"] == ["es"] and recording.languages == ["es"]
    assert analyze(google, SPANISH, "SPAM")["languages"] == ["es"]  # detected
    assert analyze(google, "Gracias", "SPAM", languages=["und"])["languages"] == ["und"]


def test_several_languages_must_all_be_backed_and_the_first_is_scored(google: Any, recording: Recording) -> None:
    answer = analyze(google, GERMAN + " Well said.", languages=["de", "en"])
    assert answer["languages"] == ["de", "en"] and recording.languages == ["de"]
    message, _ = refused(google, GERMAN, languages=["de", "es"])
    assert message == "Attribute TOXICITY does not support request languages: de, es"
    message, _ = refused(google, GERMAN, "INSULT", languages=["en", "de"])
    assert message == "Attribute INSULT does not support request languages: en, de"


def test_spans_in_another_language_point_into_the_text(client: FlaskClient, key: str) -> None:
    text = "😀 " + GERMAN_INSULT
    body = {"comment": {"text": text}, "languages": ["de"], "spanAnnotations": True,
            "requestedAttributes": {"TOXICITY": {}}}
    answer = client.post(f"{ANALYZE}?key={key}", json=body).get_json()
    toxicity = answer["attributeScores"]["TOXICITY"]
    utf16 = len(text.encode("utf-16-le")) // 2
    for span in toxicity.get("spanScores", []):
        assert 0 <= span["begin"] < span["end"] <= utf16
        assert span["score"] == toxicity["summaryScore"]


# -- refused -----------------------------------------------------------------------------------------------------


def test_an_unsupported_language_is_refused_for_the_abuse_backed_attributes(google: Any) -> None:
    for name in ("TOXICITY", *ENGLISH_ONLY):
        message, detail = refused(google, SPANISH, name, languages=["es"])
        assert message == f"Attribute {name} does not support request languages: es"
        assert detail == {"@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error",
                          "errorType": "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
                          "languageNotSupportedByAttributeError": {"requestedLanguages": ["es"], "attribute": name}}
    # Detected rather than requested: the detail says so, as Perspective's does.
    message, detail = refused(google, SPANISH)
    assert message == "Attribute TOXICITY does not support request languages: es"
    assert detail["languageNotSupportedByAttributeError"] == {"detectedLanguages": ["es"], "attribute": "TOXICITY"}
    message, _ = refused(google, GERMAN, languages=["not a language"])
    assert message == "Attribute TOXICITY does not support request languages: not a language"


def test_an_english_only_attribute_is_refused_in_german(google: Any) -> None:
    for name in ENGLISH_ONLY:
        message, detail = refused(google, GERMAN_INSULT, name, languages=["de"])
        assert message == f"Attribute {name} does not support request languages: de"
        assert detail["languageNotSupportedByAttributeError"] == {"requestedLanguages": ["de"], "attribute": name}
    # The first attribute without backing is named, whatever comes before it: clients drop it and ask again.
    message, _ = refused(google, GERMAN_INSULT, "TOXICITY", "THREAT", "INSULT", languages=["de"])
    assert message == "Attribute THREAT does not support request languages: de"
    message, _ = refused(google, GERMAN_INSULT, "INSULT")  # detected German
    assert message == "Attribute INSULT does not support request languages: de"


def test_drop_unsupported_attributes_keeps_the_backed_ones(google: Any) -> None:
    answer = analyze(google, GERMAN_INSULT, *ATTRIBUTES, languages=["de"], dropUnsupportedAttributes=True)
    assert list(answer["attributeScores"]) == ["TOXICITY", "SPAM"] and answer["languages"] == ["de"]
    spanish = analyze(google, SPANISH, "TOXICITY", "INSULT", "SPAM", dropUnsupportedAttributes=True)
    assert list(spanish["attributeScores"]) == ["SPAM"] and spanish["languages"] == ["es"]
    nothing = analyze(google, SPANISH, "TOXICITY", languages=["es"], dropUnsupportedAttributes=True)
    assert "attributeScores" not in nothing and nothing["languages"] == ["es"]


# -- what is kept, suggestions, the discovery document ----------------------------------------------------------


def test_a_stored_example_keeps_the_language_it_was_scored_in(client: FlaskClient, key: str, redis: Redis) -> None:
    client.post(f"{ANALYZE}?key={key}", json={"comment": {"text": KOREAN}, "requestedAttributes": {"TOXICITY": {}}})
    [(_, example)] = redis.xrange(Keys().perspective_examples)
    assert example["text"] == KOREAN and example["language"] == "ko"


def test_suggestions_are_taken_where_the_head_they_label_scores(app: Flask, google: Any) -> None:
    def suggest(text: str, name: str, value: float, languages: list[str]) -> dict[str, Any]:
        body = {"comment": {"text": text}, "attributeScores": {name: {"summaryScore": {"value": value}}},
                "languages": languages, "clientToken": "comment:1"}
        answer: dict[str, Any] = google.comments().suggestscore(body=body).execute()
        return answer

    answer = suggest(GERMAN_INSULT, "TOXICITY", 1, ["de-DE"])
    assert answer == {"clientToken": "comment:1", "detectedLanguages": ["de"], "requestedLanguages": ["de-DE"]}
    # An INSULT suggestion labels abuse, which the Korean head learns, though INSULT is not scored in Korean.
    suggest(KOREAN, "INSULT", 1, ["ko"])
    suggest(SPANISH, "SPAM", 0, ["es"])
    store = app.extensions["moderation"].store
    assert [(d.text, d.spam, d.abuse) for d in imported_decisions(store)] == [
        (GERMAN_INSULT, None, 1), (KOREAN, None, 1), (SPANISH, 0, None)]
    with pytest.raises(HttpError) as error:
        suggest(SPANISH, "TOXICITY", 0, ["es"])
    assert error.value.reason == "Attribute TOXICITY does not support request languages: es"
    assert error.value.error_details[0]["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert len(list(imported_decisions(store))) == 3


def test_the_discovery_document_names_each_attributes_languages(client: FlaskClient) -> None:
    document = client.get("/$discovery/rest?version=v1alpha1").get_json()
    described = document["schemas"]["AnalyzeCommentRequest"]["properties"]["languages"]["description"]
    assert "English only" not in document["description"] and "only English" not in described
    assert "TOXICITY: en (English), de (German), pt (Portuguese), fr (French), ar (Arabic), ko (Korean), " \
           "zh (Chinese)" in described
    assert "SPAM: any language" in described
    schema = client.get("/openapi.json").get_json()["components"]["schemas"]["PerspectiveAnalyzeCommentRequest"]
    pattern = re.compile(schema["properties"]["languages"]["items"]["pattern"])
    assert all(pattern.match(tag) for tag in ("en", "de-AT", "pt_BR", "zh-Hant", "und"))


# -- which attribute is backed where ----------------------------------------------------------------------------


def test_backing_follows_what_each_attribute_is_made_of() -> None:
    for language in SUPPORTED_LANGUAGES:
        assert backed_in("TOXICITY", language) and backed_in("SPAM", language)
    assert not backed_in("TOXICITY", "es") and backed_in("SPAM", "es") and not backed_in("SPAM", None)
    # The lexicon, identity words and threat rule are English: what they gate is English only.
    assert set(ENGLISH_ONLY) == {"SEVERE_TOXICITY", "INSULT", "PROFANITY", "THREAT", "IDENTITY_ATTACK"}
    assert set(BACKED_LANGUAGES) == set(ATTRIBUTES)
    assert perspective.detect_languages("네!") == ["ko"] and perspective.detect_languages("ok") == []


def test_a_chinese_evidence_span_is_not_widened_to_its_clause() -> None:
    class Evidence:
        def __init__(self, start: int, end: int, weight: float) -> None:
            self.start, self.end, self.weight = start, end, weight

    text = "你是个白痴，真的是白痴"
    # A head weighing characters gives "白痴" (3-5); the tokenizer's "word" is the clause "你是个白痴" (0-5).
    spans = attributes.evidence_spans(0.9, [Evidence(3, 5, 1.0)], text)
    assert spans == [(3, 5)]
    # A whole-word evidence still marks the word's later occurrences, as for English.
    english = "idiot, you idiot"
    assert attributes.evidence_spans(0.9, [Evidence(0, 5, 1.0)], english) == [(0, 5), (11, 16)]


def test_migrating_guide_table_matches_the_backing() -> None:
    guide = (ROOT / "docs" / "MIGRATING.md").read_text(encoding="utf-8")
    assert attributes.format_languages_table() in guide
    assert "| `SPAM` | yes | yes | yes | yes | yes | yes | yes | yes (the signals alone) |" in guide
    assert "| `THREAT` | yes | no | no | no | no | no | no | refused |" in guide
