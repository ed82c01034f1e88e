import collections

import duckdb
import pyarrow as pa
import pytest

from marketlift.lake import connect
from marketlift.models.intent_data import intent_rows
from marketlift.models.metrics import classification_metrics
from marketlift.models.training import train_intent_lake
from marketlift.sim import read_truth


@pytest.fixture(scope="module")
def events(sim_lake):
    con = connect(sim_lake)
    try:
        return con.sql(
            "SELECT type, ts, session_id, coalesce(buyer_id, anonymous_id) AS who FROM events"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("at", ["cart", "decision"])
def test_rows_are_point_in_time(sim_lake, events, at):
    rows = intent_rows(sim_lake, at=at).to_pylist()
    assert rows
    by_who = collections.defaultdict(list)
    by_session = collections.defaultdict(list)
    for typ, ts, session, who in events:
        by_who[who].append((ts, typ, session))
        by_session[session].append((ts, typ))
    who_of = {session: who for _, _, session, who in events}
    for row in rows[:: max(1, len(rows) // 300)]:
        cut, session = row["ts"], row["session_id"]
        past = [e for e in by_who[who_of[session]] if e[0] < cut and e[2] != session]
        assert row["prev_views"] == sum(t == "listing_view" for _, t, _ in past)
        assert row["prev_purchases"] == sum(t == "purchase" for _, t, _ in past)
        assert row["prev_sessions"] == len({s for _, _, s in past})
        inside = by_session[session]
        assert row["session_views"] == sum(t == "listing_view" and ts <= cut for ts, t in inside)
        # nothing at or after the cut-off of the cart stage leaks in
        assert not any(t in ("add_to_cart", "purchase") and ts <= cut for ts, t in inside)
        assert row["purchased"] == any(t == "purchase" and ts > cut for ts, t in inside)


def test_lake_model_is_close_to_the_truth(sim_lake):
    result, rows = train_intent_lake(sim_lake, rows="events", at="cart", n_estimators=120)
    truth = read_truth(sim_lake, "sim_truth_sessions")
    con = duckdb.connect()
    held = rows.take(result.holdout_rows).select(["session_id"])
    con.register("h", held.append_column("k", pa.array(range(held.num_rows))))
    con.register("t", truth)
    p_true = con.sql(
        "SELECT t.p_purchase FROM h JOIN t USING (session_id) ORDER BY h.k"
    ).fetchnumpy()["p_purchase"]
    assert len(p_true) == held.num_rows
    y = rows.take(result.holdout_rows)["purchased"].to_numpy()
    truth_auc = classification_metrics(y, p_true).roc_auc
    # The benchmark asks for 0.02 on a large lake; this small lake has ~30 held-out buyers.
    assert result.metrics.roc_auc > truth_auc - 0.1
    assert result.metrics.ece < 0.05


def test_features_training_set_path(sim_lake):
    """By default one row per in-session decision: what the decision API scores."""
    result, rows = train_intent_lake(sim_lake, n_estimators=30)
    assert "label" in rows.column_names
    assert result.sizes["rows"] == rows.num_rows
    assert "buyer" not in result.schema.names
    assert "cutoff_ts" not in result.schema.names
    assert "decision_id" not in result.schema.names
    assert all(n.startswith(("b_", "s_")) for n in result.schema.names)
    decisions = read_truth(sim_lake, "sim_truth_decisions")
    moment = dict(zip(decisions["decision_id"].to_pylist(), decisions["moment"].to_pylist(),
                      strict=True))  # fmt: skip
    ids = rows["decision_id"].to_pylist()
    assert len(set(ids)) == len(ids)
    assert {moment[d] for d in ids} == {"browsing", "returning_visit"}
    in_session = sum(m in ("browsing", "returning_visit") for m in moment.values())
    assert 0.95 * in_session <= len(ids) <= in_session  # minus sessions bought before it
    older, _ = train_intent_lake(sim_lake, at="events", n_estimators=30)
    assert older.sizes["rows"] != result.sizes["rows"]  # the cut-off after three events
