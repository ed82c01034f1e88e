import json
import threading

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.features.store import MemoryStore
from marketlift.models.candidates import FEATURE_NAMES, Query
from marketlift.models.ranker import store_matrix
from marketlift.models.ranking_train import STORE_FEATURES
from marketlift.models.registry import Registry, RegistryError
from marketlift.models.serving import IntentService, RankerService

runner = CliRunner()


def _cli(*args):
    res = runner.invoke(app, [*args, "--json"])
    return res.exit_code, json.loads(res.stdout) if res.stdout.strip() else None


@pytest.fixture
def table_file(tmp_path):
    rng = np.random.default_rng(3)
    n = 3000
    x = rng.normal(size=n)
    tier = rng.choice(["gold", "silver", "bronze"], n)
    y = rng.random(n) < 1 / (1 + np.exp(-(-2 + 1.3 * x + 0.8 * (tier == "gold"))))
    path = tmp_path / "buyers.parquet"
    pq.write_table(
        pa.table(
            {
                "buyer": [f"b{i}" for i in range(n)],
                "x": x,
                "tier": tier,
                "vip": rng.random(n) < 0.2,
                "bought": y,
            }
        ),
        path,
    )
    return path


def test_train_list_show_promote_rollback(tmp_path, table_file):
    data = str(tmp_path / "data")
    base = [
        "train",
        "intent",
        "--data",
        data,
        "--table",
        str(table_file),
        "--label",
        "bought",
        "--drop",
        "buyer",
        "--rounds",
        "20",
    ]
    code, first = _cli(*base)
    assert code == 0
    assert first["version"] == "v0001"
    assert first["promoted"] is True
    assert set(first["metrics"]) >= {"roc_auc", "pr_auc", "log_loss", "brier", "ece"}
    assert first["sizes"]["train"] + first["sizes"]["holdout"] == 3000
    code, second = _cli(*base, "--no-promote", "--no-compile")
    assert code == 0
    assert second["version"] == "v0002"
    assert second["promoted"] is False

    code, listing = _cli("models", "list", "--data", data)
    assert listing == {
        "models": [{"name": "intent", "versions": ["v0001", "v0002"], "promoted": "v0001"}]
    }
    code, shown = _cli("models", "show", "intent", "--data", data)
    assert shown["version"] == "v0001"
    assert shown["promoted"] is True
    for key in (
        "features",
        "schema_hash",
        "data_range",
        "metrics",
        "created_at",
        "code_version",
        "compiled",
    ):
        assert key in shown, key
    assert shown["features"] == ["x", "tier", "vip"]
    assert shown["compiled"] == "lleaves"

    assert _cli("models", "promote", "intent", "v0002", "--data", data)[1] == {
        "name": "intent",
        "promoted": "v0002",
    }
    assert IntentService.load(data).version.version == "v0002"
    assert _cli("models", "rollback", "intent", "--data", data)[1]["promoted"] == "v0001"
    assert Registry(data).promoted("intent") == "v0001"
    code, err = _cli("models", "rollback", "intent", "--data", data)
    assert code == 2
    assert "no earlier promoted version" in err["error"]
    code, err = _cli("models", "show", "ranker", "--data", data)
    assert code == 2
    assert "'ranker' is not registered" in err["error"]
    code, err = _cli("models", "promote", "intent", "v0009", "--data", data)
    assert code == 2
    assert "v0009" in err["error"]
    assert "v0001, v0002" in err["error"]


def test_promoted_compiled_intent_matches_the_table_model(tmp_path, table_file):
    from marketlift.models.tabular import encode, read_table
    from marketlift.models.training import register_intent, train_intent

    data = tmp_path / "data"
    result = train_intent(read_table(table_file), label="bought", drop=["buyer"], n_estimators=30)
    Registry(data).promote("intent", register_intent(data, result).version)
    service = IntentService.load(data)
    table = read_table(table_file).slice(0, 200)
    expected = result.classifier.predict_proba(encode(table, result.schema))[:, 1]
    rows = table.select(["x", "tier", "vip"]).to_pylist()
    assert np.max(np.abs(service.score(rows) - expected)) < 1e-6
    assert type(service.predictor.raw).__name__ == "CompiledRaw"


def test_bad_label_through_the_cli_names_it(tmp_path, table_file):
    code, err = _cli(
        "train", "intent", "--data", str(tmp_path), "--table", str(table_file), "--label", "tier"
    )
    assert code == 2
    assert "'tier'" in err["error"]
    assert "'gold'" in err["error"]
    code, err = _cli(
        "train", "intent", "--data", str(tmp_path), "--table", str(table_file), "--label", "bought"
    )
    assert code == 2
    assert "'buyer' has 3000 distinct values" in err["error"]


