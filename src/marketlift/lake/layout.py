"""Where the lake's files live, and the manifest that says which compacted files are live.

Layout under the data directory::

    lake/
      _manifest.json                      compacted files that are live, per table
      events/incoming/<seq>-<id>.parquet  one file per group commit, all types mixed
      events/date=YYYY-MM-DD/type=T/part-<seq>.parquet   compacted
      dead_letters/incoming/...           same scheme, partitioned by received date
      dead_letters/date=YYYY-MM-DD/part-<seq>.parquet
    .writer.lock                          held by the one process that writes the lake

A table's live files are its manifest files plus the incoming files not marked as consumed.
Compaction writes its outputs, then replaces the manifest atomically (adding the outputs,
marking the inputs consumed and retiring them, and retiring merged parts). Readers list
incoming files *before* reading the manifest, so they never see an event twice. Retired files
stay on disk for a grace period (30 s by default) and are deleted by a later compaction, so a
reader that listed them just before a compaction can still open them.

Example:
    >>> import tempfile
    >>> layout = LakeLayout(tempfile.mkdtemp())
    >>> layout.incoming_dir("events").relative_to(layout.data_dir).as_posix()
    'lake/events/incoming'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import msgspec

__all__ = ["TABLES", "LakeLayout", "Manifest", "Retired", "TableManifest", "fsync_dir"]

TABLES: Final = ("events", "dead_letters")


class Retired(msgspec.Struct):
    """A file no longer live, kept on disk until ``at`` plus the grace period."""

    path: str
    at: float


class TableManifest(msgspec.Struct):
    """Live compacted files of one table, incoming files already compacted, retired files."""

    files: list[str] = msgspec.field(default_factory=list)
    consumed: list[str] = msgspec.field(default_factory=list)
    retired: list[Retired] = msgspec.field(default_factory=list)


class Manifest(msgspec.Struct):
    """The lake's manifest: paths are relative to the lake root."""

    version: int = 1
    commit: int = 0
    tables: dict[str, TableManifest] = msgspec.field(default_factory=dict)

    def table(self, name: str) -> TableManifest:
        """Return (creating if needed) the entry of one table."""
        return self.tables.setdefault(name, TableManifest())


class LakeLayout:
    """Paths of one data directory's lake."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "lake"

    @property
    def manifest_path(self) -> Path:
        """The manifest file."""
        return self.root / "_manifest.json"

    @property
    def lock_path(self) -> Path:
        """The writer lock file."""
        return self.data_dir / ".writer.lock"

    def table_dir(self, table: str) -> Path:
        """The folder of one table."""
        return self.root / table

    def incoming_dir(self, table: str) -> Path:
        """The folder of a table's not-yet-compacted files."""
        return self.root / table / "incoming"

    def read_manifest(self) -> Manifest:
        """Read the manifest; an empty one if the lake is new."""
        try:
            data = self.manifest_path.read_bytes()
        except FileNotFoundError:
            return Manifest()
        return msgspec.json.decode(data, type=Manifest)

    def write_manifest(self, manifest: Manifest) -> None:
        """Replace the manifest atomically and durably."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.manifest_path.with_suffix(".json.tmp")
        with tmp.open("wb") as fh:
            fh.write(msgspec.json.encode(manifest))
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.manifest_path)
        fsync_dir(self.root)

    def incoming_files(self, table: str) -> list[str]:
        """Incoming files of a table, oldest first, relative to the lake root."""
        folder = self.incoming_dir(table)
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".parquet"))  # noqa: PTH208
        except FileNotFoundError:
            return []
        return [f"{table}/incoming/{n}" for n in names]

    def live_files(self, table: str) -> list[Path]:
        """Every live file of a table, as absolute paths (incoming listed first, see above)."""
        incoming = self.incoming_files(table)
        entry = self.read_manifest().table(table)
        consumed = set(entry.consumed)
        rel = entry.files + [f for f in incoming if f not in consumed]
        return [self.root / f for f in rel]


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (new or renamed files) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
