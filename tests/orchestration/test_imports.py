"""The simulator is a client: ``orchestration`` and ``monitor`` never import it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "marketlift"


@pytest.mark.parametrize("package", ["orchestration", "monitor"])
def test_no_import_of_the_simulator(package: str) -> None:
    found = []
    for path in sorted((SRC / package).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.name}: {n}" for n in names if n.startswith("marketlift.sim")]
    assert found == []
    assert len(list((SRC / package).glob("*.py"))) > 3
