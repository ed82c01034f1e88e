"""Metric definitions as configuration: what a growth team measures, declared in TOML.

A metric reads the lake's ``events`` from each unit's first exposure on. Its numerator (and a
ratio's denominator) is an aggregate of events: an event type and/or filters, and a value
(``count``, ``sum`` of a column or of a SQL expression over the event's columns, or
``count_distinct`` of a column). The kind says what is compared between arms:

- ``proportion``: share of units whose numerator is above 0 (converted, added to cart),
- ``mean``: numerator per unit (revenue per unit, clicks per unit),
- ``ratio``: sum of numerators over sum of denominators (order value, revenue per session),
- ``quantile``: a quantile of the per-unit numerator (``quantile = 0.9``),
- ``retention``: share of units with a numerator event on day ``day`` after first exposure.

The shape follows GrowthBook/Eppo metrics (see ``docs/experiments.md``)::

    [[metric]]
    name = "add_to_cart_rate"
    kind = "proportion"
    numerator = {event = "add_to_cart", filters = {platform = ["web", "ios"]}}
    window = {value = 24, unit = "hours"}
    direction = "higher"
    covariate = "pre"

Definitions are checked at load: unknown keys, unknown event types or columns, SQL that does
not bind against the event schema, a quantile outside (0, 1), a retention day below 0 and
duplicate names are refused with the key, the value and what was expected.

Example:
    >>> defs = metric_definitions_from_dict({"metric": [
    ...     {"name": "atc", "kind": "proportion", "numerator": {"event": "add_to_cart"}}]})
    >>> defs["atc"].kind, defs["atc"].numerator.aggregation
    ('proportion', 'count')
    >>> metric_definitions_from_dict({"metric": [{"name": "x", "kind": "quantile",
    ...     "quantile": 1.5, "numerator": {"event": "purchase", "column": "revenue"}}]})
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: metric.x.quantile == 1.5, expected a number in (0, 1).
"""

from __future__ import annotations

import functools
import math
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

from marketlift.errors import ConfigError
from marketlift.events.table import EVENTS_SCHEMA

__all__ = [
    "EVENT_COLUMNS",
    "MONEY_COLUMNS",
    "Aggregate",
    "MetricDefinition",
    "Window",
    "builtin_definitions",
    "event_types",
    "load_metric_definitions",
    "metric_definitions_from_dict",
]

Kind = Literal["proportion", "mean", "ratio", "quantile", "retention"]
Aggregation = Literal["count", "sum", "count_distinct"]
_KINDS: Final = ("proportion", "mean", "ratio", "quantile", "retention")
_AGGREGATIONS: Final = ("count", "sum", "count_distinct")
_UNITS: Final = {"hours": 1, "days": 24, "weeks": 168}
_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MONEY_COLUMNS: Final = {"revenue": "revenue_currency", "price": "price_currency"}
"""Money columns and the column holding their currency (converted by ``fx``)."""
_METRIC_KEYS: Final = frozenset(
    {
        "name",
        "kind",
        "numerator",
        "denominator",
        "window",
        "direction",
        "covariate",
        "quantile",
        "day",
        "currency",
        "description",
    }
)
_AGGREGATE_KEYS: Final = frozenset(
    {"event", "column", "sql", "aggregation", "filters", "where", "name"}
)


_BOOKKEEPING: Final = ("schema_version", "received_at", "payload", "event_date")
"""Columns of the lake's events that are not event fields (no definition reads them)."""


@functools.cache
def event_types() -> tuple[str, ...]:
    """The event types of the schema (``page_view``, ``purchase``, ...)."""
    from marketlift.events.schema import Event  # noqa: PLC0415

    return tuple(str(t.__struct_config__.tag) for t in typing.get_args(Event))


EVENT_COLUMNS: Final = tuple(name for name in EVENTS_SCHEMA.names if name not in _BOOKKEEPING)
"""Columns of the ``events`` view a definition may read (filters, ``column``)."""


@dataclass(frozen=True)
class Window:
    """A window from the unit's first exposure: events in ``[first, first + hours)``.

    Attributes:
        hours: Length of the window in hours (``{value = 7, unit = "days"}`` is 168).
    """

    hours: float


