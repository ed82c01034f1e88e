"""The demo storefront and the dashboard in a real headless Chromium against ``marketlift serve``.

``marketlift demo --size small`` prepares the data directory (catalog, buyers, trained models,
the engagement policy, ``experiments.toml`` and a simulated A/B test); ``marketlift serve
--demo`` serves the API, the storefront and the dashboard from it. A buyer browses: home,
search, a listing page, add to cart, the cart, in German and French. What is proven:

- the pages render personalized listings from ``/v1/decide`` and an engagement with the copy of
  the answer, and the debug panel shows the decision (variant, decision_id, degraded, timings);
- the SDK's events (page views, search, listing view with the decision_id, add to cart,
  engagement shown) and the server's exposures and decisions are in the lake with their fields;
- the dashboard renders the experiment readout (an interval chart and the SRM status) and the
  live figures from ``/v1/stats``.

Screenshots go to ``test-artifacts/storefront-*.png`` and ``test-artifacts/dashboard.png``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from marketlift.lake import query
from tests.serve.served import explore_every_action

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CLI = Path(sys.executable).with_name("marketlift")
BUYERS_TO_TRY = 12
BUDGET_MS = 250


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


@dataclass
class Server:
    url: str
    data_dir: Path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo data directory: catalog, buyers, models, policy, an analyzed A/B test.

    ``MARKETLIFT_TEST_DEMO_DATA=DIR`` copies a directory that ``marketlift demo`` wrote before
    instead (to iterate quickly; the copy is what the test writes to).
    """
    data = tmp_path_factory.mktemp("storefront") / "data"
    prepared = os.environ.get("MARKETLIFT_TEST_DEMO_DATA")
    if prepared:
        shutil.copytree(prepared, data, ignore=shutil.ignore_patterns(".writer.lock"))
        return data
    done = subprocess.run(
        [str(CLI), "demo", "--size", "small", "--data", str(data), "--json"],
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    json.loads(done.stdout)
    return data


@contextlib.contextmanager
def _serving(data_dir: Path) -> Iterator[Server]:
    """``marketlift serve --demo`` as a subprocess until the block ends."""
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MARKETLIFT_WRITE_KEY", "MARKETLIFT_DECIDE_KEY")
    }
    log_path = data_dir.parent / f"serve-{port}.log"
    # A generous decide budget: on a loaded 2-core machine (Chromium, the test, the server) the
    # default 25 ms falls back often; this test is about the storefront, not the latency.
    command = [str(CLI), "serve", "--demo", "--data", str(data_dir), "--host", "127.0.0.1"]
    command += ["--budget-ms", str(BUDGET_MS)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    text = log_path.read_text(errors="replace")
                    pytest.fail(f"marketlift serve --demo did not start on {url}:\n{text[-3000:]}")
                time.sleep(0.2)
            yield Server(url, data_dir)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[Server]:
    with _serving(data_dir) as running:
        yield running


def _wait_for(
    read: Callable[[], list[dict[str, Any]]],
    done: Callable[[list[dict[str, Any]]], bool],
    seconds: float = 15,
) -> list[dict[str, Any]]:
    """Poll until ``done`` holds or ``seconds`` pass; return the last rows either way."""
    deadline = time.monotonic() + seconds
    rows = read()
    while not done(rows) and time.monotonic() < deadline:
        time.sleep(0.2)
        rows = read()
    return rows


def _ready(page: Any) -> None:
    page.wait_for_function("window.shop && window.shop.ready === true", timeout=20_000)


def _decisions(page: Any) -> list[dict[str, Any]]:
    decisions: list[dict[str, Any]] = page.evaluate("window.shop.decisions")
    return decisions


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@dataclass
class Journey:
    """What one buyer did in the browser, as the page saw it."""

    buyer_id: str
    anonymous_id: str
    home: dict[str, Any]
    listing_id: str
    engagement: dict[str, Any] | None
    decisions: list[dict[str, Any]]
    errors: list[str]


def _journey(browser: Any, server: Server, buyer_id: str, *, shots: bool) -> Journey:
    """Home, a listing from the home grid, add to cart, the cart; German texts."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    decisions: list[dict[str, Any]] = []
    engagement: dict[str, Any] | None = None
    try:
        page.goto(f"{server.url}/shop/?buyer={buyer_id}&locale=de-DE")
        _ready(page)
        home = _decisions(page)[0]
        decisions += _decisions(page)
        engagement = engagement or _shown_engagement(page, shots=True)
        assert page.locator("#cart-label").inner_text() == "Warenkorb"
        if shots:
            _shot(page, "storefront-home.png")
        first = page.locator("main .grid .card").first
        listing_id = first.get_attribute("data-listing-id")
        first.click()
        page.wait_for_url(f"**/shop/listing/{listing_id}**")
        _ready(page)
        decisions += _decisions(page)
        engagement = engagement or _shown_engagement(page, shots=True)
        page.click("#add-to-cart")
        page.wait_for_selector("#added-status:has-text('Zum Warenkorb hinzugefügt')")
        assert page.locator("#cart-count").inner_text() == "1"
        if shots:
            _shot(page, "storefront-listing.png")
        page.click("#cart-link")
        page.wait_for_url("**/shop/cart")
        _ready(page)
        decisions += _decisions(page)
        engagement = engagement or _shown_engagement(page, shots=True)
        assert page.locator(f'.cart-lines tr[data-listing-id="{listing_id}"]').count() == 1
        if shots:
            _shot(page, "storefront-cart.png")
        page.click("#checkout")
        page.wait_for_selector("#order-placed")
        assert page.locator("#cart-count").inner_text() == "0"
        page.evaluate("() => window.shop.ml.flush()")
        anonymous_id = page.evaluate("window.shop.ml.anonymousId")
        assert page.evaluate("window.shop.ml.queued") == 0
    finally:
        context.close()
    assert listing_id is not None
    return Journey(buyer_id, anonymous_id, home, listing_id, engagement, decisions, errors)


def _shown_engagement(page: Any, *, shots: bool) -> dict[str, Any] | None:
    """The engagement the page rendered with the copy of the answer, if any (with a screenshot)."""
    box = page.locator("#engagement-slot .engagement")
    if box.count() == 0:
        return None
    shown = page.evaluate("window.shop.engagements.at(-1)")
    if not shown or not shown.get("copy"):
        return None  # a copy-cache miss shows the action's name; look for one with copy
    text = box.locator(".engagement-copy").inner_text()
    if shots:
        _shot(page, "storefront-engagement.png")
    return {**shown, "rendered_text": text, "widget_class": box.get_attribute("class")}


def test_storefront_journey_logs_events_and_renders_decisions(browser: Any, server: Server) -> None:
    buyers = [b["buyer_id"] for b in _get_json(f"{server.url}/shop/api/buyers?limit=40")["buyers"]]
    assert buyers, "the demo data directory has signed-in buyers"
    journeys: list[Journey] = []
    for i, buyer_id in enumerate(buyers[:BUYERS_TO_TRY]):
        # Each try is a fresh browser context, so a fresh anonymous id: the demo experiment
        # is assigned on it, and only its treatment arm engages.
        journey = _journey(browser, server, buyer_id, shots=i == 0)
        journeys.append(journey)
        assert not journey.errors, f"errors on the page: {journey.errors}"
        if journey.engagement is not None:
            break
    for tried in journeys:
        if _variant(tried.home) == "control":
            # `serve --demo` gives the control arm of the demo experiment the baseline.
            assert all(d.get("engagement") is None for d in tried.decisions), "control engaged"
    journey = journeys[-1]
    engaged = journey.engagement
    assert engaged is not None, (
        f"no engagement with copy rendered for {len(journeys)} buyers: "
        + json.dumps([[d.get("engagement") for d in j.decisions] for j in journeys])[:2000]
    )

    # The engagement shows the copy of the answer, in the buyer's language.
    copy = engaged["copy"]
    expected = copy.get("banner") or copy.get("push_body") or copy.get("email_subject")
    assert engaged["rendered_text"] == expected
    assert engaged["copy_status"] in ("hit", "miss"), "miss: a template, not the copy cache"
    assert engaged["widget_class"].startswith("engagement engagement-")

    # Decisions came from the server (not the page's fallback) and the panel showed them.
    home = journey.home
    assert home["source"] == "server"
    assert home["decision_id"]
    assert home["listings"] or home.get("fill"), "the home page showed listings"
    assert {a["experiment_key"] for a in home["assignments"]} >= {"demo_engagement"}
    variant = _variant(home)
    assert variant == "treatment"
    assert set(home["timings_ms"]) >= {"assign", "total"}
    assert isinstance(home["degraded"], bool)

    _check_lake(server.data_dir, journey, variant)


def _variant(decision: dict[str, Any]) -> str | None:
    """The demo experiment's variant in a decision's assignments."""
    found = [
        a["variant"] for a in decision["assignments"] if a["experiment_key"] == "demo_engagement"
    ]
    return found[0] if found else None


def _check_lake(data: Path, journey: Journey, variant: str) -> None:
    """The buyer's events, from the SDK and from the server, are in the lake with their fields."""
    home, engaged, anon = journey.home, journey.engagement, journey.anonymous_id
    assert engaged is not None

    def mine() -> list[dict[str, Any]]:
        sql = "SELECT * FROM events WHERE anonymous_id = ? ORDER BY ts, event_id"
        return query(data, sql, [anon]).to_pylist()

    def complete(rows: list[dict[str, Any]]) -> bool:
        types = {r["type"] for r in rows}
        return {"page_view", "add_to_cart", "purchase", "engagement_shown", "exposure"} <= (
            types
        ) and "decision" in types

    rows = _wait_for(mine, complete)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_type.setdefault(row["type"], []).append(row)
    assert complete(rows), sorted(by_type)

    # SDK events: common fields and the decision_id links.
    for row in by_type["page_view"] + by_type["listing_view"] + by_type["add_to_cart"]:
        assert row["buyer_id"] == journey.buyer_id
        assert (row["platform"], row["locale"], row["currency"], row["country"]) == (
            "web",
            "de-DE",
            "EUR",
            "DE",
        )
        assert row["app_version"] == "demo-shop-1"
    assert len({r["session_id"] for r in by_type["page_view"]}) == 1
    surfaces = [json.loads(r["payload"]).get("surface") for r in by_type["page_view"]]
    assert surfaces == ["home", "listing", "cart"]
    [view] = by_type["listing_view"]
    assert view["listing_id"] == journey.listing_id
    chosen = None if home.get("fill") else home["decision_id"]
    assert view["decision_id"] == chosen, "the click came from the home decision"
    assert view["price_currency"] == "EUR"
    [added] = by_type["add_to_cart"]
    assert added["listing_id"] == journey.listing_id
    assert added["quantity"] == 1
    assert added["price"] == view["price"]
    [started] = by_type["checkout_start"]
    cart_value = json.loads(started["payload"])["cart_value"]
    assert (Decimal(cart_value["amount"]), cart_value["currency"]) == (added["price"], "EUR")
    [bought] = by_type["purchase"]
    assert (bought["revenue"], bought["revenue_currency"]) == (added["price"], "EUR")
    items = json.loads(bought["payload"])["line_items"]
    assert [(i["listing_id"], i["quantity"]) for i in items] == [(journey.listing_id, 1)]
    shown = [r for r in by_type["engagement_shown"] if r["decision_id"] == engaged["decision_id"]]
    assert len(shown) == 1
    payload = json.loads(shown[0]["payload"])
    assert payload["action"] == engaged["action"]
    assert payload["propensity"] == pytest.approx(engaged["propensity"])

    # Server events: the decisions of the pages and the buyer's exposure to the experiment.
    decided = {r["decision_id"] for r in by_type["decision"]}
    assert {d["decision_id"] for d in journey.decisions if d.get("decision_id")} <= decided
    [session] = {r["session_id"] for r in by_type["page_view"]}
    assert {r["session_id"] for r in by_type["decision"]} == {session}, "decide sent the session"
    if not home.get("fill"):
        imp = [r for r in by_type.get("impression", []) if r["decision_id"] == home["decision_id"]]
        assert [r["event_id"] for r in imp] == [home["decision_id"] + "-imp"], "logged once"
        listed = [i["listing_id"] for i in json.loads(imp[0]["payload"])["listings"]]
        assert listed == [x["listing_id"] for x in home["listings"]]
    exposures = [r for r in by_type["exposure"] if r["experiment_key"] == "demo_engagement"]
    assert exposures, "the decide call logged the exposure"
    assert {r["variant"] for r in exposures} == {variant}


def _exploring_copy(data_dir: Path, target: Path) -> Path:
    """The demo data with a policy that explores every allowed action, and no experiment.

    Epsilon 1 over the demo policy's learner: each on-site action has the same chance, so the
    carousel (similar items), the banner and the reminder all come up in a few page views.
    """
    shutil.copytree(data_dir, target, ignore=shutil.ignore_patterns(".writer.lock"))
    (target / "experiments.toml").unlink()  # everyone gets the models
    explore_every_action(target)
    return target


def test_every_engagement_widget_renders(browser: Any, data_dir: Path) -> None:
    """Banner and carousel on listing pages, the cart reminder on the home page with a cart."""
    data = _exploring_copy(data_dir, data_dir.parent / "exploring")
    seen: dict[str, dict[str, Any]] = {}
    with _serving(data) as running:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            page.goto(f"{running.url}/shop/?locale=fr-FR")
            _ready(page)
            listings = page.locator("main .grid .card").evaluate_all(
                "cards => cards.map(c => c.dataset.listingId)"
            )
            for listing_id in listings * 3:
                if {"banner", "carousel"} <= set(seen):
                    break
                page.goto(f"{running.url}/shop/listing/{listing_id}?locale=fr-FR")
                _ready(page)
                _note_widget(page, seen)
            page.click("#add-to-cart")
            page.wait_for_selector("#added-status")
            for _ in range(30):
                if "reminder" in seen:
                    break
                page.goto(f"{running.url}/shop/?locale=fr-FR")
                _ready(page)
                _note_widget(page, seen)
        finally:
            context.close()
    assert not errors, f"errors on the page: {errors}"
    assert {"banner", "carousel", "reminder"} <= set(seen), f"widgets seen: {sorted(seen)}"
    carousel = seen["carousel"]
    assert carousel["action"].startswith("similar_items")
    assert carousel["cards"] > 0  # similar listings, links to their pages
    reminder = seen["reminder"]
    assert reminder["surface"] == "home"
    assert "panier" in reminder["text"]  # "Vous avez laissé 1 article(s) dans votre panier."
    for shown in seen.values():
        assert shown["channel"] in ("onsite", "in_app")


def _note_widget(page: Any, seen: dict[str, dict[str, Any]]) -> None:
    """Record the widget the page rendered (with a screenshot of the first of each kind)."""
    box = page.locator("#engagement-slot .engagement")
    if box.count() == 0:
        return
    widget = box.get_attribute("data-widget")
    if widget is None or widget in seen:
        return
    shown = page.evaluate("window.shop.engagements.at(-1)")
    seen[widget] = {
        "action": shown["action"],
        "channel": shown.get("channel") or "onsite",
        "surface": shown["surface"],
        "text": box.inner_text(),
        "cards": box.locator(".carousel .card").count(),
    }
    _shot(page, f"storefront-widget-{widget}.png")


def test_search_and_locale_switch(browser: Any, server: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{server.url}/shop/?locale=de-DE")
        _ready(page)
        word = page.locator("main .grid .card .title").first.inner_text().split()[-1]
        page.fill("#search-input", word)
        page.press("#search-input", "Enter")
        page.wait_for_url("**/shop/search?q=*")
        _ready(page)
        assert page.locator("main h1").inner_text().endswith(f"„{word}“")
        assert page.locator("main .grid .card").count() > 0
        search = _decisions(page)[0]
        assert search["surface"] == "search"
        page.select_option("#locale-select", "fr-FR")
        page.wait_for_url("**locale=fr-FR**")
        _ready(page)
        assert page.locator("#cart-label").inner_text() == "Panier"
        assert page.evaluate("document.documentElement.lang") == "fr-FR"
        price = page.locator("main .grid .card .price").first.inner_text()
        assert "€" in price
        _shot(page, "storefront-search-fr.png")
        page.evaluate("() => window.shop.ml.flush()")
        anon = page.evaluate("window.shop.ml.anonymousId")
    finally:
        context.close()
    assert not errors, errors
    rows = _wait_for(
        lambda: query(
            server.data_dir,
            "SELECT query, locale FROM events WHERE type = 'search' AND anonymous_id = ?",
            [anon],
        ).to_pylist(),
        lambda r: len(r) >= 2,
    )
    assert {(r["query"], r["locale"]) for r in rows} == {(word, "de-DE"), (word, "fr-FR")}


def test_dashboard_renders_experiment_results_and_live_figures(
    browser: Any, server: Server
) -> None:
    request = {"anonymous_id": "dashboard-test", "surface": "home", "platform": "web"}
    urllib.request.urlopen(  # at least one decision for the live figures
        urllib.request.Request(f"{server.url}/v1/decide", data=json.dumps(request).encode()),
        timeout=30,
    ).close()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{server.url}/dashboard")
        section = page.locator('section.experiment[data-key="demo_engagement"]')
        assert section.count() == 1
        charts = section.locator("svg.interval-chart")
        assert charts.count() >= 2
        assert charts.first.is_visible()
        assert section.locator("svg.interval-chart circle.estimate").count() >= 1
        srm = section.locator(".srm-status")
        assert srm.get_attribute("data-status") in ("ok", "mismatch")
        assert srm.inner_text() in ("ok", "mismatch")
        statuses = section.locator(".sequential-status")
        assert statuses.count() >= 1
        assert statuses.first.get_attribute("data-status") in ("significant", "continue", "n/a")
        assert page.locator('tr.model-version[data-model="ranker"]').count() >= 1
        page.wait_for_function("document.body.dataset.statsOk === 'true'", timeout=10_000)
        decisions = page.locator("#stat-decisions").inner_text().replace(",", "")
        assert int(decisions) > 0, "decisions show in the live figures"
        _shot(page, "dashboard.png")
    finally:
        context.close()
    assert not errors, errors
