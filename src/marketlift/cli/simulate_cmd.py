"""``marketlift simulate``: a synthetic marketplace written into the lake, with its truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console

__all__ = ["register"]


def simulate_cmd(
    data: DataDir = Path("marketlift-data"),
    buyers: Annotated[int, typer.Option(help="Buyers in the world.")] = 10_000,
    days: Annotated[int, typer.Option(help="Days to simulate.")] = 7,
    seed: Annotated[int, typer.Option(help="Seed: same seed, same lake content.")] = 0,
    policy: Annotated[
        str,
        typer.Option(help="Engagement policy: logging, never, always[:action], random, oracle."),
    ] = "logging",
    ab: Annotated[
        str | None,
        typer.Option(
            help="A/B mode: comma-separated policies splitting buyers, the first is control "
            "(for example never,oracle)."
        ),
    ] = None,
    experiment_key: Annotated[
        str, typer.Option(help="Experiment key logged on exposures in A/B mode.")
    ] = "sim_policy_ab",
    via_collector: Annotated[
        bool,
        typer.Option(
            "--via-collector", help="Send every event as JSON through the collector (slow)."
        ),
    ] = False,
    truth: Annotated[
        bool, typer.Option("--truth/--no-truth", help="Write the sim_* ground-truth tables.")
    ] = True,
    json_output: JsonFlag = False,
) -> None:
    """Simulate buyers, sessions and engagement; write the events into the lake.

    Example: marketlift simulate --data DIR --buyers 10000 --days 7 --seed 1 --json
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from marketlift.errors import ConfigError, LakeBusyError
    from marketlift.sim import SimConfig, SimResult, run_ab, simulate

    try:
        config = SimConfig(n_buyers=buyers, n_days=days, seed=seed)
        variants = [v.strip() for v in ab.split(",") if v.strip()] if ab else None
        bar = Progress(
            TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("days"),
            TextColumn("{task.fields[events]:,} events"), TimeElapsedColumn(),
            console=stderr_console, transient=json_output,
        )  # fmt: skip
        with bar:
            task = bar.add_task("simulate", total=days, events=0)

            def progress(done: int, total: int, events: int) -> None:
                bar.update(task, completed=done, total=total, events=events)

            result: SimResult
            if variants is not None:
                result = run_ab(
                    config, {v: v for v in variants}, data, experiment_key=experiment_key,
                    via_collector=via_collector, truth=truth, progress=progress,
                )  # fmt: skip
            else:
                result = simulate(config, data, policy=policy, via_collector=via_collector,
                                  truth=truth, progress=progress)  # fmt: skip
    except ConfigError as exc:
        fail(str(exc), json_output=json_output)
    except LakeBusyError as exc:
        fail(str(exc), json_output=json_output)
    document: dict[str, Any] = result.to_dict()
    document["data"] = str(data)
    document.pop("config", None)
    document["seed"] = seed
    document["days"] = days
    if json_output:
        emit_json(document)
        return
    funnel = result.funnel
    typer.echo(
        f"{result.events:,} events ({result.written:,} new), {result.sessions:,} sessions, "
        f"{result.buyers:,} buyers, {result.listings:,} listings in {result.seconds:.1f} s "
        f"({document['events_per_second']:,} events/s)"
    )
    typer.echo(
        f"funnel: add to cart {funnel.add_to_cart_rate:.1%}, conversion "
        f"{funnel.session_conversion:.2%}, cart abandonment {funnel.cart_abandonment:.1%}"
    )
    for name, value in result.values.items():
        typer.echo(f"{name}: {value.revenue_per_buyer:.3f} USD per buyer "
                   f"({value.expected_revenue_per_buyer:.3f} expected)")  # fmt: skip
    if result.experiment is not None:
        for name, effect in result.experiment.true_effect.items():
            typer.echo(f"true effect of {name} vs {result.experiment.control}: "
                       f"{effect:+.4f} USD per buyer")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the root command."""
    app.command("simulate")(simulate_cmd)
