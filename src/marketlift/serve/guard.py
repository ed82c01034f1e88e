"""A circuit breaker in front of the online store, so a dead dependency costs nothing.

:class:`GuardedStore` reads features through any :class:`~marketlift.features.OnlineStore`.
A read that raises (connection refused, socket timeout) answers ``None`` for that request. The
breaker opens only on a pattern, not on one slow read: ``failures`` failed reads in a row, or
a share of at least ``failure_rate`` failed reads among the last ``window`` (once that many
were made). While open, reads are not even tried and :meth:`GuardedStore.read` answers
``None`` at once, so requests keep their budget. After ``retry_s`` one probe goes through
(half-open, the other requests still skip); its success closes the breaker and clears the
counts, its failure opens it again for ``retry_s``: recovery needs no restart.

Example:
    >>> from marketlift.features import MemoryStore
    >>> clock = [0.0]
    >>> breaker = CircuitBreaker(retry_s=1.0, failures=3, clock=lambda: clock[0])
    >>> breaker.failure(); breaker.failure(); breaker.state
    'closed'
    >>> breaker.failure(); breaker.allow()
    False
    >>> clock[0] = 1.5; breaker.allow(), breaker.allow()
    (True, False)
    >>> breaker.success(); breaker.state
    'closed'
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from marketlift.errors import ConfigError
from marketlift.features.store import OnlineFeatures, OnlineStore, read_features

__all__ = ["CircuitBreaker", "GuardedStore"]


class CircuitBreaker:
    """Closed (calls go through), open (they do not), half-open (one probe at a time).

    Args:
        retry_s: How long the breaker stays open before it lets one probe through.
        failures: Failed calls in a row that open it (``1``: the first failure does).
        failure_rate: Share of failed calls among the last ``window`` that opens it
            (``1.0``: only the consecutive count opens it).
        window: Calls the failure rate is measured over; it is only judged once that many
            were made.
        clock: Monotonic seconds (a parameter for tests).

    Raises:
        ConfigError: a parameter is out of range.
    """

    def __init__(
        self,
        retry_s: float = 1.0,
        *,
        failures: int = 5,
        failure_rate: float = 0.5,
        window: int = 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if retry_s <= 0:
            raise ConfigError("retry_s", retry_s, "a number > 0")
        if failures < 1:
            raise ConfigError("failures", failures, "an integer >= 1")
        if not 0 < failure_rate <= 1:
            raise ConfigError("failure_rate", failure_rate, "a number in (0, 1]")
        if window < 1:
            raise ConfigError("window", window, "an integer >= 1")
        self.retry_s = retry_s
        self.threshold = failures
        self.failure_rate = failure_rate
        self.window = window
        self.clock = clock
        self._open_until: float | None = None
        self._lock = threading.Lock()
        self._recent: collections.deque[bool] = collections.deque(maxlen=window)
        self._recent_failed = 0
        self._in_a_row = 0
        self.failures = 0
        """Failed calls since start."""
        self.opened = 0
        """Times the breaker opened since start."""

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

    def _record(self, *, failed: bool) -> None:
        recent = self._recent
        if len(recent) == recent.maxlen and recent[0]:
            self._recent_failed -= 1
        recent.append(failed)
        self._recent_failed += failed

    def success(self) -> None:
        """A call succeeded: count it; a probe's success closes the breaker."""
        with self._lock:
            self._in_a_row = 0
            if self._open_until is not None:  # the half-open probe: close, start afresh
                self._open_until = None
                self._recent.clear()
                self._recent_failed = 0
                return
            self._record(failed=False)

    def failure(self) -> None:
        """A call failed: count it; open for ``retry_s`` when a threshold is reached."""
        with self._lock:
            self.failures += 1
            self._in_a_row += 1
            if self._open_until is not None:  # the probe failed: stay open
                self._open_until = self.clock() + self.retry_s
                return
            self._record(failed=True)
            full = len(self._recent) == self.window
            if self._in_a_row >= self.threshold or (
                full and self._recent_failed >= self.failure_rate * self.window
            ):
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
