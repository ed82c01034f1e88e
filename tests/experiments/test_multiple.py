import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from marketlift.errors import ConfigError
from marketlift.experiments.multiple import adjust, benjamini_hochberg, holm

pvals = st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=40)


@settings(max_examples=15, deadline=None)  # statsmodels' holm takes ~40 ms a call
@given(pvals)
def test_holm_matches_statsmodels(p: list[float]) -> None:
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]), abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(pvals)
def test_bh_matches_statsmodels(p: list[float]) -> None:
    assert benjamini_hochberg(p) == pytest.approx(
        list(multipletests(p, method="fdr_bh")[1]), abs=1e-12
    )


def test_nan_is_skipped_and_method_is_checked() -> None:
    out = adjust([0.01, float("nan"), 0.02], "holm")
    assert math.isnan(out[1])
    assert out[0] == pytest.approx(0.02)
    with pytest.raises(ConfigError, match="correction"):
        adjust([0.1], "sidak")


@pytest.mark.parametrize(
    "p", [[0.01, 0.04, 0.03, 0.5], [0.001] * 5, [0.2, 0.01, 0.2, 0.049, 0.6, 0.0]]
)
def test_fixed_cases_match_statsmodels(p: list[float]) -> None:
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]), abs=1e-12)
    assert benjamini_hochberg(p) == pytest.approx(
        list(multipletests(p, method="fdr_bh")[1]), abs=1e-12
    )