@dataclass(frozen=True)
class Aggregate:
    """An aggregate of a unit's events (a numerator or a denominator).

    Attributes:
        event: Event type counted or summed (``None``: every type, after the filters).
        column: Column summed or counted distinct (``revenue``, ``quantity``, ``session_id``).
        sql: A SQL expression over the event's columns, summed (instead of ``column``).
        aggregation: ``count`` (events), ``sum`` (of ``column`` or ``sql``) or
            ``count_distinct`` (of ``column``).
        filters: Column -> allowed values (``{"platform": ("web",), "action": ("push",)}``).
        where: An extra SQL condition over the event's columns.
        name: Name of the unit-level column (defaults to the metric's name and a suffix).
    """

    event: str | None = None
    column: str | None = None
    sql: str | None = None
    aggregation: Aggregation = "count"
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    where: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class MetricDefinition:
    """One configured metric.

    Attributes:
        name: Lower-case slug, unique in the file.
        kind: ``proportion``, ``mean``, ``ratio``, ``quantile`` or ``retention``.
        numerator: The aggregate measured per unit.
        denominator: A ratio's denominator aggregate.
        window: Events counted from first exposure; ``None`` means up to the analysis.
        direction: ``higher`` (higher is better) or ``lower`` (latency, unsubscribes).
        covariate: ``pre`` for CUPED on the same aggregate before exposure (over the window's
            length when one is set), ``None`` for none. CUPAC predictions are covariates of
            ``analyze_table`` (see ``with_cupac``).
        quantile: The quantile of a ``quantile`` metric, in (0, 1).
        day: Day after first exposure of a ``retention`` metric (0 is the first 24 hours).
        currency: ``convert`` divides money by the ``fx`` rate of its currency; ``as_is``
            sums amounts as they are (for one-currency lakes).
        description: Free text for the report.
    """

    name: str
    kind: Kind
    numerator: Aggregate
    denominator: Aggregate | None = None
    window: Window | None = None
    direction: Literal["higher", "lower"] = "higher"
    covariate: Literal["pre"] | None = None
    quantile: float | None = None
    day: int | None = None
    currency: Literal["convert", "as_is"] = "convert"
    description: str = ""

    @property
    def numerator_column(self) -> str:
        """Unit-level column of the numerator aggregate."""
        return self.numerator.name or f"{self.name}__num"

    @property
    def denominator_column(self) -> str | None:
        """Unit-level column of the denominator aggregate (ratios only)."""
        if self.denominator is None:
            return None
        return self.denominator.name or f"{self.name}__den"

    @property
    def value_column(self) -> str:
        """Unit-level column compared between arms (the indicator for proportions)."""
        if self.kind in ("proportion", "retention"):
            return self.name
        return self.numerator_column


def _require(ok: bool, key: str, value: Any, expected: str) -> None:
    if not ok:
        raise ConfigError(key, value, expected)


def _window(key: str, raw: Any) -> Window | None:
    if raw is None:
        return None
    _require(isinstance(raw, Mapping), key, raw, '{value = N, unit = "hours"|"days"|"weeks"}')
    unknown = sorted(set(raw) - {"value", "unit"})
    _require(not unknown, f"{key}.{unknown[0] if unknown else ''}", raw, "value and unit only")
    value, unit = raw.get("value"), raw.get("unit")
    _require(unit in _UNITS, f"{key}.unit", unit, f"one of {sorted(_UNITS)}")
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    _require(ok and math.isfinite(value) and value > 0, f"{key}.value", value, "a number > 0")
    return Window(float(value) * _UNITS[str(unit)])


def _strings(key: str, raw: Any) -> tuple[str, ...]:
    values = [raw] if isinstance(raw, str) else raw
    ok = isinstance(values, list | tuple) and values and all(isinstance(v, str) for v in values)
    _require(bool(ok), key, raw, "a string or a non-empty list of strings")
    return tuple(values)


def _check_sql(key: str, expression: str, *, condition: bool) -> None:
    """Bind ``expression`` against an empty table of the event schema (DuckDB)."""
    import duckdb  # noqa: PLC0415 - heavy, only when a definition has SQL

    con = _schema_connection()
    clause = f"WHERE {expression}" if condition else ""
    select = "1" if condition else f"sum({expression})"
    try:
        con.execute(f"SELECT {select} FROM events {clause}")  # noqa: S608 - a config, not input
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(key, expression, f"SQL over the event columns ({first})") from exc


