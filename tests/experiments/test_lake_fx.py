"""Revenue in one reporting currency: mixed-currency lakes are flagged or converted."""

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.errors import ConfigError
from marketlift.experiments import analyze_lake
from marketlift.experiments.definitions import metric_definitions_from_dict
from marketlift.lake import CURRENCIES_FILE, load_currency_table, query
from marketlift.sim import SimConfig, run_ab
from marketlift.sim.world import FX


@pytest.fixture(scope="module")
def ab_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("fx")
    run_ab(SimConfig(n_buyers=1500, n_days=3, seed=3), {"control": "never", "t": "always"}, data,
           experiment_key="fx_test", truth=False)  # fmt: skip
    return data


@contextmanager
def without_currency_table(data: Path) -> Iterator[None]:
    """The data directory as a user's would be before writing ``currencies.toml``."""
    path = data / CURRENCIES_FILE
    aside = path.with_suffix(".aside")
    path.rename(aside)
    try:
        yield
    finally:
        aside.rename(path)


def test_mixed_currencies_are_flagged_without_fx(ab_lake: Path) -> None:
    currencies = query(
        ab_lake, "SELECT DISTINCT revenue_currency AS c FROM events WHERE type = 'purchase'"
    ).column("c")
    assert len(currencies) > 1
    with without_currency_table(ab_lake):
        result = analyze_lake(ab_lake, "fx_test", control="control")
    assert "mixed_currencies" in result.flags


def test_the_data_directory_currency_table_is_the_default(ab_lake: Path) -> None:
    table = load_currency_table(ab_lake)  # written by the simulator, a client like any other
    assert table is not None
    assert dict(table.rates) == FX
    assert table.reporting == "USD"
    by_file = analyze_lake(ab_lake, "fx_test", control="control")
    explicit = analyze_lake(ab_lake, "fx_test", control="control", fx=FX)
    assert "mixed_currencies" not in by_file.flags
    assert by_file.metrics == explicit.metrics


def test_cli_converts_with_the_table_and_marks_revenue_without_it(ab_lake: Path) -> None:
    runner = CliRunner()
    args = ["experiment", "analyze", "fx_test", "--data", str(ab_lake), "--control", "control"]
    converted = runner.invoke(app, [*args, "--json"])
    assert converted.exit_code == 0, converted.output
    doc = json.loads(converted.stdout)
    want = analyze_lake(ab_lake, "fx_test", control="control", fx=FX)
    revenue = {m["metric"]: m for m in doc["metrics"]}["revenue_per_unit"]
    assert revenue["rel_effect"] == pytest.approx(
        {m.metric: m for m in want.metrics}["revenue_per_unit"].rel_effect, rel=1e-12
    )
    assert "mixed_currencies" not in doc["flags"]
    assert "DIFFERENT CURRENCIES" not in runner.invoke(app, args).stdout
    with without_currency_table(ab_lake):
        table_view = runner.invoke(app, args)
    assert table_view.exit_code == 0, table_view.output
    assert "WARNING REVENUE ADDS DIFFERENT CURRENCIES" in " ".join(table_view.stdout.split())


def test_fx_converts_revenue_to_the_reporting_currency(ab_lake: Path) -> None:
    (plain,) = metric_definitions_from_dict(  # no CUPED: raw means are comparable
        {"metric": [{"name": "revenue_per_unit", "kind": "mean",
                     "numerator": {"event": "purchase", "column": "revenue"}}]}
    ).values()  # fmt: skip
    result = analyze_lake(ab_lake, "fx_test", control="control", fx=FX, metrics=[plain])
    assert "mixed_currencies" not in result.flags
    (revenue,) = result.metrics
    # An independent computation: per unit, purchases at or after its first exposure.
    exposures = query(
        ab_lake,
        "SELECT buyer_id, min(ts) AS first_ts, arg_min(variant, ts) AS variant FROM events "
        "WHERE type = 'exposure' AND experiment_key = 'fx_test' AND buyer_id IS NOT NULL "
        "GROUP BY 1 HAVING count(DISTINCT variant) = 1",
    ).to_pylist()
    purchases = query(
        ab_lake,
        "SELECT buyer_id, ts, CAST(revenue AS DOUBLE) AS r, revenue_currency AS c FROM events "
        "WHERE type = 'purchase'",
    ).to_pylist()
    first = {e["buyer_id"]: (e["first_ts"], e["variant"]) for e in exposures}
    totals: dict[str, float] = defaultdict(float)
    for p in purchases:
        if p["buyer_id"] in first and p["ts"] >= first[p["buyer_id"]][0]:
            totals[p["buyer_id"]] += p["r"] / FX[p["c"]]
    means = {}
    for arm in ("control", "t"):
        units = [b for b, (_, v) in first.items() if v == arm]
        means[arm] = sum(totals[b] for b in units) / len(units)
    assert revenue.control_mean == pytest.approx(means["control"], rel=1e-9)
    assert revenue.treatment_mean == pytest.approx(means["t"], rel=1e-9)


def test_a_missing_rate_names_the_currency(ab_lake: Path) -> None:
    with pytest.raises(ConfigError, match="missing"):
        analyze_lake(ab_lake, "fx_test", control="control", fx={"USD": 1.0})


def test_the_dashboard_reads_the_same_table(ab_lake: Path) -> None:
    from marketlift.serve.site.dashboard import experiments_summary, render_dashboard

    def page(summary: list) -> str:
        return render_dashboard(summary, [], data_dir=ab_lake, static="/s", computed_at="now")

    def revenue(doc: dict) -> dict:
        return {m["metric"]: m for m in doc["result"]["metrics"]}["revenue_per_unit"]

    (converted,) = experiments_summary(ab_lake, [])
    want = analyze_lake(ab_lake, "fx_test", control="control", fx=FX)
    assert "mixed_currencies" not in converted["result"]["flags"]
    assert revenue(converted)["treatment_mean"] == pytest.approx(
        {m.metric: m for m in want.metrics}["revenue_per_unit"].treatment_mean, rel=1e-12
    )
    assert converted["currency"] == "USD"
    assert "Revenue per unit (USD)" in page([converted])
    with without_currency_table(ab_lake):
        (plain,) = experiments_summary(ab_lake, [])
    assert "mixed_currencies" in plain["result"]["flags"]
    assert plain["currency"] is None
    assert "Revenue per unit (MIXED CURRENCIES, not converted" in page([plain])
