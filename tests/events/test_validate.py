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


def _line(**extra: Any) -> bytes:
    return json.dumps(_base(**extra)).encode()


def test_a_deeply_nested_event_is_rejected_alone_naming_the_limit() -> None:
    """Issue 21.1: 1,000 nested arrays raised RecursionError and lost the whole batch."""
    deep = b'{"type": "page_view", "event_id": "deep", "properties": {"k": '
    deep += b"[" * 1000 + b"]" * 1000 + b"}}"
    for body in (
        b"[" + _line(event_id="a") + b"," + deep + b"," + _line(event_id="b") + b"]",
        b"\n".join([_line(event_id="a"), deep, _line(event_id="b")]),
    ):
        batch = validate_batch(body, now=NOW)
        assert [e.event_id for e in batch.events] == ["a", "b"]
        (rejected,) = batch.rejected
        assert (rejected.index, rejected.event_id) == (1, "deep")
        error = rejected.errors[0]
        assert error.value == "<nested 1002 levels deep>"
        assert error.expected == "at most 32 levels of nested arrays and objects (max_depth)"
    # Shallower than msgspec's own limit, deeper than ours: the same answer.
    shallow = b'{"type": "page_view", "properties": ' + b"[" * 40 + b"]" * 40 + b"}"
    batch = validate_batch(b"[" + shallow + b"]", now=NOW, limits=Limits(max_depth=8))
    assert "at most 8 levels" in batch.rejected[0].errors[0].expected


def test_a_whole_body_of_nested_arrays_is_one_rejected_element() -> None:
    batch = validate_batch(b"[" * 1000 + b"]" * 1000, now=NOW)
    assert batch.events == []
    assert batch.rejected[0].errors[0].value == "<nested 999 levels deep>"
    with pytest.raises(BatchFormatError, match="not a valid JSON array"):
        validate_batch(b"[" * 1000, now=NOW)


def test_a_lone_surrogate_rejects_only_its_event() -> None:
    """Issue 21.6: one "\\ud800" refused every valid neighbour."""
    bad = _line(event_id="bad")[:-1] + rb', "session_id": "x\ud800y"}'
    paired = _line(event_id="pair")[:-1] + rb', "session_id": "x\ud83d\ude00y"}'
    body = b"[" + _line(event_id="a") + b"," + bad + b"," + paired + b"]"
    batch = validate_batch(body, now=NOW)
    assert [e.event_id for e in batch.events] == ["a", "pair"]
    assert batch.events[1].session_id == "x\U0001f600y"
    (rejected,) = batch.rejected
    assert (rejected.index, rejected.event_id) == (1, "bad")
    assert rejected.errors[0].value == "\\ud800"
    assert "lone UTF-16 surrogate" in rejected.errors[0].expected
    # Invalid UTF-8 in one event: the same, that event alone.
    broken = _line(event_id="utf8")[:-1] + b', "session_id": "x\xffy"}'
    batch = validate_batch(b"[" + _line(event_id="a") + b"," + broken + b"]", now=NOW)
    assert [e.event_id for e in batch.events] == ["a"]
    assert batch.rejected[0].event_id == "utf8"


def test_a_byte_order_mark_before_the_batch_is_accepted() -> None:
    """Issue 21.6: a UTF-8 BOM before the array refused the batch."""
    bom = b"\xef\xbb\xbf"
    assert len(validate_batch(bom + b"[" + _line() + b"]", now=NOW).events) == 1
    assert len(validate_batch(bom + _line() + b"\n" + _line(event_id="e2"), now=NOW).events) == 2


@pytest.mark.parametrize(
    "change",
    [
        {
            "type": "listing_view",
            "listing_id": "l1",
            "price": {"amount": "-24.90", "currency": "EUR"},
        },
        {"type": "checkout_start", "cart_value": {"amount": "-1", "currency": "EUR"}},
    ],
)
def test_negative_money_is_refused(change: dict[str, Any]) -> None:
    """Issue 21.12: "-24.90" was accepted as a price."""
    field, value, expected = _one_error(_base(**change))
    assert field.endswith(".amount")
    assert value.startswith("-")
    assert expected == "a decimal string >= 0 such as '24.90' (never a float)"
    zero = dict(change)
    money = next(k for k in ("price", "cart_value") if k in zero)
    zero[money] = {"amount": "0.00", "currency": "EUR"}
    assert len(validate_batch(json.dumps([_base(**zero)]).encode(), now=NOW).events) == 1
