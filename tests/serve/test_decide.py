"""POST /v1/decide: ranking, engagement, copy, fallbacks, budget, logging, reload, auth, limits."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from marketlift.lake import query
from marketlift.models.registry import Registry
from marketlift.serve import ServeConfig, create_app
from marketlift.serve.config import DecideConfig
from marketlift.serve.decide import STAGES
from marketlift.serve.decide_schema import MAX_CANDIDATES
from tests.serve.served import explore_every_action

ADMIN = "admin-key-123"
DECIDE = "decide-key-456"


@pytest.fixture
def data(served: Path, tmp_path: Path) -> Path:
    """A private copy (the app writes decisions into its lake)."""
    target = tmp_path / "data"
    shutil.copytree(served, target)
    return target


def _client(data: Path, **kwargs: Any) -> TestClient:
    # a generous budget: a loaded CI machine must not turn these answers into fallbacks
    # (the budget itself is tested with a tiny one)
    decide = kwargs.pop("decide", DecideConfig(reload_interval_s=0, budget_ms=5000))
    return TestClient(
        create_app(ServeConfig(data_dir=data, admin_key=ADMIN, decide=decide, **kwargs))
    )


def _viewed(data: Path) -> list[str]:
    """Listings the simulator's buyers viewed most (the ranker knows them)."""
    rows = query(
        data,
        "SELECT listing_id, count(*) AS n FROM events WHERE type = 'listing_view' "
        "GROUP BY 1 ORDER BY n DESC, 1 LIMIT 50",
    )
    return [r["listing_id"] for r in rows.to_pylist()]


def test_decide_ranks_engages_and_writes_copy_in_the_buyers_locale(data: Path) -> None:
    viewed = _viewed(data)
    with _client(data) as client:
        body = {
            "buyer_id": "b0000007",
            "session_id": "s1",
            "surface": "listing",
            "platform": "web",
            "locale": "de-DE",
            "limit": 10,
            "context": {"listing_id": viewed[0], "recent": viewed[1:3]},
        }
        answer = client.post("/v1/decide", json=body).json()
        assert answer["degraded"] is False, answer["degraded_reasons"]
        assert len(answer["listings"]) == 10
        ids = [item["listing_id"] for item in answer["listings"]]
        assert viewed[0] not in ids  # the page's own listing is not recommended
        scores = [item["score"] for item in answer["listings"]]
        assert scores == sorted(scores, reverse=True)
        assert {item["reason"] for item in answer["listings"]} - {"popular"}
        assert answer["models"]["ranker"] == "v0001"
        assert answer["models"]["intent"] == "v0001"
        assert answer["models"]["policy"].startswith("engagement.pkl@")
        assert set(answer["timings_ms"]) == {*STAGES, "total"}
        assert answer["decision_id"].startswith("d-")
        # over several buyers the policy engages some; copy is in German
        engaged = []
        for i in range(40):
            body["buyer_id"] = f"b{i:07d}"
            got = client.post("/v1/decide", json=body).json()
            if got["engagement"] is not None:
                engaged.append(got["engagement"])
        assert engaged, "the policy never engaged anyone"
        first = engaged[0]
        assert first["channel"] in ("onsite", "in_app")  # on a page: no push or email
        assert 0 < first["propensity"] <= 1
        assert first["copy"]["banner"]
        assert first["copy_status"] in ("hit", "miss")
        german = " ".join(e["copy"]["banner"] for e in engaged)
        assert any(
            w in german
            for w in (
                "Versand",
                "Bewert",
                "Ähnlich",
                "Warenkorb",
                "Rabatt",
                "Sterne",
                "Preis",
                "Gutschein",
                "mehr",
            )
        )


def test_push_surface_only_offers_messages(data: Path) -> None:
    with _client(data) as client:
        channels = set()
        for i in range(40):
            body = {"buyer_id": f"b{i:07d}", "surface": "push", "platform": "ios"}
            got = client.post("/v1/decide", json=body).json()
            if got["engagement"]:
                channels.add(got["engagement"]["channel"])
        assert channels <= {"push", "email"}


