"""Compile metric definitions to one unit-level SQL table, for DuckDB and Spark alike.

Each unit enters at its first exposure to the experiment (its variant, platform, locale and
country are those of that exposure); every aggregate of every definition becomes one column
of that unit's row, computed in one pass over the unit's events, and its pre-exposure twin
(``pre_<column>``) when the metric asks for CUPED. The same text runs on both engines
(``min_by``, ``CASE WHEN``, ``INTERVAL 'n' MINUTE``); the one-scan moments ``GROUP BY``
(:func:`~marketlift.experiments.aggregate.moments_sql`) then reduces the table.

Example:
    >>> from marketlift.experiments.definitions import builtin_definitions
    >>> defs = builtin_definitions()
    >>> unit_columns(defs.values())
    ('orders', 'conversion', 'pre_orders', 'pre_conversion', 'revenue', 'pre_revenue', 'sessions', 'pre_sessions')
    >>> [m.name for m in moment_metrics(defs.values())]
    ['conversion', 'revenue_per_unit', 'aov', 'revenue_per_session']
"""  # noqa: E501 - a doctest line

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

from marketlift.errors import ConfigError
from marketlift.experiments.aggregate import quote
from marketlift.experiments.definitions import (
    MONEY_COLUMNS,
    Aggregate,
    MetricDefinition,
    Window,
)
from marketlift.experiments.metrics import Metric

__all__ = ["FX_TABLE", "PRE_PURCHASES", "moment_metrics", "unit_columns", "unit_metrics_sql"]

Dialect = Literal["duckdb", "spark"]
FX_TABLE: Final = "__marketlift_exp_fx"
PRE_PURCHASES: Final = "__pre_purchases"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _shift(minutes: int) -> str:
    return f"x.first_ts + INTERVAL '{minutes}' MINUTE" if minutes else "x.first_ts"


def _bounds(definition: MetricDefinition, *, pre: bool) -> str:
    """The time condition of the post (or pre) period of ``definition``."""
    window: Window | None = definition.window
    if definition.kind == "retention" and not pre:
        day = int(definition.day or 0)
        return f"e.ts >= {_shift(day * 1440)} AND e.ts < {_shift((day + 1) * 1440)}"
    if pre:
        if window is None:
            return "e.ts < x.first_ts"
        return f"e.ts >= {_shift(-round(window.hours * 60))} AND e.ts < x.first_ts"
    if window is None:
        return "e.ts >= x.first_ts"
    return f"e.ts >= x.first_ts AND e.ts < {_shift(round(window.hours * 60))}"


class _Builder:
    """Collects the event-level projections and the unit-level aggregate expressions."""

    def __init__(self, dialect: Dialect, *, fx: bool) -> None:
        self.dialect = dialect
        self.fx = fx
        self.projections: dict[str, str] = {}
        self.joins: dict[str, str] = {}
        self.aggregates: dict[str, str] = {}
        self.indicators: dict[str, str] = {}

    def q(self, name: str) -> str:
        return quote(name, dialect=self.dialect)

    def _project(self, expression: str) -> str:
        for alias, existing in self.projections.items():
            if existing == expression:
                return alias
        alias = f"__v{len(self.projections)}"
        self.projections[alias] = expression
        return alias

    def _value(self, agg: Aggregate, currency: str) -> str:
        if agg.sql is not None:
            return f"e.{self._project(f'CAST(({agg.sql}) AS DOUBLE)')}"
        column = str(agg.column)
        if column in MONEY_COLUMNS and currency == "convert" and self.fx:
            alias = f"fx_{column}"
            self.joins[alias] = (
                f"LEFT JOIN {FX_TABLE} {alias} ON {alias}.fx_currency = "
                f"ev.{self.q(MONEY_COLUMNS[column])}"
            )
            return f"e.{self._project(f'CAST(ev.{self.q(column)} AS DOUBLE) / {alias}.fx_rate')}"
        return f"CAST(e.{self.q(column)} AS DOUBLE)"

    def _condition(self, agg: Aggregate, bounds: str) -> str:
        parts = [bounds]
        if agg.event is not None:
            parts.append(f"e.{self.q('type')} = {_literal(agg.event)}")
        for column, values in agg.filters:
            parts.append(f"e.{self.q(column)} IN ({', '.join(_literal(v) for v in values)})")
        if agg.where is not None:
            parts.append(f"e.{self._project(f'CASE WHEN ({agg.where}) THEN 1 ELSE 0 END')} = 1")
        return " AND ".join(parts)

    def add(self, name: str, agg: Aggregate, bounds: str, currency: str) -> None:
        if name in self.aggregates:
            return
        cond = self._condition(agg, bounds)
        if agg.aggregation == "count":
            expr = f"count(CASE WHEN {cond} THEN 1 END)"
        elif agg.aggregation == "count_distinct":
            expr = f"count(DISTINCT CASE WHEN {cond} THEN e.{self.q(str(agg.column))} END)"
        else:
            expr = f"coalesce(sum(CASE WHEN {cond} THEN {self._value(agg, currency)} END), 0)"
        self.aggregates[name] = f"CAST({expr} AS DOUBLE)"

    def indicator(self, name: str, source: str) -> None:
        self.indicators[name] = f"CASE WHEN {self.q(source)} > 0 THEN 1 ELSE 0 END"


