"""Build the decision engine from a configuration: the one way the app and replays open it.

:func:`open_engine` opens what ``POST /v1/decide`` needs (the online store behind its circuit
breaker, the model watcher, the catalog, the copy cache) and returns a warmed
:class:`~marketlift.serve.decide.DecisionEngine`. The HTTP app calls it at start-up; the demo's
A/B test calls it to put every simulated decision through the same engine.

Example:
    >>> import tempfile
    >>> from marketlift.serve.config import ServeConfig
    >>> opened = open_engine(ServeConfig(data_dir=tempfile.mkdtemp()))
    >>> opened.engine.watcher.current.ranker is None
    True
    >>> opened.close()
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from marketlift.experiments.config import Experiment, load_experiments
from marketlift.ingest.sink import Sink, SinkBatch
from marketlift.serve.assign import Assigner
from marketlift.serve.config import ServeConfig
from marketlift.serve.decide import Catalog, DecisionEngine, catalog_pop
from marketlift.serve.guard import CircuitBreaker, GuardedStore
from marketlift.serve.resources import ModelWatcher

__all__ = ["DiscardSink", "OpenedEngine", "experiments_of", "open_engine", "open_store"]


@dataclasses.dataclass(slots=True)
class OpenedEngine:
    """A decision engine and what it holds open."""

    engine: DecisionEngine
    store: GuardedStore
    watcher: ModelWatcher
    assigner: Assigner

    def close(self) -> None:
        """Stop the model watcher and close the store."""
        self.watcher.stop()
        self.store.store.close()


class DiscardSink:
    """A sink that keeps nothing (for replays whose caller logs the events itself)."""

    name = "discard"

    def submit(self, batch: SinkBatch) -> concurrent.futures.Future[list[bool]]:
        """Accept the batch and drop it."""
        future: concurrent.futures.Future[list[bool]] = concurrent.futures.Future()
        future.set_result([False] * len(batch.events))
        return future

    def close(self) -> None:
        """Nothing to release."""


def open_engine(
    config: ServeConfig,
    sink: Sink | None = None,
    *,
    clock: Any = None,
    reload_interval_s: float | None = None,
) -> OpenedEngine:
    """Open the store, the served models and the engine ``config`` names; warm the engine.

    Args:
        config: The service configuration (its ``decide`` part).
        sink: Where the assigner logs exposures (``None``: nowhere).
        clock: The assigner's clock (default: UTC now).
        reload_interval_s: Hot reload period (default ``config.decide.reload_interval_s``;
            ``0`` or less: no background reload).
    """
    cfg = config.decide
    data = Path(config.data_dir)
    breaker = CircuitBreaker(
        cfg.breaker_retry_s, failures=cfg.breaker_failures,
        failure_rate=cfg.breaker_failure_rate, window=cfg.breaker_window,
    )  # fmt: skip
    store = GuardedStore(open_store(config), breaker)
    features = data / "features" / "listing_features.parquet"
    watcher = ModelWatcher(
        data, policy_file=cfg.policy_file, shadow_ranker=cfg.shadow_ranker,
        listing_pop=catalog_pop(features),
    )  # fmt: skip
    interval = cfg.reload_interval_s if reload_interval_s is None else reload_interval_s
    if interval > 0:
        watcher.start(interval)
    from marketlift.copy.serving import CopyReader  # noqa: PLC0415

    variant = None
    if cfg.copy_variant is not None:
        from marketlift.copy.variants import CopyVariant  # noqa: PLC0415

        model, _, prompt = cfg.copy_variant.partition("@")
        provider = "template" if model == "template" else "openai"
        variant = CopyVariant("served", provider=provider, model=model, prompt_version=prompt)
    assigner = Assigner(
        experiments_of(config), sink if sink is not None else DiscardSink(),
        clock if clock is not None else (lambda: dt.datetime.now(dt.UTC)),
    )  # fmt: skip
    engine = DecisionEngine(
        store=store, watcher=watcher, assigner=assigner,
        catalog=Catalog.load(data, cfg.catalog_file), copy_reader=CopyReader(data),
        budget_ms=cfg.budget_ms,
        intent_skip_above=cfg.intent_skip_above, copy_variant=variant,
        random_state=cfg.random_state,
    )  # fmt: skip
    engine.warm()
    return OpenedEngine(engine, store, watcher, assigner)


def open_store(config: ServeConfig) -> Any:
    """The online store the configuration names; the memory store is loaded from the build."""
    cfg = config.decide
    if cfg.store == "redis":
        from marketlift.features.redis_store import RedisStore  # noqa: PLC0415

        return RedisStore(cfg.redis_url, prefix=cfg.redis_prefix,
                          timeout_s=cfg.store_timeout_ms / 1000.0)  # fmt: skip
    from marketlift.features.store import MemoryStore, write_table  # noqa: PLC0415

    store = MemoryStore()
    folder = Path(config.data_dir) / "features"
    tables = (
        ("listing", "listing_features", "listing_id"),
        ("buyer", "buyer_features", "buyer"),
        ("session", "session_features", "buyer"),
    )
    for namespace, name, key in tables:
        path = folder / f"{name}.parquet"
        if path.exists():
            import pyarrow.parquet as pq  # noqa: PLC0415

            write_table(store, namespace, pq.read_table(path), key)
    return store


def experiments_of(config: ServeConfig) -> list[Experiment]:
    """The experiments of ``config`` (``DATA/experiments.toml`` when none is named)."""
    path = config.experiments_file
    if path is None:
        default = Path(config.data_dir) / "experiments.toml"
        if not default.exists():
            return []
        path = default
    return list(load_experiments(path).values())
