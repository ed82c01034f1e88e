"""``marketlift train uplift``, ``marketlift ope`` and ``marketlift policy ...``.

Data comes either from a data directory (``--data``: the lake's decision log with the
engagement catalog ``DATA/engagement.toml``, no simulator table) or from any table file
(``--table``: Parquet, CSV or anything DuckDB reads) with column names as options.
``policy train|evaluate|promote|rollback|retrain`` version policies in the registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console
from marketlift.cli.train_group import train_app

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from marketlift.ope import LoggedBandit
    from marketlift.policy import DecisionLog

__all__ = ["policy_app", "register"]

policy_app = typer.Typer(
    help="Engagement policies: train on the decision log, gate, promote, roll back.",
    no_args_is_help=True,
)

TableOpt = Annotated[Path | None, typer.Option("--table", help="A table file (Parquet, CSV).")]


def _read_table(path: Path) -> pa.Table:
    import duckdb

    if not path.exists():
        raise FileNotFoundError(f"--table {path} does not exist")
    con = duckdb.connect()
    try:
        quoted = str(path).replace("'", "''")
        return con.sql(f"SELECT * FROM '{quoted}'").to_arrow_table()  # noqa: S608 - quoted path
    finally:
        con.close()


def _features(table: pa.Table, exclude: set[str]) -> tuple[np.ndarray[Any, Any], list[str]]:
    """Numeric matrix of every column not excluded; strings become category codes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    cols, names = [], []
    for name in table.column_names:
        if name in exclude:
            continue
        col = table.column(name)
        if (
            pa.types.is_string(col.type)
            or pa.types.is_large_string(col.type)
            or pa.types.is_dictionary(col.type)
        ):
            col = pc.dictionary_encode(col.combine_chunks()).indices
        elif pa.types.is_boolean(col.type) or pa.types.is_decimal(col.type):
            col = pc.cast(col, pa.float64())
        elif not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            continue
        values = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
        cols.append(values)
        names.append(name)
    if not cols:
        raise ValueError("no feature columns left: keep at least one numeric or string column")
    return np.column_stack(cols), names


