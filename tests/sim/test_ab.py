"""A/B mode: a balanced split, one exposure per buyer, and a known true effect."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from marketlift.lake import connect
from marketlift.sim import SimResult, register_views


def test_exposures_match_assignment(ab_run: tuple[Path, SimResult]) -> None:
    data, _ = ab_run
    con = connect(data)
    register_views(con, data)
    rows = con.sql("""
        SELECT count(*) AS exposures,
               count(DISTINCT anonymous_id[1:8]) AS buyers,
               count(*) FILTER (WHERE e.variant = b.variant) AS agree,
               count(*) FILTER (WHERE e.experiment_key = 'sim_policy_ab') AS keyed
        FROM events e JOIN sim_buyers b ON b.buyer_key = 'b' || e.anonymous_id[2:8]
        WHERE e.type = 'exposure'
    """).fetchall()[0]  # fmt: skip
    exposures, buyers, agree, keyed = rows
    assert exposures == buyers == agree == keyed > 1000
    per_arm = dict(con.sql("SELECT variant, count(*) FROM sim_buyers GROUP BY 1").fetchall())
    assert per_arm == {"random": 1500, "oracle": 1500}
    sql = "SELECT variant, count(*) FROM events WHERE type = 'exposure' GROUP BY 1"
    counts = [c for _, c in con.sql(sql).fetchall()]
    assert stats.chisquare(counts).pvalue > 0.001
    policies = dict(con.sql("""
        SELECT t.variant, any_value(e.policy) FROM (
          SELECT decision_id, json_extract_string(payload, '$.policy') AS policy
          FROM events WHERE type = 'decision') e
        JOIN sim_truth_decisions t USING (decision_id) GROUP BY 1
    """).fetchall())  # fmt: skip
    assert policies == {"random": "random", "oracle": "oracle"}


def test_true_effect_is_known_and_the_experiment_sees_it(ab_run: tuple[Path, SimResult]) -> None:
    data, result = ab_run
    assert result.experiment is not None
    true = result.experiment.true_effect["oracle"]
    assert result.experiment.true_effect["random"] == 0.0
    assert true > 0.1
    con = connect(data)
    register_views(con, data)
    per_buyer = con.sql("""
        SELECT b.variant, coalesce(sum(t.revenue_usd_cents), 0) / 100.0 AS revenue
        FROM sim_buyers b LEFT JOIN sim_truth_decisions t USING (buyer_key)
        GROUP BY b.buyer_key, b.variant
    """).fetchall()  # fmt: skip
    arms = {v: np.array([r for w, r in per_buyer if w == v]) for v in ("random", "oracle")}
    diff = arms["oracle"].mean() - arms["random"].mean()
    se = np.sqrt(sum(a.var(ddof=1) / len(a) for a in arms.values()))
    assert abs(diff - true) < 4 * se
    observed = result.values["oracle"].revenue_per_buyer - result.values["random"].revenue_per_buyer
    assert observed == pytest.approx(diff)
