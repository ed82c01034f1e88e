"""The collector over HTTP: statuses, reports, limits, auth, gzip, CORS, metrics, OpenAPI."""

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from marketlift.events import Limits
from marketlift.events.samples import sample_events
from marketlift.lake import query
from marketlift.serve import ServeConfig, create_app

KEY = "test-write-key-123"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    config = ServeConfig(data_dir=tmp_path, limits=Limits(max_body_bytes=400_000, max_events=600))
    with TestClient(create_app(config)) as test_client:
        yield test_client


def _post(client: TestClient, body: bytes, **headers: str) -> Any:
    return client.post("/v1/events", content=body, headers=headers)


def test_batch_is_accepted_then_reported_as_duplicates(client: TestClient, tmp_path: Path) -> None:
    body = msgspec.json.encode(sample_events(300, random_state=31))
    first = _post(client, body, **{"Content-Type": "application/json"})
    assert first.status_code == 200
    assert first.json() == {"accepted": 300, "duplicates": 0, "rejected": []}
    again = _post(client, body)
    assert again.json() == {"accepted": 0, "duplicates": 300, "rejected": []}
    # Durable before the answer: the lake already holds every event.
    assert query(tmp_path, "SELECT count(*) AS n FROM events").to_pylist() == [{"n": 300}]


def test_mixed_batch_keeps_valid_events_and_explains_the_rest(
    client: TestClient, tmp_path: Path
) -> None:
    events = sample_events(5, random_state=32)
    events[2] = dict(events[2], platform="smart-fridge")
    events[4] = {k: v for k, v in events[4].items() if k != "ts"}
    response = _post(client, msgspec.json.encode(events))
    assert response.status_code == 200
    report = response.json()
    assert report["accepted"] == 3
    assert [r["index"] for r in report["rejected"]] == [2, 4]
    first = report["rejected"][0]
    assert first["event_id"] == events[2]["event_id"]
    assert first["errors"] == [
        {"field": "platform", "value": "smart-fridge", "expected": "one of 'web', 'ios', 'android'"}
    ]
    assert report["rejected"][1]["errors"][0]["field"] == "ts"
    dead = query(tmp_path, "SELECT event_id, reason FROM dead_letters ORDER BY batch_index")
    assert dead.column("event_id").to_pylist() == [events[2]["event_id"], events[4]["event_id"]]


def test_no_valid_event_answers_422_with_the_report(client: TestClient) -> None:
    response = _post(client, b'[{"type": "page_view"}]')
    assert response.status_code == 422
    body = response.json()
    assert body["accepted"] == 0
    assert body["rejected"][0]["errors"][0]["field"] == "event_id"


def test_ndjson_and_gzip(client: TestClient) -> None:
    events = sample_events(50, random_state=33)
    ndjson = b"\n".join(msgspec.json.encode(e) for e in events)
    response = _post(
        client, gzip.compress(ndjson), **{"Content-Encoding": "gzip", "Content-Type": "text/plain"}
    )
    assert response.json()["accepted"] == 50


def test_limits_answer_413_with_the_reason(client: TestClient, tmp_path: Path) -> None:
    too_many = msgspec.json.encode(sample_events(601, random_state=34))
    response = _post(client, too_many)
    assert response.status_code == 413
    assert "at most 600" in response.json()["error"]
    huge = b"[" + b" " * 500_000 + b"]"
    response = _post(client, huge)
    assert response.status_code == 413
    assert "max_body_bytes" in response.json()["error"]
    bomb = gzip.compress(b"[" + b" " * 30_000_000 + b"]")
    response = _post(client, bomb, **{"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert "max_decompressed_bytes" in response.json()["error"]
    reasons = query(tmp_path, "SELECT reason FROM dead_letters").column("reason").to_pylist()
    assert len(reasons) == 3


def test_unsupported_encoding_and_broken_gzip(client: TestClient) -> None:
    assert _post(client, b"[]", **{"Content-Encoding": "br"}).status_code == 415
    assert _post(client, b"not gzip", **{"Content-Encoding": "gzip"}).status_code == 400


def test_write_key(tmp_path: Path) -> None:
    config = ServeConfig(data_dir=tmp_path, write_key=KEY)
    body = msgspec.json.encode(sample_events(3, random_state=35))
    with TestClient(create_app(config)) as client:
        assert _post(client, body).status_code == 401
        assert _post(client, body, Authorization="Bearer wrong-key-000").status_code == 401
        assert _post(client, body, Authorization=f"Bearer {KEY}").status_code == 200
        beacon = client.post(f"/v1/events?write_key={KEY}", content=body)
        assert beacon.json()["duplicates"] == 3


def test_cors_preflight_allows_browsers(client: TestClient) -> None:
    response = client.options(
        "/v1/events",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://shop.example")


def test_metrics_count_outcomes(client: TestClient) -> None:
    events = sample_events(10, random_state=36)
    _post(client, msgspec.json.encode(events))
    _post(client, msgspec.json.encode(events))
    text = client.get("/metrics").text
    assert 'marketlift_collector_events_total{outcome="accepted"} 10.0' in text
    assert 'marketlift_collector_events_total{outcome="duplicate"} 10.0' in text
    assert "marketlift_lake_events 10.0" in text
    assert "marketlift_collector_ack_seconds_bucket" in text


def test_openapi_document_is_valid_and_its_example_is_accepted(client: TestClient) -> None:
    from jsonschema import Draft202012Validator

    doc = client.get("/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    post = doc["paths"]["/v1/events"]["post"]
    example = post["requestBody"]["content"]["application/json"]["example"]
    schema = {
        **post["requestBody"]["content"]["application/json"]["schema"],
        "components": doc["components"],
    }
    Draft202012Validator(json.loads(json.dumps(schema).replace("#/components", "#/components")))
    response = _post(client, json.dumps(example).encode())
    assert response.status_code in (200, 422)  # the example's times may be outside the skew
    assert client.get("/healthz").json()["status"] == "ok"
