"""Ship, don't ship, or keep running: goals and guardrails read from the sequential intervals.

The rules follow GrowthBook's decision criteria, with Eppo's guardrail cutoffs as
non-inferiority margins, evaluated per treatment on the always-valid intervals (so a daily
look does not inflate the error rates):

1. a sample-ratio mismatch: ``keep_running`` (fix the assignment first);
2. a guardrail harmed beyond its tolerance (the lower bound of its harm above the margin) or
   a goal surely worse: ``dont_ship``;
3. every goal surely better and every guardrail surely within its margin (the upper bound of
   its harm below it): ``ship``;
4. otherwise ``keep_running``.

Harm is the effect in the metric's bad direction (``direction = "lower"`` means an increase
harms); the margin is ``tolerance * |control mean|``. A guardrail truly harmed beyond its
margin passes rule 3 only when its interval misses the truth, so the false-ship rate stays at
most ``alpha / 2`` per guardrail, at every look (``benchmarks/experiments_false_ship.py``).

Example:
    >>> from marketlift.experiments.results import MetricResult
    >>> def row(metric, effect, lo, hi):
    ...     return MetricResult(metric=metric, variant="t", control_mean=1.0,
    ...         treatment_mean=1.0 + effect, effect=effect, effect_lower=lo, effect_upper=hi,
    ...         rel_effect=effect, rel_lower=lo, rel_upper=hi, pvalue=0.01, pvalue_adjusted=0.01,
    ...         significant=True, se=0.01, df=1e3, sequential_lower=lo, sequential_upper=hi,
    ...         sequential_pvalue=0.01, chance_to_beat_control=0.9, expected_loss=0.0,
    ...         variance_reduction=0.0, n_control=1000, n_treatment=1000)
    >>> rows = [row("conversion", 0.05, 0.02, 0.08), row("unsubscribes", 0.01, -0.01, 0.015)]
    >>> d = decide(rows, goals=["conversion"], guardrails=[Guardrail("unsubscribes", 0.02)],
    ...            directions={"unsubscribes": "lower"})
    >>> d[0].decision, d[0].guardrails[0].status
    ('ship', 'ok')
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from marketlift.errors import ConfigError
from marketlift.experiments.config import Guardrail
from marketlift.experiments.results import GuardrailCheck, MetricResult, ShipDecision

__all__ = ["Guardrail", "decide"]


def _check(row: MetricResult, guardrail: Guardrail, direction: str) -> GuardrailCheck:
    sign = 1.0 if direction == "lower" else -1.0
    lo, hi = sorted((sign * row.sequential_lower, sign * row.sequential_upper))
    margin = guardrail.tolerance * abs(row.control_mean)
    defined = math.isfinite(lo) and math.isfinite(hi) and "zero_variance" not in row.flags
    status = "inconclusive"
    if defined and lo > margin:
        status = "harmed"
    elif defined and hi < margin:
        status = "ok"
    return GuardrailCheck(
        metric=row.metric,
        tolerance=guardrail.tolerance,
        margin=margin,
        harm=sign * row.effect,
        harm_lower=lo,
        harm_upper=hi,
        status=status,
    )


def _goal(row: MetricResult, direction: str) -> str:
    """``better``, ``worse`` or ``unclear`` from the sequential interval of a goal."""
    sign = -1.0 if direction == "lower" else 1.0
    lo, hi = sorted((sign * row.sequential_lower, sign * row.sequential_upper))
    if "zero_variance" in row.flags or not (math.isfinite(lo) and math.isfinite(hi)):
        return "unclear"
    return "better" if lo > 0 else "worse" if hi < 0 else "unclear"


def _one(
    variant: str,
    rows: Mapping[str, MetricResult],
    goals: Sequence[str],
    guardrails: Sequence[Guardrail],
    directions: Mapping[str, str],
) -> ShipDecision:
    checks = tuple(
        _check(rows[g.metric], g, directions.get(g.metric, "higher")) for g in guardrails
    )
    verdicts = {g: _goal(rows[g], directions.get(g, "higher")) for g in goals}
    harmed = [c.metric for c in checks if c.status == "harmed"]
    worse = [g for g, v in verdicts.items() if v == "worse"]
    if harmed or worse:
        reasons = [f"guardrail {m} harmed beyond its tolerance" for m in harmed]
        reasons += [f"goal {g} is worse" for g in worse]
        return ShipDecision(
            variant=variant, decision="dont_ship", reasons=tuple(reasons), guardrails=checks
        )
    unclear = [g for g, v in verdicts.items() if v != "better"]
    pending = [c.metric for c in checks if c.status != "ok"]
    if goals and not unclear and not pending:
        return ShipDecision(
            variant=variant,
            decision="ship",
            reasons=("every goal better, every guardrail within tolerance",),
            guardrails=checks,
        )
    reasons = [f"goal {g} not yet better" for g in unclear]
    reasons += [f"guardrail {m} not yet within tolerance" for m in pending]
    return ShipDecision(
        variant=variant, decision="keep_running", reasons=tuple(reasons), guardrails=checks
    )


def decide(
    metrics: Iterable[MetricResult],
    *,
    goals: Sequence[str],
    guardrails: Sequence[Guardrail] = (),
    directions: Mapping[str, str] | None = None,
    srm: bool = False,
) -> tuple[ShipDecision, ...]:
    """One :class:`ShipDecision` per treatment variant of ``metrics``.

    Args:
        metrics: Metric results of an analysis (every goal and guardrail among them).
        goals: Metrics the change means to improve.
        guardrails: Metrics it must not harm beyond their tolerance.
        directions: ``higher`` or ``lower`` (is better) per metric; default ``higher``.
        srm: Whether the analysis found a sample-ratio mismatch.

    Raises:
        ConfigError: A goal or guardrail is not among the analyzed metrics.
    """
    by_variant: dict[str, dict[str, MetricResult]] = {}
    for r in metrics:
        by_variant.setdefault(r.variant, {})[r.metric] = r
    needed = [*goals, *(g.metric for g in guardrails)]
    out = []
    for variant, rows in by_variant.items():
        missing = [m for m in needed if m not in rows]
        if missing:
            raise ConfigError("goals/guardrails", missing[0], f"an analyzed metric {sorted(rows)}")
        if srm:
            out.append(
                ShipDecision(
                    variant=variant,
                    decision="keep_running",
                    reasons=("sample-ratio mismatch: fix assignment first",),
                )
            )
            continue
        out.append(_one(variant, rows, goals, guardrails, directions or {}))
    return tuple(out)
