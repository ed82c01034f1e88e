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

__all__ = ["event_json_schema", "event_schema_components"]


def event_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of one event of schema v1."""
    schema: dict[str, Any] = msgspec.json.schema(Event)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://marketlift.dev/schema/events/v{SCHEMA_VERSION}.json",
        "title": f"marketlift event, schema version {SCHEMA_VERSION}",
        **schema,
    }


def event_schema_components(ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the event schema and its components, for embedding in an OpenAPI document."""
    (schema,), components = msgspec.json.schema_components([Event], ref_template=ref_template)
    return schema, components
