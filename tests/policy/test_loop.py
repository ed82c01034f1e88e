"""The loop on a marketplace's own data: catalog -> serve -> logged decisions -> learn -> judge.

A new action (a wishlist email) is added to the catalog by configuration alone; the decision
API serves it with a uniform explorer, logs every decision with its propensities, the buyers'
purchases come back as events with a planted effect (the truth), and the policy learned from
the lake's decision log takes the action where it pays, with an off-policy estimate that
covers the planted truth. Then train -> gate -> promote -> serve -> rollback through the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.ope import evaluate
from marketlift.policy import UniformExplorer, fit_policy, load_catalog, read_decision_log, save
from marketlift.policy.catalog import catalog_path
from marketlift.serve import ServeConfig, create_app
from marketlift.serve.config import DecideConfig
from marketlift.sim import SimConfig, simulate
from tests.features._helpers import append_events, event

WISHLIST = """
[[actions]]
id = "wishlist_email"
channel = "email"
moments = ["cart_idle_1h"]
copy = "cart_reminder"
"""
PRICE = 40.0
P_BUY = {"none": 0.1, "wishlist_email": 0.6}
"""The planted truth: chance of a purchase of PRICE within a day (other actions: 0.1)."""


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("loop") / "data"
    simulate(SimConfig(n_buyers=400, n_days=2, seed=9), data)
    return data


def _serve(data: Path, n: int) -> list[dict[str, Any]]:
    config = ServeConfig(
        data_dir=data,
        admin_key="k" * 12,
        decide=DecideConfig(reload_interval_s=0, budget_ms=5000, random_state=7),
    )
    with TestClient(create_app(config)) as client:
        return [
            client.post(
                "/v1/decide",
                json={
                    "buyer_id": f"w{i:05d}",
                    "surface": "push",
                    "platform": "web",
                    "context": {"cart": ["l0000001"], "channels": ["email"]},
                },
            ).json()
            for i in range(n)
        ]


def _outcomes(answers: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Purchases an hour after each decision with the planted probabilities."""
    rng = np.random.default_rng(seed)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    out = []
    for i, a in enumerate(answers):
        action = a["engagement"]["action"] if a["engagement"] else "none"
        if rng.random() < P_BUY.get(action, 0.1):
            money = {"amount": f"{PRICE:.2f}", "currency": "USD"}
            out.append(
                event(
                    "purchase", now, buyer=f"w{i:05d}", order_id=f"ow{i}", revenue=money,
                    line_items=[{"listing_id": "l0000001", "quantity": 1, "unit_price": money}],
                )
            )  # fmt: skip
    return out


def test_a_new_action_by_configuration_is_served_logged_learned_and_evaluated(
    lake: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(lake, data)
    path = catalog_path(data)
    path.write_text(path.read_text() + WISHLIST)  # configuration only
    catalog = load_catalog(path)
    assert "wishlist_email" in catalog.action_ids
    save(UniformExplorer().fit(catalog), data / "policies" / "engagement.pkl")

    answers = _serve(data, 240)
    served = [a["engagement"]["action"] for a in answers if a["engagement"]]
    assert "wishlist_email" in served  # served
    append_events(data, _outcomes(answers, seed=1))

    log = read_decision_log(data, catalog)
    mine = np.array([b.startswith("w") for b in log.buyers()])
    assert mine.sum() == len(answers)
    ours = log.subset(mine)
    names = ours.action_names
    assert "wishlist_email" in set(names)  # logged, with its propensity among the eligible
    eligible = ours.available[0]
    k = int(eligible.sum())
    np.testing.assert_allclose(ours.propensity, 1.0 / k)
    assert eligible[catalog.action_ids.index("wishlist_email")]

    policy = fit_policy(ours, n_models=1, threshold=1.0, min_child_samples=10)
    assert "wishlist_email" in policy.actions_  # learned
    x = ours.features[0]
    mask = np.isin(policy.actions_, [catalog.action_ids[j] for j in np.flatnonzero(eligible)])
    assert policy.decide(x, mask).action == "wishlist_email"

    report = evaluate(ours.bandit(), policy, estimators=("ips", "dr"))  # evaluated
    truth = P_BUY["wishlist_email"] * PRICE
    for e in report.estimates:
        assert e.ci_low <= truth <= e.ci_high, (e.estimator, e.value, truth)
    assert report.logged_value < truth


def _cli(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return doc


def test_train_gate_promote_serve_rollback_from_the_lake_alone(lake: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(lake, data)
    assert (data / "lake" / "sim").is_dir()
    shutil.rmtree(data / "lake" / "sim")  # no simulator table at all
    trained = _cli("policy", "train", "--data", str(data), "--n-models", "1")
    assert trained["version"] == "v0001"
    assert trained["features"][0] == "moment=browsing"
    assert any(f.startswith("policy_not_in_registry:") for f in trained["flags"])
    ope = _cli("ope", "--data", str(data), "--policy", "v0001")
    assert {e["estimator"] for e in ope["estimates"]} >= {"ips", "snips", "dr"}
    refused = CliRunner().invoke(app, ["policy", "promote", "--data", str(data), "--json"])
    assert refused.exit_code != 0
    assert "gate passed" in refused.output
    assert _cli("policy", "promote", "v0001", "--data", str(data), "--force")["promoted"] == "v0001"
    retrained = _cli(
        "policy", "retrain", "--data", str(data), "--min-lift", "-1000", "--n-models", "1"
    )
    assert retrained["gate"]["worth_testing"] is True
    assert retrained["promoted"] == "v0002"
    # serving hot-reloads the promoted version and logs it on each decision
    answers = _serve(data, 3)
    assert {a["models"]["policy"] for a in answers} == {"engagement@v0002"}
    assert _cli("policy", "rollback", "--data", str(data))["promoted"] == "v0001"
    assert {a["models"]["policy"] for a in _serve(data, 2)} == {"engagement@v0001"}
    flagged = _cli("ope", "--data", str(data), "--policy", "never")
    assert not any("engagement@v0002" in f for f in flagged["flags"])
