"""The web SDK in a real headless Chromium against a live ``marketlift serve``.

The test page and ``sdk/js/src/index.js`` are served from one origin and the collector listens
on another, so every request crosses CORS as in production. What is proven, through the lake:
events land with their fields; a retry after a network failure does not duplicate them; events
tracked right before navigating away arrive by beacon; a write key is sent and required.
The SDK's own unit tests (``node --test sdk/js/test/``) run here too, so ``make test`` covers them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from marketlift.experiments.assignment import assign_variant
from marketlift.experiments.config import experiment_from_dict
from marketlift.lake import query

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
WRITE_KEY = "wk_browser_test_0123"
NEXT_PAGE = b"<!doctype html><title>next</title><p>navigated away</p>"
ROUTES = {
    "/": (ROOT / "tests/browser/sdk_page.html", "text/html; charset=utf-8"),
    "/sdk/index.js": (ROOT / "sdk/js/src/index.js", "text/javascript; charset=utf-8"),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Collector:
    url: str
    data_dir: Path


@contextlib.contextmanager
def _collector(data_dir: Path, write_key: str | None = None) -> Iterator[Collector]:
    """Run ``marketlift serve`` as a subprocess until the block ends."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "MARKETLIFT_WRITE_KEY"}
    if write_key is not None:
        env["MARKETLIFT_WRITE_KEY"] = write_key
    cli = Path(sys.executable).with_name("marketlift")
    command = [str(cli), "serve", "--data", str(data_dir), "--host", "127.0.0.1"]
    log = (data_dir.parent / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                text = (data_dir.parent / f"serve-{port}.log").read_text(errors="replace")
                pytest.fail(f"marketlift serve did not start on {url}:\n{text[-2000:]}")
            time.sleep(0.1)
        yield Collector(url, data_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class _PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in ROUTES:
            file, content_type = ROUTES[path]
            body = file.read_bytes()
        elif path == "/next.html":
            body, content_type = NEXT_PAGE, "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The test page and the SDK, served from an origin other than the collector's."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    with _collector(tmp_path_factory.mktemp("open") / "data") as running:
        yield running


@pytest.fixture
def page(browser: Any, site: str) -> Iterator[Any]:
    """A fresh context (empty localStorage) on the test page, with the SDK loaded."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site}/")
    page.wait_for_function("window.ready === true", timeout=5000)
    yield page
    context.close()
    assert not errors, f"errors on the page: {errors}"


def _wait_for(
    read: Callable[[], list[dict[str, Any]]], done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """Poll the lake until ``done`` holds, for up to 10 s; return the last rows either way."""
    deadline = time.monotonic() + 10
    rows = read()
    while not done(rows) and time.monotonic() < deadline:
        time.sleep(0.1)
        rows = read()
    return rows


def _events(data_dir: Path, ids: list[str]) -> list[dict[str, Any]]:
    sql = "SELECT * FROM events WHERE list_contains(?, event_id) ORDER BY ts, event_id"
    return _wait_for(
        lambda: query(data_dir, sql, [ids]).to_pylist(),
        lambda rows: {r["event_id"] for r in rows} >= set(ids),
    )


def _collector_requests(context: Any, collector_url: str) -> list[Any]:
    """Record every request the browser makes to the collector (Playwright ``Request``s)."""
    seen: list[Any] = []
    context.on("request", lambda r: seen.append(r) if r.url.startswith(collector_url) else None)
    return seen


def _describe(request: Any) -> dict[str, Any]:
    headers = request.all_headers()  # includes those the network stack adds, such as Origin
    return {
        "method": request.method,
        "url": request.url,
        "type": request.resource_type,
        "authorization": headers.get("authorization"),
        "origin": headers.get("origin"),
    }


SPY_ON_BEACONS = """() => {
  // Beacons sent during unload are invisible to Playwright's request events: log each call
  // where the next page of this origin can read it.
  const send = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url, body) => {
    const ok = send(url, body);
    const log = JSON.parse(localStorage.getItem('beacons') ?? '[]');
    log.push({ url, ok, ids: JSON.parse(body).map((e) => e.event_id) });
    localStorage.setItem('beacons', JSON.stringify(log));
    return ok;
  };
}"""
BEACONS = "JSON.parse(localStorage.getItem('beacons') ?? '[]')"


EXPERIMENT = {
    "salt": "checkout_copy",
    "variants": [{"name": "control", "weight": 1}, {"name": "urgency", "weight": 1}],
    "holdout_pct": 0,
    "layer": None,
}
TRACK_JOURNEY = """async ({ endpoint, experiment }) => {
  const ml = window.makeClient({ endpoint, appVersion: 'web-1.4.0', locale: 'de-DE',
    currency: 'EUR', country: 'DE', flushIntervalMs: 60000 });
  ml.identify('buyer-7');
  const variant = ml.assignVariant(experiment, 'buyer-7');
  const price = { amount: '24.90', currency: 'EUR' };
  const ids = {
    page_view: ml.pageView({ surface: 'home' }),
    search: ml.track('search', { query: 'ceramic mug', results_count: 42 }),
    listing_view: ml.track('listing_view', { listing_id: 'L-100', price, position: 3 }),
    add_to_cart: ml.track('add_to_cart', { listing_id: 'L-100', quantity: 2, price }),
    purchase: ml.track('purchase', { order_id: 'O-1',
      line_items: [{ listing_id: 'L-100', quantity: 2, unit_price: price }],
      revenue: { amount: '49.80', currency: 'EUR' } }),
    impression: ml.track('impression', { surface: 'home_feed',
      listings: [{ listing_id: 'L-1', position: 0 }, { listing_id: 'L-2', position: 1 }] }),
    exposure: ml.track('exposure', { experiment_key: 'checkout_copy', variant }),
  };
  const bad = ml.track('favorite', { listing_id: 'L'.repeat(200) });  // over 128 characters
  let thrown = null;
  try {
    ml.track('purchase', { order_id: 'O-2', line_items: [{ listing_id: 'L-1', quantity: 1,
      unit_price: price }], revenue: { amount: 49.8, currency: 'EUR' } });
  } catch (e) { thrown = e.message; }
  const queuedBefore = ml.queued;
  await ml.flush();
  window.log(`sent ${Object.keys(ids).length + 1} events, queue now ${ml.queued}`);
  const anonymousId = ml.anonymousId;
  return { ids, bad, variant, thrown, queuedBefore, queued: ml.queued, anonymousId };
}"""


@pytest.mark.browser
def test_events_land_in_the_lake_with_their_fields(
    page: Any, collector: Collector, site: str
) -> None:
    requests = _collector_requests(page.context, collector.url)
    cors: list[str | None] = []
    page.on("response", lambda r: cors.append(r.headers.get("access-control-allow-origin")))
    result = page.evaluate(TRACK_JOURNEY, {"endpoint": collector.url, "experiment": EXPERIMENT})
    ids: dict[str, str] = result["ids"]

    assert result["queuedBefore"] == 8, "the invalid purchase was not queued"
    assert result["queued"] == 0
    assert result["thrown"] == (
        'track("purchase"): revenue.amount == 49.8, '
        'expected a decimal string >= 0 such as "12.50" (never a JS number).'
    )
    python_variant = assign_variant(experiment_from_dict({"key": "cc", **EXPERIMENT}), "buyer-7")
    assert result["variant"] == python_variant

    rows = _events(collector.data_dir, list(ids.values()))
    by_type = {r["type"]: r for r in rows}
    assert sorted(r["event_id"] for r in rows) == sorted(ids.values()), "each exactly once"
    assert {t: r["event_id"] for t, r in by_type.items()} == ids
    now = dt.datetime.now(dt.UTC)
    for row in rows:
        assert row["schema_version"] == 1
        assert row["platform"] == "web"
        assert row["buyer_id"] == "buyer-7"
        assert row["anonymous_id"] == result["anonymousId"]
        assert (row["app_version"], row["locale"], row["currency"], row["country"]) == (
            "web-1.4.0",
            "de-DE",
            "EUR",
            "DE",
        )
        assert abs(row["ts"] - now) < dt.timedelta(minutes=1)
    assert len({r["session_id"] for r in rows}) == 1
    assert by_type["search"]["query"] == "ceramic mug"
    assert (by_type["listing_view"]["price"], by_type["listing_view"]["price_currency"]) == (
        Decimal("24.90"),
        "EUR",
    )
    assert by_type["add_to_cart"]["quantity"] == 2
    assert (by_type["purchase"]["revenue"], by_type["purchase"]["order_id"]) == (
        Decimal("49.80"),
        "O-1",
    )
    purchase = json.loads(by_type["purchase"]["payload"])
    assert purchase["line_items"][0]["unit_price"] == {"amount": "24.90", "currency": "EUR"}
    impression = json.loads(by_type["impression"]["payload"])
    assert [i["position"] for i in impression["listings"]] == [0, 1]
    assert (by_type["exposure"]["experiment_key"], by_type["exposure"]["variant"]) == (
        "checkout_copy",
        python_variant,
    )
    assert json.loads(by_type["page_view"]["payload"])["url"] == f"{site}/"

    # The collector's rejection reached onRejected, and the event is in the dead letters only.
    rejected = page.evaluate("window.rejected")
    assert [(r["event_id"], r["errors"][0]["field"]) for r in rejected] == [
        (result["bad"], "listing_id")
    ]
    assert (
        query(
            collector.data_dir, "SELECT event_id FROM events WHERE event_id = ?", [result["bad"]]
        ).num_rows
        == 0
    )
    dead = query(collector.data_dir, "SELECT event_id FROM dead_letters").to_pylist()
    assert {"event_id": result["bad"]} in dead

    # One request, cross-origin, answered with CORS headers.
    assert [(r["method"], r["origin"]) for r in map(_describe, requests)] == [("POST", site)]
    assert cors == ["*"]
    page.evaluate(
        "(line) => window.log(line)",
        f"lake: {len(rows)} events stored once each, 1 in dead_letters ({collector.url})",
    )
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "test-artifacts/sdk-browser.png"), full_page=True)


@pytest.mark.browser
def test_retry_after_network_failure_does_not_duplicate(page: Any, collector: Collector) -> None:
    bodies: list[list[dict[str, Any]]] = []
    reports: list[dict[str, Any]] = []

    def first_reaches_server_then_fails(route: Any) -> None:
        bodies.append(json.loads(route.request.post_data))
        response = route.fetch()  # the collector stores the batch ...
        reports.append(response.json())
        if len(bodies) == 1:
            route.abort("connectionreset")  # ... but the client never hears back
        else:
            route.fulfill(response=response)

    page.route(f"{collector.url}/v1/events", first_reaches_server_then_fails)
    ids = page.evaluate(
        """async (endpoint) => {
          window.ml = window.makeClient({ endpoint, retryBaseMs: 200, retryMaxMs: 400 });
          const ids = ['L-1', 'L-2', 'L-3', 'L-4', 'L-5'].map(
            (listing_id) => window.ml.track('favorite', { listing_id }));
          await window.ml.flush();
          return ids;
        }""",
        collector.url,
    )
    page.wait_for_function("window.ml.queued === 0", timeout=10_000)

    assert len(bodies) == 2, "one failed try, one retry"
    assert [e["event_id"] for e in bodies[0]] == ids
    assert bodies[1] == bodies[0], "the retry resends the same batch, event_ids included"
    assert reports[0] == {"accepted": 5, "duplicates": 0, "rejected": []}
    assert reports[1] == {"accepted": 0, "duplicates": 5, "rejected": []}
    counts = query(
        collector.data_dir,
        "SELECT event_id, count(*) AS n FROM events WHERE list_contains(?, event_id) GROUP BY 1",
        [ids],
    ).to_pylist()
    assert sorted((r["event_id"], r["n"]) for r in counts) == sorted((i, 1) for i in ids)
    assert page.evaluate("window.dropped") == []


@pytest.mark.browser
def test_events_tracked_before_navigating_away_arrive_by_beacon(
    page: Any, collector: Collector, site: str
) -> None:
    requests = _collector_requests(page.context, collector.url)
    ids = page.evaluate(
        """(endpoint) => {
          window.ml = window.makeClient({ endpoint, flushIntervalMs: 60000 });
          return [window.ml.track('listing_view', { listing_id: 'L-9' }),
                  window.ml.track('favorite', { listing_id: 'L-9' }),
                  window.ml.track('add_to_cart', { listing_id: 'L-9' })];
        }""",
        collector.url,
    )
    assert page.evaluate("window.ml.queued") == 3
    page.evaluate(SPY_ON_BEACONS)
    page.goto(f"{site}/next.html")

    rows = _events(collector.data_dir, ids)
    assert sorted(r["event_id"] for r in rows) == sorted(ids)
    url = f"{collector.url}/v1/events"
    assert page.evaluate(BEACONS) == [{"url": url, "ok": True, "ids": ids}], "one sendBeacon"
    assert requests == [], "no fetch: the timer had not fired, the beacon carried them"

    # The beaconed events stay in storage until a later page has them acknowledged: the next
    # page load resends them, and the collector counts them as duplicates, not new rows.
    stored = json.loads(page.evaluate("localStorage.getItem('marketlift:queue')"))
    assert [e["event_id"] for e in stored] == ids
    page.goto(f"{site}/")
    page.wait_for_function("window.ready === true")
    with page.expect_response(lambda r: r.url.startswith(collector.url)) as answer:
        page.evaluate(
            """async (endpoint) => {
              window.ml = window.makeClient({ endpoint });
              await window.ml.flush();
            }""",
            collector.url,
        )
    assert answer.value.json() == {"accepted": 0, "duplicates": 3, "rejected": []}
    assert page.evaluate("localStorage.getItem('marketlift:queue')") is None
    again = query(
        collector.data_dir,
        "SELECT count(*) AS n FROM events WHERE list_contains(?, event_id)",
        [ids],
    ).to_pylist()
    assert again == [{"n": 3}]


@pytest.mark.browser
def test_without_sendbeacon_a_keepalive_fetch_delivers_on_unload(
    page: Any, collector: Collector, site: str
) -> None:
    ids = page.evaluate(
        """(endpoint) => {
          navigator.sendBeacon = undefined;  // as in browsers without the Beacon API
          window.ml = window.makeClient({ endpoint, flushIntervalMs: 60000 });
          return [window.ml.track('search', { query: 'teapot' }),
                  window.ml.track('checkout_start', { item_count: 1 })];
        }""",
        collector.url,
    )
    page.goto(f"{site}/next.html")
    rows = _events(collector.data_dir, ids)
    assert sorted(r["event_id"] for r in rows) == sorted(ids)


@pytest.mark.browser
def test_write_key_is_sent_and_required(page: Any, site: str, tmp_path: Path) -> None:
    with _collector(tmp_path / "data", write_key=WRITE_KEY) as keyed:
        requests = _collector_requests(page.context, keyed.url)
        result = page.evaluate(
            """async ({ endpoint, writeKey }) => {
              const ml = window.makeClient({ endpoint, writeKey, flushIntervalMs: 60000 });
              const sent = [ml.track('search', { query: 'lamp' }), ml.pageView()];
              await ml.flush();
              const queued = ml.queued;
              const keyless = window.makeClient({ endpoint, storagePrefix: 'keyless' });
              const refused = keyless.track('page_view');
              await keyless.flush();
              const beaconed = [ml.track('favorite', { listing_id: 'L-7' })];
              return { sent, queued, refused, beaconed };
            }""",
            {"endpoint": keyed.url, "writeKey": WRITE_KEY},
        )
        assert result["queued"] == 0
        dropped = page.evaluate("window.dropped")
        assert [d["ids"] for d in dropped] == [[result["refused"]]]
        assert dropped[0]["reason"].startswith("HTTP 401")
        page.evaluate(SPY_ON_BEACONS)
        page.goto(f"{site}/next.html")  # the favorite leaves by beacon, key in the query

        ids = result["sent"] + result["beaconed"]
        rows = _events(keyed.data_dir, ids)
        assert sorted(r["event_id"] for r in rows) == sorted(ids)
        refused = query(
            keyed.data_dir,
            "SELECT count(*) AS n FROM events WHERE event_id = ?",
            [result["refused"]],
        ).to_pylist()
        assert refused == [{"n": 0}]
        posts = [_describe(r) for r in requests if r.method == "POST"]
        assert [(r["type"], r["authorization"]) for r in posts] == [
            ("fetch", f"Bearer {WRITE_KEY}"),
            ("fetch", None),
        ]
        beacon_url = f"{keyed.url}/v1/events?write_key={WRITE_KEY}"
        assert page.evaluate(BEACONS) == [
            {"url": beacon_url, "ok": True, "ids": result["beaconed"]}
        ]


def test_node_unit_tests_pass() -> None:
    """Run the SDK's Node test suite (batching, retries, assignment vectors, input errors)."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("node (>= 20) is missing")
        pytest.skip("node (>= 20) is missing")
    done = subprocess.run(
        [node, "--test", str(ROOT / "sdk/js/test/")],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
