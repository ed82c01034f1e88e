"""``query`` is read-only by default: one SELECT over the lake's own files (issue 21, item 7)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import msgspec
import pytest
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.errors import ConfigError
from marketlift.events import Limits, validate_batch
from marketlift.events.samples import sample_events
from marketlift.events.table import events_to_arrow
from marketlift.lake import LakeLayout, LakeWriter, query

NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
COUNT = "SELECT count(*) AS n FROM events"


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    events = sample_events(200, random_state=3, start=NOW)
    limits = Limits(max_past=None, max_future=None, max_events=100_000)
    batch = validate_batch(msgspec.json.encode(events), now=NOW, limits=limits)
    with LakeWriter(tmp_path) as writer:
        writer.append(events_to_arrow(batch.events, received_at=NOW))
        writer.compact(force=True)
    return tmp_path


def _fingerprint(data: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()}


def test_writes_other_files_and_several_statements_are_refused(lake: Path) -> None:
    before = _fingerprint(lake)
    part = LakeLayout(lake).live_files("events")[0]
    manifest = next(p for p in lake.rglob("*manifest*") if p.is_file())
    refused = [
        f"COPY (SELECT * FROM events LIMIT 1) TO '{part}' (FORMAT parquet)",
        f"COPY (SELECT 1 AS x) TO '{manifest}' (FORMAT csv)",
        f"ATTACH '{lake / 'other.duckdb'}' AS other",
        "CREATE TABLE t AS SELECT 1",
        "SET enable_external_access = true",
        f"{COUNT}; COPY (SELECT 1) TO '{lake / 'x.csv'}'",
        f"{COUNT}; {COUNT}",
        "INSTALL httpfs",
    ]
    for sql in refused:
        with pytest.raises(ConfigError, match=r"^sql == .*expected exactly one read-only"):
            query(lake, sql)
    for sql in (
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/etc/*')",
        f"SELECT * FROM read_json('{manifest}')",
    ):
        with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
            query(lake, sql)
    assert _fingerprint(lake) == before  # nothing was written
    assert query(lake, COUNT).to_pylist() == [{"n": 200}]
    explained = query(lake, f"EXPLAIN {COUNT}")
    assert explained.num_rows >= 1
    with_cte = "WITH t AS (SELECT type FROM events) SELECT count(*) AS n FROM t;"
    assert query(lake, with_cte).to_pylist() == [{"n": 200}]  # one statement and its ';'
    assert query(lake, "SELECT count(*) AS n FROM events WHERE type = ?", ["x"]).num_rows == 1


def test_allow_writes_runs_the_sql_as_given(lake: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    query(lake, f"COPY (SELECT type FROM events) TO '{out}' (HEADER)", allow_writes=True)
    assert len(out.read_text().splitlines()) == 201


def test_cli_is_read_only_unless_allow_writes(lake: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli.csv"
    copy = f"COPY (SELECT 1 AS x) TO '{out}'"
    refused = runner.invoke(app, ["query", "--data", str(lake), copy, "--json"])
    assert refused.exit_code == 2
    assert "--allow-writes" in json.loads(refused.stdout)["error"]
    assert not out.exists()
    secret = runner.invoke(
        app, ["query", "--data", str(lake), "SELECT * FROM read_csv('/etc/passwd')", "--json"]
    )
    assert secret.exit_code == 2
    assert "only the lake's own files" in json.loads(secret.stdout)["error"]
    allowed = runner.invoke(app, ["query", "--data", str(lake), copy, "--allow-writes"])
    assert allowed.exit_code == 0, allowed.output
    assert out.read_text().strip().splitlines() == ["x", "1"]
