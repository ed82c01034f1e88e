"""``marketlift serve --workers N``: N HTTP processes in front of one lake writer.

The parent process holds the lake's writer (its lock and ``event_id`` index) and serves it on
a Unix socket (:class:`~marketlift.ingest.remote.WriterService`). Each worker binds the same
port with ``SO_REUSEPORT`` (the kernel spreads connections), validates and converts batches in
its own interpreter, and waits for the writer's durable commit before answering. Workers die
with the parent (``PR_SET_PDEATHSIG``), so ``kill -9`` of the parent leaves no orphan holding
the port. Each worker exposes its own ``/metrics``.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from types import FrameType

from marketlift.serve.config import ServeConfig

__all__ = ["run_workers"]


def run_workers(config: ServeConfig, workers: int, *, log_level: str = "warning") -> None:
    """Run ``workers`` HTTP processes and the writer until SIGTERM or SIGINT.

    Raises:
        LakeBusyError: Another process writes this lake.
    """
    from marketlift.ingest.remote import WriterService  # noqa: PLC0415 - keeps imports lazy
    from marketlift.lake.writer import LakeWriter  # noqa: PLC0415

    writer = LakeWriter(config.data_dir)
    socket_dir = tempfile.mkdtemp(prefix="marketlift-")
    service = WriterService(writer, os.path.join(socket_dir, "writer.sock"))  # noqa: PTH118
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(
            target=_worker_main, args=(config, service.path, log_level), name=f"marketlift-{i}"
        )
        for i in range(workers)
    ]
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for proc in procs:
            proc.start()
        while not stop.wait(0.5):
            if not all(p.is_alive() for p in procs):
                sys.stderr.write("marketlift: a worker exited; stopping the others\n")
                break
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn drains in-flight requests
        for proc in procs:
            proc.join(timeout=30)
        service.close()
        writer.close()
        shutil.rmtree(socket_dir, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _worker_main(config: ServeConfig, writer_path: str, log_level: str) -> None:
    """One HTTP worker: its own socket on the shared port, the remote sink, uvicorn."""
    import uvicorn  # noqa: PLC0415

    from marketlift.ingest.remote import RemoteLakeSink  # noqa: PLC0415
    from marketlift.serve.app import create_app  # noqa: PLC0415

    _die_with_parent()
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((config.host, config.port))
    sock.listen(2048)
    sink = RemoteLakeSink(writer_path)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config, sink=sink),
            log_level=log_level,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=10,
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        sink.close()


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
