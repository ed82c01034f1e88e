import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketlift.errors import ConfigError
from marketlift.experiments.stats import Moments

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
rows = st.lists(st.tuples(finite, finite), min_size=0, max_size=30)
PAIRS = (("x", "x"), ("x", "y"), ("y", "y"))


def _moments(data: list[tuple[float, float]]) -> Moments:
    return Moments.from_columns({"y": [r[0] for r in data], "x": [r[1] for r in data]}, PAIRS)


@settings(max_examples=200, deadline=None)
@given(rows, rows)
def test_merge_equals_moments_of_union(a: list, b: list) -> None:
    merged = _moments(a) + _moments(b)
    union = _moments(a + b)
    assert merged.n == union.n
    assert merged.sums == pytest.approx(union.sums, abs=1e-6)
    assert merged.cross == pytest.approx(union.cross, rel=1e-12, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(rows, rows, rows)
def test_merge_is_associative_with_zero_identity(a: list, b: list, c: list) -> None:
    ma, mb, mc = _moments(a), _moments(b), _moments(c)
    left, right = (ma + mb) + mc, ma + (mb + mc)
    assert left.n == right.n
    assert left.cross == pytest.approx(right.cross, rel=1e-12, abs=1e-6)
    zero = Moments.zero(("y", "x"), PAIRS)
    assert zero + ma == ma


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mean_var_cov_match_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.lognormal(2.0, 1.0, 500)
    x = 0.5 * y + rng.normal(0, 3, 500)
    m = Moments.from_columns({"y": y.tolist(), "x": x.tolist()})
    assert m.mean("y") == pytest.approx(y.mean(), rel=1e-12)
    assert m.var("y") == pytest.approx(y.var(ddof=1), rel=1e-10)
    assert m.cov("x", "y") == pytest.approx(np.cov(x, y, ddof=1)[0, 1], rel=1e-10)
    assert m.mean(None) == 1.0
    assert m.var(None) == 0.0


def test_merge_of_different_columns_is_misuse() -> None:
    with pytest.raises(ConfigError, match=r"other\.columns"):
        _ = Moments.zero(("y",)) + Moments.zero(("x",))
    with pytest.raises(ConfigError, match="column == 'z'"):
        Moments.zero(("y",)).sum("z")
