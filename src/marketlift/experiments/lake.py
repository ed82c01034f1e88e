"""Experiment analysis over the event lake: exposures joined to purchases, per unit, in SQL.

For experiment ``key``, each unit (``buyer_id`` or ``anonymous_id``) enters at its first
exposure; its variant and segment attributes are those of that exposure. Outcomes are counted
from the first exposure on; the same quantities before it form the CUPED covariate:

- ``conversion``: did the unit purchase (``converted``; covariate ``pre_converted``),
- ``revenue_per_unit``: revenue (``revenue``; ``pre_revenue``),
- ``aov``: revenue per order, a ratio (``revenue / orders``; ``pre_revenue / pre_orders``),
- ``revenue_per_session``: a ratio (``revenue / sessions``; ``pre_revenue / pre_sessions``).

Revenue is summed in one reporting currency: pass ``fx`` (units of each currency per unit
of the reporting currency, e.g. ``{"USD": 1.0, "EUR": 0.92, "JPY": 150.0}``). Without ``fx``,
a lake whose purchases use several currencies is flagged ``mixed_currencies`` (its revenue
sums would add yen to euros).

Segments: ``platform``, ``locale`` and ``buyer_type`` (``returning`` if the unit purchased
before its first exposure, else ``new``). Units exposed to several variants are dropped and
the result is flagged ``multiple_variants``; exposures of variants missing from the
configuration are dropped and flagged ``unknown_variant``.

Example:
    >>> import tempfile
    >>> r = analyze_lake(tempfile.mkdtemp(), "checkout_copy")
    >>> r.flags
    ('no_exposures',)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

import msgspec

from marketlift.errors import ConfigError
from marketlift.experiments.aggregate import aggregate, marginalize
from marketlift.experiments.analysis import analyze_moments
from marketlift.experiments.config import Experiment
from marketlift.experiments.metrics import Metric
from marketlift.experiments.results import AnalysisResult, SrmStatus
from marketlift.experiments.stats import Moments
from marketlift.lake import connect

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "LAKE_METRICS",
    "LAKE_SEGMENTS",
    "analyze_lake",
    "cumulative_lake",
    "unit_table_sql",
]

LAKE_METRICS: Final = (
    Metric("conversion", "converted", covariate="pre_converted"),
    Metric("revenue_per_unit", "revenue", covariate="pre_revenue"),
    Metric("aov", "revenue", "orders", "pre_revenue", "pre_orders"),
    Metric("revenue_per_session", "revenue", "sessions", "pre_revenue", "pre_sessions"),
)
LAKE_SEGMENTS: Final = ("platform", "locale", "buyer_type")
_UNIT_VIEW: Final = "__marketlift_exp_units"
_FX_TABLE: Final = "__marketlift_exp_fx"
_SOURCE: Final = f"(SELECT * FROM {_UNIT_VIEW} WHERE n_variants = 1)"  # noqa: S608


def unit_table_sql(unit: str, *, fx: bool = False) -> str:
    """SQL of the unit-level table of one experiment (parameter ``$key``).

    With ``fx``, revenue is divided by the rate of its currency from the temporary table
    ``__marketlift_exp_fx(currency, rate)``.

    Columns: ``unit, variant, first_ts, n_variants, platform, locale, country, orders,
    revenue, sessions, converted, pre_orders, pre_revenue, pre_sessions, pre_converted,
    buyer_type``.
    """
    if unit not in ("buyer_id", "anonymous_id"):
        raise ConfigError("unit", unit, "'buyer_id' or 'anonymous_id'")
    money = "CAST(e.revenue AS DOUBLE)"
    join = ""
    if fx:
        money = "CAST(e.revenue AS DOUBLE) / fx.rate"
        join = f"LEFT JOIN {_FX_TABLE} fx ON fx.currency = e.revenue_currency"
    return f"""
