"""The daily loop as ordered steps: :data:`STEPS`, :func:`run_step`, :func:`run_pipeline`.

Every orchestrator calls the same functions: the CLI (``marketlift pipeline run`` and
``marketlift pipeline step NAME``), the Airflow DAG (:mod:`marketlift.orchestration.airflow`)
and the KFP components (:mod:`marketlift.orchestration.kfp`).

Example:
    >>> list(STEPS)[:4]
    ['land', 'compact', 'features', 'load-online']
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from marketlift.errors import ConfigError
from marketlift.orchestration import data_steps, model_steps, release_steps
from marketlift.orchestration.context import StepInput, StepResult, read_result, write_result
from marketlift.orchestration.data_steps import StepSkippedError
from marketlift.orchestration.policy_step import retrain_policy

__all__ = ["STEPS", "default_interval", "interval_complete", "run_pipeline", "run_step"]


def _policy(ctx: StepInput) -> dict[str, Any]:
    return retrain_policy(ctx.data_dir, ctx.interval.isoformat(), random_state=ctx.seed)


STEPS: Final[dict[str, Callable[[StepInput], dict[str, Any]]]] = {
    "land": data_steps.land,
    "compact": data_steps.compact,
    "features": data_steps.build_features,
    "load-online": data_steps.load_online,
    "train-intent": model_steps.train_intent,
    "train-ranker": model_steps.train_ranker,
    "policy-retrain": _policy,
    "evaluate": release_steps.evaluate,
    "promote": release_steps.promote,
    "reload": release_steps.reload,
    "monitor": release_steps.monitor,
}
"""The steps in the order the daily loop runs them."""


def default_interval(data_dir: str | os.PathLike[str]) -> Any:
    """The latest complete day of the lake (:func:`marketlift.monitor.latest_complete_day`)."""
    from marketlift.monitor import latest_complete_day  # noqa: PLC0415

    return latest_complete_day(data_dir)


def interval_complete(data_dir: str | os.PathLike[str], interval: Any) -> bool:
    """Whether the lake holds the whole day: events of a later day have arrived."""
    from marketlift.errors import ConfigError  # noqa: PLC0415

    try:
        return bool(default_interval(data_dir) >= interval)
    except ConfigError:  # no events yet
        return False


def run_step(name: str, ctx: StepInput) -> StepResult:
    """Run one step for ``ctx.interval`` unless the ledger has it (then return that record).

    Raises:
        ConfigError: ``name`` is not a step.
    """
    if name not in STEPS:
        raise ConfigError("step", name, f"one of {', '.join(STEPS)}")
    if not ctx.force:
        done = read_result(ctx, name)
        if done is not None:
            return StepResult(done.step, done.interval, done.status, done.outputs,
                              done.seconds, reused=True, reason=done.reason)  # fmt: skip
    started = time.perf_counter()
    interval = ctx.interval.isoformat()
    try:
        outputs = STEPS[name](ctx)
    except StepSkippedError as exc:
        result = StepResult(name, interval, "skipped", {}, time.perf_counter() - started,
                            reason=str(exc))  # fmt: skip
    else:
        result = StepResult(name, interval, "done", outputs, time.perf_counter() - started)
    write_result(ctx, result)
    return result


def run_pipeline(
    data_dir: str | os.PathLike[str],
    interval: Any = None,
    *,
    steps: Sequence[str] | None = None,
    seed: int = 0,
    force: bool = False,
    on_step: Callable[[StepResult], None] | None = None,
) -> list[StepResult]:
    """Run ``steps`` (default: all, in order) for ``interval`` (default: the latest complete day).

    A rerun after a failure skips the steps recorded as done and starts at the one that failed.
    """
    from pathlib import Path  # noqa: PLC0415

    if not Path(data_dir).is_dir():
        raise ConfigError("--data", str(data_dir), "an existing data directory")
    day = interval if interval is not None else default_interval(data_dir)
    ctx = StepInput(str(data_dir), day, seed, force)
    names = list(steps) if steps is not None else list(STEPS)
    for name in names:
        if name not in STEPS:
            raise ConfigError("steps", name, f"one of {', '.join(STEPS)}")
    results = []
    for name in names:
        result = run_step(name, ctx)
        results.append(result)
        if on_step is not None:
            on_step(result)
    return results
