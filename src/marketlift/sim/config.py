"""The simulator's configuration: one frozen dataclass, checked once.

Example:
    >>> SimConfig(n_buyers=100, n_days=2).listings
    500
    >>> SimConfig(n_buyers=0)
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: n_buyers == 0, expected an integer >= 1.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import numpy as np

from marketlift.errors import ConfigError

__all__ = ["SimConfig"]


@dataclasses.dataclass(frozen=True, slots=True)
class SimConfig:
    """What world to simulate and for how long.

    Attributes:
        n_buyers: Buyers in the world (new ones join during the period).
        n_days: Simulated days; events are generated and written one day at a time.
        seed: The seed of every random draw: same seed, same lake content.
        start: The first simulated day (UTC).
        n_listings: Listings; ``None`` for ``max(500, n_buyers // 4)``.
        n_shops: Shops; ``None`` for ``max(20, n_listings // 25)``.
        sessions_per_buyer_day: Mean sessions per active buyer per day.
        new_buyer_share: Share of buyers who join during the period (the rest are returning).
        signed_in_share: Share of buyers who are signed in (the rest are anonymous only).
    """

    n_buyers: int = 10_000
    n_days: int = 7
    seed: int = 0
    start: dt.date = dt.date(2026, 11, 1)
    n_listings: int | None = None
    n_shops: int | None = None
    sessions_per_buyer_day: float = 0.25
    new_buyer_share: float = 0.3
    signed_in_share: float = 0.75

    def __post_init__(self) -> None:
        """Check every field."""
        for name in ("n_buyers", "n_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(name, value, "an integer >= 1")
        for name in ("n_listings", "n_shops"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(name, value, "an integer >= 1 or None")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError("seed", self.seed, "an integer >= 0")
        if not 0.0 < self.sessions_per_buyer_day <= 5.0:
            raise ConfigError("sessions_per_buyer_day", self.sessions_per_buyer_day, "in (0, 5]")
        for name in ("new_buyer_share", "signed_in_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(name, value, "a share in [0, 1]")

    @property
    def listings(self) -> int:
        """The number of listings."""
        return self.n_listings if self.n_listings is not None else max(500, self.n_buyers // 4)

    @property
    def shops(self) -> int:
        """The number of shops."""
        return self.n_shops if self.n_shops is not None else max(20, self.listings // 25)

    def rng(self, *stream: int) -> np.random.Generator:
        """An independent random stream for ``(seed, *stream)``; used for common random numbers.

        Example:
            >>> a = SimConfig(seed=1).rng(3, 0).random()
            >>> a == SimConfig(seed=1).rng(3, 0).random(), a == SimConfig(seed=2).rng(3, 0).random()
            (True, False)
        """
        return np.random.default_rng([self.seed, *stream])

    def run_key(self, *parts: str) -> str:
        """A short stable key of this configuration plus ``parts`` (used in event ids).

        Example:
            >>> SimConfig(seed=1).run_key("never") == SimConfig(seed=1).run_key("never")
            True
        """
        text = repr((dataclasses.astuple(self), parts)).encode()
        return hashlib.blake2b(text, digest_size=4).hexdigest()
