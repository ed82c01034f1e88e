"""Structured logs: one JSON object per line, with the fields a record was given.

``marketlift serve`` installs :class:`JsonFormatter` on the ``marketlift`` logger, so a degraded
decision logs its ``decision_id``, ``reasons`` and ``total_ms`` as fields a log pipeline can
index, not as text to parse.

Example:
    >>> import logging
    >>> record = logging.LogRecord("marketlift.serve", logging.WARNING, "", 0,
    ...                            "degraded decision", None, None)
    >>> record.reasons = ["budget:score"]
    >>> line = JsonFormatter().format(record)
    >>> '"msg":"degraded decision"' in line, '"reasons":["budget:score"]' in line
    (True, True)
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Final

import msgspec

__all__ = ["JsonFormatter", "configure_logging"]

_STANDARD: Final = frozenset(
    {*vars(logging.LogRecord("", 0, "", 0, "", None, None)), "message", "asctime"}
)
_ENCODE: Final = msgspec.json.Encoder(enc_hook=str).encode


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, message, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The JSON line of ``record``."""
        doc: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update(
            {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
        )
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return _ENCODE(doc).decode()


def configure_logging(level: str = "info") -> None:
    """Send ``marketlift.*`` logs to stderr as JSON lines at ``level``."""
    logger = logging.getLogger("marketlift")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False
