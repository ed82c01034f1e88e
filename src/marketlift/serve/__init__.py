"""The HTTP service: the collector today; decisions and assignment build on it.

Example:
    >>> from marketlift.serve import ServeConfig
    >>> ServeConfig(data_dir="d").port
    8000
"""

from marketlift.serve.app import create_app, open_sink
from marketlift.serve.config import JetStreamConfig, ServeConfig

__all__ = ["JetStreamConfig", "ServeConfig", "create_app", "open_sink"]
