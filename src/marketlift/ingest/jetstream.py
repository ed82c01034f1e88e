"""The scale-out sink: events are published to a NATS JetStream stream.

Each event is one message on ``<prefix>.events`` with the header ``Nats-Msg-Id: <event_id>``,
so JetStream drops a retry inside its duplicate window and says so in the publish ack; the
lander (:mod:`marketlift.ingest.lander`) de-duplicates on ``event_id`` across any time span
when it lands the stream in the lake. A batch is acknowledged once JetStream has stored every
message (file storage). Dead letters go to ``<prefix>.dead_letters``.

The sink runs its own event loop in a background thread, so synchronous callers (the CLI, the
simulator) and the async HTTP app use it alike.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Final

import msgspec

from marketlift.errors import MissingDependencyError
from marketlift.events.table import describe_error
from marketlift.ingest._loop import LoopThread
from marketlift.ingest.sink import SinkBatch

if TYPE_CHECKING:
    from marketlift.ingest.config import JetStreamConfig

__all__ = ["JetStreamSink", "ensure_stream", "import_nats"]

_ENCODER: Final = msgspec.json.Encoder()
RECEIVED_AT: Final = "Marketlift-Received-At"


def import_nats() -> Any:
    """Import nats-py, or fail naming what to install."""
    try:
        import nats  # noqa: PLC0415 - optional dependency, imported on use
    except ImportError as exc:  # pragma: no cover - nats-py is a core dependency today
        raise MissingDependencyError("nats-py", "stream") from exc
    return nats


async def ensure_stream(js: Any, config: JetStreamConfig) -> None:
    """Create the stream if it does not exist (file storage, the configured dup window)."""
    from nats.js.api import StorageType, StreamConfig  # noqa: PLC0415
    from nats.js.errors import NotFoundError  # noqa: PLC0415

    try:
        await js.stream_info(config.stream)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=config.stream,
                subjects=[f"{config.subject_prefix}.>"],
                storage=StorageType.FILE,
                duplicate_window=config.duplicate_window_s,
            )
        )


class JetStreamSink:
    """Publish batches to JetStream; see the module docs.

    Args:
        config: Server URL, stream and subjects.
        connect_timeout_s: How long to try to reach the server at start.
    """

    name = "jetstream"

    def __init__(self, config: JetStreamConfig, *, connect_timeout_s: float = 5.0) -> None:
        self.config = config
        self._thread = LoopThread("jetstream-sink")
        self._nc: Any = None
        self._js: Any = None
        try:
            self._run(self._connect(connect_timeout_s)).result()
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coro: Any) -> Future[Any]:
        return self._thread.run(coro)

    async def _connect(self, connect_timeout_s: float) -> None:
        nats = import_nats()
        self._nc = await nats.connect(
            self.config.url,
            connect_timeout=connect_timeout_s,
            max_reconnect_attempts=3,
            allow_reconnect=True,
        )
        self._js = self._nc.jetstream()
        await ensure_stream(self._js, self.config)

    def submit(self, batch: SinkBatch) -> Future[list[bool]]:
        """Publish every event and dead letter; resolves once JetStream stored them all."""
        return self._run(self._publish(batch))

    async def _publish(self, batch: SinkBatch) -> list[bool]:
        received = batch.received_at.isoformat()
        subject = f"{self.config.subject_prefix}.events"
        sends = [
            self._js.publish(
                subject,
                _ENCODER.encode(event),
                headers={"Nats-Msg-Id": event.event_id, RECEIVED_AT: received},
            )
            for event in batch.events
        ]
        dead_subject = f"{self.config.subject_prefix}.dead_letters"
        for rejected in batch.rejected:
            record = {
                "received_at": received,
                "source": batch.source,
                "batch_index": rejected.index,
                "event_id": rejected.event_id,
                "reason": "; ".join(
                    describe_error(e.field, e.value, e.expected) for e in rejected.errors
                ),
                "errors": _ENCODER.encode(rejected.errors).decode(),
                "payload": rejected.raw[:65536].decode("utf-8", "replace"),
            }
            sends.append(self._js.publish(dead_subject, _ENCODER.encode(record)))
        acks = await asyncio.gather(*sends)
        return [not ack.duplicate for ack in acks[: len(batch.events)]]

    def close(self) -> None:
        """Drain the connection and stop the loop (idempotent)."""
        if self._thread.closed:
            return
        if self._nc is not None:
            self._run(self._nc.drain()).result(timeout=10)
            self._nc = None
        self._stop_loop()

    def _stop_loop(self) -> None:
        self._thread.stop()
