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
from pathlib import Path

from marketlift.errors import ConfigError
from marketlift.events.limits import Limits

__all__ = ["JetStreamConfig", "ServeConfig"]


@dataclasses.dataclass(frozen=True, slots=True)
class JetStreamConfig:
    """Where the JetStream sink publishes.

    Attributes:
        url: NATS server URL.
        stream: Stream name (created if missing, file storage).
        subject_prefix: Events go to ``<prefix>.events``, dead letters to
            ``<prefix>.dead_letters``.
        duplicate_window_s: JetStream's de-duplication window on ``Nats-Msg-Id`` (the lander
            de-duplicates on ``event_id`` across any time span).
    """

    url: str = "nats://127.0.0.1:4222"
    stream: str = "MARKETLIFT"
    subject_prefix: str = "marketlift"
    duplicate_window_s: float = 120.0


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
        cors_origins: Origins allowed to send events from a browser (``*`` for any).
        decide_key: When set, ``POST /v1/assign`` needs ``Authorization: Bearer <key>``
            (a key separate from the write key, which browsers carry).
        experiments_file: TOML file of experiments for ``/v1/assign``; ``None`` looks for
            ``experiments.toml`` in the data directory.
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

    def __post_init__(self) -> None:
        """Validate the fields."""
        if self.sink not in ("lake", "jetstream"):
            raise ConfigError("sink", self.sink, "one of 'lake', 'jetstream'")
        if not 0 < self.port < 65536:
            raise ConfigError("port", self.port, "an integer between 1 and 65535")
        for name in ("write_key", "decide_key"):
            key = getattr(self, name)
            if key is not None and len(key) < 8:
                raise ConfigError(name, "<hidden>", "at least 8 characters")
