"""A file-based model registry under ``DATA/models/<name>/<version>/``.

Each version folder holds ``model.txt`` (LightGBM), ``model.compiled`` (the lleaves binary, when
the compiler is installed), optional extra files (such as a ranker's candidate index) and
``meta.json``: kind, feature list and schema hash, training data range, metrics, parameters,
created time and code version. ``DATA/models/<name>/state.json`` records the promoted version
and the promotion history, so :meth:`Registry.rollback` returns to the previous one.

Writes are atomic: a version is assembled in a hidden temporary folder and renamed into place
(the rename also claims the version number, so two writers never share one), and
``state.json`` is written to a temporary file and replaced.

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
"""

from __future__ import annotations

import dataclasses
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

__all__ = ["ModelVersion", "Registry", "RegistryError"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_VERSION = re.compile(r"^v(\d{4,})$")


class RegistryError(MarketliftError, LookupError):
    """A model or version is not in the registry, or nothing can be rolled back."""


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


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


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

        ``created_at`` and ``code_version`` are added to the metadata.
        """
        folder = self._check_name(name)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        full = {
            **meta,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "code_version": __version__,
        }
        for fname, content in files.items():
            data = content if isinstance(content, bytes) else Path(content).read_bytes()
            (tmp / fname).write_bytes(data)
        (tmp / "meta.json").write_text(json.dumps(full, indent=2, default=str))
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
        meta = json.loads((path / "meta.json").read_text())
        return ModelVersion(name, chosen, path, meta)

    def _state(self, name: str) -> dict[str, Any]:
        path = self._check_name(name) / "state.json"
        if not path.exists():
            return {"promoted": None, "history": []}
        state: dict[str, Any] = json.loads(path.read_text())
        return state

    def _save_state(self, name: str, state: dict[str, Any]) -> None:
        _write_atomic(self._check_name(name) / "state.json", json.dumps(state, indent=2).encode())

    def promoted(self, name: str) -> str | None:
        """The promoted version of ``name``, if any."""
        value = self._state(name)["promoted"]
        return str(value) if value else None

    def promote(self, name: str, version: str | None = None) -> ModelVersion:
        """Serve ``version`` (default: the latest) from now on; returns it."""
        versions = self.versions(name)
        chosen = self.get(name, version or (versions[-1] if versions else None))
        state = self._state(name)
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
