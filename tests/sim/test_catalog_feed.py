"""The simulator sends its listings to the catalog like a marketplace; the catalog matches truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from marketlift.catalog import CatalogStore, feature_table, listing_texts
from marketlift.sim import SimConfig, read_truth, simulate


def test_simulated_listings_arrive_in_the_catalog(tmp_path: Path) -> None:
    config = SimConfig(n_buyers=60, n_days=1, seed=5)
    simulate(config, tmp_path)
    truth = read_truth(tmp_path, "sim_listings").sort_by("listing_id")
    features = feature_table(tmp_path)
    assert features is not None
    assert features.column("listing_id").to_pylist() == truth.column("listing_id").to_pylist()
    np.testing.assert_array_equal(
        features.column("price").to_numpy(),
        pc.divide(pc.cast(truth.column("price_usd_cents"), "float64"), 100.0).to_numpy(),
    )
    assert features.column("category").equals(truth.column("category"))
    assert features.column("review_count").equals(truth.column("review_count"))
    texts = listing_texts(tmp_path)
    assert texts is not None
    assert texts.column("title").equals(truth.column("title_en"))
    first = CatalogStore(tmp_path).show(truth.column("listing_id")[0].as_py())
    assert first is not None
    assert first["attributes"]["title_de"] == truth.column("title_de")[0].as_py()
    assert first["updated_at"] == "2026-10-31T00:00:00Z"  # the day before the first day
    # a second run of the same world is a retry: no new versions
    simulate(config, tmp_path)
    assert CatalogStore(tmp_path).versions().num_rows == truth.num_rows
