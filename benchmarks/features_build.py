"""Benchmark of the offline feature build on DuckDB against an idiomatic pandas implementation
of the same features (sessions, buyer, in-session and listing tables), run side by side.

Prints ONE JSON line: events, DuckDB seconds, CPU seconds and peak RSS, the same for pandas,
the ratio of wall times, whether both produced the same values, and the machine's load.

    .venv/bin/python benchmarks/features_build.py [--data DIR] [--buyers N] [--days D]
        [--repeat N]

Each side runs in its own process (clean peak RSS); with ``--repeat N`` the sides alternate N
times and the figures are medians (the per-run seconds are printed too). ``--data`` reuses a
simulated lake; without it one is simulated (default 220,000 buyers x 30 days, about 10
million events).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GAP_US = 1_800_000_000
DAY_US = 86_400_000_000


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _catalog(data: Path) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    from marketlift.sim import read_truth

    listings = read_truth(data, "sim_listings")
    return pa.table(
        {
            "listing_id": listings.column("listing_id"),
            "category": listings.column("category"),
            "price": pc.divide(pc.cast(listings.column("price_usd_cents"), pa.float64()), 100.0),
            "review_count": listings.column("review_count"),
            "rating": listings.column("rating"),
        }
    )


def run_duckdb(data: Path, out: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from marketlift.features import build_features

    # Both sides time the same work: reading the catalog, the features, the Parquet files.
    started = time.perf_counter()
    result = build_features(data, catalog=_catalog(data), write=True)
    seconds = time.perf_counter() - started
    for name, table in result.tables.items():
        pq.write_table(table, out / f"duckdb_{name}.parquet")
    return {"seconds": seconds, "rows": {k: t.num_rows for k, t in result.tables.items()}}


def run_pandas(data: Path, out: Path) -> dict[str, Any]:  # noqa: PLR0915 - one pipeline
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from marketlift.lake import LakeLayout

    started = time.perf_counter()
    files = [str(p) for p in LakeLayout(data).live_files("events")]
    cols = ["event_id", "type", "buyer_id", "anonymous_id", "ts", "platform", "locale",
            "listing_id", "quantity", "price", "revenue", "channel"]  # fmt: skip
    df = pq.read_table(files, columns=cols, partitioning=None).to_pandas()
    purchases_json = pq.read_table(
        files, columns=["type", "ts", "payload"], filters=[("type", "=", "purchase")],
        partitioning=None,
    ).to_pandas()  # fmt: skip
    catalog = _catalog(data).to_pandas()

    df["buyer"] = df["buyer_id"].fillna(df["anonymous_id"])
    df = df[df["buyer"].notna()].copy()
    df["ts_us"] = df["ts"].dt.as_unit("us").astype("int64")
    df["price"] = df["price"].astype("float64")
    df["revenue"] = df["revenue"].astype("float64")
    df["qty"] = df["quantity"].fillna(1).astype("int64")
    stages = {"listing_view": 1, "favorite": 2, "add_to_cart": 3, "remove_from_cart": 3,
              "checkout_start": 4, "purchase": 5}  # fmt: skip
    df["stage"] = df["type"].map(stages).fillna(0).astype("int64")
    df = df.sort_values(["buyer", "ts_us", "event_id"], kind="stable")
    gap = df.groupby("buyer")["ts_us"].diff()
    df["session_no"] = (gap.isna() | (gap > GAP_US)).groupby(df["buyer"]).cumsum()
    cutoff = int(df["ts_us"].max()) + 1
    is_type = {t: df["type"].eq(t) for t in ("purchase", "listing_view", "favorite",
                                              "engagement_shown", "engagement_clicked",
                                              "add_to_cart", "remove_from_cart")}  # fmt: skip
    df["rev"] = df["revenue"].fillna(0.0).where(is_type["purchase"], 0.0)

    # Sessions.
    sessions = (
        df.assign(v=is_type["listing_view"], p=is_type["purchase"])
        .groupby(["buyer", "session_no"], sort=True)
        .agg(start_us=("ts_us", "min"), end_us=("ts_us", "max"), n_events=("ts_us", "size"),
             n_views=("v", "sum"), n_purchases=("p", "sum"), revenue=("rev", "sum"),
             max_stage=("stage", "max"))
        .reset_index()
    )  # fmt: skip

    # Buyer features.
    g = df.assign(**{f"is_{k}": v for k, v in is_type.items()}).groupby("buyer", sort=True)
    b = g.agg(b_n_events=("ts_us", "size"), b_n_sessions=("session_no", "max"),
              b_n_purchases=("is_purchase", "sum"), b_revenue=("rev", "sum"),
              b_n_views=("is_listing_view", "sum"), b_n_favorites=("is_favorite", "sum"),
              b_n_shown=("is_engagement_shown", "sum"),
              b_n_clicked=("is_engagement_clicked", "sum"), last_us=("ts_us", "max"))  # fmt: skip
    last = g[["locale", "platform"]].last(skipna=False)
    b["b_locale"], b["b_platform"] = last["locale"], last["platform"]
    last_purchase = df[is_type["purchase"]].groupby("buyer")["ts_us"].max()
    b["last_purchase_us"] = last_purchase
    b["b_days_since_last_event"] = (cutoff - b["last_us"]) / DAY_US
    b["b_days_since_last_purchase"] = (cutoff - b["last_purchase_us"]) / DAY_US
    carts = df[is_type["add_to_cart"] | is_type["remove_from_cart"]].copy()
    carts["lp"] = carts["buyer"].map(last_purchase).fillna(-1)
    carts = carts[carts["ts_us"] > carts["lp"]]
    adds = carts["type"].eq("add_to_cart")
    carts["signed"] = carts["qty"].where(adds, -carts["qty"])
    carts["value"] = (carts["qty"] * carts["price"]).where(adds, 0.0)
    carts["add_us"] = carts["ts_us"].where(adds)
    cart = carts.groupby("buyer").agg(
        b_cart_items=("signed", "sum"), b_cart_value=("value", "sum"), first_add=("add_us", "min")
    )
    b = b.join(cart)
    b["b_cart_items"] = b["b_cart_items"].fillna(0).astype("int64")
    b["b_cart_value"] = b["b_cart_value"].fillna(0.0)
    b["b_cart_age_hours"] = (cutoff - b["first_add"]) / 3_600_000_000
    b["b_click_rate"] = (b["b_n_clicked"] + 1.0) / (b["b_n_shown"] + 2.0)
    shown = df[is_type["engagement_shown"] & (df["ts_us"] >= cutoff - 7 * DAY_US)]
    weight = np.where(shown["channel"].isin(["push", "email"]), 1.0, 0.25)
    decayed = weight * np.power(0.75, (cutoff - shown["ts_us"]) / DAY_US)
    b["b_fatigue"] = pd.Series(decayed, index=shown.index).groupby(shown["buyer"]).sum()
    b["b_fatigue"] = b["b_fatigue"].fillna(0.0)
    views = df[is_type["listing_view"]].merge(catalog[["listing_id", "category"]],
                                              on="listing_id", how="inner")  # fmt: skip
    views = views[views["category"].notna()]
    per_cat = views.groupby(["buyer", "category"]).size().rename("n").reset_index()
    per_cat["total"] = per_cat.groupby("buyer")["n"].transform("sum")
    top = per_cat.sort_values(["buyer", "n", "category"], ascending=[True, False, True])
    top = top.drop_duplicates("buyer").set_index("buyer")
    b["b_top_category"] = top["category"]
    b["b_top_category_share"] = top["n"] / top["total"]

    # In-session features (the live session at the cut-off).
    cur = df.merge(b[["b_n_sessions", "last_us"]], left_on="buyer", right_index=True)
    cur = cur[(cur["session_no"] == cur["b_n_sessions"]) & (cutoff - cur["last_us"] <= GAP_US)]
    cur = cur.assign(view_listing=cur["listing_id"].where(is_type["listing_view"]),
                     view_price=cur["price"].where(is_type["listing_view"]),
                     cart=cur["qty"].where(is_type["add_to_cart"], 0)
                     - cur["qty"].where(is_type["remove_from_cart"], 0),
                     vstage=cur["stage"].where(cur["stage"] > 0))  # fmt: skip
    sg = cur.groupby("buyer")
    s = sg.agg(s_events=("ts_us", "size"), start_us=("ts_us", "min"),
               s_views=("view_listing", "count"), s_distinct_listings=("view_listing", "nunique"),
               s_price_min=("view_price", "min"), s_price_max=("view_price", "max"),
               s_cart_items=("cart", "sum"), s_max_stage=("stage", "max"),
               s_last_stage=("vstage", "last"))  # fmt: skip
    s = s.reindex(b.index)
    s["s_dwell_s"] = ((cutoff - s["start_us"]) / 1e6).fillna(0.0)
    s["s_since_last_event_s"] = (cutoff - b["last_us"]) / 1e6
    for name in ("s_events", "s_views", "s_distinct_listings", "s_cart_items", "s_max_stage",
                 "s_last_stage"):  # fmt: skip
        s[name] = s[name].fillna(0).astype("int64")

    # Listing features.
    ev = df[df["listing_id"].notna()]
    lv = ev.assign(v=ev["type"].eq("listing_view"), a=ev["type"].eq("add_to_cart"),
                   f=ev["type"].eq("favorite")).groupby("listing_id").agg(
        l_views=("v", "sum"), l_add_to_carts=("a", "sum"), l_favorites=("f", "sum"),
        first_us=("ts_us", "min"))  # fmt: skip
    lv["last_price"] = ev[ev["type"].eq("listing_view")].groupby("listing_id")["price"].last()
    items = purchases_json.assign(
        items=purchases_json["payload"].map(lambda p: json.loads(p)["line_items"])
    ).explode("items")
    items["listing_id"] = items["items"].map(lambda i: i["listing_id"])
    items["ts_us"] = items["ts"].dt.as_unit("us").astype("int64")
    lp = items.groupby("listing_id").agg(l_purchases=("ts_us", "size"), first_p=("ts_us", "min"))
    cat = catalog.set_index("listing_id")
    rank = cat.groupby("category")["price"].rank(method="min")
    size = cat.groupby("category")["price"].transform("size")
    cat["l_price_pct_in_category"] = ((rank - 1) / (size - 1)).where(size > 1, 0.0)
    ids = lv.index.union(lp.index).union(cat.index)
    lf = pd.DataFrame(index=ids).join(lv).join(lp).join(cat)
    for name in ("l_views", "l_add_to_carts", "l_favorites", "l_purchases"):
        lf[name] = lf[name].fillna(0).astype("int64")
    lf["l_add_to_cart_rate"] = (lf["l_add_to_carts"] + 20 * 0.05) / (lf["l_views"] + 20.0)
    lf["l_conversion_rate"] = (lf["l_purchases"] + 20 * 0.01) / (lf["l_views"] + 20.0)
    lf["l_days_since_first_seen"] = (cutoff - lf[["first_us", "first_p"]].min(axis=1)) / DAY_US
    lf["l_price"] = lf["price"].fillna(lf["last_price"])
    lf["l_rating_smoothed"] = (lf["rating"].fillna(0.0) * lf["review_count"].fillna(0)
                               + 40.0) / (lf["review_count"].fillna(0) + 10.0)  # fmt: skip
    lf = lf.rename(columns={"category": "l_category", "review_count": "l_review_count",
                            "rating": "l_rating"})  # fmt: skip

    for name, frame in (
        ("sessions", sessions),
        ("buyer_features", b.reset_index()),
        ("session_features", s.reset_index()),
        ("listing_features", lf.rename_axis("listing_id").reset_index()),
    ):
        frame.to_parquet(out / f"pandas_{name}.parquet")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": {"buyer_features": len(b), "listing_features": len(lf)}}


def _same_values(out: Path) -> dict[str, Any]:
    """Compare the pandas tables with DuckDB's on shared keys and feature columns."""
    import numpy as np
    import pandas as pd

    report: dict[str, Any] = {}
    checks = {
        "buyer_features": ("buyer", ["b_n_events", "b_n_sessions", "b_revenue", "b_cart_items",
                                     "b_cart_value", "b_fatigue", "b_top_category_share",
                                     "b_days_since_last_event", "b_locale"]),
        "session_features": ("buyer", ["s_events", "s_dwell_s", "s_distinct_listings",
                                       "s_price_max", "s_last_stage"]),
        "listing_features": ("listing_id", ["l_views", "l_purchases", "l_conversion_rate",
                                            "l_price_pct_in_category", "l_days_since_first_seen",
                                            "l_rating_smoothed"]),
        "sessions": ("buyer", ["n_events", "revenue", "max_stage"]),
    }  # fmt: skip
    for name, (key, cols) in checks.items():
        left = pd.read_parquet(out / f"duckdb_{name}.parquet")
        right = pd.read_parquet(out / f"pandas_{name}.parquet")
        keys = [key, "session_no"] if name == "sessions" else [key]
        left = left.sort_values(keys).reset_index(drop=True)
        right = right.sort_values(keys).reset_index(drop=True)
        same = len(left) == len(right) and bool((left[key] == right[key]).all())
        for col in cols:
            a, b = left[col], right[col]
            if a.dtype.kind in "fiu" or b.dtype.kind in "fiu":
                x, y = a.astype("float64").to_numpy(), b.astype("float64").to_numpy()
                ok = np.isclose(x, y, rtol=1e-9, atol=1e-9, equal_nan=True)
            else:
                ok = ((a == b) | (a.isna() & b.isna())).to_numpy()
            if not ok.all():
                same = False
                report.setdefault("differences", {})[f"{name}.{col}"] = int((~ok).sum())
        report[name] = same
    return report


