import datetime as dt
import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketlift.events import BatchFormatError, Limits, validate_batch
from marketlift.events.samples import sample_events

NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)


def _base(**extra: Any) -> dict[str, Any]:
    event = {
        "type": "page_view",
        "event_id": "e-1",
        "schema_version": 1,
        "ts": "2026-11-26T11:59:00Z",
        "anonymous_id": "a-1",
        "platform": "web",
    }
    event.update(extra)
    return event


def _one_error(event: dict[str, Any]) -> tuple[str, Any, str]:
    batch = validate_batch(json.dumps([event]).encode(), now=NOW)
    assert not batch.events
    (rejected,) = batch.rejected
    error = rejected.errors[0]
    return error.field, error.value, error.expected


def test_every_sample_event_type_is_valid() -> None:
    events = sample_events(2000, random_state=3, start=NOW - dt.timedelta(hours=2))
    batch = validate_batch(msgspec.json.encode(events), now=NOW, limits=Limits(max_events=5000))
    assert batch.rejected == []
    assert len(batch.events) == 2000
    assert {type(e).__name__ for e in batch.events} >= {"Purchase", "Impression", "Exposure"}


def test_page_view_needs_only_common_fields() -> None:
    batch = validate_batch(json.dumps([_base()]).encode(), now=NOW)
    assert len(batch.events) == 1
    assert batch.events[0].ts == dt.datetime(2026, 11, 26, 11, 59, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("change", "field", "value", "expected_part"),
    [
        ({"platform": "tv"}, "platform", "tv", "'web', 'ios', 'android'"),
        ({"schema_version": 2}, "schema_version", 2, "1"),
        ({"type": "teleport"}, "type", "teleport", "'page_view'"),
        ({"currency": "eur"}, "currency", "eur", "ISO 4217"),
        ({"country": "Germany"}, "country", "Germany", "ISO 3166-1"),
        ({"locale": "de_DE"}, "locale", "de_DE", "BCP 47"),
        ({"ts": "2026-11-26T11:59:00"}, "ts", "2026-11-26T11:59:00", "timezone"),
        ({"ts": "yesterday"}, "ts", "yesterday", "RFC 3339"),
        ({"event_id": ""}, "event_id", "", "length >= 1"),
        ({"event_id": "x" * 129}, "event_id", "x" * 129, "length <= 128"),
        ({"anonymous_id": None}, "buyer_id", None, "at least one"),
        ({"surprise": 1}, "surprise", 1, "no such field"),
        ({"properties": {"k": "v" * 1025}}, "properties", {"k": "v" * 1025}, "length <= 1024"),
        ({"properties": {"k": [1]}}, "properties", {"k": [1]}, "bool | int | float | str | null"),
    ],
)
def test_errors_name_field_value_and_expectation(
    change: dict[str, Any], field: str, value: Any, expected_part: str
) -> None:
    got_field, got_value, expected = _one_error(_base(**change))
    assert got_field == field
    assert got_value == value
    assert expected_part in expected


def test_money_must_be_a_decimal_string_not_a_float() -> None:
    purchase = _base(
        type="purchase",
        order_id="o-1",
        line_items=[
            {"listing_id": "l", "quantity": 1, "unit_price": {"amount": "9.50", "currency": "EUR"}}
        ],
        revenue={"amount": 9.5, "currency": "EUR"},
    )
    field, value, expected = _one_error(purchase)
    assert (field, value) == ("revenue.amount", 9.5)
    assert "never a float" in expected


def test_nested_errors_have_paths() -> None:
    purchase = _base(
        type="purchase",
        order_id="o-1",
        line_items=[
            {"listing_id": "l", "quantity": 0, "unit_price": {"amount": "9.50", "currency": "EUR"}}
        ],
        revenue={"amount": "9.50", "currency": "EUR"},
    )
    assert _one_error(purchase) == ("line_items[0].quantity", 0, "int >= 1")


def test_missing_required_field() -> None:
    field, value, expected = _one_error(_base(type="listing_view"))
    assert field == "listing_id"
    assert value == "<missing>"
    assert "required" in expected


def test_clock_skew_limits() -> None:
    old = _base(event_id="old", ts="2026-10-01T00:00:00Z")
    future = _base(event_id="future", ts="2026-11-26T13:00:00Z")
    ok = _base(event_id="ok")
    batch = validate_batch(json.dumps([old, ok, future]).encode(), now=NOW)
    assert [e.event_id for e in batch.events] == ["ok"]
    assert [(r.index, r.errors[0].field) for r in batch.rejected] == [(0, "ts"), (2, "ts")]
    relaxed = validate_batch(
        json.dumps([old, ok, future]).encode(), now=NOW, limits=Limits.unbounded_time()
    )
    assert len(relaxed.events) == 3


def test_ndjson_and_array_give_the_same_result() -> None:
    events = [_base(event_id=f"e{i}") for i in range(5)] + [_base(platform="tv")]
    as_array = validate_batch(json.dumps(events).encode(), now=NOW)
    as_lines = validate_batch("\n".join(json.dumps(e) for e in events).encode(), now=NOW)
    assert as_array.events == as_lines.events
    assert [r.index for r in as_array.rejected] == [r.index for r in as_lines.rejected] == [5]


def test_a_broken_ndjson_line_is_rejected_alone() -> None:
    body = json.dumps(_base(event_id="a")) + "\n{not json\n" + json.dumps(_base(event_id="b"))
    batch = validate_batch(body.encode(), now=NOW)
    assert [e.event_id for e in batch.events] == ["a", "b"]
    assert batch.rejected[0].index == 1
    assert batch.rejected[0].errors[0].expected == "a valid JSON object"


def test_batch_level_limits() -> None:
    with pytest.raises(BatchFormatError, match="expected at most 3") as info:
        validate_batch(json.dumps([_base()] * 4).encode(), now=NOW, limits=Limits(max_events=3))
    assert info.value.status == 413
    with pytest.raises(BatchFormatError, match="empty"):
        validate_batch(b"  ", now=NOW)
    with pytest.raises(BatchFormatError, match="not a valid JSON array"):
        validate_batch(b"[1, 2", now=NOW)


def test_oversized_event_is_rejected_alone() -> None:
    big = _base(event_id="big", properties={f"k{i}": "v" * 1000 for i in range(40)})
    batch = validate_batch(
        json.dumps([big, _base()]).encode(), now=NOW, limits=Limits(max_event_bytes=10_000)
    )
    assert [e.event_id for e in batch.events] == ["e-1"]
    assert batch.rejected[0].event_id == "big"
    assert "at most 10000 bytes" in batch.rejected[0].errors[0].expected


_BREAKERS = [
    {"platform": "tv"},
    {"schema_version": 0},
    {"ts": "not a time"},
    {"session_id": 5},
    {"currency": "euro"},
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(_BREAKERS)), min_size=1, max_size=40))
def test_valid_neighbours_are_never_dropped(plan: list[dict[str, Any] | None]) -> None:
    events = [_base(event_id=f"e{i}", **(change or {})) for i, change in enumerate(plan)]
    batch = validate_batch(json.dumps(events).encode(), now=NOW)
    valid = [i for i, change in enumerate(plan) if change is None]
    assert batch.indexes == valid
    assert [e.event_id for e in batch.events] == [f"e{i}" for i in valid]
    assert sorted(r.index for r in batch.rejected) == [
        i for i, c in enumerate(plan) if c is not None
    ]
