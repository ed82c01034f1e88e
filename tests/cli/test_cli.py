"""The ``marketlift`` command: help, version, JSON output, clear errors."""

import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from marketlift import __version__
from marketlift.cli.main import app
from marketlift.events import Event
from marketlift.events.samples import sample_events
from marketlift.ingest import Collector, LakeSink
from marketlift.lake import LakeWriter
from tests.conftest import free_port

runner = CliRunner()


def _commands() -> list[list[str]]:
    names: list[list[str]] = [
        [info.name or info.callback.__name__]  # type: ignore[union-attr]
        for info in app.registered_commands
    ]
    for group in app.registered_groups:
        assert group.typer_instance is not None
        names.append([group.name or ""])
        names.extend(
            [group.name or "", c.name or c.callback.__name__]  # type: ignore[union-attr]
            for c in group.typer_instance.registered_commands
        )
    return names


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"marketlift {__version__}"


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_events_schema_prints_json_schema(tmp_path: Path) -> None:
    result = runner.invoke(app, ["events", "schema"])
    document = json.loads(result.stdout)
    assert "Purchase" in document["$defs"]
    out = tmp_path / "schema.json"
    assert runner.invoke(app, ["events", "schema", "--out", str(out)]).exit_code == 0
    assert json.loads(out.read_text()) == document


def test_load_then_query_json(tmp_path: Path) -> None:
    events = sample_events(120, random_state=51)
    events[7] = dict(events[7], currency="euro")
    file = tmp_path / "events.ndjson"
    file.write_bytes(b"\n".join(msgspec.json.encode(e) for e in events))
    data = tmp_path / "data"
    result = runner.invoke(app, ["events", "load", str(file), "--data", str(data), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "accepted": 119,
        "duplicates": 0,
        "rejected": 1,
        "batches": 1,
    }
    sql = "SELECT type, count(*) AS n FROM events GROUP BY 1 ORDER BY 1"
    result = runner.invoke(app, ["query", "--data", str(data), sql, "--json"])
    rows = json.loads(result.stdout)
    assert sum(r["n"] for r in rows) == 119
    dead = runner.invoke(
        app, ["query", "--data", str(data), "SELECT reason FROM dead_letters", "--json"]
    )
    assert "currency == 'euro'" in json.loads(dead.stdout)[0]["reason"]


def test_data_dir_from_the_environment(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["query", "SELECT count(*) AS n FROM events", "--json"],
        env={"MARKETLIFT_DATA": str(tmp_path)},
    )
    assert json.loads(result.stdout) == [{"n": 0}]


def test_bad_sql_is_a_clear_error_with_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["query", "--data", str(tmp_path), "SELEC nonsense", "--json"])
    assert result.exit_code == 2
    assert "the query failed" in json.loads(result.stdout)["error"]


def test_bad_option_names_the_value() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "marketlift", "serve", "--port", "70000"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "70000" in result.stderr


def test_compact_reports_json(tmp_path: Path) -> None:
    events = sample_events(50, random_state=52)
    collector = Collector(
        LakeSink(tmp_path / "d", writer=LakeWriter(tmp_path / "d", compact_on_close=False))
    )
    collector.ingest_events(msgspec.json.decode(msgspec.json.encode(events), type=list[Event]))
    collector.sink.writer.close()  # type: ignore[attr-defined]
    assert list((tmp_path / "d/lake/events/incoming").glob("*.parquet"))
    result = runner.invoke(app, ["compact", "--data", str(tmp_path / "d"), "--json"])
    report = json.loads(result.stdout)
    assert report["files_in"] >= 1
    assert report["rows"] == 50


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--catalog", "/no/such/listings.parquet"], "--catalog == '/no/such/listings.parquet'"),
        (["--store", "mongo"], "decide.store == 'mongo'"),
        (["--budget-ms", "0"], "decide.budget_ms == 0.0"),
        (["--cors-origin", "shop.example"], "cors_origins == 'shop.example'"),
        (["--header-timeout", "0"], "http.header_timeout_s == 0.0"),
        (["--limit-concurrency", "0"], "http.limit_concurrency == 0"),
    ],
)
def test_serve_refuses_bad_decide_options(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["serve", "--data", str(tmp_path), *args])
    assert result.exit_code != 0
    assert message in result.output


def test_query_json_has_a_default_limit_and_says_when_rows_are_left_out(tmp_path: Path) -> None:
    file = tmp_path / "events.ndjson"
    file.write_bytes(b"\n".join(msgspec.json.encode(e) for e in sample_events(80, random_state=3)))
    data = tmp_path / "data"
    assert runner.invoke(app, ["events", "load", str(file), "--data", str(data)]).exit_code == 0
    base = ["query", "--data", str(data), "SELECT event_id, ts FROM events ORDER BY ts DESC"]
    default = runner.invoke(app, [*base, "--json"])
    assert default.exit_code == 0, default.output
    assert len(json.loads(default.stdout)) == 50
    assert "first 50 rows shown; there are more" in default.stderr
    every = json.loads(runner.invoke(app, [*base, "--json", "--limit", "0"]).stdout)
    assert len(every) == 80
    five = runner.invoke(app, [*base, "--json", "--limit", "5"])
    assert json.loads(five.stdout) == every[:5]  # the latest five, by the ORDER BY
    exact = runner.invoke(app, [*base, "--json", "--limit", "80"])
    assert len(json.loads(exact.stdout)) == 80
    assert "there are more" not in exact.stderr
    bad = runner.invoke(app, [*base, "--json", "--limit", "-1"])
    assert bad.exit_code == 2
    assert "--limit == -1" in json.loads(bad.stdout)["error"]


def test_ready_times_out_clearly_and_checks_its_options() -> None:
    # Waiting for a real server is covered by tests/test_readme.py (the README's own lines).
    url = f"http://127.0.0.1:{free_port()}"
    late = runner.invoke(app, ["ready", "--url", url, "--timeout", "0.3", "--json"])
    assert late.exit_code == 1
    error = json.loads(late.stdout)["error"]
    assert "not ready after 0.3 s" in error
    assert "Connection refused" in error
    for args, message in (
        (["--url", "localhost:8000"], "expected an http:// or https:// URL"),
        (["--timeout", "0"], "--timeout == 0.0, expected seconds in (0, 3600]"),
        (["--path", "healthz"], "expected a route starting with '/'"),
    ):
        bad = runner.invoke(app, ["ready", *args, "--json"])
        assert bad.exit_code == 2
        assert message in json.loads(bad.stdout)["error"]
