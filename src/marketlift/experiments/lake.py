"""Experiment analysis over the event lake: exposures joined to purchases, per unit, in SQL.

For experiment ``key``, each unit (``buyer_id`` or ``anonymous_id``) enters at its first
exposure; its variant and segment attributes are those of that exposure. Outcomes are counted
from the first exposure on; the same quantities before it form the CUPED covariate:

- ``conversion``: did the unit purchase (``converted``; covariate ``pre_converted``),
- ``revenue_per_unit``: revenue (``revenue``; ``pre_revenue``),
- ``aov``: revenue per order, a ratio (``revenue / orders``; ``pre_revenue / pre_orders``),
- ``revenue_per_session``: a ratio (``revenue / sessions``; ``pre_revenue / pre_sessions``).

Revenue is summed in one reporting currency: pass ``fx`` (units of each currency per unit
of the reporting currency, e.g. ``{"USD": 1.0, "EUR": 0.92, "JPY": 150.0}``); without it the
data directory's currency table (``DATA/currencies.toml``, see :mod:`marketlift.lake.currencies`)
is used. Without either, a lake whose purchases use several currencies is flagged
``mixed_currencies`` (its revenue sums would add yen to euros).

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

from marketlift.errors import ConfigError
from marketlift.experiments.aggregate import aggregate
from marketlift.experiments.analysis import analyze_moments
from marketlift.experiments.compile import (
    FX_TABLE,
    moment_metrics,
    unit_metrics_sql,
)
from marketlift.experiments.config import Experiment
from marketlift.experiments.definitions import MONEY_COLUMNS, MetricDefinition, builtin_definitions
from marketlift.experiments.readout import readout
from marketlift.experiments.results import AnalysisResult
from marketlift.experiments.stats import Moments
from marketlift.lake import connect, load_currency_table

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "LAKE_DEFINITIONS",
    "LAKE_METRICS",
    "LAKE_SEGMENTS",
    "analyze_lake",
    "cumulative_lake",
    "unit_table_sql",
]

LAKE_DEFINITIONS: Final = tuple(builtin_definitions().values())
"""The built-in four as :class:`MetricDefinition` objects (``experiments/metrics.toml``)."""
LAKE_METRICS: Final = tuple(moment_metrics(LAKE_DEFINITIONS))
"""The built-in four as :class:`Metric` objects over the unit table's columns."""
LAKE_SEGMENTS: Final = ("platform", "locale", "buyer_type")
_UNIT_VIEW: Final = "__marketlift_exp_units"
_SOURCE: Final = f"(SELECT * FROM {_UNIT_VIEW} WHERE n_variants = 1)"  # noqa: S608
Definitions = Sequence[MetricDefinition] | Mapping[str, MetricDefinition]


def unit_table_sql(unit: str, *, key: str, fx: bool = False) -> str:
    """SQL of the unit-level table of experiment ``key`` for the built-in four metrics.

    With ``fx``, revenue is divided by the rate of its currency from the temporary table
    ``__marketlift_exp_fx(fx_currency, fx_rate)``. See
    :func:`~marketlift.experiments.compile.unit_metrics_sql` for configured metrics.
    """
    return unit_metrics_sql(LAKE_DEFINITIONS, key=key, unit=unit, fx=fx)


def _definitions(metrics: Definitions | None) -> tuple[MetricDefinition, ...]:
    if metrics is None:
        return LAKE_DEFINITIONS
    values = tuple(metrics.values()) if isinstance(metrics, Mapping) else tuple(metrics)
    bad = [m for m in values if not isinstance(m, MetricDefinition)]
    if bad:
        raise ConfigError("metrics", bad[0], "MetricDefinition objects (load_metric_definitions)")
    if not values:
        raise ConfigError("metrics", [], "at least one metric definition")
    return values