WITH exposed AS (
    SELECT {unit} AS unit, min(ts) AS first_ts, arg_min(variant, ts) AS variant,
           count(DISTINCT variant) AS n_variants, arg_min(platform, ts) AS platform,
           arg_min(locale, ts) AS locale, arg_min(country, ts) AS country
    FROM events
    WHERE type = 'exposure' AND experiment_key = $key AND {unit} IS NOT NULL
    GROUP BY {unit}
),
per_unit AS (
    SELECT x.unit, x.variant, x.first_ts, x.n_variants, x.platform, x.locale, x.country,
        count(*) FILTER (WHERE e.type = 'purchase' AND e.ts >= x.first_ts) AS orders,
        coalesce(sum({money})
                 FILTER (WHERE e.type = 'purchase' AND e.ts >= x.first_ts), 0) AS revenue,
        count(DISTINCT e.session_id) FILTER (WHERE e.ts >= x.first_ts) AS sessions,
        count(*) FILTER (WHERE e.type = 'purchase' AND e.ts < x.first_ts) AS pre_orders,
        coalesce(sum({money})
                 FILTER (WHERE e.type = 'purchase' AND e.ts < x.first_ts), 0) AS pre_revenue,
        count(DISTINCT e.session_id) FILTER (WHERE e.ts < x.first_ts) AS pre_sessions
    FROM exposed x LEFT JOIN events e ON e.{unit} = x.unit
    {join}
    GROUP BY ALL
)
SELECT *, CAST(orders > 0 AS INTEGER) AS converted,
       CAST(pre_orders > 0 AS INTEGER) AS pre_converted,
       CASE WHEN pre_orders > 0 THEN 'returning' ELSE 'new' END AS buyer_type
