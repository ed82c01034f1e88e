"""``marketlift features``: offline build, training sets, skew check, loading the online store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["app"]

app = typer.Typer(
    help="Feature tables (DuckDB or Spark), point-in-time training sets, online store, skew.",
    no_args_is_help=True,
)

EngineOpt = Annotated[str, typer.Option("--engine", help="duckdb (default) or spark.")]
CatalogOpt = Annotated[
    str | None,
    typer.Option(
        "--catalog",
        help="Listing catalog: a Parquet file (listing_id, category, price, review_count, "
        "rating) or 'lake' for the lake's catalog (`marketlift catalog load`; 'sim' is an alias).",
    ),
]
CutoffOpt = Annotated[
    str | None,
    typer.Option("--cutoff", help="Use events strictly before this time (RFC 3339)."),
]


def _catalog(data: Path, value: str | None) -> pa.Table | None:
    import pyarrow.parquet as pq

    if value is None:
        return None
    if value in ("lake", "sim"):  # 'sim': the simulator writes its listings to the lake catalog
        from marketlift.catalog import feature_versions

        return feature_versions(data)  # every version: rows join the one live at their cut-off
    return pq.read_table(value)


def _cutoff(value: str | None, json_output: bool) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(f"--cutoff == {value!r}, expected an RFC 3339 time", json_output=json_output)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@app.command("build")
def build_cmd(
    data: DataDir = Path("marketlift-data"),
    engine: EngineOpt = "duckdb",
    catalog: CatalogOpt = None,
    cutoff: CutoffOpt = None,
    json_output: JsonFlag = False,
) -> None:
    """Build sessions, buyer, in-session and listing features into DATA/features/*.parquet.

    Example: marketlift features build --data DIR --catalog lake --json
    """
    from marketlift.errors import ConfigError, MissingDependencyError
    from marketlift.features import build_features

    try:
        result = build_features(
            data, engine=engine, cutoff=_cutoff(cutoff, json_output),
            catalog=_catalog(data, catalog), write=True,
        )  # fmt: skip
    except (ConfigError, MissingDependencyError, FileNotFoundError) as exc:
        fail(str(exc), json_output=json_output)
    summary = result.summary()
    if json_output:
        emit_json(summary)
        return
    for name, rows in summary["rows"].items():
        stderr_console.print(f"{name}: {rows:,} rows -> {summary['paths'][name]}")
    stderr_console.print(f"cut-off {summary['cutoff']}, {summary['seconds']} s on {engine}")


@app.command("training-set")
def training_set_cmd(
    data: DataDir = Path("marketlift-data"),
    task: Annotated[str, typer.Option("--task", help="intent, ranking or uplift.")] = "intent",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Parquet file (default DATA/features/training_TASK.parquet)."),
    ] = None,
    engine: EngineOpt = "duckdb",
    catalog: CatalogOpt = None,
    cutoff_events: Annotated[
        int, typer.Option(help="Intent: session events seen before the cut-off.")
    ] = 3,
    horizon_hours: Annotated[
        float, typer.Option(help="Uplift: hours after a decision a purchase counts.")
    ] = 24.0,
    json_output: JsonFlag = False,
) -> None:
    """Write a point-in-time correct training set (features only from before each row).

    Example: marketlift features training-set --data DIR --task intent --out intent.parquet
    """
    import pyarrow.compute as pc

    from marketlift.errors import ConfigError, MissingDependencyError
    from marketlift.features import features_dir, training_set
    from marketlift.features.build import write_parquet_atomic

    try:
        table = training_set(
            data, task, engine=engine, catalog=_catalog(data, catalog),
            cutoff_events=cutoff_events, horizon_hours=horizon_hours,
        )  # fmt: skip
    except (ConfigError, MissingDependencyError, FileNotFoundError) as exc:
        fail(str(exc), json_output=json_output)
    path = write_parquet_atomic(table, out or features_dir(data) / f"training_{task}.parquet")
    label_rate = pc.mean(table.column("label")).as_py() if table.num_rows else None
    doc: dict[str, Any] = {
        "task": task,
        "rows": table.num_rows,
        "label_rate": label_rate,
        "columns": table.column_names,
        "path": str(path),
    }
    if json_output:
        emit_json(doc)
    else:
        stderr_console.print(f"{task}: {table.num_rows:,} rows, label rate {label_rate} -> {path}")


@app.command("check-skew")
def check_skew_cmd(
    data: DataDir = Path("marketlift-data"),
    catalog: CatalogOpt = None,
    cutoff: CutoffOpt = None,
    redis_url: Annotated[
        str | None,
        typer.Option("--redis-url", help="Go through a Redis store (default: in memory)."),
    ] = None,
    tolerance: Annotated[float, typer.Option(help="Relative tolerance on numbers.")] = 1e-9,
    engine: EngineOpt = "duckdb",
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with status 1 when there is any mismatch.")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Compare online features (stream updater fed the lake) with offline ones at a cut-off.

    Example: marketlift features check-skew --data DIR --catalog lake --json
    """
    import uuid

    from marketlift.errors import ConfigError, MissingDependencyError
    from marketlift.features import MemoryStore, OnlineStore, RedisStore, check_skew

    store: OnlineStore = MemoryStore()
    if redis_url is not None:
        store = RedisStore(redis_url, prefix=f"marketlift:skew:{uuid.uuid4().hex[:8]}:")
    try:
        report = check_skew(
            data, cutoff=_cutoff(cutoff, json_output), catalog=_catalog(data, catalog),
            store=store, tolerance=tolerance, engine=engine,
        )  # fmt: skip
    except (ConfigError, MissingDependencyError, FileNotFoundError) as exc:
        fail(str(exc), json_output=json_output)
    finally:
        if redis_url is not None:
            store.clear()
        store.close()
    doc = report.to_dict()
    if json_output:
        emit_json(doc)
    else:
        state = "[green]no skew[/]" if report.ok else f"[red]{report.mismatches} mismatches[/]"
        stderr_console.print(
            f"{report.entities:,} buyers, {report.values:,} values compared: {state}"
        )
        for name, count in report.by_feature.items():
            stderr_console.print(f"  {name}: {count}")
    if strict and not report.ok:
        raise typer.Exit(1)


@app.command("load-online")
def load_online_cmd(
    data: DataDir = Path("marketlift-data"),
    redis_url: Annotated[
        str, typer.Option("--redis-url", help="The Redis server.")
    ] = "redis://127.0.0.1:6379/0",
    prefix: Annotated[str, typer.Option(help="Key prefix.")] = "marketlift:features:",
    json_output: JsonFlag = False,
) -> None:
    """Load DATA/features/{buyer,session,listing}_features.parquet into Redis (bulk MSET).

    Example: marketlift features load-online --data DIR --redis-url redis://127.0.0.1:6379/0
    """
    import pyarrow.parquet as pq

    from marketlift.features import RedisStore, features_dir, write_table

    folder = features_dir(data)
    keys = {"buyer": "buyer", "session": "buyer", "listing": "listing_id"}
    missing = [n for n in keys if not (folder / f"{n}_features.parquet").exists()]
    if missing:
        fail(
            f"no {missing[0]}_features.parquet in {folder}; run: marketlift features build",
            json_output=json_output,
        )
    store = RedisStore(redis_url, prefix=prefix)
    try:
        counts = {
            n: write_table(store, n, pq.read_table(folder / f"{n}_features.parquet"), key)
            for n, key in keys.items()
        }
    finally:
        store.close()
    if json_output:
        emit_json({"written": counts, "prefix": prefix})
    else:
        stderr_console.print(f"written {counts} under {prefix}")
