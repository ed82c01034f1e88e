"""The OpenAPI 3.1 document of the HTTP service, built from the same types the code uses.

Example:
    >>> doc = openapi_document()
    >>> sorted(doc["paths"])[:4]
    ['/admin/reload', '/admin/status', '/healthz', '/metrics']
"""

from __future__ import annotations

from typing import Any

import msgspec

from marketlift._version import __version__
from marketlift.events.jsonschema import event_schema_components, require_unit_ids
from marketlift.events.scan import MAX_DEPTH
from marketlift.events.validate import FieldError
from marketlift.ingest.collector import IngestReport
from marketlift.serve.assign import AssignRequest, AssignResponse
from marketlift.serve.decide_schema import (
    MAX_DECIDE_BODY,
    DecideRequest,
    DecideResponse,
    example_request,
    example_response,
)
from marketlift.serve.listings import listing_openapi

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{name}"

_EXAMPLE_BATCH = [
    {
        "type": "listing_view",
        "event_id": "0b6d2c1e-6a8f-4a4e-9b0e-3f0f6c7c9a10",
        "schema_version": 1,
        "ts": "2026-11-26T10:00:00Z",
        "anonymous_id": "anon-7f3a",
        "session_id": "s-19",
        "platform": "ios",
        "app_version": "5.2.0",
        "locale": "de-DE",
        "currency": "EUR",
        "country": "DE",
        "listing_id": "L-1002",
        "price": {"amount": "24.90", "currency": "EUR"},
    },
    {
        "type": "purchase",
        "event_id": "5c1d8a0e-2b4c-4f8e-8d2a-7a6b5c4d3e2f",
        "schema_version": 1,
        "ts": "2026-11-26T10:04:12Z",
        "buyer_id": "b-4411",
        "session_id": "s-19",
        "platform": "ios",
        "order_id": "O-77",
        "line_items": [
            {
                "listing_id": "L-1002",
                "quantity": 1,
                "unit_price": {"amount": "24.90", "currency": "EUR"},
            }
        ],
        "revenue": {"amount": "24.90", "currency": "EUR"},
    },
]


def openapi_document(
    *, write_key: bool = False, decide_key: bool = False, admin_key: bool = False
) -> dict[str, Any]:
    """Return the OpenAPI document served at ``/openapi.json``.

    The document says what this server does: a route needs its key (and answers 401) only when
    the server has that key; without an admin key, ``/admin/*`` answers 403 to every request.

    Args:
        write_key: The server has a write key (``/v1/events``).
        decide_key: The server has a decide key (``/v1/assign``, ``/v1/decide``).
        admin_key: The server has an admin key (``/admin/*``).
    """
    document = _document()
    _state_keys(document["paths"], write_key=write_key, decide_key=decide_key,
                admin_key=admin_key)  # fmt: skip
    return document


def _state_keys(
    paths: dict[str, Any], *, write_key: bool, decide_key: bool, admin_key: bool
) -> None:
    """Keep the key requirements and the 401/403 answers of the keys this server has."""
    for path, scheme, has_key in (
        ("/v1/events", "writeKey", write_key),
        ("/v1/assign", "decideKey", decide_key),
        ("/v1/decide", "decideKey", decide_key),
    ):
        operation = paths[path]["post"]
        if has_key:
            operation["security"] = [{scheme: []}]
        else:
            del operation["security"]
            del operation["responses"]["401"]
    for path, method in (("/admin/reload", "post"), ("/admin/status", "get")):
        operation = paths[path][method]
        if admin_key:
            del operation["responses"]["403"]
        else:
            del operation["security"]
            operation["responses"] = {"403": operation["responses"]["403"]}


