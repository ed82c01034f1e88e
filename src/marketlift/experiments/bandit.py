"""Bandit experiments: Thompson sampling allocation and an analysis valid under adaptivity.

:class:`ThompsonAllocator` turns each arm's outcomes so far into traffic shares: the
posterior probability that the arm is best (Beta posteriors for proportions, Gaussian for
means), mixed with a floor per arm (``share = floor + (1 - k floor) P(best)``) so every arm
keeps being observed, and equal shares until every arm has ``burn_in`` units. The shares are
recomputed at a configured interval (a batch), and every unit's propensity (the share of the
arm it got, when it got it) is logged with its assignment.

Because the shares depend on earlier outcomes, the arms' plain means are biased; the analysis
(:func:`ipw_effects`) uses inverse-propensity weighting of the logged propensities: the
per-unit terms ``1[a = k] y / p - 1[a = c] y / p`` have mean equal to the true effect
whatever the history (the propensity is known given the past), and, with the floor bounding
``1 / p``, their average is asymptotically normal (a martingale central limit theorem), so
``mean +- z sd / sqrt(n)`` is a valid interval. ``benchmarks/experiments_bandit.py`` checks
coverage and regret over 200 simulated runs with a known truth.

Example:
    >>> alloc = ThompsonAllocator(["a", "b"], floor=0.1, burn_in=10, random_state=0)
    >>> alloc.shares({"a": (5, 100), "b": (30, 100)})["b"] > 0.85
    True
    >>> alloc.shares({"a": (1, 5), "b": (1, 5)})  # burn-in: equal shares
    {'a': 0.5, 'b': 0.5}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from scipy import stats

from marketlift.errors import ConfigError

__all__ = ["AdaptiveEffect", "ThompsonAllocator", "ipw_effects", "lake_shares"]


class ThompsonAllocator:
    """Thompson-sampling traffic shares with a floor per arm and a burn-in.

    Args:
        arms: The arm names (two or more).
        floor: The least share of every arm, in ``[0, 1 / len(arms)]``.
        burn_in: Units every arm must have before shares adapt (equal until then).
        kind: ``proportion`` (Beta(1 + successes, 1 + failures) posteriors) or ``mean``
            (Gaussian posteriors from sums and sums of squares).
        draws: Posterior draws per update to estimate ``P(best)``.
        random_state: Seed of the posterior draws.
    """

    def __init__(
        self,
        arms: Sequence[str],
        *,
        floor: float = 0.05,
        burn_in: int = 100,
        kind: str = "proportion",
        draws: int = 4000,
        random_state: int | None = None,
    ) -> None:
        self.arms = tuple(arms)
        self.floor = floor
        self.burn_in = burn_in
        self.kind = kind
        self.draws = draws
        self.random_state = random_state
        if len(self.arms) < 2 or len(set(self.arms)) != len(self.arms):
            raise ConfigError("arms", list(self.arms), "two or more distinct arm names")
        if not 0 <= floor <= 1 / len(self.arms):
            raise ConfigError("floor", floor, f"a share in [0, 1/{len(self.arms)}]")
        if burn_in < 0:
            raise ConfigError("burn_in", burn_in, "an integer >= 0")
        if kind not in ("proportion", "mean"):
            raise ConfigError("kind", kind, "'proportion' or 'mean'")
        self._rng = np.random.default_rng(random_state)

    def shares(self, outcomes: Mapping[str, Sequence[float]]) -> dict[str, float]:
        """Traffic shares from each arm's outcomes so far.

        Args:
            outcomes: Per arm ``(sum of outcomes, units)`` for proportions, or
                ``(sum, units, sum of squares)`` for means.

        Returns:
            Arm -> share (sums to 1).
        """
        missing = [a for a in self.arms if a not in outcomes]
        if missing:
            raise ConfigError("outcomes", missing[0], f"outcomes of every arm {list(self.arms)}")
        n = np.array([float(outcomes[a][1]) for a in self.arms])
        k = len(self.arms)
        if n.min() < self.burn_in:
            return dict.fromkeys(self.arms, 1.0 / k)
        s = np.array([float(outcomes[a][0]) for a in self.arms])
        if self.kind == "proportion":
            draws = self._rng.beta(1.0 + s, 1.0 + np.maximum(n - s, 0.0), (self.draws, k))
        else:
            sq = np.array([float(outcomes[a][2]) for a in self.arms])
            mean = s / np.maximum(n, 1.0)
            var = np.maximum(sq / np.maximum(n, 1.0) - mean**2, 1e-12)
            draws = self._rng.normal(mean, np.sqrt(var / np.maximum(n, 1.0)), (self.draws, k))
        best = np.bincount(np.argmax(draws, axis=1), minlength=k) / self.draws
        share = self.floor + (1.0 - k * self.floor) * best
        return {a: float(x) for a, x in zip(self.arms, share / share.sum(), strict=True)}


class AdaptiveEffect(NamedTuple):
    """IPW effect of one arm against the control under adaptive allocation."""

    arm: str
    value: float
    control_value: float
    effect: float
    se: float
    lower: float
    upper: float
    pvalue: float


def ipw_effects(
    arm: Any,
    propensity: Any,
    outcome: Any,
    *,
    control: str,
    alpha: float = 0.05,
) -> list[AdaptiveEffect]:
    """Inverse-propensity-weighted arm values and effects against ``control``.

    Args:
        arm: Each unit's arm (array of names).
        propensity: The logged share of that arm when the unit was assigned, in (0, 1].
        outcome: Each unit's outcome.
        control: The control arm.
        alpha: One minus the confidence level.

    Returns:
        One :class:`AdaptiveEffect` per arm other than the control.

    Raises:
        ConfigError: Propensities outside (0, 1], unequal lengths, or no control unit.
    """
    a = np.asarray(arm).astype(str)
    p = np.asarray(propensity, dtype=float)
    y = np.asarray(outcome, dtype=float)
    if not (a.shape == p.shape == y.shape):
        raise ConfigError("arm/propensity/outcome", (a.size, p.size, y.size), "equal lengths")
    if a.size == 0 or not np.all((p > 0) & (p <= 1)):
        raise ConfigError("propensity", float(p.min()) if p.size else None, "shares in (0, 1]")
    if not np.any(a == control):
        raise ConfigError("control", control, f"an arm of the data {sorted(set(a.tolist()))}")
    n = a.size
    z = float(stats.norm.ppf(1 - alpha / 2))
    weighted = y / p
    base = np.where(a == control, weighted, 0.0)
    out = []
    for name in sorted(set(a.tolist()) - {control}):
        terms = np.where(a == name, weighted, 0.0) - base
        effect = float(terms.mean())
        se = float(terms.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        pvalue = float(2 * stats.norm.sf(abs(effect) / se)) if se > 0 else 1.0
        out.append(
            AdaptiveEffect(
                arm=name,
                value=float(np.where(a == name, weighted, 0.0).mean()),
                control_value=float(base.mean()),
                effect=effect,
                se=se,
                lower=effect - z * se,
                upper=effect + z * se,
                pvalue=pvalue,
            )
        )
    return out


def lake_shares(
    data_dir: Any,
    experiment: Any,
    allocator: ThompsonAllocator,
    metric: Any,
) -> dict[str, float]:
    """Traffic shares of a bandit experiment from its outcomes in the lake so far.

    Args:
        data_dir: The data directory holding the lake.
        experiment: The experiment's configuration (its variants are the allocator's arms).
        allocator: The allocator (its ``kind`` must suit the metric).
        metric: The goal's :class:`~marketlift.experiments.definitions.MetricDefinition`
            (a proportion or a mean; read without its covariate).

    Returns:
        Arm -> share; write them as the variants' weights for the next interval.
    """
    import dataclasses  # noqa: PLC0415

    from marketlift.experiments.lake import analyze_lake  # noqa: PLC0415 - lake -> bandit

    if metric.kind not in ("proportion", "mean", "retention"):
        raise ConfigError("metric.kind", metric.kind, "a proportion, retention or mean goal")
    plain = dataclasses.replace(metric, covariate=None)
    result = analyze_lake(data_dir, experiment.key, experiment=experiment, metrics=[plain],
                          segments=())  # fmt: skip
    units = {a.variant: a.units for a in result.arms}
    means = dict.fromkeys([experiment.control, *units], 0.0)
    for m in result.metrics:
        means[m.variant] = m.treatment_mean
        means[experiment.control] = m.control_mean
    outcomes = {a: (means.get(a, 0.0) * units.get(a, 0), units.get(a, 0)) for a in allocator.arms}
    return allocator.shares(outcomes)