FROM per_unit
"""  # noqa: S608 - unit is checked against two literals


def _prepare(
    con: duckdb.DuckDBPyConnection, key: str, unit: str, fx: Mapping[str, float] | None = None
) -> tuple[int, int, bool]:
    """Build the unit table; return (units, units with several variants, mixed currencies)."""
    currencies = {
        str(c)
        for (c,) in con.sql(
            "SELECT DISTINCT revenue_currency FROM events "
            "WHERE type = 'purchase' AND revenue_currency IS NOT NULL"
        ).fetchall()
    }
    if fx is not None:
        missing = sorted(currencies - set(fx))
        if missing:
            raise ConfigError(
                "fx", dict(fx), f"a rate for every purchase currency, missing {missing}"
            )
        bad = {c: r for c, r in fx.items() if not r > 0}
        if bad:
            raise ConfigError("fx", bad, "rates > 0")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_FX_TABLE} (currency VARCHAR, rate DOUBLE)")
        con.executemany(f"INSERT INTO {_FX_TABLE} VALUES (?, ?)", list(fx.items()))  # noqa: S608
    sql = unit_table_sql(unit, fx=fx is not None)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_UNIT_VIEW} AS {sql}", {"key": key})
    row = con.sql(
        f"SELECT count(*), count(*) FILTER (WHERE n_variants > 1) FROM {_UNIT_VIEW}"  # noqa: S608
    ).fetchall()[0]
    return int(row[0]), int(row[1]), fx is None and len(currencies) > 1


def _plan(
    key: str, experiment: Experiment | None, control: str | None, unit: str | None
) -> tuple[str, str, dict[str, float] | None]:
    if experiment is not None:
        if experiment.key != key:
            raise ConfigError("experiment.key", experiment.key, f"the analyzed key {key!r}")
        weights = {v.name: float(v.weight) for v in experiment.variants}
        return experiment.unit, control or experiment.control, weights
    return unit or "buyer_id", control or "control", None


def analyze_lake(
    data_dir: str | os.PathLike[str],
    key: str,
    *,
    experiment: Experiment | None = None,
    control: str | None = None,
    unit: str | None = None,
    metrics: Sequence[Metric] = LAKE_METRICS,
    segments: Sequence[str] = LAKE_SEGMENTS,
    alpha: float = 0.05,
    correction: str = "holm",
    tuning_n: float = 10_000,
    min_units: int = 30,
    fx: Mapping[str, float] | None = None,
) -> AnalysisResult:
    """Analyze experiment ``key`` from the lake's exposure and purchase events.

    Args:
        data_dir: The data directory holding the lake.
        key: The experiment key of the exposure events.
        experiment: Its configuration (unit, control, weights for SRM); optional.
        control: Control variant; defaults to the configuration's, else ``"control"``.
        unit: ``buyer_id`` or ``anonymous_id`` when no configuration is given.
        metrics: Metrics over the unit-level columns (see the module docs).
        segments: Segment columns of the unit-level table.
        alpha: One minus the confidence level.
        correction: ``"holm"``, ``"bh"`` or ``"none"``.
        tuning_n: Units at which the sequential interval is tightest.
        min_units: Arms smaller than this are flagged.
        fx: Units of each purchase currency per unit of the reporting currency.

    Returns:
        The analysis; an experiment without exposures gives an empty result flagged
        ``no_exposures``; one whose control has no units is flagged ``no_control``.
    """
    unit_col, control_name, weights = _plan(key, experiment, control, unit)
    con = connect(data_dir)
    total, mixed, mixed_currencies = _prepare(con, key, unit_col, fx)
    flags = ["multiple_variants"] if mixed else []
    if mixed_currencies:
        flags.append("mixed_currencies")
    source = _SOURCE
    columns = tuple(dict.fromkeys(c for m in metrics for c in m.columns))
    pairs = tuple(dict.fromkeys(p for m in metrics for p in m.pairs))
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
    if total == 0 or control_name not in arms or len(arms) < 2:
        flags.append("no_exposures" if total == 0 else "no_control")
        return AnalysisResult(
            experiment=key,
            control=control_name,
            alpha=alpha,
            correction=correction,
            arms=(),
            srm=SrmStatus(statistic=0.0, pvalue=1.0, mismatch=False),
            metrics=(),
            flags=tuple(flags),
        )
    result = analyze_moments(
        arms,
        metrics,
        control=control_name,
        weights=weights,
        alpha=alpha,
        correction=correction,
        tuning_n=tuning_n,
        min_units=min_units,
        segments=segs,
        experiment=key,
    )
    if flags:
        result = msgspec.structs.replace(result, flags=(*result.flags, *flags))
    return result


def cumulative_lake(
    data_dir: str | os.PathLike[str],
    key: str,
    *,
    experiment: Experiment | None = None,
    control: str | None = None,
    unit: str | None = None,
    metrics: Sequence[Metric] = LAKE_METRICS,
    alpha: float = 0.05,
    tuning_n: float = 10_000,
    fx: Mapping[str, float] | None = None,
) -> list[tuple[str, AnalysisResult]]:
    """Cumulative readouts by first-exposure day: units exposed up to each day, merged with ``+``.

    Returns ``(day, result)`` pairs in day order (for the report's lift-over-time chart).
    """
    unit_col, control_name, weights = _plan(key, experiment, control, unit)
    con = connect(data_dir)
    _prepare(con, key, unit_col, fx)
    columns = tuple(dict.fromkeys(c for m in metrics for c in m.columns))
    pairs = tuple(dict.fromkeys(p for m in metrics for p in m.pairs))
    groups = aggregate(
        con,
        _SOURCE,
        variant="variant",
        columns=columns,
        pairs=pairs,
        extra_groups=["CAST(CAST(first_ts AS DATE) AS VARCHAR)"],
    )
    days = sorted({values[0] for _, values in groups})
    running: dict[str, Moments] = {}
    out: list[tuple[str, AnalysisResult]] = []
    for day in days:
        for (variant, values), m in groups.items():
            if values[0] == day:
                running[variant] = running[variant] + m if variant in running else m
        if control_name in running and len(running) >= 2:
            arms: Mapping[str, Moments] = dict(running)
            w = None if weights is None else {v: weights.get(v, 1.0) for v in arms}
            out.append(
                (
                    day,
                    analyze_moments(
                        arms,
                        metrics,
                        control=control_name,
                        weights=w,
                        alpha=alpha,
                        correction="none",
                        tuning_n=tuning_n,
                        experiment=key,
                    ),
                )
            )
    return out
