"""Every method tea-tasting also offers gives the same numbers within 1e-9."""

import pytest
import tea_tasting as tt

from marketlift.experiments.metrics import Metric
from marketlift.experiments.table import analyze_table

METRICS = {
    "conversion": (tt.Mean("orders"), Metric("conversion", "orders")),
    "revenue": (tt.Mean("revenue"), Metric("revenue", "revenue")),
    "revenue_cuped": (
        tt.Mean("revenue", "revenue_covariate"),
        Metric("revenue_cuped", "revenue", covariate="revenue_covariate"),
    ),
    "orders_per_session": (
        tt.RatioOfMeans("orders", "sessions"),
        Metric("orders_per_session", "orders", "sessions"),
    ),
    "rps_cuped": (
        tt.RatioOfMeans("revenue", "sessions", "revenue_covariate", "sessions_covariate"),
        Metric("rps_cuped", "revenue", "sessions", "revenue_covariate", "sessions_covariate"),
    ),
}
FIELDS = {
    "control": "control_mean",
    "treatment": "treatment_mean",
    "effect_size": "effect",
    "effect_size_ci_lower": "effect_lower",
    "effect_size_ci_upper": "effect_upper",
    "rel_effect_size": "rel_effect",
    "rel_effect_size_ci_lower": "rel_lower",
    "rel_effect_size_ci_upper": "rel_upper",
    "pvalue": "pvalue",
    "statistic": None,
}


@pytest.mark.parametrize("seed", [1, 7, 42])
@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_same_numbers_as_tea_tasting(seed: int, confidence: float) -> None:
    data = tt.make_users_data(rng=seed, covariates=True, n_users=3000, return_type="pyarrow")
    experiment = tt.Experiment(
        {
            name: type(ref)(**{**_params(ref), "confidence_level": confidence})
            for name, (ref, _) in METRICS.items()
        }
    )
    expected = experiment.analyze(data)
    got = analyze_table(
        data,
        variant="variant",
        control="0",
        metrics=[m for _, m in METRICS.values()],
        alpha=1 - confidence,
        correction="none",
    )
    assert len(got.metrics) == len(METRICS)
    for result in got.metrics:
        ref = expected[result.metric]
        for tt_field, ours in FIELDS.items():
            value = getattr(ref, tt_field)
            mine = result.effect / result.se if ours is None else getattr(result, ours)
            assert mine == pytest.approx(value, rel=1e-9, abs=1e-12), (result.metric, tt_field)


def _params(metric: tt.Mean | tt.RatioOfMeans) -> dict:
    keys = ("numer", "denom", "numer_covariate", "denom_covariate")
    if isinstance(metric, tt.Mean):
        return {"value": metric.numer, "covariate": metric.numer_covariate}
    return {k: getattr(metric, k) for k in keys}


def test_cuped_variance_reduction_is_reported() -> None:
    data = tt.make_users_data(rng=3, covariates=True, n_users=3000, return_type="pyarrow")
    got = analyze_table(
        data,
        variant="variant",
        control="0",
        metrics=["revenue"],
        covariate="revenue_covariate",
    )
    plain = analyze_table(data, variant="variant", control="0", metrics=["revenue"])
    assert got.metrics[0].variance_reduction > 0.1
    assert got.metrics[0].se < plain.metrics[0].se
    assert plain.metrics[0].variance_reduction == 0.0
