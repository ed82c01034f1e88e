"""``marketlift serve --workers N``: N HTTP processes in front of one lake writer.

The parent process holds the lake's writer (its lock and ``event_id`` index) and serves it on
a Unix socket (:class:`~marketlift.ingest.remote.WriterService`). Each worker binds the same
port with ``SO_REUSEPORT`` (the kernel spreads connections), validates and converts batches in
its own interpreter, and waits for the writer's durable commit before answering. Workers die
with the parent (``PR_SET_PDEATHSIG``), so ``kill -9`` of the parent leaves no orphan holding
the port. Each worker exposes its own ``/metrics``.

The writer's socket lives in a ``marketlift-writer-*`` folder of the temporary directory with
an ``owner.pid`` file; ``kill -9`` leaves it behind, so each start first removes the folders
whose owner process is gone (:func:`clean_stale_socket_dirs`).
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
from pathlib import Path
from types import FrameType
from typing import Final

from marketlift.serve.config import ServeConfig

__all__ = ["clean_stale_socket_dirs", "run_workers"]

_PREFIX: Final = "marketlift-writer-"
_LEGACY_PREFIX: Final = "marketlift-"
_OWNER: Final = "owner.pid"
_SOCKET: Final = "writer.sock"


def clean_stale_socket_dirs(root: Path | str | None = None) -> list[Path]:
    """Remove the writer socket folders under ``root`` whose owner process is gone.

    Only this user's folders are looked at, and only those that are evidently a writer's:
    an ``owner.pid`` naming a process that no longer runs, or (folders of older versions,
    without that file) a ``writer.sock`` that refuses connections.

    Args:
        root: Where to look; ``None``: the temporary directory (``TMPDIR``).

    Returns:
        The folders removed.
    """
    base = Path(root if root is not None else tempfile.gettempdir())
    removed: list[Path] = []
    for folder in sorted(base.glob(_LEGACY_PREFIX + "*")):
        try:
            mine = (
                folder.is_dir() and not folder.is_symlink() and folder.stat().st_uid == os.getuid()
            )
        except OSError:
            continue
        if mine and _owner_gone(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _owner_gone(folder: Path) -> bool:
    try:
        pid = int((folder / _OWNER).read_text().strip())
    except FileNotFoundError:
        return (folder / _SOCKET).is_socket() and _refuses(folder / _SOCKET)
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _refuses(path: Path) -> bool:
    """Whether nobody listens on the Unix socket ``path`` any more."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return False


def _socket_dir() -> str:
    """A new socket folder with this process as its owner, after removing stale ones."""
    clean_stale_socket_dirs()
    folder = tempfile.mkdtemp(prefix=_PREFIX)
    Path(folder, _OWNER).write_text(str(os.getpid()))
    return folder


def run_workers(config: ServeConfig, workers: int, *, log_level: str = "warning") -> None:
    """Run ``workers`` HTTP processes and the writer until SIGTERM or SIGINT.

    Raises:
        LakeBusyError: Another process writes this lake.
    """
    from marketlift.ingest.remote import WriterService  # noqa: PLC0415 - keeps imports lazy
    from marketlift.lake.writer import LakeWriter  # noqa: PLC0415

    writer = LakeWriter(config.data_dir)
    socket_dir = _socket_dir()
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
    from marketlift.serve.connections import uvicorn_config  # noqa: PLC0415

    _die_with_parent()
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((config.host, config.port))
    sock.listen(config.http.backlog)
    sink = RemoteLakeSink(writer_path)
    server = uvicorn.Server(
        uvicorn_config(create_app(config, sink=sink), config, log_level=log_level)
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
