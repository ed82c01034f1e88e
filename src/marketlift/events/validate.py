"""Validate a batch of raw events: keep every valid one, explain every invalid one.

A batch is a JSON array or NDJSON (one event per line), optionally after a UTF-8 byte-order
mark. Each invalid event gets errors that name the field, the value found and what was
expected; valid neighbours are never dropped: an event nested deeper than
``Limits.max_depth``, or holding a string msgspec cannot decode (the escape of a lone UTF-16
surrogate, U+D800 to U+DFFF without its pair), is rejected alone, with its reason (see
:mod:`marketlift.events.scan`).

Example:
    >>> import datetime as dt
    >>> body = b'''[{"type": "page_view", "event_id": "e1", "schema_version": 1,
    ...   "ts": "2026-11-26T10:00:00Z", "anonymous_id": "a1", "platform": "web"},
    ...  {"type": "search", "event_id": "e2", "schema_version": 1,
    ...   "ts": "2026-11-26T10:00:01Z", "anonymous_id": "a1", "platform": "tv", "query": "mug"}]'''
    >>> batch = validate_batch(body, now=dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC))
    >>> len(batch.events), batch.rejected[0].index, batch.rejected[0].errors[0].field
    (1, 1, 'platform')
    >>> batch.rejected[0].errors[0].value, batch.rejected[0].errors[0].expected
    ('tv', "one of 'web', 'ios', 'android'")
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

import msgspec

from marketlift.events.limits import Limits
from marketlift.events.scan import depth, split_array
from marketlift.events.schema import EVENT_TYPES, Event

__all__ = [
    "BatchFormatError",
    "FieldError",
    "RejectedEvent",
    "ValidatedBatch",
    "explain_decode_error",
    "too_deep",
    "validate_batch",
]

_DECODER_ONE: Final = msgspec.json.Decoder(Event)
_DECODER_MANY: Final = msgspec.json.Decoder(list[Event])
_DECODER_RAW: Final = msgspec.json.Decoder(list[msgspec.Raw])
_DECODER_ANY: Final = msgspec.json.Decoder()

_PATTERN_NAMES: Final = {
    r"^[A-Z]{3}$": "an ISO 4217 currency code such as 'EUR'",
    r"^[A-Z]{2}$": "an ISO 3166-1 alpha-2 country code such as 'DE'",
    r"^[0-9]{1,13}(\.[0-9]{1,6})?$": "a decimal string >= 0 such as '24.90' (never a float)",
    r"^[a-z][a-z0-9_]{0,63}$": "a lower-case name of letters, digits and '_' (at most 64)",
    r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$": "a BCP 47 language tag such as 'de-DE'",
}
_ENUM_NAMES: Final = {
    "platform": "one of 'web', 'ios', 'android'",
    "channel": "one of 'push', 'email', 'in_app', 'onsite'",
    "schema_version": "1",
    "type": "one of " + ", ".join(repr(t) for t in EVENT_TYPES),
}
_MISSING: Final = "<missing>"
_BOM: Final = b"\xef\xbb\xbf"
_LONE_SURROGATE: Final = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
"""A high surrogate escape without its low half, or a low one without its high half."""
_EVENT_ID: Final = re.compile(rb'"event_id"\s*:\s*"([^"\\]{1,128})"')
_DECODE_ERRORS: Final = (msgspec.DecodeError, RecursionError)
_PATH_PART: Final = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\.\.\.\]")


class FieldError(msgspec.Struct, frozen=True):
    """Why one field of an event was rejected."""

    field: str
    value: Any
    expected: str


class RejectedEvent(msgspec.Struct, frozen=True):
    """An event that failed validation, with its position in the batch."""

    index: int
    event_id: str | None
    errors: list[FieldError]
    raw: bytes


class ValidatedBatch(msgspec.Struct):
    """The outcome of validating one batch.

    Attributes:
        events: The valid events, in batch order.
        indexes: The position in the batch of each valid event.
        rejected: The invalid events with their errors.
    """

    events: list[Event]
    indexes: list[int]
    rejected: list[RejectedEvent]

    @property
    def size(self) -> int:
        """Number of events in the batch, valid or not."""
        return len(self.events) + len(self.rejected)


class BatchFormatError(ValueError):
    """The body as a whole cannot be read as a batch (not JSON, not NDJSON, too many events)."""

    def __init__(self, reason: str, *, status: int = 422) -> None:
        self.reason = reason
        self.status = status
        super().__init__(reason)


def validate_batch(
    body: bytes,
    *,
    now: dt.datetime,
    limits: Limits | None = None,
) -> ValidatedBatch:
    """Validate a JSON array or NDJSON body of events.

    Args:
        body: The (decompressed) request body.
        now: The server's clock, for the clock-skew limits.
        limits: Limits to apply; the defaults of :class:`Limits` when ``None``.

    Returns:
        The valid events and the rejected ones with per-field errors.

    Raises:
        BatchFormatError: The body is not a JSON array or NDJSON, is empty, or holds more
            events than ``limits.max_events`` (``status`` 413).
    """
    limits = limits or Limits()
    body = body.removeprefix(_BOM)
    elements = _split(body, limits)
    lo = now - limits.max_past if limits.max_past is not None else None
    hi = now + limits.max_future if limits.max_future is not None else None
    fast = _fast_path(body, elements, limits)
    if fast is not None and _within(fast, lo, hi):
        return ValidatedBatch(fast, list(range(len(fast))), [])
    events: list[Event] = []
    indexes: list[int] = []
    rejected: list[RejectedEvent] = []
    for index, item in enumerate(elements):
        raw = bytes(item)
        if len(raw) > limits.max_event_bytes:
            error = FieldError(
                "$", f"<{len(raw)} bytes>", f"at most {limits.max_event_bytes} bytes"
            )
            rejected.append(RejectedEvent(index, _event_id_of(raw), [error], raw))
            continue
        if fast is not None:
            event: Event = fast[index]
        else:
            try:
                event = _DECODER_ONE.decode(raw)
            except _DECODE_ERRORS as exc:
                error = too_deep(raw, limits.max_depth) or explain_decode_error(exc, raw)
                rejected.append(RejectedEvent(index, _event_id_of(raw), [error], raw))
                continue
        skew = _skew_error(event.ts, now, limits)
        if skew is not None:
            rejected.append(RejectedEvent(index, event.event_id, [skew], raw))
            continue
        events.append(event)
        indexes.append(index)
    return ValidatedBatch(events, indexes, rejected)


def _within(events: list[Event], lo: dt.datetime | None, hi: dt.datetime | None) -> bool:
    """Whether every event's time lies within the clock-skew bounds."""
    if not events:
        return True
    stamps = [e.ts for e in events]
    return (lo is None or min(stamps) >= lo) and (hi is None or max(stamps) <= hi)


