"""The daily loop as an Airflow DAG (extra ``airflow``): :func:`make_dag`.

One task per step of :data:`~marketlift.orchestration.pipeline.STEPS`, in order, each running
``marketlift pipeline step NAME --data DIR --interval {{ ds }}``: Airflow's data interval is the
step's interval (templated), the steps stay in one place, and Airflow needs none of
marketlift's dependencies (its pins clash with ours; it can live in its own environment and
call the ``marketlift`` command of another). Before the steps, a sensor waits (rescheduling,
not holding a worker slot) until the lake holds the whole day (``marketlift pipeline ready``).
Every task retries (``retries``, ``retry_delay``), which is safe because each step is
idempotent for its interval. The promote task updates the asset ``marketlift-models`` (the
registry's folder), so a DAG that follows promotions can be scheduled on it.

In ``$AIRFLOW_HOME/dags/marketlift_daily.py``::

    from marketlift.orchestration.airflow import make_dag

    dag = make_dag("/srv/marketlift-data", marketlift="/opt/marketlift/bin/marketlift")
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from marketlift.errors import MissingDependencyError
from marketlift.orchestration.pipeline import STEPS

__all__ = ["make_dag", "models_asset"]


def models_asset(data_dir: str | os.PathLike[str]) -> Any:
    """The asset the promote task updates: the registry's folder."""
    from airflow.sdk import Asset  # noqa: PLC0415

    return Asset(name="marketlift-models", uri=Path(data_dir, "models").resolve().as_uri())


def make_dag(
    data_dir: str | os.PathLike[str],
    *,
    dag_id: str = "marketlift_daily",
    marketlift: str = "marketlift",
    schedule: str | None = "@daily",
    start_date: dt.datetime | None = None,
    retries: int = 2,
    retry_delay: dt.timedelta = dt.timedelta(minutes=5),
    sensor_poke_s: float = 300.0,
    sensor_timeout_s: float = 6 * 3600.0,
    env: Mapping[str, str] | None = None,
) -> Any:
    """Build the daily DAG.

    Args:
        data_dir: The data directory every task reads and writes.
        dag_id: The DAG's id.
        marketlift: The ``marketlift`` command the tasks run (split like a shell line, so
            ``/opt/venv/bin/python -m marketlift`` works too).
        schedule: Airflow's schedule (``@daily``: one run per data interval of one day).
        start_date: The first data interval (default: 2026-11-01 UTC).
        retries: Retries of every task.
        retry_delay: Wait between retries.
        sensor_poke_s: How often the sensor checks for the day's events.
        sensor_timeout_s: How long the sensor waits before it fails.
        env: Extra environment of the tasks (``MARKETLIFT_NATS_URL``, ``MARKETLIFT_REDIS_URL``,
            ``MARKETLIFT_SERVE_URL`` ...), added to the worker's.
    """
    try:
        from airflow.providers.standard.operators.bash import BashOperator  # noqa: PLC0415
        from airflow.providers.standard.sensors.bash import BashSensor  # noqa: PLC0415
        from airflow.sdk import DAG  # noqa: PLC0415
    except ImportError:
        raise MissingDependencyError("apache-airflow", "airflow") from None
    data = shlex.quote(str(data_dir))
    exe = shlex.join(shlex.split(marketlift))
    interval = "--interval {{ ds }}"
    prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in (env or {}).items())
    prefix = f"env {prefix}" if prefix else ""
    default_args = {"retries": retries, "retry_delay": retry_delay}
    with DAG(
        dag_id,
        schedule=schedule,
        start_date=start_date or dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        catchup=False,
        default_args=default_args,
        tags=["marketlift"],
        description="marketlift's daily loop: one task per pipeline step",
    ) as dag:
        previous: Any = BashSensor(
            task_id="new_events",
            # BashSensor's env replaces the worker's: set the extras on the command line instead
            bash_command=f"{prefix}{exe} pipeline ready --data {data} {interval}",
            poke_interval=sensor_poke_s,
            timeout=sensor_timeout_s,
            mode="reschedule",
        )
        for step in STEPS:
            task = BashOperator(
                task_id=step.replace("-", "_"),
                bash_command=f"{exe} pipeline step {step} --data {data} {interval} --json",
                env=dict(env or {}),
                append_env=True,
                outlets=[models_asset(data_dir)] if step == "promote" else [],
            )
            previous >> task
            previous = task
    return dag
