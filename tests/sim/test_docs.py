"""The Python examples of docs/simulator.md run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_docs_example_runs(index: int, tmp_path: Path) -> None:
    exec(compile(BLOCKS[index], f"{DOC.name}[{index}]", "exec"), {"data": tmp_path / "data"})
