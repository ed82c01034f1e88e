"""A file-based model registry under ``DATA/models/<name>/<version>/``.

Each version folder holds ``model.txt`` (LightGBM), ``model.compiled`` (the lleaves binary, when
the compiler is installed), optional extra files (such as a ranker's candidate index) and
``meta.json``: kind, feature list and schema hash, training data range, metrics, parameters,
created time and code version. ``DATA/models/<name>/state.json`` records the promoted version
and the promotion history, so :meth:`Registry.rollback` returns to the previous one.

Writes are atomic and durable: a version is assembled in a hidden temporary folder (every file
fsynced) and renamed into place (the rename also claims the version number, so two writers never
share one), and ``state.json`` is written to a temporary file, fsynced and renamed over the old
one; the folder is fsynced after each rename.

Registration records the SHA-256 of every file in ``meta.json`` (``checksums``);
:meth:`ModelVersion.verify` checks them, so a corrupt artifact (random bytes, a truncated or
deleted file) is refused before anything parses it. An unreadable ``meta.json`` or
``state.json`` raises :class:`RegistryError` naming the file, never a bare decoding error.

Example:
    >>> import tempfile
    >>> reg = Registry(tempfile.mkdtemp())
    >>> v1 = reg.register("intent", {"model.txt": b"m1"}, {"kind": "intent"})
    >>> v2 = reg.register("intent", {"model.txt": b"m2"}, {"kind": "intent"})
    >>> v1.version, v2.version, reg.promoted("intent")
    ('v0001', 'v0002', None)
    >>> _ = reg.promote("intent", "v0001"); _ = reg.promote("intent", "v0002")
    >>> reg.rollback("intent").version
    'v0001'
    >>> v1.verify()
    True
    >>> _ = (v1.path / "model.txt").write_bytes(b"m1 damaged")
    >>> v1.verify()
    Traceback (most recent call last):
    ...
    marketlift.models.registry.CorruptArtifactError: model.txt of intent v0001 is corrupt: ...
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from marketlift._version import __version__
from marketlift.errors import ConfigError, MarketliftError

__all__ = ["CorruptArtifactError", "ModelVersion", "Registry", "RegistryError", "sha256_of"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_VERSION = re.compile(r"^v(\d{4,})$")


class RegistryError(MarketliftError, LookupError):
    """A model or version is not in the registry, its files are unreadable, or no rollback."""


class CorruptArtifactError(RegistryError):
    """A file of a version does not match the checksum recorded when it was registered."""


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered version: its folder and its metadata."""

    name: str
    version: str
    path: Path
    meta: dict[str, Any]

    def file(self, name: str) -> Path:
        """The path of one artifact file of this version."""
        return self.path / name

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {"name": self.name, "version": self.version, "path": str(self.path), **self.meta}

    def verify(self) -> bool:
        """Check every file against the checksums recorded at registration.

        Returns:
            ``True`` when every recorded file matches; ``False`` when the version has no
            recorded checksums (registered before they were recorded): nothing to check.

        Raises:
            CorruptArtifactError: a file is missing, or its bytes changed since registration.
        """
        recorded = self.meta.get("checksums")
        if recorded is None:
            return False
        if not isinstance(recorded, dict):
            msg = f"meta.json of {self.name} {self.version}: checksums == {recorded!r}, expected"
            raise CorruptArtifactError(f"{msg} an object of file name to SHA-256")
        for fname, expected in sorted(recorded.items()):
            path = self.path / fname
            try:
                got = sha256_of(path)
            except OSError as exc:
                msg = f"{fname} of {self.name} {self.version} cannot be read: {exc}"
                raise CorruptArtifactError(msg) from exc
            if got != expected:
                msg = (
                    f"{fname} of {self.name} {self.version} is corrupt: SHA-256 {got[:12]}..., "
                    f"registered {str(expected)[:12]}..."
                )
                raise CorruptArtifactError(msg)
        return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    _write_file(tmp, data)
    tmp.replace(path)
    _fsync_dir(path.parent)


