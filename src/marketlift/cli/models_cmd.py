"""``marketlift train intent|ranker`` and ``marketlift models list|show|promote|rollback``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console
from marketlift.cli.train_group import train_app

__all__ = ["models_app", "train_app"]

models_app = typer.Typer(help="The model registry: list, show, promote, roll back.",
                         no_args_is_help=True)  # fmt: skip

TableOpt = Annotated[
    Path | None,
    typer.Option("--table", help="Train on this CSV or Parquet file instead of the lake.",
                 dir_okay=False),
]  # fmt: skip
NameOpt = Annotated[str | None, typer.Option("--name", help="Registry name of the model.")]
RoundsOpt = Annotated[int, typer.Option("--rounds", help="Boosting rounds.", min=1)]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random state.")]
ThreadsOpt = Annotated[int, typer.Option("--threads", help="LightGBM threads.", min=1)]
PromoteOpt = Annotated[
    bool,
    typer.Option(
        "--promote/--no-promote",
        help="Promote the new version for serving when it passes the gate (see --force).",
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force", help="Promote even when the model does not beat its baselines on the holdout."
    ),
]
CompileOpt = Annotated[
    bool, typer.Option("--compile/--no-compile", help="Compile the model with lleaves.")
]


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _promote_gated(
    data: Path, name: str, version: str, *, passed: bool, promote: bool, force: bool
) -> dict[str, Any]:
    """Promote ``version`` when asked and it beats its baselines (or ``force``)."""
    from marketlift.models.registry import Registry

    if not promote:
        return {"promoted": False, "promotion": "not requested (--no-promote)"}
    if not passed and not force:
        stderr_console.print(
            f"[bold red]not promoted[/]: {name} {version} does not beat its baselines on the "
            "holdout (registered; promote anyway with --force or `marketlift models promote`)"
        )
        return {"promoted": False, "promotion": "held: does not beat the baselines"}
    Registry(data).promote(name, version)
    return {"promoted": True, "promotion": "passed the gate" if passed else "forced"}


def _finish(document: dict[str, Any], json_output: bool) -> None:
    if json_output:
        emit_json(document)
        return
    stderr_console.print_json(data=document)


@train_app.command("intent")
def train_intent_cmd(
    data: DataDir = Path("marketlift-data"),
    table: TableOpt = None,
    label: Annotated[str | None, typer.Option(help="Label column (with --table).")] = None,
    drop: Annotated[str | None, typer.Option(help="Comma-separated columns to ignore.")] = None,
    categorical: Annotated[
        str | None, typer.Option(help="Comma-separated columns to treat as categories.")
    ] = None,
    time_column: Annotated[
        str | None, typer.Option("--time-column", help="Hold out the latest rows by this column.")
    ] = None,
    rows: Annotated[
        str,
        typer.Option(help="Lake rows: 'features' (the shared training set) or 'events' (ours)."),
    ] = "features",
    at: Annotated[
        str,
        typer.Option(
            help="--rows features: rows at each engagement decision (default) or 'events' "
            "(after a session's third event); --rows events: 'cart' (before the add-to-cart, "
            "default) or 'decision'."
        ),
    ] = "cart",
    balanced: Annotated[
        bool, typer.Option("--balanced", help="Up-weight the rare class (then recalibrate).")
    ] = False,
    rounds: RoundsOpt = 200,
    seed: SeedOpt = 0,
    threads: ThreadsOpt = 1,
    name: NameOpt = None,
    promote: PromoteOpt = True,
    force: ForceOpt = False,
    compile_model: CompileOpt = True,
    json_output: JsonFlag = False,
) -> None:
    """Train the purchase-intent model on the lake or a table; print holdout metrics.

    Example: marketlift train intent --table sessions.csv --label bought --drop user_id --json
    """
    from marketlift.errors import MarketliftError
    from marketlift.models.tabular import read_table
    from marketlift.models.training import register_intent, train_intent, train_intent_lake

    params: dict[str, Any] = {"n_estimators": rounds, "random_state": seed,
                              "num_threads": threads,
                              "class_weight": "balanced" if balanced else None}  # fmt: skip
    try:
        if table is not None:
            if not label:
                fail("--label is required with --table", json_output=json_output)
            result = train_intent(
                read_table(table), label=label, drop=_split(drop),
                categorical=_split(categorical), time_column=time_column, **params,
            )  # fmt: skip
            source = str(table)
        else:
            result, _ = train_intent_lake(data, rows=rows, at=at, **params)
            source = f"lake:{data}:{rows}" + (f":{at}" if rows == "events" else "")
        model_name = name or "intent"
        version = register_intent(data, result, name=model_name, compile_=compile_model,
                                  source=source)  # fmt: skip
        promotion = _promote_gated(data, model_name, version.version, promote=promote,
                                   passed=result.beats_baselines(), force=force)  # fmt: skip
    except (MarketliftError, FileNotFoundError, ValueError) as exc:
        fail(str(exc), json_output=json_output)
    _finish(result.summary() | {"name": model_name, "version": version.version} | promotion,
            json_output)  # fmt: skip


@train_app.command("ranker")
def train_ranker_cmd(
    data: DataDir = Path("marketlift-data"),
    table: TableOpt = None,
    session_col: Annotated[str, typer.Option("--session-col", help="Session id column.")] = (
        "session_id"
    ),
    item_col: Annotated[str, typer.Option("--item-col", help="Item id column.")] = "item_id",
    time_col: Annotated[str, typer.Option("--time-col", help="Timestamp column.")] = "timestamp",
    text: Annotated[
        bool, typer.Option("--text/--no-text", help="Title-embedding candidates (lake).")
    ] = True,
    rounds: RoundsOpt = 200,
    max_train_queries: Annotated[
        int, typer.Option("--max-train-queries", help="Cap on training queries.", min=10)
    ] = 20_000,
    max_eval_queries: Annotated[
        int, typer.Option("--max-eval-queries", help="Cap on held-out queries.", min=10)
    ] = 5_000,
    seed: SeedOpt = 0,
    threads: ThreadsOpt = 1,
    name: NameOpt = None,
    promote: PromoteOpt = True,
    force: ForceOpt = False,
    compile_model: CompileOpt = True,
    json_output: JsonFlag = False,
) -> None:
    """Train the candidate + lambdarank ranker and compare it with two baselines.

    Prints NDCG@10, Recall@20 and MRR@20 on held-out sessions for the ranker, a popularity
    baseline and a session-kNN baseline, computed in the same run on the same split.

    Example: marketlift train ranker --table clicks.parquet --session-col sid --item-col item
    --time-col ts --json
    """
    from marketlift.errors import MarketliftError
    from marketlift.models.ranking_train import (
        register_ranker,
        train_ranker_lake,
        train_ranker_table,
    )
    from marketlift.models.tabular import read_table

    params: dict[str, Any] = {"n_estimators": rounds, "random_state": seed,
                              "num_threads": threads, "max_train_queries": max_train_queries,
                              "max_eval_queries": max_eval_queries}  # fmt: skip
    try:
        if table is not None:
            result = train_ranker_table(
                read_table(table), session_col=session_col, item_col=item_col,
                time_col=time_col, **params,
            )  # fmt: skip
            source = str(table)
        else:
            result, _ = train_ranker_lake(data, text=text, **params)
            source = f"lake:{data}"
        model_name = name or "ranker"
        version = register_ranker(data, result, name=model_name, compile_=compile_model,
                                  source=source)  # fmt: skip
        promotion = _promote_gated(data, model_name, version.version, promote=promote,
                                   passed=result.beats_baselines(), force=force)  # fmt: skip
    except (MarketliftError, FileNotFoundError, ValueError) as exc:
        fail(str(exc), json_output=json_output)
    _finish(result.summary() | {"name": model_name, "version": version.version} | promotion,
            json_output)  # fmt: skip


@models_app.command("list")
def list_cmd(data: DataDir = Path("marketlift-data"), json_output: JsonFlag = False) -> None:
    """List registered models, their versions and the promoted one."""
    from marketlift.models.registry import Registry

    models = Registry(data).listing()
    if json_output:
        emit_json({"models": models})
        return
    for m in models:
        typer.echo(f"{m['name']}\tpromoted={m['promoted']}\tversions={','.join(m['versions'])}")


@models_app.command("show")
def show_cmd(
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str | None, typer.Argument(help="Version (default: promoted).")] = None,
    data: DataDir = Path("marketlift-data"),
    json_output: JsonFlag = False,
) -> None:
    """Show one version's metadata: features, schema hash, data range, metrics, created time."""
    from marketlift.errors import MarketliftError
    from marketlift.models.registry import Registry

    try:
        reg = Registry(data)
        mv = reg.get(name, version)
        doc = mv.to_dict() | {"promoted": reg.promoted(name) == mv.version}
    except MarketliftError as exc:
        fail(str(exc), json_output=json_output)
    doc.pop("schema", None)
    _finish(doc, json_output)


@models_app.command("promote")
def promote_cmd(
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str | None, typer.Argument(help="Version (default: latest).")] = None,
    data: DataDir = Path("marketlift-data"),
    json_output: JsonFlag = False,
) -> None:
    """Serve ``version`` of ``name`` from now on."""
    from marketlift.errors import MarketliftError
    from marketlift.models.registry import Registry

    try:
        mv = Registry(data).promote(name, version)
    except MarketliftError as exc:
        fail(str(exc), json_output=json_output)
    _finish({"name": name, "promoted": mv.version}, json_output)


@models_app.command("rollback")
def rollback_cmd(
    name: Annotated[str, typer.Argument(help="Model name.")],
    data: DataDir = Path("marketlift-data"),
    json_output: JsonFlag = False,
) -> None:
    """Serve the previously promoted version of ``name`` again."""
    from marketlift.errors import MarketliftError
    from marketlift.models.registry import Registry

    try:
        mv = Registry(data).rollback(name)
    except MarketliftError as exc:
        fail(str(exc), json_output=json_output)
    _finish({"name": name, "promoted": mv.version}, json_output)
