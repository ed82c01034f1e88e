import numpy as np
import pytest
from scipy import stats

from marketlift.errors import ConfigError
from marketlift.experiments.srm import srm_check


@pytest.mark.parametrize(
    ("counts", "weights"),
    [([5000, 5100], [1, 1]), ([1000, 2100, 950], [1, 2, 1]), ([333, 700], [0.3, 0.7])],
)
def test_matches_scipy_chisquare(counts: list[int], weights: list[float]) -> None:
    r = srm_check(counts, weights)
    total = sum(counts)
    expected = [total * w / sum(weights) for w in weights]
    ref = stats.chisquare(counts, expected)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_flags_at_the_configured_rate_under_correct_split(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = rng.binomial(10_000, 0.5, 20_000)
    flagged = np.mean([srm_check([10_000 - x, x], [1, 1], threshold=0.01).mismatch for x in t])
    assert flagged <= 0.015
    assert srm_check([5000, 5400], [1, 1]).mismatch


def test_misuse() -> None:
    with pytest.raises(ConfigError, match="weights"):
        srm_check([1, 2], [1])
    with pytest.raises(ConfigError, match="positive"):
        srm_check([1, 2], [1, 0])
    assert not srm_check([0, 0], [1, 1]).mismatch
