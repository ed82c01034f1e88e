import numpy as np
import pytest
from scipy import integrate, stats

from marketlift.experiments.bayes import bayes


@pytest.mark.parametrize(("mu", "se"), [(0.3, 1.0), (-0.02, 0.01), (5.0, 2.0)])
def test_matches_numerical_integration(mu: float, se: float) -> None:
    r = bayes(mu, se)
    post = stats.norm(mu, se)
    lo, hi = mu - 12 * se, mu + 12 * se
    loss_t = integrate.quad(lambda x: max(0.0, -x) * post.pdf(x), lo, hi, points=[0.0])[0]
    loss_c = integrate.quad(lambda x: max(0.0, x) * post.pdf(x), lo, hi, points=[0.0])[0]
    assert r.chance_to_beat_control == pytest.approx(post.sf(0.0), rel=1e-12)
    assert r.expected_loss_treatment == pytest.approx(loss_t, rel=1e-7, abs=1e-12)
    assert r.expected_loss_control == pytest.approx(loss_c, rel=1e-7, abs=1e-12)


def test_vectorized_and_calibrated_on_aa() -> None:
    rng = np.random.default_rng(5)
    effects = rng.normal(0.0, 1.0, 20_000)
    r = bayes(effects, np.ones_like(effects))
    # under the null, chance to beat control is uniform
    assert np.mean(r.chance_to_beat_control > 0.95) == pytest.approx(0.05, abs=0.01)
