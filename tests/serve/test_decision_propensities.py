"""Every logged decision carries the propensity of what was chosen, ``none`` included.

Issue 17, item 6: a ``none`` chosen by a stochastic policy used to be logged with propensity 1,
and the eligible set was not logged at all, so off-policy estimates on served logs were biased.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from marketlift.lake import query
from marketlift.serve import ServeConfig, create_app
from marketlift.serve.config import DecideConfig
from tests.serve.served import explore_every_action


@pytest.fixture
def data(served: Path, tmp_path: Path) -> Path:
    """A private copy whose policy explores every allowed action uniformly (epsilon 1)."""
    target = tmp_path / "data"
    shutil.copytree(served, target)
    explore_every_action(target)
    return target


def _decide(data: Path, n: int, decide: DecideConfig) -> list[dict[str, object]]:
    answers = []
    with TestClient(create_app(ServeConfig(data_dir=data, admin_key="k" * 12, decide=decide))) as c:
        for i in range(n):
            body = {
                "buyer_id": f"b{i:07d}",
                "session_id": f"s{i}",
                "surface": "push" if i % 2 else "cart",
                "platform": "web",
                "context": {"cart": ["l0000001"]},
            }
            answers.append(c.post("/v1/decide", json=body).json())
    return answers


def _logged(data: Path) -> dict[str, dict[str, object]]:
    rows = query(data, "SELECT payload FROM events WHERE type = 'decision'").to_pylist()
    events = [json.loads(r["payload"]) for r in rows]
    return {e["decision_id"]: e for e in events}


def test_none_is_logged_with_its_probability_and_every_eligible_action(data: Path) -> None:
    answers = _decide(data, 40, DecideConfig(reload_interval_s=0, budget_ms=5000))
    logged = _logged(data)
    nones = 0
    for answer in answers:
        event = logged[str(answer["decision_id"])]
        eligible, probs = event["eligible"], event["probabilities"]
        assert isinstance(eligible, list)
        assert isinstance(probs, list)
        assert eligible[0] == "none"
        assert len(eligible) == len(probs) > 1  # the explorer had several actions
        assert sum(probs) == pytest.approx(1.0)
        # epsilon 1: uniform over the eligible set, so the chosen action's propensity is 1/k
        assert probs == pytest.approx([1 / len(eligible)] * len(eligible))
        assert event["action"] in eligible
        assert event["propensity"] == pytest.approx(probs[eligible.index(event["action"])])
        assert event["moment"] in ("browsing", "returning_visit", "cart_idle_1h", "cart_idle_1d")
        engagement = answer["engagement"]
        if engagement is None:
            assert event["action"] == "none"
            nones += 1
            assert event["propensity"] < 1.0  # the bug: logged as 1.0
        else:
            assert isinstance(engagement, dict)
            assert event["action"] == engagement["action"]
    assert nones > 0


def test_the_control_arm_logs_its_baseline_with_propensity_one(data: Path) -> None:
    (data / "experiments.toml").write_text(
        '[[experiment]]\nkey = "decide"\nunit = "buyer_id"\n'
        'variants = [{name = "control", weight = 1, values = {policy = "none", '
        'ranker = "popularity"}}, {name = "treatment", weight = 1}]\n'
    )
    decide = DecideConfig(reload_interval_s=0, budget_ms=5000)
    answers = _decide(data, 30, decide)
    logged = _logged(data)
    arms = set()
    for answer in answers:
        assignments = answer["assignments"]
        assert isinstance(assignments, list)
        [assignment] = assignments
        event = logged[str(answer["decision_id"])]
        arms.add(assignment["variant"])
        if assignment["variant"] == "control":
            assert event["action"] == "none"
            assert event["propensity"] == 1.0
            assert event["eligible"] == ["none"]
            assert event["probabilities"] == [1.0]
            assert event["policy"] == "never"
        else:
            assert len(event["eligible"]) > 1
    assert arms == {"control", "treatment"}
