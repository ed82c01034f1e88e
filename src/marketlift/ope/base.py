"""What every off-policy estimator returns and shares: an :class:`Estimate` from row terms."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.ope.data import LoggedBandit
from marketlift.ope.diagnostics import WeightDiagnostics, weight_diagnostics
from marketlift.ope.intervals import analytic_interval, bootstrap_interval, normal_quantile

__all__ = ["Estimate", "Estimator", "importance_weights"]

FloatArray = npt.NDArray[np.float64]


class Estimate(NamedTuple):
    """A policy value estimate with its interval and diagnostics.

    Attributes:
        estimator: ``ips``, ``snips``, ``dm``, ``dr`` or ``switch_dr``.
        value: Estimated mean reward per decision under the evaluation policy.
        se: Standard error.
        ci_low: Lower bound of the ``1 - alpha`` interval.
        ci_high: Upper bound.
        interval: ``analytic`` or ``bootstrap``.
        diagnostics: Importance-weight diagnostics (``None`` for the direct method).
        flags: Data conditions worth a look (from the diagnostics).
    """

    estimator: str
    value: float
    se: float
    ci_low: float
    ci_high: float
    interval: str
    diagnostics: WeightDiagnostics | None
    flags: tuple[str, ...]


def importance_weights(data: LoggedBandit, target: FloatArray) -> FloatArray:
    """``pi(a_i | x_i) / mu(a_i | x_i)`` per row."""
    return np.asarray(data.chosen(target) / data.propensity)


class Estimator:
    """Base: subclasses give per-row ``numerator`` (and ``denominator`` for ratio estimators)."""

    name = "estimator"
    needs_reward_model = False

    def terms(
        self,
        data: LoggedBandit,
        target: FloatArray,
        q: FloatArray | None,
    ) -> tuple[FloatArray, FloatArray | None, WeightDiagnostics | None]:
        """Per-row numerator, optional denominator, and weight diagnostics."""
        raise NotImplementedError

    def estimate(
        self,
        data: LoggedBandit,
        target: FloatArray,
        q: FloatArray | None = None,
        *,
        alpha: float = 0.05,
        interval: str = "analytic",
        n_boot: int = 200,
        random_state: int = 0,
    ) -> Estimate:
        """Estimate the value of the policy whose action probabilities are ``target`` ``(n, k)``.

        Args:
            data: The log.
            target: Evaluation policy's probability of every action per row.
            q: Reward model predictions per row and action (DM, DR, switch-DR).
            alpha: 1 - confidence level.
            interval: ``analytic`` (normal) or ``bootstrap`` (Poisson bootstrap percentiles).
            n_boot: Bootstrap replicates.
            random_state: Seed of the bootstrap.
        """
        if target.shape != (len(data), len(data.actions)):
            raise ConfigError("target", target.shape, f"shape ({len(data)}, {len(data.actions)})")
        if self.needs_reward_model and q is None:
            raise ConfigError("q", None, f"reward model predictions for {self.name}")
        num, den, diag = self.terms(data, target, q)
        if interval == "analytic":
            if den is None:
                value = float(num.mean())
                lo, hi = analytic_interval(num, alpha=alpha)
                se = (hi - lo) / (2 * normal_quantile(alpha))
            else:  # ratio: delta method
                value = float(num.sum() / den.sum()) if den.sum() != 0 else float("nan")
                resid = (num - value * den) / den.mean()
                se = float(resid.std(ddof=1) / np.sqrt(len(num)))
                z = normal_quantile(alpha)
                lo, hi = value - z * se, value + z * se
        elif interval == "bootstrap":
            value = float(num.sum() / (den.sum() if den is not None else len(num)))
            lo, hi, se = bootstrap_interval(
                num, den, alpha=alpha, n_boot=n_boot, random_state=random_state
            )
        else:
            raise ConfigError("interval", interval, "'analytic' or 'bootstrap'")
        flags = diag.flags if diag is not None else ()
        return Estimate(self.name, value, se, lo, hi, interval, diag, flags)


def clipped(w: FloatArray, clip: float | None) -> FloatArray:
    """Weights capped at ``clip`` (unchanged when ``None``)."""
    if clip is None:
        return w
    if clip <= 0:
        raise ConfigError("clip", clip, "a number > 0 or None")
    return np.minimum(w, clip)


def diagnose(w_raw: FloatArray, clip: float | None) -> tuple[FloatArray, WeightDiagnostics]:
    """Clip and diagnose."""
    w = clipped(w_raw, clip)
    return w, weight_diagnostics(w, clip=clip, raw=w_raw)
