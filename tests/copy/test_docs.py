"""The Python blocks of docs/copy.md run, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "copy.md"


def test_docs_examples_run(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 4
    namespace: dict[str, object] = {"data": tmp_path}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
