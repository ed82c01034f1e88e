"""The daily loop as pipeline steps, and the glue of the orchestrators that run them.

Module map:

- :mod:`~marketlift.orchestration.context`: :class:`StepInput`, :class:`StepResult`, the
  ledger that makes each step idempotent for its data interval.
- :mod:`~marketlift.orchestration.data_steps`: land, compact, features, load-online.
- :mod:`~marketlift.orchestration.model_steps`: train intent, train ranker (candidates).
- :mod:`~marketlift.orchestration.policy_step`: the policy retrain behind one function.
- :mod:`~marketlift.orchestration.release_steps`: evaluate, promote, reload, monitor.
- :mod:`~marketlift.orchestration.pipeline`: :data:`STEPS` in order, :func:`run_step`,
  :func:`run_pipeline`.
- :mod:`~marketlift.orchestration.airflow` (extra ``airflow``): the DAG factory.
- :mod:`~marketlift.orchestration.kfp` (extra ``kfp``): the components and the pipeline.
"""

from marketlift.orchestration.context import StepInput, StepResult
from marketlift.orchestration.pipeline import (
    STEPS,
    default_interval,
    interval_complete,
    run_pipeline,
    run_step,
)

__all__ = [
    "STEPS",
    "StepInput",
    "StepResult",
    "default_interval",
    "interval_complete",
    "run_pipeline",
    "run_step",
]
