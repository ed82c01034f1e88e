"""Columnar form of events and dead letters: the Arrow schemas the lake stores.

Common fields become columns; the fields analyses use most (listing, order, revenue, action,
propensity, experiment ...) are promoted to typed columns; ``payload`` keeps the whole
validated event as JSON, so no field is ever lost.

Example:
    >>> import datetime as dt
    >>> from marketlift.events.schema import PageView
    >>> now = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    >>> event = PageView(event_id="e1", schema_version=1, ts=now, platform="web",
    ...                  anonymous_id="a1")
    >>> table = events_to_arrow([event], received_at=now)
    >>> table.num_rows, table.column("type")[0].as_py()
    (1, 'page_view')
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Final

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from marketlift.events.schema import Event
from marketlift.events.validate import RejectedEvent

__all__ = [
    "DEAD_LETTERS_SCHEMA",
    "EVENTS_SCHEMA",
    "dead_letters_to_arrow",
    "describe_error",
    "events_to_arrow",
]

_TS: Final = pa.timestamp("us", tz="UTC")
_MONEY: Final = pa.decimal128(19, 6)

EVENTS_SCHEMA: Final = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("schema_version", pa.int16(), nullable=False),
        pa.field("ts", _TS, nullable=False),
        pa.field("received_at", _TS, nullable=False),
        pa.field("event_date", pa.date32(), nullable=False),
        pa.field("buyer_id", pa.string()),
        pa.field("anonymous_id", pa.string()),
        pa.field("session_id", pa.string()),
        pa.field("platform", pa.string(), nullable=False),
        pa.field("app_version", pa.string()),
        pa.field("locale", pa.string()),
        pa.field("currency", pa.string()),
        pa.field("country", pa.string()),
        pa.field("listing_id", pa.string()),
        pa.field("shop_id", pa.string()),
        pa.field("order_id", pa.string()),
        pa.field("query", pa.string()),
        pa.field("surface", pa.string()),
        pa.field("quantity", pa.int32()),
        pa.field("price", _MONEY),
        pa.field("price_currency", pa.string()),
        pa.field("revenue", _MONEY),
        pa.field("revenue_currency", pa.string()),
        pa.field("action", pa.string()),
        pa.field("channel", pa.string()),
        pa.field("decision_id", pa.string()),
        pa.field("propensity", pa.float64()),
        pa.field("experiment_key", pa.string()),
        pa.field("variant", pa.string()),
        pa.field("payload", pa.string(), nullable=False),
    ]
)
"""One row per valid event. ``payload`` is the whole event as JSON."""

DEAD_LETTERS_SCHEMA: Final = pa.schema(
    [
        pa.field("received_at", _TS, nullable=False),
        pa.field("received_date", pa.date32(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("batch_index", pa.int32()),
        pa.field("event_id", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("errors", pa.string(), nullable=False),
        pa.field("payload", pa.string(), nullable=False),
    ]
)
"""One row per rejected payload, with the reason and the per-field errors as JSON."""

_MONEY_STRUCT: Final = pa.struct([("amount", pa.string()), ("currency", pa.string())])
_DIRECT: Final = (
    "event_id",
    "type",
    "buyer_id",
    "anonymous_id",
    "session_id",
    "platform",
    "app_version",
    "locale",
    "currency",
    "country",
    "listing_id",
    "shop_id",
    "order_id",
    "query",
    "surface",
    "action",
    "channel",
    "decision_id",
    "experiment_key",
    "variant",
)
_INGEST_SCHEMA: Final = pa.schema(
    [pa.field(name, pa.string()) for name in _DIRECT]
    + [
        pa.field("schema_version", pa.int16()),
        pa.field("ts", _TS),
        pa.field("quantity", pa.int32()),
        pa.field("propensity", pa.float64()),
        pa.field("price", _MONEY_STRUCT),
        pa.field("revenue", _MONEY_STRUCT),
    ]
)
_ENCODER: Final = msgspec.json.Encoder()
_READ_OPTIONS: Final = pj.ReadOptions(use_threads=False, block_size=1 << 24)
_PARSE_OPTIONS: Final = pj.ParseOptions(
    explicit_schema=_INGEST_SCHEMA, unexpected_field_behavior="ignore"
)
_PAYLOAD_LIMIT: Final = 64 * 1024


def events_to_arrow(
    events: Sequence[Event], *, received_at: dt.datetime | Sequence[dt.datetime]
) -> pa.Table:
    """Turn validated events into a table of :data:`EVENTS_SCHEMA`.

    Each event is encoded to JSON once (that JSON is the ``payload`` column) and Arrow's
    JSON reader parses the promoted columns from it in C++, without Python per-row work.

    Args:
        events: Validated events.
        received_at: The server's receive time, stamped on every row (or one per event).

    Returns:
        A table with one row per event, in order.
    """
    n = len(events)
    if n == 0:
        return EVENTS_SCHEMA.empty_table()
    payloads = [_ENCODER.encode(e) for e in events]
    flat = pj.read_json(
        io.BytesIO(b"\n".join(payloads)),
        read_options=_READ_OPTIONS,
        parse_options=_PARSE_OPTIONS,
    )
    ts = flat.column("ts")
    columns: dict[str, pa.Array | pa.ChunkedArray] = {name: flat.column(name) for name in _DIRECT}
    columns["schema_version"] = flat.column("schema_version")
    columns["ts"] = ts
    if isinstance(received_at, dt.datetime):
        columns["received_at"] = pa.repeat(pa.scalar(received_at, _TS), n)
    else:
        columns["received_at"] = pa.array(received_at, type=_TS)
    columns["event_date"] = pc.cast(ts, pa.date32())
    columns["quantity"] = flat.column("quantity")
    columns["propensity"] = flat.column("propensity")
    for money in ("price", "revenue"):
        struct = flat.column(money)
        columns[money] = pc.cast(pc.struct_field(struct, "amount"), _MONEY)
        columns[f"{money}_currency"] = pc.struct_field(struct, "currency")
    columns["payload"] = pa.array(payloads, type=pa.binary()).cast(pa.string())
    return pa.Table.from_pydict(
        {name: columns[name] for name in EVENTS_SCHEMA.names}, schema=EVENTS_SCHEMA
    )


def dead_letters_to_arrow(
    rejected: Sequence[RejectedEvent], *, received_at: dt.datetime, source: str
) -> pa.Table:
    """Turn rejected events into a table of :data:`DEAD_LETTERS_SCHEMA`.

    Example:
        >>> import datetime as dt
        >>> from marketlift.events.validate import FieldError, RejectedEvent
        >>> bad = RejectedEvent(0, "e1", [FieldError("platform", "tv", "one of ...")], b"{}")
        >>> now = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
        >>> table = dead_letters_to_arrow([bad], received_at=now, source="http")
        >>> table.column("reason")[0].as_py()
        "platform == 'tv', expected one of ..."
    """
    n = len(rejected)
    reasons = [
        "; ".join(describe_error(e.field, e.value, e.expected) for e in r.errors) for r in rejected
    ]
    columns = {
        "received_at": pa.array([received_at] * n, type=_TS),
        "received_date": pa.array([received_at.date()] * n, type=pa.date32()),
        "source": pa.array([source] * n, type=pa.string()),
        "batch_index": pa.array([r.index for r in rejected], type=pa.int32()),
        "event_id": pa.array([r.event_id for r in rejected], type=pa.string()),
        "reason": pa.array(reasons, type=pa.string()),
        "errors": pa.array([_ENCODER.encode(r.errors).decode() for r in rejected], pa.string()),
        "payload": pa.array(
            [r.raw[:_PAYLOAD_LIMIT].decode("utf-8", "replace") for r in rejected], pa.string()
        ),
    }
    return pa.Table.from_pydict(columns, schema=DEAD_LETTERS_SCHEMA)


def describe_error(field: str, value: object, expected: str) -> str:
    """One line naming the field, the value and what was expected.

    Example:
        >>> describe_error("platform", "tv", "one of 'web', 'ios', 'android'")
        "platform == 'tv', expected one of 'web', 'ios', 'android'"
    """
    return f"{field} == {value!r}, expected {expected}"
