"""The JVM/Android SDK (``sdk/jvm``) against a real ``marketlift serve``, through the lake.

The driver JVM is killed with SIGKILL between enqueue and flush and while batches are in
flight; restarted on the same queue directory it sends what was left, and every acknowledged
event is in the lake exactly once. The background hook sends at once. A proxy in front of the
server answers the first batch with 503 and ``Retry-After``: the retry comes after it, with the
same event ids. Decide answers parse; the SDK's validation gives the collector's own field,
value and expected text. The unit tests of the library (JSON, queue, backoff, assignment
vectors, identity and the assignment cache) run in JUnit: ``make jvmtest``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.server
import json
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from marketlift.events import validate_batch
from marketlift.lake import query
from tests.sdk import jvm_harness as jh

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def classpath() -> str:
    return jh.build()


EXPERIMENTS = """
[[experiment]]
key = "checkout_copy"
unit = "anonymous_id"
salt = "checkout_copy_v2"
holdout_pct = 5
variants = [{name = "control", weight = 1}, {name = "short_copy", weight = 2}]

[[experiment]]
key = "ranking_v2"
unit = "buyer_id"
variants = [{name = "control", weight = 1}, {name = "treatment", weight = 1}]
layer = {salt = "home", start = 0, end = 9000}

[[experiment]]
key = "ios_only"
unit = "anonymous_id"
variants = [{name = "a", weight = 1}, {name = "b", weight = 1}]
targeting = {platform = ["ios"]}
"""
# The same experiments in the SDK's (and the vectors') JSON shape, for local assignment.
LOCAL = {
    "checkout_copy": {
        "salt": "checkout_copy_v2",
        "holdout_pct": 5,
        "variants": [{"name": "control", "weight": 1}, {"name": "short_copy", "weight": 2}],
        "layer": None,
    },
    "ranking_v2": {
        "variants": [{"name": "control", "weight": 1}, {"name": "treatment", "weight": 1}],
        "layer": {"salt": "home", "start": 0, "end": 9000},
    },
    "ios_only": {"variants": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}]},
}
UNIT_FIELD = {"checkout_copy": "anonymous_id", "ranking_v2": "buyer_id", "ios_only": None}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("jvm") / "data"
    data.mkdir()
    (data / "experiments.toml").write_text(EXPERIMENTS)
    with jh.serve(data) as url:
        yield url, data


def test_the_jar_is_java_8_bytecode_using_only_what_android_has(classpath: str) -> None:
    jar = jh.JVM / "build" / "marketlift-sdk.jar"
    # Packages Android lacks (java.net.http) or has only from API 26 (java.time, java.nio.file).
    forbidden = (b"java/net/http", b"java/time/", b"java/nio/file/", b"javax/")
    with zipfile.ZipFile(jar) as archive:
        classes = [n for n in archive.namelist() if n.endswith(".class")]
        assert "io/marketlift/sdk/Marketlift.class" in classes
        for name in classes:
            data = archive.read(name)
            assert data[:4] == b"\xca\xfe\xba\xbe", name
            assert int.from_bytes(data[6:8], "big") == 52, f"{name} is not Java 8 bytecode"
            used = [p.decode() for p in forbidden if p in data]
            assert not used, f"{name} uses {used}"


def _lake_ids(data: Path, prefix: str) -> list[str]:
    table = query(
        data, "SELECT event_id FROM events WHERE query LIKE ? ORDER BY event_id", [f"{prefix}-%"]
    )
    return [str(v) for v in table.column("event_id").to_pylist()]


def _wait_for(data: Path, prefix: str, n: int) -> list[str]:
    deadline = time.monotonic() + 20
    while True:
        ids = _lake_ids(data, prefix)
        if len(ids) >= n or time.monotonic() > deadline:
            return ids
        time.sleep(0.1)


def test_killed_app_loses_nothing_and_stores_each_event_once(
    classpath: str, server: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = server
    queue = tmp_path / "queue"
    acked: list[str] = []
    # 1. Killed between enqueue and flush: nothing was sent, everything is on the device.
    first = jh.Driver(classpath, "track", url, str(queue), "40", "kill-a", "1000", "3600000")
    acked += [first.line()["ack"] for _ in range(40)]
    assert first.line() == {"done": 40}
    first.kill()
    assert _lake_ids(data, "kill-a") == []
    assert sum(f.stat().st_size for f in queue.glob("*.seg")) > 40 * 200
    # 2. Restarted: it sends the backlog while tracking more, and is killed mid-stream.
    second = jh.Driver(classpath, "track", url, str(queue), "400", "kill-b", "7", "5")
    acked += [second.line()["ack"] for _ in range(150)]
    acked += [line["ack"] for line in second.kill() if "ack" in line]
    # 3. Started again: it drains the queue.
    rc, out, err = jh.run(classpath, "drain", url, str(queue))
    assert rc == 0, err
    assert json.loads(out)["left"] == 0
    stored_a = _wait_for(data, "kill-a", 40)
    stored_b = _wait_for(data, "kill-b", len(acked) - 40)
    stored = stored_a + stored_b
    assert len(stored) == len(set(stored)), "an event is stored twice"
    missing = set(acked) - set(stored)
    assert not missing, f"{len(missing)} acknowledged events lost"
    assert len(stored_a) == 40
    # Appended by the second run but killed before its ack was printed: at most one.
    assert len(acked) - 40 <= len(stored_b) <= len(acked) - 40 + 1


def test_the_background_hook_sends_without_waiting_for_the_timer(
    classpath: str, server: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = server
    # An hour's flush interval and a batch size of 1000: only onBackground() can send these.
    args = ("track", url, str(tmp_path / "q"), "3", "bg", "1000", "3600000", "background")
    driver = jh.Driver(classpath, *args)
    acked = [driver.line()["ack"] for _ in range(3)]
    stored = _wait_for(data, "bg", 3)
    driver.kill()
    assert sorted(stored) == sorted(acked)


class _FlakyProxy(http.server.BaseHTTPRequestHandler):
    """Answers the first batch with 503 and Retry-After: 1, forwards the rest to the server."""

    upstream = ""
    calls: list[tuple[float, list[str]]] = []  # noqa: RUF012 - per-class test state

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        raw = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
        ids = [e["event_id"] for e in json.loads(raw)]
        self.calls.append((time.monotonic(), ids))
        if len(self.calls) == 1:
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        request = urllib.request.Request(
            self.upstream + self.path, data=body, headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            reply = answer.read()
            self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


def test_a_failed_batch_is_resent_with_the_same_ids_after_retry_after(
    classpath: str, server: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = server
    _FlakyProxy.upstream = url
    _FlakyProxy.calls = []
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FlakyProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{proxy.server_address[1]}"
        queue = str(tmp_path / "q")
        driver = jh.Driver(classpath, "track", endpoint, queue, "5", "retry", "5", "0")
        acked = [driver.line()["ack"] for _ in range(5)]
        stored = _wait_for(data, "retry", 5)
        driver.kill()
    finally:
        proxy.shutdown()
        proxy.server_close()
    (t0, first), (t1, second) = _FlakyProxy.calls[:2]
    assert first, "the first batch was empty"
    assert second == first, "the retry is not the same batch"
    assert t1 - t0 >= 0.95, "the retry came before Retry-After"
    assert sorted(stored) == sorted(acked)


def test_decide_answers_parse_and_bad_requests_fail_before_sending(
    classpath: str, server: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = server
    request = json.dumps({"surface": "cart", "limit": 5, "context": {"cart": ["L-1"]}})
    rc, out, err = jh.run(classpath, "decide", url, str(tmp_path / "q"), request)
    assert rc == 0, err
    decision = json.loads(out)
    assert decision["decision_id"].startswith("d-")
    assert isinstance(decision["listings"], list)
    # This server has no models: the answer says so instead of failing.
    assert decision["degraded"] is True
    assert "ranker_unavailable" in decision["degraded_reasons"]
    rc, _, err = jh.run(classpath, "decide", url, str(tmp_path / "q"), '{"surface": "moon"}')
    assert rc == 1
    assert 'decide: surface == "moon", expected one of home, search, listing, cart, push.' in err


@pytest.mark.parametrize(
    ("anonymous_id", "buyer_id"),
    [("anon-7f3a9c", "buyer-1"), ("anon-0001", "buyer-2"), ("ソルト-端末", "buyer-3")],
)
def test_assignment_equals_the_servers_and_is_remembered(
    classpath: str, server: tuple[str, Path], tmp_path: Path, anonymous_id: str, buyer_id: str
) -> None:
    url, _ = server
    args = ("assign", url, str(tmp_path / "q"), anonymous_id, buyer_id, json.dumps(LOCAL))
    rc, out, err = jh.run(classpath, *args)
    assert rc == 0, err
    answer = json.loads(out)
    by_key = {a["experiment_key"]: a for a in answer["server"]}
    units = {"anonymous_id": anonymous_id, "buyer_id": buyer_id}
    assert by_key, "the server assigned nothing"
    assert "ios_only" not in by_key  # targeted at iOS: the server applies the targeting
    assert answer["cached"]["ios_only"] is None
    for key in ("checkout_copy", "ranking_v2"):
        unit = units[str(UNIT_FIELD[key])]
        local = answer["local"][key][unit]
        if key in by_key:
            assert by_key[key]["unit"] == UNIT_FIELD[key]
            assert by_key[key]["variant"] == local, key
        else:
            assert local is None, key  # held out or outside the layer, on both sides
        assert answer["cached"][key] == local


_BASE = {
    "event_id": "e1",
    "schema_version": 1,
    "ts": "2026-12-04T19:00:00Z",
    "anonymous_id": "a1",
    "platform": "android",
}
_EUR = {"amount": "1", "currency": "EUR"}
_CASES: list[dict[str, Any]] = [
    {"type": "search", "query": ""},
    {"type": "search", "query": "x" * 513},
    {"type": "search"},
    {"type": "search", "query": 5},
    {"type": "search", "query": "m", "results_count": -1},
    {"type": "search", "query": "m", "results_count": 1.5},
    {"type": "search", "query": "m", "bogus": 1},
    {"type": "nope"},
    {"type": "search", "query": "m", "platform": "tv"},
    {"type": "search", "query": "m", "locale": "english!"},
    {"type": "search", "query": "m", "currency": "eur"},
    {"type": "search", "query": "m", "country": "DEU"},
    {"type": "search", "query": "m", "buyer_id": "x" * 129},
    {"type": "search", "query": "m", "session_id": ""},
    {"type": "search", "query": "m", "app_version": "x" * 65},
    {"type": "search", "query": "m", "properties": {"k": [1]}},
    {"type": "search", "query": "m", "properties": {"k": "x" * 1025}},
    {"type": "search", "query": "m", "properties": 5},
    {"type": "search", "query": "m", "ts": "yesterday"},
    {"type": "search", "query": "m", "schema_version": 2},
    {"type": "search", "query": "m", "event_id": 5},
    {"type": "add_to_cart", "listing_id": "L", "quantity": 0},
    {"type": "add_to_cart", "listing_id": "L", "quantity": 10001},
    {"type": "add_to_cart", "listing_id": "L", "price": {"amount": 12.5, "currency": "EUR"}},
    {"type": "add_to_cart", "listing_id": "L", "price": {"amount": "12.5x", "currency": "EUR"}},
    {"type": "add_to_cart", "listing_id": "L", "price": {"amount": "-24.90", "currency": "EUR"}},
    {"type": "add_to_cart", "listing_id": "L", "price": {"amount": "1", "currency": "EUR", "x": 1}},
    {"type": "add_to_cart", "listing_id": "L", "price": {"amount": "12.5"}},
    {"type": "add_to_cart", "listing_id": "L", "price": "12"},
    {"type": "purchase", "order_id": "o", "line_items": [], "revenue": _EUR},
    {"type": "purchase", "order_id": "o", "line_items": "x", "revenue": _EUR},
    {
        "type": "purchase",
        "order_id": "o",
        "line_items": [{"listing_id": "L", "quantity": 1}],
        "revenue": _EUR,
    },
    {
        "type": "purchase",
        "order_id": "o",
        "line_items": [{"listing_id": "L", "quantity": 0, "unit_price": _EUR}],
        "revenue": _EUR,
    },
    {
        "type": "engagement_shown",
        "action": "A",
        "channel": "push",
        "decision_id": "d",
        "propensity": 0.5,
    },
    {
        "type": "engagement_shown",
        "action": "a",
        "channel": "sms",
        "decision_id": "d",
        "propensity": 0.5,
    },
    {
        "type": "engagement_shown",
        "action": "a",
        "channel": "push",
        "decision_id": "d",
        "propensity": 0,
    },
    {
        "type": "engagement_shown",
        "action": "a",
        "channel": "push",
        "decision_id": "d",
        "propensity": 1.5,
    },
    {
        "type": "engagement_shown",
        "action": "a",
        "channel": "push",
        "decision_id": "d",
        "propensity": "x",
    },
    {
        "type": "engagement_clicked",
        "action": "a",
        "channel": "push",
        "decision_id": "d",
        "propensity": "x",
    },
    {"type": "impression", "surface": "home", "listings": [{"listing_id": "L", "position": -1}]},
    {
        "type": "decision",
        "decision_id": "d",
        "surface": "home",
        "propensity": 0.5,
        "listing_ids": [""],
    },
    {"type": "page_view", "url": "x" * 2049},
    {"type": "exposure", "experiment_key": "ab", "variant": "Treatment"},
    # Valid events: both accept them.
    {"type": "page_view"},
    {"type": "search", "query": "ceramic mug", "results_count": 3, "properties": {"ab": True}},
    {
        "type": "purchase",
        "order_id": "o",
        "revenue": _EUR,
        "line_items": [{"listing_id": "L", "quantity": 2, "unit_price": _EUR}],
    },
    {
        "type": "decision",
        "decision_id": "d",
        "surface": "home",
        "propensity": 1.0,
        "model_versions": {"ranker": "ranker@3"},
        "listing_ids": ["L1"],
    },
]


def test_validation_gives_the_collectors_field_value_and_expected(classpath: str) -> None:
    events = [{**_BASE, **case} for case in _CASES]
    stdin = "".join(json.dumps(e) + "\n" for e in events)
    rc, out, err = jh.run(classpath, "validate", stdin=stdin)
    assert rc == 0, err
    answers = [json.loads(line) for line in out.splitlines()]
    assert len(answers) == len(events)
    now = dt.datetime(2026, 12, 4, 19, tzinfo=dt.UTC)
    for event, answer in zip(events, answers, strict=True):
        batch = validate_batch(json.dumps([event]).encode(), now=now)
        if not batch.rejected:
            assert answer == {}, event
            continue
        error = batch.rejected[0].errors[0]
        got = (answer.get("field"), answer.get("expected"))
        assert got == (error.field, error.expected), event
        if isinstance(error.value, str) and len(error.value) < 100:
            assert answer["value"] == error.value, event
