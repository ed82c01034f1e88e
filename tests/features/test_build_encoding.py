"""How the DuckDB build stores and ranks: event types as a category (every type the lake can
hold, from partition folders and loose files), and the top category found with one integer
key (most views, ties to the first name) checked against a plain Python count."""

from __future__ import annotations

import collections
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from marketlift.errors import ConfigError
from marketlift.events import EVENT_TYPES
from marketlift.features import build_features
from marketlift.features.build import normalize_catalog
from marketlift.features.engines import DuckDBEngine
from marketlift.features.queries import MAX_CATEGORIES
from marketlift.lake import LakeWriter
from tests.features._helpers import at, event, events_table


def _table_of(events: list[dict[str, Any]], kind: str | None = None) -> pa.Table:
    table = events_table(events)
    if kind is not None:  # a type this version does not know (a newer producer wrote it)
        index = table.schema.get_field_index("type")
        table = table.set_column(index, "type", pa.array([kind] * table.num_rows))
    return table


def test_event_types_cover_partitions_and_loose_files(tmp_path: Path) -> None:
    with LakeWriter(tmp_path) as writer:  # compacted into date=/type= folders
        writer.append(_table_of([event("page_view", 1)]))
        writer.append(_table_of([event("page_view", 2)], kind="partitioned_signal"))
    loose = LakeWriter(tmp_path, background=False, compact_on_close=False)
    try:  # left in incoming/: only these files are read for their types
        loose.append(_table_of([event("page_view", 3), event("page_view", 4)], kind="new_signal"))
    finally:
        loose.close()
    engine = DuckDBEngine(tmp_path)
    try:
        types = engine.state["event_types"]
    finally:
        engine.close()
    assert types[: len(EVENT_TYPES)] == tuple(EVENT_TYPES)
    assert types[len(EVENT_TYPES) :] == ("new_signal", "partitioned_signal")
    # Events of every type count (none is lost to the category encoding).
    buyer = build_features(tmp_path, cutoff=at(10), write=False).tables["buyer_features"]
    assert buyer.to_pylist()[0]["b_n_events"] == 4


def test_top_category_matches_a_plain_count(tmp_path: Path) -> None:
    rng = random.Random(7)
    categories = ["art", "bags", "clay", "dolls", "egg cups"]
    listings = {f"l{i}": categories[i % len(categories)] for i in range(25)}
    views = [
        event("listing_view", rng.uniform(0, 5_000), buyer=f"b{rng.randrange(300)}",
              listing_id=rng.choice(list(listings)))
        for _ in range(3_000)
    ]  # fmt: skip
    with LakeWriter(tmp_path) as writer:
        writer.append(_table_of(views))
    catalog = pa.table({"listing_id": list(listings), "category": list(listings.values())})
    result = build_features(tmp_path, catalog=catalog, write=False)
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for doc in views:
        counts[str(doc["buyer_id"])][listings[str(doc["listing_id"])]] += 1
    ties = 0
    for row in result.tables["buyer_features"].to_pylist():
        seen = counts[row["buyer"]]
        best = max(seen.values())
        expected = min(c for c, n in seen.items() if n == best)
        ties += sum(1 for n in seen.values() if n == best) > 1
        assert row["b_top_category"] == expected, row["buyer"]
        assert row["b_top_category_share"] == pytest.approx(best / sum(seen.values()))
    assert ties > 50  # the tie-break is exercised, not just the maximum


def test_catalog_with_too_many_categories_is_refused() -> None:
    n = MAX_CATEGORIES
    names = pc.cast(pa.array(range(n)), pa.string())
    with pytest.raises(ConfigError, match=r"catalog\.category.*fewer than"):
        normalize_catalog(pa.table({"listing_id": names, "category": names}))
    fine = normalize_catalog(pa.table({"listing_id": names[:10], "category": names[:10]}))
    assert fine.num_rows == 10
