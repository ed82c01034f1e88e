"""Several collector processes, one lake writer: the writer service and its remote sink.

Validation and the conversion to Arrow are CPU work under one GIL per process. With
``marketlift serve --workers N``, N HTTP worker processes validate and convert in parallel and
send Arrow IPC frames over a Unix socket to the one process that holds the lake's writer (its
lock and its ``event_id`` index). The writer group-commits as usual and answers each frame with
one flag per event once the commit is durable, so the HTTP answer still means "stored".

Frame (worker → writer): ``!QII`` request id, events bytes, dead-letter bytes; then the two Arrow
IPC streams. Reply: ``!QI`` request id and event count, then one byte per event (1 = new); a
count of ``0xFFFFFFFF`` is followed by ``!I`` length and a UTF-8 error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from concurrent.futures import Future
from typing import Final

import pyarrow as pa

from marketlift.events.table import dead_letters_to_arrow, events_to_arrow
from marketlift.ingest._loop import LoopThread
from marketlift.ingest.sink import SinkBatch
from marketlift.lake.writer import LakeWriter

__all__ = ["RemoteLakeSink", "WriterService"]

_REQUEST: Final = struct.Struct("!QII")
_REPLY: Final = struct.Struct("!QI")
_LENGTH: Final = struct.Struct("!I")
_ERROR: Final = 0xFFFFFFFF


def _to_ipc(table: pa.Table) -> bytes:
    out = pa.BufferOutputStream()
    with pa.ipc.new_stream(out, table.schema) as stream:
        stream.write_table(table)
    data: bytes = out.getvalue().to_pybytes()
    return data


def _from_ipc(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


class WriterService:
    """Serves a :class:`~marketlift.lake.writer.LakeWriter` to collector processes.

    Args:
        writer: The open writer (not closed here).
        path: The Unix socket path to listen on.
    """

    def __init__(self, writer: LakeWriter, path: str) -> None:
        self.writer = writer
        self.path = path
        self._thread = LoopThread("writer-service")
        self._server: asyncio.AbstractServer | None = None
        self._thread.run(self._start()).result(timeout=10)

    async def _start(self) -> None:
        self._server = await asyncio.start_unix_server(self._handle, path=self.path)

    async def _handle(self, reader: asyncio.StreamReader, out: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(_REQUEST.size)
                request_id, events_size, dead_size = _REQUEST.unpack(header)
                events = _from_ipc(await reader.readexactly(events_size))
                dead = _from_ipc(await reader.readexactly(dead_size)) if dead_size else None
                future = asyncio.wrap_future(self.writer.submit(events, dead))
                future.add_done_callback(
                    lambda done, rid=request_id: self._reply(out, rid, done)  # type: ignore[misc]
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(Exception):
                out.close()

    @staticmethod
    def _reply(
        out: asyncio.StreamWriter, request_id: int, done: asyncio.Future[list[bool]]
    ) -> None:
        if out.is_closing():
            return
        error = done.exception()
        if error is not None:
            message = f"{type(error).__name__}: {error}".encode()
            out.write(_REPLY.pack(request_id, _ERROR) + _LENGTH.pack(len(message)) + message)
            return
        flags = done.result()
        out.write(_REPLY.pack(request_id, len(flags)) + bytes(flags))

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def close(self) -> None:
        """Stop listening and stop the loop (the writer stays open; idempotent)."""
        if self._thread.closed:
            return
        self._thread.run(self._stop()).result(timeout=5)
        self._thread.stop()


class RemoteLakeSink:
    """A sink that sends batches to a :class:`WriterService` (see the module docs).

    Args:
        path: The writer service's Unix socket.
    """

    name = "lake"

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread = LoopThread("remote-sink")
        self._pending: dict[int, Future[list[bool]]] = {}
        self._next = 0
        self._out: asyncio.StreamWriter | None = None
        self._thread.run(self._connect()).result(timeout=10)

    async def _connect(self) -> None:
        reader, self._out = await asyncio.open_unix_connection(self.path)
        asyncio.get_running_loop().create_task(self._read_replies(reader))

    async def _read_replies(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                request_id, count = _REPLY.unpack(await reader.readexactly(_REPLY.size))
                future = self._pending.pop(request_id)
                if count == _ERROR:
                    (size,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
                    message = (await reader.readexactly(size)).decode()
                    future.set_exception(RuntimeError(f"the lake writer failed: {message}"))
                else:
                    flags = await reader.readexactly(count) if count else b""
                    future.set_result([b == 1 for b in flags])
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            lost = ConnectionError(f"the lake writer at {self.path} went away: {exc}")
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(lost)
            self._pending.clear()

    def submit(self, batch: SinkBatch) -> Future[list[bool]]:
        """Convert to Arrow (on this sink's thread) and send; resolves when durable."""
        future: Future[list[bool]] = Future()
        self._thread.run(self._send(batch, future))
        return future

    async def _send(self, batch: SinkBatch, future: Future[list[bool]]) -> None:
        if self._out is None or self._out.is_closing():
            future.set_exception(
                ConnectionError(f"the lake writer at {self.path} is not connected")
            )
            return
        try:
            events = _to_ipc(events_to_arrow(batch.events, received_at=batch.received_at))
            dead = b""
            if batch.rejected:
                table = dead_letters_to_arrow(
                    batch.rejected, received_at=batch.received_at, source=batch.source
                )
                dead = _to_ipc(table)
            self._next += 1
            self._pending[self._next] = future
            self._out.write(_REQUEST.pack(self._next, len(events), len(dead)) + events + dead)
            await self._out.drain()
        except Exception as exc:  # noqa: BLE001 - the submitter gets the error
            if not future.done():
                future.set_exception(exc)

    def close(self) -> None:
        """Close the connection and stop the thread (idempotent)."""
        if self._thread.closed:
            return
        if self._out is not None:
            self._thread.loop.call_soon_threadsafe(self._out.close)
        self._thread.stop()
