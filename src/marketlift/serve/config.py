"""Configuration of the HTTP service: one dataclass per concern, every field documented.

Environment variables are read only by the command line (:mod:`marketlift.cli.serve_cmd`),
never here.

Example:
    >>> ServeConfig(data_dir="d").sink
    'lake'
    >>> ServeConfig(data_dir="d", sink="kafka")
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: sink == 'kafka', expected one of 'lake', 'jetstream'.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Final

from marketlift.errors import ConfigError
from marketlift.events.limits import Limits
from marketlift.ingest.config import JetStreamConfig

__all__ = ["DecideConfig", "HttpConfig", "JetStreamConfig", "ServeConfig"]

_ORIGIN: Final = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


@dataclasses.dataclass(frozen=True, slots=True)
class HttpConfig:
    """Connection limits of each HTTP process (uvicorn's, and the read timeouts added to them).

    A client that is slower than a timeout is dropped: the connection is closed (with a 408
    answer while no request is running), so slow sockets cannot hold the server's connections.

    Attributes:
        header_timeout_s: Longest time from a new connection (or the end of the previous answer
            on a kept-alive one) to the end of the request headers.
        body_timeout_s: Longest time from the end of the headers to the end of the body.
        keep_alive_s: An idle kept-alive connection is closed after this many seconds.
        limit_concurrency: Most connections and running requests of one process at once; a
            request above it gets 503 (``None``: no limit).
        backlog: Most connections waiting to be accepted.
    """

    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    keep_alive_s: int = 5
    limit_concurrency: int | None = 2048
    backlog: int = 2048

    def __post_init__(self) -> None:
        """Validate the fields."""
        for name in ("header_timeout_s", "body_timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 < value <= 3600:
                raise ConfigError(f"http.{name}", value, "a number of seconds in (0, 3600]")
        if not isinstance(self.keep_alive_s, int) or not 0 < self.keep_alive_s <= 3600:
            raise ConfigError("http.keep_alive_s", self.keep_alive_s, "an integer in [1, 3600]")
        if self.limit_concurrency is not None and self.limit_concurrency < 1:
            raise ConfigError("http.limit_concurrency", self.limit_concurrency, "an integer >= 1")
        if self.backlog < 1:
            raise ConfigError("http.backlog", self.backlog, "an integer >= 1")


@dataclasses.dataclass(frozen=True, slots=True)
class DecideConfig:
    """How ``POST /v1/decide`` decides, and within which budget.

    Attributes:
        budget_ms: Total time budget of one decision; stages that would overrun it are skipped
            and a fallback answers (``degraded: true``).
        store: Online feature store: ``memory`` (loaded from the features build at start-up)
            or ``redis``.
        redis_url: Redis server of the ``redis`` store.
        redis_prefix: Key prefix of the ``redis`` store.
        store_timeout_ms: Socket timeout of one feature read; a read that fails or times out
            answers that request without features (``features_unavailable``).
        breaker_failures: Failed reads in a row that open the circuit breaker.
        breaker_failure_rate: Share of failed reads among the last ``breaker_window`` that
            opens the breaker (``1.0``: only ``breaker_failures`` does).
        breaker_window: Reads the failure rate is measured over.
        breaker_retry_s: While the breaker is open, reads are skipped; one probe is let
            through after this many seconds, and success closes it again.
        policy_file: The engagement policy (``marketlift.policy.save``); ``None``:
            ``DATA/policies/engagement.pkl``.
        catalog_file: Listing table (Parquet) for copy facts; ``None``: the lake's listing
            catalog (:func:`marketlift.catalog.wide_listings`).
        shadow_ranker: Registry version of a candidate ranker scored beside the live one off
            the request path and logged with the decision (``None``: no shadow scoring).
        reload_interval_s: How often promoted model versions and the policy file are checked
            for a change (hot reload); ``0`` disables the watcher (``POST /admin/reload``
            still works).
        intent_skip_above: Do not engage a buyer whose purchase probability is above this
            (they are buying anyway: stay out of the way).
        copy_variant: Cached copy to serve, ``<model>@<prompt version>`` (for example
            ``qwen2.5-7b-instruct@v1``); ``None``: the template copy (see ``marketlift.copy``).
        random_state: Seed of the policies' uniform draws (``None``: fresh each start; a seed
            makes a replay or a test reproducible, the logged propensities stay exact).
    """

    budget_ms: float = 25.0
    store: str = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "marketlift:features:"
    store_timeout_ms: float = 5.0
    breaker_failures: int = 5
    breaker_failure_rate: float = 0.5
    breaker_window: int = 100
    breaker_retry_s: float = 1.0
    policy_file: Path | str | None = None
    catalog_file: Path | str | None = None
    shadow_ranker: str | None = None
    reload_interval_s: float = 2.0
    intent_skip_above: float = 0.9
    copy_variant: str | None = None
    random_state: int | None = None

    def __post_init__(self) -> None:
        """Validate the fields."""
        if self.store not in ("memory", "redis"):
            raise ConfigError("decide.store", self.store, "one of 'memory', 'redis'")
        if not 0 < self.budget_ms <= 10_000:
            raise ConfigError("decide.budget_ms", self.budget_ms, "a number in (0, 10000]")
        if not 0 < self.store_timeout_ms <= 10_000:
            raise ConfigError("decide.store_timeout_ms", self.store_timeout_ms, "(0, 10000]")
        if self.breaker_retry_s <= 0:
            raise ConfigError("decide.breaker_retry_s", self.breaker_retry_s, "a number > 0")
        if not 1 <= self.breaker_failures <= 1_000_000:
            raise ConfigError("decide.breaker_failures", self.breaker_failures, "[1, 1000000]")
        if not 0 < self.breaker_failure_rate <= 1:
            raise ConfigError(
                "decide.breaker_failure_rate", self.breaker_failure_rate, "a number in (0, 1]"
            )
        if not 1 <= self.breaker_window <= 1_000_000:
            raise ConfigError("decide.breaker_window", self.breaker_window, "[1, 1000000]")
        if self.reload_interval_s < 0:
            raise ConfigError("decide.reload_interval_s", self.reload_interval_s, "a number >= 0")
        if self.copy_variant is not None and "@" not in self.copy_variant:
            raise ConfigError(
                "decide.copy_variant", self.copy_variant, "'<model>@<prompt version>'"
            )
        if not 0 < self.intent_skip_above <= 1:
            raise ConfigError("decide.intent_skip_above", self.intent_skip_above, "(0, 1]")


@dataclasses.dataclass(frozen=True, slots=True)
class ServeConfig:
    """Configuration of ``marketlift serve``.

    Attributes:
        data_dir: The embedded data directory.
        host: Interface to bind.
        port: TCP port.
        write_key: When set, ``POST /v1/events`` needs ``Authorization: Bearer <key>`` (or
            ``?write_key=<key>`` for beacons that cannot set headers).
        sink: ``lake`` (embedded, default) or ``jetstream`` (scale-out; run ``marketlift land``).
        jetstream: JetStream settings, used when ``sink == 'jetstream'``.
        limits: Request and event limits.
        cors_origins: Origins whose pages may call the API from a browser (``*`` for any,
            none for no CORS at all); ``/admin/*`` never answers with CORS headers.
        decide_key: When set, ``POST /v1/assign`` and ``POST /v1/decide`` need
            ``Authorization: Bearer <key>``
            (a key separate from the write key, which browsers carry).
        experiments_file: TOML file of experiments for ``/v1/assign``; ``None`` looks for
            ``experiments.toml`` in the data directory.
        decide: How ``/v1/decide`` decides (budget, store, policy, reload).
        admin_key: When set, ``/admin/*`` needs ``Authorization: Bearer <key>``; when not
            set, admin endpoints answer 403 (they are off).
        demo: Also serve the demo storefront and the dashboard.
        http: Connection limits and read timeouts.
    """

    data_dir: Path | str
    host: str = "127.0.0.1"
    port: int = 8000
    write_key: str | None = None
    sink: str = "lake"
    jetstream: JetStreamConfig = dataclasses.field(default_factory=JetStreamConfig)
    limits: Limits = dataclasses.field(default_factory=Limits)
    cors_origins: tuple[str, ...] = ("*",)
    decide_key: str | None = None
    experiments_file: Path | str | None = None
    decide: DecideConfig = dataclasses.field(default_factory=DecideConfig)
    admin_key: str | None = None
    demo: bool = False
    http: HttpConfig = dataclasses.field(default_factory=HttpConfig)

    def __post_init__(self) -> None:
        """Validate the fields."""
        if self.sink not in ("lake", "jetstream"):
            raise ConfigError("sink", self.sink, "one of 'lake', 'jetstream'")
        if not 0 < self.port < 65536:
            raise ConfigError("port", self.port, "an integer between 1 and 65535")
        for name in ("write_key", "decide_key", "admin_key"):
            key = getattr(self, name)
            if key is not None and len(key) < 8:
                raise ConfigError(name, "<hidden>", "at least 8 characters")
        for origin in self.cors_origins:
            if origin != "*" and not _ORIGIN.match(origin):
                expected = "'*' or an origin such as 'https://shop.example' (no path)"
                raise ConfigError("cors_origins", origin, expected)
