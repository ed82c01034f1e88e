"""The sink interface: where validated events go.

A sink takes a :class:`SinkBatch` and returns a future resolved once the batch is durable in
that sink, with one flag per event: ``True`` if stored now, ``False`` if its ``event_id`` was
already stored (a retry). Implementations: :class:`~marketlift.ingest.lake_sink.LakeSink`
(the embedded default) and :class:`~marketlift.ingest.jetstream.JetStreamSink` (scale-out).
One shared test suite runs against both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Protocol, runtime_checkable

from marketlift.events.schema import Event
from marketlift.events.validate import RejectedEvent

__all__ = ["Sink", "SinkBatch"]


@dataclasses.dataclass(frozen=True, slots=True)
class SinkBatch:
    """Validated events and rejected payloads of one request, stamped with the receive time."""

    events: Sequence[Event]
    rejected: Sequence[RejectedEvent]
    received_at: dt.datetime
    source: str = "http"


@runtime_checkable
class Sink(Protocol):
    """Where the collector writes: durable, exactly once per ``event_id``."""

    name: str

    def submit(self, batch: SinkBatch) -> Future[list[bool]]:
        """Write a batch; the future resolves when it is durable (see the module docs)."""
        ...

    def close(self) -> None:
        """Flush and release resources."""
        ...
