"""``marketlift query``, ``marketlift compact`` and ``marketlift land``: the lake."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console

__all__ = ["register"]


def query_cmd(
    sql: Annotated[
        str, typer.Argument(help="One SQL statement over the views events and dead_letters.")
    ],
    data: DataDir = Path("marketlift-data"),
    json_output: JsonFlag = False,
    limit: Annotated[
        int,
        typer.Option(help="Rows printed at most, table view and --json alike (0: all rows)."),
    ] = 50,
    allow_writes: Annotated[
        bool,
        typer.Option(
            "--allow-writes",
            help="Run the SQL as given: COPY ... TO, ATTACH, other files, several statements. "
            "It can damage the lake (a COPY over a live part loses its events).",
        ),
    ] = False,
) -> None:
    """Run one read-only SQL statement on the lake (works while the server is writing).

    Only SELECT (or EXPLAIN) over the views events and dead_letters runs, and no other file
    can be opened; --allow-writes lifts both.

    Prints the first --limit rows (50; 0 for all) and says on stderr when there are more; add
    an ORDER BY to choose which, e.g. ORDER BY ts DESC for the latest events.

    Example: marketlift query --data DIR "SELECT type, count(*) FROM events GROUP BY 1" --json
    """
    import duckdb
    from rich.table import Table

    from marketlift.errors import ConfigError
    from marketlift.lake import query

    if limit < 0:
        fail(f"--limit == {limit}, expected an integer >= 0 (0: all rows)", json_output=json_output)
    try:
        result = query(data, sql, allow_writes=allow_writes, limit=limit + 1 if limit else None)
    except ConfigError as exc:
        fail(str(exc), json_output=json_output)
    except duckdb.PermissionException as exc:
        hint = "only the lake's own files can be read without --allow-writes"
        fail(f"the query failed: {exc} ({hint})", json_output=json_output)
    except duckdb.Error as exc:
        fail(f"the query failed: {exc}", json_output=json_output)
    more = bool(limit) and result.num_rows > limit
    rows = result.slice(0, limit).to_pylist() if limit else result.to_pylist()
    if more:
        stderr_console.print(
            f"first {limit} rows shown; there are more (--limit N, or --limit 0 for all)",
            highlight=False,
        )
    if json_output:
        emit_json(rows)
        return
    title = f"first {len(rows)} rows" if more else f"{len(rows)} rows"
    table = Table(*result.column_names, title=title)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    from rich.console import Console

    Console().print(table)


def compact_cmd(data: DataDir = Path("marketlift-data"), json_output: JsonFlag = False) -> None:
    """Compact incoming files into date/type partitions (the server also does this itself)."""
    from marketlift.errors import LakeBusyError
    from marketlift.lake import LakeWriter

    try:
        writer = LakeWriter(data, background=False)
    except LakeBusyError as exc:
        fail(f"{exc} (a running server compacts on its own)", json_output=json_output)
    try:
        report = writer.compact(force=True)
    finally:
        writer.close()
    document = {
        "files_in": report.files_in,
        "files_out": report.files_out,
        "rows": report.rows,
        "seconds": round(report.seconds, 3),
    }
    if json_output:
        emit_json(document)
    else:
        typer.echo(", ".join(f"{k} {v}" for k, v in document.items()))


def land_cmd(
    data: DataDir = Path("marketlift-data"),
    nats_url: Annotated[
        str, typer.Option(envvar="MARKETLIFT_NATS_URL", help="NATS server URL.")
    ] = "nats://127.0.0.1:4222",
    stream: Annotated[str, typer.Option(help="JetStream stream name.")] = "MARKETLIFT",
    subject_prefix: Annotated[str, typer.Option(help="Subject prefix.")] = "marketlift",
    durable: Annotated[str, typer.Option(help="Durable consumer name.")] = "marketlift-lander",
    follow: Annotated[
        bool, typer.Option("--follow/--once", help="Keep landing, or stop when caught up.")
    ] = False,
    batch: Annotated[int, typer.Option(help="Messages fetched per round.", min=1)] = 1000,
    json_output: JsonFlag = False,
) -> None:
    """Consume the JetStream event stream into the lake, exactly once per event_id."""
    from marketlift.errors import LakeBusyError
    from marketlift.ingest.lander import land
    from marketlift.serve.config import JetStreamConfig

    config = JetStreamConfig(url=nats_url, stream=stream, subject_prefix=subject_prefix)
    try:
        report = land(
            data,
            config,
            durable=durable,
            follow=follow,
            batch=batch,
            progress=None if json_output else stderr_console,
        )
    except LakeBusyError as exc:
        fail(str(exc), json_output=json_output)
    except OSError as exc:
        fail(f"cannot reach NATS at {nats_url}: {exc}", json_output=json_output)
    if json_output:
        emit_json(report)
    else:
        typer.echo(
            f"landed {report['events']} new events, {report['duplicates']} duplicates, "
            f"{report['dead_letters']} dead letters"
        )


def register(app: typer.Typer) -> None:
    """Add the lake commands to the root command."""
    app.command("query")(query_cmd)
    app.command("compact")(compact_cmd)
    app.command("land")(land_cmd)
