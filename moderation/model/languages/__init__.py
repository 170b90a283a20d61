"""The languages the model scores besides English: detection, the public sets, the heads, their training and measure.

`detection` finds a comment's language; `heads` scores abuse in it; `data`, `training` and `evaluation`
load the public sets, train the heads and write the per-language table. The detection API is
re-exported here, as intake, policy and the drop-in surfaces need nothing else.
"""

from moderation.model.languages.detection import (
    ENGLISH,
    LANGUAGE_NAMES,
    SUPPORTED_LANGUAGES,
    UNDETERMINED,
    DetectedLanguage,
    detect_language,
    is_supported,
    normalise_language,
)

__all__ = ["ENGLISH", "LANGUAGE_NAMES", "SUPPORTED_LANGUAGES", "UNDETERMINED", "DetectedLanguage", "detect_language",
           "is_supported", "normalise_language"]
