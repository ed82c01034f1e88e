"""Each planted fault raises its alert; a clean day raises none; the CLI exits non-zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.errors import ConfigError
from marketlift.monitor import MonitorConfig, MonitorReport, latest_complete_day, monitor
from tests.monitor.conftest import MONITORED


def _alerts(data: Path) -> set[tuple[str, str]]:
    return {(c.kind, c.subject) for c in monitor(data, MONITORED).alerts}


def test_clean_day_raises_nothing_and_measures_everything(clean_lake: Path) -> None:
    assert latest_complete_day(clean_lake) == MONITORED
    report = monitor(clean_lake)
    assert report.interval == MONITORED
    assert report.alerts == []
    kinds = {c.kind for c in report.checks if c.value is not None}
    assert {"drift", "missing", "calibration", "freshness", "volume", "dead_letters"} <= kinds
    cal = next(c for c in report.checks if c.kind == "calibration")
    assert cal.detail["rows"] >= 100
    assert len(cal.detail["reliability"]["rows"]) == 10
    model = next(c for c in report.checks if c.subject == "model:intent")
    assert model.value is not None
    assert model.value < 1.5


def test_stale_model_is_caught(stale_lake: Path) -> None:
    assert ("freshness", "model:intent") in _alerts(stale_lake)


def test_double_fired_page_views_drift_a_feature(faulty_report: MonitorReport) -> None:
    alerts = {(c.kind, c.subject) for c in faulty_report.alerts}
    assert ("drift", "s_events") in alerts
    assert ("drift", "s_dwell_s") not in alerts


def test_broken_platform_is_caught_by_volume_and_dead_letters(
    faulty_report: MonitorReport,
) -> None:
    report = faulty_report
    alerts = {(c.kind, c.subject) for c in report.alerts}
    assert ("volume", "listing_view/ios") in alerts
    assert ("volume", "listing_view/web") not in alerts
    dead = next(c for c in report.checks if c.kind == "dead_letters")
    assert dead.alert
    assert dead.detail["top_reasons"][0]["reason"].startswith("ts")


def test_cli_json_and_exit_code(clean_lake: Path, faulty_lake: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["monitor", "--data", str(faulty_lake), "--json",
                              "--interval", MONITORED.isoformat()])  # fmt: skip
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["alerts"] > 0
    assert (faulty_lake / "monitor" / "latest.json").exists()
    wrong = runner.invoke(app, ["monitor", "--data", str(clean_lake), "--interval", "11/08"])
    assert wrong.exit_code == 2
    assert "--interval" in wrong.output


def test_bad_input_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="psi_alert"):
        MonitorConfig(psi_alert=0)
    with pytest.raises(ConfigError, match="volume_low"):
        MonitorConfig(volume_low=3.0)
    with pytest.raises(ConfigError, match="--data"):
        monitor(tmp_path / "missing")
    with pytest.raises(ConfigError, match="lake has events"):
        latest_complete_day(tmp_path)


def test_serve_metrics_show_the_latest_report(
    faulty_lake: Path, faulty_report: MonitorReport
) -> None:
    from starlette.testclient import TestClient

    from marketlift.monitor import write_report
    from marketlift.serve import ServeConfig, create_app

    write_report(faulty_lake, faulty_report)
    with TestClient(create_app(ServeConfig(data_dir=faulty_lake))) as client:
        text = client.get("/metrics").text
    assert 'marketlift_monitor_alert{kind="drift",subject="s_events"} 1.0' in text
    assert 'marketlift_monitor_alert{kind="volume",subject="listing_view/web"} 0.0' in text
    assert "marketlift_monitor_alerts " in text


def test_dashboard_shows_the_alerts(faulty_lake: Path, faulty_report: MonitorReport) -> None:
    from marketlift.monitor import write_report
    from marketlift.serve.site.dashboard import render_dashboard

    write_report(faulty_lake, faulty_report)
    page = render_dashboard([], [], data_dir=faulty_lake, static="", computed_at="now")
    assert '<section id="monitoring">' in page
    assert f'<b class="alert-count">{len(faulty_report.alerts)}</b>' in page
    assert "<td>s_events</td>" in page
