import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.sim import SimConfig, simulate

runner = CliRunner()


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim")
    simulate(SimConfig(n_buyers=2000, n_days=2, seed=4), d)
    return d


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_train_uplift_data_ope_and_gate(sim_dir, tmp_path):
    out = tmp_path / "effects.parquet"
    pol = tmp_path / "policy.pkl"
    doc = _json(
        runner.invoke(
            app,
            [
                "train",
                "uplift",
                "--data",
                str(sim_dir),
                "--out",
                str(out),
                "--save-policy",
                str(pol),
                "--json",
            ],
        )
    )
    assert "discount_coupon_in_app" in doc["treatments"]
    assert pq.read_table(out).num_rows == doc["rows"]
    ope = _json(runner.invoke(app, ["ope", "--data", str(sim_dir), "--policy", str(pol), "--json"]))
    assert [e["estimator"] for e in ope["estimates"]] == ["ips", "snips", "dm", "dr", "switch_dr"]
    g = _json(
        runner.invoke(
            app, ["policy", "evaluate", "--data", str(sim_dir), "--policy", str(pol), "--json"]
        )
    )
    assert g["ci_low"] <= g["lift"] <= g["ci_high"]


def test_train_uplift_and_ope_on_a_user_table(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    arm = rng.choice(["control", "coupon"], n)
    age = rng.integers(18, 70, n)
    region = rng.choice(["north", "south"], n)
    p = 0.1 + 0.15 * (arm == "coupon") * (region == "south")
    bought = rng.binomial(1, p)
    table = pa.table(
        {
            "arm": arm,
            "age": age,
            "region": region,
            "bought": bought,
            "cost": np.where(arm == "coupon", 0.02, 0.0),
            "user": np.arange(n),
        }
    )
    path = tmp_path / "ab.parquet"
    pq.write_table(table, path)
    out = tmp_path / "out.csv"
    doc = _json(
        runner.invoke(
            app,
            [
                "train",
                "uplift",
                "--table",
                str(path),
                "--treatment",
                "arm",
                "--control",
                "control",
                "--outcome",
                "bought",
                "--cost",
                "cost",
                "--drop",
                "user",
                "--out",
                str(out),
                "--json",
            ],
        )
    )
    assert doc["features"] == ["age", "region"]
    assert doc["outcome"] == "binary"
    assert doc["treatments"]["coupon"]["mean_cost"] == pytest.approx(0.02)
    assert "net_coupon" in out.read_text().splitlines()[0]
    log = pa.table(
        {"action": arm, "reward": bought.astype(float), "propensity": np.full(n, 0.5), "age": age}
    )
    pq.write_table(log, tmp_path / "log.parquet")
    ope = _json(
        runner.invoke(
            app,
            [
                "ope",
                "--table",
                str(tmp_path / "log.parquet"),
                "--context",
                "age",
                "--policy",
                "uniform",
                "--json",
            ],
        )
    )
    assert ope["estimates"][0]["value"] == pytest.approx(bought.mean(), abs=0.02)
    bad = runner.invoke(
        app, ["ope", "--table", str(tmp_path / "log.parquet"), "--reward", "nope", "--json"]
    )
    assert bad.exit_code == 2
    assert "nope" in json.loads(bad.stdout)["error"]
