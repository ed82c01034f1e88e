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
        """Convert the batch to Arrow and queue it for the next group commit."""
        events = events_to_arrow(batch.events, received_at=batch.received_at)
        dead = None
        if batch.rejected:
            dead = dead_letters_to_arrow(
                batch.rejected, received_at=batch.received_at, source=batch.source
            )
        return self.writer.submit(events, dead)

    def close(self) -> None:
        """Close the writer if this sink opened it."""
        if self._owns_writer:
            self.writer.close()
