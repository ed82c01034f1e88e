"""Writer socket folders left by ``kill -9`` are removed at the next start (issue 21.16)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from marketlift.serve.workers import clean_stale_socket_dirs


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _folder(root: Path, name: str, owner: int | None) -> Path:
    folder = root / name
    folder.mkdir()
    if owner is not None:
        (folder / "owner.pid").write_text(str(owner))
    return folder


def test_only_folders_whose_owner_is_gone_are_removed(tmp_path: Path) -> None:
    stale = _folder(tmp_path, "marketlift-writer-dead", _dead_pid())
    (stale / "writer.sock").write_text("")
    alive = _folder(tmp_path, "marketlift-writer-alive", os.getpid())
    garbled = _folder(tmp_path, "marketlift-writer-garbled", None)
    (garbled / "owner.pid").write_text("not a pid")
    starting = _folder(tmp_path, "marketlift-writer-starting", None)  # owner file not yet written
    unrelated = _folder(tmp_path, "marketlift-notes", None)
    (unrelated / "keep.txt").write_text("not ours")
    # A folder of an older version: no owner file, a socket nobody listens on any more.
    legacy = _folder(tmp_path, "marketlift-abc123", None)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(legacy / "writer.sock"))
    listening = _folder(tmp_path, "marketlift-def456", None)
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(listening / "writer.sock"))
        server.listen(1)
        removed = clean_stale_socket_dirs(tmp_path)
    assert sorted(p.name for p in removed) == ["marketlift-abc123", "marketlift-writer-dead"]
    assert not stale.exists()
    assert not legacy.exists()
    for kept in (alive, garbled, starting, unrelated, listening):
        assert kept.exists(), kept.name
