"""The public training sets are never committed: the commands name what is missing and where each set is published,
and the tests cannot read the sets without being marked `data` (tests/public_data.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from moderation.model.datasets import PUBLIC_SETS, SMS_FILE, SOURCE_FILES, SOURCES, PublicSet, missing_sets
from moderation_cli import main
from tests.public_data import DATA_DIR, UnmarkedDataAccess

ROOT = Path(__file__).resolve().parents[1]


def copy_of(root: Path, sources: list[str]) -> Path:
    """A data folder holding (empty) files of these sources only: what the commands check is where files are."""
    for source in sources:
        for name in SOURCE_FILES[source]:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).touch()
    return root


def test_every_source_read_from_the_data_folder_says_where_it_is_published() -> None:
    assert set(PUBLIC_SETS) == {source for source in SOURCES if SOURCE_FILES[source]}
    for entry in PUBLIC_SETS.values():
        assert entry.url.startswith("https://") and entry.licence and entry.citation and entry.placing
        assert all(name.startswith(f"{entry.folder}/") for name in entry.files)


def test_a_set_with_one_file_absent_is_missing(tmp_path: Path) -> None:
    data = copy_of(tmp_path, list(SOURCES))
    assert missing_sets(data) == []
    (data / SOURCE_FILES["civil"][1]).unlink()
    assert missing_sets(data) == [PUBLIC_SETS["civil"]]
    assert missing_sets(tmp_path / "absent") == list(PUBLIC_SETS.values())


def says_where(message: str, data: Path, entry: PublicSet) -> bool:
    names = [name.split("/", 1)[1] for name in entry.files]
    return (f"\n{entry.source}: {entry.title}; licence {entry.licence}\n" in message
            and f"published at {entry.url}\n" in message and f"cite: {entry.citation}\n" in message
            and f"place: {data / entry.folder}/" in message and all(name in message for name in names))


def test_train_without_the_data_names_every_set_and_exits_without_a_traceback(tmp_path: Path) -> None:
    data = tmp_path / "elsewhere"
    env = {name: value for name, value in os.environ.items() if name != "MODERATION_TRAINING_DATA"}
    done = subprocess.run([sys.executable, "-m", "moderation_cli", "train", "--data", str(data)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and not done.stdout
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"moderation train: 7 public data sets missing from {data}/ (youtube, sms, ")
    assert "point --data (or MODERATION_TRAINING_DATA) at that folder, wherever it is" in done.stderr
    assert all(says_where(done.stderr, data, entry) for entry in PUBLIC_SETS.values()), done.stderr
    assert not (tmp_path / "models").exists()


def test_evaluate_names_only_the_sets_missing_from_the_folder_the_variable_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = copy_of(tmp_path / "copy", [source for source in SOURCES if source not in ("stormfront", "civil")])
    monkeypatch.setenv("MODERATION_TRAINING_DATA", str(data))
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "--no-reference"])
    message = str(stopped.value.code)
    assert message.startswith(f"moderation evaluate: 2 public data sets missing from {data}/ (stormfront, civil).")
    assert says_where(message, data, PUBLIC_SETS["stormfront"]) and says_where(message, data, PUBLIC_SETS["civil"])
    assert "youtube" not in message
    assert message.endswith("Or evaluate on the written sets alone: moderation evaluate --data ''")


def test_the_readme_says_the_same_as_the_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Retraining the base model\n", 1)[1].split("\n## ", 1)[0]
    assert "MODERATION_TRAINING_DATA" in section and "--data" in section
    for entry in PUBLIC_SETS.values():
        assert entry.url in section and entry.licence in section, entry.source
        assert all(f"`{name}`" in section for name in entry.files), entry.source


def test_a_test_not_marked_data_cannot_open_the_public_data() -> None:
    with pytest.raises(UnmarkedDataAccess, match=r"test_training_data\.py::\S+ reads the public training data"):
        (DATA_DIR / SMS_FILE).open(encoding="utf-8")


def test_nor_hand_its_path_to_a_process() -> None:
    with pytest.raises(UnmarkedDataAccess, match=r"is not marked @pytest\.mark\.data"):
        subprocess.run([sys.executable, "-c", "pass", "--data", str(DATA_DIR)], check=False)


@pytest.mark.data
def test_a_test_marked_data_reads_it() -> None:
    with (DATA_DIR / SMS_FILE).open(encoding="utf-8") as handle:
        assert handle.readline().split("\t", 1)[0] in ("ham", "spam")
