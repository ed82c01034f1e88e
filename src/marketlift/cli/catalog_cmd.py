"""``marketlift catalog``: load listing files into the lake's catalog, show a listing, schema."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console

__all__ = ["app"]

app = typer.Typer(help="The listing catalog: load files, show listings.", no_args_is_help=True)


@app.command("load")
def load(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="CSV, Parquet or NDJSON files of listings.", exists=True, dir_okay=False
        ),
    ],
    data: DataDir = Path("marketlift-data"),
    json_output: JsonFlag = False,
) -> None:
    """Validate and store listing versions (upserts and deletions) from files.

    Example: marketlift catalog load shop.csv --data DIR --json
    """
    import time

    from marketlift.catalog import load_files
    from marketlift.errors import ConfigError

    started = time.perf_counter()
    try:
        report = load_files(data, files)
    except ConfigError as exc:
        fail(str(exc), json_output=json_output)
    seconds = time.perf_counter() - started
    document = {**report.to_dict(max_rejected=100), "seconds": round(seconds, 3)}
    if json_output:
        emit_json(document)
    else:
        stderr_console.print(
            f"{report.accepted} versions stored, {report.duplicates} duplicates, "
            f"{report.stale} stale, {len(report.rejected)} rejected in {seconds:.1f} s"
        )
        for rejected in report.rejected[:20]:
            for error in rejected.errors:
                stderr_console.print(
                    f"  row {rejected.index}: {error.field} == {error.value!r}, expected "
                    f"{error.expected}",
                    highlight=False,
                    markup=False,
                )
    if report.rejected and not (report.accepted or report.duplicates or report.stale):
        raise typer.Exit(1)


@app.command("show")
def show(
    listing_id: Annotated[str, typer.Argument(help="The listing id.")],
    data: DataDir = Path("marketlift-data"),
    at: Annotated[
        str | None, typer.Option("--at", help="RFC 3339 time: the version live then.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Print one listing as of now (or ``--at TIME``).

    Example: marketlift catalog show L-1 --at 2026-11-21T00:00:00Z --data DIR
    """
    from marketlift.catalog import CatalogStore

    when = _time(at, json_output)
    store = CatalogStore(data)
    try:
        listing = store.show(listing_id, when)
    finally:
        store.close()
    if listing is None:
        where = f" as of {at}" if at else ""
        fail(
            f"listing_id == {listing_id!r}, expected a listing in the catalog{where}",
            json_output=json_output,
            code=1,
        )
    emit_json(listing)


@app.command("schema")
def schema(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of one listing as sent to ``POST /v1/listings``."""
    import msgspec

    from marketlift.catalog import listing_json_schema

    document = listing_json_schema()
    if out is None:
        emit_json(document)
    else:
        out.write_bytes(msgspec.json.format(msgspec.json.encode(document)) + b"\n")


def _time(value: str | None, json_output: bool) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(
            f"--at == {value!r}, expected an RFC 3339 time such as 2026-11-20T10:00:00Z",
            json_output=json_output,
        )
    if parsed.tzinfo is None:
        fail(
            f"--at == {value!r}, expected a time with a zone (Z or +01:00)", json_output=json_output
        )
    return parsed