def too_deep(raw: bytes, max_depth: int) -> FieldError | None:
    """The error for a value nested deeper than ``max_depth``, or ``None``.

    Example:
        >>> too_deep(b"[[[1]]]", 2).expected
        'at most 2 levels of nested arrays and objects (max_depth)'
        >>> too_deep(b"[[1]]", 2) is None
        True
    """
    found = depth(raw)
    if found <= max_depth:
        return None
    expected = f"at most {max_depth} levels of nested arrays and objects (max_depth)"
    return FieldError("$", f"<nested {found} levels deep>", expected)


def _split(body: bytes, limits: Limits) -> list[bytes] | list[msgspec.Raw] | list[memoryview]:
    stripped = body.strip()
    if not stripped:
        msg = "the body is empty, expected a JSON array or NDJSON of events"
        raise BatchFormatError(msg)
    elements: list[bytes] | list[msgspec.Raw] | list[memoryview]
    if stripped[:1] == b"[":
        try:
            elements = _DECODER_RAW.decode(stripped)
        except _DECODE_ERRORS as exc:
            # One element too deep or undecodable: cut the array without decoding it, so
            # that element is rejected alone and its neighbours are kept.
            cut = split_array(stripped)
            if cut is None:
                msg = f"the body is not a valid JSON array of events: {exc}"
                raise BatchFormatError(msg) from None
            elements = cut
    else:
        elements = [line for line in stripped.split(b"\n") if line.strip()]
    if not elements:
        msg = "the batch holds no events, expected at least 1"
        raise BatchFormatError(msg)
    if len(elements) > limits.max_events:
        msg = f"the batch holds {len(elements)} events, expected at most {limits.max_events}"
        raise BatchFormatError(msg, status=413)
    return elements


def _fast_path(
    body: bytes, elements: list[bytes] | list[msgspec.Raw] | list[memoryview], limits: Limits
) -> list[Event] | None:
    """Decode the whole batch in one call when every event is valid and small."""
    if any(len(raw) > limits.max_event_bytes for raw in elements):
        return None
    try:
        stripped = body.strip()
        if stripped[:1] == b"[":
            return _DECODER_MANY.decode(stripped)
        return [_DECODER_ONE.decode(raw) for raw in elements]
    except _DECODE_ERRORS:
        return None