def train_uplift(  # noqa: PLR0915 - one command, read top to bottom
    data: DataDir = Path("marketlift-data"),
    table: TableOpt = None,
    treatment: Annotated[str, typer.Option(help="Treatment column (--table).")] = "treatment",
    control: Annotated[str, typer.Option(help="Control value of the treatment column.")] = "none",
    outcome: Annotated[
        str, typer.Option(help="Outcome column (--table); with --data: revenue or converted.")
    ] = "revenue",
    cost: Annotated[
        str | None,
        typer.Option(help="Cost column: net value = uplift - mean cost of the treatment."),
    ] = None,
    drop: Annotated[str, typer.Option(help="Comma-separated columns not to use as features.")] = "",
    learner: Annotated[str, typer.Option(help="s, t, x or dr.")] = "s",
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write every row with its predicted effect per treatment (Parquet or CSV)."
        ),
    ] = None,
    save_policy: Annotated[
        Path | None, typer.Option(help="Save an uplift-greedy policy on this model (--data).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random state.")] = 0,
    json_output: JsonFlag = False,
) -> None:
    """Fit an uplift learner (several treatments), report Qini, AUUC and uplift by decile.

    Example: marketlift train uplift --table ab.parquet --treatment arm --control control
    --outcome bought --json
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from marketlift.errors import ConfigError
    from marketlift.policy import UpliftGreedy, save
    from marketlift.policy.uplift import (
        LEARNERS,
        auuc,
        qini_coefficient,
        uplift_at_k,
        uplift_by_decile,
    )

    try:
        if learner not in LEARNERS:
            raise ConfigError("--learner", learner, f"one of {', '.join(LEARNERS)}")  # noqa: TRY301
        if table is not None:
            tbl = _read_table(table)
            missing = [
                c
                for c in (treatment, outcome, *([cost] if cost else []))
                if c not in tbl.column_names
            ]
            if missing:
                raise ConfigError(  # noqa: TRY301
                    "column", missing, f"columns of {table}: {', '.join(tbl.column_names)}"
                )
            exclude = {treatment, outcome, *(c.strip() for c in drop.split(",") if c.strip())}
            if cost:
                exclude.add(cost)
            X, names = _features(tbl, exclude)  # noqa: N806
            t = np.asarray([str(v) for v in tbl.column(treatment).to_pylist()])
            y = np.asarray(
                tbl.column(outcome).cast(pa.float64()).to_numpy(zero_copy_only=False),
                dtype=np.float64,
            )
            costs = (
                np.asarray(tbl.column(cost).cast(pa.float64()).to_numpy(zero_copy_only=False))
                if cost
                else None
            )
        else:
            if outcome not in ("revenue", "converted"):
                raise ConfigError("--outcome", outcome, "revenue or converted with --data")  # noqa: TRY301
            log = _decision_log(data, None)
            X, names = log.features, list(log.feature_names)  # noqa: N806
            t = log.action_names.astype(str)
            converted = log.rows.column("converted").to_numpy(zero_copy_only=False)
            y = log.reward if outcome == "revenue" else converted.astype(np.float64)
            costs = None
            tbl = log.rows.drop_columns(["eligible", "probabilities"])
            control = "none"
        rng = np.random.default_rng(seed)
        test = rng.random(len(y)) < 0.3
        model = LEARNERS[learner](control=control, random_state=seed).fit(
            X[~test], t[~test], y[~test]
        )
        effects = model.predict(X)
        per: dict[str, Any] = {}
        binary = bool(model.binary_)
        for j, name in enumerate(model.treatments_):
            rows = test & ((t == name) | (t == control))
            tt = (t[rows] == name).astype(int)
            item: dict[str, Any] = {"rows_treated": int((t == name).sum())}
            mean_cost = (
                float(np.nanmean(costs[t == name]))
                if costs is not None and (t == name).any()
                else 0.0
            )
            item["mean_cost"] = mean_cost
            item["mean_effect"] = float(effects[:, j].mean())
            item["mean_net_value"] = float(effects[:, j].mean() - mean_cost)
            if tt.sum() > 0 and (1 - tt).sum() > 0:
                u = effects[rows, j]
                item["qini"] = qini_coefficient(y[rows], u, tt, normalize=binary)
                item["auuc"] = auuc(y[rows], u, tt, normalize=binary)
                item["uplift_at_30"] = uplift_at_k(y[rows], u, tt, k=0.3)
                item["deciles"] = [r._asdict() for r in uplift_by_decile(y[rows], u, tt)]
            per[str(name)] = item
        doc: dict[str, Any] = {
            "rows": len(y),
            "holdout_rows": int(test.sum()),
            "learner": learner,
            "outcome": "binary" if binary else "continuous",
            "control": control,
            "features": names,
            "treatments": per,
        }
        if out is not None:
            cols = {c: tbl.column(c) for c in tbl.column_names}
            for j, name in enumerate(model.treatments_):
                cols[f"effect_{name}"] = pa.array(effects[:, j])
                if costs is not None:
                    cols[f"net_{name}"] = pa.array(effects[:, j] - per[str(name)]["mean_cost"])
            result = pa.table(cols)
            if out.suffix == ".csv":
                pacsv.write_csv(result, out)
            else:
                pq.write_table(result, out)
            doc["out"] = str(out)
        if save_policy is not None:
            policy = UpliftGreedy(model, prefit=True).fit(X, t, y)
            if table is None:  # the catalog's features: the decision API can serve it
                policy.feature_names_ = list(names)
            save(policy, save_policy)
            doc["policy"] = str(save_policy)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        fail(str(exc), json_output=json_output)
    if json_output:
        emit_json(doc)
    else:
        for name, item in per.items():
            stderr_console.print(
                f"{name}: effect {item['mean_effect']:.4g}, "
                f"qini {item.get('qini', float('nan')):.3g}"
            )


def _decision_log(data: Path, catalog: Path | None) -> DecisionLog:
    """The lake's decision log with the catalog (``DATA/engagement.toml`` by default)."""
    from marketlift.policy import load_catalog, read_decision_log
    from marketlift.policy.catalog import catalog_path

    return read_decision_log(data, load_catalog(catalog or catalog_path(data)))


def _log_flags(data: Path, log: DecisionLog) -> list[str]:
    """The log's data flags, and the logged policies the registry does not know."""
    from marketlift.policy.registry import registered_labels

    known = registered_labels(data) | {"never"}
    unknown = {p: n for p, n in log.policies().items() if p not in known}
    flags = list(log.flags)
    flags += [f"policy_not_in_registry:{p}:{n}" for p, n in sorted(unknown.items())]
    return flags


def _load_log(
    data: Path,
    table: Path | None,
    action: str,
    reward: str,
    propensity: str,
    context: str,
    catalog: Path | None = None,
) -> tuple[LoggedBandit, list[str]]:
    from marketlift.ope import LoggedBandit

    if table is not None:
        ctx = [c.strip() for c in context.split(",") if c.strip()]
        bandit = LoggedBandit.from_table(
            _read_table(table), action=action, reward=reward, propensity=propensity, context=ctx
        )
        return bandit, []
    log = _decision_log(data, catalog)
    return log.bandit(), _log_flags(data, log)


