"""Inference on per-arm moments: every metric, every treatment against control.

Each comparison gets the Welch test with absolute and relative intervals (CUPED/CUPAC
adjusted when the metric has a covariate), an always-valid sequential interval, the Bayesian
chance to beat control and expected loss. P-values are corrected across metrics and
variants (Holm by default). The SRM check runs on every analysis and on every segment.

Example:
    >>> from marketlift.experiments.stats import Moments
    >>> m = Metric("conversion", "converted")
    >>> arms = {
    ...     "control": Moments.from_columns({"converted": [0.0] * 900 + [1.0] * 100}),
    ...     "treatment": Moments.from_columns({"converted": [0.0] * 860 + [1.0] * 140}),
    ... }
    >>> r = analyze_moments(arms, [m], control="control")
    >>> r.srm.mismatch, round(r.metrics[0].effect, 3), r.metrics[0].significant
    (False, 0.04, True)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Final

import msgspec

from marketlift.errors import ConfigError
from marketlift.experiments.bayes import bayes
from marketlift.experiments.metrics import Metric
from marketlift.experiments.multiple import adjust
from marketlift.experiments.results import (
    AnalysisResult,
    ArmCount,
    MetricResult,
    SegmentResult,
    SrmStatus,
)
from marketlift.experiments.sequential import sequential_interval
from marketlift.experiments.srm import SRM_ALPHA, srm_check
from marketlift.experiments.stats import Moments
from marketlift.experiments.ttest import welch

__all__ = ["TINY_SHARE", "Metric", "analyze_moments", "compare_arm"]

TINY_SHARE: Final = 0.01
"""An arm with less than this share of the units (and a larger configured share) is flagged
``tiny_arm``: most often a typo of a variant value (``"contorl"``) rather than a real arm."""


def compare_arm(
    metric: Metric,
    control: Moments,
    treatment: Moments,
    variant: str,
    *,
    alpha: float = 0.05,
    tuning_n: float = 10_000,
    min_units: int = 30,
) -> MetricResult:
    """Compare one metric between the control and one treatment arm.

    ``pvalue_adjusted`` equals ``pvalue`` here; :func:`analyze_moments` corrects it.
    """
    flags: list[str] = []
    if control.n == 0 or treatment.n == 0:
        flags.append("empty_arm")
    if min(control.n, treatment.n) < min_units:
        flags.append("too_few_units")
    pooled = control + treatment
    mean_c, var_c = metric.adjusted(control, pooled)
    mean_t, var_t = metric.adjusted(treatment, pooled)
    raw_var_c, raw_var_t = metric.plain(control)[1], metric.plain(treatment)[1]
    lift = welch(mean_c, var_c, control.n, mean_t, var_t, treatment.n, alpha=alpha)
    if not (math.isfinite(lift.se) and lift.se > 0):
        flags.append("zero_variance")
    if mean_c == 0 or not math.isfinite(mean_c):
        flags.append("zero_control_mean")
    if metric.covariate is not None and (mean_c, var_c) == metric.plain(control):
        flags.append("covariate_unused")
    seq = sequential_interval(
        lift.effect, lift.se, control.n + treatment.n, alpha=alpha, tuning_n=tuning_n
    )
    post = bayes(lift.effect, lift.se)
    with_cov = var_c / control.n + var_t / treatment.n if control.n and treatment.n else 0.0
    without = raw_var_c / control.n + raw_var_t / treatment.n if control.n and treatment.n else 0.0
    reduction = 1.0 - with_cov / without if without > 0 else 0.0
    significant = bool(lift.pvalue < alpha) and "zero_variance" not in flags
    return MetricResult(
        metric=metric.name,
        variant=variant,
        control_mean=lift.control,
        treatment_mean=lift.treatment,
        effect=lift.effect,
        effect_lower=lift.effect_lower,
        effect_upper=lift.effect_upper,
        rel_effect=lift.rel_effect,
        rel_lower=lift.rel_lower,
        rel_upper=lift.rel_upper,
        pvalue=lift.pvalue,
        pvalue_adjusted=lift.pvalue,
        significant=significant,
        se=lift.se,
        df=lift.df,
        sequential_lower=seq.lower,
        sequential_upper=seq.upper,
        sequential_pvalue=seq.pvalue,
        chance_to_beat_control=post.chance_to_beat_control,
        expected_loss=post.expected_loss_treatment,
        variance_reduction=reduction,
        n_control=control.n,
        n_treatment=treatment.n,
        flags=tuple(flags),
    )


def _block(
    arms: Mapping[str, Moments],
    metrics: Sequence[Metric],
    *,
    control: str,
    weights: Mapping[str, float],
    alpha: float,
    correction: str,
    tuning_n: float,
    min_units: int,
) -> tuple[tuple[ArmCount, ...], SrmStatus, tuple[MetricResult, ...], tuple[str, ...]]:
    names = [control, *(v for v in arms if v != control)]
    counts = [arms[v].n for v in names]
    srm = srm_check(counts, [weights[v] for v in names], threshold=SRM_ALPHA)
    arm_counts = tuple(
        ArmCount(v, c, e) for v, c, e in zip(names, counts, srm.expected, strict=True)
    )
    results = [
        compare_arm(
            metric,
            arms[control],
            arms[v],
            v,
            alpha=alpha,
            tuning_n=tuning_n,
            min_units=min_units,
        )
        for v in names[1:]
        for metric in metrics
    ]
    adjusted = adjust([r.pvalue for r in results], correction)
    results = [_with_adjusted(r, p, alpha) for r, p in zip(results, adjusted, strict=True)]
    total, weight = sum(counts), sum(weights[v] for v in names)
    tiny = {
        v
        for v, c in zip(names, counts, strict=True)
        if total and c / total < TINY_SHARE and weights[v] / weight >= TINY_SHARE
    }
    results = [
        msgspec.structs.replace(r, flags=(*r.flags, "tiny_arm"))
        if r.variant in tiny or control in tiny
        else r
        for r in results
    ]
    flags: list[str] = ["srm"] if srm.mismatch else []
    flags += [f for f in ("empty_arm", "too_few_units") if any(f in r.flags for r in results)]
    if tiny:
        flags.append("tiny_arm")
    return (
        arm_counts,
        SrmStatus(srm.statistic, srm.pvalue, srm.mismatch),
        tuple(results),
        tuple(flags),
    )


def _with_adjusted(result: MetricResult, pvalue_adjusted: float, alpha: float) -> MetricResult:
    """Set the corrected p-value and the significance decision that follows from it."""
    significant = bool(pvalue_adjusted < alpha) and "zero_variance" not in result.flags
    return msgspec.structs.replace(result, pvalue_adjusted=pvalue_adjusted, significant=significant)


def analyze_moments(
    arms: Mapping[str, Moments],
    metrics: Sequence[Metric],
    *,
    control: str,
    weights: Mapping[str, float] | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    tuning_n: float = 10_000,
    min_units: int = 30,
    segments: Mapping[tuple[str, str], Mapping[str, Moments]] | None = None,
    experiment: str = "experiment",
) -> AnalysisResult:
    """Analyze an experiment from per-arm moments.

    Args:
        arms: Moments per variant (the SQL reduction of the unit-level table).
        metrics: Metrics to analyze; their columns must be in the moments.
        control: Name of the control variant.
        weights: Configured weights per variant for the SRM check; equal when ``None``.
        alpha: One minus the confidence level, in (0, 1).
        correction: ``"holm"``, ``"bh"`` (Benjamini-Hochberg) or ``"none"``, applied across
            metrics and treatment variants (separately within each segment).
        tuning_n: Units at which the sequential interval is tightest (the planned size).
        min_units: Arms smaller than this get the ``too_few_units`` flag.
        segments: Moments per variant for each ``(dimension, value)``; each segment also gets
            its interaction tests against the rest of its dimension (flag ``heterogeneous``).
        experiment: Name shown in the result.

    Returns:
        The :class:`AnalysisResult`.
    """
    if not 0 < alpha < 1:
        raise ConfigError("alpha", alpha, "a number in (0, 1)")
    if control not in arms:
        raise ConfigError("control", control, f"one of the variants {sorted(arms)}")
    if len(arms) < 2:
        raise ConfigError("arms", sorted(arms), "at least two variants in the data")
    if not metrics:
        raise ConfigError("metrics", list(metrics), "at least one metric")
    w = dict(weights) if weights is not None else dict.fromkeys(arms, 1.0)
    missing = set(arms) - set(w)
    if missing:
        raise ConfigError("weights", w, f"a weight for every variant (missing {sorted(missing)})")
    block = functools.partial(
        _block,
        metrics=metrics,
        control=control,
        weights=w,
        alpha=alpha,
        correction=correction,
        tuning_n=tuning_n,
        min_units=min_units,
    )
    arm_counts, srm, results, flags = block(arms)
    seg_results = []
    full_segments = {
        key: {v: seg_arms.get(v, Moments.zero(arms[v].columns, arms[v].pairs)) for v in arms}
        for key, seg_arms in (segments or {}).items()
    }
    from marketlift.experiments.heterogeneity import interactions  # noqa: PLC0415 - a cycle

    tests = interactions(
        full_segments, metrics, control=control, alpha=alpha, correction=correction
    )
    for (dimension, value), full in full_segments.items():
        s_counts, s_srm, s_results, s_flags = block(full)
        seg_results.append(
            SegmentResult(
                dimension=dimension,
                value=value,
                arms=s_counts,
                srm=s_srm,
                metrics=s_results,
                flags=(*s_flags, "heterogeneous")
                if any(i.differs for i in tests.get((dimension, value), ()))
                else s_flags,
                interactions=tests.get((dimension, value), ()),
            )
        )
    return AnalysisResult(
        experiment=experiment,
        control=control,
        alpha=alpha,
        correction=correction,
        arms=arm_counts,
        srm=srm,
        metrics=results,
        segments=tuple(seg_results),
        flags=flags,
    )
