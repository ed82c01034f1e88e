import datetime as dt
import threading

import msgspec
import pytest

from marketlift.errors import ConfigError
from marketlift.events import Exposure
from marketlift.experiments.assignment import Assignment
from marketlift.experiments.exposures import (
    ExposureDeduplicator,
    exposure_event,
    exposures_to_log,
)

NOW = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC)
A = Assignment("checkout_copy", "short_copy", "anonymous_id", "d-1")
B = Assignment("home_ranker", "control", "anonymous_id", "d-1")


def test_once_per_unit_experiment_and_utc_day() -> None:
    dedupe = ExposureDeduplicator()
    assert dedupe.should_log(A, NOW)
    assert not dedupe.should_log(A, NOW + dt.timedelta(minutes=20))
    assert dedupe.should_log(B, NOW)  # another experiment
    assert dedupe.should_log(A, NOW + dt.timedelta(minutes=40))  # next UTC day
    # the same instant in another time zone is the same UTC day
    berlin = (NOW + dt.timedelta(minutes=20)).astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert not dedupe.should_log(A, berlin)


def test_memory_stays_bounded() -> None:
    dedupe = ExposureDeduplicator(keep_days=2)
    for day in range(10):
        for u in range(100):
            dedupe.should_log(
                Assignment("e", "v", "buyer_id", f"b{u}"), NOW + dt.timedelta(days=day)
            )
    assert len(dedupe) == 200
    assert not dedupe.should_log(Assignment("e", "v", "buyer_id", "late"), NOW)


def test_concurrent_calls_log_once() -> None:
    dedupe = ExposureDeduplicator()
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        got = [dedupe.should_log(A, NOW) for _ in range(200)]
        with lock:
            results.extend(got)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1


def test_exposure_events_are_valid_and_idempotent() -> None:
    dedupe = ExposureDeduplicator()
    events = exposures_to_log(dedupe, [A, B], ts=NOW, platform="ios", session_id="s1")
    assert [e.experiment_key for e in events] == ["checkout_copy", "home_ranker"]
    assert exposures_to_log(dedupe, [A, B], ts=NOW, platform="ios") == []
    raw = msgspec.json.encode(events[0])
    decoded = msgspec.json.decode(raw, type=Exposure)  # passes schema validation
    assert decoded.anonymous_id == "d-1"
    assert decoded.variant == "short_copy"
    again = exposure_event(A, ts=NOW + dt.timedelta(minutes=5), platform="web")
    assert again.event_id == events[0].event_id  # same unit, experiment, day: same id


def test_naive_timestamp_is_misuse() -> None:
    with pytest.raises(ConfigError, match="ts"):
        ExposureDeduplicator().should_log(A, NOW.replace(tzinfo=None))
