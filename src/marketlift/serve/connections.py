"""The HTTP server's connection handling: uvicorn's limits plus header and body read timeouts.

uvicorn closes idle kept-alive connections, but it waits forever for the headers and the body
of a request that has begun: a client that sends one byte every few seconds holds a connection
(and, past ``limit_concurrency``, the whole server). :func:`protocol_class` adds two timers to
uvicorn's httptools protocol: from a new connection (or the end of the previous answer) to the
end of the headers, and from there to the end of the body. A client slower than either is
dropped. :func:`uvicorn_config` builds the server configuration that ``marketlift serve`` and
each ``--workers`` process use.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from marketlift.serve.config import HttpConfig, ServeConfig

__all__ = ["protocol_class", "uvicorn_config"]

_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s"
)


class _TimedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header and body read timeouts."""

    header_timeout_s = 10.0
    body_timeout_s = 30.0
    _read_timer: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float, stage: str) -> None:
        self._disarm()
        self._read_timer = self.loop.call_later(seconds, self._timed_out, stage)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _timed_out(self, stage: str) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            limit = self.header_timeout_s if stage == "headers" else self.body_timeout_s
            text = f"the request {stage} did not arrive within {limit:g} s".encode()
            self.transport.write(_TIMEOUT_ANSWER % (len(text), text))
        self.transport.close()  # a running request sees the client as disconnected

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout_s, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._arm(self.body_timeout_s, "body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        if not pipelined and not self.transport.is_closing():
            self._arm(self.header_timeout_s, "headers")


def protocol_class(http: HttpConfig) -> type[HttpToolsProtocol]:
    """Uvicorn's HTTP protocol with the read timeouts of ``http``."""
    attributes = {"header_timeout_s": http.header_timeout_s, "body_timeout_s": http.body_timeout_s}
    return type("MarketliftHttpProtocol", (_TimedProtocol,), attributes)


def uvicorn_config(app: Any, config: ServeConfig, *, log_level: str) -> uvicorn.Config:
    """The uvicorn configuration of one HTTP process serving ``app``."""
    http = config.http
    return uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        http=protocol_class(http),
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        timeout_keep_alive=http.keep_alive_s,
        limit_concurrency=http.limit_concurrency,
        backlog=http.backlog,
    )
