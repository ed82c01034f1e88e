"""The HTTP app: events, assignment, decisions, health, metrics and the OpenAPI document.

Routes: ``POST /v1/events`` (a thin shell over :class:`marketlift.ingest.Collector`: it reads
the body within the limits, checks the write key, hands the bytes to the collector and answers
with its report once the events are durable), ``POST /v1/assign``, ``POST /v1/decide`` (see
:mod:`marketlift.serve.decide`), ``GET /v1/stats``, ``GET /healthz`` (the process is up),
``GET /readyz`` (it can decide: models loaded, feature store reachable), ``GET /metrics``,
``GET /openapi.json``, ``POST /admin/reload`` and ``GET /admin/status`` (admin key).

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
import gc
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Final

import msgspec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from marketlift._version import __version__
from marketlift.events.validate import BatchFormatError, FieldError, RejectedEvent
from marketlift.ingest.collector import Collector
from marketlift.ingest.sink import Sink, SinkBatch
from marketlift.serve.assign import Assigner
from marketlift.serve.bodies import GzipError, gunzip, key_problem
from marketlift.serve.config import ServeConfig
from marketlift.serve.decide import DecisionEngine
from marketlift.serve.decide_schema import MAX_DECIDE_BODY, decode_decide
from marketlift.serve.decision_log import DecisionLog
from marketlift.serve.engine_setup import open_engine
from marketlift.serve.guard import GuardedStore
from marketlift.serve.listings import listing_routes
from marketlift.serve.metrics import CollectorMetrics, DecideMetrics
from marketlift.serve.openapi import openapi_document
from marketlift.serve.resources import ModelWatcher

__all__ = ["create_app", "open_sink"]

_JSON: Final = "application/json"
_ENCODER: Final = msgspec.json.Encoder()
_log = logging.getLogger("marketlift.serve")


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
    routes: list[BaseRoute] = [
        Route("/v1/events", handlers.post_events, methods=["POST"]),
        Route("/v1/assign", handlers.post_assign, methods=["POST"]),
        Route("/v1/decide", handlers.post_decide, methods=["POST"]),
        Route("/v1/stats", handlers.stats, methods=["GET"]),
        Route("/healthz", handlers.healthz, methods=["GET"]),
        Route("/readyz", handlers.readyz, methods=["GET"]),
        Route("/metrics", handlers.prometheus, methods=["GET"]),
        Route("/openapi.json", handlers.openapi, methods=["GET"]),
        Route("/admin/reload", handlers.admin_reload, methods=["POST"]),
        Route("/admin/status", handlers.admin_status, methods=["GET"]),
        *listing_routes(config),
    ]
    if config.demo:
        from marketlift.serve.site import site_routes  # noqa: PLC0415 - demo only

        routes.extend(site_routes(config))
    middleware = [Middleware(_CorsOutsideAdmin, origins=config.cors_origins)]
    return Starlette(routes=routes, middleware=middleware, lifespan=handlers.lifespan)


class _CorsOutsideAdmin:
    """CORS for the allowed origins on every route but ``/admin/*``, which never gets it.

    Admin calls come from operators' tools, never from a browser page: no origin may read
    their answers, whatever ``cors_origins`` says.
    """

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        self.app = app
        self.cors: ASGIApp = app
        if origins:
            self.cors = CORSMiddleware(
                app,
                allow_origins=list(origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "Content-Encoding"],
                max_age=600,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/admin" or path.startswith("/admin/"):
            await self.app(scope, receive, send)
        else:
            await self.cors(scope, receive, send)


class _Handlers:
    """The route handlers and what they share: config, metrics, collector, assigner."""

    def __init__(self, config: ServeConfig, sink: Sink | None) -> None:
        self.config = config
        self.given_sink = sink
        self.metrics = CollectorMetrics.create()
        self.decide_metrics = DecideMetrics.create(self.metrics.registry)
        from marketlift.monitor.prometheus import MonitorCollector  # noqa: PLC0415

        self.metrics.registry.register(MonitorCollector(config.data_dir))  # DATA/monitor
        self.document = _ENCODER.encode(
            openapi_document(
                write_key=config.write_key is not None,
                decide_key=config.decide_key is not None,
                admin_key=config.admin_key is not None,
            )
        )
        self._collector: Collector | None = None
        self._assigner: Assigner | None = None
        self.engine: DecisionEngine | None = None
        self.decision_log: DecisionLog | None = None
        self.watcher: ModelWatcher | None = None
        self.store: GuardedStore | None = None
        self.event_counts = {"accepted": 0, "duplicate": 0, "rejected": 0}

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        active = open_sink(self.config) if self.given_sink is None else self.given_sink
        self._collector = Collector(active, limits=self.config.limits)
        self._open_decisions(active)
        assert self.decision_log is not None
        self.decision_log.start()
        # Everything loaded so far (feature rows, catalog, models) lives as long as the process:
        # move it out of the collector's sight, so a full collection does not walk millions of
        # long-lived objects in the middle of a request (p99 and max latency).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await self.decision_log.stop()
            if self.watcher is not None:
                self.watcher.stop()
            if self.store is not None:
                self.store.store.close()
            if self.given_sink is None:
                active.close()

    def _open_decisions(self, sink: Sink) -> None:
        """Open what ``/v1/decide`` needs: store, models, catalog, copy, decision log."""
        opened = open_engine(self.config, sink, clock=self.collector.clock)
        self.engine, self.store, self.watcher = opened.engine, opened.store, opened.watcher
        self._assigner = opened.assigner
        self.decide_metrics.reloads.inc(self.watcher.reloads)
        self.decision_log = DecisionLog(sink)

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
        counts = self.event_counts
        counts["accepted"] += accepted
        counts["duplicate"] += duplicates
        counts["rejected"] += rejected
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

    async def post_decide(self, request: Request) -> Response:
        metrics = self.decide_metrics
        try:
            _check_key(request, self.config.decide_key, query_param=False)
            body = await _read_small_body(request, MAX_DECIDE_BODY)
        except _HTTPError as exc:
            metrics.requests.labels(str(exc.status)).inc()
            return _problem(exc.status, exc.message)
        decoded = decode_decide(body)
        if isinstance(decoded, FieldError):
            metrics.requests.labels("422").inc()
            problem = {"error": "invalid decide request", "errors": [decoded]}
            return Response(_ENCODER.encode(problem), status_code=422, media_type=_JSON)
        assert self.engine is not None
        assert self.decision_log is not None
        try:
            record = self.engine.decide(decoded)
        except Exception:  # noqa: BLE001 - answered as a 500 with the error logged
            metrics.errors.inc()
            metrics.requests.labels("500").inc()
            _log.exception("decision failed")
            return _problem(500, "the decision failed; see the server log")
        response = record.response
        self.decision_log.append(record)
        metrics.requests.labels("200").inc()
        metrics.observe(response.timings_ms, response.degraded_reasons)
        if response.degraded:
            _log.warning(
                "degraded decision",
                extra={"decision_id": response.decision_id,
                       "reasons": response.degraded_reasons,
                       "total_ms": response.timings_ms.get("total")},
            )  # fmt: skip
        return Response(_ENCODER.encode(response), media_type=_JSON)

    async def stats(self, _request: Request) -> Response:
        body = {"events": self.event_counts, "decide": self.decide_metrics.summary()}
        return Response(_ENCODER.encode(body), media_type=_JSON)

    async def healthz(self, _request: Request) -> Response:
        body = {"status": "ok", "version": __version__, "sink": self.collector.sink.name}
        return Response(_ENCODER.encode(body), media_type=_JSON)

    async def readyz(self, _request: Request) -> Response:
        """Ready when the store answers; ``degraded`` (200) when a promoted model is not served."""
        assert self.store is not None
        assert self.watcher is not None
        store_ok = await asyncio.to_thread(self.store.ping)
        problems = dict(self.watcher.problems)  # a promoted model not served: degraded
        body: dict[str, Any] = {
            "status": ("degraded" if problems else "ready") if store_ok else "not ready",
            "problems": problems,
            "store": {"kind": self.config.decide.store, "reachable": store_ok,
                      **self.store.describe()},
            "models": self.watcher.current.versions(),
            "reload_errors": self.watcher.errors[-3:],
        }  # fmt: skip
        return Response(_ENCODER.encode(body), status_code=200 if store_ok else 503,
                        media_type=_JSON)  # fmt: skip

    async def admin_reload(self, request: Request) -> Response:
        try:
            _check_admin(request, self.config.admin_key)
        except _HTTPError as exc:
            return _problem(exc.status, exc.message)
        assert self.watcher is not None
        before = self.watcher.reloads
        changed = await asyncio.to_thread(self.watcher.check)
        self.decide_metrics.reloads.inc(self.watcher.reloads - before)
        body = {"reloaded": changed, "models": self.watcher.current.versions(),
                "errors": self.watcher.errors[-3:]}  # fmt: skip
        return Response(_ENCODER.encode(body), media_type=_JSON)

    async def admin_status(self, request: Request) -> Response:
        try:
            _check_admin(request, self.config.admin_key)
        except _HTTPError as exc:
            return _problem(exc.status, exc.message)
        assert self.watcher is not None
        assert self.store is not None
        assert self.decision_log is not None
        log = self.decision_log
        body = {
            "models": self.watcher.current.versions(),
            "reloads": self.watcher.reloads,
            "reload_errors": self.watcher.errors,
            "problems": self.watcher.problems,
            "store": self.store.describe(),
            "decision_log": {"queued": len(log.queue), "written": log.written,
                             "dropped": log.dropped, "failures": log.failures},
            "decide": self.decide_metrics.summary(),
        }  # fmt: skip
        return Response(_ENCODER.encode(body), media_type=_JSON)

    async def prometheus(self, _request: Request) -> Response:
        writer = getattr(self.collector.sink, "writer", None)
        if writer is not None:
            self.metrics.stored_events.set(writer.event_count)
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def openapi(self, _request: Request) -> Response:
        return Response(self.document, media_type=_JSON)


def _check_key(request: Request, key: str | None, *, query_param: bool = True) -> None:
    """Accept ``Authorization: Bearer <key>`` (:func:`marketlift.serve.bodies.key_problem`)."""
    problem = key_problem(request.headers, request.query_params, key, query_param=query_param)
    if problem is not None:
        raise _HTTPError(401, problem)


def _check_admin(request: Request, key: str | None) -> None:
    if key is None:
        raise _HTTPError(403, "admin endpoints are off: set an admin key to use them")
    _check_key(request, key, query_param=False)


_MAX_ASSIGN_BODY: Final = 16 * 1024


async def _read_small_body(request: Request, limit: int = _MAX_ASSIGN_BODY) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _HTTPError(413, f"body of {declared} bytes, expected at most {limit}")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _HTTPError(413, f"body over {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise _HTTPError(400, "the client went away before the end of the body") from None
    return b"".join(chunks)


async def _read_body(request: Request, config: ServeConfig) -> bytes:
    limits = config.limits
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_body_bytes:
        reason = f"body of {declared} bytes, expected at most {limits.max_body_bytes}"
        raise _HTTPError(413, reason + " (max_body_bytes)", dead_letter=b"")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body_bytes:
                reason = f"body over {limits.max_body_bytes} bytes (max_body_bytes)"
                raise _HTTPError(413, reason, dead_letter=b"".join(chunks))
            chunks.append(chunk)
    except ClientDisconnect:
        # Nothing was acknowledged and the client cannot hear an answer: nothing to keep.
        raise _HTTPError(400, "the client went away before the end of the body") from None
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise _HTTPError(415, f"Content-Encoding == {encoding!r}, expected 'gzip' or none")
    return _gunzip(body, limits.max_decompressed_bytes)


def _gunzip(body: bytes, limit: int) -> bytes:
    try:
        return gunzip(body, limit)
    except GzipError as exc:
        raise _HTTPError(exc.status, exc.message, dead_letter=exc.partial) from None


async def _dead_letter(collector: Collector, head: bytes, reason: str) -> None:
    """Keep (the start of) a body refused as a whole in the dead-letter table."""
    rejected = RejectedEvent(-1, None, [FieldError("$", "<body>", reason)], head)
    batch = SinkBatch([], [rejected], collector.clock(), "http")
    await asyncio.wrap_future(collector.sink.submit(batch))


def _problem(status: int, message: str) -> Response:
    return Response(_ENCODER.encode({"error": message}), status_code=status, media_type=_JSON)


def _error(status: int, message: str) -> Response:
    body = {"error": message, "accepted": 0, "duplicates": 0, "rejected": []}
    return Response(_ENCODER.encode(body), status_code=status, media_type=_JSON)
