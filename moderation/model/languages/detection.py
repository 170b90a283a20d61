"""The languages the model scores, and the language of a comment: CLD2, then the site's or article's language.

CLD2 (pycld2) is Google's compact language detector, the one Chrome shipped: about 80 languages from
character n-grams and a script table, in C, tens of microseconds for a comment.  It is unsure of short
texts ("Gut gemacht!", "Merci beaucoup"), so the language the site expects is passed as its hint and
is also what a text CLD2 cannot tell gets; a text in one script that only one supported language
writes (Hangul, Han, Arabic) takes that language even when it is too short for CLD2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pycld2

ENGLISH = "en"
# ISO 639-1 codes, in the order the model card lists them.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "de", "pt", "fr", "ar", "ko", "zh")
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "de": "German", "pt": "Portuguese", "fr": "French",
    "ar": "Arabic", "ko": "Korean", "zh": "Chinese",
}
# What a comment CLD2 cannot place and nobody gave a language for is taken to be in.
UNDETERMINED = "und"

# CLD2 refuses control characters (C0, DEL, C1) as invalid UTF-8; they say nothing of the language.
_CONTROLS = {code: " " for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))}
# CLD2's codes that differ from ISO 639-1 for the same language.
_CLD2_CODES = {"zh-Hant": "zh", "iw": "he", "in": "id", "jw": "jv", "nn": "no", "nb": "no"}
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ko", re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")),
    # Kana means Japanese, which also writes Han: only Han without kana is taken as Chinese.
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")),
    ("ar", re.compile(r"[\u0600-\u06ff\u0750-\u077f]")),
)
_LETTER = re.compile(r"[^\W\d_]")
# Letters from which CLD2's unhinted answer is trusted over the site's language (see detect_language).
SELF_EVIDENT_LETTERS = 30
Source = Literal["detected", "script", "fallback"]


@dataclass(frozen=True, slots=True)
class DetectedLanguage:
    """A comment's language (ISO 639-1, or `und`) and how it was found."""

    code: str
    source: Source

    @property
    def supported(self) -> bool:
        """Whether the model has an abuse head for this language."""
        return self.code in SUPPORTED_LANGUAGES


def normalise_language(code: str | None) -> str | None:
    """The ISO 639-1 code of a BCP 47 tag or CLD2 code ('de-AT', 'PT_br', 'zh-Hant' give de, pt, zh); None if blank."""
    if code is None:
        return None
    code = code.strip()
    if code in _CLD2_CODES:
        return _CLD2_CODES[code]
    primary = re.split(r"[-_]", code, maxsplit=1)[0].lower()
    if not re.fullmatch(r"[a-z]{2,3}", primary):
        return None
    return _CLD2_CODES.get(primary, primary)


def is_supported(code: str | None) -> bool:
    """Whether a language code (any case or region) names a language the model scores."""
    return normalise_language(code) in SUPPORTED_LANGUAGES


def _cld2(text: str, hint: str | None) -> str | None:
    """CLD2's language for text when it is sure of it, else None."""
    try:
        options = {"hintLanguage": hint} if hint and hint != UNDETERMINED else {}
        reliable, _, found = pycld2.detect(text, **options)
    except pycld2.error:
        return None
    if reliable and found and found[0][1] not in ("un", "xxx"):
        return normalise_language(found[0][1])
    return None


def detect_language(text: str, fallback: str | None = ENGLISH) -> DetectedLanguage:
    """The language of text: CLD2's reliable answer (hinted if short), else its script's, else fallback."""
    hint = normalise_language(fallback)
    clean = text.translate(_CONTROLS)
    letters = _LETTER.findall(clean)
    # A hint weighs heavily: hinted English, CLD2 gives up on a plain French sentence. So a text long
    # enough to speak for itself is read unhinted, and only a short one leans on the site's language
    # (unhinted, "Du bist ein Idiot" is Norwegian).
    code = _cld2(clean, None) if len(letters) >= SELF_EVIDENT_LETTERS else None
    code = code or _cld2(clean, hint)
    if code:
        return DetectedLanguage(code, "detected")
    if letters:
        for code, script in _SCRIPTS:
            if len(script.findall(clean)) * 2 >= len(letters):
                return DetectedLanguage(code, "script")
    return DetectedLanguage(hint or UNDETERMINED, "fallback")
