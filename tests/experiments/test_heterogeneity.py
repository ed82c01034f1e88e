"""Heterogeneous effects: the interaction test equals statsmodels OLS, flagged in the report."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import statsmodels.api as sm

from marketlift.experiments import Metric, Moments, analyze_table
from marketlift.experiments.heterogeneity import interactions
from marketlift.experiments.report import render_report


def _units(seed: int, effects: dict[str, float], n: int = 3000) -> pa.Table:
    rng = np.random.default_rng(seed)
    segment = rng.choice(sorted(effects), n)
    arm = rng.choice(["control", "treatment"], n)
    lift = np.array([effects[s] for s in segment]) * (arm == "treatment")
    y = rng.normal(1.0, 1.0 + (segment == "a"), n) + lift
    return pa.table({"arm": arm, "segment": segment, "y": y})


def test_interaction_equals_ols_with_hc2_errors() -> None:
    table = _units(0, {"a": 0.5, "b": 0.0, "c": 0.0})
    result = analyze_table(table, variant="arm", control="control", metrics=["y"],
                           segments=["segment"])  # fmt: skip
    df = table.to_pandas()
    t = (df["arm"] == "treatment").astype(float)
    for seg in result.segments:
        (inter,) = seg.interactions
        s = (df["segment"] == seg.value).astype(float)
        x = sm.add_constant(np.column_stack([t, s, t * s]))
        fit = sm.OLS(df["y"].to_numpy(), x).fit(cov_type="HC2")
        assert inter.difference == pytest.approx(fit.params[3], rel=1e-9)
        assert inter.se == pytest.approx(fit.bse[3], rel=1e-9)
        assert inter.pvalue == pytest.approx(fit.pvalues[3], rel=1e-6, abs=1e-300)
    flagged = {s.value for s in result.segments if "heterogeneous" in s.flags}
    assert "a" in flagged
    assert "heterogeneous" in render_report(result)


def _moments(y: np.ndarray) -> Moments:
    return Moments(len(y), ("y",), (float(y.sum()),), (("y", "y"),), (float((y * y).sum()),))


def test_no_heterogeneity_is_rarely_flagged() -> None:
    """Equal effects in 3 segments: Holm keeps the chance of any flag at or below 5%."""
    rng = np.random.default_rng(5)
    runs, flagged = 300, 0
    for _ in range(runs):
        segs = {
            ("segment", s): {
                "control": _moments(rng.normal(1.0, 1.0, 300)),
                "treatment": _moments(rng.normal(1.2, 1.0, 300)),
            }
            for s in "abc"
        }
        tests = interactions(segs, [Metric("y", "y")], control="control")
        flagged += any(i.differs for t in tests.values() for i in t)
    assert flagged / runs <= 0.085