def _policy_arg(policy: str, log: LoggedBandit, data: Path | None = None) -> Any:
    import re

    import numpy as np

    from marketlift.policy import load

    if policy in ("uniform", "logging", "never"):
        return policy
    version = re.fullmatch(r"(?:engagement@)?(v\d{4,})", policy)
    if version is not None and data is not None:
        from marketlift.policy.registry import load_policy_version

        return load_policy_version(data, version.group(1))
    path = Path(policy)
    if not path.exists():
        raise FileNotFoundError(
            f"--policy {policy}: not a built-in (uniform, logging, never), a registry version "
            "(v0001) nor a file"
        )
    if path.suffix in (".parquet", ".csv"):
        tbl = _read_table(path)
        missing = [a for a in log.actions if a not in tbl.column_names]
        if missing:
            raise ValueError(f"--policy table lacks probability columns {missing}")
        return np.column_stack(
            [
                np.asarray(tbl.column(a).to_numpy(zero_copy_only=False), dtype=np.float64)
                for a in log.actions
            ]
        )
    return load(path)


ActionOpt = Annotated[str, typer.Option(help="Action column (--table).")]
RewardOpt = Annotated[str, typer.Option(help="Reward column (--table).")]
PropensityOpt = Annotated[str, typer.Option(help="Logging propensity column (--table).")]
ContextOpt = Annotated[str, typer.Option(help="Comma-separated context columns (--table).")]
CatalogOpt = Annotated[
    Path | None,
    typer.Option("--catalog", help="Engagement catalog (default: DATA/engagement.toml)."),
]


def _errors() -> tuple[type[BaseException], ...]:
    from marketlift.errors import ConfigError
    from marketlift.models.registry import RegistryError

    return (ConfigError, FileNotFoundError, ValueError, RegistryError)


def ope_cmd(
    data: DataDir = Path("marketlift-data"),
    table: TableOpt = None,
    action: ActionOpt = "action",
    reward: RewardOpt = "reward",
    propensity: PropensityOpt = "propensity",
    context: ContextOpt = "",
    policy: Annotated[
        str,
        typer.Option(
            help="uniform, logging, never, a registry version (v0001), a saved policy or a "
            "probability table."
        ),
    ] = "uniform",
    interval: Annotated[str, typer.Option(help="analytic or bootstrap.")] = "analytic",
    catalog: CatalogOpt = None,
    json_output: JsonFlag = False,
) -> None:
    """Estimate a policy's value from logged decisions: IPS, SNIPS, DM, DR, switch-DR.

    With --data: the lake's decision log (propensities, eligible sets, outcomes in each
    channel's attribution window; see docs/policy.md). Example: marketlift ope --data DIR
    --policy v0002 --json
    """
    from marketlift.ope import evaluate

    try:
        log, flags = _load_log(data, table, action, reward, propensity, context, catalog)
        report = evaluate(log, _policy_arg(policy, log, data), interval=interval)
    except _errors() as exc:
        fail(str(exc), json_output=json_output)
    doc = {"policy": policy, **report.to_dict(), "flags": flags}
    if json_output:
        emit_json(doc)
    else:
        for e in report.estimates:
            stderr_console.print(
                f"{e.estimator:10s} {e.value:.5g}  [{e.ci_low:.5g}, {e.ci_high:.5g}] "
                f"{' '.join(e.flags)}"
            )
        if flags:
            stderr_console.print("log flags: " + ", ".join(flags))


def policy_evaluate(
    data: DataDir = Path("marketlift-data"),
    table: TableOpt = None,
    action: ActionOpt = "action",
    reward: RewardOpt = "reward",
    propensity: PropensityOpt = "propensity",
    context: ContextOpt = "",
    policy: Annotated[
        str,
        typer.Option(
            help="Candidate: a registry version (v0001), a saved policy, a probability table, "
            "uniform or never."
        ),
    ] = "uniform",
    estimator: Annotated[str, typer.Option(help="dr, switch_dr, ips or dm.")] = "dr",
    min_lift: Annotated[
        float, typer.Option(help="Smallest lift per decision worth testing.")
    ] = 0.0,
    catalog: CatalogOpt = None,
    json_output: JsonFlag = False,
) -> None:
    """Gate: is the candidate worth an A/B test against the logging policy? With the interval.

    Example: marketlift policy evaluate --data DIR --policy v0002 --json
    """
    import dataclasses

    from marketlift.ope import gate

    try:
        log, flags = _load_log(data, table, action, reward, propensity, context, catalog)
        result = gate(log, _policy_arg(policy, log, data), estimator=estimator, min_lift=min_lift)
    except _errors() as exc:
        fail(str(exc), json_output=json_output)
    doc = dataclasses.asdict(result)
    doc["flags"] = list(result.flags)
    doc["log_flags"] = flags
    if json_output:
        emit_json(doc)
    else:
        stderr_console.print(
            ("worth an A/B test: " if result.worth_testing else "not worth testing: ")
            + result.reason
        )


