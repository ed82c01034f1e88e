"""Faults the simulator can plant in the events it writes, so monitoring can be tested.

A :class:`Faults` value changes each day's event table from ``from_day`` on, before it is
written (the truth tables are untouched):

- ``price_factor``: every price and revenue (the typed columns and the payload) multiplied,
  as a client that sends cents as dollars would; the buyer cart-value and revenue features
  drift;
- ``duplicate_type``: every event of that type sent twice (a client that double-fires page
  views); the session and buyer event counts drift;
- ``broken_platform`` with ``broken_share``: that share of the platform's events is sent
  broken (the timestamp without its time zone, as a bad app release might) through the real
  collector, which rejects them into the dead letters; the platform's volume drops.

A stale model is not a fault of the events: train a model, then simulate later days and do
not retrain (see ``tests/monitor``).

Example:
    >>> import tempfile
    >>> from marketlift.lake import query
    >>> from marketlift.sim import SimConfig, simulate
    >>> data = tempfile.mkdtemp()
    >>> faults = Faults(from_day=1, broken_platform="ios", broken_share=1.0)
    >>> _ = simulate(SimConfig(n_buyers=200, n_days=2, seed=1), data, faults=faults)
    >>> ios = ("SELECT count(*) AS n FROM events "
    ...        "WHERE platform = 'ios' AND event_date = '2026-11-02'")
    >>> dead = "SELECT count(*) AS n FROM dead_letters"
    >>> query(data, ios)["n"][0].as_py() < 10 < query(data, dead)["n"][0].as_py()
    True
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.errors import ConfigError

__all__ = ["Faults", "plant"]

_PLATFORMS = ("web", "ios", "android")


@dataclasses.dataclass(frozen=True, slots=True)
class Faults:
    """Faults planted from day ``from_day`` (0 is the first simulated day) on.

    Attributes:
        from_day: The first faulty day.
        price_factor: Prices and revenues are multiplied by it (1.0: no drift).
        duplicate_type: An event type every event of which is sent twice (the copy with its
            own id, 1 ms later), as a client that double-fires it; ``None``: none.
        broken_platform: ``web``, ``ios`` or ``android`` whose events break; ``None``: none.
        broken_share: Share of that platform's events that break (drawn with ``seed``).
        seed: Seed of the draw of broken events.
    """

    from_day: int = 0
    price_factor: float = 1.0
    duplicate_type: str | None = None
    broken_platform: str | None = None
    broken_share: float = 0.9
    seed: int = 0

    def __post_init__(self) -> None:
        """Check every field."""
        if not isinstance(self.from_day, int) or self.from_day < 0:
            raise ConfigError("from_day", self.from_day, "an integer >= 0")
        if not self.price_factor > 0:
            raise ConfigError("price_factor", self.price_factor, "a number > 0")
        if self.broken_platform is not None and self.broken_platform not in _PLATFORMS:
            raise ConfigError("broken_platform", self.broken_platform, f"one of {_PLATFORMS}")
        if not 0.0 <= self.broken_share <= 1.0:
            raise ConfigError("broken_share", self.broken_share, "a share in [0, 1]")


_MONEY_PATCH = (
    "CASE WHEN {c} IS NULL THEN {doc} ELSE json_merge_patch({doc}, json_object('{c}', "
    "json_object('amount', CAST(CAST({c} * $factor AS DECIMAL(19, 2)) AS VARCHAR), "
    "'currency', {c}_currency))) END"
)
_PRICE_SQL = (
    "SELECT * REPLACE (CAST(price * $factor AS DECIMAL(19, 6)) AS price, "  # noqa: S608 - ours
    "CAST(revenue * $factor AS DECIMAL(19, 6)) AS revenue, CAST("
    + _MONEY_PATCH.format(c="revenue", doc=_MONEY_PATCH.format(c="price", doc="payload"))
    + " AS VARCHAR) AS payload) FROM day"
)


def _duplicate(table: pa.Table, type_: str) -> pa.Table:
    copies = table.filter(pc.equal(table["type"], type_))
    ids = pc.binary_join_element_wise(copies["event_id"], pa.scalar("-dup"), "")
    ts = pc.add(copies["ts"], pa.scalar(dt.timedelta(milliseconds=1)))
    payload = pc.replace_substring_regex(
        copies["payload"], pattern=r'"event_id":"([^"]*)"', replacement=r'"event_id":"\1-dup"'
    )
    payload = pc.replace_substring_regex(
        payload, pattern=r'"ts":"[^"]*",', replacement="", max_replacements=1
    )
    stamps = pc.strftime(ts, format="%Y-%m-%dT%H:%M:%SZ")  # %S has the microseconds
    payload = pc.binary_join_element_wise(
        pa.scalar('{"ts":"'), stamps, pa.scalar('",'), pc.utf8_slice_codeunits(payload, 1), ""
    )
    columns = {"event_id": ids, "ts": ts, "payload": payload}
    for name, values in columns.items():
        copies = copies.set_column(copies.schema.get_field_index(name), name, values)
    return pa.concat_tables([table, copies.cast(table.schema)])


def plant(table: pa.Table, faults: Faults | None, day: int) -> tuple[pa.Table, list[str]]:
    """The day's table with the faults planted, and the broken payloads to send.

    Returns:
        The events to write, and the JSON payloads the collector must reject.
    """
    if faults is None or day < faults.from_day:
        return table, []
    if faults.price_factor != 1.0:
        con = duckdb.connect()
        try:
            con.register("day", table)
            out = con.sql(_PRICE_SQL, params={"factor": faults.price_factor}).to_arrow_table()
        finally:
            con.close()
        table = out.cast(table.schema)
    if faults.duplicate_type is not None:
        table = _duplicate(table, faults.duplicate_type)
    if faults.broken_platform is None or faults.broken_share == 0.0:
        return table, []
    rng = np.random.default_rng([faults.seed, day])
    on_platform = pc.equal(table["platform"], faults.broken_platform).to_numpy(zero_copy_only=False)
    broken = on_platform & (rng.random(table.num_rows) < faults.broken_share)
    mask = pa.array(broken)
    bad = pc.replace_substring_regex(
        table.filter(mask)["payload"], pattern=r'("ts":"[^"]*?)Z"', replacement=r'\1"'
    )
    return table.filter(pc.invert(mask)), bad.to_pylist()
