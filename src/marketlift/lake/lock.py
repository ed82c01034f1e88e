"""The lake's writer lock: one process writes a data directory at a time.

The writer holds an exclusive ``flock`` on ``DATA/.writer.lock`` (released by the kernel when
the process dies, so a crash never leaves a stale lock) and writes its pid into the file.
:func:`writer_holder` tells another process who holds it, for messages such as "stop it first".

Example:
    >>> import tempfile
    >>> data = tempfile.mkdtemp()
    >>> writer_holder(data) is None
    True
    >>> fh = try_lock(data); _ = fh.write("1"); fh.flush()
    >>> writer_holder(data)  # doctest: +ELLIPSIS
    'pid 1 (...)'
    >>> fh.close()
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

__all__ = ["LOCK_FILE", "try_lock", "writer_holder"]

LOCK_FILE = ".writer.lock"
"""The lock file's name inside the data directory."""


def try_lock(data_dir: str | os.PathLike[str]) -> IO[str] | None:
    """Take the writer lock without waiting: the open lock file, or ``None`` when it is held.

    The lock lasts while the returned file stays open.
    """
    fh = (Path(data_dir) / LOCK_FILE).open("a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    return fh


def writer_holder(data_dir: str | os.PathLike[str]) -> str | None:
    """Who holds the writer lock now (``pid N (command line)``), or ``None`` when nobody does."""
    path = Path(data_dir) / LOCK_FILE
    if not path.exists():
        return None
    with path.open("r") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = fh.read().strip() or "unknown"
        else:
            fcntl.flock(fh, fcntl.LOCK_UN)
            return None
    return f"pid {pid} ({_command_of(pid)})"


def _command_of(pid: str) -> str:
    try:
        raw = Path(f"/proc/{int(pid)}/cmdline").read_bytes()
    except (OSError, ValueError):
        return "command unknown"
    command = " ".join(raw.replace(b"\0", b" ").decode(errors="replace").split())
    return command if len(command) <= 160 else command[:157] + "..."
