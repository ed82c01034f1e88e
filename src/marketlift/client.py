"""A Python client for the marketlift service: events, assignment, decisions; connection reuse.

Batches are retried with the same bytes (so the same ``event_id``s) on network errors, 408,
429 and 5xx, with exponential backoff and jitter; a retry is therefore always safe and shows up
as ``duplicates`` in the report. Other 4xx answers raise :class:`ClientError` at once.

Example:
    >>> client = MarketliftClient("http://127.0.0.1:8000")
    >>> client.base_url
    'http://127.0.0.1:8000'
    >>> client.close()
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Final, Self

import httpx
import msgspec

from marketlift.errors import ConfigError, MarketliftError
from marketlift.events.schema import Event
from marketlift.ingest.collector import IngestReport
from marketlift.serve.assign import AssignResponse
from marketlift.serve.decide_schema import DecideRequest, DecideResponse

__all__ = ["ClientError", "MarketliftClient"]

_RETRY_STATUS: Final = frozenset({408, 429, 500, 502, 503, 504})
_ENCODER: Final = msgspec.json.Encoder()


class ClientError(MarketliftError, RuntimeError):
    """The service refused a request (a 4xx other than 408/429), or retries ran out."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class MarketliftClient:
    """Talks to ``marketlift serve`` over one pooled HTTP connection set.

    Args:
        base_url: The service, such as ``http://127.0.0.1:8000``.
        write_key: Sent as ``Authorization: Bearer`` on ``/v1/events`` when set.
        decide_key: Sent as ``Authorization: Bearer`` on ``/v1/assign`` when set.
        timeout_s: Per-request timeout.
        retries: Retries of a batch after the first try.
        backoff_s: First backoff; doubles per retry, with jitter, capped at 5 s.
        batch_size: Events per request (the service accepts at most 1000 by default).
    """

    def __init__(
        self,
        base_url: str,
        *,
        write_key: str | None = None,
        decide_key: str | None = None,
        timeout_s: float = 5.0,
        retries: int = 5,
        backoff_s: float = 0.1,
        batch_size: int = 500,
    ) -> None:
        if not 1 <= batch_size <= 1000:
            raise ConfigError("batch_size", batch_size, "an integer between 1 and 1000")
        if retries < 0:
            raise ConfigError("retries", retries, "an integer >= 0")
        self.base_url = base_url.rstrip("/")
        self.write_key = write_key
        self.decide_key = decide_key
        self.retries = retries
        self.backoff_s = backoff_s
        self.batch_size = batch_size
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s)
        self._rng = random.Random()  # noqa: S311 - jitter, not security

    def send_events(self, events: Sequence[Event | Mapping[str, Any]]) -> IngestReport:
        """Send events in batches; return the combined report (indexes refer to ``events``).

        Raises:
            ClientError: The service refused a batch, or retries ran out.
        """
        accepted = duplicates = 0
        rejected = []
        for start in range(0, len(events), self.batch_size):
            body = _ENCODER.encode(list(events[start : start + self.batch_size]))
            response = self._post("/v1/events", body, self.write_key, ok=(200, 422))
            report = msgspec.json.decode(response.content, type=IngestReport)
            accepted += report.accepted
            duplicates += report.duplicates
            rejected += [msgspec.structs.replace(r, index=r.index + start) for r in report.rejected]
        return IngestReport(accepted, duplicates, rejected)

    def assign(
        self,
        *,
        platform: str,
        buyer_id: str | None = None,
        anonymous_id: str | None = None,
        session_id: str | None = None,
        locale: str | None = None,
        country: str | None = None,
    ) -> AssignResponse:
        """The unit's variants of the active experiments (``POST /v1/assign``)."""
        request = {
            key: value
            for key, value in {
                "platform": platform,
                "buyer_id": buyer_id,
                "anonymous_id": anonymous_id,
                "session_id": session_id,
                "locale": locale,
                "country": country,
            }.items()
            if value is not None
        }
        response = self._post("/v1/assign", _ENCODER.encode(request), self.decide_key, ok=(200,))
        return msgspec.json.decode(response.content, type=AssignResponse)

    def decide(self, request: DecideRequest | Mapping[str, Any]) -> DecideResponse:
        """Rank, engage and write copy for one view (``POST /v1/decide``).

        Not retried: a decision is wanted now, and the fallback is the caller's own default.
        A request that is not valid raises :class:`ClientError` naming the field (422).
        """
        body = (
            msgspec.json.encode(request)
            if isinstance(request, DecideRequest)
            else _ENCODER.encode(dict(request))
        )
        response = self._post("/v1/decide", body, self.decide_key, ok=(200,), retries=0)
        return msgspec.json.decode(response.content, type=DecideResponse)

    def health(self) -> dict[str, Any]:
        """``GET /healthz``."""
        response = self._http.get("/healthz")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def _post(
        self,
        path: str,
        body: bytes,
        key: str | None,
        *,
        ok: tuple[int, ...],
        retries: int | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        last = "no attempt"
        tries = (self.retries if retries is None else retries) + 1
        for attempt in range(tries):
            if attempt:
                delay = min(5.0, self.backoff_s * 2 ** (attempt - 1))
                time.sleep(delay * (0.5 + self._rng.random() / 2))
            try:
                response = self._http.post(path, content=body, headers=headers)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in ok:
                return response
            if response.status_code not in _RETRY_STATUS:
                raise ClientError(
                    f"POST {path} answered {response.status_code}: {response.text[:500]}",
                    status=response.status_code,
                    body=response.text,
                )
            last = f"status {response.status_code}"
        msg = f"POST {path} failed after {tries} tries ({last})"
        raise ClientError(msg)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
