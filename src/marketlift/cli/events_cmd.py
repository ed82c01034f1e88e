"""``marketlift events``: the event schema and loading files of events."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console

__all__ = ["app"]

app = typer.Typer(help="The event schema and loading events.", no_args_is_help=True)


@app.command("schema")
def schema(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of event schema v1 (for build-time validation in apps)."""
    import msgspec

    from marketlift.events.jsonschema import event_json_schema

    document = event_json_schema()
    if out is None:
        emit_json(document)
    else:
        out.write_bytes(msgspec.json.format(msgspec.json.encode(document)) + b"\n")


@app.command("load")
def load(
    files: Annotated[
        list[Path], typer.Argument(help="JSON-array or NDJSON files of events.", exists=True)
    ],
    data: DataDir = Path("marketlift-data"),
    batch_size: Annotated[int, typer.Option(help="Events per batch.", min=1, max=1000)] = 500,
    any_time: Annotated[
        bool, typer.Option("--any-time", help="Accept events of any age (backfills).")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Validate and store files of events through the collector (a backfill).

    Invalid events go to the dead_letters table; the report counts each outcome.
    """
    from rich.progress import Progress

    from marketlift.errors import LakeBusyError
    from marketlift.events.limits import Limits
    from marketlift.events.validate import BatchFormatError
    from marketlift.ingest import Collector, LakeSink

    try:
        sink = LakeSink(data)
    except LakeBusyError as exc:
        fail(str(exc), json_output=json_output)
    limits = Limits.unbounded_time() if any_time else Limits()
    collector = Collector(sink, limits=limits)
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "batches": 0}
    try:
        with Progress(console=stderr_console, transient=True) as progress:
            task = progress.add_task("loading", total=len(files))
            for path in files:
                for body in _batches(path, batch_size):
                    try:
                        report = collector.ingest(body, source=f"file:{path.name}")
                    except BatchFormatError as exc:
                        fail(f"{path}: {exc.reason}", json_output=json_output)
                    accepted, duplicates, rejected = report.counts()
                    totals["accepted"] += accepted
                    totals["duplicates"] += duplicates
                    totals["rejected"] += rejected
                    totals["batches"] += 1
                progress.advance(task)
    finally:
        sink.close()
    if json_output:
        emit_json(totals)
    else:
        typer.echo(
            f"accepted {totals['accepted']}, duplicates {totals['duplicates']}, "
            f"rejected {totals['rejected']} (see the dead_letters table)"
        )


def _batches(path: Path, size: int) -> list[bytes]:
    import msgspec

    raw = path.read_bytes().strip()
    if raw[:1] == b"[":
        items = [bytes(r) for r in msgspec.json.decode(raw, type=list[msgspec.Raw])]
    else:
        items = [line for line in raw.split(b"\n") if line.strip()]
    return [b"\n".join(items[i : i + size]) for i in range(0, len(items), size)]
