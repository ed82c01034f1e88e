"""The demo storefront's and the dashboard's routes (``marketlift.serve.site``), with TestClient.

A small simulated A/B test gives the data directory its catalog (the lake's, sent by the
simulator), buyers and
exposures; a registered model gives the dashboard a version with metrics. The routes are
mounted on a Starlette app of their own, so these tests do not depend on the API routes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketlift.lake import query
from marketlift.serve.config import ServeConfig
from marketlift.serve.site import sdk_path, site_routes
from marketlift.serve.site.catalog import Catalog, load_catalog
from marketlift.serve.site.dashboard import interval_svg, monitoring_svg
from marketlift.sim import SimConfig, read_truth, run_ab

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("site") / "data"
    run_ab(
        SimConfig(n_buyers=300, n_days=3, seed=5),
        {"control": "never", "treatment": "oracle"},
        data,
        experiment_key="site_test",
    )
    from marketlift.models.registry import Registry

    registry = Registry(data)
    registry.register(
        "ranker",
        {"model.txt": b"tree"},
        {"kind": "ranker", "metrics": {"ndcg@10": 0.4242, "popularity": {"ndcg@10": 0.1717}}},
    )
    registry.promote("ranker", "v0001")
    return data


@pytest.fixture(scope="module")
def client(data_dir: Path) -> Iterator[TestClient]:
    app = Starlette(routes=site_routes(ServeConfig(data_dir=data_dir)))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def listings(data_dir: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = read_truth(data_dir, "sim_listings").to_pylist()
    return rows


def test_listings_in_the_locale_with_its_currency(
    client: TestClient, listings: list[dict[str, Any]]
) -> None:
    first, second = listings[0], listings[1]
    ids = f"{first['listing_id']},nope,{second['listing_id']}"
    body = client.get("/shop/api/listings", params={"ids": ids, "locale": "de-DE"}).json()
    assert body["locale"] == "de-DE"
    assert body["missing"] == ["nope"]
    got = body["listings"]
    assert [c["listing_id"] for c in got] == [first["listing_id"], second["listing_id"]]
    assert got[0]["title"] == first["title_de"]
    assert got[0]["description"] == first["description_de"]
    assert got[0]["price"]["currency"] == "EUR"
    euros = round(first["price_usd_cents"] / 100 * 0.92, 2)
    assert float(got[0]["price"]["amount"]) == pytest.approx(euros, abs=0.006)
    assert re.fullmatch(r"\d+\.\d\d", got[0]["price"]["amount"])

    fr = client.get("/shop/api/listings", params={"ids": first["listing_id"], "locale": "fr-FR"})
    assert fr.json()["listings"][0]["title"] == first["title_fr"]
    us = client.get("/shop/api/listings", params={"ids": first["listing_id"]}).json()
    assert us["locale"] == "en-US"
    assert us["listings"][0]["price"]["currency"] == "USD"
    ja = client.get("/shop/api/listings", params={"ids": first["listing_id"], "locale": "ja-JP"})
    assert re.fullmatch(r"\d+", ja.json()["listings"][0]["price"]["amount"]), "yen: no decimals"
    odd = client.get("/shop/api/listings", params={"ids": first["listing_id"], "locale": "xx"})
    assert odd.json()["locale"] == "en-US"


def test_too_many_ids_are_refused(client: TestClient) -> None:
    answer = client.get("/shop/api/listings", params={"ids": ",".join(["l1"] * 201)})
    assert answer.status_code == 422
    assert "at most 200" in answer.json()["error"]


def test_search_matches_titles_in_the_buyers_language(
    client: TestClient, listings: list[dict[str, Any]]
) -> None:
    target = listings[7]
    word = max(re.findall(r"\w+", target["title_de"]), key=len)
    body = client.get("/shop/api/search", params={"q": word, "locale": "de-DE"}).json()
    assert target["listing_id"] in body["listing_ids"]
    assert client.get("/shop/api/search", params={"q": "zzqqxx"}).json()["listing_ids"] == []
    assert [c["listing_id"] for c in body["listings"]] == body["listing_ids"]
    assert client.get("/shop/api/search", params={"q": "  "}).json()["listing_ids"] == []
    limited = client.get("/shop/api/search", params={"q": "a", "limit": "2"}).json()
    assert len(limited["listing_ids"]) <= 2


def test_popular_listings_by_popularity_and_category(
    client: TestClient, listings: list[dict[str, Any]], data_dir: Path
) -> None:
    body = client.get("/shop/api/popular", params={"limit": "5"}).json()
    # popularity as the marketplace observes it: listing views in the lake's events
    views = query(data_dir, "SELECT listing_id, count(*) AS n FROM events "
                  "WHERE type = 'listing_view' GROUP BY 1").to_pylist()  # fmt: skip
    count = {r["listing_id"]: r["n"] for r in views}
    top = sorted(listings, key=lambda r: (-count.get(r["listing_id"], 0), r["listing_id"]))[:5]
    assert [c["listing_id"] for c in body["listings"]] == [r["listing_id"] for r in top]
    assert body["source"] == "catalog"
    assert "ceramics" in body["categories"]
    ceramics = client.get("/shop/api/popular", params={"category": "ceramics"}).json()
    assert ceramics["listings"]
    assert {c["category"] for c in ceramics["listings"]} == {"ceramics"}


def test_buyers_are_signed_in_simulated_buyers(client: TestClient, data_dir: Path) -> None:
    buyers = client.get("/shop/api/buyers", params={"limit": "5"}).json()["buyers"]
    assert 0 < len(buyers) <= 5
    signed_in = {
        r["buyer_id"] for r in read_truth(data_dir, "sim_buyers").to_pylist() if r["signed_in"]
    }
    assert {b["buyer_id"] for b in buyers} <= signed_in
    assert all(b["locale"] for b in buyers)


@pytest.mark.parametrize(
    "path", ["/shop/", "/shop/search?q=mug", "/shop/cart", "/shop/listing/l0000001"]
)
def test_storefront_pages_are_the_shell_with_its_settings(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert '<script type="module" src="/shop/static/shop.js"></script>' in page
    settings = re.search(r'<script id="shop-settings" type="application/json">(.*?)</script>', page)
    assert settings is not None
    parsed = json.loads(settings.group(1))
    assert parsed["sdk"] == "/shop/sdk/index.js"
    assert {"en-US", "de-DE", "fr-FR"} <= set(parsed["locales"])
    assert parsed["currencies"]["de-DE"] == "EUR"
    assert parsed["writeKey"] is None


def test_root_and_bare_shop_redirect(client: TestClient) -> None:
    for path in ("/", "/shop"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 307
        assert answer.headers["location"] == "/shop/"


def test_the_sdk_and_static_files_are_served(client: TestClient) -> None:
    sdk = client.get("/shop/sdk/index.js")
    assert sdk.status_code == 200
    assert sdk.headers["content-type"].startswith("text/javascript")
    assert sdk.content == sdk_path().read_bytes()
    assert b"async decide(request" in sdk.content
    for name in ("shop.js", "dashboard.js", "site.css"):
        assert client.get(f"/shop/static/{name}").status_code == 200
    assert client.get("/shop/static/nope.js").status_code == 404


def test_write_key_reaches_the_page(tmp_path: Path) -> None:
    config = ServeConfig(data_dir=tmp_path, write_key="wk_public_12345")
    with TestClient(Starlette(routes=site_routes(config))) as c:
        assert '"writeKey": "wk_public_12345"' in c.get("/shop/").text


def test_dashboard_json_has_readouts_and_models(client: TestClient) -> None:
    summary = client.get("/dashboard/api/summary").json()
    by_key = {e["key"]: e for e in summary["experiments"]}
    exp = by_key["site_test"]
    assert exp["srm_status"] in ("ok", "mismatch")
    assert exp["configured"] is False
    result = exp["result"]
    assert result["control"] == "control"
    assert {a["variant"] for a in result["arms"]} == {"control", "treatment"}
    metrics = {m["metric"] for m in result["metrics"]}
    assert {"conversion", "revenue_per_unit"} <= metrics
    assert set(exp["sequential_status"].values()) <= {"significant", "continue", "n/a"}
    assert "conversion:treatment" in exp["sequential_status"]
    monitoring = exp["monitoring"]
    assert monitoring["metric"] == "revenue_per_unit"
    days = [p["day"] for p in monitoring["points"]]
    assert days == sorted(days)
    assert len(set(days)) >= 2, "the simulation spans several days"
    units = [p["units"] for p in monitoring["points"]]
    assert units == sorted(units), "cumulative"
    assert units[-1] == sum(a["units"] for a in result["arms"])
    [ranker] = [m for m in summary["models"] if m["name"] == "ranker"]
    assert ranker["promoted"] == "v0001"
    assert ranker["versions"][0]["metrics"]["ndcg@10"] == 0.4242
    assert ranker["versions"][0]["promoted"] is True
    again = client.get("/dashboard/api/summary").json()
    assert again["computed_at"] == summary["computed_at"], "cached for a few seconds"


def test_dashboard_page_renders_charts_srm_and_models(client: TestClient) -> None:
    answer = client.get("/dashboard")
    assert answer.status_code == 200
    page = answer.text
    section = page[page.index('data-key="site_test"') :]
    assert '<svg class="interval-chart"' in section
    assert re.search(r'class="srm-status" data-status="(ok|mismatch)"', section)
    assert 'class="sequential-status"' in section
    assert '<circle class="estimate"' in section
    assert '<svg class="monitoring-chart"' in section
    assert "Sequential monitoring: Revenue per unit" in section
    assert 'data-model="ranker"' in page
    assert "ndcg@10 0.4242" in page
    assert "<b>popularity</b>: ndcg@10 0.1717" in page, "a baseline's metrics on their own line"
    assert '<script type="module" src="/shop/static/dashboard.js"></script>' in page
    assert 'id="stat-p99"' in page


def test_an_empty_data_directory_still_serves(tmp_path: Path) -> None:
    app = Starlette(routes=site_routes(ServeConfig(data_dir=tmp_path / "empty")))
    with TestClient(app) as c:
        assert c.get("/shop/api/popular").json()["listings"] == []
        assert c.get("/shop/api/buyers").json() == {"buyers": []}
        assert c.get("/dashboard/api/summary").json()["experiments"] == []
        page = c.get("/dashboard").text
        assert "No exposure events in the lake yet." in page
        assert "No model in the registry yet" in page


def test_catalog_from_events_when_there_is_no_simulation(tmp_path: Path) -> None:
    from marketlift.events.samples import sample_events
    from marketlift.ingest.collector import Collector
    from marketlift.ingest.lake_sink import LakeSink

    sink = LakeSink(tmp_path)
    try:
        events = [e for e in sample_events(300, random_state=3) if e["type"] == "listing_view"]
        Collector(sink).ingest(json.dumps(events).encode(), source="test")
    finally:
        sink.close()
    catalog = load_catalog(tmp_path)
    assert catalog.source == "events"
    assert len(catalog) == len({e["listing_id"] for e in events})
    card = catalog.card(catalog.order[0], "de-DE")
    assert card is not None
    assert card["title"] == f"Listing {catalog.order[0]}"


def test_interval_svg_draws_one_row_per_treatment() -> None:
    row = {
        "metric": "conversion",
        "variant": "treatment",
        "effect": 0.02,
        "effect_lower": 0.01,
        "effect_upper": 0.03,
        "sequential_lower": -0.01,
        "sequential_upper": 0.05,
        "significant": True,
    }
    svg = interval_svg([row, {**row, "variant": "b", "significant": False}])
    assert svg.count('<circle class="estimate"') == 2
    assert svg.count('<rect class="sequential"') == 2
    assert svg.count('class="interval significant"') == 1
    nan = {**row, "effect": float("nan")}
    assert "no estimate yet" in interval_svg([nan])


def test_catalog_search_ranks_by_words_matched() -> None:
    import pyarrow as pa

    table = pa.table({
        "listing_id": ["a", "b", "c"],
        "popularity": [0.9, 0.5, 0.1],
        "category": ["kitchen", "ceramics", "candles"],
        "title_en": ["Blue mug", "Blue ceramic mug", "Red candle"],
    })  # fmt: skip
    catalog = Catalog.from_table(table)
    assert catalog.search("blue ceramic", "en-US") == ["b", "a"]
    assert catalog.search("cand", "en-US") == ["c"], "prefixes match"
    assert catalog.search("candles", "de-DE") == ["c"], "the category matches too"
    assert catalog.search("RÉD", "en-US") == ["c"], "case and accents do not matter"
    assert catalog.popular(2, "ceramics") == ["b"]


def test_monitoring_svg_draws_the_band_and_one_point_per_day() -> None:
    points = [
        {
            "day": f"2026-11-0{d}",
            "variant": "treatment",
            "units": 100 * d,
            "effect": 0.1,
            "effect_lower": 0.1 - 0.2 / d,
            "effect_upper": 0.1 + 0.2 / d,
            "sequential_lower": 0.1 - 0.4 / d,
            "sequential_upper": 0.1 + 0.4 / d,
        }
        for d in range(1, 5)
    ]
    svg = monitoring_svg([*points, {**points[0], "variant": "other"}])
    assert svg.count('<circle class="estimate"') == 4, "the first treatment only"
    assert '<polygon class="band"' in svg
    assert "too few days" in monitoring_svg(points[:1])