class Registry:
    """Versioned model artifacts under ``DATA/models``."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.root = Path(data_dir) / "models"

    def _check_name(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ConfigError("name", name, "lowercase letters, digits, '-' or '_' (<= 64)")
        return self.root / name

    def names(self) -> list[str]:
        """Registered model names."""
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _NAME.match(p.name))

    def versions(self, name: str) -> list[str]:
        """Versions of ``name``, oldest first."""
        folder = self._check_name(name)
        if not folder.exists():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and _VERSION.match(p.name))

    def register(
        self,
        name: str,
        files: Mapping[str, bytes | os.PathLike[str]],
        meta: Mapping[str, Any],
    ) -> ModelVersion:
        """Store ``files`` (bytes, or paths to copy) and ``meta`` as the next version of ``name``.

        ``created_at``, ``code_version`` and ``checksums`` (the SHA-256 of every file) are added
        to the metadata.
        """
        folder = self._check_name(name)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        checksums: dict[str, str] = {}
        for fname, content in files.items():
            data = content if isinstance(content, bytes) else Path(content).read_bytes()
            _write_file(tmp / fname, data)
            checksums[fname] = hashlib.sha256(data).hexdigest()
        full = {
            **meta,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "code_version": __version__,
            "checksums": checksums,
        }
        _write_file(tmp / "meta.json", json.dumps(full, indent=2, default=str).encode())
        _fsync_dir(tmp)
        while True:
            existing = self.versions(name)
            number = int(existing[-1][1:]) + 1 if existing else 1
            target = folder / f"v{number:04d}"
            try:
                tmp.rename(target)  # fails if another writer claimed the number first
            except OSError:
                if not target.exists():
                    raise
                continue
            _fsync_dir(folder)
            return ModelVersion(name, target.name, target, full)

    def get(self, name: str, version: str | None = None) -> ModelVersion:
        """One version (default: the promoted one, else the latest).

        Raises:
            RegistryError: no such model or version.
        """
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "none"
            msg = f"model {name!r} is not registered (registered: {known})"
            raise RegistryError(msg)
        chosen = version or self.promoted(name) or versions[-1]
        if chosen not in versions:
            msg = f"version {chosen!r} of {name!r} does not exist (versions: {', '.join(versions)})"
            raise RegistryError(msg)
        path = self.root / name / chosen
        meta = _read_json(path / "meta.json", f"meta.json of {name} {chosen}")
        if not isinstance(meta, dict):
            msg = f"meta.json of {name} {chosen} holds a {type(meta).__name__}, expected an object"
            raise RegistryError(msg)
        return ModelVersion(name, chosen, path, meta)

    def _state(self, name: str) -> dict[str, Any]:
        path = self._check_name(name) / "state.json"
        if not path.exists():
            return {"promoted": None, "history": []}
        state = _read_json(path, f"state.json of {name}")
        promoted = state.get("promoted") if isinstance(state, dict) else None
        history = state.get("history") if isinstance(state, dict) else None
        if (
            not isinstance(state, dict)
            or not (promoted is None or (isinstance(promoted, str) and _VERSION.match(promoted)))
            or not isinstance(history, list)
            or not all(isinstance(v, str) and _VERSION.match(v) for v in history)
        ):
            msg = (
                f"state.json of {name} ({path}) == {str(state)[:80]!r}, expected "
                '{"promoted": "vNNNN" or null, "history": ["vNNNN", ...]}; '
                f"promote a version again to rewrite it (marketlift models promote {name} ...)"
            )
            raise RegistryError(msg)
        return state

    def history(self, name: str) -> list[str]:
        """Promoted versions of ``name``, oldest first (the last one is the promoted one)."""
        return [str(v) for v in self._state(name)["history"]]

    def _save_state(self, name: str, state: dict[str, Any]) -> None:
        _write_atomic(self._check_name(name) / "state.json", json.dumps(state, indent=2).encode())

    def promoted(self, name: str) -> str | None:
        """The promoted version of ``name``, if any."""
        value = self._state(name)["promoted"]
        return str(value) if value else None

    def promote(self, name: str, version: str | None = None) -> ModelVersion:
        """Serve ``version`` (default: the latest) from now on; returns it.

        An unreadable ``state.json`` is replaced (with a history that starts here).
        """
        versions = self.versions(name)
        chosen = self.get(name, version or (versions[-1] if versions else None))
        try:
            state = self._state(name)
        except RegistryError:  # an unreadable state.json: promoting starts a new history
            state = {"promoted": None, "history": []}
        if state["promoted"] != chosen.version:
            state["history"].append(chosen.version)
            state["promoted"] = chosen.version
            self._save_state(name, state)
        return chosen

    def rollback(self, name: str) -> ModelVersion:
        """Serve the previously promoted version again; returns it.

        Raises:
            RegistryError: fewer than two promotions so far.
        """
        state = self._state(name)
        if len(state["history"]) < 2:
            msg = f"model {name!r} has no earlier promoted version to roll back to"
            raise RegistryError(msg)
        state["history"].pop()
        state["promoted"] = state["history"][-1]
        self._save_state(name, state)
        return self.get(name, state["promoted"])

    def listing(self) -> list[dict[str, Any]]:
        """Every model with its versions and promoted version."""
        return [
            {"name": n, "versions": self.versions(n), "promoted": self.promoted(n)}
            for n in self.names()
        ]


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        msg = f"{what} ({path}) cannot be read: {type(exc).__name__}: {exc}"
        raise RegistryError(msg) from exc