def test_push_only_on_the_channels_the_buyer_can_be_reached_on(data: Path) -> None:
    explore_every_action(data)  # each allowed channel shows up, and a forbidden one would too
    with _client(data) as client:
        seen: dict[str, set[str]] = {"email": set(), "none": set(), "all": set()}
        for i in range(60):
            for name, channels in (("email", ["email"]), ("none", []), ("all", None)):
                body = {
                    "buyer_id": f"b{i:07d}", "surface": "push", "platform": "ios",
                    "context": {"cart": ["l0000001"], "channels": channels},
                }  # fmt: skip
                got = client.post("/v1/decide", json=body).json()
                if got["engagement"]:
                    seen[name].add(got["engagement"]["channel"])
        assert seen["all"] == {"push", "email"}  # both are used when allowed
        assert seen["email"] == {"email"}
        assert seen["none"] == set()
        bad = {"buyer_id": "b1", "surface": "push", "platform": "ios",
               "context": {"channels": ["sms"]}}  # fmt: skip
        answer = client.post("/v1/decide", json=bad)
        assert answer.status_code == 422
        error = answer.json()["errors"][0]
        assert error["field"].startswith("context.channels")
        assert "sms" in str(error["value"])


def test_given_candidates_are_the_only_ones_ranked(data: Path) -> None:
    viewed = _viewed(data)
    cands = [*viewed[5:40], "l-unknown-1", "l-unknown-2"]
    with _client(data) as client:
        body = {
            "anonymous_id": "anon-1",
            "surface": "search",
            "platform": "web",
            "candidates": cands,
            "limit": 100,
            "context": {"recent": viewed[:2]},
        }
        answer = client.post("/v1/decide", json=body).json()
    ids = [item["listing_id"] for item in answer["listings"]]
    assert sorted(ids) == sorted(cands)
    assert answer["degraded"] is False


def test_decisions_and_impressions_are_logged_with_propensities(data: Path) -> None:
    viewed = _viewed(data)
    with _client(data) as client:
        ids = []
        for i in range(20):
            body = {
                "buyer_id": f"b{i:07d}",
                "session_id": f"s{i}",
                "surface": "listing",
                "platform": "web",
                "context": {"listing_id": viewed[i]},
            }
            ids.append(client.post("/v1/decide", json=body).json())
    logged = query(
        data,
        "SELECT event_id, decision_id, type, propensity, action, surface, session_id "
        "FROM events WHERE type IN ('decision', 'impression')",
    ).to_pylist()
    decisions = {r["decision_id"]: r for r in logged if r["type"] == "decision"}
    impressions = {r["decision_id"] for r in logged if r["type"] == "impression"}
    for answer in ids:
        row = decisions[answer["decision_id"]]
        assert row["surface"] == "listing"
        assert row["session_id"] is not None
        eng = answer["engagement"]
        if eng is not None:
            assert row["action"] == eng["action"]
            assert row["propensity"] == pytest.approx(eng["propensity"])
        else:
            assert row["action"] == "none"
        assert answer["decision_id"] in impressions


