"""The lander: consume the JetStream event stream into the lake, exactly once per event.

A durable pull consumer fetches messages in rounds; each round is written through the lake's
single writer (which drops ``event_id``s already stored) and the messages are acknowledged only
after that commit is durable. A crash between the commit and the acks redelivers the round,
and the writer reports those events as duplicates instead of storing them twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec
import pyarrow as pa

from marketlift.events.schema import Event
from marketlift.events.table import DEAD_LETTERS_SCHEMA, events_to_arrow
from marketlift.ingest.jetstream import RECEIVED_AT, ensure_stream, import_nats
from marketlift.lake.writer import LakeWriter

if TYPE_CHECKING:
    from marketlift.ingest.config import JetStreamConfig

__all__ = ["land"]

_DECODER: Final = msgspec.json.Decoder(Event)


class _Console(Protocol):
    def print(self, *objects: Any) -> None: ...


def land(
    data_dir: str | os.PathLike[str],
    config: JetStreamConfig,
    *,
    durable: str = "marketlift-lander",
    follow: bool = False,
    batch: int = 1000,
    idle_timeout_s: float = 1.0,
    progress: _Console | None = None,
    writer: LakeWriter | None = None,
) -> dict[str, int]:
    """Land the stream in the lake until caught up (or forever with ``follow``).

    Args:
        data_dir: The data directory of the lake.
        config: Server URL, stream and subject prefix.
        durable: Name of the durable consumer (its position survives restarts).
        follow: Keep waiting for new messages instead of stopping when caught up.
        batch: Messages fetched per round.
        idle_timeout_s: How long a fetch waits for messages.
        progress: Where to print a line per round (a rich console), or ``None``.
        writer: An open lake writer to use (not closed here); one is opened when ``None``.

    Returns:
        Counts: ``events`` (new), ``duplicates``, ``dead_letters``, ``rounds``.
    """
    own = writer is None
    active = writer if writer is not None else LakeWriter(data_dir)
    try:
        return asyncio.run(_land(active, config, durable, follow, batch, idle_timeout_s, progress))
    finally:
        if own:
            active.close()


async def _land(  # noqa: PLR0917 - private helper mirroring land()'s keywords
    writer: LakeWriter,
    config: JetStreamConfig,
    durable: str,
    follow: bool,
    batch: int,
    idle_timeout_s: float,
    progress: _Console | None,
) -> dict[str, int]:
    nats = import_nats()
    from nats.errors import TimeoutError as FetchTimeout  # noqa: PLC0415

    totals = {"events": 0, "duplicates": 0, "dead_letters": 0, "rounds": 0}
    nc = await nats.connect(config.url, connect_timeout=5, max_reconnect_attempts=3)
    try:
        js = nc.jetstream()
        await ensure_stream(js, config)
        sub = await js.pull_subscribe(
            f"{config.subject_prefix}.>", durable=durable, stream=config.stream
        )
        while True:
            try:
                msgs = await sub.fetch(batch, timeout=idle_timeout_s)
            except (TimeoutError, FetchTimeout):
                if follow:
                    continue
                break
            events_table, dead_table = _to_tables(msgs, f"{config.subject_prefix}.dead_letters")
            flags = await asyncio.wrap_future(writer.submit(events_table, dead_table))
            await asyncio.gather(*(m.ack_sync() for m in msgs))
            new = sum(flags)
            totals["events"] += new
            totals["duplicates"] += len(flags) - new
            totals["dead_letters"] += 0 if dead_table is None else dead_table.num_rows
            totals["rounds"] += 1
            if progress is not None:
                progress.print(f"landed {new} events ({len(flags) - new} duplicates)")
    finally:
        await nc.close()
    return totals


def _to_tables(msgs: list[Any], dead_subject: str) -> tuple[pa.Table, pa.Table | None]:
    events: list[Event] = []
    received: list[dt.datetime] = []
    dead: list[dict[str, Any]] = []
    for msg in msgs:
        if msg.subject == dead_subject:
            record = msgspec.json.decode(msg.data)
            at = dt.datetime.fromisoformat(record["received_at"])
            record["received_at"] = at
            record["received_date"] = at.date()
            dead.append(record)
        else:
            events.append(_DECODER.decode(msg.data))
            stamp = (msg.headers or {}).get(RECEIVED_AT)
            received.append(dt.datetime.fromisoformat(stamp) if stamp else dt.datetime.now(dt.UTC))
    table = events_to_arrow(events, received_at=received)
    dead_table = pa.Table.from_pylist(dead, schema=DEAD_LETTERS_SCHEMA) if dead else None
    return table, dead_table
