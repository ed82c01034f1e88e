"""The HTTP app: ``POST /v1/events``, ``/healthz``, ``/metrics`` and ``/openapi.json``.

A thin shell over :class:`marketlift.ingest.Collector`: it reads the body within the limits,
checks the write key, hands the bytes to the collector and answers with its report once the
events are durable.

Example:
    >>> import tempfile
    >>> from starlette.testclient import TestClient
    >>> app = create_app(ServeConfig(data_dir=tempfile.mkdtemp()))
    >>> with TestClient(app) as client:
    ...     client.get("/healthz").json()["status"]
    'ok'
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

import msgspec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marketlift._version import __version__
from marketlift.events.validate import BatchFormatError, FieldError, RejectedEvent
from marketlift.experiments.config import Experiment, load_experiments
from marketlift.ingest.collector import Collector
from marketlift.ingest.sink import Sink, SinkBatch
from marketlift.serve.assign import Assigner
from marketlift.serve.config import ServeConfig
from marketlift.serve.metrics import CollectorMetrics
from marketlift.serve.openapi import openapi_document

__all__ = ["create_app", "open_sink"]

_JSON: Final = "application/json"
_ENCODER: Final = msgspec.json.Encoder()


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, *, dead_letter: bytes | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.dead_letter = dead_letter


def open_sink(config: ServeConfig) -> Sink:
    """Open the sink the configuration names."""
    if config.sink == "jetstream":
        from marketlift.ingest.jetstream import JetStreamSink  # noqa: PLC0415 - optional path

        return JetStreamSink(config.jetstream)
    from marketlift.ingest.lake_sink import LakeSink  # noqa: PLC0415 - keeps imports lazy

    return LakeSink(config.data_dir)


def create_app(config: ServeConfig, *, sink: Sink | None = None) -> Starlette:
    """Build the app; the sink is opened at start-up and closed at shutdown.

    Args:
        config: The service configuration.
        sink: A sink to use instead of opening the configured one (not closed by the app).
    """
    handlers = _Handlers(config, sink)
    routes = [
        Route("/v1/events", handlers.post_events, methods=["POST"]),
        Route("/v1/assign", handlers.post_assign, methods=["POST"]),
        Route("/healthz", handlers.healthz, methods=["GET"]),
        Route("/metrics", handlers.prometheus, methods=["GET"]),
        Route("/openapi.json", handlers.openapi, methods=["GET"]),
    ]
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Content-Encoding"],
            max_age=600,
        )
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=handlers.lifespan)


class _Handlers:
    """The route handlers and what they share: config, metrics, collector, assigner."""

    def __init__(self, config: ServeConfig, sink: Sink | None) -> None:
        self.config = config
        self.given_sink = sink
        self.metrics = CollectorMetrics.create()
        self.document = _ENCODER.encode(openapi_document())
        self._collector: Collector | None = None
        self._assigner: Assigner | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        active = open_sink(self.config) if self.given_sink is None else self.given_sink
        self._collector = Collector(active, limits=self.config.limits)
        self._assigner = Assigner(_experiments(self.config), active, self._collector.clock)
        try:
            yield
        finally:
            if self.given_sink is None:
                active.close()

    @property
    def collector(self) -> Collector:
        if self._collector is None:  # pragma: no cover - routes run inside the lifespan
            msg = "the app has not started"
            raise RuntimeError(msg)
        return self._collector

    async def post_events(self, request: Request) -> Response:
        started = time.perf_counter()
        metrics = self.metrics
        try:
            _check_key(request, self.config.write_key)
            body = await _read_body(request, self.config)
            report = await self.collector.ingest_async(body, source="http")
        except _HTTPError as exc:
            metrics.requests.labels(str(exc.status)).inc()
            if exc.dead_letter is not None:
                await _dead_letter(self.collector, exc.dead_letter, exc.message)
            return _error(exc.status, exc.message)
        except BatchFormatError as exc:
            metrics.requests.labels(str(exc.status)).inc()
            return _error(exc.status, exc.reason)
        accepted, duplicates, rejected = report.counts()
        metrics.events.labels("accepted").inc(accepted)
        metrics.events.labels("duplicate").inc(duplicates)
        metrics.events.labels("rejected").inc(rejected)
        metrics.batch_size.observe(accepted + duplicates + rejected)
        metrics.requests.labels(str(report.status)).inc()
        metrics.latency.observe(time.perf_counter() - started)
        return Response(_ENCODER.encode(report), status_code=report.status, media_type=_JSON)

    async def post_assign(self, request: Request) -> Response:
        try:
            _check_key(request, self.config.decide_key, query_param=False)
            body = await _read_small_body(request)
        except _HTTPError as exc:
            return _error(exc.status, exc.message)
        assert self._assigner is not None
        decoded = self._assigner.decode(body)
        if isinstance(decoded, FieldError):
            problem = {"error": "invalid assign request", "errors": [decoded]}
            return Response(_ENCODER.encode(problem), status_code=422, media_type=_JSON)
        answer = self._assigner.assign(decoded)
        return Response(_ENCODER.encode(answer), media_type=_JSON)

    async def healthz(self, _request: Request) -> Response:
        body = {"status": "ok", "version": __version__, "sink": self.collector.sink.name}
        return Response(_ENCODER.encode(body), media_type=_JSON)

    async def prometheus(self, _request: Request) -> Response:
        writer = getattr(self.collector.sink, "writer", None)
        if writer is not None:
            self.metrics.stored_events.set(writer.event_count)
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def openapi(self, _request: Request) -> Response:
        return Response(self.document, media_type=_JSON)


def _check_key(request: Request, key: str | None, *, query_param: bool = True) -> None:
    if key is None:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if (scheme.lower() != "bearer" or not token) and query_param:
        token = request.query_params.get("write_key", "")
    if not token or not hmac.compare_digest(token.encode(), key.encode()):
        raise _HTTPError(401, "missing or wrong key: send 'Authorization: Bearer <key>'")


_MAX_ASSIGN_BODY: Final = 16 * 1024


async def _read_small_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_ASSIGN_BODY:
            raise _HTTPError(413, f"body over {_MAX_ASSIGN_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _experiments(config: ServeConfig) -> list[Experiment]:
    path = config.experiments_file
    if path is None:
        default = Path(config.data_dir) / "experiments.toml"
        if not default.exists():
            return []
        path = default
    return list(load_experiments(path).values())


async def _read_body(request: Request, config: ServeConfig) -> bytes:
    limits = config.limits
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_body_bytes:
        reason = f"body of {declared} bytes, expected at most {limits.max_body_bytes}"
        raise _HTTPError(413, reason + " (max_body_bytes)", dead_letter=b"")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            reason = f"body over {limits.max_body_bytes} bytes (max_body_bytes)"
            raise _HTTPError(413, reason, dead_letter=b"".join(chunks))
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise _HTTPError(415, f"Content-Encoding == {encoding!r}, expected 'gzip' or none")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(body, limits.max_decompressed_bytes + 1)
    except zlib.error as exc:
        raise _HTTPError(400, f"the gzip body cannot be decompressed: {exc}") from None
    if len(plain) > limits.max_decompressed_bytes or inflater.unconsumed_tail:
        reason = f"decompressed body over {limits.max_decompressed_bytes} bytes"
        raise _HTTPError(413, reason + " (max_decompressed_bytes)", dead_letter=plain[:65536])
    return plain


async def _dead_letter(collector: Collector, head: bytes, reason: str) -> None:
    """Keep (the start of) a body refused as a whole in the dead-letter table."""
    rejected = RejectedEvent(-1, None, [FieldError("$", "<body>", reason)], head)
    batch = SinkBatch([], [rejected], collector.clock(), "http")
    await asyncio.wrap_future(collector.sink.submit(batch))


def _error(status: int, message: str) -> Response:
    body = {"error": message, "accepted": 0, "duplicates": 0, "rejected": []}
    return Response(_ENCODER.encode(body), status_code=status, media_type=_JSON)
