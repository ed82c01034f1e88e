"""``marketlift train uplift``, ``marketlift ope`` and ``marketlift policy evaluate``.

Data comes either from a simulated data directory (``--data``, its truth tables) or from any
table file (``--table``: Parquet, CSV or anything DuckDB reads) with column names as options.
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

__all__ = ["policy_app", "register"]

policy_app = typer.Typer(help="Engagement policies: offline evaluation gate.", no_args_is_help=True)

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
    from marketlift.sim import SIM_ACTIONS, SIM_FEATURES, logged_from_lake

    try:
        if learner not in LEARNERS:
            raise ConfigError("--learner", learner, f"one of {', '.join(LEARNERS)}")  # noqa: TRY301
        truth = None
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
            log = logged_from_lake(data)
            X, names = log.features, list(SIM_FEATURES)  # noqa: N806
            t = log.action_names.astype(str)
            y = log.revenue if outcome == "revenue" else log.converted.astype(np.float64)
            costs = None
            truth = log.true_value if outcome == "revenue" else log.true_probability
            tbl = log.to_arrow()
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
            if truth is not None:
                col = SIM_ACTIONS.index(name)
                ok = ~np.isnan(truth[:, col])
                true_eff = truth[ok, col] - truth[ok, 0]
                if ok.sum() > 2 and np.std(true_eff) > 0 and np.std(effects[ok, j]) > 0:
                    item["corr_with_truth"] = float(np.corrcoef(effects[ok, j], true_eff)[0, 1])
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


def _load_log(
    data: Path, table: Path | None, action: str, reward: str, propensity: str, context: str
) -> LoggedBandit:
    from marketlift.ope import LoggedBandit
    from marketlift.sim import SIM_ACTIONS, SIM_FEATURES, logged_from_lake

    if table is not None:
        ctx = [c.strip() for c in context.split(",") if c.strip()]
        return LoggedBandit.from_table(
            _read_table(table), action=action, reward=reward, propensity=propensity, context=ctx
        )
    log = logged_from_lake(data)
    return LoggedBandit.build(
        actions=SIM_ACTIONS,
        action=log.action,
        reward=log.revenue,
        propensity=log.propensity,
        context=log.features,
        available=log.available,
        context_names=SIM_FEATURES,
    )


def _policy_arg(policy: str, log: LoggedBandit) -> Any:
    import numpy as np

    from marketlift.policy import load

    if policy in ("uniform", "logging", "never"):
        return policy
    path = Path(policy)
    if not path.exists():
        raise FileNotFoundError(
            f"--policy {policy}: not a built-in (uniform, logging, never) nor a file"
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


def ope_cmd(
    data: DataDir = Path("marketlift-data"),
    table: TableOpt = None,
    action: ActionOpt = "action",
    reward: RewardOpt = "reward",
    propensity: PropensityOpt = "propensity",
    context: ContextOpt = "",
    policy: Annotated[
        str, typer.Option(help="uniform, logging, never, a saved policy or a probability table.")
    ] = "uniform",
    interval: Annotated[str, typer.Option(help="analytic or bootstrap.")] = "analytic",
    json_output: JsonFlag = False,
) -> None:
    """Estimate a policy's value from logged decisions: IPS, SNIPS, DM, DR, switch-DR.

    Example: marketlift ope --table log.parquet --action action --reward reward
    --propensity propensity --policy uniform --json
    """
    from marketlift.errors import ConfigError
    from marketlift.ope import evaluate

    try:
        log = _load_log(data, table, action, reward, propensity, context)
        report = evaluate(log, _policy_arg(policy, log), interval=interval)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        fail(str(exc), json_output=json_output)
    doc = {"policy": policy, **report.to_dict()}
    if json_output:
        emit_json(doc)
    else:
        for e in report.estimates:
            stderr_console.print(
                f"{e.estimator:10s} {e.value:.5g}  [{e.ci_low:.5g}, {e.ci_high:.5g}] "
                f"{' '.join(e.flags)}"
            )


def policy_evaluate(
    data: DataDir = Path("marketlift-data"),
    table: TableOpt = None,
    action: ActionOpt = "action",
    reward: RewardOpt = "reward",
    propensity: PropensityOpt = "propensity",
    context: ContextOpt = "",
    policy: Annotated[
        str, typer.Option(help="Candidate: a saved policy, a probability table, uniform or never.")
    ] = "uniform",
    estimator: Annotated[str, typer.Option(help="dr, switch_dr, ips or dm.")] = "dr",
    min_lift: Annotated[
        float, typer.Option(help="Smallest lift per decision worth testing.")
    ] = 0.0,
    json_output: JsonFlag = False,
) -> None:
    """Gate: is the candidate worth an A/B test against the logging policy? With the interval.

    Example: marketlift policy evaluate --data DIR --policy policy.pkl --json
    """
    import dataclasses

    from marketlift.errors import ConfigError
    from marketlift.ope import gate

    try:
        log = _load_log(data, table, action, reward, propensity, context)
        result = gate(log, _policy_arg(policy, log), estimator=estimator, min_lift=min_lift)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        fail(str(exc), json_output=json_output)
    doc = dataclasses.asdict(result)
    doc["flags"] = list(result.flags)
    if json_output:
        emit_json(doc)
    else:
        stderr_console.print(
            ("worth an A/B test: " if result.worth_testing else "not worth testing: ")
            + result.reason
        )


train_app.command("uplift")(train_uplift)
policy_app.command("evaluate")(policy_evaluate)


def register(app: typer.Typer) -> None:
    """Add ``ope`` and the ``policy`` group to the root app (``train uplift`` is on train_app)."""
    app.command("ope")(ope_cmd)
    app.add_typer(policy_app, name="policy")
