"""The collector: validate a batch, keep every valid event, dead-letter the rest, report.

The HTTP route and the Python API share this code path, so an event written from Python (a
backfill, the simulator) is validated exactly like one sent by an app.

Example:
    >>> import datetime as dt, tempfile
    >>> from marketlift.events import PageView, Limits
    >>> from marketlift.ingest.lake_sink import LakeSink
    >>> sink = LakeSink(tempfile.mkdtemp())
    >>> collector = Collector(sink, limits=Limits.unbounded_time())
    >>> ts = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    >>> event = PageView(event_id="e1", schema_version=1, ts=ts, platform="web", anonymous_id="a")
    >>> collector.ingest_events([event, event]).counts()
    (1, 1, 0)
    >>> sink.close()
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Final

import msgspec

from marketlift.events.limits import Limits
from marketlift.events.schema import Event
from marketlift.events.validate import (
    BatchFormatError,
    FieldError,
    RejectedEvent,
    ValidatedBatch,
    validate_batch,
)
from marketlift.ingest.sink import Sink, SinkBatch

__all__ = ["Collector", "IngestReport", "RejectedOut"]

_ENCODER: Final = msgspec.json.Encoder()


class RejectedOut(msgspec.Struct, frozen=True):
    """One rejected event in a report."""

    index: int
    event_id: str | None
    errors: list[FieldError]


class IngestReport(msgspec.Struct):
    """What happened to a batch: the body of the ``/v1/events`` response.

    Attributes:
        accepted: Events stored now.
        duplicates: Events whose ``event_id`` was already stored (retries), not stored again.
        rejected: Invalid events, with the position, id and per-field errors of each.
    """

    accepted: int
    duplicates: int
    rejected: list[RejectedOut]

    @property
    def status(self) -> int:
        """200 if anything valid was in the batch, 422 if nothing was."""
        return 200 if self.accepted + self.duplicates > 0 else 422

    def counts(self) -> tuple[int, int, int]:
        """``(accepted, duplicates, rejected)``."""
        return self.accepted, self.duplicates, len(self.rejected)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Collector:
    """Validates batches and writes them to a sink.

    Args:
        sink: Where valid events and dead letters go.
        limits: Request and event limits; see :class:`~marketlift.events.limits.Limits`.
        clock: Returns the current UTC time (injected for tests and simulations).
    """

    def __init__(
        self,
        sink: Sink,
        *,
        limits: Limits | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.sink = sink
        self.limits = limits or Limits()
        self.clock = clock

    def submit(
        self, body: bytes, *, source: str = "http"
    ) -> tuple[ValidatedBatch | BatchFormatError, Future[list[bool]]]:
        """Validate a body and hand it to the sink; the future resolves when durable.

        Returns:
            The validated batch and the sink's future; when the body as a whole is not a
            batch, the :class:`BatchFormatError` instead of the batch, and the future of its
            dead letter.
        """
        now = self.clock()
        try:
            batch = validate_batch(body, now=now, limits=self.limits)
        except BatchFormatError as exc:
            error = FieldError("$", f"<{len(body)} bytes>", exc.reason)
            rejected = RejectedEvent(-1, None, [error], body)
            return exc, self.sink.submit(SinkBatch([], [rejected], now, source))
        future = self.sink.submit(SinkBatch(batch.events, batch.rejected, now, source))
        return batch, future

    def ingest(self, body: bytes, *, source: str = "http") -> IngestReport:
        """Validate and durably write a JSON array or NDJSON body; return the report.

        Raises:
            BatchFormatError: The body as a whole is not a batch (it is dead-lettered).
        """
        batch, future = self.submit(body, source=source)
        flags = future.result()
        if isinstance(batch, BatchFormatError):
            raise batch
        return _report(batch, flags)

    async def ingest_async(self, body: bytes, *, source: str = "http") -> IngestReport:
        """Like :meth:`ingest`, awaiting the durable commit without blocking the loop."""
        batch, future = self.submit(body, source=source)
        flags = await asyncio.wrap_future(future)
        if isinstance(batch, BatchFormatError):
            raise batch
        return _report(batch, flags)

    def ingest_events(self, events: Sequence[Event], *, source: str = "python") -> IngestReport:
        """Validate and write events built in Python, through the same path as HTTP."""
        if not events:
            return IngestReport(0, 0, [])
        return self.ingest(_ENCODER.encode(list(events)), source=source)


def _report(batch: ValidatedBatch, flags: list[bool]) -> IngestReport:
    accepted = sum(flags)
    rejected = [RejectedOut(r.index, r.event_id, r.errors) for r in batch.rejected]
    return IngestReport(accepted, len(flags) - accepted, rejected)