def _columns_of(definition: MetricDefinition) -> list[tuple[str, Aggregate, bool]]:
    """``(column, aggregate, pre)`` of every aggregate column ``definition`` needs."""
    out = [(definition.numerator_column, definition.numerator, False)]
    den = definition.denominator_column
    if den is not None and definition.denominator is not None:
        out.append((den, definition.denominator, False))
    if definition.covariate == "pre":
        out += [(f"pre_{c}", a, True) for c, a, _ in list(out)]
    return out


def unit_metrics_sql(
    definitions: Iterable[MetricDefinition],
    *,
    key: str,
    unit: str,
    dialect: Dialect = "duckdb",
    fx: bool = False,
    events: str = "events",
) -> str:
    """SQL of the unit-level table of experiment ``key`` for ``definitions``.

    Args:
        definitions: The metrics to compute.
        key: The experiment key of the exposure events.
        unit: ``buyer_id`` or ``anonymous_id``.
        dialect: ``duckdb`` or ``spark``.
        fx: Divide money by the rate of its currency from the table
            ``__marketlift_exp_fx(fx_currency, fx_rate)``.
        events: Table or view of the events.

    Returns:
        A query with columns ``unit, variant, first_ts, n_variants, platform, locale,
        country``, every column of :func:`unit_columns` and ``buyer_type``.
    """
    if unit not in ("buyer_id", "anonymous_id"):
        raise ConfigError("unit", unit, "'buyer_id' or 'anonymous_id'")
    b = _Builder(dialect, fx=fx)
    for d in definitions:
        for column, agg, pre in _columns_of(d):
            b.add(column, agg, _bounds(d, pre=pre), d.currency)
        if d.kind in ("proportion", "retention"):
            b.indicator(d.name, d.numerator_column)
            if d.covariate == "pre":
                b.indicator(f"pre_{d.name}", f"pre_{d.numerator_column}")
    pre_purchase = Aggregate(event="purchase")
    b.add(PRE_PURCHASES, pre_purchase, "e.ts < x.first_ts", "as_is")
    text = "STRING" if dialect == "spark" else "VARCHAR"
    projections = "".join(f", {expr} AS {alias}" for alias, expr in b.projections.items())
    joins = " ".join(b.joins.values())
    aggregates = ",\n        ".join(f"{expr} AS {b.q(name)}" for name, expr in b.aggregates.items())
    indicators = "".join(f", {expr} AS {b.q(name)}" for name, expr in b.indicators.items())
    u = b.q(unit)
    return f"""
WITH exposed AS (
    SELECT {u} AS unit, min(ts) AS first_ts, min_by(CAST(variant AS {text}), ts) AS variant,
           count(DISTINCT variant) AS n_variants, min_by(platform, ts) AS platform,
           min_by(locale, ts) AS locale, min_by(country, ts) AS country
    FROM {events}
    WHERE type = 'exposure' AND experiment_key = {_literal(key)} AND {u} IS NOT NULL
    GROUP BY {u}
),
ev AS (SELECT ev.*{projections} FROM {events} ev {joins}),
per_unit AS (
    SELECT x.unit, x.variant, x.first_ts, x.n_variants, x.platform, x.locale, x.country,
        {aggregates}
    FROM exposed x LEFT JOIN ev e ON e.{u} = x.unit
    GROUP BY x.unit, x.variant, x.first_ts, x.n_variants, x.platform, x.locale, x.country
)
SELECT *{indicators},
       CASE WHEN {PRE_PURCHASES} > 0 THEN 'returning' ELSE 'new' END AS buyer_type
FROM per_unit
"""  # noqa: S608 - identifiers quoted, values as escaped literals, SQL from the config file


def unit_columns(definitions: Iterable[MetricDefinition]) -> tuple[str, ...]:
    """The metric columns of the unit table, in the order :func:`unit_metrics_sql` makes them."""
    out: list[str] = []
    for d in definitions:
        cols = _columns_of(d)
        out += [c for c, _, pre in cols if not pre]
        if d.kind in ("proportion", "retention"):
            out.append(d.name)
        out += [c for c, _, pre in cols if pre]
        if d.kind in ("proportion", "retention") and d.covariate == "pre":
            out.append(f"pre_{d.name}")
    return tuple(dict.fromkeys(out))


def moment_metrics(definitions: Iterable[MetricDefinition]) -> list[Metric]:
    """The moment-based metrics (all kinds but ``quantile``) over the unit table's columns."""
    out = []
    for d in definitions:
        if d.kind == "quantile":
            continue
        cov = d.covariate == "pre"
        if d.kind == "ratio":
            den = d.denominator_column
            out.append(
                Metric(
                    d.name,
                    d.numerator_column,
                    den,
                    f"pre_{d.numerator_column}" if cov else None,
                    f"pre_{den}" if cov else None,
                )
            )
        else:
            value = d.value_column
            out.append(Metric(d.name, value, covariate=f"pre_{value}" if cov else None))
    return out
