"""Heterogeneous effects: does a segment's effect differ from the rest of the experiment?

For every segment value, metric and treatment, the effect inside the segment is compared with
the effect in the rest of its dimension (the other values, pooled) by a z-test of the
difference of two independent estimates: ``(e_seg - e_rest) / sqrt(se_seg^2 + se_rest^2)``.
Without a covariate this is the interaction coefficient of ``y ~ treatment * in_segment`` with
HC2 standard errors (equal to statsmodels' OLS); with CUPED each side uses its adjusted
estimate. P-values are corrected over every interaction test of the readout (Holm by default);
``differs`` flags the segments whose corrected p-value is below ``alpha``.

Example:
    >>> from marketlift.experiments.metrics import Metric
    >>> from marketlift.experiments.stats import Moments
    >>> def arm(ys):
    ...     return Moments.from_columns({"y": ys})
    >>> segs = {("platform", "ios"): {"c": arm([0.0, 1.0] * 200), "t": arm([1.0, 2.0] * 200)},
    ...         ("platform", "web"): {"c": arm([0.0, 1.0] * 200), "t": arm([0.0, 1.0] * 200)}}
    >>> out = interactions(segs, [Metric("y", "y")], control="c")
    >>> [(k[1], round(i.difference, 3), i.differs) for k, (i,) in out.items()]
    [('ios', 1.0, True), ('web', -1.0, True)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from scipy import stats

from marketlift.experiments.analysis import compare_arm
from marketlift.experiments.metrics import Metric
from marketlift.experiments.multiple import adjust
from marketlift.experiments.results import Interaction
from marketlift.experiments.stats import Moments

__all__ = ["interactions"]

SegmentKey = tuple[str, str]


def _rest(
    segments: Mapping[SegmentKey, Mapping[str, Moments]], key: SegmentKey, variant: str
) -> Moments | None:
    parts = [
        s[variant] for k, s in segments.items() if k[0] == key[0] and k != key and variant in s
    ]
    if not parts:
        return None
    total = parts[0]
    for m in parts[1:]:
        total = total + m
    return total


def interactions(
    segments: Mapping[SegmentKey, Mapping[str, Moments]],
    metrics: Sequence[Metric],
    *,
    control: str,
    alpha: float = 0.05,
    correction: str = "holm",
) -> dict[SegmentKey, tuple[Interaction, ...]]:
    """Interaction tests of every segment value against the rest of its dimension.

    Args:
        segments: Moments per variant for each ``(dimension, value)``.
        metrics: The metrics to test.
        control: The control variant.
        alpha: Level of the ``differs`` flag (after correction).
        correction: ``holm``, ``bh`` or ``none`` over all the readout's interaction tests.

    Returns:
        Per segment, one :class:`~marketlift.experiments.results.Interaction` per treatment
        and metric (none for a dimension with a single value, or an arm missing).
    """
    raw: list[tuple[SegmentKey, dict[str, object]]] = []
    for key, arms in segments.items():
        if control not in arms:
            continue
        rest_c = _rest(segments, key, control)
        for variant in (v for v in arms if v != control):
            rest_t = _rest(segments, key, variant)
            if rest_c is None or rest_t is None:
                continue
            for metric in metrics:
                seg = compare_arm(metric, arms[control], arms[variant], variant, min_units=0)
                rest = compare_arm(metric, rest_c, rest_t, variant, min_units=0)
                se = math.hypot(seg.se, rest.se)
                diff = seg.effect - rest.effect
                ok = math.isfinite(se) and se > 0 and math.isfinite(diff)
                pvalue = float(2 * stats.norm.sf(abs(diff) / se)) if ok else 1.0
                raw.append((key, {"metric": metric.name, "variant": variant,
                                  "effect": seg.effect, "effect_rest": rest.effect,
                                  "difference": diff, "se": se, "pvalue": pvalue}))  # fmt: skip
    adjusted = adjust([float(r["pvalue"]) for _, r in raw], correction)  # type: ignore[arg-type]
    out: dict[SegmentKey, list[Interaction]] = {}
    for (key, r), p in zip(raw, adjusted, strict=True):
        out.setdefault(key, []).append(
            Interaction(**r, pvalue_adjusted=p, differs=bool(p < alpha))  # type: ignore[arg-type]
        )
    return {k: tuple(v) for k, v in out.items()}
