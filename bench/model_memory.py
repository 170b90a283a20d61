"""Memory of the loaded model: the shipped artifact against the same one without its language heads, in fresh processes.

Usage: .venv/bin/python bench/model_memory.py [--model models/comment-model.skops]

Each figure is a fresh process's resident set size (VmRSS) after importing the classifier, loading an
artifact and scoring one comment in each of four languages, so the heads' arrays and CLD2's tables are
paged in. The two artifacts are written by this run from the same model: as shipped, and with its
`languages` entry removed (the reference). Last line:
`model_memory: rss_mib=X reference_rss_mib=Y heads_mib=Z`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moderation.model.classifier import TRUSTED_TYPES, Classifier  # noqa: E402

_PROBE = """
import gc, sys
import skops.io
from moderation.model.classifier import TRUSTED_TYPES, Classifier
from moderation.model.languages import detect_language
model = Classifier(skops.io.load(sys.argv[1], trusted=list(TRUSTED_TYPES)))
for text in ("Danke für den Artikel", "좋은 기사 감사합니다", "谢谢分享", "Great article"):
    model.score(text, language=detect_language(text, "en").code)
gc.collect()
print(int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS")).split()[1]) / 1024)
"""


def measure(artifact: Path) -> float:
    """Return the VmRSS (MiB) of a fresh process that loaded the artifact and scored a few comments."""
    return float(subprocess.run([sys.executable, "-c", _PROBE, str(artifact)], check=True, capture_output=True,
                                text=True, cwd=ROOT).stdout)


def main() -> None:
    import skops.io

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "comment-model.skops"))
    args = parser.parse_args()
    model = skops.io.load(args.model, trusted=list(TRUSTED_TYPES))
    heads = sum(head.weights.nbytes + head.idf.nbytes for head in Classifier(model).languages.values()) / 2**20
    with tempfile.TemporaryDirectory() as folder:
        shipped, reference_path = Path(folder) / "with.skops", Path(folder) / "without.skops"
        skops.io.dump(model, shipped)
        skops.io.dump({key: value for key, value in model.items() if key != "languages"}, reference_path)
        reference = measure(reference_path)
        rss = measure(shipped)
    print(f"without the language heads (reference): {reference:.1f} MiB")
    print(f"with them: {rss:.1f} MiB (+{rss - reference:.1f} MiB; their arrays {heads:.1f} MiB)")
    print(f"model_memory: rss_mib={rss:.1f} reference_rss_mib={reference:.1f} heads_mib={heads:.1f}")


if __name__ == "__main__":
    main()