def _document() -> dict[str, Any]:
    event_schema, components = event_schema_components(_REF)
    (report_schema, assign_in, assign_out, decide_in, decide_out, field_error), more = (
        msgspec.json.schema_components(
            [IngestReport, AssignRequest, AssignResponse, DecideRequest, DecideResponse,
             FieldError],
            ref_template=_REF,
        )
    )  # fmt: skip
    components.update(require_unit_ids(more))
    listings_path, listing_components = listing_openapi(_REF)
    components.update(listing_components)
    error = {
        "type": "object",
        "properties": {"error": {"type": "string"}},
        "required": ["error"],
    }
    invalid = {
        "type": "object",
        "properties": {"error": {"type": "string"},
                       "errors": {"type": "array", "items": field_error}},
        "required": ["error", "errors"],
    }  # fmt: skip
    report_ref = {"content": {"application/json": {"schema": report_schema}}}
    error_ref = {"content": {"application/json": {"schema": error}}}
    invalid_ref = {"content": {"application/json": {"schema": invalid}}}
    admin_errors = {
        "401": {"description": "An admin key is configured and the request lacks it (or "
                "sends it with a scheme other than Bearer).", **error_ref},
        "403": {"description": "No admin key is configured (MARKETLIFT_ADMIN_KEY): admin "
                "endpoints are off and answer 403 to every request, with a key or without.",
                **error_ref},
    }  # fmt: skip
    connection = {
        "408": {"description": "The headers or the body did not arrive within the read "
                "timeouts (10 s and 30 s by default); the connection is closed."},
        "503": {"description": "Over the server's concurrency limit (limit_concurrency)."},
    }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "marketlift service",
            "version": __version__,
            "description": (
                "Event collection for web and mobile clients. Send a JSON array (or NDJSON, "
                "one event per line) of schema-v1 events; optionally gzip with "
                "`Content-Encoding: gzip`. `event_id` is the idempotency key: retrying a batch "
                "never stores an event twice. Limits: 5 MiB body, 20 MiB decompressed (every "
                "gzip member is read), 1000 events per batch, 32 KiB per event, "
                f"{MAX_DEPTH} levels of nested arrays and objects, `ts` within 30 days before "
                "and 10 minutes after the server clock (configurable; a schema cannot state "
                "this rule: an event outside it is rejected with its reason). Every event, "
                "request to /v1/assign and to /v1/decide needs `buyer_id` or `anonymous_id` "
                "(at least one, not null). Keys: `Authorization: Bearer <key>` (the scheme in "
                "any case; no other scheme is accepted)."
            ),
        },
        "paths": {
            "/v1/listings": listings_path,
            "/v1/events": {
                "post": {
                    "summary": "Send a batch of events",
                    "security": [{"writeKey": []}, {}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": event_schema},
                                "example": _EXAMPLE_BATCH,
                            },
                            "application/x-ndjson": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "At least one event accepted or duplicate; every "
                            "event is durable when this is sent.",
                            **report_ref,
                        },
                        "400": {
                            "description": "A gzip body that cannot be decompressed (or "
                            "is truncated).",
                            **error_ref,
                        },
                        "401": {
                            "description": "Missing or wrong write key, or a scheme other "
                            "than Bearer.",
                            **error_ref,
                        },
                        "413": {"description": "Body or batch over a limit.", **error_ref},
                        "415": {"description": "Unsupported Content-Encoding.", **error_ref},
                        "422": {
                            "description": "No valid event in the batch (same report shape), "
                            "or the body is not a JSON array or NDJSON.",
                            **report_ref,
                        },
                        **connection,
                    },
                }
            },
            "/v1/assign": {
                "post": {
                    "summary": "Assign a unit to the active experiments",
                    "description": "Deterministic: the same unit always gets the same variant. "
                    "The first exposure of a unit to an experiment on a UTC day is logged as an "
                    "`exposure` event. Needs `Authorization: Bearer <decide key>` when the "
                    "server has one (MARKETLIFT_DECIDE_KEY).",
                    "security": [{"decideKey": []}, {}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": assign_in,
                                "example": {
                                    "buyer_id": "b-4411",
                                    "platform": "ios",
                                    "locale": "de-DE",
                                    "country": "DE",
                                },
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The unit's variants.",
                            "content": {"application/json": {"schema": assign_out}},
                        },
                        "401": {
                            "description": "Missing or wrong decide key, or a scheme "
                            "other than Bearer.",
                            **error_ref,
                        },
                        "413": {"description": "Body over 16 KiB.", **error_ref},
                        "422": {
                            "description": "Invalid request (field, value, expected), "
                            f"including a body nested over {MAX_DEPTH} levels.",
                            **invalid_ref,
                        },
                        **connection,
                    },
                }
            },
            "/v1/decide": {
                "post": {
                    "summary": "Rank listings, decide on an engagement and its copy",
                    "description": "One call per product view. Stages (assign, candidates, "
                    "features, score, engage, copy) run within the budget (default 25 ms); "
                    "a stage that cannot run answers from its fallback (popularity ranking, "
                    "no engagement) and the answer says `degraded: true` with the reasons. "
                    "The decision and its impressions are logged to the event stream after "
                    "the answer. Needs `Authorization: Bearer <decide key>` when the server "
                    "has one. Limits: 1000 candidates, limit 1-100, cart of 200, "
                    f"{MAX_DECIDE_BODY // 1024} KiB body.",
                    "security": [{"decideKey": []}, {}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": decide_in, "example": example_request()}
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The decision.",
                            "content": {
                                "application/json": {
                                    "schema": decide_out,
                                    "example": example_response(),
                                }
                            },
                        },
                        "401": {
                            "description": "Missing or wrong decide key, or a scheme "
                            "other than Bearer.",
                            **error_ref,
                        },
                        "413": {"description": "Body over the limit.", **error_ref},
                        "422": {
                            "description": "Invalid request (field, value, expected), "
                            f"including a body nested over {MAX_DEPTH} levels.",
                            **invalid_ref,
                        },
                        "500": {"description": "Unexpected error (logged).", **error_ref},
                        **connection,
                    },
                }
            },
            "/v1/stats": {
                "get": {
                    "summary": "Live ingestion counts and decision latency (p50/p99, ms)",
                    "responses": {"200": {"description": "Counts and latencies."}},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: the feature store answers; served model versions",
                    "responses": {
                        "200": {
                            "description": "Ready, or `degraded`: a promoted model is not the "
                            "one served (`problems` says why; the last good one answers)."
                        },
                        "503": {"description": "The feature store does not answer."},
                    },
                }
            },
            "/admin/reload": {
                "post": {
                    "summary": "Load promoted model versions and the policy now",
                    "security": [{"adminKey": []}],
                    "responses": {
                        "200": {"description": "What was reloaded; errors kept the old one."},
                        **admin_errors,
                    },
                }
            },
            "/admin/status": {
                "get": {
                    "summary": "Served versions, reload errors, store breaker, decision log",
                    "security": [{"adminKey": []}],
                    "responses": {
                        "200": {"description": "Status."},
                        **admin_errors,
                    },
                }
            },
            "/healthz": {
                "get": {"summary": "Liveness", "responses": {"200": {"description": "Alive."}}}
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {"200": {"description": "Text exposition format."}},
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1."}},
                }
            },
        },
        "components": {
            "schemas": components,
            "securitySchemes": {
                "writeKey": {"type": "http", "scheme": "bearer"},
                "decideKey": {"type": "http", "scheme": "bearer"},
                "adminKey": {"type": "http", "scheme": "bearer"},
            },
        },
    }