def _skew_error(ts: dt.datetime, now: dt.datetime, limits: Limits) -> FieldError | None:
    if limits.max_past is not None and ts < now - limits.max_past:
        return FieldError(
            "ts", ts.isoformat(), f"a time at most {limits.max_past} before the server clock"
        )
    if limits.max_future is not None and ts > now + limits.max_future:
        return FieldError(
            "ts", ts.isoformat(), f"a time at most {limits.max_future} after the server clock"
        )
    return None


def _event_id_of(raw: bytes) -> str | None:
    try:
        obj = _DECODER_ANY.decode(raw)
    except _DECODE_ERRORS:
        # Undecodable as a whole (too deep, a lone surrogate): the id may still be readable.
        found = _EVENT_ID.search(raw)
        return found.group(1).decode("utf-8", "replace") if found is not None else None
    if isinstance(obj, dict):
        value = obj.get("event_id")
        if isinstance(value, str):
            return value[:128]
    return None


def explain_decode_error(exc: msgspec.DecodeError | RecursionError, raw: bytes) -> FieldError:
    """Turn a msgspec error into a field, the value found there, and what was expected."""
    text = str(exc)
    message, _, path = text.partition(" - at `")
    path = path.rstrip("`")
    try:
        obj: Any = _DECODER_ANY.decode(raw)
    except _DECODE_ERRORS:
        surrogate = _LONE_SURROGATE.search(raw)
        if surrogate is not None:
            expected = "strings without a lone UTF-16 surrogate escape (a pair is needed)"
            return FieldError("$", surrogate.group().decode("ascii"), expected)
        value = bytes(raw[:200]).decode("utf-8", "replace")
        return FieldError("$", value, "a valid JSON object")
    if not isinstance(obj, dict):
        return FieldError("$", obj, "a JSON object")
    field = _field_name(path)
    if message.startswith("Object missing required field `"):
        name = message.split("`")[1]
        return FieldError(_join(field, name), _MISSING, "a value (the field is required)")
    if message.startswith("Object contains unknown field `"):
        name = message.split("`")[1]
        full = _join(field, name)
        kind = obj.get("type", "event")
        return FieldError(full, _lookup(obj, full), f"no such field on {kind!r} in schema v1")
    if message.startswith("Invalid value") and field in _ENUM_NAMES:
        return FieldError(field, _lookup(obj, field), _ENUM_NAMES[field])
    if message.startswith("Invalid enum value"):
        last = field.rsplit(".", 1)[-1]
        return FieldError(field, _lookup(obj, field), _ENUM_NAMES.get(last, message))
    if message.startswith("Expected `object`, got") and "type" not in obj:
        return FieldError("type", _MISSING, _ENUM_NAMES["type"])
    if message.startswith("Expected "):
        expected = message.removeprefix("Expected ")
        expected, _, _got = expected.partition(", got ")
        match = re.search(r"matching regex '(.*)'$", expected)
        if match:
            expected = _PATTERN_NAMES.get(match.group(1), expected)
        last = field.rsplit(".", 1)[-1]
        if last in _ENUM_NAMES and "`str`" not in expected:
            expected = _ENUM_NAMES[last]
        elif last == "amount":
            expected = _PATTERN_NAMES[r"^[0-9]{1,13}(\.[0-9]{1,6})?$"]
        return FieldError(field, _lookup(obj, field), expected.replace("`", ""))
    # Errors raised by __post_init__ (rules spanning fields) come through unchanged.
    if "buyer_id or anonymous_id" in message:
        return FieldError("buyer_id", None, "buyer_id or anonymous_id (at least one of them)")
    if message.startswith("Invalid RFC3339"):
        expected = "an RFC 3339 time with a zone, such as '2026-11-26T10:00:00Z'"
        return FieldError(field, _lookup(obj, field), expected)
    return FieldError(field, _lookup(obj, field), message)


def _field_name(path: str) -> str:
    if not path or path == "$":
        return "$"
    # msgspec writes a map key as "[...]": name the map itself.
    return path.removeprefix("$").removeprefix(".").split("[...]", 1)[0]


def _join(parent: str, name: str) -> str:
    return name if parent == "$" else f"{parent}.{name}"


def _lookup(obj: Any, field: str) -> Any:
    """Find the value at a dotted path such as ``line_items[0].quantity``."""
    current = obj
    for match in _PATH_PART.finditer("." + field):
        key, idx = match.group(1), match.group(2)
        if key is not None and isinstance(current, dict):
            current = current.get(key, _MISSING)
        elif idx is not None and isinstance(current, list) and int(idx) < len(current):
            current = current[int(idx)]
        else:
            return _MISSING
    return current
