"""``POST /v1/assign``: deterministic experiment assignment with exposure logging.

The request names the unit (``buyer_id`` and/or ``anonymous_id``) and the targeting attributes;
the answer lists the variant of every active experiment the unit qualifies for. Exposure events
are logged once per unit, experiment and UTC day (their ``event_id`` is derived from those, so
several servers and retries stay idempotent in the lake), through the same sink as
``/v1/events``, off the request path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

from marketlift.events.scan import MAX_DEPTH
from marketlift.events.schema import Country, Id, Locale
from marketlift.events.validate import FieldError, explain_decode_error, too_deep
from marketlift.experiments.assignment import assign
from marketlift.experiments.config import Experiment
from marketlift.experiments.exposures import ExposureDeduplicator, exposures_to_log
from marketlift.ingest.sink import Sink, SinkBatch

__all__ = ["AssignRequest", "AssignResponse", "Assigner", "AssignmentOut"]


class AssignRequest(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Who to assign, and the attributes experiments target on."""

    platform: Literal["web", "ios", "android"]
    buyer_id: Id | None = None
    anonymous_id: Id | None = None
    session_id: Id | None = None
    locale: Locale | None = None
    country: Country | None = None
    app_version: Annotated[str, Meta(max_length=64)] | None = None

    def __post_init__(self) -> None:
        """At least one unit id is needed."""
        if self.buyer_id is None and self.anonymous_id is None:
            msg = "buyer_id or anonymous_id is required, both are missing"
            raise ValueError(msg)


_REQUEST: Final = msgspec.json.Decoder(AssignRequest)


class AssignmentOut(msgspec.Struct, frozen=True):
    """One experiment's variant for the unit, and the values its arm carries (feature flags)."""

    experiment_key: str
    variant: str
    unit: str
    values: dict[str, Any] = msgspec.field(default_factory=dict)


class AssignResponse(msgspec.Struct, frozen=True):
    """The body of a ``/v1/assign`` answer."""

    assignments: list[AssignmentOut]
    exposures_logged: int


class Assigner:
    """Assigns units to experiments and logs first exposures of the day to a sink.

    Args:
        experiments: The configured experiments.
        sink: Where exposure events go (the collector's sink).
        clock: The current UTC time.
    """

    def __init__(
        self,
        experiments: Iterable[Experiment],
        sink: Sink,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.experiments = list(experiments)
        self._values = {
            (e.key, v.name): v.values.as_dict() for e in self.experiments for v in e.variants
        }
        self.sink = sink
        self.clock = clock
        self.dedupe = ExposureDeduplicator()
        self.failures = 0

    def decode(self, body: bytes) -> AssignRequest | FieldError:
        """Decode and validate a request body, or explain what is wrong with it."""
        try:
            return _REQUEST.decode(body)
        except (msgspec.DecodeError, RecursionError) as exc:
            return too_deep(body, MAX_DEPTH) or explain_decode_error(exc, body)

    def assign(self, request: AssignRequest) -> AssignResponse:
        """Assign the unit; queue its exposures (not waited for)."""
        now = self.clock()
        units = {"buyer_id": request.buyer_id, "anonymous_id": request.anonymous_id}
        attributes = {
            "platform": request.platform,
            "locale": request.locale,
            "country": request.country,
        }
        assignments = assign(self.experiments, units, attributes, now=now)
        fields = {
            "platform": request.platform,
            "session_id": request.session_id,
            "locale": request.locale,
            "country": request.country,
            "app_version": request.app_version,
            "buyer_id": request.buyer_id,
            "anonymous_id": request.anonymous_id,
        }
        exposures = exposures_to_log(self.dedupe, assignments, ts=now, **fields)
        if exposures:
            future = self.sink.submit(SinkBatch(exposures, [], now, "assign"))
            future.add_done_callback(self._count_failure)
        return AssignResponse(
            [
                AssignmentOut(
                    a.experiment_key,
                    a.variant,
                    a.unit,
                    dict(self._values.get((a.experiment_key, a.variant), {})),
                )
                for a in assignments
            ],
            len(exposures),
        )

    def _count_failure(self, future: Future[list[bool]]) -> None:
        if future.exception() is not None:
            self.failures += 1
