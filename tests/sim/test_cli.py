"""``marketlift simulate``: one JSON document with --json, errors as JSON too."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.lake import query


def test_simulate_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--data", str(tmp_path), "--buyers", "300",
                                      "--days", "2", "--seed", "3", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for key in ("events", "sessions", "buyers", "listings", "seconds", "funnel", "values"):
        assert key in doc
    assert doc["buyers"] == 300
    stored = query(tmp_path, "SELECT count(*) AS n FROM events").column("n")[0].as_py()
    assert doc["events"] == stored > 0
    assert set(doc["funnel"]) >= {"session_conversion", "add_to_cart_rate", "cart_abandonment"}


def test_simulate_ab_and_collector(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--data", str(tmp_path), "--buyers", "200",
                                      "--days", "1", "--ab", "never,oracle", "--via-collector",
                                      "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc["values"]) == {"never", "oracle"}
    assert doc["experiment"]["control"] == "never"
    assert doc["written"] == doc["events"]


def test_simulate_rejects_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--data", str(tmp_path), "--policy", "best",
                                      "--json"])  # fmt: skip
    assert result.exit_code == 2
    assert "policy == 'best'" in json.loads(result.stdout)["error"]
    result = CliRunner().invoke(app, ["simulate", "--data", str(tmp_path), "--buyers", "0",
                                      "--json"])  # fmt: skip
    assert result.exit_code == 2
    assert "n_buyers == 0" in json.loads(result.stdout)["error"]
