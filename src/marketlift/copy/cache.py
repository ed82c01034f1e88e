"""The copy cache: content-addressed results in one SQLite file under the data directory.

Where: ``DATA/copy/cache.sqlite`` (:func:`cache_path`). Why SQLite: it ships with Python,
a primary-key lookup takes a few microseconds from a read-only connection, readers never
block the batch writer (WAL journal), and one file is easy to copy to serving hosts. Rows:
``key`` (the address), ``touchpoint``, ``locale``, ``model``, ``prompt_version``,
``facts_hash``, ``status``, ``created_at`` and ``value`` (the msgpack of a
:class:`~marketlift.copy.request.CopyResult`).

The key is the SHA-256 of touchpoint, prompt version, facts hash, locale and model, so a new
prompt, new facts or another model never read stale copy.

Example:
    >>> import tempfile
    >>> from marketlift.copy.request import CopyResult
    >>> key = cache_key("translation", "tpl-1", "ab" * 32, "it-IT", "template")
    >>> result = CopyResult(key, "translation", "it-IT", None, {"title": "Tazza"}, "template",
    ...                     "template", "tpl-1", "ab" * 32)
    >>> with CopyCache(tempfile.mkdtemp()) as cache:
    ...     cache.put_many([result])
    ...     cache.get(key).parts, len(cache)
    1
    ({'title': 'Tazza'}, 1)
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Final

import msgspec

from marketlift.copy.request import CopyResult

__all__ = ["CopyCache", "cache_key", "cache_path"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS copy (
    key TEXT PRIMARY KEY,
    touchpoint TEXT NOT NULL,
    locale TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    facts_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    value BLOB NOT NULL
) WITHOUT ROWID
"""
_ENCODER: Final = msgspec.msgpack.Encoder()
_DECODER: Final = msgspec.msgpack.Decoder(CopyResult)


def cache_path(data_dir: str | Path) -> Path:
    """``DATA/copy/cache.sqlite``."""
    return Path(data_dir) / "copy" / "cache.sqlite"


def cache_key(
    touchpoint: str, prompt_version: str, facts_hash: str, locale: str, model: str
) -> str:
    """The content address of one piece of copy (64 hex characters)."""
    raw = "\x1f".join((touchpoint, prompt_version, facts_hash, locale, model))
    return hashlib.sha256(raw.encode()).hexdigest()


class CopyCache:
    """Read and write cached copy.

    Args:
        data_dir: The data directory (the file is ``DATA/copy/cache.sqlite``).
        readonly: Open for reading only (the decision API); a missing file reads as empty.
    """

    def __init__(self, data_dir: str | Path, *, readonly: bool = False) -> None:
        self.path = cache_path(data_dir)
        self.readonly = readonly
        self._lock = threading.Lock()
        self._con: sqlite3.Connection | None = None
        if readonly:
            self._open_readonly()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(self.path, check_same_thread=False)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute(_SCHEMA)
            self._con.commit()

    def _open_readonly(self) -> None:
        if self.path.exists():
            self._con = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )

    def get(self, key: str) -> CopyResult | None:
        """The cached result at ``key``, or ``None`` (a reader opens a file created later)."""
        if self._con is None and self.readonly:
            self._open_readonly()
        if self._con is None:
            return None
        with self._lock:
            row = self._con.execute("SELECT value FROM copy WHERE key = ?", (key,)).fetchone()
        return None if row is None else _DECODER.decode(row[0])

    def put_many(self, results: Iterable[CopyResult]) -> int:
        """Insert or replace results; returns how many were written."""
        if self._con is None or self.readonly:
            raise PermissionError(f"{self.path} is open read-only")
        now = time.time()
        rows = [
            (r.key, r.touchpoint, r.locale, r.model, r.prompt_version, r.facts_hash, r.status,
             now, _ENCODER.encode(r))
            for r in results
        ]  # fmt: skip
        with self._lock:
            self._con.executemany("INSERT OR REPLACE INTO copy VALUES (?,?,?,?,?,?,?,?,?)", rows)
            self._con.commit()
        return len(rows)

    def __len__(self) -> int:
        if self._con is None:
            return 0
        with self._lock:
            (n,) = self._con.execute("SELECT count(*) FROM copy").fetchone()
        return int(n)

    def close(self) -> None:
        """Close the connection."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> CopyCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