def test_empty_data_directory_answers_degraded_from_the_fallback(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        answer = client.post(
            "/v1/decide",
            json={
                "buyer_id": "b1",
                "surface": "home",
                "platform": "web",
                "candidates": ["a", "b", "c"],
            },
        ).json()
        assert answer["degraded"] is True
        assert "ranker_unavailable" in answer["degraded_reasons"]
        assert [x["listing_id"] for x in answer["listings"]] == ["a", "b", "c"]
        assert answer["engagement"] is None
        assert client.get("/readyz").status_code == 200


def test_budget_overrun_falls_back_to_popularity(data: Path) -> None:
    viewed = _viewed(data)
    with _client(data, decide=DecideConfig(budget_ms=0.001, reload_interval_s=0)) as client:
        answer = client.post(
            "/v1/decide",
            json={
                "buyer_id": "b1",
                "surface": "listing",
                "platform": "web",
                "context": {"listing_id": viewed[0]},
            },
        ).json()
    assert answer["degraded"] is True
    assert any(r.startswith("budget:") for r in answer["degraded_reasons"])
    assert answer["listings"]
    assert {x["reason"] for x in answer["listings"]} == {"popular"}
    assert answer["engagement"] is None


def test_control_variant_gets_the_baseline(data: Path) -> None:
    """Issue 21 item 14: plain ``serve`` (no experiment flag) applies a configured control arm.

    Before arms carried values, only ``--decide-experiment`` made the engine honour a
    control; without it a unit logged as ``control`` still got a nudge with copy.
    """
    (data / "experiments.toml").write_text(
        '[[experiment]]\nkey = "decide"\nunit = "buyer_id"\n'
        'variants = [{name = "control", weight = 1, values = {ranker = "popularity", '
        'policy = "none"}}, {name = "treatment", weight = 1}]\n'
    )
    explore_every_action(data)  # the treatment arm engages whenever it may
    viewed = _viewed(data)
    seen: dict[str, int] = {}
    nudged = {"control": 0, "treatment": 0}
    with _client(data) as client:
        for i in range(40):
            answer = client.post(
                "/v1/decide",
                json={
                    "buyer_id": f"b{i:07d}",
                    "surface": "cart",
                    "platform": "web",
                    "context": {"listing_id": viewed[0], "cart": [viewed[1]]},
                },
            ).json()
            [assignment] = answer["assignments"]
            variant = assignment["variant"]
            seen[variant] = seen.get(variant, 0) + 1
            nudged[variant] += answer["engagement"] is not None
            if variant == "control":
                assert answer["engagement"] is None
                assert {x["reason"] for x in answer["listings"]} == {"popular"}
                assert answer["degraded"] is False
                assert answer["models"] == {"ranker": None, "intent": None, "policy": None}
            else:
                assert answer["models"]["ranker"] == "v0001"
    assert set(seen) == {"control", "treatment"}
    assert nudged["control"] == 0
    assert nudged["treatment"] > 0  # the test can fail: the other arm is nudged
    exposures = query(data, "SELECT count(*) AS n FROM events WHERE type = 'exposure'")
    assert exposures.to_pylist()[0]["n"] == 40
    logged = query(
        data,
        "SELECT json_extract_string(payload, '$.properties.value_policy') AS policy, "
        "json_extract_string(payload, '$.properties.exp_decide') AS variant "
        "FROM events WHERE type = 'decision' AND decision_id IN (SELECT decision_id FROM events "
        "WHERE type = 'decision' AND payload LIKE '%exp_decide%')",
    ).to_pylist()
    assert len(logged) == 40
    assert {(r["variant"], r["policy"]) for r in logged} == {
        ("control", "none"),
        ("treatment", None),
    }


def test_arm_values_switch_actions_off_and_set_the_number_of_listings(data: Path) -> None:
    (data / "experiments.toml").write_text(
        '[[experiment]]\nkey = "few"\nunit = "buyer_id"\n'
        'variants = [{name = "short", values = {limit = 3, actions_off = ['
        '"similar_items_onsite", "free_shipping_banner_onsite", "review_highlight_onsite", '
        '"discount_coupon_in_app", "cart_reminder_push", "cart_reminder_email", '
        '"price_drop_alert_push", "discount_coupon_email"]}}, '
        '{name = "short2", values = {limit = 3}}]\n'
    )
    explore_every_action(data)
    viewed = _viewed(data)
    with _client(data) as client:
        answers = [
            client.post(
                "/v1/decide",
                json={"buyer_id": f"b{i:07d}", "surface": "cart", "platform": "web",
                      "context": {"listing_id": viewed[0], "cart": [viewed[1]]}, "limit": 10},
            ).json()
            for i in range(30)
        ]  # fmt: skip
    assert all(len(a["listings"]) == 3 for a in answers)
    by_arm: dict[str, list[Any]] = {}
    for a in answers:
        by_arm.setdefault(a["assignments"][0]["variant"], []).append(a["engagement"])
    assert all(e is None for e in by_arm["short"])
    assert any(e is not None for e in by_arm["short2"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"buyer_id": "b1", "surface": "checkout", "platform": "web"}, "surface"),
        ({"buyer_id": "b1", "surface": "home", "platform": "web", "limit": 0}, "limit"),
        ({"buyer_id": "b1", "surface": "home", "platform": "tv"}, "platform"),
        ({"surface": "home", "platform": "web"}, "buyer_id"),
        ({"buyer_id": "b1", "surface": "home", "platform": "web", "colour": 1}, "colour"),
        (
            {
                "buyer_id": "b1",
                "surface": "home",
                "platform": "web",
                "candidates": ["x"] * (MAX_CANDIDATES + 1),
            },
            "candidates",
        ),
        (
            {"buyer_id": "b1", "surface": "home", "platform": "web", "context": {"cart": "l1"}},
            "context.cart",
        ),
    ],
)
def test_bad_requests_name_the_field(tmp_path: Path, body: dict[str, Any], field: str) -> None:
    with _client(tmp_path) as client:
        response = client.post("/v1/decide", json=body)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert error["expected"]


