"""What a hostile or unlucky client found (issue 21): depth, gzip members, encodings, auth, CORS.

Each test runs the app in process (``TestClient``) on a fresh data directory and checks the
answer and what the lake stored.
"""

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from marketlift.events.samples import sample_events
from marketlift.lake import query
from marketlift.serve import ServeConfig, create_app

KEYS = {"write_key": "write-key-0001", "decide_key": "decide-key-0001", "admin_key": "admin-k-0001"}
DECIDE = {"buyer_id": "b1", "surface": "home", "platform": "web"}
ASSIGN = {"buyer_id": "b1", "platform": "web"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ServeConfig(data_dir=tmp_path))) as test_client:
        yield test_client


def _stored(data: Path) -> list[str]:
    rows = query(data, "SELECT event_id FROM events ORDER BY event_id").to_pylist()
    return [r["event_id"] for r in rows]


def _dead(data: Path) -> list[dict[str, Any]]:
    return query(data, "SELECT event_id, reason FROM dead_letters").to_pylist()


def _events(n: int, seed: int) -> list[dict[str, Any]]:
    return sample_events(n, random_state=seed)


def test_deep_nesting_answers_4xx_naming_the_limit_and_keeps_neighbours(
    client: TestClient, tmp_path: Path
) -> None:
    """Issue 21.1: 1,000 nested arrays answered 500 and the valid neighbours were lost."""
    good = _events(2, 71)
    nested = b"[" * 1000 + b"]" * 1000
    deep_event = msgspec.json.encode(dict(good[0], event_id="deep"))[:-1]
    deep_event += b', "properties": {"k": ' + nested + b"}}"
    array = b"[" + msgspec.json.encode(good[0]) + b"," + deep_event + b","
    array += msgspec.json.encode(good[1]) + b"]"
    response = client.post("/v1/events", content=array)
    assert response.status_code == 200
    report = response.json()
    assert report["accepted"] == 2
    (rejected,) = report["rejected"]
    assert rejected["index"] == 1
    assert rejected["event_id"] == "deep"
    assert "max_depth" in rejected["errors"][0]["expected"]
    assert _stored(tmp_path) == sorted(e["event_id"] for e in good)
    assert [d["event_id"] for d in _dead(tmp_path)] == ["deep"]
    # NDJSON: the deep line alone is rejected.
    more = _events(3, 72)
    lines = [msgspec.json.encode(more[0]), nested, msgspec.json.encode(more[1])]
    report = client.post("/v1/events", content=b"\n".join(lines)).json()
    assert report["accepted"] == 2
    assert report["rejected"][0]["index"] == 1
    # A body that is nothing but nesting: 422 with the limit, never 500.
    response = client.post("/v1/events", content=nested)
    assert response.status_code == 422
    assert "max_depth" in response.text
    for path, body in (("/v1/decide", DECIDE), ("/v1/assign", ASSIGN)):
        deep = msgspec.json.encode(body)[:-1] + b', "extra": ' + nested + b"}"
        for payload in (deep, nested, b'{"context": ' + nested + b"}"):
            response = client.post(path, content=payload)
            assert response.status_code == 422, (path, response.text)
            error = response.json()["errors"][0]
            assert error["field"] == "$"
            assert error["expected"].endswith("(max_depth)")


def test_every_gzip_member_is_read_within_the_size_limit(tmp_path: Path) -> None:
    """Issue 21.5: all members but the first were silently dropped."""
    from marketlift.events import Limits

    limits = Limits(max_decompressed_bytes=200_000)
    with TestClient(create_app(ServeConfig(data_dir=tmp_path, limits=limits))) as client:
        events = _events(30, 73)
        members = [gzip.compress(b"".join(msgspec.json.encode(e) + b"\n" for e in events[i::3]))
                   for i in range(3)]  # fmt: skip
        response = client.post(
            "/v1/events", content=b"".join(members), headers={"Content-Encoding": "gzip"}
        )
        assert response.json() == {"accepted": 30, "duplicates": 0, "rejected": []}
        assert _stored(tmp_path) == sorted(e["event_id"] for e in events)
        # Each member is small; together they pass the limit: 413, whatever the split.
        half = gzip.compress(b" " * 120_000)
        response = client.post(
            "/v1/events", content=half + half, headers={"Content-Encoding": "gzip"}
        )
        assert response.status_code == 413
        assert "max_decompressed_bytes" in response.json()["error"]
        truncated = members[0] + members[1][:-6]
        response = client.post(
            "/v1/events", content=truncated, headers={"Content-Encoding": "gzip"}
        )
        assert response.status_code == 400
        assert "truncated" in response.json()["error"]


