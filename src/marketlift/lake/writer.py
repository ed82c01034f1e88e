"""The one writer of a lake: exactly-once, durable appends with group commit, and compaction.

Callers :meth:`LakeWriter.submit` an Arrow table of events (and optionally dead letters) and
get a future. A single commit thread takes every submission waiting at that moment, drops
events whose ``event_id`` is already stored (across restarts: the index is rebuilt from the lake
when the writer opens), writes one Parquet file, fsyncs it and its folder, and only then
resolves the futures. An acknowledged event is therefore on disk, and a retried one is reported
as a duplicate instead of stored twice.

A second thread compacts incoming files into ``date=/type=`` partitions (see
:mod:`marketlift.lake.layout` for the protocol that keeps readers exact during compaction).

Example:
    >>> import datetime as dt, tempfile
    >>> from marketlift.events.schema import PageView
    >>> from marketlift.events.table import events_to_arrow
    >>> from marketlift.lake.reader import query
    >>> data = tempfile.mkdtemp()
    >>> now = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    >>> table = events_to_arrow([PageView(event_id="e1", schema_version=1, ts=now,
    ...                                   platform="web", anonymous_id="a")], received_at=now)
    >>> with LakeWriter(data) as writer:
    ...     writer.append(table), writer.append(table)
    ([True], [False])
    >>> query(data, "SELECT count(*) AS n FROM events").to_pylist()
    [{'n': 1}]
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Self, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from marketlift.errors import LakeBusyError
from marketlift.events.table import DEAD_LETTERS_SCHEMA, EVENTS_SCHEMA
from marketlift.lake.layout import TABLES, LakeLayout, Manifest, Retired, fsync_dir
from marketlift.lake.lock import try_lock, writer_holder

__all__ = ["CompactionReport", "LakeWriter", "TableSource", "WriterStats"]

_log = logging.getLogger("marketlift.lake.writer")

_PARTITIONS: Final = {"events": ("event_date", "type"), "dead_letters": ("received_date",)}
_DATE_KEY: Final = {"event_date": "date", "received_date": "date", "type": "type"}


@dataclasses.dataclass(frozen=True, slots=True)
class CompactionReport:
    """What one compaction did."""

    files_in: int
    files_out: int
    rows: int
    seconds: float


@dataclasses.dataclass(slots=True)
class WriterStats:
    """Running counters of a writer, for metrics."""

    commits: int = 0
    events_written: int = 0
    duplicates: int = 0
    dead_letters_written: int = 0
    compactions: int = 0
    last_commit_seconds: float = 0.0


TableSource: TypeAlias = "pa.Table | Callable[[], pa.Table]"
"""A table, or a function that builds it (run on the commit thread, off the caller's)."""


@dataclasses.dataclass(slots=True)
class _Submission:
    events: TableSource
    dead_letters: TableSource | None
    future: Future[list[bool]]


_STOP: Final = object()


class LakeWriter:
    """Appends events exactly once and durably to the lake under ``data_dir``.

    Args:
        data_dir: The data directory (created if missing).
        compact_after_files: Start a compaction once this many incoming files wait.
        compact_interval_s: Also compact incoming files older than this, when idle enough.
        merge_parts_over: Merge a partition's parts once it has more than this many.
        background: Run the commit and compaction threads; ``False`` commits synchronously
            (tools and tests that write once).
        compact_on_close: Compact what is incoming when the writer closes.
        retire_grace_s: How long compacted-away files stay on disk for readers that listed
            them just before (see :mod:`marketlift.lake.layout`).

    Raises:
        LakeBusyError: Another process holds the lake's writer lock.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        compact_after_files: int = 512,
        compact_interval_s: float = 60.0,
        merge_parts_over: int = 8,
        background: bool = True,
        compact_on_close: bool = True,
        retire_grace_s: float = 30.0,
    ) -> None:
        self.layout = LakeLayout(data_dir)
        self.compact_after_files = compact_after_files
        self.compact_interval_s = compact_interval_s
        self.merge_parts_over = merge_parts_over
        self.compact_on_close = compact_on_close
        self.retire_grace_s = retire_grace_s
        self.stats = WriterStats()
        self.layout.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = self._acquire_lock()
        for table in TABLES:
            self.layout.incoming_dir(table).mkdir(parents=True, exist_ok=True)
        self._recover()
        self._ids: set[str] = self._load_ids()
        self._compact_lock = threading.Lock()
        self._ids_lock = threading.Lock()
        self._closed = False
        self._queue: queue.SimpleQueue[_Submission | object] = queue.SimpleQueue()
        self._background = background
        self._wake_compactor = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        if background:
            self._threads = [
                threading.Thread(target=self._commit_loop, name="lake-commit", daemon=True),
                threading.Thread(target=self._compact_loop, name="lake-compact", daemon=True),
            ]
            for thread in self._threads:
                thread.start()

    # -- public API -------------------------------------------------------------------------

    @property
    def event_count(self) -> int:
        """Number of distinct events stored."""
        return len(self._ids)

    def pending_files(self, table: str = "events") -> int:
        """Incoming files of a table not compacted yet (a measure of compaction lag)."""
        consumed = set(self.layout.read_manifest().table(table).consumed)
        return sum(1 for f in self.layout.incoming_files(table) if f not in consumed)

    def contains(self, event_id: str) -> bool:
        """Whether an event with this id is stored (or being stored)."""
        return event_id in self._ids

    def submit(
        self, events: TableSource, dead_letters: TableSource | None = None
    ) -> Future[list[bool]]:
        """Queue events (and dead letters) for the next group commit.

        Args:
            events: A table of :data:`~marketlift.events.table.EVENTS_SCHEMA`, or a function
                that builds one: it then runs on the commit thread, which keeps the caller's
                thread (the HTTP event loop) free.
            dead_letters: A table of :data:`~marketlift.events.table.DEAD_LETTERS_SCHEMA` (or a
                function that builds one).

        Returns:
            A future resolved once the commit is durable, with one flag per event row:
            ``True`` if stored now, ``False`` if its ``event_id`` was already stored.
        """
        if self._closed:
            msg = "the lake writer is closed"
            raise RuntimeError(msg)
        future: Future[list[bool]] = Future()
        submission = _Submission(events, dead_letters, future)
        if self._background:
            self._queue.put(submission)
        else:
            self._commit([submission])
        return future

    def append(self, events: TableSource, dead_letters: TableSource | None = None) -> list[bool]:
        """Submit and wait for the durable commit; see :meth:`submit`."""
        return self.submit(events, dead_letters).result()

    def compact(self, *, force: bool = True) -> CompactionReport:
        """Compact incoming files into partitions now (``force``) or if enough are waiting."""
        with self._compact_lock:
            return self._compact(force=force)

    def close(self) -> None:
        """Commit what is queued, compact, stop the threads and release the lock."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        if self._background:
            self._queue.put(_STOP)
            self._wake_compactor.set()
            for thread in self._threads:
                thread.join()
        if self.compact_on_close:
            with contextlib.suppress(Exception):
                self.compact(force=True)
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- start-up ---------------------------------------------------------------------------

    def _acquire_lock(self) -> IO[str]:
        fh = try_lock(self.layout.data_dir)
        if fh is None:
            holder = writer_holder(self.layout.data_dir) or "unknown"
            msg = (
                f"the lake at {self.layout.data_dir} is being written by another process "
                f"({holder}); stop it, or point this one at another --data directory"
            )
            raise LakeBusyError(msg) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        return fh

    def _recover(self) -> None:
        """Finish or undo what a crash interrupted."""
        manifest = self.layout.read_manifest()
        changed = False
        for table in TABLES:
            folder = self.layout.table_dir(table)
            for tmp in folder.rglob("*.tmp"):
                tmp.unlink()
            entry = manifest.table(table)
            on_disk = set(self.layout.incoming_files(table))
            kept = [f for f in entry.consumed if f in on_disk]
            if kept != entry.consumed:
                entry.consumed = kept
                changed = True
            retired = {r.path for r in entry.retired}
            unretired = [f for f in entry.consumed if f not in retired]
            if unretired:
                entry.retired += [Retired(f, 0.0) for f in unretired]
                changed = True
            live = set(entry.files) | {r.path for r in entry.retired}
            for part in folder.glob("date=*/**/*.parquet"):
                rel = part.relative_to(self.layout.root).as_posix()
                if rel not in live:
                    part.unlink()  # output of a compaction that never committed
        to_delete = _purge(manifest, self.retire_grace_s)
        if changed or to_delete:
            self.layout.write_manifest(manifest)
        for rel in to_delete:
            (self.layout.root / rel).unlink(missing_ok=True)

    def _load_ids(self) -> set[str]:
        files = self.layout.live_files("events")
        if not files:
            return set()
        dataset = ds.dataset([str(f) for f in files], format="parquet", schema=EVENTS_SCHEMA)
        column = dataset.to_table(columns=["event_id"]).column("event_id")
        ids: set[str] = set(column.to_pylist())
        return ids

    # -- commits ----------------------------------------------------------------------------

    def _commit_loop(self) -> None:
        while True:
            first = self._queue.get()
            items = [first]
            with contextlib.suppress(queue.Empty):
                while True:
                    items.append(self._queue.get_nowait())
            subs = [i for i in items if isinstance(i, _Submission)]
            if subs:
                self._commit(subs)
                if self.pending_files() >= self.compact_after_files:
                    self._wake_compactor.set()
            if len(subs) != len(items):
                return

    def _commit(self, pending: list[_Submission]) -> None:
        started = time.perf_counter()
        subs: list[tuple[_Submission, pa.Table, pa.Table | None]] = []
        for sub in pending:
            try:
                events = _materialize(sub.events, EVENTS_SCHEMA)
                dead_letters = (
                    None
                    if sub.dead_letters is None
                    else _materialize(sub.dead_letters, DEAD_LETTERS_SCHEMA)
                )
            except Exception as exc:  # noqa: BLE001 - the submitter gets the error
                sub.future.set_exception(exc)
                continue
            subs.append((sub, events, dead_letters))
        masks, kept, added = self._dedupe([events for _, events, _ in subs])
        dead = [d for _, _, d in subs if d is not None]
        kept = [t for t in kept if t.num_rows]  # a batch rejected whole writes no empty file
        dead = [d for d in dead if d.num_rows]
        try:
            if kept:
                self._write_incoming("events", pa.concat_tables(kept))
            if dead:
                self._write_incoming("dead_letters", pa.concat_tables(dead))
        except BaseException as exc:  # noqa: BLE001 - every waiter must learn of the failure
            self._ids.difference_update(added)
            for sub, _, _ in subs:
                if not sub.future.cancelled():
                    sub.future.set_exception(exc)
            return
        total = sum(len(m) for m in masks)
        self.stats.commits += 1
        self.stats.events_written += len(added)
        self.stats.duplicates += total - len(added)
        self.stats.dead_letters_written += sum(t.num_rows for t in dead)
        self.stats.last_commit_seconds = time.perf_counter() - started
        for (sub, _, _), mask in zip(subs, masks, strict=True):
            if not sub.future.cancelled():  # a waiter that gave up; the events are stored
                sub.future.set_result(mask)

    def _dedupe(self, tables: list[pa.Table]) -> tuple[list[list[bool]], list[pa.Table], list[str]]:
        """Claim the new event ids: per table its flags and its new rows; the ids claimed."""
        added: list[str] = []
        masks: list[list[bool]] = []
        kept: list[pa.Table] = []
        with self._ids_lock:
            for events in tables:
                ids = events.column("event_id").to_pylist()
                unique = set(ids)
                if len(unique) == len(ids) and self._ids.isdisjoint(unique):
                    # The common case, all new: set operations in C, no per-id Python loop.
                    self._ids |= unique
                    added += ids
                    masks.append([True] * len(ids))
                    kept.append(events)
                    continue
                mask = []
                for event_id in ids:
                    new = event_id not in self._ids
                    if new:
                        self._ids.add(event_id)
                        added.append(event_id)
                    mask.append(new)
                masks.append(mask)
                if all(mask):
                    kept.append(events)
                elif any(mask):
                    kept.append(events.filter(pa.array(mask)))
        return masks, kept, added

    def append_bulk(self, events: TableSource) -> list[bool]:
        """Write a large table of events straight into the date/type partitions.

        For backfills and the simulator: the same de-duplication and durability as
        :meth:`append`, without the detour through incoming files and a later compaction.
        The rows are visible once the manifest that lists their files is replaced.

        Returns:
            One flag per row: ``True`` if stored now, ``False`` if already stored.
        """
        table = _materialize(events, EVENTS_SCHEMA)
        (mask,), kept, added = self._dedupe([table])
        if not kept:
            return mask
        try:
            with self._compact_lock:
                outputs = self._write_partitions("events", kept[0])
                manifest = self.layout.read_manifest()
                entry = manifest.table("events")
                entry.files = entry.files + [f for f, _ in outputs]
                new_parts, old_parts = self._merge_parts("events", entry.files)
                entry.files = [f for f in entry.files if f not in old_parts] + new_parts
                now = time.time()
                entry.retired = entry.retired + [Retired(f, now) for f in old_parts]
                manifest.commit += 1
                self.layout.write_manifest(manifest)
        except BaseException:
            with self._ids_lock:
                self._ids.difference_update(added)
            raise
        self.stats.events_written += len(added)
        self.stats.duplicates += len(mask) - len(added)
        return mask

    def _write_incoming(self, table: str, data: pa.Table) -> Path:
        folder = self.layout.incoming_dir(table)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        return _write_durable(folder / name, data)

    # -- compaction -------------------------------------------------------------------------

    def _compact_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake_compactor.wait(timeout=self.compact_interval_s)
            self._wake_compactor.clear()
            if self._stopping.is_set():
                return
            with self._compact_lock:
                try:
                    self._compact(force=False)
                except OSError:
                    pass  # a full or failing disk: the next round tries again
                except Exception:  # noqa: BLE001 - logged; the thread must survive
                    # never let the compactor die: incoming files would pile up for good
                    _log.exception("compaction failed; retrying at the next interval")
            # A wake-up that came between wait() and clear() is not lost: look again.
            if self.pending_files() >= self.compact_after_files:
                self._wake_compactor.set()

    def _compact(self, *, force: bool) -> CompactionReport:
        started = time.perf_counter()
        manifest = self.layout.read_manifest()
        files_in = files_out = rows = 0
        for table in TABLES:
            entry = manifest.table(table)
            inputs = [f for f in self.layout.incoming_files(table) if f not in entry.consumed]
            if not inputs or (not force and not self._due(inputs)):
                continue
            data = pa.concat_tables(
                [pq.read_table(self.layout.root / f, schema=_schema(table)) for f in inputs]
            )
            outputs = self._write_partitions(table, data)
            entry.files = entry.files + [f for f, _ in outputs]
            new_parts, old_parts = self._merge_parts(table, entry.files)
            entry.files = [f for f in entry.files if f not in old_parts] + new_parts
            entry.consumed = entry.consumed + inputs
            now = time.time()
            entry.retired = entry.retired + [Retired(f, now) for f in inputs + old_parts]
            files_in += len(inputs)
            files_out += len(outputs) + len(new_parts)
            rows += data.num_rows
        to_delete = _purge(manifest, self.retire_grace_s)
        if not files_in and not to_delete:
            return CompactionReport(0, 0, 0, time.perf_counter() - started)
        manifest.commit += 1
        self.layout.write_manifest(manifest)
        for rel in to_delete:
            (self.layout.root / rel).unlink(missing_ok=True)
        if files_in:
            self.stats.compactions += 1
        return CompactionReport(files_in, files_out, rows, time.perf_counter() - started)

    def _due(self, inputs: list[str]) -> bool:
        if len(inputs) >= self.compact_after_files:
            return True
        oldest_ns = int(Path(inputs[0]).name.split("-", 1)[0])
        return (time.time_ns() - oldest_ns) / 1e9 >= self.compact_interval_s

    def _write_partitions(self, table: str, data: pa.Table) -> list[tuple[str, int]]:
        keys = _PARTITIONS[table]
        order, runs = _partition_order(data, keys)
        data = data.take(order)
        out: list[tuple[str, int]] = []
        stamp = f"{time.time_ns():020d}"
        for start, stop in runs:
            part = data.slice(start, stop - start)  # zero-copy: rows are sorted by the keys
            combo = {k: part.column(k)[0].as_py() for k in keys}
            rel_dir = "/".join(f"{_DATE_KEY[k]}={combo[k]}" for k in keys)
            rel = f"{table}/{rel_dir}/part-{stamp}-{uuid.uuid4().hex[:8]}.parquet"
            _write_durable(self.layout.root / rel, part)
            out.append((rel, part.num_rows))
        return out

    def _merge_parts(self, table: str, files: list[str]) -> tuple[list[str], list[str]]:
        """Merge the small parts of every partition that has too many."""
        by_dir: dict[str, list[str]] = {}
        for rel in files:
            by_dir.setdefault(rel.rsplit("/", 1)[0], []).append(rel)
        new: list[str] = []
        old: list[str] = []
        limit = 64 * 1024 * 1024
        for folder, parts in by_dir.items():
            small = [p for p in parts if (self.layout.root / p).stat().st_size < limit]
            if len(small) <= self.merge_parts_over:
                continue
            data = pa.concat_tables(
                [pq.read_table(self.layout.root / p, schema=_schema(table)) for p in small]
            )
            rel = f"{folder}/part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
            _write_durable(self.layout.root / rel, data)
            new.append(rel)
            old += small
        return new, old


def _partition_order(
    data: pa.Table, keys: tuple[str, ...]
) -> tuple[np.ndarray[Any, Any], list[tuple[int, int]]]:
    """Row order that groups the table by its partition keys, and the ``[start, stop)`` runs.

    Each key is dictionary-encoded and the codes are combined into one integer, so grouping is
    one stable integer sort (rows keep their arrival order inside a partition) instead of a
    multi-column sort on strings.
    """
    n = data.num_rows
    if n == 0:
        return np.zeros(0, dtype=np.int64), []
    combined = np.zeros(n, dtype=np.int64)
    for key in keys:
        encoded = pc.dictionary_encode(data.column(key)).combine_chunks()
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        combined = combined * (len(encoded.dictionary) + 1) + codes
    order = np.argsort(combined, kind="stable")
    ordered = combined[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if n else np.array([], int)
    stops = np.append(starts[1:], n)
    return order, list(zip(starts.tolist(), stops.tolist(), strict=True))


def _purge(manifest: Manifest, grace_s: float) -> list[str]:
    """Drop retired files older than the grace period from the manifest; return their paths."""
    cutoff = time.time() - grace_s
    purged: list[str] = []
    for entry in manifest.tables.values():
        old = [r.path for r in entry.retired if r.at <= cutoff]
        if not old:
            continue
        gone = set(old)
        entry.retired = [r for r in entry.retired if r.path not in gone]
        entry.consumed = [f for f in entry.consumed if f not in gone]
        purged += old
    return purged


def _materialize(source: TableSource, schema: pa.Schema) -> pa.Table:
    table = source() if callable(source) else source
    return table if table.schema.equals(schema) else table.cast(schema)


def _schema(table: str) -> pa.Schema:
    return EVENTS_SCHEMA if table == "events" else DEAD_LETTERS_SCHEMA


def _write_durable(path: Path, data: pa.Table) -> Path:
    """Write a Parquet file so that it is complete and durable before it becomes visible."""
    _makedirs_durable(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        pq.write_table(data, fh, compression="zstd", compression_level=1)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    fsync_dir(path.parent)
    return path


def _makedirs_durable(folder: Path) -> None:
    """Create a folder and its missing parents, making each new entry durable."""
    if folder.is_dir():
        return
    _makedirs_durable(folder.parent)
    folder.mkdir(exist_ok=True)
    fsync_dir(folder.parent)
