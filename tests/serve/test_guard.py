"""The store's circuit breaker opens on a pattern of failures, not on one (issue 21, item 8)."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest
import redis
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.errors import ConfigError
from marketlift.features.redis_store import RedisStore
from marketlift.serve.config import DecideConfig
from marketlift.serve.guard import CircuitBreaker, GuardedStore
from tests.conftest import free_port
from tests.serve.test_decide_redis import _start_redis, own_redis  # noqa: F401 - a fixture

PREFIX = "guard:"


@pytest.fixture
def redis_port(own_redis: tuple[int, list[subprocess.Popen[bytes]]]) -> int:  # noqa: F811
    port, _ = own_redis
    RedisStore(f"redis://127.0.0.1:{port}/0", prefix=PREFIX).write(
        "listing", {"l1": {"l_views": 3}}
    )
    return port


def _pause(port: int, ms: int) -> None:
    """Hold every client's commands on the real server for ``ms`` milliseconds."""
    redis.Redis(port=port).execute_command("CLIENT", "PAUSE", ms, "ALL")


def _guarded(port: int, breaker: CircuitBreaker) -> GuardedStore:
    store = RedisStore(f"redis://127.0.0.1:{port}/0", prefix=PREFIX, timeout_s=0.03)
    return GuardedStore(store, breaker)


def test_one_timeout_on_a_healthy_redis_degrades_one_read_only(redis_port: int) -> None:
    guarded = _guarded(redis_port, CircuitBreaker(retry_s=30.0))
    assert guarded.read("b1", ["l1"]) is not None
    _pause(redis_port, 150)
    assert guarded.read("b1", ["l1"]) is None  # this read timed out
    time.sleep(0.2)
    found = guarded.read("b1", ["l1"])  # before: skipped for retry_s by an open breaker
    assert found is not None
    assert found.listings[0] == {"l_views": 3}
    assert guarded.breaker.state == "closed"
    assert (guarded.breaker.failures, guarded.breaker.opened) == (1, 0)
    assert "Timeout" in (guarded.last_error or "")


def test_failures_in_a_row_open_it_and_a_probe_closes_it(redis_port: int) -> None:
    guarded = _guarded(redis_port, CircuitBreaker(retry_s=0.3, failures=3))
    paused_until = time.monotonic() + 1.0
    _pause(redis_port, 1000)
    for _ in range(3):
        assert guarded.read("b1", ["l1"]) is None
    assert guarded.breaker.state == "open"
    t0 = time.perf_counter()
    assert guarded.read("b1", ["l1"]) is None  # skipped: no wait on the paused server
    assert time.perf_counter() - t0 < 0.02
    time.sleep(0.35)
    assert time.monotonic() < paused_until - 0.1, "the machine is too slow for this test"
    assert guarded.read("b1", ["l1"]) is None  # the half-open probe fails: open again
    assert guarded.breaker.state == "open"
    time.sleep(max(0.0, paused_until - time.monotonic()) + 0.35)
    assert guarded.read("b1", ["l1"]) is not None  # the probe succeeds: closed
    assert guarded.breaker.state == "closed"
    assert (guarded.breaker.failures, guarded.breaker.opened) == (4, 1)


def test_the_failure_rate_over_the_window_opens_it() -> None:
    clock = [0.0]
    breaker = CircuitBreaker(
        retry_s=1.0, failures=3, failure_rate=0.5, window=10, clock=lambda: clock[0]
    )
    for outcome in "SSFSSFSFSF":  # 4 failures in the last 10, never two in a row
        (breaker.success if outcome == "S" else breaker.failure)()
    assert breaker.state == "closed"
    breaker.failure()  # 5 of the last 10: the rate opens it (two in a row, below 3)
    assert breaker.state == "open"
    clock[0] = 1.1
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed"
    breaker.failure()  # the counts started afresh: one failure does not reopen it
    assert breaker.state == "closed"


def test_thresholds_are_validated_and_exposed_in_the_cli() -> None:
    with pytest.raises(ConfigError, match=r"decide\.breaker_failures == 0"):
        DecideConfig(breaker_failures=0)
    with pytest.raises(ConfigError, match=r"decide\.breaker_failure_rate == 1\.5"):
        DecideConfig(breaker_failure_rate=1.5)
    with pytest.raises(ConfigError, match=r"failures == 0"):
        CircuitBreaker(failures=0)
    runner = CliRunner()
    for option, value, field in (
        ("--breaker-failures", "0", "decide.breaker_failures == 0"),
        ("--breaker-failure-rate", "0", "decide.breaker_failure_rate == 0.0"),
        ("--store-timeout-ms", "0", "decide.store_timeout_ms == 0.0"),
        ("--breaker-window", "0", "decide.breaker_window == 0"),
        ("--breaker-retry-s", "0", "decide.breaker_retry_s == 0.0"),
    ):
        done = runner.invoke(app, ["serve", "--port", str(free_port()), option, value])
        assert done.exit_code == 2, (option, done.output)
        assert field in done.output


def test_concurrent_reads_count_every_outcome() -> None:
    breaker = CircuitBreaker(retry_s=1.0, failures=1000, failure_rate=1.0, window=10)

    def work() -> None:
        for _ in range(2000):
            breaker.failure()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert breaker.failures == 8000
    assert breaker.opened == 1
