"""POST /v1/assign: deterministic variants, exposures once per unit and day, clear errors."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from marketlift.experiments import assign_variant, load_experiments
from marketlift.lake import query
from marketlift.serve import ServeConfig, create_app

EXPERIMENTS = """
[[experiment]]
key = "ranking_v2"
unit = "buyer_id"
salt = "ranking_v2"
variants = [{name = "control", weight = 1}, {name = "treatment", weight = 1}]

[[experiment]]
key = "ios_banner"
unit = "anonymous_id"
variants = [{name = "control", weight = 1}, {name = "banner", weight = 1}]
targeting = {platform = ["ios"]}
"""
DECIDE_KEY = "decide-key-123"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    (tmp_path / "experiments.toml").write_text(EXPERIMENTS)
    config = ServeConfig(data_dir=tmp_path, decide_key=DECIDE_KEY)
    with TestClient(create_app(config)) as client:
        client.headers["Authorization"] = f"Bearer {DECIDE_KEY}"
        yield client, tmp_path


def test_variants_match_the_library_and_are_stable(setup: tuple[TestClient, Path]) -> None:
    client, data = setup
    experiments = load_experiments(data / "experiments.toml")
    for i in range(50):
        body = {"buyer_id": f"b-{i}", "anonymous_id": f"a-{i}", "platform": "web"}
        first = client.post("/v1/assign", json=body).json()
        again = client.post("/v1/assign", json=body).json()
        assert first["assignments"] == again["assignments"]
        (only,) = first["assignments"]  # ios_banner targets iOS only
        assert only["experiment_key"] == "ranking_v2"
        assert only["variant"] == assign_variant(experiments["ranking_v2"], f"b-{i}")


def test_exposures_are_logged_once_per_unit_and_day(setup: tuple[TestClient, Path]) -> None:
    client, data = setup
    body = {"buyer_id": "b-1", "anonymous_id": "a-1", "platform": "ios", "session_id": "s-1"}
    first = client.post("/v1/assign", json=body).json()
    second = client.post("/v1/assign", json=body).json()
    assert first["exposures_logged"] == 2
    assert second["exposures_logged"] == 0
    sql = (
        "SELECT experiment_key, variant, buyer_id, anonymous_id FROM events "
        "WHERE type = 'exposure' ORDER BY experiment_key"
    )
    deadline = time.monotonic() + 10  # exposures are written off the request path
    while len(rows := query(data, sql).to_pylist()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [r["experiment_key"] for r in rows] == ["ios_banner", "ranking_v2"]
    by_key = {a["experiment_key"]: a["variant"] for a in first["assignments"]}
    assert {r["experiment_key"]: r["variant"] for r in rows} == by_key


def test_bad_requests_name_the_field(setup: tuple[TestClient, Path]) -> None:
    client, _ = setup
    response = client.post("/v1/assign", json={"buyer_id": "b", "platform": "fax"})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["field"], error["value"]) == ("platform", "fax")
    response = client.post("/v1/assign", json={"platform": "web"})
    assert response.status_code == 422
    assert "buyer_id or anonymous_id" in response.json()["errors"][0]["expected"]
    assert client.post("/v1/assign", content=b"x" * 20_000).status_code == 413


def test_the_decide_key_is_required_and_separate(setup: tuple[TestClient, Path]) -> None:
    client, _ = setup
    body = json.dumps({"buyer_id": "b", "platform": "web"})
    assert client.post("/v1/assign", content=body, headers={"Authorization": ""}).status_code == 401
    wrong = {"Authorization": "Bearer not-the-key"}
    assert client.post("/v1/assign", content=body, headers=wrong).status_code == 401


def test_without_experiments_nobody_is_assigned(tmp_path: Path) -> None:
    with TestClient(create_app(ServeConfig(data_dir=tmp_path))) as client:
        answer = client.post("/v1/assign", json={"buyer_id": "b", "platform": "web"}).json()
    assert answer == {"assignments": [], "exposures_logged": 0}
