"""The embedded sink: events go straight into the lake through its single writer.

Example:
    >>> import datetime as dt, tempfile
    >>> from marketlift.ingest.sink import SinkBatch
    >>> sink = LakeSink(tempfile.mkdtemp())
    >>> sink.submit(SinkBatch([], [], dt.datetime.now(dt.UTC))).result()
    []
    >>> sink.close()
"""

from __future__ import annotations

import os
from concurrent.futures import Future

import pyarrow as pa

from marketlift.events.table import dead_letters_to_arrow, events_to_arrow
from marketlift.ingest.sink import SinkBatch
from marketlift.lake.writer import LakeWriter

__all__ = ["LakeSink"]


class LakeSink:
    """Write batches to the Parquet lake under ``data_dir`` (holds its writer lock).

    Args:
        data_dir: The data directory.
        writer: An open writer to use instead of opening one (it is then not closed here).
    """

    name = "lake"

    def __init__(
        self, data_dir: str | os.PathLike[str], *, writer: LakeWriter | None = None
    ) -> None:
        self._owns_writer = writer is None
        self.writer = writer if writer is not None else LakeWriter(data_dir)

    def submit(self, batch: SinkBatch) -> Future[list[bool]]:
        """Queue the batch for the next group commit (converted to Arrow on the commit thread)."""

        def events() -> pa.Table:
            return events_to_arrow(batch.events, received_at=batch.received_at)

        def dead() -> pa.Table:
            return dead_letters_to_arrow(
                batch.rejected, received_at=batch.received_at, source=batch.source
            )

        return self.writer.submit(events, dead if batch.rejected else None)

    def close(self) -> None:
        """Close the writer if this sink opened it."""
        if self._owns_writer:
            self.writer.close()
