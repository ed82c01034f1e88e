"""``marketlift demo`` never replaces a directory a running writer holds (issue 21, item 13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.demo import MARKER, prepare_data_dir
from marketlift.errors import LakeBusyError
from marketlift.lake.lock import writer_holder

_WRITER = """
import sys
from marketlift.lake import LakeWriter
with LakeWriter(sys.argv[1]):
    print("ready", flush=True)
    sys.stdin.read()
"""


def test_a_demo_refuses_a_directory_a_writer_holds_and_names_it(tmp_path: Path) -> None:
    data = tmp_path / "previous"
    data.mkdir()
    (data / MARKER).write_text("")
    (data / "events").mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(data)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        holder = writer_holder(data)
        assert holder is not None
        assert holder.startswith(f"pid {writer.pid} (")
        assert "LakeWriter" in holder  # its command line
        with pytest.raises(LakeBusyError, match=rf"pid {writer.pid} .*stop that process"):
            prepare_data_dir(data)
        result = CliRunner().invoke(app, ["demo", "--data", str(data), "--size", "small", "--json"])
        assert result.exit_code == 2
        assert f"pid {writer.pid}" in json.loads(result.stdout)["error"]
        assert (data / "events").is_dir()  # nothing was removed
    finally:
        assert writer.stdin is not None
        writer.stdin.close()
        writer.wait(timeout=30)
    assert writer_holder(data) is None  # the writer is gone: the lock with it
    assert sorted(p.name for p in prepare_data_dir(data).iterdir()) == [MARKER]
