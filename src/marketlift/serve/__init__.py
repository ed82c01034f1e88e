"""The HTTP service: event collection, experiment assignment and the decision API.

Module map:

- :mod:`~marketlift.serve.app`: the Starlette app and its routes.
- :mod:`~marketlift.serve.config`: :class:`ServeConfig`, :class:`DecideConfig`.
- :mod:`~marketlift.serve.decide_schema`: the ``/v1/decide`` request and answer, limits.
- :mod:`~marketlift.serve.decide`: :class:`DecisionEngine`, the timed stages with fallbacks.
- :mod:`~marketlift.serve.resources`: served models and policy, hot reload.
- :mod:`~marketlift.serve.guard`: the circuit breaker in front of the feature store.
- :mod:`~marketlift.serve.decision_log`: decisions and impressions to the sink, off the path.
- :mod:`~marketlift.serve.assign`, :mod:`~marketlift.serve.metrics`,
  :mod:`~marketlift.serve.openapi`, :mod:`~marketlift.serve.workers`.

Example:
    >>> from marketlift.serve import ServeConfig
    >>> ServeConfig(data_dir="d").decide.budget_ms
    25.0
"""

from marketlift.serve.app import create_app, open_sink
from marketlift.serve.config import DecideConfig, JetStreamConfig, ServeConfig
from marketlift.serve.decide import DecisionEngine

__all__ = [
    "DecideConfig",
    "DecisionEngine",
    "JetStreamConfig",
    "ServeConfig",
    "create_app",
    "open_sink",
]
