"""``marketlift monitor``: drift, calibration, freshness and data quality of one day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console

__all__ = ["parse_day", "register"]

Interval = Annotated[
    str | None,
    typer.Option(
        "--interval", help="The day to check, YYYY-MM-DD (UTC); default: the latest complete day."
    ),
]


def parse_day(value: str | None, *, json_output: bool) -> dt.date | None:
    """The ``--interval`` day, or a clear error naming the option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"--interval == {value!r}, expected a day as YYYY-MM-DD", json_output=json_output)


def monitor_cmd(
    data: DataDir = Path("marketlift-data"),
    interval: Interval = None,
    json_output: JsonFlag = False,
) -> None:
    """Check one day; exit 1 when a check alerts (the report is kept in DATA/monitor).

    Example: marketlift monitor --data DIR --json
    """
    from marketlift.errors import ConfigError
    from marketlift.monitor import monitor, write_report

    day = parse_day(interval, json_output=json_output)
    try:
        report = monitor(data, day)
    except ConfigError as exc:
        fail(str(exc), json_output=json_output)
    write_report(data, report)
    if json_output:
        emit_json(report.to_dict())
    else:
        stderr_console.print(
            f"{report.interval}: {len(report.checks)} checks, {len(report.alerts)} alerts"
        )
        for c in report.alerts:
            value = "-" if c.value is None else f"{c.value:.4g}"
            typer.echo(f"ALERT {c.kind} {c.subject}: {value} ({c.status}, limit {c.threshold})")
    if report.alerts:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``monitor`` to the root command."""
    app.command("monitor")(monitor_cmd)
