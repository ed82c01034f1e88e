"""``marketlift experiment``: analyze A/B tests, plan their size, render reports.

- ``analyze --data DIR KEY`` reads exposures and events from the lake, for the metrics of
  ``metrics.toml`` beside the experiments file (the built-in four without one);
  ``analyze --table FILE --variant COL --control VALUE --metric COL ...`` reads any table.
- ``power`` gives the sample size for a relative MDE, or the MDE of a sample size.
- ``report KEY --out FILE.html`` writes a self-contained HTML report.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console

if TYPE_CHECKING:
    from marketlift.experiments.config import Experiment
    from marketlift.experiments.results import AnalysisResult

__all__ = ["app"]

app = typer.Typer(
    help="Analyze A/B tests, plan their size and render reports.",
    no_args_is_help=True,
    add_completion=False,
)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Experiments TOML file (default: DATA/experiments.toml when it exists).",
        dir_okay=False,
    ),
]
TableOpt = Annotated[
    Path | None,
    typer.Option("--table", help="Analyze this Parquet or CSV file instead of the lake."),
]
VariantOpt = Annotated[str, typer.Option("--variant", help="Variant column (with --table).")]
ControlOpt = Annotated[
    str | None, typer.Option("--control", help="Control variant (default: from the config).")
]
MetricOpt = Annotated[
    list[str] | None,
    typer.Option("--metric", help="Metric column, or NUM/DEN for a ratio (repeatable)."),
]
CovariateOpt = Annotated[
    str | None,
    typer.Option("--covariate", help="CUPED/CUPAC covariate column (or NUM/DEN) for every metric."),
]
UnitOpt = Annotated[
    str | None,
    typer.Option("--unit", help="Unit column (--table: rows are summed per unit first)."),
]
SegmentOpt = Annotated[
    list[str] | None, typer.Option("--segment", help="Segment column (repeatable, --table).")
]
AlphaOpt = Annotated[float, typer.Option("--alpha", help="One minus the confidence level.")]
PlannedOpt = Annotated[
    float,
    typer.Option(
        "--planned-units",
        help="Units (all arms) where the always-valid sequential interval is tightest.",
    ),
]
MissingOpt = Annotated[
    str,
    typer.Option(
        "--missing",
        help="Blank metric values (--table): zero (read as 0, flagged), drop (their rows), error.",
    ),
]
CorrectionOpt = Annotated[
    str, typer.Option("--correction", help="Multiple-testing correction: holm, bh or none.")
]


def _experiment(data: Path, config: Path | None, key: str) -> Experiment | None:
    from marketlift.experiments.config import load_experiments

    path = config if config is not None else data / "experiments.toml"
    if not path.exists():
        if config is not None:
            from marketlift.errors import ConfigError

            raise ConfigError("--config", str(config), "an existing TOML file")
        return None
    return load_experiments(path).get(key)


def _definitions(data: Path, config: Path | None) -> Any:
    """Metric definitions from ``metrics.toml`` beside the experiments file (else built-in)."""
    from marketlift.experiments.definitions import load_metric_definitions

    folder = config.parent if config is not None else data
    return load_metric_definitions(folder / "metrics.toml")


def _analyze(
    *,
    key: str | None,
    data: Path,
    config: Path | None,
    table: Path | None,
    variant: str,
    control: str | None,
    metric: list[str] | None,
    covariate: str | None,
    unit: str | None,
    segment: list[str] | None,
    alpha: float,
    correction: str,
    planned_units: float,
    missing: str = "zero",
) -> AnalysisResult:
    if table is not None:
        from marketlift.experiments.table import analyze_table

        if not metric:
            from marketlift.errors import ConfigError

            raise ConfigError("--metric", None, "at least one --metric with --table")
        if control is None:
            from marketlift.errors import ConfigError

            raise ConfigError("--control", None, "the control value of --variant with --table")
        return analyze_table(
            table,
            variant=variant,
            control=control,
            metrics=metric,
            covariate=covariate,
            unit=unit,
            segments=segment or (),
            alpha=alpha,
            correction=correction,
            tuning_n=planned_units,
            missing=missing,
        )
    if key is None:
        from marketlift.errors import ConfigError

        raise ConfigError("KEY", None, "an experiment key (or --table FILE)")
    from marketlift.experiments.lake import analyze_lake

    exp = _experiment(data, config, key)
    return analyze_lake(
        data,
        key,
        experiment=exp,
        metrics=_definitions(data, config),
        control=control,
        unit=unit,
        alpha=alpha,
        correction=correction,
        tuning_n=planned_units,
    )


def _warnings(result: AnalysisResult) -> list[str]:
    """The data conditions a reader of the table must not miss, one sentence each."""
    out = []
    if "mixed_currencies" in result.flags:
        out.append(
            "REVENUE ADDS DIFFERENT CURRENCIES (flag mixed_currencies): its lifts are not "
            "meaningful; write DATA/currencies.toml (see docs/experiments.md)."
        )
    if "tiny_arm" in result.flags:
        from marketlift.experiments.analysis import TINY_SHARE

        total = sum(a.units for a in result.arms) or 1
        out.extend(
            f"ARM {a.variant!r} HAS {a.units} UNITS ({a.units / total:.2%} of all, flag "
            "tiny_arm): a typo of a variant value? Fix or drop those rows."
            for a in result.arms
            if a.units / total < TINY_SHARE
        )
    for column, n in result.missing_values.items():
        how = "dropped" if "missing_dropped" in result.flags else "read as 0"
        out.append(
            f"{n} BLANK VALUES IN {column!r} ({how}; choose with --missing zero|drop|error)."
        )
    return out


def _print_result(result: AnalysisResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for line in _warnings(result):
        console.print(f"[bold red]WARNING[/] {line}", highlight=False)
    srm = result.srm
    console.print(
        f"[bold]{result.experiment}[/]  control={result.control}  "
        f"SRM p={srm.pvalue:.3g} {'[red]MISMATCH[/]' if srm.mismatch else '[green]ok[/]'}"
        + (f"  flags={', '.join(result.flags)}" if result.flags else "")
    )
    table = Table(
        "metric", "variant", "control", "treatment", "lift", "95% CI", "p adj", "P(beat)", "flags"
    )
    for r in result.metrics:
        table.add_row(
            r.metric,
            r.variant,
            f"{r.control_mean:.4g}",
            f"{r.treatment_mean:.4g}",
            _pct(r.rel_effect),
            f"[{_pct(r.rel_lower)}, {_pct(r.rel_upper)}]",
            f"{r.pvalue_adjusted:.3g}",
            f"{r.chance_to_beat_control:.3f}",
            ", ".join(r.flags),
        )
    console.print(table)


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x * 100:+.2f}%"


@app.command()
def analyze(
    key: Annotated[str | None, typer.Argument(help="Experiment key (lake mode).")] = None,
    data: DataDir = Path("marketlift-data"),
    config: ConfigOpt = None,
    table: TableOpt = None,
    variant: VariantOpt = "variant",
    control: ControlOpt = None,
    metric: MetricOpt = None,
    covariate: CovariateOpt = None,
    unit: UnitOpt = None,
    segment: SegmentOpt = None,
    alpha: AlphaOpt = 0.05,
    correction: CorrectionOpt = "holm",
    planned_units: PlannedOpt = 10_000,
    missing: MissingOpt = "zero",
    json_output: JsonFlag = False,
) -> None:
    """Analyze an experiment: lifts, intervals, SRM, sequential and Bayesian readouts."""
    from marketlift.errors import MarketliftError

    try:
        result = _analyze(
            key=key,
            data=data,
            config=config,
            table=table,
            variant=variant,
            control=control,
            metric=metric,
            covariate=covariate,
            unit=unit,
            segment=segment,
            alpha=alpha,
            correction=correction,
            planned_units=planned_units,
            missing=missing,
        )
    except MarketliftError as err:
        fail(str(err), json_output=json_output)
    if json_output:
        emit_json(result)
    else:
        _print_result(result)


@app.command()
def power(
    sd: Annotated[
        float | None, typer.Option("--sd", help="Unit-level standard deviation of the metric.")
    ] = None,
    proportion: Annotated[
        float | None,
        typer.Option("--proportion", help="Baseline rate of a 0/1 metric (sets --sd, --baseline)."),
    ] = None,
    baseline: Annotated[
        float | None, typer.Option("--baseline", help="Baseline mean (for relative MDE).")
    ] = None,
    mde_rel: Annotated[
        float | None,
        typer.Option("--mde-rel", help="Relative MDE to detect, e.g. 0.02: gives the size."),
    ] = None,
    units_per_arm: Annotated[
        int | None, typer.Option("--units-per-arm", help="Units per arm: gives the MDE.")
    ] = None,
    variance_reduction: Annotated[
        float, typer.Option("--variance-reduction", help="Expected CUPED variance reduction.")
    ] = 0.0,
    table: TableOpt = None,
    metric: Annotated[
        str | None, typer.Option("--metric", help="With --table: estimate sd and baseline.")
    ] = None,
    covariate: CovariateOpt = None,
    arms: Annotated[int, typer.Option("--arms", help="Number of arms.")] = 2,
    alpha: AlphaOpt = 0.05,
    target_power: Annotated[float, typer.Option("--power", help="Target power.")] = 0.8,
    json_output: JsonFlag = False,
) -> None:
    """Sample size for a relative MDE, or the MDE of a sample size (with CUPED reduction)."""
    from marketlift.errors import ConfigError, MarketliftError
    from marketlift.experiments.power import plan

    try:
        if table is not None:
            if metric is None:
                raise ConfigError("--metric", None, "a metric column with --table")
            sd, baseline, variance_reduction = _estimate(table, metric, covariate)
            stderr_console.print(
                f"estimated from {table}: sd={sd:.4g} baseline={baseline:.4g} "
                f"variance_reduction={variance_reduction:.3f}"
            )
        if proportion is not None:
            if not 0 < proportion < 1:
                raise ConfigError("--proportion", proportion, "a rate in (0, 1)")
            sd = math.sqrt(proportion * (1 - proportion))
            baseline = proportion
        if sd is None:
            raise ConfigError("--sd", None, "a standard deviation (or --proportion, --table)")
        result = plan(
            sd=sd,
            baseline=baseline,
            mde_rel=mde_rel,
            units_per_arm=units_per_arm,
            arms=arms,
            alpha=alpha,
            target_power=target_power,
            variance_reduction=variance_reduction,
        )
    except MarketliftError as err:
        fail(str(err), json_output=json_output)
    doc: dict[str, Any] = {
        **result._asdict(),
        "sd": sd,
        "baseline": baseline,
        "alpha": alpha,
        "arms": arms,
        "target_power": target_power,
    }
    if json_output:
        emit_json(doc)
    else:
        typer.echo(
            f"units per arm: {result.units_per_arm}  total: {result.total_units}  "
            f"MDE: {result.mde_abs:.4g} ({_pct(result.mde_rel)})  power: {result.power:.3f}"
        )


def _estimate(table: Path, metric: str, covariate: str | None) -> tuple[float, float, float]:
    """Baseline, sd and CUPED variance reduction of a metric from a historical table."""
    import duckdb

    from marketlift.experiments.aggregate import aggregate
    from marketlift.experiments.table import check_numeric, open_source, parse_metric

    m = parse_metric(metric, covariate)
    con = duckdb.connect()
    view = open_source(con, table)
    check_numeric(con, view, m.columns)
    groups = aggregate(
        con,
        f"(SELECT *, 'all' AS __arm FROM {view})",  # noqa: S608 - our view name
        variant="__arm",
        columns=m.columns,
        pairs=m.pairs,
    )
    moments = next(iter(groups.values()))
    mean, var = m.plain(moments)
    _, adj_var = m.adjusted(moments, moments)
    reduction = max(0.0, 1.0 - adj_var / var) if var > 0 else 0.0
    return math.sqrt(var), mean, min(reduction, 0.99)


@app.command()
def report(
    key: Annotated[str | None, typer.Argument(help="Experiment key (lake mode).")] = None,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.", dir_okay=False)] = Path(
        "experiment-report.html"
    ),
    data: DataDir = Path("marketlift-data"),
    config: ConfigOpt = None,
    table: TableOpt = None,
    variant: VariantOpt = "variant",
    control: ControlOpt = None,
    metric: MetricOpt = None,
    covariate: CovariateOpt = None,
    unit: UnitOpt = None,
    segment: SegmentOpt = None,
    alpha: AlphaOpt = 0.05,
    correction: CorrectionOpt = "holm",
    planned_units: PlannedOpt = 10_000,
    missing: MissingOpt = "zero",
    json_output: JsonFlag = False,
) -> None:
    """Write a self-contained HTML report (intervals, cumulative lift, SRM status)."""
    from marketlift.errors import MarketliftError
    from marketlift.experiments.report import render_report

    try:
        result = _analyze(
            key=key,
            data=data,
            config=config,
            table=table,
            variant=variant,
            control=control,
            metric=metric,
            covariate=covariate,
            unit=unit,
            segment=segment,
            alpha=alpha,
            correction=correction,
            planned_units=planned_units,
            missing=missing,
        )
        cumulative: list[tuple[str, AnalysisResult]] = []
        if table is None and key is not None:
            from marketlift.experiments.lake import cumulative_lake

            cumulative = cumulative_lake(
                data,
                key,
                experiment=_experiment(data, config, key),
                metrics=_definitions(data, config),
                control=control,
                unit=unit,
                alpha=alpha,
                tuning_n=planned_units,
            )
    except MarketliftError as err:
        fail(str(err), json_output=json_output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(result, cumulative), encoding="utf-8")
    stderr_console.print(f"wrote {out}")
    if json_output:
        emit_json({"out": str(out), "srm_mismatch": result.srm.mismatch, "flags": result.flags})
