"""``marketlift pipeline run`` and ``marketlift pipeline step NAME``: the daily loop."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console
from marketlift.cli.monitor_cmd import Interval, parse_day

__all__ = ["pipeline_app"]

pipeline_app = typer.Typer(
    help="The daily loop: land, compact, features, train, evaluate, promote, reload, monitor.",
    no_args_is_help=True,
)

Force = Annotated[bool, typer.Option("--force", help="Redo steps the ledger says are done.")]
Seed = Annotated[int, typer.Option(help="Seed of the model fits.", min=0)]


@pipeline_app.command("run")
def run_cmd(
    data: DataDir = Path("marketlift-data"),
    interval: Interval = None,
    seed: Seed = 0,
    force: Force = False,
    json_output: JsonFlag = False,
) -> None:
    """Run every step in order for one day; a rerun skips the steps already done.

    Example: marketlift pipeline run --data DIR --interval 2026-11-14 --json
    """
    from marketlift.errors import MarketliftError
    from marketlift.orchestration import StepResult, run_pipeline

    day = parse_day(interval, json_output=json_output)

    def show(result: StepResult) -> None:
        if not json_output:
            note = " (recorded)" if result.reused else ""
            why = f": {result.reason}" if result.reason else ""
            line = f"{result.step}: {result.status}{note} {result.seconds:.1f}s{why}"
            stderr_console.print(line)

    try:
        results = run_pipeline(data, day, seed=seed, force=force, on_step=show)
    except MarketliftError as exc:
        fail(f"{type(exc).__name__}: {exc}", json_output=json_output)
    if json_output:
        seconds = round(sum(r.seconds for r in results if not r.reused), 2)
        steps = [r.to_dict() for r in results]
        emit_json({"interval": results[0].interval, "steps": steps, "seconds": seconds})


@pipeline_app.command("step")
def step_cmd(
    name: Annotated[str, typer.Argument(help="The step: land, compact, features, ...")],
    data: DataDir = Path("marketlift-data"),
    interval: Interval = None,
    seed: Seed = 0,
    force: Force = False,
    json_output: JsonFlag = False,
) -> None:
    """Run one step for one day (what an orchestrator's task calls).

    Example: marketlift pipeline step train-intent --data DIR --interval 2026-11-14
    """
    from marketlift.errors import MarketliftError
    from marketlift.orchestration import StepInput, default_interval, run_step

    day = parse_day(interval, json_output=json_output)
    try:
        ctx = StepInput(str(data), day or default_interval(data), seed, force)
        result = run_step(name, ctx)
    except MarketliftError as exc:
        fail(f"{type(exc).__name__}: {exc}", json_output=json_output)
    if json_output:
        emit_json(result.to_dict())
    else:
        typer.echo(f"{result.step} {result.interval}: {result.status}")


@pipeline_app.command("ready")
def ready_cmd(
    data: DataDir = Path("marketlift-data"),
    interval: Interval = None,
) -> None:
    """Exit 0 when the lake holds the whole day (a later day's events arrived), else 1.

    What the Airflow sensor pokes. Example: marketlift pipeline ready --data DIR --interval DAY
    """
    import datetime as dt

    from marketlift.orchestration import interval_complete

    day = parse_day(interval, json_output=False) or dt.datetime.now(dt.UTC).date()
    complete = interval_complete(data, day)
    typer.echo(f"{day}: {'complete' if complete else 'not complete yet'}")
    if not complete:
        raise typer.Exit(1)
