"""Where the JetStream sink publishes and the lander reads: :class:`JetStreamConfig`.

It lives in ``ingest`` (the sink and the lander use it) and is re-exported by
``marketlift.serve.config`` for the server's configuration.

Example:
    >>> JetStreamConfig(stream="EVENTS").subject_prefix
    'marketlift'
"""

from __future__ import annotations

import dataclasses

__all__ = ["JetStreamConfig"]


@dataclasses.dataclass(frozen=True, slots=True)
class JetStreamConfig:
    """Where the JetStream sink publishes.

    Attributes:
        url: NATS server URL.
        stream: Stream name (created if missing, file storage).
        subject_prefix: Events go to ``<prefix>.events``, dead letters to
            ``<prefix>.dead_letters``.
        duplicate_window_s: JetStream's de-duplication window on ``Nats-Msg-Id`` (the lander
            de-duplicates on ``event_id`` across any time span).
    """

    url: str = "nats://127.0.0.1:4222"
    stream: str = "MARKETLIFT"
    subject_prefix: str = "marketlift"
    duplicate_window_s: float = 120.0
