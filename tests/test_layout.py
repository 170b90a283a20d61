"""The layers import one way: the command composes the core and the web app; the model knows no store."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """Every module each file under folder imports, at any depth of the file (lazy imports too)."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(("folder", "forbidden"), [
    ("moderation", ("api", "flask", "werkzeug", "moderation_cli")),
    ("moderation/model", ("api", "flask", "redis", "moderation.store", "moderation.registry",
                          "moderation.decisions", "moderation.intake", "moderation_cli")),
])
def test_layers_import_one_way(folder: str, forbidden: tuple[str, ...]) -> None:
    wrong = {
        path: sorted(name for name in names if any(name == f or name.startswith(f + ".") for f in forbidden))
        for path, names in imported_modules(ROOT / folder).items()
    }
    assert {path: names for path, names in wrong.items() if names} == {}