def test_a_lone_surrogate_rejects_one_event_and_a_bom_is_accepted(
    client: TestClient, tmp_path: Path
) -> None:
    """Issue 21.6: one bad string or a byte-order mark refused the whole batch."""
    events = _events(3, 74)
    bad = msgspec.json.encode(events[1])[:-1] + rb', "session_id": "s\udc00"}'
    body = b"\xef\xbb\xbf[" + msgspec.json.encode(events[0]) + b"," + bad + b","
    body += msgspec.json.encode(events[2]) + b"]"
    report = client.post("/v1/events", content=body).json()
    assert report["accepted"] == 2
    (rejected,) = report["rejected"]
    assert rejected["event_id"] == events[1]["event_id"]
    assert "surrogate" in rejected["errors"][0]["expected"]
    assert _stored(tmp_path) == sorted([events[0]["event_id"], events[2]["event_id"]])
    (dead,) = _dead(tmp_path)
    assert dead["event_id"] == events[1]["event_id"]
    assert "surrogate" in dead["reason"]


def test_negative_money_is_refused_over_http(client: TestClient) -> None:
    """Issue 21.12."""
    event = dict(_events(1, 75)[0], type="add_to_cart", listing_id="l1")
    event = {k: v for k, v in event.items() if k in (
        "type", "event_id", "schema_version", "ts", "buyer_id", "anonymous_id", "platform",
        "listing_id")}  # fmt: skip
    event["price"] = {"amount": "-24.90", "currency": "EUR"}
    response = client.post("/v1/events", content=json.dumps([event]))
    assert response.status_code == 422
    error = response.json()["rejected"][0]["errors"][0]
    assert (error["field"], error["value"]) == ("price.amount", "-24.90")


@pytest.mark.parametrize(
    ("method", "path", "body", "key"),
    [
        ("POST", "/v1/events", None, "write_key"),
        ("POST", "/v1/decide", DECIDE, "decide_key"),
        ("POST", "/v1/assign", ASSIGN, "decide_key"),
        ("GET", "/admin/status", None, "admin_key"),
        ("POST", "/admin/reload", None, "admin_key"),
    ],
)
def test_only_the_bearer_scheme_is_accepted(
    tmp_path: Path, method: str, path: str, body: Any, key: str
) -> None:
    """Issue 21.9: ``Basic <key>`` and ``Token <key>`` were accepted."""
    secret = KEYS[key]
    content = msgspec.json.encode(_events(2, 76)) if body is None else msgspec.json.encode(body)
    with TestClient(create_app(ServeConfig(data_dir=tmp_path, **KEYS))) as client:

        def call(header: str | None, query: str = "") -> int:
            headers = {} if header is None else {"Authorization": header}
            kwargs: dict[str, Any] = {"headers": headers}
            if method == "POST":
                kwargs["content"] = content
            return client.request(method, path + query, **kwargs).status_code

        for scheme in ("Basic", "Token", "Bearer-ish", ""):
            assert call(f"{scheme} {secret}".strip()) == 401, scheme
        assert call(secret) == 401
        for scheme in ("Bearer", "bearer", "BEARER"):
            assert call(f"{scheme} {secret}") == 200, scheme
        assert call(f"Bearer {secret}x") == 401
        if key == "write_key":  # beacons: the query parameter, only without a header
            assert call(None, f"?write_key={secret}") == 200
            assert call(f"Basic {secret}", f"?write_key={secret}") == 401


