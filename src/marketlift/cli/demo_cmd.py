"""``marketlift demo``: the loop end to end on the embedded default, with no services needed.

A thin shell over :func:`marketlift.demo.run_demo` (see :mod:`marketlift.demo` for the steps):
progress bars on stderr (hidden with ``--json``), then the summary table, or with ``--json``
the same summary as one JSON document on stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console

__all__ = ["register"]


def demo_cmd(
    data: DataDir = Path("marketlift-data"),
    size: Annotated[
        str, typer.Option(help="small (under a minute), medium (default) or large.")
    ] = "medium",
    seed: Annotated[int, typer.Option(help="Seed of the simulations and the models.")] = 0,
    json_output: JsonFlag = False,
) -> None:
    """Run the loop end to end (simulate, features, models, OPE, A/B test, report).

    Example: marketlift demo --data ./marketlift-data --size small
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from marketlift.demo import SIZES, print_summary, run_demo
    from marketlift.errors import ConfigError, LakeBusyError

    if size not in SIZES:
        fail(f"--size == {size!r}, expected one of {', '.join(SIZES)}", json_output=json_output)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=stderr_console, disable=json_output) as progress:
            summary = run_demo(data, size, seed, progress=progress)
    except (ConfigError, LakeBusyError) as exc:
        fail(str(exc), json_output=json_output)
    if json_output:
        emit_json(summary)
    else:
        print_summary(summary)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the root command."""
    app.command("demo")(demo_cmd)
