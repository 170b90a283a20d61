"""The one way a test needs the public training data: `@pytest.mark.data`.

The data is never committed (../shared/data beside the project, or MODERATION_TRAINING_DATA), so a clone of the
project alone has none of it. A test marked `data` skips there, naming the missing sets; a test not marked cannot
open a file of that folder, nor start a process given its path: it fails at once, on every machine that has the
data too, instead of only in the clones of people who have not.

PYTEST_DONT_REWRITE: conftest imports DATA_DIR from here before pytest loads this as its plugin (which asserts
nothing).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from moderation.model.datasets import missing_sets
from moderation.model.languages.data import missing_language_sets

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("MODERATION_TRAINING_DATA") or ROOT.parent / "shared" / "data")
MISSING = [entry.source for entry in (*missing_sets(DATA_DIR), *missing_language_sets(DATA_DIR))]
SKIP_REASON = (
    f"needs the public training data, missing from {DATA_DIR} ({', '.join(MISSING)}): "
    "`moderation train` says where each set is published; README, 'Retraining the base model'"
)
# Both spellings of the folder, so a symlinked copy is recognised whichever way a test names it.
_PREFIXES = tuple({os.path.abspath(DATA_DIR) + os.sep, os.path.realpath(DATA_DIR) + os.sep})


class UnmarkedDataAccess(RuntimeError):
    """A test not marked `data` reached for the public training data."""


class _Guard:
    test: str | None = None  # the unmarked test running now, if any


def _under_data(value: Any) -> bool:
    if not isinstance(value, str | bytes | os.PathLike):
        return False
    path = os.path.abspath(os.fsdecode(value))
    return (path + os.sep).startswith(_PREFIXES)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _Guard.test is None:
        return
    if event == "open":
        reached = args[0] if _under_data(args[0]) else None
    elif event == "subprocess.Popen":
        argv = [args[1]] if isinstance(args[1], str | bytes | os.PathLike) else list(args[1] or ())
        reached = next((arg for arg in argv if _under_data(arg)), None)
    else:
        return
    if reached is not None:
        raise UnmarkedDataAccess(f"{_Guard.test} reads the public training data ({os.fsdecode(reached)}) but is not "
                                 "marked @pytest.mark.data: a clone without the data would fail it, not skip it")


# An audit hook cannot be removed, so it is added once and switched per test by _Guard.
sys.addaudithook(_audit)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not MISSING:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("data") is not None:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    _Guard.test = None if item.get_closest_marker("data") is not None else item.nodeid
    try:
        return (yield)
    finally:
        _Guard.test = None
