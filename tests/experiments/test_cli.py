import json
import math

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import tea_tasting as tt
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.experiments.power import plan
from marketlift.experiments.table import analyze_table

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("tables")
    data = tt.make_users_data(rng=5, covariates=True, n_users=2000, return_type="pyarrow")
    pq.write_table(data, d / "users.parquet")
    pacsv.write_csv(data, d / "users.csv")
    return {"parquet": d / "users.parquet", "csv": d / "users.csv", "data": data}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_analyze_table_json(files: dict, fmt: str) -> None:
    args = [
        "experiment",
        "analyze",
        "--table",
        str(files[fmt]),
        "--variant",
        "variant",
        "--control",
        "0",
        "--metric",
        "revenue",
        "--metric",
        "orders/sessions",
        "--covariate",
        "revenue_covariate",
        "--correction",
        "bh",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # exactly one JSON document
    want = analyze_table(
        files["data"],
        variant="variant",
        control="0",
        metrics=["revenue", "orders/sessions"],
        covariate="revenue_covariate",
        correction="bh",
    )
    assert [m["metric"] for m in doc["metrics"]] == ["revenue", "orders/sessions"]
    for got, ref in zip(doc["metrics"], want.metrics, strict=True):
        assert got["effect"] == pytest.approx(ref.effect, rel=1e-12)
        assert got["pvalue_adjusted"] == pytest.approx(ref.pvalue_adjusted, rel=1e-9)
    assert doc["srm"]["mismatch"] is False


def test_analyze_table_human_output(files: dict) -> None:
    result = runner.invoke(
        app,
        [
            "experiment",
            "analyze",
            "--table",
            str(files["parquet"]),
            "--control",
            "0",
            "--metric",
            "orders",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "orders" in result.stdout
    assert "SRM" in result.stdout


def test_analyze_lake_json(lake) -> None:
    result = runner.invoke(
        app, ["experiment", "analyze", lake.key, "--data", str(lake.path), "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["experiment"] == lake.key
    assert {a["variant"] for a in doc["arms"]} == {"control", "short_copy"}
    assert "multiple_variants" in doc["flags"]
    assert {s["dimension"] for s in doc["segments"]} == {"platform", "locale", "buyer_type"}


def test_analyze_lake_uses_config_file(lake, tmp_path) -> None:
    cfg = tmp_path / "experiments.toml"
    cfg.write_text(
        f'[[experiment]]\nkey = "{lake.key}"\nvariants = ["short_copy", "control"]\n'
        'control = "control"\n'
    )
    result = runner.invoke(
        app,
        [
            "experiment",
            "analyze",
            lake.key,
            "--data",
            str(lake.path),
            "--config",
            str(cfg),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["control"] == "control"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--table", "missing.parquet", "--control", "0", "--metric", "m"], "existing"),
        (["--table", "{parquet}", "--metric", "m"], "--control"),
        (["--table", "{parquet}", "--control", "0"], "--metric"),
        (["--table", "{parquet}", "--control", "0", "--metric", "nope"], "column == 'nope'"),
        ([], "KEY"),
    ],
)
def test_misuse_is_one_json_error(files: dict, args: list[str], message: str) -> None:
    args = [a.format(parquet=files["parquet"]) for a in args]
    result = runner.invoke(app, ["experiment", "analyze", *args, "--json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert message in doc["error"]


def test_power_json() -> None:
    result = runner.invoke(
        app,
        [
            "experiment",
            "power",
            "--proportion",
            "0.1",
            "--mde-rel",
            "0.05",
            "--variance-reduction",
            "0.2",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    ref = plan(sd=math.sqrt(0.09), baseline=0.1, mde_rel=0.05, variance_reduction=0.2)
    assert doc["units_per_arm"] == ref.units_per_arm
    assert doc["power"] >= 0.8


def test_power_estimates_from_a_table(files: dict) -> None:
    result = runner.invoke(
        app,
        [
            "experiment",
            "power",
            "--table",
            str(files["parquet"]),
            "--metric",
            "revenue",
            "--covariate",
            "revenue_covariate",
            "--units-per-arm",
            "5000",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert 0 < doc["variance_reduction"] < 1
    assert doc["mde_rel"] > 0


def test_power_needs_a_spread() -> None:
    result = runner.invoke(app, ["experiment", "power", "--mde-rel", "0.1", "--json"])
    assert result.exit_code == 2
    assert "--sd" in json.loads(result.stdout)["error"]


def test_report_writes_self_contained_html(lake, tmp_path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(
        app,
        ["experiment", "report", lake.key, "--data", str(lake.path), "--out", str(out), "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["out"] == str(out)
    html = out.read_text()
    assert html.count("<svg") >= 5  # intervals + one cumulative chart per metric
    assert "<script" not in html
    assert "http" not in html


def test_command_module_imports_no_heavy_packages() -> None:
    import subprocess
    import sys

    code = (
        "import sys, marketlift.cli.experiment_cmd as m; "
        "print(','.join(x for x in ('scipy', 'duckdb', 'numpy', 'pyarrow') if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_report_from_a_table(files: dict, tmp_path) -> None:
    out = tmp_path / "t.html"
    result = runner.invoke(
        app,
        [
            "experiment",
            "report",
            "--table",
            str(files["csv"]),
            "--control",
            "0",
            "--metric",
            "revenue",
            "--segment",
            "variant",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert 'class="chart intervals"' in html
    assert "variant = 1" in html  # the segment table
    assert result.stdout == ""  # progress goes to stderr


def test_planned_units_tunes_the_sequential_interval(files: dict) -> None:
    def width(planned: str) -> float:
        args = [
            "experiment",
            "analyze",
            "--table",
            str(files["parquet"]),
            "--control",
            "0",
            "--metric",
            "revenue",
            "--planned-units",
            planned,
            "--json",
        ]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        m = json.loads(result.stdout)["metrics"][0]
        return m["sequential_upper"] - m["sequential_lower"]

    # 2,000 units are in the table: a sequence tuned for 2,000 is tighter there than one for 1M
    assert width("2000") < width("1000000")


def test_analyze_lake_reads_metrics_beside_the_config(lake, tmp_path) -> None:
    (tmp_path / "experiments.toml").write_text(
        f'[[experiment]]\nkey = "{lake.key}"\nvariants = ["control", "short_copy"]\n'
    )
    (tmp_path / "metrics.toml").write_text(
        '[[metric]]\nname = "orders_day1"\nkind = "mean"\nnumerator = {event = "purchase"}\n'
        'window = {value = 1, unit = "days"}\n'
    )
    args = ["experiment", "analyze", lake.key, "--data", str(lake.path), "--json"]
    result = runner.invoke(app, [*args, "--config", str(tmp_path / "experiments.toml")])
    assert result.exit_code == 0, result.output
    assert {m["metric"] for m in json.loads(result.stdout)["metrics"]} == {"orders_day1"}
    (tmp_path / "metrics.toml").write_text('[[metric]]\nname = "x"\nkind = "p99"\n')
    result = runner.invoke(app, [*args, "--config", str(tmp_path / "experiments.toml")])
    assert result.exit_code != 0
    assert "metric.x.kind == 'p99'" in result.output


def test_table_view_warns_of_a_tiny_arm_and_blank_values(tmp_path) -> None:
    import pyarrow as pa

    arm = ["control", "treatment"] * 300 + ["contorl"]
    revenue = [1.0, 2.0, None] * 200 + [4.0]
    pacsv.write_csv(pa.table({"arm": arm, "revenue": revenue}), tmp_path / "t.csv")
    args = ["experiment", "analyze", "--table", str(tmp_path / "t.csv"), "--variant", "arm",
            "--control", "control", "--metric", "revenue"]  # fmt: skip
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    text = " ".join(out.stdout.split())
    assert "WARNING ARM 'contorl' HAS 1 UNITS (0.17% of all" in text
    assert "WARNING 200 BLANK VALUES IN 'revenue' (read as 0;" in text
    dropped = runner.invoke(app, [*args, "--missing", "drop", "--json"])
    assert dropped.exit_code == 0, dropped.output
    doc = json.loads(dropped.stdout)
    assert doc["missing_values"] == {"revenue": 200}
    assert {"missing_dropped", "tiny_arm"} <= set(doc["flags"])
    refused = runner.invoke(app, [*args, "--missing", "error", "--json"])
    assert refused.exit_code != 0
    assert "revenue" in refused.output
    assert "200 blank values" in refused.output


def test_text_in_a_metric_column_names_the_column_the_value_and_the_row(tmp_path) -> None:
    path = tmp_path / "na.csv"
    rows = ["arm,revenue"] + [f"{a},{v}" for a, v in [("control", "1.5"), ("treatment", "2")] * 40]
    rows[7] = "control,n/a"
    rows[9] = "control,"  # blank: a missing value, not an error
    path.write_text("\n".join(rows) + "\n")
    table = ["--table", str(path), "--metric", "revenue", "--json"]
    analyze = runner.invoke(
        app, ["experiment", "analyze", *table, "--variant", "arm", "--control", "control"]
    )
    power = runner.invoke(app, ["experiment", "power", *table, "--mde-rel", "0.1"])
    for result in (analyze, power):
        assert result.exit_code == 2
        error = json.loads(result.stdout)["error"]
        assert "column 'revenue' == 'n/a'" in error
        assert "data row 7; 1 such value" in error
