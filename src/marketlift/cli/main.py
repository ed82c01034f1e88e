"""Entry point of the ``marketlift`` command.

Each concern lives in its own module under :mod:`marketlift.cli` and is registered here.
Command modules import heavy packages inside the command functions, so ``--help`` is fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from marketlift._version import __version__
from marketlift.cli import (
    catalog_cmd,
    copy_cmd,
    demo_cmd,
    events_cmd,
    experiment_cmd,
    features_cmd,
    lake_cmd,
    models_cmd,
    monitor_cmd,
    pipeline_cmd,
    policy_cmd,
    serve_cmd,
    simulate_cmd,
    train_group,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="marketlift",
    help="Growth machine learning for online marketplaces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"marketlift {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Growth machine learning for online marketplaces."""


app.add_typer(events_cmd.app, name="events")
app.add_typer(experiment_cmd.app, name="experiment")
app.add_typer(copy_cmd.app, name="copy")
app.add_typer(catalog_cmd.app, name="catalog")
app.add_typer(features_cmd.app, name="features")
lake_cmd.register(app)
simulate_cmd.register(app)
serve_cmd.register(app)
demo_cmd.register(app)
app.add_typer(train_group.train_app, name="train")
app.add_typer(models_cmd.models_app, name="models")
policy_cmd.register(app)
monitor_cmd.register(app)
app.add_typer(pipeline_cmd.pipeline_app, name="pipeline")


def main() -> None:
    """Run the command line."""
    app()
