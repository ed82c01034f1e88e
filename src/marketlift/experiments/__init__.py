"""Experiments: configuration, deterministic assignment, exposures, aggregation and inference.

Module map:

- ``hashing``: FNV-1a bucketing shared with the JS SDK.
- ``config``: typed experiment configuration, TOML loading, validation.
- ``assignment``: ``assign`` (targeting, schedule, layers, holdout, weights).
- ``exposures``: one exposure event per unit, experiment and day.
- ``stats``: ``Moments``, the mergeable sufficient statistics.
- ``aggregate``: SQL (DuckDB) reduction of a unit table to moments, in one scan.
- ``metrics``: metric definitions, delta method, CUPED/CUPAC.
- ``cupac``: a model-predicted covariate (fit on history, predict for the experiment).
- ``ttest``, ``sequential``, ``bayes``, ``srm``, ``multiple``: inference pieces.
- ``analysis``: a full readout from moments; ``results``: its types.
- ``table``, ``lake``: readouts over any table, and over the event lake.
- ``power``: sample size and MDE. ``report``: the HTML report.

Example:
    >>> import pyarrow as pa
    >>> t = pa.table({"arm": ["a", "b"] * 100, "y": [0.0, 1.0, 1.0, 1.0] * 50})
    >>> analyze_table(t, variant="arm", control="a", metrics=["y"]).metrics[0].effect
    0.5
"""

from marketlift.experiments.aggregate import aggregate, marginalize, moments_sql
from marketlift.experiments.analysis import analyze_moments, compare_arm
from marketlift.experiments.assignment import Assignment, assign, assign_variant, thresholds
from marketlift.experiments.bandit import AdaptiveEffect, ThompsonAllocator, ipw_effects
from marketlift.experiments.bayes import BayesResult, bayes
from marketlift.experiments.config import (
    Experiment,
    Layer,
    Targeting,
    Variant,
    experiment_from_dict,
    load_experiments,
)
from marketlift.experiments.cupac import LinearCupac, with_cupac
from marketlift.experiments.decision import decide
from marketlift.experiments.definitions import (
    MetricDefinition,
    load_metric_definitions,
    metric_definitions_from_dict,
)
from marketlift.experiments.exposures import (
    ExposureDeduplicator,
    exposure_event,
    exposure_event_id,
    exposures_to_log,
)
from marketlift.experiments.hashing import bucket, fnv1a32
from marketlift.experiments.lake import (
    LAKE_DEFINITIONS,
    LAKE_METRICS,
    analyze_lake,
    cumulative_lake,
)
from marketlift.experiments.metrics import Metric
from marketlift.experiments.multiple import adjust, benjamini_hochberg, holm
from marketlift.experiments.power import PowerResult, mde, plan, power, sample_size
from marketlift.experiments.report import render_report
from marketlift.experiments.results import (
    AnalysisResult,
    ArmCount,
    MetricResult,
    SegmentResult,
    SrmStatus,
)
from marketlift.experiments.sequential import SequentialInterval, sequential_interval
from marketlift.experiments.srm import SrmResult, srm_check
from marketlift.experiments.stats import Moments
from marketlift.experiments.table import analyze_table, parse_metric
from marketlift.experiments.ttest import Lift, welch

__all__ = [
    "LAKE_DEFINITIONS",
    "LAKE_METRICS",
    "AdaptiveEffect",
    "AnalysisResult",
    "ArmCount",
    "Assignment",
    "BayesResult",
    "Experiment",
    "ExposureDeduplicator",
    "Layer",
    "Lift",
    "LinearCupac",
    "Metric",
    "MetricDefinition",
    "MetricResult",
    "Moments",
    "PowerResult",
    "SegmentResult",
    "SequentialInterval",
    "SrmResult",
    "SrmStatus",
    "Targeting",
    "ThompsonAllocator",
    "Variant",
    "adjust",
    "aggregate",
    "analyze_lake",
    "analyze_moments",
    "analyze_table",
    "assign",
    "assign_variant",
    "bayes",
    "benjamini_hochberg",
    "bucket",
    "compare_arm",
    "cumulative_lake",
    "decide",
    "experiment_from_dict",
    "exposure_event",
    "exposure_event_id",
    "exposures_to_log",
    "fnv1a32",
    "holm",
    "ipw_effects",
    "load_experiments",
    "load_metric_definitions",
    "marginalize",
    "mde",
    "metric_definitions_from_dict",
    "moments_sql",
    "parse_metric",
    "plan",
    "power",
    "render_report",
    "sample_size",
    "sequential_interval",
    "srm_check",
    "thresholds",
    "welch",
    "with_cupac",
]
