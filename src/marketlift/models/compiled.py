"""Compiled inference for boosted trees, and the serving predictor built on it.

We compile LightGBM models with **lleaves** (LLVM): on 100 rows x 40 features and 200 trees it
predicts about 5x faster than ``Booster.predict`` and, unlike treelite/tl2cgen, needs no
per-call ``DMatrix`` (see ``docs/models.md`` for the measurements). The compiled binary is
cached next to the model file, so loading a registered model takes milliseconds.

:class:`ServingPredictor` is the hot path: it preallocates its input and output buffers once,
keeps the raw pointers, and per request only copies the candidate rows into the buffer, calls the
compiled function (which releases the GIL) and applies an in-place transform (Platt calibration
for intent, nothing for ranking scores). Buffers are guarded by a lock, so one predictor may be
shared by threads; give each worker process its own.

When lleaves is not installed, :func:`load_predictor` falls back to LightGBM's own predictor
(same numbers, slower), so training and tests never depend on a compiler.

Loading a damaged binary makes LLVM call ``abort()``, which no ``except`` can catch: a binary
whose bytes are not vouched for by a checksum is first loaded in a child process by
:func:`probe_compiled` (``load_predictor(..., probe=True)``), so a bad file kills the child and
raises :class:`CompiledLoadError` here instead of taking the server down.

Example:
    >>> import numpy as np, lightgbm as lgb, tempfile, pathlib
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 4)); y = (X[:, 0] > 0).astype(int)
    >>> booster = lgb.train({"objective": "binary", "verbose": -1, "num_threads": 1},
    ...                     lgb.Dataset(X, y), num_boost_round=5)
    >>> folder = pathlib.Path(tempfile.mkdtemp()); booster.save_model(folder / "model.txt")
    <lightgbm.basic.Booster object at ...>
    >>> predictor = ServingPredictor(BoosterRaw(folder / "model.txt"), max_rows=64)
    >>> scores = predictor.predict(X[:10])
    >>> bool(np.allclose(scores, booster.predict(X[:10], raw_score=True)))
    True
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError, MarketliftError, MissingDependencyError

__all__ = [
    "BoosterRaw",
    "CompiledLoadError",
    "CompiledRaw",
    "RawPredictor",
    "ServingPredictor",
    "compile_model",
    "lleaves_available",
    "load_predictor",
    "probe_compiled",
]

PROBE_TIMEOUT_S = 120.0
"""Longest wait for the child process of :func:`probe_compiled`."""

_PROBE = """
import sys
import numpy as np
from marketlift.models.compiled import CompiledRaw
raw = CompiledRaw(sys.argv[1], sys.argv[2])
out = np.zeros(1)
raw.predict_into(np.zeros((1, raw.n_features)), out, 1)
print(raw.n_features)
"""


class CompiledLoadError(MarketliftError, ValueError):
    """A compiled model binary cannot be loaded (the probe's child process failed or died)."""


FloatArray = npt.NDArray[np.float64]


class RawPredictor(Protocol):
    """Writes raw margins of ``n`` contiguous float64 rows into ``out``."""

    n_features: int

    def predict_into(self, data: FloatArray, out: FloatArray, n: int) -> None:
        """Raw scores of ``data[:n]`` into ``out[:n]``."""


def lleaves_available() -> bool:
    """Whether the lleaves compiler can be imported."""
    try:
        import lleaves  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def compile_model(
    model_file: str | os.PathLike[str], compiled_file: str | os.PathLike[str]
) -> Path:
    """Compile a LightGBM text model to a cached native binary (raw scores, fp64).

    Raises:
        MissingDependencyError: lleaves is not installed (extra ``models``).
    """
    try:
        import lleaves  # noqa: PLC0415
    except ImportError as exc:
        raise MissingDependencyError("lleaves", "models") from exc
    compiled = Path(compiled_file)
    model = lleaves.Model(model_file=str(model_file))
    model.compile(cache=str(compiled), raw_score=True, finline=False)
    return compiled


def probe_compiled(
    model_file: str | os.PathLike[str],
    compiled_file: str | os.PathLike[str],
    *,
    timeout_s: float = PROBE_TIMEOUT_S,
) -> None:
    """Load ``compiled_file`` and score one row in a child process; raise if that fails.

    Raises:
        CompiledLoadError: the child exited with an error, was killed by a signal (LLVM's
            ``abort()`` on a damaged object file) or ran past ``timeout_s``.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    command = [sys.executable, "-c", _PROBE, str(model_file), str(compiled_file)]
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and code, paths as arguments
            command, capture_output=True, text=True, timeout=timeout_s, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        msg = f"{compiled_file}: loading it in a child process took over {timeout_s} s"
        raise CompiledLoadError(msg) from exc
    if done.returncode != 0:
        how = (
            f"killed by signal {-done.returncode}"
            if done.returncode < 0
            else f"exit status {done.returncode}"
        )
        tail = " | ".join(line for line in done.stderr.strip().splitlines()[-2:] if line)
        msg = f"{compiled_file} cannot be loaded (probe in a child process: {how}): {tail}"
        raise CompiledLoadError(msg)


class CompiledRaw:
    """The lleaves-compiled raw-score function of a model, called through its C entry point."""

    def __init__(
        self, model_file: str | os.PathLike[str], compiled_file: str | os.PathLike[str]
    ) -> None:
        try:
            import lleaves  # noqa: PLC0415
        except ImportError as exc:
            raise MissingDependencyError("lleaves", "models") from exc
        self.model = lleaves.Model(model_file=str(model_file))
        self.model.compile(cache=str(compiled_file), raw_score=True, finline=False)
        self.n_features = int(self.model.num_feature())
        self._entry = self.model._c_entry_func
        self._in_ptr: Any = None
        self._out_ptr: Any = None
        self._bound: tuple[int, int] = (0, 0)

    def predict(self, data: FloatArray) -> FloatArray:
        """Lleaves' own ``predict`` (one thread): the raw compiled predictor of the benchmarks."""
        return np.asarray(self.model.predict(data, n_jobs=1))

    def predict_into(self, data: FloatArray, out: FloatArray, n: int) -> None:
        """Raw scores of ``data[:n]`` into ``out[:n]``; pointers are cached per buffer pair."""
        key = (data.ctypes.data, out.ctypes.data)
        if key != self._bound:
            pointer = ctypes.POINTER(ctypes.c_double)
            self._in_ptr = data.ctypes.data_as(pointer)
            self._out_ptr = out.ctypes.data_as(pointer)
            self._bound = key
        self._entry(self._in_ptr, self._out_ptr, 0, n)


class BoosterRaw:
    """LightGBM's own predictor behind the same interface (the fallback without lleaves)."""

    def __init__(self, model_file: str | os.PathLike[str], num_threads: int = 1) -> None:
        import lightgbm as lgb  # noqa: PLC0415

        self.booster = lgb.Booster(model_file=str(model_file))
        self.n_features = int(self.booster.num_feature())
        self.num_threads = num_threads

    def predict_into(self, data: FloatArray, out: FloatArray, n: int) -> None:
        """Raw scores of ``data[:n]`` into ``out[:n]``."""
        out[:n] = self.booster.predict(data[:n], raw_score=True, num_threads=self.num_threads)


class ServingPredictor:
    """Preallocated, lock-guarded scoring of up to ``max_rows`` candidates per call.

    Args:
        raw: The raw-score predictor (:class:`CompiledRaw` or :class:`BoosterRaw`).
        max_rows: Largest batch; bigger requests are scored in chunks.
        platt: ``(a, b)`` to return ``sigmoid(a * margin + b)``; ``None`` for raw scores.
    """

    def __init__(
        self, raw: RawPredictor, *, max_rows: int = 1024, platt: tuple[float, float] | None = None
    ) -> None:
        if max_rows < 1:
            raise ConfigError("max_rows", max_rows, "an integer >= 1")
        self.raw = raw
        self.n_features = raw.n_features
        self.max_rows = max_rows
        self.platt = platt
        self._in = np.zeros((max_rows, raw.n_features), dtype=np.float64)
        self._out = np.zeros(max_rows, dtype=np.float64)
        self._lock = threading.Lock()

    def predict(self, rows: FloatArray) -> FloatArray:
        """Scores of ``rows`` (shape ``(n, n_features)``), as a new array of length ``n``.

        Raises:
            ConfigError: ``rows`` has the wrong number of columns.
        """
        n = rows.shape[0]
        if rows.ndim != 2 or rows.shape[1] != self.n_features:
            raise ConfigError("rows.shape", rows.shape, f"(n, {self.n_features})")
        result = np.empty(n, dtype=np.float64)
        with self._lock:
            for start in range(0, n, self.max_rows):
                m = min(self.max_rows, n - start)
                np.copyto(self._in[:m], rows[start : start + m])
                self.raw.predict_into(self._in, self._out, m)
                out = self._out[:m]
                if self.platt is not None:
                    a, b = self.platt
                    np.multiply(out, a, out=out)
                    np.add(out, b, out=out)
                    np.negative(out, out=out)
                    np.exp(out, out=out)
                    np.add(out, 1.0, out=out)
                    np.reciprocal(out, out=out)
                result[start : start + m] = out
        return result


def load_predictor(
    model_file: str | os.PathLike[str],
    compiled_file: str | os.PathLike[str] | None,
    *,
    max_rows: int = 1024,
    platt: tuple[float, float] | None = None,
    probe: bool = False,
) -> ServingPredictor:
    """A serving predictor on the compiled model when available, else on LightGBM.

    Args:
        model_file: The LightGBM text model.
        compiled_file: Its lleaves binary (``None`` or missing: LightGBM's predictor).
        max_rows: Largest batch of one call.
        platt: Calibration ``(a, b)``, or ``None`` for raw scores.
        probe: Load the binary in a child process first (:func:`probe_compiled`): for a binary
            no checksum vouches for, which could otherwise abort this process.
    """
    raw: RawPredictor
    if compiled_file is not None and Path(compiled_file).exists() and lleaves_available():
        if probe:
            probe_compiled(model_file, compiled_file)
        raw = CompiledRaw(model_file, compiled_file)
    else:
        raw = BoosterRaw(model_file)
    return ServingPredictor(raw, max_rows=max_rows, platt=platt)
