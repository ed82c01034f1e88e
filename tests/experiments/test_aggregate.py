import duckdb
import numpy as np
import pyarrow as pa
import pytest

from marketlift.experiments.aggregate import aggregate, marginalize
from marketlift.experiments.stats import Moments


@pytest.fixture
def table() -> pa.Table:
    rng = np.random.default_rng(4)
    n = 5000
    return pa.table(
        {
            "variant": rng.choice(["control", "treatment"], n),
            "platform": rng.choice(["web", "ios", "android"], n),
            "locale": rng.choice(["de-DE", "en-US", None], n),
            "revenue": rng.gamma(2.0, 10.0, n),
            "orders": rng.poisson(1.0, n).astype("int64"),
        }
    )


def test_sql_moments_equal_in_memory_moments(table: pa.Table) -> None:
    con = duckdb.connect()
    con.register("t", table)
    pairs = [("revenue", "revenue"), ("orders", "revenue"), ("orders", "orders")]
    groups = aggregate(
        con,
        "t",
        variant="variant",
        columns=["revenue", "orders"],
        pairs=pairs,
        dimensions=["platform", "locale"],
    )
    arms, segments = marginalize(groups, ["platform", "locale"])
    df = table.to_pandas()
    for name, arm in arms.items():
        sub = df[df.variant == name]
        ref = Moments.from_columns(
            {"revenue": sub.revenue.tolist(), "orders": sub.orders.astype(float).tolist()}, pairs
        )
        assert arm.n == ref.n
        assert arm.sums == pytest.approx(ref.sums, rel=1e-12)
        assert arm.cross == pytest.approx(ref.cross, rel=1e-12)
    ios = segments[("platform", "ios")]["treatment"]
    assert ios.n == int(((df.platform == "ios") & (df.variant == "treatment")).sum())
    missing = segments[("locale", "(missing)")]["control"]
    assert missing.n == int((df.locale.isna() & (df.variant == "control")).sum())
    # every dimension partitions the arm
    for dim in ("platform", "locale"):
        parts = [s["control"] for (d, _), s in segments.items() if d == dim]
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        assert total.n == arms["control"].n
        assert total.sums == pytest.approx(arms["control"].sums, rel=1e-12)
