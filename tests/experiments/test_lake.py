import pytest

from marketlift.experiments.lake import LAKE_METRICS, analyze_lake, cumulative_lake
from marketlift.experiments.table import analyze_table


def test_lake_analysis_equals_analysis_of_the_known_unit_table(lake) -> None:
    got = analyze_lake(lake.path, lake.key, experiment=lake.experiment)
    want = analyze_table(
        lake.units,
        variant="variant",
        control="control",
        metrics=list(LAKE_METRICS),
        segments=["platform", "locale", "buyer_type"],
    )
    assert got.arms == want.arms
    assert "multiple_variants" in got.flags
    assert [m.metric for m in got.metrics] == [
        "conversion",
        "revenue_per_unit",
        "aov",
        "revenue_per_session",
    ]
    for a, b in zip(got.metrics, want.metrics, strict=True):
        assert a.effect == pytest.approx(b.effect, rel=1e-9, abs=1e-12), a.metric
        assert a.pvalue == pytest.approx(b.pvalue, rel=1e-9), a.metric
        assert a.variance_reduction == pytest.approx(b.variance_reduction, rel=1e-9, abs=1e-12)
    assert {(s.dimension, s.value) for s in got.segments} == {
        (s.dimension, s.value) for s in want.segments
    }
    conversion = got.metrics[0]
    assert conversion.effect > 0  # the treatment converts 1.3 times as often


def test_unknown_experiment_is_flagged_not_raised(lake) -> None:
    r = analyze_lake(lake.path, "never_ran")
    assert r.flags == ("no_exposures",)
    assert r.metrics == ()


def test_cumulative_readouts_grow_to_the_full_analysis(lake) -> None:
    series = cumulative_lake(lake.path, lake.key, experiment=lake.experiment)
    days = [d for d, _ in series]
    assert days == sorted(days)
    assert len(days) == 7
    units = [sum(a.units for a in r.arms) for _, r in series]
    assert units == sorted(units)
    full = analyze_lake(lake.path, lake.key, experiment=lake.experiment)
    assert series[-1][1].metrics[0].effect == pytest.approx(full.metrics[0].effect, rel=1e-12)


def test_variants_missing_from_config_are_flagged(lake) -> None:
    from marketlift.experiments.config import Experiment, Variant

    only_control = Experiment(key=lake.key, variants=(Variant("control"), Variant("long_copy")))
    r = analyze_lake(lake.path, lake.key, experiment=only_control)
    assert "unknown_variant" in r.flags
    assert [a.variant for a in r.arms] == ["control", "long_copy"]
    assert r.arms[1].units == 0
    assert "empty_arm" in r.flags