@functools.cache
def _schema_connection() -> Any:
    import duckdb  # noqa: PLC0415

    from marketlift.events.table import EVENTS_SCHEMA  # noqa: PLC0415

    con = duckdb.connect()
    empty = EVENTS_SCHEMA.empty_table()
    con.register("events_arrow", empty)
    con.execute("CREATE TABLE events AS SELECT * FROM events_arrow")
    return con


def _aggregate(key: str, raw: Any) -> Aggregate:
    if isinstance(raw, str):
        raw = {"event": raw}
    _require(isinstance(raw, Mapping), key, raw, "a table such as {event = 'purchase'}")
    unknown = sorted(set(raw) - _AGGREGATE_KEYS)
    _require(
        not unknown,
        f"{key}.{unknown[0] if unknown else ''}",
        raw.get(unknown[0]) if unknown else None,
        f"one of the keys {sorted(_AGGREGATE_KEYS)}",
    )
    event = raw.get("event")
    if event is not None:
        _require(event in event_types(), f"{key}.event", event, f"one of {list(event_types())}")
    column, sql = raw.get("column"), raw.get("sql")
    _require(column is None or sql is None, f"{key}.sql", sql, "either column or sql, not both")
    if column is not None:
        _require(column in EVENT_COLUMNS, f"{key}.column", column, f"one of {EVENT_COLUMNS}")
    default = "count" if column is None and sql is None else "sum"
    aggregation = raw.get("aggregation", default)
    _require(aggregation in _AGGREGATIONS, f"{key}.aggregation", aggregation, str(_AGGREGATIONS))
    if aggregation == "sum":
        _require(
            column is not None or sql is not None,
            f"{key}.aggregation",
            aggregation,
            "a column or a sql expression to sum",
        )
    if aggregation == "count_distinct":
        _require(column is not None, f"{key}.column", column, "a column to count distinct")
    if sql is not None:
        _require(isinstance(sql, str) and bool(sql.strip()), f"{key}.sql", sql, "an expression")
        _check_sql(f"{key}.sql", sql, condition=False)
    filters_raw = raw.get("filters", {})
    _require(isinstance(filters_raw, Mapping), f"{key}.filters", filters_raw, "a table")
    filters = []
    for col, values in sorted(filters_raw.items()):
        _require(col in EVENT_COLUMNS, f"{key}.filters.{col}", col, f"one of {EVENT_COLUMNS}")
        filters.append((str(col), _strings(f"{key}.filters.{col}", values)))
    where = raw.get("where")
    if where is not None:
        _require(isinstance(where, str), f"{key}.where", where, "a SQL condition")
        _check_sql(f"{key}.where", where, condition=True)
    name = raw.get("name")
    if name is not None:
        _require(
            isinstance(name, str) and bool(_NAME.match(name)),
            f"{key}.name",
            name,
            "a lower-case slug",
        )
    return Aggregate(event, column, sql, aggregation, tuple(filters), where, name)