def test_concurrent_registrations_get_distinct_versions(tmp_path):
    reg = Registry(tmp_path)
    versions: list[str] = []

    def work():
        versions.extend(reg.register("m", {"model.txt": b"x"}, {}).version for _ in range(5))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(versions) == [f"v{i:04d}" for i in range(1, 21)]
    assert not [p for p in (tmp_path / "models" / "m").iterdir() if p.name.startswith(".")]
    with pytest.raises(RegistryError):
        reg.rollback("m")


def test_lake_ranker_through_the_cli_and_serving(lake_copy):
    code, doc = _cli(
        "train",
        "ranker",
        "--data",
        str(lake_copy),
        "--rounds",
        "30",
        "--max-train-queries",
        "1000",
        "--max-eval-queries",
        "400",
    )
    assert code == 0
    assert doc["beats_baselines"] is True
    assert (doc["promoted"], doc["promotion"]) == (True, "passed the gate")
    assert doc["store_features"] == list(STORE_FEATURES)
    assert doc["features"] == [*FEATURE_NAMES, *STORE_FEATURES]
    service = RankerService.load(lake_copy)
    meta = service.version.meta
    assert meta["store_features"] == list(STORE_FEATURES)
    assert meta["features"] == [*FEATURE_NAMES, *meta["store_features"]]
    assert type(service.predictor.raw).__name__ == "CompiledRaw"
    assert service.predictor.n_features == len(FEATURE_NAMES) + len(STORE_FEATURES) == 38
    # what the decision API does: index features, then the online store's listing rows
    codes = np.array([service.codes["l0000001"], service.codes["l0000002"]])
    cands, x_index = service.index.features(Query(codes, locale="de-DE"))
    store = MemoryStore()
    store.write("listing", {service.item_ids[int(cands[0])]: {"l_views": 7, "l_price": 12.5}})
    rows = store.get_many([("listing", service.item_ids[int(c)]) for c in cands])
    X = np.hstack([x_index, store_matrix(rows, meta["store_features"])])  # noqa: N806
    scores = service.score(X)
    assert scores.shape == (len(cands),)
    assert np.isfinite(scores).all()
    assert len(service.rank([], k=5)) == 5  # nothing known: popular listings


def test_a_model_that_does_not_beat_its_baseline_is_not_promoted_without_force(tmp_path):
    rng = np.random.default_rng(8)
    n = 2000
    noise = tmp_path / "noise.parquet"  # the label is independent of the features
    pq.write_table(pa.table({"x": rng.normal(size=n), "bought": rng.random(n) < 0.2}), noise)
    data = str(tmp_path / "data")
    base = ["train", "intent", "--data", data, "--table", str(noise), "--label", "bought",
            "--rounds", "200", "--no-compile"]  # fmt: skip
    code, held = _cli(*base)
    assert code == 0
    assert held["beats_baselines"] is False
    assert held["promoted"] is False
    assert held["promotion"] == "held: does not beat the baselines"
    assert Registry(data).promoted("intent") is None
    code, forced = _cli(*base, "--force")
    assert code == 0
    assert forced["promoted"] is True
    assert forced["promotion"] == "forced"
    assert Registry(data).promoted("intent") == forced["version"]


def test_train_ranker_holds_back_a_ranker_that_loses_to_popularity(tmp_path):
    rng = np.random.default_rng(1)  # sessions of random items: nothing to learn but popularity
    n_sessions, per = 600, 4
    sid = np.repeat(np.arange(n_sessions), per)
    clicks = tmp_path / "clicks.parquet"
    pq.write_table(
        pa.table(
            {
                "session_id": [f"s{i}" for i in sid],
                "item_id": [f"i{i}" for i in rng.integers(0, 40, size=sid.size)],
                "timestamp": pa.array(np.arange(sid.size)).cast(pa.timestamp("s")),
            }
        ),
        clicks,
    )
    data = str(tmp_path / "data")
    base = ["train", "ranker", "--data", data, "--table", str(clicks), "--rounds", "20",
            "--no-compile"]  # fmt: skip
    code, held = _cli(*base)
    assert code == 0
    assert held["beats_baselines"] is False
    assert held["metrics"]["ranker"]["mrr_at_20"] < held["metrics"]["popularity"]["mrr_at_20"]
    assert (held["promoted"], held["promotion"]) == (False, "held: does not beat the baselines")
    assert Registry(data).promoted("ranker") is None
    code, forced = _cli(*base, "--force")
    assert (code, forced["promoted"], forced["promotion"]) == (0, True, "forced")
    assert Registry(data).promoted("ranker") == forced["version"] == "v0002"
