"""``POST /v1/listings`` in the app: per-field errors, idempotent retries, write key, limits."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import msgspec
from starlette.testclient import TestClient

from marketlift.catalog import CatalogStore
from marketlift.serve import ServeConfig, create_app

MUG: dict[str, Any] = {
    "listing_id": "L-1", "title": "Mug", "category": "ceramics",
    "price": {"amount": "24.90", "currency": "EUR"}, "updated_at": "2026-11-20T10:00:00Z",
}  # fmt: skip


def _client(tmp_path: Path, **kwargs: Any) -> TestClient:
    return TestClient(create_app(ServeConfig(data_dir=tmp_path, **kwargs)))


def test_upserts_retries_and_errors(tmp_path: Path) -> None:
    batch = [
        MUG,
        {**MUG, "listing_id": "L-2", "price": {"amount": "-5", "currency": "EUR"}},
        {**MUG, "listing_id": "L-3", "price": {"amount": "5", "currency": "XXQ"}},
        {**MUG, "listing_id": "L-4", "description": "x" * (2 * 1024 * 1024)},
        {**MUG, "listing_id": "L-5", "price": 24.9},
        {**MUG, "listing_id": "L-6", "colour": "blue"},
        {"listing_id": "L-404", "deleted": True, "updated_at": "2026-11-21T00:00:00Z"},
        {**MUG, "listing_id": "L-7", "tags": ["gift"], "stock": 4},
    ]
    with _client(tmp_path) as client:
        answer = client.post("/v1/listings", json=batch)
        assert answer.status_code == 200
        body = answer.json()
        assert (body["accepted"], body["duplicates"], body["rejected_count"]) == (2, 0, 6)
        fields = {r["index"]: r["errors"][0]["field"] for r in body["rejected"]}
        assert fields == {1: "price", 2: "currency", 3: "description", 4: "price",
                          5: "colour", 6: "listing_id"}  # fmt: skip
        values = {r["index"]: r["errors"][0]["value"] for r in body["rejected"]}
        assert values[1] == "-5"
        assert values[3] == "<2097152 characters>"
        retry = client.post("/v1/listings", json=[MUG, batch[-1]]).json()
        assert (retry["accepted"], retry["duplicates"]) == (0, 2)
    store = CatalogStore(tmp_path)
    assert sorted(store.as_of().column("listing_id").to_pylist()) == ["L-1", "L-7"]


def test_deletion_and_ndjson_gzip(tmp_path: Path) -> None:
    lines = [MUG, {"listing_id": "L-1", "deleted": True, "updated_at": "2026-11-22T00:00:00Z"}]
    body = gzip.compress(b"\n".join(msgspec.json.encode(x) for x in lines))
    with _client(tmp_path) as client:
        answer = client.post("/v1/listings", content=body,
                             headers={"Content-Encoding": "gzip"})  # fmt: skip
        assert answer.json()["accepted"] == 2
    assert CatalogStore(tmp_path).show("L-1") is None


def test_every_gzip_member_is_read(tmp_path: Path) -> None:
    first = gzip.compress(msgspec.json.encode(MUG) + b"\n")
    second = gzip.compress(msgspec.json.encode({**MUG, "listing_id": "L-2"}))
    with _client(tmp_path) as client:
        answer = client.post("/v1/listings", content=first + second,
                             headers={"Content-Encoding": "gzip"})  # fmt: skip
        assert answer.json()["accepted"] == 2
        cut = client.post("/v1/listings", content=first + second[:-9],
                          headers={"Content-Encoding": "gzip"})  # fmt: skip
        assert cut.status_code == 400
        assert "truncated" in cut.json()["error"]
    assert CatalogStore(tmp_path).show("L-2") is not None


def test_nothing_valid_is_422(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        answer = client.post("/v1/listings", json=[{**MUG, "updated_at": "tomorrow"}])
        assert answer.status_code == 422
        assert answer.json()["rejected"][0]["errors"][0]["field"] == "updated_at"
        assert client.post("/v1/listings", content=b"{not json").status_code == 422


def test_counts_past_int64_are_field_errors(tmp_path: Path) -> None:
    # found by schemathesis (benchmarks/decide_fuzz.py): a stock of 2**63 was a 500
    big = 2**63
    batch = [MUG, {**MUG, "listing_id": "L-2", "stock": big},
             {**MUG, "listing_id": "L-3", "review_count": big * 10**9},
             {**MUG, "listing_id": "L-4", "stock": big - 1}]  # fmt: skip
    with _client(tmp_path) as client:
        answer = client.post("/v1/listings", json=batch)
        assert answer.status_code == 200
        body = answer.json()
        assert (body["accepted"], body["rejected_count"]) == (2, 2)
        errors = {r["index"]: r["errors"][0] for r in body["rejected"]}
        assert [errors[1]["field"], errors[2]["field"]] == ["stock", "review_count"]
        assert str(2**63 - 1) in errors[1]["expected"]
        answer = client.post("/v1/listings", json=[{**MUG, "stock": big}])
        assert answer.status_code == 422
    stock = CatalogStore(tmp_path).show("L-4")
    assert stock is not None


def test_write_key(tmp_path: Path) -> None:
    with _client(tmp_path, write_key="s3cret-key-123") as client:
        assert client.post("/v1/listings", json=[MUG]).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.post("/v1/listings", json=[MUG], headers=wrong).status_code == 401
        basic = {"Authorization": "Basic s3cret-key-123"}
        refused = client.post("/v1/listings", json=[MUG], headers=basic)
        assert refused.status_code == 401
        assert "expected 'Bearer <key>'" in refused.json()["error"]
        good = {"Authorization": "bearer s3cret-key-123"}
        assert client.post("/v1/listings", json=[MUG], headers=good).status_code == 200


def test_batch_over_the_limit_is_413(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        many = [{**MUG, "listing_id": f"L-{i}"} for i in range(5001)]
        answer = client.post("/v1/listings", json=many)
        assert answer.status_code == 413
        assert "at most 5000" in answer.json()["error"]


def test_openapi_documents_the_route(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        doc = client.get("/openapi.json").json()
    post = doc["paths"]["/v1/listings"]["post"]
    item = post["requestBody"]["content"]["application/json"]["schema"]["items"]["$ref"]
    name = item.rsplit("/", 1)[-1]
    assert set(doc["components"]["schemas"][name]["required"]) == {"listing_id", "updated_at"}
    assert "5000 listings per batch" in post["description"]
