"""Result types of an analysis: msgspec Structs, so they encode straight to JSON.

Data conditions are flags (strings) on the results, never exceptions:

- ``too_few_units``: an arm has fewer units than ``min_units``; inference is unreliable.
- ``zero_variance``: the effect's standard error is zero (or undefined); no test possible.
- ``zero_control_mean``: the relative lift is undefined.
- ``srm``: sample-ratio mismatch (chi-square p-value below the threshold); do not trust lifts.
- ``empty_arm``: an arm has no units.
- ``covariate_unused``: the covariate could not be used (no variance, or a zero
  denominator); the metric is analyzed without CUPED.
- ``unknown_variant``: exposures name a variant the configuration lacks (they are dropped).
- ``no_exposures`` / ``no_control``: nothing to analyze (lake readouts).
- ``multiple_variants``: some units were exposed to more than one variant (they are dropped).
- ``heterogeneous`` (on a segment): its effect differs from the rest of its dimension (an
  interaction test, corrected over the readout's segments).
- ``zero_denominator``: a ratio's denominator is 0 for every unit.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "AnalysisResult",
    "ArmCount",
    "GuardrailCheck",
    "Interaction",
    "MetricResult",
    "SegmentResult",
    "ShipDecision",
    "SrmStatus",
]


class MetricResult(msgspec.Struct, frozen=True, kw_only=True):
    """One metric, one treatment against the control."""

    metric: str
    variant: str
    control_mean: float
    treatment_mean: float
    effect: float
    effect_lower: float
    effect_upper: float
    rel_effect: float
    rel_lower: float
    rel_upper: float
    pvalue: float
    pvalue_adjusted: float
    significant: bool
    se: float
    df: float
    sequential_lower: float
    sequential_upper: float
    sequential_pvalue: float
    chance_to_beat_control: float
    expected_loss: float
    variance_reduction: float
    n_control: int
    n_treatment: int
    flags: tuple[str, ...] = ()


class ArmCount(msgspec.Struct, frozen=True):
    """Units of one arm against what the weights expect."""

    variant: str
    units: int
    expected: float


class SrmStatus(msgspec.Struct, frozen=True):
    """Sample-ratio check of one analysis."""

    statistic: float
    pvalue: float
    mismatch: bool


class Interaction(msgspec.Struct, frozen=True, kw_only=True):
    """A segment's effect against the effect in the rest of its dimension (interaction test).

    ``differs`` when the corrected p-value is below alpha.
    """

    metric: str
    variant: str
    effect: float
    effect_rest: float
    difference: float
    se: float
    pvalue: float
    pvalue_adjusted: float
    differs: bool


class SegmentResult(msgspec.Struct, frozen=True, kw_only=True):
    """The analysis restricted to one value of one segment dimension."""

    dimension: str
    value: str
    arms: tuple[ArmCount, ...]
    srm: SrmStatus
    metrics: tuple[MetricResult, ...]
    flags: tuple[str, ...] = ()
    interactions: tuple[Interaction, ...] = ()


class GuardrailCheck(msgspec.Struct, frozen=True, kw_only=True):
    """One guardrail of one treatment: its harm against the tolerated margin.

    ``harm`` is the effect in the metric's bad direction (positive is worse); its bounds are
    the always-valid sequential interval. ``status``: ``ok`` (harm surely below the margin),
    ``harmed`` (surely above it) or ``inconclusive``.
    """

    metric: str
    tolerance: float
    margin: float
    harm: float
    harm_lower: float
    harm_upper: float
    status: str


class ShipDecision(msgspec.Struct, frozen=True, kw_only=True):
    """The decision for one treatment: ``ship``, ``dont_ship`` or ``keep_running``."""

    variant: str
    decision: str
    reasons: tuple[str, ...]
    guardrails: tuple[GuardrailCheck, ...] = ()


class AnalysisResult(msgspec.Struct, frozen=True, kw_only=True):
    """A whole readout: arms, SRM, metric lifts, segment breakdowns and ship decisions."""

    experiment: str
    control: str
    alpha: float
    correction: str
    arms: tuple[ArmCount, ...]
    srm: SrmStatus
    metrics: tuple[MetricResult, ...]
    segments: tuple[SegmentResult, ...] = ()
    flags: tuple[str, ...] = ()
    decisions: tuple[ShipDecision, ...] = ()
    missing_values: dict[str, int] = msgspec.field(default_factory=dict)
    """Blank (NULL) values per metric column of a table, and how they were treated (flags
    ``missing_values`` when read as 0, ``missing_dropped`` when their rows were dropped)."""
