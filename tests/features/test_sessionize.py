"""Sessions are numbered from gap-wide time buckets (no sort of the events). Checked against
the textbook formulation, a ``LAG`` over each buyer's events in time order, on enough rows
for parallel execution, with ties at the same microsecond, gaps on both sides of (and equal
to) the session gap, and timestamps before 1970."""

from __future__ import annotations

import duckdb
import pytest

from marketlift.features.config import FeatureConfig
from marketlift.features.dialect import DUCKDB
from marketlift.features.queries import buckets_sql, event_sessions_sql, sessions_sql, tiles_sql

# Ties at a microsecond are ordered by event id, the same in both windows.
_REFERENCE = """
SELECT event_id, buyer, CAST(SUM(new_session) OVER (PARTITION BY buyer ORDER BY ts_us, event_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS session_no
FROM (
    SELECT *, CASE WHEN ts_us - LAG(ts_us) OVER (
            PARTITION BY buyer ORDER BY ts_us, event_id) <= {gap}
        THEN 0 ELSE 1 END AS new_session
    FROM fx_events
) t"""


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET threads = 4")
    # 400k events of 3,000 buyers on a 10-minute grid (ties, gaps of exactly 30 minutes),
    # some before the epoch.
    con.execute("""
        CREATE TABLE fx_events AS
        SELECT 'e' || CAST(i AS VARCHAR) AS event_id,
            'b' || CAST(hash(i * 7919) % 3000 AS VARCHAR) AS buyer,
            (CAST(hash(i) % 2000 AS BIGINT) - 100) * 600000000 AS ts_us,
            CASE i % 4 WHEN 0 THEN 'purchase' WHEN 1 THEN 'listing_view' ELSE 'search' END
                AS type,
            CASE WHEN i % 4 = 0 THEN CAST(i % 97 AS DOUBLE) END AS revenue,
            CAST(CASE i % 4 WHEN 0 THEN 5 WHEN 1 THEN 1 ELSE 0 END AS BIGINT) AS stage
        FROM range(400000) r(i)
    """)
    config = FeatureConfig()
    con.execute(f"CREATE TABLE fx_tiles AS {tiles_sql(DUCKDB, config)}")
    con.execute(f"CREATE TABLE fx_buckets AS {buckets_sql(config)}")
    con.execute(f"CREATE TABLE fx_sessions AS {sessions_sql()}")
    return con


def test_every_event_gets_the_session_of_the_ordered_definition(
    con: duckdb.DuckDBPyConnection,
) -> None:
    config = FeatureConfig()
    fast = con.sql(event_sessions_sql(DUCKDB, config)).select("event_id, buyer, session_no")
    reference = con.sql(_REFERENCE.format(gap=config.session_gap_us))
    left = fast.order("event_id").fetchall()
    right = reference.order("event_id").fetchall()
    assert len(left) == 400_000
    assert left == right
    n_sessions = con.sql("SELECT COUNT(*) FROM fx_sessions").fetchall()[0][0]
    assert 3_000 < n_sessions < 400_000


def test_session_rows_sum_their_events(con: duckdb.DuckDBPyConnection) -> None:
    config = FeatureConfig()
    expected = con.sql(f"""
        SELECT r.buyer, r.session_no, MIN(e.ts_us), MAX(e.ts_us), COUNT(*),
            SUM(CASE WHEN e.type = 'listing_view' THEN 1 ELSE 0 END),
            SUM(CASE WHEN e.type = 'purchase' THEN 1 ELSE 0 END),
            ROUND(COALESCE(SUM(CASE WHEN e.type = 'purchase' THEN e.revenue END), 0.0), 6),
            MAX(e.stage)
        FROM ({_REFERENCE.format(gap=config.session_gap_us)}) r
        JOIN fx_events e USING (event_id)
        GROUP BY r.buyer, r.session_no ORDER BY 1, 2
    """).fetchall()
    got = con.sql("""
        SELECT buyer, session_no, start_us, end_us, n_events, n_views, n_purchases,
            ROUND(revenue, 6), max_stage
        FROM fx_sessions ORDER BY 1, 2
    """).fetchall()
    assert got == expected
