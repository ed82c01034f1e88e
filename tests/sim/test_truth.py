"""Truth tables: readable next to the lake, consistent with the logged decisions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from marketlift.lake import connect
from marketlift.sim import ACTIONS, TRUTH_TABLES, SimResult, read_truth, register_views


def test_views_join_truth_to_logged_decisions(logging_run: tuple[Path, SimResult]) -> None:
    data, result = logging_run
    con = connect(data)
    assert register_views(con, data) == list(TRUTH_TABLES)
    row = con.sql("""
        SELECT count(*) AS n,
               count(t.decision_id) AS matched,
               count(*) FILTER (WHERE e.propensity = t.propensity) AS same_propensity,
               count(*) FILTER (WHERE coalesce(e.action || coalesce('_' || e.channel, ''), '')
                                      = t.action) AS same_action
        FROM events e LEFT JOIN sim_truth_decisions t USING (decision_id)
        WHERE e.type = 'decision'
    """).fetchall()[0]  # fmt: skip
    assert row == (result.decisions,) * 4
    sessions = con.sql("SELECT count(*) FROM sim_truth_sessions").fetchall()[0][0]
    runs = con.sql("SELECT run, events FROM sim_runs").fetchall()
    assert runs == [(result.run, result.events)]
    assert sessions > 0


def test_probabilities_exist_exactly_where_actions_are_available(
    logging_run: tuple[Path, SimResult],
) -> None:
    data, _ = logging_run
    table = read_truth(data, "sim_truth_decisions")
    moment = np.array(table.column("moment").to_pylist())
    in_session = np.isin(moment, ["browsing", "returning_visit"])
    for a in ACTIONS:
        present = ~np.isnan(table.column(f"p_{a.name}").to_numpy(zero_copy_only=False))
        if a.name == "none":
            assert present.all()
        elif a.channel in ("onsite", "in_app"):
            assert (present == in_session).all(), a.name
        else:
            assert not present[in_session].any(), a.name
            assert present[~in_session].any(), a.name


def test_logged_propensities_give_unbiased_off_policy_estimates(
    logging_run: tuple[Path, SimResult],
) -> None:
    """IPS with the logged propensities recovers the true value of never-nudge."""
    data, _ = logging_run
    t = read_truth(data, "sim_truth_decisions").to_pydict()
    took_none = np.array(t["action"]) == "none"
    weights = took_none / np.array(t["propensity"])
    revenue = np.array(t["revenue_usd_cents"], dtype=float)
    ips = weights * revenue
    truth = np.array(t["value_none"])
    se = ips.std() / np.sqrt(len(ips))
    assert abs(ips.mean() - truth.mean()) < 4 * se
    assert weights.mean() == pytest.approx(1.0, rel=0.05)


def test_world_tables(logging_run: tuple[Path, SimResult]) -> None:
    data, result = logging_run
    buyers = read_truth(data, "sim_buyers", run=result.run)
    listings = read_truth(data, "sim_listings", run=result.run)
    assert buyers.num_rows == result.buyers
    assert listings.num_rows == result.listings
    for lang in ("en", "de", "fr", "es", "it", "ja"):
        titles = listings.column(f"title_{lang}").to_pylist()
        descriptions = listings.column(f"description_{lang}").to_pylist()
        assert all(titles)
        assert all(descriptions)
        assert len(set(titles)) > 100
    assert listings.column("title_de")[0].as_py() != listings.column("title_fr")[0].as_py()