def test_cors_origins_are_a_setting_and_never_on_admin(tmp_path: Path) -> None:
    """Issue 21.10: ``*`` on every route, ``/admin/*`` included."""
    shop = "https://shop.example"
    config = ServeConfig(data_dir=tmp_path, cors_origins=(shop,), admin_key=KEYS["admin_key"])
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,authorization"}  # fmt: skip
    with TestClient(create_app(config)) as client:
        allowed = client.options("/v1/events", headers={"Origin": shop, **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == shop
        other = client.options(
            "/v1/events", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in other.headers
        got = client.post(
            "/v1/decide", content=msgspec.json.encode(DECIDE), headers={"Origin": shop}
        )
        assert got.headers["access-control-allow-origin"] == shop
        for origin in (shop, "https://evil.example"):
            admin = client.get("/admin/status", headers={
                "Origin": origin, "Authorization": f"Bearer {KEYS['admin_key']}"})  # fmt: skip
            assert admin.status_code == 200
            assert not [h for h in admin.headers if h.startswith("access-control-")]
            pre = client.options("/admin/reload", headers={"Origin": origin, **preflight})
            assert not [h for h in pre.headers if h.startswith("access-control-")]
    with TestClient(create_app(ServeConfig(data_dir=tmp_path / "any"))) as client:
        star = client.options("/admin/status", headers={"Origin": shop, **preflight})
        assert "access-control-allow-origin" not in star.headers
        assert client.options("/v1/events", headers={"Origin": shop, **preflight}).headers[
            "access-control-allow-origin"
        ] in ("*", shop)
    from marketlift.errors import ConfigError

    with pytest.raises(ConfigError, match=r"cors_origins == 'shop\.example/'"):
        ServeConfig(data_dir=tmp_path, cors_origins=("shop.example/",))


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator({**schema, "components": doc["components"]})


@pytest.mark.parametrize("keys", [{}, KEYS], ids=["no-keys", "keys"])
def test_the_openapi_document_says_what_the_server_does(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    """Issue 21.15: no "buyer_id or anonymous_id" rule; admin's 403 documented as 401."""
    with TestClient(create_app(ServeConfig(data_dir=tmp_path, **keys))) as client:
        doc = client.get("/openapi.json").json()
        paths = doc["paths"]
        for path, unitless in (
            ("/v1/decide", {"surface": "home", "platform": "web"}),
            ("/v1/assign", {"platform": "web"}),
        ):
            schema = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
            validator = _validator(doc, schema)
            for unit in ({}, {"buyer_id": None, "anonymous_id": None}):
                body = {**unitless, **unit}
                assert not validator.is_valid(body), (path, body)
                assert (
                    client.post(path, json=body, headers=_auth(keys, "decide_key")).status_code
                    == 422
                )
            for unit in ({"buyer_id": "b1"}, {"anonymous_id": "a1", "buyer_id": None}):
                body = {**unitless, **unit}
                assert validator.is_valid(body), (path, body)
                assert (
                    client.post(path, json=body, headers=_auth(keys, "decide_key")).status_code
                    == 200
                )
        events = paths["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
        validator = _validator(doc, events["schema"])
        event = {
            k: v for k, v in _events(1, 77)[0].items() if k not in ("buyer_id", "anonymous_id")
        }
        assert not validator.is_valid([event])
        assert validator.is_valid([{**event, "anonymous_id": "a1"}])
        for path, method in (("/admin/status", "GET"), ("/admin/reload", "POST")):
            operation = paths[path][method.lower()]
            got = client.request(method, path).status_code
            assert str(got) in operation["responses"]
            if keys:
                assert got == 401
                assert operation["security"] == [{"adminKey": []}]
                assert "403" not in operation["responses"]
            else:
                assert got == 403
                assert "security" not in operation
                assert sorted(operation["responses"]) == ["403"]
                keyed = {"Authorization": "Bearer some-admin-key"}
                assert client.request(method, path, headers=keyed).status_code == 403
        for path in ("/v1/events", "/v1/decide", "/v1/assign"):
            assert ("401" in paths[path]["post"]["responses"]) == bool(keys)


def _auth(keys: dict[str, str], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys[name]}"} if name in keys else {}
