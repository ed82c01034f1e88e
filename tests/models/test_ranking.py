import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.models.candidates import FEATURE_NAMES, CandidateIndex, Query
from marketlift.models.embeddings import embed_texts
from marketlift.models.ranking_train import train_ranker_lake
from marketlift.models.sessions import catalog_from_lake, sessions_from_lake, sessions_from_table
from marketlift.models.tabular import ColumnError
from tests.models.clickstream import write_clickstream

runner = CliRunner()


def test_ranker_beats_baselines_on_held_out_sim_sessions(sim_lake):
    result, _ = train_ranker_lake(
        sim_lake, n_estimators=40, max_train_queries=1500, max_eval_queries=800
    )
    m = result.metrics
    for baseline in ("popularity", "session_knn"):
        assert m["ranker"].ndcg_at_10 > m[baseline].ndcg_at_10
        assert m["ranker"].mrr_at_20 > m[baseline].mrr_at_20
        assert m["ranker"].recall_at_20 >= m[baseline].recall_at_20
    assert result.beats_baselines()
    assert m["ranker"].n_queries == m["popularity"].n_queries == result.sizes["eval_queries"]


def test_cold_start_listings_come_from_text_similarity(sim_lake):
    sessions = sessions_from_lake(sim_lake)
    n_viewed = sessions.n_items
    catalog = catalog_from_lake(sim_lake, sessions.item_ids)
    assert catalog is not None
    cold_items = np.arange(n_viewed, sessions.n_items)
    assert len(cold_items) > 0, "the simulator leaves some listings unviewed"
    index = CandidateIndex.build(
        sessions, range(len(sessions)), catalog=catalog, embeddings=embed_texts(catalog.titles)
    )
    anchor = int(sessions.items[0][0])  # a viewed listing
    sims = index.embeddings[cold_items] @ index.embeddings[anchor]
    cold = int(cold_items[np.argmax(sims)])  # the unviewed listing closest in text
    cands, feats = index.features(Query(np.array([anchor])))
    row = np.flatnonzero(cands == cold)
    assert len(row) == 1
    col = {n: k for k, n in enumerate(FEATURE_NAMES)}
    assert feats[row[0], col["src_text"]] == 1
    assert feats[row[0], col["cold_start"]] == 1
    assert feats[row[0], col["covis_last"]] == 0


def _train_table(path, *extra):
    return runner.invoke(
        app,
        [
            "train",
            "ranker",
            "--data",
            str(path.parent / "data"),
            "--table",
            str(path),
            "--session-col",
            "visit",
            "--item-col",
            "sku",
            "--time-col",
            "clicked_at",
            "--rounds",
            "30",
            "--no-compile",
            "--json",
            *extra,
        ],
    )


def test_table_csv_and_parquet_through_the_cli(tmp_path):
    path = write_clickstream(tmp_path / "clicks.csv")
    res = _train_table(path)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["beats_baselines"] is True
    assert doc["metrics"]["ranker"]["ndcg_at_10"] > doc["metrics"]["session_knn"]["ndcg_at_10"]
    assert doc["sizes"]["items"] == 60
    assert doc["version"] == "v0001"
    parquet = tmp_path / "clicks.parquet"
    pq.write_table(pacsv.read_csv(path), parquet)  # a timestamp column this time
    res = _train_table(parquet)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["version"] == "v0002"


def test_bad_columns_name_the_column_and_the_expectation(tmp_path):
    path = write_clickstream(tmp_path / "clicks.csv", n_sessions=50)
    res = runner.invoke(
        app,
        [
            "train",
            "ranker",
            "--data",
            str(tmp_path / "d"),
            "--table",
            str(path),
            "--session-col",
            "session",
            "--json",
        ],
    )
    assert res.exit_code == 2
    error = json.loads(res.stdout)["error"]
    assert "'session'" in error
    assert "visit" in error
    table = pa.table({"s": ["a", "a"], "i": ["x", "y"], "t": [[1], [2]]})
    with pytest.raises(ColumnError, match="'t' has type list<item: int64>, expected a timestamp"):
        sessions_from_table(table, session_col="s", item_col="i", time_col="t")
