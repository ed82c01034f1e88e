"""Text embeddings of listing titles with a model shipped inside a package (WordLlama).

WordLlama ships its weights and tokenizer in its wheel; we load them from the installed package
folder with downloads disabled, so nothing is fetched at run time. Embeddings are L2-normalized
float32 rows, so a dot product is the cosine similarity.

Example:
    >>> E = embed_texts(["vintage leather bag", "leather bag", "ceramic mug", ""])
    >>> E.shape
    (4, 256)
    >>> bool(E[0] @ E[1] > E[0] @ E[2]), float(abs(E[3]).sum())
    (True, 0.0)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from marketlift.errors import MissingDependencyError

__all__ = ["embed_texts", "embedding_model"]


@functools.lru_cache(maxsize=1)
def embedding_model() -> Any:
    """The WordLlama model from the installed package (cached; no network).

    Raises:
        MissingDependencyError: wordllama is not installed (extra ``models``).
    """
    try:
        import wordllama  # noqa: PLC0415
    except ImportError as exc:
        raise MissingDependencyError("wordllama", "models") from exc
    folder = Path(wordllama.__file__).parent  # holds weights/ and tokenizers/
    return wordllama.WordLlama.load(cache_dir=folder, disable_download=True)


def embed_texts(texts: Sequence[str], batch_size: int = 512) -> npt.NDArray[np.float32]:
    """Unit-norm embeddings of ``texts`` (a zero row for an empty text)."""
    model = embedding_model()
    out = np.zeros((len(texts), 256), dtype=np.float32)
    idx = [i for i, t in enumerate(texts) if t]
    for start in range(0, len(idx), batch_size):
        chunk = idx[start : start + batch_size]
        vec = np.asarray(model.embed([texts[i] for i in chunk], norm=True), dtype=np.float32)
        out[chunk, : vec.shape[1]] = vec
    return out
