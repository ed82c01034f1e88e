"""Off-policy evaluation in one call, and the gate that says whether a policy deserves an A/B test.

The evaluation policy is a marketlift policy (anything with ``probabilities(X, available)``),
a named built-in (``uniform``, ``logging``, ``never``) or a table of action probabilities per
row (an ``(n, k)`` array).

Example:
    >>> import numpy as np
    >>> from marketlift.ope.data import LoggedBandit
    >>> rng = np.random.default_rng(0)
    >>> a = rng.integers(0, 2, 4000)
    >>> d = LoggedBandit.build(actions=["none", "push"], action=a,
    ...     reward=rng.binomial(1, np.where(a == 1, 0.3, 0.1)).astype(float),
    ...     propensity=np.full(4000, 0.5))
    >>> report = evaluate(d, "uniform", estimators=("ips", "snips"))
    >>> [round(e.value, 1) for e in report.estimates]
    [0.2, 0.2]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.ope.base import Estimate, Estimator
from marketlift.ope.data import FloatArray, LoggedBandit
from marketlift.ope.dm import DM
from marketlift.ope.dr import DR
from marketlift.ope.ips import IPS
from marketlift.ope.reward_model import fit_reward_model
from marketlift.ope.snips import SNIPS
from marketlift.ope.switch_dr import SwitchDR

__all__ = ["ESTIMATORS", "GateResult", "OPEReport", "evaluate", "gate", "target_probabilities"]

ESTIMATORS: dict[str, type[Estimator]] = {
    "ips": IPS,
    "snips": SNIPS,
    "dm": DM,
    "dr": DR,
    "switch_dr": SwitchDR,
}


@runtime_checkable
class HasProbabilities(Protocol):
    """A policy that gives every action's probability (every marketlift policy does)."""

    actions_: list[str]

    def probabilities(self, X: npt.ArrayLike, available: npt.ArrayLike | None = None) -> FloatArray:  # noqa: N803
        """``(n, k)`` action probabilities."""
        ...


def target_probabilities(policy: Any, data: LoggedBandit) -> FloatArray | None:
    """The evaluation policy's ``(n, k)`` probabilities (``None`` for ``logging``: on-policy)."""
    n, k = len(data), len(data.actions)
    if isinstance(policy, str):
        if policy == "logging":
            return None
        if policy == "uniform":
            return np.asarray(data.available / data.available.sum(axis=1, keepdims=True))
        if policy == "never":
            if "none" not in data.actions:
                raise ConfigError("policy", policy, "a log with a 'none' action")
            out = np.zeros((n, k))
            out[:, data.actions.index("none")] = 1.0
            return out
        raise ConfigError("policy", policy, "uniform, logging, never, a policy or a table")
    if isinstance(policy, HasProbabilities):
        cols = [policy.actions_.index(a) if a in policy.actions_ else -1 for a in data.actions]
        missing = [a for a in policy.actions_ if a not in data.actions]
        if missing:
            raise ConfigError("policy actions", missing, f"actions of the log {list(data.actions)}")
        mask = np.zeros((n, len(policy.actions_)), dtype=bool)
        for j, c in enumerate(cols):
            if c >= 0:
                mask[:, c] = data.available[:, j]
        P = policy.probabilities(data.context, mask)  # noqa: N806
        out = np.zeros((n, k))
        for j, c in enumerate(cols):
            if c >= 0:
                out[:, j] = P[:, c]
        return out
    P = np.asarray(policy, dtype=np.float64)  # noqa: N806
    if P.shape != (n, k) or (P < 0).any() or not np.allclose(P.sum(axis=1), 1.0, atol=1e-6):
        raise ConfigError("policy table", P.shape, f"({n}, {k}) probabilities summing to 1 per row")
    return P


