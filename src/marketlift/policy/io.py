"""Save and load fitted policies and uplift learners (pickle with a version header).

Only load files you wrote: unpickling runs code.

Example:
    >>> import pathlib, tempfile
    >>> from marketlift.policy.linucb import LinUCB
    >>> pol = LinUCB().fit([[0.0], [1.0]], ["none", "push"], [0.0, 1.0])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.pkl"
    >>> _ = save(pol, path)
    >>> load(path).actions_
    ['none', 'push']
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from marketlift._version import __version__
from marketlift.errors import ConfigError

__all__ = ["load", "save"]

_MAGIC = "marketlift.policy"


def save(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write a fitted policy or learner to ``path`` (atomically; its folder is created)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    with tmp.open("wb") as f:
        pickle.dump({"magic": _MAGIC, "version": __version__, "object": obj}, f)
    tmp.replace(target)
    return target


def load(path: str | os.PathLike[str]) -> Any:
    """Read what :func:`save` wrote."""
    with Path(path).open("rb") as f:
        doc = pickle.load(f)  # noqa: S301 - our own files only (documented)
    if not isinstance(doc, dict) or doc.get("magic") != _MAGIC:
        raise ConfigError("path", str(path), "a file written by marketlift.policy.io.save")
    return doc["object"]
