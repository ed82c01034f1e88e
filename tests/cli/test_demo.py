"""``marketlift demo --size small --json``: every step leaves its output, and the numbers hold.

One run (module fixture, about half a minute) through the real CLI; the tests read its summary
and the data directory it wrote.
"""

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.demo import MARKER, prepare_data_dir
from marketlift.demo.market import history_config
from marketlift.demo.replay import device_id
from marketlift.demo.sizes import SIZES
from marketlift.experiments import load_experiments
from marketlift.experiments.assignment import assign_variant
from marketlift.lake import query
from marketlift.models import Registry
from marketlift.policy import load
from marketlift.sim import make_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    data = tmp_path_factory.mktemp("demo") / "data"
    result = CliRunner().invoke(app, ["demo", "--data", str(data), "--size", "small", "--json"])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return data, summary


def test_every_step_leaves_its_output(demo: tuple[Path, dict[str, Any]]) -> None:
    data, summary = demo
    assert summary["collector"]["accepted"] > 0
    assert summary["collector"]["duplicates"] > 0
    assert summary["collector"]["rejected"] == 1
    assert summary["history"]["events"] > 0
    for table in ("buyer_features", "listing_features", "sessions", "session_features"):
        path = data / "features" / f"{table}.parquet"
        assert Path(summary["features"]["paths"][table]) == path
        assert pq.read_metadata(path).num_rows > 0
    registry = Registry(data)
    for name in ("intent", "ranker"):
        version = summary["models"][name]["version"]
        assert registry.versions(name) == [version]
        assert registry.promoted(name) == version
        assert (registry.get(name).path / "model.txt").exists()
    policy_file = data / "policies" / "engagement.pkl"
    assert Path(summary["policy"]["path"]) == policy_file
    assert hasattr(load(policy_file), "probabilities")
    experiments = load_experiments(data / "experiments.toml")
    exp = experiments["demo_engagement"]
    assert exp.variant_names == ("control", "treatment")
    assert exp.control == "control"
    assert tomllib.loads((data / "experiments.toml").read_text())["experiment"]
    report = Path(summary["report"])
    assert report == data / "reports" / "demo_engagement.html"
    html = report.read_text()
    assert "demo-summary" in html
    assert "decision engine" in html


def test_measured_lift_covers_the_true_lift(demo: tuple[Path, dict[str, Any]]) -> None:
    _, summary = demo
    exp = summary["experiment"]
    assert not exp["srm_mismatch"]
    assert set(exp["units"]) == {"control", "treatment"}
    assert exp["nudges"]["control"] == 0
    assert exp["nudges"]["treatment"] > 0
    low, high = exp["revenue_per_buyer"]["interval"]
    assert low <= exp["true_revenue_lift_per_buyer"] <= high
    assert exp["truth_in_interval"] is True
    low, high = exp["conversion"]["interval"]
    assert low <= exp["conversion"]["lift"] <= high
    assert "decision engine" in exp["note"]


def test_every_ab_decision_went_through_the_decision_engine(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    data, summary = demo
    engine = summary["experiment"]["engine"]
    # The A/B run's decisions, then the truth runs' (each buyer under the other variant); the
    # truth runs reuse the A/B run's decisions for the variant each buyer had.
    assert engine["decisions"] > 0
    assert engine["reused"] > 0
    assert engine["degraded"] == 0
    assert engine["reasons"] == {}
    # What the engine decided is what the lake holds: nudges only in treatment, and the
    # exposures' variants are the served assignment (hash of the device id), not a coin.
    buyers = make_world(history_config(SIZES["small"], 0)).buyers  # the A/B test's buyers too
    experiment = load_experiments(data / "experiments.toml")["demo_engagement"]
    rows = query(
        data,
        "SELECT anonymous_id, any_value(variant) AS variant, count(DISTINCT variant) AS n "
        "FROM events WHERE type = 'exposure' GROUP BY ALL",
    ).to_pylist()

    # A buyer's arm is the assignment of the device of their usual platform (the unit the
    # engine was asked about); an exposure logged from another device carries the same arm.
    def usual_device(anonymous_id: str) -> bool:
        if re.fullmatch(r"d\d{7}[wia]", anonymous_id) is None:
            return False  # the collector step's sample events
        buyer = int(anonymous_id[1:8])
        return anonymous_id == device_id(buyer, int(buyers.platform[buyer]))

    usual = [r for r in rows if usual_device(r["anonymous_id"])]
    assert len(usual) > 0.7 * len(rows) > 700
    for row in usual:
        assert row["n"] == 1
        assert assign_variant(experiment, row["anonymous_id"]) == row["variant"]


def test_ope_interval_covers_the_truth_or_reports_the_error(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    _, summary = demo
    ope = summary["ope"]
    low, high = ope["interval"]
    truth = ope["true_value_on_log"]
    assert ope["covers_truth"] == (low <= truth <= high)
    assert ope["covers_truth"] or ope["error"] == pytest.approx(ope["estimate"] - truth)
    assert set(ope["simulated"]["revenue_per_buyer"]) == {"candidate", "logging", "never", "oracle"}


def test_ranker_beats_popularity(demo: tuple[Path, dict[str, Any]]) -> None:
    _, summary = demo
    ndcg = summary["models"]["ranker"]["ndcg_at_10"]
    assert ndcg["ranker"] > ndcg["popularity"]
    intent = summary["models"]["intent"]
    assert 0.0 <= intent["roc_auc"] <= 1.0  # a few dozen held-out buyers at --size small
    assert intent["holdout"] > 0


def test_a_demo_replaces_a_previous_demo_but_not_other_data(
    demo: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    data, _ = demo
    assert (data / MARKER).exists()
    previous = tmp_path / "previous"
    (previous / "events").mkdir(parents=True)
    (previous / MARKER).write_text("")
    assert list(prepare_data_dir(previous).iterdir()) == [previous / MARKER]
    other = tmp_path / "mine"
    other.mkdir()
    (other / "keep.txt").write_text("not the demo's")
    result = CliRunner().invoke(app, ["demo", "--data", str(other), "--size", "small", "--json"])
    assert result.exit_code == 2
    assert "previous demo" in json.loads(result.stdout)["error"]
    assert (other / "keep.txt").exists()


def test_unknown_size_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--data", str(tmp_path), "--size", "huge", "--json"])
    assert result.exit_code == 2
    assert "small" in json.loads(result.stdout)["error"]


def test_summary_explains_why_the_gate_and_the_ab_test_differ(demo) -> None:
    from marketlift.demo.summary import summary_rows

    _, summary = demo
    rows = dict(summary_rows(summary))
    text = rows["4. OPE vs the A/B test"]
    assert "compares the engagement policy with the logging policy" in text
    assert "popularity and no engagement" in text
    if not summary["ope"]["worth_testing"]:
        assert "interval includes 0" in text
