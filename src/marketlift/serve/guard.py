"""A circuit breaker in front of the online store, so a dead dependency costs nothing.

:class:`GuardedStore` reads features through any :class:`~marketlift.features.OnlineStore`.
A read that raises (connection refused, socket timeout) opens the breaker: for
``retry_s`` seconds reads are not even tried and :meth:`GuardedStore.read` answers ``None`` at
once, so requests keep their budget. Then one probe goes through; when it succeeds the
breaker closes and features flow again: recovery needs no restart.

Example:
    >>> from marketlift.features import MemoryStore
    >>> clock = [0.0]
    >>> breaker = CircuitBreaker(retry_s=1.0, clock=lambda: clock[0])
    >>> breaker.failure(); breaker.allow()
    False
    >>> clock[0] = 1.5; breaker.allow(), breaker.allow()
    (True, False)
    >>> breaker.success(); breaker.state
    'closed'
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from marketlift.features.store import OnlineFeatures, OnlineStore, read_features

__all__ = ["CircuitBreaker", "GuardedStore"]


class CircuitBreaker:
    """Closed (calls go through), open (they do not), half-open (one probe at a time).

    Args:
        retry_s: How long the breaker stays open before it lets one probe through.
        clock: Monotonic seconds (a parameter for tests).
    """

    def __init__(self, retry_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_s = retry_s
        self.clock = clock
        self._open_until: float | None = None
        self._lock = threading.Lock()
        self.failures = 0
        self.opened = 0

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open``."""
        until = self._open_until
        if until is None:
            return "closed"
        return "open" if self.clock() < until else "half-open"

    def allow(self) -> bool:
        """Whether to try a call now (in half-open, only the first caller is let through)."""
        until = self._open_until
        if until is None:
            return True
        now = self.clock()
        if now < until:
            return False
        with self._lock:
            if self._open_until is not None and now >= self._open_until:
                self._open_until = now + self.retry_s  # the others wait for this probe
                return True
        return False

    def success(self) -> None:
        """A call succeeded: close."""
        if self._open_until is not None:
            self._open_until = None

    def failure(self) -> None:
        """A call failed: open for ``retry_s``."""
        self.failures += 1
        if self._open_until is None:
            self.opened += 1
        self._open_until = self.clock() + self.retry_s


class GuardedStore:
    """Feature reads that never raise: ``None`` when the store is down or the breaker open.

    Args:
        store: The online store (memory or Redis).
        breaker: The circuit breaker (a new one with a 1 s retry when ``None``).
    """

    def __init__(self, store: OnlineStore, breaker: CircuitBreaker | None = None) -> None:
        self.store = store
        self.breaker = breaker or CircuitBreaker()
        self.last_error: str | None = None

    def read(self, buyer: str, listing_ids: Sequence[str]) -> OnlineFeatures | None:
        """Features of one buyer and many listings, or ``None`` (store down or breaker open)."""
        if not self.breaker.allow():
            return None
        try:
            found = read_features(self.store, buyer, listing_ids)
        except Exception as exc:  # noqa: BLE001 - any store failure means: answer without it
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.breaker.failure()
            reconnect = getattr(self.store, "reconnect", None)
            if reconnect is not None:
                with contextlib.suppress(Exception):
                    reconnect()
            return None
        self.breaker.success()
        return found

    def ping(self) -> bool:
        """Whether a small read works now (for ``/readyz``); does not touch the breaker."""
        try:
            self.store.get_many([("buyer", "__ping__")])
        except Exception as exc:  # noqa: BLE001
            self.last_error = f"{type(exc).__name__}: {exc}"
            return False
        return True

    def describe(self) -> dict[str, Any]:
        """State for ``/readyz`` and the stats endpoint."""
        return {
            "breaker": self.breaker.state,
            "failures": self.breaker.failures,
            "last_error": self.last_error,
        }