def _metric(raw: Any, index: int) -> MetricDefinition:
    _require(isinstance(raw, Mapping), f"metric[{index}]", raw, "a table")
    name = raw.get("name")
    _require(
        isinstance(name, str) and bool(_NAME.match(name)),
        f"metric[{index}].name",
        name,
        "a lower-case slug (a-z, 0-9, _; at most 64)",
    )
    key = f"metric.{name}"
    unknown = sorted(set(raw) - _METRIC_KEYS)
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", raw[unknown[0]], f"one of {sorted(_METRIC_KEYS)}")
    kind = raw.get("kind")
    _require(kind in _KINDS, f"{key}.kind", kind, f"one of {list(_KINDS)}")
    _require("numerator" in raw, f"{key}.numerator", None, "an aggregate of events")
    numerator = _aggregate(f"{key}.numerator", raw["numerator"])
    denominator = None
    if kind == "ratio":
        _require("denominator" in raw, f"{key}.denominator", None, "an aggregate (ratio)")
        denominator = _aggregate(f"{key}.denominator", raw["denominator"])
    else:
        _require(
            "denominator" not in raw,
            f"{key}.denominator",
            raw.get("denominator"),
            "no denominator unless kind = 'ratio'",
        )
    quantile = raw.get("quantile")
    if kind == "quantile":
        ok = isinstance(quantile, int | float) and not isinstance(quantile, bool)
        _require(ok and 0 < quantile < 1, f"{key}.quantile", quantile, "a number in (0, 1)")
    else:
        _require(quantile is None, f"{key}.quantile", quantile, "only with kind = 'quantile'")
    day = raw.get("day")
    if kind == "retention":
        ok = isinstance(day, int) and not isinstance(day, bool)
        _require(ok and day >= 0, f"{key}.day", day, "an integer >= 0 (day after exposure)")
    else:
        _require(day is None, f"{key}.day", day, "only with kind = 'retention'")
    direction = raw.get("direction", "higher")
    _require(direction in ("higher", "lower"), f"{key}.direction", direction, "higher or lower")
    covariate = raw.get("covariate")
    _require(
        covariate in (None, "pre", "none"),
        f"{key}.covariate",
        covariate,
        "'pre' (CUPED on the pre-exposure value) or 'none'",
    )
    if kind == "quantile":
        _require(
            covariate in (None, "none"), f"{key}.covariate", covariate, "no covariate on a quantile"
        )
    currency = raw.get("currency", "convert")
    _require(currency in ("convert", "as_is"), f"{key}.currency", currency, "convert or as_is")
    description = raw.get("description", "")
    _require(isinstance(description, str), f"{key}.description", description, "a string")
    return MetricDefinition(
        name=name,
        kind=kind,
        numerator=numerator,
        denominator=denominator,
        window=_window(f"{key}.window", raw.get("window")),
        direction=direction,
        covariate=None if covariate in (None, "none") else "pre",
        quantile=None if quantile is None else float(quantile),
        day=day,
        currency=currency,
        description=description,
    )


def metric_definitions_from_dict(raw: Mapping[str, Any]) -> dict[str, MetricDefinition]:
    """Parse and validate ``{"metric": [...]}`` (the TOML file's structure), keyed by name.

    Raises:
        ConfigError: Naming the key, the value and the rule of the first violation.
    """
    unknown = sorted(set(raw) - {"metric"})
    if unknown:
        raise ConfigError(unknown[0], raw[unknown[0]], "only [[metric]] tables")
    items = raw.get("metric", [])
    _require(isinstance(items, list), "metric", items, "an array of [[metric]] tables")
    out: dict[str, MetricDefinition] = {}
    columns: dict[str, tuple[Aggregate, Window | None, str, int | None]] = {}
    for i, item in enumerate(items):
        definition = _metric(item, i)
        if definition.name in out:
            raise ConfigError(f"metric[{i}].name", definition.name, "a name unique in the file")
        for col, agg in (
            (definition.numerator_column, definition.numerator),
            (definition.denominator_column, definition.denominator),
        ):
            if col is None or agg is None:
                continue
            day = definition.day if definition.kind == "retention" else None
            shape = (agg, definition.window, definition.currency, day)
            if columns.setdefault(col, shape) != shape:
                raise ConfigError(
                    f"metric.{definition.name}",
                    col,
                    "one definition (aggregate and window) per column name",
                )
        out[definition.name] = definition
    clash = sorted(set(out) & set(columns))
    for name in clash:
        if out[name].kind in ("proportion", "retention"):
            raise ConfigError(f"metric.{name}.name", name, "a name no aggregate column uses")
    return out


def load_metric_definitions(path: str | os.PathLike[str]) -> dict[str, MetricDefinition]:
    """Load ``metrics.toml`` (``[[metric]]`` tables); a missing file gives the built-in four."""
    p = Path(path)
    if not p.exists():
        return builtin_definitions()
    with p.open("rb") as f:
        try:
            raw = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(p), "TOML", f"valid TOML ({exc})") from exc
    return metric_definitions_from_dict(raw)


@functools.cache
def builtin_definitions() -> dict[str, MetricDefinition]:
    """The four lake metrics (conversion, revenue per unit, order value, revenue per session)."""
    text = resources.files("marketlift.experiments").joinpath("metrics.toml").read_text()
    return metric_definitions_from_dict(tomllib.loads(text))
