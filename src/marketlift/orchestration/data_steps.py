"""Steps on the data: land the stream, compact the lake, build features, load the online store.

Each function takes a :class:`~marketlift.orchestration.context.StepInput` and returns the
outputs of a :class:`~marketlift.orchestration.context.StepResult` (a dict), or raises
:class:`StepSkippedError` when there is nothing to do (the embedded default has no stream to land).
Environment variables are read here, at the entry of a step, and only here.
"""

from __future__ import annotations

import os
from typing import Any

from marketlift.errors import MarketliftError
from marketlift.orchestration.context import StepInput

__all__ = ["StepSkippedError", "build_features", "compact", "land", "load_online"]


class StepSkippedError(MarketliftError):
    """A step has nothing to do in this deployment; the message says why."""


def land(ctx: StepInput) -> dict[str, Any]:
    """Land the JetStream event stream into the lake until caught up (``MARKETLIFT_NATS_URL``).

    Exactly once per ``event_id``, so a rerun lands only what is new. Without
    ``MARKETLIFT_NATS_URL`` (the embedded default: the collector writes the lake) it skips.
    """
    url = os.environ.get("MARKETLIFT_NATS_URL")
    if not url:
        raise StepSkippedError("embedded: the collector writes the lake (no MARKETLIFT_NATS_URL)")
    from marketlift.ingest.lander import land as land_stream  # noqa: PLC0415
    from marketlift.serve.config import JetStreamConfig  # noqa: PLC0415

    config = JetStreamConfig(
        url=url,
        stream=os.environ.get("MARKETLIFT_NATS_STREAM", "MARKETLIFT"),
        subject_prefix=os.environ.get("MARKETLIFT_NATS_SUBJECT_PREFIX", "marketlift"),
    )
    return dict(land_stream(ctx.data_dir, config, follow=False))


def compact(ctx: StepInput) -> dict[str, Any]:
    """Compact the lake's incoming files into date/type partitions (idempotent)."""
    from marketlift.lake import LakeWriter  # noqa: PLC0415

    writer = LakeWriter(ctx.data_dir, background=False)
    try:
        report = writer.compact(force=True)
    finally:
        writer.close()
    return {"report": repr(report)}


def build_features(ctx: StepInput) -> dict[str, Any]:
    """Build the feature tables from the events before the interval's end (``DATA/features``).

    On DuckDB, or on Spark with ``MARKETLIFT_FEATURES_ENGINE=spark`` (the same definitions).

    The listing catalog is the lake's (:func:`marketlift.catalog.feature_versions`, every
    version, so rows join the one live at their cut-off), as the ranker's training reads it, so
    the online listing features match the ranker.
    """
    from marketlift.catalog import feature_versions  # noqa: PLC0415
    from marketlift.errors import ConfigError  # noqa: PLC0415
    from marketlift.features import build_features as build  # noqa: PLC0415

    engine = os.environ.get("MARKETLIFT_FEATURES_ENGINE", "duckdb")
    if engine not in ("duckdb", "spark"):
        raise ConfigError("MARKETLIFT_FEATURES_ENGINE", engine, "duckdb or spark")
    catalog = feature_versions(ctx.data_dir)
    result = build(ctx.data_dir, engine=engine, cutoff=ctx.end, catalog=catalog)
    summary = result.summary()
    return {"cutoff": summary["cutoff"], "rows": summary["rows"], "paths": summary["paths"]}


def load_online(ctx: StepInput) -> dict[str, Any]:
    """Load the feature tables into the online store named by ``MARKETLIFT_REDIS_URL``.

    Without it (the embedded default) ``serve`` loads its memory store from ``DATA/features``
    at start-up and on reload, so the step only checks that the tables are there.
    """
    from pathlib import Path  # noqa: PLC0415

    import pyarrow.parquet as pq  # noqa: PLC0415

    from marketlift.errors import ConfigError  # noqa: PLC0415

    folder = Path(ctx.data_dir) / "features"
    tables = (
        ("listing", "listing_features", "listing_id"),
        ("buyer", "buyer_features", "buyer"),
        ("session", "session_features", "buyer"),
    )
    missing = [name for _, name, _ in tables if not (folder / f"{name}.parquet").exists()]
    if missing:
        raise ConfigError("features", str(folder), f"the built tables (missing: {missing})")
    url = os.environ.get("MARKETLIFT_REDIS_URL")
    if not url:
        rows = {
            name: pq.read_metadata(folder / f"{name}.parquet").num_rows for _, name, _ in tables
        }
        return {"store": "memory (loaded by serve from DATA/features)", "rows": rows}
    from marketlift.features.redis_store import RedisStore  # noqa: PLC0415
    from marketlift.features.store import write_table  # noqa: PLC0415

    store = RedisStore(
        url, prefix=os.environ.get("MARKETLIFT_REDIS_PREFIX", "marketlift:features:")
    )
    try:
        written = {
            name: write_table(store, namespace, pq.read_table(folder / f"{name}.parquet"), key)
            for namespace, name, key in tables
        }
    finally:
        store.close()
    return {"store": "redis", "rows": written}