def test_limits_and_auth(tmp_path: Path) -> None:
    with _client(tmp_path, decide_key=DECIDE) as client:
        body = {"buyer_id": "b1", "surface": "home", "platform": "web"}
        assert client.post("/v1/decide", json=body).status_code == 401
        wrong = {"Authorization": "Bearer nope-nope-nope"}
        assert client.post("/v1/decide", json=body, headers=wrong).status_code == 401
        ok = {"Authorization": f"Bearer {DECIDE}"}
        assert client.post("/v1/decide", json=body, headers=ok).status_code == 200
        big = b'{"buyer_id": "' + b"x" * 300_000 + b'"}'
        response = client.post("/v1/decide", content=big, headers=ok)
        assert response.status_code == 413
        assert "at most" in response.json()["error"]
        # admin: separate key; the decide key does not open it
        assert client.post("/admin/reload", headers=ok).status_code == 401
        admin = {"Authorization": f"Bearer {ADMIN}"}
        assert client.post("/admin/reload", headers=admin).status_code == 200
        assert client.get("/admin/status", headers=admin).json()["decision_log"]["written"] >= 0
    with TestClient(create_app(ServeConfig(data_dir=tmp_path))) as client:
        assert client.post("/admin/reload").status_code == 403  # no admin key: off


def test_hot_reload_without_a_failed_request_and_corrupt_versions_are_refused(
    data: Path,
) -> None:
    from marketlift.models.ranking_train import register_ranker, train_ranker_lake

    viewed = _viewed(data)
    failures: list[Any] = []
    versions: set[str] = set()
    stop = threading.Event()
    with _client(data) as client:

        def load() -> None:
            while not stop.is_set():
                r = client.post(
                    "/v1/decide",
                    json={
                        "buyer_id": "b1",
                        "surface": "listing",
                        "platform": "web",
                        "context": {"listing_id": viewed[0]},
                    },
                )
                if r.status_code != 200:
                    failures.append(r.status_code)
                    continue
                got = r.json()
                # training beside serving in one process can push a request over the budget
                # (answered from the fallback); nothing else may degrade it
                if not all(x.startswith("budget:") for x in got["degraded_reasons"]):
                    failures.append(got["degraded_reasons"])
                if not got["degraded"]:
                    versions.add(got["models"]["ranker"])

        thread = threading.Thread(target=load)
        thread.start()
        try:
            result, _ = train_ranker_lake(data, n_estimators=10)
            register_ranker(data, result, compile_=False)
            Registry(data).promote("ranker", "v0002")
            admin = {"Authorization": f"Bearer {ADMIN}"}
            reloaded = client.post("/admin/reload", headers=admin).json()
            assert reloaded["reloaded"] == ["ranker v0002"]
            time.sleep(0.3)
            # a corrupt version: promoted, but the last good one keeps serving
            register_ranker(data, result, compile_=False)
            (data / "models" / "ranker" / "v0003" / "model.txt").write_text("garbage")
            Registry(data).promote("ranker", "v0003")
            refused = client.post("/admin/reload", headers=admin).json()
            assert refused["reloaded"] == []
            assert "ranker v0003" in refused["errors"][-1]
            time.sleep(0.2)
        finally:
            stop.set()
            thread.join()
        assert client.get("/readyz").json()["models"]["ranker"] == "v0002"
    assert failures == []
    assert versions == {"v0001", "v0002"}


def test_shadow_ranker_is_scored_and_logged_beside_the_live_one(data: Path) -> None:
    from marketlift.models.ranking_train import register_ranker, train_ranker_lake

    result, _ = train_ranker_lake(data, n_estimators=10)
    register_ranker(data, result, compile_=False)  # v0002: not promoted, the shadow
    viewed = _viewed(data)
    decide = DecideConfig(shadow_ranker="v0002", reload_interval_s=0, budget_ms=5000)
    with _client(data, decide=decide) as client:
        answer = client.post(
            "/v1/decide",
            json={
                "buyer_id": "b1",
                "surface": "listing",
                "platform": "web",
                "context": {"listing_id": viewed[0]},
            },
        ).json()
    assert answer["models"]["ranker"] == "v0001"
    [row] = query(
        data,
        "SELECT payload FROM events WHERE type = 'decision' AND decision_id = ?",
        [answer["decision_id"]],
    ).to_pylist()
    props = json.loads(row["payload"])["properties"]
    assert props["shadow_version"] == "v0002"
    assert len(props["shadow_top"].split(",")) == 10
    assert 0 <= props["shadow_overlap"] <= 1


