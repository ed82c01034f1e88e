"""The exception root of marketlift.

Every error marketlift raises on misuse subclasses :class:`MarketliftError` and a built-in
exception, so callers can catch either. Messages name the parameter, the value and the rule.

Example:
    >>> err = ConfigError("--port", 70000, "an integer between 1 and 65535")
    >>> str(err)
    '--port == 70000, expected an integer between 1 and 65535.'
    >>> isinstance(err, ValueError)
    True
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "LakeBusyError",
    "MarketliftError",
    "MissingDependencyError",
]


class MarketliftError(Exception):
    """Root of every exception raised by marketlift."""


class ConfigError(MarketliftError, ValueError):
    """A parameter or configuration value breaks its rule."""

    def __init__(self, name: str, value: Any, expected: str) -> None:
        self.name = name
        self.value = value
        self.expected = expected
        super().__init__(f"{name} == {value!r}, expected {expected}.")


class LakeBusyError(MarketliftError, RuntimeError):
    """Another process holds the lake's writer lock."""


class MissingDependencyError(MarketliftError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"{package!r} is not installed; install it with: pip install 'marketlift[{extra}]'"
        )
