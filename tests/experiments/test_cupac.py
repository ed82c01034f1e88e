import numpy as np
import pyarrow as pa
import pytest

from marketlift.errors import ConfigError
from marketlift.experiments.analysis import compare_arm
from marketlift.experiments.cupac import LinearCupac, with_cupac
from marketlift.experiments.metrics import Metric
from marketlift.experiments.stats import Moments


def _units(rng: np.random.Generator, n: int, effect: float) -> pa.Table:
    """Outcome driven by three pre-experiment features; only one is the pre-period metric."""
    pre_revenue = rng.gamma(2.0, 10.0, n)
    sessions = rng.poisson(5.0, n).astype(float)
    tenure = rng.uniform(0, 5, n)
    treat = rng.integers(0, 2, n)
    revenue = (
        0.3 * pre_revenue + 4.0 * sessions + 6.0 * tenure + rng.normal(0, 6, n) + effect * treat
    )
    return pa.table(
        {
            "variant": np.where(treat == 1, "t", "c"),
            "revenue": revenue,
            "pre_revenue": pre_revenue,
            "sessions": sessions,
            "tenure": tenure,
        }
    )


def _moments(y: np.ndarray, x: np.ndarray) -> Moments:
    return Moments(
        y.size,
        ("y", "x"),
        (float(y.sum()), float(x.sum())),
        METRIC.pairs,
        (float(x @ x), float(x @ y), float(y @ y)),
    )


METRIC = Metric("revenue", "y", covariate="x")


@pytest.mark.parametrize("seed", [0, 1])
def test_cupac_beats_cuped_and_stays_unbiased(seed: int) -> None:
    rng = np.random.default_rng(seed)
    history = _units(rng, 20_000, 0.0)
    features = ["pre_revenue", "sessions", "tenure"]
    effects: dict[str, list[float]] = {"cuped": [], "cupac": []}
    reduction: dict[str, list[float]] = {"cuped": [], "cupac": []}
    model = LinearCupac()
    model.fit(
        np.column_stack([history[c].to_numpy() for c in features]), history["revenue"].to_numpy()
    )
    for _ in range(300):
        exp = with_cupac(
            history, _units(rng, 2000, 2.0), target="revenue", features=features, model=model
        )
        treated = exp["variant"].to_numpy(zero_copy_only=False) == "t"
        y = exp["revenue"].to_numpy()
        for kind, cov in (("cuped", "pre_revenue"), ("cupac", "cupac")):
            x = exp[cov].to_numpy()
            r = compare_arm(
                METRIC, _moments(y[~treated], x[~treated]), _moments(y[treated], x[treated]), "t"
            )
            effects[kind].append(r.effect)
            reduction[kind].append(r.variance_reduction)
    for kind, values in effects.items():
        e = np.array(values)
        assert abs(e.mean() - 2.0) < 4 * e.std() / np.sqrt(e.size), kind
    assert np.mean(reduction["cupac"]) > np.mean(reduction["cuped"]) + 0.3
    assert np.var(effects["cupac"]) < np.var(effects["cuped"])


def test_linear_model_matches_numpy_lstsq() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 4))
    y = x @ rng.normal(size=4) + rng.normal(size=300)
    model = LinearCupac().fit(x, y)
    design = np.column_stack([np.ones(300), x])
    ref = np.linalg.lstsq(design, y, rcond=None)[0]
    assert model.intercept_ == pytest.approx(ref[0], abs=1e-10)
    assert model.coef_ == pytest.approx(ref[1:], abs=1e-10)
    assert LinearCupac(alpha=1e6).fit(x, y).coef_ == pytest.approx(np.zeros(4), abs=0.01)


def test_misuse() -> None:
    t = pa.table({"a": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(ConfigError, match="features"):
        with_cupac(t, t, target="y", features=[])
    with pytest.raises(ConfigError, match="experiment"):
        with_cupac(t, t.drop_columns(["a"]), target="y", features=["a"])
    with pytest.raises(ConfigError, match="unfitted"):
        LinearCupac().predict([[1.0]])
