"""The daily loop as a Kubeflow Pipelines pipeline (extra ``kfp``): one component, every step.

The component runs :func:`marketlift.orchestration.run_step` for a step name and an interval;
the pipeline chains the steps of :data:`~marketlift.orchestration.pipeline.STEPS` in order, so
the steps live in one place and this module is glue only. ``interval`` is ``YYYY-MM-DD`` or
``latest`` (the lake's latest complete day). Steps are idempotent per interval (the ledger
under ``DATA/pipeline``), so KFP's own caching is off and a retried task is safe.

On a cluster, give :func:`make_pipeline` the image that has marketlift installed and a
``data_dir`` every pod mounts; here the tests compile the pipeline to its YAML document and
run it with KFP's local ``SubprocessRunner`` (no container engine).

Example:
    >>> import tempfile, pathlib
    >>> pipeline = make_pipeline()
    >>> path = compile_pipeline(pathlib.Path(tempfile.mkdtemp()) / "daily.yaml")
    >>> "marketlift-daily" in path.read_text()
    True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from marketlift.errors import MissingDependencyError
from marketlift.orchestration.pipeline import STEPS

__all__ = ["compile_pipeline", "make_pipeline", "run_local"]


def _dsl() -> Any:
    try:
        from kfp import dsl  # noqa: PLC0415
    except ImportError:
        raise MissingDependencyError("kfp", "kfp") from None
    return dsl


def _step(data_dir: str, interval: str, step: str, seed: int) -> str:
    """Run one marketlift pipeline step (the body of the KFP component)."""
    import json  # noqa: PLC0415

    from marketlift.orchestration import StepInput, default_interval, run_step  # noqa: PLC0415

    day = default_interval(data_dir).isoformat() if interval == "latest" else interval
    ctx = StepInput.from_strings(data_dir, day, seed)
    result = run_step(step, ctx)
    return json.dumps(result.to_dict(), default=str)


# KFP reads the types from the annotations, which ``from __future__ import annotations`` makes
# strings: give it the types themselves
_step.__annotations__ = {"data_dir": str, "interval": str, "step": str, "seed": int, "return": str}


def make_pipeline(base_image: str = "python:3.11", name: str = "marketlift-daily") -> Any:
    """The pipeline: the steps in order, each a task of the one component.

    Args:
        base_image: The image of the component (one with marketlift installed).
        name: The pipeline's name.
    """
    dsl = _dsl()
    component = dsl.component(_step, base_image=base_image)

    def daily(data_dir: str, interval: str = "latest", seed: int = 0) -> None:
        previous = None
        for step in STEPS:
            task = component(data_dir=data_dir, interval=interval, step=step, seed=seed)
            task.set_display_name(step)
            task.set_caching_options(enable_caching=False)
            if previous is not None:
                task.after(previous)
            previous = task

    daily.__annotations__ = {"data_dir": str, "interval": str, "seed": int, "return": None}
    return dsl.pipeline(name=name, description="marketlift's daily loop, one task per step")(daily)


def compile_pipeline(path: str | os.PathLike[str], base_image: str = "python:3.11") -> Path:
    """Compile the pipeline to its YAML document at ``path``."""
    from kfp import compiler  # noqa: PLC0415

    out = Path(path)
    compiler.Compiler().compile(make_pipeline(base_image), str(out))
    return out


def run_local(
    data_dir: str | os.PathLike[str], interval: str = "latest", *, root: str | None = None
) -> Any:
    """Run the pipeline with KFP's local subprocess runner in this Python environment.

    Args:
        data_dir: The data directory.
        interval: ``YYYY-MM-DD`` or ``latest``.
        root: Where the local runner keeps its outputs (default: ``DATA/pipeline/kfp``).
    """
    from kfp import local  # noqa: PLC0415

    pipeline_root = root or str(Path(data_dir) / "pipeline" / "kfp")
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=pipeline_root)
    return make_pipeline()(data_dir=str(data_dir), interval=interval)
