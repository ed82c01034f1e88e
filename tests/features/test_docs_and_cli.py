"""docs/features.md's Python example runs; the ``marketlift features`` commands."""

from __future__ import annotations

import json
import queue
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from marketlift.cli.main import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "features.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
runner = CliRunner()


def test_docs_example_runs(sim_lake: tuple[Path, pa.Table], tmp_path: Path) -> None:
    source, catalog = sim_lake
    data = tmp_path / "data"
    shutil.copytree(source, data)
    events: queue.Queue[object] = queue.Queue()
    events.put(None)
    scope = {
        "data": data,
        "catalog": catalog,
        "ids": catalog["listing_id"].to_pylist(),
        "categories": catalog["category"].to_pylist(),
        "events_queue": events,
        "listing_ids": catalog["listing_id"].to_pylist()[:500],
    }
    assert len(BLOCKS) == 1
    exec(compile(BLOCKS[0], DOC.name, "exec"), scope)
    assert scope["online"].listings[0] is not None


def test_build_and_training_set_commands(sim_lake: tuple[Path, pa.Table], tmp_path: Path) -> None:
    source, _ = sim_lake
    data = tmp_path / "data"
    shutil.copytree(source, data)
    result = runner.invoke(
        app, ["features", "build", "--data", str(data), "--catalog", "sim", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["engine"] == "duckdb"
    assert doc["rows"]["buyer_features"] > 50
    assert (
        pq.read_table(doc["paths"]["listing_features"]).num_rows == doc["rows"]["listing_features"]
    )
    out = tmp_path / "uplift.parquet"
    result = runner.invoke(
        app,
        ["features", "training-set", "--data", str(data), "--task", "uplift", "--out",
         str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["rows"] == pq.read_table(out).num_rows > 0
    assert 0 < doc["label_rate"] < 1


def test_commands_fail_clearly(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["features", "training-set", "--data", str(tmp_path), "--task", "churn", "--json"]
    )
    assert result.exit_code == 2
    assert "task == 'churn'" in json.loads(result.stdout)["error"]
    result = runner.invoke(
        app, ["features", "build", "--data", str(tmp_path), "--cutoff", "yesterday", "--json"]
    )
    assert result.exit_code == 2
    assert "--cutoff" in json.loads(result.stdout)["error"]
    result = runner.invoke(app, ["features", "load-online", "--data", str(tmp_path)])
    assert result.exit_code == 2