@dataclasses.dataclass(frozen=True, slots=True)
class OPEReport:
    """Every estimate of one policy's value on one log.

    Attributes:
        n: Logged decisions.
        logged_value: Mean observed reward (the logging policy's value).
        estimates: One :class:`Estimate` per estimator.
    """

    n: int
    logged_value: float
    estimates: list[Estimate]

    def get(self, name: str) -> Estimate:
        """The estimate of one estimator."""
        for e in self.estimates:
            if e.estimator == name:
                return e
        raise ConfigError("estimator", name, f"one of {[e.estimator for e in self.estimates]}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        rows = []
        for e in self.estimates:
            row = {
                f: getattr(e, f)
                for f in ("estimator", "value", "se", "ci_low", "ci_high", "interval")
            }
            row["flags"] = list(e.flags)
            row["diagnostics"] = None if e.diagnostics is None else e.diagnostics._asdict()
            if row["diagnostics"] is not None:
                row["diagnostics"]["flags"] = list(e.diagnostics.flags) if e.diagnostics else []
            rows.append(row)
        return {"n": self.n, "logged_value": self.logged_value, "estimates": rows}


def evaluate(
    data: LoggedBandit,
    policy: Any,
    *,
    estimators: Sequence[str | Estimator] = ("ips", "snips", "dm", "dr", "switch_dr"),
    q: FloatArray | None = None,
    alpha: float = 0.05,
    interval: str = "analytic",
    n_boot: int = 200,
    random_state: int = 0,
) -> OPEReport:
    """Estimate the value of ``policy`` on ``data`` with several estimators.

    Args:
        data: The log.
        policy: A marketlift policy, ``uniform``, ``logging``, ``never`` or an ``(n, k)`` table.
        estimators: Names or configured estimator objects.
        q: Reward model predictions; fitted (cross-fitted LightGBM) when needed and not given.
        alpha: 1 - confidence level.
        interval: ``analytic`` or ``bootstrap``.
        n_boot: Bootstrap replicates.
        random_state: Seed of the reward model folds and the bootstrap.
    """
    objs: list[Estimator] = []
    for e in estimators:
        if isinstance(e, str) and e in ESTIMATORS:
            objs.append(ESTIMATORS[e]())
        elif isinstance(e, Estimator):
            objs.append(e)
        else:
            raise ConfigError("estimators", e, f"names among {', '.join(ESTIMATORS)} or Estimators")
    target = target_probabilities(policy, data)
    if target is None:  # on-policy: every estimator reduces to the mean reward
        target = np.zeros((len(data), len(data.actions)))
        target[np.arange(len(data)), data.action] = data.propensity
        # pi(a_i|x_i) = mu(a_i|x_i): weights are 1; other actions' mass is unknown, so only the
        # weighting estimators are meaningful here.
        objs = [e for e in objs if not e.needs_reward_model] or [IPS()]
    if q is None and any(e.needs_reward_model for e in objs):
        q = fit_reward_model(data, random_state=random_state)
    estimates = [
        e.estimate(
            data,
            target,
            q,
            alpha=alpha,
            interval=interval,
            n_boot=n_boot,
            random_state=random_state,
        )
        for e in objs
    ]
    return OPEReport(len(data), float(data.reward.mean()), estimates)


@dataclasses.dataclass(frozen=True, slots=True)
class GateResult:
    """Whether a candidate policy is worth an A/B test against the logging policy.

    Attributes:
        worth_testing: The lower bound of the lift's interval is above ``min_lift``.
        estimator: The estimator used.
        candidate_value: Estimated value per decision of the candidate.
        logging_value: Observed value per decision of the logging policy.
        lift: ``candidate_value - logging_value``.
        ci_low: Lower bound of the lift's interval.
        ci_high: Upper bound.
        reason: One sentence.
        flags: Diagnostics of the candidate's estimate.
    """

    worth_testing: bool
    estimator: str
    candidate_value: float
    logging_value: float
    lift: float
    ci_low: float
    ci_high: float
    reason: str
    flags: tuple[str, ...]


def gate(
    data: LoggedBandit,
    candidate: Any,
    *,
    estimator: str = "dr",
    alpha: float = 0.05,
    min_lift: float = 0.0,
    random_state: int = 0,
    q: FloatArray | None = None,
) -> GateResult:
    """Compare ``candidate`` with the logging policy offline (paired: the same rows).

    The lift's interval comes from the per-row difference between the candidate's estimator
    terms and the observed reward, so shared noise cancels. ``q``: reward model predictions
    (as in :func:`evaluate`), fitted when needed and not given.
    """
    if estimator not in ("ips", "dr", "switch_dr", "dm"):
        raise ConfigError("estimator", estimator, "ips, dr, switch_dr or dm")
    target = target_probabilities(candidate, data)
    if target is None:
        raise ConfigError("candidate", candidate, "a policy other than the logging policy")
    est = ESTIMATORS[estimator]()
    if q is None and est.needs_reward_model:
        q = fit_reward_model(data, random_state=random_state)
    num, _, diag = est.terms(data, target, q)
    diff = num - data.reward
    from marketlift.ope.intervals import analytic_interval  # noqa: PLC0415

    lo, hi = analytic_interval(diff, alpha=alpha)
    lift = float(diff.mean())
    worth = lo > min_lift
    reason = (
        f"the {estimator} lift's {1 - alpha:.0%} interval [{lo:.4g}, {hi:.4g}] "
        + ("is above" if worth else "is not above")
        + f" {min_lift:g}"
    )
    flags = diag.flags if diag is not None else ()
    return GateResult(
        worth, estimator, float(num.mean()), float(data.reward.mean()), lift, lo, hi, reason, flags
    )