def _child(side: str, data: Path, out: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", side, "--data", str(data), "--out", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path)
    parser.add_argument("--buyers", type=int, default=220_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side (medians)")
    parser.add_argument("--child")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        run = run_duckdb if args.child == "duckdb" else run_pandas
        cpu_before = os.times()
        result = run(args.data, args.out)
        cpu_after = os.times()
        # CPU seconds of the whole child (both sides read the catalog and write Parquet):
        # steadier than wall time on a shared machine.
        result["cpu_seconds"] = sum(cpu_after[:2]) - sum(cpu_before[:2])
        result["peak_rss_mb"] = _peak_rss_mb()
        print(json.dumps(result))
        return

    from marketlift.lake import query

    data = args.data
    if data is None or not (data / "lake").exists():
        from marketlift.sim import SimConfig, simulate

        # Pass --data DIR to keep (and reuse) the simulated lake.
        data = data or Path(tempfile.mkdtemp(prefix="features-bench-"))
        simulate(SimConfig(n_buyers=args.buyers, n_days=args.days, seed=1), data)
    events = query(data, "SELECT count(*) AS n FROM events").column("n")[0].as_py()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        load_before = os.getloadavg()
        runs: dict[str, list[dict[str, Any]]] = {"duckdb": [], "pandas": []}
        for _ in range(args.repeat):  # alternate the sides: both see the same machine load
            for side, side_runs in runs.items():
                side_runs.append(_child(side, data, out))
        same = _same_values(out)
    duck_s = [r["seconds"] for r in runs["duckdb"]]
    pandas_s = [r["seconds"] for r in runs["pandas"]]
    duck = runs["duckdb"][0]
    print(json.dumps({
        "benchmark": "features_build",
        "events": events,
        "repeat": args.repeat,
        "duckdb_seconds": round(statistics.median(duck_s), 2),
        "duckdb_runs": [round(x, 2) for x in duck_s],
        "duckdb_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in runs["duckdb"]), 2),
        "duckdb_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs["duckdb"])),
        "pandas_seconds": round(statistics.median(pandas_s), 2),
        "pandas_runs": [round(x, 2) for x in pandas_s],
        "pandas_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in runs["pandas"]), 2),
        "pandas_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs["pandas"])),
        "speedup_vs_pandas": round(statistics.median(pandas_s) / statistics.median(duck_s), 2),
        "rows": duck["rows"],
        "same_values": same,
        "cpus": os.cpu_count(),
        "load_avg_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
