import datetime as dt
import json

import jsonschema
import msgspec
import pytest

from marketlift.events import EVENT_TYPES, Event, Money, PageView, Purchase
from marketlift.events.jsonschema import event_json_schema
from marketlift.events.samples import sample_events

NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = event_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_union_covers_every_type() -> None:
    tags = {cls.__struct_config__.tag for cls in Event.__args__}  # type: ignore[attr-defined]
    assert tags == set(EVENT_TYPES)
    assert len(EVENT_TYPES) == 14


def test_json_schema_accepts_what_the_validator_accepts(
    validator: jsonschema.Draft202012Validator,
) -> None:
    for event in sample_events(1000, random_state=5):
        validator.validate(event)
        msgspec.json.decode(json.dumps(event), type=Event)


@pytest.mark.parametrize(
    "change",
    [
        {"platform": "tv"},
        {"schema_version": 2},
        {"currency": "eur"},
        {"type": "nope"},
        {"extra_field": 1},
    ],
)
def test_json_schema_rejects_what_the_validator_rejects(
    validator: jsonschema.Draft202012Validator, change: dict[str, object]
) -> None:
    event = {
        "type": "page_view",
        "event_id": "e",
        "schema_version": 1,
        "ts": "2026-11-26T10:00:00Z",
        "anonymous_id": "a",
        "platform": "web",
        **change,
    }
    assert not validator.is_valid(event)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(json.dumps(event), type=Event)


def test_money_round_trips_as_strings() -> None:
    purchase = Purchase(
        event_id="p",
        schema_version=1,
        ts=NOW,
        platform="ios",
        buyer_id="b",
        order_id="o",
        line_items=[],
        revenue=Money(amount="1234567.891234", currency="JPY"),
    )
    encoded = msgspec.json.encode(purchase)
    assert b'"amount":"1234567.891234"' in encoded


def test_events_are_immutable() -> None:
    event = PageView(event_id="e", schema_version=1, ts=NOW, platform="web", anonymous_id="a")
    with pytest.raises(AttributeError):
        event.platform = "ios"  # type: ignore[misc]