SeedOpt = Annotated[int, typer.Option(help="Random state.")]
ModelsOpt = Annotated[int, typer.Option(help="S-learners in the seed ensemble.")]
ThresholdOpt = Annotated[
    float, typer.Option(help="Act only above this net uplift (reporting currency).")
]


def policy_train(
    data: DataDir = Path("marketlift-data"),
    catalog: CatalogOpt = None,
    out: Annotated[Path | None, typer.Option(help="Also save the policy to this file.")] = None,
    register: Annotated[
        bool, typer.Option("--register/--no-register", help="Register it (not promoted).")
    ] = True,
    n_models: ModelsOpt = 3,
    threshold: ThresholdOpt = 0.05,
    seed: SeedOpt = 0,
    json_output: JsonFlag = False,
) -> None:
    """Fit the engagement policy on the lake's decision log (events and the catalog only).

    Example: marketlift policy train --data DIR --json
    """
    from marketlift.policy import fit_policy, save
    from marketlift.policy.registry import register_policy

    try:
        log = _decision_log(data, catalog)
        policy = fit_policy(log, n_models=n_models, threshold=threshold, random_state=seed)
        doc: dict[str, Any] = {
            "decisions": len(log),
            "features": list(log.feature_names),
            "actions": list(policy.actions_),
            "training_range_us": list(log.training_range()),
            "flags": _log_flags(data, log),
        }
        if register:
            doc["version"] = register_policy(data, policy, log.catalog).version
        if out is not None:
            doc["path"] = str(save(policy, out))
    except _errors() as exc:
        fail(str(exc), json_output=json_output)
    if json_output:
        emit_json(doc)
    else:
        stderr_console.print(f"policy {doc.get('version', '')} on {len(log)} decisions")


def policy_retrain(
    data: DataDir = Path("marketlift-data"),
    catalog: CatalogOpt = None,
    holdout: Annotated[
        float, typer.Option(help="Share of buyers kept out of the fit for the gate.")
    ] = 0.3,
    min_lift: Annotated[float, typer.Option(help="Smallest lift worth promoting.")] = 0.0,
    force: Annotated[bool, typer.Option(help="Promote even when the gate fails.")] = False,
    n_models: ModelsOpt = 3,
    threshold: ThresholdOpt = 0.05,
    seed: SeedOpt = 0,
    json_output: JsonFlag = False,
) -> None:
    """Train, evaluate against the logging policy, register and (if the gate passes) promote.

    One step a scheduler can call. Example: marketlift policy retrain --data DIR --json
    """
    from marketlift.policy.registry import promote_policy
    from marketlift.policy.retrain import retrain

    try:
        result = retrain(
            data, _decision_log(data, catalog), holdout=holdout, min_lift=min_lift,
            n_models=n_models, threshold=threshold, random_state=seed,
        )  # fmt: skip
        result["flags"] = result["flags"] + [
            f for f in _log_flags(data, result.pop("log")) if f.startswith("policy_not")
        ]
        if result["gate"]["worth_testing"] or force:
            result["promoted"] = promote_policy(data, result["version"], force=force).version
        else:
            result["promoted"] = None
    except _errors() as exc:
        fail(str(exc), json_output=json_output)
    if json_output:
        emit_json(result)
    else:
        stderr_console.print(
            f"{result['version']}: {result['gate']['reason']}; promoted: {result['promoted']}"
        )


def policy_promote(
    data: DataDir = Path("marketlift-data"),
    version: Annotated[str | None, typer.Argument(help="Version (default: latest).")] = None,
    force: Annotated[bool, typer.Option(help="Promote even if its gate failed.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Serve a registered policy version (refused when its gate failed, unless --force)."""
    from marketlift.policy.registry import promote_policy

    try:
        got = promote_policy(data, version, force=force)
    except _errors() as exc:
        fail(str(exc), json_output=json_output)
    if json_output:
        emit_json({"promoted": got.version})
    else:
        stderr_console.print(f"promoted {got.version}")


def policy_rollback(data: DataDir = Path("marketlift-data"), json_output: JsonFlag = False) -> None:
    """Serve the previously promoted policy version again."""
    from marketlift.policy.registry import rollback_policy

    try:
        got = rollback_policy(data)
    except _errors() as exc:
        fail(str(exc), json_output=json_output)
    if json_output:
        emit_json({"promoted": got.version})
    else:
        stderr_console.print(f"rolled back to {got.version}")


train_app.command("uplift")(train_uplift)
policy_app.command("evaluate")(policy_evaluate)
policy_app.command("train")(policy_train)
policy_app.command("retrain")(policy_retrain)
policy_app.command("promote")(policy_promote)
policy_app.command("rollback")(policy_rollback)


def register(app: typer.Typer) -> None:
    """Add ``ope`` and the ``policy`` group to the root app (``train uplift`` is on train_app)."""
    app.command("ope")(ope_cmd)
    app.add_typer(policy_app, name="policy")