def _prepare(
    con: duckdb.DuckDBPyConnection,
    key: str,
    unit: str,
    definitions: Sequence[MetricDefinition],
    fx: Mapping[str, float] | None = None,
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
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {FX_TABLE} (fx_currency VARCHAR, fx_rate DOUBLE)"
        )
        con.executemany(f"INSERT INTO {FX_TABLE} VALUES (?, ?)", list(fx.items()))  # noqa: S608
    sql = unit_metrics_sql(definitions, key=key, unit=unit, fx=fx is not None)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_UNIT_VIEW} AS {sql}")
    row = con.sql(
        f"SELECT count(*), count(*) FILTER (WHERE n_variants > 1) FROM {_UNIT_VIEW}"  # noqa: S608
    ).fetchall()[0]
    money = any(
        a is not None and a.column in MONEY_COLUMNS and d.currency == "convert"
        for d in definitions
        for a in (d.numerator, d.denominator)
    )
    return int(row[0]), int(row[1]), money and fx is None and len(currencies) > 1


def _rates(
    data_dir: str | os.PathLike[str], fx: Mapping[str, float] | None
) -> Mapping[str, float] | None:
    """``fx`` when given, else the data directory's currency table (``None`` without one)."""
    if fx is not None:
        return fx
    table = load_currency_table(data_dir)
    return None if table is None else table.rates


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
    metrics: Definitions | None = None,
    segments: Sequence[str] = LAKE_SEGMENTS,
    alpha: float = 0.05,
    correction: str = "holm",
    tuning_n: float = 10_000,
    min_units: int = 30,
    fx: Mapping[str, float] | None = None,
) -> AnalysisResult:
    """Analyze experiment ``key`` from the lake's events, for configured metric definitions.

    Args:
        data_dir: The data directory holding the lake.
        key: The experiment key of the exposure events.
        experiment: Its configuration (unit, control, weights for SRM); optional.
        control: Control variant; defaults to the configuration's, else ``"control"``.
        unit: ``buyer_id`` or ``anonymous_id`` when no configuration is given.
        metrics: Metric definitions (``load_metric_definitions``); default the built-in four.
        segments: Segment columns of the unit-level table.
        alpha: One minus the confidence level.
        correction: ``"holm"``, ``"bh"`` or ``"none"``.
        tuning_n: Units at which the sequential interval is tightest.
        min_units: Arms smaller than this are flagged.
        fx: Units of each purchase currency per unit of the reporting currency; default
            the data directory's ``currencies.toml``.

    Returns:
        The analysis, with a ship decision per treatment when the experiment names goals
        (see :mod:`marketlift.experiments.decision`); an experiment without exposures gives
        an empty result flagged ``no_exposures``; one whose control has no units is flagged
        ``no_control``; a ratio whose denominator is 0 for every unit is flagged
        ``zero_denominator``. Quantile metrics are read out on the whole experiment, not per
        segment.
    """
    definitions = _definitions(metrics)
    unit_col, control_name, weights = _plan(key, experiment, control, unit)
    con = connect(data_dir)
    fx = _rates(data_dir, fx)
    total, mixed, mixed_currencies = _prepare(con, key, unit_col, definitions, fx)
    flags = ["multiple_variants"] if mixed else []
    if mixed_currencies:
        flags.append("mixed_currencies")
    return readout(
        con,
        _SOURCE,
        definitions,
        key=key,
        control=control_name,
        weights=weights,
        experiment=experiment,
        segments=segments,
        alpha=alpha,
        correction=correction,
        tuning_n=tuning_n,
        min_units=min_units,
        units=total,
        flags=flags,
    )


def cumulative_lake(
    data_dir: str | os.PathLike[str],
    key: str,
    *,
    experiment: Experiment | None = None,
    control: str | None = None,
    unit: str | None = None,
    metrics: Definitions | None = None,
    alpha: float = 0.05,
    tuning_n: float = 10_000,
    fx: Mapping[str, float] | None = None,
) -> list[tuple[str, AnalysisResult]]:
    """Cumulative readouts by first-exposure day: units exposed up to each day, merged with ``+``.

    Returns ``(day, result)`` pairs in day order (for the report's lift-over-time chart);
    quantile metrics are left out of this series.
    """
    definitions = _definitions(metrics)
    unit_col, control_name, weights = _plan(key, experiment, control, unit)
    con = connect(data_dir)
    fx = _rates(data_dir, fx)
    _prepare(con, key, unit_col, definitions, fx)
    moment = moment_metrics(definitions)
    if not moment:
        return []
    columns = tuple(dict.fromkeys(c for m in moment for c in m.columns))
    pairs = tuple(dict.fromkeys(p for m in moment for p in m.pairs))
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
                        moment,
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
