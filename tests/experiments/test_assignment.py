import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketlift.errors import ConfigError
from marketlift.experiments.assignment import assign, assign_variant, thresholds
from marketlift.experiments.config import (
    Experiment,
    Layer,
    Targeting,
    Variant,
    experiment_from_dict,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "assignment.json").read_text("utf-8")
)


def _experiment(cfg: dict) -> Experiment:
    raw = {"key": "vector", **cfg}
    if raw["layer"] is None:
        del raw["layer"]
    return experiment_from_dict(raw)


def test_assignment_matches_shared_vectors() -> None:
    cases = VECTORS["assignments"]
    assert len(cases) >= 150
    assert {c["variant"] is None for c in cases} == {True, False}
    for case in cases:
        assert assign_variant(_experiment(case["experiment"]), case["unit"]) == case["variant"]


def test_thresholds_follow_spec_float_arithmetic() -> None:
    # floor(0.29 * 100) == 28 in float64: the spec keeps this, so JS and Python agree.
    assert thresholds([0.1, 0.2, 0.7], 0.29)[0] == 28 + int((10000 - 28) * 0.1 / 1.0)
    assert thresholds([1, 1, 1], 0)[-1] == 10000


@pytest.mark.parametrize("weights", [(1, 1), (1, 3), (0.2, 0.3, 0.5)])
def test_split_follows_weights(weights: tuple[float, ...]) -> None:
    exp = Experiment(
        key="split",
        variants=tuple(Variant(f"v{i}", w) for i, w in enumerate(weights)),
        holdout_pct=10,
    )
    n = 40_000
    counts = Counter(assign_variant(exp, f"u{i}") for i in range(n))
    assert abs(counts[None] / n - 0.10) < 0.01
    total = sum(weights)
    for i, w in enumerate(weights):
        assert abs(counts[f"v{i}"] / n - 0.9 * w / total) < 0.015


def test_layer_makes_experiments_mutually_exclusive() -> None:
    a = Experiment(key="a", variants=(Variant("c"), Variant("t")), layer=Layer("home", 0, 5000))
    b = Experiment(key="b", variants=(Variant("c"), Variant("t")), layer=Layer("home", 5000, 10000))
    both = [len(assign([a, b], f"u{i}")) for i in range(5000)]
    assert set(both) == {1}


def test_targeting_and_schedule() -> None:
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    exp = Experiment(
        key="t",
        variants=(Variant("c"), Variant("t")),
        unit="anonymous_id",
        targeting=Targeting(platforms=("ios",), countries=("DE", "AT")),
        start=start,
        end=start + dt.timedelta(days=7),
    )
    inside = start + dt.timedelta(days=1)
    ok = {"platform": "ios", "country": "AT"}
    assert len(assign([exp], {"anonymous_id": "d"}, ok, now=inside)) == 1
    assert assign([exp], {"buyer_id": "b"}, ok, now=inside) == []
    assert assign([exp], "d", {"platform": "web", "country": "AT"}, now=inside) == []
    assert assign([exp], "d", {"platform": "ios", "country": "FR"}, now=inside) == []
    assert assign([exp], "d", ok, now=start - dt.timedelta(seconds=1)) == []
    assert assign([exp], "d", ok, now=start + dt.timedelta(days=7)) == []
    got = assign([exp], "d", ok, now=inside)[0]
    assert (got.experiment_key, got.unit, got.unit_id) == ("t", "anonymous_id", "d")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"key": "Bad-Key", "variants": ["a", "b"]}, "key"),
        ({"key": "k", "variants": ["a"]}, "k.variants"),
        ({"key": "k", "variants": ["a", "a"]}, "k.variants"),
        ({"key": "k", "variants": [{"name": "a", "weight": 0}, "b"]}, "k.variants[0].weight"),
        ({"key": "k", "variants": ["a", "b"], "holdout_pct": 100}, "k.holdout_pct"),
        ({"key": "k", "variants": ["a", "b"], "unit": "email"}, "k.unit"),
        (
            {"key": "k", "variants": ["a", "b"], "layer": {"salt": "l", "start": 5, "end": 5}},
            "k.layer",
        ),
        (
            {"key": "k", "variants": ["a", "b"], "targeting": {"platform": ["tv"]}},
            "k.targeting.platforms",
        ),
        (
            {
                "key": "k",
                "variants": ["a", "b"],
                "start": "2026-11-02T00:00:00+00:00",
                "end": "2026-11-01T00:00:00+00:00",
            },
            "k.end",
        ),
        ({"key": "k", "variants": ["a", "b"], "start": "2026-11-02T00:00:00"}, "k.start"),
        ({"key": "k", "variants": ["a", "b"], "control": "z"}, "k.control"),
    ],
)
def test_invalid_configs_name_field_and_rule(raw: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        experiment_from_dict(raw)
    assert err.value.name == field
    assert "expected" in str(err.value)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(min_value=1e-3, max_value=1e6), min_size=2, max_size=8),
    st.floats(min_value=0, max_value=99.99),
)
def test_thresholds_partition_the_buckets(weights: list[float], holdout: float) -> None:
    ts = thresholds(weights, holdout)
    hold = int(holdout * 100)
    assert ts[-1] == 10_000
    assert all(a <= b for a, b in zip([hold, *ts], ts, strict=False))
    # each variant's share of the non-held buckets is its weight share, to one bucket
    total = sum(weights)
    widths = [b - a for a, b in zip([hold, *ts], ts, strict=False)]
    for w, width in zip(weights, widths, strict=True):
        assert abs(width - (10_000 - hold) * w / total) < 1.0 + 1e-6
