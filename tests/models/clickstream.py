"""A plain clickstream written with the standard library only (not made by marketlift)."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path


def write_clickstream(path: Path, *, n_sessions: int = 2500, seed: int = 0) -> Path:
    """Sessions walk inside one of 6 aisles of 10 products, mostly to the next product."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    weights = [1 / (k + 1) for k in range(10)]
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["visit", "sku", "clicked_at", "channel"])
        for s in range(n_sessions):
            aisle = rng.randrange(6)
            item = rng.choices(range(10), weights)[0]
            t = start + dt.timedelta(minutes=7 * s)
            for _ in range(rng.randint(2, 5)):
                out.writerow([f"v{s:05d}", f"sku-{aisle}-{item}", t.isoformat(), "web"])
                t += dt.timedelta(seconds=rng.randint(5, 90))
                item = (item + 1) % 10 if rng.random() < 0.7 else rng.choices(range(10), weights)[0]
    return path
