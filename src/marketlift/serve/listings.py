"""``POST /v1/listings``: a marketplace's listing upserts and deletions into the lake's catalog.

A thin shell over :mod:`marketlift.catalog`: it checks the write key (``Authorization: Bearer
<key>``), reads the body within :class:`~marketlift.catalog.CatalogLimits` (gzip accepted),
decodes and validates the listings and answers once the accepted versions are durable:
``{"accepted", "duplicates", "stale", "rejected_count", "rejected": [{"index", "listing_id",
"errors": [{"field", "value", "expected"}]}]}`` with 200, or 422 when nothing in the batch was
valid. Retrying a batch is safe: a version (``listing_id``, ``updated_at``) is stored once.

Example:
    >>> import tempfile
    >>> from starlette.applications import Starlette
    >>> from starlette.testclient import TestClient
    >>> from marketlift.serve.config import ServeConfig
    >>> app = Starlette(routes=listing_routes(ServeConfig(data_dir=tempfile.mkdtemp())))
    >>> listing = {"listing_id": "L-1", "title": "Mug", "category": "ceramics",
    ...            "price": {"amount": "24.90", "currency": "EUR"},
    ...            "updated_at": "2026-11-20T10:00:00Z"}
    >>> with TestClient(app) as client:
    ...     client.post("/v1/listings", json=[listing]).json()["accepted"]
    1
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Final

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from marketlift.catalog import (
    CatalogLimits,
    CatalogStore,
    DecodedListings,
    ListingIn,
    WriteReport,
    decode_listings,
)
from marketlift.events.validate import BatchFormatError
from marketlift.serve.bodies import GzipError, gunzip, key_problem
from marketlift.serve.config import ServeConfig

__all__ = ["ListingsEndpoint", "listing_openapi", "listing_routes"]

_JSON: Final = "application/json"
_ENCODER: Final = msgspec.json.Encoder()


class _BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ListingsEndpoint:
    """The handler of ``POST /v1/listings`` and the catalog store it writes (opened lazily).

    Args:
        config: The service configuration (``data_dir``, ``write_key``).
        limits: Limits on bodies and listings; the defaults of :class:`CatalogLimits`.
    """

    def __init__(self, config: ServeConfig, limits: CatalogLimits | None = None) -> None:
        self.config = config
        self.limits = limits or CatalogLimits()
        self._store: CatalogStore | None = None
        self._opening = threading.Lock()

    @property
    def store(self) -> CatalogStore:
        """The catalog store of the data directory."""
        with self._opening:
            if self._store is None:
                self._store = CatalogStore(self.config.data_dir, limits=self.limits)
            return self._store

    async def post(self, request: Request) -> Response:
        """Validate and store one batch of listings."""
        try:
            _check_key(request, self.config.write_key)
            body = await self._read(request)
            decoded = decode_listings(body, limits=self.limits)
        except _BodyError as exc:
            return _answer(exc.status, {"error": exc.message})
        except BatchFormatError as exc:
            return _answer(exc.status, {"error": exc.reason})
        report = await asyncio.to_thread(self._write, decoded)
        ok = report.accepted + report.duplicates + report.stale > 0
        return _answer(200 if ok else 422, report.to_dict())

    def _write(self, decoded: DecodedListings) -> WriteReport:
        report = self.store.write_raw(decoded.raw, source="http", positions=decoded.positions)
        report.rejected.extend(decoded.rejected)
        report.rejected.sort(key=lambda r: r.index)
        return report

    async def _read(self, request: Request) -> bytes:
        cap = self.limits.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            raise _BodyError(413, f"body of {declared} bytes, expected at most {cap}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > cap:
                raise _BodyError(413, f"body over {cap} bytes (max_body_bytes)")
            chunks.append(chunk)
        body = b"".join(chunks)
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("", "identity"):
            return body
        if encoding != "gzip":
            raise _BodyError(415, f"Content-Encoding == {encoding!r}, expected 'gzip' or none")
        try:
            return gunzip(body, cap)
        except GzipError as exc:
            raise _BodyError(exc.status, exc.message) from None


def listing_openapi(ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI path item of ``POST /v1/listings`` and the schemas it refers to."""
    (listing,), components = msgspec.json.schema_components([ListingIn], ref_template=ref_template)
    error = {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                }
            }
        }
    }
    report = {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "accepted": {"type": "integer"},
                        "duplicates": {"type": "integer"},
                        "stale": {"type": "integer"},
                        "rejected_count": {"type": "integer"},
                        "rejected": {"type": "array", "items": {"type": "object"}},
                    },
                }
            }
        }
    }
    limits = CatalogLimits()
    path = {"post": {
        "summary": "Upsert or delete listings (versions keyed by listing_id and updated_at)",
        "description": (
            "A JSON array or NDJSON of listings; gzip accepted. Retrying is safe: a version is "
            f"stored once. Limits: {limits.max_body_bytes // (1024 * 1024)} MiB body, "
            f"{limits.max_listings} listings per batch, descriptions of at most "
            f"{limits.max_description_chars} characters. See docs/catalog.md."
        ),
        "security": [{"writeKey": []}, {}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"type": "array", "items": listing}},
            "application/x-ndjson": {"schema": {"type": "string"}}}},
        "responses": {
            "200": {"description": "Something accepted, duplicate or stale; durable.", **report},
            "401": {"description": "Missing or wrong write key.", **error},
            "413": {"description": "Body or batch over a limit.", **error},
            "415": {"description": "Unsupported Content-Encoding.", **error},
            "422": {"description": "Nothing valid in the batch, or not JSON / NDJSON.",
                    **report},
        },
    }}  # fmt: skip
    return path, components


def listing_routes(config: ServeConfig, limits: CatalogLimits | None = None) -> list[BaseRoute]:
    """The routes of the listing feed, for :func:`marketlift.serve.create_app`."""
    endpoint = ListingsEndpoint(config, limits)
    return [Route("/v1/listings", endpoint.post, methods=["POST"])]


def _check_key(request: Request, key: str | None) -> None:
    problem = key_problem(request.headers, request.query_params, key, query_param=False)
    if problem is not None:
        raise _BodyError(401, problem)


def _answer(status: int, body: object) -> Response:
    return Response(_ENCODER.encode(body), status_code=status, media_type=_JSON)
