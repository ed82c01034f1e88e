"""JSON Schema of event schema v1, for apps that validate events at build time.

Example:
    >>> doc = event_json_schema()
    >>> doc["$schema"]
    'https://json-schema.org/draft/2020-12/schema'
    >>> sorted(doc["$defs"]["Purchase"]["required"])[:3]
    ['event_id', 'line_items', 'order_id']
"""

from __future__ import annotations

from typing import Any

import msgspec

from marketlift.events.schema import SCHEMA_VERSION, Event

__all__ = ["event_json_schema", "event_schema_components", "require_unit_ids"]

_UNIT_IDS = ("buyer_id", "anonymous_id")


def require_unit_ids(components: dict[str, Any]) -> dict[str, Any]:
    """State the rule msgspec cannot: ``buyer_id`` or ``anonymous_id``, at least one of them.

    Every object schema with both properties gets an ``anyOf`` saying that one of them is a
    string (present and not null), so generated clients and fuzzers know what the server checks.

    Example:
        >>> schema = {"type": "object", "properties": {"buyer_id": {}, "anonymous_id": {}}}
        >>> require_unit_ids({"Unit": schema})["Unit"]["anyOf"][0]["required"]
        ['buyer_id']
    """
    for schema in components.values():
        properties = schema.get("properties", {})
        if all(name in properties for name in _UNIT_IDS):
            schema["anyOf"] = [
                {"required": [name], "properties": {name: {"type": "string"}}} for name in _UNIT_IDS
            ]
            rule = "At least one of buyer_id and anonymous_id is required (not null)."
            schema["description"] = (schema.get("description", "") + "\n\n" + rule).strip()
    return components


def event_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of one event of schema v1."""
    schema: dict[str, Any] = msgspec.json.schema(Event)
    require_unit_ids(schema.get("$defs", {}))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://marketlift.dev/schema/events/v{SCHEMA_VERSION}.json",
        "title": f"marketlift event, schema version {SCHEMA_VERSION}",
        **schema,
    }


def event_schema_components(ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the event schema and its components, for embedding in an OpenAPI document."""
    (schema,), components = msgspec.json.schema_components([Event], ref_template=ref_template)
    return schema, require_unit_ids(components)
