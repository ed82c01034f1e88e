"""``marketlift serve``: the HTTP service."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from marketlift.cli._common import DataDir, fail

__all__ = ["register"]


def serve_cmd(
    data: DataDir = Path("marketlift-data"),
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (1 to 65535).")] = 8000,
    sink: Annotated[
        str, typer.Option(help="Where events go: lake (embedded) or jetstream (scale-out).")
    ] = "lake",
    nats_url: Annotated[
        str, typer.Option(envvar="MARKETLIFT_NATS_URL", help="NATS URL for --sink jetstream.")
    ] = "nats://127.0.0.1:4222",
    experiments: Annotated[
        Path | None,
        typer.Option(
            help="TOML file of experiments for /v1/assign (default DATA/experiments.toml)."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="HTTP processes; above 1 they validate in parallel and hand events to one "
            "lake writer (lake sink only)."
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Start the HTTP service: POST /v1/events, POST /v1/assign, /healthz, /metrics, /openapi.json.

    Set MARKETLIFT_WRITE_KEY to require 'Authorization: Bearer <key>' on /v1/events, and
    MARKETLIFT_DECIDE_KEY for /v1/assign.
    """
    import uvicorn

    from marketlift.errors import ConfigError, LakeBusyError
    from marketlift.experiments.config import load_experiments
    from marketlift.serve import JetStreamConfig, ServeConfig, create_app

    try:
        config = ServeConfig(
            data_dir=data,
            host=host,
            port=port,
            sink=sink,
            write_key=os.environ.get("MARKETLIFT_WRITE_KEY") or None,
            decide_key=os.environ.get("MARKETLIFT_DECIDE_KEY") or None,
            experiments_file=experiments,
            jetstream=JetStreamConfig(url=nats_url),
        )
        if experiments is not None:
            load_experiments(experiments)  # fail here, clearly, not inside the server
    except ConfigError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--experiments: cannot read {experiments}: {exc}")
    if workers < 1 or workers > 64:
        fail(f"--workers == {workers}, expected an integer between 1 and 64")
    if workers > 1 and sink != "lake":
        fail(f"--workers == {workers} needs --sink lake (run several servers for jetstream)")
    if workers > 1:
        from marketlift.serve.workers import run_workers

        try:
            run_workers(config, workers, log_level=log_level)
        except LakeBusyError as exc:
            fail(str(exc))
        return
    try:
        uvicorn.run(
            create_app(config),
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=10,
        )
    except LakeBusyError as exc:
        fail(str(exc))


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root command."""
    app.command("serve")(serve_cmd)