def test_metrics_per_stage_and_stats(data: Path) -> None:
    with _client(data) as client:
        for i in range(5):
            client.post(
                "/v1/decide", json={"buyer_id": f"b{i}", "surface": "home", "platform": "web"}
            )
        text = client.get("/metrics").text
        stats = client.get("/v1/stats").json()
    for stage in STAGES:
        assert f'marketlift_decide_stage_seconds_count{{stage="{stage}"}} 5.0' in text
    assert 'marketlift_decide_requests_total{status="200"} 5.0' in text
    assert stats["decide"]["requests"] == 5
    assert stats["decide"]["p99_ms"] >= stats["decide"]["p50_ms"] > 0


def test_openapi_documents_decide_with_examples(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        doc = client.get("/openapi.json").json()
    op = doc["paths"]["/v1/decide"]["post"]
    content = op["requestBody"]["content"]["application/json"]
    assert content["example"]["surface"] == "listing"
    assert "200" in op["responses"]
    assert "422" in op["responses"]


def test_serving_store_columns_equal_the_training_columns() -> None:

    from marketlift.models.ranker import store_matrix
    from marketlift.models.serving import store_rows_matrix

    rng = np.random.default_rng(5)
    names = [f"l_{i}" for i in range(12)]
    rows: list[dict[str, Any] | None] = [
        None
        if i % 7 == 0
        else {
            n: None if rng.random() < 0.1 else (bool(i % 2) if j == 3 else float(rng.random()))
            for j, n in enumerate(names)
        }
        for i in range(300)
    ]
    rows[5] = {"l_0": 1}  # a row that lacks keys
    assert np.array_equal(store_rows_matrix(rows, names), store_matrix(rows, names), equal_nan=True)


def test_given_candidates_get_the_features_generation_gives_them(served: Path) -> None:

    from marketlift.models.serving import RankerService

    ranker = RankerService.load(served)
    query = ranker.query(_viewed(served)[:3], locale="de-DE")
    assert query is not None
    cands, generated = ranker.generate(query)
    picked = [3, 0, 7, len(cands) - 1]
    given = ranker.index_features([*(cands[i] for i in picked), "not-a-listing"], query)
    np.testing.assert_array_equal(given[:-1], generated[picked])
    assert np.isnan(given[-1]).all()


def test_an_arms_copy_variant_serves_its_cached_copy(data: Path) -> None:
    """An arm with ``copy_variant`` gets that variant's cached copy; the other arm does not."""
    from marketlift.copy.cache import CopyCache, cache_key
    from marketlift.copy.facts import facts_hash
    from marketlift.copy.request import CopyResult
    from marketlift.copy.sources import requests_for
    from marketlift.serve.decide import Catalog

    viewed = _viewed(data)
    facts = Catalog.load(data, None).facts(viewed[0], "en-US")
    assert facts is not None
    slugs = ("free_shipping", "similar_items", "review_highlight", "discount_coupon",
             "cart_reminder", "price_drop")  # fmt: skip
    cached = []
    for slug in slugs:
        [request] = requests_for("nudge", [facts], "en-US", actions=[slug])
        fh = facts_hash(request.facts)
        key = cache_key("nudge", "v9", fh, "en-US", "qwen-test")
        cached.append(CopyResult(key, "nudge", "en-US", request.action, {"body": "ARM COPY"},
                                 "openai", "qwen-test", "v9", fh))  # fmt: skip
    with CopyCache(data) as cache:
        cache.put_many(cached)
    (data / "experiments.toml").write_text(
        '[[experiment]]\nkey = "copy"\nunit = "buyer_id"\n'
        'variants = [{name = "llm", values = {copy_variant = "qwen-test@v9"}}, "template"]\n'
    )
    explore_every_action(data)
    bodies: dict[str, set[str | None]] = {"llm": set(), "template": set()}
    with _client(data) as client:
        for i in range(40):
            answer = client.post(
                "/v1/decide",
                json={"buyer_id": f"b{i:07d}", "surface": "listing", "platform": "web",
                      "locale": "en-US", "context": {"listing_id": viewed[0]}},
            ).json()  # fmt: skip
            engagement = answer["engagement"]
            if engagement is not None and engagement["copy"]:
                arm = answer["assignments"][0]["variant"]
                bodies[arm].add(engagement["copy"].get("body"))
    assert bodies["llm"] == {"ARM COPY"}
    assert bodies["template"]
    assert "ARM COPY" not in bodies["template"]
