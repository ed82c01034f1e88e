"""Readout of a unit table for metric definitions (DuckDB): moments, quantiles, decisions.

Shared by :func:`~marketlift.experiments.lake.analyze_lake` (units built from the lake's events
by :func:`~marketlift.experiments.compile.unit_metrics_sql`) and :func:`analyze_units` (any
table whose columns are the definitions' unit columns, e.g. made on Spark or in a warehouse).

Example:
    >>> import duckdb
    >>> from marketlift.experiments.definitions import metric_definitions_from_dict
    >>> defs = metric_definitions_from_dict({"metric": [
    ...     {"name": "orders", "kind": "mean", "numerator": {"event": "purchase", "name": "n"}},
    ...     {"name": "p50", "kind": "quantile", "quantile": 0.5,
    ...      "numerator": {"event": "purchase", "name": "n"}}]})
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE u AS SELECT CASE WHEN i % 2 = 0 THEN 'control' ELSE "
    ...                 "'t' END AS variant, (i % 7)::DOUBLE AS n FROM range(1000) r(i)")
    >>> r = analyze_units(con, "u", defs.values(), control="control")
    >>> [m.metric for m in r.metrics]
    ['orders', 'p50']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import msgspec

from marketlift.errors import ConfigError
from marketlift.experiments.aggregate import aggregate, marginalize, quote
from marketlift.experiments.analysis import analyze_moments
from marketlift.experiments.compile import moment_metrics
from marketlift.experiments.config import Experiment
from marketlift.experiments.decision import decide
from marketlift.experiments.definitions import MetricDefinition
from marketlift.experiments.metrics import Metric
from marketlift.experiments.multiple import adjust
from marketlift.experiments.quantile import ArmQuantiles, compare_quantile, quantile_levels
from marketlift.experiments.results import AnalysisResult, MetricResult, SrmStatus
from marketlift.experiments.stats import Moments

if TYPE_CHECKING:
    import duckdb

__all__ = ["analyze_units", "readout"]


def _quantiles(
    con: duckdb.DuckDBPyConnection,
    source: str,
    definitions: Sequence[MetricDefinition],
    arms: Mapping[str, Moments],
    control: str,
    *,
    alpha: float,
    tuning_n: float,
    min_units: int,
) -> list[MetricResult]:
    """Quantile metrics: three quantiles per arm in SQL, inference in Python."""
    out: list[MetricResult] = []
    for d in definitions:
        if d.kind != "quantile" or d.quantile is None:
            continue
        col = quote(d.value_column)
        per_arm = {}
        for variant, m in arms.items():
            levels = ", ".join(repr(x) for x in quantile_levels(d.quantile, m.n))
            (qs,) = con.execute(
                f"SELECT quantile_cont(coalesce({col}, 0), [{levels}]) FROM {source} "  # noqa: S608
                "WHERE variant = ?",
                [variant],
            ).fetchone() or (None,)
            values = [float("nan")] * 3 if qs is None else [float(x) for x in qs]
            per_arm[variant] = ArmQuantiles(m.n, *values)
        out += [
            compare_quantile(
                d.name,
                d.quantile,
                per_arm[control],
                per_arm[v],
                variant=v,
                alpha=alpha,
                tuning_n=tuning_n,
                min_units=min_units,
            )
            for v in per_arm
            if v != control
        ]
    return out


def _merge(
    result: AnalysisResult,
    extra: Sequence[MetricResult],
    order: Sequence[str],
    drop: str | None,
) -> AnalysisResult:
    """Add quantile results, drop the placeholder metric, correct p-values over all of them."""
    rows = [r for r in (*result.metrics, *extra) if r.metric != drop]
    variants = [a.variant for a in result.arms]
    rank = {name: i for i, name in enumerate(order)}
    rows.sort(key=lambda r: (variants.index(r.variant), rank.get(r.metric, len(rank))))
    adjusted = adjust([r.pvalue for r in rows], result.correction)
    rows = [
        msgspec.structs.replace(
            r,
            pvalue_adjusted=p,
            significant=bool(p < result.alpha) and "zero_variance" not in r.flags,
        )
        for r, p in zip(rows, adjusted, strict=True)
    ]
    segments = tuple(
        msgspec.structs.replace(s, metrics=tuple(r for r in s.metrics if r.metric != drop))
        for s in result.segments
    )
    return msgspec.structs.replace(result, metrics=tuple(rows), segments=segments)


def _zero_denominators(
    definitions: Sequence[MetricDefinition], arms: Mapping[str, Moments]
) -> bool:
    return any(
        d.denominator_column is not None
        and sum(m.sum(d.denominator_column) for m in arms.values()) == 0
        for d in definitions
    )


def readout(
    con: duckdb.DuckDBPyConnection,
    source: str,
    definitions: Sequence[MetricDefinition],
    *,
    key: str,
    control: str,
    weights: Mapping[str, float] | None = None,
    experiment: Experiment | None = None,
    segments: Sequence[str] = (),
    alpha: float = 0.05,
    correction: str = "holm",
    tuning_n: float = 10_000,
    min_units: int = 30,
    units: int | None = None,
    flags: Sequence[str] = (),
) -> AnalysisResult:
    """Analyze the unit table ``source`` (column ``variant`` and the definitions' columns).

    ``units`` is the number of units before filtering (``0`` flags ``no_exposures``); the
    experiment's goals and guardrails, when it has them, give the ship decisions.
    """
    flags = list(flags)
    moment = moment_metrics(definitions)
    placeholder = None
    if not moment:  # only quantiles: arms, SRM and segments still come from the moments
        placeholder = "__units"
        moment = [Metric(placeholder, definitions[0].value_column)]
    columns = tuple(dict.fromkeys(c for m in moment for c in m.columns))
    pairs = tuple(dict.fromkeys(p for m in moment for p in m.pairs))
    groups = aggregate(
        con, source, variant="variant", columns=columns, pairs=pairs, dimensions=segments
    )
    arms, segs = marginalize(groups, segments)
    if weights is not None:
        unknown = set(arms) - set(weights)
        if unknown:  # exposures of variants the configuration does not have
            flags.append("unknown_variant")
            arms = {v: m for v, m in arms.items() if v in weights}
            segs = {k: {v: m for v, m in s.items() if v in weights} for k, s in segs.items()}
        for name in weights:
            arms.setdefault(name, Moments.zero(columns, pairs))
    total = sum(m.n for m in arms.values()) if units is None else units
    if total == 0 or control not in arms or len(arms) < 2:
        flags.append("no_exposures" if total == 0 else "no_control")
        return AnalysisResult(
            experiment=key,
            control=control,
            alpha=alpha,
            correction=correction,
            arms=(),
            srm=SrmStatus(statistic=0.0, pvalue=1.0, mismatch=False),
            metrics=(),
            flags=tuple(flags),
        )
    if _zero_denominators(definitions, arms):
        flags.append("zero_denominator")
    result = analyze_moments(
        arms,
        moment,
        control=control,
        weights=weights,
        alpha=alpha,
        correction=correction,
        tuning_n=tuning_n,
        min_units=min_units,
        segments=segs,
        experiment=key,
    )
    quantiles = _quantiles(
        con, source, definitions, arms, control, alpha=alpha, tuning_n=tuning_n,
        min_units=min_units,
    )  # fmt: skip
    if quantiles or placeholder is not None:
        result = _merge(result, quantiles, [d.name for d in definitions], placeholder)
    if flags:
        result = msgspec.structs.replace(result, flags=(*result.flags, *flags))
    if experiment is not None and experiment.goals:
        decisions = decide(
            result.metrics,
            goals=experiment.goals,
            guardrails=experiment.guardrails,
            directions={d.name: d.direction for d in definitions},
            srm=result.srm.mismatch,
        )
        result = msgspec.structs.replace(result, decisions=decisions)
    return result


def analyze_units(
    con: duckdb.DuckDBPyConnection,
    source: str,
    definitions: Iterable[MetricDefinition],
    *,
    control: str,
    experiment: Experiment | None = None,
    segments: Sequence[str] = (),
    alpha: float = 0.05,
    correction: str = "holm",
    tuning_n: float = 10_000,
    min_units: int = 30,
) -> AnalysisResult:
    """Analyze any unit-level table for metric definitions (bring your own table).

    Args:
        con: A DuckDB connection that can read ``source``.
        source: A table or view name, or a parenthesized subquery, with a ``variant``
            column and the definitions' unit columns (``compile.unit_columns``).
        definitions: The metric definitions.
        control: The control variant.
        experiment: Its configuration (weights for SRM, goals and guardrails); optional.
        segments: Segment columns.
        alpha: One minus the confidence level.
        correction: ``holm``, ``bh`` or ``none``.
        tuning_n: Units at which the sequential interval is tightest.
        min_units: Arms smaller than this are flagged.
    """
    defs = tuple(definitions)
    if not defs:
        raise ConfigError("definitions", [], "at least one metric definition")
    weights = None
    if experiment is not None:
        weights = {v.name: float(v.weight) for v in experiment.variants}
    return readout(
        con, source, defs, key=experiment.key if experiment else "units", control=control,
        weights=weights, experiment=experiment, segments=segments, alpha=alpha,
        correction=correction, tuning_n=tuning_n, min_units=min_units,
    )  # fmt: skip
