"""DuckDB sessionizes with one sort and streaming windows; Spark with windows partitioned by
buyer. Both formulations run on DuckDB here, over enough rows for a parallel sort, and must
number every event's session (and order a buyer's events) the same way."""

from __future__ import annotations

import duckdb

from marketlift.features.config import FeatureConfig
from marketlift.features.dialect import DUCKDB, SPARK
from marketlift.features.queries import sessionized_sql


def test_streaming_sessionization_equals_partitioned_windows() -> None:
    con = duckdb.connect()
    con.execute("SET threads = 4")
    # 400k events of 3,000 buyers; coarse timestamps give ties at the same microsecond and
    # gaps on both sides of the 30-minute session gap.
    con.execute("""
        CREATE TABLE ev AS
        SELECT 'e' || CAST(i AS VARCHAR) AS event_id,
            'b' || CAST(hash(i * 7919) % 3000 AS VARCHAR) AS buyer,
            CAST(hash(i) % 2000 AS BIGINT) * 600000000 AS ts_us
        FROM range(400000) r(i)
    """)
    config = FeatureConfig()
    keys = "buyer, event_id, seq_rank, session_no"
    ranked = (
        "SELECT buyer, event_id, session_no, "
        "ROW_NUMBER() OVER (PARTITION BY buyer ORDER BY seq) AS seq_rank FROM ({q}) x"
    )
    fast = con.sql(ranked.format(q=sessionized_sql(DUCKDB, config, "ev")))
    reference = con.sql(ranked.format(q=sessionized_sql(SPARK, config, "ev")))
    left = fast.order(keys).fetchall()
    right = reference.order(keys).fetchall()
    assert len(left) == 400_000
    assert left == right
    count = "SELECT COUNT(DISTINCT (buyer, session_no)) AS n FROM ({q}) x"
    sessions = con.sql(count.format(q=sessionized_sql(DUCKDB, config, "ev"))).fetchall()
    assert 3_000 < sessions[0][0] < 400_000
